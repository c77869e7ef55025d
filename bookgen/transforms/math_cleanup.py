r"""Pass ``math-cleanup``: what the mirror and Markdown did to the math.

* html2text artifacts (only in posts from that mirror): ``\\\`` for ``\\``, ``\+``/``\-`` for ``+``/``-``,
  ``\\{``/``\\}``/``\\#``… for ``\{``/``\}``/``\#``;
* the two spaces that end each line of a display (Markdown hard breaks);
* blank lines inside a display (a paragraph break is an error in math);
* HTML entities (``&lt;``, ``&amp;``…) and ``<br>`` tags left by the page;
* a bare ``%`` (a comment to TeX, a percent sign to the author) → ``\%``;
* ``_`` inside ``\text{…}`` (an error in text mode) → ``\_``;
* a control word glued to CJK or accented letters (``\quad中文``), which XeTeX
  would read as one name, gets a space;
* C0/C1 control characters (invisible on the page, invalid or a missing glyph
  to TeX) are removed, as in prose.

The html2text repairs run once: afterwards the post's ``mirror`` reads
``html2text-repaired``, so a second run leaves the math alone.

Before → after: ``a \\\ b`` → ``a \\ b``; ``\left\\{ x \right.`` → ``\left\{ x \right.``.
"""

from __future__ import annotations

import dataclasses
import html
import re
import unicodedata

from bookgen import model as m
from bookgen.escape import CONTROL_CHARACTERS
from bookgen.transforms import tex
from bookgen.transforms.base import Context, Pass
from bookgen.transforms.walk import map_math

NAME = "math-cleanup"
REPAIRED = "html2text-repaired"  # Post.mirror once this pass removed that mirror's artifacts
# A run of backslashes and what follows it: the artifacts depend on the run's length.
BACKSLASH_RUN = re.compile(r"(\\+)([^\\]?)")
TRAILING_SPACES = re.compile(r"[ \t]+$", re.MULTILINE)
BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)*")
ENTITY = re.compile(r"&(?:[A-Za-z]{2,8}|#[0-9]{1,6}|#x[0-9A-Fa-f]{1,5});")
# A cheap look before parsing: an unescaped _ somewhere after a text-mode command.
UNDERSCORE_IN_TEXT = re.compile(r"\\(?:text|textrm|textbf|textit|mbox)\s*\{[^}]*(?<!\\)_")
# XeTeX reads letters beyond ASCII as letters, so `\quad中文` or `\smallÀ` is one unknown name;
# MathJax reads `\quad` then `中文`.  Tokenization is a character-level matter: a regex.
CONTROL_WORD_BEFORE = re.compile(r"\\[A-Za-z]+(?:" + CONTROL_CHARACTERS.pattern + ")*$")
GLUED_CONTROL_WORD = re.compile(r"(?<!\\)((?:\\\\)*\\[A-Za-z]+)(?=[^\x00-\x7f])")
BR_TAG = re.compile(r"<br\s*/?>", re.IGNORECASE)


def repair_html2text(source: str) -> tuple[str, list[str]]:
    # A regex over backslash runs (not pylatexenc): the artifacts are in the
    # character stream itself and would make the parse wrong before it starts.
    fixes: list[str] = []

    def fix(match: re.Match) -> str:
        run, after = match.group(1), match.group(2)  # `after` is "" at the end of the math
        if len(run) == 3 and not (after.isalpha() or after and after in "{}"):
            fixes.append("\\\\\\ → \\\\")
            return "\\\\" + after
        if len(run) == 1 and after and after in "+-":
            fixes.append(f"\\{after} → {after}")  # html2text guards list markers; \- would vanish in TeX
            return after
        if len(run) == 2 and after and after in "{}#$%&_":
            fixes.append(f"\\\\{after} → \\{after}")
            return "\\" + after
        return match.group(0)

    return BACKSLASH_RUN.sub(fix, source), fixes


