"""A hostile series.yaml is refused in one line, fast, before its tree is built (issue 9, hole 7).

``chapters: [*i]`` over nine levels of nine aliases is a tree of 9⁹ nodes: the error message
formatted the node's repr, a minute of work and then MemoryError.  One change to the manifest
reader closes the class: the composer refuses aliases (series.yaml needs none) and nesting deeper
than 16 (PyYAML's composer recurses: 100 000 ``[`` was a RecursionError), a manifest over 1 MB is
refused before it is parsed, and a message quotes only scalar values, shortened (``quoted``).
Messages also keep the manifest's path as the user gave it, and the line of ``volumes:`` is 1-based.
"""

from __future__ import annotations

import pytest

from harness import assert_clean_outcome, header, make_book, run_build

GOOD_VOLUME = "volumes:\n  h:\n    title: T\n    chapters: [98301]\n"


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """``title: [&a [x…], &b [*a…], …]`` then ``chapters: [*i]``: a tree of width**levels nodes."""
    names = "abcdefghijklmnopqrstuvwxyz"[:levels]
    anchors = [f"&a [{', '.join(['x'] * width)}]"]
    for previous, name in zip(names, names[1:]):
        anchors.append(f"&{name} [{', '.join([f'*{previous}'] * width)}]")
    return f"volumes:\n  h:\n    title: [{', '.join(anchors)}]\n    chapters: [*{names[-1]}]\n"


def build_with_manifest(tmp_path, text: str | bytes, *extra: str, timeout: float = 60):
    book = make_book(tmp_path, {"98301.md": header(98301, "t") + "正文。\n"})
    data = text.encode("utf-8") if isinstance(text, str) else text
    (book.root / "series.yaml").write_bytes(data)
    result = run_build(book, "--tex-only", "--manifest", "series.yaml", *extra, timeout=timeout)
    assert_clean_outcome(result, book)
    assert not book.out.exists()
    return result


def test_an_alias_bomb_is_refused_at_its_first_alias(tmp_path):
    # On the old reader this runs until the timeout kills it (or MemoryError); refused, it takes a second.
    result = build_with_manifest(tmp_path, alias_bomb(), timeout=30)
    assert result.code == 1, result.stderr
    assert result.stderr_lines == ["series.yaml:3: aliases (*name) are not allowed in series.yaml"]


def test_a_harmless_alias_is_refused_too(tmp_path):
    text = "volumes:\n  h:\n    title: &t T\n    subtitle: *t\n    chapters: [98301]\n"
    result = build_with_manifest(tmp_path, text)
    assert result.stderr_lines == ["series.yaml:4: aliases (*name) are not allowed in series.yaml"]


def test_a_manifest_over_one_megabyte_is_refused(tmp_path):
    result = build_with_manifest(tmp_path, GOOD_VOLUME + "# " + "x" * (1 << 21) + "\n")
    assert result.code == 1, result.stderr
    assert result.stderr_lines == ["series.yaml: manifest is larger than 1 MB (it lists volumes and ids)"]


def test_deep_nesting_is_refused(tmp_path):
    result = build_with_manifest(tmp_path, "volumes:\n  h:\n    title: T\n    chapters: " + "[" * 100_000 + "]" * 100_000)
    assert result.code == 1, result.stderr
    assert result.stderr_lines == ["series.yaml:4: nested more than 16 levels deep"]


@pytest.mark.parametrize(
    "text,line,start",
    [
        (GOOD_VOLUME.replace("[98301]", "[[98301, [1, 2]]]"), 4, "archive id must be a whole number of at most 9 digits, not a list"),
        (GOOD_VOLUME.replace("[98301]", "[{id: {a: 1}}]"), 4, "archive id must be a whole number of at most 9 digits, not a mapping"),
        (GOOD_VOLUME + "    paper: " + "p" * 100_000 + "\n", 5, "paper must be one of"),
        (GOOD_VOLUME + "    traditional: " + "t" * 100_000 + "\n", 5, "traditional must be one of"),
        (GOOD_VOLUME + "    " + "k" * 1000 + ": 1\n", 5, "unknown key 'kkkk"),  # YAML keys: 1024 at most
        (GOOD_VOLUME + "    [1, 2]: 1\n", 5, "unknown key a list"),
        (GOOD_VOLUME + "  " + "v" * 1000 + ":\n    title: T\n    chapters: [98301]\n", 5, "volume name 'vvvv"),
    ],
    ids=["a list as an id", "a mapping as an id", "long paper", "long traditional", "long key", "list as a key",
         "long volume name"],
)  # fmt: skip
def test_messages_quote_only_short_scalars(tmp_path, text, line, start):
    result = build_with_manifest(tmp_path, text)
    assert result.code == 1, result.stderr
    message = result.stderr_lines[0]
    assert message.startswith(f"series.yaml:{line}: {start}"), message[:300]
    assert "Node(" not in message and len(message) < 300, message[:300]


def test_errors_name_the_manifest_as_given(tmp_path):
    """``post not found`` (found after the manifest was read) says ``series.yaml:4:``, not an absolute path."""
    result = build_with_manifest(tmp_path, GOOD_VOLUME.replace("[98301]", "[98301, 98302]"))
    assert result.code == 1, result.stderr
    assert result.stderr_lines[0].startswith("series.yaml:4: volume 'h': post 98302 not found"), result.stderr


def test_an_unknown_volume_points_at_the_volumes_line(tmp_path):
    book = make_book(tmp_path, {"98301.md": header(98301, "t") + "正文。\n"})
    (book.root / "series.yaml").write_text("# a comment\n" + GOOD_VOLUME, encoding="utf-8")
    result = run_build(book, "nope", "--tex-only", "--manifest", "series.yaml")
    assert_clean_outcome(result, book)
    assert result.stderr_lines == ["series.yaml:2: no volume named 'nope' (known: h)"]


def test_an_unknown_volume_name_is_shortened(tmp_path):
    book = make_book(tmp_path, {"98301.md": header(98301, "t") + "正文。\n"})
    result = run_build(book, "n" * 5000, "--tex-only")
    assert_clean_outcome(result, book)
    assert result.code == 1 and len(result.stderr) < 300, result.stderr[:300]


@pytest.mark.parametrize("name", ["/dev/zero", "."])
def test_a_manifest_that_is_no_file(tmp_path, name):
    book = make_book(tmp_path, {"98301.md": header(98301, "t") + "正文。\n"})
    result = run_build(book, "--tex-only", "--manifest", name, timeout=60)
    assert_clean_outcome(result, book)
    assert result.code == 1, result.stderr


def test_a_manifest_that_is_not_utf8_names_the_line(tmp_path):
    result = build_with_manifest(tmp_path, GOOD_VOLUME.encode("utf-8").replace(b"T\n", b"\xff\xfe\n"))
    assert result.stderr_lines == ["series.yaml:3: not valid UTF-8 (byte 25)"]
