r"""Pass ``mathjax-extensions``: commands of MathJax's extensions whose arguments LaTeX reads otherwise.

Most of what MathJax's extensions add, the preamble defines under the same name
(``\ce`` from mhchem, ``\bra``/``\ket``/``\set`` from braket, ``\iddots``,
``\overparen``, ``\xtwoheadrightarrow``, ``\mathtip``…).  What is left takes
arguments no LaTeX command takes, and is rewritten here:

* ``\enclose{notations}[attributes]{math}`` (MathML's menclose) → one LaTeX
  drawing per notation, innermost first: ``box`` → ``\bookgenbbox``, ``circle``
  → ``\bookgencircle``, ``roundedbox`` → ``\bookgenroundedbox``, the diagonal
  strikes → ``\cancel``/``\bcancel``/``\xcancel``, ``top``/``bottom`` →
  ``\overline``/``\underline``, ``radical`` → ``\sqrt``…; ``mathcolor`` colours
  it all, ``mathbackground`` fills it.  A notation LaTeX cannot draw
  (``horizontalstrike``…) leaves the math as it is, with a warning;
* ``\mmlToken{mi}[mathvariant=bold]{x}`` (a bare MathML token) → the TeX that sets
  the same token: ``\mathbf{x}``; ``mn`` a number, ``mo`` an operator, ``mtext`` text;
* plain TeX's ``\root 3\of x`` → ``\sqrt[3]{x}`` (LaTeX keeps ``\root``, but
  ``\of`` is only its delimiter, unknown on its own, so the two cannot be checked apart);
* ``\LaTeX``, ``\TeX`` (text-mode logos, which MathJax also sets in math) → ``\text{\LaTeX}``.

Before → after: ``\enclose{circle}[mathcolor=red]{x}`` → ``\textcolor{red}{\bookgencircle{x}}``.
"""

from __future__ import annotations

import re

from bookgen.catalogue import UNSETTLED, until_stable
from bookgen.escape import escape_text
from bookgen.transforms import tex
from bookgen.transforms.base import formula_pass
from bookgen.transforms.mathjax_macros import color_spec, html_color

NAME = "mathjax-extensions"
TRIGGERS = re.compile(r"\\(?:enclose|mmlToken|root|LaTeX|TeX)(?![A-Za-z])")

# Each notation wraps the math (``%s``), innermost first, in the order written.
ENCLOSE = {
    "box": r"\bookgenbbox{2pt}{0.4pt}{}{000000}{%s}",
    "roundedbox": r"\bookgenroundedbox{%s}",
    "circle": r"\bookgencircle{%s}",
    "updiagonalstrike": r"\cancel{%s}",
    "downdiagonalstrike": r"\bcancel{%s}",
    "xcancel": r"\xcancel{%s}",  # both diagonal strikes
    "updiagonalarrow": r"\cancelto{}{%s}",
    "top": r"\overline{%s}",
    "bottom": r"\underline{%s}",
    "left": r"\left|{%s}\right.",
    "right": r"\left.{%s}\right|",
    "actuarial": r"\left.\overline{%s}\right|",
    "madruwb": r"\left.\underline{%s}\right|",
    "longdiv": r"\left)\overline{%s}\right.",
    "radical": r"\sqrt{%s}",
}
MATHVARIANT = {
    "normal": "mathrm", "bold": "mathbf", "italic": "mathit", "bold-italic": "boldsymbol",
    "double-struck": "mathbb", "script": "mathscr", "fraktur": "mathfrak", "sans-serif": "mathsf",
    "monospace": "mathtt",
}  # fmt: skip
ATTRIBUTE = re.compile(r"""([A-Za-z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^,\s]*))""")
OPERATOR_CHARS = frozenset("+-=<>()[]|/*,;:!?.'")


def attributes(text: str) -> dict[str, str]:
    """``mathcolor="red", mathvariant=bold`` → ``{"mathcolor": "red", "mathvariant": "bold"}``."""
    return {found.group(1): next(g for g in found.groups()[1:] if g is not None) for found in ATTRIBUTE.finditer(text)}


def colored(math: str, colour: str | None) -> str:
    spec = color_spec(colour) if colour else None
    return f"\\textcolor{spec}{{{math}}}" if spec else math


def enclose(notations: str, attrs: dict[str, str], math: str) -> tuple[str, list[str]]:
    """``\\enclose``'s LaTeX, and the notations it could not draw."""
    names = [n.strip() for n in re.split(r"[,\s]+", notations) if n.strip()]
    if "updiagonalstrike" in names and "downdiagonalstrike" in names:
        names = [n for n in names if n != "downdiagonalstrike"]
        names[names.index("updiagonalstrike")] = "xcancel"
    background = html_color(attrs.get("mathbackground", "")) if attrs.get("mathbackground") else None
    if background:
        math = f"\\bookgenbbox{{1pt}}{{0.4pt}}{{{background}}}{{}}{{{math}}}"
    undrawn = []
    for name in names:
        if name in ENCLOSE:
            math = ENCLOSE[name] % math
        else:
            undrawn.append(name)
    return colored(math, attrs.get("mathcolor")), undrawn


