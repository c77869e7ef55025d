r"""Pass ``unicode-math``: characters the fonts cannot typeset, made TeX.

Math is set in the Computer Modern math fonts (no unicode-math), which have no
CJK, no Greek and almost no Unicode symbols: xelatex logs ``Missing character``
and drops each one.  Prose and ``\text{…}`` are set in Latin Modern, with the
characters xeCJK's classes route there in Noto CJK; together they still lack
some symbols (ℝ, ⋅, ∘, ⟨, Unicode scripts …).  So:

In math (outside text-mode arguments such as ``\text{…}``):

* a symbol with a TeX name becomes that name (``SYMBOLS``): ``×`` → ``\times``,
  ``α`` → ``\alpha``, ``ℝ`` → ``\mathbb{R}``, ``−`` → ``-``, ``⟨`` → ``\langle``;
  Greek capitals that look Latin become upright Latin (``Α`` → ``\mathrm{A}``),
  as TeX sets Greek capitals upright;
* a run of Unicode superscripts or subscripts becomes one script:
  ``x⁻¹`` → ``x^{-1}``, ``90°`` → ``90^{\circ}``, ``Aᵀ`` → ``A^{T}``;
* CJK text (ideographs, kana, hangul, CJK punctuation, curly quotes, the em
  dash) is wrapped, one maximal run at a time, in ``\text{…}``; spaces inside a
  run stay in it: ``& 测试集 \\`` → ``& \text{测试集} \\``;
* **full-width forms** (U+FF01–FF5E): the one rule is that they become their
  ASCII counterparts (``（`` → ``(``, ``＝`` → ``=``, ``，`` → ``,``), except
  that a full-width ``，：；！？`` written directly after CJK text is that
  text's punctuation and stays in its ``\text{…}`` (``测试集，验证集`` →
  ``\text{测试集，验证集}``).  The blog's full-width brackets in math are typos
  for ASCII ones (``\frac{1}{（a+b)}``), so brackets never join a run;
* Unicode math alphanumerics become styled letters (``𝐱`` → ``\mathbf{x}``,
  ``𝔼`` → ``\mathbb{E}``); a combining accent becomes an accent command
  (``x̂`` → ``\hat{x}``);
* zero-width characters are removed; Unicode spaces become TeX spaces;
* any other character (an emoji too) becomes ``\text{c}`` (warning), which the
  ``glyphs`` pass sets in a font that has it.

A replacement that is more than one token is braced where it is a script or a
bare macro argument (``x^α`` → ``x^\alpha`` but ``x^测`` → ``x^{\text{测}}``,
``\frac ℝℤ`` → ``\frac {\mathbb{R}}{\mathbb{Z}}``), and a control word is never
glued to a following letter (``×a`` → ``\times a``).  XeTeX gives CJK and Greek
letters catcode 11, so ``\quad中文`` is one undefined control word (pylatexenc
agrees): it is split after its ASCII part (``\quad{\text{中文}}`` in math,
``\quad 中文`` in text).

In text (prose ``Text`` nodes, and ``\text{…}`` in math) a symbol from the
tables that the text fonts lack (as read from the font files: ``bookgen.fonts``,
the book's preamble in ``context.glyphs``) becomes inline math, so it looks like
the same symbol in the formulas: prose ``ℝ`` → ``$\mathbb{R}$`` (in a heading
``\texorpdfstring{$\mathbb{R}$}{ℝ}``, so the PDF bookmark keeps it),
``\text{a⋅b}`` → ``\text{a$\cdot$b}``.  Every other character (emoji, IPA…) is
left to the ``glyphs`` pass, which sets what the fonts lack in a fallback font.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from typing import Callable

from bookgen import model as m
from bookgen.catalogue import CJK_CHARACTERS, TEXT_MODE, UNSETTLED, ZERO_WIDTH, until_stable
from bookgen.transforms import tex
from bookgen.transforms.base import Context, Pass
from bookgen.transforms.walk import map_blocks, map_inlines, map_math

NAME = "unicode-math"

# fmt: off
GREEK = {
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\varepsilon", "ζ": r"\zeta",
    "η": r"\eta", "θ": r"\theta", "ι": r"\iota", "κ": r"\kappa", "λ": r"\lambda", "μ": r"\mu", "ν": r"\nu",
    "ξ": r"\xi", "ο": "o", "π": r"\pi", "ρ": r"\rho", "ς": r"\varsigma", "σ": r"\sigma", "τ": r"\tau",
    "υ": r"\upsilon", "φ": r"\varphi", "χ": r"\chi", "ψ": r"\psi", "ω": r"\omega",
    # MathJax's own mapping: \epsilon is U+03F5 and \phi U+03D5; U+03B5 and U+03C6 are the var forms.
    "ϵ": r"\epsilon", "ϕ": r"\phi", "ϑ": r"\vartheta", "ϰ": r"\varkappa", "ϱ": r"\varrho", "ϖ": r"\varpi",
    "ϝ": r"\digamma", "µ": r"\mu",
    "Α": r"\mathrm{A}", "Β": r"\mathrm{B}", "Γ": r"\Gamma", "Δ": r"\Delta", "Ε": r"\mathrm{E}",
    "Ζ": r"\mathrm{Z}", "Η": r"\mathrm{H}", "Θ": r"\Theta", "Ι": r"\mathrm{I}", "Κ": r"\mathrm{K}",
    "Λ": r"\Lambda", "Μ": r"\mathrm{M}", "Ν": r"\mathrm{N}", "Ξ": r"\Xi", "Ο": r"\mathrm{O}", "Π": r"\Pi",
    "Ρ": r"\mathrm{P}", "Σ": r"\Sigma", "Τ": r"\mathrm{T}", "Υ": r"\Upsilon", "Φ": r"\Phi",
    "Χ": r"\mathrm{X}", "Ψ": r"\Psi", "Ω": r"\Omega", "ϴ": r"\Theta", "\u2126": r"\Omega", "∆": r"\Delta",
}

SYMBOLS: dict[str, str] = {
    **GREEK,
    # arithmetic and operators
    "−": "-", "‐": "-", "‑": "-", "‒": "-", "–": "-", "×": r"\times", "÷": r"\div", "·": r"\cdot",
    "⋅": r"\cdot", "∙": r"\bullet", "•": r"\bullet", "∗": r"\ast", "⋆": r"\star", "±": r"\pm", "∓": r"\mp",
    "∘": r"\circ", "⊕": r"\oplus", "⊖": r"\ominus", "⊗": r"\otimes", "⊘": r"\oslash", "⊙": r"\odot",
    "⊛": r"\circledast", "⊚": r"\circledcirc", "∩": r"\cap", "∪": r"\cup", "⊓": r"\sqcap", "⊔": r"\sqcup",
    "⊎": r"\uplus", "∧": r"\wedge", "∨": r"\vee", "∖": r"\setminus", "†": r"\dagger", "‡": r"\ddagger",
    "⋄": r"\diamond", "≀": r"\wr", "∕": "/", "⁄": "/", "∶": ":", "∷": r"\dblcolon", "⊺": r"\intercal",
    "⊤": r"\top", "⊥": r"\perp", "¬": r"\neg",
    # relations
    "≤": r"\leq", "≥": r"\geq", "≦": r"\leqq", "≧": r"\geqq", "⩽": r"\leqslant", "⩾": r"\geqslant",
    "≠": r"\neq", "≈": r"\approx", "≃": r"\simeq", "≅": r"\cong", "≡": r"\equiv", "≢": r"\not\equiv",
    "∼": r"\sim", "∽": r"\backsim", "≍": r"\asymp", "∝": r"\propto", "≪": r"\ll", "≫": r"\gg",
    "≲": r"\lesssim", "≳": r"\gtrsim", "≺": r"\prec", "≻": r"\succ", "≼": r"\preccurlyeq",
    "≽": r"\succcurlyeq", "⪯": r"\preceq", "⪰": r"\succeq", "∈": r"\in", "∉": r"\notin", "∋": r"\ni",
    "⊂": r"\subset", "⊃": r"\supset", "⊆": r"\subseteq", "⊇": r"\supseteq", "⊊": r"\subsetneq",
    "⊋": r"\supsetneq", "⊄": r"\not\subset", "⊈": r"\nsubseteq", "⊏": r"\sqsubset", "⊑": r"\sqsubseteq",
    "⊒": r"\sqsupseteq", "∣": "|", "∤": r"\nmid", "∥": r"\parallel", "∦": r"\nparallel", "⊢": r"\vdash",
    "⊨": r"\models", "≜": r"\triangleq", "≔": r"\coloneqq", "≕": r"\eqqcolon", "≐": r"\doteq",
    "≗": r"\circeq", "≊": r"\approxeq", "⊲": r"\lhd", "⊳": r"\rhd", "≮": r"\nless", "≯": r"\ngtr",
    "≰": r"\nleq", "≱": r"\ngeq",
    # arrows
    "→": r"\to", "←": r"\leftarrow", "↔": r"\leftrightarrow", "↑": r"\uparrow", "↓": r"\downarrow",
    "↕": r"\updownarrow", "⇒": r"\Rightarrow", "⇐": r"\Leftarrow", "⇔": r"\Leftrightarrow",
    "⇑": r"\Uparrow", "⇓": r"\Downarrow", "↦": r"\mapsto", "⟼": r"\longmapsto", "⟶": r"\longrightarrow",
    "⟵": r"\longleftarrow", "⟷": r"\longleftrightarrow", "⟹": r"\Longrightarrow", "⟸": r"\Longleftarrow",
    "⟺": r"\Longleftrightarrow", "↪": r"\hookrightarrow", "↩": r"\hookleftarrow", "⇀": r"\rightharpoonup",
    "⇁": r"\rightharpoondown", "↼": r"\leftharpoonup", "↽": r"\leftharpoondown",
    "⇌": r"\rightleftharpoons", "⇋": r"\leftrightharpoons", "↗": r"\nearrow", "↘": r"\searrow",
    "↙": r"\swarrow", "↖": r"\nwarrow", "⇝": r"\rightsquigarrow", "↠": r"\twoheadrightarrow",
    "⇄": r"\rightleftarrows", "↺": r"\circlearrowleft", "↻": r"\circlearrowright",
    # big operators
    "∑": r"\sum", "∏": r"\prod", "∐": r"\coprod", "∫": r"\int", "∬": r"\iint", "∭": r"\iiint",
    "∮": r"\oint", "⋂": r"\bigcap", "⋃": r"\bigcup", "⋀": r"\bigwedge", "⋁": r"\bigvee",
    "⨁": r"\bigoplus", "⨂": r"\bigotimes", "⨀": r"\bigodot", "⨄": r"\biguplus", "√": r"\surd",
    # letter-like and miscellaneous
    "∞": r"\infty", "∅": r"\emptyset", "∂": r"\partial", "∇": r"\nabla", "∀": r"\forall", "∃": r"\exists",
    "∄": r"\nexists", "ℵ": r"\aleph", "ℶ": r"\beth", "ℏ": r"\hbar", "ℓ": r"\ell", "℘": r"\wp", "ℜ": r"\Re",
    "ℑ": r"\Im", "℧": r"\mho", "ℂ": r"\mathbb{C}", "ℍ": r"\mathbb{H}", "ℕ": r"\mathbb{N}",
    "ℙ": r"\mathbb{P}", "ℚ": r"\mathbb{Q}", "ℝ": r"\mathbb{R}", "ℤ": r"\mathbb{Z}", "ℬ": r"\mathcal{B}",
    "ℰ": r"\mathcal{E}", "ℱ": r"\mathcal{F}", "ℋ": r"\mathcal{H}", "ℐ": r"\mathcal{I}", "ℒ": r"\mathcal{L}",
    "ℳ": r"\mathcal{M}", "ℛ": r"\mathcal{R}", "ℭ": r"\mathfrak{C}", "ℌ": r"\mathfrak{H}",
    "ℨ": r"\mathfrak{Z}", "ℊ": r"\mathit{g}", "ℯ": r"\mathit{e}", "ℴ": r"\mathit{o}", "ⅅ": r"\mathrm{D}",
    "ⅆ": r"\mathrm{d}", "ⅇ": r"\mathrm{e}", "ⅈ": r"\mathrm{i}", "ⅉ": r"\mathrm{j}", "\u212a": "K",
    "℃": r"{}^{\circ}\mathrm{C}", "∠": r"\angle", "∡": r"\measuredangle", "∴": r"\therefore",
    "∵": r"\because", "△": r"\triangle", "▽": r"\triangledown", "□": r"\square", "■": r"\blacksquare",
    "∎": r"\blacksquare", "◇": r"\Diamond", "◊": r"\lozenge", "★": r"\bigstar", "☆": r"\star",
    "✓": r"\checkmark", "✔": r"\checkmark", "♠": r"\spadesuit", "♣": r"\clubsuit", "♥": r"\heartsuit",
    "♡": r"\heartsuit", "♦": r"\diamondsuit", "♢": r"\diamondsuit", "♭": r"\flat", "♮": r"\natural",
    "♯": r"\sharp", "′": "'", "″": "''", "‴": "'''", "‵": r"\backprime",
    # dots and delimiters
    "…": r"\ldots", "⋯": r"\cdots", "⋮": r"\vdots", "⋱": r"\ddots", "‖": r"\|", "⟨": r"\langle",
    "⟩": r"\rangle", "\u2329": r"\langle", "\u232a": r"\rangle", "\u3008": r"\langle", "\u3009": r"\rangle",
    "⌈": r"\lceil", "⌉": r"\rceil", "⌊": r"\lfloor", "⌋": r"\rfloor",
    # spaces
    "\u00a0": "~", "\u2000": r"\enspace", "\u2001": r"\quad", "\u2002": r"\enspace", "\u2003": r"\quad",
    "\u2004": r"\;", "\u2005": r"\:", "\u2006": r"\,", "\u2007": r"\enspace", "\u2008": r"\,",
    "\u2009": r"\,", "\u200a": r"\,", "\u202f": r"\,", "\u205f": r"\:", "\u3000": r"\quad",
    "\u2028": " ", "\u2029": " ",
}

# Unicode scripts: a run of them becomes one ^{…} or _{…}.  ° counts as a superscript ∘.
SUPERSCRIPTS = {
    "⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4", "⁵": "5", "⁶": "6", "⁷": "7", "⁸": "8", "⁹": "9",
    "⁺": "+", "⁻": "-", "⁼": "=", "⁽": "(", "⁾": ")", "ⁿ": "n", "ⁱ": "i", "°": r"\circ",
    "ᵃ": "a", "ᵇ": "b", "ᶜ": "c", "ᵈ": "d", "ᵉ": "e", "ᶠ": "f", "ᵍ": "g", "ʰ": "h", "ʲ": "j", "ᵏ": "k",
    "ˡ": "l", "ᵐ": "m", "ᵒ": "o", "ᵖ": "p", "ʳ": "r", "ˢ": "s", "ᵗ": "t", "ᵘ": "u", "ᵛ": "v", "ʷ": "w",
    "ˣ": "x", "ʸ": "y", "ᶻ": "z", "ᴬ": "A", "ᴮ": "B", "ᴰ": "D", "ᴱ": "E", "ᴳ": "G", "ᴴ": "H", "ᴵ": "I",
    "ᴶ": "J", "ᴷ": "K", "ᴸ": "L", "ᴹ": "M", "ᴺ": "N", "ᴼ": "O", "ᴾ": "P", "ᴿ": "R", "ᵀ": "T", "ᵁ": "U",
    "ⱽ": "V", "ᵂ": "W", "ᵅ": r"\alpha", "ᵝ": r"\beta", "ᵞ": r"\gamma", "ᵟ": r"\delta", "ᶿ": r"\theta",
}
SUBSCRIPTS = {
    "₀": "0", "₁": "1", "₂": "2", "₃": "3", "₄": "4", "₅": "5", "₆": "6", "₇": "7", "₈": "8", "₉": "9",
    "₊": "+", "₋": "-", "₌": "=", "₍": "(", "₎": ")", "ₐ": "a", "ₑ": "e", "ₒ": "o", "ₓ": "x", "ₕ": "h",
    "ₖ": "k", "ₗ": "l", "ₘ": "m", "ₙ": "n", "ₚ": "p", "ₛ": "s", "ₜ": "t", "ᵢ": "i", "ᵣ": "r", "ᵤ": "u",
    "ᵥ": "v", "ⱼ": "j", "ᵦ": r"\beta", "ᵧ": r"\gamma", "ᵨ": r"\rho", "ᵩ": r"\varphi", "ᵪ": r"\chi",
}

# Combining marks: the accent goes on the character before (x̂ → \hat{x}); U+0338 negates.
COMBINING = {
    "\u0300": r"\grave", "\u0301": r"\acute", "\u0302": r"\hat", "\u0303": r"\tilde", "\u0304": r"\bar",
    "\u0305": r"\bar", "\u0306": r"\breve", "\u0307": r"\dot", "\u0308": r"\ddot", "\u030c": r"\check",
    "\u20d7": r"\vec", "\u20d1": r"\vec", "\u0338": r"\not",
}

# fmt: on

# Full-width punctuation that stays with the CJK text it follows.
CJK_TRAILING_PUNCT = "，：；！？"
FULLWIDTH_SPECIAL = {"＃": r"\#", "＄": r"\$", "％": r"\%", "＆": r"\&", "＿": r"\_", "｛": r"\{", "｝": r"\}",
                     "＼": r"\backslash", "～": r"\sim", "＾": r"\hat{}", "＂": "''", "｀": "`", "＠": r"\text{@}",
                     "｜": "|"}  # fmt: skip

# CJK text in math: the catalogue's CJK characters, plus the curly quotes and the em dash the blog writes in it.
_CJK = CJK_CHARACTERS + "“”‘’—"
_RUN = re.compile(
    f"[{_CJK}]+(?:(?:[{CJK_TRAILING_PUNCT}]+[ \t\n\u3000]*|[ \t\n\u3000]+)[{_CJK}]+)*[{CJK_TRAILING_PUNCT}]*"
)
# A control word at the end of a string; XeTeX letters include CJK and Greek (catcode 11).
_CONTROL_WORD_END = re.compile(r"(?<!\\)(?:\\\\)*\\[^\W\d_]+$")
_SINGLE_TOKEN = re.compile(r"^(?:\\[A-Za-z]+|\\.|.)$", re.S)

# Arguments that are not typeset (names, URLs, colours, CSS): their characters are left alone.
# None means every argument.
NOT_TYPESET: dict[str, frozenset[int] | None] = {
    "label": None, "eqref": None, "ref": None, "pageref": None, "url": None, "require": None, "unicode": None,
    "href": frozenset({0}), "color": frozenset({0, 1}), "textcolor": frozenset({0, 1}),
    "colorbox": frozenset({0, 1}), "style": frozenset({0}), "class": frozenset({0}), "cssId": frozenset({0}),
    "bbox": frozenset({0}), "begin": None, "end": None, "bookgenunknown": None, "bookgendangling": None,
    "bookgenglyph": None,
}  # fmt: skip

HasGlyph = Callable[[str], bool]


# ---------------------------------------------------------------- character classes


def text_fonts_have(context: Context | None = None) -> HasGlyph:
    """Whether prose sets a character without help, by the book's fonts.

    Fonts that are not known (no context, or a context without them) or cannot be checked (no
    fontconfig) are taken to have everything: the text is left as written.
    """
    chooser = context.glyphs if context else None
    return chooser.text_has if chooser is not None and not chooser.problem else (lambda char: True)


def is_letter(char: str) -> bool:
    """Whether the character would extend a control word: a letter to XeTeX (catcode 11), or
    ``@``, which the untrusted-tex pass reads as part of a name (``\\mu@`` looks like an internal)."""
    return char.isalpha() or char == "@" or unicodedata.category(char).startswith("M")


def fullwidth(char: str) -> str:
    """The ASCII math for a full-width form U+FF01–FF5E."""
    if char in FULLWIDTH_SPECIAL:
        return FULLWIDTH_SPECIAL[char]
    return chr(ord(char) - 0xFEE0)


_STYLES = (
    ("BOLD ITALIC", r"\boldsymbol"), ("BOLD SCRIPT", r"\mathcal"), ("BOLD FRAKTUR", r"\mathfrak"),
    ("DOUBLE-STRUCK ITALIC", r"\mathbb"), ("DOUBLE-STRUCK", r"\mathbb"), ("SANS-SERIF BOLD ITALIC", r"\mathsf"),
    ("SANS-SERIF BOLD", r"\mathsf"), ("SANS-SERIF ITALIC", r"\mathsf"), ("SANS-SERIF", r"\mathsf"),
    ("MONOSPACE", r"\mathtt"), ("FRAKTUR", r"\mathfrak"), ("SCRIPT", r"\mathcal"), ("BOLD", r"\mathbf"),
    ("ITALIC", ""),
)  # fmt: skip


def math_alphanumeric(char: str) -> str | None:
    """𝐱 → \\mathbf{x}, 𝔼 → \\mathbb{E}, 𝜶 → \\boldsymbol{\\alpha}: from the character's Unicode name."""
    if not 0x1D400 <= ord(char) <= 0x1D7FF:
        return None
    name = unicodedata.name(char, "")
    match = re.match(r"MATHEMATICAL (.+?) (CAPITAL|SMALL|DIGIT) (.+)$", name)
    if not match:
        match = re.match(r"MATHEMATICAL (.+?) ()(PARTIAL DIFFERENTIAL|NABLA|.+ SYMBOL)$", name)
        if not match:
            return None
    style, case, letter = match.groups()
    command = next((cmd for prefix, cmd in _STYLES if style == prefix), None)
    if command is None:
        return None
    digits = "ZERO ONE TWO THREE FOUR FIVE SIX SEVEN EIGHT NINE".split()
    if case == "DIGIT" and letter in digits:
        base = str(digits.index(letter))
        command = r"\mathbf" if command == r"\mathbb" else command  # msbm has no digits
    elif len(letter) == 1 and letter.isalpha():
        base = letter if case == "CAPITAL" else letter.lower()
        if command in (r"\mathbb", r"\mathcal") and case == "SMALL":
            command = r"\mathit"  # the fonts have capitals only
    else:
        greek = letter.replace("DOTLESS ", "")
        try:
            if case:
                base = unicodedata.lookup(f"GREEK {case} LETTER {greek}")
            else:
                base = unicodedata.lookup(letter if letter in ("PARTIAL DIFFERENTIAL", "NABLA") else f"GREEK {greek}")
        except KeyError:
            if letter in ("DOTLESS I", "DOTLESS J"):
                return "\\" + letter[-1].lower() + "math"
            return None
        base = SYMBOLS.get(base, base)
        if command == r"\mathbf":
            command = r"\boldsymbol"  # \mathbf does not embolden Greek small letters
        elif command not in (r"\boldsymbol", ""):
            command = ""
    if not command:
        return base
    return f"{command}{{{base}}}"


