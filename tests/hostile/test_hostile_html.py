"""Hostile HTML pages: a page nested 1 000 or 100 000 levels deep (issue 9, hole 5).

A saved page may hold anything.  Nested a thousand ``<div>`` or ``<b>`` deep it
used to end in a RecursionError (a traceback), and a hundred thousand deep took
quadratic time first.  libxml2, which parses the pages, stops reading at 2048
levels and would silently lose the rest of the page.  Now the reader flattens
anything deeper than ``MAX_DEPTH`` levels (the text stays, the markup inside
goes) and says so: a ``reader`` warning at the page's line.  The text before,
inside and after the nesting is all in the book.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bookgen import model as m
from bookgen.readers.html import read_html
from bookgen.readers.htmlpage import MAX_DEPTH, NESTING_NOTE
from harness import build_must_be_safe, make_book, report_lines, run_build, tex, assert_clean_outcome

DEPTHS = (1_000, 100_000)
TAGS = ("div", "b")
NESTING_LINE = 7  # of deep_page's text: where the nested tags start


def deep_page(archive_id: int, tag: str, depth: int) -> str:
    """A page whose PostContent holds a paragraph, ``depth`` nested ``tag``s around a formula, a paragraph."""
    nested = f"<{tag}>" * depth + "最深处的公式$z^2$与文字" + f"</{tag}>" * depth
    return (
        "<!DOCTYPE html>\n<html><head><title>深层嵌套 - 科学空间|Scientific Spaces</title>\n"
        f'<link rel="canonical" href="https://spaces.ac.cn/archives/{archive_id}"></head>\n<body>\n'
        f'<div id="PostContent">\n<p>嵌套之前的段落$x$。</p>\n{nested}\n<p>嵌套之后的段落$y$。</p>\n</div>\n'
        "</body></html>\n"
    )


def texts(post: m.Post) -> str:
    from bookgen.transforms.walk import iter_math

    out = []

    def visit(nodes):
        for node in nodes:
            if isinstance(node, m.Text):
                out.append(node.text)
            visit(getattr(node, "children", ()))

    for block in post.blocks:
        visit(getattr(block, "children", ()))
    return "".join(out) + "".join(f"${x.tex}$" for x in iter_math(post))


@pytest.mark.parametrize("tag", TAGS)
@pytest.mark.parametrize("depth", DEPTHS)
def test_deep_nesting_is_read_flattened_with_a_note(tag, depth):
    post = read_html(deep_page(1, tag, depth), Path("/pages/1.html"), 1)
    found = texts(post)
    for text in ("嵌套之前的段落", "最深处的公式", "与文字", "嵌套之后的段落", "$x$", "$z^2$", "$y$"):
        assert text in found, text
    assert post.notes == ((NESTING_LINE, NESTING_NOTE),)
    assert str(MAX_DEPTH) in NESTING_NOTE


def test_no_more_styles_than_the_depth_allows():
    post = read_html(deep_page(1, "b", 1_000), Path("/pages/1.html"), 1)
    deepest, node = 0, post.blocks[1].children[0]
    while isinstance(node, m.Strong):
        deepest, node = deepest + 1, node.children[0]
    assert 0 < deepest <= MAX_DEPTH


def test_deep_pages_build_with_a_warning(tmp_path):
    pages = {f"{97100 + n}-deep.html": deep_page(97100 + n, tag, depth)
             for n, (tag, depth) in enumerate((t, d) for t in TAGS for d in DEPTHS)}  # fmt: skip
    book = make_book(tmp_path, pages)
    result = build_must_be_safe(book, "--tex-only")
    assert result.code == 0, result.stderr
    warnings = [line for line in report_lines(book) if "[reader] warning:" in line]
    assert sorted(w.split(": [")[0].rsplit("/", 1)[-1] for w in warnings) == sorted(f"{n}:{NESTING_LINE}" for n in pages)
    for post in book.ids:
        tex = (book.volume / "posts" / f"{post}.tex").read_text(encoding="utf-8")
        assert "最深处的公式" in tex and "嵌套之后的段落" in tex


@tex
def test_deep_pages_compile(tmp_path):
    book = make_book(tmp_path, {"97110-deep.html": deep_page(97110, "b", 100_000),
                                "97111-deep.html": deep_page(97111, "div", 100_000)})  # fmt: skip
    result = run_build(book)
    assert_clean_outcome(result, book)
    assert result.code == 0, result.stderr
    assert book.pdf.exists()
