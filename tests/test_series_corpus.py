"""``series:`` volumes on the real corpus: the same chapters as series.yaml lists by hand, the same books but for titles.

Needs ../shared/corpus (POSTS.json, the blog's list of its 1,330 posts, and md/,
the mirrored posts); skipped without it.  The .tex comparison builds the three
series twice with --tex-only (about a minute in all).
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest

from bookgen.manifest import load_manifest
from bookgen.series.catalog import catalog_from
from bookgen.series.resolve import resolve_manifest
from fixtures import REPO_DIR, corpus_path, invoke

pytestmark = pytest.mark.corpus

SERIES = {"lowrank": "低秩近似之路", "transformer": "Transformer升级之路", "diffusion": "生成扩散模型漫谈"}


def series_manifest(folder: Path, chapter_titles: str | None = None) -> Path:
    """The three series as ``series:`` volumes (titles as series.yaml has them)."""
    lines = ["volumes:"]
    for key, name in SERIES.items():
        lines += [f"  {key}:", f"    title: {name}", "    subtitle: 科学空间系列文章", "    author: 苏剑林", f"    series: {name}"]
        lines += [f"    chapter_titles: {chapter_titles}"] if chapter_titles else []
    (folder / "series").mkdir(exist_ok=True)
    path = folder / "series" / "series.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def listed_manifest(folder: Path) -> Path:
    """The repository's series.yaml as it was before chapter titles: explicit chapters, whole titles."""
    text = (REPO_DIR / "series.yaml").read_text(encoding="utf-8").replace("    chapter_titles: short\n", "")
    (folder / "listed").mkdir(exist_ok=True)
    path = folder / "listed" / "series.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def posts_json() -> Path:
    path = corpus_path().parent / "POSTS.json"
    if not path.is_file():
        pytest.skip(f"POSTS.json not found at {path}")
    return path


def test_series_volumes_from_posts_json_are_the_chapters_series_yaml_lists(posts_json, tmp_path):
    listed = load_manifest(REPO_DIR / "series.yaml")
    manifest = load_manifest(series_manifest(tmp_path))
    catalog = catalog_from(index_files=[posts_json])
    warnings: list[str] = []
    resolved = resolve_manifest(manifest, list(SERIES), lambda volume: catalog, strict=True, warn=warnings.append)
    for key in SERIES:
        assert [c.id for c in resolved.volume(key).chapters] == [c.id for c in listed.volume(key).chapters], key
    assert [len(resolved.volume(key).chapters) for key in SERIES] == [5, 21, 31] and warnings == []


def test_series_volumes_from_the_source_folders_too(corpus_dir, tmp_path):
    listed = load_manifest(REPO_DIR / "series.yaml")
    manifest = load_manifest(series_manifest(tmp_path))
    catalog = catalog_from(folders=[corpus_dir])
    resolved = resolve_manifest(manifest, list(SERIES), lambda volume: catalog, strict=True)
    for key in SERIES:
        assert [c.id for c in resolved.volume(key).chapters] == [c.id for c in listed.volume(key).chapters], key


@pytest.fixture(scope="module")
def two_builds(corpus_dir, posts_json, tmp_path_factory):
    """The three series built --tex-only from explicit lists (whole titles) and from series: volumes (short titles)."""
    root = tmp_path_factory.mktemp("series-corpus")
    outs = {}
    for name, manifest, extra in (("listed", listed_manifest(root), []),
                                  ("series", series_manifest(root), ["--index", posts_json])):  # fmt: skip
        out = root / name
        args = ["build", *SERIES, "--manifest", manifest, "--sources", corpus_dir, "--tex-only", "-q", "--out", out]
        result = invoke(args + extra, cwd=REPO_DIR, env={"BOOKGEN_SOURCES": None})
        assert result.code == 0 and result.exception is None, result.stderr
        assert result.stderr == ""  # no gap, no conflict, every chapter in the folder
        outs[name] = out
    return outs["listed"], outs["series"]


def tex_files(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in sorted(out.rglob("*.tex"))}


def test_the_same_books_apart_from_the_chapter_titles(two_builds):
    listed, series = (tex_files(out) for out in two_builds)
    assert listed.keys() == series.keys() and len(listed) == 3 + 57
    changed = []
    for path, text in listed.items():
        for line in difflib.unified_diff(text.splitlines(), series[path].splitlines(), lineterm="", n=0):
            if line.startswith(("+", "-")) and not line.startswith(("+++", "---")):
                changed.append((path, line))
    # main.tex is the same; in each post, its \chapter line changes and the whole title is added under it
    others = [(path, line) for path, line in changed if not re.match(r"^[-+]\\chapter\{|^\+\\bookgenfulltitle\{", line)]
    assert others == []
    assert sum(1 for _, line in changed if line.startswith("+\\chapter{")) == 57
    assert sum(1 for _, line in changed if line.startswith("+\\bookgenfulltitle{")) == 57


def test_no_chapter_title_repeats_the_series_name(two_builds):
    _, series = two_builds
    for key, name in SERIES.items():
        for path in sorted((series / key / "posts").glob("*.tex")):
            chapter = re.search(r"^\\chapter\{(.*)\}\\label", path.read_text(encoding="utf-8"), re.MULTILINE).group(1)
            assert name not in chapter, (path.name, chapter)
    diffusion_24 = (series / "diffusion/posts/10077.tex").read_text(encoding="utf-8")
    assert "\\chapter{少走捷径，更快到达}" in diffusion_24
    assert "\\bookgenfulltitle{生成扩散模型漫谈（二十四）：少走捷径，更快到达}" in diffusion_24
