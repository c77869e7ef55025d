"""Simplified → Traditional Chinese with OpenCC, pinning the terms it gets wrong here.

What is converted: the text of every ``Text`` node (prose, headings, captions,
table cells, list items, footnotes, link texts), the titles (``Book.title``,
``subtitle``, ``author``, ``Chapter.title``, ``Post.title``; the contents,
bookmarks and PDF metadata follow from them), and inside math only the
characters of text-mode arguments: ``\\text``, ``\\mbox``, ``\\hbox``,
``\\textrm``, ``\\textbf``, ``\\textit``, ``\\textsf``, ``\\textup``,
``\\textnormal``, ``\\textsc``, ``\\emph``, found with pylatexenc.  Math nested
in such an argument (``\\text{若 $x>0$}``), and the arguments of any other macro
in it (``\\ref``, ``\\texttt``, a color's name…), stay as they are; the content
argument of ``\\color{…}{…}``, ``\\textcolor``, ``\\colorbox`` and ``\\underline``
keeps the mode around it, so it is prose inside ``\\text`` and math outside.

Never touched: math outside those arguments (``\\operatorname``, ``\\label``,
``\\tag``, ``\\texttt``…), ``Code``/``CodeBlock``, ``RawTex``, ``Link.url``,
``Figure.src``, heading anchors and ``ChapterRef`` targets (labels are derived
from them), footnote labels, post dates, URLs and archive ids, and URL-like
runs inside prose (``https://…``, ``www.…``).

How a config is applied.  Every supported OpenCC config is ``s2t`` followed by
a regional step: nothing (``s2t``), ``t2tw`` (``s2tw``), ``t2hk`` (``s2hk``),
or, for ``s2twp``, Taiwan phrases + Taiwan variants (``TWPhrases``,
``TWVariantsPhrases``, ``TWVariants`` — the second half of OpenCC's own
``s2twp.json``, loaded from the package's dictionaries through a generated
config).  For ``s2tw`` and ``s2hk`` the two steps give exactly OpenCC's
one-step result (checked on the whole corpus); for ``s2twp`` they apply the
Taiwan phrases more consistently, since the one-step config only matches them
inside the segments of its Simplified segmentation (it leaves 採樣 in
「减少采样步数」 but makes 取樣 elsewhere).

Phrase tables.  ``s2twp`` over-converts mathematical writing (函数→函式,
参数→引數, 局部→區域性, 推导出→推匯出, 非线性能力→非線效能力…), and ``s2t``'s
own phrases misread a few words of this blog (下采样→下采樣, 投影后→投影后).  A
phrase table — ``simplified<TAB>keep-as`` per line, ``#`` comment lines, a row
without keep-as meaning keep-as = simplified — corrects both; a volume's
``phrases:`` file replaces the default ``templates/phrases.tsv``.  A row whose
keep-as equals the phrase is a *pin*; one whose keep-as differs is a *rewrite*.
A text is converted as follows:

1. ``s2t`` converts the whole text at once, so the characters whose form
   depends on their neighbours (复→複/復, 发→發/髮, 干→乾/幹…) see their full
   context.  ``s2t`` keeps lengths, so an index into the Simplified text is an
   index into its ``s2t`` form (if a text's length changed, its pieces are
   converted one by one instead).
2. Rewrites are found in the Simplified text, then pins in the text between
   them; each left to right, the longest phrase first where several start at
   one place (a regular expression whose alternatives are sorted by length,
   then by text: deterministic).
3. The pieces between them get the full regional step, in one OpenCC call per
   batch (pieces are joined with ``\\n``, which no dictionary entry contains, and
   split again); a pin boundary stops a regional phrase from matching across
   it, which is the point.
4. A pin gets the *base* regional step, the config without regional phrases
   (``t2tw`` for ``s2twp``) on its ``s2t`` form, so its characters are still
   Taiwan Traditional: 程序 stays 程序, 函数 becomes 函數.  For ``s2t``,
   ``s2tw`` and ``s2hk`` base and full steps are the same and pins are skipped.
5. A rewrite becomes its keep-as converted on its own by ``s2t`` and the base
   step (so keep-as may be Simplified or OpenCC-standard Traditional, whose 裏
   still becomes 裡 in Taiwan), in every config.

With an unusual OpenCC install whose dictionaries cannot be found, the fallback
is OpenCC's one-step configs on the pieces around the rows (same rows, without
step 1's context across their boundaries).

Performance.  The pass collects every distinct string of the book first and
converts them in one batch (two OpenCC calls), then rebuilds the book from the
results; converters are cached per config and phrase file.
"""

