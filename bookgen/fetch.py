"""``bookgen fetch``: download the article pages of a volume into a cache folder.

Each chapter's page ``<base>/archives/<id>`` is saved, as the site sends it,
to ``<cache>/<id>.html``; the build then reads the cache like any folder of
posts (``bookgen build VOLUME --sources cache/``).  A cached page is never
downloaded again unless ``force``.  The post's images under ``/usr/uploads/``
are saved to ``<cache>/usr/uploads/…``, where the images pass finds them (a
``--sources`` folder is also an image folder); an image that cannot be
downloaded is only a warning.

Politeness and robustness: one request at a time, ``delay`` seconds between
two requests, a User-Agent naming bookgen, a 30 s timeout, two retries with
growing waits on network errors and on HTTP 403/429/5xx (the site answers a
first visit with 403 and a cookie; the default opener keeps cookies), and a
page is written only when complete (temporary file, then ``os.replace``) and
only when it is an article page (HTTP 200 and a ``PostContent`` element).
"""

from __future__ import annotations

import http.client
import http.cookiejar
import os
import re
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlparse

from bookgen import __version__
from bookgen.errors import SourceError, UserError
from bookgen.manifest import Volume

DEFAULT_BASE_URL = "https://spaces.ac.cn"
USER_AGENT = f"bookgen/{__version__} (builds books of spaces.ac.cn posts; one request at a time)"
TIMEOUT = 30.0
RETRIES = 2
RETRY_WAIT = 2.0  # seconds before the first retry, doubled for the next
RETRY_STATUS = frozenset({403, 408, 429, 500, 502, 503, 504})
SITE_HOSTS = ("spaces.ac.cn", "kexue.fm", "www.spaces.ac.cn", "www.kexue.fm")
UPLOAD_PATH = re.compile(r"^/usr/uploads/[^\\:*?\"<>|]+$")

Opener = Callable[..., object]
Progress = Callable[[str, int, Path], None]


def default_opener() -> Opener:
    """``urlopen`` with a cookie jar, so the site's first-visit cookie is sent on the retry."""
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())).open


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
) -> list[Path]:
    """Make sure ``<cache_dir>/<id>.html`` exists for every chapter; return those paths in chapter order.

    ``progress(status, id, path)`` is called once per page with status
    "fetched" or "cached", and once per downloaded image with "image".
    Raises ``SourceError`` (nothing written for that page) when a page cannot
    be downloaded or is not an article page; pages saved before stay.
    """
    if not re.match(r"^https?://[^/]", base_url):
        raise UserError(f"--base-url must start with http:// or https:// (got {base_url!r})")
    fetcher = _Fetcher(opener or default_opener(), delay, RETRY_WAIT if retry_wait is None else retry_wait)
    paths = []
    for entry in volume.chapters:
        path = cache_dir / f"{entry.id}.html"
        if path.is_file() and not force:
            progress("cached", entry.id, path)
        else:
            url = page_url(base_url, entry.id)
            body = fetcher.get(url)
            if b"PostContent" not in body:
                raise SourceError("not an article page (no PostContent element)", url)
            _write_atomically(path, body)
            progress("fetched", entry.id, path)
        if images:
            for site_path, relative in _missing_images(path, cache_dir, base_url):
                target = cache_dir / relative
                image_url = base_url.rstrip("/") + site_path
                try:
                    _write_atomically(target, fetcher.get(image_url, retries=0))
                except (SourceError, OSError) as exc:
                    reason = exc.message if isinstance(exc, SourceError) else _reason(exc)
                    warn(f"cannot download image {image_url}: {reason} (the book will show a placeholder)")
                    continue
                progress("image", entry.id, target)
        paths.append(path)
    return paths


class _Fetcher:
    def __init__(self, opener: Opener, delay: float, retry_wait: float):
        self.opener = opener
        self.delay = delay
        self.retry_wait = retry_wait
        self.last_request: float | None = None

    def get(self, url: str, retries: int = RETRIES) -> bytes:
        """The body of ``url`` on HTTP 200; ``SourceError`` otherwise."""
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "text/html,*/*"})
        for attempt in range(retries + 1):
            self._wait_turn()
            try:
                with self.opener(request, timeout=TIMEOUT) as response:
                    status = getattr(response, "status", None) or response.getcode()
                    body = response.read()
                    charset = response.headers.get_content_charset() if response.headers else None
            except urllib.error.HTTPError as exc:
                exc.close()
                if exc.code in RETRY_STATUS and attempt < retries:
                    self._back_off(attempt)
                    continue
                raise SourceError(f"HTTP {exc.code}", url) from None
            except (urllib.error.URLError, OSError, socket.timeout, http.client.HTTPException) as exc:
                if attempt < retries:
                    self._back_off(attempt)
                    continue
                raise SourceError(f"cannot download {url}: {_reason(exc)} (are you online?)") from None
            if status != 200:
                raise SourceError(f"HTTP {status}", url)
            return _as_utf8(body, charset, url)
        raise AssertionError("unreachable")

    def _wait_turn(self) -> None:
        if self.last_request is not None and self.delay > 0:
            remaining = self.last_request + self.delay - time.monotonic()
            if remaining > 0:
                time.sleep(remaining)
        self.last_request = time.monotonic()

    def _back_off(self, attempt: int) -> None:
        if self.retry_wait > 0:
            time.sleep(self.retry_wait * 2**attempt)


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    text = str(reason) or type(reason).__name__
    return " ".join(text.split())


def _as_utf8(body: bytes, charset: str | None, url: str) -> bytes:
    """Pages are kept as UTF-8 (what the readers read); the site sends UTF-8 already."""
    if not charset or charset.lower().replace("_", "-") in ("utf-8", "utf8"):
        return body
    try:
        return body.decode(charset).encode("utf-8")
    except (LookupError, UnicodeDecodeError):
        raise SourceError(f"cannot decode the page as {charset}", url) from None


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def _missing_images(page: Path, cache_dir: Path, base_url: str) -> list[tuple[str, str]]:
    """(site path, file below the cache) of the page's ``/usr/uploads/`` images not cached yet."""
    from bookgen.readers.html import image_sources

    try:
        text = page.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    base_host = urlparse(base_url).netloc
    missing: list[tuple[str, str]] = []
    for src in image_sources(text):
        parsed = urlparse(src)
        if parsed.netloc and parsed.netloc not in SITE_HOSTS and parsed.netloc != base_host:
            continue  # an image on another site: not ours to download
        relative = unquote(parsed.path)
        if not UPLOAD_PATH.match(relative) or ".." in relative.split("/"):
            continue
        relative = relative.lstrip("/")
        if not (cache_dir / relative).is_file() and (parsed.path, relative) not in missing:
            missing.append((parsed.path, relative))
    return missing
