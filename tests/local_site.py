"""A local copy of the site for the ``bookgen fetch`` tests: http.server on 127.0.0.1, serving tests/cases/html.

The ``site`` fixture (exported by conftest.py, so tests/ and tests/hostile/ share
it) starts the server on a random free port, in a thread, and stops it after the
test.  It answers ``/archives/<id>`` with the page of that id, ``/archives/404``
with 404, ``/archives/77`` with a page that is not an article, ``/usr/uploads/…``
with a small PNG, ``/robots.txt`` with ``Site.robots`` (404 while that is None),
``/content.html`` with an archive page shaped like the site's (``archive_page``), and records every request.  A test changes the answers through the ``Site``:
``challenge`` (a request without the cookie gets 403 and Set-Cookie, as the real
site does), ``failing`` (503), ``pages`` (other bodies), ``validators`` (ETag,
Last-Modified and 304), and ``routes`` for anything else — a route is called
with the request handler and writes whatever bytes it likes (hostile servers).
"""

from __future__ import annotations

import hashlib
import socket
import struct
import threading
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

import pytest

from bookgen import web
from bookgen.manifest import load_manifest

TESTS_DIR = Path(__file__).resolve().parent
PAGES = TESTS_DIR / "cases" / "html"
PAGE_IDS = (90101, 90102, 90103)
IMAGES = ("/usr/uploads/2024/03/90101-errors.png", "/usr/uploads/2024/03/90102-weights.png")
LAST_MODIFIED = "Mon, 01 Jan 2024 00:00:00 GMT"
# The local site's posts as its archive page lists them (newest first, as the site does): the three
# article pages of tests/cases/html are a series; the others are listed only.  Invented titles.
ARCHIVE_POSTS = (
    (90104, "示例系列的一则补记", "2024-04-02"),
    (90103, "示例系列（三）：一些边角情形", "2024-03-20"),
    (90102, "示例系列（二）：加权平均", "2024-03-05"),
    (90105, "另一个系列：1、开篇", "2024-02-27"),
    (90101, "示例系列（一）：从平均数说起", "2024-02-20"),
    (90099, "去年的一篇随笔", "2023-12-31"),
)


def png(width: int = 8, height: int = 6) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\x30\x60\xc0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def page(archive_id: int) -> bytes:
    """The article page tests/cases/html/<id>.html, as the site serves it."""
    return (PAGES / f"{archive_id}.html").read_bytes()


def archive_page(posts=ARCHIVE_POSTS, base: str = "https://spaces.ac.cn") -> bytes:
    """An archive page shaped like the site's ``/content.html``: year headings, months, one ``<li>`` a post."""
    from html import escape

    years: dict[str, dict[str, list[tuple[int, str, str]]]] = {}
    for archive_id, title, date in posts:
        year, month, day = date.split("-")
        years.setdefault(year, {}).setdefault(month, []).append((archive_id, title, day))
    html = ['<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="UTF-8"><title>文章归档 - 科学空间|Scientific Spaces</title>',
            '</head><body><div id="main"><div class="Post"><h1>文章归档</h1>']  # fmt: skip
    for year, months in years.items():
        count = sum(len(items) for items in months.values())
        html.append(f'<h3 class="al_year">{year}年 (共{count}篇)</h3>\n<ul class="al_mon_list">')
        for month, items in months.items():
            html.append(f'<li><span class="al_mon">{month}月</span> <em>({len(items)})</em>\n<ul class="al_post_list">')
            for archive_id, title, day in items:
                link = f"{base}/archives/{archive_id}"
                html.append(f'<li>{day}日: <a href="{link}" title="{escape(title)}">{escape(title)}</a> '
                            f'<em>(<a href="{link}#PostComment">2</a>)</em></li>')  # fmt: skip
            html.append("</ul></li>")
        html.append("</ul>")
    html.append("</div></div></body></html>\n")
    return "\n".join(html).encode("utf-8")


