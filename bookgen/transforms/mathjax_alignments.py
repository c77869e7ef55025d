r"""Pass ``mathjax-alignments``: alignments MathJax sets that LaTeX refuses or draws otherwise.

* ``\hdashline`` in ``aligned``, ``alignedat`` or ``gathered`` (or a starred
  ``align*``, ``alignat*``, ``gather*``, ``flalign*``): MathJax draws a dashed
  line there, arydshln only in arrays.  The alignment becomes the ``array`` that
  sets it the same way (``r`` and ``l`` columns in display style, ``{}`` before
  each ``l`` cell so ``=`` keeps its spacing, 2em between column pairs):
  ``\begin{aligned}a&=b\\\hdashline c&=d\end{aligned}`` →
  ``\begin{array}{@{}>{\displaystyle}r@{}>{\displaystyle{}}l@{}}a&=b\\\hdashline c&=d\end{array}``.
  Elsewhere (a numbered ``align``, ``multline``…) the preamble draws it solid,
  with a warning.  (``\hline`` needs nothing: the preamble gives amsmath's
  alignments LaTeX's own ``\hline``, which arydshln's replaced.)
* ``split`` → ``aligned``: bookgen sets a one-line display in a box to shrink it
  to the line, and in inline math, where ``split`` cannot go (MathJax sets it anywhere).
* plain TeX's ``\displaylines{…}``, ``\eqalign{…}``, ``\matrix{…}``,
  ``\pmatrix{…}``, ``\cases{…}`` (MathJax reads them, amsmath refuses the
  "old forms" and LaTeX lacks ``\eqalign``) → ``gathered``, ``aligned``,
  ``matrix``, ``pmatrix``, ``cases``, with ``\cr`` → ``\\``.

Runs before ``unknown-commands`` (which would box ``\eqalign``) and before
``display-math``, which then wraps the new environments like any other.
"""

from __future__ import annotations

import re

from bookgen.catalogue import UNSETTLED, until_stable
from bookgen.transforms import tex
from bookgen.transforms.base import formula_pass
from bookgen.transforms.display_math import env_body_span, max_cells

NAME = "mathjax-alignments"
TRIGGERS = re.compile(r"\\hdashline|\{split\}|\\(?:displaylines|eqalign|matrix|pmatrix|cases)(?![A-Za-z])")
PLAIN_FORMS = {"displaylines": "gathered", "eqalign": "aligned", "matrix": "matrix", "pmatrix": "pmatrix", "cases": "cases"}
TO_ARRAY = frozenset({"aligned", "alignedat", "gathered", "align*", "alignat*", "gather*", "flalign*"})
ALIGNAT = frozenset({"alignedat", "alignat*"})
TOP_LEVEL = frozenset({"align*", "alignat*", "gather*", "flalign*"})  # become an equation* holding the array
# Where arydshln draws \hdashline itself: arrays, and the matrices and cases built on them.
ARRAY_BASED = frozenset(
    "array matrix pmatrix bmatrix Bmatrix vmatrix Vmatrix cases matrix* pmatrix* bmatrix* Bmatrix* vmatrix* "
    "Vmatrix* dcases dcases* rcases rcases* drcases drcases* cases*".split()
)
ENV_HEAD = re.compile(r"\\begin\{(\w+\*?)\}\s*(\[[tcb]\])?")  # aligned and gathered take [t] or [b]
ALIGNAT_HEAD = re.compile(r"\\begin\{(\w+\*?)\}\s*\{[^{}]*\}")  # alignedat, alignat*: the number of pairs


def array_spec(env: str, cells: int) -> str:
    r"""The columns that set ``env``'s cells as it does: ``aligned``, 3 cells → ``@{}>{\displaystyle}r@{}>{\displaystyle{}}l@{\qquad}>{\displaystyle}r@{}``."""
    if env.startswith("gather"):
        return r"@{}>{\displaystyle}c@{}"
    gap = r"@{}" if env in ALIGNAT else r"@{\qquad}"  # alignat's pairs stand as close as written
    columns = []
    for index in range(cells):
        if index % 2 == 0:
            columns.append((gap if index else "@{}") + r">{\displaystyle}r")
        else:
            columns.append(r"@{}>{\displaystyle{}}l")
    return "".join(columns) + "@{}"


