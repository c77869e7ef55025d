"""manifest → load → parse → normalize (the passes, Traditional Chinese and glyphs among them) → render → compile.

Each stage is timed; the normalizer's passes one by one (``Context.times``).

Everything that can fail on bad input (manifest, sources, posts, templates)
runs before anything is written, so a bad input leaves build/ as it was.
"""

from __future__ import annotations

import gc
import os
import re
import shutil
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import jinja2

from bookgen import model as m
from bookgen.cache import (
    CACHE_DIR,
    FALLBACKS_FILE,
    STAMP_FILE,
    ChapterCache,
    FallbackRecord,
    PostCache,
    build_stamp,
    read_stamp,
    write_stamp,
)
from bookgen.compile import (
    IDLE_TIMEOUT_SECONDS,
    TEX_STATE,
    LogSummary,
    Stopwatch,
    check_tools,
    publish_pdf,
    read_log,
    run_tex,
    summarize_log,
    tex_problems,
    volume_lock,
    xelatex_command,
)
from bookgen.diagnostics import Reporter
from bookgen.errors import ManifestError, SourceError, UserError
from bookgen.escape import escape_text, one_line
from bookgen.fallback import Fallback, Outcome, compile_with_fallbacks, reapply, record_of, unresolved
from bookgen.figures import figures_to_install, install_image
from bookgen.fonts import chooser_for_preamble
from bookgen.latex.language import language_for
from bookgen.latex.render import Rendered, render_book
from bookgen.latex.templating import Tex, template_environment
from bookgen.manifest import Manifest, Volume
from bookgen.rebuild import gather, keep_finished, made_before, put_back
from bookgen.repairs import Settings, Work
from bookgen.sources import SourceIndex, sources_from_env
from bookgen.transforms import Context, run_passes, volume_passes
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
    cache: bool = True  # read and keep repaired posts in OUT/<volume>/.cache (--no-cache: neither)
    read_only: bool = False  # write nothing in OUT (bookgen diff): the cache is only read
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)  # processes repairing posts (-j)
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
    work: Work = field(default_factory=Work)  # how many posts came from the cache
    tex_skipped: bool = False  # TeX was given what it built last time: not run


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
    work: Work = field(default_factory=Work)  # how many posts came from the cache
    posts: list[tuple[int, Path]] = field(default_factory=list)  # (id, file) of each chapter
    settings: Settings | None = None  # how they were repaired

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


def template_folders(manifest: Manifest, options: BuildOptions) -> tuple[Path, ...]:
    """Where the user's templates are, before the built-in ones: ``--templates``, then templates/ beside series.yaml."""
    return tuple(options.template_dirs) + (manifest.path.parent / "templates",)


def image_folders(manifest: Manifest, volume: Volume, options: BuildOptions) -> tuple[Path, ...]:
    """Where figures' files are looked for: ``--sources``, then the volume's and the manifest's ``images:``."""
    return tuple(options.sources) + volume.images + manifest.images


def find_posts(manifest: Manifest, volume: Volume, options: BuildOptions, reporter: Reporter) -> list[tuple[int, Path]]:
    """(id, file) of each chapter, from the source folders; a missing one is an error at its manifest line."""
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
    for entry in volume.chapters:
        for other in index.shadowed.get(entry.id, ()):
            reporter.add(index.find(entry.id), 1, "sources", f"archive id {entry.id} is also claimed by {other} (ignored)",
                         warning=True)  # fmt: skip
    return [(entry.id, index.find(entry.id)) for entry in volume.chapters]


def volume_book(volume: Volume, chapters: list[m.Chapter]) -> m.Book:
    """A book of these chapters, with the volume's titles."""
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
    manifest: Manifest, volume: Volume, options: BuildOptions, progress: Callable[[], None] = lambda: None
) -> Prepared:
    """Read and repair the posts, run the volume's passes, render every file: for each chapter only what
    changed since the last build (a finished chapter from the cache, else its repaired post from the cache)."""
    with few_collections():
        return _prepare_volume(manifest, volume, options, progress)