Route = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Site:
    url: str = ""
    requests: list[tuple[str, dict]] = field(default_factory=list)
    challenge: bool = False
    missing_images: set[str] = field(default_factory=set)
    failing: set[str] = field(default_factory=set)  # paths answered with 503
    pages: dict[str, bytes] = field(default_factory=dict)  # path → body, instead of tests/cases/html
    robots: bytes | None = None  # the body of /robots.txt; None: 404
    validators: bool = False  # pages carry ETag and Last-Modified; a matching conditional request gets 304
    archive: bytes | None = field(default_factory=archive_page)  # the body of /content.html; None: 404
    routes: dict[str, Route] = field(default_factory=dict)  # path → a custom answer
    stopping: threading.Event = field(default_factory=threading.Event)  # set when the test ends

    @property
    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]

    @property
    def page_paths(self) -> list[str]:
        """The requests but those for robots.txt."""
        return [path for path in self.paths if path != "/robots.txt"]

    def headers_of(self, path: str) -> list[dict]:
        return [headers for requested, headers in self.requests if requested == path]


def etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:16] + '"'


def make_handler(state: Site, image: bytes) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            state.requests.append((self.path, dict(self.headers)))
            if self.path in state.routes:
                return state.routes[self.path](self)
            if state.challenge and "visited=1" not in self.headers.get("Cookie", ""):
                return self.answer(403, b"checking your browser", extra={"Set-Cookie": "visited=1; Path=/"})
            if self.path in state.failing:
                return self.answer(503, b"busy")
            if self.path == "/robots.txt" and state.robots is not None:
                return self.answer(200, state.robots, "text/plain")
            if self.path in state.pages:
                return self.answer_page(state.pages[self.path])
            if self.path == "/content.html" and state.archive is not None:
                return self.answer_page(state.archive)
            if self.path.startswith("/archives/"):
                name = self.path.rsplit("/", 1)[1]
                if name == "77":
                    return self.answer(200, "<html><body><p>分类目录</p></body></html>".encode("utf-8"))
                path = PAGES / f"{name}.html"
                if name.isdigit() and path.is_file():
                    return self.answer_page(path.read_bytes())
            if self.path in IMAGES and self.path not in state.missing_images:
                return self.answer(200, image, "image/png")
            return self.answer(404, b"not found")

        def answer_page(self, body: bytes):
            if not state.validators:
                return self.answer(200, body)
            tag = etag(body)
            extra = {"ETag": tag, "Last-Modified": LAST_MODIFIED}
            asked = self.headers.get("If-None-Match")
            if asked == tag or (asked is None and self.headers.get("If-Modified-Since") == LAST_MODIFIED):
                return self.answer(304, b"", extra=extra)
            return self.answer(200, body, extra=extra)

        def answer(self, status: int, body: bytes, kind: str = "text/html; charset=UTF-8", extra=None):
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


class SiteServer:
    """One local site: start() serves it in a thread, stop() ends it (and any slow answer in progress)."""

    def __init__(self, state: Site):
        self.state = state
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state, png()))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        state.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Site:
        self.thread.start()
        return self.state

    def stop(self) -> None:
        self.state.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def no_proxies(monkeypatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def site(monkeypatch):
    no_proxies(monkeypatch)
    monkeypatch.setattr(web, "RETRY_WAIT", 0.0)
    server = SiteServer(Site())
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def other_site(monkeypatch):
    """A second local site, reached as ``localhost`` (another host name than the first's 127.0.0.1)."""
    no_proxies(monkeypatch)
    server = SiteServer(Site())
    server.state.url = server.state.url.replace("127.0.0.1", "localhost")
    try:
        yield server.start()
    finally:
        server.stop()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_manifest(root: Path, chapters=PAGE_IDS, volumes: dict[str, tuple[int, ...]] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "series.yaml"
    lines = ["volumes:"]
    for key, ids in (volumes or {"demo": chapters}).items():
        listed = ", ".join(str(i) for i in ids)
        lines += [f"  {key}:", "    title: 示例系列", f"    chapters: [{listed}]"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def volume(tmp_path: Path, chapters=PAGE_IDS):
    return load_manifest(write_manifest(tmp_path / "book", chapters)).volume("demo")
