"""Hostile posts: bookgen builds whatever the web serves it, safely.

Every build here runs the real command line in a subprocess (tests/hostile/harness.py) on posts in a
temporary folder, and must end in one of two ways:

* exit 0 with a PDF, or
* exit 1 (bad input) or 2 (TeX error) with one ``file:line: message`` line on
  stderr and no traceback;

and in both cases nothing may escape: no file named ``pwned*`` anywhere (the
posts try to create them with ``\\write18``, ``\\openout``, ``filecontents``…, in
the temporary folder and next to the build), no ``/etc/passwd`` in the PDF or
the log, no launch or JavaScript action in the PDF.

tests/hostile/*.md are posts in the blog's mirror format (``@CANARY@`` becomes a
folder of the test's own); they compile together as one volume, with two
generated ones.  Posts that must be refused, and posts that each set one trap
for one pass (recursive macros, a 3000-letter word, a 20 000-term formula, lists
nested 30 deep…), are separate tests below; each of those must build.
"""

from __future__ import annotations

import random
import re
import shutil

import pytest

from fixtures import read_cases
from harness import (
    HOSTILE_DIR,
    CASES_FILE,
    LOCATED,
    tex,
    header,
    Book,
    make_book,
    Result,
    run_build,
    decompressed_pdf,
    pdf_text,
    assert_nothing_escaped,
    assert_clean_outcome,
    build_must_be_safe,
    report_lines,
)


# ---------------------------------------------------------------- generated posts


def huge_post() -> str:
    """An 800-row alignment, a 30 000-character CJK line and a 30 000-letter inline formula."""
    rows = " \\\\ ".join("&= " + " + ".join(f"x_{{{r},{i}}}" for i in range(12)) for r in range(800))
    body = f"$$\\begin{{aligned}}{rows}\\end{{aligned}}$$\n\n" + "长" * 30000 + "\n\n$" + "a" * 30000 + "$\n"
    return header(97016, "huge equation and long lines") + body


def fixture_post() -> str:
    """Every input of tests/cases/untrusted_tex.txt, inline and as a display."""
    parts = []
    for case in read_cases(CASES_FILE):
        tex = case.input
        parts.append(f"{case.name.replace('$', '')}：${tex}$\n\n$${tex}$$\n")
    return header(97027, "untrusted fixtures") + "\n".join(parts)


def hostile_posts() -> dict[str, str]:
    posts = {path.name: path.read_text(encoding="utf-8") for path in sorted(HOSTILE_DIR.glob("*.md"))}
    posts["97016-huge.md"] = huge_post()
    posts["97027-fixtures.md"] = fixture_post()
    return posts


# ---------------------------------------------------------------- one volume of hostile posts


def test_hostile_posts_exist():
    posts = hostile_posts()
    assert len(posts) >= 25
    ids = [int(name[:5]) for name in posts]
    assert len(set(ids)) == len(ids)


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory) -> tuple[Book, Result]:
    if shutil.which("xelatex") is None or shutil.which("latexmk") is None:
        pytest.skip("xelatex/latexmk not installed")
    book = make_book(tmp_path_factory.mktemp("hostile"), hostile_posts())
    return book, run_build(book)


@tex
def test_hostile_volume_compiles(hostile_build):
    book, result = hostile_build
    assert_nothing_escaped(book)
    assert_clean_outcome(result, book)
    assert result.code == 0, result.stderr
    assert book.pdf.exists()


@tex
def test_hostile_volume_keeps_every_chapter(hostile_build):
    """``\\end{document}``, ``\\endinput`` or ``\\iffalse`` in a post must not cut the book short."""
    book, result = hostile_build
    if result.code != 0:
        pytest.skip("the volume did not compile (see test_hostile_volume_compiles)")
    text = pdf_text(book.pdf)
    if text is None:
        pytest.skip("pdftotext not installed")
    flat = re.sub(r"\s+", "", text)
    for phrase in ("本章最后一句", "之后还有正文", "后面的正文应该正常", "untrustedfixtures", "shellescapes"):
        assert phrase in flat, phrase


