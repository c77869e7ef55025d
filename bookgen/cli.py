"""The command line: the one place that turns a ``UserError`` into a message and exit code."""

from __future__ import annotations

import functools
import os
import shlex
import signal
import sys
import time
from pathlib import Path

import click

from bookgen import __version__
from bookgen.diagnostics import printable
from bookgen.errors import Interrupted, ManifestError, UserError
from bookgen.fetch import fetch_archive_page, fetch_volume
from bookgen.manifest import TRADITIONAL_CONFIGS, VOLUME_KEY, Manifest, load_manifest
from bookgen.pipeline import BuildOptions, build_volume, prepare_volume, source_folders
from bookgen.series.catalog import catalog_from
from bookgen.series.lookup import folder_catalogs, named_series, titles_catalog
from bookgen.series.resolve import report_problems, resolve_manifest, resolve_volume, series_problems
from bookgen.series.display import chapter_lines, overview_lines
from bookgen.series.manifest_edit import NewVolume, add_volume, volume_key_for
from bookgen.series.resolve import find_series
from bookgen.sources import SourceIndex
from bookgen.transforms import PASS_NAMES
from bookgen.web import DEFAULT_BASE_URL, Client

MANIFEST_HELP = "The manifest of volumes (default: ./series.yaml)."
SOURCES_HELP = "A folder of posts (.md or .html); repeat for several. Searched before BOOKGEN_SOURCES and the manifest's."
INDEX_HELP = ("A list of the blog's posts (JSON: [{id, title, date}], or TSV): where a series: volume finds its "
              "chapters, besides the source folders.")  # fmt: skip


def user_errors(command):
    """Print a user error as one `file:line: message` line and exit with its code, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        previous = _stop_on_sigterm()
        try:
            return command(*args, **kwargs)
        except UserError as exc:
            click.echo(f"bookgen: {exc}" if exc.path is None else str(exc), err=True)
            for detail in exc.details:
                click.echo(detail, err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("bookgen: interrupted", err=True)
            sys.exit(130)
        except Interrupted as exc:
            click.echo(f"bookgen: stopped by signal {exc.signal_number}", err=True)
            sys.exit(128 + exc.signal_number)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    return wrapper


def _stop_on_sigterm():
    """SIGTERM (from `timeout`, CI, kill) unwinds like Ctrl-C, so TeX's process group is stopped on the way out."""

    def raise_interrupted(signal_number, _frame):
        raise Interrupted(signal_number)

    try:
        return signal.signal(signal.SIGTERM, raise_interrupted)
    except ValueError:  # not the main thread (an embedding program): its own handling stays
        return None


def manifest_option(command):
    return click.option(
        "--manifest", "manifest_path", type=click.Path(path_type=Path), default=Path("series.yaml"),
        show_default=True, help=MANIFEST_HELP,
    )(command)  # fmt: skip


def sources_option(command):
    return click.option(
        "--sources", "sources", multiple=True, type=click.Path(path_type=Path), metavar="DIR", help=SOURCES_HELP
    )(command)


def selected_volumes(manifest: Manifest, names: tuple[str, ...]):
    return [manifest.volume(name) for name in names] if names else list(manifest.volumes.values())


def index_option(command):
    return click.option("--index", "index_file", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
                        help=INDEX_HELP)(command)  # fmt: skip


def warn_line(line: str) -> None:
    click.echo(line, err=True)


def with_series_resolved(manifest: Manifest, names, options: BuildOptions, index_file: Path | None,
                         strict: bool) -> Manifest:  # fmt: skip
    """The manifest with its chosen ``series:`` volumes made chapter lists: from ``--index`` and the source folders.

    A series problem (gap, conflict, chapter not in the source folders) is a warning, an error with ``strict``.
    """
    keys = [volume.key for volume in selected_volumes(manifest, names)]
    catalog_for = folder_catalogs(manifest, lambda volume: source_folders(manifest, volume, options), index_file)
    return resolve_manifest(manifest, keys, catalog_for, strict=strict, warn=warn_line)


