"""The ``glyphs`` pass over the model, with invented fonts (``fixtures.fake_chooser``)."""

from __future__ import annotations

from pathlib import Path

from bookgen import model as m
from bookgen.diagnostics import Reporter
from bookgen.escape import escape_code
from bookgen.latex.writer import render_post_body, render_title
from bookgen.transforms import Context, glyphs
from fixtures import MATH_LINE, book_of, fake_chooser

CHAIN = {"Serif": "ʊːˈ", "Symbols": "▂▃─│┌┐", "Emoji": "😀"}


def run(book: m.Book, chooser=None) -> tuple[m.Book, Reporter]:
    context = Context(reporter=Reporter(), glyphs=chooser or fake_chooser(cjk="中文", chain=CHAIN))
    return glyphs.run(book, context), context.reporter


def body(book: m.Book) -> tuple:
    return book.chapters[0].post.blocks


def test_a_book_without_such_characters_is_unchanged():
    book = book_of(m.Text("中文 text"), m.Code("x = 1"), m.Math(r"\text{中文}", False, MATH_LINE))
    out, reporter = run(book)
    assert out.chapters[0].post is book.chapters[0].post  # not even rebuilt
    assert out.font_declarations == ()
    assert reporter.items == []


def test_prose_runs_go_to_their_fonts():
    out, reporter = run(book_of(m.Text("中ʊː文▂😀")))
    assert body(out)[0].children == (
        m.Text("中"), m.RawTex(r"\bookgenglyph{serif}{ʊː}"), m.Text("文"), m.RawTex(r"\bookgenglyph{symbols}{▂}"),
        m.RawTex(r"\bookgenglyph{emoji}{😀}"),
    )  # fmt: skip
    messages = [(d.line, d.message) for d in reporter.items]
    assert (MATH_LINE, "'ʊ' (U+028A), 'ː' (U+02D0) set in Serif (not in the text fonts)") in messages
    assert all(d.severity == "repair" for d in reporter.items)


def test_a_character_no_font_has_is_shown_and_warned_about():
    out, reporter = run(book_of(m.Text("中\ue000文\u0378")))
    assert body(out)[0].children == (m.Text("中[U+E000]文[U+0378]"),)
    assert [(d.line, d.severity, d.message) for d in reporter.items] == [
        (MATH_LINE, "warning", "no installed font has U+E000: shown as [U+E000]"),
        (MATH_LINE, "warning", "no installed font has U+0378: shown as [U+0378]"),
    ]


def test_inline_code_keeps_its_escapes_and_breaks():
    code = "a_very_long_name(x) = ─│ {y}"
    out, _ = run(book_of(m.Code(code)))
    (raw,) = body(out)[0].children
    plain = escape_code(code)
    assert raw.tex == "\\texttt{" + plain.replace("─│", r"\bookgenglyph{symbols}{─│}") + "}"


def test_a_code_block_needing_a_fallback_gets_commandchars():
    block, other = m.CodeBlock("┌─┐ \\x{y}\n│ ok\n", "", 4), m.CodeBlock("plain \\x{y}", "", 9)
    out, _ = run(book_of(blocks=(block, other)))
    raw, plain = body(out)
    assert raw == m.RawBlock(
        "\\begin{bookgencode}[commandchars=\\\\\\{\\}]\n"
        "\\bookgenglyph{symbols}{┌─┐} \\textbackslash{}x\\{y\\}\n\\bookgenglyph{symbols}{│} ok\n"
        "\\end{bookgencode}",
        4,
    )
    assert plain is other  # a block without such characters is untouched
    post = m.Post(1, "t", "", "", Path("x.md"), (raw,))
    assert render_post_body(post).startswith("%@ line 4\n\\begin{bookgencode}[commandchars")


def test_code_block_box_drawing_that_the_code_font_has_stays_verbatim():
    chooser = fake_chooser(latin="─", chain=CHAIN)
    block = m.CodeBlock("──", "", 3)
    out, _ = run(book_of(blocks=(block,)), chooser)
    assert body(out) == (block,)


def test_text_in_math_gets_the_switch_and_math_stays():
    math = m.Math(r"x_{ʊ} = \text{中ʊ} \label{ʊ}", False, MATH_LINE)
    out, _ = run(book_of(math))
    (fixed,) = body(out)[0].children
    assert fixed.tex == r"x_{ʊ} = \text{中\bookgenglyph{serif}{ʊ}} \label{ʊ}"


def test_the_preamble_loads_only_the_fonts_used_in_chain_order():
    out, _ = run(book_of(m.Text("😀ʊ")))
    lines = list(out.font_declarations)
    assert lines[0].startswith("% ")
    assert lines[1:] == [
        "\\newfontfamily\\bookgenfontemoji{Emoji}[AutoFakeBold=2,AutoFakeSlant=0.15]",
        "\\newfontfamily\\bookgenfontserif{Serif}[AutoFakeBold=2,AutoFakeSlant=0.15]",
    ]


def test_titles_are_checked_and_set_like_text():
    book = book_of(m.Text("x"))
    book = m.Book(book.key, m.text("中ʊ_1"), (), (), book.paper, book.chapters)
    out, reporter = run(book)
    assert any("bookgenfontserif" in line for line in out.font_declarations)
    assert out.title == (m.Text("中"), m.RawTex(r"\bookgenglyph{serif}{ʊ}"), m.Text("_1"))
    assert render_title(out.title) == r"中\bookgenglyph{serif}{ʊ}\_1"
    assert render_title(book.title) == r"中ʊ\_1"  # without the pass: escaped only


def test_everywhere_in_a_post():
    def text(line: int) -> m.Paragraph:
        return m.Paragraph((m.Text("ʊ"),), line)

    blocks = (
        m.Heading(2, (m.Text("ʊ"),), 1, "ʊ"),
        m.ListBlock(False, 1, ((text(2),),), 2),
        m.Quote((m.Paragraph((m.Emph((m.Link("https://x", (m.Text("ʊ"),)),)),), 3),), 3),
        m.Table(((m.Text("ʊ"),),), (((m.Text("ʊ"),),),), ("l",), 4),
        m.Figure("/usr/uploads/x.png", (m.Text("ʊ"),), 5),
    )
    footnotes = (("1", (text(6),)),)
    out, reporter = run(book_of(blocks=blocks, footnotes=footnotes))
    assert sorted({d.line for d in reporter.items}) == [1, 2, 3, 4, 5, 6]
    assert str(out.chapters[0].post).count(r"RawTex(tex='\\bookgenglyph{serif}{ʊ}')") == 7


def test_no_fonts_to_check_leaves_the_book_with_one_warning():
    chooser = fake_chooser()
    chooser.problem = "fontconfig (fc-list) found no fonts"
    book = book_of(m.Text("ʊ"))
    out, reporter = run(book, chooser)
    assert out is book
    assert [d.severity for d in reporter.items] == ["warning"]


def test_a_cluster_no_font_has_whole_is_set_char_by_char():
    chooser = fake_chooser(cjk="中", chain={"Marks": "\u0303"})
    out, reporter = run(book_of(m.Text("中\u0303\ufe01x")), chooser)
    # 中 stays in the CJK font, the tilde goes to the font that has it, the variation selector is dropped
    assert body(out)[0].children == (m.Text("中"), m.RawTex("\\bookgenglyph{marks}{\u0303}"), m.Text("x"))
    assert [d.severity for d in reporter.items] == ["repair"]
