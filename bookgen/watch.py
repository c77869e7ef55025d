"""``bookgen build --watch``: build again whenever an input changes, in the same process.

A process that stays keeps what starting a build costs: the imports, the fonts'
coverage, the compiled templates, the cache entries it has read or written, the
formulas it has parsed.  So after an edit, a rebuild costs the edited post's
repairs and TeX (bench/, part (e)).

The inputs are polled (each file's size and time) rather than watched with
inotify: nothing to install, the same on every system, and a volume's inputs are
a few hundred files.  The build folder is never an input, even inside a source
folder, so a build does not set off the next one.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable

POLL_SECONDS = 0.5

Snapshot = dict[str, tuple[int, int]]


def snapshot(inputs: Iterable[Path], ignore: Path) -> Snapshot:
    """Each input file (the files below an input folder, but none below ``ignore``) → (size, mtime)."""
    ignored = ignore.resolve()
    found: Snapshot = {}
    for path in inputs:
        for file in _files(path.absolute(), ignored):
            try:
                stat = file.stat()
            except OSError:
                continue  # gone while we looked: the next poll sees it gone
            found[str(file)] = (stat.st_size, stat.st_mtime_ns)
    return found


def _files(path: Path, ignored: Path) -> Iterable[Path]:
    """The files of an input; the build folder is left out however it is spelled (``..``, a symlink)."""
    if path.is_file():
        return () if _below(path.resolve(), ignored) else (path,)
    if not path.is_dir():
        return ()
    files: list[Path] = []
    for root, dirs, names in os.walk(path):
        if _below(Path(root).resolve(), ignored):
            dirs[:] = []
            continue
        files += (Path(root) / name for name in names)
    return files


def _below(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _under_any(name: str, inputs: list[Path]) -> bool:
    path = Path(name)
    return any(_below(path, root.absolute()) for root in inputs)


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """The files added, removed or changed, sorted."""
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


class Idle:
    """Work for the time between polls, done a piece at a time so a change is still seen within a poll.

    The build adds what makes the next one faster: the watching process parses each post's formulas once
    (the repairs of a post it built in a worker process are not in its own caches yet), so the first edit
    of any post costs what the second costs.
    """

    def __init__(self):
        self.todo: deque[Callable[[], object]] = deque()

    def add(self, pieces: Iterable[Callable[[], object]]) -> None:
        self.todo.extend(pieces)

    def __call__(self, seconds: float, sleep: Callable[[float], None] = time.sleep) -> None:
        """Pieces while ``seconds`` last (at least one if there are any), then sleep what is left."""
        end = time.perf_counter() + seconds
        while self._one() and time.perf_counter() < end:
            pass
        sleep(max(0.0, end - time.perf_counter()))

    @contextmanager
    def meanwhile(self):
        """The pieces worked on in a thread while the caller waits for something else (TeX, which leaves
        a core free); the thread is stopped before this returns, since the next build may fork worker
        processes, which a running thread makes unsafe."""
        stop = threading.Event()

        def work() -> None:
            while not stop.is_set() and self._one():
                pass

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def _one(self) -> bool:
        """One piece done (False: none left)."""
        try:
            piece = self.todo.popleft()
        except IndexError:
            return False
        try:
            piece()
        except Exception:  # noqa: BLE001 — a piece only makes the next build faster (its post may be gone
            pass  # by now): what is wrong, the next build says
        return True


def watch(
    inputs: Callable[[], Iterable[Path]],
    rebuild: Callable[[], int],
    ignore: Path,
    say: Callable[[str], None],
    interval: float = POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    polls: int | None = None,
    idle: Idle | None = None,
) -> int:
    """Build (``rebuild``, which returns an exit status), then again after each change of ``inputs()``,
    until Ctrl-C (or ``polls`` polls: tests); the status of the last build.  Between polls, ``idle``'s work.

    ``inputs`` is asked again after each build: series.yaml may name other posts now.
    """
    idle = idle or Idle()
    watched = list(inputs())
    before = snapshot(watched, ignore)
    status = rebuild()
    say(f"watching {len(before)} files for changes (Ctrl-C to stop)")
    done = 0
    building = False
    try:
        while polls is None or done < polls:
            idle(interval, sleep)
            done += 1
            after = snapshot(watched, ignore)
            changed = changes(before, after)
            if not changed:
                continue
            more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
            say(f"{changed[0]}{more} changed: building again")
            building = True
            status = rebuild()
            building = False
            before, watched = rebaseline(after, watched, list(inputs()), ignore)
    except KeyboardInterrupt:
        say("stopped watching")
        return INTERRUPTED if building else status
    return status


INTERRUPTED = 130  # the exit status of a build stopped by Ctrl-C


def rebaseline(after: Snapshot, watched: list[Path], inputs: list[Path], ignore: Path) -> tuple[Snapshot, list[Path]]:
    """What the next poll compares with, after a build that started from ``after``: what changed while it
    built (added, removed, edited) is still a change; the files of inputs new since (series.yaml names
    another folder now) are taken as built, and those of inputs no longer watched are let go."""
    kept = {name: stamp for name, stamp in after.items() if _under_any(name, inputs)}
    fresh = snapshot([path for path in inputs if path not in watched], ignore)
    return {**fresh, **kept}, inputs
