"""What bookgen prints about a file shows its control characters, never sends them (issue 9, hole 14).

A post file named with an ESC sequence (``\\x1b]0;…\\x07`` retitles the terminal, ``\\x1b[2J`` clears
it) reached the terminal raw in error messages, ``-v`` and ``check`` report lines and ``bookgen list``.
One change closes every path: ``UserError.__str__`` and ``Diagnostic.__str__`` (and the CLI's other
lines quoting a file) go through ``diagnostics.printable``, which shows controls, bidi overrides,
line separators and the undecodable bytes of a file name as escapes (a file name that is not
UTF-8: test_hostile_names.py).
"""

from __future__ import annotations

import os
import subprocess
import sys

from bookgen.diagnostics import printable
from harness import Book, header, make_book, run_build

ESCAPES = "\x1b]0;owned\x07\x1b[2J\u202e"
SHOWN = "\\x1b]0;owned\\x07\\x1b[2J\\u202e"


def run(book: Book, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "BOOKGEN_SOURCES"}
    return subprocess.run([sys.executable, "-m", "bookgen", *args], cwd=book.root, env=env, capture_output=True,
                          text=True, errors="surrogateescape", stdin=subprocess.DEVNULL, timeout=120)  # fmt: skip


def assert_no_controls(output: str) -> None:
    assert "\x1b" not in output and "\x07" not in output and "\u202e" not in output, repr(output)


def test_an_error_about_a_file_named_with_escapes(tmp_path):
    post = header(98601, "t").encode("utf-8") + b"bad \xff bytes\n"
    book = make_book(tmp_path, {f"98601{ESCAPES}.md": post})
    result = run_build(book, "--tex-only")
    assert result.code == 1, result.stderr
    assert_no_controls(result.stderr)
    byte = len(header(98601, "t").encode("utf-8")) + 4
    assert result.stderr_lines == [f"{book.sources}/98601{SHOWN}.md:15: not valid UTF-8 (byte {byte})"]


def test_report_lines_list_and_check_about_a_file_named_with_escapes(tmp_path):
    body = "![图](/usr/uploads/missing.png)\n"  # a warning, reported at the file's name
    book = make_book(tmp_path, {f"98602{ESCAPES}.md": header(98602, f"标题{ESCAPES}") + body})
    built = run(book, "build", "--sources", "src", "--out", "build", "--tex-only", "-v")
    assert built.returncode == 0, built.stderr
    checked = run(book, "check", "--sources", "src")
    listed = run(book, "list", "--sources", "src")
    for output in (built.stdout, built.stderr, checked.stdout, listed.stdout):
        assert_no_controls(output)
    report = (book.volume / "report.txt").read_text(encoding="utf-8")
    assert_no_controls(report)
    assert f"src/98602{SHOWN}.md:" in checked.stdout and f"src/98602{SHOWN}.md:" in report
    assert f"98602{SHOWN}.md" in listed.stdout


def test_printable():
    assert printable(f"a{ESCAPES}b") == f"a{SHOWN}b"
    assert printable("line\nbreak\ttab\u2028\x85") == "line\\nbreak tab\\u2028\\x85"
    assert printable("名字\udcff") == "名字\\xff"
    assert printable("中文 ✓ ∑") == "中文 ✓ ∑"