from __future__ import annotations

import dataclasses
import json
import re
import tempfile
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

from bookgen import model as m
from bookgen.catalogue import NOT_PROSE, TEXT_MODE
from bookgen.errors import UserError
from bookgen.resources import builtin_template_dir
from bookgen.transforms.tex import (
    Edit,
    LatexCharsNode,
    LatexEnvironmentNode,
    LatexMacroNode,
    LatexMathNode,
    apply_edits,
    macro_args,
    parse,
    walk,
)
from bookgen.transforms.base import Context, Pass
from bookgen.transforms.walk import map_inlines, map_post

NAME = "traditional"
CONFIGS = ("s2t", "s2tw", "s2twp", "s2hk")
# The config without regional phrases: what a pinned phrase is converted with.
BASE_CONFIG = {"s2t": "s2t", "s2tw": "s2tw", "s2twp": "s2tw", "s2hk": "s2hk"}
# The regional step that follows s2t in each config (None: none).
REGIONAL_STEP = {"s2t": None, "s2tw": "t2tw", "s2twp": "t2twp", "s2hk": "t2hk"}
# OpenCC dictionaries of the Taiwan phrase step, in s2twp.json's order.
T2TWP_DICTIONARIES = ("TWPhrases.ocd2", "TWVariantsPhrases.ocd2", "TWVariants.ocd2")

# Text-mode arguments in math whose characters are prose: not \texttt (code-like), \tag, \label and friends.
TEXT_MACROS = TEXT_MODE - NOT_PROSE
# Macros whose last argument is content in the surrounding mode, with how many arguments
# they must have been parsed with for that argument to be the content (\color{red} alone is not).
MODE_KEEPING_MACROS = {"color": 2, "textcolor": 2, "colorbox": 2, "underline": 1}
_TEXT_MACRO_NAME = re.compile(r"\\(?:" + "|".join(sorted(TEXT_MACROS)) + r")(?![A-Za-z])")
# URL-like runs in prose stay as written (they are often also the link's target).
URL_RUN = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*://|www\.)[^\s，。；：！？、（）《》“”‘’「」『』【】<>\"]+")


class _Unavailable(Exception):
    """OpenCC's dictionary files could not be located for a generated config."""


# ---------------------------------------------------------------- OpenCC


@lru_cache(maxsize=None)
def _opencc(name: str):
    """An OpenCC converter's ``convert`` for a shipped config name, or the generated ``t2twp``."""
    import opencc  # here, not at the top: only a Traditional build loads OpenCC (and its dictionaries)

    if name == "t2twp":
        return _generated_t2twp(opencc).convert
    return opencc.OpenCC(name).convert


def _generated_t2twp(opencc):
    """Taiwan phrases + variants on Traditional text: the second step of s2twp.json, on its own."""
    try:
        share = Path(opencc.OpenCC("t2tw").config).resolve().parent
    except Exception as exc:  # noqa: BLE001 - any failure means: use the fallback
        raise _Unavailable(str(exc)) from None
    files = [share / name for name in T2TWP_DICTIONARIES]
    compat = share / "CJK_Compatibility_Ideographs.ocd2"
    if not all(f.is_file() for f in files + [compat]):
        raise _Unavailable(f"OpenCC dictionaries not found in {share}")
    config = {
        "name": "Traditional Chinese (OpenCC Standard) to Taiwan Standard with Taiwan phrases (bookgen)",
        "normalization": [{"dict": {"type": "ocd2", "file": str(compat)}}],
        "conversion_chain": [
            {
                "dict": {
                    "type": "group",
                    "match_policy": "short_circuit",
                    "dicts": [{"type": "ocd2", "file": str(f)} for f in files],
                }
            }
        ],
    }
    # OpenCC reads a config only from a file; the dictionaries are absolute paths and
    # are loaded when the converter is built, so the file can go right after.
    with tempfile.TemporaryDirectory(prefix="bookgen-opencc-") as folder:
        path = Path(folder) / "t2twp.json"
        path.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
        try:
            return opencc.OpenCC(str(path))
        except Exception as exc:  # noqa: BLE001
            raise _Unavailable(str(exc)) from None


