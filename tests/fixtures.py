"""The tests' shared helpers, the one module test modules import them from, and the format of tests/cases/.

A case file (``tests/cases/<stage>.txt``) holds cases written like markdown-it-py's
fixtures, separated by blank lines::

    a title line [option] [option=value]
    the input, one or more lines
    .
    the expected output
    .
    the expected report lines, one a line (none: the blank line follows at once)
    <blank line>

Options are bracketed at the end of the title.  A report line is what report.txt
prints, less the path: ``[pass] message`` or ``[pass] warning: message``, after
the line it points at (``5: [labels] …``) unless it is the formula's own.
Characters an editor would strip or hide (a blank ending a line, control and
format characters, a line holding only ``.``) are written ``⟨U+0020⟩``.  What the
input, the output and the options mean is the harness's (tests/test_cases.py);
``--update-golden`` rewrites expected parts (``check_case``).

The rest are the helpers several modules share: a book of one post, the reader's
model as text, invented fonts, a small book on disk, the command line in-process.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from click.testing import CliRunner

from bookgen import model as m
from bookgen.cli import main
from bookgen.diagnostics import Reporter
from bookgen.fonts import Coverage, Fallback, FontSetup, GlyphChooser, XeCJKClasses
from bookgen.latex.templating import builtin_chooser
from bookgen.readers.markdown import read_markdown
from bookgen.sources import HEAD_BYTES, SourceIndex, archive_id_of
from bookgen.transforms import Context, Pass

TESTS_DIR = Path(__file__).resolve().parent
REPO_DIR = TESTS_DIR.parent
CASES_DIR = TESTS_DIR / "cases"
DEFAULT_CORPUS = REPO_DIR.parent / "shared" / "corpus" / "md"

# ---------------------------------------------------------------- the case files

CODEPOINT = re.compile(r"⟨U\+([0-9A-F]{4,6})⟩")
OPTION = re.compile(r"\s*\[([a-z0-9-]+)(?:=([^\]]*))?\]\s*$")
REPORT_LINE = re.compile(r"^(?:(?:\S+:)?\d+: )?\[[a-z-]+\] ")
BLANKS = " \t"


def decode(text: str) -> str:
    """``⟨U+0007⟩`` in a case file → the character."""
    return CODEPOINT.sub(lambda found: chr(int(found.group(1), 16)), text)


def _hidden(char: str) -> bool:
    """Invisible, or not what it looks like: controls, format characters (U+200B), odd spaces, variation selectors."""
    category = unicodedata.category(char)
    if category in ("Cc", "Cf", "Zl", "Zp"):
        return True
    if category == "Zs":
        return char not in " \u3000"  # the ideographic space is ordinary Chinese text
    return 0xFE00 <= ord(char) <= 0xFE0F or 0xE0100 <= ord(char) <= 0xE01EF


def _shown(char: str) -> str:
    return f"⟨U+{ord(char):04X}⟩"


def encode_line(line: str) -> str:
    """One line as a case file writes it (a newline in it is hidden too: a report is one line)."""
    if line == ".":
        return _shown(".")  # a lone "." would close the part
    body = line.rstrip(BLANKS)
    tail = "".join(_shown(c) for c in line[len(body) :])  # editors strip blanks ending a line
    return "".join(_shown(c) if _hidden(c) else c for c in body) + tail


def encode(text: str) -> str:
    """``text`` as a case file writes it (``decode`` undoes it)."""
    return "\n".join(encode_line(line) for line in text.split("\n"))


@dataclass(frozen=True)
class Case:
    file: Path
    line: int  # of the title, 1-based
    title: str  # as written, options and all: what --update-golden finds the case by
    source: str  # the input part as written (``input`` decodes it)
    expected: str  # the expected part as written (compare it with ``encode(actual)``)
    reports: tuple[str, ...]

    @property
    def name(self) -> str:
        """The title without its options."""
        title = self.title
        while found := OPTION.search(title):
            title = title[: found.start()]
        return title.strip()

    @property
    def options(self) -> dict[str, str]:
        """``[display] [after=a,b]`` → ``{"display": "", "after": "a,b"}``."""
        found: dict[str, str] = {}
        title = self.title
        while match := OPTION.search(title):
            found[match.group(1)] = match.group(2) or ""
            title = title[: match.start()]
        return found

    @property
    def input(self) -> str:
        return decode(self.source)

    @property
    def where(self) -> str:
        """``tests/cases/balance.txt:120: case "unclosed \\left"``: what a failure says."""
        return f'{self.file.relative_to(REPO_DIR).as_posix()}:{self.line}: case "{self.name}"'

    @property
    def id(self) -> str:
        return f"{self.file.name}:{self.line}: {self.name}"


def read_cases(file: Path) -> list[Case]:
    """The cases of ``file``; a malformed file raises ValueError naming its line."""
    lines = file.read_text(encoding="utf-8").split("\n")
    cases: list[Case] = []
    titles: dict[str, int] = {}
    index = 0
    while index < len(lines):
        if not lines[index].strip():
            index += 1
            continue
        title_line, title = index + 1, lines[index]
        if title in titles:  # --update-golden finds a case by its title
            raise ValueError(f"{file}:{title_line}: title {title!r} is the title of line {titles[title]} too")
        titles[title] = title_line
        index += 1
        parts: list[list[str]] = [[], []]
        for part in parts:
            while index < len(lines) and lines[index] != ".":
                part.append(lines[index])
                index += 1
            if index >= len(lines):
                raise ValueError(f"{file}:{title_line}: case {title!r} is not closed by two '.' lines")
            index += 1
        reports: list[str] = []
        while index < len(lines) and lines[index].strip():
            if not REPORT_LINE.match(lines[index]):
                raise ValueError(f"{file}:{index + 1}: not a report line (a blank line must end case {title!r})")
            reports.append(lines[index])
            index += 1
        cases.append(Case(file, title_line, title, "\n".join(parts[0]), "\n".join(parts[1]), tuple(reports)))
    return cases


def format_cases(cases: list[Case]) -> str:
    """What ``write_cases`` writes: each case, then a blank line."""
    out: list[str] = []
    for case in cases:
        out.extend([case.title, case.source, ".", case.expected, ".", *case.reports, ""])
    return "\n".join(out)


def write_cases(file: Path, cases: list[Case]) -> None:
    file.write_text(format_cases(cases), encoding="utf-8")


def rewrite_case(case: Case, expected: str, reports: list[str]) -> None:
    """Replace the expected part and reports of ``case`` in its file; the other cases stay as written."""
    cases = [
        Case(c.file, c.line, c.title, c.source, expected, tuple(reports)) if c.title == case.title else c
        for c in read_cases(case.file)
    ]
    write_cases(case.file, cases)


def check_case(case: Case, actual: str, reports: list[str], update_golden: bool) -> None:
    """Assert ``case`` expects ``actual`` (encoded) and ``reports``; with ``--update-golden``, rewrite it instead."""
    if update_golden:
        if (actual, tuple(reports)) != (case.expected, case.reports):
            rewrite_case(case, actual, reports)
        return
    assert actual == case.expected, case.where
    assert list(reports) == list(case.reports), case.where


def case_files() -> list[Path]:
    return sorted(CASES_DIR.glob("*.txt"))


# ---------------------------------------------------------------- books of posts

POST_PATH = Path("posts/4242.md")
DEFAULT_POST = POST_PATH.name
MATH_LINE = 7
POST_HEADER = re.compile(r"^<<< (\S+\.md)\s*$")


def book_of(
    *inlines: m.Inline, blocks: tuple | None = None, footnotes: tuple = (), macros: tuple = (), mirror: str = ""
) -> m.Book:
    """A one-chapter book whose post 4242 holds ``blocks`` (default: one paragraph of ``inlines``)."""
    if blocks is None:
        blocks = (m.Paragraph(tuple(inlines), MATH_LINE),)
    post = m.Post(4242, "T", "", "https://spaces.ac.cn/archives/4242", POST_PATH, blocks, footnotes, macros, mirror=mirror)
    return m.Book("h", m.text("T"), (), m.text("A"), "a4paper", (m.Chapter(post, m.text("T")),))


def book_of_posts(posts: list[m.Post]) -> m.Book:
    """A volume of ``posts``, one chapter each, titled by the post."""
    chapters = tuple(m.Chapter(p, m.text(p.title)) for p in posts)
    return m.Book("cases", m.text("T"), (), m.text("A"), "a4paper", chapters)


def split_posts(source: str) -> list[tuple[str, str]]:
    """``<<< NAME.md`` lines starting each post → [(name, text)]; no such line: one post, DEFAULT_POST."""
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


def read_post_text(name: str, text: str, html2text: bool = False) -> m.Post:
    """The Markdown ``text`` as post ``posts/NAME``, its archive id from the name alone."""
    path = Path("posts") / name
    # Not archive_id_of(path, text): a post's text links to other posts, and the
    # first archive URL it sees would be taken for the post's own.
    archive_id = archive_id_of(path, "")
    assert archive_id is not None, f"no archive id in the name {name}"
    post = read_markdown(text, path, archive_id)
    return m.Post(**{**post.__dict__, "mirror": "html2text" if html2text else post.mirror})


def read_post_file(name: str, text: str) -> m.Post:
    """The Markdown ``text`` as the file ``posts/NAME``, its archive id found as the source index finds it."""
    path = Path("posts") / name
    archive_id = archive_id_of(path, text.encode("utf-8")[:HEAD_BYTES].decode("utf-8", "replace"))
    assert archive_id is not None, f"no archive id for {name}"
    return read_markdown(text, path, archive_id)


@lru_cache(maxsize=None)
def preamble_chooser(traditional: str | None = None) -> GlyphChooser:
    """The fonts of bookgen's own preamble, one chooser per config for the whole session: rendering the
    preamble takes 20 ms, and a chooser only memoizes what the fonts have (a build shares one too)."""
    return builtin_chooser(traditional)


def context(**options) -> Context:
    """A context as a build makes one: a fresh reporter, and the fonts of bookgen's own preamble."""
    return Context(reporter=Reporter(), glyphs=preamble_chooser(options.get("traditional")), **options)


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


