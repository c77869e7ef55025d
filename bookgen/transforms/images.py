r"""Pass ``images``: find each figure's file in the image folders.

The blog's images are ``/usr/uploads/2022/06/123.png`` (or absolute URLs to the
site).  A figure whose file is found below an image folder (``images:`` in
series.yaml, or a ``--sources`` folder) gets the file and its place in the build
folder (``Figure.source_file``, ``local_file``): the pipeline copies it there
(``bookgen.figures``), so TeX reads only inside it; an SVG becomes a PDF there
(``rsvg-convert``, from librsvg2-bin, when installed).  One that is missing, outside the folder, or in a
format xelatex cannot include (gif, webp) stays a framed placeholder with its
caption and URL, and a warning.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

from bookgen import model as m
from bookgen.figures import CONVERTED, INCLUDABLE, SVG_CONVERTER
from bookgen.transforms.base import Context, Pass
from bookgen.transforms.walk import map_post

NAME = "images"


def candidates(src: str) -> list[str]:
    """Relative paths under an image folder where ``src`` may live."""
    path = unquote(urlparse(src).path if "://" in src else src).lstrip("/")
    out = [path]
    if "uploads/" in path:
        out.append(path[path.index("uploads/") :])
    out.append(Path(path).name)
    return [p for p in out if p and ".." not in Path(p).parts]


def locate(src: str, folders: tuple[Path, ...]) -> Path | None:
    for folder in folders:
        root = folder.resolve()
        for relative in candidates(src):
            if not (root / relative).is_file():  # most are not there: one stat, not a resolve per part
                continue
            path = (root / relative).resolve()
            if path.is_relative_to(root):
                return path
    return None


def build_name(src: str, path: Path) -> str:
    digest = hashlib.sha1(src.encode("utf-8")).hexdigest()[:10]
    stem = re.sub(r"[^A-Za-z0-9_-]", "-", path.stem)[:40]
    suffix = path.suffix.lower()
    return f"images/{digest}-{stem}{CONVERTED.get(suffix, suffix)}"


def unusable_reason(path: Path) -> str | None:
    """Why xelatex cannot show ``path`` (None: it can, maybe after conversion)."""
    suffix = path.suffix.lower()
    if suffix == ".svg" and shutil.which(SVG_CONVERTER) is None:
        return f"an SVG needs {SVG_CONVERTER} (apt-get install librsvg2-bin)"
    if suffix not in INCLUDABLE and suffix not in CONVERTED:
        return f"{suffix or 'a file without extension'} cannot be included by xelatex"
    return None


def finding(src: str, folders: tuple[Path, ...]) -> tuple[Path | None, str | None]:
    """(the file of a figure, None) or (None, why it is a placeholder): all the pass decides, so a chapter
    finished in an earlier build is checked by asking again (``bookgen.rebuild``)."""
    path = locate(src, folders)
    if path is None:
        return None, f"image not found: {src} (placeholder used)"
    reason = unusable_reason(path)
    return (None, f"{reason}: {src} (placeholder used)") if reason else (path, None)


def run(post: m.Post, context: Context) -> m.Post:
    def resolve(block):
        if not isinstance(block, m.Figure):
            return block
        path, problem = finding(block.src, context.image_dirs)
        if path is None:
            context.report(post, block.line, NAME, problem, warning=True)
            return dataclasses.replace(block, problem=problem)
        return dataclasses.replace(block, local_file=build_name(block.src, path), source_file=path)

    return map_post(post, block_fn=resolve)


PASS = Pass(NAME, run)
