"""series.yaml → frozen ``Manifest``; every mistake names its YAML line.

PyYAML's composed node tree keeps a line for each key and value, so validation
walks nodes rather than loaded dicts: unknown keys, wrong types and duplicate ids
are reported as ``series.yaml:LINE: message``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from bookgen.errors import ManifestError

TRADITIONAL_CONFIGS = ("s2t", "s2tw", "s2twp", "s2hk")
PAPER_SIZES = ("a4paper", "a5paper", "b5paper", "letterpaper", "16k")
VOLUME_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


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
    chapters: tuple[ChapterEntry, ...]
    line: int


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
            raise ManifestError(f"no volume named '{key}' (known: {known})", self.path, self.volumes_line)
        return self.volumes[key]


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
                raise self.fail(key_node, f"unknown key '{key}' in {what} (allowed: {known})")
            if key in out:
                raise self.fail(key_node, f"duplicate key '{key}' in {what}")
            out[key] = value_node
        for key, required in allowed.items():
            if required and key not in out:
                raise self.fail(node, f"{what} is missing the required key '{key}'")
        return out

    def string(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag.endswith(":null"):
            raise self.fail(node, f"{what} must be a string")
        return str(node.value)

    def integer(self, node: yaml.Node, what: str) -> int:
        if not isinstance(node, yaml.ScalarNode) or not re.fullmatch(r"[0-9]+", str(node.value)):
            raise self.fail(node, f"{what} must be an archive id (a whole number), not '{getattr(node, 'value', '')}'")
        return int(node.value)

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
    "chapters": True,
}


def load_manifest(path: Path) -> Manifest:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError("manifest not found (give one with --manifest FILE)", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"cannot read manifest: {exc}", path) from None
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ManifestError(f"invalid YAML: {problem}", path, line) from None
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
        if not VOLUME_KEY.match(key):
            raise reader.fail(key_node, f"volume name '{key}' must be letters, digits, '-' or '_'")
        if key in volumes:
            raise reader.fail(key_node, f"duplicate volume '{key}'")
        volumes[key] = _load_volume(reader, key, key_node, value_node)
    return Manifest(
        path=path.resolve(), sources=sources, images=images, volumes=volumes, volumes_line=volumes_node.start_mark.line
    )


def _load_volume(reader: _Reader, key: str, key_node: yaml.Node, node: yaml.Node) -> Volume:
    what = f"volume '{key}'"
    fields = reader.mapping(node, what, VOLUME_KEYS)

    def optional_string(name: str, default: str) -> str:
        return reader.string(fields[name], f"{name} of {what}") if name in fields else default

    paper = optional_string("paper", "a4paper")
    if paper not in PAPER_SIZES:
        raise reader.fail(fields["paper"], f"paper must be one of {', '.join(PAPER_SIZES)}, not '{paper}'")
    traditional = optional_string("traditional", "none")
    if traditional not in TRADITIONAL_CONFIGS + ("none",):
        raise reader.fail(
            fields["traditional"],
            f"traditional must be one of {', '.join(TRADITIONAL_CONFIGS)} or none, not '{traditional}'",
        )
    phrases = None
    if "phrases" in fields:
        phrases = (reader.path.parent / reader.string(fields["phrases"], f"phrases of {what}")).resolve()
    chapters = _load_chapters(reader, what, fields["chapters"])
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
    )


def _load_chapters(reader: _Reader, what: str, node: yaml.Node) -> tuple[ChapterEntry, ...]:
    entries: list[ChapterEntry] = []
    seen: dict[int, int] = {}
    for item in reader.sequence(node, f"chapters of {what}"):
        line = item.start_mark.line + 1
        if isinstance(item, yaml.MappingNode):
            fields = reader.mapping(item, f"a chapter of {what}", {"id": True, "title": False})
            archive_id = reader.integer(fields["id"], "id")
            title = reader.string(fields["title"], "title") if "title" in fields else None
        else:
            archive_id, title = reader.integer(item, f"a chapter of {what}"), None
        if archive_id in seen:
            raise ManifestError(
                f"duplicate id {archive_id} in {what} (first listed on line {seen[archive_id]})", reader.path, line
            )
        seen[archive_id] = line
        entries.append(ChapterEntry(archive_id, title, line))
    if not entries:
        raise reader.fail(node, f"{what} has no chapters")
    return tuple(entries)
