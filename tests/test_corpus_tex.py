"""The real corpus, --tex-only: every post of the three series is written, deterministically, without the mirror's wrapping.

Needs the corpus (``$BOOKGEN_CORPUS`` or ``<workspace>/shared/corpus/md``);
skipped without it.  Compiling the corpus with zero TeX errors is tested with
the normalizer passes, not here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bookgen.manifest import load_manifest
from fixtures import REPO_DIR, all_posts_manifest, invoke, snapshot

pytestmark = [pytest.mark.tex, pytest.mark.corpus]

VOLUMES = ("lowrank", "transformer", "diffusion")
# What the mirror wraps a post in (header and closing boilerplate): none of it is the author's text.
FORBIDDEN = ("**原文链接**", "原文链接", "转载", "打赏", "@online{", "公式推导与注释", "如果您需要引用本文")


@pytest.fixture(scope="module")
def corpus_build(corpus_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus") / "out"
    result = invoke(["build", *VOLUMES, "--sources", corpus_dir, "--tex-only", "--out", out], cwd=REPO_DIR,
                    env={"BOOKGEN_SOURCES": None})  # fmt: skip
    assert result.exception is None, repr(result.exception)
    assert result.code == 0, result.stderr
    return out, corpus_dir, snapshot(out)


def expected_posts() -> dict[str, list[int]]:
    manifest = load_manifest(REPO_DIR / "series.yaml")
    return {key: [c.id for c in manifest.volume(key).chapters] for key in VOLUMES}


def test_every_post_is_written(corpus_build):
    out, _, files = corpus_build
    expected = expected_posts()
    assert sum(len(ids) for ids in expected.values()) == 57
    for key, ids in expected.items():
        written = sorted(int(Path(p).stem) for p in files if p.startswith(f"{key}/posts/") and p.endswith(".tex"))
        assert written == sorted(ids), key
        main = files[f"{key}/main.tex"].decode("utf-8")
        order = [int(line.split("posts/")[1].rstrip("}")) for line in main.splitlines()
                 if line.startswith("\\bookgenchapter{")]  # fmt: skip
        assert order == ids, key
    assert not list(out.glob("*.pdf"))


def test_second_run_is_byte_identical(corpus_build, tmp_path):
    out, corpus_dir, first = corpus_build
    times = {p: p.stat().st_mtime_ns for p in out.rglob("*.tex")}
    result = invoke(["build", *VOLUMES, "--sources", corpus_dir, "--tex-only", "--out", out], cwd=REPO_DIR,
                    env={"BOOKGEN_SOURCES": None})  # fmt: skip
    assert result.code == 0, result.stderr
    assert snapshot(out) == first
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.tex")} == times
    # A fresh folder gets the same bytes too (nothing depends on what was there before).
    fresh = tmp_path / "fresh"
    result = invoke(["build", *VOLUMES, "--sources", corpus_dir, "--tex-only", "--out", fresh], cwd=REPO_DIR,
                    env={"BOOKGEN_SOURCES": None})  # fmt: skip
    assert result.code == 0, result.stderr
    assert snapshot(fresh) == first


def test_no_mirror_wrapping_in_any_post(corpus_build):
    _, _, files = corpus_build
    found = []
    for path, data in files.items():
        if "/posts/" not in path or not path.endswith(".tex"):
            continue
        text = data.decode("utf-8")
        found.extend(f"{path}: {marker}" for marker in FORBIDDEN if marker in text)
    assert found == []


def test_every_post_has_a_title_and_a_date(corpus_build):
    _, _, files = corpus_build
    for path, data in files.items():
        if "/posts/" in path and path.endswith(".tex"):
            text = data.decode("utf-8")
            assert "\\chapter{" in text and "\\chapter{}" not in text, path
            assert "\\bookgenpostinfo{}" not in text, f"{path}: no date"


def test_a_pool_and_the_cache_write_what_one_process_writes(corpus_dir, tmp_path):
    """Every post of the corpus folder: one process without the cache, a pool of two (the cache filled),
    then the cache read: the same .tex and the same report, byte for byte."""
    manifest = all_posts_manifest(corpus_dir, tmp_path, "all")
    runs = {}
    for name, extra in (("serial", ["-j", "1", "--no-cache"]), ("pool", ["-j", "2"]), ("cache", ["-j", "2"])):
        out = tmp_path / ("pool" if name == "cache" else name)
        result = invoke(["build", "--manifest", manifest, "--sources", corpus_dir, "--tex-only", "--out", out, *extra],
                        cwd=REPO_DIR, env={"BOOKGEN_SOURCES": None})  # fmt: skip
        assert result.code == 0, result.stderr
        runs[name] = {k: v for k, v in snapshot(out).items() if k.endswith((".tex", "report.txt"))}
    assert "140 from the cache" in result.stdout or "from the cache, 0 repaired" in result.stdout
    assert len(runs["serial"]) > 100
    assert runs["serial"] == runs["pool"] == runs["cache"]