@tex
def test_hostile_volume_reports_each_neutralisation(hostile_build):
    book, result = hostile_build
    lines = report_lines(book)
    expected = [
        "src/97001-shell.md:15: [untrusted-tex] neutralised \\immediate",
        "src/97001-shell.md:15: [untrusted-tex] neutralised \\write",
        "src/97002-reads.md:15: [untrusted-tex] neutralised \\input",
        "src/97002-reads.md:17: [untrusted-tex] neutralised \\begin{input}",
        "src/97003-writes.md:15: [untrusted-tex] neutralised \\openout",
        "src/97004-catcodes.md:15: [untrusted-tex] neutralised \\catcode",
        "src/97005-hats.md:15: [untrusted-tex] neutralised ^^",
        "src/97005-hats.md:19: [untrusted-tex] neutralised \\unicode{94}",
        "src/97008-enddocument.md:15: [untrusted-tex] neutralised \\end{document}",
        "src/97011-defs.md:15: [untrusted-tex] neutralised \\def",
        "src/97011-defs.md:17: [untrusted-tex] neutralised \\loop",
        "src/97014-links.md:25: [untrusted-tex] neutralised \\href",
        "src/97006-braces.md:15: [balance] removed unmatched }",
        "src/97007-envs.md:15: [balance] removed \\end{equation} without \\begin",
        "src/97009-runaway.md:15: [balance] added missing }",
        "src/97015-nesting.md:15: [balance] warning: omitted a formula nested more than 100 levels deep",
    ]
    missing = [line for line in expected if not any(found.endswith(line) for found in lines)]
    assert missing == [], "\n".join(lines)


@tex
def test_prose_links_with_unsafe_schemes(hostile_build):
    """``[x](run:…)``, ``javascript:``, ``file:`` in prose: \\url makes them URI actions, never launch actions."""
    book, result = hostile_build
    if result.code != 0:
        pytest.skip("the volume did not compile (see test_hostile_volume_compiles)")
    objects = decompressed_pdf(book.pdf).lower()
    assert b"/launch" not in objects
    unsafe = [scheme for scheme in (b"(run:", b"(javascript:", b"(file:") if scheme in objects]
    assert unsafe == [], f"links with unsafe schemes kept in the PDF: {unsafe}"


# ---------------------------------------------------------------- inputs that must be refused


def test_invalid_utf8_is_one_clean_error(tmp_path):
    post = header(98020, "bad bytes").encode("utf-8") + "第一行\n第二行 ".encode("utf-8") + b"\xff\xfe here\n"
    book = make_book(tmp_path, {"98020.md": post})
    result = build_must_be_safe(book)
    assert result.code == 1
    found = LOCATED.match(result.stderr_lines[0])
    assert found["file"].endswith("98020.md") and found["line"] == "16", result.stderr
    assert found["message"].startswith("not valid UTF-8"), result.stderr
    assert not book.out.exists()


def test_binary_garbage_is_one_clean_error(tmp_path):
    garbage = bytes(random.Random(1234).getrandbits(8) for _ in range(64 * 1024))
    book = make_book(tmp_path, {"98021.md": garbage})
    result = build_must_be_safe(book)
    assert result.code == 1
    assert "not valid UTF-8" in result.stderr_lines[0], result.stderr


def test_five_megabyte_post(tmp_path):
    """5 MB of prose, math and hostile math: the Python side stays linear (TeX is not run: --tex-only)."""
    rng = random.Random(5)
    pieces = [
        "这是一段很长的正文，用来测试五兆字节的文章。", r"设$x_{i}\in\mathbb{R}^{n}$，则", r"$\input{/etc/passwd}$",
        "\n\n$$\\sum_{i=1}^{n} \\frac{a_i}{b_i} = \\left( c \\right)$$\n\n", r"$\frac{a}{$", "\n\n## 小节 #\n\n", "\n\n",
        r"$\immediate\write18{touch @CANARY@/pwned-big}$", "x^^5c",
    ]  # fmt: skip
    out, size = [header(98022, "five megabytes")], 0
    while size < 5 * 1024 * 1024:
        piece = rng.choice(pieces)
        out.append(piece)
        size += len(piece.encode("utf-8"))
    book = make_book(tmp_path, {"98022.md": "".join(out)})
    result = build_must_be_safe(book, "--tex-only")
    assert result.code == 0, result.stderr
    chapter = (book.volume / "posts" / "98022.tex").read_text(encoding="utf-8")
    assert "\\input{" not in chapter.replace("\\bookgenunknown{input}", "")
    assert "^^" not in chapter


