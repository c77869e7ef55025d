"""The fallback ladder without TeX: units and their spans, TeX's errors read and traced to units.

What TeX prints is given here as text (the shapes come from real xelatex logs);
tests/hostile/test_hostile_fallback.py runs the whole ladder through xelatex.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bookgen import model as m
from bookgen.compile import tex_problems
from bookgen.fallback import offset_of, unit_of, units_to_set_aside, with_fallbacks
from bookgen.latex.language import language_for
from bookgen.latex.render import break_long_lines, extract_units, render_book, tidy
from bookgen.latex.templating import template_environment
from bookgen.latex.writer import UNIT_END, UNIT_START, render_post, without_markers
from bookgen.compile import TexProblem

PATH = Path("posts/4242.md")


def post(*blocks: m.Block, footnotes: tuple = ()) -> m.Post:
    return m.Post(4242, "标题", "2024-01-01", "https://spaces.ac.cn/archives/4242", PATH, blocks, footnotes)


def book(*posts: m.Post) -> m.Book:
    return m.Book("t", m.text("书"), (), m.text("苏剑林"), "a4paper", tuple(m.Chapter(p, m.text(p.title)) for p in posts))


def render(the_book: m.Book):
    return render_book(the_book, template_environment(()), language_for(None), "series.yaml")


def problem_at(rendered, needle: str, message: str = "Undefined control sequence.", shift: int = 0) -> TexProblem:
    """A TeX error placed just after ``needle`` in post 4242's file, as TeX's context would show it."""
    text = rendered.files["posts/4242.tex"]
    at = text.index(needle) + len(needle) + shift
    line = text.count("\n", 0, at) + 1
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    return TexProblem("./posts/4242.tex", line, message, text[start:at], text[at:end])


PARAGRAPH = m.Paragraph(
    (m.Text("甲段，"), m.Math("x+1", False, 3), m.Text(" 然后 "), m.Math(r"\kern x", False, 4), m.Text(" 完。")), 3
)
DISPLAY = m.Paragraph((m.Text("如下"), m.Math("\\begin{equation*}a=1\\end{equation*}", True, 7), m.Text("其中。")), 6)
LAST = m.Paragraph((m.Text("乙段。"),), 9)


# ---------------------------------------------------------------- TeX's words


CONTEXT = r"l.13 第三段 $\sqrt{x} \hdashline"
LOG = r"""(./posts/4242.tex
./posts/4242.tex:13: Misplaced \noalign.
\adl@hdashline #1->\noalign
                            {\ifnum 0=`}\fi \ifadl@zwhrule \vskip -\arrayrul...
""" + CONTEXT + "\n" + " " * len(CONTEXT) + r"""$ 结束。
I expect to see \noalign only after the \cr of
an alignment. Proceed, and I'll ignore this case.

./main.tex:40: Undefined control sequence.
<output> {\let \protect \noexpand \shipout
                                       \box \@outputbox
l.40 \end{document}

"""


def test_tex_problems_reads_file_line_message_and_the_split_line():
    first, second = tex_problems(LOG)
    assert (first.path, first.line, first.message) == ("posts/4242.tex", 13, "Misplaced \\noalign.")
    assert first.before == "第三段 $\\sqrt{x} \\hdashline" and first.after == "$ 结束。"
    assert not first.in_output
    assert (second.path, second.line, second.in_output) == ("main.tex", 40, True)


def test_offset_of_finds_the_column_from_the_context():
    text = "a\n第三段 $\\sqrt{x} \\hdashline$ 结束。\n"
    problem = TexProblem("./posts/1.tex", 2, "m", "第三段 $\\sqrt{x} \\hdashline", "$ 结束。")
    assert text[offset_of(text, problem) :].startswith("$ 结束")
    cut = dataclasses.replace(problem, before="...x} \\hdashline", after="$ 结...")
    assert offset_of(text, cut) == offset_of(text, problem)
    unknown = dataclasses.replace(problem, before="nothing like it", after="")
    assert offset_of(text, unknown) == text.index("。") + 1  # the end of the line


# ---------------------------------------------------------------- units


def test_units_are_blocks_and_formulas_with_exact_spans():
    rendered = render(book(post(PARAGRAPH, DISPLAY, LAST)))
    text = rendered.files["posts/4242.tex"]
    spans = rendered.spans["posts/4242.tex"]
    kinds = [(s.unit.kind, s.unit.line, s.unit.inline) for s in spans]
    assert kinds == [
        ("paragraph", 3, False), ("formula", 3, True), ("formula", 4, True),
        ("paragraph", 6, False), ("formula", 7, False), ("paragraph", 9, False),
    ]  # fmt: skip
    assert [text[s.start : s.end] for s in spans if s.unit.kind == "formula"] == [
        "$x+1$", "$\\kern x$", "\\begin{equation*}a=1\\end{equation*}"
    ]  # fmt: skip
    assert not re.search("[\U000f0000-\U0010ffff]", text)


def test_an_error_inside_a_formula_is_that_formula():
    rendered = render(book(post(PARAGRAPH, DISPLAY, LAST)))
    found = unit_of(problem_at(rendered, "\\kern x"), rendered)
    assert found and found[1].unit.kind == "formula" and found[1].unit.line == 4


def test_a_formula_set_aside_passes_the_error_to_its_paragraph():
    rendered = render(book(post(PARAGRAPH, DISPLAY, LAST)))
    problem = problem_at(rendered, "\\kern x")
    (first,) = units_to_set_aside([problem, problem], rendered)  # the first error per unit
    again = render(with_fallbacks(book(post(PARAGRAPH, DISPLAY, LAST)), [first]))
    found = unit_of(problem_at(again, "\\bookgenfallbackinline{4242.md:4}"), again)  # the error stays
    assert found and found[1].unit.kind == "paragraph" and found[1].unit.line == 3


def test_an_error_noticed_after_the_formula_blames_the_formula_first():
    """TeX reports a fault in a footnote's formula at the end of the footnote, after the formula."""
    note = m.Paragraph((m.Text("注里 "), m.Math("\\noalign{x}", False, 12), m.Text(" 完。")), 12)
    with_note = m.Paragraph((m.Text("有注"), m.FootnoteRef("1"), m.Text("。")), 3)
    rendered = render(book(post(with_note, footnotes=(("1", (note,)),))))
    found = unit_of(problem_at(rendered, " 完。}"), rendered)
    assert found and found[1].unit.kind == "formula" and found[1].unit.line == 12


def test_an_error_at_a_paragraphs_end_is_in_the_paragraph_before():
    rendered = render(book(post(PARAGRAPH, LAST)))
    text = rendered.files["posts/4242.tex"]
    line = text[: text.index("%@ line 9")].count("\n")  # the blank line before the next block's mark
    problem = TexProblem("./posts/4242.tex", line, "Missing $ inserted.", "", "")
    found = unit_of(problem, rendered)
    assert found and found[1].unit.line == 4  # the last formula of that paragraph


def test_an_error_in_the_templates_text_is_no_unit():
    rendered = render(book(post(PARAGRAPH, LAST)))
    assert unit_of(problem_at(rendered, "\\bookgenpostinfo"), rendered) is None
    assert unit_of(TexProblem("./main.tex", 3, "m", "x", ""), rendered) is None


def test_a_fallback_shows_the_source_and_keeps_the_numbers_of_the_units_after_it():
    plain = render(book(post(PARAGRAPH, DISPLAY, LAST)))
    problem = problem_at(plain, "\\kern x")
    fallbacks = units_to_set_aside([problem], plain)
    again = render(with_fallbacks(book(post(PARAGRAPH, DISPLAY, LAST)), fallbacks))
    text = again.files["posts/4242.tex"]
    assert "\\bookgenfallbackinline{4242.md:4}{\\$\\allowbreak{}\\textbackslash{}kern x\\$}" in text
    assert "$x+1$" in text and "\\begin{equation*}a=1\\end{equation*}" in text
    assert [s.unit for s in again.spans["posts/4242.tex"]] == [s.unit for s in plain.spans["posts/4242.tex"]]
    assert render(with_fallbacks(book(post(PARAGRAPH, DISPLAY, LAST)), fallbacks)).files == again.files


def test_a_block_set_aside_shows_what_tex_got_not_the_fallbacks_inside_it():
    plain = render(book(post(PARAGRAPH, LAST)))
    spans = plain.spans["posts/4242.tex"]
    source = plain.files["posts/4242.tex"]
    formula = next(s for s in spans if s.unit.line == 4)
    paragraph = next(s for s in spans if s.unit.kind == "paragraph")
    from bookgen.fallback import Fallback

    both = [Fallback(post(PARAGRAPH), formula, "m", ""), Fallback(post(PARAGRAPH), paragraph, "Missing $ inserted.", "")]
    text = render(with_fallbacks(book(post(PARAGRAPH, LAST)), both)).files["posts/4242.tex"]
    assert "\\begin{bookgenfallback}{block}{4242.md:3}{Missing \\$\\allowbreak{} inserted.}" in text
    assert "bookgenfallbackinline" not in text
    assert "甲段" in text and source.count("$") == 4


def test_a_heading_set_aside_stays_a_heading_in_plain_text():
    heading = m.Heading(2, (m.Text("标题 "), m.Math("\\kern x", False, 2)), 2, "标题 $\\kern x$")
    rendered = render(book(post(heading, LAST)))
    span = next(s for s in rendered.spans["posts/4242.tex"] if s.unit.kind == "heading")
    from bookgen.fallback import Fallback

    text = render(with_fallbacks(book(post(heading, LAST)), [Fallback(post(heading), span, "m", "")])).files[
        "posts/4242.tex"
    ]
    assert "\\section{标题 \\$\\textbackslash{}kern x\\$}\\label{sec:4242:" in text
    assert "\\bookgenfallbackinline{4242.md:2}" in text


# ---------------------------------------------------------------- the text around the units


MARKED = st.lists(
    st.one_of(
        st.sampled_from(["a", " ", "\t", "\n", "中", "%"]),
        st.integers(0, 5).map(lambda n: chr(UNIT_START + n)),
        st.integers(0, 5).map(lambda n: chr(UNIT_END + n)),
    ),
    max_size=60,
).map("".join)


def old_tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).rstrip("\n") + "\n"


@given(MARKED)
def test_tidy_treats_unit_markers_as_nothing(text):
    assert without_markers(tidy(text)) == old_tidy(without_markers(text))
    assert sorted(re.findall("[\U000f0000-\U0010ffff]", tidy(text))) == sorted(
        re.findall("[\U000f0000-\U0010ffff]", text)
    )


def test_long_lines_break_where_tex_does_not_care():
    prose = "中文" * 30 + " word" * 5
    broken = break_long_lines(prose, limit=25)
    assert all(len(line) <= 26 for line in broken.split("\n"))
    assert broken.replace("%\n", "").replace("\n", " ") == prose
    code = "\\begin{bookgencode}\n" + "x" * 60 + "\n\\end{bookgencode}"
    assert "%" not in break_long_lines(code, limit=25)


def test_extract_units_gives_each_unit_its_text():
    body, units = render_post(post(PARAGRAPH))
    text, spans = extract_units(body, units)
    assert text == without_markers(body)
    assert {text[s.start : s.end] for s in spans if s.unit.kind == "formula"} == {"$x+1$", "$\\kern x$"}
