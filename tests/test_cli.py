"""The command line: bad sources and arguments, --help, list, check.

Every bad input gives one `file:line: message` (or `file: message` when there is
no line to point at) on stderr, exit 1, no traceback, and leaves --out exactly
as it was.  Manifest mistakes are in test_manifest.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from bookgen.cli import main
from fixtures import GOOD_MANIFEST, REPO_DIR, snapshot, write_book

LOCATED = re.compile(r"^(?P<file>[^:]+?)(?::(?P<line>\d+))?: (?P<message>.+)$")


@pytest.fixture
def book(tmp_path, run_cli) -> Path:
    root = write_book(tmp_path / "book")
    result = run_cli("build", "--tex-only", "--out", "out", cwd=root)
    assert result.code == 0, result.stderr
    return root


def assert_one_error(result, file_suffix: str, message: str, line: int | None = None, code: int = 1):
    assert result.exception is None, f"traceback: {result.exception!r}"
    assert result.code == code, (result.code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert len(result.stderr_lines) == 1, result.stderr
    found = LOCATED.match(result.stderr_lines[0])
    assert found, result.stderr_lines[0]
    assert found["file"].endswith(file_suffix), result.stderr_lines[0]
    if line is not None:
        assert found["line"] is not None and int(found["line"]) == line, result.stderr_lines[0]
    assert message in found["message"], result.stderr_lines[0]


# ---------------------------------------------------------------- bad sources


def test_missing_post(book, run_cli):
    (book / "series.yaml").write_text(GOOD_MANIFEST.replace("[95001, 95002]", "[95001, 95009, 95002]"), encoding="utf-8")
    before = snapshot(book / "out")
    result = run_cli("build", "--out", "out", cwd=book)
    assert_one_error(result, "series.yaml", "post 95009 not found", line=8)
    assert "--sources" in result.stderr  # says how to fix it
    assert snapshot(book / "out") == before


def test_missing_sources_folder(book, run_cli):
    before = snapshot(book / "out")
    result = run_cli("build", "--out", "out", "--sources", "no-such-folder", cwd=book)
    assert_one_error(result, "no-such-folder", "source folder does not exist")
    assert snapshot(book / "out") == before


def test_missing_folder_in_bookgen_sources(book, run_cli):
    before = snapshot(book / "out")
    result = run_cli("build", "--out", "out", cwd=book, env={"BOOKGEN_SOURCES": str(book / "gone")})
    assert_one_error(result, "gone", "source folder does not exist")
    assert snapshot(book / "out") == before


def test_post_not_valid_utf8(book, run_cli):
    (book / "posts" / "95002.md").write_bytes(b"---\ntitle: x\n---\n\nok\nbad \xff\xfe here\n")
    before = snapshot(book / "out")
    result = run_cli("build", "--out", "out", cwd=book)
    assert_one_error(result, "posts/95002.md", "not valid UTF-8", line=6)
    assert snapshot(book / "out") == before


def test_post_that_is_a_directory(book, run_cli):
    # Tests run as root, so chmod 000 would not stop a read: a folder named like a post is unreadable instead.
    (book / "posts" / "95002.md").unlink()
    (book / "posts" / "95002.md").mkdir()
    before = snapshot(book / "out")
    result = run_cli("build", "--out", "out", cwd=book)
    assert_one_error(result, "series.yaml", "post 95002 not found", line=8)
    assert snapshot(book / "out") == before


def test_unknown_volume_name(book, run_cli):
    before = snapshot(book / "out")
    result = run_cli("build", "small", "nope", "--out", "out", cwd=book)
    assert_one_error(result, "series.yaml", "no volume named 'nope'")
    assert "small" in result.stderr and "other" in result.stderr  # lists the known ones
    assert snapshot(book / "out") == before
    assert_one_error(run_cli("check", "nope", cwd=book), "series.yaml", "no volume named 'nope'")


def test_unknown_traditional_value_is_a_usage_error(book, run_cli):
    before = snapshot(book / "out")
    result = run_cli("build", "--traditional", "zh-tw", "--out", "out", cwd=book)
    # click's own usage error: exit 2, a usage line, the error, nothing on stdout.
    assert result.code == 2 and result.exception is None
    assert result.stdout == ""
    assert "Invalid value for '--traditional'" in result.stderr
    assert "s2twp" in result.stderr  # the valid choices are listed
    assert "Traceback" not in result.stderr
    assert snapshot(book / "out") == before


def test_template_syntax_error(book, run_cli, tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "chapter.tex.j2").write_text("\\chapter{<<title>>}\n<% if %>\n", encoding="utf-8")
    before = snapshot(book / "out")
    result = run_cli("build", "--out", "out", "--templates", templates, cwd=book)
    assert_one_error(result, "chapter.tex.j2", "template error", line=2)
    assert snapshot(book / "out") == before


def test_template_undefined_variable_names_the_template(book, run_cli, tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "chapter.tex.j2").write_text("\\chapter{<<title>>}\n<<post.nosuch>>\n", encoding="utf-8")
    before = snapshot(book / "out")
    result = run_cli("build", "--out", "out", "--templates", templates, cwd=book)
    assert_one_error(result, "chapter.tex.j2", "nosuch", line=2)
    assert snapshot(book / "out") == before


# ---------------------------------------------------------------- --help


def all_commands():
    ctx = click.Context(main)
    return [(name, main.get_command(ctx, name)) for name in main.list_commands(ctx)]


def test_commands_exist():
    assert {name for name, _ in all_commands()} >= {"list", "build", "check"}


def test_main_help_lists_commands(run_cli):
    result = run_cli("--help")
    assert result.code == 0
    for name, command in all_commands():
        assert name in result.stdout
        assert command.get_short_help_str().split()[0] in result.stdout
    for option in ("--version", "--help"):
        assert option in result.stdout


@pytest.mark.parametrize("name", ["list", "build", "check"])
def test_command_help_lists_every_option_with_help(run_cli, name):
    command = main.get_command(click.Context(main), name)
    result = run_cli(name, "--help")
    assert result.code == 0 and result.stderr == ""
    assert command.help and command.help.strip()
    help_text = " ".join(result.stdout.split())
    options = [p for p in command.params if isinstance(p, click.Option)]
    assert options
    for option in options:
        assert option.help and option.help.strip(), f"{name} {option.opts}: no help text"
        for flag in option.opts + option.secondary_opts:
            assert flag in result.stdout, f"{flag} missing from `bookgen {name} --help`"
        # The help text is shown (rewrapped): its first words are there.
        assert " ".join(option.help.split()[:3]) in help_text, option.opts
    assert "-h, --help" in result.stdout


def test_build_help_lists_the_expected_options(run_cli):
    result = run_cli("build", "--help")
    for flag in ("--out", "--templates", "--traditional", "--sources", "--manifest", "--tex-only", "--quiet", "--verbose"):
        assert flag in result.stdout


def test_version(run_cli):
    result = run_cli("--version")
    assert result.code == 0 and "bookgen" in result.stdout


# ---------------------------------------------------------------- list, check, build output


def test_list_shows_volumes_and_found_or_missing_posts(book, run_cli):
    (book / "posts" / "95002.md").unlink()
    result = run_cli("list", cwd=book)
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("small: 小书") and "1/2 posts found" in lines[0]
    assert re.search(r"1\. 95001\s+\S*posts/95001\.md$", lines[1])
    assert re.search(r"2\. 95002\s+MISSING$", lines[2])
    assert lines[3].startswith("other: 另一本") and "0/1 posts found" in lines[3]
    assert re.search(r"1\. 95002 改过的标题\s+MISSING$", lines[4])


def test_list_of_the_repository_manifest(run_cli):
    result = run_cli("list", cwd=REPO_DIR)
    assert result.code == 0, result.stderr
    assert re.search(r"^demo: bookgen 示例 — 4/4 posts found$", result.stdout, re.MULTILINE)
    for volume, count in (("lowrank", 5), ("transformer", 21), ("diffusion", 31)):
        assert re.search(rf"^{volume}: .* — \d+/{count} posts found$", result.stdout, re.MULTILINE), volume


@pytest.mark.corpus
def test_list_with_the_corpus_finds_every_post(run_cli, corpus_dir):
    result = run_cli("list", "--sources", corpus_dir, cwd=REPO_DIR)
    assert result.code == 0, result.stderr
    assert "MISSING" not in result.stdout
    for volume, count in (("lowrank", 5), ("transformer", 21), ("diffusion", 31)):
        assert f"{count}/{count} posts found" in result.stdout, volume


def test_check_writes_nothing(book, run_cli):
    before = snapshot(book / "out")
    result = run_cli("check", "--out", "out", cwd=book)
    assert result.code == 0, result.stderr
    assert "# small" in result.stdout and "# other" in result.stdout
    assert snapshot(book / "out") == before


def test_quiet_build_prints_nothing(book, run_cli):
    result = run_cli("build", "--tex-only", "-q", "--out", "out", cwd=book)
    assert result.code == 0 and result.stdout == "" and result.stderr == ""


def test_tex_only_build_reports_changed_files(book, run_cli):
    result = run_cli("build", "small", "--tex-only", "--out", "out", cwd=book)
    assert result.code == 0
    assert "small: wrote 0 changed .tex files" in result.stdout
    (book / "posts" / "95001.md").write_text(
        "---\ntitle: 第一篇\ndate: 2024-01-01\n---\n\n改过的正文。\n", encoding="utf-8"
    )
    result = run_cli("build", "small", "--tex-only", "--out", "out", cwd=book)
    assert "small: wrote 1 changed .tex files" in result.stdout
    assert "改过的正文" in (book / "out" / "small" / "posts" / "95001.tex").read_text(encoding="utf-8")


def test_log_problems_name_what_a_reader_would_see():
    from bookgen.cli.build import log_problems
    from bookgen.compile import summarize_log

    log = (
        "Missing character: There is no ✓ (U+2713) in font lmroman10-regular!\n" * 2
        + "Missing character: There is no ∗ (U+2217) in font NotoSerifCJK!\n"
        + "LaTeX Warning: Reference `eq:9119:a' on page 3 undefined on input line 4.\n"
        + "LaTeX Warning: Label `eq:9119:b' multiply defined.\n"
    )
    assert log_problems(summarize_log(log)) == [
        "1 undefined references print as ??",
        "1 labels defined twice",
        "3 characters the fonts lack (✓ ∗) are left out of the PDF",
    ]
    assert log_problems(summarize_log("Output written on main.pdf (3 pages).\n")) == []
