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
from bookgen.errors import Interrupted, UserError
from bookgen.fetch import fetch_volume
from bookgen.manifest import TRADITIONAL_CONFIGS, Manifest, load_manifest
from bookgen.pipeline import BuildOptions, build_volume, prepare_volume, source_folders
from bookgen.sources import SourceIndex
from bookgen.transforms import PASS_NAMES
from bookgen.web import DEFAULT_BASE_URL, Client

MANIFEST_HELP = "The manifest of volumes (default: ./series.yaml)."
SOURCES_HELP = "A folder of posts (.md or .html); repeat for several. Searched before BOOKGEN_SOURCES and the manifest's."


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
@user_errors
def list_volumes(manifest_path: Path, sources: tuple[Path, ...]):
    """List the volumes, their chapters, and which posts are found."""
    manifest = load_manifest(manifest_path)
    options = BuildOptions(sources=tuple(p.resolve() for p in sources))
    for volume in manifest.volumes.values():
        index = SourceIndex.scan(source_folders(manifest, volume, options))
        found = sum(1 for e in volume.chapters if index.find(e.id))
        extra = f" [{volume.traditional}]" if volume.traditional else ""
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
              help="Stop at the first TeX error (exit 2) instead of showing what TeX rejects as its source.")
@click.option("--tex-timeout", type=click.FloatRange(min=1), default=None, metavar="SECONDS",
              help="Stop TeX when it prints nothing for this long: a loop (default 60).")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.option("-v", "--verbose", is_flag=True, help="Also print every repair and warning, and each pass's time.")
@user_errors
def build(volumes, out_dir, template_dirs, traditional, skip_passes, sources, manifest_path, tex_only, strict,
          tex_timeout, quiet, verbose):  # fmt: skip
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
@click.option("--strict", is_flag=True, help="Exit 1 when anything was only warned about (dangling references, unknown commands).")
@user_errors
def check(volumes, out_dir, template_dirs, traditional, skip_passes, sources, manifest_path, strict):
    """Run everything but TeX and print every repair and warning as `post.md:LINE: [pass] what changed`."""
    check_out_folder(out_dir)
    manifest = load_manifest(manifest_path)
    options = build_options_from(sources, out_dir, template_dirs, traditional, skip_passes, tex_only=True)
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
@user_errors
def fetch(volumes, manifest_path, cache_dir, force, update, base_url, delay):
    """Download the pages of VOLUMES (default: all) from the site into a cache folder.

    Pages already in the cache are kept (unless --force, or --update and the
    site changed them); the posts' images are saved below the cache too.  Then
    build from the cache: `bookgen build VOLUME --sources CACHE`.  Needs a
    network connection.
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


class _Null:
    def write(self, *_):
        pass

    def flush(self):
        pass
