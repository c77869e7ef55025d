r"""Pass ``display-math``: every display becomes a legal amsmath display.

After this pass each display ``Math.tex`` is one or more top-level amsmath
environments (``equation``, ``align``, ``gather``… or their starred forms), so
later passes (labels) and the writer can rely on that shape.

* bare ``\begin{array}``, ``\begin{CD}``, ``aligned`` or plain formulas → ``equation*``;
* a top-level environment nested in another (``align`` inside ``equation``) →
  its inner form (``aligned``, ``gathered``…); ``eqnarray`` → ``align``;
* ``\\`` or ``&`` directly in ``equation`` (MathJax shrugs, LaTeX stops) →
  the rows wrapped in ``aligned``/``gathered``, labels and tags kept outside;
* ``\tag`` where amsmath forbids it (inside ``aligned``, twice in a row,
  in inline math) → moved to its equation, or printed as text;
* ``\eqno``/``\leqno`` → ``\tag*``; a trailing ``\\`` before ``\end`` (an empty
  numbered row in ``align``) is dropped; top-level environments in inline math are demoted;
* an ``array`` row with more cells than its column spec (MathJax pads) gets the
  missing columns; an empty spec gets one column per cell;
* ``\begin{aligned}&`` → ``\begin{aligned}{}&`` (mathtools 1.29 misreads the
  ``&`` as the optional argument's end when the block also holds ``\sin``,
  ``\boldsymbol``…: "Missing control sequence inserted");
* a single-box equation is wrapped in ``\bookgenfit{…}``, which TeX shrinks to the
  line when (and only when) it is wider — the blog's displays scroll, a page cannot.
"""

from __future__ import annotations

import dataclasses
import re

from bookgen import model as m
from bookgen.catalogue import UNSETTLED, until_stable
from bookgen.transforms import tex
from bookgen.transforms.base import Context, Pass
from bookgen.transforms.scripts import removal_may_double_scripts, separate_double_scripts
from bookgen.transforms.walk import map_math

NAME = "display-math"
TOP_LEVEL = ("equation", "align", "gather", "multline", "flalign", "alignat", "eqnarray", "displaymath")
INNER_FORM = {
    "equation": None, "displaymath": None, "align": "aligned", "flalign": "aligned", "alignat": "alignedat",
    "gather": "gathered", "multline": "multlined", "eqnarray": "aligned",
}  # fmt: skip
NESTED_CANDIDATE = re.compile(r"\\begin\{(?:" + "|".join(TOP_LEVEL) + r")\*?\}")
ROW_NUMBERED = ("align", "gather", "flalign", "alignat")  # one number per row
KEEP_OUTSIDE = ("label", "tag", "nonumber", "notag")


def env_base(name: str) -> str:
    return name.rstrip("*")


def is_top_level(node) -> bool:
    return isinstance(node, tex.LatexEnvironmentNode) and env_base(node.environmentname) in TOP_LEVEL


SCRIPT_BEFORE = re.compile(r"(?<!\\)(?:\\\\)*[\^_]\s*$")  # what comes next is the argument of ^ or _ (not \_)


def demote_nested(source: str, inside_top_level: bool) -> tuple[str, list[str]]:
    """Rename top-level environments that sit inside another (or in inline math) to their inner forms."""
    source, (notes,), settled = until_stable(lambda text: _demote_once(text, inside_top_level), source)
    return source, notes + ([] if settled else [UNSETTLED])


def _demote_once(source: str, inside_top_level: bool) -> tuple[str, list[str]]:
    edits, notes = [], []
    if not NESTED_CANDIDATE.search(source):
        return source, notes
    for node, parents in tex.walked(source):
        nested = any(is_top_level(p) for p in parents) or inside_top_level
        if is_top_level(node) and nested:
            inner = INNER_FORM[env_base(node.environmentname)]
            body = _env_body(source, node)
            if env_base(node.environmentname) == "eqnarray":
                body = _eqnarray_rows(body)
            replacement = body if inner is None else f"\\begin{{{inner}}}{body}\\end{{{inner}}}"
            if inner is None and SCRIPT_BEFORE.search(source, 0, node.pos):
                replacement = "{" + body + "}"  # a script's argument: its content stays one argument
            edits.append(tex.Edit(node.pos, node.pos + node.len, replacement))
            notes.append(f"nested {node.environmentname} → {inner or 'its content'}")
    return (tex.apply_edits(source, edits) if edits else source), notes


