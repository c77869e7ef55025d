"""``bookgen list``, ``build``, ``check`` and ``diff``: the volumes of series.yaml, made into books and reviewed."""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click

from bookgen.diagnostics import printable
from bookgen.errors import ManifestError, UserError
from bookgen.manifest import load_manifest
from bookgen.pipeline import (
    BuildOptions,
    build_volume,
    chapter_numbers,
    clean_volume,
    image_folders,
    prepare_volume,
    preview_chapter,
    source_folders,
    template_folders,
)
from bookgen.review import stat_line, volume_changes
from bookgen.series.catalog import catalog_from
from bookgen.series.resolve import report_problems, resolve_volume
from bookgen.sources import SourceIndex
from bookgen.fonts import fontconfig_stamp, forget_installed_fonts
from bookgen.repairs import warm_up
from bookgen.watch import Idle, watch as watch_builds
from bookgen.cli.common import (
    _Null,
    build_options,
    build_options_from,
    check_out_folder,
    index_option,
    manifest_option,
    report_user_error,
    selected_volumes,
    sources_option,
    user_errors,
    warn_line,
    with_series_resolved,
)


@click.command("list")
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


@click.command()
@click.argument("volumes", nargs=-1)
@build_options
@click.option("--tex-only", is_flag=True, help="Write the .tex files and stop before running TeX.")
@click.option("--strict", is_flag=True,
              help="Stop at the first TeX error (exit 2) instead of showing what TeX rejects as its source.")
@click.option("--tex-timeout", type=click.FloatRange(min=1), default=None, metavar="SECONDS",
              help="Stop TeX when it prints nothing for this long: a loop (default 60).")
@click.option("--chapter", "chapter_id", type=click.IntRange(min=1, max=999_999_999), default=None, metavar="ID",
              help="Preview one chapter: typeset alone, with its numbers in the last full build, into "
                   "OUT/<volume>.preview.pdf (the book's PDF stays).")
@click.option("--clean", is_flag=True,
              help="First drop what earlier builds kept (the cache, TeX's files): everything from scratch.")
