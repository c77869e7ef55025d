"""Helpers every pass uses: rebuild a post (or a book) with a function applied to its math, inlines or blocks."""

from __future__ import annotations

import dataclasses
from typing import Callable

from bookgen import model as m

MathFn = Callable[[m.Post, m.Math], "m.Inline | tuple[m.Inline, ...]"]


def map_inlines(nodes: tuple, fn: Callable[[m.Inline], object]) -> tuple:
    """Apply ``fn`` to every inline (depth first); ``fn`` may return one node or a tuple."""
    out: list = []
    for node in nodes:
        if isinstance(node, (m.Emph, m.Strong, m.Strike, m.Link, m.ChapterRef)):
            node = dataclasses.replace(node, children=map_inlines(node.children, fn))
        result = fn(node)
        out.extend(result if isinstance(result, tuple) else (result,))
    return tuple(out)


def map_blocks(blocks: tuple, inline_fn: Callable | None = None, block_fn: Callable | None = None) -> tuple:
    out: list = []
    for block in blocks:
        if isinstance(block, (m.Paragraph, m.Heading)) and inline_fn:
            block = dataclasses.replace(block, children=map_inlines(block.children, inline_fn))
        elif isinstance(block, m.Quote):
            block = dataclasses.replace(block, children=map_blocks(block.children, inline_fn, block_fn))
        elif isinstance(block, m.ListBlock):
            items = tuple(map_blocks(item, inline_fn, block_fn) for item in block.items)
            block = dataclasses.replace(block, items=items)
        elif isinstance(block, m.Table) and inline_fn:
            header = tuple(map_inlines(cell, inline_fn) for cell in block.header)
            rows = tuple(tuple(map_inlines(cell, inline_fn) for cell in row) for row in block.rows)
            block = dataclasses.replace(block, header=header, rows=rows)
        elif isinstance(block, m.Figure) and inline_fn:
            block = dataclasses.replace(block, caption=map_inlines(block.caption, inline_fn))
        if block_fn:
            result = block_fn(block)
            out.extend(result if isinstance(result, tuple) else (result,))
        else:
            out.append(block)
    return tuple(out)


def map_post(post: m.Post, inline_fn: Callable | None = None, block_fn: Callable | None = None) -> m.Post:
    blocks = map_blocks(post.blocks, inline_fn, block_fn)
    footnotes = tuple((label, map_blocks(body, inline_fn, block_fn)) for label, body in post.footnotes)
    return dataclasses.replace(post, blocks=blocks, footnotes=footnotes)


def map_posts(book: m.Book, fn: Callable[[m.Post], m.Post]) -> m.Book:
    chapters = tuple(dataclasses.replace(ch, post=fn(ch.post)) for ch in book.chapters)
    return dataclasses.replace(book, chapters=chapters)


def map_math(post: m.Post, fn: MathFn) -> m.Post:
    """Apply ``fn(post, math)`` to every piece of math in the post."""
    return map_post(post, lambda node: fn(post, node) if isinstance(node, m.Math) else node)


def iter_math(post: m.Post):
    found: list[m.Math] = []

    def collect(node):
        if isinstance(node, m.Math):
            found.append(node)
        return node

    map_post(post, collect)
    return found
