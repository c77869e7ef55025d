"""The series of a catalog, in series order, with what is wrong with them; a ``series:`` volume made ordinary.

A series is every post whose title ``titles.parse_title`` reads as a chapter of
it (names compared by ``series_key``).  Its order is the series' own — number,
then part (上 中 下), then date, then id — never the archive id's: a late
chapter may have an earlier id than a post of its series written before it.

What is reported (a ``Problem``, a warning unless ``--strict`` makes it an
error): a number missing below the highest one found, two posts claiming the
same number (and part), and — when a list of the blog's posts was read and
source folders too — a chapter the source folders do not have.

``resolve_manifest`` runs when the manifest is loaded: every ``series:`` volume
it is asked for gets an ordinary ``chapters`` list, so that listing, checking,
fetching and building see nothing else.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections import Counter
from dataclasses import dataclass
from typing import Callable

from bookgen.errors import ManifestError
from bookgen.manifest import ChapterEntry, Manifest, Volume
from bookgen.series.catalog import Catalog, Listing
from bookgen.series.titles import SeriesTitle, parse_title, series_key

NO_TITLES_HINT = (
    "give --sources DIR with its posts or --index FILE with a list of the blog's posts "
    "(or download the posts: bookgen fetch {key}, then --sources cache)"
)


@dataclass(frozen=True)
class SeriesPost:
    listing: Listing
    parsed: SeriesTitle

    @property
    def id(self) -> int:
        return self.listing.id

    def order(self) -> tuple:
        number = self.parsed.number if self.parsed.number is not None else 0
        return (number, self.parsed.part_order, self.listing.date or "9999", self.listing.id)


@dataclass(frozen=True)
class Series:
    name: str  # as most of its titles write it
    posts: tuple[SeriesPost, ...]  # in series order

    @property
    def key(self) -> str:
        return series_key(self.name)

    @property
    def numbers(self) -> list[int]:
        return sorted({post.parsed.number for post in self.posts if post.parsed.number is not None})

    def missing_numbers(self) -> list[int]:
        """The numbers from 1 to the highest one found that no post has: ``[4]`` for 1 2 3 5."""
        numbers = set(self.numbers)
        return [number for number in range(1, max(numbers, default=0)) if number not in numbers]

    def conflicts(self) -> list[tuple[str, list[SeriesPost]]]:
        """(label, posts) for each number (and part) claimed by more than one post."""
        claims: dict[tuple, list[SeriesPost]] = {}
        for post in self.posts:
            claims.setdefault((post.parsed.number, post.parsed.part_order), []).append(post)
        return [(posts[0].parsed.label, posts) for posts in claims.values() if len(posts) > 1]

    def span(self) -> str:
        """``1–31``, ``3``, or ``上–下`` for a series of parts only."""
        numbers = self.numbers
        if not numbers:
            return "–".join(dict.fromkeys(post.parsed.part for post in (self.posts[0], self.posts[-1])))
        return f"{numbers[0]}–{numbers[-1]}" if len(numbers) > 1 else str(numbers[0])


@dataclass(frozen=True)
class Problem:
    """A gap, a conflict or a chapter missing from the source folders: a warning, an error with --strict."""

    message: str


def find_series(catalog: Catalog) -> dict[str, Series]:
    """Every series in the catalog's titles, by key; its posts in series order."""
    found: dict[str, list[SeriesPost]] = {}
    for listing in catalog.listings.values():
        parsed = parse_title(listing.title)
        if parsed is not None:
            found.setdefault(parsed.key, []).append(SeriesPost(listing, parsed))
    return {key: _series(posts) for key, posts in found.items()}


def _series(posts: list[SeriesPost]) -> Series:
    ordered = tuple(sorted(posts, key=SeriesPost.order))
    names = Counter(post.parsed.series for post in ordered)
    best = max(names.values())
    name = next(post.parsed.series for post in reversed(ordered) if names[post.parsed.series] == best)
    return Series(name, ordered)


def series_named(catalog: Catalog, name: str) -> Series | None:
    return find_series(catalog).get(series_key(name))


def similar_names(catalog: Catalog, name: str, count: int = 3) -> list[str]:
    """The names of the catalog's series closest to ``name`` (for a message)."""
    every = {series.key: series.name for series in find_series(catalog).values() if len(series.posts) > 1}
    close = difflib.get_close_matches(series_key(name), list(every), n=count, cutoff=0.5)
    close += [key for key in every if series_key(name) in key and key not in close]
    return [every[key] for key in close[:count]]


