"""Run latexmk + xelatex on a volume folder, safely, and read what TeX said.

* No shell escape, ``openin_any=p``/``openout_any=p`` (TeX reads and writes only
  below the build folder), ``-norc`` (no latexmkrc from anywhere), non-interactive,
  with ``-file-line-error`` so the log names the .tex file and line of each error,
  and wide error contexts (``error_line``) so the column can be found too.
* TeX stays in bookgen's process group, so whatever stops bookgen's group (Ctrl-C
  in a terminal, ``timeout``, a CI runner) stops TeX too; and bookgen stops the
  TeX processes it started (``stop_tree``) on every way out of a run: an error,
  Ctrl-C, SIGTERM, or a TeX that prints nothing for ``idle_timeout`` seconds (a
  loop it never leaves).  A run that was cut short leaves a mark in the folder;
  the next build finds it and starts TeX afresh (``drop_interrupted_state``).
* One build per volume folder at a time (``volume_lock``).
* The book at ``<out>/<volume>.pdf`` is replaced (atomically) only by a build that
  succeeded (``publish_pdf``): a failed build leaves the last good PDF in place.

What to do about an error — stop, or set the unit that caused it aside and run
again — is decided by ``bookgen.fallback``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from bookgen.errors import ToolMissing, UserError

# ./posts/9999.tex:13: Misplaced \noalign.  (also ./main.toc:4: …)
FILE_LINE_ERROR = re.compile(r"^(\.?/?[^\s:()]+\.[A-Za-z]+):(\d+): (.*)$", re.MULTILINE)
CONTEXT_LINE = re.compile(r"^l\.(\d+) (.*)$")
BANG_ERROR = re.compile(r"^! (.*)$", re.MULTILINE)
RUN_NUMBER = re.compile(r"Run number (\d+) of rule '([^']+)'")
PAGES = re.compile(r"Output written on \S+ \((\d+) pages?")
INSTALL_HINT = "apt-get install texlive-xetex texlive-lang-chinese texlive-latex-extra latexmk fonts-noto-cjk"
TEX_TIMEOUT_SECONDS = 1800  # a whole volume takes minutes: a TeX still busy after this is stopped
IDLE_TIMEOUT_SECONDS = 60.0  # xelatex prints at least a page number every few seconds: silence this long is a loop
RUNNING_MARK = ".bookgen-tex-running"  # in the volume folder while TeX runs on it
# What latexmk and xelatex keep between runs; a run that was cut short may leave them half written.
TEX_STATE = ("main.fdb_latexmk", "main.fls", "main.aux", "main.toc", "main.out", "main.xdv", "main.log")


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
    summary.errors = [m.group(0) for m in FILE_LINE_ERROR.finditer(log)] + BANG_ERROR.findall(log)
    summary.undefined_references = len(re.findall(r"Reference `[^']*' on page \d+ undefined", log))
    summary.multiply_defined = len(re.findall(r"Label `[^']*' multiply defined", log))
    missing = re.findall(r"^Missing character: There is no (.) ", log, re.MULTILINE)
    summary.missing_characters = len(re.findall(r"^Missing character: There is no", log, re.MULTILINE))
    summary.missing_glyphs = list(dict.fromkeys(missing))
    summary.warnings = len(re.findall(r"Warning", log))
    return summary


# ---------------------------------------------------------------- what TeX said


@dataclass(frozen=True)
class TexProblem:
    """One error TeX reported: the file and line, the message, and the line split where TeX stopped."""

    file: str  # as TeX names it: "./posts/9999.tex"
    line: int
    message: str
    before: str | None = None  # the text of the line up to the error ("..." in front when cut)
    after: str | None = None  # the rest of the line ("..." at the end when cut)
    in_output: bool = False  # raised while a page was shipped out (running heads, floats): not where TeX read

    @property
    def path(self) -> str:
        return self.file[2:] if self.file.startswith("./") else self.file

    def __str__(self) -> str:
        context = f": l.{self.line} {self.before}" if self.before is not None else ""
        return f"{self.path}:{self.line}: {self.message}{context}"


def tex_problems(text: str) -> list[TexProblem]:
    """Every ``file:line: message`` error of a log or of TeX's terminal output, with its context."""
    problems = []
    matches = list(FILE_LINE_ERROR.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        block = text[match.end() : end].split("\n")[1:60]
        before = after = None
        for number, line in enumerate(block):
            context = CONTEXT_LINE.match(line)
            if context and int(context.group(1)) == int(match.group(2)):
                before = context.group(2)
                following = block[number + 1] if number + 1 < len(block) else ""
                after = following[len(line) :] if len(following) > len(line) else ""
                break
        in_output = any(line.startswith("<output>") for line in block)
        problems.append(TexProblem(match.group(1), int(match.group(2)), match.group(3), before, after, in_output))
    return problems


def fatal_message(text: str) -> str | None:
    """The first ``! …`` error: what TeX says when it stops before naming a file (e.g. its line buffer)."""
    bang = BANG_ERROR.search(text)
    return bang.group(1) if bang else None


# ---------------------------------------------------------------- running TeX


def check_tools() -> None:
    for tool in ("latexmk", "xelatex"):
        if shutil.which(tool) is None:
            raise ToolMissing(f"{tool} is not installed; install TeX Live with: {INSTALL_HINT}")


def tex_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "openin_any": "p", "openout_any": "p", "shell_escape": "f", "max_print_line": "10000",
        # the widest error context TeX allows: enough of the line to find the column of the error
        "error_line": "254", "half_error_line": "238",
    })  # fmt: skip
    env.pop("TEXMFOUTPUT", None)
    return env


