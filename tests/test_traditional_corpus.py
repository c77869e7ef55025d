r"""The Traditional Chinese acceptance criteria, checked on the three series of the real corpus.

Builds (``bookgen build VOL --traditional CFG --sources CORPUS --out TMP``, through
``python -m bookgen``): ``lowrank``, ``transformer`` and ``diffusion`` in ``s2tw``
and ``s2hk``, plus one Simplified baseline, ``diffusion``, for the comparisons.
Each build runs once per session: the builds the selected tests need are all
started when the first of them asks, ``$BOOKGEN_TEST_JOBS`` at a time (default:
the number of CPUs), since each takes 15–120 s.

Every Traditional build (6):

* main.log: no TeX error, no undefined reference, no multiply-defined label, no
  ``Missing character`` (``compile.summarize_log``);
* the series title in Traditional (生成擴散模型漫談…) in the PDF's text and metadata;
* no Simplified-only character in the PDF's text (prose, headings, contents,
  running heads) nor in its bookmarks (``main.out``, UTF-16 strings decoded).

``diffusion`` (both configs) also against the Simplified build:

* the subtitle, author, fixed words and body words (變換, 參數…) are Traditional;
* the math is the same: per chapter, the multiset of the characters left once
  CJK characters, CJK punctuation, whitespace and hyphens are removed from the
  body text (see ``math_characters`` for why a multiset and not the lines);
* the equation numbers, as a sequence; the hyperlink targets, as a multiset; and
  every URL printed in either PDF is printed as often in the other;
* the generated .tex trees: every line of ``posts/*.tex`` is the same once CJK
  characters are removed, and ``main.tex`` differs only in the fonts and the
  converted fixed words and titles.

"Simplified-only", precisely: a CJK character of the Traditional text that
OpenCC's *own config* (s2tw, s2hk), run again on the text, changes, and that the
same config, run on the text's Simplified reading (OpenCC ``t2s``), changes as
well, unless it sits in a run of CJK characters that the generated .tex has
inside code (code is never converted).  The first condition alone flags correct
Traditional characters that OpenCC maps one-to-many and decides from the
Simplified phrase around them (證明了 → 證明瞭, 傅里葉 → 傅裡葉, 干擾 → 幹擾,
二進制表示 → 二進製表示: 了, 里, 干, 制 are Traditional too); the Simplified
reading gives OpenCC that phrase back (证明了 → 證明了), so no allow-list is
needed, and a character left unconverted (两, 这里) is flagged by both.  Running
the build's own config rather than ``s2t`` makes the regional standard part of
the check: 爲/衆/裏 in an ``s2tw`` book would be reported too.  Lines are joined
where pdftotext broke them between two CJK characters, so phrases are whole.

Needs xelatex and latexmk, poppler's pdftotext and pdfinfo, and the corpus
(``$BOOKGEN_CORPUS`` or ``<workspace>/shared/corpus/md``); skipped without them.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import opencc
import pytest
import yaml

from bookgen.compile import summarize_log
from bookgen.latex.language import SIMPLIFIED_WORDS
from bookgen.transforms.traditional import converter_for
from fixtures import REPO_DIR

pytestmark = [pytest.mark.tex, pytest.mark.corpus]

THIS_FILE = Path(__file__).resolve()
MANIFEST = REPO_DIR / "series.yaml"

SERIES = ("lowrank", "transformer", "diffusion")
CONFIGS = ("s2tw", "s2hk")
COMPARED = "diffusion"  # the volume also built in Simplified and compared with it
SIMPLIFIED = "none"  # bookgen's --traditional value for a Simplified build
EVERY_BUILD = [(volume, config) for volume in SERIES for config in CONFIGS]

# The series titles in Traditional, as the PDF must show them (the same in s2tw and s2hk).
TRADITIONAL_TITLES = {"lowrank": "低秩近似之路", "transformer": "Transformer升級之路", "diffusion": "生成擴散模型漫談"}
# Words of diffusion's prose: (Traditional, Simplified) — each occurs about a hundred times.
DIFFUSION_WORDS = (("變換", "变换"), ("參數", "参数"), ("擴散", "扩散"), ("過程", "过程"), ("數據", "数据"))

BUILD_TIMEOUT = 1800  # seconds, per build

# ---------------------------------------------------------------- characters

CJK_IDEOGRAPH = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")
CJK_IDEOGRAPHS = re.compile(CJK_IDEOGRAPH.pattern + "+")
# CJK symbols and punctuation, full-width forms, and the quotes, dashes and ellipsis of Chinese prose.
CJK_PUNCTUATION = re.compile(r"[\u3000-\u303f\uff00-\uffef\u2018\u2019\u201c\u201d\u2014\u2026\u00b7]")

# ---------------------------------------------------------------- building


@dataclass(frozen=True)
class Build:
    """One built volume: ``folder`` is OUT/<volume> (main.tex, main.log, main.out, posts/)."""

    volume: str
    config: str  # s2tw, s2hk, or SIMPLIFIED
    folder: Path
    pdf: Path

    @property
    def name(self) -> str:
        return f"{self.volume} ({'Simplified' if self.config == SIMPLIFIED else self.config})"

    def read(self, relative: str) -> str:
        return (self.folder / relative).read_text(encoding="utf-8", errors="replace")

    def posts(self) -> dict[str, str]:
        return {p.name: p.read_text(encoding="utf-8") for p in sorted((self.folder / "posts").glob("*.tex"))}


@dataclass(frozen=True)
class BuildOutcome:
    build: Build
    returncode: int
    output: str
    seconds: float


def build_command(volume: str, config: str, corpus: Path, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "bookgen", "build", volume, "--traditional", config,
        "--sources", str(corpus), "--out", str(out), "--manifest", str(MANIFEST), "-q",
    ]  # fmt: skip


def run_build(volume: str, config: str, corpus: Path, out: Path) -> BuildOutcome:
    env = dict(os.environ)
    env.pop("BOOKGEN_SOURCES", None)
    build = Build(volume, config, out / volume, out / f"{volume}.pdf")
    started = time.monotonic()
    try:
        process = subprocess.run(
            build_command(volume, config, corpus, out), cwd=REPO_DIR, env=env, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, errors="replace", timeout=BUILD_TIMEOUT,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return BuildOutcome(build, -1, f"timed out after {BUILD_TIMEOUT} s", time.monotonic() - started)
    return BuildOutcome(build, process.returncode, process.stdout + process.stderr, time.monotonic() - started)


class Builds:
    """Each (volume, config) built at most once, in a pool of ``jobs`` parallel builds."""

    def __init__(self, corpus: Path, root: Path, jobs: int):
        self.corpus = corpus
        self.root = root
        self._pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="bookgen-build")
        self._futures: dict[tuple[str, str], Future] = {}
        self._lock = threading.Lock()

    def start(self, volume: str, config: str) -> None:
        with self._lock:
            if (volume, config) not in self._futures:
                out = self.root / f"{volume}-{config}"
                self._futures[volume, config] = self._pool.submit(run_build, volume, config, self.corpus, out)

    def get(self, volume: str, config: str) -> Build:
        self.start(volume, config)
        outcome: BuildOutcome = self._futures[volume, config].result()
        build = outcome.build
        if outcome.returncode != 0 or not build.pdf.is_file():
            pytest.fail(
                f"bookgen build {volume} --traditional {config} failed (exit {outcome.returncode}, "
                f"{outcome.seconds:.0f} s):\n{outcome.output[-4000:]}",
                pytrace=False,
            )
        return build

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def builds_needed(items) -> list[tuple[str, str]]:
    """The (volume, config) builds the selected tests of this module use, in the order they run."""
    needed: dict[tuple[str, str], None] = {}
    for item in items:
        if Path(str(getattr(item, "path", ""))).resolve() != THIS_FILE:
            continue
        params = item.callspec.params if hasattr(item, "callspec") else {}
        if "config" in params:
            needed[params.get("volume", COMPARED), params["config"]] = None
        if "simplified" in getattr(item, "fixturenames", ()):
            needed[COMPARED, SIMPLIFIED] = None
    return list(needed)


@pytest.fixture(scope="session")
def poppler_available() -> None:
    missing = [tool for tool in ("pdftotext", "pdfinfo") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (poppler-utils)")


@pytest.fixture(scope="session")
def builds(request, corpus_dir, tex_available, poppler_available, tmp_path_factory):
    jobs = int(os.environ.get("BOOKGEN_TEST_JOBS") or os.cpu_count() or 1)
    pool = Builds(corpus_dir, tmp_path_factory.mktemp("traditional-corpus"), max(1, jobs))
    for volume, config in builds_needed(request.session.items):
        pool.start(volume, config)
    yield pool
    pool.close()


@pytest.fixture
def simplified(builds) -> Build:
    """diffusion in Simplified Chinese, the baseline of the comparisons."""
    return builds.get(COMPARED, SIMPLIFIED)


# ---------------------------------------------------------------- reading a PDF


@lru_cache(maxsize=None)
def pdf_text(pdf: Path, *options: str) -> str:
    """``pdftotext -enc UTF-8 OPTIONS pdf -``."""
    command = ["pdftotext", "-enc", "UTF-8", *options, str(pdf), "-"]
    return subprocess.run(command, capture_output=True, text=True, errors="replace", check=True).stdout


def without_whitespace(text: str) -> str:
    """``text`` without whitespace: pdftotext puts spaces between Latin and CJK, and breaks lines anywhere in CJK."""
    return re.sub(r"\s+", "", text)


@lru_cache(maxsize=None)
def pdf_info(pdf: Path, *options: str) -> str:
    """``pdfinfo OPTIONS pdf``."""
    return subprocess.run(["pdfinfo", *options, str(pdf)], capture_output=True, text=True, check=True).stdout


def pdf_title(pdf: Path) -> str:
    found = re.search(r"^Title:\s+(.*)$", pdf_info(pdf), re.MULTILINE)
    return found.group(1).strip() if found else ""


def page_size(pdf: Path) -> tuple[float, float]:
    info = pdf_info(pdf)
    found = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.MULTILINE)
    assert found, f"pdfinfo gives no page size for {pdf}:\n{info}"
    return float(found.group(1)), float(found.group(2))


def link_targets(pdf: Path) -> list[str]:
    """The URL of every hyperlink of the PDF, in page order (``pdfinfo -url``)."""
    listing = pdf_info(pdf, "-url")
    return [line.split(None, 2)[2] for line in listing.splitlines()[1:] if len(line.split(None, 2)) == 3]


UNIT_POINTS = {"mm": 72 / 25.4, "cm": 72 / 2.54, "in": 72.0, "pt": 72 / 72.27, "bp": 1.0}


def geometry_points(main_tex: str, key: str) -> float:
    """A length of the geometry options in main.tex (``top=25mm``…), in PDF points."""
    found = re.search(rf"\b{key}=([\d.]+)(mm|cm|in|pt|bp)\b", main_tex)
    assert found, f"main.tex sets no geometry '{key}=' (the template changed: adapt this test)"
    return float(found.group(1)) * UNIT_POINTS[found.group(2)]


@lru_cache(maxsize=None)
def body_text(build: Build) -> str:
    """The PDF text in content-stream order (``-raw``), without page furniture.

    Running heads and page numbers are cropped away (the text block of main.tex's
    geometry, with 8 pt to spare: the head and foot sit 25–30 pt outside it), and
    so are the pages up to the last page of the contents (a dot leader), whose
    page numbers depend on the layout.  Pages are separated by form feeds.
    """
    width, height = page_size(build.pdf)
    main_tex = build.read("main.tex")
    top, bottom = geometry_points(main_tex, "top"), geometry_points(main_tex, "bottom")
    crop = ["-x", "0", "-y", str(int(top - 8)), "-W", str(int(width) + 1), "-H", str(int(height - top - bottom + 16))]
    pages = pdf_text(build.pdf, "-raw", "-r", "72", *crop).split("\f")
    contents = [index for index, page in enumerate(pages) if re.search(r"(?:\. ){10}", page)]
    assert contents, f"{build.name}: no table of contents (dot leaders) found in the PDF"
    return "\f".join(pages[contents[-1] + 1 :])


# At the start of a line or of a page (pdftotext ends a page with a form feed, not a newline).
CHAPTER_HEADING = re.compile(r"(?:^|(?<=\f))第[〇零一二三四五六七八九十百]+章(?:\s|$)", re.MULTILINE)


def chapters(text: str) -> list[str]:
    """``text`` cut before every chapter heading (the text before the first one is dropped)."""
    starts = [found.start() for found in CHAPTER_HEADING.finditer(text)]
    return [text[start:end] for start, end in zip(starts, starts[1:] + [len(text)])]


def math_characters(text: str) -> Counter:
    """The multiset of what is left of ``text`` without CJK characters, CJK punctuation, whitespace and hyphens.

    A multiset, not lines or a sequence: the Traditional fonts' punctuation has
    other widths, so lines and pages break elsewhere than in Simplified, which
    splits tokens differently, hyphenates other words (TeX's hyphen, and a
    hyphen pdftotext sees at a line end, are layout; math's minus is U+2212),
    and moves footnotes and floats to other pages, out of reading order.  Per
    chapter (a chapter starts a page and flushes the floats), so that a
    difference is located.
    """
    return Counter(math_skeleton(text))


def math_skeleton(text: str) -> str:
    """``text`` as ``math_characters`` counts it, in order: for showing where two chapters differ."""
    text = re.sub(r"-(?=\n)|(?<=[0-9A-Za-z])-(?=[0-9A-Za-z])", "", text)
    return re.sub(r"\s+", "", CJK_IDEOGRAPH.sub("", CJK_PUNCTUATION.sub("", text)))


def unmatched_passages(before: str, after: str, lost: Counter, gained: Counter, limit: int = 4) -> list[str]:
    """Where ``after`` lost characters of ``lost`` or gained ones of ``gained``: the shortest differing
    passages that hold one (the longer ones are mostly text a page break moved), with some context."""
    passages = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if tag in ("delete", "replace") and any(char in lost for char in before[i1:i2]):
            passages.append((i2 - i1, f"Simplified has {before[i1:i2]!r} in …{before[max(0, i1 - 25) : i2 + 25]}…"))
        if tag in ("insert", "replace") and any(char in gained for char in after[j1:j2]):
            passages.append((j2 - j1, f"Traditional has {after[j1:j2]!r} in …{after[max(0, j1 - 25) : j2 + 25]}…"))
    passages.sort(key=lambda passage: passage[0])
    small = [text for size, text in passages if size <= 3 * (sum(lost.values()) + sum(gained.values())) + 5]
    return (small or [text for _, text in passages])[:limit]


EQUATION_NUMBER = re.compile(r"\((\d+\.\d+)\)")
URL = re.compile(r"https?://[^\s" + CJK_IDEOGRAPH.pattern[1:-1] + CJK_PUNCTUATION.pattern[1:-1] + r"]+")


def printed_urls(text: str) -> list[str]:
    """Every https?:// run of ``text`` up to whitespace or CJK (a URL broken across lines gives its start)."""
    return URL.findall(text)


def overfull_lines(build: Build, wider_than: float) -> list[str]:
    """main.log's ``Overfull \\hbox`` reports of lines sticking out more than ``wider_than`` points,
    each with the generated post it is in (the last posts/*.tex TeX opened before it)."""
    log = build.read("main.log")
    reports = []
    for found in re.finditer(r"^Overfull \\hbox \(([\d.]+)pt too wide\).*$", log, re.MULTILINE):
        if float(found.group(1)) > wider_than:
            posts = re.findall(r"\((?:\./)?(posts/[^\s()]+\.tex)", log[: found.start()])
            reports.append(f"{posts[-1] if posts else 'main.tex'}: {found.group(0)}")
    return reports


# ---------------------------------------------------------------- Simplified-only characters


def code_cjk_runs(build: Build) -> frozenset[str]:
    """The runs of CJK characters inside code in the generated posts (code keeps the author's Simplified)."""
    runs: set[str] = set()
    for tex in build.posts().values():
        for block in re.findall(r"\\begin\{bookgencode\}(.*?)\\end\{bookgencode\}", tex, re.DOTALL):
            runs.update(CJK_IDEOGRAPHS.findall(block))
        for start in (found.end() for found in re.finditer(r"\\texttt\{", tex)):
            runs.update(CJK_IDEOGRAPHS.findall(braced_argument(tex, start - 1)))
    return frozenset(runs)


def braced_argument(text: str, open_brace: int) -> str:
    """The text of the balanced ``{…}`` group opening at ``open_brace`` (backslash escapes respected)."""
    depth = 0
    index = open_brace
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[open_brace + 1 : index]
        index += 1
    return text[open_brace + 1 :]


def changed_positions(text: str, converted: str) -> list[tuple[int, str]]:
    """(index in ``text``, what it became) for every character the conversion changed."""
    if len(text) == len(converted):
        return [(i, b) for i, (a, b) in enumerate(zip(text, converted)) if a != b]
    changed = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, text, converted, autojunk=False).get_opcodes():
        if tag != "equal":
            changed += [(i, converted[j1:j2]) for i in range(i1, i2)]
    return changed