def _identity(text: str) -> str:
    return text


def _steps(config: str) -> tuple[Callable[[str], str], Callable[[str], str], Callable[[str], str]]:
    """(first step, full regional step, base regional step) for ``config``."""
    try:
        first = _opencc("s2t")
        full = _opencc(REGIONAL_STEP[config]) if REGIONAL_STEP[config] else _identity
        base_name = REGIONAL_STEP[BASE_CONFIG[config]]
        base = _opencc(base_name) if base_name else _identity
        return first, full, base
    except _Unavailable:
        return _identity, _opencc(config), _opencc(BASE_CONFIG[config])


def _batch(convert: Callable[[str], str], texts: list[str]) -> list[str]:
    """``[convert(t) for t in texts]`` in one call: joined with newlines, split again."""
    if not texts:
        return []
    if len(texts) == 1:
        return [convert(texts[0])]
    lines = convert("\n".join(texts)).split("\n")
    if len(lines) != sum(t.count("\n") for t in texts) + len(texts):  # never seen; be safe
        return [convert(t) for t in texts]
    out: list[str] = []
    start = 0
    for text in texts:
        end = start + text.count("\n") + 1
        out.append("\n".join(lines[start:end]))
        start = end
    return out


# ---------------------------------------------------------------- phrase tables


def default_phrases() -> Path:
    return builtin_template_dir() / "phrases.tsv"


