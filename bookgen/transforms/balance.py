r"""Pass ``balance``: math that can never break the build.

MathJax shows a red error for a broken formula and the page goes on; TeX stops
the whole volume.  ``balance_math`` makes any math well formed enough for TeX:

* braces ``{}`` balanced (``\{`` ``\}`` and ``\\`` are not braces): an unmatched
  ``}`` is removed, an unclosed ``{`` closed;
* ``\begin{X}``/``\end{X}`` paired: an ``\end`` without its ``\begin`` is removed,
  an unclosed ``\begin`` closed (and whatever is still open inside it first);
* ``\left``/``\right`` paired within a group and a cell of an alignment: an
  unclosed ``\left(`` gets ``\right.``, a lone ``\right)`` gets ``\left.``;
  ``\middle`` outside them is dropped, a missing delimiter becomes ``.``;
* a command or ``^``/``_`` missing its argument before a closer or the end gets ``{}``,
  a double script (``x^a^b``) gets an empty atom between, ``\big`` without a
  delimiter gets ``.``;
* a display in a heading or a figure caption is set inline (those go to the
  contents and the bookmarks, where a display stops TeX), before anything else;
* inline math: a ``\\`` outside an alignment is dropped (MathJax ignores it; in a
  table cell or a heading TeX stops) — a formula left empty stays empty, and the
  writer prints nothing for it;
* ``$`` (it would leave math; inside ``\text{…}`` it is kept, and closed if need be), ``\[ \] \( \)``
  (math cannot nest) and a trailing lone backslash are removed; ``#`` becomes
  ``\#`` and ``&`` outside an alignment becomes ``\&`` (both kept in a ``\newcommand`` body);
  ``_``/``^`` in text become ``\_``/``\textasciicircum{}``; a ``%`` comment, a
  blank line and ``\par`` are removed;
* a formula nested deeper than TeX's group limit allows is replaced by a note
  (reported as a warning), and lines longer than TeX's input buffer likes are broken;
* inside a ``\newcommand``/``\newenvironment`` definition only braces are balanced
  (a macro may open what another closes) and ``#1``, ``&`` are kept.

Dropping a token never glues its neighbours into a new one (``\in$put`` stays
two tokens), so the pass can run after ``untrusted-tex`` without undoing it.

Before → after: ``\frac{a}{`` → ``\frac{a}{}``; ``\left( x`` → ``\left( x\right.``;
``a}\end{array}`` → ``a``; ``\begin{aligned} a & b`` → ``\begin{aligned} a & b\end{aligned}``.

A hand-written left-to-right scanner, not pylatexenc: the parse is tolerant
exactly where this pass must be strict (it silently drops an unmatched ``}`` or
misplaces an ``\end``), and its output cannot be edited back into balance.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from bookgen import model as m
from bookgen.catalogue import SIGNATURES, TEXT_MODE, ZERO_WIDTH
from bookgen.transforms import walk
from bookgen.transforms.base import Context, Pass

NAME = "balance"
MAX_DEPTH = 100  # weighted nesting (an environment counts 3); TeX allows 255 groups in all
MAX_LINE = 4000  # TeX reads a line into a 200000-character buffer; stay far below it
OMITTED = r"\text{[formula nested too deeply: omitted]}"
OMITTED_MESSAGE = f"omitted a formula nested more than {MAX_DEPTH} levels deep"

TOKEN = re.compile(
    r"(?P<blank>\n(?:[ \t]*\n)+)"
    r"|(?P<cs>\\(?:[A-Za-z@]+|[\s\S])?)"
    r"|(?P<comment>%[^\n]*)"
    r"|(?P<space>[ \t\r\n" + "".join(sorted(ZERO_WIDTH)) + "]+)"  # invisibles: spaces once unicode-math drops them
    r"|(?P<char>[\s\S])"
)
ENV_NAME = re.compile(r"\s*\{([^{}\\]*)\}")
DELIMITER = re.compile(r"\s*(\\(?:[A-Za-z]+|[\s\S])|[^\s\\])")
DELIMITER_CHARS = frozenset("()[]<>|/.")
DELIMITER_COMMANDS = frozenset(
    r"""
    { } | langle rangle lbrace rbrace lbrack rbrack lvert rvert lVert rVert vert Vert lfloor rfloor lceil rceil
    uparrow downarrow updownarrow Uparrow Downarrow Updownarrow backslash lgroup rgroup lmoustache rmoustache
    ulcorner urcorner llcorner lrcorner arrowvert Arrowvert bracevert
    """.split()
)
# Math cannot nest: inside math these would leave it; as a \left delimiter they mean the bracket.
PLAIN = re.compile(r"[A-Za-z0-9 +\-=*/().,<>|'!:;]*\Z")  # no command, brace, script or special
BIG = re.compile(r"^[bB]igg?[lrm]?$")  # \big( \Bigl[ …: like \left, they need a delimiter
MATH_SWITCHES = {"[": "[", "]": "]", "(": "(", ")": ")"}

ALIGN_COMMANDS = frozenset("matrix pmatrix bmatrix vmatrix Vmatrix bordermatrix cases eqalign eqalignno "
                           "leqalignno halign".split())  # fmt: skip
NOT_ALIGNMENTS = frozenset(
    "equation equation* gather gather* gathered multline multline* displaymath math subequations".split()
)
# Rows without cells: \\ breaks a row here even in inline math (MathJax and LaTeX set gathered's rows there).
ROWS_ONLY = frozenset("gather gather* gathered multline multline*".split())
ROW_COMMANDS = frozenset({"displaylines"})  # plain TeX's, which MathJax reads with \\ between rows
DEFINERS = frozenset(
    "newcommand renewcommand providecommand newenvironment renewenvironment DeclareMathOperator".split()
)


@dataclass
class Pending:
    """A command (or ``^``/``_``) still waiting for ``left`` arguments."""

    name: str
    left: int
    spec: str
    taken: int = 0
    bracket: bool = False  # inside its [optional argument]


@dataclass
class Frame:
    kind: str  # "root", "brace", "env", "left"
    name: str = ""  # the environment, or the \left delimiter
    text: bool = False  # a text-mode argument (\text{…})
    align: bool = False  # & and \\ separate cells here
    rows: bool = False  # \\ separates rows here (every alignment, and ROWS_ONLY)
    definition: bool = False  # inside a \newcommand header or body: #1 is a parameter
    cell: int = 0  # index in the output where the current cell starts
    dollars: list[int] = field(default_factory=list)  # output indices of $ inside a text frame
    pending: list[Pending] = field(default_factory=list)
    scripts: set[str] = field(default_factory=set)  # ^ and _ the current nucleus already has

    @property
    def in_text(self) -> bool:
        """Text mode here: a text argument, not inside a $…$ of its own."""
        return self.text and len(self.dollars) % 2 == 0

    @property
    def weight(self) -> int:
        return 3 if self.kind == "env" else 1


class _TooDeep(Exception):
    pass


# Where a token was dropped.  Dropping must not glue its neighbours into a new
# token (``\in$put`` → ``\input``, ``^$^5c`` → ``^^5c``, ``\n}\n`` → a blank
# line), so each drop is resolved once its neighbours are known.
_DROPPED = object()
CONTROL_WORD_END = re.compile(r"\\[A-Za-z@]+$")
BLANK_LINES = re.compile(r"\n(?:[ \t]*\n)+")


class _Balancer:
    def __init__(self, tex: str, display: bool = True):
        self.tex = tex
        self.display = display
        self.out: list[str] = []
        self.inserts: dict[int, list[str]] = {}
        self.stack: list[Frame] = [Frame("root")]
        self.depth = 0
        self.messages: list[str] = []
        self.brace_kind = ""  # what the next { opens: "text", "align" or ""
        self.definition_depth: int | None = None  # stack depth of a \newcommand header being read
        self.definition_bracket = False
        self.definition_named = False  # the header's first item (the name) was read
        self.definition_skip = False

    # ---- output
    def emit(self, text: str) -> None:
        self.out.append(text)

    def insert_at(self, index: int, text: str) -> None:
        self.inserts.setdefault(index, []).append(text)

    def note(self, message: str) -> None:
        self.messages.append(message)

    def drop(self, message: str) -> None:
        self.out.append(_DROPPED)
        self.note(message)

    def result(self) -> str:
        parts: list = []
        for index, chunk in enumerate(self.out):
            parts.extend(self.inserts.get(index, ()))
            parts.append(chunk)
        parts.extend(self.inserts.get(len(self.out), ()))
        heads: list[str] = [""] * len(parts)  # the text right after each part
        head = ""
        for index in range(len(parts) - 1, -1, -1):
            heads[index] = head
            if parts[index] is not _DROPPED and parts[index]:
                head = parts[index][:1]
        out: list[str] = []
        tail = ""
        for index, part in enumerate(parts):
            if part is _DROPPED:
                following = heads[index]
                if CONTROL_WORD_END.search(tail) and re.match(r"[A-Za-z@]", following):
                    part = " "
                elif tail.endswith("^") and following == "^":
                    part = "{}"
                else:
                    continue
            out.append(part)
            tail = (tail + part)[-64:]
        text = "".join(out)
        if BLANK_LINES.search(text):
            text = BLANK_LINES.sub("\n", text)
            self.note("removed blank line")
        return text

    @property
    def top(self) -> Frame:
        return self.stack[-1]

    # ---- frames
    def push(self, frame: Frame) -> None:
        parent = self.top
        frame.definition = frame.definition or parent.definition
        if frame.kind != "brace":
            frame.text = parent.in_text  # \left or an environment inside \text{…} is still in text
        frame.cell = len(self.out)
        self.stack.append(frame)
        self.depth += frame.weight
        if self.depth > MAX_DEPTH:
            raise _TooDeep

    def close_top(self, closer: str | None = None) -> None:
        """Close the top frame: with its own ``closer`` token if given (already matched), else a repair."""
        frame = self.top
        self.flush(frame)
        if frame.text and len(frame.dollars) % 2:
            self.emit("$")
            self.note("closed $ in text")
        if closer is not None:
            self.emit(closer)
        elif frame.kind == "brace":
            self.emit("}")
            self.note("added missing }")
        elif frame.kind == "left":
            self.emit(r"\right.")
            self.note(f"added \\right. for \\left{frame.name}")
        elif frame.kind == "env":
            self.emit(f"\\end{{{frame.name}}}")
            self.note(f"closed \\begin{{{frame.name}}}")
        self.stack.pop()
        self.depth -= frame.weight
        self.atom()

    def find(self, kind: str, name: str | None = None, cross: tuple[str, ...] = ()) -> int | None:
        """Index of the nearest open frame of ``kind`` reachable across frames of the kinds in ``cross``."""
        for index in range(len(self.stack) - 1, 0, -1):
            frame = self.stack[index]
            if frame.kind == kind and (name is None or frame.name == name):
                return index
            if frame.kind not in cross:
                return None
        return None

    def close_down_to(self, index: int, closer: str) -> None:
        while len(self.stack) - 1 > index:
            self.close_top()
        self.close_top(closer)

    # ---- arguments
    def atom(self) -> None:
        """Something complete (a character, a command, a group) was read in the top frame."""
        frame = self.top
        pending = frame.pending
        while pending:
            last = pending[-1]
            if last.bracket:
                frame.scripts = set()  # an atom inside an [optional argument]
                return
            last.left -= 1
            last.taken += 1
            if last.left > 0:
                break
            pending.pop()
            if last.name in ("^", "_"):
                return  # a script's argument: the nucleus keeps its scripts
        frame.scripts = set()

    def in_alignment(self) -> bool:
        """Whether ``&`` and ``\\\\`` separate cells here (the nearest environment, matrix or text decides)."""
        return self._owner_has("align")

    def in_rows(self) -> bool:
        """Whether ``\\\\`` breaks a row here: in an alignment, or in gathered and its kin."""
        return self._owner_has("rows")

    def _owner_has(self, flag: str) -> bool:
        if self.top.in_text:
            return False
        owner = next(f for f in reversed(self.stack) if f.kind in ("env", "root") or f.rows or f.text)
        return getattr(owner, flag) and not owner.text

    def flush(self, frame: Frame) -> None:
        """A closer: give every command still waiting in ``frame`` empty arguments."""
        if frame.definition:
            frame.pending.clear()  # a macro body may end before its last command's arguments
            return
        while frame.pending:
            last = frame.pending.pop()
            if last.bracket:
                self.emit("]")
                self.note(f"closed the [optional argument] of \\{last.name}")
            if last.left > 0:
                self.emit("{}" * last.left)
                shown = last.name if last.name in "^_" else "\\" + last.name
                self.note(f"added missing argument to {shown}")

    def cell_break(self, token: str) -> None:
        """``&`` or ``\\``: a \\left cannot span cells of the alignment around it."""
        below = next((f for f in reversed(self.stack) if f.kind != "left"), self.stack[0])
        if below.align:
            while self.top.kind == "left":
                self.close_top()
        self.flush(self.top)
        self.emit(token)
        self.top.cell = len(self.out)

    # ---- scanning
    def run(self) -> str:
        tex = self.tex
        pos = 0
        while pos < len(tex):
            match = TOKEN.match(tex, pos)
            assert match is not None
            pos = match.end()
            kind = match.lastgroup
            token = match.group(0)
            if kind == "blank":
                self.emit("\n")
                self.note("removed blank line")
            elif kind == "space":
                self.emit(token)
            elif kind == "comment":
                self.drop("removed % comment")
            elif kind == "cs":
                pos = self.control(token[1:], pos)
            else:
                pos = self.char(token, pos)
            if kind not in ("space", "blank", "comment") and self.definition_depth is not None:
                self.track_definition(kind, token)
        while len(self.stack) > 1:
            self.close_top()
        self.flush(self.top)
        return self.result()

    def track_definition(self, kind: str, token: str) -> None:
        """End a \\newcommand header at the first token that cannot belong to it."""
        if self.definition_skip:
            self.definition_skip = False  # the definer itself
            return
        depth = len(self.stack) - 1
        if depth < self.definition_depth:
            self.definition_depth = None  # the group around the definition closed
            return
        if depth > self.definition_depth:
            return  # inside one of its groups
        if self.definition_bracket:
            self.definition_bracket = token != "]"
            return
        named = self.definition_named
        self.definition_named = named or token != "*"
        if token == "[":
            self.definition_bracket = True
        elif token in ("{", "}", "*", "]") or token.isdigit() or (kind == "cs" and not named):
            return  # \newcommand*\name[1][x]{body}
        else:
            self.definition_depth = None

    def control(self, name: str, pos: int) -> int:
        tex = self.tex
        frame = self.top
        self.brace_kind = ""
        if name == "":
            self.drop("removed trailing \\")
            return pos
        if name in MATH_SWITCHES:
            self.note(f"replaced \\{name} with {name}")
            return self.char(MATH_SWITCHES[name], pos)  # then read like the bracket it became
        if name == "par":
            self.drop("removed \\par")
            return pos
        if frame.definition and name in ("left", "right", "middle", "begin", "end"):
            # A macro may open what another closes (\newenvironment{e}{\left(}{\right)}): only
            # its braces must balance, the rest is checked where it is used.
            self.emit("\\" + name)
            self.atom()
            return pos
        if name in ("left", "right") or BIG.match(name):
            return self.left_right(name, pos)
        if name == "middle":
            if self.find("left", cross=("brace",)) is None:
                self.drop("removed \\middle outside \\left…\\right")
            else:
                self.flush(self.top)
                self.emit("\\middle")
            return pos
        if name in ("begin", "end"):
            found = ENV_NAME.match(tex, pos)
            if not found:
                self.drop(f"removed \\{name} without an environment name")
                return pos
            env = found.group(1).strip()
            token = f"\\{name}{{{env}}}"
            if name == "begin":
                self.emit(token)
                align = env not in NOT_ALIGNMENTS
                self.push(Frame("env", env, align=align, rows=align or env in ROWS_ONLY))
                return found.end()
            index = self.find("env", env, cross=("brace", "left", "env"))
            if index is None:
                self.drop(f"removed \\end{{{env}}} without \\begin")
            else:
                self.close_down_to(index, token)
            return found.end()
        if name == "\\" and not self.display and not self.in_rows():
            # Inline math: MathJax ignores a \\ outside an alignment; TeX breaks the line, and in
            # a table cell or a heading that is an error.
            found = re.match(r"\*?\s*(\[[^\[\]{}]*\])?", tex[pos:])
            self.drop("removed \\\\ outside an alignment in inline math")
            return pos + found.end()
        if name == "\\" and not frame.in_text:
            self.cell_break("\\\\")
            return pos
        if name in DEFINERS:
            self.definition_depth = len(self.stack) - 1
            self.definition_bracket = False
            self.definition_named = False
            self.definition_skip = True
            self.emit("\\" + name)
            self.atom()
            self.brace_kind = ""
            return pos
        self.emit("\\" + name)
        spec = SIGNATURES.get(name)  # a command that breaks TeX when an argument is missing at a closer
        if spec is not None and spec.count("{"):
            pending = self.top.pending
            if not (pending and pending[-1].name in ("^", "_")):
                self.top.scripts = set()  # a new nucleus (not the argument of a script)
            pending.append(Pending(name, spec.count("{"), spec))
        else:
            self.atom()
        self.brace_kind = (
            "text" if name in TEXT_MODE else "align" if name in ALIGN_COMMANDS else "rows" if name in ROW_COMMANDS else ""
        )
        return pos

    def left_right(self, name: str, pos: int) -> int:
        found = DELIMITER.match(self.tex, pos)
        delimiter = "."
        if found:
            raw = found.group(1)
            if raw in DELIMITER_CHARS or (raw.startswith("\\") and raw[1:] in DELIMITER_COMMANDS):
                delimiter, pos = raw, found.end()
            elif raw.startswith("\\") and raw[1:] in MATH_SWITCHES:
                delimiter, pos = MATH_SWITCHES[raw[1:]], found.end()
                self.note(f"replaced \\{raw[1:]} with {delimiter}")
            elif len(raw) == 1 and ord(raw) > 127:
                delimiter, pos = raw, found.end()  # ⟨ ‖ …: the unicode-math pass names them
            else:
                self.note(f"added . after \\{name}")
        else:
            self.note(f"added . after \\{name}")
        if name == "left":
            self.emit(f"\\left{delimiter}")
            self.push(Frame("left", delimiter))
            return pos
        if name != "right":  # \big( and friends: a delimiter, no pairing
            self.emit(f"\\{name}{delimiter}")
            self.atom()
            return pos
        index = self.find("left", cross=("brace",))
        if index is None:
            self.insert_at(self.top.cell, r"\left.")
            self.note(f"added \\left. for \\right{delimiter}")
            self.flush(self.top)
            self.emit(f"\\right{delimiter}")
            return pos
        self.close_down_to(index, f"\\right{delimiter}")
        return pos

    def char(self, char: str, pos: int) -> int:
        frame = self.top
        brace_kind = self.brace_kind
        if char != "*":  # \tag*{…} is still a text argument
            self.brace_kind = ""
        if char == "{":
            self.emit("{")
            text = brace_kind == "text" or frame.in_text
            definition = self.definition_depth is not None and len(self.stack) - 1 == self.definition_depth
            align, rows = brace_kind == "align", brace_kind in ("align", "rows")
            self.push(Frame("brace", text=text, align=align, rows=rows, definition=definition))
            return pos
        if char == "}":
            index = self.find("brace", cross=("left",))
            if index is None:
                self.drop("removed unmatched }")
            else:
                self.close_down_to(index, "}")
            return pos
        if char == "$":
            if frame.text:
                self.flush(frame)  # a $ ends whatever came before it
                frame.dollars.append(len(self.out))
                self.emit("$")
                frame.cell = len(self.out)  # a \left. for a lone \right goes inside the $…$
            else:
                self.drop("removed $")
            return pos
        if char == "#":
            following = self.tex[pos : pos + 1]
            if frame.definition and following and following in "123456789#":
                self.emit("#" + following)
                self.atom()
                return pos + 1
            self.emit("\\#")
            self.note("escaped #")
            self.atom()
            return pos
        if char == "&":
            if frame.definition:
                self.emit("&")  # a macro body may be meant for a cell: left to where it is used
                self.atom()
            elif self.in_alignment():
                self.cell_break("&")
            else:
                self.emit("\\&")
                self.note("escaped & outside an alignment")
                self.atom()
            return pos
        if char in "^_":
            if frame.in_text:
                self.emit("\\_" if char == "_" else r"\textasciicircum{}")
                self.note(f"escaped {char} in text")
                self.atom()
            else:
                # x^^, x^_, \frac^: whatever still waits for an argument gets an empty one first.
                while frame.pending and not frame.pending[-1].bracket and not frame.definition:
                    last = frame.pending[-1]
                    shown = last.name if last.name in "^_" else "\\" + last.name
                    self.emit("{}")
                    self.note(f"added missing argument to {shown}")
                    self.atom()
                if char in frame.scripts and not frame.definition:
                    self.emit("{}")  # x^a^b is a double superscript: give the second its own atom
                    self.note(f"separated a double {char}")
                    frame.scripts = set()
                self.emit(char)
                frame.scripts.add(char)
                frame.pending.append(Pending(char, 1, "{"))
            return pos
        pending = frame.pending[-1] if frame.pending else None
        if char == "[" and pending and pending.taken == 0 and "[" in pending.spec and not pending.bracket:
            pending.bracket = True
            self.emit("[")
            return pos
        if char == "]" and pending and pending.bracket:
            pending.bracket = False
            self.emit("]")
            return pos
        if char == "*" and pending and pending.taken == 0 and "*" in pending.spec:
            self.emit("*")
            return pos
        self.emit(char)
        self.atom()
        return pos


def _strip_delimiters(tex: str) -> tuple[str, str | None]:
    r"""Remove ``$$…$$``, ``\[…\]`` or ``\(…\)`` wrapping the whole formula (the writer adds its own)."""
    stripped = tex.strip()
    for opening, closing in (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)")):
        if len(stripped) >= len(opening) + len(closing) and stripped.startswith(opening):
            inner = stripped[len(opening) : len(stripped) - len(closing)]
            if stripped.endswith(closing) and not inner.endswith("\\") and opening not in inner:
                return inner, f"removed {opening} {closing} around the math"
    return tex, None


def _break_long_lines(tex: str) -> tuple[str, bool]:
    if all(len(line) <= MAX_LINE for line in tex.split("\n")):
        return tex, False
    out: list[str] = []
    run = 0
    for match in TOKEN.finditer(tex):
        token = match.group(0)
        if "\n" in token:
            run = len(token) - token.rfind("\n") - 1
        elif run >= MAX_LINE and match.lastgroup == "space":
            token, run = "\n", 0
        elif run >= 2 * MAX_LINE:
            out.append("\n")
            run = 0
        out.append(token)
        run += len(token) if "\n" not in token else 0
    return "".join(out), True


def _summarise(messages: list[str]) -> list[str]:
    counts = Counter(messages)
    return [message if counts[message] == 1 else f"{message} (x{counts[message]})" for message in counts]


def balance_math(tex: str, display: bool = True) -> tuple[str, list[str]]:
    """TeX math that TeX will accept structurally, and a description of each fix."""
    if PLAIN.match(tex) and (display or tex.strip()) and len(tex) <= MAX_LINE:
        return tex, []  # nothing here can be unbalanced: most formulas of a post ($x$, $n+1$)
    result, messages = _balance_cached(tex, display)
    return result, list(messages)


@lru_cache(maxsize=20000)
def _balance_cached(tex: str, display: bool) -> tuple[str, tuple[str, ...]]:
    result, messages = _balance(tex, display)
    return result, tuple(messages)


def _balance(tex: str, display: bool) -> tuple[str, list[str]]:
    messages: list[str] = []
    tex, stripped = _strip_delimiters(tex)
    if stripped:
        messages.append(stripped)
    balancer = _Balancer(tex, display)
    try:
        result = balancer.run()
    except _TooDeep:
        return OMITTED, [OMITTED_MESSAGE]
    messages.extend(balancer.messages)
    result, broken = _break_long_lines(result)
    if broken:
        messages.append(f"broke lines longer than {MAX_LINE} characters")
    return result, _summarise(messages)


def inline_displays_in_titles(post: m.Post, context: Context) -> m.Post:
    r"""A display in a heading or a caption is set inline: ``\section{…}`` and ``\caption{…}`` are
    moved to the contents and the bookmarks, where a display (and its line breaks) stops TeX."""

    def inline(line: int):
        def fn(node):
            if isinstance(node, m.Math) and node.display:
                context.report(post, node.line, NAME, "display in a heading or caption set inline")
                return dataclasses.replace(node, display=False)
            return node

        return fn

    def block_fn(block):
        if isinstance(block, m.Heading):
            return dataclasses.replace(block, children=walk.map_inlines(block.children, inline(block.line)))
        if isinstance(block, m.Figure):
            return dataclasses.replace(block, caption=walk.map_inlines(block.caption, inline(block.line)))
        return block

    return walk.map_post(post, block_fn=block_fn)


def run(post: m.Post, context: Context) -> m.Post:
    post = inline_displays_in_titles(post, context)  # first: an inline formula is balanced by stricter rules

    def fix(post: m.Post, math: m.Math):
        tex, messages = balance_math(math.tex, math.display)
        for message in messages:
            context.report(post, math.line, NAME, message, warning=message == OMITTED_MESSAGE)
        return dataclasses.replace(math, tex=tex) if tex != math.tex else math

    return walk.map_math(post, fix)


PASS = Pass(NAME, run)
