r"""Pass ``links``: links between posts.

A link to a post that is a chapter of this volume becomes a cross-reference to
that chapter — and to its section when the link's ``#fragment`` is one of the
target's headings (the blog's fragments are URL-encoded heading texts).  A link
to any other post keeps its text and gets the full spaces.ac.cn URL (the writer
puts it in a footnote).  A link whose target is no address at all (html2text
sometimes writes the linked post's title there: ``[线性Attention](线性Attention的探索)``)
keeps only its text, with a warning.

Before → after: ``[上一篇](/archives/9119)`` in a volume holding 9119 →
``上一篇（见第 1 章）``; outside it → ``上一篇`` + footnote ``https://spaces.ac.cn/archives/9119``.
"""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import unquote

from bookgen import model as m
from bookgen.transforms.base import Context, Pass
from bookgen.transforms.walk import map_blocks, map_post, map_posts

NAME = "links"
# An archive id has at most 9 digits (sources.MAX_ID_DIGITS): /archives/<5000 digits> stays a plain link.
POST_URL = re.compile(r"^(?:https?://(?:www\.)?(?:spaces\.ac\.cn|kexue\.fm))?/archives/([0-9]{1,9})/?(?:#(.*))?$")
ADDRESS = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|/|#)")  # a scheme, a site path or a fragment


def headings_of(post: m.Post) -> set[str]:
    found: set[str] = set()

    def collect(block):
        if isinstance(block, m.Heading):
            found.add(block.anchor)
        return block

    map_post(post, block_fn=collect)
    return found


def volume_outline(book: m.Book) -> dict[int, tuple[int, frozenset[str]]]:
    """Each chapter's post id → its place in the volume and its headings' anchors: what a link can point to."""
    return {ch.post.id: (number, frozenset(headings_of(ch.post))) for number, ch in enumerate(book.chapters, 1)}


def run(book: m.Book, context: Context) -> m.Book:
    # The passes may see only the chapters not finished in an earlier build (bookgen.rebuild): the context
    # then knows them all.
    chapters = context.outline if context.outline is not None else volume_outline(book)

    def per_post(post: m.Post) -> m.Post:
        def rewrite(node, line: int):
            if not isinstance(node, m.Link):
                return node
            if not ADDRESS.match(node.url.strip()):
                shown = unquote(node.url.strip())
                context.report(post, line, NAME, f"link target '{shown}' is not an address: kept the text only", warning=True)
                return tuple(node.children) or m.Text(shown)
            match = POST_URL.match(node.url.strip())
            if not match:
                return node
            target, fragment = int(match.group(1)), unquote(match.group(2) or "")
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

        def per_block(block):
            # Block by block, so each link is reported at the line of the block holding it.
            if not isinstance(block, (m.Paragraph, m.Heading, m.Table, m.Figure)):
                return block
            return map_blocks((block,), inline_fn=lambda node: rewrite(node, block.line))[0]

        return map_post(post, block_fn=per_block)

    return map_posts(book, per_post)


PASS = Pass(NAME, run, whole_volume=True)  # a link is to another chapter of the volume, or not
