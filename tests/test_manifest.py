"""Bad manifests: one `series.yaml:LINE: message` line on stderr, exit 1, no traceback, build/ untouched.

Each case writes a small book (two posts of our own) into a temporary folder,
builds it once with a good manifest (so --out holds a previous build), then
breaks the manifest and runs a command; the --out folder must be byte for byte
what it was.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from bookgen.errors import ManifestError
from bookgen.manifest import load_manifest
from fixtures import GOOD_MANIFEST, snapshot, write_book

GOOD = GOOD_MANIFEST  # the small book's series.yaml, which each case below breaks


@pytest.fixture
def book(tmp_path, run_cli) -> Path:
    """A book whose --out folder (out/) holds a good --tex-only build."""
    root = write_book(tmp_path / "book")
    result = run_cli("build", "--tex-only", "--out", "out", cwd=root)
    assert result.code == 0, result.stderr
    assert (root / "out" / "small" / "posts" / "95001.tex").is_file()
    return root


# (name, manifest text, line of the error, a piece of the message)
BAD_MANIFESTS = [
    ("bad YAML", "volumes:\n  small:\n    title: \"unclosed\n    chapters: [95001]\n", None, "invalid YAML"),
    ("bad YAML indentation", "volumes:\n  small:\n    title: x\n   chapters: [95001]\n", 4, "invalid YAML"),
    ("tab in YAML", "volumes:\n\tsmall:\n    title: x\n", 2, "invalid YAML"),
    ("empty manifest", "", 1, "manifest is empty"),
    ("top level not a mapping", "- 95001\n", 1, "must be a mapping"),
    ("unknown top-level key", "sources: [posts]\nvolume:\n  small:\n    title: x\n", 2, "unknown key 'volume'"),
    ("missing volumes", "sources: [posts]\n", 1, "required key 'volumes'"),
    ("volumes not a mapping", "volumes: [small]\n", 1, "volumes must be a mapping"),
    ("unknown volume key", GOOD.replace("    subtitle: 测试用\n", "    subtitel: 测试用\n"), 5, "unknown key 'subtitel'"),
    ("unknown chapter key", GOOD.replace("        title: 改过的标题", "        titel: 改过的标题"), 13, "unknown key 'titel'"),
    ("volume missing title", "volumes:\n  small:\n    chapters: [95001]\n", 3, "required key 'title'"),
    ("volume missing chapters", "volumes:\n  small:\n    title: x\n", 3, "required key 'chapters'"),
    ("title as a list", GOOD.replace("    title: 小书\n", "    title: [小书]\n"), 4, "title of volume 'small' must be a string"),
    ("title empty", GOOD.replace("    title: 小书\n", "    title:\n"), 4, "must be a string"),
    ("chapters not a list", GOOD.replace("chapters: [95001, 95002]", "chapters: 95001"), 8, "must be a list"),
    ("chapters a mapping", GOOD.replace("chapters: [95001, 95002]", "chapters: {a: 1}"), 8, "must be a list"),
    ("empty chapters", GOOD.replace("chapters: [95001, 95002]", "chapters: []"), 8, "has no chapters"),
    ("id not a number", GOOD.replace("[95001, 95002]", "[95001, abc]"), 8, "archive id"),
    ("negative id", GOOD.replace("[95001, 95002]", "[95001, -3]"), 8, "archive id"),
    ("id key not a number", GOOD.replace("      - id: 95002\n", "      - id: x95002\n"), 12, "archive id"),
    ("chapter missing id", GOOD.replace("      - id: 95002\n        title", "      - title"), 12, "required key 'id'"),
    ("duplicate id", GOOD.replace("[95001, 95002]", "[95001,\n               95002, 95001]"), 9,
     "duplicate id 95001"),
    ("duplicate volume", GOOD + "  small:\n    title: again\n    chapters: [95001]\n", 14, "duplicate volume 'small'"),
    ("duplicate key in a volume", GOOD.replace("    author: 测试\n", "    author: 测试\n    title: 又一个\n"), 7,
     "duplicate key 'title'"),
    ("bad volume name", GOOD.replace("  other:", "  other one:"), 9, "volume name 'other one'"),
    ("bad paper", GOOD.replace("a5paper", "a3paper"), 7, "paper must be one of"),
    ("bad traditional", GOOD.replace("    paper: a5paper\n", "    paper: a5paper\n    traditional: zh-tw\n"), 8,
     "traditional must be one of"),
    ("sources not a list", GOOD.replace("sources: [posts]", "sources: posts"), 1, "sources must be a list"),
]  # fmt: skip


@pytest.mark.parametrize("name,text,line,message", BAD_MANIFESTS, ids=[c[0] for c in BAD_MANIFESTS])
@pytest.mark.parametrize("command", ["build", "list", "check"])
def test_bad_manifest(book, run_cli, command, name, text, line, message):
    (book / "series.yaml").write_text(text, encoding="utf-8")
    before = snapshot(book / "out")
    args = [command] if command == "list" else [command, "--out", "out"]
    if command == "build":
        args.append("--tex-only")
    result = run_cli(*args, cwd=book)
    assert result.exception is None, f"traceback: {result.exception!r}"
    assert result.code == 1, (result.code, result.stderr)
    assert len(result.stderr_lines) == 1, result.stderr
    error = result.stderr_lines[0]
    assert "Traceback" not in result.stderr
    where = r"series\.yaml:(\d+): " if line is not None else r"series\.yaml:\d+: "
    found = re.match(r"^(?:\S*/)?" + where, error)
    assert found, f"not `series.yaml:LINE: message`: {error!r}"
    if line is not None:
        assert int(found.group(1)) == line, error
    assert message in error
    assert snapshot(book / "out") == before


def test_bad_manifest_without_previous_build_creates_nothing(tmp_path, run_cli):
    root = write_book(tmp_path / "book", GOOD.replace("chapters: [95001, 95002]", "chapters: 95001"))
    result = run_cli("build", "--out", "out", cwd=root)
    assert result.code == 1 and len(result.stderr_lines) == 1
    assert not (root / "out").exists()


def test_missing_manifest(tmp_path, run_cli):
    result = run_cli("build", "--out", "out", cwd=tmp_path)
    assert result.code == 1
    assert result.stderr_lines == ["series.yaml: manifest not found (give one with --manifest FILE)"]
    result = run_cli("list", "--manifest", tmp_path / "nope.yaml", cwd=tmp_path)
    assert result.code == 1 and result.stderr_lines[0].startswith(f"{tmp_path / 'nope.yaml'}: ")
    assert not (tmp_path / "out").exists()


def test_manifest_not_utf8(tmp_path, run_cli):
    root = write_book(tmp_path / "book")
    (root / "series.yaml").write_bytes(GOOD.encode("utf-8").replace("小书".encode(), b"\xff\xfe"))
    result = run_cli("list", cwd=root)
    assert result.code == 1 and len(result.stderr_lines) == 1
    assert result.stderr_lines[0].startswith("series.yaml")
    assert result.exception is None


def test_manifest_is_a_directory(tmp_path, run_cli):
    (tmp_path / "series.yaml").mkdir()
    result = run_cli("list", cwd=tmp_path)
    assert result.code == 1 and len(result.stderr_lines) == 1 and result.exception is None
    assert result.stderr_lines[0].startswith("series.yaml")


# ---------------------------------------------------------------- the loaded manifest


def test_good_manifest_loads(tmp_path):
    root = write_book(tmp_path)
    manifest = load_manifest(root / "series.yaml")
    assert list(manifest.volumes) == ["small", "other"]
    small = manifest.volumes["small"]
    assert (small.title, small.subtitle, small.author, small.paper) == ("小书", "测试用", "测试", "a5paper")
    assert [c.id for c in small.chapters] == [95001, 95002]
    assert [c.line for c in small.chapters] == [8, 8]
    assert small.line == 3
    other = manifest.volumes["other"]
    assert (other.author, other.paper, other.traditional) == ("苏剑林", "a4paper", None)
    assert [(c.id, c.title, c.line) for c in other.chapters] == [(95002, "改过的标题", 12)]
    assert manifest.sources == ((root / "posts").resolve(),)


def test_repository_manifest_loads():
    manifest = load_manifest(Path(__file__).resolve().parents[1] / "series.yaml")
    assert "demo" in manifest.volumes
    assert [c.id for c in manifest.volumes["demo"].chapters] == [90001, 90002, 90003, 90004]
    ids = [c.id for v in manifest.volumes.values() if v.key != "demo" for c in v.chapters]
    assert len(ids) == 57


def test_unknown_volume_raises_manifest_error(tmp_path):
    manifest = load_manifest(write_book(tmp_path) / "series.yaml")
    with pytest.raises(ManifestError, match="no volume named 'nope'"):
        manifest.volume("nope")


def test_flow_and_block_chapter_lists_give_each_entry_its_line(tmp_path):
    text = textwrap.dedent("""\
        volumes:
          v:
            title: x
            chapters:
              - 95001
              - id: 95002
                title: y
        """)  # fmt: skip
    manifest = load_manifest(write_book(tmp_path, text) / "series.yaml")
    assert [(c.id, c.line) for c in manifest.volumes["v"].chapters] == [(95001, 5), (95002, 6)]
