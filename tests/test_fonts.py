"""bookgen.fonts: coverage, xeCJK's classes, the preamble's fonts, and the choice of a font per cluster.

The choice is tested with a fake coverage table (``fixtures.fake_chooser``), so it runs without
fonts; the last tests check the real machine: the chain's fonts are installed, the
built-in preamble's fonts are found, and the emulated xeCJK classes are XeTeX's own.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from bookgen import fonts
from bookgen.latex.templating import builtin_chooser
from bookgen.fonts import AS_IS, LATIN, Coverage, FontSetup, XeCJKClasses
from fixtures import REPO_DIR, fake_chooser


# ---------------------------------------------------------------- coverage


def test_coverage_ranges_membership_and_intersection():
    one = Coverage.of([1, 2, 3, 7, 10, 11])
    assert one.starts == (1, 7, 10) and one.ends == (3, 7, 11)
    assert [c in one for c in (0, 1, 3, 4, 7, 8, 11, 12)] == [False, True, True, False, True, False, True, False]
    both = one & Coverage.of([2, 3, 4, 5, 11])
    assert (both.starts, both.ends) == ((2, 11), (3, 11))
    assert len(both) == 3


def test_coverage_cache_reads_a_face_once_and_again_when_it_changes(tmp_path, monkeypatch):
    font = tmp_path / "x.otf"
    font.write_bytes(b"one")
    reads = []
    monkeypatch.setattr(fonts.coverage, "read_cmap", lambda face: reads.append(face) or {65, 66, 67, 0x4E00})
    cache = fonts.CoverageCache(tmp_path / "cache" / "coverage.json")
    face = fonts.Face(str(font), 0)
    assert 0x4E00 in cache.coverage(face) and 68 not in cache.coverage(face)
    cache.save()
    again = fonts.CoverageCache(tmp_path / "cache" / "coverage.json")
    assert 66 in again.coverage(face)
    assert len(reads) == 1  # the second cache read the file written by the first
    font.write_bytes(b"changed, longer")
    again.coverage(face)
    assert len(reads) == 2


# ---------------------------------------------------------------- xeCJK classes and the preamble

STY = r"""
\clist_const:Nn \c__xeCJK_HalfLeft_chars_clist
  { "28  , "5B }
