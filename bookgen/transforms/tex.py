"""Walking TeX math with pylatexenc, and editing it by source spans.

Passes never rebuild TeX from a parse tree (that loses the author's spacing);
they walk pylatexenc's nodes, collect ``Edit(start, end, text)`` spans, and
``apply_edits`` splices them into the original string.  Parses are cached by
string, since most math passes through most passes unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

from pylatexenc import latexwalker, macrospec
from pylatexenc.latexwalker import (
    LatexCharsNode,
    LatexCommentNode,
    LatexEnvironmentNode,
    LatexGroupNode,
    LatexMacroNode,
    LatexMathNode,
    LatexSpecialsNode,
    LatexWalker,
)

from bookgen.catalogue import NOT_MATH, SIGNATURES

__all__ = [
    "Edit", "apply_edits", "parse", "walk", "walked", "macro_spec", "specials_at", "group_end", "macro_args",
    "rstrip", "strip", "without_final_row_break",
    "arg_text", "LatexCharsNode", "LatexCommentNode", "LatexEnvironmentNode", "LatexGroupNode", "LatexMacroNode",
    "LatexMathNode", "LatexSpecialsNode",
]  # fmt: skip


@lru_cache(maxsize=1)
def _context():
    # The catalogue's signatures before pylatexenc's own: the math as the blog (MathJax) writes it.
    db = latexwalker.get_default_latex_context_db()
    db.add_context_category(
        "bookgen-math",
        macros=[macrospec.MacroSpec(name, args) for name, args in SIGNATURES.items()],
        prepend=True,
    )
    return db


@lru_cache(maxsize=20000)
def parse(tex: str) -> tuple:
    """The top-level nodes of ``tex`` (tolerant: never raises on bad TeX)."""
    try:
        walker = LatexWalker(tex, latex_context=_context(), tolerant_parsing=True)
        nodes, _pos, _len = walker.get_latex_nodes()
    except Exception:  # pylatexenc's tolerant mode still raises on a few inputs; treat as plain text
        return ()
    return tuple(n for n in nodes if n is not None)


@lru_cache(maxsize=4096)
def macro_spec(name: str) -> str:
    """The arguments the parse reads after ``\\name``, as pylatexenc writes them (``'[{'`` for ``\\sqrt``)."""
    spec = _context().get_macro_spec(name)
    parser = getattr(spec, "args_parser", None)
    return getattr(parser, "argspec", "") or ""


@lru_cache(maxsize=1)
def _specials() -> tuple[str, ...]:
    return tuple(sorted((spec.specials_chars for spec in _context().iter_specials_specs()), key=len, reverse=True))


def specials_at(source: str, at: int) -> int:
    """The length of the parse's special characters (``--``, ``''``, ``~``…) at ``source[at]``, or 0."""
    return next((len(chars) for chars in _specials() if source.startswith(chars, at)), 0)


def rstrip(source: str) -> str:
    r"""``source.rstrip()``, but a space or line break that ends a control symbol stays: ``a\ `` is ``a``
    and TeX's control space, and stripped to ``a\`` its backslash would take what comes next (``a\}``)."""
    stripped = source.rstrip()
    if len(stripped) < len(source) and _final_backslashes(stripped) % 2:
        return source[: len(stripped) + 1]
    return stripped


def strip(source: str) -> str:
    """``source.strip()``, the end stripped as ``rstrip`` does."""
    return rstrip(source.lstrip())


def without_final_row_break(source: str) -> str:
    r"""``rstrip(source)`` without a ``\\`` that ends it: a row break, not the end of a run of control symbols
    (``\\\`` and a line break is a row break, then a control space)."""
    stripped = rstrip(source)
    run = _final_backslashes(stripped)
    return stripped[:-2] if run >= 2 and run % 2 == 0 else stripped


def _final_backslashes(source: str) -> int:
    return len(source) - len(source.rstrip("\\"))


