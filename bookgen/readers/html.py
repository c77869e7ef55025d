r"""The site's own article pages (``/archives/N``, saved as .html) → ``model.Post``.

A page of spaces.ac.cn (Typecho, theme "geekg") holds the post in
``<div id="PostContent">``; its math is raw TeX in the text (MathJax renders it
in the browser): ``$…$``, ``$$…$$`` and bare ``\begin{equation}…\end{equation}``,
lines separated by ``<br>``, ``<`` ``>`` ``&`` written as entities.

The subtree of PostContent is turned into the Markdown dialect of the mirrors
and read by ``readers.markdown.read_markdown``, so everything that reader does
(bare displays merged into their paragraph, figures with captions, links, soft
CJK line breaks) applies to HTML pages too.  The converter is written by hand
on the standard library's ``html.parser``: no well-kept HTML→Markdown library
that leaves TeX untouched is in our dependencies (html2text escapes ``\\``,
``_`` and line-leading ``-`` and so damages the math, as the html2text mirror
shows; markdownify and BeautifulSoup would be new dependencies).

What the converter writes
-------------------------
* Text outside math is written so that the Markdown reader gives back exactly
  the page's text: Markdown's punctuation (``\ * _ ` < > # ~ & | $``) is
  backslash-escaped, ``[`` and ``]`` are written ``&#91;`` ``&#93;`` (``\[``
  would start display math), and a line starting with ``-``, ``+``, ``=`` or
  ``1.`` gets its marker escaped, so prose never turns into a list or heading.
* Math (found the way MathJax finds it: ``$…$``, ``$$…$$``, ``\(…\)``,
  ``\[…\]``, ``\begin{env}…\end{env}`` inside one run of text and ``<br>``)
  is written verbatim, entities decoded, never escaped.  A display is put on
  lines of its own (where the Markdown reader's display rule reads it whole),
  ``<br>`` inside it becomes a newline and blank lines inside it are dropped;
  inline math is kept on one line (``<br>`` and newlines become spaces), so no
  line of TeX can start a Markdown block.  A ``\ref``/``\eqref`` outside math
  (MathJax typesets those too) is written as inline math.  A ``$`` that opens
  no math is escaped.
* ``<br>`` outside math is a hard line break; ``<p>`` a paragraph; h1–h6
  headings; ``<ul>``/``<ol>``/``<li>`` lists; ``<blockquote>`` quotes;
  ``<pre>`` fenced code; ``<table>`` pipe tables (the first row is the header);
  ``<hr>`` a rule; ``<a>`` links (heading permalinks ``<a href="#…">#</a>``
  are dropped); ``<img>`` images, and a paragraph that is an image, ``<br>``
  and a short text becomes an image paragraph and its caption.
* Bold, italic and strike-through are written as private-use marker characters
  rather than ``**``/``*``/``~~`` and turned into ``Strong``/``Emph``/``Strike``
  after reading: CommonMark's flanking rules reject ``**结论：**然后`` (a
  delimiter between CJK punctuation and a letter), which the page shows bold.
* The site's boilerplate at the end of PostContent (转载到请包括本文地址…, 打赏,
  如果您需要引用本文, ``@online{…}``) is cut like ``readers.mirror`` cuts it; the
  citation line in it gives the date.

Line numbers
------------
Every Markdown line the converter writes remembers the line of the HTML file
its first character came from (``HTMLParser.getpos()`` at each tag and text),
and the post read from the Markdown has each block's and each math's line
mapped back through that table.  The first line of a block is the line of the
element that makes it (``<p>``, ``<h2>``, ``<ul>``, ``<blockquote>``,
``<table>``, ``<pre>``, ``<hr>``), so ``Paragraph.line`` is the line of its
``<p>`` and a display's line is the line its ``\begin``/``$$`` is on.  The
first paragraph of a list or quote shares the list's/quote's line; inline math
after a ``<br>`` inside inline math reports the line the math started on.
"""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser
from pathlib import Path

from bookgen import model as m
from bookgen.errors import SourceError
from bookgen.readers.mdmath import BEGIN_ENV, find_display_end
from bookgen.readers.mirror import date_from_citation

