"""What a build keeps for the next one, under the volume's build folder, so a rebuild costs only what changed.

* ``.cache/<id>.json``: a post as the repairs left it (``PostCache``), with what
  they reported, keyed by everything that decides it — the post file's bytes and
  path, bookgen's own code, the passes left out, the fonts of the preamble.  Any
  other key is a miss: a stale entry is never used.
* ``.cache/<id>.chapter.json``: the chapter as the build finished it (``Finished``):
  after the volume's passes, with its .tex and where its units are, keyed by the
  post's key and the volume's (``bookgen.rebuild.volume_key``: its chapters'
  titles, places and anchors, the templates, the Traditional settings, the image
  folders); its figures are looked up again before it is used.  A rebuild takes
  it as it is: neither the passes nor the templates run for it again.
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
import types
import typing
from functools import lru_cache
from pathlib import Path

from bookgen import model as m
from bookgen.diagnostics import Diagnostic
from bookgen.latex.render import Span
from bookgen.latex.writer import Unit

CACHE_DIR = ".cache"
FALLBACKS_FILE = "fallbacks.json"
STAMP_FILE = ".built"
FORMAT = 2  # of the files here: a bookgen that writes them differently changes it

# ---------------------------------------------------------------- the model as JSON

_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in vars(m).values()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == m.__name__
}


_FIELDS: dict[type, tuple[str, ...]] = {cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in _TYPES.values()}
PATH = "/"  # the one key of a path's dict: no model type has that name


def encode(value):
    """A model value as JSON-ready data: a node is ``{type name: [its fields' values, in order]}``, a tuple a
    list, a path ``{"/": path}`` (one key per node: the entries are written and read fast)."""
    fields = _FIELDS.get(type(value))
    if fields is not None:
        return {type(value).__name__: [encode(getattr(value, name)) for name in fields]}
    if isinstance(value, tuple):
        return [encode(item) for item in value]
    if isinstance(value, Path):
        return {PATH: str(value)}
    return value


def decode(data):
    """``encode``'s data back to the model.  A type name that is not the model's, or a field whose value
    is not of its type (an entry edited by hand, or another bookgen's), is an error: the entry is not used."""
    if isinstance(data, list):
        return tuple([decode(item) for item in data])
    if isinstance(data, dict):
        ((name, values),) = data.items()
        if name == PATH:
            return Path(str(values))
        cls = _TYPES[name]
        fields = [decode(value) for value in values]
        if len(fields) != len(_CHECKS[cls]) or not all(check(v) for check, v in zip(_CHECKS[cls], fields)):
            raise TypeError(f"a {name} that is not the model's")
        return cls(*fields)
    return data


def _check(hint) -> typing.Callable[[object], bool]:
    """Whether a value has the type a field is annotated with (each node's own fields were checked when it
    was made, so a node inside is only asked its class)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _check(args[0])
            return lambda value: isinstance(value, tuple) and all(item(x) for x in value)
        items = [_check(arg) for arg in args]
        return lambda value: isinstance(value, tuple) and len(value) == len(items) and all(
            check(x) for check, x in zip(items, value)
        )
    if origin in (typing.Union, types.UnionType):
        if all(isinstance(arg, type) for arg in args):  # Inline, Block, `str | None`: one isinstance
            return lambda value: isinstance(value, args)
        options = [_check(arg) for arg in args]
        return lambda value: any(option(value) for option in options)
    if hint is int:
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    return lambda value: isinstance(value, hint)


_CHECKS: dict[type, tuple] = {
    cls: tuple(_check(hint) for hint in typing.get_type_hints(cls, vars(m)).values()) for cls in _TYPES.values()
}


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


def digest_of(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return digest.hexdigest()


# ---------------------------------------------------------------- entries: repaired posts, finished chapters


@dataclasses.dataclass(frozen=True)
class Repaired:
    """A post as the repairs left it, what they reported, and how long each took."""

    post: m.Post
    diagnostics: tuple[Diagnostic, ...]
    times: dict[str, float]


def _diagnostic(item) -> Diagnostic:
    path, line, pass_name, message, severity = item
    if not (isinstance(line, int) and all(isinstance(text, str) for text in (path, pass_name, message, severity))):
        raise TypeError("a diagnostic that is not bookgen's")
    return Diagnostic(path, line, pass_name, message, severity)


class Remembered:
    """The entry this process read or wrote last, per file: a process that builds again (``--watch``) reads
    each entry once.  Kept with its key, which decides the entry's content, and used while the file is
    there (a cache folder removed is a cache gone)."""

    def __init__(self):
        self.entries: dict[Path, tuple[str, object]] = {}

    def get(self, file: Path, key: str):
        found = self.entries.get(file.absolute())
        return found[1] if found is not None and found[0] == key and file.exists() else None

    def put(self, file: Path, key: str, entry) -> None:
        self.entries[file.absolute()] = (key, entry)

    def forget(self) -> None:
        self.entries.clear()


REMEMBERED = Remembered()


class EntryCache:
    """Entries of one volume, one JSON file per post under ``<volume folder>/.cache``, each with its key."""

    SUFFIX = ".json"

    def __init__(self, volume_dir: Path, enabled: bool = True, writable: bool = True):
        self.folder = volume_dir / CACHE_DIR
        self.enabled = enabled
        self.writable = writable  # bookgen diff reads the cache, and writes nothing in the build folder

    def load(self, archive_id: int, key: str):
        """The entry made for this key, or None (none, another key's, or one this bookgen cannot read)."""
        if not self.enabled:
            return None
        file = self.folder / f"{archive_id}{self.SUFFIX}"
        remembered = REMEMBERED.get(file, key)
        if remembered is not None:
            return remembered
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            entry = self.from_data(data) if data.get("key") == key else None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # made again
        if entry is not None:
            REMEMBERED.put(file, key, entry)
        return entry

    def store(self, archive_id: int, key: str, entry) -> None:
        if not (self.enabled and self.writable):
            return
        file = self.folder / f"{archive_id}{self.SUFFIX}"
        # ASCII JSON: a file name that is not UTF-8 (kept by Python as lone surrogates) survives it
        write_atomically(file, json.dumps({"key": key, **self.to_data(entry)}))
        REMEMBERED.put(file, key, self.as_read(entry))

    def from_data(self, data: dict):
        raise NotImplementedError

    def to_data(self, entry) -> dict:
        raise NotImplementedError

    def as_read(self, entry):
        """The entry as ``load`` would give it back."""
        return entry


class PostCache(EntryCache):
    """The repaired posts (``<id>.json``)."""

    def from_data(self, data: dict) -> Repaired | None:
        post = decode(data["post"])
        diagnostics = tuple(_diagnostic(item) for item in data["diagnostics"])
        return Repaired(post, diagnostics, {}) if isinstance(post, m.Post) else None

    def to_data(self, repaired: Repaired) -> dict:
        return {"post": encode(repaired.post), "diagnostics": [dataclasses.astuple(d) for d in repaired.diagnostics]}

    def as_read(self, repaired: Repaired) -> Repaired:
        return dataclasses.replace(repaired, times={})


@dataclasses.dataclass(frozen=True)
class Finished:
    """A chapter as the last build finished it, and what the next one needs to know to use it as it is."""

    chapter: m.Chapter  # after the volume's passes
    title: str  # its post's own title (the chapter's heading and number are made from the volume's titles)
    anchors: frozenset[str]  # its headings', which links from other chapters point to
    diagnostics: tuple[Diagnostic, ...]  # the post's, from its repairs and the volume's passes
    text: str  # its .tex
    spans: tuple[Span, ...]  # where its units are in it
    volume: str  # the volume_key it was made with


class ChapterCache(EntryCache):
    """The finished chapters (``<id>.chapter.json``), keyed by their post's key; their ``volume`` is the
    caller's to check."""

    SUFFIX = ".chapter.json"

    def from_data(self, data: dict) -> Finished | None:
        chapter = decode(data["chapter"])
        if not isinstance(chapter, m.Chapter):
            return None
        return Finished(
            chapter=chapter,
            title=str(data["title"]),
            anchors=frozenset(str(a) for a in data["anchors"]),
            diagnostics=tuple(_diagnostic(item) for item in data["diagnostics"]),
            text=str(data["text"]),
            spans=tuple(Span(Unit(int(n), str(kind), int(line), bool(inline)), int(start), int(end))
                        for n, kind, line, inline, start, end in data["spans"]),  # fmt: skip
            volume=str(data["volume"]),
        )

    def to_data(self, finished: Finished) -> dict:
        return {
            "volume": finished.volume,
            "title": finished.title,
            "anchors": sorted(finished.anchors),
            "chapter": encode(finished.chapter),
            "diagnostics": [dataclasses.astuple(d) for d in finished.diagnostics],
            "text": finished.text,
            "spans": [[s.unit.number, s.unit.kind, s.unit.line, s.unit.inline, s.start, s.end] for s in finished.spans],
        }


def prune(volume_dir: Path, archive_ids: typing.Iterable[int]) -> None:
    """Drop the entries of posts no longer in the volume."""
    keep = {f"{i}{suffix}" for i in archive_ids for suffix in (PostCache.SUFFIX, ChapterCache.SUFFIX)}
    folder = volume_dir / CACHE_DIR
    for entry in folder.glob("*.json") if folder.is_dir() else ():
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
