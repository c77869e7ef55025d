"""Model → LaTeX body text: one small function per node type.

The writer only renders; every repair happened in the transforms.  Each block
is preceded by a ``%@ line N`` comment so a TeX error at a line of the .tex can
be traced back to the line of the post (see ``compile.source_line_of``).
"""

from __future__ import annotations

import contextlib
import re

from bookgen import model as m
from bookgen.latex.escape import SAFE_URL, escape_code, escape_prose, escape_text, escape_url, verbatim_safe

LINE_MARK = "%@ line {}"
SECTION_COMMANDS = {1: "section", 2: "section", 3: "subsection", 4: "subsubsection", 5: "paragraph", 6: "paragraph"}
# Lists and quotes deeper than this are flattened: LaTeX stops at 9 (the preamble's
# \setlistdepth), and by 6 the text is a narrow column at the right of the page.
MAX_NESTING = 6
TOP_LEVEL_DISPLAYS = re.compile(
    r"^\\begin\{(equation|align|gather|multline|eqnarray|flalign|alignat|displaymath)\*?\}"
)


def heading_label(post_id: int, anchor: str) -> str:
    """The label of a heading, derived from its text so links with a #fragment can find it."""
    digest = 0
    for char in anchor:
        digest = (digest * 131 + ord(char)) % 1_000_000_007
    return f"sec:{post_id}:{digest}"


class Writer:
    def __init__(self, post: m.Post):
        self.post = post
        self.footnotes = dict(post.footnotes)
        self.heading_labels: set[str] = set()
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
        return f"{LINE_MARK.format(block.line)}\n{render(block)}"

    def block_heading(self, block: m.Heading) -> str:
        command = SECTION_COMMANDS.get(block.level, "paragraph")
        self.in_heading = True
        try:
            title = self.inlines_without_footnotes(block.children)
        finally:
            self.in_heading = False
        label = heading_label(self.post.id, block.anchor)
        if label in self.heading_labels:  # a repeated heading text: links go to its first use
            return f"\\{command}{{{title}}}"
        self.heading_labels.add(label)
        return f"\\{command}{{{title}}}\\label{{{label}}}"

    def block_paragraph(self, block: m.Paragraph) -> str:
        return self.inlines(block.children).strip()

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
        return block.tex

    def block_figure(self, block: m.Figure) -> str:
        caption = self.inlines_without_footnotes(block.caption).strip()
        url = escape_url(self.absolute(block.src))
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
        tex = node.tex.strip()
        if not tex:
            return ""  # `$$` would open a display: empty math (e.g. all of it was MathJax-only) prints nothing
        if not node.display:
            if self.in_heading:
                return f"\\texorpdfstring{{${tex}$}}{{{escape_text(bookmark_text(tex))}}}"
            return f"${tex}$"
        if not TOP_LEVEL_DISPLAYS.match(tex):
            tex = f"\\[{tex}\\]"
        return f"\n{LINE_MARK.format(node.line)}\n{tex}\n"

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
        return node.tex

    def absolute(self, url: str) -> str:
        if url.startswith("/"):
            return "https://spaces.ac.cn" + url
        return url


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
    out = []
    for node in nodes:
        if isinstance(node, (m.Text, m.Code)):
            out.append(node.text)
        elif isinstance(node, m.Math):
            out.append(node.tex[: max(4, len(node.tex) // 2)])
        else:
            out.append(_cell_text(getattr(node, "children", ())))
    return "".join(out)


def bookmark_text(tex: str) -> str:
    r"""A PDF bookmark's stand-in for math: ``\boxed{x}_{t}`` → ``x_t``."""
    text = re.sub(r"\\(?:[A-Za-z]+|.)\s*", " ", tex)
    text = re.sub(r"[{}$&^~\\]", "", text)
    return " ".join(text.split())


def render_post_body(post: m.Post) -> str:
    return Writer(post).blocks(post.blocks)