CONTENT_ID = "PostContent"
VOID = frozenset("area base br col embed hr img input keygen link meta param source track wbr".split())
BLOCK = frozenset(
    "address article aside blockquote center dd details dialog div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hgroup hr li main menu nav ol p pre section summary table tbody td tfoot th thead "
    "tr ul caption".split()
)
CLOSES_P = BLOCK - frozenset("td th tr tbody thead tfoot caption summary".split()) | {"p"}
SCOPE = frozenset("table td th caption button object html template".split())
SKIP = frozenset(
    "head title script style noscript template iframe object embed video audio canvas svg math form input "
    "button select textarea nav".split()
)
SITE_TITLE = re.compile(r"\s*[-–—|]\s*科学空间\s*(?:\|\s*Scientific Spaces)?\s*$")
ISO_DATE = re.compile(r"((?:19|20)\d{2})-(\d{1,2})-(\d{1,2})|((?:19|20)\d{2})年(\d{1,2})月(\d{1,2})日")
BOILERPLATE = re.compile(
    r"^[\s\ue010-\ue015]*(?:转载到请包括本文地址|如果您需要引用本文|如果您还有什么疑惑或建议|如果您觉得本文还不错|@online\{kexuefm)"
)

# Private-use characters standing for bold/italic/strike-through in the Markdown we write.
STRONG, STRONG_END, EMPH, EMPH_END, STRIKE, STRIKE_END = "\ue010\ue011\ue012\ue013\ue014\ue015"
MARKER = re.compile("([\ue010-\ue015])")
OPENERS = {STRONG: (STRONG_END, m.Strong), EMPH: (EMPH_END, m.Emph), STRIKE: (STRIKE_END, m.Strike)}
WITHOUT_MARKERS = {ord(c): None for c in "\ue010\ue011\ue012\ue013\ue014\ue015"}

ESCAPED = frozenset("\\`*_<>#~&|$")
# `\[` would start display math for the Markdown reader's TeX rules: brackets are written as entities.
ENTITIES = {"[": "&#91;", "]": "&#93;"}
LINE_SPACE = " \t\xa0\u3000"
PROSE_LINE_START = re.compile(r"^([-+=])|^(\d{1,9})([.)])(?=\s|$)")
REFERENCE = re.compile(r"\\(?:eq)?ref\{[^{}\n]*\}")
# split_mirror skips a mirror's header (`# title`, `---`, …) after the front matter, up to a `---` line: the
# fourth line ends it at once, so a post that starts with a rule or an h1 keeps them.
FRONT_MATTER = ["---", "format: html", "---", "---"]


# ---------------------------------------------------------------- the HTML tree


class _Element:
    __slots__ = ("tag", "attrs", "children", "line")

    def __init__(self, tag: str, attrs, line: int):
        self.tag = tag
        self.attrs = {name: value or "" for name, value in attrs}
        self.children: list = []
        self.line = line

    def get(self, name: str) -> str:
        return self.attrs.get(name, "")

    def classes(self) -> list[str]:
        return self.get("class").split()


class _Text:
    __slots__ = ("text", "line")

    def __init__(self, text: str, line: int):
        self.text = text
        self.line = line


