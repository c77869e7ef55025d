"""The document model passed between the stages.

A ``Book`` holds ``Chapter``s; a chapter holds one ``Post``; a post holds
blocks, and blocks hold inlines.  Everything is a frozen dataclass: a transform
is a function ``Book -> Book`` that builds changed copies (``dataclasses.replace``)
and never edits in place.  Every block, and every piece of math, carries the
1-based line of the source file it came from, so any later stage (a repair
report, a TeX error) can point the user back at the post.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

# ---------------------------------------------------------------- inlines


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Emph:
    children: tuple["Inline", ...]


@dataclass(frozen=True)
class Strong:
    children: tuple["Inline", ...]


@dataclass(frozen=True)
class Strike:
    children: tuple["Inline", ...]


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Math:
    """TeX math as written; ``display`` math is set on its own lines."""

    tex: str
    display: bool
    line: int


@dataclass(frozen=True)
class Link:
    url: str
    children: tuple["Inline", ...]


@dataclass(frozen=True)
class ChapterRef:
    """A link to another chapter of the same volume (made by the links pass)."""

    post_id: int
    anchor: str | None
    children: tuple["Inline", ...]


@dataclass(frozen=True)
class FootnoteRef:
    label: str


@dataclass(frozen=True)
class LineBreak:
    pass


@dataclass(frozen=True)
class RawTex:
    """TeX produced by a transform (never by a reader): emitted as is."""

    tex: str


Inline = Union[Text, Emph, Strong, Strike, Code, Math, Link, ChapterRef, FootnoteRef, LineBreak, RawTex]

# ---------------------------------------------------------------- blocks


@dataclass(frozen=True)
class Heading:
    level: int
    children: tuple[Inline, ...]
    line: int
    anchor: str = ""  # the heading's plain text, used to resolve #fragment links


@dataclass(frozen=True)
class Paragraph:
    children: tuple[Inline, ...]
    line: int


@dataclass(frozen=True)
class CodeBlock:
    text: str
    language: str
    line: int


@dataclass(frozen=True)
class ListBlock:
    ordered: bool
    start: int
    items: tuple[tuple["Block", ...], ...]
    line: int


@dataclass(frozen=True)
class Quote:
    children: tuple["Block", ...]
    line: int


@dataclass(frozen=True)
class Table:
    header: tuple[tuple[Inline, ...], ...]
    rows: tuple[tuple[tuple[Inline, ...], ...], ...]
    aligns: tuple[str, ...]  # "l", "c", "r" per column
    line: int


@dataclass(frozen=True)
class Figure:
    src: str  # as written in the post (/usr/uploads/…)
    caption: tuple[Inline, ...]
    line: int
    local_file: str = ""  # set by the images pass when the file was found


@dataclass(frozen=True)
class Rule:
    line: int


Block = Union[Heading, Paragraph, CodeBlock, ListBlock, Quote, Table, Figure, Rule]

# ---------------------------------------------------------------- documents


@dataclass(frozen=True)
class Post:
    id: int
    title: str
    date: str  # ISO yyyy-mm-dd, or "" when unknown
    url: str
    path: Path
    blocks: tuple[Block, ...]
    footnotes: tuple[tuple[str, tuple[Block, ...]], ...] = ()
    macros: tuple[str, ...] = ()  # TeX macro definitions scoped to this post
    mirror: str = ""  # "html2text" when the file came from that mirror (its math has known artifacts)
    # Units of the rendered post (latex.writer numbers them) that TeX rejected, with TeX's message:
    # the writer shows them as their source (bookgen.fallback).
    fallbacks: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Chapter:
    post: Post
    title: str  # the manifest's override, or the post's title (its subtitle, with chapter_titles: short)
    number: int | None = None  # the series' number when LaTeX's count would show another (bookgen.series.chapters)


@dataclass(frozen=True)
class Book:
    key: str
    title: str
    subtitle: str
    author: str
    paper: str
    chapters: tuple[Chapter, ...]
    language: str = "zh-Hans"  # or the OpenCC config name of a Traditional build
    options: dict = field(default_factory=dict, compare=False, hash=False)