def writable_folder(path: Path) -> bool:
    """Whether ``path`` is a folder bookgen may write in, or one it can create (its first existing parent is)."""
    for existing in (path, *path.parents):
        if os.path.lexists(existing):  # a dangling link counts: mkdir would fail on it
            return existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)
    return False


def check_out_folder(out_dir: Path, volumes=(), option: str = "--out") -> None:
    """``--out`` (and each volume's folder and PDF in it) can be written, checked before anything is prepared.

    Before → after: ``--out /dev/null`` → ``--out /dev/null: not a writable folder`` (exit 1), not a
    NotADirectoryError from deep in the build after every post was read.
    """
    if not writable_folder(out_dir):
        raise UserError("not a writable folder", f"{option} {out_dir}")
    for volume in volumes:
        if not writable_folder(out_dir / volume.key):
            raise UserError("not a writable folder (the volume's .tex go there)", out_dir / volume.key)
        if (out_dir / f"{volume.key}.pdf").is_dir():
            raise UserError("is a folder: the volume's PDF cannot be written there", out_dir / f"{volume.key}.pdf")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bookgen")
def main():
    """Turn series of posts from 科学空间 (spaces.ac.cn) into ctexbook PDF books.

    Volumes and their chapters are listed in series.yaml; posts are found by
    archive id in the source folders (--sources, BOOKGEN_SOURCES, the manifest).
    """


@main.command("list")
@manifest_option
@sources_option
@index_option
@user_errors
def list_volumes(manifest_path: Path, sources: tuple[Path, ...], index_file: Path | None):
    """List the volumes, their chapters, and which posts are found."""
    manifest = load_manifest(manifest_path)
    options = BuildOptions(sources=tuple(p.resolve() for p in sources))
    for volume in manifest.volumes.values():
        folders = source_folders(manifest, volume, options)
        if volume.series is not None:
            catalog = catalog_from(index_files=[index_file] if index_file else [], folders=folders)
            try:
                volume, problems = resolve_volume(manifest, volume, catalog, keep_missing=True)
            except ManifestError as exc:  # nothing to list: say why, and go on with the other volumes
                click.echo(printable(f"{volume.key}: {volume.title} — {exc.message}"))
                continue
            report_problems(problems, manifest, volume.series_line, strict=False, warn=warn_line)
        index = SourceIndex.scan(folders)
        found = sum(1 for e in volume.chapters if index.find(e.id))
        extra = f" [{volume.traditional}]" if volume.traditional else ""
        extra += f" (series {volume.series})" if volume.series else ""
        # Titles from series.yaml and file names from the folders: escaped, so a terminal only shows them.
        click.echo(printable(f"{volume.key}: {volume.title}{extra} — {found}/{len(volume.chapters)} posts found"))
        for number, entry in enumerate(volume.chapters, 1):
            path = index.find(entry.id)
            status = str(path) if path else "MISSING"
            title = f" {entry.title}" if entry.title else ""
            click.echo(printable(f"  {number:>3}. {entry.id}{title}  {status}"))


def build_options_from(sources, out_dir, template_dirs, traditional, skip_passes, *, tex_only: bool, **more) -> BuildOptions:
    return BuildOptions(
        sources=tuple(sources),  # as given, so messages show the paths the user typed
        out_dir=out_dir,
        template_dirs=tuple(p.resolve() for p in template_dirs),
        traditional=traditional,
        tex_only=tex_only,
        skip_passes=frozenset(skip_passes),
        **more,
    )


