"""Review and rebuild: the build cache, skipping TeX, ``bookgen diff``, ``--chapter``, ``-j``, ``--watch``.

Each test works on a copy of the demo book (four posts) in a temporary folder;
the TeX ones build it with xelatex (a few seconds each).
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bookgen import fonts
from bookgen import model as m
from bookgen.cache import REMEMBERED, PostCache, decode, encode
from bookgen.resources import builtin_template_dir
from bookgen.watch import Idle, watch
from fixtures import REPO_DIR, snapshot, tex_missing

needs_tex = pytest.mark.skipif(tex_missing() is not None, reason=str(tex_missing()))
MANIFEST = "sources: [posts]\nimages: [images]\nvolumes:\n  demo:\n    title: 演示\n    chapters: [90001, 90002, 90003, 90004]\n"
EDITED = "这一句是改过的。"


@pytest.fixture
def book(tmp_path) -> Path:
    root = tmp_path / "book"
    shutil.copytree(REPO_DIR / "demo" / "posts", root / "posts")
    shutil.copytree(REPO_DIR / "demo" / "images", root / "images")
    (root / "series.yaml").write_text(MANIFEST, encoding="utf-8")
    return root


def edit_post(root: Path, archive_id: int = 90002, added: str = EDITED) -> None:
    """``added`` at the end of the post's first paragraph of prose."""
    path = root / "posts" / f"{archive_id}.md"
    text = path.read_text(encoding="utf-8")
    first = re.search(r"^[^\n#*>|\-$`!\[].*。$", text, re.MULTILINE)
    path.write_text(text[: first.end()] + added + text[first.end() :], encoding="utf-8")


def tex_files(out: Path) -> dict[str, bytes]:
    return {k: v for k, v in snapshot(out).items() if k.endswith(".tex")}


# ---------------------------------------------------------------- the cache, without TeX


def test_the_model_round_trips_through_the_cache_format():
    post = m.Post(7, "t", "2024-01-01", "https://spaces.ac.cn/archives/7", Path("posts/7.md"), (
        m.Heading(2, (m.Text("标题"), m.Math("x_1", False, 3)), 3, "标题 $x_1$"),
        m.Paragraph((m.Emph((m.Text("a"),)), m.Link("https://a.b/", (m.Text("l"),)), m.RawTex("\\relax"),
                     m.Math("\\begin{equation}y\\end{equation}", True, 5)), 4),
        m.Figure("/usr/uploads/x.png", (m.Text("c"),), 6, "images/x.png", Path("/tmp/x.png")),
        m.ListBlock(True, 3, ((m.Paragraph((m.Text("i"),), 7),),), 7),
    ), footnotes=(("1", (m.Paragraph((m.Text("n"),), 9),)),), macros=("\\def\\x{}",), fallbacks=((2, "m"),),
        notes=((1, "n"),))  # fmt: skip
    assert decode(json.loads(json.dumps(encode(post)))) == post


def test_a_cache_entry_that_does_not_fit_is_not_used(tmp_path):
    cache = PostCache(tmp_path)
    cache.folder.mkdir()
    (cache.folder / "7.json").write_text('{"key": "k", "post": {"os.system": ["x"]}, "diagnostics": []}')
    assert cache.load(7, "k") is None  # a type that is not the model's: never built
    (cache.folder / "7.json").write_text('{"key": "k", "post": {"Text": ["a", "b", "c"]}, "diagnostics": []}')
    assert cache.load(7, "k") is None  # the fields of another bookgen's model
    (cache.folder / "7.json").write_text("not json")
    assert cache.load(7, "k") is None
    assert cache.load(8, "k") is None


