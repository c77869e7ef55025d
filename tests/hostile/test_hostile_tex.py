r"""Posts that used to stop (or hang) TeX although nothing in them is wrong for MathJax.

* A redefined LaTeX command: ``\renewcommand{\mbox}[1]{\text{#1}}`` made ``\text``
  (which calls ``\mbox``) loop forever.  The post's definition now lives under a
  name of its own (``\bookgenusermbox``), used by the post's formulas only.
* A link (or code, a footnote, a line break, math, special characters) in a
  heading broke the PDF bookmarks (``File ended while scanning use of
  \@@BOOKMARK``, reported at main.tex).  Such a heading gets a plain-text short
  form for the contents, the running head and the bookmark.
* A paragraph of more than 200 000 characters stopped TeX ("Unable to read an
  entire line", only on the terminal).  Long lines are broken where TeX does not
  care, and errors are read from the terminal too.
"""

from __future__ import annotations

import re

from harness import build_must_be_safe, header, make_book, pdf_text, report_lines, tex


@tex
def test_a_redefined_latex_command_does_not_make_tex_loop(tmp_path):
    body = "正文 $\\renewcommand{\\mbox}[1]{\\text{#1}}\\text{\\mbox{a}}$ 和 $\\mbox{b}$ 以及 $\\text{c}$ 完。\n"
    book = make_book(tmp_path, {"98101.md": header(98101, "重定义") + body})
    result = build_must_be_safe(book, "--tex-timeout", "20", "--strict")
    assert result.code == 0, result.stderr
    chapter = (book.volume / "posts" / "98101.tex").read_text(encoding="utf-8")
    assert "\\renewcommand{\\bookgenusermbox}[1]{\\text{#1}}" in chapter
    assert "$\\bookgenusermbox{b}$" in chapter and "$\\text{c}$" in chapter
    assert any("\\mbox is LaTeX's own" in line for line in report_lines(book))


HEADINGS = [
    "## 参考 [维基](http://a.com/)",
    "## 代码 `x_1 & y` 与链接 [这里](https://spaces.ac.cn/archives/1)",
    "## 脚注[^1]与公式 $\\alpha_t$",
    "## 特殊字符 # $ % & _ { } ~ ^ \\\\ 结束",
    "### 链接在三级标题 <https://b.org/x_y?q=1&r=2>",
]


@tex
def test_headings_with_links_code_notes_and_math_build_and_bookmark_as_plain_text(tmp_path):
    body = "\n\n".join(f"{heading}\n\n第{n}段。" for n, heading in enumerate(HEADINGS, 1)) + "\n\n[^1]: 注。\n"
    book = make_book(tmp_path, {"98102.md": header(98102, "标题里的东西") + body})
    result = build_must_be_safe(book, "--strict")
    assert result.code == 0, result.stderr
    bookmarks = (book.volume / "main.out").read_text(encoding="utf-8", errors="replace")
    assert "\\url" not in bookmarks and "\\footnote" not in bookmarks and "\\texttt" not in bookmarks
    assert len(re.findall(r"^\\BOOKMARK", bookmarks, re.MULTILINE)) == 1 + len(HEADINGS)
    text = pdf_text(book.pdf)
    if text is not None:
        squeezed = re.sub(r"\s+", "", text)
        assert "http://a.com/" in squeezed and "第5段" in squeezed


@tex
def test_a_paragraph_of_a_quarter_million_characters_builds(tmp_path):
    words = "".join(f"字{n % 10}word{n} " if n % 7 == 0 else f"长句{n % 10}" for n in range(60000))
    assert len(words) > 200_000
    book = make_book(tmp_path, {"98103.md": header(98103, "很长的段落") + words + "\n\n后一段。\n"})
    result = build_must_be_safe(book, "--strict", "--tex-timeout", "60")
    assert result.code == 0, result.stderr
    chapter = (book.volume / "posts" / "98103.tex").read_text(encoding="utf-8")
    assert max(len(line) for line in chapter.split("\n")) <= 10_001
    text = pdf_text(book.pdf)
    if text is not None:
        assert "后一段" in text
