"""Series by name: ``series:`` volumes, ``bookgen series``, ``bookgen add``, and fetching a series from the site.

Each test writes a small book of invented posts: a series 测试系列 whose archive
ids run against its numbers (96001 is chapter 二, 96002 chapter 一), chapter 四
but no 三 in the folder, a post that only mentions the series and one that is
no chapter; a post list (``posts.json``) names chapter 三 (96003) too.  The
fetch tests use the local site of tests/local_site.py, whose archive page lists
its three article pages as the series 示例系列.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bookgen.errors import UserError
from bookgen.manifest import load_manifest
from bookgen.series.catalog import catalog_from, parse_archive_page, read_post_list
from bookgen.series.manifest_edit import volume_key_for, yaml_scalar
from fixtures import snapshot
from local_site import ARCHIVE_POSTS, archive_page

POSTS = {
    96001: ("测试系列（二）：前进", "2024-02-01"),
    96002: ("测试系列（一）：起步", "2024-01-01"),
    96004: ("测试系列（四）：跳过了三", "2024-04-01"),
    96010: ("一则随笔", "2024-05-01"),
    96011: ("测试系列（三）的补充", "2024-05-02"),
}
INDEX = [
    {"id": str(archive_id), "title": title, "date": date, "url": f"https://spaces.ac.cn/archives/{archive_id}"}
    for archive_id, (title, date) in {**POSTS, 96003: ("测试系列（三）：不在文件夹里", "2024-03-01")}.items()
]
SERIES_MANIFEST = """\
sources: [posts]
volumes:
  tests:
    title: 测试之书
    series: 测试系列
