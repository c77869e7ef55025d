"""``bookgen fetch`` against a local site (tests/local_site.py: http.server on 127.0.0.1, serving tests/cases/html).

See local_site.py for what the site answers.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bookgen import fetch
from bookgen.errors import SourceError, UserError
from conftest import snapshot
from local_site import IMAGES, PAGE_IDS, PAGES, closed_port, png, volume, write_manifest


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
    assert sorted(site.paths) == sorted([f"/archives/{i}" for i in PAGE_IDS] + list(IMAGES))
    assert all("bookgen/" in headers.get("User-Agent", "") for _, headers in site.requests)
    assert not list(cache.rglob("*.part"))

    site.requests.clear()
    events.clear()
    again = fetch.fetch_volume(volume(tmp_path), cache, base_url=site.url, delay=0,
                               progress=lambda *event: events.append(event))  # fmt: skip
    assert again == paths
    assert site.requests == []
    assert [e[0] for e in events] == ["cached"] * 3


def test_force_downloads_pages_again(tmp_path, site):
    cache = tmp_path / "cache"
    fetch.fetch_volume(volume(tmp_path), cache, base_url=site.url, delay=0)
    (cache / "90101.html").write_text("stale", encoding="utf-8")
    site.requests.clear()
    fetch.fetch_volume(volume(tmp_path), cache, base_url=site.url, delay=0, force=True)
    assert site.paths == [f"/archives/{i}" for i in PAGE_IDS]  # images are cached already
    assert (cache / "90101.html").read_bytes() == (PAGES / "90101.html").read_bytes()


def test_the_sites_cookie_challenge_is_passed_on_retry(tmp_path, site):
    site.challenge = True
    fetch.fetch_volume(volume(tmp_path, (90101,)), tmp_path / "cache", base_url=site.url, delay=0, images=False)
    assert site.paths == ["/archives/90101", "/archives/90101"]
    assert "visited=1" in site.requests[1][1].get("Cookie", "")
    assert (tmp_path / "cache" / "90101.html").is_file()


def test_a_busy_server_is_retried_twice_then_reported(tmp_path, site):
    site.failing.add("/archives/90101")
    with pytest.raises(SourceError) as error:
        fetch.fetch_volume(volume(tmp_path, (90101,)), tmp_path / "cache", base_url=site.url, delay=0)
    assert str(error.value) == f"{site.url}/archives/90101: HTTP 503"
    assert site.paths == ["/archives/90101"] * 3
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
    assert calls == [("https://spaces.ac.cn/archives/8231", 30.0, fetch.USER_AGENT)] * 3  # two retries
    assert not (tmp_path / "cache").exists()


def test_a_bad_base_url(tmp_path):
    with pytest.raises(UserError, match="--base-url must start with http"):
        fetch.fetch_volume(volume(tmp_path, (1,)), tmp_path / "cache", base_url="spaces.ac.cn")


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
    monkeypatch.setattr(fetch, "RETRY_WAIT", 0.0)
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


def test_cli_help_describes_every_option(run_cli):
    result = run_cli("fetch", "--help")
    assert result.code == 0
    for option in ("--manifest", "--cache", "--force", "--base-url", "--delay"):
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
