"""Posts TeX rejects even after the normalizer: the book is built anyway, with what TeX rejected shown as source.

Each construct here is legal for MathJax or plainly broken, and none is repaired
by a pass (they are TeX primitives used out of place), so each reaches xelatex
and fails there.  The ladder (bookgen/fallback.py) sets each one aside; the
paragraphs around them are typeset as usual.  A formula that makes TeX loop is
made with a template (a preamble macro that calls itself), since the normalizer
refuses every loop a post can write.
"""

from __future__ import annotations

import re

import pytest
from harness import REPO_DIR, build_must_be_safe, header, make_book, pdf_text, report_lines, tex

BROKEN = {
    # post line → (what the line holds, the source the fallback must show)
    20: ("公式 $\\kern x$ 放错了地方。", "\\kernx"),  # pdftotext's words, without spaces
    22: ("$$a = b \\noalign{c}$$", "\\noalign{c}"),
    24: ("一行里两个：$\\omit y$ 和 $\\rule{a}{b}$ 都坏了。", "\\rule{a}{b}"),
}


def broken_post() -> str:
    lines = header(97101, "排不出来的公式").split("\n")[:-1]  # the header's lines; the body starts after them
    body = ["甲段落：这一段完全正常，$x^2+y^2=1$ 是单位圆。", ""]
    for line in sorted(BROKEN):
        while len(lines) + len(body) < line - 1:
            body.append("")
        body.append(BROKEN[line][0])
    body += ["", "乙段落：这一段也正常，$\\frac{1}{2}$ 是一半。", "", "| 表头 | 值 |", "|---|---|", "| 行 | $\\omit z$ |", "",
             "丙段落结束。"]  # fmt: skip
    text = "\n".join(lines + body) + "\n"
    for line, (content, _shown) in BROKEN.items():
        assert text.split("\n")[line - 1] == content, (line, text.split("\n")[line - 3 : line + 1])
    return text


QUICK = ("--tex-timeout", "10")  # a loop TeX falls into after an error is noticed in seconds, not a minute


def normal_post() -> str:
    return header(97102, "正常的一章") + "丁段落：另一章完全正常，$e^{i\\pi}+1=0$。\n"


@tex
def test_rejected_formulas_are_shown_as_source_and_the_book_is_built(tmp_path):
    book = make_book(tmp_path, {"97101.md": broken_post(), "97102.md": normal_post()})
    result = build_must_be_safe(book, *QUICK)
    assert result.code == 0, result.stderr
    text = pdf_text(book.pdf)
    if text is None:
        pytest.skip("pdftotext not installed")
    squeezed = re.sub(r"\s+", "", text)
    for neighbour in ("甲段落", "乙段落", "丙段落结束", "丁段落"):
        assert neighbour in squeezed, neighbour
    for _line, (_content, shown) in BROKEN.items():
        assert shown in squeezed, shown
    assert "未能排版" in squeezed
    report = "\n".join(report_lines(book))
    for line in BROKEN:
        assert re.search(rf"97101\.md:{line}: \[tex\] warning: TeX error \".*\" in `.*`; shown as source", report), line
    table_line = broken_post().split("\n").index("| 表头 | 值 |") + 1
    assert re.search(rf"97101\.md:{table_line}: \[tex\] warning:", report)
    assert "97102.md" not in report  # the other chapter is typeset as it is
    for line in BROKEN:  # every fallback is also a warning on stderr
        assert re.search(rf"97101\.md:{line}: warning: TeX error", result.stderr), line


@tex
def test_fallbacks_are_deterministic(tmp_path):
    first = make_book(tmp_path / "one", {"97101.md": broken_post()})
    second = make_book(tmp_path / "two", {"97101.md": broken_post()})
    assert build_must_be_safe(first, *QUICK).code == 0
    assert build_must_be_safe(second, *QUICK).code == 0
    tex_of = lambda book: (book.volume / "posts" / "97101.tex").read_text(encoding="utf-8")  # noqa: E731
    assert tex_of(first) == tex_of(second)
    assert "\\bookgenfallbackinline{97101.md:20}" in tex_of(first)
    assert "\\begin{bookgenfallback}{formula}{97101.md:22}" in tex_of(first)


@tex
def test_strict_stops_at_the_first_error_and_keeps_the_last_good_pdf(tmp_path):
    book = make_book(tmp_path, {"97101.md": normal_post().replace("97102", "97101")})
    assert build_must_be_safe(book).code == 0
    good = book.pdf.read_bytes()
    (book.sources / "97101.md").write_text(broken_post(), encoding="utf-8")
    result = build_must_be_safe(book, "--strict")
    assert result.code == 2, result.stderr
    assert re.match(r"^.*97101\.md:20: TeX error: Missing number", result.stderr_lines[0]), result.stderr
    assert book.pdf.read_bytes() == good


def looping_templates(folder) -> None:
    """A preamble in which \\varkappa calls itself: any formula using it makes TeX loop."""
    folder.mkdir()
    builtin = (REPO_DIR / "templates" / "preamble.tex.j2").read_text(encoding="utf-8")
    (folder / "preamble.tex.j2").write_text(builtin + "\\def\\varkappa{\\varkappa}\n", encoding="utf-8")


def looping_post() -> str:
    return header(97103, "会死循环的公式") + "戊段落正常。\n\n一个公式 $\\varkappa + 1$ 让 TeX 停不下来。\n\n己段落正常。\n"


@tex
def test_a_formula_that_makes_tex_loop_is_set_aside(tmp_path):
    book = make_book(tmp_path, {"97103.md": looping_post()})
    looping_templates(book.root / "templates")
    result = build_must_be_safe(book, "--tex-timeout", "4")
    assert result.code == 0, result.stderr
    line = looping_post().split("\n").index("一个公式 $\\varkappa + 1$ 让 TeX 停不下来。") + 1
    report = "\n".join(report_lines(book))
    assert re.search(rf"97103\.md:{line}: \[tex\] warning: TeX error \"TeX did not finish", report), report
    text = pdf_text(book.pdf)
    if text is not None:
        squeezed = re.sub(r"\s+", "", text)
        assert "戊段落正常" in squeezed and "己段落正常" in squeezed and "varkappa" in squeezed


@tex
def test_strict_stops_a_loop_with_exit_2(tmp_path):
    book = make_book(tmp_path, {"97103.md": looping_post()})
    looping_templates(book.root / "templates")
    result = build_must_be_safe(book, "--tex-timeout", "4", "--strict")
    assert result.code == 2, result.stderr
    assert "did not finish" in result.stderr
    assert not book.pdf.exists()

