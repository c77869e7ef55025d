"""What a build keeps for the next one, under the volume's build folder, so a rebuild costs only what changed.

* ``.cache/<id>.json``: a post as the repairs left it (``PostCache``), with what
  they reported, keyed by everything that decides it — the post file's bytes and
  path, bookgen's own code, the passes left out, the fonts of the preamble.  Any
  other key is a miss: a stale entry is never used.
* ``fallbacks.json``: the units TeX rejected in the last build, per post, with the
  text they were found in (``FallbackRecord``); a rebuild (and ``bookgen diff``)
  sets them aside at once while the post renders to that same text.
* ``.built``: what the last successful TeX run was given (``build_stamp``): with
  the same .tex, the same images and the book's PDF in place, TeX is not run.

Entries are JSON, never pickles: a build folder may come from somewhere else
(a CI cache), and reading it must not run anything.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import typing
from functools import lru_cache
from pathlib import Path

from bookgen import model as m
from bookgen.diagnostics import Diagnostic

CACHE_DIR = ".cache"
FALLBACKS_FILE = "fallbacks.json"
STAMP_FILE = ".built"
FORMAT = 1  # of the files here: a bookgen that writes them differently changes it

# ---------------------------------------------------------------- the model as JSON

_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in vars(m).values()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == m.__name__
}


def encode(value):
    """A model value as JSON-ready data: a node is a dict naming its type, a tuple a list, a path a string."""
    if dataclasses.is_dataclass(value):
        return {"_": type(value).__name__, **{f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, tuple):
        return [encode(item) for item in value]
    if isinstance(value, Path):
        return {"_path": str(value)}
    return value


def decode(data):
    """``encode``'s data back to the model (an unknown type name is an error: the entry is not used)."""
    if isinstance(data, list):
        return tuple(decode(item) for item in data)
    if isinstance(data, dict):
        if "_path" in data:
            return Path(data["_path"])
        cls = _TYPES[data["_"]]
        return cls(**{name: decode(value) for name, value in data.items() if name != "_"})
    return data


# ---------------------------------------------------------------- keys


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """bookgen's own code (every module of the package): a new bookgen never reads an old one's entries."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256(f"format {FORMAT}".encode())
    for path in sorted(package.rglob("*.py")) + sorted(package.rglob("*.txt")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def post_key(source: bytes, path: Path, archive_id: int, settings: str) -> str:
    """The key of a post's entry: its bytes and path, its id, and the settings of the repairs (``settings``)."""
    digest = hashlib.sha256()
    for part in (code_fingerprint(), settings, str(path), str(archive_id)):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    digest.update(source)
    return digest.hexdigest()


# ---------------------------------------------------------------- repaired posts


@dataclasses.dataclass(frozen=True)
class Repaired:
    """A post as the repairs left it, what they reported, and how long each took."""

    post: m.Post
    diagnostics: tuple[Diagnostic, ...]
    times: dict[str, float]


class PostCache:
    """The repaired posts of one volume, one file each, under ``<volume folder>/.cache``."""

    def __init__(self, volume_dir: Path, enabled: bool = True, writable: bool = True):
        self.folder = volume_dir / CACHE_DIR
        self.enabled = enabled
        self.writable = writable  # bookgen diff reads the cache, and writes nothing in the build folder

    def load(self, archive_id: int, key: str) -> Repaired | None:
        if not self.enabled:
            return None
        try:
            data = json.loads((self.folder / f"{archive_id}.json").read_text(encoding="utf-8"))
            if data.get("key") != key:
                return None
            post = decode(data["post"])
            diagnostics = tuple(Diagnostic(*item) for item in data["diagnostics"])
        except (OSError, ValueError, KeyError, TypeError):
            return None  # no entry, or one this bookgen cannot read: repaired again
        return Repaired(post, diagnostics, {}) if isinstance(post, m.Post) else None

    def store(self, archive_id: int, key: str, repaired: Repaired) -> None:
        if not (self.enabled and self.writable):
            return
        data = {
            "key": key,
            "post": encode(repaired.post),
            "diagnostics": [dataclasses.astuple(d) for d in repaired.diagnostics],
        }
        # ASCII JSON: a file name that is not UTF-8 (kept by Python as lone surrogates) survives it
        write_atomically(self.folder / f"{archive_id}.json", json.dumps(data))

    def prune(self, archive_ids: typing.Iterable[int]) -> None:
        """Drop the entries of posts no longer in the volume."""
        keep = {f"{i}.json" for i in archive_ids}
        for entry in self.folder.glob("*.json") if self.folder.is_dir() else ():
            if entry.name not in keep:
                entry.unlink(missing_ok=True)


# ---------------------------------------------------------------- the last build's fallbacks


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


class FallbackRecord:
    """The units TeX rejected last time: post id → (digest of the post's .tex without fallbacks, units)."""

    def __init__(self, volume_dir: Path):
        self.path = volume_dir / FALLBACKS_FILE

    def load(self) -> dict[int, tuple[str, tuple[tuple[int, str], ...]]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return {int(k): (v["digest"], tuple((int(n), str(s)) for n, s in v["units"])) for k, v in data.items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}

    def save(self, record: dict[int, tuple[str, tuple[tuple[int, str], ...]]]) -> None:
        if not record:
            self.path.unlink(missing_ok=True)
            return
        data = {str(k): {"digest": digest, "units": [list(u) for u in units]} for k, (digest, units) in sorted(record.items())}
        write_atomically(self.path, json.dumps(data, indent=1))  # ASCII, as above


# ---------------------------------------------------------------- the last TeX run


def build_stamp(files: dict[str, str], images: dict[str, Path]) -> str:
    """What TeX is given: every .tex file, and each image's name and source file's size and time."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode("utf-8", "surrogateescape") + b"\0")
    for name in sorted(images):
        try:
            stat = images[name].stat()
            digest.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
        except OSError:
            digest.update(f"{name}\0missing\0".encode())
    return digest.hexdigest()


def read_stamp(volume_dir: Path) -> str | None:
    try:
        return (volume_dir / STAMP_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None


def write_stamp(volume_dir: Path, stamp: str | None) -> None:
    if stamp is None:
        (volume_dir / STAMP_FILE).unlink(missing_ok=True)
    else:
        write_atomically(volume_dir / STAMP_FILE, stamp)


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
