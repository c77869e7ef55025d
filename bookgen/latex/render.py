"""Book → the text of every .tex file, keyed by its path inside the volume folder."""

from __future__ import annotations

import jinja2

from bookgen import model as m
from bookgen.latex.language import Language
from bookgen.latex.writer import render_post_body


def render_book(book: m.Book, env: jinja2.Environment, language: Language, manifest_name: str) -> dict[str, str]:
    files: dict[str, str] = {}
    chapter_template = env.get_template("chapter.tex.j2")
    for chapter in book.chapters:
        body = render_post_body(chapter.post)
        files[f"posts/{chapter.post.id}.tex"] = chapter_template.render(
            post=chapter.post, title=chapter.title, body=body, language=language
        )
    files["main.tex"] = env.get_template("book.tex.j2").render(
        book=book,
        chapters=[ch.post for ch in book.chapters],
        language=language,
        manifest_name=manifest_name,
        extra_preamble=book.options.get("extra_preamble", ""),
    )
    return {path: _tidy(text) for path, text in files.items()}


def _tidy(text: str) -> str:
    """One trailing newline, no trailing spaces, no runs of blank lines: stable, diff-friendly files."""
    lines = [line.rstrip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).rstrip("\n") + "\n"
