"""An archive id is a whole number of at most 9 digits, wherever it is read (issue 9, hole 6).

Python's ``int()`` refuses strings of more than 4,300 digits with a ValueError, so an absurd id
anywhere crashed the build.  One rule closes every place (``sources.archive_id_from``, 1 to 9
ASCII digits): series.yaml says so with the line, a source file naming itself with an absurd id
(front matter, ``原文链接`` line, canonical URL, ``og:url``, ``转载`` line) is skipped, and a link
to ``/archives/<absurd>`` stays an ordinary link.  MathJax's ``\\unicode{<digits>}`` had the same
int() and is bounded the same way (no code point has more than 7 digits).
"""

from __future__ import annotations

import pytest

from bookgen.sources import archive_id_of
from harness import assert_clean_outcome, build_must_be_safe, header, make_book, run_build

ABSURD = "9" * 5000  # over Python's 4,300-digit limit


@pytest.mark.parametrize("value", [ABSURD, "1234567890", "0", "000", "-3", "٣", "1e5", "[98201, 98202]"])
def test_series_yaml_refuses_an_id_that_is_no_archive_id(tmp_path, value):
    book = make_book(tmp_path, {"98201.md": header(98201, "t") + "正文。\n"})
    (book.root / "series.yaml").write_text(
        f"volumes:\n  h:\n    title: T\n    chapters:\n      - 98201\n      - {value}\n", encoding="utf-8"
    )
    result = run_build(book, "--tex-only", "--manifest", "series.yaml")
    assert_clean_outcome(result, book)
    assert result.code == 1, result.stderr
    line = result.stderr_lines[0]
    assert line.startswith("series.yaml:6: archive id must be a whole number of at most 9 digits, not "), line
    assert len(line) < 200, "the value is shortened in the message"
    assert not book.out.exists()


def test_an_id_key_that_is_absurd(tmp_path):
    book = make_book(tmp_path, {"98201.md": header(98201, "t") + "正文。\n"})
    (book.root / "series.yaml").write_text(
        f"volumes:\n  h:\n    title: T\n    chapters:\n      - id: {ABSURD}\n        title: x\n", encoding="utf-8"
    )
    result = run_build(book, "--tex-only", "--manifest", "series.yaml")
    assert_clean_outcome(result, book)
    assert result.code == 1 and result.stderr_lines[0].startswith("series.yaml:5: archive id must be"), result.stderr


def html_page(head: str, body: str = "") -> str:
    return f'<html><head>{head}</head><body><div id="PostContent"><p>页面。</p>{body}</div></body></html>'


ABSURD_SOURCES = {
    "98210.html": html_page(f'<link rel="canonical" href="https://spaces.ac.cn/archives/{ABSURD}">'),
    "98211.html": html_page(f'<meta property="og:url" content="https://kexue.fm/archives/{ABSURD}">'),
    "98212.html": html_page("", f"<p>转载到请包括本文地址：https://spaces.ac.cn/archives/{ABSURD}</p>"),
    "98213.md": f"---\ntitle: t\nid: {ABSURD}\n---\n\n正文。\n",
    "98214.md": f"---\ntitle: t\n---\n\n**原文链接**: https://spaces.ac.cn/archives/{ABSURD}\n\n正文。\n",
    "9" * 240 + ".md": "---\ntitle: t\n---\n\n正文。\n",  # as long as a file name may be
}


def test_source_files_with_absurd_ids_are_skipped(tmp_path):
    """The good post builds; a link and a \\unicode with 5000 digits in it do not stop it."""
    good = header(98201, "good") + f"见[那篇](/archives/{ABSURD})与 $\\unicode{{{ABSURD}}}$。\n"
    book = make_book(tmp_path, {"98201.md": good, **ABSURD_SOURCES}, ids=[98201])
    result = build_must_be_safe(book, "--tex-only")
    assert result.code == 0, result.stderr
    chapter = (book.volume / "posts" / "98201.tex").read_text(encoding="utf-8")
    assert "spaces.ac.cn/archives/9999" in chapter  # still shown, as an ordinary link
    assert "\\bookgenunknown{unicode\\{9999" in chapter  # boxed, like any \unicode it cannot make a character


@pytest.mark.parametrize("name", sorted(ABSURD_SOURCES))
def test_a_source_whose_first_id_is_absurd_names_no_post(tmp_path, name):
    path = tmp_path / name
    assert archive_id_of(path, ABSURD_SOURCES[name]) is None


def test_listed_as_missing_not_found_under_another_id(tmp_path):
    """The file named 98210.html says it is post 999…: it is not taken as 98210 either."""
    book = make_book(tmp_path, {"98201.md": header(98201, "t") + "正文。\n", **ABSURD_SOURCES}, ids=[98201, 98210])
    result = run_build(book, "--tex-only")
    assert_clean_outcome(result, book)
    assert result.code == 1 and "post 98210 not found" in result.stderr, result.stderr


@pytest.mark.parametrize(
    "digits,expected",
    [("8231", 8231), ("000123", 123), ("999999999", 999999999), ("1000000000", None), ("0", None), ("", None),
     ("٣", None), (ABSURD, None)],
)  # fmt: skip
def test_archive_id_from(digits, expected):
    from bookgen.sources import archive_id_from

    assert archive_id_from(digits) == expected
