"""The ``unknown-commands`` pass beyond its cases (tests/cases/unknown_commands.txt).

The post's own macros, known_macros.txt against the real preamble, properties, the corpus.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookgen import model as m
from bookgen.diagnostics import Reporter
from bookgen.transforms import Context, tex, unicode_math, unknown_commands
from bookgen.transforms.unknown_commands import KNOWN_FILE, defined_names, fix, is_known, known_macros, shown
from fixtures import MATH_LINE, book_of, only_math, rendered, run_pass


# ---------------------------------------------------------------- the post's own macros


def test_names_the_post_defines_are_known():
    macros = (r"\providecommand{\tr}{}\renewcommand{\tr}{\mathop{\text{tr}}}",)
    math = m.Math(r"\tr(A) + \sign(x)", False, MATH_LINE)
    book, reporter = run_pass(unknown_commands.PASS, book_of(math, macros=macros))
    assert only_math(book).tex == r"\tr(A) + {\bookgenunknown{sign}}(x)"
    assert rendered(reporter) == [r"warning: unknown command \sign (rendered visibly)"]


def test_unknown_command_in_a_macro_body_is_shown_where_the_macro_is_first_used():
    macros = (r"\providecommand{\sg}{}\renewcommand{\sg}[1]{\foo{#1}}",)
    blocks = (m.Paragraph((m.Math("x", False, 3),), 3), m.Paragraph((m.Math(r"\sg{y}", False, 5),), 5))
    book, reporter = run_pass(unknown_commands.PASS, book_of(blocks=blocks, macros=macros))
    assert book.chapters[0].post.macros == (r"\providecommand{\sg}{}\renewcommand{\sg}[1]{{\bookgenunknown{foo}}{#1}}",)
    assert [(d.line, d.severity) for d in reporter.items] == [(5, "warning")]
    assert r"\foo" in reporter.items[0].message


def test_defined_names():
    sources = [
        r"\providecommand{\a}{}\renewcommand{\a}[1]{#1}",
        r"\newcommand*{\b}{x}\DeclareMathOperator*{\c}{c}",
        r"\def\d#1{#1}\let\e=\relax \gdef\f{}",
    ]
    assert defined_names(sources) == {"a", "b", "c", "d", "e", "f"}


def test_shown_escapes_special_names():
    assert shown("foo") == r"{\bookgenunknown{foo}}"
    assert shown("%") == r"{\bookgenunknown{\%}}"
    assert shown("{") == r"{\bookgenunknown{\{}}"


# ---------------------------------------------------------------- known_macros.txt

MUST_KNOW = r"""
\alpha \frac \dfrac \sqrt \left \right \big \Bigg \mathrm \mathbf \mathit \mathsf \mathtt \mathcal \text \mbox
\operatorname \DeclareMathOperator \boldsymbol \bm \mathbb \mathfrak \mathscr \lesssim \gtrsim \varnothing
\coloneqq \eqqcolon \xrightarrow \xleftarrow \xlongequal \xLongrightarrow \cancel \bcancel \xcancel \cancelto
\color \textcolor \colorbox \href \url \boxed \tag \notag \nonumber \label \eqref \ref \intertext \substack
\overset \underset \stackrel \overbrace \underbrace \hdashline \hline \cline \begin \end \limits \nolimits
\displaystyle \scriptstyle \quad \qquad \hspace \vphantom \mathop \mathbin \mathrel \not \neq \top \dots
\cdots \ldots \vdots \ddots \iint \iiint \oint \triangleq \mid \Vert \lVert \rVert \lvert \rvert \langle
\rangle \bookgenunknown \bookgendangling \relax \, \; \: \! \> \{ \} \| \\ \% \# \& \_ \$
\ce \bra \ket \braket \Set \iddots \xtwoheadrightarrow \overparen \mathtip \toggle \scr \bookgencircle
"""
NOT_DEFINED = r"\style \class \cssId \bbox \require \unicode \gt \lt \tr \sign \diag \oiint \enclose \mmlToken".split()


def test_known_macros_has_what_the_preamble_defines():
    missing = [n for n in MUST_KNOW.split() if not is_known(n[1:])]
    assert missing == []
    assert is_known(" ")  # the control space


def test_known_macros_lacks_what_latex_does_not_define():
    assert [n for n in NOT_DEFINED if is_known(n[1:])] == []


def test_known_macros_file_format():
    text = KNOWN_FILE.read_text(encoding="utf-8")
    assert text.startswith("#") and "tools/make_known_macros.py" in text.split("\n\n")[0]
    for line in text.splitlines():
        assert not line or line.startswith("#") or re.fullmatch(r"\\(?:[A-Za-z]+|[^A-Za-z\s])", line), line
    assert len(known_macros()) > 1500


@pytest.mark.tex
def test_known_macros_match_the_preamble(tmp_path, tex_available):
    """A sample of the list, and of what it leaves out, checked with xelatex and the real preamble."""
    from bookgen.latex.language import language_for
    from bookgen.latex.templating import template_environment

    book = m.Book("k", m.text("t"), m.text("s"), m.text("a"), "a4paper", ())
    preamble = template_environment(()).get_template("preamble.tex.j2").render(
        book=book, language=language_for(None), extra_preamble=""
    )
    names = [n[1:] for n in MUST_KNOW.split() if n[1:].isalpha()] + [n[1:] for n in NOT_DEFINED]
    tests = "\n".join(
        f"\\ifcsname {n}\\endcsname\\typeout{{CS {n} yes}}\\else\\typeout{{CS {n} no}}\\fi" for n in names
    )
    document = preamble + "\n\\begin{document}\n" + tests + "\n\\end{document}\n"
    (tmp_path / "t.tex").write_text(document, encoding="utf-8")
    subprocess.run(
        ["xelatex", "-interaction=nonstopmode", "t.tex"], cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300,
    )  # fmt: skip
    log = (tmp_path / "t.log").read_text(encoding="utf-8", errors="replace")
    defined = dict(re.findall(r"^CS (\S+) (yes|no)$", log, re.M))
    assert len(defined) == len(set(names))
    assert {n: defined[n] == "yes" for n in names} == {n: is_known(n) for n in names}


# ---------------------------------------------------------------- properties

PIECES = [
    r"\sign", r"\alpha", r"\frac", r"\text{", r"\label{", r"\newcommand{\foo}{x}", r"\foo", r"\style{", r"\+",
    r"\<", "\\", "\\\\", "{", "}", "a", " ", "\n", "%", "#", "$", "^", "_", "&", "中", r"\中", r"\bookgenunknown{",
]  # fmt: skip


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=25))
def test_pieces_never_raise_and_are_idempotent(pieces):
    once, _ = fix("".join(pieces))
    assert fix(once) == (once, [])


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=40))
def test_arbitrary_text_never_raises_and_is_idempotent(source):
    once, _ = fix(source)
    assert fix(once)[0] == once


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=25))
def test_no_unknown_command_survives(pieces):
    once, _ = fix("".join(pieces))
    defined = defined_names([once])
    for node, parents in tex.walk(tex.parse(once)):
        if isinstance(node, tex.LatexMacroNode) and not unknown_commands._skipped(node, parents):
            assert is_known(node.macroname, defined), node.macroname


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=30), st.lists(st.sampled_from(PIECES), max_size=10))
def test_pass_is_idempotent_on_books(text, pieces):
    book, _ = run_pass(unknown_commands.PASS, book_of(m.Text(text), m.Math("".join(pieces), False, MATH_LINE), macros=("".join(pieces),)))
    again, _ = run_pass(unknown_commands.PASS, book)
    assert again == book


# ---------------------------------------------------------------- the corpus

# Commands MathJax knows and LaTeX does not (the mathjax-macros pass rewrites them), and
# html2text's escaped `+` (the math-cleanup pass removes it).
MATHJAX_ONLY_IN_CORPUS = {"require", "style", "class", "cssId", "bbox", "unicode", "gt", "lt", "+"}


@pytest.mark.corpus
def test_corpus_unknowns_are_really_unknown(corpus_dir):
    """Over the real posts, every command reported is MathJax-only or defined by the post for MathJax."""
    from bookgen.readers import read_post
    from bookgen.transforms.walk import iter_math

    paths = sorted(corpus_dir.glob("*.md"))
    posts = [read_post(p, int(p.stem)) if p.stem.isdigit() else read_post(p, 0) for p in paths]
    book = m.Book("c", m.text("t"), (), (), "a4paper", tuple(m.Chapter(p, m.text(p.title)) for p in posts))
    reporter = Reporter()
    context = Context(reporter=reporter)
    book = unknown_commands.PASS.apply(unicode_math.PASS.apply(book, context), context)
    page_macros = {}
    for chapter in book.chapters:
        sources = [math.tex for math in iter_math(chapter.post)]
        # MathJax definitions hold for the whole page, and the blog often omits the backslash.
        names = defined_names(sources) | set(re.findall(r"\\newcommand\{\\?([A-Za-z]+)\}", "".join(sources)))
        page_macros[chapter.post.path.name] = names
    wrong = []
    for diag in reporter.items:
        if diag.pass_name != "unknown-commands":
            continue
        name = re.match(r"unknown command \\(\S+)", diag.message).group(1)
        if name not in MATHJAX_ONLY_IN_CORPUS and name not in page_macros[Path(diag.path).name]:
            wrong.append(f"{diag.path}:{diag.line}: \\{name}")
    assert wrong == []
    # The corpus is fixed: this many posts have a command only MathJax or the post itself defines.
    assert len({d.path for d in reporter.items if d.pass_name == "unknown-commands"}) >= 10
