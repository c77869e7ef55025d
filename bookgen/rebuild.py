"""What a rebuild can take as the last build left it: for each chapter, the finished chapter, else the
repaired post, else nothing (the post is read and repaired again).

A finished chapter (``cache.Finished``: after the volume's passes, with its .tex) is used as it is when
its post is the same (its key) and so is the volume around it (``volume_key``: the chapters' places,
titles and anchors, the templates, the Traditional settings, the image folders) and its figures are
found where they were.  The volume's passes then run on the other chapters only, and the templates
render only those: a rebuild after one post was edited repairs, passes and renders that one post.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bookgen import model as m
from bookgen.cache import ChapterCache, PostCache, Repaired, Finished, digest_of, prune
from bookgen.diagnostics import display_path
from bookgen.figures import figures_of
from bookgen.latex.render import Rendered, post_file
from bookgen.manifest import Volume
from bookgen.repairs import Settings, Work, post_keys, repair_posts
from bookgen.resources import builtin_template_dir
from bookgen.series.chapters import Heading, chapter_headings
from bookgen.transforms import Context, Pass, glyphs, images
from bookgen.transforms.images import finding
from bookgen.transforms.links import headings_of


@dataclass
class Gathered:
    """A volume's chapters before its passes: each one finished in an earlier build, or a repaired post."""

    posts: list[tuple[int, Path]]  # (id, file) of each chapter
    keys: list[str]  # each post's cache key
    finished: dict[int, Finished]  # by chapter index
    repaired: dict[int, Repaired]  # the others
    titles: list[str]  # each post's own title
    anchors: list[frozenset[str]]  # each post's headings' anchors
    headings: list[Heading]
    volume_key: str
    work: Work

    def chapters_to_pass(self) -> list[m.Chapter]:
        """The chapters the volume's passes are to see: those not finished."""
        return [
            m.Chapter(post=self.repaired[i].post, title=m.text(title), full_title=m.text(full), number=number)
            for i, (title, full, number) in enumerate(self.headings)
            if i not in self.finished
        ]

    def diagnostics(self) -> list:
        """What the repairs reported (and, for a finished chapter, the volume's passes too), chapter by chapter."""
        found: list = []
        for index in range(len(self.posts)):
            found += self.finished[index].diagnostics if index in self.finished else self.repaired[index].diagnostics
        return found

    def pass_times(self) -> dict[str, float]:
        """Seconds per pass of the repairs made this time."""
        times: dict[str, float] = {}
        for result in self.repaired.values():
            for name, seconds in result.times.items():
                times[name] = times.get(name, 0.0) + seconds
        return times

    def outline(self) -> dict[int, tuple[int, frozenset[str]]]:
        """Every chapter's place and anchors (what links between chapters need, when the passes see some)."""
        return {archive_id: (place, self.anchors[place - 1]) for place, (archive_id, _) in enumerate(self.posts, 1)}


def gather(
    volume: Volume,
    posts: list[tuple[int, Path]],
    settings: Settings,
    context: Context,
    passes: tuple[Pass, ...],
    template_dirs: tuple[Path, ...],
    caches: tuple[PostCache, ChapterCache],
    jobs: int,
    progress: Callable[[], None],
) -> Gathered:
    """Each chapter finished from the cache where it can be; the others' posts repaired (or from the cache)."""
    posts_cache, chapter_cache = caches
    keys = post_keys(posts, settings)
    # Whether a finished chapter fits takes every chapter's title and anchors: a finished one has them,
    # the others come from their repaired posts.
    candidates = [chapter_cache.load(archive_id, key) for (archive_id, _), key in zip(posts, keys)]
    repaired, work = repair_some(posts, keys, [c is None for c in candidates], settings, posts_cache, jobs, progress)
    titles = [c.title if c else repaired[i].post.title for i, c in enumerate(candidates)]
    anchors = [c.anchors if c else frozenset(headings_of(repaired[i].post)) for i, c in enumerate(candidates)]
    headings = chapter_headings(volume, titles)
    key = volume_key(template_dirs, context, settings, posts, headings, anchors)
    finished = {i: c for i, c in enumerate(candidates) if c and fits(c, key, context, passes)}
    for _ in finished:
        progress()
    unfit = [c is not None and i not in finished for i, c in enumerate(candidates)]
    more, more_work = repair_some(posts, keys, unfit, settings, posts_cache, jobs, progress)
    work = Work(len(finished) + work.cached + more_work.cached, work.repaired + more_work.repaired, len(finished))
    return Gathered(posts, keys, finished, {**repaired, **more}, titles, anchors, headings, key, work)


