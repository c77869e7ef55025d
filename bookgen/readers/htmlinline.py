r"""Running text of a page → paragraphs of model inlines.

``readers.html`` turns the inline content of a block into a flat list of
pieces: page text (``Chars``), ``<br>`` (``Br``), the start and end of
bold/italic/strike-through/links (``Open``/``Close``) and finished nodes
(``Mark``: code, images, math from a ``math/tex`` script).  ``write_paragraphs``
reads them the way the blog's pages are meant:

* math is found the way MathJax finds it, in a run of text and ``<br>``:
  ``$…$``, ``$$…$$``, ``\(…\)``, ``\[…\]``, ``\begin{env}…\end{env}``, and a
  ``\ref``/``\eqref`` outside math (MathJax typesets those too).  Math is
  verbatim; a display drops its blank lines and the indentation of its lines
  (``<br>`` inside it is a newline), inline math is one line;
* a newline in the text is a soft break (``shaping.resolve_breaks`` decides
  between a space and nothing), ``<br>`` a hard one, and two ``<br>`` in a row
  end the paragraph: ``a<br><br>b`` is two paragraphs;
* breaks next to a display vanish, and the text after a display goes on in the
  same paragraph: ``证明：<br>$$x$$<br>其中…`` is one paragraph;
* whitespace at the start of a line (also ``&nbsp;`` and the ideographic space)
  and at the ends of a paragraph is dropped.

Each math node gets the line its first character is on.  ``write_line`` is the
one-line variant for headings and table cells (breaks are spaces, displays
stay inline).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from bookgen import model as m
from bookgen.readers.mdmath import BEGIN_ENV, display_content, find_display_end
from bookgen.readers.shaping import SoftBreak, is_display, resolve_breaks

LINE_SPACE = " \t\xa0\u3000"
REFERENCE = re.compile(r"\\(?:eq)?ref\{[^{}\n]*\}")
NEWLINE_IN_MATH = re.compile(r"\s*\n\s*")


@dataclass
class Chars:
    text: str
    line: int


@dataclass
class Br:
    line: int


@dataclass
class Open:
    kind: type  # m.Strong, m.Emph, m.Strike or m.Link
    line: int
    url: str = ""


@dataclass
class Close:
    kind: type
    line: int


@dataclass
class Mark:
    node: object  # m.Code, m.Math, shaping.Image, or an m.Link of images
    line: int
    image: bool = False


@dataclass
class ScriptMath:
    """The TeX a saved page keeps in ``<script type="math/tex">``."""

    tex: str
    display: bool
    line: int


Piece = Chars | Br | Open | Close | Mark | ScriptMath


def visible(pieces: list) -> bool:
    return any(not isinstance(p, (Chars, Br)) or (isinstance(p, Chars) and p.text.strip()) for p in pieces)


# ---------------------------------------------------------------- math in text


def math_spans(text: str) -> list[tuple[int, int, str]]:
    """Where MathJax would see math in a run of text: (start, end, "inline"|"display"|"ref")."""
    spans = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            if text.startswith("\\(", index):
                close = text.find("\\)", index + 2)
                if close >= 0:
                    spans.append((index, close + 2, "inline"))
                    index = close + 2
                    continue
            elif text.startswith("\\[", index) or BEGIN_ENV.match(text, index):
                span = find_display_end(text, index)
                if span:
                    spans.append((span[0], span[1], "display"))
                    index = span[1]
                    continue
            else:
                ref = REFERENCE.match(text, index)
                if ref:
                    spans.append((index, ref.end(), "ref"))
                    index = ref.end()
                    continue
            index += 2
        elif char == "$":
            if text.startswith("$$", index):
                span = find_display_end(text, index)
                if span:
                    spans.append((span[0], span[1], "display"))
                    index = span[1]
                    continue
                index += 2
                continue
            close = index + 1
            while close < len(text) and (text[close] != "$" or text[close - 1] == "\\"):
                close += 1
            if close < len(text) and close > index + 1:
                spans.append((index, close + 1, "inline"))
                index = close + 1
                continue
            index += 1
        else:
            index += 1
    return spans


def display_tex(raw: str) -> str:
    r"""A display's TeX: blank lines and each line's indentation dropped, ``$$``/``\[`` delimiters removed.

    ``$$a \\⏎   ⏎  = b$$`` → ``a \\⏎= b``.
    """
    lines = [line.strip(" \t") for line in raw.split("\n") if line.strip()]
    return display_content("\n".join(lines))


def inline_tex(raw: str, kind: str) -> str:
    r"""Inline math on one line, without its ``$``/``\(…\)`` (a bare ``\eqref{…}`` keeps all)."""
    raw = NEWLINE_IN_MATH.sub(" ", raw)
    if kind == "ref":
        return raw
    return raw[2:-2] if raw.startswith("\\(") else raw[1:-1]


def skip_line_space(text: str) -> str:
    """A line's leading spaces, tabs, no-break and ideographic spaces dropped (other whitespace kept)."""
    index = 0
    kept = []
    while index < len(text) and not text[index].strip():
        if text[index] not in LINE_SPACE:
            kept.append(text[index])
        index += 1
    return "".join(kept) + text[index:]


# ---------------------------------------------------------------- the writer


@dataclass
class _Writer:
    single_line: bool = False
    paragraphs: list[tuple[list, int]] = field(default_factory=list)
    items: list = field(default_factory=list)
    first_line: int | None = None  # of the paragraph's first visible piece
    blank: bool = True  # nothing visible on the current line yet
    pending: bool = False  # a display ended the line: what follows starts a new one
    fresh: bool = True  # at the start of the paragraph or right after a display: all leading whitespace goes
    open: list = field(default_factory=list)  # Open pieces not closed yet (carried into the next paragraph)

    def feed(self, pieces: list) -> None:
        run: list = []
        for piece in pieces:
            if isinstance(piece, (Chars, Br)):
                run.append(piece)
                continue
            self.run(run)
            run = []
            if isinstance(piece, ScriptMath):
                if piece.display and not self.single_line:
                    self.display(display_tex(f"$${piece.tex}$$"), piece.line)
                else:
                    self.mark(m.Math(NEWLINE_IN_MATH.sub(" ", piece.tex), piece.display, piece.line), piece.line)
            else:
                self.mark(piece, piece.line)
        self.run(run)

    def run(self, run: list) -> None:
        """Text and ``<br>``: the math found in it, and the prose around it."""
        if not run:
            return
        parts: list[str] = []
        offsets: list[int] = []
        lines: list[int] = []
        breaks: set[int] = set()
        length = 0
        for piece in run:
            offsets.append(length)
            lines.append(piece.line)
            if isinstance(piece, Br):
                breaks.add(length)
                parts.append("\n")
                length += 1
            else:
                parts.append(piece.text)
                length += len(piece.text)
        text = "".join(parts)

        def line_at(offset: int) -> int:
            index = bisect.bisect_right(offsets, offset) - 1
            start = offsets[index]
            return lines[index] + (0 if start in breaks else text.count("\n", start, offset))

        position = 0
        for start, end, kind in math_spans(text) + [(len(text), len(text), "")]:
            self.prose(text, position, start, breaks, line_at)
            if kind == "display" and not self.single_line:
                self.display(display_tex(text[start:end]), line_at(start))
            elif kind == "display":
                tex = display_content(NEWLINE_IN_MATH.sub(" ", text[start:end]))
                self.mark(m.Math(tex, True, line_at(start)), line_at(start))
            elif kind:
                self.mark(m.Math(inline_tex(text[start:end], kind), False, line_at(start)), line_at(start))
            position = end

    def prose(self, text: str, start: int, end: int, breaks: set[int], line_at) -> None:
        while start < end:
            newline = text.find("\n", start, end)
            stop = end if newline < 0 else newline
            if stop > start:
                self.chars(text[start:stop], line_at(start))
            if newline < 0:
                return
            self.newline(newline in breaks)
            start = newline + 1

    # ---- what the pieces do to the current line
    def chars(self, text: str, line: int) -> None:
        if self.single_line:
            text = skip_line_space(text) if self.blank else text
        elif self.pending or self.fresh:
            text = text.lstrip()
        elif self.blank:
            text = skip_line_space(text)
        if not text:
            return
        if text.strip():
            self.show(line)
        self.items.append(m.Text(text))

    def mark(self, piece, line: int) -> None:
        if isinstance(piece, Open):
            self.open.append(piece)
        elif isinstance(piece, Close) and self.open and self.open[-1].kind is piece.kind:
            self.open.pop()
        self.show(line)
        self.items.append(piece.node if isinstance(piece, Mark) else piece)

    def show(self, line: int) -> None:
        """Something visible arrives: after a display it starts a new line."""
        if self.single_line:
            self.blank = False
            return
        if self.pending:
            self.pending, self.blank = False, True
        if self.first_line is None:
            self.first_line = line
        self.blank = self.fresh = False

    def newline(self, hard: bool) -> None:
        if self.single_line:
            if hard or not self.blank:
                self.items.append(m.Text(" "))
            return
        if not hard:
            if not self.blank and not self.pending:
                self.end_line(SoftBreak())
        elif self.pending:
            self.pending, self.blank = False, True
        elif self.blank:
            self.end_paragraph()
        else:
            self.end_line(m.LineBreak())

    def end_line(self, node) -> None:
        self.strip_end(" \t")
        self.items.append(node)
        self.blank = True

    def display(self, tex: str, line: int) -> None:
        self.strip_end(None)
        self.show(line)
        self.items.append(m.Math(tex, True, line))
        self.pending = self.fresh = True

    def strip_end(self, chars: str | None) -> None:
        """The whitespace ending the line (``chars``) or the whole paragraph so far (None: any)."""
        index = len(self.items) - 1
        while chars is None and index >= 0 and isinstance(self.items[index], (SoftBreak, m.LineBreak)):
            index -= 1
        if index >= 0 and type(self.items[index]) is m.Text:
            text = self.items[index].text.rstrip(chars)
            if text:
                self.items[index] = m.Text(text)
            else:
                del self.items[index]

    def end_paragraph(self) -> None:
        self.strip_end(None)
        if self.first_line is not None:
            self.paragraphs.append((self.items, self.first_line))
        self.items = list(self.open)  # what is still open goes on in the next paragraph
        self.first_line, self.blank, self.pending, self.fresh = None, True, False, True


def write_paragraphs(pieces: list) -> list[tuple[list, int]]:
    """The paragraphs of a run of pieces: each a flat list of inlines, ``Open``/``Close``, with its first line."""
    writer = _Writer()
    writer.feed(pieces)
    writer.end_paragraph()
    return writer.paragraphs


def write_line(pieces: list) -> list:
    """One line (a heading, a table cell), flat like a paragraph."""
    writer = _Writer(single_line=True)
    writer.feed(pieces)
    items = writer.items
    if items and type(items[0]) is m.Text:
        items[0] = m.Text(items[0].text.lstrip())
    if items and type(items[-1]) is m.Text:
        items[-1] = m.Text(items[-1].text.rstrip())
    return items


# ---------------------------------------------------------------- nesting


def nest(items: list) -> list:
    """``Open``/``Close`` pieces → Strong/Emph/Strike/Link around their inlines; breaks resolved at each level.

    Styling whose content is only whitespace, or holds a display, is dropped (its content kept).
    """
    stack: list[tuple[Open | None, list]] = [(None, [])]
    for item in items:
        if isinstance(item, Open):
            stack.append((item, []))
        elif isinstance(item, Close):
            if len(stack) > 1 and stack[-1][0].kind is item.kind:
                _close(stack)
        else:
            stack[-1][1].append(item)
    while len(stack) > 1:  # still open at the end of the paragraph (it goes on in the next one)
        _close(stack)
    return resolve_breaks(stack[0][1])


def _close(stack: list) -> None:
    opener, children = stack.pop()
    children = resolve_breaks(children)
    blank = all(type(c) is m.Text and not c.text.strip() for c in children)
    if blank or any(is_display(c) for c in children):
        stack[-1][1].extend(children)
    elif opener.kind is m.Link:
        stack[-1][1].append(m.Link(opener.url, tuple(children)))
    else:
        stack[-1][1].append(opener.kind(tuple(children)))
