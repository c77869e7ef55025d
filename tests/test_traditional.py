"""The Traditional Chinese pass beyond its cases: pinning, batching, the model, a property test, builds.

* tests/cases/traditional.txt (run by tests/test_cases.py): Simplified → expected
  Traditional per config and phrase table, in prose and in math's text arguments.
* A hypothesis property: for any post, math outside text-mode arguments, labels,
  references, URLs, code, raw TeX and image paths are the same after conversion.
* Corpus tests (skip without ../shared/corpus/md): s2tw/s2hk equal OpenCC's one-step
  configs; the default table removes s2twp's known over-conversions.
* TeX tests (``-m tex``; skip without xelatex): the demo volume builds in s2tw and
  s2hk, its PDF text is Traditional, and no glyph is missing.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookgen import model as m
from bookgen.diagnostics import Reporter
from bookgen.errors import UserError
from bookgen.transforms import Context
from bookgen.transforms import traditional as tr
from fixtures import CASES_DIR, REPO_DIR, corpus_path, read_cases

CORPUS = corpus_path()
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")


# ---------------------------------------------------------------- the cases


def test_the_cases_cover_every_config_and_a_user_table():
    options = [case.options for case in read_cases(CASES_DIR / "traditional.txt")]
    assert sorted({o["traditional"] for o in options}) == sorted(tr.CONFIGS)
    assert any(o.get("phrases") for o in options) and any(o.get("phrases") == "" for o in options)


# ---------------------------------------------------------------- the converter


def test_converter_for_is_cached_and_batches():
    convert = tr.converter_for("s2twp", None)
    assert tr.converter_for("s2twp", None) is convert
    texts = ["矩阵", "", "第一行\n第二行的参数", "程序\n\n支持", "ascii only"]
    assert convert.many(texts) == [convert(t) for t in texts]
    assert convert("第一行\n第二行的参数") == "第一行\n第二行的參數"


@given(st.lists(st.text(alphabet="矩阵参数函数程序数据内存支持后发干里面着 \n\tab$\\{}", max_size=12), max_size=8))
@settings(max_examples=60, deadline=None)
def test_batch_equals_one_by_one(texts):
    for config in tr.CONFIGS:
        convert = tr.converter_for(config, None)
        assert convert.many(texts) == [convert(t) for t in texts]


def test_deterministic_across_converters():
    text = "我们推导出了非线性能力的函数图像，在线性复杂度内，参数矩阵的变换支持程序。" * 3
    first = tr.Converter("s2twp", tr.read_phrases(tr.default_phrases()))
    second = tr.Converter("s2twp", dict(reversed(list(tr.read_phrases(tr.default_phrases()).items()))))
    assert first(text) == second(text) == first(text)


def test_opencc_config_names_accepted():
    import opencc

    assert opencc.OpenCC("s2tw").convert("软件") == opencc.OpenCC("s2tw.json").convert("软件") == "軟件"
    with pytest.raises(UserError):
        tr.Converter("t2s", {})


def test_phrase_file_changes_are_picked_up(tmp_path):
    table = tmp_path / "mine.tsv"
    table.write_text("程序\t程序\n", encoding="utf-8")
    assert tr.converter_for("s2twp", table)("程序和数据") == "程序和資料"
    table.write_text("程序\t程序\n数据\t数据\n# a comment\n\n", encoding="utf-8")
    os.utime(table, ns=(1, 2_000_000_000_000_000_000))
    assert tr.converter_for("s2twp", table)("程序和数据") == "程序和數據"


@pytest.mark.parametrize(
    "text,line,message",
    [
        ("程序\t程序\t多余\n", 1, "one tab"),
        ("# ok\n\t程序\n", 2, "one tab"),
        ("程序\t程序\n程序\t程式\n", 2, "pinned twice"),
    ],
)
def test_bad_phrase_file(tmp_path, text, line, message):
    table = tmp_path / "bad.tsv"
    table.write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as info:
        tr.converter_for("s2twp", table)
    assert info.value.line == line and message in info.value.message
    assert str(info.value).startswith(f"{table}:{line}: ")


def test_missing_phrase_file(tmp_path):
    with pytest.raises(UserError) as info:
        tr.converter_for("s2twp", tmp_path / "nope.tsv")
    assert "not found" in str(info.value)


def test_default_table_is_valid():
    import opencc

    table = tr.read_phrases(tr.default_phrases())
    pins = [k for k, v in table.items() if k == v]
    rewrites = {k: v for k, v in table.items() if k != v}
    assert len(pins) >= 20 and rewrites
    for phrase in ("函数", "参数", "程序", "支持", "局部", "映射", "导出"):
        assert phrase in pins
    s2t = opencc.OpenCC("s2t").convert
    for phrase, keep in rewrites.items():
        assert s2t(keep) == keep and len(keep) == len(phrase), (phrase, keep)  # written in standard Traditional


def test_rewrites_win_over_pins(tmp_path):
    table = tmp_path / "t.tsv"
    table.write_text("函数\n数里\t數裏\n", encoding="utf-8")
    assert tr.converter_for("s2twp", table)("函数里面的参数") == "函數裡面的引數"
    assert tr.converter_for("s2hk", table)("函数里面") == "函數裏面"


def test_fallback_without_generated_config(monkeypatch):
    """With OpenCC's dictionaries out of reach, the one-step configs still honour the pins."""
    real = tr._opencc

    def no_generated(name):
        if name.startswith("t2"):
            raise tr._Unavailable("test")
        return real(name)

    monkeypatch.setattr(tr, "_opencc", no_generated)
    convert = tr.Converter("s2twp", {"函数": "函数", "程序": "程式"})
    assert convert("损失函数的程序和数据") == "損失函數的程式和資料"
    assert tr.Converter("s2tw", {})("里面") == "裡面"


