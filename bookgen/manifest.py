"""series.yaml → frozen ``Manifest``; every mistake names its YAML line.

PyYAML's composed node tree keeps a line for each key and value, so validation
walks nodes rather than loaded dicts: unknown keys, wrong types and duplicate ids
are reported as ``series.yaml:LINE: message``, with the manifest's path as the
user gave it.  A message quotes only scalar values, shortened: never a node (the
repr of a node reached through aliases can be a billion nodes long).  The tree is
only built for a manifest of at most 1 MB, without aliases and nested at most 16
deep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from bookgen.errors import ManifestError
from bookgen.sources import MAX_ID_DIGITS, archive_id_from

TRADITIONAL_CONFIGS = ("s2t", "s2tw", "s2twp", "s2hk")
PAPER_SIZES = ("a4paper", "a5paper", "b5paper", "letterpaper", "16k")
CHAPTER_TITLES = ("short", "full")  # a chapter titled by its subtitle in its series, or by the post's whole title
# A volume's name is a folder, a file name and a word in main.tex: checked whole (re.fullmatch; `$`
# would let "t\n" through) and short enough for a file name.
VOLUME_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
MAX_MANIFEST_BYTES = 1 << 20  # a manifest lists volumes and ids: a few KB
MAX_DEPTH = 16  # series.yaml needs 5 levels; PyYAML's composer recurses once per level
SHOWN_CHARACTERS = 40  # of a value quoted in a message


@dataclass(frozen=True)
class ChapterEntry:
    id: int
    title: str | None
    line: int


@dataclass(frozen=True)
class Volume:
    key: str
    title: str
    subtitle: str
    author: str
    paper: str
    traditional: str | None
    phrases: Path | None
    sources: tuple[Path, ...]
    images: tuple[Path, ...]
    chapters: tuple[ChapterEntry, ...]  # empty for a `series:` volume until bookgen.series.resolve fills it
    line: int
    series: str | None = None  # `series: NAME`: every post of that series, in series order
    series_line: int = 0
    chapter_titles: str = "full"  # "short" (the default of a series volume) or "full"


@dataclass(frozen=True)
class Manifest:
    path: Path
    sources: tuple[Path, ...]
    images: tuple[Path, ...]
    volumes: dict[str, Volume]
    volumes_line: int = 1

    def volume(self, key: str) -> Volume:
        if key not in self.volumes:
            known = ", ".join(self.volumes)
            raise ManifestError(f"no volume named {quoted(key)} (known: {known})", self.path, self.volumes_line)
        return self.volumes[key]


def quoted(value: object) -> str:
    """A value for a message: ``'a3paper'``; a long one shortened (``'xxxx…'``), a node never printed."""
    if isinstance(value, yaml.Node) and not isinstance(value, yaml.ScalarNode):
        return "a list" if isinstance(value, yaml.SequenceNode) else "a mapping"
    text = str(value.value if isinstance(value, yaml.ScalarNode) else value)
    return f"'{text[:SHOWN_CHARACTERS]}…'" if len(text) > SHOWN_CHARACTERS else f"'{text}'"


class _Refused(Exception):
    """Raised from inside the composer, caught in ``compose``: a ManifestError needs the manifest's path."""

    def __init__(self, message: str, mark: yaml.Mark):
        super().__init__(message)
        self.message, self.line = message, mark.line + 1


