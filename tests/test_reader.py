"""The Markdown reader beyond its cases (tests/cases/reader.txt, run by tests/test_cases.py).

Its cases show the model a post file gives (``fixtures.dump_post``); here are
what they cannot pin down case by case: lines pointing at their source, CRLF
files, the archive id's sources, and no reader-private node left in any model.
"""

from __future__ import annotations

import re
from pathlib import Path

from bookgen import model as m
from bookgen.readers.markdown import read_markdown
from bookgen.sources import archive_id_of
from fixtures import CASES_DIR, dump_post, read_cases, read_post_file, split_posts


def reader_cases() -> list[tuple[str, str, str]]:
    """(case id, file name, text) of every case of tests/cases/reader.txt."""
    out = []
    for case in read_cases(CASES_DIR / "reader.txt"):
        ((name, text),) = split_posts(case.input)
        out.append((case.id, name, text))
    return out


# ---------------------------------------------------------------- properties the cases alone don't pin down


def test_block_lines_point_at_their_source_lines():
    """Every block's line is a line of the file holding that block's first text."""
    checked = 0
    for case_id, name, text in reader_cases():
        post = read_post_file(name, text)
        lines = text.split("\n")
        for block in post.blocks:
            if isinstance(block, m.Paragraph) and block.children and type(block.children[0]) is m.Text:
                first = block.children[0].text.split("\n")[0].strip()
                if first and len(first) >= 2:
                    assert first[:2] in lines[block.line - 1], (case_id, block.line, first)
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
    name, text = next((name, text) for _, name, text in reader_cases() if name == "90003.md")
    crlf = text.replace("\n", "\r\n")
    assert dump_post(read_post_file(name, crlf)) == dump_post(read_post_file(name, text))


def test_reader_leaves_no_private_helpers_in_the_model():
    """No reader-internal node (``?Name`` in a dump) survives in any case's model."""
    dumps = {case_id: dump_post(read_post_file(name, text)) for case_id, name, text in reader_cases()}
    leaked = [case_id for case_id, dump in dumps.items() if "?" in re.sub(r"'[^']*'", "", dump)]
    assert not leaked


def test_an_inline_footnote_is_read_with_its_text():
    """``^[…]`` (found by the reader's property test: its text has no source lines, and no label)."""
    post = read_markdown("正文^[脚注 $x$]。另一处[^0]\n\n[^0]: 有名字的\n", Path("p.md"), 1)
    refs = [node.label for node in post.blocks[0].children if isinstance(node, m.FootnoteRef)]
    notes = dict(post.footnotes)
    assert refs == ["^0", "0"] and set(notes) == {"^0", "0"}
    assert notes["^0"][0].children[1] == m.Math("x", False, 1)
    assert read_markdown("^[]", Path("p.md"), 1).footnotes == (("^0", ()),)
