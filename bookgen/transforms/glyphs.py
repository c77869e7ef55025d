r"""Pass ``glyphs``: every character gets a glyph, from a fallback font where the book's fonts have none.

xelatex drops a character its font lacks, with nothing but a ``Missing character``
line in the log.  This pass runs last, after the Traditional conversion (which
changes characters), and checks every character TeX will set — prose, headings,
captions, table cells, footnotes, link texts, inline code, code blocks, the
text inside ``\text{…}`` in math, and the titles — against the fonts of the
rendered preamble (``bookgen.fonts``: coverage read from the font files, xeCJK's
classes).  A grapheme cluster (a character and its combining marks) that the
font xeCJK sends it to lacks is set in the first font that has all of it —
the other main font (Latin or CJK), then ``fonts.FALLBACK_CHAIN`` (code:
``fonts.MONO_CHAIN``):

* ``ʊ`` → ``\bookgenglyph{notoserif}{ʊ}``, ``▂▃`` → ``\bookgenglyph{notoserifcjksc}{▂▃}``,
  ``😀`` → ``\bookgenglyph{symbola}{😀}``; clusters next to each other in one
  font share one switch;
* a cluster with a precomposed form that needs no fallback is written precomposed
  (NFC): ``e`` + U+0301 → ``é``;
* a character no installed font has, and any private-use or unassigned code
  point, becomes a visible ``[U+E000]``, with a warning;
* a code block that needs a fallback is written with fvextra's ``commandchars``
  (``\`` ``{`` ``}`` escaped) so the switch works inside it; every other code
  block stays byte for byte as it was.

``\bookgenglyph`` is defined in the preamble; only the fallback families the book
uses are loaded (``\newfontfamily\bookgenfont<key>``, added to the preamble by
this pass), so a book that needs none costs TeX nothing.  The ``tex`` filter of
the templates sets the titles with the same choices.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Callable, Iterator

from bookgen import fonts
from bookgen import model as m
from bookgen.escape import CONTROL_CHARACTERS, INVISIBLE, code_breaks, escape_text, verbatim_safe
from bookgen.transforms import tex
from bookgen.transforms.base import Context, Pass
from bookgen.transforms.unicode_math import describe, text_mode
from bookgen.transforms.walk import map_blocks, map_inlines

NAME = "glyphs"
MACRO = "\\bookgenglyph{{{key}}}{{{text}}}"


def unknown_marker(char: str) -> str:
    """What a character no font has looks like on the page: ``[U+E000]``."""
    return f"[U+{ord(char):04X}]"


def _variation_selector(char: str) -> bool:
    return 0xFE00 <= ord(char) <= 0xFE0F or 0xE0100 <= ord(char) <= 0xE01EF


def _removed(char: str) -> bool:
    """Characters the escapes drop before TeX sees them (controls, zero-width and bidi marks)."""
    return bool(INVISIBLE.match(char) or CONTROL_CHARACTERS.match(char))


@dataclass
class GlyphSetter:
    """Splits strings into what TeX sets as is and what needs a fallback font; remembers the fonts used."""

    chooser: fonts.GlyphChooser
    used: dict[str, set[str]] = field(default_factory=dict)  # family (or LATIN) → the roles it sets
    # Per role, the characters known to need nothing: most strings are checked by one set difference.
    fine: dict[str, set[str]] = field(default_factory=lambda: {role: set() for role in fonts.ROLES}, repr=False)

    def needs_work(self, text: str, role: str) -> bool:
        if text.isascii():
            return False
        fine = self.fine[role]
        unknown = set(text) - fine
        if not unknown:
            return False
        found = False
        for char in unknown:
            if self.chooser.char_ok(char, role) or _removed(char):
                fine.add(char)
            else:
                found = True
        return found

    def pieces(self, text: str, role: str) -> list[tuple[str, str | None]]:
        """``text`` as (piece, font) runs, neighbours in one font joined: font AS_IS ('') for what TeX sets
        as it is, a family or LATIN for a fallback, None for a character no font has (one per piece)."""
        out: list[tuple[str, str | None]] = []
        for cluster in fonts.split_clusters(text):
            for form, font in self._settle(cluster, role):
                if font:
                    self.used.setdefault(font, set()).add(role)
                if out and out[-1][1] == font and font is not None:
                    out[-1] = (out[-1][0] + form, font)
                else:
                    out.append((form, font))
        return out

    def _settle(self, cluster: str, role: str) -> list[tuple[str, str | None]]:
        if cluster.isascii() or all(_removed(c) for c in cluster):
            return [(cluster, fonts.AS_IS)]
        if len(cluster) == 1 and self.chooser.char_ok(cluster, role):
            return [(cluster, fonts.AS_IS)]
        form, font = self.chooser.choose(cluster, role)
        if font is not None or len(cluster) == 1:
            return [(form, font)]
        # No font has the whole cluster: each character on its own, variation selectors (an invisible
        # choice among a character's shapes, which no font here has) dropped.
        return [piece for char in cluster if not _variation_selector(char) for piece in self._settle(char, role)]

    def tex(self, text: str, role: str, escape: Callable[[str], str] = escape_text) -> tuple[str, list[tuple[str, bool]]]:
        """TeX for ``text`` with the switches in, each run escaped with ``escape``; and the notes."""
        pieces = self.pieces(text, role)
        return "".join(self.piece_tex(piece, font, escape) for piece, font in pieces), self.notes(pieces, role)

    @staticmethod
    def piece_tex(piece: str, font: str | None, escape: Callable[[str], str] = escape_text) -> str:
        if font is None:
            return escape(unknown_marker(piece))
        if font == fonts.AS_IS:
            return escape(piece)
        key = "latin" if font == fonts.LATIN else fonts.tex_key(font)
        return MACRO.format(key=key, text=escape(piece))

    @staticmethod
    def notes(pieces: list[tuple[str, str | None]], role: str) -> list[tuple[str, bool]]:
        """One repair per fallback font (its characters listed), one warning per character no font has."""
        by_font: dict[str, str] = {}
        warnings: list[tuple[str, bool]] = []
        for piece, font in pieces:
            if font is None:
                warning = (f"no installed font has {describe(piece)}: shown as {unknown_marker(piece)}", True)
                if warning not in warnings:
                    warnings.append(warning)
            elif font != fonts.AS_IS:
                by_font[font] = by_font.get(font, "") + piece
        lacking = "the code fonts" if role == "mono" else "the text fonts"
        repairs = [
            (f"{_chars(chars)} set in {'the Latin font' if font == fonts.LATIN else font} (not in {lacking})", False)
            for font, chars in by_font.items()
        ]
        return repairs + warnings

    def take_fonts(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """The fonts used since the last call, with their roles (``Chapter.fonts``); then none."""
        used = tuple(sorted((family, tuple(sorted(roles))) for family, roles in self.used.items()))
        self.used = {}
        return used


def font_preamble(used: dict[str, set[str]], chooser: fonts.GlyphChooser) -> str:
    r"""The ``\newfontfamily`` of each fallback family used, in chain order (stable)."""
    order = [f.family for f in fonts.MONO_CHAIN]
    families = sorted((f for f in used if f != fonts.LATIN), key=lambda f: (order.index(f) if f in order else -1, f))
    if not families:
        return ""
    lines = ["% Characters the fonts above lack, in the fallback fonts that have them (bookgen's glyphs pass)."]
    for family in families:
        features = FALLBACK_FEATURES
        scale = fonts.width_scale(chooser.setup, family) if used[family] == {"mono"} else None
        if scale:
            features += f",Scale={scale}"  # the code font's width: columns of box drawing line up
        lines.append(f"\\newfontfamily\\bookgenfont{fonts.tex_key(family)}{{{family}}}[{features}]")
    return "\n".join(lines)


def declare_fonts(book: m.Book, chooser: fonts.GlyphChooser) -> m.Book:
    """The book with the declarations of the fonts its titles and chapters use (a chapter finished in an
    earlier build keeps its fonts in ``Chapter.fonts``: ``bookgen.rebuild`` declares them for the whole book)."""
    used: dict[str, set[str]] = {}
    for family, roles in book.fonts + tuple(f for ch in book.chapters for f in ch.fonts):
        used.setdefault(family, set()).update(roles)
    declarations = font_preamble(used, chooser)
    return dataclasses.replace(book, font_declarations=tuple(declarations.split("\n")) if declarations else ())


# A fallback family rarely has bold or italic faces: fake them rather than warn about each shape.
FALLBACK_FEATURES = "AutoFakeBold=2,AutoFakeSlant=0.15"


def _chars(piece: str) -> str:
    """``'ʊ' (U+028A), 'ː' (U+02D0)``: the characters of a run, marks shown with their base."""
    return ", ".join(describe(c) if len(c) == 1 else f"'{c}'" for c in dict.fromkeys(fonts.split_clusters(piece)))


# ---------------------------------------------------------------- escaping for each place


def _raw(text: str) -> str:
    """In math, ``\\text{…}`` holds TeX already: nothing to escape."""
    return text


_VERBATIM_SPECIAL = re.compile(r"[\\{}]")
_VERBATIM_ESCAPES = {"\\": "\\textbackslash{}", "{": "\\{", "}": "\\}"}


def verbatim_command_text(text: str) -> str:
    r"""Code for a ``bookgencode`` block with ``commandchars=\\\{\}``: ``\`` ``{`` ``}`` as macros."""
    return _VERBATIM_SPECIAL.sub(lambda found: _VERBATIM_ESCAPES[found.group(0)], text)


# ---------------------------------------------------------------- the pass


def run(book: m.Book, context: Context) -> m.Book:
    chooser = context.glyphs
    if chooser is None:  # no fonts to check against (a pass run on its own)
        return book
    if chooser.problem:
        if book.chapters:
            post = book.chapters[0].post
            context.report(post, 1, NAME, f"cannot check the glyphs: {chooser.problem}", warning=True)
        return book
    setter = GlyphSetter(chooser)

    def volume_notes(notes: list[tuple[str, bool]]) -> None:
        for message, warning in notes:
            context.report_volume(NAME, message, warning=warning)

    def chapter(ch: m.Chapter) -> m.Chapter:
        def title_notes(notes: list[tuple[str, bool]]) -> None:
            for message, warning in notes:
                context.report(ch.post, 1, NAME, f"title: {message}", warning=warning)

        post = _fix_post(ch.post, setter, context)
        title, full_title = (_fix_title(nodes, setter, title_notes) for nodes in (ch.title, ch.full_title))
        return dataclasses.replace(ch, post=post, title=title, full_title=full_title, fonts=setter.take_fonts())

    book = dataclasses.replace(
        book,
        title=_fix_title(book.title, setter, volume_notes),
        subtitle=_fix_title(book.subtitle, setter, volume_notes),
        author=_fix_title(book.author, setter, volume_notes),
    )
    title_fonts = setter.take_fonts()
    chapters = tuple(chapter(ch) for ch in book.chapters)
    return declare_fonts(dataclasses.replace(book, fonts=title_fonts, chapters=chapters), chooser)


def _fix_title(nodes: tuple, setter: GlyphSetter, report) -> tuple:
    """A title's text with its fallback runs (the titles pass made its symbols math already)."""

    def fn(node):
        if isinstance(node, m.Text) and setter.needs_work(node.text, "text"):
            return _fix_text(node, setter, report)
        return node

    return map_inlines(nodes, fn)


