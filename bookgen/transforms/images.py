r"""Pass ``images``: find each figure's file in the image folders.

The blog's images are ``/usr/uploads/2022/06/123.png`` (or absolute URLs to the
site).  A figure whose file is found below an image folder (``images:`` in
series.yaml, or a ``--sources`` folder) is copied into the build folder, so TeX
reads only inside it; one that is missing, outside the folder, or in a format
xelatex cannot include (svg, gif, webp) stays a framed placeholder with its
caption and URL, and a warning.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from bookgen import model as m
from bookgen.transforms import Context
from bookgen.transforms.walk import map_post, map_posts

NAME = "images"
INCLUDABLE = (".png", ".jpg", ".jpeg", ".pdf")


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
            path = (root / relative).resolve()
            if path.is_file() and path.is_relative_to(root):
                return path
    return None


def build_name(src: str, path: Path) -> str:
    digest = hashlib.sha1(src.encode("utf-8")).hexdigest()[:10]
    stem = re.sub(r"[^A-Za-z0-9_-]", "-", path.stem)[:40]
    return f"images/{digest}-{stem}{path.suffix.lower()}"


def run(book: m.Book, context: Context) -> m.Book:
    copies: dict[str, Path] = context.options.setdefault("images", {})

    def per_post(post: m.Post) -> m.Post:
        def resolve(block):
            if not isinstance(block, m.Figure):
                return block
            path = locate(block.src, context.image_dirs)
            if path is None:
                context.report(post, block.line, NAME, f"image not found: {block.src} (placeholder used)", warning=True)
                return block
            if path.suffix.lower() not in INCLUDABLE:
                context.report(
                    post, block.line, NAME, f"{path.suffix} cannot be included by xelatex: {block.src}", warning=True
                )
                return block
            name = build_name(block.src, path)
            copies[name] = path
            return dataclasses.replace(block, local_file=name)

        return map_post(post, block_fn=resolve)

    return map_posts(book, per_post)
