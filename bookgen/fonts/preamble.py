r"""xeCJK's character classes and the fonts a rendered preamble names.

xeCJK sends a character of a CJK class to the CJK font and any other to the Latin
font.  Its default classes are read from the installed ``xeCJK.sty`` (found with
kpsewhich), the preamble's ``\xeCJKDeclareCharClass`` applied after them (a
test dumps XeTeX's own table to check this); the fonts are read from
``\setmainfont``, ``\setCJKmainfont``… (fontspec's Latin Modern where one is not set).
"""

from __future__ import annotations

import bisect
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable


_CLIST = re.compile(r"\\clist_const:Nn\s*\\c__xeCJK_(\w+?)_chars_clist\s*\{([^{}]*)\}")
_DECLARE = re.compile(r"\\xeCJKDeclareCharClass\*?\s*\{\s*([^{}]*?)\s*\}\s*\{([^{}]*)\}")
_CODE = r'"\s*([0-9A-Fa-f]+)'
_RANGE = re.compile(_CODE + r"(?:\s*->\s*" + _CODE + ")?")
# xeCJK.sty builds FullLeft and FullRight from line-breaking classes (OP/PR; CL/NS/EX/IS/PO and hyphens),
# then declares its classes in this order (\xeCJKResetCharClass, then \xeCJKResetPunctClass).
_COMPOSED = {"FullLeft": ("OP", "PR"), "FullRight": ("CL", "NS", "EX", "IS", "PO", "hyphens")}
_DEFAULT_ORDER = ("CJK", "NormalSpace", "CM", "HangulJamo", "HalfLeft", "HalfRight", "FullLeft", "FullRight")


def parse_ranges(clist: str) -> list[tuple[int, int]]:
    """``"0370 -> "03FF, "2100`` → ``[(0x370, 0x3FF), (0x2100, 0x2100)]``."""
    out = []
    for match in _RANGE.finditer(clist):
        start = int(match.group(1), 16)
        end = int(match.group(2), 16) if match.group(2) else start
        out.append((min(start, end), max(start, end)))
    return out


@dataclass(frozen=True)
class XeCJKClasses:
    """Each code point's xeCJK class, as declarations applied in order (a later one wins)."""

    starts: tuple[int, ...]
    names: tuple[str, ...]  # the class from starts[i] to starts[i + 1] - 1

    @classmethod
    def from_declarations(cls, declarations: Iterable[tuple[str, list[tuple[int, int]]]]) -> "XeCJKClasses":
        assignments = [(name, start, end) for name, ranges in declarations for start, end in ranges]
        cuts = sorted({0} | {a for _, a, _ in assignments} | {b + 1 for _, _, b in assignments})
        starts: list[int] = []
        names: list[str] = []
        for cut in cuts:
            name = next((n for n, a, b in reversed(assignments) if a <= cut <= b), "Default")
            if not names or names[-1] != name:
                starts.append(cut)
                names.append(name)
        return cls(tuple(starts), tuple(names))

    def of(self, char: str) -> str:
        return self.names[bisect.bisect_right(self.starts, ord(char)) - 1]


def xecjk_declarations(sty: str) -> list[tuple[str, list[tuple[int, int]]]]:
    """xeCJK's default classes, read from the text of xeCJK.sty (empty when it has none we know)."""
    lists = {name: parse_ranges(body) for name, body in _CLIST.findall(sty)}
    for name, parts in _COMPOSED.items():
        lists[name] = [r for part in parts for r in lists.get(part, [])]
    out = [(name, lists.get(name, [])) for name in _DEFAULT_ORDER]
    # Every declaration ends by giving the kana sound marks back to CM (xeCJK.sty does this too).
    return [item for name, ranges in out for item in ((name, ranges), ("CM", [(0x3099, 0x309A)]))]


