"""What every hostile test needs: a book in a temporary folder, a build in a subprocess, and the checks.

A build runs the real command line in a subprocess (so a TeX that hangs is killed
with its whole process group after ``TIMEOUT`` seconds) and must end in one of two
ways: exit 0 with a PDF, or exit 1 (bad input) or 2 (TeX error) with one
``file:line: message`` line on stderr and no traceback.  In both cases nothing may
escape: no ``pwned*`` file anywhere, no ``/etc/passwd`` in the PDF or the log, no
launch or JavaScript action in the PDF.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

HOSTILE_DIR = Path(__file__).resolve().parent
TESTS_DIR = HOSTILE_DIR.parent
REPO_DIR = TESTS_DIR.parent
CASES_FILE = TESTS_DIR / "cases" / "untrusted_tex.txt"
TIMEOUT = 120  # seconds for one build; a hanging TeX fails the test instead of hanging it
LOCATED = re.compile(r"^(?P<file>[^:]+?)(?::(?P<line>\d+))?: (?P<message>.+)$")
PASSWD_LINE = re.compile(r"root:[^:\n]*:0:0:")

needs_tex = pytest.mark.skipif(
    shutil.which("xelatex") is None or shutil.which("latexmk") is None, reason="xelatex/latexmk not installed"
)


def tex(test):
    return pytest.mark.tex(needs_tex(test))


# ---------------------------------------------------------------- helpers


def header(archive_id: int, title: str, date: str = "2024-01-01") -> str:
    url = f"https://spaces.ac.cn/archives/{archive_id}"
    return (
        f"---\ntitle: {title}\nid: {archive_id}\ndate: {date}\n---\n\n# {title}\n\n"
        f"**原文链接**: [{url}]({url})\n\n**发布日期**: \n\n---\n\n"
    )


@dataclass
class Book:
    root: Path
    ids: list[int]
    out_dir: Path | None = None  # default: <root>/build

    @property
    def canary(self) -> Path:
        return self.root / "canary"

    @property
    def sources(self) -> Path:
        return self.root / "src"

    @property
    def out(self) -> Path:
        return self.out_dir or self.root / "build"

    @property
    def pdf(self) -> Path:
        return self.out / "h.pdf"

    @property
    def volume(self) -> Path:
        return self.out / "h"


def make_book(tmp_path: Path, posts: dict[str, str | bytes], ids: list[int] | None = None) -> Book:
    """A folder with src/<name> for each post, canary/, and series.yaml listing ``ids`` (default: every post)."""
    root = tmp_path / "book"
    (root / "src").mkdir(parents=True)
    (root / "canary").mkdir()
    for name, content in posts.items():
        if isinstance(content, str):
            content = content.replace("@CANARY@", str(root / "canary")).encode("utf-8")
        (root / "src" / name).write_bytes(content)
    if ids is None:
        ids = sorted(int(re.match(r"\d+", name).group(0)) for name in posts)
    chapters = ", ".join(str(i) for i in ids)
    (root / "series.yaml").write_text(f"volumes:\n  h:\n    title: T\n    chapters: [{chapters}]\n", encoding="utf-8")
    return Book(root, ids)


@dataclass
class Result:
    code: int | None  # None: killed after the timeout
    stdout: str
    stderr: str
    seconds: float

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def run_build(book: Book, *extra: str, timeout: float = TIMEOUT) -> Result:
    command = [sys.executable, "-m", "bookgen", "build", "h", "--manifest", str(book.root / "series.yaml"),
               "--sources", str(book.sources), "--out", str(book.out), "-q", *extra]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "BOOKGEN_SOURCES"}
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=book.root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, errors="replace", start_new_session=True,
    )  # fmt: skip
    try:
        stdout, stderr = process.communicate(timeout=timeout)
        code: int | None = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # bookgen, latexmk and xelatex: the whole session
        stdout, stderr = process.communicate()
        code = None
    return Result(code, stdout, stderr, time.perf_counter() - start)


def decompressed_pdf(pdf: Path) -> bytes:
    data = pdf.read_bytes()
    parts = [data]
    for found in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.DOTALL):
        try:
            parts.append(zlib.decompress(found.group(1)))
        except zlib.error:
            pass
    return b"\n".join(parts)


def pdf_text(pdf: Path) -> str | None:
    if shutil.which("pdftotext") is None:
        return None
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, timeout=60)
    return done.stdout.decode("utf-8", errors="replace")


def assert_nothing_escaped(book: Book) -> None:
    """No canary file anywhere below the test's folder, nothing read from /etc/passwd."""
    escaped = [str(p.relative_to(book.root)) for p in book.root.rglob("*pwned*")]
    assert escaped == [], f"files a post tried to create exist: {escaped}"
    assert list(book.canary.iterdir()) == []
    log = book.volume / "main.log"
    if log.exists():
        text = log.read_text(encoding="utf-8", errors="replace")
        assert "(/etc/passwd" not in text, "TeX opened /etc/passwd"
        assert not PASSWD_LINE.search(text)
    if book.pdf.exists():
        objects = decompressed_pdf(book.pdf)
        assert b"/Launch" not in objects, "the PDF has a launch action"
        assert b"/JavaScript" not in objects, "the PDF has a JavaScript action"
        text = pdf_text(book.pdf)
        if text is not None:
            assert not PASSWD_LINE.search(text), "the PDF shows /etc/passwd"


def assert_clean_outcome(result: Result, book: Book) -> None:
    """Exit 0 with a PDF (or the .tex), or exit 1/2 with `file:line: message` lines (one, or the TeX
    errors left after the fallbacks); never a traceback."""
    assert result.code is not None, f"bookgen did not finish in {TIMEOUT}s (killed)"
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr
    if result.code == 0:
        assert book.pdf.exists() or (book.volume / "main.tex").exists()
        return
    assert result.code in (1, 2), (result.code, result.stderr)
    assert result.stderr_lines, result.stderr
    assert len(result.stderr_lines) == 1 or result.code == 2, result.stderr
    for line in result.stderr_lines:
        assert LOCATED.match(line), line


def build_must_be_safe(book: Book, *extra: str, timeout: float = TIMEOUT) -> Result:
    result = run_build(book, *extra, timeout=timeout)
    assert_nothing_escaped(book)
    if result.code is not None:
        assert_clean_outcome(result, book)
    return result


def report_lines(book: Book) -> list[str]:
    return (book.volume / "report.txt").read_text(encoding="utf-8").splitlines()
