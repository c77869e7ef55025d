"""Errors a user can fix (bad manifest, missing post, TeX error) versus bugs.

A ``UserError`` carries a location and prints as ``file:line: message``; the CLI
turns it into exit code 1 (or ``exit_code``) without a traceback.  Anything else
that escapes is a bug in bookgen and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path

from bookgen.diagnostics import display_path, printable


class UserError(Exception):
    exit_code = 1

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.details: list[str] = []  # more `file:line: message` lines, printed after this one

    def __str__(self) -> str:
        # A file name or a value from a file may hold an ESC sequence: printed escaped, never run by the terminal.
        if self.path is None:
            return printable(self.message)
        shown = display_path(self.path)
        where = shown if self.line is None else f"{shown}:{self.line}"
        return printable(f"{where}: {self.message}")


class ManifestError(UserError):
    """series.yaml is malformed or refers to something that does not exist."""


class SourceError(UserError):
    """A post cannot be found or read."""


class TexError(UserError):
    """xelatex stopped on an error; the location is the post's source line."""

    exit_code = 2


class ToolMissing(UserError):
    """An external program (xelatex, latexmk) is not installed."""


class Interrupted(BaseException):
    """A signal asked bookgen to stop (SIGTERM): unwinds like Ctrl-C, so what it started is stopped too."""

    def __init__(self, signal_number: int):
        super().__init__(signal_number)
        self.signal_number = signal_number