class _TreeBuilder(HTMLParser):
    """A forgiving tree: void elements, and the end tags HTML lets pages leave out (p, li, td, …)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = _Element("#document", [], 1)
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        if tag in CLOSES_P:
            self._close(("p",), SCOPE)
        if tag == "li":
            self._close(("li",), SCOPE | {"ul", "ol"})
        elif tag in ("dt", "dd"):
            self._close(("dt", "dd"), SCOPE | {"dl"})
        elif tag in ("td", "th"):
            self._close(("td", "th"), {"tr", "table"})
        elif tag == "tr":
            self._close(("tr",), {"table", "tbody", "thead", "tfoot"})
        elif tag in ("tbody", "thead", "tfoot"):
            self._close(("tbody", "thead", "tfoot"), {"table"})
        node = _Element(tag, attrs, self.getpos()[0])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag == "br":  # browsers read </br> as <br>
            self.handle_starttag("br", [])
            return
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(_Text(data, self.getpos()[0]))

    def _close(self, tags, boundary) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag in tags:
                del self.stack[index:]
                return
            if self.stack[index].tag in boundary:
                return


def _elements(node: _Element):
    """Every element below ``node``, in document order."""
    pending = list(reversed(node.children))
    while pending:
        child = pending.pop()
        if isinstance(child, _Element):
            yield child
            pending.extend(reversed(child.children))


def _text_of(node, br: str = "\n") -> str:
    if isinstance(node, _Text):
        return node.text
    if node.tag == "br":
        return br
    if node.tag in ("script", "style"):
        return ""
    return "".join(_text_of(child, br) for child in node.children)


def _is_math_script(node: _Element) -> bool:
    return node.tag == "script" and node.get("type").strip().lower().startswith("math/tex")


def _is_rendered_math(node: _Element) -> bool:
    """What MathJax inserted into a page saved from a browser (its TeX is kept in a math/tex script)."""
    return node.tag.startswith("mjx-") or any(c.startswith("MathJax") for c in node.classes())


def _skipped(node: _Element) -> bool:
    return (node.tag in SKIP and not _is_math_script(node)) or _is_rendered_math(node)


def _has_block(node: _Element) -> bool:
    return any(e.tag in BLOCK and not _skipped(e) for e in _elements(node))


# ---------------------------------------------------------------- inline pieces


@dataclasses.dataclass
class _Piece:
    kind: str  # "text" (page text), "br", "mark" (Markdown we write: markers, link syntax, code, images)
    text: str
    line: int
    image: bool = False


def _escape_label(text: str) -> str:
    return re.sub(r"([\\`*_<>&$])", r"\\\1", text).replace("[", "&#91;").replace("]", "&#93;")


def _destination(url: str) -> str:
    url = url.strip().replace("\n", "")
    for char, code in ((" ", "%20"), ("(", "%28"), (")", "%29"), ("<", "%3C"), (">", "%3E"), ("\\", "%5C")):
        url = url.replace(char, code)
    return url


def _code_span(text: str) -> str:
    text = text.replace("\n", " ")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or (text[:1] == text[-1:] == " " and text.strip()) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _inline(nodes, out: list[_Piece]) -> list[_Piece]:
    for node in nodes:
        if isinstance(node, _Text):
            out.append(_Piece("text", node.text.translate(WITHOUT_MARKERS), node.line))
            continue
        tag = node.tag
        if _is_math_script(node):
            tex = "".join(child.text for child in node.children if isinstance(child, _Text))
            wrap = "$$" if "mode=display" in node.get("type").replace(" ", "") else "$"
            out.append(_Piece("text", f"{wrap}{tex}{wrap}", node.line))
        elif _skipped(node):
            continue
        elif tag == "br":
            out.append(_Piece("br", "\n", node.line))
        elif tag == "img":
            image = _image(node)
            if image:
                out.append(_Piece("mark", image, node.line, image=True))
        elif tag == "a":
            _link(node, out)
        elif tag in ("strong", "b"):
            _wrapped(node, STRONG, STRONG_END, out)
        elif tag in ("em", "i"):
            _wrapped(node, EMPH, EMPH_END, out)
        elif tag in ("del", "s", "strike"):
            _wrapped(node, STRIKE, STRIKE_END, out)
        elif tag in ("code", "kbd", "samp", "tt"):
            text = _text_of(node, " ")
            if text:
                out.append(_Piece("mark", _code_span(text), node.line))
        elif tag in BLOCK:  # a block inside a table cell or a heading: its text, on the same line
            out.append(_Piece("br", "\n", node.line))
            _inline(node.children, out)
            out.append(_Piece("br", "\n", node.line))
        else:  # span, font, sub, sup, u, small, …: their content
            _inline(node.children, out)
    return out


def _image(node: _Element) -> str:
    src = node.get("src") or node.get("data-src") or node.get("data-original")
    if not src.strip():
        return ""
    return f"![{_escape_label(node.get('alt').strip())}]({_destination(src)})"


def _wrapped(node: _Element, opener: str, closer: str, out: list[_Piece]) -> None:
    inner = _inline(node.children, [])
    if any(p.kind != "br" and (p.kind == "mark" or p.text.strip()) for p in inner):
        out.append(_Piece("mark", opener, node.line))
        out.extend(inner)
        out.append(_Piece("mark", closer, inner[-1].line))
    else:
        out.extend(inner)


def _link(node: _Element, out: list[_Piece]) -> None:
    href = node.get("href").strip()
    inner = _inline(node.children, [])
    text = "".join(p.text for p in inner if p.kind == "text").strip()
    if href.startswith("#") and text in ("", "#", "¶", "§") and not any(p.image for p in inner):
        return  # a heading's permalink
    if not href or href.lower().startswith("javascript:") or not any(p.image or p.text.strip() for p in inner):
        out.extend(inner)
        return
    images = [p for p in inner if p.image]
    if images and all(p.image or (p.kind == "text" and not p.text.strip()) for p in inner):
        linked = "".join(p.text for p in images)
        out.append(_Piece("mark", f"[{linked}]({_destination(href)})", node.line, image=True))
        return
    out.append(_Piece("mark", "[", node.line))
    out.extend(inner)
    out.append(_Piece("mark", f"]({_destination(href)})", inner[-1].line if inner else node.line))


# ---------------------------------------------------------------- pieces → Markdown lines


class _Lines:
    """Markdown lines being written, each with the HTML line of its first character."""

    def __init__(self, table: bool = False, single_line: bool = False):
        self.lines: list[list] = []  # [text, html_line, starts_in_prose]
        self.table = table
        self.single_line = single_line
        self.break_pending = False  # a display ended this line: prose after it goes on the next
        self.new_line()

    def new_line(self) -> None:
        self.lines.append(["", None, False])

    @property
    def current(self) -> list:
        return self.lines[-1]

    def blank(self) -> bool:
        return not self.current[0].strip()

    def write(self, text: str, line: int, prose: bool = False) -> None:
        if self.break_pending and text.strip():
            self.end_line()
        if text.strip() and self.blank():  # the line's first visible character gives its line
            self.current[1] = line
            self.current[2] = prose
        elif self.current[1] is None:
            self.current[1] = line
        self.current[0] += text

    def end_line(self, hard: bool = False) -> None:
        self.break_pending = False
        if self.single_line:
            self.current[0] += " "
            return
        self.current[0] = self.current[0].rstrip(" \t")
        if hard and self.current[0]:
            self.current[0] += "  "
        self.new_line()

    def result(self) -> list[tuple[str, int]]:
        out = []
        fallback = next((line for _, line, _ in self.lines if line is not None), 1)
        for text, line, prose in self.lines:
            if prose:
                text = PROSE_LINE_START.sub(lambda g: "\\" + g[1] if g[1] else f"{g[2]}\\{g[3]}", text, count=1)
            fallback = line if line is not None else fallback
            out.append((text.rstrip() if not text.strip() else text, fallback))
        while out and not out[-1][0].strip():
            out.pop()
        while out and not out[0][0].strip():
            out.pop(0)
        if self.single_line:
            return [(" ".join(t.strip() for t, _ in out).strip(), out[0][1])] if out else []
        return out


def _math_spans(text: str) -> list[tuple[int, int, str]]:
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


def _write_run(run: list[_Piece], out: _Lines) -> None:
    """Text and <br> pieces: find the math, write prose escaped and math verbatim."""
    chars: list[str] = []
    lines: list[int] = []
    breaks: set[int] = set()
    for piece in run:
        if piece.kind == "br":
            breaks.add(len(chars))
            chars.append("\n")
            lines.append(piece.line)
            continue
        line = piece.line
        for char in piece.text:
            chars.append(char)
            lines.append(line)
            if char == "\n":
                line += 1
    text = "".join(chars)
    position = 0
    for start, end, kind in _math_spans(text) + [(len(text), len(text), "")]:
        for index in range(position, start):
            _write_prose(text[index], lines[index], index in breaks, out)
        if kind == "display" and not out.single_line:
            if not out.blank():
                out.end_line()
            for index in range(start, end):
                if text[index] == "\n":
                    if out.blank():
                        out.current[0] = ""
                    else:
                        out.end_line()
                else:
                    out.write(text[index] if not out.table or text[index] != "|" else "\\|", lines[index])
            out.break_pending = True
        elif kind:
            math = re.sub(r"\s*\n\s*", " ", text[start:end])
            if out.table:
                math = math.replace("|", "\\|")
            out.write(f"${math}$" if kind == "ref" else math, lines[start])
        position = end


def _write_prose(char: str, line: int, is_break: bool, out: _Lines) -> None:
    if char == "\n":
        if is_break:
            if out.break_pending:
                out.end_line()
            else:
                out.end_line(hard=True)
        elif not out.blank() and not out.break_pending:
            out.end_line()
        return
    if char in LINE_SPACE and (out.blank() or out.break_pending):
        return
    out.write("\\" + char if char in ESCAPED else ENTITIES.get(char, char), line, prose=True)


def _write_pieces(pieces: list[_Piece], out: _Lines) -> list[tuple[str, int]]:
    run: list[_Piece] = []
    for piece in pieces:
        if piece.kind == "mark":
            _write_run(run, out)
            run = []
            text = piece.text.replace("|", "\\|") if out.table and not piece.image else piece.text
            out.write(text, piece.line)
        else:
            run.append(piece)
    _write_run(run, out)
    return out.result()


# ---------------------------------------------------------------- blocks


class _Converter:
    def blocks(self, nodes) -> list[list[tuple[str, int]]]:
        out: list[list[tuple[str, int]]] = []
        run: list = []
        for node in nodes:
            if isinstance(node, _Element) and not _skipped(node) and (node.tag in BLOCK or _has_block(node)):
                out.extend(self.paragraphs(run))
                run = []
                out.extend(self.block(node))
            else:
                run.append(node)
        out.extend(self.paragraphs(run))
        return [b for b in out if b]

    def paragraphs(self, nodes, line: int | None = None) -> list[list[tuple[str, int]]]:
        pieces = _inline(nodes, [])
        if not any(p.kind == "mark" or p.text.strip() for p in pieces if p.kind != "br"):
            return []
        groups = [pieces]
        # An image, <br> and a short text in one paragraph: the figure and its caption.
        first = next(i for i, p in enumerate(pieces) if p.kind != "br" and (p.kind == "mark" or p.text.strip()))
        if pieces[first].image:
            index = first
            while index < len(pieces) and (pieces[index].image or (pieces[index].kind == "text" and not pieces[index].text.strip())):
                index += 1
            rest = pieces[index:]
            if rest and rest[0].kind == "br" and not any(p.image for p in rest):
                groups = [pieces[:index], rest]
        out = []
        for group in groups:
            lines = _write_pieces(group, _Lines())
            if lines:
                out.append(lines)
        if out and line is not None:
            out[0][0] = (out[0][0][0], line)
        return out

    def block(self, node: _Element) -> list[list[tuple[str, int]]]:
        tag = node.tag
        if tag == "p":
            if _has_block(node):
                return _starting_at(self.blocks(node.children), node.line)
            return self.paragraphs(node.children, node.line)
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            lines = _write_pieces(_inline(node.children, []), _Lines(single_line=True))
            return [[("#" * int(tag[1]) + " " + lines[0][0], node.line)]] if lines and lines[0][0] else []
        if tag in ("ul", "ol"):
            return self.listing(node)
        if tag == "blockquote":
            inner = _joined(self.blocks(node.children))
            quoted = [(f"> {text}" if text else ">", line) for text, line in inner]
            return _starting_at([quoted], node.line) if quoted else []
        if tag == "pre":
            return [self.code(node)]
        if tag == "table":
            return [self.table(node)]
        if tag == "hr":
            return [[("---", node.line)]]
        return self.blocks(node.children)  # div, section, figure, figcaption, center, li outside a list, …

    def listing(self, node: _Element) -> list[list[tuple[str, int]]]:
        ordered = node.tag == "ol"
        try:
            number = int(node.get("start") or 1)
        except ValueError:
            number = 1
        items: list[tuple[_Element | None, list]] = []
        for child in node.children:
            if isinstance(child, _Element) and child.tag == "li":
                items.append((child, child.children))
            elif isinstance(child, _Element) and not _skipped(child) or isinstance(child, _Text) and child.text.strip():
                if items:  # a stray list or text directly in the list belongs to the item before it
                    items[-1] = (items[-1][0], items[-1][1] + [child])
                else:
                    items.append((None, [child]))
        lines: list[tuple[str, int]] = []
        for item, children in items:
            marker = f"{number}. " if ordered else "- "
            number += 1
            inner = _joined(self.blocks(children)) or [("", (item or node).line)]
            for index, (text, line) in enumerate(inner):
                if index == 0:
                    lines.append((marker + text, item.line if item else line))
                else:
                    lines.append((" " * len(marker) + text if text else "", line))
        return _starting_at([lines], node.line) if lines else []

    def code(self, node: _Element) -> list[tuple[str, int]]:
        text = _text_of(node)
        if text.startswith("\n"):
            text = text[1:]
        if not text.endswith("\n"):
            text += "\n"
        language = ""
        for element in [node] + [e for e in _elements(node) if e.tag == "code"]:
            for name in element.classes():
                found = re.fullmatch(r"(?:language|lang)-([\w+#.-]+)", name)
                if found:
                    language = found.group(1)
                    break
            if language:
                break
        longest = max((len(run) for run in re.findall(r"^[ \t]*(`{3,}|~{3,})", text, re.MULTILINE)), default=2)
        fence = "`" * max(3, longest + 1)
        lines = [(fence + language, node.line)]
        for offset, content in enumerate(text[:-1].split("\n")):
            lines.append((content, node.line + offset + 1))
        lines.append((fence, lines[-1][1]))
        return lines

    def table(self, node: _Element) -> list[tuple[str, int]]:
        rows: list[tuple[_Element, bool, list[_Element]]] = []
        for element in _elements(node):
            if element.tag == "tr":
                cells = [c for c in element.children if isinstance(c, _Element) and c.tag in ("td", "th")]
                head = any(c.tag == "th" for c in cells) and all(c.tag == "th" for c in cells)
                rows.append((element, head, cells))
        rows = [r for r in rows if r[2]]
        if not rows:
            return []
        width = max(len(cells) for _, _, cells in rows)

        def cell_text(cell: _Element) -> str:
            lines = _write_pieces(_inline(cell.children, []), _Lines(table=True, single_line=True))
            return lines[0][0] if lines else ""

        def row_line(cells: list[_Element]) -> str:
            texts = [cell_text(c) for c in cells] + [""] * (width - len(cells))
            return "| " + " | ".join(texts) + " |"

        header = rows[0][2]
        aligns = []
        for index in range(width):
            style = ""
            if index < len(header):
                style = (header[index].get("align") + " " + header[index].get("style")).lower()
            if "center" in style:
                aligns.append(":---:")
            elif "right" in style:
                aligns.append("---:")
            else:
                aligns.append("---")
        lines = [(row_line(header), node.line), ("| " + " | ".join(aligns) + " |", node.line)]
        lines.extend((row_line(cells), tr.line) for tr, _, cells in rows[1:])
        return lines


def _joined(blocks: list[list[tuple[str, int]]]) -> list[tuple[str, int]]:
    lines: list[tuple[str, int]] = []
    for block in blocks:
        if lines:
            lines.append(("", lines[-1][1]))
        lines.extend(block)
    return lines


def _starting_at(blocks: list[list[tuple[str, int]]], line: int) -> list[list[tuple[str, int]]]:
    if blocks and blocks[0]:
        blocks[0][0] = (blocks[0][0][0], line)
    return blocks


# ---------------------------------------------------------------- the page


def _find_content(root: _Element) -> _Element | None:
    by_class = None
    for element in _elements(root):
        if element.get("id") == CONTENT_ID:
            return element
        if by_class is None and CONTENT_ID in element.classes():
            by_class = element
    return by_class


def page_title(root: _Element, content: _Element | None) -> str:
    for element in _elements(root):
        if element.tag == "title":
            title = " ".join(_text_of(element).split())
            stripped = SITE_TITLE.sub("", title).strip()
            if stripped:
                return stripped
            break
    heading = ""
    for element in _elements(root):
        if element is content:
            break
        if element.tag == "h1":
            text = " ".join(_text_of(element).split())
            if SITE_TITLE.sub("", " - " + text):  # not the site's name in the page header
                heading = text
    if heading:
        return heading
    for element in _elements(root):
        if element.tag == "meta" and element.get("property") == "og:title":
            return SITE_TITLE.sub("", element.get("content")).strip()
    return ""


def _iso(match: re.Match) -> str:
    year, month, day = (match.group(1), match.group(2), match.group(3)) if match.group(1) else match.group(4, 5, 6)
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        return ""
    return f"{year}-{int(month):02d}-{int(day):02d}"


def page_date(root: _Element, content: _Element | None, tail: str) -> str:
    """The citation line of the boilerplate; else the page's published-time meta; else the date shown above the post."""
    date = date_from_citation(tail)
    if date:
        return date
    for element in _elements(root):
        if element is content:
            break
        value = ""
        if element.tag == "meta" and (
            element.get("property") == "article:published_time" or element.get("itemprop") == "datePublished"
        ):
            value = element.get("content")
        elif element.tag == "time" and element.get("datetime"):
            value = element.get("datetime")
        found = ISO_DATE.match(value.strip())
        if found and _iso(found):
            return _iso(found)
    before: list[str] = []

    def visit(node) -> bool:
        if node is content:
            return True
        if isinstance(node, _Text):
            before.append(node.text)
            return False
        if node.tag in ("script", "style", "head"):
            return False
        return any(visit(child) for child in node.children)

    visit(root)
    found = [d for d in (_iso(x) for x in ISO_DATE.finditer(" ".join(before))) if d]
    return found[-1] if found else ""