def has_own_hdashline(node) -> bool:
    """Whether ``\\hdashline`` stands between the rows of ``node`` itself (not of an array inside it)."""
    for child in node.nodelist or ():
        if isinstance(child, tex.LatexMacroNode) and child.macroname == "hdashline":
            return True
    return False


def as_array(source: str, node) -> str:
    """The environment ``node`` of ``source`` as an ``array`` (an ``equation*`` around it at top level)."""
    env = node.environmentname
    head = (ALIGNAT_HEAD if env in ALIGNAT else ENV_HEAD).match(source, node.pos)
    start, stop = env_body_span(source, node)
    body = source[head.end() if head else start : stop]
    position = head.group(2) or "" if head and env not in ALIGNAT else ""
    cells = max_cells(node.nodelist or [])
    array = f"\\begin{{array}}{position}{{{array_spec(env, cells)}}}{body}\\end{{array}}"
    return f"\\begin{{equation*}}{array}\\end{{equation*}}" if env in TOP_LEVEL else array


def plain_form(node) -> str:
    r"""``\eqalign{a&=b\cr c&=d}`` → ``\begin{aligned}a&=b\\ c&=d\end{aligned}``."""
    env = PLAIN_FORMS[node.macroname]
    body = re.sub(r"\\cr(?![A-Za-z])\s*", r"\\\\ ", tex.arg_text(tex.macro_args(node)[0]))
    body = re.sub(r"\\\\\s*$", "", body)  # a \cr ending the last row: no empty row
    return f"\\begin{{{env}}}{body}\\end{{{env}}}"


def repair(source: str) -> tuple[str, list[str], list[str]]:
    """Repairs and warnings, repeated until nothing changes (an outer rewrite hides the inner ones for a round)."""
    source, (notes,), settled = until_stable(_repair_if_triggered, source)
    return source, notes, solid_dashes(source) + ([] if settled else [UNSETTLED])


def _repair_if_triggered(source: str) -> tuple[str, list[str]]:
    return _repair_once(source) if TRIGGERS.search(source) else (source, [])


def _repair_once(source: str) -> tuple[str, list[str]]:
    edits: list[tex.Edit] = []
    notes: list[str] = []
    for node, _parents in tex.walked(source):
        if any(e.start <= node.pos < e.end for e in edits):
            continue
        span = (node.pos, node.pos + node.len)
        if isinstance(node, tex.LatexEnvironmentNode) and node.environmentname in ("split", "split*"):
            start, stop = env_body_span(source, node)
            edits.append(tex.Edit(*span, f"\\begin{{aligned}}{source[start:stop]}\\end{{aligned}}"))
            notes.append("split → aligned (bookgen shrinks a display in a box, where split cannot go)")
        elif isinstance(node, tex.LatexEnvironmentNode) and node.environmentname in TO_ARRAY and has_own_hdashline(node):
            edits.append(tex.Edit(*span, as_array(source, node)))
            notes.append(f"{node.environmentname} with \\hdashline → array (arydshln draws dashes only in arrays)")
        elif isinstance(node, tex.LatexMacroNode) and node.macroname in PLAIN_FORMS:
            args = tex.macro_args(node)
            if args and args[0] is not None:
                edits.append(tex.Edit(*span, plain_form(node)))
                notes.append(f"\\{node.macroname}{{…}} → \\begin{{{PLAIN_FORMS[node.macroname]}}}")
    return (tex.apply_edits(source, edits) if edits else source), notes


def solid_dashes(source: str) -> list[str]:
    """Warnings for each ``\\hdashline`` left in an alignment that is no array (the preamble draws it solid)."""
    if "\\hdashline" not in source:
        return []
    found = []
    for node, parents in tex.walked(source):
        if isinstance(node, tex.LatexMacroNode) and node.macroname == "hdashline":
            envs = [p.environmentname for p in parents if isinstance(p, tex.LatexEnvironmentNode)]
            if envs and envs[-1] not in ARRAY_BASED:
                found.append(f"\\hdashline in {envs[-1]} is drawn solid (dashes are drawn only in arrays)")
    return list(dict.fromkeys(found))


PASS = formula_pass(NAME, repair, TRIGGERS)
