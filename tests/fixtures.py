"""The case files of tests/cases/: one reader and one writer for the format they share.

A case is a title line, then its parts, each closed by a line holding only ``.``;
in some files report lines follow, up to a blank line.  Blank lines separate
cases.  The test modules give the parts their meaning (input, expected output,
expected reports) and rewrite the expected parts with ``--update-golden``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bookgen import model as m
from bookgen.diagnostics import Reporter
from bookgen.latex.templating import builtin_chooser
from bookgen.transforms import Context, Pass

POST_PATH = Path("posts/4242.md")
MATH_LINE = 7
CODEPOINT = re.compile(r"⟨U\+([0-9A-F]{4,6})⟩")


def decode(text: str) -> str:
    """``⟨U+0007⟩`` in a case file → the character (invisible ones cannot be written plainly)."""
    return CODEPOINT.sub(lambda found: chr(int(found.group(1), 16)), text)


@dataclass
class RawCase:
    line: int  # of the title, 1-based
    title: str
    parts: list[list[str]]  # the lines of each dot-closed part
    reports: list[str]  # the lines after the last part, up to a blank line


def read_fixture(file: Path, parts: int, report_line: re.Pattern | None = None) -> list[RawCase]:
    """The cases of ``file``, each of ``parts`` dot-closed parts (then reports, when ``report_line`` is given)."""
    lines = file.read_text(encoding="utf-8").split("\n")
    cases: list[RawCase] = []
    index = 0
    while index < len(lines):
        if not lines[index].strip():
            index += 1
            continue
        title_line, title = index + 1, lines[index]
        index += 1
        found: list[list[str]] = [[] for _ in range(parts)]
        for part in found:
            while index < len(lines) and lines[index] != ".":
                part.append(lines[index])
                index += 1
            if index >= len(lines):
                raise ValueError(f"{file}:{title_line}: case {title!r} is not closed by {parts} '.' lines")
            index += 1
        reports: list[str] = []
        while report_line is not None and index < len(lines) and lines[index].strip():
            if not report_line.match(lines[index]):
                raise ValueError(f"{file}:{index + 1}: not a report line (a blank line must end case {title!r})")
            reports.append(lines[index])
            index += 1
        cases.append(RawCase(title_line, title, found, reports))
    return cases


def write_fixture(file: Path, cases: list[tuple[str, list[list[str]], list[str]]]) -> None:
    """Write ``(title, parts, reports)`` cases; each part is a list of lines, closed by ``.``."""
    out: list[str] = []
    for title, parts, reports in cases:
        out.append(title)
        for part in parts:
            out.extend([*part, "."])
        out.extend([*reports, ""])
    file.write_text("\n".join(out), encoding="utf-8")


@dataclass
class MathCase:
    """A case of the three-part files (input, expected output, expected reports) of single passes."""

    line: int
    title: str
    source: str
    expected: str
    reports: list[str]

    @property
    def id(self) -> str:
        return f"{self.line}:{self.title}"


def read_math_cases(file: Path) -> list[MathCase]:
    return [
        MathCase(c.line, c.title, "\n".join(c.parts[0]), "\n".join(c.parts[1]), c.parts[2])
        for c in read_fixture(file, parts=3)
    ]


def write_math_cases(file: Path, actual: dict[str, tuple[str, list[str]]]) -> None:
    """Rewrite the expected output and reports of the cases named in ``actual`` (by title); keep the others."""
    cases = []
    for case in read_math_cases(file):
        expected, reports = actual.get(case.title, (case.expected, case.reports))
        cases.append((case.title, [case.source.split("\n"), expected.split("\n"), reports], []))
    write_fixture(file, cases)



def check_math_case(file: Path, case: MathCase, actual: str, reports: list[str], update_golden: bool) -> None:
    """Assert ``case`` gets ``actual`` and ``reports``; with ``--update-golden``, rewrite the case instead."""
    if update_golden:
        if (actual, reports) != (case.expected, case.reports):
            write_math_cases(file, {case.title: (actual, reports)})
        return
    where = f"{file.name}:{case.line}: {case.title}"
    assert actual == case.expected, where
    assert reports == case.reports, where


def check_case_titles(cases: list[MathCase], at_least: int) -> None:
    assert len(cases) >= at_least
    titles = [c.title for c in cases]
    assert len(set(titles)) == len(titles), "case titles must be unique"


# ---------------------------------------------------------------- a book of one post


def book_of(*inlines: m.Inline, blocks: tuple | None = None, footnotes: tuple = (), macros: tuple = ()) -> m.Book:
    """A one-chapter book whose post 4242 holds ``blocks`` (default: one paragraph of ``inlines``)."""
    if blocks is None:
        blocks = (m.Paragraph(tuple(inlines), MATH_LINE),)
    post = m.Post(4242, "T", "", "https://spaces.ac.cn/archives/4242", POST_PATH, blocks, footnotes, macros)
    return m.Book("h", m.text("T"), (), m.text("A"), "a4paper", (m.Chapter(post, m.text("T")),))


def context(**options) -> Context:
    """A context as a build makes one: a fresh reporter, and the fonts of bookgen's own preamble."""
    return Context(reporter=Reporter(), glyphs=builtin_chooser(options.pop("traditional", None)), **options)


def run_pass(found: Pass, book: m.Book, **options) -> tuple[m.Book, Reporter]:
    """``book`` through one pass (``module.PASS``), and what it reported."""
    ctx = context(**options)
    return found.apply(book, ctx), ctx.reporter


def only_math(book: m.Book) -> m.Math:
    (paragraph,) = book.chapters[0].post.blocks
    (math,) = paragraph.children
    return math


def rendered(reporter: Reporter) -> list[str]:
    return [("warning: " if d.severity == "warning" else "") + d.message for d in reporter.items]
