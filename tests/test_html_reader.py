"""The HTML reader: pages of the site (tests/cases/html/*.html) → the model.

The pages are written for these tests in the site's structure (head, menu,
``<div id="PostContent">``, boilerplate, comments), and they are the local
site's pages too (tests/local_site.py); their expected models are
``tests/cases/html/<id>.dump``, in the reader cases' dump format
(``fixtures.dump_post``; rewrite them with ``pytest tests/test_html_reader.py
--update-golden`` and review the diff).
Line numbers are lines of the .html file.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bookgen import model as m
from bookgen.errors import SourceError
from bookgen.readers import read_post
from bookgen.readers.html import read_html
from bookgen.sources import HTML_HEAD_BYTES, SourceIndex, archive_id_of
from fixtures import CASES_DIR, dump_post

PAGES = CASES_DIR / "html"
PAGE_IDS = (90101, 90102, 90103)


def page(archive_id: int) -> Path:
    return PAGES / f"{archive_id}.html"


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of ``path`` where ``needle`` first occurs."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def read(archive_id: int) -> m.Post:
    return read_post(page(archive_id), archive_id)


def wrap(body: str, head: str = "<title>测试 - 科学空间|Scientific Spaces</title>") -> str:
    return f"<!DOCTYPE html>\n<html><head>{head}</head><body>\n<div id=\"PostContent\">{body}</div>\n</body></html>\n"


def read_body(body: str, head: str = "<title>测试 - 科学空间|Scientific Spaces</title>") -> m.Post:
    return read_html(wrap(body, head), Path("/pages/1.html"), 1)


def plain(nodes) -> str:
    out = []
    for node in nodes:
        if isinstance(node, m.Text):
            out.append(node.text)
        elif isinstance(node, m.Math):
            out.append(f"${node.tex}$")
        elif isinstance(node, m.Code):
            out.append(node.text)
        elif hasattr(node, "children"):
            out.append(plain(node.children))
    return "".join(out)


def all_math(post: m.Post) -> list[m.Math]:
    from bookgen.transforms.walk import iter_math

    return iter_math(post)


# ---------------------------------------------------------------- whole pages against their dumps


@pytest.mark.parametrize("archive_id", PAGE_IDS)
def test_page_model(archive_id, update_golden):
    expected_file = PAGES / f"{archive_id}.dump"
    got = dump_post(read(archive_id)) + "\n"
    if update_golden:
        expected_file.write_text(got, encoding="utf-8")
    assert got == expected_file.read_text(encoding="utf-8")


# ---------------------------------------------------------------- what the dumps show, spelled out


def test_title_date_and_url():
    post = read(90101)
    assert post.title == "示例系列（一）：从平均数说起"  # <title> without " - 科学空间|Scientific Spaces"
    assert post.date == "2024-03-01"  # the citation line (the comments' 2025-01-02 is not it)
    assert post.url == "https://spaces.ac.cn/archives/90101"
    assert post.path == page(90101)
    assert post.mirror == ""
    assert read(90102).date == "2024-03-08"  # no citation: the date above the post
    assert read(90103).date == "2024-03-15"  # article:published_time


def test_each_block_is_at_the_line_of_its_element():
    path = page(90101)
    post = read(90101)
    by_kind = {}
    for block in post.blocks:
        by_kind.setdefault(type(block).__name__, []).append(block)
    assert post.blocks[0].line == line_of(path, "<p>平均数大概是")
    assert [h.line for h in by_kind["Heading"]] == [line_of(path, '<h2 id="问题设定">'), line_of(path, "<h3>换一种误差")]
    assert by_kind["Figure"][0].line == line_of(path, '<p><a href="/usr/uploads/2024/03/90101-errors.png"')
    assert by_kind["ListBlock"][0].line == line_of(path, "<ul>")
    assert by_kind["Table"][0].line == line_of(path, "<table>")
    assert by_kind["CodeBlock"][0].line == line_of(path, "<pre>")
    assert by_kind["Quote"][0].line == line_of(path, "<blockquote>")
    nested = by_kind["ListBlock"][0].items[1][1]
    assert isinstance(nested, m.ListBlock) and nested.line == line_of(path, "<li>样本数为偶数时") - 1  # its <ul>


def test_math_is_verbatim_with_entities_decoded_and_lines_of_the_page():
    path = page(90101)
    math = {x.tex: x for x in all_math(read(90101))}
    equation = r"\begin{equation}c^* = \mathop{\arg\min}_c \sum_{i=1}^n (x_i - c)^2\label{eq:mean-loss}\end{equation}"
    assert math[equation].display and math[equation].line == line_of(path, r"\begin{equation}c^*")
    aligned = (
        "\\begin{equation}\\begin{aligned}\n"
        "f(c) =&\\, \\sum_{i=1}^n (x_i - c)^2 \\\\\n"
        "=&\\, n\\left(c - \\bar{x}\\right)^2 + \\sum_{i=1}^n (x_i - \\bar{x})^2\n"
        "\\end{aligned}\\label{eq:expand}\\end{equation}"
    )
    assert math[aligned].line == line_of(path, r"\begin{equation}\begin{aligned}")
    dollars = r"g(c) = \sum_{i=1}^n |x_i - c| \geq \left|\sum_{i=1}^n (x_i - c)\right|"
    assert math[dollars].display and math[dollars].line == line_of(path, "$$g(c)")
    assert "0<x_i<1" in math and not math["0<x_i<1"].display  # &lt; decoded
    assert math["0<x_i<1"].line == line_of(path, "$0&lt;x_i&lt;1$")
    assert r"\eqref{eq:mean-loss}" in math
    assert not any("<br" in tex or "&amp;" in tex or "&lt;" in tex for tex in math)


def test_displays_whose_lines_start_like_markdown_blocks():
    math = {x.tex: x for x in all_math(read(90102))}
    assert "\\begin{align}c^* =& \\sum_i p_i x_i \\\\\n- & \\text{（负号开头的一行）}\n+ & 0\\end{align}" in math
    assert "u = \\sum_i p_i x_i\n- \\epsilon" in math  # $$ opened mid-line, a line starting with "-"
    assert "a + b = c" in math  # <br> inside inline math: a space, so "+ b" starts no list
    assert r"p_i \geq 0" in math  # \(…\)


def test_figure_caption_and_links():
    post = read(90101)
    figure = next(b for b in post.blocks if isinstance(b, m.Figure))
    assert figure.src == "/usr/uploads/2024/03/90101-errors.png"
    assert plain(figure.caption) == "平方误差（左）与绝对误差（右）"
    links = [n for b in post.blocks if isinstance(b, m.Paragraph) for n in b.children if isinstance(n, m.Link)]
    assert [link.url for link in links] == ["/archives/90102"]
    # An image, <br> and a short text in one <p>: a figure with its caption.
    figure = next(b for b in read(90102).blocks if isinstance(b, m.Figure))
    assert (figure.src, plain(figure.caption)) == ("/usr/uploads/2024/03/90102-weights.png", "权重越大，点越大")


def test_boilerplate_and_page_chrome_are_gone():
    for archive_id in PAGE_IDS:
        text = dump_post(read(archive_id))
        for chrome in ("转载", "打赏", "如果您", "@online", "苏剑林", "读者甲", "首页", "最近文章", "Scientific"):
            assert chrome not in text, (archive_id, chrome)
    assert not isinstance(read(90101).blocks[-1], m.Rule)  # the <hr> before the boilerplate goes too


def test_bold_next_to_cjk_punctuation():
    post = read(90101)
    paragraph = next(b for b in post.blocks if isinstance(b, m.Paragraph) and plain(b.children).startswith("结论"))
    assert paragraph.children[0] == m.Strong((m.Text("结论："),))


# ---------------------------------------------------------------- the converter, case by case


def test_prose_lines_never_become_markdown_blocks():
    post = read_body("<p>说明：<br>\n1. 第一<br>\n- 第二<br>\n# 第三<br>\n&gt; 第四<br>\n+ 第五<br>\n===</p>")
    assert len(post.blocks) == 1
    assert plain(post.blocks[0].children) == "说明：1. 第一- 第二# 第三> 第四+ 第五==="
    assert sum(isinstance(c, m.LineBreak) for c in post.blocks[0].children) == 6


def test_soft_line_breaks_between_cjk_vanish():
    post = read_body("<p>第一行\n第二行\nthird line</p>")
    assert plain(post.blocks[0].children) == "第一行第二行 third line"


def test_headings_lists_quotes_tables_code():
    post = read_body(
        '<h2>二级 <a href="#x">#</a></h2><h3>三级</h3><h4>四级</h4>'
        "<ol><li>一</li><li>二<ul><li>二之一</li></ul></li></ol>"
        "<blockquote><p>引文$x$</p></blockquote>"
        '<table><tr><th>a</th><th align="right">b</th></tr><tr><td>$\\|v\\|$</td><td>p | q</td></tr></table>'
        '<pre class="language-c">int a = 1 &lt; 2;\n</pre><hr><p>完</p>'
    )
    kinds = [type(b).__name__ for b in post.blocks]
    assert kinds == ["Heading", "Heading", "Heading", "ListBlock", "Quote", "Table", "CodeBlock", "Rule", "Paragraph"]
    assert [(h.level, h.anchor) for h in post.blocks[:3]] == [(2, "二级"), (3, "三级"), (4, "四级")]
    listing = post.blocks[3]
    assert listing.ordered and isinstance(listing.items[1][1], m.ListBlock)
    table = post.blocks[5]
    assert table.aligns == ("l", "r")
    assert table.rows[0][0] == (m.Math(r"\|v\|", False, table.line),) and plain(table.rows[0][1]) == "p | q"
    assert post.blocks[6] == m.CodeBlock("int a = 1 < 2;\n", "c", post.blocks[6].line)


def test_markup_and_escaped_characters():
    post = read_body(
        "<p><b>粗</b><i>斜</i><del>删</del><code>a_b</code> x_train 和 __init__、a*b*c、[注](x)、&lt;tag&gt;、"
        "&amp;lt;、~~波浪~~、#号、|竖线|、价格$5</p>"
    )
    children = post.blocks[0].children
    assert children[:4] == (m.Strong((m.Text("粗"),)), m.Emph((m.Text("斜"),)), m.Strike((m.Text("删"),)), m.Code("a_b"))
    assert plain(children[4:]) == " x_train 和 __init__、a*b*c、[注](x)、<tag>、&lt;、~~波浪~~、#号、|竖线|、价格$5"


def test_refs_outside_math_and_pages_saved_from_a_browser():
    post = read_body(
        '<p>见\\eqref{eq:a}与<script type="math/tex">y^2</script><span class="MathJax_Preview">y^2</span>'
        '<script type="math/tex; mode=display">z=1</script>。</p>'
    )
    assert [(x.tex, x.display) for x in all_math(post)] == [(r"\eqref{eq:a}", False), ("y^2", False), ("z=1", True)]


def test_blank_lines_inside_math_are_dropped():
    post = read_body("<p>式<br>\n$$a<br>\n<br>\n\n= b$$<br>\n完</p>")
    assert [x.tex for x in all_math(post)] == ["a\n= b"]


def test_a_page_without_post_content():
    with pytest.raises(SourceError) as error:
        read_html("<html><head><title>x</title></head><body><p>404</p></body></html>", Path("/p/5.html"), 5)
    assert (error.value.path, error.value.line) == (Path("/p/5.html"), 1)
    assert "PostContent" in error.value.message


def test_read_post_dispatches_html_and_reports_bad_utf8(tmp_path):
    path = tmp_path / "7.html"
    path.write_bytes(wrap("<p>正文</p>").encode("utf-8"))
    assert plain(read_post(path, 7).blocks[0].children) == "正文"
    path.write_bytes(b"<html>\n<p>\xff</p>")
    with pytest.raises(SourceError, match="not valid UTF-8"):
        read_post(path, 7)


PROSE = (
    st.lists(st.sampled_from(list("ab1.-+=#>*_`[]()<>~&|!:;{}^，。中文 ") + ["&lt;", "&#91;", "1. ", "- "]), max_size=30)
    .map("".join)
    .filter(lambda s: s.strip())
)


@settings(max_examples=150, deadline=None)
@given(PROSE)
def test_prose_comes_back_as_written(text):
    post = read_body(f"<p>{html.escape(text, quote=False)}</p>")
    assert len(post.blocks) == 1 and isinstance(post.blocks[0], m.Paragraph)
    assert plain(post.blocks[0].children) == text.strip()


TEX = st.lists(st.sampled_from(list("ax1\\_^{}<>&*[]|#-+=() ") + ["\\\\", "\\{", "\\|"]), max_size=30).map("".join)


@settings(max_examples=150, deadline=None)
@given(TEX, st.lists(TEX, min_size=1, max_size=4))
def test_math_comes_back_as_written(inline, rows):
    inline = inline.strip().rstrip("\\") or "x"
    rows = [r.strip() for r in rows if r.strip()] or ["y"]
    page = f"<p>设${html.escape(inline)}$，且<br>\n$$" + "<br>\n".join(html.escape(r) for r in rows) + "$$<br>\n完。</p>"
    math = all_math(read_body(page))
    assert [(x.tex, x.display) for x in math] == [(inline, False), ("\n".join(rows), True)]


# ---------------------------------------------------------------- finding a page's archive id


def test_archive_id_of_a_page():
    canonical = '<link rel="stylesheet" href="x.css"><link rel="canonical" href="https://spaces.ac.cn/archives/8231">'
    assert archive_id_of(Path("saved.html"), canonical) == 8231
    og = '<meta content="https://kexue.fm/archives/9119" property="og:url">'
    assert archive_id_of(Path("saved.htm"), og) == 9119
    reprint = '<a href="https://spaces.ac.cn/archives/1">上一篇</a> 转载到请包括本文地址：</strong><a href="https://spaces.ac.cn/archives/10366">'
    assert archive_id_of(Path("saved.html"), reprint) == 10366
    # A link to another post is not the page's own id; the file name is the last resort.
    other = '<a href="https://spaces.ac.cn/archives/1">另一篇</a>'
    assert archive_id_of(Path("4321.html"), other) == 4321
    assert archive_id_of(Path("saved.html"), other) is None


def test_source_index_finds_pages(tmp_path):
    index = SourceIndex.scan((PAGES,))
    assert {i: index.find(i) for i in PAGE_IDS} == {i: page(i) for i in PAGE_IDS}
    assert index.find(90050) is None  # linked from the pages' menus and comments, not a page here
    # The id may be far down a big page (a long <head>): HTML files are read further.
    padded = tmp_path / "saved-page.html"
    padded.write_text("<html><head><style>" + "x" * 100_000 + "</style></head>" + page(90101).read_text(encoding="utf-8")
                      .replace('<link rel="canonical" href="https://spaces.ac.cn/archives/90101">', ""), encoding="utf-8")  # fmt: skip
    assert padded.stat().st_size < HTML_HEAD_BYTES
    assert SourceIndex.scan((tmp_path,)).find(90101) == padded


# ---------------------------------------------------------------- the same post as HTML and as Markdown


MATH_IN_TEX = re.compile(
    r"\\begin\{(equation\*?|align\*?)\}.*?\\end\{\1\}|\$[^$]+\$|\\(?:label|eqref|ref)\{[^}]*\}", re.DOTALL
)


def test_tex_from_html_matches_tex_from_markdown(tmp_path, run_cli):
    (tmp_path / "series.yaml").write_text("volumes:\n  demo:\n    title: 示例\n    chapters: [90101]\n", encoding="utf-8")
    built = {}
    for name, folder in (("html", PAGES), ("md", PAGES / "md")):
        result = run_cli("build", "demo", "--tex-only", "--sources", folder, "--out", tmp_path / name, cwd=tmp_path)
        assert result.code == 0, result.stderr
        built[name] = (tmp_path / name / "demo" / "posts" / "90101.tex").read_text(encoding="utf-8")
    html_math = [x.group(0) for x in MATH_IN_TEX.finditer(built["html"])]
    markdown_math = [x.group(0) for x in MATH_IN_TEX.finditer(built["md"])]
    assert len(html_math) > 20
    assert html_math == markdown_math
    assert r"\label{p90101:eq:mean-loss}" in built["html"] and r"\eqref{p90101:eq:mean-loss}" in built["html"]
    # Both point at their own source: the .tex marks lines of the .html file.
    assert f"%@ line {line_of(page(90101), '<h2 id=')}" in built["html"]


# ---------------------------------------------------------------- what reading the tree (not Markdown) gives


def test_bold_goes_on_across_a_paragraph_break():
    """``<br><br>`` ends the paragraph; the <b> around it styles both halves."""
    post = read_body("<p><b>粗a<br><br>粗b</b>后</p>")
    assert [b.children for b in post.blocks] == [(m.Strong((m.Text("粗a"),)),), (m.Strong((m.Text("粗b"),)), m.Text("后"))]


def test_a_line_break_after_bold_between_cjk_vanishes():
    post = read_body("<p>这是<b>粗体</b>\n中文</p>")
    assert post.blocks[0].children == (m.Text("这是"), m.Strong((m.Text("粗体"),)), m.Text("中文"))


def test_end_br_is_a_line_break_as_in_browsers():
    assert read_body("<p>a</br>b</p>").blocks[0].children == (m.Text("a"), m.LineBreak(), m.Text("b"))


def test_links_markdown_would_refuse_keep_their_text():
    post = read_body('<p><a href="file:///etc/passwd">文件</a>和<a href="javascript:alert(1)">脚本</a></p>')
    assert post.blocks[0].children == (m.Text("文件和脚本"),)


def test_alt_text_is_kept_as_written():
    post = read_body('<p><img src="/a.png" alt="a_b [1]"><img src="/b.png" alt="c"></p><p>文字 <img src="/c.png" alt="x_y"></p>')
    assert post.blocks[0] == m.Figure("/a.png", (m.Text("a_b [1]"),), post.blocks[0].line)
    assert post.blocks[2].children[-1] == m.Link("/c.png", (m.Text("x_y"),))


def test_two_lists_stay_two_lists_and_items_are_at_their_li():
    post = read_body("<ul>\n<li>a</li>\n</ul>\n<ul>\n<li>b</li></ul>")
    assert [(type(b).__name__, b.line, b.items[0][0].line) for b in post.blocks] == [("ListBlock", 3, 4), ("ListBlock", 6, 7)]


def test_each_math_is_at_its_own_line():
    post = read_body("<p>第一行\n第二行$x$\n第三行$y$<br>\n$$z$$</p><table><tr><th>a</th></tr>\n<tr><td>$w$</td></tr></table>")
    assert [(x.tex, x.line) for x in all_math(post)] == [("x", 4), ("y", 5), ("z", 6), ("w", 7)]


def test_a_normal_page_has_no_notes():
    assert all(read(archive_id).notes == () for archive_id in PAGE_IDS)


def test_the_page_is_read_as_utf8_whatever_its_meta_says():
    post = read_body("<p>中文</p>", head='<meta charset="gbk"><title>测试</title>')
    assert post.blocks[0].children == (m.Text("中文"),)


def test_boilerplate_starting_inside_a_paragraph_is_cut_there():
    post = read_body("<p>正文<br><br>转载到请包括本文地址：x<br><br>苏剑林. (Mar. 01, 2024). 《t》</p><p>评论</p>")
    assert [plain(b.children) for b in post.blocks] == ["正文"]
    assert post.date == "2024-03-01"
    quoted = read_body("<ul><li>转载到请包括本文地址：列表里</li></ul><blockquote>如果您需要引用本文</blockquote><p>正文</p>")
    assert len(quoted.blocks) == 3  # in a list or a quote the words are the author's
