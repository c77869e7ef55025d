"""The normalizer passes one at a time, case by case: tests/cases/<pass>.txt.

Each case file belongs to one pass (``FILES`` below) and holds cases written
like markdown-it-py's fixtures::

    a title line [options]
    the input
    .
    the expected output
    .
    the expected report lines, one per line (none: the blank line follows at once)
    <blank line>

A title starting with ``display:`` or ``inline:`` is a *math case*: the input
is the TeX of one display or inline formula (as the reader gives it, without
``$$``), the output is its TeX after the pass, followed by

* ``+ <tex>`` for each inline node the pass put after the formula (the labels
  pass adds a numbered anchor after inline math with a ``\\label``),
* ``macro: <definition>`` for each macro the pass gave the post.

Any other title is a *post case*: the input is a whole post in Markdown, or
several posts of one volume, each starting with a line ``<<< NAME.md`` (the
archive id comes from the name; default ``4242.md``).  The output is the LaTeX
the writer renders for each post (``render_post_body``) without its ``%@ line``
marks and blank lines, preceded by ``<<< NAME.md`` when there are several
posts, then ``macro:`` lines as above and, for the images pass,
``copy: <file in the build> ← <file in the image folder>``.

Report lines are ``[pass] message`` or ``[pass] warning: message``, in the
order reported; in post cases they start with the post line: ``5: [labels] …``
(and ``90002.md:5: …`` when the volume has several posts).  Only the reports
of the pass under test are listed.

Options, in brackets at the end of the title:

* ``[html2text]`` — the post comes from the html2text mirror (math-cleanup
  repairs that mirror's artifacts only);
* ``[after=display-math]`` — run these passes (comma-separated) first, as the
  pipeline does, to give the input the shape the pass relies on (labels expects
  displays already made amsmath environments by display-math); their reports
  are not listed;
* ``[images=a/b.png c.svg]`` — files (space-separated, relative) created in the
  image folder before the pass runs.  The folder is ``<tmp>/site/images``, and
  ``<tmp>/etc/passwd`` and ``<tmp>/site/etc/passwd`` exist too, so a path that
  climbs out of the folder has something to find.

Invisible characters (trailing spaces, tabs) are written ``⟨U+0020⟩`` in inputs
and outputs.  ``pytest tests/test_passes.py --update-golden`` rewrites the
expected parts from the current output (review the diff!).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from bookgen import model as m
from bookgen.diagnostics import Reporter
from bookgen.latex.writer import LINE_MARK, render_post_body
from bookgen.readers.markdown import read_markdown
from bookgen.sources import archive_id_of
from bookgen.figures import figures_to_install
from bookgen.transforms import PASSES
from fixtures import context as make_context
from fixtures import decode, read_fixture, write_fixture

CASES_DIR = Path(__file__).resolve().parent / "cases"
FILES = {
    "math_cleanup.txt": "math-cleanup",
    "mathjax_macros.txt": "mathjax-macros",
    "mathjax_extensions.txt": "mathjax-extensions",
    "mathjax_alignments.txt": "mathjax-alignments",
    "scripts.txt": "scripts",
    "display_math.txt": "display-math",
    "labels.txt": "labels",
    "links.txt": "links",
    "headings.txt": "headings",
    "images.txt": "images",
}
OPTIONS = re.compile(r"\s*\[(html2text|after=[^\]]*|images=[^\]]*)\]\s*$")
POST_HEADER = re.compile(r"^<<< (\S+\.md)\s*$")
DEFAULT_POST = "4242.md"
MATH_LINE = 3
REPORT_LINE = re.compile(r"^(?:(?:\S+\.md:)?\d+: )?\[[a-z-]+\] ")
MARK = re.compile("^" + re.escape(LINE_MARK).replace(r"\{\}", r"\d+") + "$")


def encode(text: str) -> str:
    """Trailing blanks and control characters made visible (editors strip the former)."""

    def line(text_line: str) -> str:
        body = text_line.rstrip(" \t")
        tail = "".join(f"⟨U+{ord(c):04X}⟩" for c in text_line[len(body) :])
        body = "".join(f"⟨U+{ord(c):04X}⟩" if ord(c) < 32 or ord(c) == 127 else c for c in body)
        return body + tail

    return "\n".join(line(part) for part in text.split("\n"))


# ---------------------------------------------------------------- the fixture format


@dataclass
class Case:
    file: Path
    line: int
    title: str
    source: str
    expected: str
    reports: list[str]

    @property
    def pass_name(self) -> str:
        return FILES[self.file.name]

    @property
    def options(self) -> dict[str, str]:
        found: dict[str, str] = {}
        title = self.title
        while match := OPTIONS.search(title):
            key, _, value = match.group(1).partition("=")
            found[key] = value
            title = title[: match.start()]
        return found

    @property
    def name(self) -> str:
        title = self.title
        while match := OPTIONS.search(title):
            title = title[: match.start()]
        return title.strip()

    @property
    def kind(self) -> str:
        head = self.name.split(":", 1)[0]
        return head if head in ("display", "inline") else "post"

    @property
    def id(self) -> str:
        return f"{self.file.stem}:{self.line}:{self.name}"


def read_cases(file: Path) -> list[Case]:
    return [
        Case(file, c.line, c.title, "\n".join(c.parts[0]), "\n".join(c.parts[1]), c.reports)
        for c in read_fixture(file, parts=2, report_line=REPORT_LINE)
    ]


def write_cases(file: Path, actual: dict[str, tuple[str, list[str]]]) -> None:
    cases = []
    for case in read_cases(file):
        expected, reports = actual.get(case.title, (case.expected, case.reports))
        cases.append((case.title, [case.source.split("\n"), expected.split("\n")], reports))
    write_fixture(file, cases)


def all_cases() -> list[Case]:
    cases: list[Case] = []
    for name in FILES:
        cases.extend(read_cases(CASES_DIR / name))
    return cases


# ---------------------------------------------------------------- running one case


def pass_functions(names: list[str]):
    table = {found.name: found for found in PASSES}
    return [(name, table[name].apply) for name in names]


def split_posts(source: str) -> list[tuple[str, str]]:
    """``<<< NAME.md`` headers → [(name, markdown)]; no header: one post named DEFAULT_POST."""
    posts: list[tuple[str, list[str]]] = []
    for line in source.split("\n"):
        header = POST_HEADER.match(line)
        if header:
            posts.append((header.group(1), []))
        elif not posts:
            posts.append((DEFAULT_POST, [line]))
        else:
            posts[-1][1].append(line)
    return [(name, "\n".join(lines) + "\n") for name, lines in posts]


def read_post_text(name: str, text: str, html2text: bool) -> m.Post:
    path = Path("posts") / name
    # The id from the file name only: a post's text links to other posts, and
    # archive_id_of takes the first archive URL it sees for the post's own.
    archive_id = archive_id_of(path, "")
    assert archive_id is not None, f"no archive id for {name}"
    post = read_markdown(text, path, archive_id)
    return m.Post(**{**post.__dict__, "mirror": "html2text" if html2text else post.mirror})


def book_of(posts: list[m.Post]) -> m.Book:
    return m.Book("cases", m.text("T"), (), m.text("A"), "a4paper", tuple(m.Chapter(p, m.text(p.title)) for p in posts))


def math_post(case: Case) -> m.Post:
    math = m.Math(decode(case.source), case.kind == "display", MATH_LINE)
    return m.Post(
        4242, "T", "", "https://spaces.ac.cn/archives/4242", Path("posts") / DEFAULT_POST,
        (m.Paragraph((math,), MATH_LINE),), mirror="html2text" if "html2text" in case.options else "",
    )  # fmt: skip


def make_image_folder(root: Path, files: list[str]) -> Path:
    images = root / "site" / "images"
    images.mkdir(parents=True, exist_ok=True)
    for outside in (root / "etc" / "passwd", root / "site" / "etc" / "passwd"):
        outside.parent.mkdir(parents=True, exist_ok=True)
        outside.write_text("root:x:0:0\n", encoding="utf-8")
    for relative in files:
        target = images / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"\x89PNG\r\n\x1a\n" + relative.encode("utf-8"))
    return images


def run_case(case: Case, tmp_path: Path) -> tuple[str, list[str]]:
    options = case.options
    image_dirs: tuple[Path, ...] = ()
    if "images" in options:
        image_dirs = (make_image_folder(tmp_path, options["images"].split()),)
    if case.kind == "post":
        named = split_posts(decode(case.source))
        posts = [read_post_text(name, text, "html2text" in options) for name, text in named]
    else:
        named, posts = [], [math_post(case)]
    book = book_of(posts)
    before = [p for p in options.get("after", "").split(",") if p.strip()]
    for _name, run in pass_functions([p.strip() for p in before]):
        book = run(book, make_context(image_dirs=image_dirs))
    context = make_context(image_dirs=image_dirs)
    reporter = context.reporter
    ((_name, run),) = pass_functions([case.pass_name])
    book = run(book, context)
    out_posts = [ch.post for ch in book.chapters]

    lines: list[str] = []
    if case.kind == "post":
        for (name, _text), post in zip(named, out_posts):
            if len(named) > 1:
                lines.append(f"<<< {name}")
            body = render_post_body(post)
            lines.extend(line for line in body.split("\n") if line.strip() and not MARK.match(line))
    else:
        (paragraph,) = out_posts[0].blocks
        first, *rest = paragraph.children
        assert isinstance(first, m.Math), paragraph.children
        lines.append(first.tex)
        for node in rest:
            lines.append("+ " + (node.tex if isinstance(node, (m.RawTex, m.Math)) else repr(node)))
    for post in out_posts:
        lines.extend(f"macro: {macro}" for macro in post.macros)
    for build_name, source in sorted(figures_to_install(book).items()):
        lines.append(f"copy: {build_name} ← {source.relative_to(image_dirs[0].resolve()).as_posix()}")

    several = len(out_posts) > 1
    reports = []
    for diag in reporter.items:
        tag = f"[{diag.pass_name}]" + (" warning:" if diag.severity == "warning" else "")
        where = ""
        if case.kind == "post":
            where = (f"{Path(diag.path).name}:" if several else "") + f"{diag.line}: "
        reports.append(f"{where}{tag} {diag.message}")
    return encode("\n".join(lines)), reports


# ---------------------------------------------------------------- the tests

CASES = all_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_pass_case(case: Case, tmp_path: Path, update_golden: bool):
    actual, reports = run_case(case, tmp_path)
    if update_golden:
        if (actual, reports) != (case.expected, case.reports):
            write_cases(case.file, {case.title: (actual, reports)})
        return
    where = f"{case.file.name}:{case.line}: {case.name}"
    assert actual == case.expected, where
    assert reports == case.reports, where


def test_every_pass_has_enough_cases():
    for name in FILES:
        mine = [c for c in CASES if c.file.name == name]
        assert 6 <= len(mine) <= 15, (name, len(mine))
        titles = [c.title for c in mine]
        assert len(set(titles)) == len(titles), f"{name}: case titles must be unique"
        assert any("left alone" in c.name for c in mine), f"{name}: no case of input the pass must leave alone"


def test_left_alone_means_unchanged_and_unreported():
    """A math case titled "… left alone" expects its input back and no report."""
    for case in CASES:
        if case.kind != "post" and "left alone" in case.name:
            assert case.expected == case.source and not case.reports, case.id


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
    (post,) = [read_post_text("4242.md", "设$x +\n\\label{eq:x}\ny$，见$\\eqref{eq:x}$。\n", False)]
    book = book_of([post])
    for _name, run in pass_functions(["labels"]):
        book = run(book, make_context())
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