# ---------------------------------------------------------------- math


@dataclasses.dataclass
class _Out:
    """The rewritten text of one run of characters, with what changed."""

    before: str  # the original TeX up to the run: to see a control word or a script before it
    tex: bool = True  # the input is TeX (math, \\text{…}), not prose that will be escaped
    pieces: list[str] = dataclasses.field(default_factory=list)
    raw: list[bool] = dataclasses.field(default_factory=list)  # per piece: a replacement (TeX), not the input
    notes: list[tuple[str, bool]] = dataclasses.field(default_factory=list)

    def text(self) -> str:
        return "".join(self.pieces)

    def add(self, piece: str, raw: bool = True) -> None:
        if not piece:
            return
        tail = self.tail()
        if self.tex and is_letter(piece[0]) and _CONTROL_WORD_END.search(tail):
            piece = " " + piece  # \times a, not \timesa
        elif piece[0] == "$" and self.raw and self.raw[-1] and self.pieces[-1].endswith("$"):
            self.pieces[-1] = _join([self.pieces[-1][:-1], piece[1:]])  # $\alpha\approx\beta$
            return
        elif piece[0] == "$" and tail.endswith("$"):
            piece = "{}" + piece  # never $$
        self.pieces.append(piece)
        self.raw.append(raw)

    def tail(self, size: int = 80) -> str:
        """The last characters of ``before`` and the pieces so far."""
        parts: list[str] = []
        length = 0
        for piece in reversed(self.pieces):
            parts.append(piece)
            length += len(piece)
            if length >= size:
                break
        else:
            parts.append(self.before[-size:])
        return "".join(reversed(parts))[-size:]

    def note(self, message: str, warning: bool = False) -> None:
        if (message, warning) not in self.notes:
            self.notes.append((message, warning))


