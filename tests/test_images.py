"""Figures in a real build: PNG copied, SVG converted to PDF (rsvg-convert), failures become placeholders.

The blog draws many figures as SVG, which xelatex cannot include; bookgen
converts them into the build folder.  A conversion that fails, or an SVG that
tries to pull in a file from outside, must not break the build or leak the file.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from fixtures import invoke

needs_rsvg = pytest.mark.skipif(shutil.which("rsvg-convert") is None, reason="rsvg-convert not installed")

GOOD_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100">'
    '<rect width="200" height="100" fill="white"/><circle cx="50" cy="50" r="40" fill="#1f77b4"/>'
    '<text x="110" y="55" font-family="sans-serif" font-size="14">SVGMARK</text></svg>\n'
)
BROKEN_SVG = "<svg xmlns='http://www.w3.org/2000/svg'><rect width='10'\n"
# SVGs that embed a bitmap: one next to them (allowed), one outside the image
# folder by absolute and by relative path (librsvg refuses both).
EMBEDDING_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="40">'
    '{images}<text x="2" y="20" font-size="10">EMBED</text></svg>\n'
)


def embedding(*hrefs: str) -> str:
    return EMBEDDING_SVG.format(images="".join(f'<image xlink:href="{h}" width="100" height="40"/>' for h in hrefs))


def figure(src: str, caption: str) -> str:
    return f'[![{caption}]({src})]({src} "点击查看原图")\n\n{caption}\n\n'


def make_book(root: Path, secret: Path) -> Path:
    """A one-post volume under ``root``; ``secret`` (a PNG) lies outside its image folder."""
    uploads = root / "images" / "usr" / "uploads" / "2024" / "05"
    uploads.mkdir(parents=True)
    (uploads / "good.svg").write_text(GOOD_SVG, encoding="utf-8")
    (uploads / "broken.svg").write_text(BROKEN_SVG, encoding="utf-8")
    shutil.copy(secret, uploads / "beside.png")
    (uploads / "inside.svg").write_text(embedding("beside.png"), encoding="utf-8")
    climb = "../" * len(uploads.relative_to(secret.parent).parts) + secret.name
    (uploads / "prying.svg").write_text(embedding(f"file://{secret}", climb), encoding="utf-8")
    posts = root / "posts"
    posts.mkdir()
    body = "".join(
        figure(f"/usr/uploads/2024/05/{name}.svg", caption)
        for name, caption in [("good", "好的矢量图"), ("broken", "坏掉的矢量图"), ("inside", "内嵌位图的矢量图"), ("prying", "窥探的矢量图")]
    )
    (posts / "96001.md").write_text(
        f"---\ntitle: 矢量图\ndate: 2024-05-01\n---\n\n正文。\n\n{body}结束。\n", encoding="utf-8"
    )
    (root / "series.yaml").write_text(
        "images: [images]\nsources: [posts]\nvolumes:\n  v:\n    title: 图\n    chapters: [96001]\n", encoding="utf-8"
    )
    return root


@pytest.fixture(scope="module")
def svg_build(tex_available, tmp_path_factory):
    if shutil.which("rsvg-convert") is None:
        pytest.skip("rsvg-convert not installed")
    root = tmp_path_factory.mktemp("svg")
    secret = root / "secret.png"
    shutil.copy(Path(__file__).resolve().parent.parent / "demo/images/usr/uploads/2024/03/90003-1.png", secret)
    book = make_book(root / "book", secret)
    result = invoke(["build", "v", "-q"], cwd=book)
    return book, result


@needs_rsvg
def test_svg_becomes_a_pdf_in_the_build(svg_build):
    book, result = svg_build
    assert result.code == 0, result.stderr
    converted = sorted(p.name for p in (book / "build/v/images").iterdir())
    assert any(name.endswith("-good.pdf") for name in converted), converted
    assert not any(name.endswith(".svg") or name.endswith(".part") for name in converted), converted
    text = subprocess.run(["pdftotext", str(book / "build/v.pdf"), "-"], capture_output=True, text=True).stdout
    assert "SVGMARK" in text  # the figure's own text, drawn by rsvg into the PDF
    assert "好的矢量图" in text


@needs_rsvg
def test_a_broken_svg_is_a_placeholder_and_a_warning(svg_build):
    book, result = svg_build
    assert result.code == 0, result.stderr
    report = (book / "build/v/report.txt").read_text(encoding="utf-8")
    assert "broken.svg:1: [images] warning: rsvg-convert failed" in report, report
    text = subprocess.run(["pdftotext", str(book / "build/v.pdf"), "-"], capture_output=True, text=True).stdout
    assert "usr/uploads/2024/05/broken.svg" in text.replace("\n", "")  # the placeholder shows the URL


@needs_rsvg
def test_an_svg_cannot_pull_in_a_file_from_outside(svg_build):
    book, result = svg_build
    assert result.code == 0, result.stderr
    images = book / "build/v/images"
    (inside,) = images.glob("*-inside.pdf")
    (prying,) = images.glob("*-prying.pdf")
    assert b"/Image" in inside.read_bytes()  # the check sees an embedded bitmap when there is one
    assert b"/Image" not in prying.read_bytes()


@needs_rsvg
def test_an_unchanged_svg_is_not_converted_again(svg_build, tmp_path):
    book, _result = svg_build
    (converted,) = (book / "build/v/images").glob("*-good.pdf")
    before = converted.stat().st_mtime_ns
    result = invoke(["build", "v", "--tex-only", "-q"], cwd=book)
    assert result.code == 0, result.stderr
    assert converted.stat().st_mtime_ns == before


def test_without_rsvg_convert_an_svg_is_a_placeholder(tmp_path, monkeypatch):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\n")
    book = make_book(tmp_path / "book", secret)
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "rsvg-convert" else "/bin/true")
    result = invoke(["check", "v"], cwd=book)
    assert result.code == 0, result.stderr
    assert "an SVG needs rsvg-convert (apt-get install librsvg2-bin)" in result.stdout