@contextmanager
def few_collections():
    """Python's cycle collector with thresholds for preparing a volume (its worker processes inherit them).

    The repairs make millions of small objects (parse trees) and keep many (the parse caches); with
    the default thresholds the collector re-scans the kept ones so often that it takes a fifth of the
    repairs' time (bench/, part (a)).  Young objects are still collected, in larger batches.
    """
    before = gc.get_threshold()
    gc.set_threshold(10000, 1000, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _prepare_volume(manifest: Manifest, volume: Volume, options: BuildOptions, progress: Callable[[], None]) -> Prepared:
    reporter = Reporter()
    stopwatch = Stopwatch()
    traditional = traditional_config(volume, options)
    template_dirs = template_folders(manifest, options)
    env = template_environment(template_dirs)
    preamble = preamble_fonts(env, volume, traditional)
    posts = find_posts(manifest, volume, options, reporter)
    volume_dir = options.out_dir / volume.key
    cache = PostCache(volume_dir, enabled=options.cache, writable=not options.read_only)
    chapter_cache = ChapterCache(volume_dir, enabled=options.cache, writable=not options.read_only)
    passes = volume_passes(options.skip_passes)
    context = Context(
        reporter=Reporter(),  # the volume's passes' findings: kept with each chapter, then merged
        image_dirs=image_folders(manifest, volume, options),
        traditional=traditional,
        phrases=volume.phrases,
        glyphs=chooser_for_preamble(preamble),
        volume_source=(manifest.path, volume.line),
    )
    settings = Settings(preamble, options.skip_passes, context.glyphs.fingerprint)
    with stopwatch.time("read+repair"):
        gathered = gather(volume, posts, settings, context, passes, template_dirs, (cache, chapter_cache), options.jobs, progress)
    reporter.merge(gathered.diagnostics())
    context.times.update(gathered.pass_times())
    if gathered.finished:  # the passes see the other chapters only: links need to know them all
        context.outline = gathered.outline()
    with stopwatch.time("normalize"):
        book = run_passes(volume_book(volume, gathered.chapters_to_pass()), context, passes)
        book = put_back(book, gathered, context, passes)
    reporter.merge(context.reporter.items)
    language = language_for(traditional, converter_for(traditional, volume.phrases) if traditional else str)
    made = made_before(gathered)

    def render(book: m.Book, probes: frozenset = frozenset()) -> Rendered:
        try:
            return render_book(book, env, language, manifest.path.name, probes, made)
        except jinja2.TemplateError as exc:
            raise template_error(exc) from None

    with stopwatch.time("render"):
        rendered = render(book)
    keep_finished(chapter_cache, gathered, book, rendered, context)
    return Prepared(volume, book, rendered, render, reporter, stopwatch, context.times, gathered.work, posts, settings)


def preamble_fonts(env: jinja2.Environment, volume: Volume, traditional: str | None) -> str:
    """The preamble template (the user's, if any) rendered as far as the fonts go: what the glyph checks read."""
    view = SimpleNamespace(key=volume.key, title=Tex(escape_text(one_line(volume.title))), subtitle=Tex(""),
                           author=Tex(""), paper=volume.paper)  # fmt: skip
    try:
        return env.get_template("preamble.tex.j2").render(book=view, language=language_for(traditional), extra_preamble="")
    except jinja2.TemplateError as exc:
        raise template_error(exc) from None


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


def install_images(book: m.Book, volume_dir: Path, reporter: Reporter) -> dict[str, Path]:
    """Each figure's file copied (an SVG converted) into the build folder; what was installed."""
    images = figures_to_install(book)
    for relative, source in sorted(images.items()):
        target = volume_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        problem = install_image(source, target)
        if problem:  # the figure's \IfFileExists shows the placeholder instead
            reporter.add(source, 1, "images", f"{problem} (placeholder used)", warning=True)
    return images


def write_volume(prepared: Prepared, volume_dir: Path) -> list[str]:
    """The .tex files, the images and the report."""
    written = write_tex(prepared.rendered, volume_dir)
    install_images(prepared.book, volume_dir, prepared.reporter)
    write_report(prepared.reporter, volume_dir)
    return written


def write_report(reporter: Reporter, volume_dir: Path) -> None:
    (volume_dir / "report.txt").write_text(reporter.render(), encoding="utf-8")


def clean_volume(volume_dir: Path) -> None:
    """``--clean``: what a build keeps for the next (the cache, TeX's files, the stamp) goes; the .tex and PDF stay."""
    shutil.rmtree(volume_dir / CACHE_DIR, ignore_errors=True)
    for name in TEX_STATE + (STAMP_FILE, FALLBACKS_FILE, "main.pdf"):
        (volume_dir / name).unlink(missing_ok=True)


def build_volume(
    prepared: Prepared, options: BuildOptions, on_pass: Callable[[int, str], None] = lambda n, rule: None
) -> VolumeResult:
    """Write the volume and, unless ``tex_only``, compile it (setting aside what TeX rejects) and publish the PDF.

    The last build's fallbacks are set aside at once in the posts that did not change (not with ``strict``);
    when TeX would be given what it was given last time, and that build succeeded, TeX is not run.
    """
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
        work=prepared.work,
    )
    record = FallbackRecord(volume_dir)
    with volume_lock(volume_dir, prepared.volume.key):
        book, rendered, known = prepared.book, prepared.rendered, ()
        if not options.strict:
            book, rendered, known = reapply(book, rendered, prepared.render, record.load())
        with prepared.stopwatch.time("write"):
            result.files_written = write_tex(rendered, volume_dir)
            images = install_images(book, volume_dir, prepared.reporter)
        outcome = Outcome(book, rendered, list(known), None)
        pdf = options.out_dir / f"{prepared.volume.key}.pdf"
        if not options.tex_only:
            if read_stamp(volume_dir) == build_stamp(rendered.files, images) and pdf.exists():
                result.tex_skipped = True  # what TeX would be given is what it built last time
            else:
                write_stamp(volume_dir, None)  # until this run succeeds, no run is on record
                with prepared.stopwatch.time("tex"):
                    outcome = compile_with_fallbacks(
                        book, rendered, prepared.render, lambda rendered: write_tex(rendered, volume_dir),
                        volume_dir, on_pass, strict=options.strict, idle_timeout=options.tex_timeout, known=known,
                    )  # fmt: skip
                publish_pdf(volume_dir, pdf)
                write_stamp(volume_dir, build_stamp(outcome.rendered.files, images))
                record.save(record_of(outcome.book, prepared.rendered))
        for fallback in outcome.fallbacks:
            prepared.reporter.add(fallback.post.path, fallback.span.unit.line, "tex", str(fallback), warning=True)
        write_report(prepared.reporter, volume_dir)
    result.book = outcome.book
    result.fallbacks = outcome.fallbacks
    if not options.tex_only:
        result.log = summarize_log(read_log(volume_dir))
        result.pdf = pdf
    return result