def repair_some(posts, keys, wanted: list[bool], settings: Settings, cache: PostCache, jobs: int, progress):
    """The posts marked ``wanted``, repaired (or from the cache): index → Repaired, and how."""
    chosen = [index for index, want in enumerate(wanted) if want]
    results, work = repair_posts([posts[i] for i in chosen], [keys[i] for i in chosen], settings, cache, jobs, progress)
    return dict(zip(chosen, results)), work


def volume_key(template_dirs, context: Context, settings: Settings, posts, headings, anchors) -> str:
    """What a chapter's passes and rendering take from its volume.

    The templates (every file of every template folder), the Traditional settings and phrases, the image
    folders, the preamble and passes (``settings``), and every chapter's place, heading and anchors.
    """
    parts = [settings.digest(), str(context.traditional), *map(str, context.image_dirs)]
    for folder in tuple(template_dirs) + (builtin_template_dir(),):
        for path in sorted(folder.rglob("*")) if folder.is_dir() else ():
            if path.is_file():
                parts += [str(path), file_digest(path)]
    parts.append(file_digest(context.phrases) if context.phrases else "")
    for (archive_id, _), (title, full, number), names in zip(posts, headings, anchors):
        parts += [str(archive_id), title, full, str(number), *sorted(names)]
    return digest_of(*parts)


def file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def fits(entry: Finished, key: str, context: Context, passes: tuple[Pass, ...]) -> bool:
    """Whether a finished chapter can be used as it is: the same volume, the fonts checked, its figures
    found (or not) where they were."""
    if entry.volume != key or context.glyphs is None or context.glyphs.problem:
        return False
    if any(p.name == images.NAME for p in passes):
        figures = figures_of(entry.chapter.post)
        return all(finding(f.src, context.image_dirs) == (f.source_file, f.problem or None) for f in figures)
    return True


def put_back(passed: m.Book, gathered: Gathered, context: Context, passes: tuple[Pass, ...]) -> m.Book:
    """The book the passes made of the other chapters, with the finished ones back in their places."""
    if not gathered.finished:
        return passed
    others = iter(passed.chapters)
    chapters = tuple(gathered.finished[i].chapter if i in gathered.finished else next(others) for i in range(len(gathered.posts)))
    book = dataclasses.replace(passed, chapters=chapters)
    if any(p.name == glyphs.NAME for p in passes):  # the fonts of the finished chapters are declared too
        book = glyphs.declare_fonts(book, context.glyphs)
    return book


def made_before(gathered: Gathered) -> dict:
    """The finished chapters' files, for ``render_book``."""
    return {post_file(c.chapter.post): (c.chapter, c.text, c.spans) for c in gathered.finished.values()}


def keep_finished(chapter_cache: ChapterCache, gathered: Gathered, book: m.Book, rendered: Rendered, context: Context) -> None:
    """Each chapter made this time, finished, for the next build (with what its repairs and the volume's
    passes reported about its post); the entries of posts no longer in the volume go."""
    if chapter_cache.enabled and chapter_cache.writable:
        prune(chapter_cache.folder.parent, [archive_id for archive_id, _ in gathered.posts])
    found: dict[str, list] = {}
    for diagnostic in context.reporter.items:
        found.setdefault(diagnostic.path, []).append(diagnostic)
    for index, chapter in enumerate(book.chapters):
        if index in gathered.finished:
            continue
        path = post_file(chapter.post)
        diagnostics = gathered.repaired[index].diagnostics + tuple(found.get(display_path(chapter.post.path), ()))
        entry = Finished(chapter, gathered.titles[index], gathered.anchors[index], diagnostics,
                        rendered.files[path], rendered.spans[path], gathered.volume_key)  # fmt: skip
        chapter_cache.store(gathered.posts[index][0], gathered.keys[index], entry)
