"""``bookgen fetch``: keep a cache folder of a volume's article pages (and their images) up to date.

Each chapter's page ``<base>/archives/<id>`` is saved, as the site sends it, to
``<cache>/<id>.html``; the build then reads the cache like any folder of posts
(``bookgen build VOLUME --sources cache/``).  Beside it, ``<id>.validators.json``
keeps what the server said identifies that version of the page (its ETag and
Last-Modified), so that ``update`` can ask the site whether the page changed
instead of downloading it again.

A cached page is not requested again unless ``force`` (download it anew) or
``update`` (a conditional request: 304, or the same bytes, leaves it alone).  A
page is written only when complete (temporary file, then ``os.replace``) and only
when it is an article page (a ``PostContent`` element).  The post's images under
``/usr/uploads/`` are saved to ``<cache>/usr/uploads/…``, where the images pass
finds them (a ``--sources`` folder is also an image folder); an image that cannot
be downloaded is only a warning.  Every request goes through ``web.Client``:
polite (robots.txt, delay) and bounded (deadline, size limits, redirects within
the site).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlparse

from bookgen import web
from bookgen.diagnostics import printable
from bookgen.errors import UserError
from bookgen.manifest import Volume
from bookgen.readers.html import image_sources
from bookgen.series.catalog import ARCHIVE_FILE, parse_archive_page
from bookgen.web import DEFAULT_BASE_URL, Client, DownloadError, Opener, Validators, error_text

# A path below /usr/uploads/ without characters a file name (or a terminal) should not see.
UPLOAD_PATH = re.compile(r"^/usr/uploads/[^\\:*?\"<>|\x00-\x1f\x7f-\x9f]+$")
VALIDATORS_SUFFIX = ".validators.json"

Progress = Callable[[str, int, Path], None]


def page_url(base_url: str, archive_id: int) -> str:
    return f"{base_url.rstrip('/')}/archives/{archive_id}"


def fetch_volume(
    volume: Volume,
    cache_dir: Path,
    base_url: str = DEFAULT_BASE_URL,
    opener: Opener | None = None,
    delay: float = 1.0,
    force: bool = False,
    progress: Progress = lambda status, archive_id, path: None,
    warn: Callable[[str], None] = lambda message: None,
    images: bool = True,
    retry_wait: float | None = None,
    update: bool = False,
    client: Client | None = None,
) -> list[Path]:
    """Make sure ``<cache_dir>/<id>.html`` exists for every chapter; return those paths in chapter order.

    ``progress(status, id, path)`` is called once per page with status "cached"
    (not asked for), "fetched" (downloaded), "unchanged" or "updated" (asked
    for with ``update``), and once per downloaded image with "image".  ``client``
    carries cookies, robots.txt and pace across volumes; without one, a client
    for ``base_url`` is made.  Raises ``SourceError`` (nothing written for that
    page) when a page cannot be downloaded or is not an article page; pages
    saved before stay.
    """
    if force and update:
        raise UserError("--force and --update exclude each other (--force downloads every page again)")
    if client is None:
        client = Client(base_url, opener=opener, delay=delay, retry_wait=retry_wait)
    paths = []
    for entry in volume.chapters:
        path = cache_dir / f"{entry.id}.html"
        url = page_url(client.base_url, entry.id)
        progress(_fetch_page(client, url, path, force, update, _check_article), entry.id, path)
        if images:
            _fetch_images(client, path, cache_dir, entry.id, progress, warn)
        paths.append(path)
    return paths


def fetch_archive_page(
    cache_dir: Path, client: Client, force: bool = False, update: bool = False
) -> tuple[str, Path]:
    """The site's archive page ``/content.html`` (every post, by year and month), cached as ``<cache>/content.html``.

    Like an article page: downloaded once, then read from the cache, unless
    ``force`` or ``update`` (a conditional request: new posts of a running series
    appear).  Returns (status, path) with the statuses of ``fetch_volume``.
    """
    path = cache_dir / ARCHIVE_FILE
    url = f"{client.base_url.rstrip('/')}/{ARCHIVE_FILE}"
    return _fetch_page(client, url, path, force, update, _check_archive), path


def _check_article(body: bytes, url: str) -> None:
    if b"PostContent" not in body:
        raise DownloadError("not an article page (no PostContent element)", url)


def _check_archive(body: bytes, url: str) -> None:
    if not parse_archive_page(body, url):
        raise DownloadError("not the archive page (no post listed)", url)


def _fetch_page(client: Client, url: str, path: Path, force: bool, update: bool, check) -> str:
    """Bring the cached page up to date as asked; say what happened: cached, fetched, unchanged or updated.

    ``check(body, url)`` raises a ``DownloadError`` for an answer that is not the page asked for.
    """
    cached = path.is_file()
    if cached and not (force or update):
        return "cached"
    known = read_validators(path) if cached and update else Validators()
    reply = client.get(url, validators=known)
    if reply.not_modified:
        _save_validators(path, known.updated_by(reply.validators))
        return "unchanged"
    body = reply.html()
    check(body, url)
    changed = not cached or _read_bytes(path) != body
    if changed:
        _write_atomically(path, body)
    _save_validators(path, reply.validators)
    if not (cached and update):
        return "fetched"
    return "updated" if changed else "unchanged"


def _fetch_images(client: Client, page: Path, cache_dir: Path, archive_id: int, progress: Progress, warn) -> None:
    """Download the page's images not cached yet; one that cannot be downloaded is a warning."""
    for site_path, relative in _missing_images(page, cache_dir, client):
        target = cache_dir / relative
        image_url = client.base_url + site_path
        try:
            _write_atomically(target, client.get(image_url, limit=web.IMAGE_LIMIT, retries=0).body)
        except (DownloadError, OSError) as exc:
            reason = exc.reason if isinstance(exc, DownloadError) else error_text(exc)
            shown = exc.url if isinstance(exc, DownloadError) else printable(image_url)
            warn(f"cannot download image {shown}: {reason} (the book will show a placeholder)")
            continue
        progress("image", archive_id, target)


