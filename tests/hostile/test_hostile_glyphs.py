"""Characters outside the fonts: every one gets a glyph, or a visible ``[U+XXXX]`` and a warning.

One post holds IPA, block elements, box drawing (in prose, inline code and a code
block), CJK Extension B, emoji, combining marks, a private-use and an unassigned
code point, in prose, a heading, a table, a footnote, a link text, ``\\text{}``
in math and the title.  Built for real (tests/hostile/harness.py), Simplified
and Traditional: xelatex's log must have no ``Missing character``, pdftotext must
show the characters, and the report must name the post's line of each character
no font has.
"""

from __future__ import annotations

import re

import pytest

from bookgen.compile import summarize_log
from harness import build_must_be_safe, header, make_book, pdf_text, report_lines, tex

PRIVATE = "\ue000"  # no font's glyph for it means anything
UNASSIGNED = "\u0378"  # unassigned in every Unicode version so far
EXT_B = "\U00020000"  # 𠀀: CJK Extension B, which Noto CJK lacks
IPA = "həˈloʊ ːʃ"
BLOCKS = "▂▃▅▇"
BOX = "┌─┐│└┘"
EMOJI = "😀🚀"
MARKS = "q\u0303 a\u030b"  # q̃ a̋: no precomposed forms


def glyph_post() -> str:
    body = f"""## 发音{IPA}与方块{BLOCKS}

单词的读音 /{IPA}/ 与长音 ː，方块 {BLOCKS}，表情 {EMOJI}，组合符号 {MARKS}。

罕见字：{EXT_B}字与𠮷野家。私用区字符{PRIVATE}在这里。

未分配的字符{UNASSIGNED}在第十一行。

行内代码 `{BOX} ʊ {BLOCKS}` 与公式 $x = \\text{{读音 {IPA} {EMOJI}}}$。

```
{BOX}
│ code ʊ {BLOCKS} \\{{}} $x$ │
{BOX[3:]}
```

| 列{IPA} | 列二 |
|---|---|
| {BLOCKS} | {EMOJI}[^1] |

[链接{EMOJI}](https://example.com/x)

[^1]: 脚注 {IPA} {EXT_B}
"""
    return header(97101, f"字形测试{EMOJI}{IPA}") + body


def line_of(post: str, text: str) -> int:
    return next(n for n, line in enumerate(post.splitlines(), 1) if text in line)


@tex
@pytest.mark.parametrize("traditional", ["none", "s2tw"])
def test_every_character_has_a_glyph(tmp_path, traditional):
    post = glyph_post()
    book = make_book(tmp_path, {"97101.md": post})
    result = build_must_be_safe(book, "--traditional", traditional)
    assert result.code == 0, result.stderr
    log = summarize_log((book.volume / "main.log").read_text(encoding="utf-8", errors="replace"))
    assert log.errors == []
    assert log.missing_characters == 0, log.missing_glyphs
    text = pdf_text(book.pdf)
    if text is not None:
        flat = re.sub(r"\s+", "", text)
        for chars in (IPA, BLOCKS, BOX, EMOJI, EXT_B, "𠮷", "q\u0303", "a\u030b"):
            assert re.sub(r"\s+", "", chars) in flat, chars
        assert "[U+E000]" in flat and "[U+0378]" in flat
        assert PRIVATE not in text and UNASSIGNED not in text
    report = report_lines(book)
    for char, code in ((PRIVATE, "E000"), (UNASSIGNED, "0378")):
        line = line_of(post, char)
        assert any(
            re.search(rf"97101\.md:{line}: \[glyphs\] warning: .*U\+{code}.*\[U\+{code}\]", r) for r in report
        ), (code, line, report)
    main = (book.volume / "main.tex").read_text(encoding="utf-8")
    assert "\\newfontfamily\\bookgenfontsymbola{Symbola}" in main  # only the fallback fonts used are loaded
    assert "bookgenfontunifont" not in main


@tex
def test_a_post_without_such_characters_loads_no_fallback_font(tmp_path):
    book = make_book(tmp_path, {"97102.md": header(97102, "普通") + "中文 text α→β，$x^2$。\n\n```\ncode\n```\n"})
    result = build_must_be_safe(book)
    assert result.code == 0, result.stderr
    main = (book.volume / "main.tex").read_text(encoding="utf-8")
    assert "\\newfontfamily" not in main
    post = (book.volume / "posts" / "97102.tex").read_text(encoding="utf-8")
    assert "\\bookgenglyph" not in post and "commandchars" not in post