def _join(parts) -> str:
    """Concatenate TeX, with a space wherever a control word would run into a letter."""
    out = ""
    for part in parts:
        if part and out and is_letter(part[0]) and _CONTROL_WORD_END.search(out[-40:]):
            out += " "
        out += part
    return out


def describe(char: str) -> str:
    visible = char.isprintable() and not char.isspace() and not unicodedata.category(char).startswith("M")
    return f"'{char}' (U+{ord(char):04X})" if visible else f"U+{ord(char):04X}"


def _prev_char(text: str) -> str:
    stripped = text.rstrip()
    return stripped[-1] if stripped else ""


def _ends_with_superscript(text: str) -> bool:
    """Whether ``text`` ends with a superscript (``x^2``, ``x^{ab}``, ``x^\\alpha``), so ``^`` would be doubled."""
    text = text.rstrip()
    if text.endswith("'"):
        return False  # x'^2 is fine
    if text.endswith("}"):
        depth = 0
        for index in range(len(text) - 1, -1, -1):
            if text[index] == "}":
                depth += 1
            elif text[index] == "{":
                depth -= 1
                if depth == 0:
                    return _prev_char(text[:index]) == "^"
        return False
    word = re.search(r"\\[A-Za-z]+$", text)
    if word:
        return _prev_char(text[: word.start()]) == "^"
    return len(text) >= 2 and text[-2] == "^"


