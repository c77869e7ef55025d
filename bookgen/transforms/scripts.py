r"""Pass ``scripts``: sub- and superscripts MathJax reads and TeX does not.

MathJax takes a whole ``\cmd{arg}`` as a script (``_\boldsymbol{B}``,
``^\frac{1}{2}``) and forgives a doubled script (``x^a^b``); TeX takes only the
next token and stops with ``Missing { inserted`` or ``Double superscript``.

Before → after: ``\mathop{\text{argmin}}_\boldsymbol{B}`` → ``\mathop{\text{argmin}}_{\boldsymbol{B}}``;
``x^a^b`` → ``x^a{}^b``.
"""

from __future__ import annotations

import dataclasses

from bookgen import model as m
from bookgen.transforms import Context, tex
from bookgen.transforms.walk import map_math

NAME = "scripts"


def _scripts_before(node, previous) -> bool:
    return isinstance(previous, tex.LatexCharsNode) and previous.chars.rstrip(" ").endswith(("_", "^"))


def brace_macro_scripts(source: str) -> tuple[str, int]:
    edits: list[tex.Edit] = []
    for node, _parents in tex.walk(tex.parse(source)):
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


def run(book: m.Book, context: Context) -> m.Book:
    def repair(post: m.Post, math: m.Math) -> m.Math:
        if "_\\" not in math.tex and "^\\" not in math.tex and "_ \\" not in math.tex and "^ \\" not in math.tex:
            return math
        source, count = brace_macro_scripts(math.tex)
        if count:
            context.report(post, math.line, NAME, f"braced {count} script argument(s) written as \\cmd{{…}}")
            return dataclasses.replace(math, tex=source)
        return math

    return map_math(book, repair)