def _env_body(source: str, node) -> str:
    start, stop = env_body_span(source, node)
    return source[start:stop]


def env_body_span(source: str, node) -> tuple[int, int]:
    """Where the body of environment ``node`` lies in ``source``, between its \\begin{…} and \\end{…}."""
    text = source[node.pos : node.pos + node.len]
    begin = re.match(r"\\begin\s*\{[^}]*\}", text)
    end = re.search(r"\\end\s*\{[^}]*\}\s*$", text)
    return node.pos + (begin.end() if begin else 0), node.pos + (end.start() if end else len(text))


def _eqnarray_rows(body: str) -> str:
    r"""``a &=& b`` (three columns) → ``a &= b`` (align's two)."""
    rows = re.split(r"(\\\\)", body)
    out = []
    for row in rows:
        if row != "\\\\":
            row = re.sub(r"^([^&]*&[^&]*)&", r"\1", row, count=1)
        out.append(row)
    return "".join(out)


def top_level_segments(source: str) -> list | None:
    """The top-level environments of ``source`` if it is nothing else (whitespace aside), else None."""
    if "\\begin" not in source:
        return None  # cheap answer before parsing: most displays are a bare formula
    nodes = tex.parse(source)
    envs = []
    for node in nodes:
        if is_top_level(node):
            envs.append(node)
        elif isinstance(node, tex.LatexCharsNode) and not node.chars.strip():
            continue
        elif isinstance(node, tex.LatexCommentNode):
            continue
        else:
            return None
    return envs or None


def split_outside(body: str) -> tuple[str, str]:
    r"""Separate ``\label``/``\tag``/``\notag`` at the top of a body from the rest."""
    return _split_outside(body, tex.parse(body), 0, len(body))


def is_row_or_column_break(node) -> bool:
    return (isinstance(node, tex.LatexMacroNode) and node.macroname == "\\") or (
        isinstance(node, tex.LatexSpecialsNode) and node.specials_chars == "&"
    )


def split_outside_nodes(source: str, env, nodes: list) -> tuple[str, str]:
    """``split_outside`` of the body of ``env``, a parsed environment of ``source``."""
    return _split_outside(source, nodes, *env_body_span(source, env))


def _split_outside(source: str, nodes, start: int, stop: int) -> tuple[str, str]:
    """``source[start:stop]`` without the label-like macros among ``nodes``, and those macros."""
    edits, kept = [], []
    for node in nodes:
        if isinstance(node, tex.LatexMacroNode) and node.macroname in KEEP_OUTSIDE and start <= node.pos < stop:
            edits.append(tex.splice(source, node.pos, node.pos + node.len))
            kept.append(node.latex_verbatim())
    shift = sum(len(e.text) - (e.end - e.start) for e in edits)
    return tex.apply_edits(source, edits)[start : stop + shift], "".join(kept)


def has_top_level(body: str, macro: str | None = None, special: str | None = None) -> bool:
    if (macro and "\\" + macro not in body) or (special and special not in body):
        return False  # cheap answer before parsing
    for node in tex.parse(body):
        if macro and isinstance(node, tex.LatexMacroNode) and node.macroname == macro:
            return True
        if special and isinstance(node, tex.LatexSpecialsNode) and node.specials_chars == special:
            return True
    return False


def fix_single_equation(env: str, body: str, nodes) -> tuple[str, list[str]]:
    r"""``equation`` whose body (parsed: ``nodes``) has rows or columns: wrap them, keep labels and tags outside."""
    if not any(is_row_or_column_break(n) for n in nodes if n is not None):
        return body, []
    rows, outside = split_outside(body)
    rows = tex.without_final_row_break(rows)
    inner = "aligned" if has_top_level(rows, special="&") else "gathered"
    return f"\\begin{{{inner}}}{rows}\\end{{{inner}}}{outside}", [f"rows in {env} wrapped in {inner}"]