class _ComposerWithoutAliases(yaml.SafeLoader):
    """PyYAML's composer, stopping at the first alias or at nesting deeper than ``MAX_DEPTH``.

    series.yaml needs no aliases, and ``chapters: [*i]`` over nine levels of nine aliases
    each is a tree of 9⁹ nodes wherever anything walks or prints it.
    """

    depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise _Refused("aliases (*name) are not allowed in series.yaml", self.peek_event().start_mark)
        if self.depth >= MAX_DEPTH:
            raise _Refused(f"nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def compose(text: str, path: Path) -> yaml.Node | None:
    """The manifest's node tree (None when empty); a ManifestError at the line of bad YAML, an alias, deep nesting."""
    loader = _ComposerWithoutAliases(text)
    try:
        return loader.get_single_node()
    except _Refused as refused:
        raise ManifestError(refused.message, path, refused.line) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ManifestError(f"invalid YAML: {problem}", path, line) from None
    finally:
        loader.dispose()


class _Reader:
    """Typed accessors over YAML nodes that raise with the node's line."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, node: yaml.Node, message: str) -> ManifestError:
        return ManifestError(message, self.path, node.start_mark.line + 1)

    def mapping(self, node: yaml.Node, what: str, allowed: dict[str, bool]) -> dict[str, yaml.Node]:
        """Key → value node; ``allowed`` maps each known key to whether it is required."""
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key not in allowed:
                known = ", ".join(allowed)
                raise self.fail(key_node, f"unknown key {quoted(key_node)} in {what} (allowed: {known})")
            if key in out:
                raise self.fail(key_node, f"duplicate key {quoted(key)} in {what}")
            out[key] = value_node
        for key, required in allowed.items():
            if required and key not in out:
                raise self.fail(node, f"{what} is missing the required key '{key}'")
        return out

    def string(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag.endswith(":null"):
            raise self.fail(node, f"{what} must be a string")
        return str(node.value)

    def archive_id(self, node: yaml.Node) -> int:
        archive_id = archive_id_from(str(node.value)) if isinstance(node, yaml.ScalarNode) else None
        if archive_id is None:
            message = f"archive id must be a whole number of at most {MAX_ID_DIGITS} digits, not {quoted(node)}"
            raise self.fail(node, message)
        return archive_id

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{what} must be a list")
        return list(node.value)

    def paths(self, node: yaml.Node, what: str) -> tuple[Path, ...]:
        # Relative to the manifest, not resolved: messages show `demo/posts/90001.md`.
        base = self.path.parent
        return tuple(base / self.string(item, f"an entry of {what}") for item in self.sequence(node, what))


VOLUME_KEYS = {
    "title": True,
    "subtitle": False,
    "author": False,
    "paper": False,
    "traditional": False,
    "phrases": False,
    "sources": False,
    "images": False,
    "chapter_titles": False,
    "series": False,  # a volume has `chapters:` or `series:` (checked in _load_volume)
    "chapters": False,
}


def read_manifest_text(path: Path) -> str:
    """The manifest's text; an error for a missing, unreadable or oversized file (read no further than 1 MB)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_MANIFEST_BYTES + 1)
    except FileNotFoundError:
        raise ManifestError("manifest not found (give one with --manifest FILE)", path) from None
    except OSError as exc:
        raise ManifestError(f"cannot read manifest: {exc.strerror or exc}", path) from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError(f"manifest is larger than {MAX_MANIFEST_BYTES >> 20} MB (it lists volumes and ids)", path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ManifestError(f"not valid UTF-8 (byte {exc.start})", path, line) from None


def load_manifest(path: Path) -> Manifest:
    path = Path(path)  # as given: messages say `series.yaml:7:`, not the absolute path
    return parse_manifest(read_manifest_text(path), path)


def parse_manifest(text: str, path: Path) -> Manifest:
    """The manifest ``text`` (read from, or about to be written to, ``path``), validated."""
    root = compose(text, path)
    reader = _Reader(path)
    if root is None:
        raise ManifestError("manifest is empty", path, 1)
    top = reader.mapping(root, "the manifest", {"sources": False, "images": False, "volumes": True})
    sources = reader.paths(top["sources"], "sources") if "sources" in top else ()
    images = reader.paths(top["images"], "images") if "images" in top else ()
    volumes_node = top["volumes"]
    if not isinstance(volumes_node, yaml.MappingNode):
        raise reader.fail(volumes_node, "volumes must be a mapping of short names to volumes")
    volumes: dict[str, Volume] = {}
    for key_node, value_node in volumes_node.value:
        key = reader.string(key_node, "a volume name")
        if not VOLUME_KEY.fullmatch(key):
            rule = "must be letters, digits, '-' or '_' (at most 64, the first a letter or digit)"
            raise reader.fail(key_node, f"volume name {quoted(key)} {rule}")
        if key in volumes:
            raise reader.fail(key_node, f"duplicate volume {quoted(key)}")
        volumes[key] = _load_volume(reader, key, key_node, value_node)
    volumes_line = next(key.start_mark.line + 1 for key, value in root.value if value is volumes_node)
    return Manifest(path=path, sources=sources, images=images, volumes=volumes, volumes_line=volumes_line)


def _load_volume(reader: _Reader, key: str, key_node: yaml.Node, node: yaml.Node) -> Volume:
    what = f"volume '{key}'"
    fields = reader.mapping(node, what, VOLUME_KEYS)

    def optional_string(name: str, default: str) -> str:
        return reader.string(fields[name], f"{name} of {what}") if name in fields else default

    paper = optional_string("paper", "a4paper")
    if paper not in PAPER_SIZES:
        raise reader.fail(fields["paper"], f"paper must be one of {', '.join(PAPER_SIZES)}, not {quoted(paper)}")
    traditional = optional_string("traditional", "none")
    if traditional not in TRADITIONAL_CONFIGS + ("none",):
        raise reader.fail(
            fields["traditional"],
            f"traditional must be one of {', '.join(TRADITIONAL_CONFIGS)} or none, not {quoted(traditional)}",
        )
    phrases = None
    if "phrases" in fields:
        phrases = (reader.path.parent / reader.string(fields["phrases"], f"phrases of {what}")).resolve()
    series, series_line, chapters = _series_or_chapters(reader, what, node, fields)
    chapter_titles = optional_string("chapter_titles", "short" if series else "full")
    if chapter_titles not in CHAPTER_TITLES:
        message = f"chapter_titles must be {' or '.join(CHAPTER_TITLES)}, not {quoted(chapter_titles)}"
        raise reader.fail(fields["chapter_titles"], message)
    return Volume(
        key=key,
        title=reader.string(fields["title"], f"title of {what}"),
        subtitle=optional_string("subtitle", ""),
        author=optional_string("author", "苏剑林"),
        paper=paper,
        traditional=None if traditional == "none" else traditional,
        phrases=phrases,
        sources=reader.paths(fields["sources"], f"sources of {what}") if "sources" in fields else (),
        images=reader.paths(fields["images"], f"images of {what}") if "images" in fields else (),
        chapters=chapters,
        line=key_node.start_mark.line + 1,
        series=series,
        series_line=series_line,
        chapter_titles=chapter_titles,
    )


def _series_or_chapters(reader: _Reader, what: str, node: yaml.Node, fields: dict[str, yaml.Node]):
    """(series name, its line, ()) for ``series: NAME``; (None, 0, chapters) for ``chapters: [...]``; one, not both."""
    if "series" in fields and "chapters" in fields:
        second = max(fields["series"], fields["chapters"], key=lambda n: n.start_mark.index)
        message = (
            f"{what} has both series: and chapters: (series: takes every post of the series, "
            "chapters: lists them by hand; keep one)"
        )
        raise reader.fail(second, message)
    if "series" in fields:
        name = reader.string(fields["series"], f"series of {what}").strip()
        if not name:
            raise reader.fail(fields["series"], f"series of {what} must name a series of the blog")
        return name, fields["series"].start_mark.line + 1, ()
    if "chapters" not in fields:
        raise reader.fail(node, f"{what} is missing the required key 'chapters' (or 'series')")
    return None, 0, _load_chapters(reader, what, fields["chapters"])


def _load_chapters(reader: _Reader, what: str, node: yaml.Node) -> tuple[ChapterEntry, ...]:
    entries: list[ChapterEntry] = []
    seen: dict[int, int] = {}
    for item in reader.sequence(node, f"chapters of {what}"):
        line = item.start_mark.line + 1
        if isinstance(item, yaml.MappingNode):
            fields = reader.mapping(item, f"a chapter of {what}", {"id": True, "title": False})
            archive_id = reader.archive_id(fields["id"])
            title = reader.string(fields["title"], "title") if "title" in fields else None
        else:
            archive_id, title = reader.archive_id(item), None
        if archive_id in seen:
            raise ManifestError(
                f"duplicate id {archive_id} in {what} (first listed on line {seen[archive_id]})", reader.path, line
            )
        seen[archive_id] = line
        entries.append(ChapterEntry(archive_id, title, line))
    if not entries:
        raise reader.fail(node, f"{what} has no chapters")
    return tuple(entries)