def in_code_run(unit: str, index: int, runs_with: dict[str, list[str]]) -> bool:
    """Whether ``unit[index]`` belongs to an occurrence in ``unit`` of a CJK run found in code."""
    for run in runs_with.get(unit[index], ()):
        start = unit.find(run, max(0, index - len(run) + 1))
        while start != -1 and start <= index:
            if index < start + len(run):
                return True
            start = unit.find(run, start + 1)
    return False


def cjk_units(text: str, join_lines: bool) -> list[tuple[str, list[int]]]:
    """``text`` cut at newlines into (unit, line number of each of its characters).

    With ``join_lines``, a newline between two CJK characters (pdftotext breaking
    a line of prose) does not cut: the unit goes on with the next line.
    """
    units: list[tuple[str, list[int]]] = []
    chars: list[str] = []
    origin: list[int] = []
    line = 1
    for index, char in enumerate(text):
        if char == "\n":
            before, after = text[index - 1 : index], text[index + 1 : index + 2]
            line += 1
            if join_lines and is_cjk(before) and is_cjk(after):
                continue
            units.append(("".join(chars), origin))
            chars, origin = [], []
            continue
        chars.append(char)
        origin.append(line)
    units.append(("".join(chars), origin))
    return units


def is_cjk(char: str) -> bool:
    return bool(char) and bool(CJK_IDEOGRAPH.fullmatch(char) or CJK_PUNCTUATION.fullmatch(char))


