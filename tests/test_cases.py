"""Every case of tests/cases/*.txt, one test a case: the reader's and each normalizer pass's.

The format is tests/fixtures.py's (a title with options, the input, ``.``, the
expected output, ``.``, the expected report lines).  The file's name says what
its cases run:

* ``reader.txt`` — the Markdown reader.  The input is a post file (its name
  after ``<<< `` on a first line, default ``4242.md``; the archive id is found as
  the source index finds it), the output the model (``fixtures.dump_post``), the
  reports the reader's notes.  Line numbers are lines of the post file.
* ``<pass>.txt`` (``math_cleanup.txt`` for the math-cleanup pass) — one pass of
  ``transforms.PASSES``, run as a build runs it (with the fonts of bookgen's own
  preamble).  Only the reports of that pass are listed.  A case is either

  - a *math case*, titled ``… [display]`` or ``… [inline]``: the input is the TeX
    of one formula as the reader gives it (without ``$$``), the output its TeX
    after the pass, then ``+ <tex>`` for each node the pass put after it (labels
    adds an anchor after inline math with a ``\\label``) and ``macro: …`` for each
    macro the pass gave the post; or
  - a *post case*: the input is a post in Markdown, or several posts of one
    volume each after a line ``<<< NAME.md`` (the archive id is the name's); the
    output the LaTeX the writer renders for each post without its ``%@ line``
    marks and blank lines (after ``<<< NAME.md`` when there are several), then
    ``macro:`` lines and, for images, ``copy: <file in the build> ← <file found>``.
    Report lines start with the post's line (``90002.md:5: …`` for several posts).

Options of a pass case, besides ``[display]``/``[inline]``:

* ``[html2text]`` — the post comes from the html2text mirror (math-cleanup
  repairs that mirror's artifacts only);
* ``[after=display-math,labels]`` — run these passes first, as the pipeline does,
  to give the input the shape the pass relies on; their reports are not listed;
* ``[images=a/b.png c.svg]`` — files created in the image folder
  ``<tmp>/site/images`` before the pass runs (``<tmp>/etc/passwd`` and
  ``<tmp>/site/etc/passwd`` exist too, for paths that climb out of it);
* ``[traditional=s2tw]`` — the book is set in that OpenCC config;
* ``[phrases=程序=程式 数据]`` — the Traditional phrase table instead of
  templates/phrases.tsv: ``phrase=keep-as`` rewrites and plain pins, space
  separated; ``[phrases=]``: no table, OpenCC alone.

Beyond its expected output, a case of a repair (``transforms.REPAIRS``) must show
the repair done: run once more over its own output, the pass changes nothing and
repairs nothing (a warning may come again: what it warns of is still there).  And
a formula a pass leaves alone (the same TeX back, nothing reported) must be the
very same object: the pass did not rebuild what it did not change.

``pytest tests/test_cases.py --update-golden`` rewrites the expected parts and
reports from the current output (review the diff!); without it nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bookgen import model as m
from bookgen.diagnostics import Diagnostic
from bookgen.figures import figures_to_install
from bookgen.latex.writer import LINE_MARK, render_post_body
from bookgen.transforms import PASSES, REPAIRS, Pass
from fixtures import (
    CASES_DIR, MATH_LINE, Case, book_of, book_of_posts, case_files, check_case, context, decode, dump_post, encode,
    encode_line, format_cases, only_math, read_cases, read_post_file, read_post_text, split_posts,
)  # fmt: skip

PASS_BY_NAME = {found.name: found for found in PASSES}
READER = "reader"
KINDS = ("display", "inline")
PASS_OPTIONS = {*KINDS, "html2text", "after", "images", "traditional", "phrases"}
MARK = re.compile("^" + re.escape(LINE_MARK).replace(r"\{\}", r"\d+") + "$")


def stage_of(file: Path) -> str:
    """``math_cleanup.txt`` → ``math-cleanup``: the pass (or the reader) a case file is for."""
    return file.stem.replace("_", "-")


def kind_of(case: Case) -> str:
    return next((kind for kind in KINDS if kind in case.options), "post")


@dataclass
class Outcome:
    """What a case gave: its output and reports as a case file writes them, and for a pass, the books."""

    output: str
    reports: list[str]
    before: m.Book | None = None  # what the pass was given
    after: m.Book | None = None  # what it gave
    rerun: Callable[[], tuple[m.Book, list[Diagnostic]]] | None = None  # the pass once more over ``after``


# ---------------------------------------------------------------- the reader


def run_reader_case(case: Case) -> Outcome:
    ((name, text),) = split_posts(case.input)
    post = read_post_file(name, text)
    return Outcome(encode(dump_post(post)), [f"{line}: [reader] warning: {encode_line(note)}" for line, note in post.notes])


# ---------------------------------------------------------------- one pass


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


def write_phrases(root: Path, pins: str) -> Path:
    """``程序=程式 数据`` → a phrase table file: ``程序<TAB>程式`` and ``数据``."""
    table = root / "phrases.tsv"
    table.write_text("".join(pin.replace("=", "\t") + "\n" for pin in pins.split()), encoding="utf-8")
    return table


def pass_options(case: Case, tmp: Callable[[], Path]) -> dict:
    """The context's options the case's own options ask for."""
    options = case.options
    found: dict = {}
    if "images" in options:
        found["image_dirs"] = (make_image_folder(tmp(), options["images"].split()),)
    if "traditional" in options:
        found["traditional"] = options["traditional"]
    if "phrases" in options:
        found["phrases"] = write_phrases(tmp(), options["phrases"])
    return found


def input_book(case: Case) -> tuple[m.Book, list[str]]:
    """The book the case's input makes, and the names of its posts (none for a math case)."""
    html2text = "html2text" in case.options
    if kind_of(case) == "post":
        named = split_posts(case.input)
        return book_of_posts([read_post_text(name, text, html2text) for name, text in named]), [n for n, _ in named]
    math = m.Math(case.input, kind_of(case) == "display", MATH_LINE)
    return book_of(math, mirror="html2text" if html2text else ""), []


