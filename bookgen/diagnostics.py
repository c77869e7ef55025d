"""Repairs and warnings, each tied to a post and a source line.

Every transform reports what it changed through a ``Reporter``; the CLI prints
them as ``path:line: [pass] message`` and counts them per pass.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, order=True)
class Diagnostic:
    path: str
    line: int
    pass_name: str
    message: str
    severity: str = "repair"  # "repair" (fixed silently) or "warning" (needs a look)

    def __str__(self) -> str:
        tag = f"[{self.pass_name}]" if self.severity == "repair" else f"[{self.pass_name}] warning:"
        return f"{self.path}:{self.line}: {tag} {self.message}"


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

    def render(self) -> str:
        body = "\n".join(str(d) for d in sorted(self.items, key=lambda d: (d.path, d.line)))
        return body + ("\n\n" if body else "") + "\n".join(self.summary_lines()) + "\n"


def display_path(path: Path | str) -> str:
    """A path as compilers print it: as the user (or the manifest) wrote it, never made absolute."""
    return str(path)