# ---------------------------------------------------------------- the reader's model as text
#
# One line per block, children indented by two spaces:
#
#     Post id=12345 title='…' date='2024-03-01' mirror=html2text
#     Heading2@5 anchor='问题设定': Text('问题设定')
#     Paragraph@7: Text('设') Math(inline,'n') Text('个样本') Math(display@8,'\\begin{equation}…')
#     List(ordered,start=3)@9:
#       - Paragraph@9: Text('a')
#     Quote@11:
#       Paragraph@11: Text('…')
#     CodeBlock(python)@13: 'print(1)⏎'
#     Table@17 aligns='lc':
#       head: [Text('a')] [Text('b')]
#       row: [Text('1')] [Math(inline,'x')]
#     Figure@20 src='/usr/uploads/x.png': Text('caption')
#     Rule@22
#     Footnote[1]:
#       Paragraph@30: Text('…')
#
# Strings are quoted with '…' and not escaped (TeX stays readable); a newline in a
# string is shown as ⏎.  Inline math shows its line only when it differs from its
# block's; display math always does.


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


def _with_inlines(head: str, nodes, line: int) -> str:
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
        return [_with_inlines(f"{indent}Paragraph@{block.line}", block.children, block.line)]
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
        return [_with_inlines(f"{indent}Figure@{block.line} src={q(block.src)}{local}", block.caption, block.line)]
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


