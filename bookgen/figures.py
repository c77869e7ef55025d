"""Image files in the build folder: what xelatex can include, and putting a found file there.

The images pass finds a figure's file and decides where it goes
(``Figure.source_file``, ``Figure.local_file``); writing the volume puts it there
(``install_image``): copied, or an SVG converted to PDF with ``rsvg-convert``
(from librsvg2-bin), so TeX reads nothing outside the build folder.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bookgen import model as m

INCLUDABLE = (".png", ".jpg", ".jpeg", ".pdf")
CONVERTED = {".svg": ".pdf"}  # what the build folder holds instead
SVG_CONVERTER = "rsvg-convert"
CONVERT_TIMEOUT_SECONDS = 60


def figures_of(post: m.Post) -> list[m.Figure]:
    """The post's figures, in order (also in quotes, lists and footnotes)."""
    found: list[m.Figure] = []

    def visit(blocks) -> None:
        for block in blocks:
            if isinstance(block, m.Figure):
                found.append(block)
            elif isinstance(block, m.Quote):
                visit(block.children)
            elif isinstance(block, m.ListBlock):
                for item in block.items:
                    visit(item)

    visit(post.blocks)
    for _label, body in post.footnotes:
        visit(body)
    return found


def figures_to_install(book: m.Book) -> dict[str, Path]:
    """Build-folder path → found file, for every figure of the book the images pass found."""
    return {
        figure.local_file: figure.source_file
        for chapter in book.chapters
        for figure in figures_of(chapter.post)
        if figure.local_file and figure.source_file is not None
    }


def install_image(source: Path, target: Path) -> str | None:
    """Put ``source`` at ``target`` in the build (converting an SVG); the error, if that failed.

    Unchanged images are left alone, so a rebuild does not convert every SVG again.
    """
    if source.suffix.lower() not in CONVERTED:
        data = source.read_bytes()
        if not target.exists() or target.read_bytes() != data:
            target.write_bytes(data)
        return None
    if target.exists() and target.stat().st_mtime_ns >= source.stat().st_mtime_ns:
        return None
    partial = target.with_name(target.name + ".part")
    command = [SVG_CONVERTER, "--format=pdf", f"--output={partial}", str(source)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, errors="replace", stdin=subprocess.DEVNULL,
                              env={**os.environ, "SOURCE_DATE_EPOCH": "0"},  # no date in the PDF: same bytes each time
                              timeout=CONVERT_TIMEOUT_SECONDS)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        partial.unlink(missing_ok=True)
        return f"{SVG_CONVERTER} failed: {exc}"
    if done.returncode != 0 or not partial.exists():
        partial.unlink(missing_ok=True)
        target.unlink(missing_ok=True)
        message = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return f"{SVG_CONVERTER} failed: {message}"
    partial.replace(target)
    return None
