"""Polite, hardened HTTP for bookgen: ``Client.get(url)`` → the body, from a server that may be hostile.

One ``Client`` per run asks the site for one thing at a time, as a crawler should,
and guards every request the same way — a page, an image, robots.txt, or any
other page of the site a later feature needs:

* politeness: a User-Agent naming bookgen, ``delay`` seconds between two
  requests (at least the Crawl-delay of the site's robots.txt), robots.txt read
  once per host and per run, and a path it disallows for bookgen not requested;
* bounds: ``TIMEOUT`` seconds for one read, ``DEADLINE`` seconds for the whole
  request (a server that drips a byte every few seconds passes any read timeout),
  and a size limit per request (``PAGE_LIMIT``, ``IMAGE_LIMIT``,
  ``ROBOTS_LIMIT``) checked before and while reading;
* redirects followed only within the site (``SITE_HOSTS`` and the host of the
  base URL), at most ``MAX_REDIRECTS``;
* retries: network errors, HTTP 403/429/5xx and the site's JavaScript gate page
  are tried again after growing waits, with the cookies the server (or the gate's
  script) set — the site answers a first visit so;
* conditional requests: given the ``Validators`` of a cached copy, a 304 answer
  says the page did not change;
* every text from the network in an error (addresses, status lines, header
  values) passes through ``diagnostics.printable`` before anyone prints it.

Errors are ``DownloadError`` (a ``SourceError``: one line, exit 1).
"""

from __future__ import annotations

import http.client
import http.cookiejar
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import Callable
from urllib.parse import urljoin, urlparse
from urllib.robotparser import RobotFileParser

from bookgen import __version__
from bookgen.diagnostics import printable
from bookgen.errors import SourceError, UserError
from bookgen.opener import Opener, Watchdog, hardened_opener

DEFAULT_BASE_URL = "https://spaces.ac.cn"
SITE_HOSTS = frozenset({"spaces.ac.cn", "kexue.fm", "www.spaces.ac.cn", "www.kexue.fm"})
USER_AGENT = f"bookgen/{__version__} (builds books of spaces.ac.cn posts; one request at a time)"

TIMEOUT = 30.0  # seconds one read (or the connection) may wait
DEADLINE = 120.0  # seconds one request may take in all, however the server spaces its bytes
PAGE_LIMIT = 5 * 2**20  # an article page of the site is well under 1 MB, comments included
IMAGE_LIMIT = 20 * 2**20
ROBOTS_LIMIT = 512 * 2**10  # as much of robots.txt as crawlers read (RFC 9309 asks for at least 500 KiB)
ERROR_BODY_LIMIT = 64 * 2**10  # what is read of a 3xx/4xx/5xx answer: enough to recognise the gate
GATE_LIMIT = 2048  # a JavaScript gate page is tiny; an article is not

RETRIES = 2
ROBOTS_RETRIES = 1  # enough to pass the site's cookie check; an unreadable robots.txt is not fatal
RETRY_WAIT = 2.0  # seconds before the first retry, doubled for the next
RETRY_STATUS = frozenset({403, 408, 429, 500, 502, 503, 504})
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
MAX_CRAWL_DELAY = 60.0  # a robots.txt asking for more would stall a volume for hours
CHUNK = 64 * 1024

GATE_SCRIPT = re.compile(rb"<script\b", re.IGNORECASE)
GATE_NAVIGATION = re.compile(rb"\blocation(?:\.href)?\s*=(?!=)|\blocation\.(?:replace|assign|reload)\s*\(")
SCRIPT_COOKIE = re.compile(rb"""document\.cookie\s*=\s*(["'])([^"'\\]{1,4096})\1""")
COOKIE_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
COOKIE_VALUE = re.compile(r'^[^\x00-\x20",;\\\x7f]*$')
HEADER_VALUE = re.compile(r"^[\x20-\x7e]{1,512}$")  # a validator worth sending back

Note = Callable[[str], None]