@click.option("--watch", is_flag=True,
              help="After the build, build again each time a post, series.yaml, a template or an image changes "
                   "(Ctrl-C stops): a rebuild costs the edited post and TeX.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.option("-v", "--verbose", is_flag=True, help="Also print every repair and warning, and each pass's time.")
@user_errors
def build(volumes, out_dir, template_dirs, traditional, skip_passes, sources, index_file, manifest_path, jobs, no_cache,
          clean, tex_only, strict, tex_timeout, chapter_id, watch, quiet, verbose):  # fmt: skip
    """Build VOLUMES (default: all) into OUT/<volume>.pdf.

    A formula (or paragraph, table…) TeX rejects is shown as its TeX source in
    a frame, with a warning naming its post and line, and the book is built
    anyway; --strict makes the first TeX error stop the build (exit 2).  A
    failed build keeps the last good PDF.  A rebuild repairs only the posts that
    changed and runs TeX only when its input changed; with -j N, up to N volumes
    are typeset at once.
    """
    check_out_folder(out_dir)
    options = build_options_from(sources, out_dir, template_dirs, traditional, skip_passes, tex_only=tex_only,
                                 strict=strict, tex_timeout=tex_timeout, jobs=jobs, cache=not no_cache)  # fmt: skip
    say = (lambda *a, **k: None) if quiet else click.echo
    runs = []
    idle, warmed, fonts_seen = Idle(), set(), []

    def build_once() -> int:
        if watch:  # fonts installed or removed since the last build: fontconfig is asked again
            stamp = fontconfig_stamp()
            if fonts_seen and stamp != fonts_seen[-1]:
                forget_installed_fonts()
            fonts_seen[:] = [stamp]
        manifest = with_series_resolved(load_manifest(manifest_path), volumes, options, index_file, strict)
        chosen = selected_volumes(manifest, volumes)
        if chapter_id is not None:
            chosen = [volume_of_chapter(chosen, chapter_id, manifest)]
        check_out_folder(out_dir, chosen)
        if clean and not runs:
            for volume in chosen:
                clean_volume(out_dir / volume.key)
        runs.append(1)
        # Prepare every volume first: bad input stops the run before build/ is touched.
        prepared = []
        for volume in chosen:
            start = time.perf_counter()
            prepared.append((prepare_with_progress(manifest, volume, options, quiet), start))
        if watch:  # the watching process parses the posts it did not (their workers did): see Idle
            for volume_prepared, _start in prepared:
                fresh = [post for post in volume_prepared.posts if post not in warmed]
                warmed.update(fresh)
                idle.add(warm_up(fresh, volume_prepared.settings))
        with idle.meanwhile():  # --watch: while TeX runs, the process parses the posts it did not
            if chapter_id is not None:
                return preview(prepared[0][0], options, chapter_id, say)
            return max(build_all(prepared, options, say, verbose), default=0)

    if not watch:
        sys.exit(build_once())

    def build_and_go_on() -> int:  # watching: bad input is said, and the next change builds again
        try:
            return build_once()
        except UserError as exc:
            return report_user_error(exc)

    inputs = WatchedInputs(manifest_path, volumes, options, index_file)
    sys.exit(watch_builds(inputs, build_and_go_on, out_dir, say, idle=idle))


class WatchedInputs:
    """What a build of these volumes reads: series.yaml (and --index), the source, image and template
    folders, the phrases; asked again after each build (series.yaml may name others now), the last answer
    kept while series.yaml cannot be read."""

    def __init__(self, manifest_path: Path, volumes: tuple[str, ...], options: BuildOptions, index_file: Path | None):
        self.manifest_path, self.volumes, self.options = manifest_path, volumes, options
        self.first = [manifest_path] + ([index_file] if index_file else [])  # --index: where series find posts
        self.last: list[Path] = self.first

    def __call__(self) -> list[Path]:
        try:
            manifest = load_manifest(self.manifest_path)
            chosen = selected_volumes(manifest, self.volumes)
            found = [*self.first, *template_folders(manifest, self.options)]
            for volume in chosen:
                found += [*source_folders(manifest, volume, self.options), *image_folders(manifest, volume, self.options)]
                found += [volume.phrases] if volume.phrases else []
            self.last = list(dict.fromkeys(found))
        except UserError:
            pass
        return self.last


def volume_of_chapter(volumes: list, archive_id: int, manifest):
    """The one volume (of those chosen) holding chapter ``archive_id``."""
    holding = [volume for volume in volumes if any(entry.id == archive_id for entry in volume.chapters)]
    if len(holding) != 1:
        where = "no volume" if not holding else f"{len(holding)} volumes ({', '.join(v.key for v in holding)})"
        raise UserError(f"--chapter {archive_id}: {where} of those chosen holds it (name one volume)", manifest.path)
    return holding[0]


def prepare_with_progress(manifest, volume, options: BuildOptions, quiet: bool):
    with click.progressbar(length=len(volume.chapters), label=f"{volume.key}: reading posts",
                           file=None if not quiet else _Null()) as bar:  # fmt: skip
        return prepare_volume(manifest, volume, options, lambda: bar.update(1))


def preview(prepared, options: BuildOptions, chapter_id: int, say) -> int:
    """The preview of one chapter; without a full build to take its numbers from, a full build instead."""
    key = prepared.volume.key
    if chapter_numbers(options.out_dir / key, chapter_id) is None:
        say(f"{key}: no full build to take chapter {chapter_id}'s numbers from: building the whole volume")
        return max(build_all([(prepared, time.perf_counter())], options, say, False))
    start = time.perf_counter()
    target = preview_chapter(prepared, options, chapter_id, lambda n, rule: say(f"{key}: TeX pass {n} ({rule})"))
    book = options.out_dir / f"{key}.pdf"
    say(f"{key}: wrote {target} — chapter {chapter_id} alone, {time.perf_counter() - start:.1f}s ({book} unchanged)")
    return 0


def build_all(prepared: list, options: BuildOptions, say, verbose: bool) -> list[int]:
    """Each volume built (up to ``options.jobs`` at a time); the exit code of each: one failing stops no other."""

    def one(item) -> int:
        volume_prepared, start = item
        key = volume_prepared.volume.key
        try:
            result = build_volume(volume_prepared, options, lambda n, rule: say(f"{key}: TeX pass {n} ({rule})"))
        except UserError as exc:
            click.echo(f"bookgen: {exc}" if exc.path is None else str(exc), err=True)
            for detail in exc.details:
                click.echo(detail, err=True)
            return exc.exit_code
        summarize(result, volume_prepared, time.perf_counter() - start, say, verbose)
        return 0

    if options.jobs <= 1 or len(prepared) <= 1:
        return [one(item) for item in prepared]
    with ThreadPoolExecutor(max_workers=options.jobs) as pool:  # TeX runs as processes: threads just wait
        return list(pool.map(one, prepared))


def summarize(result, prepared, seconds: float, say, verbose: bool) -> None:
    """What a build did, on stdout (``say``); what a reader of the PDF would see wrong, on stderr."""
    key = result.key
    if verbose:
        for diagnostic in result.reporter.in_order():
            click.echo(str(diagnostic))
        click.echo(pass_times(key, prepared.pass_times))
        click.echo(stage_times(key, result.times, seconds))
    repairs = ", ".join(result.reporter.summary_lines()) or "none"
    work = result.work
    as_built = f", {work.as_built} chapters as last built" if work.as_built else ""
    cached = f"; {work.cached} from the cache, {work.repaired} repaired{as_built}" if work.cached else ""
    say(f"{key}: repairs: {repairs}  (full report: {result.volume_dir / 'report.txt'}{cached})")
    if result.pdf and result.log:
        fallbacks = f", {len(result.fallbacks)} shown as source" if result.fallbacks else ""
        if result.tex_skipped:
            say(f"{key}: nothing changed since the last build: TeX not run ({result.pdf}, {seconds:.1f}s)")
        else:
            say(
                f"{key}: wrote {result.pdf} — {result.log.pages} pages, "
                f"{result.log.warnings} TeX warnings, {len(result.reporter.warnings)} normalizer warnings"
                f"{fallbacks}, {seconds:.1f}s"
            )
        for fallback in result.fallbacks:  # the source shown comes from the posts: printable
            click.echo(printable(f"{fallback.post.path}:{fallback.span.unit.line}: warning: {fallback}"), err=True)
        for problem in log_problems(result.log):
            click.echo(printable(f"{key}: warning: {problem} (see {result.volume_dir / 'main.log'})"), err=True)
    else:
        say(f"{key}: wrote {len(result.files_written)} changed .tex files in {result.volume_dir} ({seconds:.1f}s)")


def pass_times(key: str, times: dict[str, float]) -> str:
    """``diffusion: passes: math-cleanup 12 ms, untrusted-tex 30 ms, …`` in the order they ran."""
    shown = ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in times.items())
    return f"{key}: passes: {shown} (total {sum(times.values()):.2f} s)"


