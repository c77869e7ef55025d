"""Markdown posts → ``model.Post``, with markdown-it-py and mdit-py-plugins.

The token stream is turned into model blocks by small functions, one per kind
of token; source lines come from each block token's ``map`` (offset to the
file) and, inside a paragraph, from counting line breaks.
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

CJK = r"\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
ENDS_CJK = re.compile(f"[{CJK}]$")
STARTS_CJK = re.compile(f"^[{CJK}]")
CAPTION_MAX_CHARS = 80


@lru_cache(maxsize=1)
def markdown_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False})
    md.enable(["table", "strikethrough"])
    md.use(footnote_plugin)
    md.use(dollarmath_plugin, double_inline=True, allow_space=True, allow_digits=True)
    md.block.ruler.disable("math_block")  # our display rule reads `$$` blocks (they may interrupt prose)
    md.use(display_math_plugin)
    return md


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
                label = token.meta.get("label", str(token.meta.get("id")))
                self.pos += 1
                content = self.blocks_until("footnote_close")
                footnotes.append((label, tuple(_drop_footnote_anchor(content))))
            self.pos += 1
        return _attach_figures_and_displays(blocks), footnotes

    def line(self, token: Token) -> int:
        return (token.map[0] if token.map else 0) + self.offset

    def blocks_until(self, closing: str | None) -> list[m.Block]:
        out: list[m.Block] = []
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
        return _attach_figures_and_displays(self.blocks_until(closing))

    # ---- one method per block token
    def on_heading_open(self, token: Token) -> m.Block:
        inline = self.tokens[self.pos + 1]
        self.pos += 2
        children = self.inlines(inline, self.line(token))
        return m.Heading(int(token.tag[1]), children, self.line(token), inline.content.strip())

    def on_paragraph_open(self, token: Token) -> m.Block:
        inline = self.tokens[self.pos + 1]
        self.pos += 2
        para = m.Paragraph(self.inlines(inline, self.line(token)), self.line(token))
        return _with_end(para, token.map[1] + self.offset)

    def on_math_display(self, token: Token) -> m.Block:
        para = m.Paragraph((m.Math(token.content, True, self.line(token)),), self.line(token))
        return _Attached(para, token.map[0] + self.offset, token.map[1] + self.offset)

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
                row.append(self.inlines(inline, self.line(token)))
            elif tok.type == "tr_close":
                if in_head:
                    header = row
                else:
                    rows.append(tuple(row))
                row = []
            self.pos += 1
        return m.Table(tuple(header), tuple(rows), tuple(aligns), self.line(token))

    # ---- inlines
    def inlines(self, token: Token, line: int) -> tuple[m.Inline, ...]:
        builder = _InlineBuilder(line)
        for child in token.children or []:
            builder.feed(child)
        return builder.finish()


class _InlineBuilder:
    """Builds nested inlines from markdown-it's flat open/close child tokens."""

    def __init__(self, line: int):
        self.line = line
        self.stack: list[tuple[str, object, list]] = [("root", None, [])]

    def push(self, node: m.Inline) -> None:
        self.stack[-1][2].append(node)

    def feed(self, tok: Token) -> None:
        kind = tok.type
        if kind == "text":
            self.push(m.Text(tok.content))
            self.line += tok.content.count("\n")
        elif kind == "softbreak":
            self.push(_SOFT)
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
            self.push(m.FootnoteRef(str(tok.meta.get("label", tok.meta.get("id")))))
        elif kind == "image":
            self.push(_Image(str(tok.attrs.get("src", "")), tok.content))
        elif kind == "html_inline":
            self.push(m.Text(tok.content))
        elif kind.endswith("_open"):
            self.stack.append((kind[: -len("_open")], tok.attrs.get("href", ""), []))
        elif kind.endswith("_close") and len(self.stack) > 1:
            name, href, children = self.stack.pop()
            self.push(_wrap(name, str(href or ""), tuple(_resolve_breaks(children))))

    def finish(self) -> tuple[m.Inline, ...]:
        while len(self.stack) > 1:
            name, href, children = self.stack.pop()
            self.push(_wrap(name, str(href or ""), tuple(_resolve_breaks(children))))
        return tuple(_resolve_breaks(self.stack[0][2]))


class _Soft:
    """A soft line break, resolved once its neighbours are known."""


_SOFT = _Soft()


class _Image(m.Text):
    def __init__(self, src: str, alt: str):
        object.__setattr__(self, "text", alt)
        object.__setattr__(self, "src", src)


class _Attached:
    """A display read by the block rule, remembered with its lines until merged into prose."""

    def __init__(self, para: m.Paragraph, first: int, after: int):
        self.para, self.first, self.after = para, first, after


def _wrap(name: str, href: str, children: tuple) -> m.Inline:
    if name == "em":
        return m.Emph(children)
    if name == "strong":
        return m.Strong(children)
    if name == "s":
        return m.Strike(children)
    if name == "link":
        return m.Link(href, children)
    return _Group(children)  # an unknown wrapper (e.g. a footnote anchor): keep its content


class _Group(m.Text):
    def __init__(self, children):
        object.__setattr__(self, "text", "")
        object.__setattr__(self, "children", children)


