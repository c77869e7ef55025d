"""Compile a volume with latexmk + xelatex, safely, and map TeX errors to posts.

* No shell escape, ``openin_any=p``/``openout_any=p`` (TeX reads and writes only
  below the build folder), ``-norc`` (no latexmkrc from anywhere), non-interactive
  and halting on the first error, with ``-file-line-error`` so the log names the
  .tex file and line.
* The book at ``<out>/<volume>.pdf`` is replaced (atomically) only when the
  build succeeded: a failed build leaves the last good PDF in place.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from bookgen.errors import TexError, ToolMissing
from bookgen.latex.writer import LINE_MARK

FILE_LINE_ERROR = re.compile(r"^(\.?/?[^\s:]+\.tex):(\d+): (.*)$", re.MULTILINE)
RUN_NUMBER = re.compile(r"Run number (\d+) of rule '([^']+)'")
PAGES = re.compile(r"Output written on \S+ \((\d+) pages?")
MARK = re.compile("^" + re.escape(LINE_MARK).replace(r"\{\}", r"(\d+)") + "$")
INSTALL_HINT = "apt-get install texlive-xetex texlive-lang-chinese texlive-latex-extra latexmk fonts-noto-cjk"


@dataclass
class LogSummary:
    pages: int = 0
    errors: list[str] = field(default_factory=list)
    undefined_references: int = 0
    multiply_defined: int = 0
    missing_characters: int = 0
    missing_glyphs: list[str] = field(default_factory=list)  # distinct characters, in order of appearance
    warnings: int = 0


def summarize_log(log: str) -> LogSummary:
    summary = LogSummary()
    pages = PAGES.findall(log)
    summary.pages = int(pages[-1]) if pages else 0
    summary.errors = [m.group(0) for m in FILE_LINE_ERROR.finditer(log)] + re.findall(r"^! .*$", log, re.MULTILINE)
    summary.undefined_references = len(re.findall(r"Reference `[^']*' on page \d+ undefined", log))
    summary.multiply_defined = len(re.findall(r"Label `[^']*' multiply defined", log))
    missing = re.findall(r"^Missing character: There is no (.) ", log, re.MULTILINE)
    summary.missing_characters = len(re.findall(r"^Missing character: There is no", log, re.MULTILINE))
    summary.missing_glyphs = list(dict.fromkeys(missing))
    summary.warnings = len(re.findall(r"Warning", log))
    return summary


def check_tools() -> None:
    for tool in ("latexmk", "xelatex"):
        if shutil.which(tool) is None:
            raise ToolMissing(f"{tool} is not installed; install TeX Live with: {INSTALL_HINT}")


def tex_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"openin_any": "p", "openout_any": "p", "shell_escape": "f", "max_print_line": "10000"})
    env.pop("TEXMFOUTPUT", None)
    return env


TEX_TIMEOUT_SECONDS = 1800  # a whole volume takes minutes; a post that makes TeX loop must not hang bookgen


def run_latexmk(volume_dir: Path, on_pass: Callable[[int, str], None], timeout: float = TEX_TIMEOUT_SECONDS) -> tuple[bool, str]:
    command = [
        "latexmk", "-norc", "-xelatex", "-interaction=nonstopmode", "-halt-on-error",
        "-file-line-error", "-no-shell-escape", "-f-", "main.tex",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=volume_dir, env=tex_environment(), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
        start_new_session=True,  # its own process group, so a timeout stops xelatex too
    )  # fmt: skip
    output: list[str] = []
    timer = threading.Timer(timeout, _kill_group, (process,))
    timer.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            match = RUN_NUMBER.search(line)
            if match:
                on_pass(int(match.group(1)), match.group(2))
        code = process.wait()
    finally:
        timed_out = not timer.is_alive() and process.returncode is not None and process.returncode < 0
        timer.cancel()
    if timed_out:
        raise TexError(f"TeX did not finish within {timeout:.0f} s and was stopped", volume_dir / "main.log")
    return code == 0, "".join(output)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def source_line_of(tex_file: Path, tex_line: int) -> int | None:
    """The post line recorded by the nearest ``%@ line N`` mark at or above ``tex_line``."""
    try:
        lines = tex_file.read_text(encoding="utf-8").split("\n")
    except OSError:
        return None
    for index in range(min(tex_line, len(lines)) - 1, -1, -1):
        match = MARK.match(lines[index])
        if match:
            return int(match.group(1))
    return None


def first_tex_error(log: str, volume_dir: Path, post_paths: dict[str, Path]) -> TexError:
    match = FILE_LINE_ERROR.search(log)
    if not match:
        bang = re.search(r"^! (.*)$", log, re.MULTILINE)
        message = bang.group(1) if bang else "xelatex failed (see main.log)"
        return TexError(f"TeX error: {message}", volume_dir / "main.log")
    tex_name, tex_line, message = match.group(1), int(match.group(2)), match.group(3)
    context = log[match.end() : match.end() + 400].split("\n")
    detail = next((c.strip() for c in context if c.startswith("l.")), "")
    tex_path = volume_dir / tex_name
    stem = Path(tex_name).stem
    where = f" (at {tex_path}:{tex_line}{': ' + detail if detail else ''})"
    if stem in post_paths:
        line = source_line_of(tex_path, tex_line)
        return TexError(f"TeX error: {message}{where}", post_paths[stem], line)
    return TexError(f"TeX error: {message}{where}", tex_path, tex_line)


def compile_volume(
    volume_dir: Path, book_pdf: Path, post_paths: dict[str, Path], on_pass: Callable[[int, str], None]
) -> LogSummary:
    check_tools()
    ok, _output = run_latexmk(volume_dir, on_pass)
    log_path = volume_dir / "main.log"
    log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
    if not ok or not (volume_dir / "main.pdf").exists():
        raise first_tex_error(log, volume_dir, post_paths)
    summary = summarize_log(log)
    staging = book_pdf.with_name(f".{book_pdf.name}.{os.getpid()}.tmp")
    shutil.copyfile(volume_dir / "main.pdf", staging)
    os.replace(staging, book_pdf)
    return summary


class Stopwatch:
    def __init__(self):
        self.times: dict[str, float] = {}

    def time(self, name: str):
        watch = self

        class _Timer:
            def __enter__(self):
                self.start = time.perf_counter()

            def __exit__(self, *exc):
                watch.times[name] = watch.times.get(name, 0.0) + time.perf_counter() - self.start

        return _Timer()