def preamble_declarations(preamble: str) -> list[tuple[str, list[tuple[int, int]]]]:
    r"""The ``\xeCJKDeclareCharClass{Class}{ranges}`` of a preamble, in order."""
    declarations = []
    for name, body in _DECLARE.findall(_uncommented(preamble)):
        declarations += [(name, parse_ranges(body)), ("CM", [(0x3099, 0x309A)])]
    return declarations


@lru_cache(maxsize=1)
def xecjk_sty() -> str:
    """The text of the installed xeCJK.sty ('' without TeX)."""
    if shutil.which("kpsewhich") is None:
        return ""
    found = subprocess.run(["kpsewhich", "xeCJK.sty"], capture_output=True, text=True, timeout=60).stdout.strip()
    try:
        return Path(found).read_text(encoding="utf-8", errors="replace") if found else ""
    except OSError:
        return ""


def _uncommented(tex: str) -> str:
    return re.sub(r"(?<!\\)%.*", "", tex)


# ---------------------------------------------------------------- the fonts of a preamble

_FONT_COMMAND = re.compile(
    r"\\set(main|sans|mono|CJKmain|CJKsans|CJKmono)font\s*(?:\[([^\]]*)\])?\s*\{([^{}]*)\}\s*(?:\[([^\]]*)\])?"
)
_FACE_OPTION = re.compile(r"\b(?:Bold|Italic|BoldItalic|Slanted|BoldSlanted)Font\s*=\s*([^,=\]]+)")
# fontspec's and xeCJK's defaults where the preamble sets none.
_DEFAULT_FONTS = {"main": "Latin Modern Roman", "sans": "Latin Modern Sans", "mono": "Latin Modern Mono"}


@dataclass(frozen=True)
class FontSetup:
    """The font names of each role, Latin and CJK, and the xeCJK class declarations of a preamble."""

    latin: tuple[tuple[str, tuple[str, ...]], ...]  # (role, font names: a family, or a face's full name)
    cjk: tuple[tuple[str, tuple[str, ...]], ...]
    declarations: tuple[tuple[str, tuple[tuple[int, int], ...]], ...] = ()
    mono_scale: float = 1.0  # the Scale= of \setmonofont

    @classmethod
    def from_preamble(cls, preamble: str) -> "FontSetup":
        names: dict[str, list[str]] = {}
        mono_scale = 1.0
        for kind, options_before, family, options_after in _FONT_COMMAND.findall(_uncommented(preamble)):
            options = f"{options_before},{options_after}"
            scale = re.search(r"\bScale\s*=\s*([0-9.]+)", options)
            if kind == "mono":
                mono_scale = float(scale.group(1)) if scale else 1.0
            faces = [family.strip()] + [n.strip() for n in _FACE_OPTION.findall(options) if n.strip() != "*"]
            names[kind] = [n for n in faces if n]
        latin = {k: names.get(k) or [_DEFAULT_FONTS[k]] for k in ("main", "sans", "mono")}
        cjk_main = names.get("CJKmain", [])
        cjk = {
            "main": cjk_main,
            "sans": names.get("CJKsans") or cjk_main,  # xeCJK: a family not set is the main one
            "mono": names.get("CJKmono") or names.get("CJKsans") or cjk_main,
        }
        declarations = tuple((name, tuple(ranges)) for name, ranges in preamble_declarations(preamble))
        return cls(
            latin=(("text", tuple(latin["main"] + latin["sans"])), ("mono", tuple(latin["mono"]))),
            cjk=(("text", tuple(cjk["main"] + cjk["sans"])), ("mono", tuple(cjk["mono"]))),
            declarations=declarations,
            mono_scale=mono_scale,
        )

    def fonts(self, side: str, role: str) -> tuple[str, ...]:
        """The font names of a side ('latin' or 'cjk') for a role ('text' or 'mono')."""
        return dict(self.latin if side == "latin" else self.cjk)[role]

    def cjk_family(self, role: str) -> str | None:
        """The family named first for a role's CJK font: the one a fallback switch loads."""
        names = self.fonts("cjk", role)
        return names[0] if names else None