def build_options(function):
    options = [
        click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("build"), show_default=True,
                     help="Where volumes are built: OUT/<volume>/ (the .tex) and OUT/<volume>.pdf."),
        click.option("--templates", "template_dirs", multiple=True, type=click.Path(path_type=Path), metavar="DIR",
                     help="A folder of templates overriding the built-in ones by file name (repeatable)."),
        click.option("--traditional", type=click.Choice(TRADITIONAL_CONFIGS + ("none",)), default=None,
                     help="Convert to Traditional Chinese with this OpenCC config (overrides the manifest; 'none' keeps Simplified)."),
        click.option("--skip-pass", "skip_passes", multiple=True, type=click.Choice(PASS_NAMES), metavar="NAME",
                     help=f"Leave a normalizer pass out, to see what it does (repeatable): {', '.join(PASS_NAMES)}."),
        sources_option,
        index_option,
        manifest_option,
    ]  # fmt: skip
    for option in options:
        function = option(function)
    return function


@main.command()
@click.argument("volumes", nargs=-1)
@build_options
@click.option("--tex-only", is_flag=True, help="Write the .tex files and stop before running TeX.")
@click.option("--strict", is_flag=True,
              help="Stop at the first TeX error (exit 2) instead of showing what TeX rejects as its source; "
                   "a series: volume's gaps, conflicts and chapters missing from the source folders are errors.")
@click.option("--tex-timeout", type=click.FloatRange(min=1), default=None, metavar="SECONDS",
              help="Stop TeX when it prints nothing for this long: a loop (default 60).")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.option("-v", "--verbose", is_flag=True, help="Also print every repair and warning, and each pass's time.")
@user_errors
def build(volumes, out_dir, template_dirs, traditional, skip_passes, sources, index_file, manifest_path, tex_only,
          strict, tex_timeout, quiet, verbose):  # fmt: skip
    """Build VOLUMES (default: all) into OUT/<volume>.pdf.

    A formula (or paragraph, table…) TeX rejects is shown as its TeX source in
    a frame, with a warning naming its post and line, and the book is built
    anyway; --strict makes the first TeX error stop the build (exit 2).  A
    failed build keeps the last good PDF.
    """
    check_out_folder(out_dir)
    manifest = load_manifest(manifest_path)
    options = build_options_from(sources, out_dir, template_dirs, traditional, skip_passes, tex_only=tex_only,
                                 strict=strict, tex_timeout=tex_timeout)  # fmt: skip
    manifest = with_series_resolved(manifest, volumes, options, index_file, strict)
    say = (lambda *a, **k: None) if quiet else click.echo
    chosen = selected_volumes(manifest, volumes)
    check_out_folder(out_dir, chosen)
    # Prepare every volume first: bad input stops the run before build/ is touched.
    prepared = []
    for volume in chosen:
        start = time.perf_counter()
        with click.progressbar(length=len(volume.chapters), label=f"{volume.key}: reading posts",
                               file=None if not quiet else _Null()) as bar:  # fmt: skip
            def progress(entries):
                for entry in entries:
                    yield entry
                    bar.update(1)

            prepared.append((prepare_volume(manifest, volume, options, progress), start))
    for item, start in prepared:
        def on_pass(number: int, rule: str, key=item.volume.key) -> None:
            say(f"{key}: TeX pass {number} ({rule})")

        result = build_volume(item, options, on_pass)
        if verbose:
            for diagnostic in result.reporter.items:
                click.echo(str(diagnostic))
            click.echo(pass_times(result.key, item.pass_times))
        repairs = ", ".join(result.reporter.summary_lines()) or "none"
        say(f"{result.key}: repairs: {repairs}  (full report: {result.volume_dir / 'report.txt'})")
        seconds = time.perf_counter() - start
        if result.pdf and result.log:
            fallbacks = f", {len(result.fallbacks)} shown as source" if result.fallbacks else ""
            say(
                f"{result.key}: wrote {result.pdf} — {result.log.pages} pages, "
                f"{result.log.warnings} TeX warnings, {len(result.reporter.warnings)} normalizer warnings"
                f"{fallbacks}, {seconds:.1f}s"
            )
            for fallback in result.fallbacks:  # the source shown comes from the posts: printable
                click.echo(printable(f"{fallback.post.path}:{fallback.span.unit.line}: warning: {fallback}"), err=True)
            for problem in log_problems(result.log):
                click.echo(printable(f"{result.key}: warning: {problem} (see {result.volume_dir / 'main.log'})"), err=True)
        else:
            say(f"{result.key}: wrote {len(result.files_written)} changed .tex files in {result.volume_dir} ({seconds:.1f}s)")


