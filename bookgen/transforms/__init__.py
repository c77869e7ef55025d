"""The normalizer: named passes over the book, run in the order of ``PASSES``.

Each pass lives in its own module, repairs one concern, reports every change
with the post's path and source line, and says its name once, as the ``PASS``
it exports (``base.Pass``: most repair one post at a time, a few need the whole
volume).  ``bookgen build --skip-pass NAME`` leaves one out, to see what it does.
"""

from __future__ import annotations

from bookgen.transforms import (
    balance,
    display_math,
    glyphs,
    headings,
    images,
    labels,
    links,
    math_cleanup,
    mathjax_alignments,
    mathjax_extensions,
    mathjax_macros,
    scripts,
    traditional,
    unicode_math,
    unknown_commands,
    untrusted_tex,
)
from bookgen.transforms.base import Context, Pass, run_passes

# The repairs: run twice, they change nothing more (tests/test_normalizer_properties.py).
REPAIRS: tuple[Pass, ...] = (
    math_cleanup.PASS,  # html2text artifacts, entities, blank lines, %
    untrusted_tex.PASS,  # before anything trusts the TeX
    balance.PASS,  # braces, environments, \left/\right, stray $ # &
    mathjax_macros.PASS,  # \require, \style, \color names, \bbox, \newcommand
    # Before unicode-math (it would put \text{} inside \mmlToken's text) and unknown-commands
    # (it would box \enclose and \eqalign); they emit only commands the preamble defines.
    mathjax_extensions.PASS,  # \enclose, \mmlToken, \root…\of
    mathjax_alignments.PASS,  # \hdashline in aligned, split, \eqalign{…}
    unicode_math.PASS,  # CJK and Unicode symbols in math, symbols the text fonts lack in prose
    # After unicode-math: its macros can land in script position (y_t̀ → y_\grave{t}, °^ → ^{\circ}^).
    scripts.PASS,  # _\cmd{…} and doubled scripts
    # Before display-math: it reads the same parse the passes above made (display-math
    # rewrites most displays, and adds only bookgen's own, known commands).
    unknown_commands.PASS,
    display_math.PASS,  # bare array/CD, nested environments, \tag
    labels.PASS,  # namespaced labels, numbering, dangling refs
    links.PASS,  # links between posts (the whole volume: which posts are its chapters)
    headings.PASS,  # heading levels as an outline (structure only: no math, no links)
    images.PASS,  # figures' files found
)
# Then the text is set for the book's language and fonts, once: what they write (font switches) is bookgen's.
SETTING: tuple[Pass, ...] = (
    traditional.PASS,  # Traditional Chinese (with a config only): prose, titles, \text{} in math
    # After the conversion, as the templates once set them: the titles' symbols the fonts lack.
    unicode_math.TITLES_PASS,
    glyphs.PASS,  # last: every character TeX sets, after the conversion that changes them
)
PASSES: tuple[Pass, ...] = REPAIRS + SETTING
PASS_NAMES: tuple[str, ...] = tuple(p.name for p in PASSES)


def post_repairs(skip: frozenset[str] = frozenset()) -> tuple[Pass, ...]:
    """The passes that need nothing but the post, up to the first that needs the whole volume (but ``skip``):
    a post's result of these depends on the post alone, so it can be kept and computed anywhere."""
    chosen = [p for p in PASSES if p.name not in skip]
    ending = next((index for index, p in enumerate(chosen) if p.whole_volume), len(chosen))
    return tuple(chosen[:ending])


def volume_passes(skip: frozenset[str] = frozenset()) -> tuple[Pass, ...]:
    """The passes after ``post_repairs``: run on the whole book each time."""
    chosen = [p for p in PASSES if p.name not in skip]
    return tuple(chosen[len(post_repairs(skip)) :])

__all__ = [
    "Context", "Pass", "PASSES", "PASS_NAMES", "REPAIRS", "SETTING", "post_repairs", "run_passes", "volume_passes",
]  # fmt: skip
