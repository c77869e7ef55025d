r"""The site's own article pages (``/archives/N``, saved as .html) → ``model.Post``.

A page of spaces.ac.cn (Typecho, theme "geekg") holds the post in
``<div id="PostContent">``; its math is raw TeX in the text (MathJax renders it
in the browser): ``$…$``, ``$$…$$`` and bare ``\begin{equation}…\end{equation}``,
lines separated by ``<br>``, ``<`` ``>`` ``&`` written as entities.

The page is parsed by lxml (``readers.htmlpage``: the tree, PostContent, the
title and date) and the subtree of PostContent is turned into model nodes
directly, with the line of the element each block comes from:

* ``<p>`` a paragraph (and runs of text between blocks in a ``<div>``), h1–h6
  headings (a permalink ``<a href="#…">#</a>`` is dropped), ``<ul>``/``<ol>``
  lists, ``<blockquote>`` quotes, ``<pre>`` code (its language from a
  ``language-x``/``lang-x`` class), ``<table>`` tables (the first row is the
  header, alignment from ``align``/``style``), ``<hr>`` a rule;
* inside them, text and math (``readers.htmlinline``: ``<br>``, soft breaks,
  math found the way MathJax finds it), ``<b>``/``<strong>``, ``<i>``/``<em>``,
  ``<del>``/``<s>``, ``<code>``, ``<a>`` links, ``<img>`` images; a page saved
  from a browser gives its math from the ``math/tex`` scripts, and MathJax's
  rendering is skipped;
* the shaping steps shared with the Markdown reader (``readers.shaping``): a
  paragraph of images is a figure, the short paragraph after it (or the text
  after ``<br>`` in the image's own ``<p>``) its caption;
* the site's boilerplate at the end of PostContent (转载到请包括本文地址…, 打赏,
  如果您需要引用本文, ``@online{…}``) is cut like ``readers.mirror`` cuts a
  mirror's; the citation line in it gives the date.

Anything nested deeper than ``MAX_DEPTH`` elements inside PostContent is read
as plain text (with a note in ``Post.notes``), so no page can make the reader
recurse without bound.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from markdown_it.common.normalize_url import normalizeLink, validateLink

from bookgen import model as m
from bookgen.errors import SourceError
from bookgen.readers.htmlinline import (
    Br, Chars, Close, Mark, Open, ScriptMath, nest, visible, write_line, write_paragraphs,
)  # fmt: skip
from bookgen.readers.htmlpage import (
    BLOCK, CONTENT_ID, MAX_DEPTH, NESTING_NOTE, Lines, classes, has_block, image_source, image_sources, is_math_script,
    page_date, page_title, parse_page, skipped, tag_of, text_of,
)  # fmt: skip
from bookgen.readers.shaping import Draft, Image, SoftBreak, attach_figures, images_as_links, is_display

__all__ = ["read_html", "image_sources"]  # image_sources: what bookgen fetch downloads with a page

BOILERPLATE = re.compile(r"\s*(?:转载到请包括本文地址|如果您需要引用本文|如果您还有什么疑惑或建议|如果您觉得本文还不错|@online\{kexuefm)")
NOTES_SECTION = "公式推导与注释"  # an <h2> the mirrors cut with the boilerplate (readers.mirror)
PERMALINK_TEXTS = ("", "#", "¶", "§")
STYLES = {"strong": m.Strong, "b": m.Strong, "em": m.Emph, "i": m.Emph, "del": m.Strike, "s": m.Strike,
          "strike": m.Strike}  # fmt: skip
CODE_TAGS = frozenset("code kbd samp tt".split())
LANGUAGE = re.compile(r"(?:language|lang)-([\w+#.-]+)")


def read_html(text: str, path: Path, archive_id: int) -> m.Post:
    page = parse_page(text)
    if page.content is None:
        raise SourceError(f'no <div id="{CONTENT_ID}"> in this page (not an article page of spaces.ac.cn?)', path, 1)
    reader = _Reader(page.notes)
    blocks = attach_figures(reader.blocks(reader.children(page.content), 1))
    while blocks and isinstance(blocks[-1], m.Rule):  # the rule above the boilerplate
        blocks.pop()
    return m.Post(
        id=archive_id,
        title=page_title(page.root, page.content) or str(archive_id),
        date=page_date(page.root, page.content, "\n".join(reader.tail or ())),
        url=f"https://spaces.ac.cn/archives/{archive_id}",
        path=path,
        blocks=tuple(blocks),
        notes=tuple(reader.notes),
    )


def link_target(url: str) -> str:
    """An address as the Markdown reader gives it (percent-encoded), so both readers link alike."""
    url = url.strip().replace("\n", "")
    for char, code in ((" ", "%20"), ("(", "%28"), (")", "%29"), ("<", "%3C"), (">", "%3E"), ("\\", "%5C")):
        url = url.replace(char, code)
    return normalizeLink(url)


class _Reader:
    """Walks PostContent once, in document order; after the boilerplate starts, text only feeds ``tail``."""

    def __init__(self, notes: list[tuple[int, str]]):
        self.lines = Lines()
        self.notes = list(notes)
        self.tail: list[str] | None = None
        self.nested = 0  # inside a quote or a list the boilerplate's words are the author's, not the post's end

    def children(self, element) -> list:
        """An element's content: its text (``Chars``) and child elements, in order."""
        out: list = []
        if element.text:
            out.append(Chars(element.text, self.lines.text_line(element)))
        for child in element:
            if tag_of(child):
                out.append(child)
            if child.tail:
                out.append(Chars(child.tail, self.lines.tail_line(child)))
        return out

    def note_flattened(self, line: int) -> None:
        if all(note != NESTING_NOTE for _, note in self.notes):
            self.notes.append((line, NESTING_NOTE))

    # ---------------------------------------------------------------- blocks
    def blocks(self, nodes: list, depth: int) -> list:
        """Model blocks and Drafts: block elements, and paragraphs of the inline content between them."""
        out: list = []
        run: list = []
        for node in nodes:
            if isinstance(node, Chars) or depth > MAX_DEPTH or skipped(node):
                run.append(node)
            elif tag_of(node) in BLOCK or has_block(node):
                out.extend(self.paragraphs(run, depth))
                run = []
                out.extend(self.block(node, depth))
            else:
                run.append(node)
        out.extend(self.paragraphs(run, depth))
        return out

    def block(self, node, depth: int) -> list:
        if self.tail is not None:
            self.tail.append(text_of(node))
            return []
        tag, line, inner = tag_of(node), node.sourceline or 1, depth + 1
        if tag == "p" and has_block(node):
            return _starting_at(self.blocks(self.children(node), inner), line)
        if tag == "p":
            return self.paragraphs(self.children(node), inner, line)
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            return self.heading(node, int(tag[1]), inner)
        if tag in ("ul", "ol"):
            return self.listing(node, inner)
        if tag == "blockquote":
            self.nested += 1
            children = attach_figures(self.blocks(self.children(node), inner))
            self.nested -= 1
            return [m.Quote(tuple(children), line)] if children else []
        if tag == "pre":
            return [self.code(node)]
        if tag == "table":
            return self.table(node, inner)
        if tag == "hr":
            return [m.Rule(line)]
        return self.blocks(self.children(node), inner)  # div, section, figure, figcaption, center, li outside a list…

    def paragraphs(self, nodes: list, depth: int, line: int | None = None) -> list[Draft]:
        if self.tail is not None:
            self.tail.append("".join(n.text if isinstance(n, Chars) else text_of(n) for n in nodes))
            return []
        pieces = self.inline(nodes, depth, [])
        if not visible(pieces):
            return []
        drafts: list[Draft] = []
        for group in _figure_and_caption(pieces):
            for items, first in write_paragraphs(group):
                if self.tail is not None:  # cut in an earlier paragraph of this run
                    self.tail.append(m.plain(items))
                    continue
                items = self.before_boilerplate(items)
                if items:
                    drafts.append(Draft(nest(items), first))
        return _starting_at(drafts, line) if line else drafts

    def before_boilerplate(self, items: list) -> list:
        """The items before a line that starts the site's boilerplate; the rest goes to ``tail``."""
        if self.nested or self.tail is not None:
            return items
        for index in _line_starts(items):
            following = index
            while following < len(items) and _skippable(items[following]):
                following += 1
            if following < len(items) and type(items[following]) is m.Text and BOILERPLATE.match(items[following].text):
                self.tail = [m.plain(items[index:])]
                return items[:index]
        return items

    def heading(self, node, level: int, depth: int) -> list:
        children = tuple(images_as_links(nest(write_line(self.inline(self.children(node), depth, [])))))
        if not children:
            return []
        anchor = m.plain(children).strip()
        if level == 2 and anchor.startswith(NOTES_SECTION) and not self.nested:
            self.tail = [anchor]
            return []
        return [m.Heading(level, children, node.sourceline or 1, anchor)]

    def listing(self, node, depth: int) -> list:
        ordered = tag_of(node) == "ol"
        try:
            start = min(max(int(node.get("start") or 1), 0), 999_999_999)
        except ValueError:
            start = 1
        items: list[tuple[object, list]] = []
        for child in self.children(node):
            if not isinstance(child, Chars) and tag_of(child) == "li":
                items.append((child, self.children(child)))
            elif (not isinstance(child, Chars) and not skipped(child)) or (isinstance(child, Chars) and child.text.strip()):
                if items:  # a stray list or text directly in the list belongs to the item before it
                    items[-1][1].append(child)
                else:
                    items.append((None, [child]))
        if not items:
            return []
        read = []
        self.nested += 1
        for item, children in items:
            blocks = attach_figures(self.blocks(children, depth + 1))
            read.append(tuple(_starting_at(blocks, item.sourceline) if item is not None else blocks))
        self.nested -= 1
        return [m.ListBlock(ordered, start, tuple(read), node.sourceline or 1)]

    def code(self, node) -> m.CodeBlock:
        text = text_of(node)
        if text.startswith("\n"):
            text = text[1:]
        if not text.endswith("\n"):
            text += "\n"
        language = ""
        for element in [node, *node.iterdescendants("code")]:
            found = next((LANGUAGE.fullmatch(name) for name in classes(element) if LANGUAGE.fullmatch(name)), None)
            if found:
                language = found.group(1)
                break
        return m.CodeBlock(text, language, node.sourceline or 1)

    def table(self, node, depth: int) -> list:
        rows = []
        for row in node.iter("tr"):
            cells = [cell for cell in row if tag_of(cell) in ("td", "th")]
            if cells:
                rows.append([self.cell(cell, depth + 2) for cell in cells])
                if len(rows) == 1:
                    header = cells
        if not rows:
            return []
        width = max(len(cells) for cells in rows)
        padded = [tuple(cells) + ((),) * (width - len(cells)) for cells in rows]
        aligns = []
        for index in range(width):
            style = ((header[index].get("align") or "") + " " + (header[index].get("style") or "")).lower() if index < len(header) else ""
            aligns.append("c" if "center" in style else "r" if "right" in style else "l")
        return [m.Table(padded[0], tuple(padded[1:]), tuple(aligns), node.sourceline or 1)]

    def cell(self, cell, depth: int) -> tuple[m.Inline, ...]:
        return tuple(images_as_links(nest(write_line(self.inline(self.children(cell), depth, [])))))

    # ---------------------------------------------------------------- inlines
    def inline(self, nodes: list, depth: int, out: list) -> list:
        for node in nodes:
            if isinstance(node, Chars):
                out.append(node)
                continue
            tag, line = tag_of(node), node.sourceline or 1
            if depth > MAX_DEPTH:
                self.note_flattened(line)
                out.append(Chars(text_of(node), line))
            elif is_math_script(node):
                display = "mode=display" in (node.get("type") or "").replace(" ", "")
                out.append(ScriptMath(node.text or "", display, line))
            elif skipped(node):
                continue
            elif tag == "br":
                out.append(Br(line))
            elif tag == "img":
                if image_source(node):
                    out.append(Mark(Image(link_target(image_source(node)), (node.get("alt") or "").strip()), line, True))
            elif tag == "a":
                self.link(node, depth, out)
            elif tag in STYLES:
                inner = self.inline(self.children(node), depth + 1, [])
                if visible(inner):
                    out.extend([Open(STYLES[tag], line), *inner, Close(STYLES[tag], _last_line(inner))])
                else:
                    out.extend(inner)
            elif tag in CODE_TAGS:
                text = text_of(node, " ").replace("\n", " ")
                if text:
                    out.append(Mark(m.Code(text), line))
            elif tag in BLOCK:  # a block inside a table cell or a heading: its text, on lines of its own
                out.extend([Br(line), *self.inline(self.children(node), depth + 1, []), Br(line)])
            else:  # span, font, sub, sup, u, small, …: their content
                self.inline(self.children(node), depth + 1, out)
        return out

    def link(self, node, depth: int, out: list) -> None:
        href, line = (node.get("href") or "").strip(), node.sourceline or 1
        inner = self.inline(self.children(node), depth + 1, [])
        text = "".join(p.text for p in inner if isinstance(p, Chars)).strip()
        images = [p for p in inner if isinstance(p, Mark) and p.image]
        if href.startswith("#") and text in PERMALINK_TEXTS and not images:
            return  # a heading's permalink
        if not href or not validateLink(href) or not visible(inner):
            out.extend(inner)
            return
        if images and all(p in images or (isinstance(p, Chars) and not p.text.strip()) for p in inner):
            linked = tuple(i for p in images for i in (p.node.children if isinstance(p.node, m.Link) else (p.node,)))
            out.append(Mark(m.Link(link_target(href), linked), line, True))
            return
        url = link_target(href)
        out.extend([Open(m.Link, line, url), *inner, Close(m.Link, _last_line(inner))])


