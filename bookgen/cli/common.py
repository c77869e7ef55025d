"""What the commands share: the one place that turns a ``UserError`` into a message and an exit code
(``user_errors``), and the options and checks several commands take."""

from __future__ import annotations

import functools
import os
import signal
import sys
from pathlib import Path

import click

from bookgen.errors import Interrupted, UserError
from bookgen.manifest import TRADITIONAL_CONFIGS, Manifest
from bookgen.pipeline import BuildOptions, source_folders
from bookgen.series.lookup import folder_catalogs
from bookgen.series.resolve import resolve_manifest
from bookgen.transforms import PASS_NAMES

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
            sys.exit(report_user_error(exc))
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


def report_user_error(exc: UserError) -> int:
    """The error on stderr (``file:line: message`` and its details); its exit code."""
    click.echo(f"bookgen: {exc}" if exc.path is None else str(exc), err=True)
    for detail in exc.details:
        click.echo(detail, err=True)
    return exc.exit_code


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
        click.option("-j", "--jobs", type=click.IntRange(min=1), default=os.cpu_count() or 1, show_default=True,
                     metavar="N", help="Processes repairing posts (and, for build, volumes typeset at once)."),
        click.option("--no-cache", is_flag=True,
                     help="Repair every post again; a build keeps nothing for the next one (OUT/<volume>/.cache)."),
        sources_option,
        index_option,
        manifest_option,
    ]  # fmt: skip
    for option in options:
        function = option(function)
    return function


class _Null:
    def write(self, *_):
        pass

    def flush(self):
        pass