def escape_percent(source: str) -> tuple[str, int]:
    count = 0

    def fix(match: re.Match) -> str:
        nonlocal count
        if len(match.group(1)) % 2 == 1:  # `\%` already escaped
            return match.group(0)
        count += 1
        return match.group(1) + "\\%"

    return re.sub(r"(\\*)%", fix, source), count


def escape_underscores_in_text(source: str) -> tuple[str, int]:
    edits = []
    for node, parents in tex.walked(source):
        if isinstance(node, tex.LatexCharsNode) and "_" in node.chars and _in_text_argument(parents):
            edits.append(tex.Edit(node.pos, node.pos + node.len, node.chars.replace("_", "\\_")))
    return (tex.apply_edits(source, edits), len(edits)) if edits else (source, 0)


def _in_text_argument(parents: tuple) -> bool:
    # \text{…} but not math nested inside it ($…$ within \text is math again)
    for parent in reversed(parents):
        if isinstance(parent, tex.LatexMathNode):
            return False
        if isinstance(parent, tex.LatexMacroNode) and parent.macroname in ("text", "textrm", "mbox", "textbf", "textit"):
            return True
    return False


def _is_letter(char: str) -> bool:
    return char.isalpha() or unicodedata.category(char).startswith("M")


def remove_control_characters(source: str) -> tuple[str, int]:
    """Drop them; where one stood between a control word and a letter, a space keeps the two apart."""
    count = 0

    def drop(found: re.Match) -> str:
        nonlocal count
        count += 1
        after = source[found.end() : found.end() + 1]
        return " " if after.isalpha() and CONTROL_WORD_BEFORE.search(source, 0, found.start()) else ""

    return CONTROL_CHARACTERS.sub(drop, source), count


def clean_math(source: str, html2text: bool) -> tuple[str, list[str]]:
    notes: list[str] = []
    if CONTROL_CHARACTERS.search(source):
        source, count = remove_control_characters(source)
        notes.append(f"removed {count} control character(s)")
    if html2text:
        source, fixes = repair_html2text(source)
        for fix in sorted(set(fixes)):
            notes.append(f"html2text artifact {fix} ({fixes.count(fix)}×)")
    if GLUED_CONTROL_WORD.search(source):
        glued = [m.group(1) for m in GLUED_CONTROL_WORD.finditer(source) if _is_letter(source[m.end()])]
        source = GLUED_CONTROL_WORD.sub(lambda m: m.group(1) + (" " if _is_letter(source[m.end()]) else ""), source)
        if glued:
            notes.append(f"separated {', '.join(sorted(set(glued)))} from the letters after it")
    stripped = TRAILING_SPACES.sub("", source)
    if stripped != source:
        source = stripped
    if BLANK_LINES.search(source):
        source = BLANK_LINES.sub("\n", source)
        notes.append("removed blank lines inside math")
    if "&" in source and ENTITY.search(source):
        source = ENTITY.sub(lambda e: html.unescape(e.group(0)), source)
        notes.append("decoded HTML entities")
    if "<" in source and BR_TAG.search(source):
        source = BR_TAG.sub(" ", source)
        notes.append("removed <br> tags")
    if "%" in source:
        source, count = escape_percent(source)
        if count:
            notes.append(f"escaped bare % as \\% ({count}×)")
    if "_" in source and UNDERSCORE_IN_TEXT.search(source):
        source, count = escape_underscores_in_text(source)
        if count:
            notes.append("escaped _ inside \\text{…}")
    return source, notes


def run(post: m.Post, context: Context) -> m.Post:
    def repair(post: m.Post, math: m.Math) -> m.Math:
        source, notes = clean_math(math.tex, post.mirror == "html2text")
        for note in notes:
            context.report(post, math.line, NAME, note)
        return dataclasses.replace(math, tex=source) if source != math.tex else math

    post = map_math(post, repair)
    # The artifacts are gone: a second run must not read a real `\\` before `{` (which
    # later passes write) as html2text's `\\{`.
    return dataclasses.replace(post, mirror=REPAIRED) if post.mirror == "html2text" else post


PASS = Pass(NAME, run)
