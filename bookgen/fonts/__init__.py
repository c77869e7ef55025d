r"""Which characters the book's fonts have, read from the font files; the fallback chain.

xelatex drops a character its current font lacks (``Missing character`` in the
log).  Which font that is, xeCJK decides by the character's class: a character
of a CJK class (ideographs, CJK punctuation, and whatever the preamble adds with
``\xeCJKDeclareCharClass``) is set in the CJK font, every other one in the Latin
font.  So, before TeX runs:

* ``FontSetup.from_preamble`` (``fonts/preamble.py``) reads the families the
  rendered preamble names (``\setmainfont``, ``\setCJKmainfont``…, fontspec's
  Latin Modern where one is not set) and its char-class declarations;
  ``XeCJKClasses`` reads xeCJK's own classes from ``xeCJK.sty``, then applies
  the preamble's declarations;
* ``fonts/coverage.py`` reads the characters of each font file (found with
  fontconfig's ``fc-list``) from its cmap with fontTools, cached on disk: a
  family covers what every one of its faces covers (bold, italic, sizes), so a
  character it has is there whatever the series or shape;
* ``GlyphChooser.choose`` says, for a grapheme cluster (a character and its
  combining marks) set as prose (``text``) or code (``mono``), whether TeX will
  find its glyphs as it is, or which font to set it in: the first of the
  role's Latin font, its CJK font, then ``FALLBACK_CHAIN`` (``MONO_CHAIN`` for
  code) that has every character of the cluster.  None has it: ``None``.

Before → after (prose, Noto Serif CJK + Latin Modern): ``ʊ`` (Latin class,
Latin Modern lacks it) → Noto Serif; ``▂`` (Latin class, Noto CJK has it) →
Noto Serif CJK; ``𠀀`` (CJK Extension B, Noto CJK lacks it) → HanaMinA;
``中``, ``𠮷`` (Noto CJK has it) → as is.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

from bookgen.fonts.coverage import (
    Coverage, CoverageCache, Face, advance, cache_file, family_coverage, family_faces, fontconfig_stamp,
    installed_faces, read_cmap,
)  # fmt: skip
from bookgen.fonts.preamble import (
    FontSetup, XeCJKClasses, parse_ranges, preamble_declarations, xecjk_declarations, xecjk_sty,
)  # fmt: skip

__all__ = [
    "AS_IS", "LATIN", "FALLBACK_CHAIN", "MONO_CHAIN", "Fallback", "GlyphChooser", "chooser_for",
    "chooser_for_preamble", "fonts_fingerprint", "forget_installed_fonts", "missing_fallbacks", "split_clusters",
    "tex_key", "width_scale", "Coverage", "CoverageCache", "Face", "advance", "cache_file", "family_coverage",
    "family_faces", "fontconfig_stamp", "installed_faces", "read_cmap", "FontSetup", "XeCJKClasses", "parse_ranges",
    "preamble_declarations", "xecjk_declarations", "xecjk_sty",
]  # fmt: skip

AS_IS = ""  # GlyphChooser.choose: TeX finds the glyphs where xeCJK sends the characters
LATIN = "latin"  # ... the cluster is set in the current Latin font, xeCJK off (a CJK-class character it has)
ROLES = ("text", "mono")


@dataclass(frozen=True)
class Fallback:
    family: str  # as fontspec and fontconfig name it
    package: str  # the Debian package setup.sh installs it from
    covers: str  # what it is in the chain for
    before_cjk: bool = False  # tried before the CJK font for a Latin-class character


# The order is the order of preference: the first font with every character of a cluster sets it.
# Serif before sans, text fonts before symbol fonts, and the pixel font Unifont last of all.
FALLBACK_CHAIN: tuple[Fallback, ...] = (
    Fallback("Noto Serif", "fonts-noto-core", "IPA, Latin, Greek and Cyrillic extensions, combining marks"),
    Fallback("Noto Sans Math", "fonts-noto-core", "mathematical operators, arrows and alphanumerics"),
    Fallback("Noto Sans Symbols", "fonts-noto-core", "technical and miscellaneous symbols"),
    Fallback("Noto Sans Symbols2", "fonts-noto-core", "arrows, shapes, braille, chess, more symbols"),
    Fallback("DejaVu Sans", "fonts-dejavu-core", "box drawing, block elements, dingbats"),
    Fallback("Symbola", "fonts-symbola", "emoji, in black and white"),
    Fallback("HanaMinA", "fonts-hanazono", "CJK ideographs of the BMP that Noto CJK lacks"),
    Fallback("HanaMinB", "fonts-hanazono", "CJK Extension B and later (𠮷)"),
    Fallback("Unifont", "fonts-unifont", "last resort: every character of the BMP"),
    Fallback("Unifont Upper", "fonts-unifont", "last resort above the BMP"),
)
# Code: a monospaced font first, even before the CJK font (whose box drawing is full-width), scaled to
# the width of the code font (``mono_scale``), so box drawing and block elements keep their columns.
MONO_CHAIN: tuple[Fallback, ...] = (
    Fallback("DejaVu Sans Mono", "fonts-dejavu-core", "monospaced box drawing, block elements, IPA", True),
) + FALLBACK_CHAIN

# xeCJK sets characters of these classes in the CJK font; a CM-class mark follows its base character.
CJK_FONT_CLASSES = frozenset({"CJK", "FullLeft", "FullRight", "HangulJamo"})


def never_set(char: str) -> bool:
    """Private use, unassigned and surrogate code points: no font's glyph for them means anything."""
    return unicodedata.category(char) in ("Co", "Cn", "Cs")


