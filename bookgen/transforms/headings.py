r"""Pass ``headings``: each post's headings number like a book's sections.

The writer makes ``##`` a ``\section``, ``###`` a ``\subsection``… but many older
posts start at ``###`` (their sections would number 3.0.1, 3.0.2), and some skip a
level (``##`` then ``####``: 3.1.0.1).  This pass gives every heading the level of
its place in the post's outline: a heading is one level below the nearest heading
before it of a higher rank (a smaller level), and a section when there is none.
Each post is renumbered on its own; one report per post that changed, at the line
of its first heading.

Before → after: ``### 引言`` … ``##### 细节`` … ``### 结论`` → ``## 引言`` …
``### 细节`` … ``## 结论`` (\section, \subsection, \section).
"""

from __future__ import annotations

import dataclasses

from bookgen import model as m
from bookgen.transforms.base import Context, Pass
from bookgen.transforms.walk import map_post

NAME = "headings"
SECTION_LEVEL = 2  # the Markdown level the writer makes a \section


def outline_levels(levels: list[int]) -> list[int]:
    """The level of each heading in its outline: ``[3, 5, 3]`` → ``[2, 3, 2]``.

    A heading's parent is the nearest heading before it with a smaller level.
    """
    parents: list[int] = []  # the levels of the open headings, outermost first
    out: list[int] = []
    for level in levels:
        while parents and parents[-1] >= level:
            parents.pop()
        out.append(SECTION_LEVEL + len(parents))
        parents.append(level)
    return out


def headings_in_order(post: m.Post) -> list[m.Heading]:
    found: list[m.Heading] = []

    def collect(block):
        if isinstance(block, m.Heading):
            found.append(block)
        return block

    map_post(post, block_fn=collect)
    return found


def renumber(post: m.Post) -> tuple[m.Post, str | None]:
    """The post with its headings at their outline levels, and a note when any changed."""
    headings = headings_in_order(post)
    levels = [h.level for h in headings]
    wanted = outline_levels(levels)
    if wanted == levels:
        return post, None
    queue = iter(wanted)  # map_post visits the headings in the order they were collected

    def relevel(block):
        if isinstance(block, m.Heading):
            return dataclasses.replace(block, level=next(queue))
        return block

    changes = dict.fromkeys((old, new) for old, new in zip(levels, wanted) if old != new)
    note = "heading levels renumbered as an outline: " + ", ".join(
        f"{'#' * old} → {'#' * new}" for old, new in changes
    )
    return map_post(post, block_fn=relevel), note


def run(post: m.Post, context: Context) -> m.Post:
    renumbered, note = renumber(post)
    if note:
        context.report(post, headings_in_order(post)[0].line, NAME, note)
    return renumbered


PASS = Pass(NAME, run)