def located(diag: Diagnostic, posts: list[m.Post], math_line: int | None) -> str:
    """A report line: the post unless it is the only one, the line unless it is the formula's."""
    paths = [str(post.path) for post in posts]
    if diag.path not in paths:
        where = f"{diag.path}:{diag.line}: "
    elif len(paths) > 1:
        where = f"{Path(diag.path).name}:{diag.line}: "
    else:
        where = "" if diag.line == math_line else f"{diag.line}: "
    tag = f"[{diag.pass_name}]" + (" warning:" if diag.severity == "warning" else "")
    return f"{where}{tag} {encode_line(diag.message)}"


def output_lines(case: Case, book: m.Book, names: list[str], image_dirs: tuple[Path, ...]) -> list[str]:
    posts = [chapter.post for chapter in book.chapters]
    lines: list[str] = []
    if kind_of(case) == "post":
        for name, post in zip(names, posts):
            if len(names) > 1:
                lines.append(f"<<< {name}")
            body = render_post_body(post)
            lines.extend(line for line in body.split("\n") if line.strip() and not MARK.match(line))
    else:
        (paragraph,) = posts[0].blocks
        first, *rest = paragraph.children
        assert isinstance(first, m.Math), paragraph.children
        lines.append(first.tex)
        lines.extend("+ " + (node.tex if isinstance(node, (m.RawTex, m.Math)) else repr(node)) for node in rest)
    for post in posts:
        lines.extend(f"macro: {macro}" for macro in post.macros)
    for build_name, source in sorted(figures_to_install(book).items()):
        lines.append(f"copy: {build_name} ← {source.relative_to(image_dirs[0].resolve()).as_posix()}")
    return lines


