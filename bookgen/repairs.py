"""Load, parse and repair a volume's posts: each one on its own, from the cache when it has not changed,
and in a pool of processes when there are several to do.

The repairs that need nothing but the post (``transforms.post_repairs``: all of them
up to the first that needs the whole volume) are most of the normalizer's time, and
a post's result depends only on the post and the settings: so it is cached
(``cache.PostCache``) and can be computed anywhere.  What comes out is the same
whichever way it was made: from the cache, in a worker, or here.
"""

from __future__ import annotations

import functools
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bookgen.cache import PostCache, Repaired, post_key, text_digest
from bookgen.diagnostics import Reporter
from bookgen.errors import SourceError
from bookgen.fonts import chooser_for_preamble
from bookgen.readers import read_post
from bookgen.transforms import Context, Pass, post_repairs


@dataclass(frozen=True)
class Settings:
    """What decides a post's repairs besides the post: the preamble (its fonts), the passes left out, and
    the font files the glyph checks read (``fonts.fonts_fingerprint``)."""

    preamble: str
    skip: frozenset[str] = frozenset()
    fonts: str = ""

    def passes(self) -> tuple[Pass, ...]:
        return post_repairs(self.skip)

    def digest(self) -> str:
        return text_digest(self.preamble + "\0" + ",".join(sorted(self.skip)) + "\0" + self.fonts)


@dataclass
class Work:
    """How the posts of a volume were prepared: how many came from the cache (``as_built`` of them as
    finished chapters, which neither the volume's passes nor the templates saw again)."""

    cached: int = 0
    repaired: int = 0
    as_built: int = 0


def repair_post(path: Path, archive_id: int, settings: Settings) -> Repaired:
    """Read the post and run the post repairs on it, with a reporter and context of its own."""
    post = read_post(path, archive_id)
    reporter = Reporter()
    for line, note in post.notes:
        reporter.add(post.path, line, "reader", note, warning=True)
    context = Context(reporter=reporter, glyphs=chooser_for_preamble(settings.preamble))
    for found in settings.passes():
        start = time.perf_counter()
        post = found.run(post, context)
        context.times[found.name] = context.times.get(found.name, 0.0) + time.perf_counter() - start
    return Repaired(post, tuple(reporter.items), dict(context.times))


def warm_up(posts: list[tuple[int, Path]], settings: Settings) -> list[Callable[[], object]]:
    """Each post's repairs, to run in this process and drop: its formulas parsed into this process's
    caches (a watching process does it while it waits: ``bookgen.watch.Idle``)."""
    return [functools.partial(repair_post, path, archive_id, settings) for archive_id, path in posts]


def post_keys(posts: list[tuple[int, Path]], settings: Settings) -> list[str]:
    """The cache key of each (id, path): its bytes, path and id, and the settings (``cache.post_key``)."""
    digest = settings.digest()
    keys: list[str] = []
    for archive_id, path in posts:
        try:
            source = path.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read post: {exc.strerror or exc}", path) from None
        keys.append(post_key(source, path, archive_id, digest))
    return keys


def repair_posts(
    posts: list[tuple[int, Path]],
    keys: list[str],
    settings: Settings,
    cache: PostCache,
    jobs: int = 1,
    progress: Callable[[], None] = lambda: None,
) -> tuple[list[Repaired], Work]:
    """Each (id, path) repaired, in order: from the cache where its key matches, else now (in ``jobs`` processes)."""
    results: list[Repaired | None] = [None] * len(posts)
    todo: list[int] = []
    for index, ((archive_id, _path), key) in enumerate(zip(posts, keys)):
        found = cache.load(archive_id, key)
        if found is None:
            todo.append(index)
        else:
            results[index] = found
            progress()
    for index, repaired in zip(todo, _repair_all([posts[i] for i in todo], settings, jobs, progress)):
        results[index] = repaired
        cache.store(posts[index][0], keys[index], repaired)
    return [r for r in results if r is not None], Work(cached=len(posts) - len(todo), repaired=len(todo))


def _repair_all(posts: list[tuple[int, Path]], settings: Settings, jobs: int, progress: Callable[[], None]):
    if jobs <= 1 or len(posts) <= 1:
        for archive_id, path in posts:
            yield repair_post(path, archive_id, settings)
            progress()
        return
    # fork: the workers start with bookgen imported and the fonts' coverage read
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(posts)), mp_context=multiprocessing.get_context("fork"))
    try:
        futures = [pool.submit(repair_post, path, archive_id, settings) for archive_id, path in posts]
        for future in futures:
            yield future.result()
            progress()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # an error in one post: the others are not waited for
