"""Golden .tex snapshots: `bookgen build --tex-only` of small books, byte for byte.

Roots (each a series.yaml with its posts):

* ``demo``: the repository's own demo volume (series.yaml, demo/posts, demo/images);
* ``blocks``: tests/roots/blocks — tables, lists, block quotes, code (with an
  ``\\end{Verbatim}`` line), footnotes, links inside and outside the book;
* ``figures``: tests/roots/figures — a figure whose image is found, one whose
  image is missing, one without a caption, an image inside prose.

Every file the build writes under --out is compared with
tests/golden/<root>/<same path>; a mismatch shows a unified diff.  After a
deliberate change to the output, rewrite the snapshots with::

    pytest tests/test_writer_golden.py --update-golden

and review ``git diff tests/golden`` before committing.
"""

from __future__ import annotations

import difflib
import re
import shutil
from pathlib import Path

import pytest

from fixtures import REPO_DIR, TESTS_DIR, snapshot

GOLDEN_DIR = TESTS_DIR / "golden"
ROOTS = {
    "demo": (REPO_DIR, ("demo",)),
    "blocks": (TESTS_DIR / "roots" / "blocks", ()),
    "figures": (TESTS_DIR / "roots" / "figures", ()),
}
PLACEHOLDER = "<ROOT>"
VERBATIM = re.compile(r"^\\begin\{bookgencode\}\n.*?^\\end\{bookgencode\}$", re.DOTALL | re.MULTILINE)


def normalize(relative: str, data: bytes, root: Path) -> bytes:
    """Absolute paths of the checkout (in report.txt) become <ROOT>, so snapshots don't depend on where it lives."""
    if relative.endswith((".tex", ".txt")):
        return data.replace(str(root).encode("utf-8"), PLACEHOLDER.encode("utf-8"))
    return data


def build(run_cli, root: Path, volumes: tuple[str, ...], out: Path, *extra) -> dict[str, bytes]:
    result = run_cli("build", *volumes, "--tex-only", "--out", out, *extra, cwd=root)
    assert result.code == 0, result.stderr
    assert result.stderr == "", result.stderr
    return {path: normalize(path, data, root) for path, data in snapshot(out).items() if snapshotted(path)}


def snapshotted(path: str) -> bool:
    """Files and their bytes, but not images converted by rsvg-convert (its output varies with its version),
    the lock a build holds on its volume (``OUT/.<volume>.lock``, holding its process id), nor what a build
    keeps for the next one (``.cache/``: the repaired posts, as JSON; see test_rebuild.py)."""
    return not path.endswith("/") and not re.search(r"/images/[^/]*\.pdf$|^\.[^/]*\.lock$|/\.cache/", path)


def golden_files(name: str) -> dict[str, bytes]:
    return {path: data for path, data in snapshot(GOLDEN_DIR / name).items() if not path.endswith("/")}


def write_golden(name: str, files: dict[str, bytes]) -> None:
    target = GOLDEN_DIR / name
    if target.exists():
        shutil.rmtree(target)
    for relative, data in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def describe_mismatch(name: str, actual: dict[str, bytes], expected: dict[str, bytes]) -> str:
    out: list[str] = []
    for missing in sorted(set(expected) - set(actual)):
        out.append(f"not generated: {missing}")
    for extra in sorted(set(actual) - set(expected)):
        out.append(f"not in tests/golden/{name}: {extra}")
    for relative in sorted(set(actual) & set(expected)):
        if actual[relative] == expected[relative]:
            continue
        try:
            old = expected[relative].decode("utf-8").splitlines(keepends=True)
            new = actual[relative].decode("utf-8").splitlines(keepends=True)
        except UnicodeDecodeError:
            out.append(f"binary file differs: {relative}")
            continue
        diff = difflib.unified_diff(old, new, f"golden/{name}/{relative}", f"generated/{relative}", n=2)
        out.append("".join(diff))
    out.append("(if the change is intended: pytest tests/test_writer_golden.py --update-golden)")
    return "\n".join(out)


@pytest.mark.parametrize("name", sorted(ROOTS))
def test_golden_tex(name, run_cli, tmp_path, update_golden):
    root, volumes = ROOTS[name]
    actual = build(run_cli, root, volumes, tmp_path / "out")
    assert any(path.endswith("main.tex") for path in actual)
    if update_golden:
        write_golden(name, actual)
        return
    expected = golden_files(name)
    assert expected, f"no golden files for {name}: run pytest {__file__} --update-golden"
    if actual != expected:
        pytest.fail(describe_mismatch(name, actual, expected), pytrace=False)