def parse_page(text: str) -> tuple[_Element, _Element | None]:
    builder = _TreeBuilder()
    builder.feed(text.replace("\r\n", "\n").replace("\r", "\n"))
    builder.close()
    return builder.root, _find_content(builder.root)


def image_sources(text: str) -> list[str]:
    """The ``src`` of every image in the post of a page (for ``bookgen fetch``)."""
    _, content = parse_page(text)
    if content is None:
        return []
    found = []
    for element in _elements(content):
        if element.tag == "img":
            src = element.get("src") or element.get("data-src") or element.get("data-original")
            if src.strip() and src.strip() not in found:
                found.append(src.strip())
    return found


def page_markdown(text: str, path: Path) -> tuple[list[tuple[str, int]], str, str]:
    """The post of a page as Markdown lines (each with its HTML line), its title and its date."""
    root, content = parse_page(text)
    if content is None:
        raise SourceError(
            f'no <div id="{CONTENT_ID}"> in this page (not an article page of spaces.ac.cn?)', path, 1
        )
    body = _joined(_Converter().blocks(content.children))
    tail = ""
    for index, (line, _) in enumerate(body):
        if BOILERPLATE.match(line):
            tail = "\n".join(text for text, _ in body[index:])
            body = body[:index]
            break
    title = page_title(root, content)
    date = page_date(root, content, tail)
    header = [(line, content.line) for line in FRONT_MATTER]
    return header + body, title, date


