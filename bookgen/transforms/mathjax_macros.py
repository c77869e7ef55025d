r"""Pass ``mathjax-macros``: commands only MathJax knows, made LaTeX.

* ``\require{…}`` is dropped; ``\style{css}{x}``, ``\class{c}{x}``, ``\cssId{id}{x}`` keep ``x``;
* ``\bbox[yellow,5px,border:2px solid red]{x}`` → ``\bookgenbbox{3.75pt}{1.5pt}{FFFF00}{FF0000}{x}``
  (the preamble's box: padding, border width, background and border colours, as MathJax reads
  the options: a colour is the background, a length the padding, ``border:`` the frame);
  ``\unicode{x2212}`` → the character itself (the unicode-math pass then typesets it);
* ``\color{c}{x}`` is MathJax's two-argument form → ``\textcolor{c}{x}`` (LaTeX's
  ``\color`` is a switch and would colour the rest of the formula); CSS colour
  names (``skyblue``) and ``#hex`` → ``[HTML]{87CEEB}``;
* ``\gt``/``\lt`` → ``>``/``<``; text-size commands (``\small{…}``), which LaTeX
  ignores in math with a warning, are dropped; ``\boldsymbol{\boldsymbol{x}}``
  (TeX runs out of memory) → ``\boldsymbol{x}``;
* ``\newcommand``/``\renewcommand``/``\DeclareMathOperator`` inside math (MathJax
  keeps them for the rest of the page, and the blog writes ``\newcommand{sign}``
  without the backslash) move to the post's own macros, defined at the top of
  its chapter (inside a group), so two posts may define one name differently.

Before → after: ``\newcommand{tr}{\mathop{\text{tr}}}\tr(A)`` → ``\tr(A)`` with
``\providecommand{\tr}{}\renewcommand{\tr}{\mathop{\text{tr}}}`` in the chapter.
"""

from __future__ import annotations

import dataclasses
import re
from typing import NamedTuple

from bookgen import model as m
from bookgen.catalogue import UNSETTLED, until_stable
from bookgen.transforms import tex
from bookgen.transforms.base import Context, Pass
from bookgen.transforms.css_colors import CSS_COLORS
from bookgen.transforms.unknown_commands import is_known
from bookgen.transforms.walk import map_math, map_post

NAME = "mathjax-macros"
XCOLOR_BASE = {
    "red", "green", "blue", "cyan", "magenta", "yellow", "black", "gray", "white", "darkgray", "lightgray",
    "brown", "lime", "olive", "orange", "pink", "purple", "teal", "violet",
}  # fmt: skip
SIZE_COMMANDS = (
    "Tiny", "tiny", "scriptsize", "footnotesize", "small", "normalsize", "large", "Large", "LARGE", "huge", "Huge",
)  # fmt: skip
DEFINERS = ("newcommand", "renewcommand", "providecommand", "DeclareMathOperator")
MACRO_NAME = re.compile(r"^\\?([A-Za-z]+)$")


def color_spec(name: str) -> str | None:
    """An xcolor argument for a MathJax colour (``red`` → ``{red}``, ``skyblue`` → ``[HTML]{87CEEB}``)."""
    name = name.strip()
    if name.startswith("\\#"):
        name = name[1:]  # the balance pass escapes the # of a hex colour, as it does every #
    if name in XCOLOR_BASE:
        return "{" + name + "}"
    if name.lower() in CSS_COLORS:
        return "[HTML]{" + CSS_COLORS[name.lower()] + "}"
    match = re.fullmatch(r"#?([0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})", name)
    if match and (name.startswith("#") or len(name) == 6):
        digits = match.group(1)
        digits = "".join(c * 2 for c in digits) if len(digits) == 3 else digits
        return "[HTML]{" + digits.upper() + "}"
    return None


def html_color(name: str) -> str | None:
    """A MathJax (CSS) colour as six hex digits: ``red`` → ``FF0000``, ``#fc0`` → ``FFCC00``; None if unknown."""
    spec = color_spec(name)
    if spec is None:
        return None
    if spec.startswith("[HTML]"):
        return spec[len("[HTML]{") : -1]
    return CSS_COLORS[spec.strip("{}")]  # the xcolor base names are CSS names too (gray, lime, olive…)


