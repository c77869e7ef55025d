r"""Pass ``labels``: every label unique in the book, every reference resolved or marked.

On the blog each page is its own namespace and MathJax forgives what LaTeX
does not.  Per post, in source order:

* labels are namespaced (``eq:loss`` → ``p10366:eq:loss``) so ten posts may use one name;
* a second ``\label`` in one numbered unit (an ``equation``, or a row of ``align``)
  is removed and becomes an alias of the first: references to it get that number;
* a label in an unnumbered display (``\[…\]``, ``$$…$$``, ``equation*``, ``align*``)
  numbers it (``equation*`` → ``equation``; ``align*`` → ``align`` with ``\notag``
  on the other rows); ``\notag`` next to a label is dropped;
* a label in inline math becomes a numbered anchor after the formula;
* a label defined twice in a post is renamed (``eq:x`` → ``eq:x-2``) and reported;
  references keep pointing at the first;
* ``\eqref``/``\ref`` to a label the post does not define prints a visible marker
  (``\bookgendangling``) and is reported as a warning — never LaTeX's ``??``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from bookgen import model as m
from bookgen.escape import escape_text
from bookgen.transforms import tex
from bookgen.transforms.base import Context, Pass
from bookgen.transforms.scripts import removal_may_double_scripts, separate_double_scripts
from bookgen.transforms.walk import iter_math, map_post

NAME = "labels"
ROW_NUMBERED = ("align", "gather", "flalign", "alignat")
UNSAFE = re.compile(r"[^A-Za-z0-9:._-]")


def namespaced(post_id: int, label: str) -> str:
    """A label safe for LaTeX and hyperref, unique per post, the same on every run.

    A label already in this post's namespace is kept as it is, so running the
    pass again (on its own output) changes nothing.
    """
    safe = UNSAFE.sub(lambda c: f"u{ord(c.group(0)):x}", label.strip())
    prefix = f"p{post_id}:"
    return safe if safe.startswith(prefix) else prefix + safe


@dataclass
class PostLabels:
    """What the first walk over a post found: label → canonical label (itself, or its alias target)."""

    canonical: dict[str, str] = field(default_factory=dict)
    renamed: dict[tuple[int, int], str] = field(default_factory=dict)  # (math index, position) → new name


def label_nodes(source: str):
    if "\\label" not in source:
        return
    for node, parents in tex.walked(source):
        if isinstance(node, tex.LatexMacroNode) and node.macroname == "label":
            if any(isinstance(p, tex.LatexMacroNode) and p.macroname in NAME_MACROS for p in parents):
                continue  # \eqref{\label{x}}: part of a name (a broken one), not a label
            args = tex.macro_args(node)
            if args and args[0] is not None:
                yield node, parents, tex.arg_text(args[0]).strip()


def units(source: str) -> list[tuple[str, int, int]]:
    """The numbered units of a display: (environment, start, end) per equation or align row."""
    out = []
    if "\\label" not in source:
        return out
    for node in tex.parse(source):
        if not isinstance(node, tex.LatexEnvironmentNode):
            continue
        env = node.environmentname
        start, end = node.pos, node.pos + node.len
        if env.rstrip("*") not in ROW_NUMBERED:
            out.append((env, start, end))
            continue
        cursor = start
        for child in node.nodelist or []:
            if isinstance(child, tex.LatexMacroNode) and child.macroname == "\\":
                out.append((env, cursor, child.pos))
                cursor = child.pos + child.len
        out.append((env, cursor, end))
    return out


def collect(post: m.Post, maths: list[m.Math], context: Context) -> PostLabels:
    found = PostLabels()
    for index, math in enumerate(maths):
        seen_in_unit: dict[tuple[int, int], str] = {}
        unit_spans = units(math.tex) if math.display else []
        for node, _parents, label in label_nodes(math.tex):
            unit = next(((s, e) for _env, s, e in unit_spans if s <= node.pos < e), (-1, -1))
            name = label
            if label in found.canonical:
                number = 2
                while f"{label}-{number}" in found.canonical:
                    number += 1
                name = f"{label}-{number}"
                found.renamed[(index, node.pos)] = name
                context.report(post, math.line, NAME, f"duplicate label '{label}' renamed to '{name}'")
            if unit in seen_in_unit and math.display:
                found.canonical[name] = seen_in_unit[unit]
                context.report(
                    post, math.line, NAME, f"second \\label '{name}' in one equation: refers to '{seen_in_unit[unit]}'"
                )
            else:
                found.canonical[name] = name
                if math.display:
                    seen_in_unit[unit] = name
    return found


def rewrite_display(post: m.Post, index: int, math: m.Math, labels: PostLabels, context: Context) -> str:
    source = math.tex
    edits: list[tex.Edit] = []
    labelled_units: set[tuple[int, int]] = set()
    unit_spans = units(source)
    for node, _parents, label in label_nodes(source):
        name = labels.renamed.get((index, node.pos), label)
        unit = next(((s, e) for _env, s, e in unit_spans if s <= node.pos < e), (-1, -1))
        if labels.canonical.get(name, name) != name:
            edits.append(tex.splice(source, node.pos, node.pos + node.len))  # an alias: its number is the first label's
        else:
            edits.append(tex.Edit(node.pos, node.pos + node.len, f"\\label{{{namespaced(post.id, name)}}}"))
            labelled_units.add(unit)
    edits += _number_labelled_units(post, math, source, unit_spans, labelled_units, context)
    return tex.apply_edits(source, edits) if edits else source


def _number_labelled_units(post, math, source, unit_spans, labelled_units, context) -> list[tex.Edit]:
    edits: list[tex.Edit] = []
    if not labelled_units:
        return edits
    envs_done: set[int] = set()
    for env, start, end in unit_spans:
        labelled = (start, end) in labelled_units
        body = source[start:end]
        for notag in re.finditer(r"\\(?:notag|nonumber)\b", body):
            if labelled and "\\tag" not in body:
                edits.append(tex.splice(source, start + notag.start(), start + notag.end()))
                context.report(post, math.line, NAME, "removed \\notag from a labelled equation")
    for node in tex.parse(source):
        if not isinstance(node, tex.LatexEnvironmentNode) or not node.environmentname.endswith("*"):
            continue
        env = node.environmentname
        mine = [(s, e) for _env, s, e in unit_spans if node.pos <= s < node.pos + node.len]
        if not any(u in labelled_units for u in mine) or node.pos in envs_done:
            continue
        envs_done.add(node.pos)
        base = env[:-1]
        begin = source.index("{" + env + "}", node.pos)
        edits.append(tex.Edit(begin, begin + len(env) + 2, "{" + base + "}"))
        end_at = source.rindex("{" + env + "}", node.pos, node.pos + node.len)
        edits.append(tex.Edit(end_at, end_at + len(env) + 2, "{" + base + "}"))
        if base in ROW_NUMBERED:
            for s, e in mine:
                if (s, e) not in labelled_units and "\\tag" not in source[s:e] and "\\notag" not in source[s:e]:
                    at = e if source[s:e].strip() else s
                    if at == node.pos + node.len:  # the last row ends at \end{…}
                        at = end_at - len("\\end")
                    edits.append(tex.Edit(at, at, "\\notag "))
        context.report(post, math.line, NAME, f"labelled {env} numbered as {base}")
    return edits


def rewrite_inline(post: m.Post, index: int, math: m.Math, labels: PostLabels):
    """Inline math with a \\label: the label becomes a numbered anchor after the formula."""
    edits, anchors = [], []
    for node, _parents, label in label_nodes(math.tex):
        name = labels.renamed.get((index, node.pos), label)
        edits.append(tex.splice(math.tex, node.pos, node.pos + node.len))
        anchors.append(m.RawTex(f"\\bookgeninlinelabel{{{namespaced(post.id, name)}}}"))
    source = tex.apply_edits(math.tex, edits) if edits else math.tex
    return (source if source.strip() or not edits else "{}"), anchors  # `$$` would start a display


INLINE_ANCHOR = re.compile(r"\\bookgeninlinelabel\{([^{}]*)\}")


def anchors_of(post: m.Post) -> list[str]:
    """The labels of the numbered anchors ``rewrite_inline`` left after inline math."""
    found: list[str] = []

    def gather(node):
        if isinstance(node, m.RawTex):
            found.extend(INLINE_ANCHOR.findall(node.tex))
        return node

    map_post(post, gather)
    return found


REF_MACROS = ("eqref", "ref", "autoref", "cref", "Cref", "pageref")
NAME_MACROS = REF_MACROS + ("label",)  # their argument is a name, not TeX


def rewrite_refs(post: m.Post, math: m.Math, source: str, labels: PostLabels, context: Context) -> str:
    edits = []
    if "ref" not in source:
        return source
    for node, _parents in tex.walked(source):
        if not (isinstance(node, tex.LatexMacroNode) and node.macroname in REF_MACROS):
            continue
        args = tex.macro_args(node)
        target = tex.arg_text(args[0]).strip() if args and args[0] is not None else ""
        command = "eqref" if node.macroname == "eqref" else "ref"
        if target in labels.canonical:
            edits.append(tex.Edit(node.pos, node.pos + node.len, f"\\{command}{{{namespaced(post.id, labels.canonical[target])}}}"))
        else:
            shown = target.replace("\\", "").replace("{", "").replace("}", "") or "?"
            edits.append(tex.Edit(node.pos, node.pos + node.len, f"\\text{{\\bookgendangling{{{escape_text(shown)}}}}}"))
            context.report(post, math.line, NAME, f"\\{node.macroname}{{{target}}} has no label in this post", warning=True)
    return tex.apply_edits(source, edits) if edits else source


def resolve_post(post: m.Post, context: Context) -> m.Post:
    maths = iter_math(post)
    labels = collect(post, maths, context)
    for name in anchors_of(post):  # made by an earlier run from a label in inline math
        labels.canonical.setdefault(name, name)
    counter = iter(range(len(maths)))

    def rewrite(node):
        if not isinstance(node, m.Math):
            return node
        index = next(counter)
        anchors: list = []
        if node.display:
            source = rewrite_display(post, index, node, labels, context)
        else:
            source, anchors = rewrite_inline(post, index, node, labels)
            for _ in anchors:
                context.report(post, node.line, NAME, "label in inline math numbered after the formula")
        source = rewrite_refs(post, node, source, labels, context)
        if source != node.tex and removal_may_double_scripts(node.tex):
            source, _count = separate_double_scripts(source)  # x_a\label{l}_b without its label: x_a{}_b
        new = dataclasses.replace(node, tex=source) if source != node.tex else node
        return (new, *anchors) if anchors else new

    return map_post(post, rewrite)


PASS = Pass(NAME, resolve_post)
