"""A page of the site, parsed: the tree (lxml), its PostContent, title, date and images.

The page is parsed by libxml2's HTML parser (through lxml), which keeps each
element's source line (``sourceline``).  Two things it does not do as a
browser would are set right before parsing: ``</br>`` is a ``<br>``, and a
page nested deeper than libxml2 allows (it stops reading there and the rest of
the page would be lost) has its deepest tags dropped, their text kept, with a
note.  Text has no line of its own in lxml: ``text_line`` and ``tail_line``
count it from the elements around it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from lxml import etree

from bookgen.readers.mirror import date_from_citation

CONTENT_ID = "PostContent"
VOID = frozenset("area base br col embed hr img input keygen link meta param source track wbr".split())
BLOCK = frozenset(
    "address article aside blockquote center dd details dialog div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hgroup hr li main menu nav ol p pre section summary table tbody td tfoot th thead "
    "tr ul caption".split()
)
SKIP = frozenset(
    "head title script style noscript template iframe object embed video audio canvas svg math form input "
    "button select textarea nav".split()
)
SITE_TITLE = re.compile(r"\s*[-–—|]\s*科学空间\s*(?:\|\s*Scientific Spaces)?\s*$")
ISO_DATE = re.compile(r"((?:19|20)\d{2})-(\d{1,2})-(\d{1,2})|((?:19|20)\d{2})年(\d{1,2})月(\d{1,2})日")
END_BR = re.compile(r"</br\s*>", re.IGNORECASE)  # browsers read </br> as <br>; libxml2 drops it
TAG = re.compile(r"<!--.*?(?:-->|\Z)|<(/?)([A-Za-z][^\s/>]*)[^>]*>", re.DOTALL)
RAW_TEXT = frozenset("script style textarea title xmp iframe noembed noframes plaintext".split())
# Nesting: the reader reads anything deeper than MAX_DEPTH elements inside PostContent as plain text (real posts
# nest a dozen at most), so nothing recurses without bound.  libxml2 stops reading a page nested deeper than 2048
# elements (with huge_tree; 256 without) and the rest of the page is lost: such a page is first cut down to
# PARSER_DEPTH levels, far below that.  Both say so with the same note.
MAX_DEPTH = 32
PARSER_DEPTH = 256
NESTING_NOTE = f"HTML nested deeper than {MAX_DEPTH} levels flattened: its text is kept, the markup inside is not"


@dataclass
class Page:
    root: etree._Element
    content: etree._Element | None
    notes: list[tuple[int, str]] = field(default_factory=list)  # what reading the page changed, with its line


# ---------------------------------------------------------------- parsing


def parse_page(text: str) -> Page:
    text = END_BR.sub("<br>", text.replace("\r\n", "\n").replace("\r", "\n"))
    root, error = _parse(text)
    notes: list[tuple[int, str]] = []
    if error is not None and "depth" in error.message.lower():
        text, first = flatten_deep_nesting(text, PARSER_DEPTH)
        notes.append((first, NESTING_NOTE))
        root, error = _parse(text)
    if error is not None:  # libxml2 stopped reading: say where, rather than lose the rest silently
        notes.append((error.line or 1, f"the HTML parser stopped reading the page here: {error.message.strip()}"))
    if root is None:
        root = etree.fromstring(b"<html></html>", etree.HTMLParser())
    return Page(root, find_content(root), notes)


def _parse(text: str):
    """The tree (None for an empty page) and libxml2's fatal error, if it stopped reading."""
    parser = etree.HTMLParser(encoding="utf-8", huge_tree=True, remove_comments=True, remove_pis=True)
    root = etree.fromstring(text.encode("utf-8"), parser)
    fatal = [e for e in parser.error_log if e.level_name == "FATAL"]
    return root, (fatal[0] if fatal else None)


def flatten_deep_nesting(text: str, limit: int) -> tuple[str, int]:
    """Drop every start tag deeper than ``limit`` and its end tag (their text stays); the line of the first.

    ``<b>`` × 100 000 ``x`` ``</b>`` × 100 000 → ``<b>`` × limit ``x`` ``</b>`` × limit.  One pass over the
    tags; the depth counted is an upper bound of libxml2's (no end tag is implied), so the result parses.
    """
    out: list[str] = []
    stack: list[str] = []
    open_count: Counter = Counter()
    dropped: Counter = Counter()
    first_line = 0
    position = 0
    for match in TAG.finditer(text):
        if match.start() < position:  # inside a raw-text element we skipped
            continue
        closing, name = match.group(1), (match.group(2) or "").lower()
        keep = True
        if name and not closing and name not in VOID:
            if len(stack) >= limit:
                keep = False
                dropped[name] += 1
                first_line = first_line or text.count("\n", 0, match.start()) + 1
            else:
                stack.append(name)
                open_count[name] += 1
        elif name and closing:
            if dropped[name]:
                keep, dropped[name] = False, dropped[name] - 1
            elif open_count[name]:
                while stack:
                    top = stack.pop()
                    open_count[top] -= 1
                    if top == name:
                        break
        out.append(text[position : match.start()])
        out.append(match.group(0) if keep else "")
        position = match.end()
        if name in RAW_TEXT and not closing:
            close = re.compile(rf"</{name}\b", re.IGNORECASE).search(text, position)
            end = close.start() if close else len(text)
            out.append(text[position:end])
            position = end
    out.append(text[position:])
    return "".join(out), first_line or 1