@dataclass(frozen=True)
class Validators:
    """What the server said identifies a version of a page: ``ETag`` and ``Last-Modified``."""

    etag: str | None = None
    last_modified: str | None = None

    @classmethod
    def from_headers(cls, headers: Message | None) -> Validators:
        if headers is None:
            return cls()
        return cls(_header_value(headers.get("ETag")), _header_value(headers.get("Last-Modified")))

    def __bool__(self) -> bool:
        return bool(self.etag or self.last_modified)

    def request_headers(self) -> dict[str, str]:
        """The conditional request: 304 unless the page changed since."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers

    def updated_by(self, newer: Validators) -> Validators:
        return Validators(newer.etag or self.etag, newer.last_modified or self.last_modified)


@dataclass(frozen=True)
class Reply:
    """A successful answer: HTTP 200 with its body, or 304 (``not_modified``) to a conditional request."""

    url: str  # the address that answered, after redirects
    status: int
    body: bytes
    charset: str | None
    validators: Validators

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def html(self) -> bytes:
        """The body as UTF-8 (what the readers read); the site sends UTF-8 already."""
        charset = self.charset
        if not charset or charset.lower().replace("_", "-") in ("utf-8", "utf8"):
            return self.body
        try:
            return self.body.decode(charset).encode("utf-8")
        except (LookupError, UnicodeDecodeError):
            raise DownloadError(f"cannot decode the page as {charset}", self.url) from None


class DownloadError(SourceError):
    """A URL that could not be downloaded.  ``reason`` is the short why: ``HTTP 404``, ``timed out``…

    Prints as ``URL: reason``, or ``cannot download URL: reason (are you online?)``
    when the network failed; both made printable.
    """

    def __init__(self, reason: str, url: str, *, status: int | None = None, offline: bool = False):
        self.url = printable(url)
        self.reason = printable(reason)
        self.status = status
        if offline:
            super().__init__(f"cannot download {self.url}: {self.reason} (are you online?)")
        else:
            super().__init__(self.reason, self.url)


class _Retryable(Exception):
    """A failure worth another try (network error, busy server, gate page); ``error`` if none is left."""

    def __init__(self, error: DownloadError):
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True)
class _Answer:
    """One HTTP exchange, whatever its status."""

    url: str
    status: int
    headers: Message | None
    body: bytes


class Client:
    """One run's connection to the site: its cookies, its robots.txt, its pace."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        opener: Opener | None = None,
        delay: float = 1.0,
        retry_wait: float | None = None,
        note: Note = lambda message: None,
    ):
        if not re.match(r"^https?://[^/]", base_url) or not urlparse(base_url).hostname:
            raise UserError(f"--base-url must start with http:// or https:// (got {base_url!r})")
        self.base_url = base_url.rstrip("/")
        self.hosts = SITE_HOSTS | {urlparse(base_url).hostname}
        self.cookies = http.cookiejar.CookieJar()
        self.opener = opener or hardened_opener(self.cookies)
        self.delay = delay
        self.retry_wait = RETRY_WAIT if retry_wait is None else retry_wait
        self.note = note
        self._robots: dict[str, RobotFileParser | None] = {}
        self._last_request: float | None = None

    def allows(self, url: str) -> bool:
        """Is ``url`` on the site (``SITE_HOSTS`` or the base URL's host)?"""
        parsed = urlparse(url)
        return parsed.scheme in ("http", "https") and parsed.hostname in self.hosts

    def get(
        self,
        url: str,
        *,
        limit: int | None = None,
        retries: int | None = None,
        validators: Validators | None = None,
        robots: bool = True,
    ) -> Reply:
        """The answer to ``url``: HTTP 200, or 304 when ``validators`` are given; ``DownloadError`` otherwise.

        ``limit`` is the most bytes accepted (default ``PAGE_LIMIT``), ``retries``
        how often a retryable failure is tried again (default ``RETRIES``).
        """
        limit = PAGE_LIMIT if limit is None else limit
        retries = RETRIES if retries is None else retries
        headers = {"User-Agent": USER_AGENT, "Accept": "text/html,*/*"}
        headers.update(validators.request_headers() if validators else {})
        for attempt in range(retries + 1):
            try:
                return self._attempt(url, limit, headers, conditional=bool(validators), robots=robots)
            except _Retryable as failure:
                if attempt == retries:
                    raise failure.error from None
                self._back_off(attempt)
        raise AssertionError("unreachable")

    # ------------------------------------------------------------ one attempt

    def _attempt(self, url: str, limit: int, headers: dict[str, str], conditional: bool, robots: bool) -> Reply:
        answer = self._follow(url, limit, headers, robots)
        if is_gate(answer.body) and answer.status in RETRY_STATUS | {200}:
            self._remember_script_cookie(answer)
            raise _Retryable(DownloadError(
                f"the site answered with a JavaScript check page (HTTP {answer.status}) instead of the page: "
                "try again later", url, status=answer.status,
            ))  # fmt: skip
        if answer.status == 200 or (answer.status == 304 and conditional):
            return Reply(answer.url, answer.status, answer.body, _charset(answer.headers),
                         Validators.from_headers(answer.headers))  # fmt: skip
        error = DownloadError(f"HTTP {answer.status}", url, status=answer.status)
        if answer.status in RETRY_STATUS:
            raise _Retryable(error)
        raise error

    def _follow(self, url: str, limit: int, headers: dict[str, str], robots: bool) -> _Answer:
        """The first answer that is not a redirect; a redirect off the site is an error."""
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            if robots:
                self._check_robots(current, url)
            answer = self._exchange(current, limit, headers)
            location = answer.headers.get("Location") if answer.headers else None
            if answer.status not in REDIRECT_STATUS or not location:
                if not self.allows(answer.url):  # an opener that followed a redirect on its own
                    raise DownloadError(f"redirected to another host ({answer.url}): not followed", url)
                return answer
            current = urljoin(current, location.strip())
            if not self.allows(current):
                raise DownloadError(f"redirected to another host ({current}): not followed", url)
        raise DownloadError(f"more than {MAX_REDIRECTS} redirects: not followed", url)

    def _exchange(self, url: str, limit: int, headers: dict[str, str]) -> _Answer:
        """One request and its answer, within ``DEADLINE`` and ``limit``."""
        self._wait_turn()
        request = urllib.request.Request(url, headers=headers)
        with Watchdog(DEADLINE) as watchdog:
            request.watchdog = watchdog  # type: ignore[attr-defined]  (read by the hardened opener)
            try:
                try:
                    response = self.opener(request, timeout=min(TIMEOUT, DEADLINE))
                except urllib.error.HTTPError as exc:
                    response = exc  # a 3xx/4xx/5xx answer: its body may still be the gate page
                with response:
                    status = getattr(response, "status", None) or response.getcode()
                    error = isinstance(response, urllib.error.HTTPError)
                    body = _read_body(response, ERROR_BODY_LIMIT if error else limit, watchdog, truncate=error)
                    answered = getattr(response, "url", None) or url
                    return _Answer(answered, status, response.headers, body)
            except _TooLarge:
                raise DownloadError(f"the answer is larger than {_size(limit)}: not downloaded", url) from None
            except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
                if watchdog.expired:
                    raise DownloadError(
                        f"no complete answer within {DEADLINE:g} s (the server sends too slowly): gave up", url
                    ) from None
                if isinstance(exc, http.client.IncompleteRead):
                    raise _Retryable(DownloadError("the answer broke off before its end", url, offline=True)) from None
                if isinstance(exc, http.client.HTTPException) and not isinstance(exc, ConnectionError):
                    raise _Retryable(DownloadError(f"not an HTTP answer: {error_text(exc)}", url)) from None
                raise _Retryable(DownloadError(error_text(exc), url, offline=True)) from None

    # ------------------------------------------------------------ the gate

    def _remember_script_cookie(self, answer: _Answer) -> None:
        """The gate may set its cookie in script (``document.cookie = "k=v"``): the jar gets it too."""
        found = SCRIPT_COOKIE.search(answer.body)
        host = urlparse(answer.url).hostname
        if not found or not host:
            return
        pair = found.group(2).decode("latin-1").split(";", 1)[0]
        name, _, value = pair.strip().partition("=")
        if COOKIE_NAME.match(name) and COOKIE_VALUE.match(value):
            self.cookies.set_cookie(http.cookiejar.Cookie(
                0, name, value, None, False, host, False, False, "/", True, False, None, True, None, None, {},
            ))  # fmt: skip

    # ------------------------------------------------------------ robots.txt

    def _check_robots(self, url: str, asked: str) -> None:
        parsed = urlparse(url)
        origin = f"{parsed.scheme}://{parsed.netloc}"
        if origin not in self._robots:
            self._robots[origin] = self._read_robots(origin)
        rules = self._robots[origin]
        if rules is not None and not rules.can_fetch(USER_AGENT, url):
            raise DownloadError(f"disallowed for bookgen by {origin}/robots.txt: not fetched", asked)

    def _read_robots(self, origin: str) -> RobotFileParser | None:
        """The rules of ``origin``'s robots.txt; None (everything allowed) when there is none to read."""
        robots_url = f"{origin}/robots.txt"
        try:
            reply = self.get(robots_url, limit=ROBOTS_LIMIT, retries=ROBOTS_RETRIES, robots=False)
        except DownloadError as exc:
            if exc.status is None or not 400 <= exc.status < 500:  # 4xx: no robots.txt, no rules (RFC 9309)
                self.note(f"cannot read {exc.url} ({exc.reason}): fetching as if it allowed everything")
            return None
        rules = RobotFileParser(robots_url)
        rules.parse(reply.body.decode("utf-8", errors="replace").splitlines())
        self._honour_crawl_delay(robots_url, rules.crawl_delay(USER_AGENT))
        return rules

    def _honour_crawl_delay(self, robots_url: str, asked: object) -> None:
        try:
            seconds = float(asked) if asked is not None else 0.0  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return
        if seconds <= self.delay:
            return
        self.delay = min(seconds, MAX_CRAWL_DELAY)
        capped = f"; waiting {self.delay:g} s, bookgen's limit" if seconds > MAX_CRAWL_DELAY else ""
        self.note(f"{printable(robots_url)} asks for {seconds:g} s between requests (Crawl-delay){capped}")

    # ------------------------------------------------------------ pace

    def _wait_turn(self) -> None:
        if self._last_request is not None and self.delay > 0:
            remaining = self._last_request + self.delay - time.monotonic()
            if remaining > 0:
                time.sleep(remaining)
        self._last_request = time.monotonic()

    def _back_off(self, attempt: int) -> None:
        if self.retry_wait > 0:
            time.sleep(self.retry_wait * 2**attempt)