def simplified_only_characters(text: str, config: str, code_runs: frozenset[str], join_lines: bool = True) -> list[str]:
    """Each Simplified-only character of ``text`` (see the module docstring), with its line and context."""
    convert, simplify = opencc.OpenCC(config).convert, opencc.OpenCC("t2s").convert
    runs_with: dict[str, list[str]] = {}
    for run in code_runs:
        for char in set(run):
            runs_with.setdefault(char, []).append(run)
    findings = []
    for unit, lines in cjk_units(text, join_lines):
        if not CJK_IDEOGRAPH.search(unit):
            continue
        again = changed_positions(unit, convert(unit))
        if not again:
            continue
        from_simplified = convert(simplify(unit))
        for index, becomes in again:
            char = unit[index]
            if not CJK_IDEOGRAPH.fullmatch(char) or in_code_run(unit, index, runs_with):
                continue
            if len(from_simplified) == len(unit) and from_simplified[index] == char:
                continue  # OpenCC's own choice in the Simplified context: a Traditional character
            context = unit[max(0, index - 12) : index + 12].strip()
            findings.append(f"{char} ({config}: {becomes}) at line {lines[index]}: …{context}…")
    return findings


def decode_pdf_string(raw: str) -> str:
    r"""A PDF string as hyperref writes it to .out files: ``\ddd`` octal bytes, ``\(``-style escapes;
    UTF-16BE after a ``\376\377`` byte-order mark, PDFDocEncoding (here: Latin-1) otherwise."""
    data = bytearray()
    index = 0
    while index < len(raw):
        char = raw[index]
        if char == "\\" and index + 1 < len(raw):
            octal = re.match(r"[0-7]{1,3}", raw[index + 1 : index + 4])
            if octal:
                data.append(int(octal.group(0), 8))
                index += 1 + len(octal.group(0))
            else:
                data += raw[index + 1].encode("latin-1", "replace")
                index += 2
            continue
        data += char.encode("utf-8")
        index += 1
    if data.startswith(b"\xfe\xff"):
        return data[2:].decode("utf-16-be", errors="replace")
    return data.decode("latin-1")


