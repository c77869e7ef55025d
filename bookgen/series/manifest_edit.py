"""``bookgen add``: a volume appended to series.yaml, every byte already there kept.

A round-trip YAML library (ruamel.yaml) re-emits the whole file: it keeps the
comments, but reflows ``chapters: [8231, 8265, …]`` spread over two lines and
leaves trailing spaces — a diff of lines the user never touched.  So the new
volume is written as text and spliced in after the last line of the
``volumes:`` mapping (found from the composed node tree, which knows where
every node ends), indented like the volumes already there; the result is
validated as a whole (``parse_manifest``) before it replaces the file
atomically.  The chapters are an explicit list, one id a line with the post's
title in a comment, so the manifest stays reviewable and a new chapter is a
one-line diff.

Without a series.yaml, a new one is written: ``sources:`` the cache folder
``bookgen fetch`` saves pages in, so ``bookgen add NAME --online && bookgen
fetch && bookgen build`` works from an empty folder.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from bookgen.diagnostics import printable
from bookgen.errors import ManifestError, UserError
from bookgen.manifest import VOLUME_KEY, Manifest, compose, parse_manifest, read_manifest_text

NEW_MANIFEST = """\
# bookgen's manifest: volumes keyed by a short name, chapters by archive id.
# Written by `bookgen add`; every key is described in bookgen's README, "series.yaml".
sources: [{cache}]{cache_comment}
images: [{cache}]

volumes:
"""
CACHE_COMMENT = "  # where `bookgen fetch` saves the posts' pages (and, below it, their images)"
COMMENT_CHARACTERS = 100  # of a post's title in the comment beside its id
_NEEDS_ESCAPE = re.compile("[\\\\\"\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


@dataclass(frozen=True)
class NewVolume:
    key: str
    title: str
    subtitle: str
    series: str  # the series' name, for the comment above the chapters
    chapters: tuple[tuple[int, str], ...]  # (archive id, the post's title)


def volume_key_for(name: str, first_id: int) -> str:
    """A short name from the series' Latin letters (``Transformer升级之路`` → ``transformer``), else ``series-ID``."""
    words = re.findall(r"[A-Za-z0-9]+", unicodedata.normalize("NFKC", name))
    key = "-".join(word.lower() for word in words)[:48].strip("-")
    return key if len(key) >= 2 and VOLUME_KEY.fullmatch(key) else f"series-{first_id}"


def add_volume(path: Path, volume: NewVolume, cache_dir: Path) -> Manifest:
    """Append ``volume`` to the manifest at ``path`` (made, with ``cache_dir`` as its sources, if missing).

    Raises ``ManifestError`` (nothing written) for an invalid manifest, a volume
    name that exists, or a ``volumes:`` mapping written in flow style.
    """
    if path.exists():
        text = read_manifest_text(path)
        manifest = parse_manifest(text, path)
        if volume.key in manifest.volumes:
            raise ManifestError(
                f"volume '{volume.key}' exists already (name the new one with --key KEY)",
                path,
                manifest.volumes[volume.key].line,
            )
        new_text = _spliced(text, path, volume)
    else:
        new_text = _new_manifest(path, volume, cache_dir)
    manifest = parse_manifest(new_text, path)  # what is written is a valid manifest, with this volume as meant
    written = manifest.volumes.get(volume.key)
    if written is None or [c.id for c in written.chapters] != [i for i, _ in volume.chapters] or written.title != volume.title:
        raise RuntimeError(f"bookgen add: the volume written is not the one meant ({volume.key})")
    _write_atomically(path, new_text)
    return manifest


def _new_manifest(path: Path, volume: NewVolume, cache_dir: Path) -> str:
    cache = Path(os.path.relpath(cache_dir.absolute(), path.absolute().parent)).as_posix()
    text = NEW_MANIFEST.format(cache=yaml_scalar(cache, flow=True), cache_comment=CACHE_COMMENT)
    return text + volume_text(volume, "  ", "    ", "\n")


