"""A post's title → the series it is a chapter of, its number there and its subtitle.

``生成扩散模型漫谈（二十四）：少走捷径，更快到达`` → series 生成扩散模型漫谈, number 24,
subtitle 少走捷径，更快到达.  The blog writes a chapter's number in a handful of shapes:

=========================================  ===========================  ======
title                                      series                       number
=========================================  ===========================  ======
``名（二十四）：副标题``, ``名(5)：副标题``        名                           24, 5
``名（一）`` (no subtitle)                    名                           1
``名（上）``, ``名（下）``                        名                           — (part 上, 下)
``名：7、副标题``, ``名：1. 副标题``             名                           7, 1
``名：20、副标题（上）``                        名                           20 (part 上)
``《名》系列——4.副标题``                        《名》系列                    4
``【名】 2. 副标题``, ``【名】⋅（一）副标题``      名                           2, 1
``《名(1)》——副标题``                          《名》                        1
``《名》:副标题(一)``, ``名——副标题(1)``          《名》, 名                    1
=========================================  ===========================  ======

with full-width or ASCII punctuation, Arabic or Chinese numerals (``三十一``,
``一百零二``).  A title that only mentions a series (``再谈《生成扩散模型漫谈》``,
``生成扩散模型漫谈（三）的补充``) is no chapter of it: a number must stand where
these shapes put it, and be followed by the end of the title or a separator.

Why a hand-written parser and not one regular expression or a grammar library:
the shapes are few but each has its exception (a ``（上）`` after a number is a
part, not the number; the number that comes first in the title wins; a number
at the very end belongs to the series only when the name is set off by 《》 or
——), and those read best as a few lines of code around two small patterns.  A
title is short and every pattern here is linear, so a hostile title costs
nothing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_DIGITS = "0-9０-９"
_CHINESE_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CHINESE_UNITS = {"十": 10, "百": 100}
_CHINESE = "".join(_CHINESE_DIGITS) + "".join(_CHINESE_UNITS)
_NUMBER = rf"[{_DIGITS}]{{1,3}}|[{_CHINESE}]{{1,6}}"
PARTS = {"上": 1, "中": 2, "下": 3}
MAX_NUMBER = 999  # a bracketed (2019) is a year, not chapter 2019
MAX_TITLE = 300  # the blog's longest is under 80 characters; longer is no title (and parsing stays cheap)

# （二十四）, (5), （上）: a number (or a part) alone in brackets.
_BRACKETED = re.compile(rf"[（(]\s*({_NUMBER}|[上中下])\s*[)）]")
# ：7、 ：1. ——4. 】 2. : a number after a separator, closed by 、 or a full stop (not 1.5).
_ENUMERATED = re.compile(rf"([：:]|—{{1,2}}|-{{2}}|】)\s*({_NUMBER})\s*[、.．](?![{_DIGITS}])")
# What may join the number to the subtitle: nothing, a colon, a dash, a middle dot.
_JOINER = re.compile(r"^\s*(?:[：:]|—{1,2}|-{2}|[⋅·・])?\s*")
# After a bracketed number, a chapter's title ends or goes on after one of these.
_SEPARATOR_START = re.compile(r"^(?:\s|[：:]|—|-{2}|[⋅·・])")
# A trailing (1) or （下） of a numbered title: a part of that chapter.
_TRAILING_PART = re.compile(rf"[（(]\s*([{_DIGITS}]{{1,2}}|[{_CHINESE}]{{1,3}}|[上中下])\s*[)）]\s*$")
# 《名》：副标题 and 名——副标题, the names a number at the end of the title belongs to.
_BOOK_NAME_FIRST = re.compile(r"^(《[^《》]+》)\s*(?:[：:]|—{1,2}|-{2})\s*(.+)$")
_DASHED_NAME_FIRST = re.compile(r"^(.+?)\s*(?:—{1,2}|-{2})\s*(.+)$")
_LEADING_TAG = re.compile(r"^\[[^\[\]]{1,12}\]\s*")  # [春礼]《方程与宇宙》…: a label, not the name
_NAME_TRIM = " \t\u3000：:—-⋅·・"
_QUOTE_MARKS = re.compile("[《》【】“”‘’\"'「」『』\\s]")
_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class SeriesTitle:
    """What a title says about its series: ``Transformer升级之路：20、MLA好在哪里?（上）`` →
    series ``Transformer升级之路``, number 20, part 1 (上), subtitle ``MLA好在哪里?（上）``."""

    series: str  # the name as the title writes it (【】 taken off): 生成扩散模型漫谈, 《向量》系列
    number: int | None  # None for 名（上）: parts only
    part: str  # 上, 中, 下, or the 2 of a numbered title's trailing (2); "" when none
    subtitle: str  # "" when the title has none

    @property
    def key(self) -> str:
        return series_key(self.series)

    @property
    def part_order(self) -> int:
        """上 1, 中 2, 下 3, (2) 2; 0 without a part."""
        return PARTS.get(self.part) or number_value(self.part) or 0 if self.part else 0

    @property
    def label(self) -> str:
        """``24``, ``20（上）``, ``（下）``: the chapter's place in its series, for messages."""
        return f"{self.number if self.number is not None else ''}{f'（{self.part}）' if self.part else ''}"