# ---------------------------------------------------------------- elements


def tag_of(node) -> str:
    return node.tag.lower() if isinstance(node.tag, str) else ""


def classes(node) -> list[str]:
    return (node.get("class") or "").split()


def is_math_script(node) -> bool:
    return tag_of(node) == "script" and (node.get("type") or "").strip().lower().startswith("math/tex")


def is_rendered_math(node) -> bool:
    """What MathJax inserted into a page saved from a browser (its TeX is kept in a math/tex script)."""
    return tag_of(node).startswith("mjx-") or any(c.startswith("MathJax") for c in classes(node))


def skipped(node) -> bool:
    tag = tag_of(node)
    return not tag or (tag in SKIP and not is_math_script(node)) or is_rendered_math(node)


def has_block(node) -> bool:
    return any(not skipped(e) for e in node.iterdescendants(*BLOCK))


def text_of(node, br: str = "\n") -> str:
    """The text of an element as one string, ``<br>`` as ``br``, without scripts and styles (no recursion)."""
    parts: list[str] = []
    walk = etree.iterwalk(node, events=("start", "end"))
    for event, element in walk:
        tag = tag_of(element)
        if event == "start":
            if tag in ("script", "style"):
                walk.skip_subtree()
            elif tag == "br":
                parts.append(br)
            else:
                parts.append(element.text or "")
        elif element is not node:
            parts.append(element.tail or "")
    return "".join(parts)


class Lines:
    """Source lines of text: an element's text starts on its line; a tail ends where the next element starts."""

    def __init__(self):
        self.ends: dict = {}

    def text_line(self, node) -> int:
        return node.sourceline or 1

    def tail_line(self, node) -> int:
        following = node.getnext()
        if following is not None and following.sourceline:
            return max(1, following.sourceline - (node.tail or "").count("\n"))
        return self.end_line(node)

    def end_line(self, node) -> int:
        """The line an element ends on: counted down its chain of last children (no recursion)."""
        chain = [node]
        while len(chain[-1]) and chain[-1] not in self.ends:
            chain.append(chain[-1][-1])
        for element in reversed(chain):
            if element in self.ends:
                continue
            if len(element):
                last = element[-1]
                line = self.ends[last] + (last.tail or "").count("\n")
            else:
                line = self.text_line(element) + (element.text or "").count("\n")
            self.ends[element] = line
        return self.ends[node]


# ---------------------------------------------------------------- the page around the post


def find_content(root) -> etree._Element | None:
    by_class = None
    for element in root.iter():
        if element.get("id") == CONTENT_ID:
            return element
        if by_class is None and CONTENT_ID in classes(element):
            by_class = element
    return by_class


def _before(root, content):
    """The elements before the post, in document order."""
    for element in root.iter():
        if element is content:
            return
        yield element


def page_title(root, content) -> str:
    """The page's <title> without the site's name; else the last <h1> before the post; else og:title."""
    for element in root.iter("title"):
        stripped = SITE_TITLE.sub("", " ".join(text_of(element).split())).strip()
        if stripped:
            return stripped
        break
    heading = ""
    for element in _before(root, content):
        if tag_of(element) == "h1":
            text = " ".join(text_of(element).split())
            if SITE_TITLE.sub("", " - " + text):  # not the site's name in the page header
                heading = text
    if heading:
        return heading
    for element in root.iter("meta"):
        if element.get("property") == "og:title":
            return SITE_TITLE.sub("", element.get("content") or "").strip()
    return ""


def _iso(match: re.Match) -> str:
    year, month, day = (match.group(1), match.group(2), match.group(3)) if match.group(1) else match.group(4, 5, 6)
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        return ""
    return f"{year}-{int(month):02d}-{int(day):02d}"


def page_date(root, content, tail: str) -> str:
    """The citation line of the boilerplate; else the page's published-time meta; else the date shown above the post."""
    date = date_from_citation(tail)
    if date:
        return date
    for element in _before(root, content):
        value = ""
        if tag_of(element) == "meta" and (
            element.get("property") == "article:published_time" or element.get("itemprop") == "datePublished"
        ):
            value = element.get("content") or ""
        elif tag_of(element) == "time" and element.get("datetime"):
            value = element.get("datetime")
        found = ISO_DATE.match(value.strip())
        if found and _iso(found):
            return _iso(found)
    found = [d for d in (_iso(x) for x in ISO_DATE.finditer(" ".join(_text_before(root, content)))) if d]
    return found[-1] if found else ""


def _text_before(root, content) -> list[str]:
    """The page's text before the post (not in <head>, scripts or styles)."""
    texts: list[str] = []
    walk = etree.iterwalk(root, events=("start", "end"))
    for event, element in walk:
        if element is content:
            break
        if event == "start":
            if tag_of(element) in ("script", "style", "head"):
                walk.skip_subtree()
            else:
                texts.append(element.text or "")
        elif element is not root:
            texts.append(element.tail or "")
    return texts


def image_source(node) -> str:
    return (node.get("src") or node.get("data-src") or node.get("data-original") or "").strip()


def image_sources(text: str) -> list[str]:
    """The ``src`` of every image in the post of a page (for ``bookgen fetch``)."""
    content = parse_page(text).content
    found: list[str] = []
    for element in content.iter("img") if content is not None else ():
        src = image_source(element)
        if src and src not in found:
            found.append(src)
    return found
