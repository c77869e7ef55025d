"""The shaping steps both readers share (bookgen/readers/shaping.py), each on its own.

Inputs are built by hand from model nodes and the reader-level ``SoftBreak``,
``Image`` and ``Draft``, so each step is tested without a reader around it.
"""

from __future__ import annotations

from bookgen import model as m
from bookgen.readers.shaping import (
    Draft, Image, SoftBreak, attach_figures, images_as_links, is_caption, merge_displays, merge_text, resolve_breaks,
)  # fmt: skip

T = m.Text
SOFT = SoftBreak()


def display(tex: str = "x", line: int = 1) -> m.Math:
    return m.Math(tex, True, line)


# ---------------------------------------------------------------- resolve_breaks


def test_soft_break_between_cjk_vanishes():
    assert resolve_breaks([T("第一行"), SOFT, T("第二行")]) == [T("第一行第二行")]


def test_soft_break_next_to_latin_is_a_space():
    assert resolve_breaks([T("第二行"), SOFT, T("third")]) == [T("第二行 third")]
    assert resolve_breaks([T("one"), SOFT, T("二")]) == [T("one 二")]


def test_cjk_punctuation_and_fullwidth_count_as_cjk():
    assert resolve_breaks([T("如下："), SOFT, T("（一）")]) == [T("如下：（一）")]


def test_cjk_test_looks_into_styled_neighbours():
    strong = m.Strong((T("粗体"),))
    assert resolve_breaks([strong, SOFT, T("中文")]) == [strong, T("中文")]
    link = m.Link("/x", (T("link"),))
    assert resolve_breaks([T("中文"), SOFT, link]) == [T("中文 "), link]


def test_math_next_to_a_soft_break_is_not_cjk():
    math = m.Math("x", False, 1)
    assert resolve_breaks([T("设"), SOFT, math]) == [T("设 "), math]


def test_breaks_next_to_a_display_or_at_the_ends_vanish():
    eq = display()
    assert resolve_breaks([T("如下"), SOFT, eq, m.LineBreak(), T("其中")]) == [T("如下"), eq, T("其中")]
    assert resolve_breaks([SOFT, T("a"), m.LineBreak()]) == [T("a")]


def test_a_hard_break_between_inlines_stays():
    assert resolve_breaks([T("a"), m.LineBreak(), T("b")]) == [T("a"), m.LineBreak(), T("b")]


def test_merge_text_joins_neighbours_and_drops_empty_text():
    math = m.Math("x", False, 1)
    assert merge_text([T("a"), T(""), T("b"), math, T("")]) == [T("ab"), math]


# ---------------------------------------------------------------- merge_displays


def test_a_lone_display_joins_the_paragraph_it_touches_and_the_prose_after_it():
    eq = display("x", 3)
    blocks = [Draft([T("证明：")], 1, end=3), Draft([eq], 3, end=4, display=True), Draft([T("其中")], 4, end=5)]
    merged = merge_displays(blocks)
    assert len(merged) == 1
    assert (merged[0].children, merged[0].line, merged[0].end) == ([T("证明："), eq, T("其中")], 1, 5)


def test_a_blank_line_keeps_them_apart():
    eq = display("x", 4)
    blocks = [Draft([T("证明：")], 1, end=3), Draft([eq], 4, end=5, display=True), Draft([T("新段")], 6, end=7)]
    assert merge_displays(blocks) == blocks


def test_prose_touching_prose_is_not_merged():
    """Only displays join paragraphs (two paragraphs of prose never touch in Markdown anyway)."""
    blocks = [Draft([T("a")], 1, end=2), Draft([T("b")], 2, end=3)]
    assert merge_displays(blocks) == blocks


def test_drafts_without_an_end_never_merge():
    blocks = [Draft([T("a")], 1), Draft([display()], 1, display=True)]
    assert merge_displays(blocks) == blocks


def test_other_blocks_stop_merging():
    rule = m.Rule(2)
    blocks = [Draft([T("a")], 1, end=2), rule, Draft([display()], 2, end=3, display=True)]
    assert merge_displays(blocks) == blocks


# ---------------------------------------------------------------- attach_figures


def test_image_paragraph_and_short_caption_make_a_figure():
    blocks = [Draft([Image("/a.png", "alt")], 5), Draft([T("图1：示意")], 6)]
    assert attach_figures(blocks) == [m.Figure("/a.png", (T("图1：示意"),), 5)]


def test_a_linked_image_is_a_figure_of_the_image():
    blocks = [Draft([m.Link("/big.png", (Image("/a.png", "alt"),))], 5)]
    assert attach_figures(blocks) == [m.Figure("/a.png", (), 5)]


def test_several_images_each_a_figure_the_caption_on_the_last():
    blocks = [Draft([Image("/a.png", "左"), m.LineBreak(), Image("/b.png", "右")], 5), Draft([T("两张图")], 6)]
    assert attach_figures(blocks) == [m.Figure("/a.png", (T("左"),), 5), m.Figure("/b.png", (T("两张图"),), 5)]


def test_what_is_not_a_caption():
    long_text = Draft([T("长" * 81)], 6)
    with_break = Draft([T("a"), m.LineBreak(), T("b")], 6)
    with_display = Draft([T("a"), display()], 6)
    another_image = Draft([Image("/b.png", "")], 6)
    for block in (long_text, with_break, with_display, another_image, m.Rule(6)):
        assert not is_caption(block)
        figures = attach_figures([Draft([Image("/a.png", "")], 5), block])
        assert figures[0] == m.Figure("/a.png", (), 5)
    assert is_caption(Draft([T("公式"), m.Math("x^2", False, 6)], 6))


def test_an_image_in_running_text_is_a_link_to_it():
    blocks = [Draft([T("见"), Image("/a.png", "图"), m.Strong((Image("/b.png", ""),))], 5)]
    assert attach_figures(blocks) == [
        m.Paragraph((T("见"), m.Link("/a.png", (T("图"),)), m.Strong((m.Link("/b.png", (T("/b.png"),)),))), 5)
    ]


def test_images_as_links_leaves_other_nodes_alone():
    nodes = (T("a"), m.Math("x", False, 1), m.Link("/x", (T("x"),)))
    assert images_as_links(nodes) == nodes


def test_model_blocks_pass_through():
    heading = m.Heading(2, (T("h"),), 1, "h")
    assert attach_figures([heading, Draft([T("p")], 2)]) == [heading, m.Paragraph((T("p"),), 2)]
