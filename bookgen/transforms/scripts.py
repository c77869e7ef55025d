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


# Most formulas have several scripts and no double one; parsing each (pylatexenc) to
# find out was a third of the normalizer's time.  This scan is only a pre-check, so a
# few lines of our own rather than a second parser: it answers "maybe" wherever the
# parse below could find a double script (a chain of scripts on one nucleus that
# repeats ^ or _, or runs to three), and the parse stays the judge.  A property test
# holds it to that.
_CONTROL_WORD = re.compile(r"\\(?:[^\W\d_]+|.)", re.DOTALL)  # letters as XeTeX reads them (α too)


def _skip(source: str, i: int, chars: str) -> int:
    while i < len(source) and source[i] in chars:
        i += 1
    return i


def _script_argument_end(source: str, i: int) -> int | None:
    """Where the argument of a script starting at ``i`` ends (after primes and spaces); None: unsure."""
    i = _skip(source, i, " \t\n'")
    if i >= len(source):
        return i
    if source[i] == "{":
        return tex.group_end(source, i, "}")
    if source[i] in "^_":
        return None  # a script as a script's argument: what the parse makes of it is its business
    if source[i] != "\\":
        return i + (tex.specials_at(source, i) or 1)  # ``--`` is one node to the parse, as ``{--}`` would be
    word = _CONTROL_WORD.match(source, i)
    name = word.group(0)[1:] if word else ""
    if name == "begin":
        return None  # an environment as the argument
    spec = tex.macro_spec(name)
    i = word.end() if word else i + 1
    for kind in spec:  # the macro's arguments as the parse reads them: each must be braced to be sure
        after = _skip(source, i, " \t\n")
        if kind == "*" and after < len(source) and source[after] == "*":
            i = after + 1
        elif kind in "[{" and after < len(source) and source[after] == kind:
            i = tex.group_end(source, after, "]" if kind == "[" else "}")
            if i is None:
                return None
        elif kind == "{":
            return None  # an unbraced argument: one token or more, the parse decides
    return i


_HIDDEN_GROUPING = re.compile(r"[%$]|\\[()\[\]]")
_GROUPING = re.compile(r"\\(begin|end)(?![A-Za-z])\s*(\{[^{}]*\})?|\\.|[{}]", re.DOTALL)


def _balanced(source: str) -> bool:
    r"""Every ``{`` and ``\begin{env}`` closed by its own kind, in order (an escaped ``\{`` is no brace)."""
    open_: list[str] = []
    for found in _GROUPING.finditer(source):
        token, kind, name = found.group(0), found.group(1), found.group(2)
        if kind and not name:
            return False  # \begin without its name
        if token == "{" or kind == "begin":
            open_.append(name or "{")
        elif token == "}" or kind == "end":
            if not open_ or open_.pop() != (name or "{"):
                return False
    return not open_


def may_double_scripts(source: str) -> bool:
    """False only when no nucleus of ``source`` can carry two ``^`` or two ``_`` (see above)."""
    if _HIDDEN_GROUPING.search(source) or not _balanced(source):
        return True  # a comment, a math switch, a stray brace or \end: the parse groups what this scan cannot
    i = 0
    while i < len(source):
        char = source[i]
        if char == "\\":
            word = _CONTROL_WORD.match(source, i)
            i = word.end() if word else i + 1
            continue
        if char not in "^_":
            i += 1
            continue
        chain, at = [], i
        while at < len(source) and source[at] in "^_":
            chain.append(source[at])
            end = _script_argument_end(source, at + 1)
            if end is None:
                return True
            at = _skip(source, end, " \t\n'")
        if len(chain) > 2 or len(set(chain)) < len(chain):
            return True
        i += 1
    return False


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
        if (source.count("^") > 1 or source.count("_") > 1) and may_double_scripts(source):
            source, count = separate_double_scripts(source)
            if count:
                context.report(post, math.line, NAME, f"separated {count} doubled script(s) with {{}}")
        return dataclasses.replace(math, tex=source) if source != math.tex else math

    return map_math(post, repair)


PASS = Pass(NAME, run)
