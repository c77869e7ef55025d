"""markdown-it rules for the math the blog writes *outside* dollars.

mdit-py-plugins' ``dollarmath`` handles ``$…$`` and ``$$…$$`` inside prose, and
its ``amsmath`` rule handles a few environments standing alone between blank
lines.  The blog (as mirrored by html2text) does neither: it writes
``\\begin{equation}…\\end{equation}``, ``\\begin{array}``, ``\\begin{CD}`` and
``\\[…\\]`` on lines *inside* a paragraph, each line ending in two spaces, and
rows may start with ``-`` or ``+`` that CommonMark would read as a list.  So two
small rules of our own take these verbatim before Markdown sees them:

* a block rule for a display that starts a line (it may interrupt a paragraph);
* an inline rule for one that starts mid-line.

Both produce ``math_display`` tokens whose content is the TeX as written.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline

DISPLAY_ENVS = (
    "equation", "align", "gather", "multline", "eqnarray", "flalign", "alignat",
    "array", "CD", "aligned", "gathered", "split", "matrix", "pmatrix", "bmatrix",
    "vmatrix", "Vmatrix", "cases", "displaymath", "math",
)  # fmt: skip
_ENV_NAMES = "|".join(re.escape(e) for e in DISPLAY_ENVS)
BEGIN_ENV = re.compile(r"\\begin\{(" + _ENV_NAMES + r")(\*?)\}")
MAX_DISPLAY_LINES = 400  # a display never runs longer; beyond it the source is broken, read it as prose


def find_display_end(src: str, pos: int) -> tuple[int, int] | None:
    """(start, end) of the display beginning at ``pos``, or None if it never closes."""
    if src.startswith("$$", pos):
        close = src.find("$$", pos + 2)
        return (pos, close + 2) if close > pos + 2 else None
    if src.startswith("\\[", pos):
        close = src.find("\\]", pos + 2)
        return (pos, close + 2) if close > 0 else None
    match = BEGIN_ENV.match(src, pos)
    if not match:
        return None
    name = re.escape(match.group(1) + match.group(2))
    token = re.compile(r"\\(begin|end)\{" + name + r"\}")
    depth = 0
    for found in token.finditer(src, pos):
        depth += 1 if found.group(1) == "begin" else -1
        if depth == 0:
            return (pos, found.end())
    return None


def display_content(raw: str) -> str:
    """The TeX of a display without its ``$$``/``\\[`` delimiters (environments keep theirs)."""
    if raw.startswith("$$") and raw.endswith("$$") and len(raw) >= 4:
        return raw[2:-2]
    if raw.startswith("\\[") and raw.endswith("\\]"):
        return raw[2:-2]
    return raw


def _display_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    if state.sCount[start_line] - state.blkIndent >= 4:
        return False
    begin = state.bMarks[start_line] + state.tShift[start_line]
    head = state.src[begin : state.eMarks[start_line]]
    if not (head.startswith("$$") or head.startswith("\\[") or BEGIN_ENV.match(head)):
        return False
    last_line = min(end_line, start_line + MAX_DISPLAY_LINES)
    window_end = state.eMarks[last_line - 1] if last_line > start_line else state.eMarks[start_line]
    span = find_display_end(state.src[:window_end], begin)
    if span is None:
        return False
    close = span[1]
    line = start_line
    while line < end_line and state.eMarks[line] < close:
        line += 1
    if state.src[close : state.eMarks[line]].strip():
        return False  # prose follows on the closing line: the inline rule takes it
    if silent:
        return True
    token = state.push("math_display", "math", 0)
    token.block = True
    token.content = display_content(_without_container_prefixes(state, start_line, line, close))
    token.map = [start_line, line + 1]
    token.markup = "bare"
    state.line = line + 1
    return True


def _without_container_prefixes(state: StateBlock, first: int, last: int, close: int) -> str:
    """The display's lines as the block sees them: inside a quote, without each line's `> `."""
    lines = []
    for number in range(first, last + 1):
        begin = state.bMarks[number] + state.tShift[number]
        end = min(state.eMarks[number], close)
        lines.append(state.src[begin:end])
    return "\n".join(lines)


def _display_inline(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "\\":
        return False
    if not (state.src.startswith("\\[", state.pos) or BEGIN_ENV.match(state.src, state.pos)):
        return False
    span = find_display_end(state.src, state.pos)
    if span is None:
        return False
    if not silent:
        token = state.push("math_display", "math", 0)
        token.content = display_content(state.src[span[0] : span[1]])
    state.pos = span[1]
    return True


def _paren_inline(state: StateInline, silent: bool) -> bool:
    r"""``\(…\)`` inline math, which Markdown would otherwise read as escaped parentheses."""
    if not state.src.startswith("\\(", state.pos):
        return False
    close = state.src.find("\\)", state.pos + 2)
    if close < 0:
        return False
    if not silent:
        token = state.push("math_inline", "math", 0)
        token.content = state.src[state.pos + 2 : close]
    state.pos = close + 2
    return True


def display_math_plugin(md: MarkdownIt) -> None:
    md.block.ruler.before(
        "code", "math_display", _display_block, {"alt": ["paragraph", "reference", "blockquote", "list"]}
    )
    md.inline.ruler.before("escape", "math_display", _display_inline)
    md.inline.ruler.before("escape", "math_paren", _paren_inline)
