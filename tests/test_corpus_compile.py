r"""The real corpus, compiled: the three series, and one volume of every post of each corpus folder.

Each volume is built once for this module (``bookgen build … --sources FOLDER
--out TMP``; about one to two minutes each) and then checked from xelatex's log
(``compile.summarize_log``), the report and the generated .tex:

* no TeX error, no undefined reference, no multiply-defined label, no
  ``Missing character`` (a glyph the fonts lack);
* nothing shown as source: the fallback ladder is a safety net for posts nobody
  has seen, never a way to pass a post of the corpus the repairs should handle;
* every ``\eqref``/``\ref`` target (and every chapter/section cross-reference)
  in the generated posts has its ``\label`` in the volume;
* no equation reference silently dropped: per post, the ``\eqref``/``\ref`` of
  the source body come out as as many references or visible dangling markers.

Needs the corpus (``$BOOKGEN_CORPUS`` or ``<workspace>/shared/corpus/md``),
xelatex and latexmk; skipped without them.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from bookgen.compile import summarize_log
from bookgen.readers.mirror import split_mirror
from bookgen.sources import SourceIndex
from fixtures import REPO_DIR, all_posts_manifest, invoke

pytestmark = [pytest.mark.tex, pytest.mark.corpus]

SERIES = ("lowrank", "transformer", "diffusion")
# A volume of every post of each corpus folder: the html2text mirror, the markdownify mirror, the site's pages.
FOLDERS = {"corpus-md": "md", "corpus-md_tohnee": "md_tohnee", "corpus-html": "html"}
VOLUMES = SERIES + tuple(FOLDERS)

# A command, not letters after a line break (`\\eqref` is `\\` then text).
UNESCAPED = r"(?<!\\)(?:\\\\)*\\"
LABEL = re.compile(UNESCAPED + r"(?:label|bookgeninlinelabel)\{([^{}]*)\}")
REFERENCE = re.compile(UNESCAPED + r"(?:eqref|ref|bookgenchapref|bookgensecref)\{([^{}]*)\}")
EQUATION_REFERENCE = re.compile(UNESCAPED + r"(?:eqref|ref)\{")
DANGLING = re.compile(r"\\bookgendangling\{")
SOURCE_REFERENCE = re.compile(UNESCAPED + r"(?:eqref|ref)(?![A-Za-z])")
MISSING_CHARACTER = re.compile(r"^Missing character: There is no (.*)$", re.MULTILINE)


@pytest.fixture(scope="module", params=VOLUMES)
def built(request, corpus_dir, tex_available, tmp_path_factory):
    """(volume key, its build folder, the corpus folder): each volume built once for the module."""
    key = request.param
    root = tmp_path_factory.mktemp(f"compile-{key}")
    out = root / "out"
    folder = corpus_dir.parent / FOLDERS[key] if key in FOLDERS else corpus_dir
    if not folder.is_dir():
        pytest.skip(f"no corpus folder {folder}")
    args = ["build", key, "--sources", folder, "--out", out, "-q"]
    if key in FOLDERS:
        args += ["--manifest", all_posts_manifest(folder, root, key)]
    result = invoke(args, cwd=REPO_DIR, env={"BOOKGEN_SOURCES": None})
    assert result.exception is None, repr(result.exception)
    assert result.code == 0, f"{key}: bookgen build failed:\n{result.stderr}"
    assert (out / f"{key}.pdf").is_file()
    return key, out / key, folder


def generated_posts(volume_dir: Path) -> dict[int, str]:
    return {int(p.stem): p.read_text(encoding="utf-8") for p in sorted((volume_dir / "posts").glob("*.tex"))}


def test_log_is_clean(built):
    key, volume_dir, _ = built
    log = (volume_dir / "main.log").read_text(encoding="utf-8", errors="replace")
    summary = summarize_log(log)
    missing = Counter(MISSING_CHARACTER.findall(log))
    assert summary.pages > 0, key
    assert summary.errors == [], key
    assert summary.undefined_references == 0, re.findall(r"Reference `[^']*' on page \d+ undefined", log)[:20]
    assert summary.multiply_defined == 0, re.findall(r"Label `[^']*' multiply defined", log)[:20]
    assert summary.missing_characters == 0, f"{key}: {dict(missing)}"
    # no package warns either (amsmath's on a bracket read as aligned's position, or on \choose)
    assert summary.warnings == 0, re.findall(r"^.*Warning.*$", log, re.MULTILINE)[:10]


def test_nothing_is_shown_as_source(built):
    key, volume_dir, _ = built
    report = (volume_dir / "report.txt").read_text(encoding="utf-8")
    fallbacks = [line for line in report.splitlines() if "] warning: TeX error" in line]
    assert fallbacks == [], f"{key}: units TeX rejected, shown as source: {fallbacks[:10]}"
    posts = generated_posts(volume_dir)
    assert not [post for post, text in posts.items() if "\\bookgenfallback" in text], key


def test_every_reference_has_its_label(built):
    key, volume_dir, _ = built
    posts = generated_posts(volume_dir)
    texts = list(posts.values()) + [(volume_dir / "main.tex").read_text(encoding="utf-8")]
    labels = Counter(label for text in texts for label in LABEL.findall(text))  # chapters: \label{post:ID}
    unresolved = sorted(
        {(post_id, target) for post_id, text in posts.items() for target in REFERENCE.findall(text) if target not in labels}
    )  # fmt: skip
    assert unresolved == [], f"{key}: references without a label: {unresolved[:20]}"
    assert sorted(label for label, count in labels.items() if count > 1) == [], key


def test_no_equation_reference_is_dropped(built):
    key, volume_dir, corpus_dir = built
    if FOLDERS.get(key) == "html":
        pytest.skip("counts the references of a Markdown mirror's text")
    index = SourceIndex.scan((corpus_dir,))
    posts = generated_posts(volume_dir)
    mismatched, total = {}, 0
    for post_id, text in posts.items():
        source = index.find(post_id)
        assert source is not None, post_id
        body = split_mirror(source.read_text(encoding="utf-8")).body
        written = len(SOURCE_REFERENCE.findall(body))
        emitted = len(EQUATION_REFERENCE.findall(text)) + len(DANGLING.findall(text))
        if written != emitted:
            mismatched[post_id] = (written, emitted)
        total += emitted
    assert mismatched == {}, f"{key}: post → (references in the source, references + dangling markers in the .tex)"
    assert total > 0 or key not in FOLDERS  # the corpus refers to its equations: the count must see them


def test_a_series_contents_shows_short_chapter_titles(built):
    """series.yaml titles its series' chapters short: the contents (and bookmarks) never repeat the series' name."""
    from bookgen.manifest import load_manifest

    key, volume_dir, _ = built
    if key not in SERIES:
        pytest.skip("not a series")
    volume = load_manifest(REPO_DIR / "series.yaml").volume(key)
    toc = (volume_dir / "main.toc").read_text(encoding="utf-8")
    entries = re.findall(r"^\\contentsline \{chapter\}\{(.*)\}\{[^{}]*\}\{chapter\.\d+\}%?$", toc, re.MULTILINE)
    assert len(entries) == len(volume.chapters), toc[:2000]
    assert [entry for entry in entries if volume.title in entry] == []
    outline = (volume_dir / "main.out").read_text(encoding="latin-1")  # hyperref's bookmarks, UTF-16 in octal escapes
    marks = [bookmark_text(m) for m in re.findall(r"^\\BOOKMARK \[0\]\[\]\{chapter\.\d+\}\{(.*)\}\{\}", outline, re.MULTILINE)]
    assert len(marks) == len(volume.chapters) and [mark for mark in marks if volume.title in mark] == []


def bookmark_text(escaped: str) -> str:
    r"""``\376\377\173\054…`` (hyperref's PDF string: UTF-16BE with a BOM, bytes as octal escapes) → the text."""
    data = bytearray()
    index = 0
    while index < len(escaped):
        if escaped[index] == "\\" and escaped[index + 1 : index + 4].isdigit():
            data.append(int(escaped[index + 1 : index + 4], 8))
            index += 4
        else:
            data += escaped[index].encode("latin-1")
            index += 1
    return bytes(data).decode("utf-16-be").lstrip("\ufeff")
