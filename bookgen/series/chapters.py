"""A book's chapter titles and numbers: a series' chapters titled like a book's, numbered as the series numbers them.

Inside a series' book the series' name on every chapter is noise: with
``chapter_titles: short`` (the default of a ``series:`` volume) the chapter
``生成扩散模型漫谈（二十四）：少走捷径，更快到达`` is titled ``少走捷径，更快到达`` — in
its heading, the running head, the contents and the PDF bookmarks — and the
post's whole title is printed under the heading with its date and address.  A
title without a subtitle (``力学系统及其对偶性（一）``) keeps its whole title; an
entry's own ``title:`` in the manifest always wins.

The number: a reader knows the chapter as 二十四 (and other posts cite it so),
so when every chapter of a volume is a numbered chapter of one series, in
increasing order, LaTeX's chapter counter follows the series' numbers: a
volume whose chapter 7 is missing, or that starts at 22, still heads the
chapter 二十四 ``第二十四章``, and its equations (24.1).  Only where the count
would differ is the counter set, so a complete series' .tex is the same as
with LaTeX's own count.  Parts sharing a number (``3. 特征提取(1)``, ``(2)``), or a
volume mixing series, keep LaTeX's count: two chapters 3 would make two
``chapter.3`` anchors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bookgen.escape import one_line
from bookgen.series.titles import parse_title, short_title

if TYPE_CHECKING:
    from bookgen.manifest import Volume

Heading = tuple[str, str, "int | None"]  # a chapter's title, the post's whole title under it (or ''), its number


def chapter_title(post_title: str, override: str | None, mode: str) -> str:
    """The chapter's title in the book: the manifest's, else short or full as the volume says."""
    if override:
        return override
    return short_title(post_title) if mode == "short" else post_title


def chapter_headings(volume: "Volume", post_titles: list[str]) -> list[Heading]:
    """Each chapter's heading, from its post's title: its own, short, or the manifest's; and its number."""
    headings = []
    for entry, title, number in zip(volume.chapters, post_titles, series_numbers(post_titles)):
        heading = one_line(chapter_title(title, entry.title, volume.chapter_titles))
        full = one_line(title) if heading != one_line(title) else ""  # printed under a heading that differs
        headings.append((heading, full, number))
    return headings


def series_numbers(post_titles: list[str]) -> list[int | None]:
    """For each chapter, the number LaTeX's counter must be set to, or None where its own count is right.

    ``[(一), (二), (四)]`` → ``[None, None, 4]``; ``[(二十二), (二十三)]`` → ``[22, None]``;
    all None unless every title is a numbered chapter of one series, numbers increasing.
    """
    parsed = [parse_title(title) for title in post_titles]
    if not parsed or any(p is None or p.number is None for p in parsed) or len({p.key for p in parsed}) != 1:
        return [None] * len(post_titles)
    numbers = [p.number for p in parsed]
    if any(later <= earlier for earlier, later in zip(numbers, numbers[1:])):
        return [None] * len(post_titles)
    jumps, expected = [], 1
    for number in numbers:
        jumps.append(number if number != expected else None)
        expected = number + 1
    return jumps