def pass_times(key: str, times: dict[str, float]) -> str:
    """``diffusion: passes: math-cleanup 12 ms, untrusted-tex 30 ms, …`` in the order they ran."""
    shown = ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in times.items())
    return f"{key}: passes: {shown} (total {sum(times.values()):.2f} s)"


def log_problems(log) -> list[str]:
    """What a reader of the PDF would see: ?? for references, blank boxes for glyphs."""
    problems = []
    if log.undefined_references:
        problems.append(f"{log.undefined_references} undefined references print as ??")
    if log.multiply_defined:
        problems.append(f"{log.multiply_defined} labels defined twice")
    if log.missing_characters:
        glyphs = " ".join(log.missing_glyphs[:20])
        problems.append(f"{log.missing_characters} characters the fonts lack ({glyphs}) are left out of the PDF")
    return problems


@main.command()
@click.argument("volumes", nargs=-1)
@build_options
@click.option("--strict", is_flag=True,
              help="Exit 1 when anything was only warned about (dangling references, unknown commands, series gaps).")
@user_errors
def check(volumes, out_dir, template_dirs, traditional, skip_passes, sources, index_file, manifest_path, strict):
    """Run everything but TeX and print every repair and warning as `post.md:LINE: [pass] what changed`."""
    check_out_folder(out_dir)
    manifest = load_manifest(manifest_path)
    options = build_options_from(sources, out_dir, template_dirs, traditional, skip_passes, tex_only=True)
    manifest = with_series_resolved(manifest, volumes, options, index_file, strict)
    warned = 0
    for volume in selected_volumes(manifest, volumes):
        prepared = prepare_volume(manifest, volume, options)
        click.echo(f"# {volume.key}")
        click.echo(prepared.reporter.render(), nl=False)
        warned += len(prepared.reporter.warnings)
    if strict and warned:
        click.echo(f"bookgen: {warned} warnings (--strict)", err=True)
        sys.exit(1)


@main.command()
@click.argument("volumes", nargs=-1)
@manifest_option
@click.option("--cache", "cache_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("cache"),
              show_default=True, help="Folder the pages are saved in, as <id>.html (then build with --sources DIR).")
@click.option("--force", is_flag=True, help="Download pages again even when they are in the cache.")
@click.option("--update", is_flag=True,
              help="Ask the site which cached pages changed (conditional requests) and replace only those.")
@click.option("--base-url", default=DEFAULT_BASE_URL, show_default=True, metavar="URL",
              help="The site to download from, e.g. the mirror https://kexue.fm.")
@click.option("--delay", type=click.FloatRange(min=0), default=1.0, show_default=True, metavar="SECONDS",
              help="Seconds between two requests, to be gentle with the site (a longer Crawl-delay in robots.txt wins).")