def _plain(node) -> str:
    if isinstance(node, m.Text):
        return node.text
    return "".join(_plain(c) for c in getattr(node, "children", ()))


def _resolve_breaks(nodes: list) -> list[m.Inline]:
    """Soft breaks between CJK characters vanish, others become a space; breaks next to displays go."""
    out: list[m.Inline] = []
    flat: list = []
    for node in nodes:
        flat.extend(node.children if isinstance(node, _Group) else [node])
    for index, node in enumerate(flat):
        before = flat[index - 1] if index else None
        after = flat[index + 1] if index + 1 < len(flat) else None
        if isinstance(node, (_Soft, m.LineBreak)):
            if _is_display(before) or _is_display(after) or before is None or after is None:
                continue
            if isinstance(node, m.LineBreak):
                out.append(node)
            elif not (ENDS_CJK.search(_plain(before) or " ") and STARTS_CJK.search(_plain(after) or " ")):
                out.append(m.Text(" "))
            continue
        if isinstance(node, m.Text) and not type(node) is m.Text and not isinstance(node, _Image):
            node = m.Text(node.text)
        out.append(node)
    return _merge_text(out)


def _merge_text(nodes: list) -> list:
    out: list = []
    for node in nodes:
        if type(node) is m.Text and out and type(out[-1]) is m.Text:
            out[-1] = m.Text(out[-1].text + node.text)
        elif type(node) is m.Text and not node.text:
            continue
        else:
            out.append(node)
    return out


def _is_display(node) -> bool:
    return isinstance(node, m.Math) and node.display


def _images_of(para: m.Paragraph) -> list[_Image] | None:
    """The images of a paragraph made only of (linked) images, else None."""
    images: list[_Image] = []
    for node in para.children:
        inner = node.children if isinstance(node, m.Link) else (node,)
        for item in inner:
            if isinstance(item, _Image):
                images.append(item)
            elif not (isinstance(item, m.Text) and not item.text.strip()) and not isinstance(item, m.LineBreak):
                return None
    return images or None


def _is_caption(block) -> bool:
    if not isinstance(block, m.Paragraph) or any(isinstance(c, (m.LineBreak, _Image)) for c in block.children):
        return False
    if _images_of(block) is not None:  # the next image is a figure of its own, not a caption
        return False
    text = _plain_inlines(block.children)
    return 0 < len(text) <= CAPTION_MAX_CHARS and "\n" not in text and not any(
        isinstance(c, m.Math) and c.display for c in block.children
    )


def _plain_inlines(children) -> str:
    return "".join(_plain(c) if not isinstance(c, m.Math) else c.tex for c in children)


def _attach_figures_and_displays(blocks: list) -> list[m.Block]:
    """Merge displays into the prose they sit in; turn image paragraphs into figures."""
    merged: list = []
    for block in blocks:
        if isinstance(block, _Attached):
            prev = merged[-1] if merged else None
            if isinstance(prev, m.Paragraph) and getattr(prev, "_end", -1) == block.first:
                merged[-1] = _with_end(m.Paragraph(prev.children + block.para.children, prev.line), block.after)
            else:
                merged.append(_with_end(block.para, block.after))
            continue
        prev = merged[-1] if merged else None
        if (
            isinstance(block, m.Paragraph)
            and isinstance(prev, m.Paragraph)
            and getattr(prev, "_end", -1) == block.line
            and _is_display(prev.children[-1])
        ):
            merged[-1] = _with_end(m.Paragraph(prev.children + block.children, prev.line), getattr(block, "_end", -1))
            continue
        merged.append(block)
    out: list[m.Block] = []
    index = 0
    while index < len(merged):
        block = merged[index]
        images = _images_of(block) if isinstance(block, m.Paragraph) else None
        if images is None:
            out.append(_clean(block))
            index += 1
            continue
        caption: tuple[m.Inline, ...] = ()
        if index + 1 < len(merged) and _is_caption(merged[index + 1]):
            caption = merged[index + 1].children
            index += 1
        for number, image in enumerate(images):
            last = number == len(images) - 1
            out.append(m.Figure(image.src, caption if last else (m.Text(image.text),), block.line))
        index += 1
    return out


def _with_end(para: m.Paragraph, end: int) -> m.Paragraph:
    object.__setattr__(para, "_end", end)
    return para


def _clean(block):
    """Rebuild a finished block without the reader's private helpers (images outside figures become links)."""
    if isinstance(block, m.Paragraph):
        return m.Paragraph(_plain_images(block.children), block.line)
    return block


def _plain_images(nodes) -> tuple:
    out = []
    for node in nodes:
        if isinstance(node, _Image):
            out.append(m.Link(node.src, (m.Text(node.text or node.src),)))
        elif isinstance(node, m.Link) and len(node.children) == 1 and isinstance(node.children[0], _Image):
            out.append(m.Link(node.url, (m.Text(node.children[0].text or node.url),)))
        elif hasattr(node, "children") and not isinstance(node, m.Text):
            out.append(type(node)(*[_plain_images(v) if k == "children" else v for k, v in vars(node).items()]))
        else:
            out.append(node)
    return tuple(out)


def _drop_footnote_anchor(blocks: list) -> list:
    return [b for b in blocks if not (isinstance(b, m.Paragraph) and not b.children)]
