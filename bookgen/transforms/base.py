"""What every pass is given, what a pass is, and how the passes run.

A ``Pass`` has a name (the one the report and ``--skip-pass`` use) and a
function.  Most passes repair one post at a time: ``run(post, context) -> post``,
knowing nothing of the other posts (so a post can be repaired on its own, in any
process, and its result kept).  A pass that needs the whole volume — the links
between its chapters, its titles, the fonts all its posts need — says so
(``whole_volume=True``) and is ``run(book, context) -> book``.  ``run_passes``
runs a list of them in order and times each one.
"""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from bookgen import model as m
from bookgen.diagnostics import Reporter
from bookgen.transforms.walk import map_math

if TYPE_CHECKING:
    from bookgen.fonts import GlyphChooser


@dataclass
class Context:
    """What the passes of one volume share: where they report, and the options that affect them."""

    reporter: Reporter
    image_dirs: tuple[Path, ...] = ()
    traditional: str | None = None  # the OpenCC config of a Traditional build
    phrases: Path | None = None  # the terms OpenCC must keep
    glyphs: GlyphChooser | None = None  # the book's fonts (None: unknown, and no character is checked)
    volume_source: tuple[Path, int] | None = None  # where the volume's titles are written: series.yaml, its line
    # Every chapter of the volume (post id → place, heading anchors) when the book the passes get holds only
    # some of them (the others finished in an earlier build: bookgen.rebuild); None: the book is the whole volume.
    outline: dict[int, tuple[int, frozenset[str]]] | None = None
    times: dict[str, float] = field(default_factory=dict)  # seconds per pass, filled by run_passes

    def report(self, post: m.Post, line: int, pass_name: str, message: str, *, warning: bool = False) -> None:
        self.reporter.add(post.path, line, pass_name, message, warning=warning)

    def report_volume(self, pass_name: str, message: str, *, warning: bool = False) -> None:
        """A finding in the volume's own titles, reported at the volume's line of series.yaml."""
        path, line = self.volume_source or ("series.yaml", 1)
        self.reporter.add(path, line, pass_name, message, warning=warning)


@dataclass(frozen=True)
class Pass:
    name: str
    run: Callable  # (Post, Context) -> Post; with whole_volume, (Book, Context) -> Book
    whole_volume: bool = False

    def apply(self, book: m.Book, context: Context) -> m.Book:
        if self.whole_volume:
            return self.run(book, context)
        chapters = tuple(dataclasses.replace(ch, post=self.run(ch.post, context)) for ch in book.chapters)
        return dataclasses.replace(book, chapters=chapters)


def formula_pass(name: str, repair: Callable, trigger: re.Pattern) -> Pass:
    """A pass that repairs each formula matching ``trigger`` on its own: ``repair(tex) -> (tex, notes, warnings)``."""

    def run(post: m.Post, context: Context) -> m.Post:
        def per_math(post: m.Post, math: m.Math) -> m.Math:
            if not trigger.search(math.tex):
                return math
            fixed, notes, warnings = repair(math.tex)
            for note in notes:
                context.report(post, math.line, name, note)
            for warning in warnings:
                context.report(post, math.line, name, warning, warning=True)
            return dataclasses.replace(math, tex=fixed) if fixed != math.tex else math

        return map_math(post, per_math)

    return Pass(name, run)


def run_passes(book: m.Book, context: Context, passes: tuple[Pass, ...], skip: frozenset[str] = frozenset()) -> m.Book:
    """``book`` through ``passes`` in order, but those named in ``skip``; each pass's seconds in ``context.times``."""
    for found in passes:
        if found.name in skip:
            continue
        start = time.perf_counter()
        book = found.apply(book, context)
        context.times[found.name] = context.times.get(found.name, 0.0) + time.perf_counter() - start
    return book