def _brace(rep: str, before: str, bare_argument: bool) -> str:
    """Brace a replacement of more than one token where a single token may be expected.

    That is after ``^`` or ``_``, as a macro's unbraced argument, and right after any control
    word (it may take arguments pylatexenc did not see): ``\\frac“`` → ``\\frac{\\text{“}}``.
    """
    if _SINGLE_TOKEN.match(rep) or rep.startswith("{"):
        return rep
    if bare_argument or _prev_char(before) in ("^", "_") or _CONTROL_WORD_END.search(before.rstrip()[-40:]):
        return "{" + rep + "}"
    return rep


def rewrite_math_chars(chars: str, before: str, after: str, bare_argument: bool = False) -> _Out:
    """Rewrite the characters of one chars node in math mode.

    ``before`` is the TeX before the node and ``after`` the character after it.
    """
    out = _Out(before)
    index = 0
    while index < len(chars):
        char = chars[index]
        if ord(char) < 128:
            end = index + 1
            while end < len(chars) and ord(chars[end]) < 128:
                end += 1
            out.add(chars[index:end], raw=False)
            index = end
            continue
        here = out.tail(400)  # what precedes, as rewritten: to see a script before this character
        source_here = before[-200:] + chars[max(0, index - 200) : index]  # as written: for bracing
        run = None if char in SYMBOLS else _RUN.match(chars, index)
        if run:
            text = run.group(0)
            out.add(_brace(f"\\text{{{text}}}", source_here, bare_argument))
            out.note(f"CJK text '{text.strip()}' wrapped in \\text{{}}")
            index = run.end()
            continue
        if char in ZERO_WIDTH:
            out.note(f"removed the invisible {describe(char)}")
        elif char in SUPERSCRIPTS or char in SUBSCRIPTS:
            table, mark = (SUPERSCRIPTS, "^") if char in SUPERSCRIPTS else (SUBSCRIPTS, "_")
            end = index
            while end < len(chars) and chars[end] in table:
                end += 1
            inner = _join(table[c] for c in chars[index:end])
            previous = _prev_char(here)
            if previous in ("^", "_"):  # x^² → x^{2}; x_² → x_{{}^{2}}
                rep = f"{{{inner}}}" if previous == mark else f"{{{{}}{mark}{{{inner}}}}}"
            elif mark == "^" and _ends_with_superscript(here):  # x^{a}² → x^{a}{}^{2}
                rep = f"{{}}^{{{inner}}}"
            else:
                rep = f"{mark}{{{inner}}}"
            out.add(rep)
            out.note(f"'{chars[index:end]}' → {rep}")
            index = end
            continue
        elif char in SYMBOLS:
            rep = SYMBOLS[char]
            out.add(_brace(rep, source_here, bare_argument))
            out.note(f"{describe(char)} → {rep.strip() or 'a space'}")
        elif 0xFF01 <= ord(char) <= 0xFF5E:
            rep = fullwidth(char)
            out.add(_brace(rep, source_here, bare_argument))
            out.note(f"full-width {describe(char)} → {rep}")
        elif char in COMBINING:
            accent = COMBINING[char]
            previous = out.pieces[-1] if out.pieces else ""
            base = previous[-1:] if previous else ""
            if base and (base.isalnum() and ord(base) < 128):
                out.pieces[-1] = previous[:-1]
                out.add(f"{accent} {base}" if accent == r"\not" else f"{accent}{{{base}}}")
                out.note(f"combining {describe(char)} → {accent}")
            else:
                out.note(f"dropped the combining {describe(char)} (nothing to put it on)", warning=True)
        elif math_alphanumeric(char):
            rep = math_alphanumeric(char)
            out.add(_brace(rep, source_here, bare_argument))
            out.note(f"{describe(char)} → {rep}")
        else:
            out.add(_brace(f"\\text{{{char}}}", source_here, bare_argument))
            out.note(f"{describe(char)} has no math equivalent: set as \\text{{{char}}}", warning=True)
        index += 1
    if after and is_letter(after) and _CONTROL_WORD_END.search(out.text()):
        out.pieces.append(" ")
    return out


