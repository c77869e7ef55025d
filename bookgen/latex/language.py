"""Fonts and ctex's fixed words for a Simplified or Traditional build."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

SIMPLIFIED_WORDS = {
    "contents": "目录",
    "figure": "图",
    "table": "表",
    "bibliography": "参考文献",
    "chapter_prefix": "第",
    "chapter_suffix": "章",
    "published": "发表于 ",
    "missing_image": "图片未能找到",
    "see_chapter_prefix": "（见第",
    "see_chapter_suffix": "章）",
    "see_section_prefix": "（见第",
    "see_section_suffix": "节）",
    "credit_prefix": "本书各章原载于苏剑林的博客",
    "blog_name": "科学空间",
    "credit_suffix": "，版权归原作者所有",
    "compiled_by": "由 bookgen 根据原文编排",
    "fallback_formula": "此公式未能排版，原文如下",
    "fallback_block": "此处未能排版，原文如下",
    "fallback_inline": "未能排版",
}

# Noto CJK ships one family per region; the region decides glyph shapes (and coverage).
FONT_REGION = {None: "SC", "s2t": "TC", "s2tw": "TC", "s2twp": "TC", "s2hk": "HK"}


@dataclass(frozen=True)
class Language:
    name: str
    serif: str
    sans: str
    mono: str
    words: dict


def language_for(traditional: str | None, convert: Callable[[str], str] = lambda s: s) -> Language:
    region = FONT_REGION[traditional]
    words = {key: convert(value) for key, value in SIMPLIFIED_WORDS.items()}
    return Language(
        name="Simplified Chinese" if traditional is None else f"Traditional Chinese ({traditional})",
        serif=f"Noto Serif CJK {region}",
        sans=f"Noto Sans CJK {region}",
        mono=f"Noto Sans Mono CJK {region}",
        words=words,
    )