def group_end(source: str, at: int, close: str) -> int | None:
    r"""The index after the group opening at ``source[at]`` (``{`` or ``[``) and closed by ``close``; None when it
    never closes.  A control symbol is skipped whole: ``\{`` and ``\}`` are no braces."""
    depth, i = 0, at
    while i < len(source):
        char = source[i]
        if char == "\\":
            i += 2
            continue
        if char == source[at]:
            depth += 1
        elif char == close:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def macro_args(node: LatexMacroNode) -> list:
    if node.nodeargd is None or not node.nodeargd.argnlist:
        return []
    return list(node.nodeargd.argnlist)


def arg_text(node) -> str:
    """The verbatim TeX inside an argument (without its braces)."""
    if node is None:
        return ""
    text = node.latex_verbatim()
    if isinstance(node, LatexGroupNode) and len(text) >= 2 and text[0] in "{[" and text[-1] in "}]":
        return text[1:-1]
    return text


def children(node) -> list:
    out = []
    if isinstance(node, LatexMacroNode):
        out.extend(a for a in macro_args(node) if a is not None)
    if isinstance(node, LatexEnvironmentNode) and node.nodeargd and node.nodeargd.argnlist:
        out.extend(a for a in node.nodeargd.argnlist if a is not None)
    if getattr(node, "nodelist", None):
        out.extend(n for n in node.nodelist if n is not None)
    return out


def walk(nodes, parents: tuple = ()) -> Iterator[tuple[object, tuple]]:
    """Every node depth first, with the chain of its ancestors."""
    pending = [(node, parents) for node in reversed(nodes) if node is not None]
    while pending:
        node, above = pending.pop()
        yield node, above
        inner = above + (node,)
        pending.extend((child, inner) for child in reversed(children(node)))


@lru_cache(maxsize=20000)
def walked(tex: str) -> tuple[tuple[object, tuple], ...]:
    """``walk(parse(tex))``, kept: most math goes through several passes unchanged, each walking it."""
    return tuple(walk(parse(tex)))


@dataclass(frozen=True, order=True)
class Edit:
    start: int
    end: int
    text: str


def apply_edits(tex: str, edits: list[Edit]) -> str:
    """Splice non-overlapping edits into ``tex`` (an edit overlapping an earlier one is skipped)."""
    out: list[str] = []
    cursor = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < cursor:
            continue
        out.append(tex[cursor : edit.start])
        out.append(edit.text)
        cursor = edit.end
    out.append(tex[cursor:])
    return "".join(out)


CONTROL_WORD_END = re.compile(r"\\[A-Za-z]+$")
LINE_REST = re.compile(r"[ \t]*\n")


def splice(source: str, start: int, end: int, text: str = "") -> Edit:
    r"""An edit that leaves valid TeX around it.

    It never glues a control word to the letters after it (``\pm\label{x}y`` → ``\pm y``),
    removing a script's argument leaves an empty one (``x^\newcommand…`` → ``x^{}``), and
    removing all of a line takes its line break too, so no blank line (a ``\par``) is left in math.
    """
    if not text and source[:start].rstrip().endswith(("^", "_")):
        return Edit(start, end, "{}")
    if not text and _starts_line(source, start) and (rest := LINE_REST.match(source, end)):
        return Edit(start, rest.end(), "")  # the line held only this: a blank line left behind is a \par in math
    if (not text or text[0].isalpha()) and CONTROL_WORD_END.search(source, 0, start):
        text = " " + text
    return Edit(start, end, text)


def _starts_line(source: str, position: int) -> bool:
    """Whether only blanks stand between ``position`` and the line break before it."""
    while position > 0 and source[position - 1] in " \t":
        position -= 1
    return position > 0 and source[position - 1] == "\n"


def inside_text(parents: tuple) -> bool:
    """Whether a node sits in a text-mode or name argument (\\text{…}, \\label{…}, …): not math to rewrite."""
    return any(isinstance(p, LatexMacroNode) and p.macroname in NOT_MATH for p in parents)
