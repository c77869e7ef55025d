"""manifest → load → parse → normalize (the passes, Traditional Chinese and glyphs among them) → render → compile.

Each stage is timed; the normalizer's passes one by one (``Context.times``).

Everything that can fail on bad input (manifest, sources, posts, templates)
runs before anything is written, so a bad input leaves build/ as it was.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import jinja2

from bookgen import model as m
from bookgen.compile import LogSummary, Stopwatch, check_tools, publish_pdf, read_log, summarize_log, volume_lock
from bookgen.diagnostics import Reporter
from bookgen.errors import ManifestError, SourceError, UserError
from bookgen.fallback import Fallback, compile_with_fallbacks
from bookgen.fonts import GlyphChooser, chooser_for_preamble
from bookgen.latex.language import language_for
from bookgen.escape import one_line
from bookgen.figures import figures_to_install, install_image
from bookgen.latex.render import Rendered, book_view, render_book
from bookgen.latex.templating import template_environment
from bookgen.manifest import Manifest, Volume
from bookgen.readers import read_post
from bookgen.series.chapters import chapter_title, series_numbers
from bookgen.sources import SourceIndex, sources_from_env
from bookgen.transforms import PASSES, Context, run_passes
from bookgen.transforms.traditional import converter_for


@dataclass
class BuildOptions:
    sources: tuple[Path, ...] = ()
    out_dir: Path = Path("build")
    template_dirs: tuple[Path, ...] = ()
    traditional: str | None = None  # None: as the manifest says; "none": force Simplified
    tex_only: bool = False
    strict: bool = False  # the first TeX error stops the build (no fallbacks)
    skip_passes: frozenset[str] = frozenset()  # normalizer passes left out (--skip-pass), to see what one does
    tex_timeout: float | None = None  # seconds of TeX silence taken as a hang (None: compile's default)


@dataclass
class VolumeResult:
    key: str
    volume_dir: Path
    pdf: Path | None
    reporter: Reporter
    files_written: list[str]
    times: dict[str, float]
    log: LogSummary | None = None
    book: m.Book | None = None
    fallbacks: list[Fallback] = field(default_factory=list)  # units TeX rejected, shown as their source


@dataclass
class Prepared:
    """A volume rendered in memory, ready to be written."""

    volume: Volume
    book: m.Book
    rendered: Rendered
    render: Callable[[m.Book, frozenset], Rendered]  # the same templates and language, for a book with fallbacks
    reporter: Reporter
    stopwatch: Stopwatch = field(default_factory=Stopwatch)
    pass_times: dict[str, float] = field(default_factory=dict)  # seconds per normalizer pass

    @property
    def files(self) -> dict[str, str]:
        return self.rendered.files


def source_folders(manifest: Manifest, volume: Volume, options: BuildOptions) -> tuple[Path, ...]:
    folders = tuple(options.sources) + sources_from_env() + volume.sources + manifest.sources
    for folder in options.sources + sources_from_env():
        if not folder.is_dir():
            raise SourceError("source folder does not exist", folder)
    unique: list[Path] = []
    for folder in folders:
        if folder not in unique and folder.is_dir():
            unique.append(folder)
    return tuple(unique)


def load_book(
    manifest: Manifest, volume: Volume, options: BuildOptions, reporter: Reporter,
    progress: Callable[[Iterable], Iterable] = iter,
) -> m.Book:  # fmt: skip
    """The volume's posts read into a book; what the reader noticed, and files claiming a chapter's id, reported."""
    folders = source_folders(manifest, volume, options)
    index = SourceIndex.scan(folders)
    missing = [entry for entry in volume.chapters if index.find(entry.id) is None]
    if missing:
        where = ", ".join(str(f) for f in folders) or "no source folder"
        ids = " ".join(str(e.id) for e in missing)
        raise ManifestError(
            f"volume '{volume.key}': post {ids} not found in {where} (give --sources DIR or set BOOKGEN_SOURCES)",
            manifest.path,
            missing[0].line,
        )
    posts = []
    for entry in progress(volume.chapters):
        post = read_post(index.find(entry.id), entry.id)
        posts.append((entry, post))
        for other in index.shadowed.get(entry.id, ()):
            reporter.add(post.path, 1, "sources", f"archive id {post.id} is also claimed by {other} (ignored)", warning=True)
        for line, note in post.notes:
            reporter.add(post.path, line, "reader", note, warning=True)
    numbers = series_numbers([post.title for _, post in posts])
    chapters = []
    for (entry, post), number in zip(posts, numbers):
        title = one_line(chapter_title(post.title, entry.title, volume.chapter_titles))
        full = one_line(post.title) if title != one_line(post.title) else ""  # printed under a heading that differs
        chapters.append(m.Chapter(post=post, title=m.text(title), full_title=m.text(full), number=number))
    return m.Book(
        key=volume.key,
        title=m.text(one_line(volume.title)),
        subtitle=m.text(one_line(volume.subtitle)),
        author=m.text(one_line(volume.author)),
        paper=volume.paper,
        chapters=tuple(chapters),
    )


def traditional_config(volume: Volume, options: BuildOptions) -> str | None:
    if options.traditional is None:
        return volume.traditional
    return None if options.traditional == "none" else options.traditional


def prepare_volume(
    manifest: Manifest, volume: Volume, options: BuildOptions, progress: Callable[[Iterable], Iterable] = iter
) -> Prepared:
    reporter = Reporter()
    stopwatch = Stopwatch()
    with stopwatch.time("load+parse"):
        book = load_book(manifest, volume, options, reporter, progress)
    traditional = traditional_config(volume, options)
    env = template_environment(tuple(options.template_dirs) + (manifest.path.parent / "templates",))
    context = Context(
        reporter=reporter,
        image_dirs=tuple(options.sources) + volume.images + manifest.images,
        traditional=traditional,
        phrases=volume.phrases,
        glyphs=glyph_chooser(env, book, traditional),
        volume_source=(manifest.path, volume.line),
    )
    with stopwatch.time("normalize"):
        book = run_passes(book, context, PASSES, options.skip_passes)
    language = language_for(traditional, converter_for(traditional, volume.phrases) if traditional else str)

    def render(book: m.Book, probes: frozenset = frozenset()) -> Rendered:
        try:
            return render_book(book, env, language, manifest.path.name, probes)
        except jinja2.TemplateError as exc:
            raise template_error(exc) from None

    with stopwatch.time("render"):
        rendered = render(book)
    return Prepared(volume, book, rendered, render, reporter, stopwatch, context.times)


def glyph_chooser(env: jinja2.Environment, book: m.Book, traditional: str | None) -> GlyphChooser:
    """What the fonts of the preamble template (the user's, if any) have: the preamble rendered for its fonts."""
    try:
        preamble = env.get_template("preamble.tex.j2").render(
            book=book_view(book), language=language_for(traditional), extra_preamble=""
        )
    except jinja2.TemplateError as exc:
        raise template_error(exc) from None
    return chooser_for_preamble(preamble)


def template_error(exc: jinja2.TemplateError) -> UserError:
    """Name the template and line, also for errors raised while rendering (they carry neither)."""
    filename, line = getattr(exc, "filename", None), getattr(exc, "lineno", None)
    if filename is None:
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename.endswith(".j2"):
                filename, line = frame.filename, frame.lineno
                break
    return UserError(f"template error: {exc}", filename, line)


def write_tex(rendered: Rendered, volume_dir: Path) -> list[str]:
    """Write the .tex files that changed (so unchanged files keep their mtime) and drop stale posts."""
    written: list[str] = []
    (volume_dir / "posts").mkdir(parents=True, exist_ok=True)
    for relative, text in sorted(rendered.files.items()):
        target = volume_dir / relative
        data = text.encode("utf-8")
        if not target.exists() or target.read_bytes() != data:
            target.write_bytes(data)
            written.append(relative)
    for stale in (volume_dir / "posts").glob("*.tex"):
        if f"posts/{stale.name}" not in rendered.files:
            stale.unlink()
    return written


def write_volume(prepared: Prepared, volume_dir: Path) -> list[str]:
    """The .tex files, the images and the report."""
    written = write_tex(prepared.rendered, volume_dir)
    for relative, source in sorted(figures_to_install(prepared.book).items()):
        target = volume_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        problem = install_image(source, target)
        if problem:  # the figure's \IfFileExists shows the placeholder instead
            prepared.reporter.add(source, 1, "images", f"{problem} (placeholder used)", warning=True)
    write_report(prepared.reporter, volume_dir)
    return written


def write_report(reporter: Reporter, volume_dir: Path) -> None:
    (volume_dir / "report.txt").write_text(reporter.render(), encoding="utf-8")


def build_volume(
    prepared: Prepared, options: BuildOptions, on_pass: Callable[[int, str], None] = lambda n, rule: None
) -> VolumeResult:
    """Write the volume and, unless ``tex_only``, compile it (setting aside what TeX rejects) and publish the PDF."""
    volume_dir = options.out_dir / prepared.volume.key
    if not options.tex_only:
        check_tools()  # before writing: a build that cannot run TeX leaves the output folder alone
    result = VolumeResult(
        key=prepared.volume.key,
        volume_dir=volume_dir,
        pdf=None,
        reporter=prepared.reporter,
        files_written=[],
        times=prepared.stopwatch.times,
        book=prepared.book,
    )
    with volume_lock(volume_dir, prepared.volume.key):
        with prepared.stopwatch.time("write"):
            result.files_written = write_volume(prepared, volume_dir)
        if options.tex_only:
            return result
        with prepared.stopwatch.time("tex"):
            outcome = compile_with_fallbacks(
                prepared.book, prepared.rendered, prepared.render, lambda rendered: write_tex(rendered, volume_dir),
                volume_dir, on_pass, strict=options.strict, idle_timeout=options.tex_timeout,
            )  # fmt: skip
        for fallback in outcome.fallbacks:
            prepared.reporter.add(fallback.post.path, fallback.span.unit.line, "tex", str(fallback), warning=True)
        write_report(prepared.reporter, volume_dir)
        pdf = options.out_dir / f"{prepared.volume.key}.pdf"
        publish_pdf(volume_dir, pdf)
    result.log = summarize_log(read_log(volume_dir))
    result.pdf = pdf
    result.book = outcome.book
    result.fallbacks = outcome.fallbacks
    return result