# ---------------------------------------------------------------- math


# ---------------------------------------------------------------- the pass on the model


def sample_book() -> m.Book:
    post = m.Post(
        id=90101,
        title="从矩阵说起",
        date="2024-03-01",
        url="https://spaces.ac.cn/archives/90101",
        path=Path("/posts/90101.md"),
        blocks=(
            m.Heading(2, (m.Text("参数估计"),), 3, anchor="参数估计"),
            m.Paragraph(
                (
                    m.Text("设矩阵"),
                    m.Math(r"\boldsymbol{X}\text{为数据}\label{eq:数据}", False, 5),
                    m.Strong((m.Text("后验"),)),
                    m.Code("变量 = 1"),
                    m.Link("https://example.com/变换", (m.Text("变换链接"),)),
                    m.Link("https://example.com/变换", (m.Text("https://example.com/变换"),)),
                    m.ChapterRef(90102, "参数估计", (m.Text("上一节"),)),
                    m.FootnoteRef("注释"),
                    m.RawTex(r"\bookgenchapref{post:90102}变换"),
                ),
                5,
            ),
            m.CodeBlock("# 这里是注释\nx = 1", "python", 7),
            m.ListBlock(False, 1, ((m.Paragraph((m.Text("第一项"),), 9),), (m.Paragraph((m.Text("第二项"),), 10),)), 9),
            m.Table(((m.Text("方法"),),), (((m.Text("梯度下降"),),),), ("l",), 12),
            m.Figure("/usr/uploads/图像.png", (m.Text("示意图"),), 14),
            m.Quote((m.Paragraph((m.Text("引用里面"),), 16),), 16),
        ),
        footnotes=(("注释", (m.Paragraph((m.Text("脚注内容"),), 20),)),),
    )
    return m.Book(
        key="t",
        title=m.text("低秩近似之路"),
        subtitle=m.text("系列文章"),
        author=m.text("苏剑林"),
        paper="a5paper",
        chapters=(m.Chapter(post=post, title=m.text("第一章：从矩阵说起")),),
    )