@index_option
@click.option("--strict", is_flag=True, help="A series: volume's gaps and conflicts are errors (nothing downloaded).")
@user_errors
def fetch(volumes, manifest_path, cache_dir, force, update, base_url, delay, index_file, strict):
    """Download the pages of VOLUMES (default: all) from the site into a cache folder.

    Pages already in the cache are kept (unless --force, or --update and the
    site changed them); the posts' images are saved below the cache too.  Then
    build from the cache: `bookgen build VOLUME --sources CACHE`.  A series:
    volume's chapters come from the site's archive page (cached as
    CACHE/content.html, refreshed by --update and --force) or from --index FILE.
    Needs a network connection.
    """
    check_out_folder(cache_dir, option="--cache")
    manifest = load_manifest(manifest_path)
    counts = {"fetched": 0, "cached": 0, "unchanged": 0, "updated": 0, "image": 0}
    chosen = selected_volumes(manifest, volumes)

    def progress(status: str, archive_id: int, path: Path) -> None:
        counts[status] += 1
        if status == "image":
            click.echo(f"          {'image':<9} {printable(str(path))}")
        else:
            click.echo(f"  {archive_id:>7} {status:<9} {printable(str(path))}")

    def note(message: str) -> None:
        click.echo(f"  note: {message}")

    def warn(message: str) -> None:
        click.echo(f"bookgen: warning: {message}", err=True)

    client = Client(base_url, delay=delay, note=note)  # one per run: cookies, robots.txt and pace are shared
    if any(volume.series for volume in chosen):
        if force and update:
            raise UserError("--force and --update exclude each other (--force downloads every page again)")
        if index_file is None:
            status, archive = fetch_archive_page(cache_dir, client, force=force, update=update)
            click.echo(f"  {'archive':>7} {status:<9} {printable(str(archive))}")
        catalog = catalog_from(index_files=[index_file] if index_file else [], archive_pages=[] if index_file else [archive])
        manifest = resolve_manifest(manifest, [v.key for v in chosen], lambda _: catalog, strict=strict, warn=warn_line)
        chosen = selected_volumes(manifest, volumes)
    for volume in chosen:
        click.echo(f"{volume.key}: {len(volume.chapters)} pages")
        fetch_volume(volume, cache_dir, client=client, force=force, update=update, progress=progress, warn=warn)
    keys = " ".join(v.key for v in chosen)
    click.echo(
        f"{fetch_summary(counts, update)} (in {cache_dir}); "
        f"now build with: bookgen build {keys} --sources {shlex.quote(str(cache_dir))}"
    )


def fetch_summary(counts: dict[str, int], update: bool) -> str:
    """``{"fetched": 3, "image": 2, …}`` → ``3 fetched, 0 already cached, 2 images saved``."""
    if update:
        text = f"{counts['updated']} updated, {counts['unchanged']} unchanged, {counts['fetched']} fetched"
    else:
        text = f"{counts['fetched']} fetched, {counts['cached']} already cached"
    if counts["image"]:
        text += f", {counts['image']} image{'s' if counts['image'] != 1 else ''} saved"
    return text


# ---------------------------------------------------------------- series of the blog


def titles_options(function):
    """Where ``series`` and ``add`` read the blog's titles: source folders, a post list, the site's archive page."""
    options = [
        click.option("--update", is_flag=True,
                     help="With --online: ask the site whether its archive page changed (new chapters of a running series)."),
        click.option("--delay", type=click.FloatRange(min=0), default=1.0, show_default=True, metavar="SECONDS",
                     help="With --online: seconds between two requests."),
        click.option("--base-url", default=DEFAULT_BASE_URL, show_default=True, metavar="URL",
                     help="With --online: the site, e.g. the mirror https://kexue.fm."),
        click.option("--cache", "cache_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("cache"),
                     show_default=True, help="Where --online keeps the archive page, as content.html (bookgen fetch's cache)."),
        click.option("--online", is_flag=True,
                     help="Read the titles from the site's archive page (downloaded once into the cache folder)."),
        click.option("--index", "index_file", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
                     help="A list of the blog's posts: JSON ([{id, title, date}, …]) or TSV (id, title, date)."),
        sources_option,
        manifest_option,
    ]  # fmt: skip
    for option in options:
        function = option(function)
    return function


def archive_fetcher(online: bool, cache_dir: Path, base_url: str, delay: float, update: bool):
    """With --online: a function fetching the site's archive page into the cache (once; again with --update)."""
    if not online:
        return None

    def fetch_archive() -> Path:
        check_out_folder(cache_dir, option="--cache")
        client = Client(base_url, delay=delay, note=lambda message: click.echo(f"bookgen: note: {message}", err=True))
        return fetch_archive_page(cache_dir, client, update=update)[1]

    return fetch_archive


