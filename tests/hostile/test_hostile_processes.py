"""A build stopped from outside, and two builds at once: nothing keeps running, nothing gets mixed.

Closes three holes of the attack battery with one mechanism each:

* TeX outlived bookgen: latexmk and xelatex ran in a session of their own, so a
  SIGTERM (``timeout``, CI) or Ctrl-C to bookgen left them looping.  They now stay
  in bookgen's process group and bookgen stops the processes it started on every
  way out (``compile.stop_tree``).
* After such a stop every later build failed (latexmk's state remembered the killed
  run): a mark left while TeX runs makes the next build drop that state.
* Two builds into one ``--out`` raced: the volume folder is locked for a build.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from harness import Book, header, make_book, pdf_text, run_build, tex


def processes_below(folder: Path) -> list[tuple[int, str]]:
    """(pid, command) of every process whose working folder is ``folder`` or below it."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            cwd = os.readlink(entry / "cwd")
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and (cwd == str(folder) or cwd.startswith(str(folder) + "/")):
            found.append((int(entry.name), command))
    return found


def wait_for_tex(book: Book, process: subprocess.Popen, timeout: float = 60) -> bool:
    """Wait until xelatex runs in the volume folder; False if the build ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if any("xelatex" in command for _pid, command in processes_below(book.volume)):
            return True
        time.sleep(0.05)
    return False


def start_build(book: Book, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "bookgen", "build", "h", "--manifest", str(book.root / "series.yaml"),
               "--sources", str(book.sources), "--out", str(book.out), "-q", *extra]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "BOOKGEN_SOURCES"}
    return subprocess.Popen(command, cwd=book.root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip


def post(words: str) -> str:
    paragraphs = "\n\n".join(f"{words}第{n}段，$\\sum_{{i=1}}^{{{n}}} i^2$ 的值。" for n in range(1, 40))
    return header(97201, "被打断的构建") + paragraphs + "\n"


def assert_nothing_left(root: Path) -> None:
    time.sleep(0.2)
    left = processes_below(root)
    assert left == [], f"still running after bookgen stopped: {left}"


@tex
def test_a_build_stopped_by_a_signal_leaves_nothing_running_and_the_next_build_works(tmp_path):
    book = make_book(tmp_path, {"97201.md": post("甲")})
    assert run_build(book).code == 0
    good = book.pdf.read_bytes()
    for number, (signal_number, during_tex) in enumerate(
        [(signal.SIGTERM, True), (signal.SIGINT, True), (signal.SIGTERM, False), (signal.SIGINT, False)]
    ):
        (book.sources / "97201.md").write_text(post(f"乙{number}"), encoding="utf-8")
        process = start_build(book)
        if during_tex:
            assert wait_for_tex(book, process), process.communicate()
        else:
            time.sleep(0.3)  # still reading posts: Python starting up, the normalizer
        os.kill(process.pid, signal_number)  # to bookgen alone, as `timeout` or `kill` would
        _out, err = process.communicate(timeout=60)
        assert process.returncode != 0 or not during_tex, err
        assert "Traceback" not in err, err
        assert_nothing_left(tmp_path)
        pdf = book.pdf.read_bytes()
        assert pdf == good or (pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF"))
        again = run_build(book)
        assert again.code == 0, again.stderr
        good = book.pdf.read_bytes()
        text = pdf_text(book.pdf)
        if text is not None:
            assert f"乙{number}第1段" in re.sub(r"\s+", "", text)


@tex
def test_two_builds_into_one_folder_do_not_mix(tmp_path):
    first = make_book(tmp_path / "first", {"97201.md": post("甲")})
    second = make_book(tmp_path / "second", {"97201.md": post("乙")})
    shared = tmp_path / "shared-out"
    first = Book(first.root, first.ids, out_dir=shared)
    second = Book(second.root, second.ids, out_dir=shared)
    running = start_build(first)
    assert wait_for_tex(first, running)
    refused = run_build(second)
    assert refused.code == 1, refused.stderr
    assert "another build of 'h' is running" in refused.stderr
    _out, err = running.communicate(timeout=120)
    assert running.returncode == 0, err
    text = pdf_text(first.pdf)
    if text is not None:
        assert "甲第1段" in re.sub(r"\s+", "", text)
    assert run_build(second).code == 0
    text = pdf_text(second.pdf)
    if text is not None:
        assert "乙第1段" in re.sub(r"\s+", "", text) and "甲第1段" not in re.sub(r"\s+", "", text)