def run_pass_case(case: Case, found: Pass, tmp: Callable[[], Path]) -> Outcome:
    options = pass_options(case, tmp)
    book, names = input_book(case)
    for name in filter(None, case.options.get("after", "").split(",")):
        book = PASS_BY_NAME[name.strip()].apply(book, context(**options))
    ctx = context(**options)
    out = found.apply(book, ctx)
    posts = [chapter.post for chapter in out.chapters]
    math_line = None if kind_of(case) == "post" else MATH_LINE
    lines = output_lines(case, out, names, options.get("image_dirs", ()))

    def rerun() -> tuple[m.Book, list[Diagnostic]]:
        again = context(**options)
        return found.apply(out, again), again.reporter.items

    reports = [located(d, posts, math_line) for d in ctx.reporter.items]
    return Outcome(encode("\n".join(lines)), reports, before=book, after=out, rerun=rerun)


def run_case(case: Case, tmp: Callable[[], Path]) -> Outcome:
    stage = stage_of(case.file)
    if stage == READER:
        return run_reader_case(case)
    return run_pass_case(case, PASS_BY_NAME[stage], tmp)


# ---------------------------------------------------------------- the cases

CASES = [case for file in case_files() for case in read_cases(file)]
REPAIR_NAMES = {found.name for found in REPAIRS}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case, request, update_golden: bool):
    """The expected output and reports; a repair done once is done; a formula left alone is not rebuilt."""
    outcome = run_case(case, lambda: request.getfixturevalue("tmp_path"))  # a folder only for cases with files
    check_case(case, outcome.output, outcome.reports, update_golden)
    if outcome.rerun is not None and stage_of(case.file) in REPAIR_NAMES:
        book, reports = outcome.rerun()
        repairs = [d for d in reports if d.severity == "repair"]  # a warning may stand: the problem does
        assert (book, repairs) == (outcome.after, []), f"{case.where}: run again, the pass repairs its own output"
    if kind_of(case) != "post" and decode(outcome.output) == case.input and not outcome.reports:
        assert only_math(outcome.after) is only_math(outcome.before), f"{case.where}: left alone, yet rebuilt"


# ---------------------------------------------------------------- the case files


def test_every_case_file_is_for_the_reader_or_a_pass():
    stages = {stage_of(file) for file in case_files()}
    assert sorted(stages - {READER, *PASS_BY_NAME}) == []


def test_every_repair_has_its_case_file():
    assert sorted(REPAIR_NAMES - {stage_of(file) for file in case_files()}) == []


def test_every_option_is_known():
    for case in CASES:
        options = case.options
        known = set() if stage_of(case.file) == READER else PASS_OPTIONS
        assert set(options) <= known, f"{case.where}: unknown option {sorted(set(options) - known)}"
        assert not set(KINDS) <= set(options), f"{case.where}: both [display] and [inline]"
        for name in filter(None, options.get("after", "").split(",")):
            assert name.strip() in PASS_BY_NAME, f"{case.where}: [after={name}] is no pass"


def test_every_repair_has_cases_it_repairs_and_one_it_leaves_alone():
    """A pass seen only repairing (or only leaving input alone) is half tested: both kinds, titled so."""
    for name in sorted(REPAIR_NAMES):
        mine = [case for case in CASES if stage_of(case.file) == name]
        assert any(case.reports for case in mine), f"{name}: no case of a repair"
        assert any("left alone" in case.name for case in mine), f"{name}: no case titled '… left alone'"


def test_left_alone_means_unchanged_and_unreported():
    """A case titled "… left alone" expects no report, and a math case its input back."""
    for case in CASES:
        if "left alone" in case.name and stage_of(case.file) in REPAIR_NAMES:
            assert not case.reports, case.where
            if kind_of(case) != "post":
                assert case.expected == case.source, case.where


def test_case_files_are_written_as_the_writer_writes_them():
    """So that --update-golden, which rewrites a whole file, changes nothing but the cases that changed."""
    for file in sorted(CASES_DIR.glob("*.txt")):
        assert format_cases(read_cases(file)) == file.read_text(encoding="utf-8"), file.name