def rewrite_text_chars(
    chars: str, before: str, wrap: str = "$", tex_input: bool = True, has_glyph: HasGlyph | None = None
) -> _Out:
    """Rewrite characters in text mode: symbols the text fonts lack become inline math.

    ``wrap`` is ``$`` (``$\\alpha$``) or ``texorpdfstring`` (for headings, whose text is also a bookmark);
    ``tex_input`` is false for prose, whose characters are escaped later; ``has_glyph`` says what the text
    fonts have (``text_fonts_have``).
    """
    has = has_glyph or text_fonts_have()
    out = _Out(before, tex_input)
    index = 0
    while index < len(chars):
        char = chars[index]
        end = index + 1
        if char in ZERO_WIDTH:  # before the fonts: Latin Modern has a glyph for the soft hyphen
            out.note(f"removed the invisible {describe(char)}")
        elif ord(char) < 128 or has(char):
            while end < len(chars) and chars[end] not in ZERO_WIDTH and (ord(chars[end]) < 128 or has(chars[end])):
                end += 1
            out.add(chars[index:end], raw=False)
        elif char in SUPERSCRIPTS or char in SUBSCRIPTS:
            table, mark = (SUPERSCRIPTS, "^") if char in SUPERSCRIPTS else (SUBSCRIPTS, "_")
            while end < len(chars) and chars[end] in table and not has(chars[end]):
                end += 1
            inner = _join(table[c] for c in chars[index:end])
            rep = _inline_math(f"{{}}{mark}{{{inner}}}", chars[index:end], wrap)
            out.add(rep)
            out.note(f"'{chars[index:end]}' has no glyph in the text fonts: set as {rep}")
        elif char in SYMBOLS or math_alphanumeric(char):
            rep = _inline_math(SYMBOLS.get(char) or math_alphanumeric(char), char, wrap)
            out.add(rep)
            out.note(f"{describe(char)} has no glyph in the text fonts: set as {rep}")
        else:
            out.add(char, raw=False)
        index = end
    return out


