r"""Pass ``images``: find each figure's file in the image folders.

The blog's images are ``/usr/uploads/2022/06/123.png`` (or absolute URLs to the
site).  A figure whose file is found below an image folder (``images:`` in
series.yaml, or a ``--sources`` folder) is copied into the build folder, so TeX
reads only inside it; an SVG becomes a PDF there (``rsvg-convert``, from
librsvg2-bin, when installed).  One that is missing, outside the folder, or in a
format xelatex cannot include (gif, webp) stays a framed placeholder with its
caption and URL, and a warning.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlparse

from bookgen import model as m
from bookgen.transforms import Context
from bookgen.transforms.walk import map_post, map_posts

NAME = "images"
INCLUDABLE = (".png", ".jpg", ".jpeg", ".pdf")
CONVERTED = {".svg": ".pdf"}  # what the build folder holds instead
SVG_CONVERTER = "rsvg-convert"
CONVERT_TIMEOUT_SECONDS = 60


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
            reason = unusable_reason(path)
            if reason:
                context.report(post, block.line, NAME, f"{reason}: {block.src} (placeholder used)", warning=True)
                return block
            name = build_name(block.src, path)
            copies[name] = path
            return dataclasses.replace(block, local_file=name)

        return map_post(post, block_fn=resolve)

    return map_posts(book, per_post)
