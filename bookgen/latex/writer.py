"""Model → LaTeX body text: one small function per node type.

The writer only renders; every repair happened in the transforms.  Each block
is preceded by a ``%@ line N`` comment so a TeX error at a line of the .tex can
be traced back to the line of the post (see ``fallback.located_error``).

Units
-----
Each block and each formula the writer renders is a *unit*: the smallest thing
that can be set aside when TeX rejects it (``bookgen.fallback``).  The writer
numbers the units of a post in the order it renders them and brackets each one
with two marker characters (``unit_start``/``unit_end``: code points of the
supplementary private use planes, one per unit number, which never reach a
.tex file: ``latex.render`` takes them out and keeps the spans).  A unit listed
in ``Post.fallbacks`` is rendered normally first — so the numbers of the units
inside and after it stay the same — and then replaced by its fallback: a
framed box showing the TeX it was, with the post's file and line.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass

from bookgen import model as m
from bookgen.catalogue import is_cjk
from bookgen.escape import (
    SAFE_URL,
    absolute_url,
    escape_breakable,
    escape_code,
    escape_prose,
    escape_text,
    escape_url,
    url_or_text,
    verbatim_safe,
)

LINE_MARK = "%@ line {}"
SECTION_COMMANDS = {1: "section", 2: "section", 3: "subsection", 4: "subsubsection", 5: "paragraph", 6: "paragraph"}
# Lists and quotes deeper than this are flattened: LaTeX stops at 9 (the preamble's
# \setlistdepth), and by 6 the text is a narrow column at the right of the page.
MAX_NESTING = 6
TOP_LEVEL_DISPLAYS = re.compile(
    r"^\\begin\{(equation|align|gather|multline|eqnarray|flalign|alignat|displaymath)\*?\}"
)


# Unit markers: one character per unit number and side, from planes no text of ours contains
# (the writer removes them from anything it copies from a post).
UNIT_START, UNIT_END, MAX_UNITS = 0xF0000, 0x100000, 0xFFFE
UNIT_MARKER = re.compile("[\U000F0000-\U0010FFFF]")


def unit_start(number: int) -> str:
    return chr(UNIT_START + number)


def unit_end(number: int) -> str:
    return chr(UNIT_END + number)


def without_markers(text: str) -> str:
    return UNIT_MARKER.sub("", text)


@dataclass(frozen=True)
class Unit:
    """A block or formula of a post as rendered: what it is, where the post has it, what TeX got."""

    number: int
    kind: str  # "formula", "paragraph", "heading", "table", "list", "quote", "figure", "code", "rule"
    line: int  # the post's line
    inline: bool  # rendered inside running text (a fallback there must be a box, not a block)


def heading_label(post_id: int, anchor: str) -> str:
    """The label of a heading, derived from its text so links with a #fragment can find it."""
    digest = 0
    for char in anchor:
        digest = (digest * 131 + ord(char)) % 1_000_000_007
    return f"sec:{post_id}:{digest}"


