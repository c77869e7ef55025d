"""The ``unicode-math`` pass beyond its cases (tests/cases/unicode_math.txt).

Math everywhere in a post, the prose half (symbols the text fonts lack), the tables, properties.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookgen import model as m
from bookgen.transforms import tex, unicode_math
from bookgen.transforms.unicode_math import (
    COMBINING, FULLWIDTH_SPECIAL, SUBSCRIPTS, SUPERSCRIPTS, SYMBOLS, fix_math,
)  # fmt: skip
from bookgen.transforms.unknown_commands import known_macros
from bookgen.latex.writer import render_title
from fixtures import MATH_LINE, book_of, fake_chooser, preamble_chooser, run_pass

# What the fonts of bookgen's own preamble set as text (a build asks its own preamble).
HAS = preamble_chooser().text_has


def test_math_everywhere_in_a_post_is_fixed():
    def cjk(line: int) -> m.Math:
        return m.Math("x∈ℝ", False, line)

    blocks = (
        m.Heading(2, (m.Text("h "), cjk(1)), 1, "h"),
        m.Paragraph((m.Emph((m.Strong((cjk(2),)),)), m.Link("https://x", (cjk(3),))), 2),
        m.ListBlock(False, 1, ((m.Paragraph((cjk(4),), 4),),), 4),
        m.Quote((m.Paragraph((cjk(5),), 5),), 5),
        m.Table(((cjk(6),),), (((cjk(7),),),), ("l",), 6),
        m.Figure("/usr/uploads/x.png", (cjk(8),), 8),
    )
    footnotes = (("1", (m.Paragraph((cjk(9),), 9),)),)
    book, reporter = run_pass(unicode_math.PASS, book_of(blocks=blocks, footnotes=footnotes))
    from bookgen.transforms.walk import iter_math

    maths = iter_math(book.chapters[0].post)
    assert [math.tex for math in maths] == [r"x\in\mathbb{R}"] * 9
    assert sorted({d.line for d in reporter.items}) == list(range(1, 10))


# ---------------------------------------------------------------- prose


def missing_in_text() -> str:
    """A character of the tables that the text fonts lack (read from the fonts), for prose tests."""
    has = HAS
    return next(c for c in "⋅ℝ∘⟨" if not has(c))


def test_prose_symbol_without_glyph_becomes_inline_math():
    char = missing_in_text()
    book, reporter = run_pass(unicode_math.PASS, book_of(m.Text(f"前{char}后")))
    (paragraph,) = book.chapters[0].post.blocks
    assert paragraph.children == (m.Text("前"), m.RawTex(f"${SYMBOLS[char]}$"), m.Text("后"))
    assert [(d.line, d.severity) for d in reporter.items] == [(MATH_LINE, "repair")]


def test_prose_symbols_in_a_row_share_one_formula():
    book, _ = run_pass(unicode_math.PASS, book_of(m.Text("a⋅∘b")))
    (paragraph,) = book.chapters[0].post.blocks
    assert paragraph.children == (m.Text("a"), m.RawTex(r"$\cdot\circ$"), m.Text("b"))


def test_prose_with_glyphs_is_the_same_object():
    text = m.Text("中文，“引号”——α×β and é")
    book, reporter = run_pass(unicode_math.PASS, book_of(text))
    (paragraph,) = book.chapters[0].post.blocks
    assert paragraph.children[0] is text
    assert reporter.items == []


def test_heading_symbol_keeps_its_bookmark():
    char = missing_in_text()
    heading = m.Heading(2, (m.Text(f"关于{char}"),), 3, f"关于{char}")
    book, _ = run_pass(unicode_math.PASS, book_of(blocks=(heading,)))
    (block,) = book.chapters[0].post.blocks
    assert block.children == (m.Text("关于"), m.RawTex(f"\\texorpdfstring{{${SYMBOLS[char]}$}}{{{char}}}"))


def test_prose_emoji_is_left_to_the_glyphs_pass():
    text = m.Text("好😀！")
    book, reporter = run_pass(unicode_math.PASS, book_of(text))
    (paragraph,) = book.chapters[0].post.blocks
    assert paragraph.children == (text,)
    assert reporter.items == []


def test_what_the_text_fonts_have_comes_from_the_context():
    """A font setup that has ⋅ keeps it as text; one without it makes it math."""
    from bookgen.diagnostics import Reporter
    from bookgen.transforms import Context

    for covered, expected in (("⋅", (m.Text("a⋅b"),)), ("", (m.Text("a"), m.RawTex(r"$\cdot$"), m.Text("b")))):
        context = Context(reporter=Reporter(), glyphs=fake_chooser(latin="ab" + covered))
        book = unicode_math.PASS.apply(book_of(m.Text("a⋅b")), context)
        assert book.chapters[0].post.blocks[0].children == expected


def test_prose_is_not_read_as_tex():
    """A backslash in prose is a character (escaped later), not a control word to keep apart."""
    char = missing_in_text()
    parts, _ = unicode_math.fix_text(m.Text(f"\\alpha中 {char} $5"), has_glyph=HAS)
    assert parts == (m.Text("\\alpha中 "), m.RawTex(f"${SYMBOLS[char]}$"), m.Text(" $5"))


def test_titles_are_set_like_headings():
    """The titles pass: the book's and chapters' titles get \\texorpdfstring for a symbol the fonts lack."""
    char = missing_in_text()
    book = book_of(m.Text("x"))
    book = m.Book(book.key, m.text(f"【标题】{char}50%"), (), (), book.paper,
                  (m.Chapter(book.chapters[0].post, m.text(f"章{char}")),))  # fmt: skip
    out, reporter = run_pass(unicode_math.TITLES_PASS, book)
    assert render_title(out.title) == f"【标题】\\texorpdfstring{{${SYMBOLS[char]}$}}{{{char}}}50\\%"
    assert render_title(out.chapters[0].title) == f"章\\texorpdfstring{{${SYMBOLS[char]}$}}{{{char}}}"
    assert [d.pass_name for d in reporter.items] == ["titles", "titles"]


def test_prose_everywhere_in_a_post():
    char = missing_in_text()
    blocks = (
        m.ListBlock(False, 1, ((m.Paragraph((m.Text(char),), 4),),), 4),
        m.Quote((m.Paragraph((m.Emph((m.Text(char),)),), 5),), 5),
        m.Table(((m.Text(char),),), (((m.Text(char),),),), ("l",), 6),
        m.Figure("/usr/uploads/x.png", (m.Text(char),), 8),
    )
    footnotes = (("1", (m.Paragraph((m.Link("https://x", (m.Text(char),)),), 9),)),)
    book, reporter = run_pass(unicode_math.PASS, book_of(blocks=blocks, footnotes=footnotes))
    assert sorted({d.line for d in reporter.items}) == [4, 5, 6, 8, 9]
    assert str(book).count(f"RawTex(tex='${SYMBOLS[char]}$')".replace("\\", "\\\\")) == 6


# ---------------------------------------------------------------- the tables


def test_table_keys_are_single_non_ascii_characters():
    for table in (SYMBOLS, SUPERSCRIPTS, SUBSCRIPTS, COMBINING, FULLWIDTH_SPECIAL):
        for key in table:
            assert len(key) == 1 and ord(key) > 127, repr(key)


def test_every_replacement_is_defined_by_latex():
    """A replacement must not trade a missing character for an undefined control sequence."""
    known = known_macros()
    tables = (SYMBOLS, SUPERSCRIPTS, SUBSCRIPTS, COMBINING, FULLWIDTH_SPECIAL)
    names = {n for table in tables for value in table.values() for n in re.findall(r"\\([A-Za-z]+|.)", value)}
    assert sorted(n for n in names if n not in known) == []


def test_every_replacement_is_ascii():
    for table in (SYMBOLS, SUPERSCRIPTS, SUBSCRIPTS, COMBINING, FULLWIDTH_SPECIAL):
        for key, value in table.items():
            assert value.isascii(), (key, value)


def test_every_full_width_form_maps_to_ascii():
    for code in range(0xFF01, 0xFF5F):
        out, _ = fix_math(chr(code), HAS)
        assert out.isascii(), (chr(code), out)


# ---------------------------------------------------------------- properties

PIECES = [
    "α", "×", "−", "测试", "，", "（", "）", "²", "⁻¹", "°", "ℝ", "𝐱", "\u200b", "\u00a0", "😀", "é", "̂", "“",
    "\\text{", "\\text", "\\quad", "\\alpha", "\\frac", "\\hat", "\\label{", "\\operatorname{", "\\mathrm{",
    "{", "}", "^", "_", "$", "\\\\", "\\", "&", "a", "x", " ", "\n", "%", "#", "\\left", "\\right", "'",
]  # fmt: skip


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=25))
def test_pieces_never_raise_and_are_idempotent(pieces):
    source = "".join(pieces)
    once, _ = fix_math(source, HAS)
    assert fix_math(once, HAS)[0] == once


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=40))
def test_arbitrary_text_never_raises_and_is_idempotent(source):
    once, _ = fix_math(source, HAS)
    assert fix_math(once, HAS)[0] == once


def math_mode_chars(source: str) -> str:
    """The characters pylatexenc sees in math mode (outside text arguments and names)."""
    out = []
    for node, parents in tex.walk(tex.parse(source)):
        if isinstance(node, tex.LatexCharsNode) and unicode_math._mode(node, parents) == "math":
            out.append(node.chars)
    return "".join(out)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=25))
def test_no_non_ascii_left_in_math_mode(pieces):
    once, _ = fix_math("".join(pieces), HAS)
    assert math_mode_chars(once).isascii()


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=30))
def test_prose_pass_is_idempotent(text):
    book, _ = run_pass(unicode_math.PASS, book_of(m.Text(text), m.Math(text, False, MATH_LINE)))
    again, reporter = run_pass(unicode_math.PASS, book)
    assert again == book


# ---------------------------------------------------------------- with TeX


@pytest.mark.tex
def test_replacements_typeset_without_missing_characters(tmp_path, tex_available):
    """Every table entry, in math and in text, set with the real preamble: no error, no missing glyph."""
    from bookgen.latex.language import language_for
    from bookgen.latex.templating import template_environment

    book = m.Book("k", m.text("t"), m.text("s"), m.text("a"), "a4paper", ())
    preamble = template_environment(()).get_template("preamble.tex.j2").render(
        book=book, language=language_for(None), extra_preamble=""
    )
    chars = sorted(set(SYMBOLS) | set(SUPERSCRIPTS) | set(SUBSCRIPTS)) + ["测试，", "（x）", "x̂", "𝐱𝔼𝜶"]
    lines = []
    for char in chars:
        math, _ = fix_math(f"a{char}b", HAS)
        text, _ = fix_math(f"\\text{{a{char}b}}", HAS)
        lines.append(f"${math}$ ${text}$\\par")
    prose = "".join(c for c in chars if len(c) == 1 and not c.isspace())
    text_node = m.Text(prose)
    from bookgen.latex.writer import Writer

    parts, _ = unicode_math.fix_text(text_node, has_glyph=HAS)
    post = m.Post(1, "t", "", "", Path("x.md"), ())
    lines.append(Writer(post).inlines(parts))
    body = "\n".join(lines)
    (tmp_path / "t.tex").write_text(
        preamble + "\n\\tracinglostchars=2\n\\begin{document}\n" + body + "\n\\end{document}\n", encoding="utf-8"
    )
    subprocess.run(
        ["xelatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"], cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300,
    )  # fmt: skip
    log = (tmp_path / "t.log").read_text(encoding="utf-8", errors="replace")
    errors = re.findall(r"^! .*", log, re.M)
    missing = sorted(set(re.findall(r"Missing character: There is no (.)", log)))
    assert errors == []
    assert missing == []