BBOX_LENGTH = re.compile(r"^\s*(-?(?:\d+(?:\.\d*)?|\.\d+))\s*(px|pt|em|ex|mu|pc|in|mm|cm)\s*$")
CSS_WORD = re.compile(r"#[0-9A-Fa-f]{3,6}\b|[A-Za-z]+|-?(?:\d+(?:\.\d*)?|\.\d+)(?:px|pt|em|ex|mu|pc|in|mm|cm)")


def tex_length(number: str, unit: str) -> str:
    """A CSS/MathJax length as TeX's: ``5px`` → ``3.75pt`` (96px to the inch), ``18mu`` → ``1em``."""
    if unit == "px":
        return f"{float(number) * 0.75:g}pt"
    if unit == "mu":
        return f"{float(number) / 18:g}em"
    return f"{number}{unit}"


def bbox(options: str, math: str) -> str:
    r"""MathJax's ``\bbox[options]{math}`` as the preamble's ``\bookgenbbox``.

    Each comma-separated option is a colour (the background), a length (the padding) or
    CSS (``border: 2px solid red``: the frame's width and colour; others are dropped).
    """
    padding, rule, background, frame = "0pt", "0.4pt", "", ""
    for option in options.split(","):
        length = BBOX_LENGTH.match(option)
        if length:
            padding = tex_length(*length.groups())
        elif ":" in option:
            prop, _, value = option.partition(":")
            if prop.strip().lower() != "border":
                continue
            frame = "000000"  # CSS: the current colour
            for word in CSS_WORD.findall(value):
                found = re.fullmatch(r"(-?[\d.]+)(px|pt|em|ex|mu|pc|in|mm|cm)", word)
                if found:
                    rule = tex_length(*found.groups())
                elif html_color(word):
                    frame = html_color(word) or frame
        elif html_color(option):
            background = html_color(option) or ""
    if background and padding == "0pt" and not frame:
        padding = "1pt"  # xcolor's box needs a little, or the colour is cut at the glyphs' edges
    return f"\\bookgenbbox{{{padding}}}{{{rule}}}{{{background}}}{{{frame}}}{{{math}}}"


def unicode_char(code: str) -> str | None:
    code = code.strip()
    try:
        number = int(code[1:], 16) if code[:1] in "xX" else int(code, 10)
        return chr(number) if 0 < number < 0x110000 else None
    except ValueError:
        return None


class Definition(NamedTuple):
    name: str
    text: str  # the LaTeX that defines it in the chapter
    body: str  # its replacement text (what \\name expands to)


def definition(node) -> Definition | None:
    """The definition made by a \\newcommand-like node, or None when it is unusable."""
    args = tex.macro_args(node)
    if node.macroname == "DeclareMathOperator":
        star, name_arg, body_arg = (args + [None, None, None])[:3]
        name = _macro_name(name_arg)
        if name is None or body_arg is None:
            return None
        op = "\\operatorname*" if star is not None else "\\operatorname"
        body_text = f"{op}{{{tex.arg_text(body_arg)}}}"
        return Definition(name, f"\\providecommand{{\\{name}}}{{}}\\renewcommand{{\\{name}}}{{{body_text}}}", body_text)
    star, name_arg, count, default, body = (args + [None] * 5)[:5]
    name = _macro_name(name_arg)
    if name is None or body is None:
        return None
    count_text = f"[{tex.arg_text(count)}]" if count is not None else ""
    default_text = f"[{tex.arg_text(default)}]" if default is not None else ""
    body_text, _notes, _definitions = repair(tex.arg_text(body))  # a macro body is MathJax math too
    text = f"\\providecommand{{\\{name}}}{{}}\\renewcommand{{\\{name}}}{count_text}{default_text}{{{body_text}}}"
    return Definition(name, text, body_text)


def _nested_bold(arg) -> bool:
    inner = [n for n in (arg.nodelist or []) if not (isinstance(n, tex.LatexCharsNode) and not n.chars.strip())]
    return len(inner) == 1 and isinstance(inner[0], tex.LatexMacroNode) and inner[0].macroname in ("boldsymbol", "bm")


def _strip_bold(text: str) -> str:
    match = re.fullmatch(r"\s*\\(?:boldsymbol|bm)\s*\{(.*)\}\s*", text, re.DOTALL)
    return match.group(1) if match else text