def bookmark_titles(main_out: str) -> list[str]:
    r"""The titles of the ``\BOOKMARK [level][…]{dest}{title}{parent}`` lines of hyperref's .out file."""
    titles = []
    for found in re.finditer(r"^\\BOOKMARK\s*\[[^\]]*\]\[[^\]]*\]\{[^{}]*\}(?=\{)", main_out, re.MULTILINE):
        titles.append(decode_pdf_string(braced_argument(main_out, found.end())))
    return titles


# ---------------------------------------------------------------- the generated .tex


def without_cjk(line: str) -> str:
    return CJK_IDEOGRAPH.sub("", line)


def lines_differing_beyond_cjk(simplified: str, traditional: str) -> list[tuple[int, str, str]]:
    """(line number, Simplified line, Traditional line) where the two differ in more than CJK characters."""
    return [
        (number, s, t)
        for number, (s, t) in enumerate(zip(simplified.split("\n"), traditional.split("\n")), 1)
        if s != t and without_cjk(s) != without_cjk(t)
    ]


def without_font_setup(main_tex: str) -> str:
    """main.tex with the Noto CJK region (SC, TC, HK) and the language named in its comments blanked."""
    main_tex = re.sub(r"(Noto (?:Serif|Sans|Sans Mono) CJK) (?:SC|TC|HK)\b", r"\1 <region>", main_tex)
    return re.sub(r"(?:Simplified|Traditional) Chinese(?: \((?:s2t|s2tw|s2twp|s2hk)\))?", "<language>", main_tex)