@pytest.mark.parametrize("name", sorted(ROOTS))
def test_second_run_is_byte_identical_and_rewrites_nothing(name, run_cli, tmp_path):
    root, volumes = ROOTS[name]
    out = tmp_path / "out"
    first = build(run_cli, root, volumes, out)
    times = {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*.tex")}
    result = run_cli("build", *volumes, "--tex-only", "--out", out, cwd=root)
    assert result.code == 0
    assert "wrote 0 changed .tex files" in result.stdout
    second = {path: normalize(path, data, root) for path, data in snapshot(out).items() if snapshotted(path)}
    assert second == first
    assert {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*.tex")} == times


def copy_root(name: str, target: Path) -> tuple[Path, tuple[str, ...]]:
    root, volumes = ROOTS[name]
    if name == "demo":
        (target / "demo").mkdir(parents=True)
        shutil.copytree(REPO_DIR / "demo" / "posts", target / "demo" / "posts")
        shutil.copytree(REPO_DIR / "demo" / "images", target / "demo" / "images")
        manifest = (REPO_DIR / "series.yaml").read_text(encoding="utf-8")
        (target / "series.yaml").write_text(manifest.split("\n  lowrank:")[0] + "\n", encoding="utf-8")
    else:
        shutil.copytree(root, target)
    return target, volumes


EDITS = {
    # root: (post file, text to replace, replacement, the .tex that must change)
    "demo": ("demo/posts/90003.md", "扩散模型近年来非常流行", "扩散模型这几年非常流行", "demo/posts/90003.tex"),
    "blocks": ("posts/91001.md", "最后一段。", "最后一段，改过了。", "blocks/posts/91001.tex"),
}


@pytest.mark.parametrize("name", sorted(EDITS))
def test_editing_one_post_changes_only_its_tex(name, run_cli, tmp_path):
    root, volumes = copy_root(name, tmp_path / "book")
    out = tmp_path / "out"
    before = build(run_cli, root, volumes, out)
    times = {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*.tex")}
    post, old, new, tex = EDITS[name]
    text = (root / post).read_text(encoding="utf-8")
    assert old in text
    (root / post).write_text(text.replace(old, new), encoding="utf-8")
    result = run_cli("build", *volumes, "--tex-only", "--out", out, cwd=root)
    assert result.code == 0, result.stderr
    assert "wrote 1 changed .tex files" in result.stdout
    after = {path: normalize(path, data, root) for path, data in snapshot(out).items() if snapshotted(path)}
    assert set(after) == set(before)
    changed = {path for path in after if after[path] != before[path]}
    assert changed == {tex}
    assert new in after[tex].decode("utf-8")
    mtimes = {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*.tex")}
    assert {p for p in mtimes if mtimes[p] != times[p]} == {tex}


def test_removing_a_chapter_drops_its_tex(run_cli, tmp_path):
    root, volumes = copy_root("blocks", tmp_path / "book")
    out = tmp_path / "out"
    build(run_cli, root, volumes, out)
    manifest = root / "series.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("[91001, 91002]", "[91001]"), encoding="utf-8")
    files = build(run_cli, root, volumes, out)
    assert "blocks/posts/91002.tex" not in files
    assert b"posts/91002" not in files["blocks/main.tex"]


def test_golden_files_are_sensible_latex():
    """Cheap checks over the snapshots themselves, so a bad --update-golden is noticed."""
    files = {f"{name}/{path}": data for name in ROOTS for path, data in golden_files(name).items()}
    if not files:
        pytest.skip("no golden files yet")
    for path, data in files.items():
        if not path.endswith(".tex"):
            continue
        text = data.decode("utf-8")
        assert text.endswith("\n") and not text.endswith("\n\n"), path
        assert not any(line != line.rstrip() for line in text.split("\n")), f"{path}: trailing spaces"
        assert "\t" not in text, f"{path}: a tab"
        # Outside code blocks (which may show any TeX), environments are balanced.
        outside = VERBATIM.sub("", text)
        assert "\\begin{bookgencode}" not in outside and "\\end{bookgencode}" not in outside, f"{path}: code"
        for env in ("figure", "longtable", "itemize", "enumerate", "quote", "equation", "align"):
            begins, ends = outside.count(f"\\begin{{{env}}}"), outside.count(f"\\end{{{env}}}")
            assert begins == ends, f"{path}: {begins} \\begin{{{env}}} but {ends} \\end"
        if "/posts/" in path:
            assert text.startswith("% Generated by bookgen from "), path
            assert "\\chapter{" in text and "\\label{post:" in text, path
            for marker in ("原文链接", "转载到请包括本文地址", "打赏", "@online{", "公式推导与注释"):
                assert marker not in text, f"{path}: {marker}"
    for name in ROOTS:
        mains = [p for p in files if p.startswith(f"{name}/") and p.endswith("/main.tex")]
        assert mains, name
        for main_tex in mains:
            text = files[main_tex].decode("utf-8")
            assert "\\begin{document}" in text and text.rstrip().endswith("\\end{document}")
            posts = sorted(p for p in files if p.startswith(main_tex[: -len("main.tex")] + "posts/"))
            for post in posts:
                assert f"\\bookgenchapter{{posts/{Path(post).stem}}}" in text, post



@pytest.mark.parametrize("name", ["blocks", "figures"])
def test_golden_roots_compile_clean(name, run_cli, tmp_path, tex_available):
    """What the snapshots hold is also good TeX: no error, no ??, no glyph the fonts lack."""
    root, volumes = ROOTS[name]
    result = run_cli("build", *volumes, "--out", tmp_path / "out", "-q", cwd=root)
    assert result.code == 0, result.stderr
    assert result.stderr == "", result.stderr  # bookgen warns there about ?? and missing glyphs
    (log,) = (tmp_path / "out").glob("*/main.log")
    assert "Missing character" not in log.read_text(encoding="utf-8", errors="replace")