def _strings(blocks: tuple, role: str = "text") -> Iterator[tuple[str, str]]:
    """Every (string, role) a post sets: a first look, so a post that needs nothing is not rebuilt."""
    for block in blocks:
        if isinstance(block, (m.Paragraph, m.Heading)):
            yield from _inline_strings(block.children)
        elif isinstance(block, m.Table):
            for row in (block.header,) + block.rows:
                for cell in row:
                    yield from _inline_strings(cell)
        elif isinstance(block, m.Figure):
            yield from _inline_strings(block.caption)
        elif isinstance(block, m.CodeBlock):
            yield block.text, "mono"
        elif isinstance(block, m.Quote):
            yield from _strings(block.children)
        elif isinstance(block, m.ListBlock):
            for item in block.items:
                yield from _strings(item)


def _inline_strings(nodes: tuple) -> Iterator[tuple[str, str]]:
    for node in nodes:
        if isinstance(node, m.Text):
            yield node.text, "text"
        elif isinstance(node, m.Code):
            yield node.text, "mono"
        elif isinstance(node, m.Math):
            yield node.tex, "text"
        elif isinstance(node, (m.Emph, m.Strong, m.Strike, m.Link, m.ChapterRef)):
            yield from _inline_strings(node.children)


def _fix_post(post: m.Post, setter: GlyphSetter, context: Context) -> m.Post:
    everything = _strings(post.blocks + tuple(block for _, body in post.footnotes for block in body))
    if not any(setter.needs_work(text, role) for text, role in everything):
        return post

    def report(line: int, notes: list[tuple[str, bool]]) -> None:
        for message, warning in notes:
            context.report(post, line, NAME, message, warning=warning)

    def inline_fn(line: int):
        def fn(node):
            if isinstance(node, m.Text) and setter.needs_work(node.text, "text"):
                return _fix_text(node, setter, lambda notes: report(line, notes))
            if isinstance(node, m.Code) and setter.needs_work(node.text, "mono"):
                text, notes = setter.tex(node.text, "mono")
                report(line, notes)
                return m.RawTex(f"\\texttt{{{code_breaks(text, len(node.text))}}}")
            if isinstance(node, m.Math) and setter.needs_work(node.tex, "text"):
                source, notes = fix_math(node.tex, setter)
                report(node.line, notes)
                return dataclasses.replace(node, tex=source) if source != node.tex else node
            return node

        return fn

    def block_fn(block):
        if isinstance(block, (m.Paragraph, m.Heading)):
            return dataclasses.replace(block, children=map_inlines(block.children, inline_fn(block.line)))
        if isinstance(block, m.Table):
            fn = inline_fn(block.line)
            header = tuple(map_inlines(cell, fn) for cell in block.header)
            rows = tuple(tuple(map_inlines(cell, fn) for cell in row) for row in block.rows)
            return dataclasses.replace(block, header=header, rows=rows)
        if isinstance(block, m.Figure):
            return dataclasses.replace(block, caption=map_inlines(block.caption, inline_fn(block.line)))
        if isinstance(block, m.CodeBlock):
            return _fix_code_block(block, setter, lambda notes: report(block.line, notes))
        return block

    blocks = map_blocks(post.blocks, None, block_fn)
    footnotes = tuple((label, map_blocks(body, None, block_fn)) for label, body in post.footnotes)
    return dataclasses.replace(post, blocks=blocks, footnotes=footnotes)


