"""Jinja2 with LaTeX-safe delimiters, and the user's templates before ours.

``{#`` and ``{%`` are everyday TeX (``\\def\\x#1{#1}``), so the delimiters are
``<< >>``, ``<% %>`` and ``<# #>`` as in Sphinx's LaTeX builder.  Templates load
through a ChoiceLoader, Pelican-style: ``--templates DIR``, then ``templates/``
next to the manifest, then the built-in set, so overriding one template is
dropping one file.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from bookgen.latex.escape import absolute_url, escape_url, one_line, tex_comment, url_or_text
from bookgen.transforms.unicode_math import text_tex


def builtin_template_dir() -> Path:
    # A wheel installs the repo's templates/ as bookgen/templates (see pyproject);
    # a source checkout or editable install reads templates/ at the repo root.
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "templates", package.parent / "templates"):
        if (candidate / "book.tex.j2").is_file():
            return candidate
    raise RuntimeError(f"bookgen's built-in templates are missing (looked in {package})")


@jinja2.pass_context
def title_tex(context: jinja2.runtime.Context, text: str) -> str:
    """The ``tex`` filter: ``text_tex`` with the glyphs pass's fonts (the ``glyphs`` global, once it ran)."""
    return text_tex(text, context.get("glyphs"))


def template_environment(search_dirs: tuple[Path, ...]) -> jinja2.Environment:
    loaders = [jinja2.FileSystemLoader(str(d)) for d in search_dirs if d.is_dir()]
    loaders.append(jinja2.FileSystemLoader(str(builtin_template_dir())))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        block_start_string="<%",
        block_end_string="%>",
        variable_start_string="<<",
        variable_end_string=">>",
        comment_start_string="<#",
        comment_end_string="#>",
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # Titles (from series.yaml, a post's front matter or <title>): on one line, escaped, symbols the fonts lack
    # as math or in a fallback font.
    env.filters["tex"] = jinja2.pass_context(lambda context, text: title_tex(context, one_line(str(text))))
    env.filters["url"] = escape_url  # kept for templates copied before |link
    # Every address the PDF links to passes the writer's one check: \url{…} for http(s)/mailto, else text.
    env.filters["link"] = lambda url: url_or_text(absolute_url(str(url)))
    # Every value a template puts after a %: one line, no control characters (else TeX runs the rest).
    env.filters["comment"] = lambda value: tex_comment(str(value))
    return env