class Writer:
    def __init__(self, post: m.Post, probes: bool = False):
        self.post = post
        self.units: list[Unit] = []
        self.fallbacks = dict(post.fallbacks)
        self.probes = probes  # \bookgenprobe{N} before each unit: shows where a TeX that hangs got to
        self.as_source = False  # rendering what a fallback shows: no units, no fallbacks inside
        self.footnotes = dict(post.footnotes)
        self.heading_labels: dict[str, m.Heading] = {}  # label → the heading that has it
        # Inside a footnote, heading, caption or table cell a link's URL is given in
        # parentheses: a \footnote there is lost, or breaks the table of contents.
        self.no_footnotes = 0
        self.in_heading = False  # math in a heading also goes to the PDF bookmarks, as plain text
        self.nesting = 0  # lists and quotes open around the current block

    # ---- blocks
    def blocks(self, blocks: tuple[m.Block, ...]) -> str:
        return "\n\n".join(self.block(b) for b in blocks)

    def block(self, block: m.Block) -> str:
        render = getattr(self, "block_" + type(block).__name__.lower())
        kind = BLOCK_KINDS[type(block)]
        inline = self.no_footnotes > 0  # a block in a footnote is set inside running text
        plain = (lambda: self.plain_heading(block)) if isinstance(block, m.Heading) else None
        return f"{LINE_MARK.format(block.line)}\n{self.unit(kind, block.line, inline, lambda: render(block), plain)}"

    def unit(self, kind: str, line: int, inline: bool, render, plain=None) -> str:
        """``render()`` bracketed by the markers of a new unit, or the unit's fallback when TeX rejected it.

        ``plain()`` renders what stays of a heading that fell back: the heading in plain text, so
        the chapter's numbering and contents hold.
        """
        number = len(self.units)
        if self.as_source or number >= MAX_UNITS:  # (past the markers' range: a post of 65 534 units)
            return render()
        unit = Unit(number, kind, line, inline)
        self.units.append(unit)
        text = render()
        if number in self.fallbacks:
            self.as_source = True  # what TeX got, without the fallbacks of the units inside
            try:
                source = render()
            finally:
                self.as_source = False
            text = self.fallback(unit, source, self.fallbacks[number])
            if plain is not None:
                text = f"{plain()}\n{text}"
        probe = f"\\bookgenprobe{{{number}}}" if self.probes else ""
        return f"{unit_start(number)}{probe}{text}{unit_end(number)}"

    def fallback(self, unit: Unit, source: str, message: str) -> str:
        r"""A unit TeX rejected: its TeX shown as text in a frame, with the post's file and line.

        Before → after: ``$\frac{a}\hdashline$`` → ``\bookgenfallbackinline{9999.md:12}{\textbackslash{}frac…}``;
        a display or a block → ``\begin{bookgenfallback}{formula}{9999.md:12}{TeX's message}…``.
        """
        where = escape_text(f"{self.post.path.name}:{unit.line}")
        shown = FIT.sub(r"\1", source.strip())  # \bookgenfit is bookgen's, not the author's
        if unit.inline or unit.kind == "heading":
            return f"\\bookgenfallbackinline{{{where}}}{{{escape_breakable(shown)}}}"
        lines = "\\\\\n".join(escape_breakable(line) or "~" for line in shown.split("\n"))
        kind = "formula" if unit.kind == "formula" else "block"
        return (
            f"\\begin{{bookgenfallback}}{{{kind}}}{{{where}}}{{{escape_breakable(message)}}}\n"
            f"{lines}\n\\end{{bookgenfallback}}"
        )

    def block_heading(self, block: m.Heading) -> str:
        r"""``\section{…}``; a title with a link, a note or a line break also gets a plain-text short
        form (``\section[plain]{title}``): in the contents, the running head and the PDF bookmarks
        those break TeX.
        """
        command = SECTION_COMMANDS.get(block.level, "paragraph")
        title = self.heading_title(block.children)
        short = f"[{escape_prose(plain_text(block.children))}]" if FRAGILE_IN_HEADING.search(title) else ""
        return f"\\{command}{short}{{{title}}}{self.heading_label_of(block)}"

    def heading_title(self, children) -> str:
        self.in_heading = True
        try:
            return self.inlines_without_footnotes(children)
        finally:
            self.in_heading = False

    def plain_heading(self, block: m.Heading) -> str:
        command = SECTION_COMMANDS.get(block.level, "paragraph")
        return f"\\{command}{{{escape_prose(block.anchor)}}}{self.heading_label_of(block)}"

    def heading_label_of(self, block: m.Heading) -> str:
        r"""``\label{…}`` for the first heading with this text (links go to its first use), else nothing."""
        label = heading_label(self.post.id, block.anchor)
        if self.heading_labels.get(label, block) is not block:
            return ""
        self.heading_labels[label] = block
        return f"\\label{{{label}}}"

    def block_paragraph(self, block: m.Paragraph) -> str:
        return split_long_runs(self.inlines(block.children).strip())

    def block_codeblock(self, block: m.CodeBlock) -> str:
        code = verbatim_safe(block.text.rstrip("\n"))
        return f"\\begin{{bookgencode}}\n{code}\n\\end{{bookgencode}}"

    def block_listblock(self, block: m.ListBlock) -> str:
        if self.nesting >= MAX_NESTING:
            return self.flat_list(block)
        env = "enumerate" if block.ordered else "itemize"
        start = f"[start={block.start}]" if block.ordered and block.start != 1 else ""
        with self.nested():
            items = "\n".join("\\item " + self.blocks(item) if item else "\\item{}" for item in block.items)
        return f"\\begin{{{env}}}{start}\n{items}\n\\end{{{env}}}"

    def flat_list(self, block: m.ListBlock) -> str:
        """Items past the deepest nesting as paragraphs that carry their own marks."""
        marks = [f"{block.start + n}." if block.ordered else "\\textbullet" for n in range(len(block.items))]
        return "\n\n".join(f"{mark}~{self.blocks(item)}" for mark, item in zip(marks, block.items))

    def block_quote(self, block: m.Quote) -> str:
        if self.nesting >= MAX_NESTING:
            return self.blocks(block.children)  # already indented as far as the page allows
        with self.nested():
            return f"\\begin{{quote}}\n{self.blocks(block.children)}\n\\end{{quote}}"

    @contextlib.contextmanager
    def nested(self):
        self.nesting += 1
        try:
            yield
        finally:
            self.nesting -= 1

    def block_rule(self, block: m.Rule) -> str:
        return "\\bookgenrule"

    def block_rawblock(self, block: m.RawBlock) -> str:
        return without_markers(block.tex)

    def block_figure(self, block: m.Figure) -> str:
        caption = self.inlines_without_footnotes(block.caption).strip()
        url = url_or_text(self.absolute(block.src))  # a link only to a web address: never run:, smb:, ../x
        if block.local_file:  # \bookgenimage shows the placeholder should the file not reach the build
            body = f"\\bookgenimage{{{block.local_file}}}{{{url}}}"
        else:
            body = f"\\bookgenmissingimage{{{url}}}"
        caption_line = f"\n\\caption{{{caption}}}" if caption else ""
        return f"\\begin{{figure}}[htbp]\n\\centering\n{body}{caption_line}\n\\end{{figure}}"

    def block_table(self, block: m.Table) -> str:
        columns = max([len(block.header)] + [len(r) for r in block.rows])
        widths = _column_shares(block, columns)
        spec = "".join(
            f">{{\\{_ALIGN[a]}\\arraybackslash}}p{{{w:.3f}\\bookgentablewidth}}"
            for a, w in zip(_pad(list(block.aligns), columns, "l"), widths)
        )
        lines = [f"\\setlength{{\\bookgentablewidth}}{{\\dimexpr\\linewidth-{2 * columns}\\tabcolsep\\relax}}"]
        lines.append(f"\\begin{{longtable}}{{{spec}}}")
        lines.append("\\toprule")
        if block.header:
            lines.append(self.row(block.header, columns, bold=True))
            lines.append("\\midrule\n\\endhead")
        lines.extend(self.row(row, columns) for row in block.rows)
        lines.append("\\bottomrule\n\\end{longtable}")
        return "\n".join(lines)

    def row(self, cells, columns: int, bold: bool = False) -> str:
        rendered = [self.inlines_without_footnotes(c).strip() for c in cells]
        if bold:
            rendered = [f"\\textbf{{{c}}}" if c else "" for c in rendered]
        return " & ".join(_pad(rendered, columns, "")) + " \\\\"

    # ---- inlines
    def inlines(self, nodes) -> str:
        return "".join(self.inline(n) for n in nodes)

    def inlines_without_footnotes(self, nodes) -> str:
        self.no_footnotes += 1
        try:
            return self.inlines(nodes)
        finally:
            self.no_footnotes -= 1

    def inline(self, node: m.Inline) -> str:
        return getattr(self, "inline_" + type(node).__name__.lower())(node)

    def inline_text(self, node: m.Text) -> str:
        return escape_prose(node.text)

    def inline_emph(self, node: m.Emph) -> str:
        return f"\\emph{{{self.inlines(node.children)}}}"

    def inline_strong(self, node: m.Strong) -> str:
        return f"\\textbf{{{self.inlines(node.children)}}}"

    def inline_strike(self, node: m.Strike) -> str:
        return f"\\sout{{{self.inlines(node.children)}}}"

    def inline_code(self, node: m.Code) -> str:
        return f"\\texttt{{{escape_code(node.text)}}}"

    def inline_math(self, node: m.Math) -> str:
        tex = without_markers(node.tex.strip())
        if not tex:
            return ""  # `$$` would open a display: empty math (e.g. all of it was MathJax-only) prints nothing
        if not node.display:
            formula = self.unit("formula", node.line, True, lambda: f"${tex}$")
            if self.in_heading:  # the bookmark gets a plain-text stand-in
                return f"\\texorpdfstring{{{formula}}}{{{escape_text(bookmark_text(tex))}}}"
            return formula
        if not TOP_LEVEL_DISPLAYS.match(tex):
            tex = f"\\[{tex}\\]"
        inline = self.no_footnotes > 0
        return f"\n{LINE_MARK.format(node.line)}\n{self.unit('formula', node.line, inline, lambda: tex)}\n"

    def inline_link(self, node: m.Link) -> str:
        url = self.absolute(node.url)
        text = self.inlines(node.children)
        if not SAFE_URL.match(url):  # run:, javascript:, file:… never become link targets in the PDF
            return f"{text}（{escape_prose(url)}）" if text.strip() else escape_prose(url)
        if node.children == (m.Text(node.url),) or not text.strip():
            return f"\\url{{{escape_url(url)}}}"
        if self.no_footnotes:
            return f"{text}（\\url{{{escape_url(url)}}}）"
        return f"{text}\\footnote{{\\url{{{escape_url(url)}}}}}"

    def inline_chapterref(self, node: m.ChapterRef) -> str:
        target = heading_label(node.post_id, node.anchor) if node.anchor else f"post:{node.post_id}"
        kind = "\\bookgensecref" if node.anchor else "\\bookgenchapref"
        return f"{self.inlines(node.children)}{kind}{{{target}}}"

    def inline_footnoteref(self, node: m.FootnoteRef) -> str:
        blocks = self.footnotes.get(node.label, ())
        body = "\\par ".join(
            self.inlines_without_footnotes(b.children).strip() for b in blocks if isinstance(b, m.Paragraph)
        )
        return f"\\footnote{{{body}}}"

    def inline_linebreak(self, node: m.LineBreak) -> str:
        return "\\\\\\relax\n"  # \relax: a next line starting with `[` is not \\'s optional argument

    def inline_rawtex(self, node: m.RawTex) -> str:
        return without_markers(node.tex)

    def absolute(self, url: str) -> str:
        return absolute_url(url)


