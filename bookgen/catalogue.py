"""What bookgen knows of TeX and of the text it sets, in one place.

* ``SIGNATURES``: the arguments of the commands the blog writes in math, as MathJax
  reads them — what the parse of every pass (``transforms.tex``) and the balance
  pass (which completes a command missing an argument) both go by;
* ``TEXT_MODE`` and the sets made from it: commands whose argument is set as text,
  not math;
* ``CJK``: what counts as a CJK character (readers join lines across them, math
  wraps them in ``\\text{}``, long lines break between them);
* ``until_stable``: a repair repeated until it changes nothing more, and told when
  it would not settle.

A leaf module: it imports nothing of bookgen, so readers, transforms and the
writer can all use it.
"""

from __future__ import annotations

import re
from typing import Callable, NamedTuple

# ---------------------------------------------------------------- command signatures

# '{' a mandatory argument, '[' an optional one in brackets, '*' an optional star; "" takes none
# (pylatexenc's default would read a following group as an argument).  MathJax's signatures:
# its \color takes the colour and the text (LaTeX's is a switch; mathjax-macros makes it \textcolor).
SIGNATURES: dict[str, str] = {
    # fractions, roots, stacking
    "frac": "{{", "dfrac": "{{", "tfrac": "{{", "cfrac": "[{{", "genfrac": "{{{{{{", "binom": "{{", "dbinom": "{{",
    "tbinom": "{{", "sqrt": "[{", "root": "", "overset": "{{", "underset": "{{", "stackrel": "{{", "stackbin": "{{",
    "sideset": "{{", "substack": "{", "uproot": "{", "leftroot": "{",
    # text
    "text": "{", "textrm": "{", "textbf": "{", "textit": "{", "textsf": "{", "texttt": "{", "textup": "{",
    "textnormal": "{", "textsc": "{", "emph": "{", "mbox": "{", "hbox": "{", "fbox": "{",
    # alphabets and classes
    "mathbb": "{", "mathcal": "{", "mathscr": "{", "mathfrak": "{", "mathbf": "{", "mathrm": "{", "mathit": "{",
    "mathsf": "{", "mathtt": "{", "mathbfit": "{", "mathup": "{", "mathbfup": "{", "boldsymbol": "{", "bm": "{",
    "pmb": "{", "operatorname": "*{", "mathop": "{", "mathbin": "{", "mathrel": "{", "mathord": "{",
    "mathopen": "{", "mathclose": "{", "mathpunct": "{", "mathinner": "{",
    # accents, braces, arrows with text
    "overline": "{", "underline": "{", "overbrace": "{", "underbrace": "{", "overparen": "{", "underparen": "{",
    "widehat": "{", "widetilde": "{", "hat": "{", "tilde": "{", "bar": "{", "vec": "{", "dot": "{", "ddot": "{",
    "dddot": "{", "check": "{", "breve": "{", "acute": "{", "grave": "{", "mathring": "{", "overleftarrow": "{",
    "overrightarrow": "{", "overleftrightarrow": "{", "underleftarrow": "{", "underrightarrow": "{",
    "underleftrightarrow": "{", "xrightarrow": "[{", "xleftarrow": "[{", "xLeftarrow": "[{", "xRightarrow": "[{",
    "xleftrightarrow": "[{", "xlongequal": "[{", "xtwoheadrightarrow": "[{", "xtwoheadleftarrow": "[{",
    # boxes, cancelling, colour, spacing
    "boxed": "{", "cancel": "{", "bcancel": "{", "xcancel": "{", "cancelto": "{{", "color": "[{{",
    "textcolor": "[{{", "colorbox": "[{{", "fcolorbox": "{{{", "phantom": "{", "vphantom": "{", "hphantom": "{",
    "smash": "[{", "mathstrut": "", "displaystyle": "", "not": "", "big": "", "Big": "", "bigg": "", "Bigg": "",
    "Space": "{{{", "Rule": "{{{",
    # sizes (MathJax takes them as switches; mathjax-macros drops them)
    "tiny": "", "scriptsize": "", "footnotesize": "", "small": "", "normalsize": "", "large": "", "Large": "",
    "LARGE": "", "huge": "", "Huge": "",
    # names, links, definitions
    "label": "{", "eqref": "{", "ref": "{", "tag": "*{", "href": "{{", "url": "{", "DeclareMathOperator": "*{{",
    # MathJax only (mathjax-macros, mathjax-extensions rewrite them)
    "style": "{{", "class": "{{", "cssId": "{{", "bbox": "[{", "unicode": "{", "require": "{", "enclose": "{[{",
    "mmlToken": "{[{", "mathtip": "{{", "texttip": "{{",
    # packages of the preamble: mhchem, braket; plain TeX's forms MathJax reads
    "ce": "{", "bra": "{", "ket": "{", "braket": "{", "set": "{", "Bra": "{", "Ket": "{", "Braket": "{",
    "Set": "{", "ketbra": "{{", "Ketbra": "{{", "displaylines": "{", "eqalign": "{", "matrix": "{",
    "pmatrix": "{", "cases": "{",
    # bookgen's own
    "bookgenunknown": "{", "bookgenfit": "{", "bookgendangling": "{", "bookgenglyph": "{{", "bookgenbbox": "{{{{{",
    "bookgencircle": "{", "bookgenroundedbox": "{",
}  # fmt: skip