def _inline_math(tex_math: str, original: str, wrap: str) -> str:
    if wrap == "$":
        return f"${tex_math}$"
    return f"\\texorpdfstring{{${tex_math}$}}{{{original}}}"


def _mode(node, parents: tuple) -> str:
    """'math', 'text', or 'skip' (an argument that is not typeset) for a node under ``parents``.

    tex.inside_text is not enough here: math inside \\text{…} is math again, \\operatorname's
    argument is math (set in the operator font, which has no CJK), and \\label/\\color arguments
    are names, not text.
    """
    chain = parents + (node,)
    for depth, parent in enumerate(parents):
        child = chain[depth + 1]
        if isinstance(parent, tex.LatexEnvironmentNode) and parent.nodeargd and child in _args(parent):
            return "skip"
        if isinstance(parent, tex.LatexMacroNode) and parent.macroname in NOT_TYPESET:
            which = NOT_TYPESET[parent.macroname]
            args = _args(parent)
            if which is None or any(child is arg for i, arg in enumerate(args) if i in which):
                return "skip"
    for depth in range(len(parents) - 1, -1, -1):
        parent = parents[depth]
        if isinstance(parent, tex.LatexMathNode):
            return "math"
        if isinstance(parent, tex.LatexMacroNode) and parent.macroname in TEXT_MODE:
            return "text"
    return "math"