@main.command("series")
@click.argument("name", required=False)
@titles_options
@click.option("--min", "min_posts", type=click.IntRange(min=1), default=2, show_default=True, metavar="N",
              help="Without NAME: list the series of at least N posts.")
@click.option("--strict", is_flag=True, help="Exit 1 when a series shown has a gap, a conflict, or a chapter "
                                             "the source folders lack.")  # fmt: skip
@user_errors
def series_command(name, manifest_path, sources, index_file, online, cache_dir, base_url, delay, update, min_posts,
                   strict):  # fmt: skip
    """List the blog's series found in post titles, or the chapters of series NAME in order.

    A series is recognised from its titles as the blog writes them
    (名（二十四）：副标题, 名：7、副标题, 【名】 2. 副标题, …) and ordered by its
    numbers.  The titles come from --sources folders, an --index list of the
    blog's posts, or (--online) the site's archive page; without any of them,
    from the project's source folders.
    """

    archive = archive_fetcher(online, cache_dir, base_url, delay, update)
    catalog = titles_catalog(sources, index_file, manifest_path, cache_dir, archive)
    if name is not None:
        series = named_series(catalog, name)
        problems = series_problems(series, catalog)
        report_problems(problems, None, None, strict=strict, warn=warn_line)
        for line in chapter_lines(series, catalog):
            click.echo(line)
        return
    for line in overview_lines(catalog, min_posts):
        click.echo(line)
    flawed = [s for s in find_series(catalog).values() if len(s.posts) >= min_posts and series_problems(s, catalog)]
    if strict and flawed:
        click.echo(f"bookgen: {len(flawed)} series have gaps, conflicts or chapters missing (--strict)", err=True)
        sys.exit(1)


@main.command()
@click.argument("name")
@titles_options
@click.option("--key", metavar="KEY", help="The new volume's short name (default: from the series' Latin letters, "
                                          "else series-ID).")  # fmt: skip
@click.option("--title", metavar="TITLE", help="The book's title (default: the series' name).")
@click.option("--strict", is_flag=True, help="Refuse a series with a gap or a conflict (nothing written).")
@user_errors
def add(name, manifest_path, sources, index_file, online, cache_dir, base_url, delay, update, key, title, strict):
    """Append a volume of every chapter of series NAME, in order, to series.yaml (made if missing).

    The chapters are written as an explicit list of archive ids, one a line with
    the post's title as a comment, so the manifest stays reviewable; the rest of
    the file is kept byte for byte.  From nothing:
    `bookgen add 生成扩散模型漫谈 --online && bookgen fetch && bookgen build`.
    """

    if key is not None and not VOLUME_KEY.fullmatch(key):
        raise UserError(f"--key {key!r}: must be letters, digits, '-' or '_' (at most 64, the first a letter or digit)")
    if manifest_path.exists():
        load_manifest(manifest_path)  # a broken manifest is reported before anything is read or downloaded
    archive = archive_fetcher(online, cache_dir, base_url, delay, update)
    catalog = titles_catalog(sources, index_file, manifest_path, cache_dir, archive)
    series = named_series(catalog, name)
    report_problems(series_problems(series), None, None, strict=strict, warn=warn_line)
    volume = NewVolume(
        key=key or volume_key_for(series.name, series.posts[0].id),
        title=title or series.name,
        subtitle="科学空间系列文章",
        series=series.name,
        chapters=tuple((post.id, post.listing.title) for post in series.posts),
    )
    add_volume(manifest_path, volume, cache_dir)
    click.echo(printable(
        f"{manifest_path}: added volume '{volume.key}' — {series.name}, {len(series.posts)} chapters "
        f"({series.span()}); next: bookgen fetch {volume.key}"
    ))  # fmt: skip


class _Null:
    def write(self, *_):
        pass

    def flush(self):
        pass
