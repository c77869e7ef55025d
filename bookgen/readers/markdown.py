"""Markdown posts → ``model.Post``, with markdown-it-py and mdit-py-plugins.

The token stream is turned into model blocks by small functions, one per kind
of token; source lines come from each block token's ``map`` (offset to the
file) and, inside a paragraph, from counting line breaks.  Paragraphs are
read as ``readers.shaping.Draft``s and finished by the shaping steps shared
with the HTML reader (soft breaks, lone displays, figures).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin

from bookgen import model as m
from bookgen.readers.mdmath import display_math_plugin
from bookgen.readers.mirror import split_mirror
from bookgen.readers.shaping import (
    Draft, Image, SoftBreak, attach_figures, images_as_links, merge_displays, resolve_breaks,
)  # fmt: skip


@lru_cache(maxsize=1)
def markdown_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False})
    md.enable(["table", "strikethrough"])
    md.use(footnote_plugin)
    md.use(dollarmath_plugin, double_inline=True, allow_space=True, allow_digits=True)
    md.block.ruler.disable("math_block")  # our display rule reads `$$` blocks (they may interrupt prose)
    md.use(display_math_plugin)
    return md


def footnote_label(meta: dict) -> str:
    """A footnote's label as written (``[^a]``), or its number for an inline one (``^[…]`` has none)."""
    label = meta.get("label")
    return str(label) if label is not None else f"^{meta.get('id')}"


def iso_date(value: str) -> str:
    """``2024-09-15`` (also from ``2024-09-15 10:00``); anything else is no date."""
    match = re.match(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})\b", value)
    return f"{match.group(1)}-{int(match.group(2)):02d}-{int(match.group(3)):02d}" if match else ""


def read_markdown(text: str, path: Path, archive_id: int) -> m.Post:
    parts = split_mirror(text)
    tokens = markdown_parser().parse(parts.body)
    converter = _Converter(parts.body_line)
    blocks, footnotes = converter.document(tokens)
    title = parts.meta.get("title", "").strip() or f"{archive_id}"
    url = f"https://spaces.ac.cn/archives/{archive_id}"
    return m.Post(
        id=archive_id,
        title=title,
        date=iso_date(parts.meta.get("date", "")),
        url=url,
        path=path,
        blocks=tuple(blocks),
        footnotes=tuple(footnotes),
        mirror="html2text" if parts.html2text else "",
    )


def _shaped(blocks: list) -> list[m.Block]:
    """The shared shaping steps: lone displays joined to their prose, then figures and captions."""
    return attach_figures(merge_displays(blocks))