def text_mode(node, parents: tuple) -> bool:
    """Whether a chars node of math is typeset as text (inside ``\\text{…}`` and the like)."""
    return _mode(node, parents) == "text"


def _args(node) -> list:
    if node.nodeargd is None or not node.nodeargd.argnlist:
        return []
    return list(node.nodeargd.argnlist)


def _bare_argument(node, parents: tuple) -> bool:
    """Whether a chars node is itself a macro's argument, written without braces (\\hat α)."""
    return bool(parents) and isinstance(parents[-1], tex.LatexMacroNode) and any(
        node is arg for arg in _args(parents[-1])
    )


def fix_math(source: str, has_glyph: HasGlyph | None = None) -> tuple[str, list[tuple[str, bool]]]:
    """The math ``source`` with every character the fonts lack rewritten, and the notes.

    Repeated until nothing changes: splitting a control word (``\\fracα`` → ``\\frac\\alpha``)
    can give a macro arguments, which moves what follows in or out of a text argument.
    """
    has = has_glyph or text_fonts_have()
    source, (notes,), settled = until_stable(lambda text: _fix_math_once(text, has), source)
    return source, list(dict.fromkeys(notes + ([] if settled else [(UNSETTLED, True)])))


def _fix_math_once(source: str, has: HasGlyph) -> tuple[str, list[tuple[str, bool]]]:
    if source.isascii():
        return source, []
    edits: list[tex.Edit] = []
    notes: list[tuple[str, bool]] = []
    for node, parents in tex.walked(source):
        if isinstance(node, tex.LatexMacroNode) and not node.macroname.isascii():
            split = _split_control_word(source, node, parents, has)
            if split:
                edits.append(split[0])
                notes.extend(n for n in split[1] if n not in notes)
            continue
        if not isinstance(node, tex.LatexCharsNode) or node.chars.isascii():
            continue
        start, end = node.pos, node.pos + node.len
        if source[start:end] != node.chars:
            continue  # pylatexenc's positions disagree with the string: leave it
        before, after = source[:start], source[end : end + 1]
        mode = _mode(node, parents)
        if mode == "math":
            out = rewrite_math_chars(node.chars, before, after, _bare_argument(node, parents))
        elif mode == "text":
            out = rewrite_text_chars(node.chars, before, has_glyph=has)
        else:
            continue
        new = out.text()
        if new != node.chars:
            edits.append(tex.Edit(start, end, new))
            notes.extend(n for n in out.notes if n not in notes)
    if not edits:
        return source, []
    return tex.apply_edits(source, edits), notes


def _split_control_word(source: str, node, parents: tuple, has: HasGlyph):
    r"""``\quad中文``: XeTeX (and pylatexenc) read one control word ``quad中文``; split it after ``\quad``.

    The non-ASCII tail is rewritten as the characters it is, braced when more than one token
    (``\text中`` → ``\text{\text{中}}``), so a macro before it still takes one argument.
    """
    name = node.macroname
    prefix = re.match(r"[A-Za-z]*", name).group(0)
    start = node.pos + 1 + len(prefix)
    end = node.pos + 1 + len(name)
    if not prefix or source[node.pos : end] != "\\" + name:
        return None  # a control word of non-ASCII letters only: the unknown-commands pass shows it
    tail = name[len(prefix) :]
    mode = _mode(node, parents)
    if mode == "skip":
        return None
    if mode == "text":
        out = rewrite_text_chars(tail, source[:start], has_glyph=has)
    else:
        out = rewrite_math_chars(tail, source[:start], source[end : end + 1], bare_argument=True)
    new = out.text()
    if not new.startswith((" ", "\\", "{")):
        new = " " + new
    note = (f"split the control word \\{name} after \\{prefix} (XeTeX reads them as one)", False)
    return tex.Edit(start, end, new), [note] + [n for n in out.notes if n != note]