def test_post_claiming_another_posts_archive_id(tmp_path):
    """Two files claim archive id 98023: the build still makes one chapter of one of them, and says so."""
    real = header(98023, "the real post") + "真正的文章。\n"
    impostor = header(98023, "an impostor") + "冒名顶替 $\\input{/etc/passwd}$\n"
    book = make_book(tmp_path, {"98023-real.md": real, "00001-impostor.md": impostor}, ids=[98023])
    result = build_must_be_safe(book, "--tex-only")
    assert result.code == 0, result.stderr
    chapter = (book.volume / "posts" / "98023.tex").read_text(encoding="utf-8")
    assert ("the real post" in chapter) != ("an impostor" in chapter)
    assert "\\input{/etc/passwd}" not in chapter
    said = (book.volume / "report.txt").read_text(encoding="utf-8") + result.stderr + result.stdout
    assert "00001-impostor.md" in said and "98023-real.md" in said, said


# ---------------------------------------------------------------- one post, one trap


def single_post_build(tmp_path, archive_id: int, title: str, body: str, date: str = "2024-01-01", **kw) -> tuple:
    book = make_book(tmp_path, {f"{archive_id}.md": header(archive_id, title, date) + body})
    return book, build_must_be_safe(book, **kw)


@tex
def test_newcommand_recursion(tmp_path):
    body = "$\\newcommand{\\x}{\\x}\\x$ 和 $$\\newcommand{\\y}{\\z}\\newcommand{\\z}{\\y}\\y$$\n"
    book, result = single_post_build(tmp_path, 98030, "newcommand recursion", body, timeout=40)
    assert result.code == 0, result.stderr
    dropped = [line for line in report_lines(book) if "[mathjax-macros]" in line and "dropped" in line]
    assert len(dropped) == 3, dropped  # \x, \y and \z
    assert book.pdf.exists()


@tex
def test_def_recursion_with_a_latex_name(tmp_path):
    r"""``\def\a{\a}\a``: \def is neutralised, but ``\a`` is LaTeX's tabbing accent, an error in math."""
    book, result = single_post_build(tmp_path, 98031, "def recursion", "$\\def\\a{\\a}\\a$ 和 $\\ifx\\a\\b\\fi$\n")
    assert result.code == 0, result.stderr
    assert book.pdf.exists()


@tex
def test_date_in_front_matter_is_not_tex(tmp_path):
    date = "2024-01-01}\\input{/etc/passwd}\\iffalse{"
    book, result = single_post_build(tmp_path, 98032, "date injection", "正文。\n", date=date)
    assert result.code == 0, result.stderr
    assert book.pdf.exists()


@tex
def test_math_in_headings_and_captions(tmp_path):
    body = "## $\\input{/etc/passwd}$ 和 $\\left( \\frac{a}{b}$\n\n正文。\n\n## $\\boxed{x}$\n\n正文。\n"
    book, result = single_post_build(tmp_path, 98033, "math in headings", body)
    assert result.code == 0, result.stderr
    assert book.pdf.exists()


@tex
def test_control_characters_in_prose(tmp_path):
    body = "正文里的控制字符 \x07\x0b\x0c\x1b[31m 和 \u202e 反向 \ufeff BOM \u2028 分隔。\n"
    book, result = single_post_build(tmp_path, 98034, "control characters", body)
    assert result.code == 0, result.stderr
    assert book.pdf.exists()


@tex
def test_very_long_prose_word(tmp_path):
    # 3000 letters fail fast; 10 000 make TeX hang or report "This can't happen".
    book, result = single_post_build(tmp_path, 98035, "long word", "b" * 3000 + "\n", timeout=60)
    assert result.code == 0, result.stderr
    assert book.pdf.exists()


@tex
def test_huge_single_line_equation(tmp_path):
    body = "$$" + " + ".join(f"x_{{{i}}}" for i in range(20000)) + "$$\n"
    book, result = single_post_build(tmp_path, 98036, "huge equation", body)
    assert result.code == 0, result.stderr
    assert book.pdf.exists()


@tex
def test_deeply_nested_lists_and_quotes(tmp_path):
    lists = "\n".join("  " * i + f"- level {i}" for i in range(8))
    numbered = "\n".join("   " * i + f"1. n{i}" for i in range(8))
    body = f"{lists}\n\n{'> ' * 30}deep quote\n\n{numbered}\n"
    book, result = single_post_build(tmp_path, 98037, "deep lists", body)
    assert result.code == 0, result.stderr
    assert book.pdf.exists()
