"""The Markdown reader, case by case: tests/cases/reader*.txt.

Each case is written like markdown-it-py's fixtures::

    a title line [file=NAME.md]
    the Markdown input (the whole post file)
    .
    the expected model, one line per block (see ``dump_post``)
    .

``[file=NAME]`` is optional (default ``12345.md``): the post is read as if it
were that file, and its archive id found with ``bookgen.sources.archive_id_of``
like the source index does.  Line numbers (``Paragraph@3``) are 1-based lines of
the input, i.e. of the post file.

The dump, one line per block, children indented by two spaces::

    Post id=12345 title='…' date='2024-03-01' mirror=html2text
    Heading2@5 anchor='问题设定': Text('问题设定')
    Paragraph@7: Text('设') Math(inline,'n') Text('个样本') Math(display@8,'\\begin{equation}…')
    List(ordered,start=3)@9:
      - Paragraph@9: Text('a')
    Quote@11:
      Paragraph@11: Text('…')
    CodeBlock(python)@13: 'print(1)⏎'
    Table@17 aligns='lc':
      head: [Text('a')] [Text('b')]
      row: [Text('1')] [Math(inline,'x')]
    Figure@20 src='/usr/uploads/x.png': Text('caption')
    Rule@22
    Footnote[1]:
      Paragraph@30: Text('…')

Strings are quoted with ``'…'`` and not escaped (TeX stays readable); a
newline inside a string is shown as ``⏎``.  Inline math shows its line only
when it differs from its block's; display math always does.

Run ``pytest tests/test_reader.py --update-golden`` to rewrite the expected
dumps of every case from the current reader (then review the diff!).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bookgen import model as m
from bookgen.readers.markdown import read_markdown
from bookgen.sources import HEAD_BYTES, archive_id_of
from fixtures import read_fixture, write_fixture

CASES_DIR = Path(__file__).resolve().parent / "cases"
FILE_OPTION = re.compile(r"\s*\[file=([^\]]+)\]\s*$")
DEFAULT_FILE = "12345.md"


# ---------------------------------------------------------------- the dump


def q(text: str) -> str:
    return "'" + text.replace("\n", "⏎") + "'"


def dump_inlines(nodes, line: int) -> str:
    return " ".join(dump_inline(n, line) for n in nodes)


def dump_inline(node, line: int) -> str:
    if isinstance(node, m.Math):
        if node.display:
            return f"Math(display@{node.line},{q(node.tex)})"
        where = f"@{node.line}" if node.line != line else ""
        return f"Math(inline{where},{q(node.tex)})"
    if type(node) is m.Text:
        return f"Text({q(node.text)})"
    if isinstance(node, m.Code):
        return f"Code({q(node.text)})"
    if isinstance(node, (m.Emph, m.Strong, m.Strike)):
        return f"{type(node).__name__}({dump_inlines(node.children, line)})"
    if isinstance(node, m.Link):
        return f"Link({q(node.url)}: {dump_inlines(node.children, line)})"
    if isinstance(node, m.ChapterRef):
        return f"ChapterRef({node.post_id}#{node.anchor or ''}: {dump_inlines(node.children, line)})"
    if isinstance(node, m.FootnoteRef):
        return f"FootnoteRef({q(node.label)})"
    if isinstance(node, m.LineBreak):
        return "LineBreak"
    if isinstance(node, m.RawTex):
        return f"RawTex({q(node.tex)})"
    # A reader-private helper that leaked into the model is a bug: make it visible.
    return f"?{type(node).__name__}({q(getattr(node, 'text', ''))})"


def with_inlines(head: str, nodes, line: int) -> str:
    return f"{head}: {dump_inlines(nodes, line)}" if nodes else head


def dump_blocks(blocks, indent: str = "") -> list[str]:
    out: list[str] = []
    for block in blocks:
        out.extend(dump_block(block, indent))
    return out


def dump_block(block, indent: str) -> list[str]:
    deeper = indent + "  "
    if isinstance(block, m.Heading):
        return [f"{indent}Heading{block.level}@{block.line} anchor={q(block.anchor)}: "
                f"{dump_inlines(block.children, block.line)}"]  # fmt: skip
    if isinstance(block, m.Paragraph):
        return [with_inlines(f"{indent}Paragraph@{block.line}", block.children, block.line)]
    if isinstance(block, m.CodeBlock):
        return [f"{indent}CodeBlock({block.language})@{block.line}: {q(block.text)}"]
    if isinstance(block, m.ListBlock):
        kind = f"ordered,start={block.start}" if block.ordered else "bullet"
        out = [f"{indent}List({kind})@{block.line}:"]
        for item in block.items:
            lines = dump_blocks(item, deeper + "  ") or [deeper + "  (empty)"]
            lines[0] = deeper + "- " + lines[0][len(deeper) + 2 :]
            out.extend(lines)
        return out
    if isinstance(block, m.Quote):
        return [f"{indent}Quote@{block.line}:"] + dump_blocks(block.children, deeper)
    if isinstance(block, m.Table):
        out = [f"{indent}Table@{block.line} aligns={q(''.join(block.aligns))}:"]

        def cells(row) -> str:
            return " ".join(f"[{dump_inlines(cell, block.line)}]" for cell in row)

        if block.header:
            out.append(f"{deeper}head: {cells(block.header)}")
        out.extend(f"{deeper}row: {cells(row)}" for row in block.rows)
        return out
    if isinstance(block, m.Figure):
        local = f" local={q(block.local_file)}" if block.local_file else ""
        return [with_inlines(f"{indent}Figure@{block.line} src={q(block.src)}{local}", block.caption, block.line)]
    if isinstance(block, m.Rule):
        return [f"{indent}Rule@{block.line}"]
    return [f"{indent}?{type(block).__name__}"]


def dump_post(post: m.Post) -> str:
    head = f"Post id={post.id} title={q(post.title)} date={q(post.date)}"
    if post.mirror:
        head += f" mirror={post.mirror}"
    lines = [head] + dump_blocks(post.blocks)
    for label, blocks in post.footnotes:
        lines.append(f"Footnote[{label}]:")
        lines.extend(dump_blocks(blocks, "  "))
    return "\n".join(lines)


def read_text(text: str, file_name: str = DEFAULT_FILE) -> m.Post:
    path = Path("/posts") / file_name
    archive_id = archive_id_of(path, text.encode("utf-8")[:HEAD_BYTES].decode("utf-8", "replace"))
    assert archive_id is not None, f"no archive id for {file_name}"
    return read_markdown(text, path, archive_id)


# ---------------------------------------------------------------- the fixture format


class Case:
    def __init__(self, file: Path, line: int, title: str, source: str, expected: str):
        self.file, self.line, self.title, self.source, self.expected = file, line, title, source, expected
        match = FILE_OPTION.search(title)
        self.file_name = match.group(1).strip() if match else DEFAULT_FILE
        self.name = FILE_OPTION.sub("", title).strip()

    @property
    def id(self) -> str:
        return f"{self.file.stem}:{self.line}:{self.name}"


def read_cases(file: Path) -> list[Case]:
    """Parse a fixture file: title, input, `.`, expected, `.`, separated by blank lines."""
    return [
        Case(file, c.line, c.title, "\n".join(c.parts[0]) + "\n", "\n".join(c.parts[1]))
        for c in read_fixture(file, parts=2)
    ]


def all_cases() -> list[Case]:
    cases: list[Case] = []
    for file in sorted(CASES_DIR.glob("reader*.txt")):
        cases.extend(read_cases(file))
    return cases


def write_cases(file: Path, actual: dict[str, str]) -> None:
    """Rewrite the expected part of the cases of ``file`` named in ``actual`` (by title); keep the others."""
    cases = [
        (case.title, [case.source.rstrip("\n").split("\n"), actual.get(case.title, case.expected).split("\n")], [])
        for case in read_cases(file)
    ]
    write_fixture(file, cases)


CASES = all_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_reader_case(case: Case, update_golden: bool):
    actual = dump_post(read_text(case.source, case.file_name))
    if update_golden:
        if actual != case.expected:
            write_cases(case.file, {case.title: actual})
        return
    assert actual == case.expected, f"{case.file.name}:{case.line}: {case.name}"


def test_cases_exist():
    assert len(CASES) >= 30
    for file in {c.file for c in CASES}:
        titles = [c.title for c in CASES if c.file == file]
        assert len(set(titles)) == len(titles), f"{file.name}: case titles must be unique"


# ---------------------------------------------------------------- properties the cases alone don't pin down


def test_block_lines_point_at_their_source_lines():
    """Every block's line is a line of the file holding that block's first text."""
    checked = 0
    for case in read_cases(CASES_DIR / "reader.txt"):
        post = read_text(case.source, case.file_name)
        lines = case.source.split("\n")
        for block in post.blocks:
            if isinstance(block, m.Paragraph) and block.children and type(block.children[0]) is m.Text:
                first = block.children[0].text.split("\n")[0].strip()
                if first and len(first) >= 2:
                    assert first[:2] in lines[block.line - 1], (case.id, block.line, first)
                    checked += 1
    assert checked > 20


def test_archive_id_sources():
    head = "---\ntitle: x\nurl: https://spaces.ac.cn/archives/10366\n---\n"
    assert archive_id_of(Path("低秩近似之路.md"), head) == 10366
    assert archive_id_of(Path("x.md"), "---\nid: 42\n---\n") == 42
    mirror = "# t\n\n**原文链接**: [https://spaces.ac.cn/archives/9119](https://spaces.ac.cn/archives/9119)\n"
    assert archive_id_of(Path("生成扩散模型漫谈.md"), mirror) == 9119
    assert archive_id_of(Path("kexue.md"), "see https://kexue.fm/archives/7777 here") == 7777
    assert archive_id_of(Path("10407-低秩近似之路二.md"), "no id here") == 10407
    assert archive_id_of(Path("10407.md"), "") == 10407
    assert archive_id_of(Path("notes.md"), "no id here") is None
    # The front matter wins over the file name.
    assert archive_id_of(Path("111.md"), "---\nid: 222\n---\n") == 222


def test_crlf_line_endings_read_like_lf():
    case = next(c for c in read_cases(CASES_DIR / "reader.txt") if c.file_name == "90003.md")
    crlf = case.source.replace("\n", "\r\n")
    assert dump_post(read_text(crlf, case.file_name)) == dump_post(read_text(case.source, case.file_name))


def test_reader_leaves_no_private_helpers_in_the_model():
    """No reader-internal node (``?Name`` in a dump) survives in any case's model."""
    leaked = [c.id for c in CASES if "?" in re.sub(r"'[^']*'", "", dump_post(read_text(c.source, c.file_name)))]
    assert not leaked
