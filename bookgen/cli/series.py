"""``bookgen series`` and ``bookgen add``: the blog's series, found in its titles, and a volume for one."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bookgen.diagnostics import printable
from bookgen.errors import UserError
from bookgen.fetch import fetch_archive_page
from bookgen.manifest import VOLUME_KEY, load_manifest
from bookgen.series.display import chapter_lines, overview_lines
from bookgen.series.lookup import named_series, titles_catalog
from bookgen.series.manifest_edit import NewVolume, add_volume, volume_key_for
from bookgen.series.resolve import find_series, report_problems, series_problems
from bookgen.web import DEFAULT_BASE_URL, Client
from bookgen.cli.common import check_out_folder, manifest_option, sources_option, user_errors, warn_line


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


@click.command("series")
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


@click.command()
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
