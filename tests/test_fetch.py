"""``bookgen fetch`` against a local site (tests/local_site.py: http.server on 127.0.0.1, serving tests/cases/html).

The site's pages, cookie check, JavaScript gate, robots.txt, validators and 304s
are the local server's; see local_site.py for what it answers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bookgen import fetch, web
from bookgen.errors import SourceError, UserError
from fixtures import snapshot
from local_site import IMAGES, PAGE_IDS, PAGES, closed_port, etag, page, png, volume, write_manifest


# ---------------------------------------------------------------- fetch_volume


def test_pages_and_images_land_in_the_cache_and_a_second_run_downloads_nothing(tmp_path, site):
    cache = tmp_path / "cache"
    events = []
    paths = fetch.fetch_volume(volume(tmp_path), cache, base_url=site.url, delay=0,
                               progress=lambda *event: events.append(event))  # fmt: skip
    assert paths == [cache / f"{i}.html" for i in PAGE_IDS]
    for archive_id in PAGE_IDS:
        assert (cache / f"{archive_id}.html").read_bytes() == (PAGES / f"{archive_id}.html").read_bytes()
    for image in IMAGES:
        assert (cache / image.lstrip("/")).read_bytes() == png()
    assert [e[0] for e in events] == ["fetched", "image", "fetched", "image", "fetched"]
    assert site.paths[0] == "/robots.txt"  # read once, before the first request
    assert sorted(site.page_paths) == sorted([f"/archives/{i}" for i in PAGE_IDS] + list(IMAGES))
    assert all("bookgen/" in headers.get("User-Agent", "") for _, headers in site.requests)
    assert not list(cache.rglob("*.part"))

    site.requests.clear()
    events.clear()
    again = fetch.fetch_volume(volume(tmp_path), cache, base_url=site.url, delay=0,
                               progress=lambda *event: events.append(event))  # fmt: skip
    assert again == paths
    assert site.requests == []  # not even robots.txt: nothing is asked of the site
    assert [e[0] for e in events] == ["cached"] * 3


def test_force_downloads_pages_again(tmp_path, site):
    cache = tmp_path / "cache"
    fetch.fetch_volume(volume(tmp_path), cache, base_url=site.url, delay=0)
    (cache / "90101.html").write_text("stale", encoding="utf-8")
    site.requests.clear()
    fetch.fetch_volume(volume(tmp_path), cache, base_url=site.url, delay=0, force=True)
    assert site.page_paths == [f"/archives/{i}" for i in PAGE_IDS]  # images are cached already
    assert (cache / "90101.html").read_bytes() == (PAGES / "90101.html").read_bytes()


def test_the_sites_cookie_challenge_is_passed_on_retry(tmp_path, site):
    site.challenge = True
    fetch.fetch_volume(volume(tmp_path, (90101,)), tmp_path / "cache", base_url=site.url, delay=0, images=False)
    # robots.txt, the first request, meets the check; its retry carries the cookie, and so does the page
    assert site.paths == ["/robots.txt", "/robots.txt", "/archives/90101"]
    assert [bool(re.search(r"visited=1", headers.get("Cookie", ""))) for _, headers in site.requests] == [
        False, True, True,
    ]  # fmt: skip
    assert (tmp_path / "cache" / "90101.html").is_file()


def test_a_busy_server_is_retried_twice_then_reported(tmp_path, site):
    site.failing.add("/archives/90101")
    with pytest.raises(SourceError) as error:
        fetch.fetch_volume(volume(tmp_path, (90101,)), tmp_path / "cache", base_url=site.url, delay=0)
    assert str(error.value) == f"{site.url}/archives/90101: HTTP 503"
    assert site.page_paths == ["/archives/90101"] * 3
    assert not (tmp_path / "cache").exists()


def test_a_missing_image_is_only_a_warning(tmp_path, site):
    site.missing_images.add(IMAGES[0])
    warnings = []
    fetch.fetch_volume(volume(tmp_path, (90101,)), tmp_path / "cache", base_url=site.url, delay=0, warn=warnings.append)
    assert (tmp_path / "cache" / "90101.html").is_file()
    assert warnings == [f"cannot download image {site.url}{IMAGES[0]}: HTTP 404 (the book will show a placeholder)"]
    assert site.paths.count(IMAGES[0]) == 1  # images are not retried


def test_network_errors_name_the_url_and_ask_whether_you_are_online(tmp_path):
    calls = []

    def offline(request, timeout):
        calls.append((request.full_url, timeout, request.get_header("User-agent")))
        raise OSError("timed out")

    with pytest.raises(SourceError) as error:
        fetch.fetch_volume(volume(tmp_path, (8231,)), tmp_path / "cache", opener=offline, delay=0, retry_wait=0)
    assert str(error.value) == "cannot download https://spaces.ac.cn/archives/8231: timed out (are you online?)"
    assert error.value.path is None
    robots = [("https://spaces.ac.cn/robots.txt", 30.0, web.USER_AGENT)] * 2  # unreadable: not fatal
    assert calls == robots + [("https://spaces.ac.cn/archives/8231", 30.0, web.USER_AGENT)] * 3  # two retries
    assert not (tmp_path / "cache").exists()


def test_a_bad_base_url(tmp_path):
    with pytest.raises(UserError, match="--base-url must start with http"):
        fetch.fetch_volume(volume(tmp_path, (1,)), tmp_path / "cache", base_url="spaces.ac.cn")


# ---------------------------------------------------------------- the JavaScript gate

GATE = (
    b'<html><head><script>document.cookie = "passed=1; path=/"; '
    b'window.location.href = "/archives/90101";</script></head><body>Loading...</body></html>'
)
GATE_WITHOUT_COOKIE = b'<html><script>window.location.href = location.href;</script></html>'


def gated(status: int, body: bytes, set_cookie: bool = False, persists: bool = False):
    """A route: the gate page until the request carries the cookie ``passed=1``, then the article."""

    def route(handler):
        if not persists and "passed=1" in handler.headers.get("Cookie", ""):
            return handler.answer_page(page(90101))
        handler.answer(status, body, extra={"Set-Cookie": "passed=1; Path=/"} if set_cookie else None)

    return route


@pytest.mark.parametrize(
    "status, body, set_cookie",
    [(200, GATE, False), (200, GATE_WITHOUT_COOKIE, True), (403, GATE, False)],
    ids=["200-script-cookie", "200-set-cookie", "403-script-cookie"],
)
def test_the_gate_page_is_passed_with_the_cookie_it_sets(tmp_path, site, status, body, set_cookie):
    site.routes["/archives/90101"] = gated(status, body, set_cookie)
    fetch.fetch_volume(volume(tmp_path, (90101,)), tmp_path / "cache", base_url=site.url, delay=0, images=False)
    assert site.page_paths == ["/archives/90101"] * 2
    assert "passed=1" in site.headers_of("/archives/90101")[1].get("Cookie", "")
    assert (tmp_path / "cache" / "90101.html").read_bytes() == page(90101)


def test_a_gate_that_persists_is_a_clear_error(tmp_path, site):
    site.routes["/archives/90101"] = gated(200, GATE, persists=True)
    with pytest.raises(SourceError) as error:
        fetch.fetch_volume(volume(tmp_path, (90101,)), tmp_path / "cache", base_url=site.url, delay=0)
    assert str(error.value) == (
        f"{site.url}/archives/90101: the site answered with a JavaScript check page (HTTP 200) instead of the page: "
        "try again later"
    )
    assert site.page_paths == ["/archives/90101"] * 3  # retried like a 403
    assert not (tmp_path / "cache").exists()


def test_what_is_a_gate_page():
    assert web.is_gate(GATE) and web.is_gate(GATE_WITHOUT_COOKIE)
    assert web.is_gate(b"<SCRIPT>location.replace('/archives/1')</SCRIPT>")
    assert not web.is_gate(page(90101))  # an article: far larger, whatever scripts it has
    assert not web.is_gate(b"<html><body>not found</body></html>")
    assert not web.is_gate(b"<script>if (location.href == '/') {}</script>")  # a comparison sends nobody on
    assert not web.is_gate(GATE + b" " * web.GATE_LIMIT)


# ---------------------------------------------------------------- robots.txt


def test_a_page_robots_txt_disallows_is_not_requested(tmp_path, site):
    site.robots = b"User-agent: *\nDisallow: /archives/90102\n"
    with pytest.raises(SourceError) as error:
        fetch.fetch_volume(volume(tmp_path, (90101, 90102)), tmp_path / "cache", base_url=site.url, delay=0)
    assert str(error.value) == f"{site.url}/archives/90102: disallowed for bookgen by {site.url}/robots.txt: not fetched"
    assert "/archives/90102" not in site.paths
    assert (tmp_path / "cache" / "90101.html").is_file()


@pytest.mark.parametrize(
    "robots, allowed",
    [
        (b"User-agent: bookgen\nDisallow: /archives/\n\nUser-agent: *\nDisallow:\n", False),
        (b"User-agent: otherbot\nDisallow: /\n", True),
        (b"User-agent: *\nDisallow: /admin/\n", True),
        (b"User-agent: *\nDisallow: /\n", False),
    ],
    ids=["bookgen-disallowed", "other-bot-disallowed", "other-path", "everything"],
)
def test_robots_txt_rules_for_our_user_agent(tmp_path, site, robots, allowed):
    site.robots = robots
    cache = tmp_path / "cache"
    if allowed:
        fetch.fetch_volume(volume(tmp_path, (90101,)), cache, base_url=site.url, delay=0, images=False)
        assert (cache / "90101.html").is_file()
    else:
        with pytest.raises(SourceError, match="disallowed for bookgen"):
            fetch.fetch_volume(volume(tmp_path, (90101,)), cache, base_url=site.url, delay=0, images=False)
        assert site.paths == ["/robots.txt"]


def test_images_robots_txt_disallows_are_warnings(tmp_path, site):
    site.robots = b"User-agent: *\nDisallow: /usr/\n"
    warnings = []
    fetch.fetch_volume(volume(tmp_path), tmp_path / "cache", base_url=site.url, delay=0, warn=warnings.append)
    assert warnings == [
        f"cannot download image {site.url}{image}: disallowed for bookgen by {site.url}/robots.txt: not fetched"
        " (the book will show a placeholder)"
        for image in IMAGES
    ]
    assert not any(path.startswith("/usr/") for path in site.paths)


def test_crawl_delay_is_the_floor_of_the_delay(tmp_path, site, monkeypatch):
    site.robots = b"User-agent: *\nCrawl-delay: 3\n"
    waits, notes = [], []
    monkeypatch.setattr(web.time, "sleep", waits.append)
    client = web.Client(site.url, delay=0.5, note=notes.append)
    fetch.fetch_volume(volume(tmp_path), tmp_path / "cache", client=client)
    assert notes == [f"{site.url}/robots.txt asks for 3 s between requests (Crawl-delay)"]
    assert len(waits) == 5 and all(2.5 < wait <= 3 for wait in waits)  # 3 pages and 2 images after robots.txt


def test_a_crawl_delay_of_a_day_is_capped(site, monkeypatch):
    site.robots = b"User-agent: *\nCrawl-delay: 86400\n"
    notes, waits = [], []
    monkeypatch.setattr(web.time, "sleep", waits.append)
    client = web.Client(site.url, delay=0, note=notes.append)
    client.get(f"{site.url}/archives/90101")
    assert client.delay == web.MAX_CRAWL_DELAY and len(waits) == 1 and 59 < waits[0] <= 60
    assert notes == [f"{site.url}/robots.txt asks for 86400 s between requests (Crawl-delay); waiting 60 s, bookgen's limit"]


def hang_up(handler):
    handler.close_connection = True  # no answer at all


@pytest.mark.parametrize("answer", ["hang-up", "503", "404"])
def test_an_unreadable_robots_txt_is_not_fatal(tmp_path, site, answer):
    if answer == "hang-up":
        site.routes["/robots.txt"] = hang_up
    elif answer == "503":
        site.failing.add("/robots.txt")
    notes = []
    client = web.Client(site.url, delay=0, retry_wait=0, note=notes.append)
    fetch.fetch_volume(volume(tmp_path, (90101,)), tmp_path / "cache", client=client, images=False)
    assert (tmp_path / "cache" / "90101.html").is_file()
    if answer == "404":
        assert notes == []  # no robots.txt: everything allowed, nothing to say
    else:
        assert len(notes) == 1 and notes[0].startswith(f"cannot read {site.url}/robots.txt (")
        assert notes[0].endswith("): fetching as if it allowed everything")


# ---------------------------------------------------------------- --update


def changed(archive_id: int) -> bytes:
    return page(archive_id).replace(b"</body>", b"<p>an added comment</p></body>")


def statuses(tmp_path, site, **options) -> list[str]:
    events = []
    fetch.fetch_volume(volume(tmp_path), tmp_path / "cache", base_url=site.url, delay=0,
                       progress=lambda *event: events.append(event), **options)  # fmt: skip
    return [status for status, _, _ in events if status != "image"]


def test_the_validators_are_saved_beside_the_page(tmp_path, site):
    site.validators = True
    statuses(tmp_path, site)
    saved = json.loads((tmp_path / "cache" / "90101.validators.json").read_text(encoding="utf-8"))
    assert saved == {"etag": etag(page(90101)), "last_modified": "Mon, 01 Jan 2024 00:00:00 GMT"}


def test_update_asks_with_the_validators_and_replaces_only_what_changed(tmp_path, site):
    site.validators = True
    assert statuses(tmp_path, site) == ["fetched"] * 3
    before = snapshot(tmp_path / "cache")
    site.requests.clear()
    assert statuses(tmp_path, site, update=True) == ["unchanged"] * 3
    assert snapshot(tmp_path / "cache") == before
    for archive_id in PAGE_IDS:
        asked = site.headers_of(f"/archives/{archive_id}")[0]
        assert asked["If-None-Match"] == etag(page(archive_id))
        assert asked["If-Modified-Since"] == "Mon, 01 Jan 2024 00:00:00 GMT"

    site.pages["/archives/90102"] = changed(90102)
    (tmp_path / "cache" / "90103.html").unlink()
    assert statuses(tmp_path, site, update=True) == ["unchanged", "updated", "fetched"]
    assert (tmp_path / "cache" / "90102.html").read_bytes() == changed(90102)
    assert fetch.read_validators(tmp_path / "cache" / "90102.html").etag == etag(changed(90102))
    assert (tmp_path / "cache" / "90101.html").read_bytes() == page(90101)
    assert not list((tmp_path / "cache").rglob("*.part"))


def test_update_without_validators_compares_the_bytes(tmp_path, site):
    statuses(tmp_path, site)
    assert not list((tmp_path / "cache").glob("*.json"))
    site.requests.clear()
    site.pages["/archives/90103"] = changed(90103)
    assert statuses(tmp_path, site, update=True) == ["unchanged", "unchanged", "updated"]
    assert all("If-None-Match" not in headers for _, headers in site.requests)
    assert (tmp_path / "cache" / "90103.html").read_bytes() == changed(90103)


def test_a_damaged_validators_file_means_an_unconditional_request(tmp_path, site):
    site.validators = True
    statuses(tmp_path, site)
    (tmp_path / "cache" / "90101.validators.json").write_text("{not json", encoding="utf-8")
    site.requests.clear()
    assert statuses(tmp_path, site, update=True) == ["unchanged"] * 3
    assert "If-None-Match" not in site.headers_of("/archives/90101")[0]
    assert fetch.read_validators(tmp_path / "cache" / "90101.html").etag == etag(page(90101))  # written anew


def test_a_failed_update_keeps_the_cached_page(tmp_path, site):
    site.validators = True
    statuses(tmp_path, site)
    before = snapshot(tmp_path / "cache")
    site.routes["/archives/90101"] = lambda handler: handler.answer(200, b"<html><p>maintenance</p></html>")
    with pytest.raises(SourceError, match="not an article page"):
        statuses(tmp_path, site, update=True)
    assert snapshot(tmp_path / "cache") == before


def test_a_304_nobody_asked_for_is_an_error(tmp_path, site):
    site.routes["/archives/90101"] = lambda handler: handler.answer(304, b"")
    with pytest.raises(SourceError) as error:
        fetch.fetch_volume(volume(tmp_path, (90101,)), tmp_path / "cache", base_url=site.url, delay=0)
    assert str(error.value) == f"{site.url}/archives/90101: HTTP 304"


def test_update_and_force_exclude_each_other(tmp_path):
    with pytest.raises(UserError, match="--force and --update exclude each other"):
        fetch.fetch_volume(volume(tmp_path, (1,)), tmp_path / "cache", force=True, update=True)


# ---------------------------------------------------------------- the command


def fetch_args(site_url: str, *extra) -> list:
    return ["fetch", "demo", "--cache", "cache", "--base-url", site_url, "--delay", "0", *extra]


def test_cli_fetch_prints_a_line_per_page_and_a_summary(tmp_path, site, run_cli):
    root = tmp_path / "book"
    write_manifest(root)
    result = run_cli(*fetch_args(site.url), cwd=root)
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "demo: 3 pages"
    pages = [line.split() for line in lines if re.match(r"^ +\d+ ", line)]
    assert pages == [[str(i), "fetched", str(Path("cache") / f"{i}.html")] for i in PAGE_IDS]
    assert sum(line.split()[0] == "image" for line in lines if line.startswith(" ")) == 2
    assert "3 fetched, 0 already cached, 2 images saved" in lines[-1]
    assert "bookgen build demo --sources cache" in lines[-1]

    again = run_cli(*fetch_args(site.url), cwd=root)
    assert again.code == 0
    assert [line.split()[:2] for line in again.stdout.splitlines() if re.match(r"^ +\d+ ", line)] == [
        [str(i), "cached"] for i in PAGE_IDS
    ]
    assert "0 fetched, 3 already cached (in cache)" in again.stdout

    listed = run_cli("list", "--sources", "cache", cwd=root)
    assert "demo: 示例系列 — 3/3 posts found" in listed.stdout


def test_cli_404_is_one_line_and_exit_1_and_keeps_what_was_fetched(tmp_path, site, run_cli):
    root = tmp_path / "book"
    write_manifest(root, (90101, 404, 90102))
    result = run_cli(*fetch_args(site.url), cwd=root)
    assert result.code == 1 and result.exception is None
    assert result.stderr_lines == [f"{site.url}/archives/404: HTTP 404"]
    assert sorted(p for p in snapshot(root / "cache") if p.endswith(".html")) == ["90101.html"]
    assert not [p for p in snapshot(root / "cache") if ".part" in p]


def test_cli_not_an_article_page(tmp_path, site, run_cli):
    root = tmp_path / "book"
    write_manifest(root, (77,))
    result = run_cli(*fetch_args(site.url), cwd=root)
    assert result.code == 1 and result.exception is None
    assert result.stderr_lines == [f"{site.url}/archives/77: not an article page (no PostContent element)"]
    assert not (root / "cache").exists()


def test_cli_offline(tmp_path, run_cli, monkeypatch):
    monkeypatch.setattr(web, "RETRY_WAIT", 0.0)
    root = tmp_path / "book"
    write_manifest(root)
    url = f"http://127.0.0.1:{closed_port()}"
    result = run_cli(*fetch_args(url), cwd=root)
    assert result.code == 1 and result.exception is None
    assert len(result.stderr_lines) == 1
    message = result.stderr_lines[0]
    assert message.startswith(f"bookgen: cannot download {url}/archives/90101: ")
    assert message.endswith(" (are you online?)") and "Traceback" not in result.stderr
    assert not (root / "cache").exists()


def test_cli_update_says_which_pages_changed(tmp_path, site, run_cli):
    site.validators = True
    root = tmp_path / "book"
    write_manifest(root)
    assert run_cli(*fetch_args(site.url), cwd=root).code == 0
    site.pages["/archives/90102"] = changed(90102)
    result = run_cli(*fetch_args(site.url, "--update"), cwd=root)
    assert result.code == 0, result.stderr
    pages = [line.split() for line in result.stdout.splitlines() if re.match(r"^ +\d+ ", line)]
    assert pages == [
        [str(i), status, str(Path("cache") / f"{i}.html")]
        for i, status in zip(PAGE_IDS, ("unchanged", "updated", "unchanged"))
    ]
    assert result.stdout.splitlines()[-1].startswith("1 updated, 2 unchanged, 0 fetched (in cache); now build with")
    assert (root / "cache" / "90102.html").read_bytes() == changed(90102)

    both = run_cli(*fetch_args(site.url, "--update", "--force"), cwd=root)
    assert both.code == 1 and both.stderr_lines == [
        "bookgen: --force and --update exclude each other (--force downloads every page again)"
    ]


def test_cli_reads_robots_txt_once_per_run_and_notes_its_crawl_delay(tmp_path, site, run_cli, monkeypatch):
    monkeypatch.setattr(web.time, "sleep", lambda seconds: None)
    site.robots = b"User-agent: *\nCrawl-delay: 2\n"
    root = tmp_path / "book"
    write_manifest(root, volumes={"one": (90101,), "two": (90102,)})
    result = run_cli("fetch", "--base-url", site.url, "--delay", "0", cwd=root)
    assert result.code == 0, result.stderr
    assert site.paths.count("/robots.txt") == 1
    assert f"  note: {site.url}/robots.txt asks for 2 s between requests (Crawl-delay)" in result.stdout.splitlines()


def test_cli_help_describes_every_option(run_cli):
    result = run_cli("fetch", "--help")
    assert result.code == 0
    for option in ("--manifest", "--cache", "--force", "--update", "--base-url", "--delay"):
        line = next(line for line in result.stdout.splitlines() if line.strip().startswith(option))
        assert len(line.split(None, 2)) == 3, line  # the option, its metavar or help


@pytest.mark.tex
def test_fetched_pages_build_into_a_pdf(tmp_path, site, run_cli, tex_available):
    root = tmp_path / "book"
    write_manifest(root)
    assert run_cli(*fetch_args(site.url), cwd=root).code == 0
    result = run_cli("build", "demo", "--sources", "cache", "--out", "out", cwd=root)
    assert result.code == 0, result.stderr + result.stdout
    assert (root / "out" / "demo.pdf").stat().st_size > 10_000
    report = (root / "out" / "demo" / "report.txt").read_text(encoding="utf-8")
    assert "image not found" not in report  # the fetched images were found in the cache
    assert len(list((root / "out" / "demo" / "images").iterdir())) == 2
