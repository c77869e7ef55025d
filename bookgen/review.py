"""``bookgen diff``: what the next build would change in a volume's .tex, against the last build.

The volume is prepared as a build would (the cache read, never written) and
rendered, with the last build's fallbacks set aside again where the posts did not
change; each file is compared with the one the last build wrote
(``OUT/<volume>/main.tex``, ``posts/<id>.tex``).  Nothing is written.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bookgen.cache import FallbackRecord
from bookgen.errors import UserError
from bookgen.fallback import reapply
from bookgen.pipeline import Prepared

REPORT_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+): (?P<rest>\[[a-z-]+\].*)$")


class NeverBuilt(UserError):
    """No earlier build to compare with: trouble, as diff(1) says it (exit 2)."""

    exit_code = 2


@dataclass
class FileChange:
    path: str  # relative to the build folder: diffusion/posts/10077.tex
    lines: list[str]  # the unified diff
    added: int = 0
    removed: int = 0
    repairs_added: int = 0
    repairs_removed: int = 0


@dataclass
class VolumeChanges:
    key: str
    files: list[FileChange] = field(default_factory=list)


def volume_changes(prepared: Prepared, against: Path) -> VolumeChanges:
    """The files of ``prepared`` that differ from those of the build in ``against/<volume>``."""
    key = prepared.volume.key
    built = against / key
    if not (built / "main.tex").is_file():
        raise NeverBuilt(f"volume '{key}' has not been built in {against} yet (build it, or give --against DIR)")
    _book, rendered, _known = reapply(prepared.book, prepared.rendered, prepared.render, FallbackRecord(built).load())
    old_repairs = _repairs_by_file(built / "report.txt")
    new_repairs: dict[str, Counter] = {}
    for diagnostic in prepared.reporter.items:
        new_repairs.setdefault(Path(diagnostic.path).name, Counter())[(diagnostic.line, str(diagnostic).split(": ", 1)[1])] += 1
    changes = VolumeChanges(key)
    old_posts = {f"posts/{p.name}" for p in (built / "posts").glob("*.tex")}
    for relative in sorted(set(rendered.files) | old_posts):
        old = _read(built / relative)
        new = rendered.files.get(relative, "")
        if old == new:
            continue
        name = f"{key}/{relative}"
        diff = list(difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True),
            f"a/{name}" if old else "/dev/null", f"b/{name}" if new else "/dev/null",
        ))  # fmt: skip
        change = FileChange(name, diff)
        change.added = sum(1 for line in diff if line.startswith("+") and not line.startswith("+++"))
        change.removed = sum(1 for line in diff if line.startswith("-") and not line.startswith("---"))
        source = prepared.rendered.posts.get(relative)
        if source is not None:
            before = old_repairs.get(source.path.name, Counter())
            after = new_repairs.get(source.path.name, Counter())
            change.repairs_added = sum((after - before).values())
            change.repairs_removed = sum((before - after).values())
        changes.files.append(change)
    return changes


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _repairs_by_file(report: Path) -> dict[str, Counter]:
    """The lines of a report.txt, by the post file's name: (line, '[pass] message') counted."""
    found: dict[str, Counter] = {}
    for line in _read(report).splitlines():
        match = REPORT_LINE.match(line)
        if match:
            found.setdefault(Path(match["path"]).name, Counter())[(int(match["line"]), match["rest"])] += 1
    return found


def stat_line(change: FileChange) -> str:
    """``diffusion/posts/10077.tex | +3 -1 | repairs +1 -0``"""
    return f"{change.path} | +{change.added} -{change.removed} | repairs +{change.repairs_added} -{change.repairs_removed}"
