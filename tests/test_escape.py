"""Escaping prose for LaTeX (bookgen/escape.py)."""

from __future__ import annotations


from hypothesis import given
from hypothesis import strategies as st

from bookgen.escape import escape_prose, escape_text

BREAK = "\\allowbreak{}"
prose = st.text(st.sampled_from("ab_\\{}$%#&^~ 中文-/.0"), max_size=300)


@given(prose)
def test_escape_prose_only_adds_break_points(text):
    assert escape_prose(text).replace(BREAK, "") == escape_text(text)


@given(st.text(st.sampled_from("ab_\\{}-/.0"), min_size=40, max_size=400))
def test_a_long_run_may_break_every_twenty_characters(text):
    assert escape_prose(text).count(BREAK) == (len(text) - 1) // 20


def test_short_words_and_cjk_are_left_alone():
    text = "Transformer-XL 与 RoPE 的外推，见 arXiv:2104.09864。" + "长" * 100
    assert escape_prose(text) == escape_text(text)
