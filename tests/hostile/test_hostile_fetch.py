"""Hostile servers: ``bookgen fetch`` gives up on them cleanly, echoes nothing raw, caches nothing foreign.

Each test serves one trap from the local site (tests/local_site.py: a route writes
whatever bytes it likes) and runs the real fetch against it:

* slow drips and floods (issue 9, #4): a server that sends a byte every few
  moments passes every per-read timeout; one that sends a 50 MB "article" fills
  the disk.  A request has an overall deadline and a size limit — the tests make
  them small (``web.DEADLINE``, ``web.PAGE_LIMIT``…) and run the fetch in a thread
  they give up on, so a fetch that never gives up fails the test instead of
  hanging it;
* control characters (#14): status lines, header values and addresses from the
  network carry ``ESC]0;…BEL`` (retitles the terminal), NUL and raw bytes; what
  bookgen prints shows them as escapes;
* redirects (#15): a page that redirects to another host is not followed.
"""

from __future__ import annotations

import threading

import pytest

from bookgen import fetch, web
from bookgen.diagnostics import TERMINAL_UNSAFE
from bookgen.errors import SourceError
from fixtures import snapshot
from local_site import IMAGES, page, volume, write_manifest

GUARD = 30.0  # seconds a fetch may run before the test gives up on it (the limits below are ~1 s)
DRIP_EVERY = 0.1  # seconds between two bytes of a slow drip
TITLE = "\x1b]0;pwned\x07"  # the escape sequence that retitles a terminal window
SHOWN = "\\x1b]0;pwned\\x07"  # …as bookgen must print it


def run_bounded(call):
    """``call()``'s result or exception; fails the test if it is still running after ``GUARD`` seconds."""
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 — handed back to the test
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(GUARD)
    if thread.is_alive():
        pytest.fail(f"fetch still running after {GUARD:g} s: it never gives up on this server")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


@pytest.fixture
def small_limits(monkeypatch):
    """A deadline of 1 s and limits of 64 KB, so the traps are sprung in moments."""
    monkeypatch.setattr(web, "DEADLINE", 1.0)
    monkeypatch.setattr(web, "PAGE_LIMIT", 64 * 1024)
    monkeypatch.setattr(web, "IMAGE_LIMIT", 64 * 1024)


def fetch_one(tmp_path, site, chapters=(90101,), **options):
    return fetch.fetch_volume(volume(tmp_path, chapters), tmp_path / "cache", base_url=site.url, delay=0, **options)


def write_slowly(handler, data: bytes, site) -> None:
    """Send ``data`` a byte at a time until the client hangs up or the test ends."""
    for byte in data:
        if site.stopping.wait(DRIP_EVERY):
            return
        try:
            handler.wfile.write(bytes([byte]))
        except OSError:
            return


# ---------------------------------------------------------------- #4 slow drips and floods