def test_run_converts_prose_and_keeps_the_rest():
    reporter = Reporter()
    book = tr.run(sample_book(), Context(reporter=reporter, traditional="s2tw"))
    post = book.chapters[0].post
    heading, paragraph, code, items, table, figure, quote = post.blocks
    assert (book.title, book.subtitle, book.author) == (m.text("低秩近似之路"), m.text("系列文章"), m.text("蘇劍林"))
    assert book.language == "s2tw"
    assert book.chapters[0].title == m.text("第一章：從矩陣說起") and post.title == "從矩陣說起"
    assert heading.children == (m.Text("參數估計"),) and heading.anchor == "参数估计"
    text, math, strong, code_inline, link, autolink, ref, footref, raw = paragraph.children
    assert text == m.Text("設矩陣")
    assert math.tex == r"\boldsymbol{X}\text{為數據}\label{eq:数据}"
    assert strong == m.Strong((m.Text("後驗"),))
    assert code_inline == m.Code("变量 = 1")
    assert link == m.Link("https://example.com/变换", (m.Text("變換鏈接"),))
    assert autolink == m.Link("https://example.com/变换", (m.Text("https://example.com/变换"),))
    assert ref == m.ChapterRef(90102, "参数估计", (m.Text("上一節"),))
    assert footref == m.FootnoteRef("注释")
    assert raw == m.RawTex(r"\bookgenchapref{post:90102}变换")
    assert code.text == "# 这里是注释\nx = 1"
    assert items.items[1][0].children == (m.Text("第二項"),)
    assert table.header == ((m.Text("方法"),),) and table.rows == (((m.Text("梯度下降"),),),)
    assert figure.src == "/usr/uploads/图像.png" and figure.caption == (m.Text("示意圖"),)
    assert quote.children[0].children == (m.Text("引用裡面"),)
    assert post.footnotes == (("注释", (m.Paragraph((m.Text("腳註內容"),), 20),)),)
    lines = [str(d) for d in reporter.items]
    assert lines == ["/posts/90101.md:1: [traditional] converted 13 text spans (s2tw)"]


def test_run_without_config_is_identity():
    book = sample_book()
    assert tr.run(book, Context(reporter=Reporter())) is book


# ---------------------------------------------------------------- property: nothing but prose changes

SIMPLIFIED = "这个矩阵参数变换函数程序数据内存支持后发干里面着说们为时线性复杂度"
PROSE = st.text(alphabet=SIMPLIFIED + "abc 123，。（）", min_size=0, max_size=12)
WORD = st.text(alphabet=SIMPLIFIED, min_size=1, max_size=4)
URL = st.builds(lambda a, b: f"https://example.com/{a}/{b}", WORD, WORD)
TEXT_MACRO = st.sampled_from(["text", "mbox", "textrm", "textbf", "textit", "textsf", "textup"])
MATH_PART = st.one_of(
    st.sampled_from([r"x^2", r"\frac{a}{b}", r"\alpha_i", "+", r"\sum_{k=1}^n"]),
    st.builds(lambda c, p: f"\\{c}{{{p}}}", TEXT_MACRO, WORD),
    st.builds(lambda c, a, w, b: f"\\{c}{{{a} ${w}+x$ {b}}}", TEXT_MACRO, WORD, WORD, WORD),
    st.builds(lambda w: f"\\label{{eq:{w}}}", WORD),
    st.builds(lambda w: f"\\eqref{{eq:{w}}}", WORD),
    st.builds(lambda w: f"\\operatorname{{{w}}}", WORD),
    st.builds(lambda w: f"\\texttt{{{w}}}", WORD),
    st.builds(lambda w: f"\\mathrm{{{w}}}", WORD),
    WORD,
)
MATH = st.builds(lambda parts, display: m.Math("".join(parts), display, 1), st.lists(MATH_PART, max_size=5), st.booleans())
INLINE = st.one_of(
    st.builds(m.Text, PROSE),
    st.builds(lambda a, u, b: m.Text(f"{a} {u} {b}"), PROSE, URL, PROSE),
    MATH,
    st.builds(m.Code, PROSE),
    st.builds(lambda u, t: m.Link(u, (m.Text(t),)), URL, PROSE),
    st.builds(lambda u: m.Link(u, (m.Text(u),)), URL),
    st.builds(m.RawTex, PROSE),
    st.builds(lambda t: m.Strong((m.Text(t),)), PROSE),
)
INLINES = st.lists(INLINE, max_size=6).map(tuple)
BLOCK = st.one_of(
    st.builds(lambda c: m.Paragraph(c, 1), INLINES),
    st.builds(lambda c, a: m.Heading(2, c, 1, anchor=a), INLINES, PROSE),
    st.builds(lambda t: m.CodeBlock(t, "python", 1), PROSE),
    st.builds(lambda s, c: m.Figure(f"/usr/uploads/{s}.png", c, 1), WORD, INLINES),
    st.builds(lambda c: m.ListBlock(False, 1, ((m.Paragraph(c, 1),),), 1), INLINES),
    st.builds(lambda h, r: m.Table((h,), ((r,),), ("l",), 1), INLINES, INLINES),
)
POSTS = st.builds(
    lambda title, blocks, note: m.Post(
        id=1, title=title, date="", url="", path=Path("p.md"), blocks=tuple(blocks),
        footnotes=(("1", (m.Paragraph(note, 1),)),),
    ),
    PROSE, st.lists(BLOCK, max_size=5), INLINES,
)  # fmt: skip

