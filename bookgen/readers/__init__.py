"""Readers: one per source format, each turning a file into a ``model.Post``."""

from __future__ import annotations

from pathlib import Path

from bookgen.errors import SourceError
from bookgen.model import Post
from bookgen.readers.html import read_html
from bookgen.readers.markdown import read_markdown


def read_post(path: Path, archive_id: int) -> Post:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read post: {exc.strerror or exc}", path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SourceError(f"not valid UTF-8 (byte {exc.start})", path, line) from None
    if path.suffix.lower() in (".html", ".htm"):
        return read_html(text, path, archive_id)
    return read_markdown(text, path, archive_id)