def _spliced(text: str, path: Path, volume: NewVolume) -> str:
    """``text`` with ``volume`` inserted after the last line of its ``volumes:`` mapping."""
    root = compose(text, path)
    volumes = next(value for key, value in root.value if key.value == "volumes")
    if not isinstance(volumes, yaml.MappingNode) or volumes.flow_style or not volumes.value:
        line = volumes.start_mark.line + 1
        raise ManifestError("volumes is written in flow style ({…}): add the volume by hand", path, line)
    first_key, first_value = volumes.value[0]
    key_indent = " " * first_key.start_mark.column
    field_column = first_key.start_mark.column + 2
    if isinstance(first_value, yaml.MappingNode) and not first_value.flow_style and first_value.value:
        field_column = first_value.value[0][0].start_mark.column
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    at = _comments_kept_with(lines, _line_after(volumes), first_key.start_mark.column)
    before = lines[:at]
    if before and not before[-1].endswith(("\n", "\r")):
        before[-1] += newline
    block = volume_text(volume, key_indent, " " * field_column, newline)
    return "".join(before) + newline + block + "".join(lines[at:])


def _line_after(node: yaml.Node) -> int:
    """The index of the first line after ``node``'s last value (block collections end where the next thing starts)."""
    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.value and not node.flow_style:
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    end = node.end_mark
    # A block scalar (| or >) ends at the start of the line after it; anything else within its last line.
    if end.column == 0 and end.line > node.start_mark.line:
        return end.line
    return end.line + 1


def _comments_kept_with(lines: list[str], at: int, key_column: int) -> int:
    """Past the comment lines after the last volume indented like its fields: they are that volume's."""
    index = at
    while index < len(lines):
        stripped = lines[index].strip()
        if stripped.startswith("#") and len(lines[index]) - len(lines[index].lstrip()) > key_column:
            at = index = index + 1
        elif not stripped:
            index += 1
        else:
            break
    return at


def volume_text(volume: NewVolume, key_indent: str, field_indent: str, newline: str) -> str:
    """The volume as series.yaml lines: title, subtitle, chapter_titles: short, one chapter a line."""
    width = max(len(str(archive_id)) for archive_id, _ in volume.chapters)
    about = comment_text(f"series {volume.series}, in series order (bookgen add)")
    lines = [
        f"{key_indent}{volume.key}:",
        f"{field_indent}title: {yaml_scalar(volume.title)}",
        *([f"{field_indent}subtitle: {yaml_scalar(volume.subtitle)}"] if volume.subtitle else []),
        f"{field_indent}chapter_titles: short",
        f"{field_indent}chapters:  # {about}",
        *(f"{field_indent}  - {archive_id:<{width}}  # {comment_text(title)}" for archive_id, title in volume.chapters),
    ]
    return newline.join(lines) + newline


def comment_text(text: str) -> str:
    """Text safe in a YAML comment: one line (YAML ends a comment at NEL and U+2028 too), controls escaped, short."""
    shown = printable(" ".join(text.split()))
    return shown if len(shown) <= COMMENT_CHARACTERS else shown[: COMMENT_CHARACTERS - 1] + "…"


def yaml_scalar(text: str, flow: bool = False) -> str:
    """``text`` as a YAML scalar: plain when YAML reads it back as the same string, else double-quoted.

    ``flow``: the scalar goes inside ``[…]``, where a plain ``,`` ``[`` ``]`` ``{`` ``}`` would end it.
    """
    try:
        plain = text == text.strip() and "\n" not in text and yaml.safe_load(text) == text
    except yaml.YAMLError:
        plain = False
    if flow and any(char in text for char in ",[]{}#"):
        plain = False
    if plain and not _NEEDS_ESCAPE.search(text):
        return text
    return '"' + _NEEDS_ESCAPE.sub(lambda m: _escape(m.group(0)), text) + '"'


def _escape(char: str) -> str:
    return {"\\": "\\\\", '"': '\\"'}.get(char) or f"\\u{ord(char):04x}"


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in its folder (keeping the file's mode), then rename."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        mode = path.stat().st_mode & 0o7777 if path.exists() else None
        temporary.write_bytes(text.encode("utf-8"))
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as exc:
        raise UserError(f"cannot write the manifest: {exc.strerror or exc}", path) from None
    finally:
        if temporary.exists():
            temporary.unlink()
