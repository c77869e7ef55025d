"""The document model passed between the stages.

A ``Book`` holds ``Chapter``s; a chapter holds one ``Post``; a post holds
blocks, and blocks hold inlines.  Everything is a frozen dataclass: a pass of the
normalizer is a function ``Post -> Post`` (or ``Book -> Book``) that builds changed
copies (``dataclasses.replace``) and never edits in place, and the model is all
that one stage hands the next.  Every block, and every piece of math, carries the
1-based line of the source file it came from, so any later stage (a repair
report, a TeX error) can point the user back at the post.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    # Set by the images pass when the file was found and TeX can show it: the file, and where in the build
    # folder it goes (the pipeline copies it there, an SVG converted to PDF).
    local_file: str = ""
    source_file: Path | None = None
    problem: str = ""  # else, why it stays a placeholder (the pass's warning)


@dataclass(frozen=True)
class Rule:
    line: int


@dataclass(frozen=True)
class RawBlock:
    """A block of TeX produced by a transform (never by a reader): emitted as is."""

    tex: str
    line: int


Block = Union[Heading, Paragraph, CodeBlock, ListBlock, Quote, Table, Figure, Rule, RawBlock]

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
    # What the reader noticed and changed while reading the file (HTML nested too deep, flattened), each with
    # the file's line: the pipeline reports them as warnings of "reader".
    notes: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Chapter:
    post: Post
    # The chapter's heading (the manifest's override, or the post's title — its subtitle, with chapter_titles:
    # short): inlines like any text, which the passes see (symbols, Traditional Chinese, fallback fonts).
    title: tuple[Inline, ...]
    # The post's whole title, printed under a heading that says something else (empty when it does not).
    full_title: tuple[Inline, ...] = ()
    number: int | None = None  # the series' number when LaTeX's count would show another (bookgen.series.chapters)
    fonts: tuple[tuple[str, tuple[str, ...]], ...] = ()  # fallback fonts the glyphs pass set its text in, and their roles


@dataclass(frozen=True)
class Book:
    key: str
    title: tuple[Inline, ...]  # the book's title, subtitle and author, inlines like a chapter's title
    subtitle: tuple[Inline, ...]
    author: tuple[Inline, ...]
    paper: str
    chapters: tuple[Chapter, ...]
    language: str = "zh-Hans"  # or the OpenCC config name of a Traditional build
    fonts: tuple[tuple[str, tuple[str, ...]], ...] = ()  # fallback fonts of the book's own titles (as Chapter.fonts)
    # TeX the preamble needs for what the passes chose: the fallback fonts the glyphs pass set characters in.
    font_declarations: tuple[str, ...] = ()


def text(value: str) -> tuple[Inline, ...]:
    """A plain string as inlines (a title from series.yaml or a post's front matter)."""
    return (Text(value),) if value else ()


def plain(nodes: tuple[Inline, ...], math=lambda tex: f"${tex}$", line_break: str = "") -> str:
    """What inlines say, without their markup (a title in a message); ``math`` says what a formula's TeX reads as."""
    out = []
    for node in nodes:
        if isinstance(node, (Text, Code)):
            out.append(node.text)
        elif isinstance(node, Math):
            out.append(math(node.tex))
        elif isinstance(node, LineBreak):
            out.append(line_break)
        else:
            out.append(plain(getattr(node, "children", ()), math, line_break))
    return "".join(out)
