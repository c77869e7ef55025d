r"""Properties of the normalizer's repairs (``transforms.REPAIRS``) over generated volumes.

Posts are built from CJK prose and math assembled from a vocabulary of the
blog's fragments (``\frac``, ``\label``/``\eqref`` over a few shared names,
``aligned`` rows, ``\text{中文}``, MathJax's ``\color``, ``\newcommand{sign}``,
stray ``&``, ``\\\``, ``%``, ``_\boldsymbol{B}``…) plus random Unicode, and
also from fully arbitrary text.  For every volume:

(a) the passes never raise;
(b) they are idempotent: a second run changes no math;
(c) every ``\label`` the volume emits (rendered by the writer) is unique;
(d) every emitted ``\eqref``/``\ref`` has its ``\label`` in the volume, or its
    post got a ``[labels] warning`` for it.

And the readers before them: whatever a file holds, Markdown or the site's HTML,
a reader gives a Post or refuses it with a UserError, never anything else.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookgen import model as m
from bookgen.diagnostics import Reporter
from bookgen.transforms.display_math import demote_nested
from bookgen.errors import UserError
from bookgen.latex.writer import render_post_body
from bookgen.readers import read_post
from bookgen.readers.html import read_html
from bookgen.readers.markdown import read_markdown
from bookgen.transforms import REPAIRS, Context, run_passes
from bookgen.transforms.walk import iter_math, map_post
from fixtures import preamble_chooser

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

LABEL_NAMES = ("eq:x", "eq:y", "eq:loss", "eq:中文", "a_b")
FRAGMENTS = (
    "x", "y_t", " ", "=", "+", "(", ")", "[", "]", "{", "}", "^", "_", "'", ",", r"\alpha", r"\sum_{i=1}^n",
    r"\frac{a}{b}", r"\frac{1}{2}", r"\sqrt{1-\beta_t}", r"\boldsymbol{x}", r"\mathbb{E}", r"\Vert x\Vert^2",
    r"\begin{aligned}a &= b \\ &= c\end{aligned}", r"\begin{aligned}& x \\ & y\end{aligned}",
    r"\begin{align}a &= b \\ c &= d\end{align}", r"\begin{align*}a &= b \\ c &= d\end{align*}",
    r"\begin{equation}", r"\end{equation}", r"\begin{equation*}", r"\end{equation*}", r"\begin{array}{c}1 & 2 \\ 3\end{array}",
    r"\begin{cases}1 & x>0 \\ 0\end{cases}", r"\text{中文}", r"\text{top_k}", r"\color{skyblue}{x}", r"\color{red}{y}",
    r"\newcommand{sign}{\mathop{\text{sign}}}", r"\sign(x)", r"\newcommand{\norm}[1]{\Vert #1\Vert}", r"\norm{v}",
    "&", r"\\", "\\\\\\", "%", r"\%", r"_\boldsymbol{B}", r"^\frac{1}{2}", "x^a^b", r"\tag{1}", r"\notag", r"\nonumber",
    r"\eqno{*}", r"\left(", r"\right)", r"\left\\{", r"\gt", r"\lt", r"\unicode{x2212}", r"\style{color:red}{z}",
    r"\bbox[red]{w}", r"\require{cancel}", r"\small", "&lt;", "<br>", "\n", "  \n", "\n\n", "α", "≤", "×", "，", "−",
    r"\mathop{\text{argmin}}", "$", r"\[", r"\]", r"\label{", r"\eqref{", r"\foo", r"\input{x}",
)  # fmt: skip


def labelled(command: str) -> st.SearchStrategy[str]:
    return st.sampled_from(LABEL_NAMES).map(lambda name: f"\\{command}{{{name}}}")


math_piece = st.one_of(
    st.sampled_from(FRAGMENTS),
    labelled("label"),
    labelled("eqref"),
    labelled("ref"),
    st.text(max_size=3),  # random Unicode
)
math_tex = st.lists(math_piece, max_size=12).map("".join)
prose = st.text(alphabet="设由可知其中的公式模型损失，。、：（）abcxyz 0123", max_size=12)


@st.composite
def inline_nodes(draw, tex=math_tex, text=prose) -> list[m.Inline]:
    nodes: list[m.Inline] = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(("text", "inline", "display", "link")))
        if kind == "text":
            nodes.append(m.Text(draw(text)))
        elif kind == "link":
            target = draw(st.sampled_from((90001, 90002, 90003, 7777)))
            nodes.append(m.Link(f"https://spaces.ac.cn/archives/{target}", (m.Text(draw(text)),)))
        else:
            nodes.append(m.Math(draw(tex), kind == "display", 1))
    return nodes


@st.composite
def posts(draw, post_id: int, tex=math_tex, text=prose) -> m.Post:
    blocks: list[m.Block] = []
    for line in range(1, draw(st.integers(1, 5)) + 1):
        kind = draw(st.sampled_from(("paragraph", "paragraph", "heading", "quote", "list")))
        children = tuple(draw(inline_nodes(tex, text)))
        children = tuple(m.Math(c.tex, c.display, line) if isinstance(c, m.Math) else c for c in children)
        paragraph = m.Paragraph(children, line)
        if kind == "heading":
            plain = "".join(c.text for c in children if isinstance(c, m.Text))
            blocks.append(m.Heading(2, children, line, plain.strip()))
        elif kind == "quote":
            blocks.append(m.Quote((paragraph,), line))
        elif kind == "list":
            blocks.append(m.ListBlock(False, 1, ((paragraph,),), line))
        else:
            blocks.append(paragraph)
    mirror = draw(st.sampled_from(("", "html2text")))
    path = Path("posts") / f"{post_id}.md"
    url = f"https://spaces.ac.cn/archives/{post_id}"
    return m.Post(post_id, f"P{post_id}", "", url, path, tuple(blocks), mirror=mirror)


@st.composite
def volumes(draw, tex=math_tex, text=prose) -> m.Book:
    count = draw(st.integers(1, 3))
    chapters = tuple(m.Chapter(draw(posts(90001 + n, tex, text)), m.text(f"P{n}")) for n in range(count))
    return m.Book("props", m.text("T"), (), m.text("A"), "a4paper", chapters)


def normalize(book: m.Book) -> tuple[m.Book, Reporter]:
    reporter = Reporter()
    return run_passes(book, Context(reporter=reporter, glyphs=preamble_chooser()), REPAIRS), reporter


# ---------------------------------------------------------------- the properties

# A command, not the letters after a line break (`\\\\eqref{x}` is `\\\\` then text).
UNESCAPED = r"(?<!\\)(?:\\\\)*\\"
LABEL = re.compile(UNESCAPED + r"(?:label|bookgeninlinelabel)\{([^{}]*)\}")
REFERENCE = re.compile(UNESCAPED + r"(?:eqref|ref)\{([^{}]*)\}")


TRAILING_BLANKS = re.compile(r"[ \t]+$", re.MULTILINE)


def math_of(book: m.Book) -> list[tuple[int, list[str]]]:
    # Blanks ending a line mean nothing to TeX; math-cleanup strips them, and a
    # later pass may leave one (untrusted-tex turns a control character into a space).
    return [(ch.post.id, [TRAILING_BLANKS.sub("", math.tex) for math in iter_math(ch.post)]) for ch in book.chapters]


def anchors_of(book: m.Book) -> list[str]:
    found: list[str] = []

    def collect(node):
        if isinstance(node, m.RawTex):
            found.append(node.tex)
        return node

    for chapter in book.chapters:
        map_post(chapter.post, collect)
    return found


def check_volume(book: m.Book) -> None:
    once, reporter = normalize(book)  # (a)
    twice, _ = normalize(once)
    assert math_of(twice) == math_of(once)  # (b)
    assert anchors_of(twice) == anchors_of(once)

    bodies = {ch.post.id: render_post_body(ch.post) for ch in once.chapters}
    labels = [label for body in bodies.values() for label in LABEL.findall(body)]
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    assert not duplicates  # (c)

    warned = {
        (d.path, d.message) for d in reporter.items if d.pass_name == "labels" and d.severity == "warning"
    }  # fmt: skip
    for chapter in once.chapters:
        post = chapter.post
        for target in REFERENCE.findall(bodies[post.id]):
            if target in labels:
                continue
            bare = target.removeprefix(f"p{post.id}:")
            assert any(path == str(post.path) and bare in message for path, message in warned), (post.id, target)  # (d)


@SETTINGS
@given(volumes())
def test_normalizer_properties_on_blog_like_volumes(book: m.Book):
    check_volume(book)


@SETTINGS
@given(volumes(tex=st.text(max_size=40), text=st.text(max_size=20)))
def test_normalizer_properties_on_arbitrary_text(book: m.Book):
    check_volume(book)


def test_an_equation_as_a_scripts_argument_stays_one_argument():
    """Found by the property above: ``^\\begin{equation}`` in inline math lost its environment and left
    ``^`` with nothing, which the next round braced; ``x^\\begin{equation}ab…`` became ``x^ab``."""
    post = m.Post(90001, "P", "", "https://spaces.ac.cn/archives/90001", Path("posts/90001.md"), (m.Paragraph((
        m.Math("^\\begin{equation}", False, 1), m.Math("x^\\begin{equation}ab\\end{equation}", False, 1)), 1),))  # fmt: skip
    book = m.Book("props", m.text("T"), (), m.text("A"), "a4paper", (m.Chapter(post, m.text("P")),))
    check_volume(book)
    assert math_of(normalize(book)[0]) == [(90001, ["^{}", "x^{ab}"])]
    assert demote_nested("a\\\\^\\begin{equation}b\\end{equation}", True)[0] == "a\\\\^{b}"  # ^ after a row break
    assert demote_nested("\\_\\begin{equation}b\\end{equation}", True)[0] == "\\_b"  # \_ is no script


@pytest.mark.parametrize("tex", ["\\\n", "\\\\\\\n", "x = 1\\ ", "a\\\\\\ \\\\"])
def test_a_display_ending_in_a_control_space(tex: str):
    """Found by the property above: a backslash then a line break (TeX's control space) ending a display
    lost the line break to a strip, and its backslash took the ``\\end`` that came next."""
    post = m.Post(90001, "P", "", "https://spaces.ac.cn/archives/90001", Path("posts/90001.md"),
                  (m.Paragraph((m.Math(tex, True, 1),), 1),))  # fmt: skip
    check_volume(m.Book("props", m.text("T"), (), m.text("A"), "a4paper", (m.Chapter(post, m.text("P")),)))


@SETTINGS
@given(st.text(max_size=200), st.text(max_size=200))
def test_normalizer_properties_on_arbitrary_markdown(first: str, second: str):
    """Arbitrary Markdown through the reader (which reads anything: below), then the passes: the same four properties."""
    chapters = tuple(
        m.Chapter(read_markdown(text, Path("posts") / f"{90001 + n}.md", 90001 + n), m.text(f"P{n}"))
        for n, text in enumerate((first, second))
    )
    check_volume(m.Book("props", m.text("T"), (), m.text("A"), "a4paper", chapters))


# ---------------------------------------------------------------- the readers survive anything
#
# Whatever a post file holds, a reader gives a Post or refuses it with a UserError naming the
# file (which the command line prints as `file:line: message`), never any other exception.
# Arbitrary text, and text built from pieces the readers act on, to get past their first checks.

MARKDOWN_PIECES = (
    "---\n", "title: 标题\n", "date: 2024-01-01\n", "# 标题\n", "**原文链接**: [https://spaces.ac.cn/archives/9](x)\n",
    "**发布日期**: \n", "转载到请包括本文地址：", "$", "$$", "\\(", "\\)", "\\[", "\\]", r"\begin{equation}",
    r"\end{equation}", r"\label{eq:a}", "## ", " #", "> ", "- ", "1. ", "* ", "|", "| --- |", "[^1]", "[^1]: ",
    "[x](https://spaces.ac.cn/archives/7#a)", "![图](/usr/uploads/a.png)", "**", "_", "`", "```", "    ", "\n",
    "  \n", "\n\n", "<br>", "&lt;", "中文", "，", "x", " ", "\\",
)  # fmt: skip
HTML_PIECES = (
    '<div id="PostContent">', "</div>", "<p>", "</p>", "<br>", "</br>", "<b>", "</b>", "<i>", "<ul>", "<ol>", "<li>",
    "</li>", "</ul>", "<blockquote>", "<table>", "<tr>", "<th>", "<td>", "</table>", "<pre>", "</pre>", "<code>",
    "<h2>", "</h2>", "<hr>", '<img src="/usr/uploads/a.png" alt="图">', '<a href="/archives/7">', "</a>",
    '<script type="math/tex">', '<script type="math/tex; mode=display">', "</script>", "<title>", "</title>",
    "<!--", "-->", "$", "$$", "\\(", "\\)", r"\begin{equation}", r"\end{equation}", "&lt;", "&amp;", "&#91;", "&",
    "<", ">", "转载到请包括本文地址：", "苏剑林. (Mar. 01, 2024).", "中文", "x", " ", "\n", "\\",
)  # fmt: skip


def pieces(vocabulary: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(st.sampled_from(vocabulary), st.text(max_size=3)), max_size=40).map("".join)


MARKDOWN_FILES = st.one_of(st.text(max_size=300), pieces(MARKDOWN_PIECES))
HTML_PAGES = st.one_of(
    st.text(max_size=300), pieces(HTML_PIECES), pieces(HTML_PIECES).map(lambda body: f'<div id="PostContent">{body}')
)


def reads_or_refuses(read, *args) -> None:
    """``read(*args)`` gives a Post, or refuses with a UserError naming the file; anything else is a bug."""
    try:
        post = read(*args)
    except UserError as refused:
        assert refused.path is not None, refused
        return
    assert isinstance(post, m.Post)


@SETTINGS
@given(MARKDOWN_FILES)
def test_the_markdown_reader_reads_anything(text: str):
    reads_or_refuses(read_markdown, text, Path("posts/90001.md"), 90001)


@SETTINGS
@given(HTML_PAGES)
def test_the_html_reader_reads_anything(text: str):
    reads_or_refuses(read_html, text, Path("pages/90001.html"), 90001)


@SETTINGS
@given(
    st.one_of(st.binary(max_size=300), pieces(MARKDOWN_PIECES + HTML_PIECES).map(lambda text: text.encode("utf-8"))),
    st.sampled_from(("90001.md", "90001.html", "90001.htm", "90001")),
)
def test_read_post_reads_any_file(data: bytes, name: str):
    """The file's bytes, as read_post reads them: not UTF-8 is refused, the suffix picks the reader."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        reads_or_refuses(read_post, path, 90001)


def test_labels_are_namespaced_once_and_resolved():
    """A fixed example of (b)–(d): two posts, one name, an alias, an inline label, a dangling reference."""
    def post(post_id: int, *children) -> m.Post:
        path = Path("posts") / f"{post_id}.md"
        blocks = (m.Paragraph(tuple(children), 1),)
        return m.Post(post_id, "T", "", f"https://spaces.ac.cn/archives/{post_id}", path, blocks)

    first = post(
        90001,
        m.Math(r"x = 1\label{eq:x}\label{eq:alias}", True, 1),
        m.Math(r"y = Wx\label{eq:inline}", False, 1),
        m.Math(r"\eqref{eq:alias} + \eqref{eq:inline} + \eqref{eq:missing}", False, 1),
    )
    second = post(90002, m.Math(r"\begin{align*}a &= b\label{eq:x}\\ c &= d\end{align*}", True, 1),
                  m.Math(r"\eqref{eq:x}", False, 1))  # fmt: skip
    book = m.Book("props", m.text("T"), (), m.text("A"), "a4paper", (m.Chapter(first, m.text("A")), m.Chapter(second, m.text("B"))))
    check_volume(book)
    once, reporter = normalize(book)
    body = "\n".join(render_post_body(ch.post) for ch in once.chapters)
    assert sorted(LABEL.findall(body)) == ["p90001:eq:inline", "p90001:eq:x", "p90002:eq:x"]
    assert sorted(REFERENCE.findall(body)) == ["p90001:eq:inline", "p90001:eq:x", "p90002:eq:x"]
    assert "p90001:p90001:" not in body and "\\bookgendangling{eq:missing}" in body
    assert [d.message for d in reporter.warnings if d.pass_name == "labels"] == [
        "\\eqref{eq:missing} has no label in this post"
    ]


def test_html2text_repairs_run_once():
    r"""A real ``\\`` before ``{`` that the passes wrote is not html2text's ``\\{`` on a second run."""
    math = m.Math("a \\\\\\\n\\\\{x\\\\}", True, 1)  # html2text: a \\ (as \\\) and \{x\} (as \\{x\\})
    paragraph = m.Paragraph((math, m.Math("\\\\\\x", True, 2)), 1)
    post = m.Post(90001, "T", "", "https://spaces.ac.cn/archives/90001", Path("posts/90001.md"), (paragraph,),
                  mirror="html2text")  # fmt: skip
    book = m.Book("props", m.text("T"), (), m.text("A"), "a4paper", (m.Chapter(post, m.text("A")),))
    check_volume(book)
    once, _ = normalize(book)
    assert "a \\\\\n\\{x\\}" in iter_math(once.chapters[0].post)[0].tex


# ---------------------------------------------------------------- the passes' cheap pre-checks
#
# A pass that answers "nothing to do here" before parsing a formula must never say so
# where the parse would have found something to do.

SCRIPT_PIECES = (
    "x", "a", "2", " ", "\n", "^", "_", "'", "{", "}", "[", "]", "*", "~", "-", "=", "&", "%", "$", r"\\", r"\{",
    r"\}", r"\_", r"\alpha", r"\prime", r"\frac", r"\sqrt", r"\text", r"\mathbf", r"\hat", r"\overset", r"\sum",
    r"\limits", r"\operatorname*", r"\color{red}", r"\label{l}", r"\left(", r"\right)", r"\begin{aligned}",
    r"\end{aligned}", r"\begin{matrix}", r"\end{matrix}", r"\[", r"\(", "α", "²",
)  # fmt: skip


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(SCRIPT_PIECES), max_size=16).map("".join))
def test_no_double_script_is_missed_by_the_pre_check(formula: str):
    from bookgen.transforms.scripts import may_double_scripts, separate_double_scripts

    if separate_double_scripts(formula)[1]:
        assert may_double_scripts(formula)


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(SCRIPT_PIECES + FRAGMENTS + (r"\o", r"\ss", r"\L", r"\v{a}")), max_size=16).map("".join))
def test_no_unknown_command_is_missed_by_the_pre_check(formula: str):
    from bookgen.transforms.unknown_commands import nothing_unknown, replace_unknown

    if replace_unknown(formula, set())[1]:
        assert not nothing_unknown(formula, set())