def mandatory_arguments(name: str) -> int | None:
    """How many ``{…}`` arguments ``\\name`` takes, or None for a command the catalogue does not know."""
    signature = SIGNATURES.get(name)
    return None if signature is None else signature.count("{")


# ---------------------------------------------------------------- text mode

# Commands whose argument is set as text in math (their characters are prose, in the text fonts).
TEXT_MODE = frozenset({
    "text", "textrm", "textbf", "textit", "textsf", "texttt", "textup", "textmd", "textsl", "textsc", "textnormal",
    "mbox", "hbox", "fbox", "emph", "tag", "intertext", "shortintertext",
})  # fmt: skip
# Of those, the ones whose text is not prose to convert to Traditional Chinese: code, equation tags.
NOT_PROSE = frozenset({"texttt", "tag"})
# Arguments that are names, addresses, colours or CSS, never typeset math.
NAME_ARGUMENTS = frozenset({
    "label", "eqref", "ref", "href", "url", "style", "class", "cssId", "require", "color", "unicode",
    "operatorname", "bookgenunknown", "bookgendangling",
})  # fmt: skip
NOT_MATH = TEXT_MODE | NAME_ARGUMENTS  # a node under one of these is not math a pass should rewrite

# ---------------------------------------------------------------- CJK

# Python's re has no \p{Han}: the CJK blocks by code point — ideographs, radicals, kana, bopomofo, hangul,
# CJK symbols and punctuation, enclosed CJK, compatibility ideographs and forms, halfwidth katakana and
# the supplementary ideographic planes.
CJK_CHARACTERS = (
    "\u2e80-\u2fdf\u3001-\u303f\u3040-\u30ff\u3100-\u312f\u3130-\u318f\u3190-\u31ff\u3200-\u32ff"
    "\u3300-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\ufe10-\ufe1f\ufe30-\ufe4f"
    "\uff5f-\uff60\uff61-\uff9f\U00020000-\U0003134f"
)
# Full-width forms: the ASCII ones (U+FF01–FF5E; CJK punctuation in prose, typos for ASCII in math) and
# the full-width signs (￠￡￥…), with the ideographic space.
FULLWIDTH_FORMS = "\u3000\uff01-\uff5e\uffe0-\uffee"
CJK = re.compile(f"[{CJK_CHARACTERS}]")
CJK_OR_FULLWIDTH = re.compile(f"[{CJK_CHARACTERS}{FULLWIDTH_FORMS}]")

# Nothing to see: zero-width spaces and joiners, bidi marks, invisible operators, soft hyphen,
# variation selectors, byte order mark.  unicode-math removes them; before it, balance reads
# them as the spaces they will be (``x^\u00ad`` has no argument after its ``^``).
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\u00ad\ufeff\ufe0e\ufe0f"
                       "\u202a\u202b\u202c\u202d\u202e")  # fmt: skip


def is_cjk(char: str) -> bool:
    return bool(CJK.match(char))


# ---------------------------------------------------------------- until stable

ROUNDS = 8  # no repair here needs more: an outer rewrite hides an inner one for a round, two at most


class Settled(NamedTuple):
    source: str
    found: tuple[list, ...]  # what each round found, list by list, joined
    settled: bool  # False: still changing after ROUNDS rounds (the last round's source is kept)


def until_stable(step: Callable[[str], tuple], source: str, rounds: int = ROUNDS) -> Settled:
    """``step(source) -> (new source, list, list…)`` repeated until the source stops changing.

    A rewrite can hide another for a round (``\\style{…}{\\color…}``: the inner command is
    seen once the outer one is gone).  The lists of every round are joined, in order.
    """
    found: tuple[list, ...] | None = None
    for _round in range(rounds):
        fixed, *more = step(source)
        found = tuple(more) if found is None else tuple(a + b for a, b in zip(found, more))
        if fixed == source:
            return Settled(source, found, True)
        source = fixed
    return Settled(source, found or (), False)


UNSETTLED = f"repairs still changing the formula after {ROUNDS} rounds: the last one is kept"