def fix_tags(body: str, env: str) -> tuple[str, list[str]]:
    r"""Move ``\tag`` out of inner environments; keep one per row."""
    notes, edits = [], []
    if "\\tag" not in body and "eqno" not in body:
        return body, notes
    # \eqno first, so that one inside an inner environment is then moved like any \tag.
    for node, _parents in tex.walked(body):
        if isinstance(node, tex.LatexMacroNode) and node.macroname in ("eqno", "leqno"):
            edits.append(tex.Edit(node.pos, node.pos + node.len, "\\tag*"))
            notes.append(f"\\{node.macroname} → \\tag*")
    body, edits = (tex.apply_edits(body, edits) if edits else body), []
    for node, parents in tex.walked(body):
        if not (isinstance(node, tex.LatexMacroNode) and node.macroname == "tag"):
            continue
        if any(isinstance(p, (tex.LatexEnvironmentNode, tex.LatexGroupNode)) for p in parents):
            edits.append(tex.splice(body, node.pos, node.pos + node.len))
            edits.append(tex.Edit(len(body), len(body), node.latex_verbatim()))
            notes.append("moved \\tag out of an inner environment")
    body = tex.apply_edits(body, edits) if edits else body
    # amsmath allows one \tag per row (per equation when not row-numbered).
    rows = re.split(r"(\\\\)", body) if env_base(env) in ROW_NUMBERED else [body]
    out = []
    for row in rows:
        tags = list(re.finditer(r"\\tag\*?\s*\{[^{}]*\}", row))
        for extra in reversed(tags[1:]):
            text = re.sub(r"^\\tag\*?\s*\{(.*)\}$", r"\1", extra.group(0))
            row = row[: extra.start()] + f"\\qquad\\text{{({text})}}" + row[extra.end() :]
            notes.append("second \\tag in one row printed as text")
        out.append(row)
    return "".join(out), notes


def fix_environment(source: str, node) -> tuple[str, list[str]]:
    env = node.environmentname
    body = _env_body(source, node)
    notes: list[str] = []
    if env_base(env) == "eqnarray":
        env = env.replace("eqnarray", "align")
        body = _eqnarray_rows(body)
        notes.append("eqnarray → align")
    if env_base(env) == "displaymath":
        env = "equation*"
    if env_base(env) == "equation":
        body, more = fix_single_equation(env, body, node.nodelist or ())
        notes += more
    body, more = fix_tags(body, env)
    notes += more
    trimmed = tex.without_final_row_break(body) if env_base(env) != "equation" else body
    if trimmed != tex.rstrip(body):
        notes.append(f"dropped a trailing \\\\ before \\end{{{env}}}")
        body = trimmed
    return f"\\begin{{{env}}}{body}\\end{{{env}}}", notes


def normalize_display(source: str) -> tuple[str, list[str]]:
    source = tex.strip(source)
    if not source:
        return "", ["dropped an empty display"]
    notes: list[str] = []
    segments = top_level_segments(source)
    if segments is None:
        # Not made of top-level environments: the whole display is the body of an equation*.
        inner, more = demote_nested(source, inside_top_level=True)
        notes += more
        bare = re.match(r"\\begin\{(\w+\*?)\}", source)
        if bare:
            notes.append(f"bare \\begin{{{bare.group(1)}}} set as a display")
        source = f"\\begin{{equation*}}{inner}\\end{{equation*}}"
        segments = top_level_segments(source) or []
    pieces = []
    for node in segments:
        text = source[node.pos : node.pos + node.len]
        inner, more = demote_nested(_env_body(source, node), inside_top_level=True)
        notes += more
        rebuilt = f"\\begin{{{node.environmentname}}}{inner}\\end{{{node.environmentname}}}"
        reparsed = tex.parse(rebuilt)
        fixed, more = fix_environment(rebuilt, reparsed[0]) if reparsed else (text, [])
        notes += more
        pieces.append(fixed)
    return "\n".join(pieces), notes


def fix_inline(source: str) -> tuple[str, list[str]]:
    notes: list[str] = []
    source, more = demote_nested(source, inside_top_level=True)
    notes += more
    if "\\tag" in source or "\\eqno" in source:
        replaced = re.sub(r"\\(?:tag\*?|eqno|leqno)\s*\{([^{}]*)\}", r"\\qquad\\text{(\1)}", source)
        if replaced != source:
            source = replaced
            notes.append("\\tag in inline math printed as text")
    return source, notes