\clist_const:Nn \c__xeCJK_OP_chars_clist { "2018 , "201C }
\clist_const:Nn \c__xeCJK_PR_chars_clist { "FF04 }
\clist_const:Nn \c__xeCJK_CL_chars_clist { "2019 , "201D }
\clist_const:Nn \c__xeCJK_CJK_chars_clist
  {
    "4E00 -> "9FFF ,
    "20000 -> "2A6DF
  }
"""


def test_xecjk_classes_from_the_sty_text():
    classes = XeCJKClasses.from_declarations(fonts.xecjk_declarations(STY))
    assert [classes.of(c) for c in "(中“”＄a"] == ["HalfLeft", "CJK", "FullLeft", "FullRight", "FullLeft", "Default"]
    assert classes.of("\U00020BB7") == "CJK" and classes.of("\u3099") == "CM"


def test_later_declarations_win():
    declarations = fonts.xecjk_declarations(STY) + fonts.preamble_declarations(
        r'\xeCJKDeclareCharClass{CJK}{"0370 -> "03FF, "2018}' + "\n% \\xeCJKDeclareCharClass{Default}{\"4E00}"
    )
    classes = XeCJKClasses.from_declarations(declarations)
    assert classes.of("α") == "CJK" and classes.of("‘") == "CJK" and classes.of("中") == "CJK"
    assert classes.of("ϗ") == "CJK" and classes.of("Ѐ") == "Default"


def test_font_setup_from_a_preamble():
    setup = FontSetup.from_preamble(
        "\\setCJKmainfont{Serif CJK}[BoldFont=Serif CJK Bold,ItalicFeatures={FakeSlant=0.15}]\n"
        "\\setCJKsansfont{Sans CJK}\n% \\setmainfont{Commented Out}\n\\setmonofont{My Mono}[Scale=0.95]\n"
    )
    assert setup.fonts("latin", "text") == ("Latin Modern Roman", "Latin Modern Sans")  # fontspec's defaults
    assert setup.fonts("latin", "mono") == ("My Mono",)
    assert setup.fonts("cjk", "text") == ("Serif CJK", "Serif CJK Bold", "Sans CJK")
    assert setup.fonts("cjk", "mono") == ("Sans CJK",)  # xeCJK: no mono font set → the sans one
    assert setup.cjk_family("text") == "Serif CJK"


def test_tex_key_is_letters():
    assert fonts.tex_key("Noto Sans Symbols2") == "notosanssymbolstwo"
    assert fonts.tex_key("DejaVu Sans Mono") == "dejavusansmono"


# ---------------------------------------------------------------- the choice


def test_characters_the_fonts_have_stay_as_they_are():
    chooser = fake_chooser(latin="é", cjk="中，")
    assert chooser.choose("中", "text") == ("中", AS_IS)
    assert chooser.choose("é", "text") == ("é", AS_IS)
    assert chooser.char_ok("中", "text") and chooser.char_ok("a", "mono")


def test_a_latin_character_goes_to_the_first_font_of_the_chain_that_has_it():
    chooser = fake_chooser(chain={"Serif": "ʊ", "Symbols": "ʊ▂", "Emoji": "😀"})
    assert chooser.choose("ʊ", "text") == ("ʊ", "Serif")
    assert chooser.choose("▂", "text") == ("▂", "Symbols")
    assert chooser.choose("😀", "text") == ("😀", "Emoji")


def test_the_other_main_font_comes_before_the_chain():
    chooser = fake_chooser(latin="ϐ", cjk="─", chain={"Box": "─ϐ"})
    assert chooser.choose("─", "text") == ("─", "CJK")  # a Latin-class character the CJK font has
    assert chooser.choose("\u4E01", "text") == ("\u4E01", None)  # CJK class, in no font
    chooser = fake_chooser(latin="丁")
    assert chooser.choose("丁", "text") == ("丁", LATIN)  # CJK class, the CJK font lacks it, the Latin has it


def test_code_has_its_own_fonts_and_chain():
    chooser = fake_chooser(latin="ʊ", mono_latin="", chain={"Serif": "ʊ"}, mono_chain={"Mono": "ʊ", "Serif": "ʊ"})
    assert chooser.choose("ʊ", "text") == ("ʊ", AS_IS)
    assert chooser.choose("ʊ", "mono") == ("ʊ", "Mono")


def test_a_cluster_stays_in_one_font():
    # The Latin font has q but not the tilde: both go to the font that has both.
    chooser = fake_chooser(latin="", chain={"Marks": "\u0303", "Serif": "q\u0303"})
    assert chooser.choose("q\u0303", "text") == ("q\u0303", "Serif")
    # The Latin font has both: as is.
    assert fake_chooser(latin="\u0303").choose("q\u0303", "text") == ("q\u0303", AS_IS)
    # A mark after a CJK character would switch xeCJK to the Latin font: set both in one font.
    chooser = fake_chooser(latin="\u0303", cjk="中\u0303", chain={"Both": "中\u0303"})
    assert chooser.choose("中\u0303", "text") == ("中\u0303", "CJK")


def test_a_precomposed_form_is_preferred():
    chooser = fake_chooser(latin="é", chain={"Serif": "e\u0301"})
    assert chooser.choose("e\u0301", "text") == ("é", AS_IS)


def test_private_use_and_unassigned_code_points_have_no_glyph():
    chooser = fake_chooser(latin="\ue000\u0378", chain={"Everything": "\ue000\u0378\U0010fffd"})
    for char in ("\ue000", "\u0378", "\U0010fffd"):
        assert chooser.choose(char, "text") == (char, None)
        assert not chooser.char_ok(char, "text")


def test_a_character_no_font_has():
    assert fake_chooser(chain={"Serif": "ʊ"}).choose("▂", "text") == ("▂", None)


def test_split_clusters():
    assert fonts.split_clusters("q\u0303a\u030b\u0301 中") == ["q\u0303", "a\u030b\u0301", " ", "中"]
    assert fonts.split_clusters("\u0303x") == ["\u0303", "x"]


# ---------------------------------------------------------------- the real machine

needs_fontconfig = pytest.mark.skipif(shutil.which("fc-list") is None, reason="fontconfig (fc-list) not installed")


@needs_fontconfig
def test_the_fallback_chain_is_installed():
    """setup.sh installs every font of the chains (fonts-noto-core, fonts-symbola, …)."""
    missing = fonts.missing_fallbacks()
    assert missing == [], "not installed: " + ", ".join(f"{f.family} ({f.package})" for f in missing)


@needs_fontconfig
def test_setup_sh_installs_the_chains_packages():
    setup = (REPO_DIR / "setup.sh").read_text(encoding="utf-8")
    for package in {f.package for f in fonts.MONO_CHAIN}:
        assert re.search(rf"\b{re.escape(package)}\b", setup), package


@needs_fontconfig
@pytest.mark.parametrize("traditional", [None, "s2tw", "s2hk"])
def test_the_builtin_preamble_fonts_are_checked(traditional):
    chooser = builtin_chooser(traditional)
    assert chooser.problem == ""
    assert chooser.choose("中", "text")[1] == AS_IS and chooser.choose("ʊ", "text")[1] not in (AS_IS, None)
    assert chooser.choose("\U00020000", "text")[1] not in (AS_IS, None)  # CJK Extension B: the chain has it


@pytest.mark.tex
def test_emulated_classes_are_xetex_own(tmp_path, tex_available):
    """Every code point's class as xeCJK and the built-in preamble leave it, dumped by XeTeX, against ours."""
    from bookgen import model as m
    from bookgen.latex.language import language_for
    from bookgen.latex.templating import template_environment

    book = m.Book("k", m.text("t"), m.text("s"), m.text("a"), "a4paper", ())
    preamble = template_environment(()).get_template("preamble.tex.j2").render(
        book=book, language=language_for(None), extra_preamble=""
    )
    dump = r"""
\makeatletter\ExplSyntaxOn
\newwrite\bookgenout \immediate\openout\bookgenout=classes.txt
\int_step_inline:nnn { 0 } { "10FFFF } { \int_compare:nNnF { \XeTeXcharclass #1 } = { \XeTeXcharclass \int_max:nn { #1 - 1 } { 0 } }
  { \immediate\write\bookgenout { #1 : \int_use:N \XeTeXcharclass #1 } } }
\immediate\write\bookgenout { 0 : \int_use:N \XeTeXcharclass 0 }
\immediate\closeout\bookgenout
\seq_map_inline:Nn \g__xeCJK_class_seq { \immediate\write-1 { CLASS : #1 : \int_use:c { c__xeCJK_#1_class_int } } }
\ExplSyntaxOff\makeatother
"""
    (tmp_path / "t.tex").write_text(preamble + dump + "\\begin{document}x\\end{document}\n", encoding="utf-8")
    subprocess.run(["xelatex", "-interaction=batchmode", "t.tex"], cwd=tmp_path, capture_output=True, timeout=600)
    log = (tmp_path / "t.log").read_text(encoding="utf-8", errors="replace")
    numbers = {int(n): name for name, n in re.findall(r"^CLASS:(\S+):(\d+)$", log, re.M)}
    numbers.setdefault(0, "Default")
    changes = sorted({int(a): int(b) for a, b in re.findall(r"^(\d+):(\d+)$", (tmp_path / "classes.txt").read_text(), re.M)}.items())
    assert len(changes) > 50
    ours = builtin_chooser(None).classes
    for (start, number), following in zip(changes, changes[1:] + [(0x110000, None)]):
        name = numbers.get(number, f"#{number}")
        for code in {start, following[0] - 1, (start + following[0] - 1) // 2}:
            assert ours.of(chr(code)) == name, f"U+{code:04X}: XeTeX says {name}, bookgen {ours.of(chr(code))}"


def test_the_fingerprint_of_the_fonts_changes_with_a_font_file(tmp_path, monkeypatch):
    """A font updated, installed or removed changes the fingerprint, which keys the build cache."""
    face = tmp_path / "Serif.otf"
    face.write_bytes(b"font")
    installed = {"Serif": (fonts.Face(str(face), 0),)}
    monkeypatch.setattr(fonts, "family_faces", lambda name: installed.get(name, ()))
    monkeypatch.setattr(fonts, "xecjk_sty", lambda: "sty")
    setup = FontSetup.from_preamble("\\setmainfont{Serif}")
    first = fonts.fonts_fingerprint(setup)
    assert fonts.fonts_fingerprint(setup) == first
    face.write_bytes(b"font, version 2")
    assert fonts.fonts_fingerprint(setup) != first
    updated = fonts.fonts_fingerprint(setup)
    installed["Symbola"] = (fonts.Face(str(tmp_path / "Symbola.ttf"), 0),)  # a fallback of the chain installed
    assert fonts.fonts_fingerprint(setup) not in (first, updated)