def series_key(name: str) -> str:
    """The name as compared: ``《向量》系列`` and ``向量 系列`` are one; ``MoE环游记`` is ``moe环游记``."""
    return _QUOTE_MARKS.sub("", unicodedata.normalize("NFKC", name)).casefold()


def chinese_number(text: str) -> int | None:
    """``二十四`` → 24, ``十`` → 10, ``三十一`` → 31, ``一百零二`` → 102, ``一〇二`` → 102; None for ``十十``."""
    if not text or any(char not in _CHINESE for char in text):
        return None
    if all(char in _CHINESE_DIGITS for char in text):
        return int("".join(str(_CHINESE_DIGITS[char]) for char in text))
    total, pending, last_unit = 0, None, 1000
    for index, char in enumerate(text):
        if char in "零〇":
            if pending is not None or index == len(text) - 1:
                return None  # 二零, or a trailing 零
            continue
        if char in _CHINESE_DIGITS:
            if pending is not None:
                return None  # two digits in a row between units: 二三十
            pending = _CHINESE_DIGITS[char]
            continue
        unit = _CHINESE_UNITS[char]
        if unit >= last_unit:
            return None  # 十百, 十十
        total += (1 if pending is None else pending) * unit
        pending, last_unit = None, unit
    return total + (pending or 0)


def number_value(text: str) -> int | None:
    """``7`` / ``７`` / ``七`` → 7; None beyond ``MAX_NUMBER`` or for 0."""
    if re.fullmatch(f"[{_DIGITS}]+", text):
        value = int(unicodedata.normalize("NFKC", text))
    else:
        value = chinese_number(text)
    return value if value is not None and 1 <= value <= MAX_NUMBER else None


def parse_title(title: str) -> SeriesTitle | None:
    """The series a title is a chapter of, or None (see the module's table of shapes)."""
    if len(title) > MAX_TITLE:
        return None
    text = _LEADING_TAG.sub("", " ".join(title.split()))
    bracketed = _BRACKETED.search(text)
    enumerated = _ENUMERATED.search(text)
    if enumerated and (bracketed is None or enumerated.start() < bracketed.start()):
        return _read_enumerated(text, enumerated)
    if bracketed:
        return _read_bracketed(text, bracketed)
    return None


def _read_enumerated(text: str, match: re.Match) -> SeriesTitle | None:
    """``名：7、副标题``, ``《名》系列——4.副标题``, ``【名】 2. 副标题``."""
    name = text[: match.start()]
    if match.group(1) == "】":
        if not name.startswith("【"):
            return None
        name += "】"
    number = number_value(match.group(2))
    return _chapter(name, number, "", text[match.end() :])


def _read_bracketed(text: str, match: re.Match) -> SeriesTitle | None:
    """``名（二十四）：副标题``, ``名（上）``, ``【名】⋅（一）副标题``, ``《名(1)》——副标题``, ``《名》：副标题(一)``."""
    name, rest, value = text[: match.start()], text[match.end() :], match.group(1)
    number, part = (None, value) if value in PARTS else (number_value(value), "")
    if number is None and not part:
        return None
    if name.startswith("《") and "》" not in name and rest.startswith("》"):
        name, rest = name + "》", rest[1:]  # 《虚拟的实在(1)》——为什么需要场？
    if not _has_words(rest):
        # The number ends the title: it belongs to the name before a 《》 or a ——, if there is one.
        for split in (_BOOK_NAME_FIRST, _DASHED_NAME_FIRST):
            found = split.match(name)
            if found:
                return _chapter(found.group(1), number, part, found.group(2))
        return _chapter(name, number, part, "")
    labelled = name.strip(_NAME_TRIM).startswith("【")
    if not labelled and not _SEPARATOR_START.match(rest):
        return None  # 生成扩散模型漫谈（三）的补充: a mention, not a chapter
    return _chapter(name, number, part, rest)


def _chapter(raw_name: str, number: int | None, part: str, rest: str) -> SeriesTitle | None:
    name = raw_name.strip(_NAME_TRIM)
    if name.startswith("【") and name.endswith("】") and name.count("【") == 1:
        name = name[1:-1].strip()
    if number is None and not part or not _has_words(name):
        return None
    subtitle = _JOINER.sub("", rest, count=1).strip()
    if not _has_words(subtitle):
        subtitle = ""
    if not part and number is not None:
        trailing = _TRAILING_PART.search(subtitle)
        if trailing and (trailing.group(1) in PARTS or number_value(trailing.group(1))):
            part = trailing.group(1)
    return SeriesTitle(name, number, part, subtitle)


def _has_words(text: str) -> bool:
    return bool(_WORD.search(text))


def short_title(title: str) -> str:
    """A chapter's title inside its series' book: the subtitle, else the whole title.

    ``生成扩散模型漫谈（二十四）：少走捷径，更快到达`` → ``少走捷径，更快到达``;
    ``力学系统及其对偶性（一）`` (no subtitle) and ``一则随笔`` stay as they are.
    """
    parsed = parse_title(title)
    return parsed.subtitle if parsed and parsed.subtitle else title
