r"""The fallback ladder: what TeX rejects is set aside and shown as its source; the book is built anyway.

MathJax shows a formula it cannot typeset in red and renders the rest of the
page.  TeX stops the volume.  So, round by round:

1. latexmk runs in nonstop mode: one run reports every error, not just the first;
2. each error is traced to the smallest unit of a post it came from
   (``unit_of``): TeX names the file and line, its context gives the column,
   and the innermost unit whose span holds that place is it — unless that unit
   was set aside already, in which case the error passes to the unit around it
   (a formula, then its paragraph, then the list holding that…: the ladder);
3. those units become fallbacks (``Post.fallbacks``; the writer shows each as
   its TeX source in a frame with the post's file and line), the volume is
   rendered again, and the next round runs.

A book without errors costs no extra run.  After ``MAX_ROUNDS`` rounds with
errors left, or errors that no unit explains (the preamble, a template), the
build stops with the full list.  A TeX that hangs is stopped; a diagnostic run
of the chapter it hung in, with every unit announcing itself to the terminal
(``\bookgenprobe``), names the unit.  ``strict`` keeps the old way: the first
error stops the build.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bookgen import model as m
from bookgen.compile import (
    TexProblem,
    TexRun,
    drop_interrupted_state,
    fatal_message,
    read_log,
    run_latexmk,
    run_tex,
    tex_problems,
    xelatex_command,
)
from bookgen.cache import text_digest
from bookgen.errors import TexError
from bookgen.latex.render import Rendered, Span, post_file
from bookgen.latex.writer import LINE_MARK

MAX_ROUNDS = 4  # rounds of fallbacks after the first run; each one costs about one TeX pass
HANG_MESSAGE = "TeX did not finish (a loop it never leaves)"
OPENED_POST = re.compile(r"\((?:\./)?posts/(\d+)\.tex")
PROBED = re.compile(r"\[bookgen unit (\d+)\]")
MARK = re.compile("^" + re.escape(LINE_MARK).replace(r"\{\}", r"(\d+)") + "$")
AUXILIARY = ("main.toc", "main.out", "main.aux")  # written from headings: an error there is a stale copy
READS_AUXILIARY = re.compile(r"\\begin\{document\}|\\tableofcontents")  # where main.tex reads them


@dataclass(frozen=True)
class Fallback:
    """A unit TeX rejected, shown as its source."""

    post: m.Post
    span: Span
    message: str
    source: str  # what TeX got

    def __str__(self) -> str:
        excerpt = " ".join(self.source.split())
        excerpt = excerpt if len(excerpt) <= 40 else excerpt[:39] + "…"
        return f'TeX error "{self.message}" in `{excerpt}`; shown as source'


@dataclass
class Outcome:
    book: m.Book
    rendered: Rendered
    fallbacks: list[Fallback]
    run: TexRun | None  # None: TeX was not run (given what it built last time)


Render = Callable[[m.Book, frozenset], Rendered]


def compile_with_fallbacks(
    book: m.Book,
    rendered: Rendered,
    render: Render,
    write: Callable[[Rendered], None],
    volume_dir: Path,
    on_pass: Callable[[int, str], None],
    strict: bool = False,
    idle_timeout: float | None = None,
    known: tuple[Fallback, ...] = (),
) -> Outcome:
    """Build until TeX accepts the volume, setting aside what it rejects; ``TexError`` when that cannot work.

    ``known``: fallbacks ``book`` and ``rendered`` have already (the last build's, ``reapply``).
    """
    timeouts = {} if idle_timeout is None else {"idle_timeout": idle_timeout}
    fallbacks: list[Fallback] = list(known)
    for _round in range(MAX_ROUNDS + 1):
        write(rendered)
        run = run_latexmk(volume_dir, on_pass, strict=strict, **timeouts)
        if run.ok and (volume_dir / "main.pdf").exists():
            return Outcome(book, rendered, fallbacks, run)
        # A TeX that hung never finished its log; what it printed is on the terminal.
        problems = tex_problems(run.terminal if run.hung else read_log(volume_dir)) or tex_problems(run.terminal)
        if strict:
            raise first_error(run, problems, rendered, volume_dir)
        found = units_to_set_aside(problems, rendered)
        if run.hung and not found:  # errors before a hang may be its cause: those go first, then the probe
            found = locate_hang(run, book, rendered, render, volume_dir, timeouts)
        if not found:
            if not run.hung and _drop_stale_auxiliary(problems, volume_dir):
                continue  # a heading set aside last round is still in the contents TeX read first
            raise unresolved(run, problems, rendered, volume_dir)
        fallbacks += found
        book = with_fallbacks(book, found)
        rendered = render(book, frozenset())
        if any(f.span.unit.kind == "heading" for f in found):
            _drop(volume_dir, AUXILIARY[:2])  # the contents and bookmarks would bring the old heading back
    raise unresolved(run, problems, rendered, volume_dir, rounds=MAX_ROUNDS)


# ---------------------------------------------------------------- errors → units


def units_to_set_aside(problems: list[TexProblem], rendered: Rendered) -> list[Fallback]:
    """The unit of each error (the first error of a unit gives its message), in the order TeX met them."""
    chosen: dict[tuple[str, int], Fallback] = {}
    for problem in problems:
        located = unit_of(problem, rendered)
        if located is None:
            continue
        post, span = located
        source = rendered.files[post_file(post)][span.start : span.end]
        chosen.setdefault((post_file(post), span.unit.number), Fallback(post, span, problem.message, source))
    return list(chosen.values())


def unit_of(problem: TexProblem, rendered: Rendered) -> tuple[m.Post, Span] | None:
    """The unit an error came from: the smallest one not yet set aside that holds the place of the error.

    TeX often notices a formula's fault a little later: at the end of a footnote or a cell that
    holds it, at the end of the paragraph.  So when that place is in a block's text rather than in
    a formula, the last formula of the block before it is blamed first; should the error stay,
    the next round passes it to the block.
    """
    if problem.in_output or problem.path not in rendered.spans:
        return None  # raised while shipping a page: where TeX was reading says nothing of the cause
    post = rendered.posts[problem.path]
    spans = rendered.spans[problem.path]
    offset = offset_of(rendered.files[problem.path], problem)
    set_aside = {number for number, _message in post.fallbacks}
    free = [s for s in spans if s.unit.number not in set_aside]
    holding = sorted((s for s in free if s.start <= offset <= s.end), key=lambda s: s.end - s.start)
    if holding and holding[0].unit.kind == "formula":
        return post, holding[0]
    if holding:
        block = holding[0]
    elif _between_blocks(rendered.files[problem.path], offset):  # a paragraph's end: the block that ended last
        ended = [s for s in free if s.end <= offset]
        if not ended:
            return None
        block = max(ended, key=lambda s: (s.end, s.start))
    else:
        return None  # the template's own TeX, not a post's
    # The last formula before the error, unless one set aside already stands there (the error stayed).
    fallen = [s for s in spans if s.unit.number in set_aside and block.start <= s.start and s.start <= offset]
    if any(s.end >= offset for s in fallen):
        return post, block
    after = max([block.start] + [s.end for s in fallen])
    formulas = [s for s in free if s.unit.kind == "formula" and after <= s.start and s.end <= min(offset, block.end)]
    if formulas:
        return post, max(formulas, key=lambda s: (s.end, -s.start))
    return post, block


def _between_blocks(text: str, offset: int) -> bool:
    """Whether ``offset`` is on a blank line or a ``%@ line`` mark: where TeX ends the paragraph before it."""
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    line = text[start : end if end >= 0 else len(text)]
    return not line.strip() or bool(MARK.match(line))


def _innermost_free(spans, post: m.Post, holds) -> tuple[m.Post, Span] | None:
    set_aside = {number for number, _message in post.fallbacks}
    for span in sorted((s for s in spans if holds(s)), key=lambda s: s.end - s.start):
        if span.unit.number not in set_aside:
            return post, span
    return None


def offset_of(text: str, problem: TexProblem) -> int:
    """Where in ``text`` TeX was when it raised ``problem``: the split of its context, else the line's end."""
    lines = text.split("\n")
    number = min(max(problem.line, 1), len(lines))
    start = sum(len(line) + 1 for line in lines[: number - 1])
    content = lines[number - 1]
    column = _column(content, problem.before, problem.after)
    return start + (len(content) if column is None else column)


def _column(content: str, before: str | None, after: str | None) -> int | None:
    if before is None:
        return None
    cut = before.startswith("...")
    before = before[3:] if cut else before
    after = (after or "")
    after = after[:-3] if after.endswith("...") else after
    if not cut:
        return len(before) if content.startswith(before) and content[len(before) :].startswith(after) else None
    at = content.find(before)
    while at >= 0:
        if content[at + len(before) :].startswith(after):
            return at + len(before)
        at = content.find(before, at + 1)
    return None


def with_fallbacks(book: m.Book, found: list[Fallback]) -> m.Book:
    by_post: dict[int, list[tuple[int, str]]] = {}
    for fallback in found:
        by_post.setdefault(fallback.post.id, []).append((fallback.span.unit.number, fallback.message))
    chapters = []
    for chapter in book.chapters:
        more = by_post.get(chapter.post.id)
        if more:
            post = dataclasses.replace(chapter.post, fallbacks=tuple(sorted(chapter.post.fallbacks + tuple(more))))
            chapter = dataclasses.replace(chapter, post=post)
        chapters.append(chapter)
    return dataclasses.replace(book, chapters=tuple(chapters))


# ---------------------------------------------------------------- the last build's fallbacks

Record = dict[int, tuple[str, tuple[tuple[int, str], ...]]]  # post id → (its .tex without fallbacks, units)


def record_of(book: m.Book, plain: Rendered) -> Record:
    """What to remember of a build's fallbacks: each post's units, with the digest of its .tex without them."""
    return {
        ch.post.id: (text_digest(plain.files[post_file(ch.post)]), ch.post.fallbacks)
        for ch in book.chapters
        if ch.post.fallbacks
    }


def reapply(book: m.Book, plain: Rendered, render: Render, record: Record) -> tuple[m.Book, Rendered, tuple[Fallback, ...]]:
    """The last build's fallbacks set aside again in each post whose .tex (without them) is the same as then.

    A post that changed is tried as it is: its units may be numbered otherwise now, and TeX may take it.
    """
    found: list[Fallback] = []
    for chapter in book.chapters:
        path = post_file(chapter.post)
        digest, units = record.get(chapter.post.id, ("", ()))
        if not units or digest != text_digest(plain.files.get(path, "")):
            continue
        spans = {span.unit.number: span for span in plain.spans.get(path, ())}
        text = plain.files[path]
        found += [
            Fallback(chapter.post, spans[n], message, text[spans[n].start : spans[n].end]) for n, message in units if n in spans
        ]
    if not found:
        return book, plain, ()
    book = with_fallbacks(book, found)
    return book, render(book, frozenset()), tuple(found)


# ---------------------------------------------------------------- a TeX that hangs


PROBE_MAIN = r"""\AtBeginDocument{\renewcommand{\bookgenchapter}[1]{\def\bookgenthis{#1}%
  \ifx\bookgenthis\bookgenprobetarget\begingroup\input{#1.probe}\endgroup\fi}}
\def\bookgenprobetarget{posts/@ID@}
\input{main.tex}
"""


def locate_hang(run: TexRun, book: m.Book, rendered: Rendered, render: Render, volume_dir: Path, timeouts) -> list[Fallback]:
    """The unit TeX hung in: the chapter it opened last, run alone with each unit announcing itself."""
    opened = OPENED_POST.findall(run.terminal)
    path = f"posts/{opened[-1]}.tex" if opened else None
    if path not in rendered.spans:
        return []
    post = rendered.posts[path]
    probe_text = render(book, frozenset({post.id})).files[path]
    probe_file = volume_dir / f"posts/{post.id}.probe.tex"
    probe_main = volume_dir / "bookgen-probe.tex"
    try:
        probe_file.write_text(probe_text, encoding="utf-8")
        probe_main.write_text(PROBE_MAIN.replace("@ID@", str(post.id)), encoding="utf-8")
        probe = run_tex(xelatex_command(probe_main.name, "bookgen-probe"), volume_dir, **timeouts)
    finally:
        _drop(volume_dir, [probe_file.relative_to(volume_dir).as_posix(), probe_main.name])
        for leftover in volume_dir.glob("bookgen-probe.*"):
            leftover.unlink(missing_ok=True)
    drop_interrupted_state(volume_dir)
    if not probe.hung:
        return []  # it does not hang alone: nothing to blame
    announced = PROBED.findall(probe.terminal.split(f"posts/{post.id}.probe.tex", 1)[-1])
    if not announced:
        return []
    spans = {span.unit.number: span for span in rendered.spans[path]}
    last = spans.get(int(announced[-1]))
    if last is None:
        return []
    located = _innermost_free(rendered.spans[path], post, lambda s: s.start <= last.start and last.end <= s.end)
    if located is None:
        return []
    return [Fallback(post, located[1], HANG_MESSAGE, rendered.files[path][located[1].start : located[1].end])]


# ---------------------------------------------------------------- giving up


def first_error(run: TexRun, problems: list[TexProblem], rendered: Rendered, volume_dir: Path) -> TexError:
    if run.hung:
        return TexError(HANG_MESSAGE + " and was stopped", volume_dir / "main.log")
    if not problems:
        message = fatal_message(read_log(volume_dir)) or fatal_message(run.terminal) or "xelatex failed (see main.log)"
        return TexError(f"TeX error: {message}", volume_dir / "main.log")
    return located_error(problems[0], rendered, volume_dir)


def located_error(problem: TexProblem, rendered: Rendered, volume_dir: Path) -> TexError:
    """``post.md:LINE: TeX error: …`` for an error in a post's file, else the .tex file and line."""
    tex_path = volume_dir / problem.path
    detail = f": l.{problem.line} {problem.before}{problem.after or ''}" if problem.before is not None else ""
    where = f" (at {tex_path}:{problem.line}{detail})"
    post = rendered.posts.get(problem.path)
    if post is None:
        return TexError(f"TeX error: {problem.message}{where}", tex_path, problem.line)
    return TexError(f"TeX error: {problem.message}{where}", post.path, _post_line(rendered, problem))


def _post_line(rendered: Rendered, problem: TexProblem) -> int | None:
    """The post line of the error: the nearest ``%@ line N`` mark above it, or the line of the formula
    holding it when that is further down (a paragraph's formulas may be on later lines of the post).
    """
    text = rendered.files[problem.path]
    lines = text.split("\n")
    mark = None
    for index in range(min(problem.line, len(lines)) - 1, -1, -1):
        found = MARK.match(lines[index])
        if found:
            mark = int(found.group(1))
            break
    offset = offset_of(text, problem)
    holding = [s.unit.line for s in rendered.spans[problem.path] if s.start <= offset <= s.end]
    return max([line for line in [mark, *holding] if line is not None], default=None)


def unresolved(run: TexRun, problems: list[TexProblem], rendered: Rendered, volume_dir: Path, rounds: int = 0) -> TexError:
    """Every error left, the first as the message and the others as details."""
    error = first_error(run, problems, rendered, volume_dir)
    if rounds:
        error.message += f" (errors left after {rounds} rounds of fallbacks)"
    error.details = [str(located_error(p, rendered, volume_dir)) for p in problems[1:]]
    return error


def _drop_stale_auxiliary(problems: list[TexProblem], volume_dir: Path) -> bool:
    """Drop the auxiliary files when an error comes from reading them; whether there were any to drop."""
    reading = any(p.path in AUXILIARY or (p.path == "main.tex" and READS_AUXILIARY.search(p.before or "")) for p in problems)
    stale = [name for name in AUXILIARY if (volume_dir / name).exists()] if reading else []
    _drop(volume_dir, stale)
    return bool(stale)


def _drop(volume_dir: Path, names) -> None:
    for name in names:
        (volume_dir / name).unlink(missing_ok=True)
