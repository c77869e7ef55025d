"""Shared fixtures: golden-file updates, the real corpus, TeX, and running the CLI.

* ``--update-golden``: snapshot tests (tests/golden/, tests/cases/reader*.txt)
  rewrite their expected files from the current output instead of comparing.
  Without the flag, nothing under tests/ is ever written.
* ``corpus_dir``: the folder of real posts, ``$BOOKGEN_CORPUS`` or
  ``<workspace>/shared/corpus/md``; tests using it skip when it is absent.
* ``tex_available``: skips unless xelatex and latexmk are on PATH.
* ``run_cli(*args, cwd=...)``: runs ``bookgen.cli.main`` in-process with
  click's CliRunner and returns ``CliResult(code, stdout, stderr, exception)``.
* ``site``, ``other_site``: a local copy of the site for ``bookgen fetch``
  (tests/local_site.py).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.register_assert_rewrite("fixtures")  # its case checks should show diffs like a test's own asserts

from bookgen.cli import main
from local_site import other_site, site  # noqa: F401  (fixtures for tests/ and tests/hostile/)

TESTS_DIR = Path(__file__).resolve().parent
REPO_DIR = TESTS_DIR.parent
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "md"


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite golden files (tests/golden/, tests/cases/reader*.txt) from the current output.",
    )


@pytest.fixture
def update_golden(request) -> bool:
    return bool(request.config.getoption("--update-golden"))


def corpus_path() -> Path:
    override = os.environ.get("BOOKGEN_CORPUS")
    return Path(override).resolve() if override else DEFAULT_CORPUS


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    path = corpus_path()
    if not path.is_dir() or not any(path.glob("*.md")):
        pytest.skip(f"corpus not found at {path} (set BOOKGEN_CORPUS)")
    return path


def tex_missing() -> str | None:
    missing = [tool for tool in ("xelatex", "latexmk") if shutil.which(tool) is None]
    return f"{' and '.join(missing)} not installed" if missing else None


@pytest.fixture(scope="session")
def tex_available() -> None:
    reason = tex_missing()
    if reason:
        pytest.skip(reason)


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def _make_runner() -> CliRunner:
    # click 8.2 removed mix_stderr: stdout and stderr are always kept apart.
    # Older clicks need mix_stderr=False to get result.stderr at all.
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


def invoke(args, cwd: Path | None = None, env: dict[str, str] | None = None) -> CliResult:
    runner = _make_runner()
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = runner.invoke(main, [str(a) for a in args], env=env, catch_exceptions=True)
    finally:
        os.chdir(old)
    exception = result.exception if not isinstance(result.exception, SystemExit) else None
    return CliResult(result.exit_code, result.stdout, result.stderr, exception)


@pytest.fixture
def run_cli(monkeypatch):
    """``run_cli("build", "demo", "--out", tmp, cwd=root)`` → CliResult; BOOKGEN_SOURCES is cleared."""
    monkeypatch.delenv("BOOKGEN_SOURCES", raising=False)

    def run(*args, cwd: Path | None = REPO_DIR, env: dict[str, str] | None = None) -> CliResult:
        return invoke(args, cwd=cwd, env=env)

    return run


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (relative path → bytes); directories as ``path/`` → b''."""
    if not folder.exists():
        return {}
    out: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        out[relative + "/" if path.is_dir() else relative] = b"" if path.is_dir() else path.read_bytes()
    return out


# CI replays the same examples every run (a red CI then means a regression, not a new
# random draw); locally hypothesis keeps exploring and remembers what it found.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")
