"""What ``bookgen series`` prints: the series of a catalog, or the chapters of one.

Every line holds titles and file names from files or the network, so every
line passes through ``printable`` (controls shown as escapes).
"""

from __future__ import annotations

from bookgen.diagnostics import printable
from bookgen.series.catalog import Catalog
from bookgen.series.resolve import Series, number_runs, find_series, missing_from_sources


def overview_lines(catalog: Catalog, min_posts: int) -> list[str]:
    """One line per series of at least ``min_posts`` posts, the longest first, then a count.

    ``生成扩散模型漫谈: 31 chapters, 1–31`` / ``费曼积分法: 7 chapters, 1–8; missing 3``.
    """
    found = [series for series in find_series(catalog).values() if len(series.posts) >= min_posts]
    found.sort(key=lambda series: (-len(series.posts), series.key))
    lines = [printable(f"{series.name}: {len(series.posts)} chapters, {series.span()}{_flaws(series, catalog)}")
             for series in found]  # fmt: skip
    lines.append(printable(f"{len(found)} series of {min_posts} or more posts in {catalog.describe()}"))
    return lines


def _flaws(series: Series, catalog: Catalog) -> str:
    """``; missing 4–6; 3785 and 3802 both 3; 2 not in the source folders``, or nothing."""
    flaws = []
    missing = [f"{a}" if a == b else f"{a}–{b}" for a, b in number_runs(series.missing_numbers())]
    if missing:
        flaws.append("missing " + ", ".join(missing))
    for label, posts in series.conflicts():
        flaws.append(f"{' and '.join(str(p.id) for p in posts)} both {label}")
    absent = missing_from_sources(series, catalog)
    if absent:
        flaws.append(f"{len(absent)} not in the source folders")
    return "".join(f"; {flaw}" for flaw in flaws)


def chapter_lines(series: Series, catalog: Catalog) -> list[str]:
    """The series' chapters in order: number, archive id, date, title, and the file (when folders were read)."""
    lines = [printable(f"{series.name}: {len(series.posts)} chapters, {series.span()}, from {catalog.describe()}")]
    width = max(len(str(post.id)) for post in series.posts)
    label = max(len(post.parsed.label) for post in series.posts)
    for post in series.posts:
        where = ""
        if catalog.posts is not None:
            path = catalog.posts.find(post.id)
            where = f"  {path}" if path else "  not in the source folders"
        date = post.listing.date or "          "
        lines.append(printable(f"  {post.parsed.label:>{label}}  {post.id:<{width}}  {date}  {post.listing.title}{where}"))
    return lines