ALIGNED_AMPERSAND = re.compile(r"(\\begin\{(?:aligned|alignedat|gathered|split)\}(?:\[[tbc]\])?(?:\{\d+\})?)(\s*)&")
COLUMN_LETTERS = re.compile(r"[lcrX]|[pmb]\{[^{}]*\}|[wW]\{[^{}]*\}\{[^{}]*\}")
# What a column spec says about its columns' looks, not their number: @{…}, !{…}, >{…}, <{…}.
COLUMN_DECORATION = re.compile(r"[@!<>]\{(?:[^{}]|\{[^{}]*\})*\}")


# aligned/gathered read a [ right after \begin{…} as their position ([t], [b], [c]); a
# formula that starts with a bracket, [(x-p)+(y-q)i]…, is not one (amsmath warns).
ALIGNED_BRACKET = re.compile(r"(\\begin\{(?:aligned|gathered)\})(\s*)\[(?![tbc]\])")


def fix_aligned_start(source: str) -> tuple[str, list[str]]:
    # Character-level fixes: both are about how TeX scans the token right after
    # \begin{aligned} (a & for mathtools, a [ for amsmath), adjacency, not structure.
    notes = []
    fixed = ALIGNED_AMPERSAND.sub(r"\1{}\2&", source)
    if fixed != source:
        notes.append("\\begin{aligned}& → \\begin{aligned}{}& (mathtools)")
    bracketed = ALIGNED_BRACKET.sub(r"\1{}\2[", fixed)
    if bracketed != fixed:
        notes.append("\\begin{aligned}[ → \\begin{aligned}{}[ (a bracket, not its position)")
    return bracketed, notes


def fix_array_columns(source: str) -> tuple[str, list[str]]:
    edits, notes = [], []
    if "{array}" not in source:
        return source, notes
    for node, _parents in tex.walked(source):
        if not (isinstance(node, tex.LatexEnvironmentNode) and node.environmentname == "array"):
            continue
        args = node.nodeargd.argnlist if node.nodeargd else []
        spec_node = args[-1] if args else None
        if spec_node is None:
            continue
        spec = tex.arg_text(spec_node)
        cells = max_cells(node.nodelist or [])
        columns = len(COLUMN_LETTERS.findall(COLUMN_DECORATION.sub("", spec))) if "*" not in spec else cells
        if cells > columns:
            new_spec = spec + "c" * (cells - columns)
            edits.append(tex.Edit(spec_node.pos, spec_node.pos + spec_node.len, "{" + new_spec + "}"))
            notes.append(f"array spec {{{spec}}} → {{{new_spec}}} ({cells} cells in a row)")
    return (tex.apply_edits(source, edits) if edits else source), notes


def max_cells(nodes) -> int:
    most, cells = 1, 1
    for child in nodes:
        if isinstance(child, tex.LatexSpecialsNode) and child.specials_chars == "&":
            cells += 1
        elif isinstance(child, tex.LatexMacroNode) and child.macroname == "\\":
            most, cells = max(most, cells), 1
    return max(most, cells)


# A formula this long would shrink to an unreadable size (and past about 3000
# characters its width overflows TeX's \maxdimen): it is broken into rows instead.
LONG_FORMULA = 2000
ROW_LENGTH = 150


def fit_to_line(source: str) -> tuple[str, list[str]]:
    r"""``\begin{equation}BODY\label{…}\end{equation}`` → the body in ``\bookgenfit{…}``."""
    segments = top_level_segments(source)
    if not segments or len(segments) != 1 or env_base(segments[0].environmentname) != "equation":
        return source, []
    node = segments[0]
    nodes = [n for n in (node.nodelist or ()) if n is not None]
    if any(is_row_or_column_break(n) for n in nodes):
        return source, []
    body, outside = split_outside_nodes(source, node, nodes)  # from the nodes at hand: no second parse
    if not body.strip():
        return source, []
    env = node.environmentname
    if len(body) > LONG_FORMULA:
        rows = break_points(tex.strip(body))
        if len(rows) > 1:
            return align_rows(rows, outside, starred=env.endswith("*")), [
                f"formula of {len(body)} characters broken into {len(rows)} rows (too wide to shrink)"
            ]
    return f"\\begin{{{env}}}\\bookgenfit{{{tex.strip(body)}}}{outside}\\end{{{env}}}", []