def tex_key(family: str) -> str:
    r"""The letters naming a family's font switch: ``Noto Sans Symbols2`` → ``\bookgenfontnotosanssymbols``…"""
    digits = {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six",
              "7": "seven", "8": "eight", "9": "nine"}  # fmt: skip
    return "".join(digits.get(c, c) for c in family.lower() if c.isalnum() and c.isascii())


# ---------------------------------------------------------------- choosing a font per cluster

@dataclass
class GlyphChooser:
    """Where TeX finds each cluster's glyphs, with the fonts above; memoized per character and cluster.

    ``coverage`` maps a font name to its code points (None: not installed), ``classes`` gives xeCJK's
    class of a character.  Built from the real fonts by ``chooser_for``; tests give a fake table.
    """

    setup: FontSetup
    classes: XeCJKClasses
    coverage: Callable[[str], "Coverage | None"]
    chains: dict[str, tuple[Fallback, ...]] = field(default_factory=lambda: {"text": FALLBACK_CHAIN, "mono": MONO_CHAIN})
    problem: str = ""  # why glyphs cannot be checked (no fontconfig, a main font not installed); '' when they can
    fingerprint: str = ""  # of the font files and xeCJK.sty its answers rest on (``fonts_fingerprint``)
    _fonts: dict = field(default_factory=dict, repr=False)
    _char_ok: dict = field(default_factory=dict, repr=False)
    _clusters: dict = field(default_factory=dict, repr=False)

    def font(self, name: str) -> Coverage:
        if name not in self._fonts:
            self._fonts[name] = self.coverage(name) or Coverage()
        return self._fonts[name]

    def _role_font(self, side: str, role: str) -> Coverage:
        """What every font of a role's side has (main and sans, their bold and italic faces)."""
        key = (side, role)
        if key not in self._fonts:
            names = self.setup.fonts(side, role)
            covered = Coverage()
            for index, name in enumerate(dict.fromkeys(names)):
                covered = self.font(name) if index == 0 else covered & self.font(name)
            self._fonts[key] = covered
        return self._fonts[key]

    def side(self, char: str) -> str:
        """'cjk', 'latin', or 'mark' (xeCJK's CM class: it goes with the character before)."""
        name = self.classes.of(char)
        if name in CJK_FONT_CLASSES or name.startswith("CJK/"):
            return "cjk"
        return "mark" if name == "CM" else "latin"

    def char_ok(self, char: str, role: str) -> bool:
        """Whether a character, on its own, has its glyph where xeCJK sends it (and is no combining mark)."""
        key = (char, role)
        found = self._char_ok.get(key)
        if found is None:
            if char.isascii():
                found = True
            elif never_set(char) or unicodedata.category(char).startswith("M"):
                found = False  # a mark must share its base's font: decided per cluster
            else:
                side = self.side(char)
                found = side != "mark" and ord(char) in self._role_font(side, role)
            self._char_ok[key] = found
        return found

    def text_has(self, char: str) -> bool:
        """Whether prose sets ``char`` without a fallback font (unicode-math's test for its symbols)."""
        return self.char_ok(char, "text")

    def choose(self, cluster: str, role: str) -> tuple[str, str | None]:
        """(the cluster as it should be written, the font to set it in): AS_IS, LATIN, a family, or None.

        ``a`` + U+0301 → (``á``, AS_IS) when the precomposed form needs no fallback.
        """
        key = (cluster, role)
        if key not in self._clusters:
            self._clusters[key] = self._choose(cluster, role)
        return self._clusters[key]

    def _choose(self, cluster: str, role: str) -> tuple[str, str | None]:
        if any(never_set(c) for c in cluster):
            return cluster, None
        forms = [cluster]
        composed = unicodedata.normalize("NFC", cluster)
        if composed != cluster:
            forms.insert(0, composed)
        for form in forms:
            if self._as_is(form, role):
                return form, AS_IS
        latin = [(LATIN, self._role_font("latin", role))]
        cjk = [(self.setup.cjk_family(role), self._role_font("cjk", role))] if self.setup.cjk_family(role) else []
        early = [(f.family, self.font(f.family)) for f in self.chains[role] if f.before_cjk]
        late = [(f.family, self.font(f.family)) for f in self.chains[role] if not f.before_cjk]
        candidates = cjk + latin + early + late if self.side(cluster[0]) == "cjk" else latin + early + cjk + late
        for name, codes in candidates:
            for form in forms:
                if all(ord(c) in codes for c in form):
                    return form, name
        return cluster, None

    def _as_is(self, cluster: str, role: str) -> bool:
        """Whether xeCJK sends every character of the cluster to one font, and that font has them all."""
        side = self.side(cluster[0])
        if side == "mark" or any(self.side(c) not in ("mark", side) for c in cluster[1:]):
            return False
        codes = self._role_font(side, role)
        return all(c.isascii() or ord(c) in codes for c in cluster)