@dataclass
class TexRun:
    ok: bool
    terminal: str  # what latexmk and TeX printed
    hung: bool = False  # stopped by bookgen: silent for too long, or over the time limit


def latexmk_command(strict: bool, main: str = "main.tex") -> list[str]:
    halt = ["-halt-on-error"] if strict else []  # else TeX goes on, so one run reports every error
    return [
        "latexmk", "-norc", "-xelatex", "-interaction=nonstopmode", *halt,
        "-file-line-error", "-no-shell-escape", "-f-", main,
    ]  # fmt: skip


def xelatex_command(main: str, jobname: str) -> list[str]:
    return ["xelatex", "-interaction=nonstopmode", "-file-line-error", "-no-shell-escape", f"-jobname={jobname}", main]


def run_tex(
    command: list[str],
    folder: Path,
    on_line: Callable[[str], None] = lambda line: None,
    idle_timeout: float = IDLE_TIMEOUT_SECONDS,
    timeout: float = TEX_TIMEOUT_SECONDS,
) -> TexRun:
    """Run ``command`` in ``folder``; it and every process it started are gone when this returns or raises."""
    process = subprocess.Popen(
        command, cwd=folder, env=tex_environment(), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    chunks: queue.Queue[bytes] = queue.Queue()
    reader = threading.Thread(target=_read_all, args=(process.stdout, chunks), daemon=True)
    reader.start()
    output = bytearray()
    partial = b""
    started = time.monotonic()
    hung = False
    try:
        while True:
            try:
                chunk = chunks.get(timeout=idle_timeout)
            except queue.Empty:
                hung = True  # silent for idle_timeout seconds: TeX prints every page, a quiet TeX loops
                break
            if not chunk:
                break
            output += chunk
            lines = (partial + chunk).split(b"\n")
            partial = lines.pop()
            for line in lines:
                on_line(line.decode("utf-8", errors="replace"))
            if time.monotonic() - started > timeout:
                hung = True
                break
    finally:
        stop_tree(process.pid)  # on every way out: an error, Ctrl-C, SIGTERM, a hang
        process.wait()
        reader.join(timeout=5)
    return TexRun(ok=process.returncode == 0 and not hung, terminal=output.decode("utf-8", errors="replace"), hung=hung)


def _read_all(stream, chunks: queue.Queue) -> None:
    # os.read returns what is there: TeX prints page numbers on one long line, not line by line.
    try:
        while True:
            chunk = os.read(stream.fileno(), 65536)
            chunks.put(chunk)
            if not chunk:
                return
    except OSError:
        chunks.put(b"")


def stop_tree(pid: int) -> None:
    """Stop ``pid`` and every process below it (latexmk → sh → xelatex, xdvipdfmx).

    Each one is frozen first, so none starts another while the tree is read; then all are killed.
    """
    _signal(pid, signal.SIGSTOP)
    tree = [pid]
    for member in _descendants(pid):
        _signal(member, signal.SIGSTOP)
        tree.append(member)
    tree += [member for member in _descendants(pid) if member not in tree]  # started before it was frozen
    for member in tree:
        _signal(member, signal.SIGKILL)


def _signal(pid: int, signal_number: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal_number)


def _descendants(pid: int) -> list[int]:
    """The processes below ``pid``, from /proc (Linux); none where /proc cannot be read."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            stat = entry.read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()  # after "pid (command) ": state, ppid, …
        children.setdefault(int(fields[1]), []).append(int(entry.parent.name))
    found, pending = [], [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def run_latexmk(
    volume_dir: Path,
    on_pass: Callable[[int, str], None],
    strict: bool = False,
    idle_timeout: float = IDLE_TIMEOUT_SECONDS,
) -> TexRun:
    """One latexmk run over main.tex; a run cut short leaves state the next run drops."""
    drop_interrupted_state(volume_dir)
    mark = volume_dir / RUNNING_MARK
    mark.write_text(str(os.getpid()), encoding="utf-8")

    def on_line(line: str) -> None:
        found = RUN_NUMBER.search(line)
        if found:
            on_pass(int(found.group(1)), found.group(2))

    run = run_tex(latexmk_command(strict), volume_dir, on_line, idle_timeout)  # raises on Ctrl-C/SIGTERM: mark stays
    if run.hung:
        drop_interrupted_state(volume_dir)  # the files TeX was writing when it was stopped are half written
    else:
        mark.unlink(missing_ok=True)
    return run


def drop_interrupted_state(volume_dir: Path) -> None:
    """After a TeX run that was killed, latexmk's state and TeX's auxiliary files go: the next run starts afresh."""
    mark = volume_dir / RUNNING_MARK
    if not mark.exists():
        return
    for name in TEX_STATE:
        (volume_dir / name).unlink(missing_ok=True)
    mark.unlink(missing_ok=True)


def read_log(volume_dir: Path, name: str = "main.log") -> str:
    path = volume_dir / name
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def publish_pdf(volume_dir: Path, book_pdf: Path) -> None:
    """Copy the volume's main.pdf to the book's path in one step (a reader never sees half a PDF)."""
    staging = book_pdf.with_name(f".{book_pdf.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(volume_dir / "main.pdf", staging)
        os.replace(staging, book_pdf)
    finally:
        staging.unlink(missing_ok=True)


# ---------------------------------------------------------------- one build at a time


@contextlib.contextmanager
def volume_lock(volume_dir: Path, key: str):
    """Hold the volume folder for this build; a second build of the volume into it stops at once.

    The lock is ``.<volume>.lock`` beside the folder (the folder holds only what the build makes).
    """
    volume_dir.parent.mkdir(parents=True, exist_ok=True)
    path = volume_dir.parent / f".{volume_dir.name}.lock"
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            pid = f" (pid {holder})" if holder.isdigit() else ""
            raise UserError(f"another build of '{key}' is running{pid}; try again when it has finished", volume_dir)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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


__all__ = [
    "LogSummary", "TexProblem", "TexRun", "check_tools", "drop_interrupted_state", "fatal_message",
    "publish_pdf", "read_log", "run_latexmk", "run_tex", "summarize_log", "tex_environment", "tex_problems",
    "volume_lock", "xelatex_command", "Stopwatch",
]  # fmt: skip