TEXT_ARG = re.compile(r"\\(text|mbox|textrm|textbf|textit|textsf|textup)\{([^{}]*)\}")
URL_IN_TEXT = re.compile(r"https://example\.com/\S+")
PROTECTED = re.compile(r"\\(?:label|eqref|ref|operatorname|texttt|mathrm|tag)\{[^{}]*\}|\$[^$]*\$")


def math_skeleton(tex: str) -> str:
    """The math with the prose characters of text arguments removed (nested $…$ kept)."""

    def strip(found: re.Match) -> str:
        parts = re.split(r"(\$[^$]*\$)", found.group(2))
        kept = "".join(p if p.startswith("$") else CJK.sub("", p) for p in parts)
        return f"\\{found.group(1)}{{{kept}}}"

    return TEXT_ARG.sub(strip, tex)


def invariants(post: m.Post) -> dict[str, list]:
    out: dict[str, list] = {"math": [], "protected": [], "urls": [], "code": [], "raw": [], "src": [], "anchors": []}

    def visit_inline(node):
        if isinstance(node, m.Math):
            out["math"].append(math_skeleton(node.tex))
            out["protected"].extend(PROTECTED.findall(node.tex))
        elif isinstance(node, m.Text):
            out["urls"].extend(URL_IN_TEXT.findall(node.text))
        elif isinstance(node, m.Code):
            out["code"].append(node.text)
        elif isinstance(node, m.RawTex):
            out["raw"].append(node.tex)
        elif isinstance(node, (m.Link, m.ChapterRef)):
            out["urls"].append(getattr(node, "url", getattr(node, "anchor", None)))
        return node

    def visit_block(block):
        if isinstance(block, m.CodeBlock):
            out["code"].append(block.text)
        elif isinstance(block, m.Figure):
            out["src"].append(block.src)
        elif isinstance(block, m.Heading):
            out["anchors"].append(block.anchor)
        return block

    from bookgen.transforms.walk import map_post

    map_post(post, visit_inline, visit_block)
    return out