def mml_token(kind: str, attrs: dict[str, str], text: str) -> str:
    """A MathML token as TeX: ``mi``/``mn``/``mo``/``mtext``/``ms`` (anything else: nothing)."""
    text = text.strip()
    plain = re.fullmatch(r"[A-Za-z0-9.]+", text) is not None
    variant = MATHVARIANT.get(attrs.get("mathvariant", ""))
    if kind in ("mi", "mn") and plain and variant:
        math = f"\\{variant}{{{text}}}"
    elif kind == "mi" and plain:
        math = text if len(text) == 1 else f"\\mathrm{{{text}}}"  # MathML: one letter italic, a name upright
    elif kind == "mn" and plain:
        math = f"{{{text}}}"
    elif kind == "mo" and len(text) == 1 and text in OPERATOR_CHARS:
        math = f"\\{variant}{{{text}}}" if variant else text
    elif kind == "mo":
        math = f"\\mathop{{\\text{{{escape_text(text)}}}}}\\nolimits"
    elif kind in ("mi", "mn", "mtext"):
        math = f"\\text{{{escape_text(text)}}}"
    elif kind == "ms":
        math = f"\\text{{\"{escape_text(text)}\"}}"
    else:
        return "{}"
    return colored(math, attrs.get("mathcolor"))


def root_of(source: str) -> tuple[str, list[str]]:
    r"""``\root 3\of x`` → ``\sqrt[3]{x}``: the index runs to ``\of`` (at its brace depth), the radicand is one argument."""
    out, notes, cursor = [], [], 0
    for found in re.finditer(r"\\root(?![A-Za-z])", source):
        if found.start() < cursor:
            continue
        index_end = _find_of(source, found.end())
        if index_end is None:
            continue
        radicand = _argument(source, index_end + len("\\of"))
        if radicand is None:
            continue
        start, end = radicand
        body = source[start:end]
        body = body[1:-1] if body.startswith("{") and body.endswith("}") else body
        out += [source[cursor : found.start()], f"\\sqrt[{source[found.end() : index_end].strip()}]{{{body}}}"]
        cursor = end
        notes.append("\\root…\\of → \\sqrt[…]{…}")
    return "".join(out) + source[cursor:], notes


def _find_of(source: str, start: int) -> int | None:
    """Where ``\\of`` ends the index that starts at ``start`` (None: no ``\\of`` at this depth)."""
    depth = 0
    for found in re.compile(r"\\of(?![A-Za-z])|\\.|[{}]", re.DOTALL).finditer(source, start):
        token = found.group(0)
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth < 0:
                return None
        elif token == "\\of" and depth == 0:
            return found.start()
    return None


def _argument(source: str, start: int) -> tuple[int, int] | None:
    """The span of the one TeX argument after ``start``: a braced group, a control sequence or a character."""
    position = len(source) - len(source[start:].lstrip())
    if position >= len(source):
        return None
    if source[position] != "{":
        control = re.match(r"\\(?:[A-Za-z]+|.)", source[position:], re.DOTALL)
        return position, position + (control.end() if control else 1)
    end = tex.group_end(source, position, "}")
    return (position, end) if end is not None else None


def repair(source: str) -> tuple[str, list[str], list[str]]:
    """Repairs and warnings; repeated until nothing changes (an \\enclose inside an \\enclose is seen on the next round)."""
    source, (notes, warnings), settled = until_stable(_repair_if_triggered, source)
    return source, notes, warnings + ([] if settled else [UNSETTLED])


def _repair_if_triggered(source: str) -> tuple[str, list[str], list[str]]:
    return _repair_once(source) if TRIGGERS.search(source) else (source, [], [])


def _repair_once(source: str) -> tuple[str, list[str], list[str]]:
    source, notes = root_of(source)
    warnings: list[str] = []
    edits: list[tex.Edit] = []
    for node, parents in tex.walked(source):
        if not isinstance(node, tex.LatexMacroNode) or any(e.start <= node.pos < e.end for e in edits):
            continue
        name, args = node.macroname, tex.macro_args(node)
        span = (node.pos, node.pos + node.len)
        if name == "enclose" and len(args) == 3 and args[0] is not None and args[2] is not None:
            notations = tex.arg_text(args[0])
            attrs = attributes(tex.arg_text(args[1])) if args[1] is not None else {}
            drawn, undrawn = enclose(notations, attrs, tex.arg_text(args[2]))
            edits.append(tex.Edit(*span, drawn))
            notes.append(f"\\enclose{{{notations}}} → {_commands(drawn) or 'its math'}")
            warnings += [f"\\enclose notation '{n}' has no LaTeX drawing: the math is shown without it" for n in undrawn]
        elif name == "mmlToken" and len(args) == 3 and args[0] is not None and args[2] is not None:
            kind = tex.arg_text(args[0]).strip()
            attrs = attributes(tex.arg_text(args[1])) if args[1] is not None else {}
            edits.append(tex.Edit(*span, mml_token(kind, attrs, tex.arg_text(args[2]))))
            notes.append(f"\\mmlToken{{{kind}}} → TeX")
        elif name in ("LaTeX", "TeX") and not tex.inside_text(parents):
            edits.append(tex.Edit(*span, f"\\text{{\\{name}}}"))
            notes.append(f"\\{name} in math → \\text{{\\{name}}}")
    return (tex.apply_edits(source, edits) if edits else source), notes, warnings


def _commands(latex: str) -> str:
    """The commands that draw, for the report: ``\\textcolor{red}{\\bookgencircle{x}}`` → ``\\textcolor \\bookgencircle``."""
    drawing = re.findall(r"\\(textcolor|bookgen\w+|cancel\w*|bcancel|xcancel|overline|underline|sqrt|left)", latex)
    return " ".join("\\" + name for name in dict.fromkeys(drawing))


PASS = formula_pass(NAME, repair, TRIGGERS)
