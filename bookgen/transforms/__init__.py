"""The normalizer: named passes over the book, run left to right.

Each pass lives in its own module, repairs one concern, and reports every change
with the post's path and source line.  A pass is a function
``(book, context) -> book`` that returns a new book (the model is immutable).
``PASSES`` is the order; ``run_passes`` runs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from bookgen.diagnostics import Reporter
from bookgen.model import Book

if TYPE_CHECKING:
    from bookgen.fonts import GlyphChooser


@dataclass
class Context:
    reporter: Reporter
    image_dirs: tuple[Path, ...] = ()
    build_dir: Path | None = None
    traditional: str | None = None
    phrases: Path | None = None
    glyphs: GlyphChooser | None = None  # the book's fonts (None: the built-in preamble's, see fonts.default_chooser)
    options: dict = field(default_factory=dict)

    def report(self, post, line: int, pass_name: str, message: str, *, warning: bool = False) -> None:
        self.reporter.add(post.path, line, pass_name, message, warning=warning)


Pass = Callable[[Book, Context], Book]


def normalizer_passes() -> list[tuple[str, Pass]]:
    # Imported here so each pass module can import this package's helpers.
    from bookgen.transforms import (
        balance,
        display_math,
        headings,
        images,
        labels,
        links,
        math_cleanup,
        mathjax_alignments,
        mathjax_extensions,
        mathjax_macros,
        scripts,
        unicode_math,
        unknown_commands,
        untrusted_tex,
    )

    return [
        ("math-cleanup", math_cleanup.run),  # html2text artifacts, entities, blank lines, %
        ("untrusted-tex", untrusted_tex.run),  # before anything trusts the TeX
        ("balance", balance.run),  # braces, environments, \left/\right, stray $ # &
        ("mathjax-macros", mathjax_macros.run),  # \require, \style, \color names, \bbox, \newcommand
        # Before unicode-math (it would put \text{} inside \mmlToken's text) and unknown-commands
        # (it would box \enclose and \eqalign); they emit only commands the preamble defines.
        ("mathjax-extensions", mathjax_extensions.run),  # \enclose, \mmlToken, \root…\of
        ("mathjax-alignments", mathjax_alignments.run),  # \hdashline in aligned, split, \eqalign{…}
        ("unicode-math", unicode_math.run),  # CJK and Unicode symbols in math
        # After unicode-math: its macros can land in script position (y_t̀ → y_\grave{t}, °^ → ^{\circ}^).
        ("scripts", scripts.run),  # _\cmd{…} and doubled scripts
        # Before display-math: it reads the same parse the passes above made (display-math
        # rewrites most displays, and adds only bookgen's own, known commands).
        ("unknown-commands", unknown_commands.run),
        ("display-math", display_math.run),  # bare array/CD, nested environments, \tag
        ("labels", labels.run),  # namespaced labels, numbering, dangling refs
        ("links", links.run),  # links between posts
        ("headings", headings.run),  # heading levels as an outline (structure only: no math, no links)
        ("images", images.run),
    ]


def run_passes(book: Book, context: Context, passes: list[tuple[str, Pass]] | None = None) -> Book:
    for _name, run in passes if passes is not None else normalizer_passes():
        book = run(book, context)
    return book