def series_problems(series: Series, catalog: Catalog | None = None) -> list[Problem]:
    """Gaps and conflicts; with a catalog that has both a post list and source folders, chapters the folders lack."""
    problems = []
    for first, last in number_runs(series.missing_numbers()):
        above = next(number for number in series.numbers if number > last)
        which = f"chapter {first}" if first == last else f"chapters {first}–{last}"
        problems.append(Problem(f"series '{series.name}': {which} not found (the series goes on to {above})"))
    for label, posts in series.conflicts():
        ids = " and ".join(str(post.id) for post in posts)
        problems.append(Problem(f"series '{series.name}': {ids} both claim chapter {label}"))
    for post in missing_from_sources(series, catalog):
        problems.append(
            Problem(f"series '{series.name}': chapter {post.parsed.label} (archive {post.id}) not in the source folders")
        )
    return problems


def missing_from_sources(series: Series, catalog: Catalog | None) -> list[SeriesPost]:
    """The chapters a list of the blog's posts names and the source folders lack (none without both)."""
    if catalog is None or catalog.posts is None or not catalog.complete:
        return []
    return [post for post in series.posts if catalog.posts.find(post.id) is None]


def number_runs(numbers: list[int]) -> list[tuple[int, int]]:
    """``[3, 4, 5, 9]`` → ``[(3, 5), (9, 9)]``."""
    runs: list[tuple[int, int]] = []
    for number in numbers:
        if runs and runs[-1][1] == number - 1:
            runs[-1] = (runs[-1][0], number)
        else:
            runs.append((number, number))
    return runs


# ---------------------------------------------------------------- series: volumes


def resolve_volume(
    manifest: Manifest, volume: Volume, catalog: Catalog, keep_missing: bool = False
) -> tuple[Volume, list[Problem]]:
    """The volume with the chapters of its series: those in the source folders, when folders were read
    (all of them with ``keep_missing``, for ``bookgen list``), and what is wrong with the series.

    Raises ``ManifestError`` at the ``series:`` line when the catalog has no post
    of the series, or none of its chapters is in the source folders.
    """
    series = series_named(catalog, volume.series)
    if series is None:
        raise _no_such_series(manifest, volume, catalog)
    problems = series_problems(series, catalog)
    missing = set() if keep_missing else {post.id for post in missing_from_sources(series, catalog)}
    posts = [post for post in series.posts if post.id not in missing]
    if not posts:
        raise ManifestError(
            f"series '{series.name}': none of its {len(series.posts)} chapters is in the source folders "
            f"({', '.join(str(f) for f in catalog.folders)}); give --sources DIR "
            f"(or download them: bookgen fetch {volume.key}, then --sources cache)",
            manifest.path,
            volume.series_line,
        )
    chapters = tuple(ChapterEntry(post.id, None, volume.series_line) for post in posts)
    return dataclasses.replace(volume, chapters=chapters), problems


def _no_such_series(manifest: Manifest, volume: Volume, catalog: Catalog) -> ManifestError:
    name, hint = volume.series, NO_TITLES_HINT.format(key=volume.key)
    if not catalog.listings:
        message = f"series '{name}': no post titles to look in ({catalog.describe()}): {hint}"
    else:
        close = similar_names(catalog, name)
        hint = f" (did you mean {', '.join(repr(n) for n in close)}?)" if close else f"; {hint}"
        message = f"series '{name}': no post of this series in {catalog.describe()}{hint}"
    return ManifestError(message, manifest.path, volume.series_line)


def resolve_manifest(
    manifest: Manifest,
    keys,
    catalog_for: Callable[[Volume], Catalog],
    *,
    strict: bool = False,
    warn: Callable[[str], None] = lambda line: None,
) -> Manifest:
    """The manifest with the ``series:`` volumes among ``keys`` resolved; problems warned (or, strict, raised)."""
    volumes = dict(manifest.volumes)
    for key in keys:
        volume = volumes[key]
        if volume.series is None:
            continue
        volumes[key], problems = resolve_volume(manifest, volume, catalog_for(volume))
        report_problems(problems, manifest, volume.series_line, strict=strict, warn=warn)
    return dataclasses.replace(manifest, volumes=volumes)


def report_problems(problems: list[Problem], path, line: int | None, *, strict: bool, warn) -> None:
    """Each problem as ``series.yaml:LINE: warning: …``; with ``strict``, the first as the error, the rest as details."""
    where = path.path if isinstance(path, Manifest) else path
    if strict and problems:
        error = ManifestError(f"{problems[0].message} (--strict)", where, line)
        error.details = [_located(problem.message, where, line) for problem in problems[1:]]
        raise error
    for problem in problems:
        warn(_located(f"warning: {problem.message}", where, line))


def _located(message: str, where, line: int | None) -> str:
    """``series.yaml:12: message`` (``bookgen: message`` without a file), printable."""
    text = str(ManifestError(message, where, line))
    return text if where is not None else f"bookgen: {text}"