def _macro_name(arg) -> str | None:
    match = MACRO_NAME.match(tex.arg_text(arg).strip()) if arg is not None else None
    return match.group(1) if match else None


def repair(source: str) -> tuple[str, list[str], list[Definition]]:
    """Repair until nothing changes: an outer edit (\\style{…}{\\color…}) hides the inner one for a round."""
    source, (notes, definitions), settled = until_stable(repair_once, source)
    return source, notes + ([] if settled else [UNSETTLED]), definitions


TRIGGERS = re.compile(
    r"\\(?:require|style|class|cssId|bbox|unicode|color|textcolor|colorbox|gt|lt|Tiny|tiny|scriptsize|footnotesize|small"
    r"|normalsize|large|Large|LARGE|huge|Huge|newcommand|renewcommand|providecommand|DeclareMathOperator)(?![A-Za-z])"
    r"|\\(?:boldsymbol|bm|pmb)\s*\{\s*\\(?:boldsymbol|bm)"
)


def repair_once(source: str) -> tuple[str, list[str], list[tuple[str, str]]]:
    edits: list[tex.Edit] = []
    notes: list[str] = []
    definitions: list[Definition] = []
    if not TRIGGERS.search(source):
        return source, notes, definitions
    for node, _parents in tex.walked(source):
        if not isinstance(node, tex.LatexMacroNode):
            continue
        if any(edit.start <= node.pos < edit.end for edit in edits):
            continue  # inside a span already rewritten: the next round sees it
        name, args = node.macroname, tex.macro_args(node)
        span = (node.pos, node.pos + node.len)
        if name == "require":
            edits.append(tex.splice(source, *span))
            notes.append("removed \\require")
        elif name in ("style", "class", "cssId") and len(args) == 2 and args[1] is not None:
            edits.append(tex.Edit(*span, "{" + tex.arg_text(args[1]) + "}"))
            notes.append(f"removed \\{name} (CSS only)")
        elif name == "bbox" and args and args[-1] is not None:
            options = tex.arg_text(args[0]) if args[0] is not None else ""
            edits.append(tex.Edit(*span, bbox(options, tex.arg_text(args[-1]))))
            notes.append(f"\\bbox[{options}] → \\bookgenbbox")
        elif name == "unicode" and args and args[0] is not None:
            char = unicode_char(tex.arg_text(args[0]))
            edits.append(tex.splice(source, *span, char if char and char not in "\\{}$%#&" else ""))
            notes.append(f"\\unicode{{{tex.arg_text(args[0])}}} → {char or 'nothing (invalid code)'}")
        elif name in ("color", "textcolor", "colorbox") and len(args) > 1 and args[0] is None and args[1] is not None:
            colour = tex.arg_text(args[1])
            spec = color_spec(colour)
            rest = "".join("{" + tex.arg_text(a) + "}" for a in args[2:] if a is not None)
            command = "textcolor" if name == "color" else name
            if spec is None:
                edits.append(tex.splice(source, *span, rest))
                notes.append(f"dropped unknown colour '{colour}'")
            elif spec != "{" + colour + "}" or command != name:
                edits.append(tex.Edit(*span, f"\\{command}{spec}{rest}"))
                notes.append(f"\\{name}{{{colour}}} → \\{command}{spec}")
        elif name in ("gt", "lt"):
            edits.append(tex.Edit(*span, ">" if name == "gt" else "<"))
            notes.append(f"\\{name} → {'>' if name == 'gt' else '<'}")
        elif name in SIZE_COMMANDS:
            edits.append(tex.splice(source, node.pos, node.pos + len(name) + 1))  # the switch only; its group stays
            notes.append(f"dropped \\{name} (no text sizes in math)")
        elif name in ("boldsymbol", "bm", "pmb") and args and args[0] is not None and _nested_bold(args[0]):
            edits.append(tex.Edit(*span, "\\boldsymbol{" + _strip_bold(tex.arg_text(args[0])) + "}"))
            notes.append("flattened nested \\boldsymbol")
        elif name in DEFINERS:
            found = definition(node)
            edits.append(tex.splice(source, *span))
            if found:
                definitions.append(found)
                written = tex.arg_text(args[1]) if len(args) > 1 and args[1] is not None else ""
                fixed = " (added the missing backslash)" if not written.strip().startswith("\\") else ""
                notes.append(f"moved \\{name} of \\{found[0]} to the chapter's macros{fixed}")
            else:
                notes.append(f"dropped an unusable \\{name}")
    return (tex.apply_edits(source, edits) if edits else source), notes, definitions


