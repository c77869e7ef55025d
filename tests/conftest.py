"""pytest's hooks and fixtures: golden-file updates, the real corpus, TeX, running the CLI.

The helpers themselves are in tests/fixtures.py, the one module tests import from.

* ``--update-golden``: snapshot tests (tests/golden/, tests/cases/html/*.dump) and
  the cases of tests/cases/*.txt rewrite their expected parts from the current
  output instead of comparing.  Without the flag, nothing under tests/ is ever written.
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
from pathlib import Path

import pytest

pytest.register_assert_rewrite("fixtures")  # its case checks should show diffs like a test's own asserts

from fixtures import REPO_DIR, CliResult, corpus_path, invoke, tex_missing  # noqa: E402
from local_site import other_site, site  # noqa: E402, F401  (fixtures for tests/ and tests/hostile/)


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite golden files (tests/golden/, tests/cases/) from the current output.",
    )


@pytest.fixture
def update_golden(request) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    path = corpus_path()
    if not path.is_dir() or not any(path.glob("*.md")):
        pytest.skip(f"corpus not found at {path} (set BOOKGEN_CORPUS)")
    return path


@pytest.fixture(scope="session")
def tex_available() -> None:
    reason = tex_missing()
    if reason:
        pytest.skip(reason)


@pytest.fixture
def run_cli(monkeypatch):
    """``run_cli("build", "demo", "--out", tmp, cwd=root)`` → CliResult; BOOKGEN_SOURCES is cleared."""
    monkeypatch.delenv("BOOKGEN_SOURCES", raising=False)

    def run(*args, cwd: Path | None = REPO_DIR, env: dict[str, str] | None = None) -> CliResult:
        return invoke(args, cwd=cwd, env=env)

    return run


# CI replays the same examples every run (a red CI then means a regression, not a new
# random draw); locally hypothesis keeps exploring and remembers what it found.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")
