"""The demo book, compiled with xelatex: a clean log, bookmarks, a title page, and safe failures.

The demo is built once per session (about five seconds); the failure tests work
on copies of that build.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bookgen.manifest import load_manifest
from bookgen.readers import read_post
from fixtures import REPO_DIR, invoke

pytestmark = pytest.mark.tex

BOOKMARK = re.compile(r"^\\BOOKMARK \[(\d+)\]\[[^\]]*\]\{([^}]*)\}\{((?:[^{}]|\\[{}])*)\}", re.MULTILINE)


@pytest.fixture(scope="module")
def demo_build(tex_available, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo-build") / "out"
    result = invoke(["build", "demo", "--out", out], cwd=REPO_DIR, env={"BOOKGEN_SOURCES": None})
    if result.code != 0:
        pytest.fail(f"bookgen build demo failed (exit {result.code}):\n{result.stderr}\n{result.stdout}")
    return out


@pytest.fixture(scope="module")
def demo_titles() -> list[str]:
    manifest = load_manifest(REPO_DIR / "series.yaml")
    volume = manifest.volume("demo")
    titles = []
    for entry in volume.chapters:
        path = REPO_DIR / "demo" / "posts" / f"{entry.id}.md"
        titles.append(entry.title or read_post(path, entry.id).title)
    return titles


def pdftotext(pdf: Path, first: int | None = None, last: int | None = None) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    pages = (["-f", str(first)] if first else []) + (["-l", str(last)] if last else [])
    done = subprocess.run(["pdftotext", *pages, str(pdf), "-"], capture_output=True, text=True, check=True)
    return done.stdout


def squeeze(text: str) -> str:
    """pdftotext puts spaces between CJK and Latin runs and breaks lines anywhere: compare without whitespace."""
    return re.sub(r"\s+", "", text)


def decode_pdf_string(text: str) -> str:
    r"""hyperref's \BOOKMARK titles: octal escapes of UTF-16BE after a \376\377 BOM (or plain ASCII)."""
    data = bytearray()
    index = 0
    while index < len(text):
        if text[index] == "\\" and re.match(r"[0-7]{3}", text[index + 1 : index + 4]):
            data.append(int(text[index + 1 : index + 4], 8))
            index += 4
        elif text[index] == "\\" and index + 1 < len(text):
            data.extend(text[index + 1].encode("latin-1"))
            index += 2
        else:
            data.extend(text[index].encode("latin-1"))
            index += 1
    if data[:2] == b"\xfe\xff":
        return data[2:].decode("utf-16-be")
    return data.decode("latin-1")


# ---------------------------------------------------------------- a good build


def test_pdf_is_written(demo_build):
    pdf = demo_build / "demo.pdf"
    assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF")
    assert (demo_build / "demo" / "main.pdf").is_file()


def test_log_is_clean(demo_build):
    log = (demo_build / "demo" / "main.log").read_text(encoding="utf-8", errors="replace")
    errors = re.findall(r"^(?:! .*|\S+\.tex:\d+: .*)$", log, re.MULTILINE)
    assert errors == []
    undefined = re.findall(r"Reference `[^']*' on page \d+ undefined", log)
    assert undefined == [], undefined
    assert "There were undefined references" not in log
    multiply = re.findall(r"Label `[^']*' multiply defined", log)
    assert multiply == [], multiply
    assert "There were multiply-defined labels" not in log
    missing = re.findall(r"^Missing character: There is no .*$", log, re.MULTILINE)
    assert missing == [], missing[:5]
    assert "Rerun to get" not in log.split("Run number")[-1]  # latexmk ran until the references settled


def test_pdf_text_has_the_title_and_every_chapter(demo_build, demo_titles):
    text = squeeze(pdftotext(demo_build / "demo.pdf"))
    assert squeeze("bookgen 示例") in text
    for title in demo_titles:
        assert squeeze(title) in text, title


def test_title_page_and_table_of_contents(demo_build, demo_titles):
    manifest = load_manifest(REPO_DIR / "series.yaml")
    volume = manifest.volume("demo")
    first = squeeze(pdftotext(demo_build / "demo.pdf", 1, 1))
    for piece in (volume.title, volume.subtitle, volume.author, "科学空间"):
        assert squeeze(piece) in first, piece
    contents = squeeze(pdftotext(demo_build / "demo.pdf", 2, 3))
    assert "目录" in contents
    for title in demo_titles:
        assert squeeze(title) in contents, title


def test_one_bookmark_per_chapter(demo_build, demo_titles):
    out_file = (demo_build / "demo" / "main.out").read_text(encoding="latin-1")
    marks = [(int(level), anchor, decode_pdf_string(title)) for level, anchor, title in BOOKMARK.findall(out_file)]
    chapters = [m for m in marks if m[0] == 0]
    assert len(chapters) == len(demo_titles), marks
    for (_level, anchor, title), expected in zip(chapters, demo_titles):
        assert anchor.startswith("chapter."), anchor
        assert title.endswith(expected), (title, expected)
    # Sections are nested under chapters, never at the top.
    assert all(level >= 1 for level, anchor, _ in marks if not anchor.startswith("chapter."))