def chooser_for(setup: FontSetup) -> GlyphChooser:
    """A chooser over the installed fonts and xeCJK (the problem says why it cannot check, if it cannot)."""
    sty = xecjk_sty()
    classes = XeCJKClasses.from_declarations(xecjk_declarations(sty) + [(n, list(r)) for n, r in setup.declarations])
    problem = ""
    if not installed_faces():
        problem = "fontconfig (fc-list) found no fonts"
    elif not sty:
        problem = "xeCJK.sty not found (kpsewhich)"
    else:
        names = [n for _, group in setup.latin + setup.cjk for n in group]
        missing = [n for n in names if not family_faces(n)]
        if missing:
            problem = f"font {missing[0]!r} of the preamble is not installed"
    return GlyphChooser(setup, classes, family_coverage, problem=problem, fingerprint=fonts_fingerprint(setup))


def fonts_fingerprint(setup: FontSetup) -> str:
    """What a chooser's answers rest on besides the text: every face of the preamble's fonts and of the
    fallback chains (file, number, size, time) and xeCJK.sty.  A font installed, removed or updated
    changes it, so the build cache (``bookgen.cache``) does not keep choices made with other fonts."""
    digest = hashlib.sha256(xecjk_sty().encode("utf-8", "surrogateescape"))
    names = [n for _, group in setup.latin + setup.cjk for n in group] + [f.family for f in MONO_CHAIN]
    for name in dict.fromkeys(names):
        digest.update(b"\0" + name.encode("utf-8", "surrogateescape"))
        for face in family_faces(name):
            try:
                stat = os.stat(face.path)
                stamp = f"{stat.st_size}:{stat.st_mtime_ns}"
            except OSError:
                stamp = "gone"
            digest.update(f"\0{face.path}#{face.index}#{stamp}".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def forget_installed_fonts() -> None:
    """Ask fontconfig and kpsewhich again next time (a process that builds again: fonts may have changed)."""
    installed_faces.cache_clear()
    xecjk_sty.cache_clear()
    _chooser.cache_clear()


def width_scale(setup: FontSetup, family: str) -> float | None:
    """The Scale that gives a monospaced fallback the code font's width (DejaVu Sans Mono: 0.83 of itself)."""
    own, target = advance(family), advance(setup.fonts("latin", "mono")[0])
    return round(target * setup.mono_scale / own, 4) if own and target else None


def missing_fallbacks() -> list[Fallback]:
    """The fonts of the chains fontconfig cannot find (setup.sh installs them)."""
    return [f for f in dict.fromkeys(MONO_CHAIN) if not family_faces(f.family)]


def split_clusters(text: str) -> list[str]:
    """A character and the combining marks after it: ``"q̃a"`` → ``["q̃", "a"]``."""
    clusters: list[str] = []
    for char in text:
        if clusters and unicodedata.category(char).startswith("M"):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters



def chooser_for_preamble(preamble: str) -> GlyphChooser:
    """The chooser for the fonts a rendered preamble sets up (memoized by its font lines)."""
    return _chooser(FontSetup.from_preamble(preamble))


@lru_cache(maxsize=16)
def _chooser(setup: FontSetup) -> GlyphChooser:
    return chooser_for(setup)