def test_a_cache_entry_edited_by_hand_is_not_used(run_cli, book):
    """A wrong type deep in the model, or in a diagnostic: the chapter is made again, no traceback."""
    assert run_cli("build", "--tex-only", cwd=book).code == 0
    before = tex_files(book / "build")
    cache = book / "build" / "demo" / ".cache"
    for name in ("90002.json", "90002.chapter.json"):
        data = json.loads((cache / name).read_text(encoding="utf-8"))
        text = json.dumps(data).replace('{"Text": [', '{"Text": [[', 1).replace('"]}', '"]]}', 1)
        (cache / name).write_text(text, encoding="utf-8")  # a Text whose text is a list
    (cache / "90003.chapter.json").write_text(
        (cache / "90003.chapter.json").read_text(encoding="utf-8").replace('"diagnostics": [[', '"diagnostics": [[[], '),
        encoding="utf-8",
    )  # a diagnostic with a path that is a list
    REMEMBERED.forget()  # as a new process finds them
    again = run_cli("build", "--tex-only", cwd=book)
    assert again.code == 0, again.stderr
    assert "1 repaired" in again.stdout and "2 chapters as last built" in again.stdout
    assert tex_files(book / "build") == before


def test_a_rebuild_reads_unchanged_posts_from_the_cache(run_cli, book):
    first = run_cli("build", "--tex-only", cwd=book)
    assert first.code == 0, first.stderr
    before = tex_files(book / "build")
    again = run_cli("build", "--tex-only", cwd=book)
    assert "4 from the cache, 0 repaired" in again.stdout
    assert tex_files(book / "build") == before
    edit_post(book)
    edited = run_cli("build", "--tex-only", cwd=book)
    assert "3 from the cache, 1 repaired" in edited.stdout
    after = tex_files(book / "build")
    assert [name for name in after if after[name] != before[name]] == ["demo/posts/90002.tex"]
    assert EDITED in after["demo/posts/90002.tex"].decode()


def test_the_cache_keeps_only_the_volumes_posts(run_cli, book):
    assert run_cli("build", "--tex-only", cwd=book).code == 0
    cache = book / "build" / "demo" / ".cache"
    assert {p.name for p in cache.iterdir()} >= {"90004.json", "90004.chapter.json"}
    (book / "series.yaml").write_text(MANIFEST.replace(", 90004]", "]"), encoding="utf-8")
    assert run_cli("build", "--tex-only", cwd=book).code == 0
    assert sorted(p.name for p in cache.iterdir()) == [f"{i}{s}" for i in (90001, 90002, 90003) for s in (".chapter.json", ".json")]


def test_the_cache_is_keyed_by_the_settings_and_can_be_left_out(run_cli, book):
    assert run_cli("build", "--tex-only", cwd=book).code == 0
    skipped = run_cli("build", "--tex-only", "--skip-pass", "labels", cwd=book)
    assert "from the cache" not in skipped.stdout  # other passes, other results
    assert run_cli("build", "--tex-only", "--no-cache", cwd=book).code == 0
    assert "from the cache" not in run_cli("build", "--tex-only", "--no-cache", cwd=book).stdout
    assert run_cli("build", "--tex-only", "--clean", cwd=book).code == 0
    assert "from the cache" not in run_cli("build", "--tex-only", "--clean", "--no-cache", cwd=book).stdout


def test_a_pool_and_the_cache_make_the_same_files_as_one_process(run_cli, book, tmp_path):
    outs = {}
    for name, extra in (("serial", ["-j", "1", "--no-cache"]), ("pool", ["-j", "2"]), ("warm", ["-j", "2"])):
        out = tmp_path / ("pool" if name == "warm" else name)
        result = run_cli("build", "--tex-only", "--out", out, *extra, cwd=book)
        assert result.code == 0, result.stderr
        outs[name] = {k: v for k, v in snapshot(out).items() if k.endswith((".tex", "report.txt"))}
    assert outs["serial"] == outs["pool"] == outs["warm"]


def rename_heading(root: Path) -> None:
    """90001's section 正规方程, which 90002 links to (``/archives/90001#正规方程``), gets another name."""
    path = root / "posts" / "90001.md"
    path.write_text(path.read_text(encoding="utf-8").replace("## 正规方程 #", "## 法方程 #"), encoding="utf-8")