def _fix_text(node: m.Text, setter: GlyphSetter, report) -> tuple[m.Inline, ...] | m.Inline:
    """A Text split around its fallback runs: plain runs (and ``[U+XXXX]`` markers) stay Text, escaped later."""
    parts: list[m.Inline] = []
    pieces = setter.pieces(node.text, "text")
    for piece, font in pieces:
        if font:  # a fallback font (AS_IS is '' and None is no font)
            parts.append(m.RawTex(setter.piece_tex(piece, font)))
            continue
        plain = piece if font == fonts.AS_IS else unknown_marker(piece)
        if parts and isinstance(parts[-1], m.Text):
            parts[-1] = m.Text(parts[-1].text + plain)
        else:
            parts.append(m.Text(plain))
    notes = setter.notes(pieces, "text")
    report(notes)
    return tuple(parts) if len(parts) != 1 else parts[0]


def _fix_code_block(block: m.CodeBlock, setter: GlyphSetter, report) -> m.Block:
    """A code block with a character its font lacks: Verbatim with commandchars, so the switch works."""
    code = verbatim_safe(block.text.rstrip("\n"))
    if not setter.needs_work(code, "mono"):
        return block
    text, notes = setter.tex(code, "mono", escape=verbatim_command_text)
    report(notes)
    body = f"\\begin{{bookgencode}}[commandchars=\\\\\\{{\\}}]\n{text}\n\\end{{bookgencode}}"
    return m.RawBlock(body, block.line)


def fix_math(source: str, setter: GlyphSetter) -> tuple[str, list[tuple[str, bool]]]:
    r"""Math whose ``\text{…}`` holds characters the text fonts lack: the switches put in there.

    Math outside text arguments is unicode-math's (it leaves no such character there).
    """
    edits: list[tex.Edit] = []
    notes: list[tuple[str, bool]] = []
    for node, parents in tex.walked(source):
        if not isinstance(node, tex.LatexCharsNode) or node.chars.isascii():
            continue
        start, end = node.pos, node.pos + node.len
        if source[start:end] != node.chars or not text_mode(node, parents):
            continue
        if not setter.needs_work(node.chars, "text"):
            continue
        new, more = setter.tex(node.chars, "text", escape=_raw)
        notes += [n for n in more if n not in notes]
        edits.append(tex.Edit(start, end, new))
    return (tex.apply_edits(source, edits) if edits else source), notes


# The whole volume: the preamble loads each fallback font any of its posts or titles needs.
PASS = Pass(NAME, run, whole_volume=True)