# ---------------------------------------------------------------- the validators file


def validators_path(page: Path) -> Path:
    """``cache/8231.html`` → ``cache/8231.validators.json``."""
    return page.with_name(page.stem + VALIDATORS_SUFFIX)


def read_validators(page: Path) -> Validators:
    """The validators saved beside ``page``; none when the file is missing or not what bookgen wrote."""
    try:
        data = json.loads(validators_path(page).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Validators()
    if not isinstance(data, dict):
        return Validators()
    found = {key: data.get(key) for key in ("etag", "last_modified")}
    return Validators(**{key: value for key, value in found.items() if isinstance(value, str) and value})


def _save_validators(page: Path, validators: Validators) -> None:
    """``{"etag": …, "last_modified": …}`` beside the page; a page without validators gets no file."""
    path = validators_path(page)
    if not validators:
        if path.exists():
            path.unlink()
        return
    data = {"etag": validators.etag, "last_modified": validators.last_modified}
    _write_atomically(path, (json.dumps(data, indent=1) + "\n").encode("utf-8"))


# ---------------------------------------------------------------- files


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def _missing_images(page: Path, cache_dir: Path, client: Client) -> list[tuple[str, str]]:
    """(site path, file below the cache) of the page's ``/usr/uploads/`` images not cached yet."""
    try:
        text = page.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    missing: list[tuple[str, str]] = []
    for src in image_sources(text):
        parsed = urlparse(src)
        if parsed.netloc and parsed.hostname not in client.hosts:
            continue  # an image on another site: not ours to download
        relative = unquote(parsed.path)
        if not UPLOAD_PATH.match(parsed.path) or not UPLOAD_PATH.match(relative) or ".." in relative.split("/"):
            continue
        relative = relative.lstrip("/")
        if not (cache_dir / relative).is_file() and (parsed.path, relative) not in missing:
            missing.append((parsed.path, relative))
    return missing