# ---------------------------------------------------------------- helpers


def _last_line(pieces: list) -> int:
    return pieces[-1].line if pieces else 1


def _starting_at(blocks: list, line: int) -> list:
    """The first block starts at ``line`` (the element that holds it)."""
    if blocks:
        first = blocks[0]
        if isinstance(first, Draft):
            first.line = line
        else:
            blocks[0] = dataclasses.replace(first, line=line)
    return blocks


def _figure_and_caption(pieces: list) -> list[list]:
    """An image, ``<br>`` and a short text in one paragraph: the figure and its caption, two paragraphs."""
    first = next(i for i, p in enumerate(pieces) if visible([p]))
    if not (isinstance(pieces[first], Mark) and pieces[first].image):
        return [pieces]
    index = first
    while index < len(pieces) and (
        (isinstance(pieces[index], Mark) and pieces[index].image)
        or (isinstance(pieces[index], Chars) and not pieces[index].text.strip())
    ):
        index += 1
    rest = pieces[index:]
    if rest and isinstance(rest[0], Br) and not any(isinstance(p, Mark) and p.image for p in rest):
        return [pieces[:index], rest]
    return [pieces]


def _line_starts(items: list):
    """Where the lines of a flat paragraph start: its beginning, after a break, after a display."""
    yield 0
    for index, item in enumerate(items):
        if isinstance(item, (m.LineBreak, SoftBreak)) or is_display(item):
            yield index + 1


def _skippable(item) -> bool:
    """What may stand before the boilerplate's words on its line: whitespace, bold, italic."""
    if isinstance(item, (Open, Close)):
        return item.kind is not m.Link
    return type(item) is m.Text and not item.text.strip()
