"""From nothing: bookgen's wheel in a fresh virtualenv, run in an empty folder, makes a series' book.

What a user who only ``pip install``ed bookgen (no clone, no demo, no
series.yaml) does::

    bookgen add 示例系列 --online && bookgen fetch && bookgen build

with the local site of tests/local_site.py standing in for spaces.ac.cn.  The
wheel is built from a copy of the sources (setuptools would write build/ and
*.egg-info into the repository), the dependencies come as wheels through pip
(PyPI or pip's cache), and the virtualenv installs only from that wheelhouse.
Slow (about a minute: the wheels, the venv, one xelatex run) but not timed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures import REPO_DIR

pytestmark = [pytest.mark.slow, pytest.mark.tex]

SOURCES = ("pyproject.toml", "README.md", "bookgen", "templates")


def run(args, cwd: Path, env: dict | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                            stdin=subprocess.DEVNULL)  # fmt: skip
    assert result.returncode == 0, f"{' '.join(map(str, args))} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def bookgen_command(tmp_path_factory) -> Path:
    """The ``bookgen`` of a fresh virtualenv that has only bookgen's wheel and its dependencies installed."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    source.mkdir()
    for name in SOURCES:
        if (REPO_DIR / name).is_dir():
            shutil.copytree(REPO_DIR / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(REPO_DIR / name, source / name)
    wheels = root / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--prefer-binary", "--wheel-dir", wheels, source], cwd=root)
    assert len(list(wheels.glob("bookgen-*.whl"))) == 1
    venv = root / "venv"
    run([sys.executable, "-m", "venv", venv], cwd=root)
    python = venv / "bin" / "python"
    run([python, "-m", "pip", "install", "--quiet", "--no-index", "--find-links", wheels, "bookgen"], cwd=root)
    return venv / "bin" / "bookgen"


def user_environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("BOOKGEN_", "PYTHON"))}
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(name, None)
    env["no_proxy"] = "127.0.0.1,localhost"
    return env


def test_add_fetch_build_from_an_empty_folder(bookgen_command, site, tmp_path, tex_available):
    folder = tmp_path / "empty"
    folder.mkdir()
    env = user_environment()
    online = ["--base-url", site.url, "--delay", "0"]
    added = run([bookgen_command, "add", "示例系列", "--online", *online], cwd=folder, env=env)
    assert "added volume 'series-90101' — 示例系列, 3 chapters (1–3)" in added.stdout
    run([bookgen_command, "fetch", *online], cwd=folder, env=env)
    run([bookgen_command, "build", "-q"], cwd=folder, env=env)
    assert (folder / "build" / "series-90101.pdf").is_file()
    assert sorted(p.name for p in folder.iterdir()) == ["build", "cache", "series.yaml"]
    toc = (folder / "build" / "series-90101" / "main.toc").read_text(encoding="utf-8")
    titles = re.findall(r"\\contentsline \{chapter\}\{\\numberline \{[^{}]*\{[^{}]*\}\}(.*?)\}\{\d+\}", toc)
    assert titles == ["从平均数说起", "加权平均", "一些边角情形"]
    # the bookgen that ran is the wheel's, with its own templates, not this checkout's
    where = run([bookgen_command.parent / "python", "-c", "import bookgen; print(bookgen.__file__)"], cwd=folder, env=env)
    assert str(REPO_DIR) not in where.stdout and "site-packages" in where.stdout