def fixed_strings(volume: str) -> list[str]:
    """What main.tex may convert: ctex's and bookgen's fixed words, and the volume's title, subtitle, author."""
    entry = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))["volumes"][volume]
    return list(SIMPLIFIED_WORDS.values()) + [str(entry.get(key) or "") for key in ("title", "subtitle", "author")]


def show(items: list[str], limit: int = 15) -> str:
    more = f"\n  … and {len(items) - limit} more" if len(items) > limit else ""
    return "\n  " + "\n  ".join(items[:limit]) + more


# ---------------------------------------------------------------- every Traditional build


@pytest.mark.parametrize("volume,config", EVERY_BUILD)
def test_log_has_no_error_reference_or_missing_glyph(builds, volume, config):
    build = builds.get(volume, config)
    log = build.read("main.log")
    summary = summarize_log(log)
    assert summary.pages > 0, f"{build.name}: main.log reports no output pages"
    assert not summary.errors, f"{build.name}: TeX errors in main.log:{show(summary.errors)}"
    assert summary.undefined_references == 0, (
        f"{build.name}: {summary.undefined_references} undefined references:"
        + show(re.findall(r"^.*Reference `[^']*' on page \d+ undefined.*$", log, re.MULTILINE))
    )
    assert summary.multiply_defined == 0, (
        f"{build.name}: {summary.multiply_defined} multiply-defined labels:"
        + show(re.findall(r"^.*Label `[^']*' multiply defined.*$", log, re.MULTILINE))
    )
    assert summary.missing_characters == 0, (
        f"{build.name}: {summary.missing_characters} glyphs missing from the fonts:"
        + show(re.findall(r"^Missing character: There is no .*$", log, re.MULTILINE))
    )