def recursive_definitions(definitions: dict[str, Definition]) -> list[str]:
    """Names whose expansion reaches themselves again (\\x → \\x, or \\y → \\z → \\y)."""
    uses = {
        name: {used for used in re.findall(r"\\([A-Za-z]+)", found.body) if used in definitions}
        for name, found in definitions.items()
    }

    def reaches_itself(start: str) -> bool:
        seen, todo = set(), list(uses[start])
        while todo:
            name = todo.pop()
            if name == start:
                return True
            if name not in seen:
                seen.add(name)
                todo.extend(uses.get(name, ()))
        return False

    return sorted(name for name in definitions if reaches_itself(name))


USER_PREFIX = "bookgenuser"  # what a post's own version of a LaTeX command is called: \mbox → \bookgenusermbox


def scoped_name(name: str) -> str:
    return USER_PREFIX + name


def scope_away(definition: Definition) -> Definition:
    r"""The definition of a command LaTeX already has, under a name of the post's own.

    LaTeX's own macros use their commands (``\text`` calls ``\mbox``): redefined in place,
    ``\renewcommand{\mbox}[1]{\text{#1}}`` would make ``\text`` loop forever.
    """
    name, new = definition.name, scoped_name(definition.name)
    return Definition(new, definition.text.replace(f"{{\\{name}}}", f"{{\\{new}}}", 2), definition.body)


def use_scoped_names(source: str, names: frozenset[str]) -> str:
    """Each use of a scoped-away command in ``source`` → the post's own name for it."""
    if not any("\\" + name in source for name in names):
        return source
    edits = [
        tex.Edit(node.pos, node.pos + 1 + len(node.macroname), "\\" + scoped_name(node.macroname))
        for node, _parents in tex.walked(source)
        if isinstance(node, tex.LatexMacroNode) and node.macroname in names
    ]
    return tex.apply_edits(source, edits) if edits else source


def run(post: m.Post, context: Context) -> m.Post:
    collected: dict[str, tuple[Definition, int]] = {}  # name → its definition, the line of the math it was in

    def repair_math(post: m.Post, math: m.Math) -> m.Math:
        source, notes, definitions = repair(math.tex)
        if not math.display and not source.strip() and math.tex.strip():
            source = "{}"  # $\newcommand…$ alone: empty inline math would be `$$`, a display to TeX
        for note in notes:
            context.report(post, math.line, NAME, note, warning=note == UNSETTLED)
        for found in definitions:
            # One definition per name for the whole chapter: the first, the one the post's earliest math used.
            collected.setdefault(found.name, (found, math.line))
        return dataclasses.replace(math, tex=source) if source != math.tex else math

    post = map_math(post, repair_math)
    found = {name: definition for name, (definition, _line) in collected.items()}
    if not found:
        return post
    builtin = frozenset(name for name in found if is_known(name))
    for name in sorted(builtin):
        context.report(post, collected[name][1], NAME, f"\\{name} is LaTeX's own: the post's "
                       f"definition is used as \\{scoped_name(name)} in its formulas", warning=True)  # fmt: skip
    for name in recursive_definitions({n: d for n, d in found.items() if n not in builtin}):
        del found[name]
        context.report(post, 1, NAME, f"dropped \\{name}: its definition refers to itself (TeX would loop)", warning=True)
    definitions = [scope_away(d) if name in builtin else d for name, d in sorted(found.items())]
    post = dataclasses.replace(post, macros=post.macros + tuple(d.text for d in definitions))
    if not builtin:
        return post
    return map_post(post, lambda node: _scoped_math(node, builtin))


def _scoped_math(node, names: frozenset[str]):
    if not isinstance(node, m.Math):
        return node
    source = use_scoped_names(node.tex, names)
    return dataclasses.replace(node, tex=source) if source != node.tex else node


PASS = Pass(NAME, run)
