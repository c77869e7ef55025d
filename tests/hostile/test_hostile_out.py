"""A bad ``--out`` is one line and exit 1, before any post is read (issue 9, hole 8).

An existing file, ``/dev/null``, a path below a file or a read-only folder as ``--out`` raised
FileExistsError / NotADirectoryError / PermissionError from deep inside the build.  One check in the
CLI (``cli.common.check_out_folder``) closes it for every command that writes a folder: ``build`` and
``check`` (``--out``), ``fetch`` (``--cache``); ``build`` also checks the volume's own folder and PDF.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from harness import Book, assert_clean_outcome, header, make_book, run_build


def bad_book(tmp_path) -> Book:
    """A book whose post is not UTF-8: if bookgen read it before checking --out, it would say so instead."""
    post = header(98401, "t").encode("utf-8") + b"bad \xff\xfe bytes\n"
    book = make_book(tmp_path, {"98401.md": post})
    (book.root / "a-file").write_text("not a folder\n")
    return book


def bad_out(book: Book, kind: str) -> str:
    if kind == "read-only folder":
        folder = book.root / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        return str(folder)
    return {"existing file": "a-file", "/dev/null": "/dev/null", "below a file": "a-file/out",
            "below /dev/null": "/dev/null/out"}[kind]  # fmt: skip


KINDS = ["existing file", "/dev/null", "below a file", "below /dev/null"]
if os.geteuid() != 0:  # root writes in a read-only folder all the same
    KINDS.append("read-only folder")


def run(book: Book, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "BOOKGEN_SOURCES"}
    return subprocess.run([sys.executable, "-m", "bookgen", *args], cwd=book.root, env=env, capture_output=True,
                          text=True, errors="replace", stdin=subprocess.DEVNULL, timeout=120)  # fmt: skip


def assert_one_line(done: subprocess.CompletedProcess, expected: str) -> None:
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert [line for line in done.stderr.splitlines() if line.strip()] == [expected]


@pytest.mark.parametrize("kind", KINDS)
def test_build_with_a_bad_out(tmp_path, kind):
    book = bad_book(tmp_path)
    out = bad_out(book, kind)
    result = run_build(book, "--out", out)
    assert_clean_outcome(result, book)
    assert result.code == 1
    assert result.stderr_lines == [f"--out {out}: not a writable folder"]


@pytest.mark.parametrize("kind", KINDS)
def test_check_with_a_bad_out(tmp_path, kind):
    book = bad_book(tmp_path)
    out = bad_out(book, kind)
    done = run(book, "check", "--sources", "src", "--out", out)
    assert_one_line(done, f"--out {out}: not a writable folder")


@pytest.mark.parametrize("kind", ["/dev/null", "below a file", "below /dev/null"])
def test_fetch_with_a_bad_cache(tmp_path, kind):
    """Refused before any page is downloaded (the base URL points nowhere: a download would fail otherwise)."""
    book = bad_book(tmp_path)
    cache = bad_out(book, kind)
    done = run(book, "fetch", "--cache", cache, "--base-url", "http://127.0.0.1:9", "--delay", "0")
    assert_one_line(done, f"--cache {cache}: not a writable folder")


def test_the_volume_folder_taken_by_a_file(tmp_path):
    book = make_book(tmp_path, {"98402.md": header(98402, "t") + "正文。\n"})
    book.out.mkdir()
    (book.out / "h").write_text("a file where the volume's folder goes\n")
    result = run_build(book, "--tex-only")
    assert_clean_outcome(result, book)
    assert result.code == 1
    assert result.stderr_lines == [f"{book.out / 'h'}: not a writable folder (the volume's .tex go there)"]


def test_the_volume_pdf_taken_by_a_folder(tmp_path):
    book = make_book(tmp_path, {"98403.md": header(98403, "t") + "正文。\n"})
    book.pdf.mkdir(parents=True)
    result = run_build(book)
    assert_clean_outcome(result, book)
    assert result.code == 1
    assert result.stderr_lines == [f"{book.pdf}: is a folder: the volume's PDF cannot be written there"]
    assert not book.volume.exists()


def test_a_new_folder_below_a_writable_one_is_fine(tmp_path):
    book = make_book(tmp_path, {"98404.md": header(98404, "t") + "正文。\n"})
    result = run_build(book, "--tex-only", "--out", "new/deeper/build")
    assert result.code == 0, result.stderr
    assert (book.root / "new/deeper/build/h/main.tex").is_file()