@pytest.mark.parametrize("volume,config", EVERY_BUILD)
def test_title_is_traditional(builds, volume, config):
    build = builds.get(volume, config)
    title = TRADITIONAL_TITLES[volume]
    assert title in without_whitespace(pdf_text(build.pdf)), f"{build.name}: the title {title} is not in the PDF text"
    assert pdf_title(build.pdf) == title, f"{build.name}: the PDF's metadata title is {pdf_title(build.pdf)!r}"


@pytest.mark.parametrize("volume,config", EVERY_BUILD)
def test_pdf_text_has_no_simplified_only_character(builds, volume, config):
    build = builds.get(volume, config)
    text = pdf_text(build.pdf)
    findings = simplified_only_characters(text, config, code_cjk_runs(build))
    assert not findings, (
        f"{build.name}: {len(findings)} Simplified-only characters in the PDF text "
        f"(line numbers of pdftotext's output):{show(findings)}"
    )


@pytest.mark.parametrize("volume,config", EVERY_BUILD)
def test_bookmarks_have_no_simplified_only_character(builds, volume, config):
    build = builds.get(volume, config)
    titles = bookmark_titles(build.read("main.out"))
    expected = len(yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))["volumes"][volume]["chapters"])
    chapter_titles = [title for title in titles if CHAPTER_HEADING.match(title)]
    assert len(chapter_titles) == expected, f"{build.name}: {expected} chapter bookmarks expected:{show(titles)}"
    findings = simplified_only_characters("\n".join(titles), config, code_cjk_runs(build), join_lines=False)
    assert not findings, (
        f"{build.name}: Simplified-only characters in the bookmarks (line = bookmark number):{show(findings)}"
    )


