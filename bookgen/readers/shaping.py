r"""Shaping steps both readers run on what they read, as functions over the model.

A reader first turns its source into model nodes plus three things only a
reader needs (defined here, never seen after a reader): ``SoftBreak``, a line
break inside a paragraph's source; ``Image``, an image in running text; and
``Draft``, a paragraph still open to merging.  Then, like pandoc's filters, each
step below is one function from those to model nodes:

* ``resolve_breaks`` — soft line breaks between CJK characters vanish, the
  others become a space; breaks next to a display or at either end go
  (pandoc's ``eastAsianLineBreakFilter``, plus what a display needs)::

      第一行⏎第二行⏎third → 第一行第二行 third

* ``merge_displays`` — a display standing alone, with no blank line between it
  and the prose around it, joins that prose's paragraph (the blog writes
  displays inside the sentence they belong to)::

      Draft(证明：) Draft(display $$x$$) Draft(其中…)  →  Paragraph(证明： $$x$$ 其中…)

* ``attach_figures`` — a paragraph made only of (linked) images becomes one
  ``Figure`` per image, a short paragraph right after it their caption; an image
  anywhere else becomes a link to it::

      Draft(Image(/a.png)) Draft(图1：示意)  →  Figure('/a.png', caption=图1：示意)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bookgen import model as m
from bookgen.catalogue import CJK_CHARACTERS, FULLWIDTH_FORMS

# Between two of these a line break is no space (Chinese has none between words; full-width punctuation too).
ENDS_CJK = re.compile(f"[{CJK_CHARACTERS}{FULLWIDTH_FORMS}]$")
STARTS_CJK = re.compile(f"^[{CJK_CHARACTERS}{FULLWIDTH_FORMS}]")
CAPTION_MAX_CHARS = 80


@dataclass(frozen=True)
class SoftBreak:
    """A line break inside a paragraph's source (``resolve_breaks`` decides what it becomes)."""


@dataclass(frozen=True)
class Image:
    """An image in running text; ``alt`` is shown when it is not a figure."""

    src: str
    alt: str


@dataclass
class Draft:
    """A paragraph as read, before shaping: model inlines plus ``Image``; ``SoftBreak``s already resolved.

    ``end`` is the source line just after it when the reader knows it (-1 when
    not: such a paragraph never merges); ``display`` marks a display standing
    alone (the Markdown reader's display block).
    """

    children: list
    line: int
    end: int = -1
    display: bool = False


# ---------------------------------------------------------------- soft breaks


def plain(node) -> str:
    """The text of a node for the CJK test: a Text's (an Image's alt), else its children's."""
    if isinstance(node, m.Text):
        return node.text
    if isinstance(node, Image):
        return node.alt
    return "".join(plain(c) for c in getattr(node, "children", ()))


def is_display(node) -> bool:
    return isinstance(node, m.Math) and node.display


def resolve_breaks(nodes) -> list:
    """Soft breaks between CJK characters vanish, others become a space; breaks next to displays go.

    ``[Text('中'), SoftBreak(), Text('文'), LineBreak(), Math(display)]`` → ``[Text('中文'), Math(display)]``.
    A hard ``LineBreak`` survives only between two other inlines.
    """
    nodes = list(nodes)
    out: list = []
    for index, node in enumerate(nodes):
        if not isinstance(node, (SoftBreak, m.LineBreak)):
            out.append(node)
            continue
        before = nodes[index - 1] if index else None
        after = nodes[index + 1] if index + 1 < len(nodes) else None
        if before is None or after is None or is_display(before) or is_display(after):
            continue
        if isinstance(node, m.LineBreak):
            out.append(node)
        elif not (ENDS_CJK.search(plain(before) or " ") and STARTS_CJK.search(plain(after) or " ")):
            out.append(m.Text(" "))
    return merge_text(out)


def merge_text(nodes) -> list:
    """Adjacent ``Text`` nodes joined, empty ones dropped."""
    out: list = []
    for node in nodes:
        if type(node) is m.Text:
            if not node.text:
                continue
            if out and type(out[-1]) is m.Text:
                out[-1] = m.Text(out[-1].text + node.text)
                continue
        out.append(node)
    return out


# ---------------------------------------------------------------- displays


def merge_displays(blocks: list) -> list:
    """Join each lone display (``Draft.display``) to the paragraph it touches, and prose that follows it."""
    merged: list = []
    for block in blocks:
        prev = merged[-1] if merged else None
        if not isinstance(block, Draft) or not isinstance(prev, Draft) or prev.end < 0:
            merged.append(block)
            continue
        touches = prev.end == block.line
        if touches and (block.display or (prev.children and is_display(prev.children[-1]))):
            merged[-1] = Draft(prev.children + block.children, prev.line, block.end)
        else:
            merged.append(block)
    return merged


# ---------------------------------------------------------------- figures


def images_of(draft: Draft) -> list[Image] | None:
    """The images of a paragraph made only of (linked) images, else None."""
    images: list[Image] = []
    for node in draft.children:
        for item in node.children if isinstance(node, m.Link) else (node,):
            if isinstance(item, Image):
                images.append(item)
            elif not (isinstance(item, m.Text) and not item.text.strip()) and not isinstance(item, m.LineBreak):
                return None
    return images or None


def is_caption(block) -> bool:
    """A short one-line paragraph of text (no image, break or display): the caption of the figure before it."""
    if not isinstance(block, Draft) or any(isinstance(c, (m.LineBreak, Image)) for c in block.children):
        return False
    if images_of(block) is not None:
        return False
    text = "".join(c.tex if isinstance(c, m.Math) else plain(c) for c in block.children)
    return 0 < len(text) <= CAPTION_MAX_CHARS and "\n" not in text and not any(is_display(c) for c in block.children)


def attach_figures(blocks: list) -> list[m.Block]:
    """Drafts → model blocks: image paragraphs become figures (with the caption after them), the rest paragraphs."""
    out: list[m.Block] = []
    index = 0
    while index < len(blocks):
        block = blocks[index]
        images = images_of(block) if isinstance(block, Draft) else None
        if images is None:
            out.append(m.Paragraph(images_as_links(block.children), block.line) if isinstance(block, Draft) else block)
            index += 1
            continue
        caption: tuple[m.Inline, ...] = ()
        if index + 1 < len(blocks) and is_caption(blocks[index + 1]):
            caption = images_as_links(blocks[index + 1].children)
            index += 1
        for number, image in enumerate(images):
            last = number == len(images) - 1
            out.append(m.Figure(image.src, caption if last else (m.Text(image.alt),), block.line))
        index += 1
    return out


def images_as_links(nodes) -> tuple:
    """An image outside a figure is a link to it, showing its alt text (or its address)."""
    out = []
    for node in nodes:
        if isinstance(node, Image):
            out.append(m.Link(node.src, (m.Text(node.alt or node.src),)))
        elif isinstance(node, m.Link) and len(node.children) == 1 and isinstance(node.children[0], Image):
            out.append(m.Link(node.url, (m.Text(node.children[0].alt or node.url),)))
        elif isinstance(node, (m.Emph, m.Strong, m.Strike, m.Link, m.ChapterRef)):
            out.append(replace(node, children=images_as_links(node.children)))
        else:
            out.append(node)
    return tuple(out)