def read_html(text: str, path: Path, archive_id: int) -> m.Post:
    from bookgen.readers.markdown import read_markdown

    lines, title, date = page_markdown(text, path)
    html_lines = [line for _, line in lines]

    def to_html(line: int) -> int:
        if not html_lines:
            return 1
        return html_lines[min(max(line, 1), len(html_lines)) - 1]

    post = read_markdown("\n".join(t for t, _ in lines) + "\n", path, archive_id)
    blocks = _finish_blocks(post.blocks, to_html)
    footnotes = tuple((label, _finish_blocks(body, to_html)) for label, body in post.footnotes)
    return dataclasses.replace(
        post, title=title or str(archive_id), date=date, blocks=blocks, footnotes=footnotes, mirror=""
    )


# ---------------------------------------------------------------- after reading: lines and markers


def _finish_blocks(blocks: tuple, to_html) -> tuple:
    out = []
    for block in blocks:
        line = to_html(block.line)
        if isinstance(block, m.Heading):
            children = _finish_inlines(block.children, to_html)
            block = dataclasses.replace(block, children=children, line=line, anchor=_anchor(children))
        elif isinstance(block, m.Paragraph):
            block = dataclasses.replace(block, children=_finish_inlines(block.children, to_html), line=line)
        elif isinstance(block, m.ListBlock):
            items = tuple(_finish_blocks(item, to_html) for item in block.items)
            block = dataclasses.replace(block, items=items, line=line)
        elif isinstance(block, m.Quote):
            block = dataclasses.replace(block, children=_finish_blocks(block.children, to_html), line=line)
        elif isinstance(block, m.Table):
            header = tuple(_finish_inlines(cell, to_html) for cell in block.header)
            rows = tuple(tuple(_finish_inlines(cell, to_html) for cell in row) for row in block.rows)
            block = dataclasses.replace(block, header=header, rows=rows, line=line)
        elif isinstance(block, m.Figure):
            caption = _finish_inlines(block.caption, to_html)
            block = dataclasses.replace(block, caption=caption, src=block.src.translate(WITHOUT_MARKERS), line=line)
        else:
            block = dataclasses.replace(block, line=line)
        out.append(block)
    return tuple(out)


