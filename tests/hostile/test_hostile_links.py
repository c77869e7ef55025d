"""Every link in the PDF is http, https or mailto (issue 9, hole 13).

Image placeholders linked their raw ``src``: ``run:/bin/sh``, ``smb://evil.example/share/x.png``
(which can leak Windows credentials), ``../../etc/passwd``, ``evil.png`` became clickable targets.
One check closes it (``bookgen/escape.py``: ``SAFE_URL``, ``url_or_text``): images, placeholders,
prose links, footnotes and the chapter's original URL (``|link`` in chapter.tex.j2) are a link only
when the address is absolute http/https or mailto, else plain text; blog paths (``/usr/uploads/…``,
``/archives/N``) are made absolute with https://spaces.ac.cn first.  ``\\href``/``\\url`` in math use
the same check, and a target the untrusted-tex pass cannot read as one plain group
(``\\href{{run:…}}``, which made a ``/Launch`` of /bin/sh) is neutralised too.
"""

from __future__ import annotations

import re

from bookgen import model as m
from bookgen.latex.writer import render_post_body
from harness import build_must_be_safe, decompressed_pdf, header, make_book, pdf_text, tex

UNSAFE_TARGETS = [
    "run:/bin/sh",
    "smb://evil.example/share/x.png",
    "../../etc/passwd",
    "evil.png",
    "launch.pdf",
    "ftp://evil.example/f.png",
    "ms-settings:privacy",
    "#local",
]
ALLOWED = (b"http://", b"https://", b"mailto:")
# Actions that open a file, another document or a form submission instead of a web page.
FORBIDDEN_ACTIONS = (b"/Launch", b"/GoToR", b"/GoToE", b"/SubmitForm", b"/ImportData", b"/JavaScript")


def hostile_post() -> str:
    figures = "\n\n".join(f"![图{number}]({src})" for number, src in enumerate(UNSAFE_TARGETS))
    links = "，".join(f"[链接{number}]({src})" for number, src in enumerate(UNSAFE_TARGETS))
    return (
        header(98501, "hostile links") + figures + "\n\n正文：" + links + "。\n\n"
        "脚注里的链接[^1]。行内图片 ![inline](smb://evil.example/inline.png) 也是。\n\n"
        "数学里：$\\href{{run:/bin/sh}}{x}$、$\\href[pdfnewwindow]{run:/bin/sh}{y}$、$\\url{{smb://evil.example/m}}$、"
        "$\\href{https://example.org/math}{z}$、$\\href{#eq:1}{w}$。\n\n"
        "可以的：[好链接](https://example.org/ok)、[邮件](mailto:someone@example.org)、[站内](/archives/98501)、"
        "![站内图片](/usr/uploads/2024/01/none.png)\n\n"
        "[^1]: 见[这里](smb://evil.example/footnote)和[那里](run:/usr/bin/xcalc)。\n"
    )


def uri_targets(pdf: bytes) -> list[bytes]:
    return re.findall(rb"/URI\s*\(((?:[^()\\]|\\.)*)\)", pdf)


@tex
def test_only_web_and_mail_links_reach_the_pdf(tmp_path):
    book = make_book(tmp_path, {"98501.md": hostile_post()})
    result = build_must_be_safe(book, timeout=90)
    assert result.code == 0, result.stderr
    objects = decompressed_pdf(book.pdf)
    targets = uri_targets(objects)
    assert [t for t in targets if not t.startswith(ALLOWED)] == []
    assert [action for action in FORBIDDEN_ACTIONS if action in objects] == []
    for wanted in (b"https://example.org/ok", b"mailto:someone@example.org", b"https://spaces.ac.cn/archives/98501",
                   b"https://spaces.ac.cn/usr/uploads/2024/01/none.png", b"https://example.org/math"):  # fmt: skip
        assert wanted in targets, (wanted, targets)
    text = pdf_text(book.pdf)
    if text is not None:  # the addresses are still shown, as text
        flat = re.sub(r"\s+", "", text)
        assert "evil.example/share/x.png" in flat and "run:/bin/sh" in flat


def test_placeholders_and_links_write_no_url_for_unsafe_targets():
    """Without TeX: the .tex itself has no ``\\url{…}`` or ``\\href{…}`` of an unsafe target."""
    figures = tuple(m.Figure(src, (), 1) for src in UNSAFE_TARGETS)
    links = tuple(m.Paragraph((m.Link(src, (m.Text("x"),)),), 2) for src in UNSAFE_TARGETS)
    found = m.Figure("/usr/uploads/a.png", (), 3, local_file="images/a.png")
    post = m.Post(98502, "t", "", "https://spaces.ac.cn/archives/98502", None, figures + links + (found,))
    body = render_post_body(post)
    urls = re.findall(r"\\(?:url|href)\{([^{}]*)\}", body)
    assert urls == ["https://spaces.ac.cn/usr/uploads/a.png"]
    assert "\\bookgenmissingimage{run:/bin/sh}" in body


def test_url_or_text():
    from bookgen.escape import url_or_text

    assert url_or_text("https://a.org/x#y") == "\\url{https://a.org/x\\#y}"
    assert url_or_text("MAILTO:x@a.org") == "\\url{MAILTO:x@a.org}"
    assert url_or_text("run:/bin/sh") == "run:/bin/sh"
    assert url_or_text(" https://a.org") == " https://a.org"  # not a link: what a viewer would do with it is unclear
    assert url_or_text("smb://e/{x}%") == "smb://e/\\{x\\}\\%"
