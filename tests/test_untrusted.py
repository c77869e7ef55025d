"""The ``untrusted-tex`` pass (tests/cases/untrusted_tex.txt) and the ``balance`` pass.

Fixture format, one case after another, separated by blank lines::

    title
    the TeX of one Math (one or more lines)
    .
    the TeX after the pass
    .
    one expected report message per line (none: nothing is reported)
    .

Control characters are written ``⟨U+0007⟩``.  ``--update-golden`` rewrites the
expected parts from the current output.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookgen import model as m
from bookgen.transforms import balance, untrusted_tex
from bookgen.transforms.balance import MAX_LINE, balance_math
from bookgen.transforms.untrusted_tex import neutralise
from fixtures import MATH_LINE, MathCase, POST_PATH, book_of, check_case_titles, check_math_case, decode, only_math, read_math_cases, run_pass

CASES_FILE = Path(__file__).resolve().parent / "cases" / "untrusted_tex.txt"


def encode(text: str) -> str:
    return "".join(
        f"⟨U+{ord(c):04X}⟩" if (ord(c) < 32 and c not in "\n\t") or ord(c) == 127 else c for c in text
    )


CASES = read_math_cases(CASES_FILE)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_untrusted_case(case: MathCase, update_golden: bool):
    book, reporter = run_pass(untrusted_tex.PASS, book_of(m.Math(decode(case.source), True, MATH_LINE)))
    actual = encode(only_math(book).tex)
    reports = [d.message for d in reporter.items]
    assert all(d.pass_name == "untrusted-tex" and d.line == MATH_LINE for d in reporter.items)
    assert all(d.path == str(POST_PATH) and d.severity == "repair" for d in reporter.items)
    check_math_case(CASES_FILE, case, actual, reports, update_golden)


def test_cases_exist():
    check_case_titles(CASES, at_least=60)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_untrusted_is_a_fixed_point(case: MathCase):
    once, _ = neutralise(decode(case.source))
    twice, messages = neutralise(once)
    assert (twice, messages) == (once, [])


def test_unchanged_math_is_the_same_object():
    math = m.Math(r"\frac{a}{b}", False, MATH_LINE)
    book, reporter = run_pass(untrusted_tex.PASS, book_of(math))
    assert only_math(book) is math
    assert reporter.items == []


def test_math_everywhere_in_a_post_is_cleaned():
    def evil(line: int) -> m.Math:
        return m.Math(r"\input{/etc/passwd}", False, line)

    blocks = (
        m.Heading(2, (m.Text("h "), evil(1)), 1, "h"),
        m.Paragraph((m.Emph((m.Strong((evil(2),)),)), m.Link("https://x", (evil(3),))), 2),
        m.ListBlock(False, 1, ((m.Paragraph((evil(4),), 4),),), 4),
        m.Quote((m.Paragraph((evil(5),), 5),), 5),
        m.Table(((evil(6),),), (((evil(7),),),), ("l",), 6),
        m.Figure("/usr/uploads/x.png", (evil(8),), 8),
    )
    footnotes = (("1", (m.Paragraph((evil(9),), 9),)),)
    book, reporter = run_pass(untrusted_tex.PASS, book_of(blocks=blocks, footnotes=footnotes))
    from bookgen.transforms.walk import iter_math

    maths = iter_math(book.chapters[0].post)
    assert len(maths) == 9
    assert all(math.tex == r"{\bookgenunknown{input}}{/etc/passwd}" for math in maths)
    assert sorted(d.line for d in reporter.items) == list(range(1, 10))


# ---------------------------------------------------------------- properties

DENIED_SAMPLE = [
    r"\input", r"\write", r"\immediate", r"\catcode", r"\csname", r"\def", r"\let", r"\begin{document}",
    r"\end{document}", r"\begin{input}", r"\end{input}", r"\makeatletter", r"\@input", r"\special", r"\loop",
    r"\iffalse", r"\fi", r"\endgroup", r"\openout", r"\read", "^^5c", "^^", r"\^^", r"\href{run:x}",
]  # fmt: skip
HARMLESS = [r"\frac", r"\alpha", "{", "}", "\\\\", "\\", "^", "_", "a", " ", "\n", "x", r"\text{", "input", "@", "$"]
TOKEN = re.compile(r"\\(?:[A-Za-z@]+|[\s\S])?|\^\^")


def dangerous_tokens(tex: str) -> list[str]:
    """Control sequences and ``^^`` TeX would read in ``tex`` that the pass must not leave."""
    found = []
    for match in TOKEN.finditer(tex):
        token = match.group(0)
        if token == "^^":
            found.append(token)
        elif untrusted_tex.is_denied(token[1:]):
            found.append(token)
        elif token in (r"\begin", r"\end"):
            env = re.match(r"\s*\{\s*(document|input|filecontents)\s*\}", tex[match.end() :])
            if env:
                found.append(token + env.group(0))
    return found


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(DENIED_SAMPLE + HARMLESS), max_size=30))
def test_no_dangerous_token_survives(pieces):
    tex = "".join(pieces)
    result, messages = neutralise(tex)
    assert dangerous_tokens(result) == [], (tex, result)
    if dangerous_tokens(tex):
        assert messages
    assert neutralise(result) == (result, [])


# ---------------------------------------------------------------- balance

BALANCE_CASES = [
    # (input, output, messages)
    (r"\frac{a}{b}", r"\frac{a}{b}", []),
    (r"\frac{a}{", r"\frac{a}{}", ["added missing }"]),
    (r"\frac{a}", r"\frac{a}{}", [r"added missing argument to \frac"]),
    ("a}b", "ab", ["removed unmatched }"]),
    (r"\{ a \} \\ b", r"\{ a \} \\ b", []),
    (r"\end{equation} x", " x", [r"removed \end{equation} without \begin"]),
    (r"\begin{aligned} a & b", r"\begin{aligned} a & b\end{aligned}", [r"closed \begin{aligned}"]),
    (r"\begin{array}{c} a \end{array}\end{array}", r"\begin{array}{c} a \end{array}",
     [r"removed \end{array} without \begin"]),
    (r"\begin{align*} a \end{align} b", r"\begin{align*} a  b\end{align*}",
     [r"removed \end{align} without \begin", r"closed \begin{align*}"]),
    (r"\left( x", r"\left( x\right.", [r"added \right. for \left("]),
    (r"x \right)", r"\left.x \right)", [r"added \left. for \right)"]),
    (r"\left\{ a \right.", r"\left\{ a \right.", []),
    (r"\left x \right)", r"\left. x \right)", [r"added . after \left"]),
    (r"\begin{array}{cc} \left( a & b \right) \end{array}",
     r"\begin{array}{cc} \left( a \right.&\left. b \right) \end{array}",
     [r"added \right. for \left(", r"added \left. for \right)"]),
    (r"\middle| a", "| a", [r"removed \middle outside \left…\right"]),
    ("a $ b", "a  b", ["removed $"]),
    ("$$a+b$$", "a+b", ["removed $$ $$ around the math"]),
    (r"\[ a \]", " a ", [r"removed \[ \] around the math"]),
    (r"a \[ b", "a [ b", [r"replaced \[ with ["]),
    (r"\text{if $x>0$}", r"\text{if $x>0$}", []),
    (r"\text{a $ b}", r"\text{a $ b$}", ["closed $ in text"]),
    (r"\text{x_1}", r"\text{x\_1}", ["escaped _ in text"]),
    (r"\$5 \# \%", r"\$5 \# \%", []),
    ("a # b", r"a \# b", ["escaped #"]),
    (r"\newcommand{\f}[1]{#1^2} \f{x}", r"\newcommand{\f}[1]{#1^2} \f{x}", []),
    (r"\newcommand{\row}{a & b}", r"\newcommand{\row}{a & b}", []),
    (r"\newcommand*\f[1]{#1} x#", r"\newcommand*\f[1]{#1} x\#", ["escaped #"]),
    (r"\newcommand{\f}[2][a]{#1#2} \g{#1}", r"\newcommand{\f}[2][a]{#1#2} \g{\#1}", ["escaped #"]),
    (r"{\newcommand{\f}{#1}} #1", r"{\newcommand{\f}{#1}} \#1", ["escaped #"]),
    (r"\newenvironment{e}{\left(#1}{\right)}", r"\newenvironment{e}{\left(#1}{\right)}", []),
    ("a & b", r"a \& b", ["escaped & outside an alignment"]),
    (r"\begin{cases} a & b \end{cases}", r"\begin{cases} a & b \end{cases}", []),
    ("a \\", "a ", ["removed trailing \\"]),
    ("a \\\\", "a \\\\", []),
    ("x^", "x^{}", ["added missing argument to ^"]),
    (r"\sqrt[3", r"\sqrt[3]{}", [r"closed the [optional argument] of \sqrt", r"added missing argument to \sqrt"]),
    (r"\sqrt[3]{x} \xrightarrow[a]{b} \frac12 \frac a b", r"\sqrt[3]{x} \xrightarrow[a]{b} \frac12 \frac a b", []),
    (r"\operatorname*{arg\,max}_x", r"\operatorname*{arg\,max}_x", []),
    ("x % a comment\ny", "x \ny", ["removed % comment"]),
    ("a\n\n b", "a\n b", ["removed blank line"]),
    (r"a \par b", "a  b", [r"removed \par"]),
    ("}}{{", "{{}}", ["removed unmatched } (x2)", "added missing } (x2)"]),
    (r"\big \Bigl( \bigr\} \bigg", r"\big. \Bigl( \bigr\} \bigg.", [r"added . after \big", r"added . after \bigg"]),
]  # fmt: skip


@pytest.mark.parametrize("source, expected, messages", BALANCE_CASES, ids=[c[0] for c in BALANCE_CASES])
def test_balance_case(source, expected, messages):
    assert balance_math(source) == (expected, messages)


def test_balance_too_deep_is_omitted():
    tex, messages = balance_math("{" * 5000 + "x" + "}" * 5000)
    assert tex == balance.OMITTED
    assert messages == [balance.OMITTED_MESSAGE]


def test_balance_breaks_long_lines():
    tex, messages = balance_math(" + ".join(["a"] * 10000))
    assert max(len(line) for line in tex.split("\n")) <= MAX_LINE + 10
    assert messages == [f"broke lines longer than {MAX_LINE} characters"]
    tex, _ = balance_math("a" * 30000)
    assert max(len(line) for line in tex.split("\n")) <= 2 * MAX_LINE


def test_balance_pass_reports():
    book, reporter = run_pass(balance.PASS, book_of(m.Math(r"\left( \frac{a}{", True, MATH_LINE)))
    assert only_math(book).tex == r"\left( \frac{a}{}\right."
    assert [(d.pass_name, d.line, d.message, d.severity) for d in reporter.items] == [
        ("balance", MATH_LINE, "added missing }", "repair"),
        ("balance", MATH_LINE, r"added \right. for \left(", "repair"),
    ]
    book, reporter = run_pass(balance.PASS, book_of(m.Math("{" * 500, True, MATH_LINE)))
    assert [d.severity for d in reporter.items] == ["warning"]


def structure_errors(tex: str) -> list[str]:
    """Independent check of what ``balance_math`` promises: braces, environments, \\left/\\right, $."""
    errors: list[str] = []
    stack: list[str] = []
    for match in re.finditer(r"\\(?:[A-Za-z@]+|[\s\S])?|[{}$]", tex):
        token = match.group(0)
        after = tex[match.end() :]
        if token == "{":
            stack.append("{")
        elif token == "}":
            if not stack or stack[-1] != "{":
                errors.append(f"unmatched }} at {match.start()}")
            else:
                stack.pop()
        elif token == "$":
            if not any(s.startswith("text") for s in stack):
                errors.append("$ in math")
        elif token in (r"\begin", r"\end"):
            name = re.match(r"\s*\{([^{}]*)\}", after)
            if not name:
                errors.append(f"{token} without a name")
            elif token == r"\begin":
                stack.append("env:" + name.group(1))
            elif not stack or stack[-1] != "env:" + name.group(1):
                errors.append(f"unmatched \\end{{{name.group(1)}}}")
            else:
                stack.pop()
        elif token == r"\left":
            stack.append("left")
        elif token == r"\right":
            if not stack or stack[-1] != "left":
                errors.append("unmatched \\right")
            else:
                stack.pop()
        elif token == "\\":
            errors.append("lone backslash")
    return errors + [f"unclosed {s}" for s in stack]


STRUCTURE = [
    "{", "}", r"\begin{aligned}", r"\end{aligned}", r"\begin{array}{c}", r"\end{array}", r"\left(", r"\right)",
    r"\left.", r"\right.", "$", "&", "\\\\", "\\", "a", " ", r"\frac", "^", "_", r"\{", r"\}", "#", "%", "\n",
    r"\middle|", r"\sqrt[", "]",
]  # fmt: skip


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(STRUCTURE), max_size=40))
def test_balance_always_balances(pieces):
    tex = "".join(pieces)
    result, _ = balance_math(tex)
    # \text{…} never appears in the pieces, so any $ left would be an error.
    assert structure_errors(result) == [], (tex, result)
    again, messages = balance_math(result)
    assert again == result and messages == [], (tex, result, again, messages)


def test_balance_is_registered_after_untrusted_tex():
    from bookgen.transforms import PASS_NAMES

    names = list(PASS_NAMES)
    assert names.index("balance") == names.index("untrusted-tex") + 1


INLINE_CASES = [
    ("a \\\\ b", "a b", ["removed \\\\ outside an alignment in inline math"]),
    ("a \\\\[2pt] b", "a  b", ["removed \\\\ outside an alignment in inline math"]),
    (r"\alpha\\beta", r"\alpha beta", ["removed \\\\ outside an alignment in inline math"]),
    (r"\begin{cases} a \\ b \end{cases}", r"\begin{cases} a \\ b \end{cases}", []),
    # Rows without cells (gathered, \displaylines) break in inline math too, and have no cells.
    (r"\begin{gathered} a \\ b \end{gathered}", r"\begin{gathered} a \\ b \end{gathered}", []),
    (r"\displaylines{a \\ b}", r"\displaylines{a \\ b}", []),
    (r"\displaylines{a & b}", r"\displaylines{a \& b}", ["escaped & outside an alignment"]),
    # An inline formula left empty stays empty: the writer prints nothing for it.
    ("", "", []),
    ("\\\\", "", ["removed \\\\ outside an alignment in inline math"]),
    (r"\end{array}", "", [r"removed \end{array} without \begin"]),
]  # fmt: skip


@pytest.mark.parametrize("source, expected, messages", INLINE_CASES, ids=[c[0] for c in INLINE_CASES])
def test_balance_inline_case(source, expected, messages):
    assert balance_math(source, display=False) == (expected, messages)


def test_balance_keeps_display_line_breaks_and_empty_displays():
    assert balance_math("a \\\\ b", display=True) == ("a \\\\ b", [])
    assert balance_math("", display=True) == ("", [])