# ---------------------------------------------------------------- invented fonts

CJK_RANGES = [(0x3000, 0x303F), (0x4E00, 0x9FFF), (0x20000, 0x2A6DF)]


def fake_chooser(
    latin: str = "", cjk: str = "", chain: dict[str, str] | None = None, mono_latin: str | None = None,
    mono_chain: dict[str, str] | None = None,
) -> GlyphChooser:  # fmt: skip
    """A chooser over invented fonts: ``Latin``/``CJK`` (text), ``LatinMono``/``CJKMono`` (code), and the
    chain's fonts, each covering the characters given (ASCII is always in the Latin fonts)."""
    chain = chain or {}
    mono_chain = mono_chain if mono_chain is not None else chain
    ascii_chars = "".join(chr(c) for c in range(32, 127))
    table = {"Latin": latin + ascii_chars, "CJK": cjk, "LatinMono": (latin if mono_latin is None else mono_latin) + ascii_chars,
             "CJKMono": cjk, **chain, **mono_chain}  # fmt: skip
    setup = FontSetup(latin=(("text", ("Latin",)), ("mono", ("LatinMono",))), cjk=(("text", ("CJK",)), ("mono", ("CJKMono",))))
    classes = XeCJKClasses.from_declarations([("CJK", CJK_RANGES), ("CM", [(0x3099, 0x309A)])])
    chains = {
        "text": tuple(Fallback(name, "fonts-test", "") for name in chain),
        "mono": tuple(Fallback(name, "fonts-test", "") for name in mono_chain),
    }

    def coverage(name: str):
        return Coverage.of(ord(c) for c in table[name]) if name in table else None

    return GlyphChooser(setup, classes, coverage, chains=chains)


