"""Find a post by its archive id in the source folders.

Mirrors name their files differently (``10366.md``, ``低秩近似之路一伪逆.md``,
``10366-低秩….md``), so the id comes from the file itself when it can: the
front matter (``id``/``url``/``source``), the mirror's ``原文链接`` line, and
only then the digits that start the file name.  A saved page of the site
(.html) names itself in its ``<link rel="canonical">`` or ``og:url`` (else in
the post's "转载到请包括本文地址" line); a page of another post linked from it
never counts.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from bookgen.errors import SourceError

POST_SUFFIXES = (".md", ".markdown", ".html", ".htm")
ARCHIVE_URL = re.compile(r"(?:spaces\.ac\.cn|kexue\.fm)/archives/(\d+)")
FRONT_MATTER_ID = re.compile(r"^(?:id|archive_id)\s*:\s*['\"]?(\d+)", re.MULTILINE)
LEADING_DIGITS = re.compile(r"^(\d+)(?:\D|$)")
HEAD_BYTES = 4096  # the id is always in the first lines; don't read whole posts to index them
HTML_SUFFIXES = (".html", ".htm")
HTML_HEAD_BYTES = 1 << 20  # a page's <head> is long (styles, scripts) and the 转载 line ends the post
# An archive id is a positive number of at most 9 digits (the blog is at 5).  A longer one is
# no id at all: 4,301 digits and more would make Python's int() itself raise.
MAX_ID_DIGITS = 9
HTML_SELF_URL = re.compile(r"<(?:link|meta)\b[^>]*\b(?:rel|property)\s*=\s*[\"']?(?:canonical|og:url)\b[^>]*>", re.I)
REPRINT_URL = re.compile(r"转载到请包括本文地址.{0,400}?(?:spaces\.ac\.cn|kexue\.fm)/archives/(\d+)", re.DOTALL)


def archive_id_from(digits: str) -> int | None:
    """``"8231"`` → 8231; None for what cannot be an archive id (``"0"``, ``"9" * 5000``, ``"８"``)."""
    if not re.fullmatch(rf"[0-9]{{1,{MAX_ID_DIGITS}}}", digits):
        return None
    return int(digits) or None


def sources_from_env() -> tuple[Path, ...]:
    value = os.environ.get("BOOKGEN_SOURCES", "")
    return tuple(Path(p).resolve() for p in value.split(os.pathsep) if p)


def archive_id_of(path: Path, head: str) -> int | None:
    """The id the first of a post's ways to name one gives; None (the file is skipped) when that id is absurd."""
    if path.suffix.lower() in HTML_SUFFIXES:
        said = [ARCHIVE_URL.search(tag.group(0)) for tag in HTML_SELF_URL.finditer(head)]
        said.append(REPRINT_URL.search(head))
    else:
        said = [FRONT_MATTER_ID.search(head), ARCHIVE_URL.search(head)]
    said.append(LEADING_DIGITS.match(path.name))
    first = next((match for match in said if match), None)
    return archive_id_from(first.group(1)) if first else None


@dataclass
class SourceIndex:
    folders: tuple[Path, ...]
    by_id: dict[int, Path]
    shadowed: dict[int, list[Path]] = field(default_factory=dict)  # other files claiming an id: ignored

    @classmethod
    def scan(cls, folders: tuple[Path, ...]) -> "SourceIndex":
        by_id: dict[int, Path] = {}
        shadowed: dict[int, list[Path]] = {}
        for folder in folders:
            if not folder.is_dir():
                raise SourceError("source folder does not exist", folder)
            for path in sorted(folder.iterdir()):
                if path.suffix.lower() not in POST_SUFFIXES or not path.is_file():
                    continue
                try:
                    limit = HTML_HEAD_BYTES if path.suffix.lower() in HTML_SUFFIXES else HEAD_BYTES
                    with path.open("rb") as handle:
                        head = handle.read(limit).decode("utf-8", errors="replace")
                except OSError as exc:
                    raise SourceError(f"cannot read post: {exc.strerror}", path) from None
                archive_id = archive_id_of(path, head)
                # The first folder listed wins, so --sources can shadow the manifest's.
                if archive_id is None:
                    continue
                if archive_id not in by_id:
                    by_id[archive_id] = path
                elif path.resolve() != by_id[archive_id].resolve():
                    shadowed.setdefault(archive_id, []).append(path)
        return cls(folders, by_id, shadowed)

    def find(self, archive_id: int) -> Path | None:
        return self.by_id.get(archive_id)