def fit_rows(source: str) -> tuple[str, list[str]]:
    r"""Each row of a ``gather`` in ``\bookgenfit{…}`` (its label and tag outside): a row wider than the
    line shrinks to it, as a single equation does; ``align`` rows are left alone (their columns line up).

    Before → after: ``\begin{gather}a\label{x}\\ b\end{gather}`` →
    ``\begin{gather}\bookgenfit{a}\label{x}\\ \bookgenfit{b}\end{gather}``.
    """
    if "\\begin{gather" not in source:
        return source, []  # cheap answer before parsing: most displays are no gather
    segments = top_level_segments(source)
    if not segments or len(segments) != 1 or env_base(segments[0].environmentname) != "gather":
        return source, []
    node = segments[0]
    nodes = [n for n in (node.nodelist or ()) if n is not None]
    if any(isinstance(n, tex.LatexSpecialsNode) and n.specials_chars == "&" for n in nodes):
        return source, []
    start, stop = env_body_span(source, node)
    bounds, cursor = [], start
    for child in nodes:
        if isinstance(child, tex.LatexMacroNode) and child.macroname == "\\":
            bounds.append((cursor, child.pos, source[child.pos : child.pos + child.len]))
            cursor = child.pos + child.len
    bounds.append((cursor, stop, ""))
    rows = []
    for row_start, row_stop, separator in bounds:
        row, outside = _split_outside(source, nodes, row_start, row_stop)
        rows.append((f"\\bookgenfit{{{tex.strip(row)}}}" if row.strip() else "") + outside + separator)
    env = node.environmentname
    return f"\\begin{{{env}}}" + "\n".join(rows) + f"\\end{{{env}}}", []


def break_points(body: str) -> list[str]:
    """``body`` cut before top-level ``+``, ``-`` or ``=`` into rows of about ROW_LENGTH characters."""
    cuts, depth, row_start = [], 0, 0
    for node in tex.parse(body):
        if isinstance(node, tex.LatexMacroNode) and node.macroname in ("left", "right"):
            depth += 1 if node.macroname == "left" else -1
        if depth or not isinstance(node, tex.LatexCharsNode):
            continue
        for offset, char in enumerate(node.chars):
            at = node.pos + offset
            if char in "+-=" and at - row_start >= ROW_LENGTH and body[row_start:at].strip():
                cuts.append(at)
                row_start = at
    bounds = [0, *cuts, len(body)]
    return [tex.strip(body[a:b]) for a, b in zip(bounds, bounds[1:])]


def align_rows(rows: list[str], outside: str, starred: bool) -> str:
    r"""Rows as a flush-left ``align`` that may break across pages; one number, on the last row."""
    env = "align*" if starred else "align"
    no_number = "" if starred else "\\notag"
    lines = [f"&{rows[0]}{no_number}"] + [f"&\\qquad {row}{no_number}" for row in rows[1:-1]]
    lines.append(f"&\\qquad {rows[-1]}{outside}")
    return f"\\begin{{{env}}}" + "\\\\\n".join(lines) + f"\\end{{{env}}}"


def run(post: m.Post, context: Context) -> m.Post:
    def repair(post: m.Post, math: m.Math) -> m.Math:
        fixed, notes = normalize_display(math.tex) if math.display else fix_inline(math.tex)
        if not math.display and not fixed.strip() and math.tex.strip():
            fixed = "{}"  # `$$` would start a display
        fixed, more = fix_array_columns(fixed)
        notes += more
        fixed, more = fix_aligned_start(fixed)
        notes += more
        if math.display and "\\bookgenfit" not in fixed:
            fixed, more = fit_to_line(fixed)
            notes += more
            fixed, more = fit_rows(fixed)
            notes += more
        if fixed != math.tex and removal_may_double_scripts(math.tex):
            fixed, _count = separate_double_scripts(fixed)  # x_a\label{l}_b without its label: x_a{}_b
        for note in notes:
            context.report(post, math.line, NAME, note, warning=note == UNSETTLED)
        return dataclasses.replace(math, tex=fixed) if fixed != math.tex else math

    return map_math(post, repair)


PASS = Pass(NAME, run)
