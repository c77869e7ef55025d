"""Jinja2 with LaTeX-safe delimiters, and the user's templates before ours.

``{#`` and ``{%`` are everyday TeX (``\\def\\x#1{#1}``), so the delimiters are
``<< >>``, ``<% %>`` and ``<# #>`` as in Sphinx's LaTeX builder.  Templates load
through a ChoiceLoader, Pelican-style: ``--templates DIR``, then ``templates/``
next to the manifest, then the built-in set, so overriding one template is
dropping one file.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

import jinja2

from bookgen.escape import absolute_url, escape_text, escape_url, one_line, tex_comment, url_or_text
from bookgen.fonts import GlyphChooser, chooser_for_preamble
from bookgen.latex.language import language_for
from bookgen.resources import builtin_template_dir


class Tex(str):
    """TeX that is ready to be set: a title the writer rendered from the model (the ``tex`` filter keeps it)."""


def tex_filter(value) -> str:
    """The ``tex`` filter: ready TeX as it is; any other value (a date, a user's string) escaped, on one line."""
    return value if isinstance(value, Tex) else escape_text(one_line(str(value)))


def template_environment(search_dirs: tuple[Path, ...]) -> jinja2.Environment:
    """The templates of these folders (those that exist), then ours.  A process that builds again
    (``--watch``) compiles each template once, while the folders hold the same files."""
    folders = tuple(d.absolute() for d in search_dirs if d.is_dir())
    return _environment(folders, tuple(_listing(folder) for folder in folders))


def _listing(folder: Path) -> tuple:
    found = []
    for path in folder.rglob("*"):
        try:
            stat = path.stat()
        except OSError:
            continue  # an editor's temporary file, gone already
        found.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(found))


@lru_cache(maxsize=16)
def _environment(search_dirs: tuple[Path, ...], _listings: tuple) -> jinja2.Environment:
    loaders = [jinja2.FileSystemLoader(str(d)) for d in search_dirs]
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
    # Titles come rendered (the passes set their symbols and fonts, the writer escaped them); other values escaped.
    env.filters["tex"] = tex_filter
    env.filters["url"] = escape_url  # kept for templates copied before |link
    # Every address the PDF links to passes the writer's one check: \url{…} for http(s)/mailto, else text.
    env.filters["link"] = lambda url: url_or_text(absolute_url(str(url)))
    # Every value a template puts after a %: one line, no control characters (else TeX runs the rest).
    env.filters["comment"] = lambda value: tex_comment(str(value))
    return env


def builtin_chooser(traditional: str | None = None) -> GlyphChooser:
    """Which characters the fonts of bookgen's own preamble set, Simplified or Traditional (tests, tools;
    a build asks its own preamble, the user's if there is one)."""
    book = SimpleNamespace(key="k", title=Tex("t"), subtitle=Tex(""), author=Tex(""), paper="a4paper")
    template = template_environment(()).get_template("preamble.tex.j2")
    return chooser_for_preamble(template.render(book=book, language=language_for(traditional), extra_preamble=""))