def drip_body(site):
    def route(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=UTF-8")
        handler.send_header("Content-Length", "30000")  # within the size limit: only time runs out
        handler.end_headers()
        write_slowly(handler, page(90101) * 200, site)

    return route


def drip_headers(site):
    def route(handler):
        write_slowly(handler, b"HTTP/1.1 200 OK\r\nX-Drip: " + b"a" * 60000, site)

    return route


@pytest.mark.parametrize("trap", [drip_body, drip_headers], ids=["body", "headers"])
def test_a_slow_drip_is_given_up_at_the_deadline(tmp_path, site, small_limits, trap):
    site.routes["/archives/90101"] = trap(site)
    with pytest.raises(SourceError) as error:
        run_bounded(lambda: fetch_one(tmp_path, site))
    assert str(error.value) == (
        f"{site.url}/archives/90101: no complete answer within 1 s (the server sends too slowly): gave up"
    )
    assert site.page_paths == ["/archives/90101"]  # a server that slow is not asked again
    assert snapshot(tmp_path / "cache") == {}


def flood(site, size: int, length: bool):
    """An article page of ``size`` bytes, with or without announcing its length; stops early if nobody listens."""

    def route(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=UTF-8")
        if length:
            handler.send_header("Content-Length", str(size))
        handler.end_headers()
        head = page(90101)
        try:
            handler.wfile.write(head)
            for _ in range((size - len(head)) // 65536):
                if site.stopping.is_set():
                    return
                handler.wfile.write(b"x" * 65536)
        except OSError:
            return

    return route


@pytest.mark.parametrize("length", [True, False], ids=["announced", "unannounced"])
def test_a_50_mb_article_is_not_an_article(tmp_path, site, small_limits, length):
    site.routes["/archives/90101"] = flood(site, 50 * 1024 * 1024, length)
    with pytest.raises(SourceError) as error:
        run_bounded(lambda: fetch_one(tmp_path, site))
    assert str(error.value) == f"{site.url}/archives/90101: the answer is larger than 64 KB: not downloaded"
    assert site.page_paths == ["/archives/90101"]
    assert snapshot(tmp_path / "cache") == {}


def test_a_huge_image_is_only_a_warning_and_not_saved(tmp_path, site, small_limits):
    site.routes[IMAGES[0]] = flood(site, 5 * 1024 * 1024, length=False)
    warnings = []
    run_bounded(lambda: fetch_one(tmp_path, site, warn=warnings.append))
    assert warnings == [
        f"cannot download image {site.url}{IMAGES[0]}: the answer is larger than 64 KB: not downloaded"
        " (the book will show a placeholder)"
    ]
    assert sorted(snapshot(tmp_path / "cache")) == ["90101.html"]


def test_a_slow_image_is_only_a_warning(tmp_path, site, small_limits):
    site.routes[IMAGES[0]] = drip_body(site)
    warnings = []
    run_bounded(lambda: fetch_one(tmp_path, site, warn=warnings.append))
    assert len(warnings) == 1 and "no complete answer within 1 s" in warnings[0]
    assert sorted(snapshot(tmp_path / "cache")) == ["90101.html"]


# ---------------------------------------------------------------- #14 control characters from the network


def raw(answer: bytes):
    def route(handler):
        handler.wfile.write(answer)

    return route


HOSTILE_ANSWERS = {
    # a status line that is no status line: http.client reports it as it came
    "status-line": b"HTTP/1.1 2" + TITLE.encode() + b"\x00\xff\x9b00 OK\r\n\r\n",
    # a reason phrase: bookgen says "HTTP 404" and nothing else
    "reason": b"HTTP/1.1 404 " + TITLE.encode() + b"\x00\xff\r\nContent-Length: 0\r\n\r\n",
    # a header value bookgen quotes when it cannot use it
    "charset": b'HTTP/1.1 200 OK\r\nContent-Type: text/html; charset="' + TITLE.encode() + b'"\r\n'
    + b"Content-Length: 11\r\n\r\nPostContent",
    # an address a redirect points at
    "location": b"HTTP/1.1 302 Found\r\nLocation: http://evil.example/" + TITLE.encode() + b"\x00\xff\r\n"
    + b"Content-Length: 0\r\n\r\n",
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(HOSTILE_ANSWERS))
def test_what_the_server_says_reaches_the_terminal_only_as_escapes(tmp_path, site, run_cli, name):
    site.routes["/archives/90101"] = raw(HOSTILE_ANSWERS[name])
    root = tmp_path / "book"
    write_manifest(root, (90101,))
    result = run_bounded(
        lambda: run_cli("fetch", "demo", "--cache", "cache", "--base-url", site.url, "--delay", "0", cwd=root)
    )
    assert result.code == 1 and result.exception is None, result.stderr
    assert len(result.stderr_lines) == 1
    unsafe = TERMINAL_UNSAFE.findall(result.stdout + result.stderr)
    assert unsafe == [], f"control characters reached the terminal: {unsafe!r} in {result.stderr!r}"
    if name != "reason":
        assert SHOWN in result.stderr  # shown, not silently dropped
    assert not (root / "cache").exists()


def test_an_image_address_with_control_characters_is_not_requested_nor_echoed(tmp_path, site, run_cli):
    hostile = page(90101).replace(IMAGES[0].encode(), IMAGES[0].encode() + TITLE.encode())
    site.pages["/archives/90101"] = hostile
    root = tmp_path / "book"
    write_manifest(root, (90101,))
    result = run_cli("fetch", "demo", "--cache", "cache", "--base-url", site.url, "--delay", "0", cwd=root)
    assert result.code == 0, result.stderr
    assert TERMINAL_UNSAFE.findall(result.stdout + result.stderr) == []
    assert not any("pwned" in path for path in site.paths)
    assert not any("pwned" in path for path in snapshot(root / "cache"))


# ---------------------------------------------------------------- #15 redirects to another host


def redirect(location: str):
    def route(handler):
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return route


@pytest.mark.parametrize("hops", [1, 2], ids=["direct", "after-a-same-host-hop"])
def test_a_redirect_to_another_host_is_not_followed(tmp_path, site, other_site, hops):
    elsewhere = f"{other_site.url}/archives/90101"
    site.routes["/archives/90101"] = redirect(elsewhere if hops == 1 else "/moved/90101")
    site.routes["/moved/90101"] = redirect(elsewhere)
    with pytest.raises(SourceError) as error:
        run_bounded(lambda: fetch_one(tmp_path, site))
    assert str(error.value) == f"{site.url}/archives/90101: redirected to another host ({elsewhere}): not followed"
    assert other_site.requests == []
    assert snapshot(tmp_path / "cache") == {}


def test_an_image_redirected_to_another_host_is_a_warning(tmp_path, site, other_site):
    elsewhere = f"{other_site.url}{IMAGES[0]}"
    site.routes[IMAGES[0]] = redirect(elsewhere)
    warnings = []
    run_bounded(lambda: fetch_one(tmp_path, site, warn=warnings.append))
    assert warnings == [
        f"cannot download image {site.url}{IMAGES[0]}: redirected to another host ({elsewhere}): not followed"
        " (the book will show a placeholder)"
    ]
    assert other_site.requests == []
    assert sorted(snapshot(tmp_path / "cache")) == ["90101.html"]


def test_a_redirect_within_the_site_is_followed(tmp_path, site):
    site.routes["/archives/90101"] = redirect("/archives/90102")
    run_bounded(lambda: fetch_one(tmp_path, site, images=False))
    assert (tmp_path / "cache" / "90101.html").read_bytes() == page(90102)
