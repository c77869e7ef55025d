r"""MathJax-only constructs through xelatex: what the blog's MathJax draws, the book draws too.

One post holds every construct the normalizer repairs for MathJax (mathjax-macros,
mathjax-extensions, mathjax-alignments, balance's rows in inline math) and those
the preamble defines under MathJax's names, each inline and as a display.  It is
built by the real command line (tests/hostile/harness.py) and must compile with no
TeX error, no undefined control sequence, no missing glyph, no command shown boxed
as unknown, and none of the MathJax-only syntax left in the .tex.
"""

from __future__ import annotations

import re

from bookgen.compile import summarize_log
from harness import build_must_be_safe, make_book, pdf_text, report_lines, tex

# (what it is, the TeX as a post writes it for MathJax) — written here, not taken from the blog.
CONSTRUCTS = [
    ("虚线分块", r"\left(\begin{array}{cc:cc:c}1 & 2 & 3 & 4 & 5\\ \hdashline 6 & 7 & 8 & 9 & 10\end{array}\right)"),
    ("虚线与实线", r"\begin{array}{|c:c|}\hline a & b\\ \hdashline c & d\\ \hline\end{array}"),
    ("带间距的虚线", r"\begin{array}{c:cccc}1 & 0 & 0 & 0 & 0\\[5pt] \hdashline x & 1 & 0 & 0 & 0 & 0\end{array}"),
    ("对齐里的实线", r"\begin{aligned}a &= b + c\\ \hline d &= e\end{aligned}"),
    ("对齐里的虚线", r"\begin{aligned}S &= 1 + 2 + \cdots + n\\ \hdashline 2S &= n(n+1) & T &= 0\end{aligned}"),
    ("表格单元里的对齐", r"\begin{array}{c|c}\text{旧} & \text{新}\\ \hline \begin{aligned}a&=b\\ \hdashline c&=d\end{aligned} & \begin{aligned}&x=1\\ \hline &y=2\end{aligned}\end{array}"),
    ("gathered 与 alignedat", r"\begin{gathered}x\\ \hdashline y\end{gathered} + \begin{alignedat}{2}a&=b&c&=d\\ \hdashline e&=f&g&=h\end{alignedat}"),
    ("带星号的 align", r"\begin{align*}x &= 1\\ \hdashline y &= 2\end{align*}"),
    ("矩阵里的虚线", r"\begin{pmatrix}a & b\\ \hdashline c & d\end{pmatrix}\begin{bmatrix}1 & 2\\ \hline 3 & 4\end{bmatrix}"),
    ("split", r"\begin{equation}\begin{split}f(x) &= (x+1)^2\\ &= x^2 + 2x + 1\end{split}\end{equation}"),
    ("纯 TeX 的对齐", r"\eqalign{a&=b\cr c&=d} + \displaylines{x = 1\\ y = 2} + \pmatrix{1&0\cr0&1} + \cases{1 & x>0\cr 0 & x\le 0}"),
    ("颜色与 bbox", r"\cos\bbox[yellow]{n}\theta + \bbox[5px,border:2px solid red]{E = mc^2} + \bbox[#9cf]{\sum_i x_i} + \color{#3ce2f7}{v}"),
    ("enclose", r"\enclose{circle}{x} + \enclose{box}[mathcolor=blue]{\frac{a}{b}} + \enclose{roundedbox}{y} + \enclose{updiagonalstrike}{z} + \enclose{circle,box}{w} + \enclose{top,bottom}{v} + \enclose{radical}{2} + \enclose{longdiv}{12}"),
    ("mmlToken", r"\mmlToken{mi}{x} + \mmlToken{mi}[mathvariant=bold]{v} \mmlToken{mo}{=} \mmlToken{mn}{3.14} + \mmlToken{mtext}{文字}"),
    ("root of", r"\root 3 \of x + \root n+1\of{a+b}"),
    ("mhchem", r"\require{mhchem}\ce{2H2 + O2 -> 2H2O} \quad \ce{A <=> B}"),
    ("braket", r"\bra{\psi}\ket{\phi} + \braket{\psi|\phi} + \set{x | x > 0} + \ketbra{a}{b}"),
    ("圆弧与箭头", r"\overparen{AB} + \underparen{CDE} + a\iddots b + A \xtwoheadrightarrow[g]{f} B \xtwoheadleftarrow{h} C"),
    ("别名", r"\scr L + \mathup{d}x + \mathbfit{v} + \mathbfup{w} + a \stackbin{*}{=} b + \omicron + \divsymbol + \oldstyle{123} + {\Tiny t}"),
    ("action 与空白", r"\mathtip{x}{提示} + \texttip{y}{提示} + \toggle{a}{b}\endtoggle + \Space{1em}{1ex}{0em} + \Rule{1em}{1ex}{0em}"),
    ("标志", r"\text{用}\LaTeX\text{和}\TeX"),
    ("行内的多行", r"\begin{gathered}a \\ b\end{gathered} = \begin{cases}1 & x>0\\ 0\end{cases}"),
]
LEFT_AFTER_REPAIR = re.compile(r"\\(?:enclose|mmlToken|eqalign|displaylines|bbox|root|require)(?![A-Za-z])|\{split\}")


def mathjax_post(archive_id: int) -> str:
    """The post: front matter (plain Markdown, not the html2text mirror), each construct inline and as a display."""
    body = "\n".join(f"{title}：${source}$。\n\n$${source}$$\n" for title, source in CONSTRUCTS)
    return f"---\ntitle: MathJax 的扩展\nid: {archive_id}\ndate: 2024-01-01\n---\n\n{body}\n全文完。\n"


@tex
def test_every_mathjax_construct_compiles(tmp_path):
    book = make_book(tmp_path, {"97030-mathjax.md": mathjax_post(97030)})
    result = build_must_be_safe(book)
    assert result.code == 0, result.stderr
    log = (book.volume / "main.log").read_text(encoding="utf-8", errors="replace")
    assert summarize_log(log).errors == []
    assert "Undefined control sequence" not in log
    assert "Missing character" not in log
    lost = [line for line in report_lines(book) if "warning:" in line or "dropped unknown colour" in line]
    assert lost == [], "\n".join(lost)
    chapter = (book.volume / "posts" / "97030.tex").read_text(encoding="utf-8")
    assert LEFT_AFTER_REPAIR.findall(chapter) == []
    assert chapter.count("\\hdashline") >= 2 * 7  # the dashes are kept, in arrays
    text = pdf_text(book.pdf)
    if text is not None:
        assert "全文完" in re.sub(r"\s+", "", text)