def test_pdfinfo_pages_and_metadata(demo_build):
    if shutil.which("pdfinfo") is None:
        pytest.skip("pdfinfo (poppler-utils) not installed")
    info = subprocess.run(["pdfinfo", str(demo_build / "demo.pdf")], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))
    assert pages >= 6
    assert re.search(r"^Title:\s+bookgen 示例$", info, re.MULTILINE), info


def test_report_is_written(demo_build):
    assert (demo_build / "demo" / "report.txt").is_file()


# ---------------------------------------------------------------- failures


def test_tex_error_keeps_the_last_good_pdf(demo_build, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(demo_build, out)
    good = (out / "demo.pdf").read_bytes()
    templates = tmp_path / "templates"
    templates.mkdir()
    builtin = (REPO_DIR / "templates" / "chapter.tex.j2").read_text(encoding="utf-8")
    (templates / "chapter.tex.j2").write_text(
        builtin.rstrip("\n") + "\n<% if post.id == 90003 %>\n\\undefinedcommandxyz\n<% endif %>\n", encoding="utf-8"
    )
    result = invoke(["build", "demo", "--out", out, "--templates", templates], cwd=REPO_DIR,
                    env={"BOOKGEN_SOURCES": None})  # fmt: skip
    assert result.exception is None, repr(result.exception)
    assert result.code == 2, (result.stdout, result.stderr)
    assert len(result.stderr_lines) == 1, result.stderr
    # The error is after the post's last block: reported at that block's source line.
    tex = (out / "demo" / "posts" / "90003.tex").read_text(encoding="utf-8")
    assert "\\undefinedcommandxyz" in tex
    last_mark = int(re.findall(r"^%@ line (\d+)$", tex, re.MULTILINE)[-1])
    match = re.match(r"^(?:.*/)?demo/posts/90003\.md:(\d+): TeX error: (.*)$", result.stderr_lines[0])
    assert match, result.stderr_lines[0]
    assert int(match.group(1)) == last_mark
    assert "Undefined control sequence" in match.group(2)
    assert (out / "demo.pdf").read_bytes() == good


def test_tex_error_in_a_display_points_at_its_line(tex_available, tmp_path):
    """With --strict, an error in a display inside a paragraph is reported at the post line of that display.

    The error is injected by a template right after the display's ``%@ line`` mark,
    so no normalizer pass can repair it away.
    """
    book = tmp_path / "book"
    (book / "posts").mkdir(parents=True)
    (book / "series.yaml").write_text("sources: [posts]\nvolumes:\n  v:\n    title: x\n    chapters: [96001]\n",
                                      encoding="utf-8")  # fmt: skip
    (book / "posts" / "96001.md").write_text(
        "---\ntitle: 错误\ndate: 2024-01-01\n---\n\n第一段。\n\n第二段，公式如下  \n"
        "\\begin{equation}x = \\frac{1}{2}\\end{equation}  \n其中  \n\\begin{equation}y = 1\\end{equation}  \n完。\n",
        encoding="utf-8",
    )
    templates = tmp_path / "templates"
    templates.mkdir()
    builtin = (REPO_DIR / "templates" / "chapter.tex.j2").read_text(encoding="utf-8")
    assert "<<body>>" in builtin
    inject = '<<body|replace("%@ line 11\\n", "%@ line 11\\n\\\\undefinedcommandxyz ")>>'
    (templates / "chapter.tex.j2").write_text(builtin.replace("<<body>>", inject), encoding="utf-8")
    result = invoke(["build", "--out", tmp_path / "out", "--templates", templates, "--strict"], cwd=book,
                    env={"BOOKGEN_SOURCES": None})  # fmt: skip
    tex = (tmp_path / "out" / "v" / "posts" / "96001.tex").read_text(encoding="utf-8")
    assert "%@ line 11\n\\undefinedcommandxyz \\begin{equation}" in tex, tex
    assert result.code == 2, (result.stdout, result.stderr)
    assert len(result.stderr_lines) == 1
    assert re.match(r"^(?:.*/)?posts/96001\.md:11: TeX error", result.stderr_lines[0]), result.stderr_lines[0]
    assert not (tmp_path / "out" / "v.pdf").exists()


def test_missing_xelatex_is_one_line(tmp_path):
    """With no TeX on PATH (an empty folder), the build stops with one line saying what to install."""
    empty = tmp_path / "bin"
    empty.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "bookgen", "build", "demo", "--out", str(tmp_path / "out")],
        cwd=REPO_DIR, env={"PATH": str(empty), "HOME": str(tmp_path), "LANG": "C.UTF-8"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, (done.stdout, done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "not installed" in lines[0] and "apt-get install" in lines[0]
    assert not (tmp_path / "out" / "demo.pdf").exists()
