"""Single passes beyond their cases (tests/cases/<pass>.txt, run by tests/test_cases.py).

What a case file cannot show well: formulas thousands of characters long, and the
helpers the passes share.
"""

from __future__ import annotations

import re

from bookgen import model as m
from bookgen.transforms import labels
from fixtures import book_of_posts, context, read_post_text


def test_a_formula_too_long_to_shrink_is_broken_into_rows():
    """display-math: thousands of characters on one line become an align, cut only at top level."""
    from bookgen.transforms.display_math import LONG_FORMULA, fit_to_line

    terms = [f"\\left(\\frac{{a_{{{i}}}}}{{b_{{{i}}}}} + c_{{{i}}}\\right)" for i in range(LONG_FORMULA // 30 + 10)]
    body = "S = " + " + ".join(terms)
    fixed, notes = fit_to_line(f"\\begin{{equation}}{body}\\label{{eq:s}}\\end{{equation}}")
    assert fixed.startswith("\\begin{align}") and fixed.endswith("\\label{eq:s}\\end{align}")
    rows = fixed.removeprefix("\\begin{align}").removesuffix("\\end{align}").split("\\\\\n")
    assert len(rows) > 5 and len(notes) == 1 and f"{len(rows)} rows" in notes[0]
    assert all(row.endswith("\\notag") for row in rows[:-1]) and "\\notag" not in rows[-1]
    for row in rows:  # never between \left and its \right
        assert row.count("\\left(") == row.count("\\right)"), row
    joined = "".join(re.sub(r"^&(\\qquad )?|\\notag$|\\label\{eq:s\}$", "", row) for row in rows)
    assert joined.replace(" ", "") == body.replace(" ", "")


def test_a_long_formula_without_break_points_is_still_fitted():
    from bookgen.transforms.display_math import LONG_FORMULA, fit_to_line

    body = "\\left(" + "x" * (LONG_FORMULA + 10) + "+ y\\right)"
    fixed, notes = fit_to_line(f"\\begin{{equation*}}{body}\\end{{equation*}}")
    assert fixed == f"\\begin{{equation*}}\\bookgenfit{{{body}}}\\end{{equation*}}" and notes == []


def test_removing_a_line_s_only_content_leaves_no_blank_line():
    """tex.splice (every pass's removals): a blank line in math is a \\par, an error to TeX."""
    from bookgen.transforms import tex

    source = "x +\n  \\label{eq:x}  \ny"
    start = source.index("\\label")
    assert tex.apply_edits(source, [tex.splice(source, start, start + len("\\label{eq:x}"))]) == "x +\n  y"
    inline = "a\\label{eq:a}\nb"  # not alone on its line: the line break stays
    assert tex.apply_edits(inline, [tex.splice(inline, 1, 1 + len("\\label{eq:a}"))]) == "a\nb"
    post = read_post_text("4242.md", "设$x +\n\\label{eq:x}\ny$，见$\\eqref{eq:x}$。\n")
    book = labels.PASS.apply(book_of_posts([post]), context())
    math = [n for n in book.chapters[0].post.blocks[0].children if isinstance(n, m.Math)]
    assert math[0].tex == "x +\ny"


def test_array_columns_are_counted_without_their_decorations():
    """display-math: ``>{\\displaystyle}``, ``@{\\qquad}`` say how a column looks, not that there is one more."""
    from bookgen.transforms.display_math import fix_array_columns

    spec = r"@{}>{\displaystyle}r@{}>{\displaystyle{}}l@{}"
    source = f"\\begin{{array}}{{{spec}}}a&=b&c\\\\ d&=e\\end{{array}}"
    fixed, notes = fix_array_columns(source)
    assert fixed == source.replace(spec, spec + "c") and notes == [f"array spec {{{spec}}} → {{{spec}c}} (3 cells in a row)"]
    assert fix_array_columns(r"\begin{array}{c:c|w{l}{2cm}}a&b&c\end{array}")[1] == []