def read_phrases(path: Path) -> dict[str, str]:
    """A phrase table: ``simplified<TAB>keep-as`` lines; ``#`` comments and blank lines are skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError("phrase file not found (the volume's 'phrases:')", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read phrase file: {exc}", path) from None
    table: dict[str, str] = {}
    where: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        if len(fields) > 2 or not fields[0]:
            raise UserError("expected 'simplified<TAB>keep-as' (one tab, a phrase before it)", path, number)
        phrase = fields[0]
        keep = fields[1] if len(fields) == 2 and fields[1] else phrase
        if phrase in table and table[phrase] != keep:
            raise UserError(f"'{phrase}' is pinned twice, differently (first on line {where[phrase]})", path, number)
        table[phrase] = keep
        where.setdefault(phrase, number)
    return table


# ---------------------------------------------------------------- the converter


def _alternation(phrases: Iterable[str]) -> re.Pattern | None:
    """Leftmost match, the longest phrase first where several start there (ties by text)."""
    ordered = sorted(set(phrases), key=lambda p: (-len(p), p))
    return re.compile("|".join(re.escape(p) for p in ordered)) if ordered else None


class Converter:
    """``config`` with a phrase table; call it on one string, or ``many`` on a list."""

    def __init__(self, config: str, table: dict[str, str]):
        if config not in CONFIGS:
            raise UserError(f"unknown Traditional config '{config}' (supported: {', '.join(CONFIGS)})")
        self.config = config
        self._first, self._full, self._base = _steps(config)
        # Rewrites (keep-as differs) apply in every config; pins (keep-as = phrase) only
        # where the config has a regional step of its own to protect them from.
        rewrites = {k: v for k, v in table.items() if k != v}
        pins = [k for k, v in table.items() if k == v and BASE_CONFIG[config] != config]
        self._rewritten = {k: self._base(self._first(v)) for k, v in rewrites.items()}
        self._rewrite_re = _alternation(rewrites)
        self._pin_re = _alternation(pins)
        self._pinned_cache: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        return self.many([text])[0]

    def many(self, texts: Iterable[str]) -> list[str]:
        return _batch(self._convert, list(texts))

    def _segments(self, source: str) -> list[tuple[str, int, int]]:
        """("free" | "pin" | "rewrite", start, end) covering ``source``: rewrites first, pins between them."""
        out: list[tuple[str, int, int]] = []

        def pins_between(start: int, end: int) -> None:
            if self._pin_re is not None:
                for found in self._pin_re.finditer(source, start, end):
                    out.append(("free", start, found.start()))
                    out.append(("pin", found.start(), found.end()))
                    start = found.end()
            out.append(("free", start, end))

        cursor = 0
        if self._rewrite_re is not None:
            for found in self._rewrite_re.finditer(source):
                pins_between(cursor, found.start())
                out.append(("rewrite", found.start(), found.end()))
                cursor = found.end()
        pins_between(cursor, len(source))
        return out

    def _convert(self, source: str) -> str:
        if "\x00" in source:  # OpenCC stops at a NUL byte
            return "\x00".join(self._convert(part) for part in source.split("\x00"))
        staged = self._first(source)
        if len(staged) != len(source):
            staged = None  # s2t changed a length: indices do not carry over; convert pieces alone

        def first(start: int, end: int) -> str:
            return staged[start:end] if staged is not None else self._first(source[start:end])

        if self._rewrite_re is None and self._pin_re is None:
            return self._full(staged if staged is not None else source)
        segments = self._segments(source)
        free = iter(_batch(self._full, [first(a, b) for kind, a, b in segments if kind == "free"]))
        out: list[str] = []
        for kind, start, end in segments:
            if kind == "free":
                out.append(next(free))
            elif kind == "rewrite":
                out.append(self._rewritten[source[start:end]])
            else:
                out.append(self._pinned(first(start, end)))
        return "".join(out)

    def _pinned(self, staged: str) -> str:
        if staged not in self._pinned_cache:
            self._pinned_cache[staged] = self._base(staged)
        return self._pinned_cache[staged]


@lru_cache(maxsize=64)
def _converter(config: str, phrases: str, _stamp: tuple) -> Converter:
    pins = read_phrases(Path(phrases)) if phrases else {}
    return Converter(config, pins)


def converter_for(config: str, phrases: Path | None) -> Callable[[str], str]:
    """The conversion of one string for ``config`` (s2t, s2tw, s2twp, s2hk), pinning ``phrases``.

    ``phrases`` None means the default table (templates/phrases.tsv).  The result
    also has ``.many(list_of_strings)``, which converts a batch in one go.
    Converters are cached per config and phrase file (and the file's mtime).
    """
    path = Path(phrases) if phrases is not None else default_phrases()
    if phrases is None and not path.is_file():
        return _converter(config, "", ())
    try:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        stamp = ()
    return _converter(config, str(path), stamp)


# ---------------------------------------------------------------- math


@lru_cache(maxsize=20000)
def text_spans(tex: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of every run of prose characters in text-mode arguments of ``tex``."""
    if tex.isascii() or not _TEXT_MACRO_NAME.search(tex):
        return ()
    spans = []
    for node, parents in walk(parse(tex)):
        if isinstance(node, LatexCharsNode) and _in_text_argument(node, parents):
            start = node.pos
            end = node.pos + node.len
            if tex[start:end] and not tex[start:end].isascii():
                spans.append((start, end))
    return tuple(spans)


def _in_text_argument(node, parents: tuple) -> bool:
    """Whether the innermost macro, math or environment around ``node`` is a text-mode macro.

    A macro that keeps its surroundings' mode for its content (``\\color{red}{…}``,
    ``\\underline{…}``) is looked through when ``node`` is in that content argument.
    """
    chain = parents + (node,)
    for index in range(len(parents) - 1, -1, -1):
        parent = parents[index]
        if isinstance(parent, LatexMacroNode):
            if parent.macroname in TEXT_MACROS:
                return True
            needed = MODE_KEEPING_MACROS.get(parent.macroname)
            args = [a for a in macro_args(parent) if a is not None]
            if needed and len(args) >= needed and args[-1] is chain[index + 1]:
                continue
            return False
        if isinstance(parent, (LatexMathNode, LatexEnvironmentNode)):
            return False
    return False


def convert_math(tex: str, convert: Callable[[str], str]) -> str:
    edits = []
    for start, end in text_spans(tex):
        original = tex[start:end]
        new = convert(original)
        if new != original:
            edits.append(Edit(start, end, new))
    return apply_edits(tex, edits) if edits else tex


def convert_prose(text: str, convert: Callable[[str], str]) -> str:
    """``convert`` every part of ``text`` but its URL-like runs."""
    if text.isascii():
        return text
    out: list[str] = []
    cursor = 0
    for found in URL_RUN.finditer(text):
        out.append(_plain(text[cursor : found.start()], convert))
        out.append(found.group(0))
        cursor = found.end()
    out.append(_plain(text[cursor:], convert))
    return "".join(out)


def _plain(text: str, convert: Callable[[str], str]) -> str:
    return text if text.isascii() else convert(text)


# ---------------------------------------------------------------- the pass


def convert_book(
    book: m.Book, convert: Callable[[str], str], on_post: Callable[[m.Post, str, str], None] | None = None
) -> m.Book:
    """``book`` with ``convert`` applied to every convertible string (see the module docstring).

    ``on_post(post, before, after)`` is told of every string of a post that was converted.
    """

    def chapter(ch: m.Chapter) -> m.Chapter:
        post = ch.post

        def text(value: str) -> str:
            new = convert(value)
            if on_post is not None:
                on_post(post, value, new)
            return new

        inline = _inline_converter(text)
        new_post = map_post(post, inline)
        new_post = dataclasses.replace(new_post, title=convert_prose(post.title, text))
        return dataclasses.replace(
            ch, post=new_post, title=map_inlines(ch.title, inline), full_title=map_inlines(ch.full_title, inline)
        )

    volume = _inline_converter(convert)
    return dataclasses.replace(
        book,
        title=map_inlines(book.title, volume),
        subtitle=map_inlines(book.subtitle, volume),
        author=map_inlines(book.author, volume),
        chapters=tuple(chapter(ch) for ch in book.chapters),
    )


def _inline_converter(convert: Callable[[str], str]):
    """What ``convert`` does to one inline: its prose (not URL-like runs) and the text in its math."""

    def inline(node):
        if isinstance(node, m.Text):
            new = convert_prose(node.text, convert)
            return node if new == node.text else m.Text(new)
        if isinstance(node, m.Math):
            new = convert_math(node.tex, convert)
            return node if new == node.tex else dataclasses.replace(node, tex=new)
        return node

    return inline


def run(book: m.Book, context: Context) -> m.Book:
    config = context.traditional
    if not config:
        return book
    converter = converter_for(config, context.phrases)
    # Pass 1: every distinct string, converted in one batch.
    pending: dict[str, None] = {}

    def collect(value: str) -> str:
        pending[value] = None
        return value

    convert_book(book, collect)
    strings = list(pending)
    table = dict(zip(strings, converter.many(strings)))
    # Pass 2: rebuild the book from the table, counting the changed spans per post.
    changed: Counter[int] = Counter()

    def on_post(post: m.Post, before: str, after: str) -> None:
        if before != after:
            changed[post.id] += 1

    converted = convert_book(book, lambda value: table[value] if value in table else converter(value), on_post)
    for ch in book.chapters:
        context.report(ch.post, 1, NAME, f"converted {changed[ch.post.id]} text spans ({config})")
    return dataclasses.replace(converted, language=config)


# One volume at a time: every distinct string of the book goes to OpenCC in one batch.
PASS = Pass(NAME, run, whole_volume=True)