_ALIGN = {"l": "raggedright", "c": "centering", "r": "raggedleft"}


def _pad(values: list, size: int, filler) -> list:
    return list(values[:size]) + [filler] * (size - len(values))


def _column_shares(block: m.Table, columns: int) -> list[float]:
    """Column widths as shares of the line, by the longest text in each column (CJK counts double)."""
    lengths = [4.0] * columns
    for row in (block.header,) + block.rows:
        for index, cell in enumerate(row[:columns]):
            text = _cell_text(cell)
            size = sum(2 if ord(c) > 0x2E80 else 1 for c in text)
            lengths[index] = max(lengths[index], min(size, 60))
    total = sum(lengths)
    return [round(length / total, 3) for length in lengths]


def _cell_text(nodes) -> str:
    """A cell's text for sizing its column: a formula sets about half as wide as its TeX."""
    return m.plain(nodes, math=lambda tex: tex[: max(4, len(tex) // 2)])


FIT = re.compile(r"\\bookgenfit\{(.*?)\}(?=(?:\\label\{[^{}]*\}|\\tag\*?\{[^{}]*\})*\\end\{equation\*?\}$)", re.DOTALL)
# TeX's line breaking slows down faster than a paragraph grows (a run of 50 000 characters takes
# it minutes): a longer run of prose is set as several paragraphs, cut at a sentence's end.
MAX_RUN = 6000
_SENTENCE_END = re.compile(r"[。！？；]|[.!?;] ")


def split_long_runs(text: str, limit: int = MAX_RUN) -> str:
    r"""Each line of prose longer than ``limit`` cut into paragraphs, at a sentence's end outside
    any formula or group, about every ``limit`` characters.

    Before → after (limit 8): ``一二三。四五六。七八九。`` → ``一二三。四五六。⏎⏎七八九。``.
    """
    if len(text) <= limit:
        return text
    return "\n".join(_split_line(line, limit) if len(line) > limit else line for line in text.split("\n"))


def _split_line(line: str, limit: int) -> str:
    pieces, start, depth, units, fallback = [], 0, 0, 0, None
    for index, char in enumerate(line):
        if UNIT_MARKER.match(char):
            units += 1 if ord(char) < UNIT_END else -1
            continue
        if char in "{}" and (index == 0 or line[index - 1] != "\\"):
            depth += 1 if char == "{" else -1
        if depth or units or index - start < limit // 2:
            continue
        if _SENTENCE_END.match(line, index):
            cut = index + 1
        elif char == " " or is_cjk(char):  # no sentence ends: a space or a CJK character will do
            fallback = index + 1
            if index - start < limit:
                continue
            cut = fallback
        else:
            continue
        pieces.append(line[start:cut])
        start, fallback = cut, None
    pieces.append(line[start:])
    return "\n\n".join(piece.strip() for piece in pieces if piece.strip())


# What a heading may hold that the contents, the running head or a PDF bookmark cannot.
FRAGILE_IN_HEADING = re.compile(r"\\(?:url|href|footnote|bookgenchapref|bookgensecref)(?![A-Za-z])|\\\\")


def plain_text(nodes) -> str:
    """The text a reader sees of some inlines, math as its bookmark stand-in."""
    return " ".join(m.plain(nodes, math=bookmark_text, line_break=" ").split())


def bookmark_text(tex: str) -> str:
    r"""A PDF bookmark's stand-in for math: ``\boxed{x}_{t}`` → ``x_t``."""
    text = re.sub(r"\\(?:[A-Za-z]+|.)\s*", " ", tex)
    text = re.sub(r"[{}$&^~\\]", "", text)
    return " ".join(text.split())


BLOCK_KINDS = {
    m.Heading: "heading", m.Paragraph: "paragraph", m.CodeBlock: "code", m.ListBlock: "list", m.Quote: "quote",
    m.Table: "table", m.Figure: "figure", m.Rule: "rule",
    m.RawBlock: "code",  # the only raw blocks are code blocks the glyphs pass rewrote
}  # fmt: skip


def render_title(nodes: tuple[m.Inline, ...]) -> str:
    """A title's inlines as TeX: its text escaped, and what the passes made of it (math, fonts) as it is."""
    out = []
    for node in nodes:
        if isinstance(node, m.RawTex):
            out.append(without_markers(node.tex))
        else:
            out.append(escape_text(m.plain((node,))))
    return "".join(out)


def render_post(post: m.Post, probes: bool = False) -> tuple[str, list[Unit]]:
    """The body of a post with its units bracketed by markers, and the units."""
    writer = Writer(post, probes)
    return writer.blocks(post.blocks), writer.units


def render_post_body(post: m.Post) -> str:
    """The body of a post as it goes into its .tex file (without unit markers)."""
    return without_markers(render_post(post)[0])