# ---------------------------------------------------------------- one chapter, fast

PREVIEW_JOB = "preview"  # the preview's own files in the volume folder: preview.tex, .aux, .log, .pdf
# A driver for main.tex: only the chapter asked for is read, with the chapter and page numbers it has in the
# last full build, and that build's labels (main.aux) for its references; no title page, no contents.
PREVIEW_MAIN = r"""\makeatletter
\AtBeginDocument{%
  \renewcommand{\tableofcontents}{}\renewenvironment{titlepage}{\setbox\z@\vbox\bgroup}{\egroup}%
  \begingroup\makeatletter\let\@writefile\@gobbletwo\input{main.aux}\endgroup
  \renewcommand{\bookgenchapter}[1]{\def\bookgenthis{#1}\ifx\bookgenthis\bookgenpreviewed
    \setcounter{chapter}{@CHAPTER@}\setcounter{page}{@PAGE@}\begingroup\input{#1}\endgroup\fi}}
\makeatother
\def\bookgenpreviewed{posts/@ID@}
\input{main.tex}
"""
# \newlabel{post:90002}{{二}{3}{位置编码小记}{chapter.2}{}}: the number as printed (ctex's 二), the page,
# the title, and hyperref's anchor, which has the counter's value.
CHAPTER_LABEL = r"\\newlabel\{post:%d\}\{\{[^{}]*\}\{(\d+)\}\{.*?\}\{chapter\.(\d+)\}"


def chapter_numbers(volume_dir: Path, archive_id: int) -> tuple[int, int] | None:
    """(chapter number, first page) of a chapter in the last full build, from its main.aux; None without one."""
    found = re.search(CHAPTER_LABEL % archive_id, read_log(volume_dir, "main.aux"))
    return (int(found.group(2)), int(found.group(1))) if found else None


def preview_chapter(
    prepared: Prepared, options: BuildOptions, archive_id: int, on_pass: Callable[[int, str], None] = lambda n, rule: None
) -> Path:
    """``OUT/<volume>.preview.pdf``: one chapter, typeset alone with the numbers it has in the book.

    Needs a full build before (its main.aux); the book's PDF is left as it is.
    """
    volume_dir = options.out_dir / prepared.volume.key
    numbers = chapter_numbers(volume_dir, archive_id)
    if numbers is None:
        raise UserError(f"no full build of '{prepared.volume.key}' holding chapter {archive_id} in {options.out_dir} yet")
    check_tools()
    record = FallbackRecord(volume_dir)
    with volume_lock(volume_dir, prepared.volume.key):
        book, rendered, _known = reapply(prepared.book, prepared.rendered, prepared.render, record.load())
        write_tex(rendered, volume_dir)
        install_images(book, volume_dir, prepared.reporter)
        driver = PREVIEW_MAIN.replace("@ID@", str(archive_id))
        driver = driver.replace("@CHAPTER@", str(numbers[0] - 1)).replace("@PAGE@", str(numbers[1]))
        (volume_dir / f"{PREVIEW_JOB}.tex").write_text(driver, encoding="utf-8")
        on_pass(1, "xelatex")
        run = run_tex(xelatex_command(f"{PREVIEW_JOB}.tex", PREVIEW_JOB), volume_dir, idle_timeout=options.tex_timeout or IDLE_TIMEOUT_SECONDS)
        output = volume_dir / f"{PREVIEW_JOB}.pdf"
        if run.hung or not output.exists():
            problems = tex_problems(read_log(volume_dir, f"{PREVIEW_JOB}.log")) or tex_problems(run.terminal)
            raise unresolved(run, problems, rendered, volume_dir)
        target = options.out_dir / f"{prepared.volume.key}.preview.pdf"
        shutil.copyfile(output, target)
    return target