# ---------------------------------------------------------------- diffusion, against Simplified


@pytest.mark.parametrize("config", CONFIGS)
def test_front_matter_and_words_are_traditional(builds, simplified, config):
    build = builds.get(COMPARED, config)
    text = without_whitespace(pdf_text(build.pdf))
    for expected in ("科學空間系列文章", "蘇劍林", "目錄", "生成擴散模型漫談（一）", "第一章", "圖7.1"):
        assert expected in text, f"{build.name}: {expected} is not in the PDF text"
    baseline = without_whitespace(pdf_text(simplified.pdf))
    for traditional, simplified_form in DIFFUSION_WORDS:
        assert baseline.count(simplified_form) > 10, f"Simplified baseline: {simplified_form} expected in the text"
        assert text.count(traditional) >= baseline.count(simplified_form), (
            f"{build.name}: {traditional} occurs {text.count(traditional)} times, "
            f"{simplified_form} {baseline.count(simplified_form)} times in Simplified"
        )
        assert simplified_form not in text, f"{build.name}: Simplified {simplified_form} left in the text"


@pytest.mark.parametrize("config", CONFIGS)
def test_math_is_the_same_as_in_simplified(builds, simplified, config):
    build = builds.get(COMPARED, config)
    before, after = chapters(body_text(simplified)), chapters(body_text(build))
    assert len(before) == len(after) > 0, f"chapters found: {len(before)} in Simplified, {len(after)} in {build.name}"
    problems = []
    for number, (s, t) in enumerate(zip(before, after), 1):
        lost, gained = math_characters(s) - math_characters(t), math_characters(t) - math_characters(s)
        if lost or gained:
            problems.append(
                f"chapter {number}: only in Simplified {dict(lost)}, only in Traditional {dict(gained)}"
                + show(unmatched_passages(math_skeleton(s), math_skeleton(t), lost, gained))
            )
    if problems:
        # Glyphs TeX sets beyond the paper's edge are not in the PDF's text: name the lines that stick
        # out of the text block by more than the inner or outer margin, the usual cause.
        main_tex = build.read("main.tex")
        margin = min(geometry_points(main_tex, "inner"), geometry_points(main_tex, "outer"))
        overfull = {b.name: overfull_lines(b, margin) for b in (simplified, build)}
        notes = "".join(
            f"\n{name}: lines wider than the text block plus the {margin:.0f} pt margin, cut at the paper's edge:"
            + show(lines)
            for name, lines in overfull.items()
            if lines
        )
        pytest.fail(f"{build.name}: the non-CJK text differs from Simplified:{show(problems)}{notes}", pytrace=False)


@pytest.mark.parametrize("config", CONFIGS)
def test_equation_numbers_are_the_same_as_in_simplified(builds, simplified, config):
    build = builds.get(COMPARED, config)
    before = EQUATION_NUMBER.findall(body_text(simplified))
    after = EQUATION_NUMBER.findall(body_text(build))
    assert len(before) > 100, f"only {len(before)} equation numbers found in the Simplified PDF"
    if before != after:
        first = next((i for i, (s, t) in enumerate(zip(before, after)) if s != t), min(len(before), len(after)))
        around = slice(max(0, first - 3), first + 4)
        pytest.fail(
            f"{build.name}: equation numbers differ from Simplified ({len(before)} vs {len(after)}) at #{first}:\n"
            f"  Simplified:  {before[around]}\n  Traditional: {after[around]}",
            pytrace=False,
        )