def override_chapter_template(root: Path) -> None:
    builtin = builtin_template_dir() / "chapter.tex.j2"
    (root / "templates").mkdir()
    (root / "templates" / "chapter.tex.j2").write_text("% my chapters\n" + builtin.read_text(encoding="utf-8"), encoding="utf-8")


def reverse_chapters(root: Path) -> None:
    (root / "series.yaml").write_text(MANIFEST.replace("90001, 90002, 90003, 90004", "90004, 90003, 90002, 90001"), encoding="utf-8")


# What a finished chapter depends on besides its own post; and a file that must change although no post did.
CHANGES = {
    "a heading another chapter links to": (rename_heading, "demo/posts/90002.tex"),
    "an image file gone": (lambda root: (root / "images/usr/uploads/2024/03/90003-1.png").unlink(), "demo/posts/90003.tex"),
    "a template": (override_chapter_template, "demo/posts/90004.tex"),
    "the chapters' order": (reverse_chapters, "demo/report.txt"),  # 90002's link: to chapter 4 now
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_finished_chapter_is_made_again_when_its_volume_changes(run_cli, book, tmp_path, change):
    """A rebuild takes a chapter as last built only when all it depends on is as it was: whatever changed,
    the files are those a build without the cache makes."""
    alter, changed_file = CHANGES[change]
    assert run_cli("build", "--tex-only", cwd=book).code == 0
    again = run_cli("build", "--tex-only", cwd=book)
    assert "4 from the cache, 0 repaired, 4 chapters as last built" in again.stdout
    before = snapshot(book / "build")
    alter(book)
    rebuilt = run_cli("build", "--tex-only", cwd=book)
    assert rebuilt.code == 0, rebuilt.stderr
    fresh = run_cli("build", "--tex-only", "--no-cache", "--out", tmp_path / "fresh", cwd=book)
    assert fresh.code == 0, fresh.stderr
    outputs = [{k: v for k, v in snapshot(out).items() if k.endswith((".tex", "report.txt"))}
               for out in (book / "build", tmp_path / "fresh")]  # fmt: skip
    assert outputs[0] == outputs[1]
    assert snapshot(book / "build")[changed_file] != before[changed_file]


def test_other_fonts_installed_make_every_chapter_again(run_cli, book, monkeypatch):
    """The glyph checks read the installed fonts: entries made with others are not used."""
    assert run_cli("build", "--tex-only", cwd=book).code == 0
    fonts.forget_installed_fonts()
    monkeypatch.setattr(fonts, "fonts_fingerprint", lambda setup: "other fonts")
    again = run_cli("build", "--tex-only", cwd=book)
    fonts.forget_installed_fonts()
    assert again.code == 0 and "from the cache" not in again.stdout


def test_traditional_chinese_does_not_take_simplified_chapters(run_cli, book, tmp_path):
    assert run_cli("build", "--tex-only", cwd=book).code == 0
    converted = run_cli("build", "--tex-only", "--traditional", "s2tw", cwd=book)
    assert converted.code == 0 and "chapters as last built" not in converted.stdout
    fresh = run_cli("build", "--tex-only", "--traditional", "s2tw", "--no-cache", "--out", tmp_path / "fresh", cwd=book)
    assert fresh.code == 0 and tex_files(book / "build") == tex_files(tmp_path / "fresh")


def test_the_fallback_fonts_of_finished_chapters_stay_declared(run_cli, book, tmp_path):
    edit_post(book, 90004, "音标ʊː。")  # no text font here has them: a fallback font sets them
    assert run_cli("build", "--tex-only", cwd=book).code == 0
    main = (book / "build" / "demo" / "main.tex").read_text(encoding="utf-8")
    if "\\newfontfamily\\bookgenfont" not in main:
        pytest.skip("the fonts are not installed: nothing is set in a fallback font")
    edit_post(book)  # 90004 is taken as built; its font is declared all the same
    again = run_cli("build", "--tex-only", cwd=book)
    assert "3 chapters as last built" in again.stdout
    assert (book / "build" / "demo" / "main.tex").read_text(encoding="utf-8") == main


# ---------------------------------------------------------------- bookgen diff


def test_diff_shows_what_the_next_build_changes_and_writes_nothing(run_cli, book):
    never = run_cli("diff", cwd=book)
    assert never.code == 2 and "has not been built" in never.stderr
    assert run_cli("build", "--tex-only", cwd=book).code == 0
    untouched = run_cli("diff", cwd=book)
    assert (untouched.code, untouched.stdout) == (0, "")
    edit_post(book)
    before = snapshot(book / "build")
    changed = run_cli("diff", "--color", "never", cwd=book)
    assert changed.code == 1
    headers = re.findall(r"^(?:---|\+\+\+) (.*)$", changed.stdout, re.MULTILINE)
    assert headers == ["a/demo/posts/90002.tex", "b/demo/posts/90002.tex"]
    added = [line for line in changed.stdout.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert len(added) == 1 and EDITED in added[0]
    assert "\x1b[" not in changed.stdout  # not a terminal: no colour
    stat = run_cli("diff", "--stat", cwd=book)
    assert stat.code == 1 and stat.stdout == "demo/posts/90002.tex | +1 -1 | repairs +0 -0\n"
    assert snapshot(book / "build") == before  # nothing written, not even the cache


def test_diff_against_another_build(run_cli, book, tmp_path):
    assert run_cli("build", "--tex-only", "--out", tmp_path / "old", cwd=book).code == 0
    edit_post(book, 90003)
    result = run_cli("diff", "--against", tmp_path / "old", "--stat", cwd=book)
    assert result.code == 1 and result.stdout.startswith("demo/posts/90003.tex | +1 -1")


# ---------------------------------------------------------------- with TeX


@needs_tex
def test_an_unchanged_rebuild_does_not_run_tex(run_cli, book):
    assert run_cli("build", cwd=book).code == 0
    pdf = book / "build" / "demo.pdf"
    stamp = pdf.stat().st_mtime_ns
    again = run_cli("build", cwd=book)
    assert again.code == 0
    assert "nothing changed since the last build: TeX not run" in again.stdout
    assert "TeX pass" not in again.stdout and pdf.stat().st_mtime_ns == stamp
    edit_post(book)
    edited = run_cli("build", cwd=book)
    assert "TeX pass" in edited.stdout and pdf.stat().st_mtime_ns != stamp


@needs_tex
def test_a_fallback_is_remembered_and_costs_nothing_the_next_time(run_cli, book):
    edit_post(book, 90004, "坏的公式 $\\kern x$ 在这里。")
    first = run_cli("build", cwd=book)
    assert first.code == 0 and "shown as source" in first.stderr
    passes = len(re.findall(r"TeX pass 1 \(xelatex\)", first.stdout))
    assert passes == 2  # the run that found it, the run without it
    edit_post(book)  # another post changes: the bad formula is set aside at once
    second = run_cli("build", cwd=book)
    assert second.code == 0 and "shown as source" in second.stderr
    assert len(re.findall(r"TeX pass 1 \(xelatex\)", second.stdout)) == 1
    third = run_cli("build", cwd=book)
    assert "TeX not run" in third.stdout and "shown as source" in third.stderr
    assert "shown as source" in (book / "build" / "demo" / "report.txt").read_text(encoding="utf-8")


def pdftotext(pdf: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed")
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@needs_tex
def test_a_chapter_preview_keeps_the_books_numbers(run_cli, book):
    first = run_cli("build", "--chapter", "90002", cwd=book)
    assert first.code == 0 and "no full build" in first.stdout  # none yet: the whole volume is built
    pdf = book / "build" / "demo.pdf"
    good = pdf.read_bytes()
    edit_post(book)
    preview = run_cli("build", "--chapter", "90002", cwd=book)
    assert preview.code == 0, preview.stderr
    assert pdf.read_bytes() == good  # the book is not replaced
    text = pdftotext(book / "build" / "demo.preview.pdf")
    assert "第二章" in text and EDITED in re.sub(r"\s+", "", text)
    book_text = pdftotext(pdf)
    chapter = book_text[book_text.index("位置编码小记", book_text.index("位置编码小记") + 1) :]
    numbers = lambda s: sorted(set(re.findall(r"\((2\.\d+)\)", s)))  # noqa: E731
    assert numbers(text) and numbers(text) == numbers(chapter)
    assert "见第一章" in re.sub(r"\s+", "", text)  # a reference to another chapter, from the full build
    assert run_cli("build", "--chapter", "12345", cwd=book).code == 1


@needs_tex
def test_volumes_at_once_and_one_failing_stops_no_other(run_cli, book, tmp_path):
    manifest = MANIFEST + "  broken:\n    title: 坏\n    chapters: [90005]\n"
    (book / "series.yaml").write_text(manifest, encoding="utf-8")
    (book / "posts" / "90005.md").write_text("---\ntitle: 坏的一章\nid: 90005\n---\n\n正文。\n", encoding="utf-8")
    templates = tmp_path / "templates"
    templates.mkdir()
    chapter = (REPO_DIR / "templates" / "chapter.tex.j2").read_text(encoding="utf-8")
    injected = "<% if post.id == 90005 %>\n\\undefinedcommandxyz\n<% endif %>\n"  # outside any unit: no fallback
    (templates / "chapter.tex.j2").write_text(chapter + injected, encoding="utf-8")
    result = run_cli("build", "demo", "broken", "-j", "2", "--templates", templates, cwd=book)
    assert result.code == 2, result.stderr
    assert "demo: wrote" in result.stdout and re.search(r"90005\.md:\d+: TeX error", result.stderr)
    assert (book / "build" / "demo.pdf").is_file() and not (book / "build" / "broken.pdf").exists()


# ---------------------------------------------------------------- --watch


def test_watch_builds_again_after_each_change_of_an_input_only(tmp_path):
    inputs = tmp_path / "posts"
    inputs.mkdir()
    (inputs / "1.md").write_text("a", encoding="utf-8")
    out = inputs / "build"  # a build folder inside a source folder is not an input
    steps = iter([
        lambda: (inputs / "1.md").write_text("ab", encoding="utf-8"),
        lambda: None,
        lambda: (out / "x.tex").write_text("t", encoding="utf-8"),
        lambda: (inputs / "2.md").write_text("new", encoding="utf-8"),
    ])  # fmt: skip
    builds, said = [], []

    def rebuild() -> int:
        out.mkdir(exist_ok=True)
        (out / "main.tex").write_text(str(len(builds)), encoding="utf-8")
        builds.append(1)
        return len(builds)

    status = watch(lambda: [inputs], rebuild, out, said.append, sleep=lambda _s: next(steps)(), polls=4)
    assert len(builds) == 3 and status == 3  # the first build, then 1.md, then 2.md
    assert [line for line in said if "changed" in line] == [
        f"{inputs / '1.md'} changed: building again", f"{inputs / '2.md'} changed: building again"]


def test_watch_sees_what_changes_while_it_builds_and_never_its_own_output(tmp_path):
    inputs = tmp_path / "posts"
    inputs.mkdir()
    (inputs / "a.md").write_text("a", encoding="utf-8")
    (inputs / "b.md").write_text("b", encoding="utf-8")
    out = tmp_path / "elsewhere" / ".." / "posts" / "build"  # the build folder, spelled another way, in the inputs
    seen = []

    def rebuild() -> int:
        out.mkdir(parents=True, exist_ok=True)
        (out / "main.tex").write_text(str(len(seen)), encoding="utf-8")
        seen.append(sorted(p.name for p in inputs.glob("*.md")))
        if len(seen) == 2:  # saved while it builds: one gone, one new
            (inputs / "b.md").unlink()
            (inputs / "c.md").write_text("c", encoding="utf-8")
        return 0

    steps = iter([lambda: (inputs / "a.md").write_text("a2", encoding="utf-8")] + [lambda: None] * 4)
    watch(lambda: [inputs], rebuild, out, lambda line: None, sleep=lambda _s: next(steps)(), polls=5)
    assert seen == [["a.md", "b.md"], ["a.md", "b.md"], ["a.md", "c.md"]]


def test_ctrl_c_while_it_builds_ends_watching_as_interrupted(tmp_path):
    (tmp_path / "a.md").write_text("a", encoding="utf-8")
    builds = []

    def rebuild() -> int:
        builds.append(1)
        if len(builds) == 2:
            raise KeyboardInterrupt
        return 0

    edit = lambda _s: (tmp_path / "a.md").write_text(f"a{len(builds)}", encoding="utf-8")  # noqa: E731
    assert watch(lambda: [tmp_path], rebuild, tmp_path / "build", lambda line: None, sleep=edit, polls=3) == 130
    assert watch(lambda: [tmp_path], lambda: 0, tmp_path / "build", lambda line: None,
                 sleep=lambda _s: (_ for _ in ()).throw(KeyboardInterrupt), polls=3) == 0  # fmt: skip


def test_the_time_between_polls_does_the_idle_work_a_piece_at_a_time():
    done, slept = [], []
    idle = Idle()
    idle.add([lambda: done.append(1) or 1 / 0, lambda: done.append(2)])
    idle(0.0, slept.append)  # a slice used up by the first piece (which failed: no matter, it only warms)
    assert done == [1] and slept == [0.0]
    idle(10.0, slept.append)
    assert done == [1, 2] and 9.0 < slept[-1] <= 10.0  # the rest of the slice is slept
    idle(0.5, slept.append)
    assert 0.4 < slept[-1] <= 0.5  # nothing to do: the slice is slept


def test_idle_work_goes_on_in_a_thread_while_tex_runs_and_stops_with_it():
    done = []
    idle = Idle()
    idle.add([lambda n=n: (time.sleep(0.01), done.append(n)) for n in range(1000)])
    with idle.meanwhile():
        deadline = time.monotonic() + 10
        while not done and time.monotonic() < deadline:
            time.sleep(0.01)
    stopped_at = len(done)
    time.sleep(0.1)
    assert 0 < stopped_at == len(done) < 1000  # worked on meanwhile; nothing after: the next build may fork
    assert len(idle.todo) == 1000 - stopped_at  # the rest is left for the time between polls


def test_build_watch_rebuilds_the_edited_post_and_goes_on_after_bad_input(run_cli, book, monkeypatch):
    def edits(_seconds, steps=iter([
        lambda: edit_post(book),
        lambda: (book / "series.yaml").write_text(MANIFEST + "  bad: [\n", encoding="utf-8"),
        lambda: (book / "series.yaml").write_text(MANIFEST, encoding="utf-8"),
    ])):  # fmt: skip
        next(steps)()

    command_module = sys.modules["bookgen.cli.build"]  # the module: bookgen.cli.build is also the command's name
    monkeypatch.setattr(command_module, "watch_builds", functools.partial(watch, sleep=edits, polls=3))
    result = run_cli("build", "--tex-only", "--watch", cwd=book)
    assert result.code == 0, result.stderr
    assert "watching" in result.stdout and result.stdout.count("changed: building again") == 3
    assert "3 from the cache, 1 repaired" in result.stdout
    assert "series.yaml:" in result.stderr and "invalid YAML" in result.stderr  # said, and watching went on
    assert EDITED in (book / "build" / "demo" / "posts" / "90002.tex").read_text(encoding="utf-8")
