"""The headings pass as an outline: properties of ``outline_levels`` and the sections a volume gets.

Golden-free: what is checked is how the levels relate (a section first, never a
level skipped going down, the order of ranks kept, a second run changing nothing),
and the section numbers TeX would print for each post, counted from the writer's
output.
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bookgen.latex.writer import render_post_body
from bookgen.transforms import headings
from bookgen.transforms.headings import SECTION_LEVEL, outline_levels
from fixtures import book_of_posts, read_post_text, run_pass

LEVELS = st.lists(st.integers(min_value=1, max_value=6), max_size=30)


@given(LEVELS)
def test_the_first_heading_is_a_section_and_no_level_is_skipped(levels):
    out = outline_levels(levels)
    assert len(out) == len(levels)
    if out:
        assert out[0] == SECTION_LEVEL
    for before, after in zip(out, out[1:]):
        assert SECTION_LEVEL <= after <= before + 1


@given(LEVELS)
def test_ranks_keep_their_order_between_neighbours(levels):
    """A heading deeper than the one before it stays deeper; one at the same level or above does not go deeper."""
    out = outline_levels(levels)
    for (a, b), (x, y) in zip(zip(levels, levels[1:]), zip(out, out[1:])):
        assert (b > a) == (y > x)


@given(LEVELS)
def test_renumbering_twice_changes_nothing(levels):
    once = outline_levels(levels)
    assert outline_levels(once) == once


def section_numbers(latex: str) -> list[str]:
    """The numbers TeX prints for the \\section/\\subsection/\\subsubsection of one chapter (chapter 1)."""
    depth = {"section": 1, "subsection": 2, "subsubsection": 3}
    counters = [0, 0, 0]
    numbers = []
    for command in re.findall(r"^\\(section|subsection|subsubsection)\{", latex, re.MULTILINE):
        level = depth[command]
        counters[level - 1] += 1
        counters[level:] = [0] * (3 - level)
        numbers.append(".".join(str(n) for n in [1, *counters[:level]]))
    return numbers


def test_a_volume_numbers_each_post_like_a_book():
    """No 1.0.1: posts starting at ###, skipping ## → ####, and a regular one, each on its own."""
    posts = [
        read_post_text("90001.md", "### 一\n\n#### 一点一\n\n### 二\n"),
        read_post_text("90002.md", "## 一\n\n#### 一点一\n\n#### 一点二\n\n## 二\n"),
        read_post_text("90003.md", "## 一\n\n### 一点一\n\n#### 一点一点一\n"),
    ]
    book, reporter = run_pass(headings.PASS, book_of_posts(posts))
    numbers = [section_numbers(render_post_body(chapter.post)) for chapter in book.chapters]
    assert numbers == [["1.1", "1.1.1", "1.2"], ["1.1", "1.1.1", "1.1.2", "1.2"], ["1.1", "1.1.1", "1.1.1.1"]]
    assert [(d.path, d.line) for d in reporter.items] == [("posts/90001.md", 1), ("posts/90002.md", 1)]
