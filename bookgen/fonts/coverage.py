"""Which code points the installed fonts have: fontconfig finds the files, fontTools reads their cmaps.

A font name is what XeTeX looks up (a family, or a face's full name); its faces
are found with one ``fc-list`` call.  Reading a cmap takes 0.1 s for a Noto CJK
collection, so each face's coverage is cached in ``~/.cache/bookgen/coverage.json``
(``$XDG_CACHE_HOME``), keyed by file, face number, size and mtime.
"""

from __future__ import annotations

import bisect
import json
import os
import shutil
import struct
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable


@dataclass(frozen=True)
class Face:
    path: str
    index: int  # the face's number in a .ttc collection


def _name_key(name: str) -> str:
    """Names compared as fontconfig compares families: case and blanks ignored."""
    return "".join(name.split()).lower()


@lru_cache(maxsize=1)
def installed_faces() -> dict[str, tuple[Face, ...]]:
    """Every family and full name fontconfig knows → its faces (one ``fc-list`` call)."""
    if shutil.which("fc-list") is None:
        return {}
    listing = subprocess.run(
        ["fc-list", "--format", "%{file}\t%{index}\t%{family}\t%{fullname}\n"],
        capture_output=True, text=True, errors="replace", timeout=60,
    ).stdout  # fmt: skip
    names: dict[str, list[Face]] = {}
    seen: set[tuple[str, int, str]] = set()
    for line in listing.splitlines():
        parts = line.split("\t")
        if len(parts) != 4 or not parts[1].isdigit():
            continue
        face = Face(os.path.realpath(parts[0]), int(parts[1]))  # a symlinked alternative is the same face
        for name in parts[2].split(",") + parts[3].split(","):
            key = _name_key(name)
            if key and (face.path, face.index, key) not in seen:
                seen.add((face.path, face.index, key))
                names.setdefault(key, []).append(face)
    return {key: tuple(sorted(faces, key=lambda f: (f.path, f.index))) for key, faces in names.items()}


def fontconfig_stamp() -> tuple:
    """fontconfig's cache files (path, size, time), system and user: installing or removing fonts changes them
    (a font package runs fc-cache), so a process that builds again knows to ask ``fc-list`` again."""
    user = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    found = []
    for folder in ("/var/cache/fontconfig", os.path.join(user, "fontconfig")):
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    stat = entry.stat()
                    found.append((entry.path, stat.st_size, stat.st_mtime_ns))
        except OSError:
            continue
    return tuple(sorted(found))


def family_faces(name: str) -> tuple[Face, ...]:
    """The faces XeTeX may load for a font name: a family's faces, or the one with that full name."""
    return installed_faces().get(_name_key(name), ())


# ---------------------------------------------------------------- coverage, cached on disk


@dataclass(frozen=True)
class Coverage:
    """A set of code points as sorted, disjoint ranges: ``in`` is a bisection, no set of 40 000 ints is built."""

    starts: tuple[int, ...] = ()
    ends: tuple[int, ...] = ()

    @classmethod
    def of(cls, codes: Iterable[int]) -> "Coverage":
        ranges = _ranges(codes)
        return cls(tuple(a for a, _ in ranges), tuple(b for _, b in ranges))

    def __contains__(self, code: int) -> bool:
        index = bisect.bisect_right(self.starts, code) - 1
        return index >= 0 and code <= self.ends[index]

    def __and__(self, other: "Coverage") -> "Coverage":
        starts: list[int] = []
        ends: list[int] = []
        i = j = 0
        while i < len(self.starts) and j < len(other.starts):
            low, high = max(self.starts[i], other.starts[j]), min(self.ends[i], other.ends[j])
            if low <= high:
                starts.append(low)
                ends.append(high)
            if self.ends[i] < other.ends[j]:
                i += 1
            else:
                j += 1
        return Coverage(tuple(starts), tuple(ends))

    def __len__(self) -> int:
        return sum(b - a + 1 for a, b in zip(self.starts, self.ends))

CACHE_VERSION = 1


def cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "bookgen" / "coverage.json"


class CoverageCache:
    """Code points of font faces, keyed by file, face, size and mtime (so an updated font is read again)."""

    def __init__(self, path: Path | None = None):
        self.path = path or cache_file()
        self.entries: dict[str, list[list[int]]] | None = None
        self.dirty = False

    def _load(self) -> dict[str, list[list[int]]]:
        if self.entries is None:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                self.entries = data["faces"] if data.get("version") == CACHE_VERSION else {}
            except (OSError, ValueError, KeyError, TypeError):
                self.entries = {}
        return self.entries

    def coverage(self, face: Face) -> Coverage:
        try:
            stat = os.stat(face.path)
        except OSError:
            return Coverage()
        key = f"{face.path}#{face.index}#{stat.st_size}#{stat.st_mtime_ns}"
        entries = self._load()
        if key not in entries:
            entries[key] = _ranges(read_cmap(face))
            self.dirty = True
        ranges = entries[key]
        return Coverage(tuple(a for a, _ in ranges), tuple(b for _, b in ranges))

    def save(self) -> None:
        if not self.dirty or self.entries is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            staging = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            staging.write_text(json.dumps({"version": CACHE_VERSION, "faces": self.entries}), encoding="utf-8")
            os.replace(staging, self.path)
            self.dirty = False
        except OSError:
            pass  # a read-only home: read the fonts again next time


def read_cmap(face: Face) -> set[int]:
    """The code points a face maps to glyphs (fontTools; a broken file covers nothing)."""
    # Imported here, as in advance(): only a build whose coverage cache is stale reads font
    # files, and importing fontTools would add ~45 ms to every other run (a rebuild's budget).
    from fontTools.ttLib import TTFont, TTLibError

    try:
        with TTFont(face.path, fontNumber=face.index, lazy=True) as font:
            return set((font.getBestCmap() or {}).keys())
    except (OSError, TTLibError, AssertionError, KeyError, ValueError, struct.error):
        return set()


def _ranges(codes: Iterable[int]) -> list[list[int]]:
    """[1, 2, 3, 7] → [[1, 3], [7, 7]]: a cache entry stays small."""
    out: list[list[int]] = []
    for code in sorted(codes):
        if out and code == out[-1][1] + 1:
            out[-1][1] = code
        else:
            out.append([code, code])
    return out


_CACHE = CoverageCache()


def family_coverage(name: str, cache: CoverageCache | None = None) -> Coverage | None:
    """The code points every face of ``name`` has; None when fontconfig does not know the name."""
    faces = family_faces(name)
    if not faces:
        return None
    cache = cache or _CACHE
    covered: Coverage | None = None
    for face in faces:
        codes = cache.coverage(face)
        covered = codes if covered is None else covered & codes
    cache.save()
    return covered


def advance(name: str) -> float | None:
    """A monospaced font's advance width, in ems (that of ``0``); None for a proportional font."""
    from fontTools.ttLib import TTFont, TTLibError

    faces = family_faces(name)
    if not faces:
        return None
    try:
        with TTFont(faces[0].path, fontNumber=faces[0].index, lazy=True) as font:
            if not font["post"].isFixedPitch:
                return None
            glyph = (font.getBestCmap() or {}).get(ord("0"))
            return font["hmtx"][glyph][0] / font["head"].unitsPerEm if glyph else None
    except (OSError, TTLibError, AssertionError, KeyError, ValueError, struct.error):
        return None
