r"""Pass ``links``: links between posts.

A link to a post that is a chapter of this volume becomes a cross-reference to
that chapter — and to its section when the link's ``#fragment`` is one of the
target's headings (the blog's fragments are URL-encoded heading texts).  A link
to any other post keeps its text and gets the full spaces.ac.cn URL (the writer
puts it in a footnote).

Before → after: ``[上一篇](/archives/9119)`` in a volume holding 9119 →
``上一篇（见第 1 章）``; outside it → ``上一篇`` + footnote ``https://spaces.ac.cn/archives/9119``.
"""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import unquote

from bookgen import model as m
from bookgen.transforms import Context
from bookgen.transforms.walk import map_post, map_posts

NAME = "links"
POST_URL = re.compile(r"^(?:https?://(?:www\.)?(?:spaces\.ac\.cn|kexue\.fm))?/archives/(\d+)/?(?:#(.*))?$")


def headings_of(post: m.Post) -> set[str]:
    found: set[str] = set()

    def collect(block):
        if isinstance(block, m.Heading):
            found.add(block.anchor)
        return block

    map_post(post, block_fn=collect)
    return found


def run(book: m.Book, context: Context) -> m.Book:
    chapters = {ch.post.id: (number, headings_of(ch.post)) for number, ch in enumerate(book.chapters, 1)}

    def per_post(post: m.Post) -> m.Post:
        def rewrite(node):
            if not isinstance(node, m.Link):
                return node
            match = POST_URL.match(node.url.strip())
            if not match:
                return node
            target, fragment = int(match.group(1)), unquote(match.group(2) or "")
            line = _line_of(post, node)
            if target in chapters and target != post.id or (target == post.id and fragment):
                number, anchors = chapters[target]
                anchor = fragment if fragment in anchors else None
                where = f"chapter {number}" + (f", section '{anchor}'" if anchor else "")
                context.report(post, line, NAME, f"link to /archives/{target} → cross-reference to {where}")
                return m.ChapterRef(target, anchor, node.children)
            absolute = f"https://spaces.ac.cn/archives/{target}" + (f"#{match.group(2)}" if match.group(2) else "")
            if absolute != node.url:
                return dataclasses.replace(node, url=absolute)
            return node

        return map_post(post, rewrite)

    return map_posts(book, per_post)


def _line_of(post: m.Post, link: m.Link) -> int:
    """The line of the block holding ``link`` (links carry no line of their own)."""
    found = [post.blocks[0].line if post.blocks else 1]

    def search(block):
        if _contains(getattr(block, "children", ()), link) and found[0] == (post.blocks[0].line if post.blocks else 1):
            found[0] = block.line
        return block

    map_post(post, block_fn=search)
    return found[0]


def _contains(nodes, target) -> bool:
    for node in nodes if isinstance(nodes, tuple) else ():
        if node is target or node == target:
            return True
        if _contains(getattr(node, "children", ()), target):
            return True
    return False