# ---------------------------------------------------------------- a small book on disk

BOOK_POSTS = {
    "95001.md": "---\ntitle: 第一篇\ndate: 2024-01-01\n---\n\n第一篇的正文，公式$x^2$。\n",
    "95002.md": "---\ntitle: 第二篇\ndate: 2024-01-02\n---\n\n## 小节 #\n\n第二篇的正文。\n",
}
GOOD_MANIFEST = """\
sources: [posts]
volumes:
  small:
    title: 小书
    subtitle: 测试用
    author: 测试
    paper: a5paper
    chapters: [95001, 95002]
  other:
    title: 另一本
    chapters:
      - id: 95002
        title: 改过的标题
"""


def write_book(root: Path, manifest: str = GOOD_MANIFEST) -> Path:
    """``root``/series.yaml (two volumes) and ``root``/posts/ with BOOK_POSTS."""
    (root / "posts").mkdir(parents=True, exist_ok=True)
    for name, text in BOOK_POSTS.items():
        (root / "posts" / name).write_text(text, encoding="utf-8")
    (root / "series.yaml").write_text(manifest, encoding="utf-8")
    return root


# ---------------------------------------------------------------- the command line, folders, tools


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def _make_runner() -> CliRunner:
    # click 8.2 removed mix_stderr: stdout and stderr are always kept apart.
    # Older clicks need mix_stderr=False to get result.stderr at all.
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


def invoke(args, cwd: Path | None = None, env: dict[str, str] | None = None) -> CliResult:
    """``bookgen ARGS`` run in-process (click's CliRunner) in ``cwd``."""
    runner = _make_runner()
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = runner.invoke(main, [str(a) for a in args], env=env, catch_exceptions=True)
    finally:
        os.chdir(old)
    exception = result.exception if not isinstance(result.exception, SystemExit) else None
    return CliResult(result.exit_code, result.stdout, result.stderr, exception)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (relative path → bytes); directories as ``path/`` → b''."""
    if not folder.exists():
        return {}
    out: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        out[relative + "/" if path.is_dir() else relative] = b"" if path.is_dir() else path.read_bytes()
    return out


def corpus_path() -> Path:
    """The real posts: ``$BOOKGEN_CORPUS``, else ``<workspace>/shared/corpus/md``."""
    override = os.environ.get("BOOKGEN_CORPUS")
    return Path(override).resolve() if override else DEFAULT_CORPUS


def tex_missing() -> str | None:
    missing = [tool for tool in ("xelatex", "latexmk") if shutil.which(tool) is None]
    return f"{' and '.join(missing)} not installed" if missing else None


def all_posts_manifest(corpus_dir: Path, folder: Path, key: str = "corpus") -> Path:
    """A manifest with one volume ``key`` holding every post of the corpus folder, in file-name order."""
    ids = SourceIndex.scan((corpus_dir,)).by_id
    manifest = folder / "series.yaml"
    chapters = "\n".join(f"      - {archive_id}" for archive_id in sorted(ids, key=lambda i: ids[i].name))
    manifest.write_text(f"volumes:\n  {key}:\n    title: 科学空间文章选\n    chapters:\n{chapters}\n", encoding="utf-8")
    return manifest