def is_gate(body: bytes) -> bool:
    """A JavaScript gate page: tiny, with a script that sends the browser on (to the page, with a cookie).

    Before → after: ``<script>document.cookie="v=1";window.location.href="/archives/1"</script>`` → True.
    """
    return len(body) <= GATE_LIMIT and bool(GATE_SCRIPT.search(body)) and bool(GATE_NAVIGATION.search(body))


# ---------------------------------------------------------------- reading within the limits


class _TooLarge(Exception):
    pass


def _read_body(response, limit: int, watchdog: Watchdog, truncate: bool = False) -> bytes:
    """At most ``limit`` bytes of the body (``_TooLarge`` beyond, or the first ``limit`` if ``truncate``)."""
    declared = _content_length(response)
    if declared is not None and declared > limit and not truncate:
        raise _TooLarge
    read = getattr(response, "read1", None) or response.read  # read1: one system call, so a drip is noticed
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        if watchdog.expired:
            raise TimeoutError("deadline")
        chunk = read(CHUNK)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if watchdog.expired:
        raise TimeoutError("deadline")  # the watchdog ended the stream: what came is not the whole answer
    body = b"".join(chunks)
    if size > limit:
        if not truncate:
            raise _TooLarge
        return body[:limit]
    if declared is not None and size < declared:
        raise http.client.IncompleteRead(body, declared - size)
    return body


def _content_length(response) -> int | None:
    headers = getattr(response, "headers", None)
    value = headers.get("Content-Length") if headers is not None else None
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


def _charset(headers: Message | None) -> str | None:
    try:
        return headers.get_content_charset() if headers is not None else None
    except (ValueError, LookupError):
        return "unknown"


def _header_value(value: str | None) -> str | None:
    return value.strip() if value and HEADER_VALUE.match(value.strip()) else None


def error_text(exc: BaseException) -> str:
    """What went wrong, on one line, printable: ``OSError("timed\\nout")`` → ``timed out``."""
    reason = getattr(exc, "reason", None) or exc
    text = str(reason) or type(reason).__name__
    return printable(" ".join(text.split()))


def _size(count: int) -> str:
    """``5242880`` → ``5 MB``, ``65536`` → ``64 KB``."""
    for unit, scale in (("MB", 2**20), ("KB", 2**10)):
        if count >= scale and count % scale == 0:
            return f"{count // scale} {unit}"
    return f"{count} bytes"
