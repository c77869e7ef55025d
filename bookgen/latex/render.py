"""Book → the text of every .tex file, keyed by its path inside the volume folder, and where its units are.

The writer brackets each unit (a block or a formula) with marker characters;
after the templates have run and the text is tidied, the markers come out and
each unit's span in its file is kept (``Span``), so a TeX error at a line and
column of a file can be traced to the unit it came from (``bookgen.fallback``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import jinja2

from bookgen import model as m
from bookgen.catalogue import CJK_CHARACTERS
from bookgen.latex.language import Language
from bookgen.latex.templating import Tex
from bookgen.latex.writer import UNIT_END, UNIT_MARKER, UNIT_START, Unit, render_post, render_title, without_markers


@dataclass(frozen=True)
class Span:
    """Where a unit is in its file: ``text[start:end]``."""

    unit: Unit
    start: int
    end: int


@dataclass(frozen=True)
class Rendered:
    files: dict[str, str]  # path in the volume folder → text
    spans: dict[str, tuple[Span, ...]] = field(default_factory=dict)  # post file → its units, by start
    posts: dict[str, m.Post] = field(default_factory=dict)  # post file → the post it renders


def post_file(post: m.Post) -> str:
    return f"posts/{post.id}.tex"


@dataclass(frozen=True)
class BookView:
    """What the templates see of a book: its titles rendered (``<<book.title|tex>>`` keeps them)."""

    key: str
    title: Tex
    subtitle: Tex
    author: Tex
    paper: str


def book_view(book: m.Book) -> BookView:
    return BookView(book.key, Tex(render_title(book.title)), Tex(render_title(book.subtitle)),
                    Tex(render_title(book.author)), book.paper)  # fmt: skip


# A post file made before: the chapter it was made from, its text and its units (from the build cache).
Made = tuple[m.Chapter, str, tuple[Span, ...]]


def render_book(
    book: m.Book,
    env: jinja2.Environment,
    language: Language,
    manifest_name: str,
    probes: frozenset[int] = frozenset(),
    made: dict[str, Made] | None = None,
) -> Rendered:
    """Every file of the volume; ``probes``: ids of the posts whose units announce themselves to TeX's terminal.

    ``made``: post files rendered before (the caller vouches they were made with these templates and
    language), used while the book holds the very chapter they were made from.
    """
    files: dict[str, str] = {}
    spans: dict[str, tuple[Span, ...]] = {}
    chapter_template = env.get_template("chapter.tex.j2")
    for chapter in book.chapters:
        path = post_file(chapter.post)
        before = (made or {}).get(path)
        if before is not None and before[0] is chapter and chapter.post.id not in probes:
            files[path], spans[path] = before[1], before[2]
            continue
        body, units = render_post(chapter.post, probes=chapter.post.id in probes)
        text = chapter_template.render(
            post=chapter.post, title=Tex(render_title(chapter.title)), full_title=Tex(render_title(chapter.full_title)),
            number=chapter.number, body=body, language=language,
        )  # fmt: skip
        files[path], spans[path] = extract_units(break_long_lines(tidy(text)), units)
    main = env.get_template("book.tex.j2").render(
        book=book_view(book),
        chapters=[ch.post for ch in book.chapters],
        language=language,
        manifest_name=manifest_name,
        extra_preamble="\n".join(book.font_declarations),
    )
    files["main.tex"] = break_long_lines(tidy(without_markers(main)))
    return Rendered(files, spans, {post_file(ch.post): ch.post for ch in book.chapters})


_TRAILING = re.compile("[\\s\U000F0000-\U0010FFFF]*$")


def _rstrip(line: str) -> str:
    """``line.rstrip()``, keeping the unit markers among what it strips."""
    tail = _TRAILING.search(line)
    if tail.start() == len(line):
        return line
    return line[: tail.start()] + "".join(UNIT_MARKER.findall(line, tail.start()))


def tidy(text: str) -> str:
    """One trailing newline, no trailing spaces, no runs of blank lines: stable, diff-friendly files.

    Unit markers count as nothing: a line holding only markers is blank, and the markers of a
    line that goes are kept at the end of the line before it.
    """
    out: list[str] = []
    pending = ""  # markers of blank lines dropped before the first line kept
    for line in text.split("\n"):
        line = _rstrip(line)
        blank = not without_markers(line)
        if not blank or (out and without_markers(out[-1])):
            out.append(pending + line)
            pending = ""
        elif out:
            out[-1] += line
        else:
            pending += line
    while len(out) > 1 and not without_markers(out[-1]):  # trailing blank lines go, their markers stay
        last = out.pop()
        out[-1] += last
    return "\n".join(out).rstrip("\n") + pending + "\n"


# TeX reads a line into a buffer of 200 000 bytes and stops ("Unable to read an entire line");
# a CJK character takes 3, so lines stay far below that.
MAX_LINE = 10000
_CJK_PAIR = re.compile(f"[{CJK_CHARACTERS}][{CJK_CHARACTERS}]")


def break_long_lines(text: str, limit: int = MAX_LINE) -> str:
    r"""Lines longer than ``limit`` broken where TeX does not care: a space becomes a line break,
    else ``%`` and a line break go between two CJK characters; a code line is wrapped.

    Before → after (limit 10): ``中文中文中文中文中文中文`` → ``中文中文中文中文中%⏎文中文``.
    """
    if all(len(line) <= limit for line in text.split("\n")):
        return text
    out: list[str] = []
    in_code = False
    for line in text.split("\n"):
        bare = without_markers(line)
        if bare.startswith("\\begin{bookgencode}"):
            in_code = True
        elif bare.startswith("\\end{bookgencode}"):
            in_code = False
        while len(line) > limit:
            head, line = _break(line, limit, in_code)
            out.append(head)
        out.append(line)
    return "\n".join(out)


def _break(line: str, limit: int, in_code: bool) -> tuple[str, str]:
    """The first piece of a long line and the rest."""
    window = line[limit // 2 : limit]
    if in_code:
        return line[:limit], line[limit:]
    space = window.rfind(" ")
    if space >= 0:
        cut = limit // 2 + space
        return line[:cut], line[cut + 1 :]
    pairs = [found.start() for found in _CJK_PAIR.finditer(without_markers(window))]
    if pairs:  # position in the window without markers → with them
        cut = _with_markers(window, pairs[-1] + 1) + limit // 2
        return line[:cut] + "%", line[cut:]
    return line[:limit], line[limit:]  # no break point: TeX may read it as two words, which beats stopping


def _with_markers(text: str, plain_index: int) -> int:
    seen = 0
    for index, char in enumerate(text):
        if seen == plain_index:
            return index
        if not UNIT_MARKER.match(char):
            seen += 1
    return len(text)


def extract_units(text: str, units: list[Unit]) -> tuple[str, tuple[Span, ...]]:
    """``text`` without its unit markers, and the span of each unit whose two markers are in it."""
    pieces: list[str] = []
    spans: list[Span] = []
    starts: dict[int, int] = {}
    removed = last = 0
    for marker in UNIT_MARKER.finditer(text):
        pieces.append(text[last : marker.start()])
        last = marker.end()
        position = marker.start() - removed
        removed += 1
        code = ord(marker.group(0))
        if UNIT_START <= code < UNIT_END and code - UNIT_START < len(units):
            starts[code - UNIT_START] = position
        elif code - UNIT_END in starts:
            number = code - UNIT_END
            spans.append(Span(units[number], starts.pop(number), position))
    pieces.append(text[last:])
    return "".join(pieces), tuple(sorted(spans, key=lambda span: (span.start, -span.end)))