class _Converter:
    """Walks the flat token list; ``pos`` advances through it."""

    def __init__(self, line_offset: int):
        self.offset = line_offset  # token.map is 0-based within the body
        self.tokens: list[Token] = []
        self.pos = 0

    def document(self, tokens: list[Token]):
        self.tokens, self.pos = tokens, 0
        blocks = self.blocks_until(None)
        footnotes = []
        while self.pos < len(self.tokens):
            token = self.tokens[self.pos]
            if token.type == "footnote_block_open":
                self.pos += 1
                continue
            if token.type == "footnote_open":
                label = footnote_label(token.meta)
                self.pos += 1
                content = self.blocks_until("footnote_close")
                footnotes.append((label, tuple(_drop_footnote_anchor(_shaped(content)))))
            self.pos += 1
        return _shaped(blocks), footnotes

    def line(self, token: Token) -> int:
        return (token.map[0] if token.map else 0) + self.offset

    def end_line(self, token: Token) -> int:
        # An inline footnote's text (^[…]) is made by the plugin, without source lines.
        return token.map[1] + self.offset if token.map else self.line(token)

    def blocks_until(self, closing: str | None) -> list:
        out: list = []  # model blocks and Drafts
        while self.pos < len(self.tokens):
            token = self.tokens[self.pos]
            if token.type == closing:
                return out
            if closing is None and token.type == "footnote_block_open":
                return out
            handler = getattr(self, "on_" + token.type, None)
            block = handler(token) if handler else None
            if block is not None:
                out.append(block)
            self.pos += 1
        return out

    def inner(self, closing: str) -> list[m.Block]:
        self.pos += 1
        return _shaped(self.blocks_until(closing))

    # ---- one method per block token
    def on_heading_open(self, token: Token) -> m.Block:
        inline = self.tokens[self.pos + 1]
        self.pos += 2
        children = self.model_inlines(inline, self.line(token))
        return m.Heading(int(token.tag[1]), children, self.line(token), inline.content.strip())

    def on_paragraph_open(self, token: Token) -> Draft:
        inline = self.tokens[self.pos + 1]
        self.pos += 2
        return Draft(self.inlines(inline, self.line(token)), self.line(token), self.end_line(token))

    def on_math_display(self, token: Token) -> Draft:
        math = m.Math(token.content, True, self.line(token))
        return Draft([math], self.line(token), self.end_line(token), display=True)

    def on_fence(self, token: Token) -> m.Block:
        return m.CodeBlock(token.content, token.info.strip().split(" ")[0], self.line(token))

    on_code_block = on_fence

    def on_hr(self, token: Token) -> m.Block:
        return m.Rule(self.line(token))

    def on_blockquote_open(self, token: Token) -> m.Block:
        return m.Quote(tuple(self.inner("blockquote_close")), self.line(token))

    def on_bullet_list_open(self, token: Token) -> m.Block:
        return m.ListBlock(False, 1, self.list_items("bullet_list_close"), self.line(token))

    def on_ordered_list_open(self, token: Token) -> m.Block:
        start = int(token.attrs.get("start", 1) or 1)
        return m.ListBlock(True, start, self.list_items("ordered_list_close"), self.line(token))

    def list_items(self, closing: str) -> tuple[tuple[m.Block, ...], ...]:
        items = []
        self.pos += 1
        while self.tokens[self.pos].type != closing:
            if self.tokens[self.pos].type == "list_item_open":
                items.append(tuple(self.inner("list_item_close")))
            self.pos += 1
        return tuple(items)

    def on_table_open(self, token: Token) -> m.Block:
        header: list[tuple[m.Inline, ...]] = []
        rows: list[tuple[tuple[m.Inline, ...], ...]] = []
        aligns: list[str] = []
        row: list[tuple[m.Inline, ...]] = []
        in_head = False
        while self.tokens[self.pos].type != "table_close":
            tok = self.tokens[self.pos]
            if tok.type == "thead_open":
                in_head = True
            elif tok.type == "thead_close":
                in_head = False
            elif tok.type in ("th_open", "td_open"):
                style = str(tok.attrs.get("style", ""))
                if in_head:
                    aligns.append("r" if "right" in style else "c" if "center" in style else "l")
                inline = self.tokens[self.pos + 1]
                row.append(self.model_inlines(inline, self.line(token)))
            elif tok.type == "tr_close":
                if in_head:
                    header = row
                else:
                    rows.append(tuple(row))
                row = []
            self.pos += 1
        return m.Table(tuple(header), tuple(rows), tuple(aligns), self.line(token))

    # ---- inlines
    def inlines(self, token: Token, line: int) -> list:
        builder = _InlineBuilder(line)
        for child in token.children or []:
            builder.feed(child)
        return builder.finish()

    def model_inlines(self, token: Token, line: int) -> tuple[m.Inline, ...]:
        """Inlines outside a paragraph (a heading, a table cell): an image there is a link to it."""
        return images_as_links(self.inlines(token, line))


class _InlineBuilder:
    """Builds nested inlines from markdown-it's flat open/close child tokens."""

    def __init__(self, line: int):
        self.line = line
        self.stack: list[tuple[str, object, list]] = [("root", None, [])]

    def push(self, node) -> None:
        self.stack[-1][2].append(node)

    def feed(self, tok: Token) -> None:
        kind = tok.type
        if kind == "text":
            self.push(m.Text(tok.content))
            self.line += tok.content.count("\n")
        elif kind == "softbreak":
            self.push(SoftBreak())
            self.line += 1
        elif kind == "hardbreak":
            self.push(m.LineBreak())
            self.line += 1
        elif kind == "code_inline":
            self.push(m.Code(tok.content))
        elif kind in ("math_inline", "math_inline_double", "math_display"):
            self.push(m.Math(tok.content, kind != "math_inline", self.line))
            self.line += tok.content.count("\n")
        elif kind == "footnote_ref":
            self.push(m.FootnoteRef(footnote_label(tok.meta)))
        elif kind == "image":
            self.push(Image(str(tok.attrs.get("src", "")), tok.content))  # the label as written: alt text
        elif kind == "html_inline":
            self.push(m.Text(tok.content))
        elif kind.endswith("_open"):
            self.stack.append((kind[: -len("_open")], tok.attrs.get("href", ""), []))
        elif kind.endswith("_close") and len(self.stack) > 1:
            self.close()

    def close(self) -> None:
        name, href, children = self.stack.pop()
        self.stack[-1][2].extend(_wrap(name, str(href or ""), resolve_breaks(children)))

    def finish(self) -> list:
        """The paragraph's inlines (``Image`` still among them, for ``attach_figures``)."""
        while len(self.stack) > 1:
            self.close()
        return resolve_breaks(self.stack[0][2])


def _wrap(name: str, href: str, children: list) -> list:
    """The node a markdown-it wrapper token makes; an unknown one (a footnote anchor) gives its content."""
    if name == "em":
        return [m.Emph(tuple(children))]
    if name == "strong":
        return [m.Strong(tuple(children))]
    if name == "s":
        return [m.Strike(tuple(children))]
    if name == "link":
        return [m.Link(href, tuple(children))]
    return children


def _drop_footnote_anchor(blocks: list) -> list:
    return [b for b in blocks if not (isinstance(b, m.Paragraph) and not b.children)]
