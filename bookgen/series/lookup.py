"""Where a command looks for the blog's titles: the catalogs of ``bookgen series``, ``add`` and the ``series:`` volumes.

``titles_catalog`` serves ``bookgen series`` and ``bookgen add`` (the folders,
list and archive page the user names; else the project's), ``folder_catalogs``
the ``series:`` volumes of ``list``, ``check`` and ``build`` (``--index`` and
each volume's source folders, read once per set of folders).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from bookgen.errors import SourceError, UserError
from bookgen.manifest import Manifest, Volume, load_manifest
from bookgen.series.catalog import ARCHIVE_FILE, Catalog, catalog_from
from bookgen.series.resolve import Series, series_named, similar_names
from bookgen.sources import sources_from_env

NO_TITLES = "give --sources DIR, --index FILE or --online"


def titles_catalog(
    sources: tuple[Path, ...],
    index_file: Path | None,
    manifest_path: Path,
    cache_dir: Path,
    archive_page: Callable[[], Path] | None = None,
) -> Catalog:
    """The titles of the folders, post list and archive page given (``archive_page()`` fetches it when --online).

    Given none of them: the project's — the source folders of $BOOKGEN_SOURCES
    and of the manifest (if there is one), and an archive page saved in the cache
    folder by an earlier --online or ``bookgen fetch``.
    """
    for folder in sources:
        if not folder.is_dir():
            raise SourceError("source folder does not exist", folder)
    folders, archives = list(sources), []
    if archive_page is not None:
        archives.append(archive_page())
    elif not sources and index_file is None:
        folders = list(sources_from_env())
        if manifest_path.is_file():
            manifest = load_manifest(manifest_path)
            for volume in manifest.volumes.values():
                folders += [folder for folder in volume.sources + manifest.sources if folder not in folders]
        if (cache_dir / ARCHIVE_FILE).is_file():
            archives.append(cache_dir / ARCHIVE_FILE)
    catalog = catalog_from(index_files=[index_file] if index_file else [], archive_pages=archives,
                           folders=[folder for folder in folders if folder.is_dir()])  # fmt: skip
    if not catalog.listings:
        raise UserError(f"no post titles in {catalog.describe()}: {NO_TITLES}")
    return catalog


def named_series(catalog: Catalog, name: str) -> Series:
    """The series ``name`` of the catalog; an error naming the closest ones when there is none."""
    series = series_named(catalog, name)
    if series is None:
        close = similar_names(catalog, name)
        hint = f" (did you mean {', '.join(repr(n) for n in close)}?)" if close else " (bookgen series lists them)"
        raise UserError(f"no series '{name}' in {catalog.describe()}{hint}")
    return series


def folder_catalogs(
    manifest: Manifest, folders_of: Callable[[Volume], tuple[Path, ...]], index_file: Path | None
) -> Callable[[Volume], Catalog]:
    """``volume → catalog`` of ``--index`` and the volume's source folders, each set of folders read once."""
    catalogs: dict[tuple[Path, ...], Catalog] = {}

    def catalog_for(volume: Volume) -> Catalog:
        folders = folders_of(volume)
        if folders not in catalogs:
            catalogs[folders] = catalog_from(index_files=[index_file] if index_file else [], folders=folders)
        return catalogs[folders]

    return catalog_for