def _finish_inlines(nodes: tuple, to_html) -> tuple:
    """Map math lines to the HTML file and turn the bold/italic/strike markers into nodes."""
    stack: list[tuple[str | None, type | None, list]] = [(None, None, [])]
    for node in nodes:
        if isinstance(node, m.Math):
            node = dataclasses.replace(node, tex=node.tex.translate(WITHOUT_MARKERS), line=to_html(node.line))
        elif isinstance(node, m.Code):
            node = dataclasses.replace(node, text=node.text.translate(WITHOUT_MARKERS))
        elif isinstance(node, m.Link):
            children = _finish_inlines(node.children, to_html)
            node = dataclasses.replace(node, url=node.url.translate(WITHOUT_MARKERS), children=children)
        elif isinstance(node, (m.Emph, m.Strong, m.Strike, m.ChapterRef)):
            node = dataclasses.replace(node, children=_finish_inlines(node.children, to_html))
        if type(node) is not m.Text or not MARKER.search(node.text):
            stack[-1][2].append(node)
            continue
        for part in MARKER.split(node.text):
            if part in OPENERS:
                closer, kind = OPENERS[part]
                stack.append((closer, kind, []))
            elif MARKER.fullmatch(part):
                if len(stack) > 1 and stack[-1][0] == part:
                    _close_marker(stack)
            elif part:
                stack[-1][2].append(m.Text(part))
    while len(stack) > 1:  # a marker never closed (its closer fell into math): keep the text, drop the style
        _, _, children = stack.pop()
        stack[-1][2].extend(children)
    return tuple(_merged(stack[0][2]))


def _close_marker(stack: list) -> None:
    _, kind, children = stack.pop()
    children = _merged(children)
    plain = all(type(c) is m.Text and not c.text.strip() for c in children)
    if plain or any(isinstance(c, m.Math) and c.display for c in children):
        stack[-1][2].extend(children)
    else:
        stack[-1][2].append(kind(tuple(children)))


def _merged(nodes: list) -> list:
    out: list = []
    for node in nodes:
        if type(node) is m.Text and out and type(out[-1]) is m.Text:
            out[-1] = m.Text(out[-1].text + node.text)
        elif not (type(node) is m.Text and not node.text):
            out.append(node)
    return out


def _anchor(children) -> str:
    def plain(node) -> str:
        if isinstance(node, m.Text):
            return node.text
        if isinstance(node, m.Math):
            return f"${node.tex}$"
        if isinstance(node, m.Code):
            return node.text
        return "".join(plain(c) for c in getattr(node, "children", ()))

    return "".join(plain(c) for c in children).strip()