def stage_times(key: str, times: dict[str, float], total: float) -> str:
    """``diffusion: stages: read+repair 0.03 s, normalize 0.00 s, render 0.01 s, write 0.00 s, tex 3.30 s
    (total 3.37 s)``: where the volume's time went, from preparing it to its PDF."""
    shown = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in times.items())
    return f"{key}: stages: {shown} (total {total:.2f} s)"


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


@click.command()
@click.argument("volumes", nargs=-1)
@build_options
@click.option("--strict", is_flag=True,
              help="Exit 1 when anything was only warned about (dangling references, unknown commands, series gaps).")
@user_errors
def check(volumes, out_dir, template_dirs, traditional, skip_passes, sources, index_file, manifest_path, jobs, no_cache,
          strict):  # fmt: skip
    """Run everything but TeX and print every repair and warning as `post.md:LINE: [pass] what changed`.

    Writes nothing: the build folder's cache (OUT/<volume>/.cache) is only read.
    """
    check_out_folder(out_dir)
    manifest = load_manifest(manifest_path)
    options = build_options_from(sources, out_dir, template_dirs, traditional, skip_passes, tex_only=True, jobs=jobs,
                                 cache=not no_cache, read_only=True)  # fmt: skip
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




@click.command("diff")
@click.argument("volumes", nargs=-1)
@build_options
@click.option("--against", "against", type=click.Path(path_type=Path, file_okay=False), default=None, metavar="DIR",
              help="Compare with the build in DIR instead of --out.")
@click.option("--stat", is_flag=True, help="One line per changed file: lines added and removed, repairs added and removed.")
@click.option("--color", type=click.Choice(("auto", "always", "never")), default="auto", show_default=True,
              help="Colour the diff (auto: on a terminal only).")
@user_errors
def diff(volumes, out_dir, template_dirs, traditional, skip_passes, sources, index_file, manifest_path, jobs, no_cache,
         against, stat, color):  # fmt: skip
    """What the next build would change in the .tex of VOLUMES (default: all), as a unified diff.

    The volume is rendered without TeX and compared with the last build in
    --out (or --against DIR); nothing is written there.  Exit 0 when nothing
    changed, 1 when something did, 2 when there is nothing to compare with.
    """
    manifest = load_manifest(manifest_path)
    options = build_options_from(sources, out_dir, template_dirs, traditional, skip_passes, tex_only=True, jobs=jobs,
                                 cache=not no_cache, read_only=True)  # fmt: skip
    manifest = with_series_resolved(manifest, volumes, options, index_file, False)
    coloured = color == "always" or (color == "auto" and sys.stdout.isatty())
    changed = False
    for volume in selected_volumes(manifest, volumes):
        changes = volume_changes(prepare_volume(manifest, volume, options), against or out_dir)
        for change in changes.files:
            changed = True
            if stat:
                click.echo(printable(stat_line(change)))
                continue
            for line in change.lines:
                click.echo(diff_line(line, coloured), nl=False)
    sys.exit(1 if changed else 0)


def diff_line(line: str, coloured: bool) -> str:
    text = line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
    if not coloured:
        return text
    if line.startswith(("+++", "---")):
        return click.style(text, bold=True)
    if line.startswith("@@"):
        return click.style(text, fg="cyan")
    if line.startswith("+"):
        return click.style(text, fg="green")
    if line.startswith("-"):
        return click.style(text, fg="red")
    return text
