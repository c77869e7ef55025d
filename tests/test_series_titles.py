"""Series recognised in titles (bookgen.series.titles): every shape the blog writes, and titles that must not match.

The titles here are invented (or a few words long), in the shapes of the blog's
own; the real list of posts (../shared/corpus/POSTS.json) is read by the tests
at the end, which skip without it.
"""

from __future__ import annotations

import json

import pytest

from bookgen.series.catalog import catalog_from
from bookgen.series.chapters import chapter_title, series_numbers
from bookgen.series.resolve import find_series
from bookgen.series.titles import chinese_number, parse_title, series_key, short_title
from fixtures import corpus_path

# title → (series, number, part, subtitle)
SHAPES = {
    # 名（N）：副标题, Chinese numerals to the thirties and beyond, full-width and ASCII punctuation
    "扩散漫谈（一）：拆楼与建楼": ("扩散漫谈", 1, "", "拆楼与建楼"),
    "扩散漫谈（十）：统一的框架": ("扩散漫谈", 10, "", "统一的框架"),
    "扩散漫谈（二十四）：少走捷径": ("扩散漫谈", 24, "", "少走捷径"),
    "扩散漫谈（三十一）：预测数据": ("扩散漫谈", 31, "", "预测数据"),
    "扩散漫谈（一百零二）：很久以后": ("扩散漫谈", 102, "", "很久以后"),
    "扩散漫谈(5)：ASCII 的括号": ("扩散漫谈", 5, "", "ASCII 的括号"),
    "扩散漫谈（５）：全角数字": ("扩散漫谈", 5, "", "全角数字"),
    "扩散漫谈 (7): 空格与半角冒号": ("扩散漫谈", 7, "", "空格与半角冒号"),
    "扩散漫谈（二十二）：信噪比（上）": ("扩散漫谈", 22, "上", "信噪比（上）"),
    "扩散漫谈（六）：n=4（2）": ("扩散漫谈", 6, "2", "n=4（2）"),
    # 名（一） with no subtitle; 名（上）/（中）/（下） alone
    "力学的对偶（一）": ("力学的对偶", 1, "", ""),
    "力学的对偶（三）": ("力学的对偶", 3, "", ""),
    "弹簧的运动（上）": ("弹簧的运动", None, "上", ""),
    "弹簧的运动（中）": ("弹簧的运动", None, "中", ""),
    "弹簧的运动(下)": ("弹簧的运动", None, "下", ""),
    "技艺之23、24（上）": ("技艺之23、24", None, "上", ""),
    # 名：N、副标题 and 名：N. 副标题, with a part after the number
    "升级之路：7、局部注意力": ("升级之路", 7, "", "局部注意力"),
    "升级之路：20、MLA好在哪里?（上）": ("升级之路", 20, "上", "MLA好在哪里?（上）"),
    "升级之路: 21、MLA好在哪里?（下）": ("升级之路", 21, "下", "MLA好在哪里?（下）"),
    "环游记：3、换个思路": ("环游记", 3, "", "换个思路"),
    "最速下降：1. SGD + 超球面": ("最速下降", 1, "", "SGD + 超球面"),
    "浅探：3. 特征提取(1)": ("浅探", 3, "1", "特征提取(1)"),
    "积分系列：2.随机游走": ("积分系列", 2, "", "随机游走"),
    "汉字：七、第七篇": ("汉字", 7, "", "第七篇"),
    # 《名》系列——N.副标题 and 【名】 N. 副标题, 【名】⋅（N）副标题
    "《向量》系列——4.天旋地转": ("《向量》系列", 4, "", "天旋地转"),
    "《极值》系列——1.前言": ("《极值》系列", 1, "", "前言"),
    "【分词系列】 2. 新词发现": ("分词系列", 2, "", "新词发现"),
    "【不可思议的Word2Vec】5. Tensorflow版": ("不可思议的Word2Vec", 5, "", "Tensorflow版"),
    "【搜出来的文本】⋅（三）文本采样": ("搜出来的文本", 3, "", "文本采样"),
    # the number at the end: it belongs to the name set off by 《》 or ——, else to the whole title
    "《方程与宇宙》:二体问题(一)": ("《方程与宇宙》", 1, "", "二体问题"),
    "[春礼]《方程与宇宙》：三体问题(七)": ("《方程与宇宙》", 7, "", "三体问题"),
    "积分法——符号内取微分(2)": ("积分法", 2, "", "符号内取微分"),
    "“熵”不起：从熵到最大熵模型（二）": ("“熵”不起：从熵到最大熵模型", 2, "", ""),
    # 《名(N)》——副标题
    "《虚拟的实在(3)》——相对论动力学": ("《虚拟的实在》", 3, "", "相对论动力学"),
}

NOT_CHAPTERS = [
    "一则随笔",
    "再谈《扩散漫谈》",  # mentions a series
    "扩散漫谈的番外篇",
    "扩散漫谈（三）的补充",  # a number, but the title goes on: a mention
    "《扩散漫谈（一）》的勘误",
    "三个球的交点（三球交会定位）",  # brackets without a number
    "方法（S4）的实现",
    "科学空间：2011年9月重要天象",  # a year after the colon
    "近似：误差不超过1/9",
    "倍数：1.5倍的提升",  # 1.5 is no chapter number
    "《量子力学》习题解答V0.1",
    "扩展升级至v0.2.0",
    "年度回顾（2019）",  # a year is no chapter number
    "浅谈1",
    "（一）没有名字",
    "【翻译】星空之夜",
    "exp(x)的展开",
    "",
]