@pytest.mark.parametrize("config", CONFIGS)
def test_urls_are_the_same_as_in_simplified(builds, simplified, config):
    build = builds.get(COMPARED, config)
    # As multisets: a float or footnote with a link may land on another page than in Simplified.
    targets_before, targets_after = Counter(link_targets(simplified.pdf)), Counter(link_targets(build.pdf))
    assert sum(targets_before.values()) > 50, f"only {sum(targets_before.values())} hyperlinks in the Simplified PDF"
    assert targets_before == targets_after, (
        f"{build.name}: hyperlink targets differ from Simplified: only in Simplified "
        f"{dict(targets_before - targets_after)}, only in Traditional {dict(targets_after - targets_before)}"
    )
    # The printed URLs: a URL broken across lines is whole again once whitespace is removed.
    text_before, text_after = body_text(simplified), body_text(build)
    joined_before, joined_after = without_whitespace(text_before), without_whitespace(text_after)
    printed = sorted(set(printed_urls(text_before)) | set(printed_urls(text_after)))
    assert len(printed) > 50, f"only {len(printed)} URLs printed in the PDFs"
    differing = [
        f"{url}: {joined_before.count(url)} times in Simplified, {joined_after.count(url)} in Traditional"
        for url in printed
        if joined_before.count(url) != joined_after.count(url)
    ]
    assert not differing, f"{build.name}: printed URLs differ from Simplified:{show(differing)}"


@pytest.mark.parametrize("config", CONFIGS)
def test_posts_tex_differs_from_simplified_only_in_cjk(builds, simplified, config):
    build = builds.get(COMPARED, config)
    before, after = simplified.posts(), build.posts()
    assert before and sorted(before) == sorted(after), f"posts/ differ: {sorted(before)} vs {sorted(after)}"
    problems = []
    changed = 0
    for name in sorted(before):
        s_lines, t_lines = before[name].split("\n"), after[name].split("\n")
        if len(s_lines) != len(t_lines):
            problems.append(f"posts/{name}: {len(s_lines)} lines in Simplified, {len(t_lines)} in {config}")
            continue
        changed += sum(s != t for s, t in zip(s_lines, t_lines))
        for number, s, t in lines_differing_beyond_cjk(before[name], after[name]):
            problems.append(f"posts/{name}:{number}:\n    - {s[:300]}\n    + {t[:300]}")
    assert not problems, f"{build.name}: generated posts differ in more than CJK characters:{show(problems, 10)}"
    assert changed > 100, f"{build.name}: only {changed} lines of posts/ converted"


@pytest.mark.parametrize("config", CONFIGS)
def test_main_tex_differs_from_simplified_only_in_fonts_and_fixed_words(builds, simplified, config):
    build = builds.get(COMPARED, config)
    region = {"s2tw": "TC", "s2hk": "HK"}[config]
    before, after = simplified.read("main.tex"), build.read("main.tex")
    assert f"Noto Serif CJK {region}" in after and "CJK SC" not in after, f"{build.name}: fonts of main.tex"
    s_lines, t_lines = before.split("\n"), after.split("\n")
    assert len(s_lines) == len(t_lines), f"main.tex: {len(s_lines)} lines in Simplified, {len(t_lines)} in {config}"
    convert = converter_for(config, None)
    allowed = fixed_strings(COMPARED)
    problems = []
    for number, (s, t) in enumerate(zip(s_lines, t_lines), 1):
        if s == t:
            continue
        if without_cjk(without_font_setup(s)) != without_cjk(without_font_setup(t)):
            problems.append(f"line {number} differs beyond fonts and CJK:\n    - {s}\n    + {t}")
            continue
        strays = [run for run in CJK_IDEOGRAPHS.findall(s) if not any(run in fixed for fixed in allowed)]
        if strays:
            problems.append(f"line {number}: {strays} converted, not a fixed word or title:\n    - {s}\n    + {t}")
        elif without_font_setup(convert(s)) != without_font_setup(t):
            problems.append(f"line {number} is not the conversion of Simplified:\n    - {s}\n    + {t}")
    assert not problems, f"{build.name}: main.tex differs from Simplified in more than fonts and words:{show(problems)}"
