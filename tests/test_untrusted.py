"""The ``untrusted-tex`` and ``balance`` passes beyond their cases (tests/cases/untrusted_tex.txt, balance.txt).

Math everywhere in a post, and properties: no dangerous token survives, anything
is balanced; formulas too deep or too long for a case file.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookgen import model as m
from bookgen.transforms import balance, untrusted_tex
from bookgen.transforms.balance import MAX_LINE, balance_math
from bookgen.transforms.untrusted_tex import neutralise
from fixtures import MATH_LINE, book_of, only_math, run_pass


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
