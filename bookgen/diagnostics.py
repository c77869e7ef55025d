"""Repairs and warnings, each tied to a post and a source line.

Every transform reports what it changed through a ``Reporter``; the CLI prints
them as ``path:line: [pass] message`` and counts them per pass.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# What a terminal would act on rather than show: C0/C1 controls (ESC starts a sequence that can
# retitle the window or rewrite the screen), DEL, and the bidi overrides that reorder a line; also
# the Unicode line and paragraph separators (a line break to an editor) and lone surrogates (the
# bytes of a file name that is not UTF-8, which cannot even be encoded to be printed).
TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


@dataclass(frozen=True, order=True)
class Diagnostic:
    path: str
    line: int
    pass_name: str
    message: str
    severity: str = "repair"  # "repair" (fixed silently) or "warning" (needs a look)

    def __str__(self) -> str:
        # The path and the message quote the post (its file name, a URL, a macro): shown, never acted on.
        tag = f"[{self.pass_name}]" if self.severity == "repair" else f"[{self.pass_name}] warning:"
        return printable(f"{self.path}:{self.line}: {tag} {self.message}")


@dataclass
class Reporter:
    """Collects diagnostics; deduplicates identical ones, keeps source order."""

    items: list[Diagnostic] = field(default_factory=list)
    _seen: set[Diagnostic] = field(default_factory=set)

    def add(self, path: Path | str, line: int, pass_name: str, message: str, *, warning: bool = False) -> None:
        diag = Diagnostic(display_path(path), line, pass_name, message, "warning" if warning else "repair")
        if diag not in self._seen:
            self._seen.add(diag)
            self.items.append(diag)

    def merge(self, diagnostics) -> None:
        """Diagnostics made elsewhere (another process, the cache), in their order."""
        for diag in diagnostics:
            if diag not in self._seen:
                self._seen.add(diag)
                self.items.append(diag)

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "warning"]

    def counts(self) -> Counter[str]:
        return Counter(d.pass_name for d in self.items)

    def summary_lines(self) -> list[str]:
        counts = self.counts()
        warned = Counter(d.pass_name for d in self.warnings)
        lines = []
        for name in sorted(counts):
            extra = f" ({warned[name]} warnings)" if warned[name] else ""
            lines.append(f"{name}: {counts[name]}{extra}")
        return lines

    def in_order(self) -> list[Diagnostic]:
        """By file and line (each file's own in the order they were made): the report's order, the same
        whichever chapters came from the cache."""
        return sorted(self.items, key=lambda d: (d.path, d.line))

    def render(self) -> str:
        body = "\n".join(str(d) for d in self.in_order())
        return body + ("\n\n" if body else "") + "\n".join(self.summary_lines()) + "\n"


def display_path(path: Path | str) -> str:
    """A path as compilers print it: as the user (or the manifest) wrote it, never made absolute."""
    return str(path)


def printable(text: str) -> str:
    r"""``text`` safe to echo on a terminal: each control character shown as an escape.

    Before → after: ``"200 OK\x1b]0;x\x07"`` → ``"200 OK\\x1b]0;x\\x07"``.  A message is one
    line, so a line break is shown as ``\n`` and a tab as a space.
    """
    return TERMINAL_UNSAFE.sub(_escaped, text.replace("\n", "\\n").replace("\t", " "))


def _escaped(found: re.Match) -> str:
    code = ord(found.group(0))
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, as os.fsdecode keeps it: shown as that byte
        code -= 0xDC00
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