@pytest.mark.parametrize("title", list(SHAPES))
def test_title_shapes(title):
    parsed = parse_title(title)
    assert parsed is not None, title
    assert (parsed.series, parsed.number, parsed.part, parsed.subtitle) == SHAPES[title]


@pytest.mark.parametrize("title", NOT_CHAPTERS)
def test_titles_that_are_no_chapter(title):
    assert parse_title(title) is None


def test_names_written_differently_are_one_series():
    assert series_key("《向量》系列") == series_key("向量 系列") == series_key("【向量系列】")
    assert series_key("MoE环游记") == series_key("ＭｏＥ环游记") == series_key("moe环游记")
    assert parse_title("积分法——符号内取微分(1)").key == parse_title("积分法(5)：欧拉的传承").key


@pytest.mark.parametrize(
    "text, value",
    [("一", 1), ("十", 10), ("十一", 11), ("二十", 20), ("二十四", 24), ("三十一", 31), ("九十九", 99),
     ("一百", 100), ("一百零二", 102), ("一百一十", 110), ("两百", 200), ("一〇二", 102),
     ("十十", None), ("二三十", None), ("百十百", None), ("二十零", None), ("", None), ("四x", None)],
)  # fmt: skip
def test_chinese_numerals(text, value):
    assert chinese_number(text) == value


def test_short_titles():
    assert short_title("扩散漫谈（二十四）：少走捷径，更快到达") == "少走捷径，更快到达"
    assert short_title("升级之路：20、MLA好在哪里?（上）") == "MLA好在哪里?（上）"
    assert short_title("力学的对偶（一）") == "力学的对偶（一）"  # no subtitle: the whole title
    assert short_title("一则随笔") == "一则随笔"
    assert chapter_title("扩散漫谈（一）：拆楼", "我的标题", "short") == "我的标题"  # the manifest's title wins
    assert chapter_title("扩散漫谈（一）：拆楼", None, "full") == "扩散漫谈（一）：拆楼"


def test_the_chapter_counter_follows_the_series_numbers():
    titles = ["漫谈（一）：甲", "漫谈（二）：乙", "漫谈（四）：丁", "漫谈（五）：戊"]
    assert series_numbers(titles) == [None, None, 4, None]
    assert series_numbers(["漫谈（二十二）：甲", "漫谈（二十三）：乙"]) == [22, None]
    assert series_numbers(titles[:2]) == [None, None]  # LaTeX's own count: no \setcounter at all
    # not one series, a chapter without a number, or numbers not increasing: LaTeX counts
    assert series_numbers(["漫谈（一）：甲", "别的（二）：乙"]) == [None, None]
    assert series_numbers(["漫谈（一）：甲", "一则随笔"]) == [None, None]
    assert series_numbers(["浅探：3. 特征(1)", "浅探：3. 特征(2)"]) == [None, None]  # parts share 3
    assert series_numbers(["漫谈（三）：丙", "漫谈（一）：甲"]) == [None, None]


def test_a_hostile_title_costs_nothing():
    assert parse_title("名" * 100000 + "（一）") is None  # longer than any title: not parsed at all
    assert parse_title("——" * 140 + "(1)") is None


# ---------------------------------------------------------------- the blog's real list of posts


@pytest.fixture(scope="module")
def posts_json():
    path = corpus_path().parent / "POSTS.json"
    if not path.is_file():
        pytest.skip(f"POSTS.json not found at {path} (set BOOKGEN_CORPUS)")
    return path


def test_the_blog_has_at_least_40_series_of_three_or_more(posts_json):
    series = find_series(catalog_from(index_files=[posts_json]))
    long = {s.name for s in series.values() if len(s.posts) >= 3}
    assert len(long) >= 40, sorted(long)
    for name in ("从动力学角度看优化算法", "让炼丹更科学一些", "MoE环游记", "流形上的最速下降", "重温SSM",
                 "变分自编码器", "从费马大定理谈起", "中文分词系列", "《向量》系列"):  # fmt: skip
        assert name in long, name


def test_every_numbered_title_of_the_blog_is_read(posts_json):
    """A title with a chapter number where the blog puts one is a chapter (no shape of the blog is missed)."""
    import re

    numbered = re.compile(r"[（(](?:[一二三四五六七八九十]+|\d{1,2})[)）]\s*(?:[：:]|$)|[：:]\s*\d{1,2}[、.]\D")
    posts = json.loads(posts_json.read_text(encoding="utf-8"))
    missed = [p["id"] for p in posts if numbered.search(p["title"]) and parse_title(p["title"]) is None]
    assert missed == []


def test_series_are_in_series_order_not_id_order(posts_json):
    series = find_series(catalog_from(index_files=[posts_json]))
    for found in series.values():
        numbers = [post.parsed.number or 0 for post in found.posts]
        assert numbers == sorted(numbers), found.name
