r"""Pass ``scripts``: sub- and superscripts MathJax reads and TeX does not.

MathJax takes a whole ``\cmd{arg}`` as a script (``_\boldsymbol{B}``,
``^\frac{1}{2}``) and forgives a doubled script (``x^a^b``); TeX takes only the
next token and stops with ``Missing { inserted`` or ``Double superscript``.

Before → after: ``\mathop{\text{argmin}}_\boldsymbol{B}`` → ``\mathop{\text{argmin}}_{\boldsymbol{B}}``;
``x^a^b`` → ``x^a{}^b``.
"""

from __future__ import annotations

import dataclasses
import re

from bookgen import model as m
from bookgen.transforms import tex
from bookgen.transforms.base import Context, Pass
from bookgen.transforms.walk import map_math

NAME = "scripts"


def _scripts_before(node, previous) -> bool:
    return isinstance(previous, tex.LatexCharsNode) and previous.chars.rstrip(" ").endswith(("_", "^"))


def brace_macro_scripts(source: str) -> tuple[str, int]:
    edits: list[tex.Edit] = []
    for node, _parents in tex.walked(source):
        nodelist = getattr(node, "nodelist", None) or []
        _collect(nodelist, edits)
    _collect(tex.parse(source), edits)
    return (tex.apply_edits(source, edits), len(edits)) if edits else (source, 0)


def _collect(nodes, edits: list[tex.Edit]) -> None:
    previous = None
    for node in nodes:
        if node is None:
            continue
        if (
            isinstance(node, tex.LatexMacroNode)
            and any(a is not None for a in tex.macro_args(node))
            and _scripts_before(node, previous)
        ):
            edit = tex.Edit(node.pos, node.pos + node.len, "{" + node.latex_verbatim() + "}")
            if edit not in edits:
                edits.append(edit)
        previous = node


# A later pass that removes a \label or \tag sitting between two scripts
# (x_a\label{l}_b) doubles them; only then must it run separate_double_scripts,
# which parses the whole formula again.
_MOVABLE_BEFORE_SCRIPT = re.compile(
    r"\\(?:label|tag|notag|nonumber)(?![A-Za-z])\*?\s*(?:\{(?:[^{}]|\{[^{}]*\})*\})?\s*[_^]"
)


def removal_may_double_scripts(original: str) -> bool:
    """Whether removing the labels and tags of ``original`` may leave ``x_a_b``."""
    return ("\\label" in original or "tag" in original or "\\nonumber" in original) and bool(
        _MOVABLE_BEFORE_SCRIPT.search(original)
    )


def separate_double_scripts(source: str) -> tuple[str, int]:
    r"""``x^a^b`` → ``x^a{}^b`` (and ``x_a_b`` → ``x_a{}_b``): TeX stops with "Double superscript"."""
    edits: list[tex.Edit] = []
    _double_scripts(tex.parse(source), edits)
    for node, parents in tex.walked(source):
        if not isinstance(node, tex.LatexCharsNode) and not tex.inside_text(parents + (node,)):
            _double_scripts(getattr(node, "nodelist", None) or [], edits)
    edits = sorted(set(edits))
    return (tex.apply_edits(source, edits), len(edits)) if edits else (source, 0)


def _double_scripts(nodes, edits: list[tex.Edit]) -> None:
    """Walk one list of sibling nodes as TeX's math list: nucleus, then at most one ^ and one _."""
    seen: set[str] = set()  # the scripts the current nucleus already has
    argument_next = False  # the next atom is a script's argument, not a new nucleus
    for node in nodes:
        if node is None or isinstance(node, tex.LatexCommentNode):
            continue
        if not isinstance(node, tex.LatexCharsNode):
            if argument_next:
                argument_next = False
            else:
                seen = set()
            continue
        for offset, char in enumerate(node.chars):
            if char.isspace() or char == "'":
                continue
            if char in "^_" and not argument_next:
                if char in seen:
                    edits.append(tex.Edit(node.pos + offset, node.pos + offset, "{}"))
                    seen = set()
                seen.add(char)
                argument_next = True
            elif argument_next:
                argument_next = False
            else:
                seen = set()


def run(post: m.Post, context: Context) -> m.Post:
    def repair(post: m.Post, math: m.Math) -> m.Math:
        source = math.tex
        if "_\\" in source or "^\\" in source or "_ \\" in source or "^ \\" in source:
            source, count = brace_macro_scripts(source)
            if count:
                context.report(post, math.line, NAME, f"braced {count} script argument(s) written as \\cmd{{…}}")
        if source.count("^") > 1 or source.count("_") > 1:
            source, count = separate_double_scripts(source)
            if count:
                context.report(post, math.line, NAME, f"separated {count} doubled script(s) with {{}}")
        return dataclasses.replace(math, tex=source) if source != math.tex else math

    return map_math(post, repair)


PASS = Pass(NAME, run)
