"""The files bookgen ships with its code: the built-in templates (and the phrase table beside them)."""

from __future__ import annotations

from pathlib import Path


def builtin_template_dir() -> Path:
    # A wheel installs the repo's templates/ as bookgen/templates (see pyproject);
    # a source checkout or editable install reads templates/ at the repo root.
    package = Path(__file__).resolve().parent
    for candidate in (package / "templates", package.parent / "templates"):
        if (candidate / "book.tex.j2").is_file():
            return candidate
    raise RuntimeError(f"bookgen's built-in templates are missing (looked in {package})")