"""
IN_ORDER = [96002, 96001, 96004]  # 一 二 四: series order, not id order


def write_book(root: Path, manifest: str = SERIES_MANIFEST) -> Path:
    (root / "posts").mkdir(parents=True, exist_ok=True)
    for archive_id, (title, date) in POSTS.items():
        text = f"---\ntitle: {title}\ndate: {date}\n---\n\n{title}的正文，公式$x_{archive_id}$。\n"
        (root / "posts" / f"{archive_id}.md").write_text(text, encoding="utf-8")
    (root / "posts.json").write_text(json.dumps(INDEX, ensure_ascii=False), encoding="utf-8")
    (root / "series.yaml").write_text(manifest, encoding="utf-8")
    return root


@pytest.fixture
def book(tmp_path) -> Path:
    return write_book(tmp_path / "book")


def chapter_order(main_tex: str) -> list[int]:
    return [int(n) for n in re.findall(r"^\\bookgenchapter\{posts/(\d+)\}$", main_tex, re.MULTILINE)]


# ---------------------------------------------------------------- series: volumes


def test_a_series_volume_is_its_posts_in_series_order(book, run_cli):
    result = run_cli("build", "--tex-only", "--out", "out", cwd=book)
    assert result.code == 0, result.stderr
    assert chapter_order((book / "out/tests/main.tex").read_text(encoding="utf-8")) == IN_ORDER
    assert sorted(p.name for p in (book / "out/tests/posts").iterdir()) == ["96001.tex", "96002.tex", "96004.tex"]
    # the gap is reported, with the manifest's line of `series:`
    assert "series.yaml:5: warning: series '测试系列': chapter 3 not found (the series goes on to 4)" in result.stderr


def test_chapters_are_titled_by_their_subtitle_and_numbered_as_the_series(book, run_cli):
    assert run_cli("build", "--tex-only", "--out", "out", cwd=book).code == 0
    first = (book / "out/tests/posts/96002.tex").read_text(encoding="utf-8")
    assert "\\chapter{起步}\\label{post:96002}\n\\bookgenfulltitle{测试系列（一）：起步}\n\\bookgenpostinfo{2024-01-01}" in first
    assert "\\setcounter" not in first
    fourth = (book / "out/tests/posts/96004.tex").read_text(encoding="utf-8")
    # chapter 三 is missing: LaTeX's counter jumps, so the heading reads 第四章 and equations (4.1)
    assert re.search(r"^\\setcounter\{chapter\}\{3\}%.*\n\\chapter\{跳过了三\}", fourth, re.MULTILINE)


def test_chapter_titles_full_keeps_the_whole_title(book, run_cli):
    (book / "series.yaml").write_text(SERIES_MANIFEST + "    chapter_titles: full\n", encoding="utf-8")
    assert run_cli("build", "--tex-only", "--out", "out", cwd=book).code == 0
    text = (book / "out/tests/posts/96002.tex").read_text(encoding="utf-8")
    assert "\\chapter{测试系列（一）：起步}" in text and "\\bookgenfulltitle" not in text


def test_an_explicit_volume_may_have_short_titles_and_an_entry_title_wins(book, run_cli):
    manifest = ("sources: [posts]\nvolumes:\n  v:\n    title: 书\n    chapter_titles: short\n"
                "    chapters:\n      - 96002\n      - {id: 96001, title: 我起的标题}\n")  # fmt: skip
    (book / "series.yaml").write_text(manifest, encoding="utf-8")
    assert run_cli("build", "--tex-only", "--out", "out", cwd=book).code == 0
    assert "\\chapter{起步}" in (book / "out/v/posts/96002.tex").read_text(encoding="utf-8")
    second = (book / "out/v/posts/96001.tex").read_text(encoding="utf-8")
    assert "\\chapter{我起的标题}" in second and "\\bookgenfulltitle{测试系列（二）：前进}" in second


def test_traditional_builds_convert_the_short_titles(book, run_cli):
    assert run_cli("build", "--tex-only", "--out", "out", "--traditional", "s2tw", cwd=book).code == 0
    text = (book / "out/tests/posts/96001.tex").read_text(encoding="utf-8")
    assert "\\chapter{前進}" in text and "\\bookgenfulltitle{測試系列（二）：前進}" in text


def test_a_post_list_names_the_chapter_the_folders_lack(book, run_cli):
    result = run_cli("build", "--tex-only", "--out", "out", "--index", "posts.json", cwd=book)
    assert result.code == 0, result.stderr
    assert "series.yaml:5: warning: series '测试系列': chapter 3 (archive 96003) not in the source folders" in result.stderr
    assert "not found (the series goes on" not in result.stderr  # the list has chapter 3: no gap in the series
    assert chapter_order((book / "out/tests/main.tex").read_text(encoding="utf-8")) == IN_ORDER


@pytest.mark.parametrize("command", ["build", "check"])
def test_strict_makes_series_problems_errors_and_touches_nothing(book, run_cli, command):
    assert run_cli("build", "--tex-only", "--out", "out", cwd=book).code == 0
    before = snapshot(book / "out")
    result = run_cli(command, "--strict", "--out", "out", "--index", "posts.json", cwd=book)
    assert result.code == 1 and result.exception is None
    assert result.stderr_lines == [
        "series.yaml:5: series '测试系列': chapter 3 (archive 96003) not in the source folders (--strict)"
    ]
    assert snapshot(book / "out") == before


def test_two_posts_claiming_one_number_are_a_conflict(book, run_cli):
    (book / "posts" / "96005.md").write_text("---\ntitle: 测试系列（二）：又一个二\ndate: 2024-02-02\n---\n\n正文。\n",
                                             encoding="utf-8")  # fmt: skip
    result = run_cli("build", "--tex-only", "--out", "out", cwd=book)
    assert result.code == 0
    assert "series.yaml:5: warning: series '测试系列': 96001 and 96005 both claim chapter 2" in result.stderr
    assert chapter_order((book / "out/tests/main.tex").read_text(encoding="utf-8")) == [96002, 96001, 96005, 96004]


def test_list_shows_a_series_volume_and_what_it_lacks(book, run_cli):
    result = run_cli("list", "--index", "posts.json", cwd=book)
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "tests: 测试之书 (series 测试系列) — 3/4 posts found"
    assert [line.split()[1] for line in lines[1:]] == ["96002", "96001", "96003", "96004"]
    assert lines[3].endswith("MISSING")


def test_no_titles_say_what_to_do(tmp_path, run_cli):
    root = tmp_path / "empty"
    root.mkdir()
    (root / "series.yaml").write_text("volumes:\n  d:\n    title: 书\n    series: 测试系列\n", encoding="utf-8")
    result = run_cli("build", "--tex-only", cwd=root)
    assert result.code == 1 and result.exception is None
    assert result.stderr_lines == [
        "series.yaml:4: series '测试系列': no post titles to look in (no source folder and no list of posts): "
        "give --sources DIR with its posts or --index FILE with a list of the blog's posts "
        "(or download the posts: bookgen fetch d, then --sources cache)"
    ]
    assert not (root / "build").exists()
    listed = run_cli("list", cwd=root)
    assert listed.code == 0 and listed.stdout.startswith("d: 书 — series '测试系列': no post titles to look in")


def test_an_unknown_series_suggests_the_close_names(book, run_cli):
    (book / "series.yaml").write_text(SERIES_MANIFEST.replace("series: 测试系列", "series: 测试系"), encoding="utf-8")
    result = run_cli("check", "--out", "out", cwd=book)
    assert result.code == 1
    assert result.stderr_lines[0].startswith("series.yaml:5: series '测试系': no post of this series in the source "
                                             "folders (posts) (did you mean '测试系列'?)")  # fmt: skip


# (manifest after `volumes:\n  v:\n    title: 书\n`, line of the error, message)
BAD_KEYS = [
    ("    series: 测试系列\n    chapters: [96001]\n", 5, "volume 'v' has both series: and chapters:"),
    ("    chapters: [96001]\n    series: 测试系列\n", 5, "volume 'v' has both series: and chapters:"),
    ("    subtitle: x\n", 3, "volume 'v' is missing the required key 'chapters' (or 'series')"),
    ("    series: [a, b]\n", 4, "series of volume 'v' must be a string"),
    ("    series: '  '\n", 4, "series of volume 'v' must name a series of the blog"),
    ("    series: 测试系列\n    chapter_titles: medium\n", 5, "chapter_titles must be short or full, not 'medium'"),
    ("    series: 测试系列\n    chapter_titles: true\n", 5, "chapter_titles must be short or full, not 'true'"),
]


@pytest.mark.parametrize("tail, line, message", BAD_KEYS)
def test_series_keys_are_validated_with_their_line(tmp_path, tail, line, message):
    path = tmp_path / "series.yaml"
    path.write_text("volumes:\n  v:\n    title: 书\n" + tail, encoding="utf-8")
    with pytest.raises(UserError) as error:
        load_manifest(path)
    assert error.value.line == line and message in error.value.message


def test_series_keys_load(tmp_path):
    path = tmp_path / "series.yaml"
    path.write_text("volumes:\n  v:\n    title: 书\n    series: 测试系列\n  w:\n    title: x\n    chapters: [1]\n",
                    encoding="utf-8")  # fmt: skip
    manifest = load_manifest(path)
    assert (manifest.volume("v").series, manifest.volume("v").series_line, manifest.volume("v").chapters) == ("测试系列", 4, ())
    assert manifest.volume("v").chapter_titles == "short" and manifest.volume("w").chapter_titles == "full"


# ---------------------------------------------------------------- where titles come from


def test_post_lists_json_and_tsv(tmp_path):
    path = tmp_path / "posts.tsv"
    path.write_text("archive_id\tdate\ttitle\n9\t2024-01-02\t系列（一）：甲\n\n10\t\t系列（二）：乙\n", encoding="utf-8")
    assert [(l.id, l.title, l.date) for l in read_post_list(path)] == [(9, "系列（一）：甲", "2024-01-02"), (10, "系列（二）：乙", "")]
    path.write_text("9\t系列（一）：甲\t2024-01-02\n", encoding="utf-8")  # no header: id, title, date
    assert [(l.id, l.title, l.date) for l in read_post_list(path)] == [(9, "系列（一）：甲", "2024-01-02")]
    path = tmp_path / "posts.json"
    path.write_text('{"posts": [{"id": 9, "title": " 系列（一）：\\n甲 "}]}', encoding="utf-8")
    assert [(l.id, l.title, l.date) for l in read_post_list(path)] == [(9, "系列（一）： 甲", "")]


@pytest.mark.parametrize(
    "text, message, line",
    [
        ('[{"id": "x9", "title": "t"}]', "entry 1: archive id must be a whole number of at most 9 digits, not 'x9'", None),
        ('[{"id": 9}]', "entry 1: post 9 has no title", None),
        ('[{"id": 9, "title": "t"}, 3]', 'entry 2 is not an object with "id" and "title"', None),
        ('{"id": 9}', 'a post list must be a JSON list of {"id", "title", "date"} objects', None),
        ('[{"id": 9,\n "title": }]', "not valid JSON: Expecting value", 2),
        ("id\ttitle\n1\tt\n0\tu\n", "archive id must be a whole number of at most 9 digits, not '0'", 3),
        ("id\tname\n", "archive id must be a whole number of at most 9 digits, not 'id'", 1),
    ],
)  # fmt: skip
def test_a_bad_post_list_is_one_line_with_its_place(tmp_path, run_cli, text, message, line):
    path = tmp_path / "posts.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as error:
        read_post_list(path)
    assert (error.value.message, error.value.line) == (message, line)
    result = run_cli("series", "--index", path, cwd=tmp_path)
    assert result.code == 1 and result.exception is None and len(result.stderr_lines) == 1


def test_the_archive_page_gives_ids_titles_and_dates():
    listings = parse_archive_page(archive_page(), "content.html")
    assert [(l.id, l.title, l.date) for l in listings] == [tuple(post) for post in ARCHIVE_POSTS]


def test_the_archive_page_reader_relies_on_structure_not_on_tags():
    page = """<html><body><div><p><b>2012年</b> (共2篇)</p><div>11月</div><ol>
      <li><i>30日</i>：<a href="/archives/5">2011年回顾（一）：年初</a> (<a href="/archives/5#PostComment">3</a>)</li>
      <li>29日: <a href="https://kexue.fm/archives/4?x=1">系列（二）</a></li>
      <li>28日: <a href="/tag/x">标签</a></li></ol>
      <h2>2011年 (共1篇)</h2><span>02月</span><ul><li>03日: <a href="/archives/3">甲 &amp; 乙</a></li></ul>
    </div></body></html>"""
    listings = parse_archive_page(page.encode("utf-8"), "x")
    # a title starting with a year is the post's, not a heading: 2012 stays the year of the next post
    assert [(l.id, l.title, l.date) for l in listings] == [
        (5, "2011年回顾（一）：年初", "2012-11-30"), (4, "系列（二）", "2012-11-29"), (3, "甲 & 乙", "2011-02-03"),
    ]  # fmt: skip
    assert parse_archive_page(b"", "x") == [] and parse_archive_page(b"<html><p>nothing</p></html>", "x") == []
    item = b'<li>1\xe6\x97\xa5: <a href="/archives/7">t</a></li>'
    assert [l.id for l in parse_archive_page(b"<div>" * 200 + item, "x")] == [7]  # walked without recursion
    parse_archive_page(b"<div>" * 100000 + item, "x")  # libxml2 stops at its depth limit: no error either


def test_a_source_folder_s_archive_page_counts_as_a_list(book):
    (book / "posts" / "content.html").write_bytes(archive_page([(96003, "测试系列（三）：在归档页里", "2024-03-01")]))
    catalog = catalog_from(folders=[book / "posts"])
    assert catalog.complete and catalog.listings[96003].title == "测试系列（三）：在归档页里"
    assert catalog.listings[96002].title == "测试系列（一）：起步"  # from the post's front matter


# ---------------------------------------------------------------- bookgen series


def test_series_lists_the_series_found(book, run_cli):
    result = run_cli("series", "--sources", "posts", cwd=book)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "测试系列: 3 chapters, 1–4; missing 3",
        "1 series of 2 or more posts in the source folders (posts)",
    ]
    result = run_cli("series", "--sources", "posts", "--index", "posts.json", "--strict", cwd=book)
    assert result.stdout.splitlines()[0] == "测试系列: 4 chapters, 1–4; 1 not in the source folders"
    assert result.code == 1


def test_series_name_lists_its_chapters_in_order(book, run_cli):
    result = run_cli("series", "测试系列", "--sources", "posts", "--index", "posts.json", cwd=book)
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "测试系列: 4 chapters, 1–4, from posts.json and the source folders (posts)"
    assert [line.split()[:3] for line in lines[1:]] == [
        ["1", "96002", "2024-01-01"], ["2", "96001", "2024-02-01"], ["3", "96003", "2024-03-01"], ["4", "96004", "2024-04-01"],
    ]  # fmt: skip
    assert lines[3].endswith("测试系列（三）：不在文件夹里  not in the source folders")
    assert lines[1].endswith("测试系列（一）：起步  posts/96002.md")
    assert result.stderr_lines == ["bookgen: warning: series '测试系列': chapter 3 (archive 96003) not in the source folders"]


def test_series_without_a_source_uses_the_projects_folders(book, run_cli):
    assert run_cli("series", cwd=book).stdout.startswith("测试系列: 3 chapters")
    empty = book / "nothing"
    empty.mkdir()
    result = run_cli("series", cwd=empty)
    assert result.code == 1 and result.stderr_lines == [
        "bookgen: no post titles in no source folder and no list of posts: give --sources DIR, --index FILE or --online"
    ]


def test_titles_are_printed_as_text_never_run_by_the_terminal(book, run_cli):
    (book / "posts" / "96006.md").write_text("---\ntitle: 测试系列（五）：\x1b]0;x\x07\ndate: 2024-06-01\n---\n\nx\n",
                                             encoding="utf-8")  # fmt: skip
    result = run_cli("series", "测试系列", "--sources", "posts", cwd=book)
    assert "\x1b" not in result.stdout and "\\x1b]0;x\\x07" in result.stdout


# ---------------------------------------------------------------- bookgen add


def test_add_appends_an_explicit_volume_keeping_every_byte(book, run_cli):
    original = "# 我的书\nsources: [posts]   # 注释\nvolumes:\n  old:\n    title: 旧书\n    chapters: [96010,\n               96011]  # 末尾\n\n# 文件的最后\n"
    (book / "series.yaml").write_text(original, encoding="utf-8")
    result = run_cli("add", "测试系列", "--index", "posts.json", "--key", "tests", cwd=book)
    assert result.code == 0, result.stderr
    assert result.stdout == "series.yaml: added volume 'tests' — 测试系列, 4 chapters (1–4); next: bookgen fetch tests\n"
    text = (book / "series.yaml").read_text(encoding="utf-8")
    head, tail = original.split("\n\n# 文件的最后\n")
    assert text.startswith(head + "\n") and text.endswith("\n# 文件的最后\n")
    assert text[len(head) + 1 :].startswith(
        "\n  tests:\n    title: 测试系列\n    subtitle: 科学空间系列文章\n    chapter_titles: short\n"
        "    chapters:  # series 测试系列, in series order (bookgen add)\n"
        "      - 96002  # 测试系列（一）：起步\n      - 96001  # 测试系列（二）：前进\n"
    )
    manifest = load_manifest(book / "series.yaml")
    assert [c.id for c in manifest.volume("tests").chapters] == [96002, 96001, 96003, 96004]
    assert list(manifest.volumes) == ["old", "tests"]


def test_add_refuses_a_volume_that_exists_and_touches_nothing(book, run_cli):
    before = (book / "series.yaml").read_bytes()
    result = run_cli("add", "测试系列", "--index", "posts.json", "--key", "tests", cwd=book)
    assert result.code == 1 and result.stderr_lines == [
        "series.yaml:3: volume 'tests' exists already (name the new one with --key KEY)"
    ]
    assert (book / "series.yaml").read_bytes() == before
    (book / "series.yaml").write_text("volumes:\n  v:\n    titel: x\n", encoding="utf-8")
    before = (book / "series.yaml").read_bytes()
    result = run_cli("add", "测试系列", "--index", "posts.json", cwd=book)
    assert result.code == 1 and result.stderr_lines[0].startswith("series.yaml:3: unknown key 'titel'")
    assert (book / "series.yaml").read_bytes() == before


def test_add_strict_refuses_a_series_with_a_gap(book, run_cli):
    before = (book / "series.yaml").read_bytes()
    result = run_cli("add", "测试系列", "--sources", "posts", "--strict", "--key", "x", cwd=book)
    assert result.code == 1
    assert result.stderr_lines == ["bookgen: series '测试系列': chapter 3 not found (the series goes on to 4) (--strict)"]
    assert (book / "series.yaml").read_bytes() == before


def test_add_without_a_manifest_makes_one_that_builds_from_the_cache(book, run_cli):
    (book / "series.yaml").unlink()
    result = run_cli("add", "测试系列", "--sources", "posts", cwd=book)
    assert result.code == 0, result.stderr
    text = (book / "series.yaml").read_text(encoding="utf-8")
    assert "\nsources: [cache]  # where `bookgen fetch` saves" in text and "\nimages: [cache]\n" in text
    assert "\nvolumes:\n  series-96002:\n" in text
    assert [c.id for c in load_manifest(book / "series.yaml").volume("series-96002").chapters] == IN_ORDER


def test_add_keeps_windows_line_ends(book, run_cli):
    (book / "series.yaml").write_bytes(SERIES_MANIFEST.replace("\n", "\r\n").encode("utf-8"))
    assert run_cli("add", "测试系列", "--sources", "posts", "--key", "k", cwd=book).code == 0
    data = (book / "series.yaml").read_bytes()
    assert data.startswith(SERIES_MANIFEST.replace("\n", "\r\n").encode("utf-8")) and b"\n" not in data.replace(b"\r\n", b"")


def test_add_needs_a_short_name_it_can_use(book, run_cli):
    result = run_cli("add", "测试系列", "--sources", "posts", "--key", "no good", cwd=book)
    assert result.code == 1 and "must be letters, digits" in result.stderr
    assert volume_key_for("Transformer升级之路", 8231) == "transformer"
    assert volume_key_for("重新思考学习率与Batch Size", 1) == "batch-size"
    assert volume_key_for("生成扩散模型漫谈", 9119) == "series-9119"


@pytest.mark.parametrize("text", ["测试：冒号", "yes", "123", "- x", "*x", "#x", "a\"b\\c", " x", "x\u2028y", "\x1b[2J"])
def test_yaml_scalars_read_back_as_written(text):
    import yaml

    assert yaml.safe_load(f"k: {yaml_scalar(text)}\n") == {"k": text}


# ---------------------------------------------------------------- online: the site's archive page


def test_series_online_reads_the_archive_page_once(tmp_path, site, run_cli):
    result = run_cli("series", "--online", "--base-url", site.url, "--delay", "0", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == ["示例系列: 3 chapters, 1–3", "1 series of 2 or more posts in cache/content.html"]
    assert site.page_paths == ["/content.html"] and (tmp_path / "cache/content.html").is_file()
    site.requests.clear()
    assert run_cli("series", "示例系列", "--online", "--base-url", site.url, cwd=tmp_path).code == 0
    assert site.requests == []  # cached, like a fetched page
    assert run_cli("series", "--online", "--update", "--base-url", site.url, "--delay", "0", cwd=tmp_path).code == 0
    assert site.page_paths == ["/content.html"]


def test_the_archive_page_must_list_posts(tmp_path, site, run_cli):
    site.archive = b"<html><body>maintenance</body></html>"
    result = run_cli("series", "--online", "--base-url", site.url, "--delay", "0", cwd=tmp_path)
    assert result.code == 1 and result.stderr_lines == [f"{site.url}/content.html: not the archive page (no post listed)"]
    assert not (tmp_path / "cache/content.html").exists()


def test_fetch_of_a_series_volume_downloads_its_chapters(tmp_path, site, run_cli):
    (tmp_path / "series.yaml").write_text("volumes:\n  ex:\n    title: 示例\n    series: 示例系列\n", encoding="utf-8")
    result = run_cli("fetch", "--base-url", site.url, "--delay", "0", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert [p for p in site.page_paths if "uploads" not in p] == [
        "/content.html", "/archives/90101", "/archives/90102", "/archives/90103",
    ]  # fmt: skip
    assert "  archive fetched   cache/content.html" in result.stdout
    site.requests.clear()
    assert run_cli("fetch", "--base-url", site.url, cwd=tmp_path).code == 0
    assert site.requests == []
    # the build reads the cache: its archive page is the list of posts, its pages the chapters
    built = run_cli("build", "--tex-only", "--sources", "cache", cwd=tmp_path)
    assert built.code == 0, built.stderr
    assert chapter_order((tmp_path / "build/ex/main.tex").read_text(encoding="utf-8")) == [90101, 90102, 90103]
    assert "\\chapter{加权平均}" in (tmp_path / "build/ex/posts/90102.tex").read_text(encoding="utf-8")


def test_fetch_with_an_index_asks_the_site_only_for_the_pages(book, site, run_cli):
    result = run_cli("fetch", "--base-url", site.url, "--delay", "0", "--index", "posts.json", "--cache", "c", cwd=book)
    assert result.code == 1  # the local site has no page 96002: what matters is what was asked
    assert "/content.html" not in site.page_paths and site.page_paths[0] == "/archives/96002"


@pytest.mark.tex
def test_a_missing_chapter_keeps_the_series_numbers_in_the_pdf(book, run_cli, tex_available):
    result = run_cli("build", "--out", "out", "-q", cwd=book)
    assert result.code == 0, result.stderr
    toc = (book / "out/tests/main.toc").read_text(encoding="utf-8")
    headings = re.findall(r"\\contentsline \{chapter\}\{\\numberline \{(第.章)\\hspace \{[^}]*\}\}(.*?)\}\{\d+\}\{(chapter\.\d+)\}", toc)
    assert headings == [("第一章", "起步", "chapter.1"), ("第二章", "前进", "chapter.2"), ("第四章", "跳过了三", "chapter.4")]
    log = (book / "out/tests/main.log").read_text(encoding="utf-8", errors="replace")
    assert "destination with the same identifier" not in log


def test_a_hostile_post_list_is_an_error_not_a_traceback(tmp_path, run_cli):
    path = tmp_path / "posts.json"
    for text in ("[" * 100000 + "]" * 100000, "1\t" + "x" * 200000 + "\n", "\x00\t\x00\n"):
        path.write_text(text, encoding="utf-8")
        result = run_cli("series", "--index", path, cwd=tmp_path)
        assert result.code == 1 and result.exception is None and len(result.stderr_lines) == 1, result.stderr


def test_add_leaves_the_last_volume_s_own_comments_with_it(book, run_cli):
    original = "volumes:\n  old:\n    title: 旧书\n    chapters:\n      - 96010\n    # - 96011 later\n\n# top level\nsources: [posts]\n"
    (book / "series.yaml").write_text(original, encoding="utf-8")
    assert run_cli("add", "测试系列", "--sources", "posts", "--key", "k", cwd=book).code == 0
    text = (book / "series.yaml").read_text(encoding="utf-8")
    assert text.startswith(original.split("\n\n")[0] + "\n\n  k:\n") and text.endswith("\n\n# top level\nsources: [posts]\n")