@given(POSTS, st.sampled_from(tr.CONFIGS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_property_only_prose_changes(post, config):
    book = m.Book(key="k", title=m.text("标题"), subtitle=(), author=m.text("作者"), paper="a4paper", chapters=(m.Chapter(post, m.text(post.title)),))
    converted = tr.run(book, Context(reporter=Reporter(), traditional=config))
    after = converted.chapters[0].post
    assert invariants(after) == invariants(post)
    assert dataclasses.replace(after, blocks=(), footnotes=(), title="") == dataclasses.replace(
        post, blocks=(), footnotes=(), title=""
    )
    # And it is deterministic.
    assert tr.run(book, Context(reporter=Reporter(), traditional=config)) == converted


# ---------------------------------------------------------------- corpus


def corpus_lines(limit_files: int | None = None) -> list[str]:
    if not CORPUS.is_dir() or not any(CORPUS.glob("*.md")):
        pytest.skip(f"corpus not found at {CORPUS}")
    files = sorted(CORPUS.glob("*.md"))[:limit_files]
    return [line for f in files for line in f.read_text(encoding="utf-8").splitlines() if CJK.search(line)]


@pytest.mark.corpus
@pytest.mark.parametrize("config", ["s2tw", "s2hk", "s2t"])
def test_corpus_two_steps_equal_opencc(config):
    """s2t + the regional step is exactly OpenCC's one-step config (no pins)."""
    import opencc

    lines = corpus_lines()
    ours = tr.Converter(config, {}).many(lines)
    theirs = opencc.OpenCC(config).convert("\n".join(lines)).split("\n")
    assert ours == theirs


@pytest.mark.corpus
def test_corpus_default_table_fixes_s2twp():
    lines = corpus_lines()
    text = "\n".join(tr.converter_for("s2twp", None).many(lines))
    raw = "\n".join(tr.Converter("s2twp", {}).many(lines))
    for wrong in ("函式", "引數", "區域性", "全域性", "推匯出", "非線效能", "對映", "運算元", "啟用函", "最最佳化", "擴充套件"):
        assert wrong not in text, wrong
    assert "函式" in raw and "引數" in raw  # the pins are doing the work
    for right in ("資料", "記憶體", "演算法", "函數", "參數"):
        assert right in text, right


# ---------------------------------------------------------------- the CLI and TeX


def run_cli(*args: str):
    from bookgen.cli import main

    try:
        runner = CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        runner = CliRunner()
    return runner.invoke(main, [str(a) for a in args], catch_exceptions=False, env={"BOOKGEN_SOURCES": ""})


def test_manifest_traditional_and_phrases(tmp_path):
    demo = REPO_DIR / "demo" / "posts"
    (tmp_path / "keep.tsv").write_text("信息\t信息\n", encoding="utf-8")
    (tmp_path / "series.yaml").write_text(
        f"sources: ['{demo}']\nvolumes:\n  v:\n    title: 位置编码\n    traditional: s2twp\n"
        f"    phrases: keep.tsv\n    chapters: [90002]\n",
        encoding="utf-8",
    )
    manifest = tmp_path / "series.yaml"
    result = run_cli("build", "v", "--tex-only", "--manifest", manifest, "--out", tmp_path / "out", "-q")
    assert result.exit_code == 0, result.output
    tex = (tmp_path / "out" / "v" / "posts" / "90002.tex").read_text(encoding="utf-8")
    main = (tmp_path / "out" / "v" / "main.tex").read_text(encoding="utf-8")
    assert "位置信息" in tex and "位置資訊" not in tex  # the volume's table replaces the default
    assert "Noto Serif CJK TC" in main and "位置編碼" in main and "目錄" in main
    # The command line wins over the manifest.
    result = run_cli("build", "v", "--tex-only", "--manifest", manifest, "--out", tmp_path / "sc", "--traditional", "none", "-q")
    assert result.exit_code == 0
    assert "位置编码" in (tmp_path / "sc" / "v" / "main.tex").read_text(encoding="utf-8")


def tex_missing() -> str | None:
    missing = [tool for tool in ("xelatex", "latexmk", "pdftotext") if shutil.which(tool) is None]
    return f"{' and '.join(missing)} not installed" if missing else None


@pytest.mark.tex
@pytest.mark.skipif(tex_missing() is not None, reason=tex_missing() or "")
@pytest.mark.parametrize("config,region", [("s2tw", "TC"), ("s2hk", "HK")])
def test_demo_builds_in_traditional(tmp_path, config, region):
    out = tmp_path / "out"
    result = run_cli("build", "demo", "--traditional", config, "--out", out, "--manifest", REPO_DIR / "series.yaml", "-q")
    assert result.exit_code == 0, result.output + (result.stderr if hasattr(result, "stderr") else "")
    pdf = out / "demo.pdf"
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for word in ("矩陣", "參數", "函數", "目錄", "蘇劍林"):
        assert word in text, word
    for word in ("参数", "函数", "目录", "样本"):  # (not 矩阵: the demo's code comments have it, and code is kept)
        assert word not in text, word
    log = (out / "demo" / "main.log").read_text(encoding="utf-8", errors="replace")
    assert "Missing character" not in log
    assert f"Noto Serif CJK {region}" in (out / "demo" / "main.tex").read_text(encoding="utf-8")
