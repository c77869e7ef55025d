"""``bookgen fetch``: the site's pages of a volume, downloaded into a cache folder."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from bookgen.diagnostics import printable
from bookgen.errors import UserError
from bookgen.fetch import fetch_archive_page, fetch_volume
from bookgen.manifest import load_manifest
from bookgen.series.catalog import catalog_from
from bookgen.series.resolve import resolve_manifest
from bookgen.web import DEFAULT_BASE_URL, Client
from bookgen.cli.common import check_out_folder, index_option, manifest_option, selected_volumes, user_errors, warn_line


@click.command()
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