# ---------------------------------------------------------------- prose


def fix_text(
    node: m.Text, heading: bool = False, has_glyph: HasGlyph | None = None
) -> tuple[tuple[m.Inline, ...], list[tuple[str, bool]]]:
    """A prose Text node split around the symbols the text fonts lack (RawTex for those)."""
    if node.text.isascii():
        return (node,), []
    has = has_glyph or text_fonts_have()
    if all(ord(c) < 128 or (c not in ZERO_WIDTH and has(c)) for c in set(node.text)):
        return (node,), []  # each distinct character once: prose is mostly characters the fonts have
    text = "".join(c for c in node.text if c not in ZERO_WIDTH)  # escape_text drops them anyway
    out = rewrite_text_chars(text, "", "texorpdfstring" if heading else "$", tex_input=False, has_glyph=has)
    if not any(out.raw) and out.text() == text:
        return (node,), []
    parts: list[m.Inline] = []
    plain: list[str] = []
    for piece, raw in zip(out.pieces, out.raw):
        if not raw:
            plain.append(piece)
            continue
        if plain:
            parts.append(m.Text("".join(plain)))
            plain = []
        parts.append(m.RawTex(piece))
    if plain:
        parts.append(m.Text("".join(plain)))
    return tuple(parts), out.notes


# ---------------------------------------------------------------- the pass


def run(post: m.Post, context: Context) -> m.Post:
    has = text_fonts_have(context)

    def per_math(post: m.Post, math: m.Math) -> m.Math:
        source, notes = fix_math(math.tex, has)
        for message, warning in notes:
            context.report(post, math.line, NAME, message, warning=warning)
        return dataclasses.replace(math, tex=source) if source != math.tex else math

    return _fix_prose(map_math(post, per_math), context, has)


TITLES = "titles"


def set_titles(book: m.Book, context: Context) -> m.Book:
    r"""Pass ``titles``: the book's and the chapters' titles, set like headings (they are bookmarked too).

    A symbol the text fonts lack becomes math with a plain-text bookmark:
    ``【搜出来的文本】⋅（一）`` → ``【搜出来的文本】\texorpdfstring{$\cdot$}{⋅}（一）``.
    """
    has = text_fonts_have(context)

    def fixed(nodes: tuple, report) -> tuple:
        def fn(node):
            if not isinstance(node, m.Text):
                return node
            parts, notes = fix_text(node, True, has)
            for message, warning in notes:
                report(message, warning)
            return parts if len(parts) != 1 else parts[0]

        return map_inlines(nodes, fn)

    def volume_report(message: str, warning: bool) -> None:
        context.report_volume(TITLES, message, warning=warning)

    def chapter(ch: m.Chapter) -> m.Chapter:
        def report(message: str, warning: bool) -> None:
            context.report(ch.post, 1, TITLES, f"title: {message}", warning=warning)

        return dataclasses.replace(ch, title=fixed(ch.title, report), full_title=fixed(ch.full_title, report))

    chapters = tuple(chapter(ch) for ch in book.chapters)
    return dataclasses.replace(
        book,
        title=fixed(book.title, volume_report),
        subtitle=fixed(book.subtitle, volume_report),
        author=fixed(book.author, volume_report),
        chapters=chapters,
    )


def _fix_prose(post: m.Post, context: Context, has: HasGlyph) -> m.Post:
    def inline_fn(line: int, heading: bool):
        def fn(node):
            if not isinstance(node, m.Text):
                return node
            parts, notes = fix_text(node, heading, has)
            for message, warning in notes:
                context.report(post, line, NAME, message, warning=warning)
            return parts if len(parts) != 1 else parts[0]

        return fn

    def block_fn(block):
        # map_blocks recurses into quotes and lists itself; the inlines of each leaf block are done
        # here so each report carries its block's line and headings get \texorpdfstring.
        if isinstance(block, (m.Paragraph, m.Heading)):
            fn = inline_fn(block.line, isinstance(block, m.Heading))
            return dataclasses.replace(block, children=map_inlines(block.children, fn))
        if isinstance(block, m.Table):
            fn = inline_fn(block.line, False)
            header = tuple(map_inlines(cell, fn) for cell in block.header)
            rows = tuple(tuple(map_inlines(cell, fn) for cell in row) for row in block.rows)
            return dataclasses.replace(block, header=header, rows=rows)
        if isinstance(block, m.Figure):
            return dataclasses.replace(block, caption=map_inlines(block.caption, inline_fn(block.line, False)))
        return block

    blocks = map_blocks(post.blocks, None, block_fn)
    footnotes = tuple((label, map_blocks(body, None, block_fn)) for label, body in post.footnotes)
    return dataclasses.replace(post, blocks=blocks, footnotes=footnotes)


PASS = Pass(NAME, run)
TITLES_PASS = Pass(TITLES, set_titles, whole_volume=True)
