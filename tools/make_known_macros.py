"""Regenerate bookgen/transforms/known_macros.txt: every control sequence LaTeX defines with bookgen's preamble.

Candidates are every ``\\name`` written in the files xelatex reads for the
preamble (from its ``-recorder`` list) plus latex.ltx and fontmath.ltx (the
format is preloaded, so the kernel sources are not in that list) plus, when
lualatex is installed, every name in LuaTeX's hash after loading the same
packages (this catches names built with ``\\csname``).  Each candidate is then
tested with xelatex after ``\\begin{document}`` at successive stages of the
preamble -- the class, then each package in turn -- and filed under the first
stage that defines it.  Names whose meaning is ``\\relax`` (left behind by
``\\csname`` tests) are not defined in any useful sense and are dropped.

Run from the repository root:  python tools/make_known_macros.py
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bookgen import model as m  # noqa: E402
from bookgen.latex.language import language_for  # noqa: E402
from bookgen.latex.templating import template_environment  # noqa: E402

OUT = ROOT / "bookgen" / "transforms" / "known_macros.txt"
NAME = re.compile(r"\\([A-Za-z]+)")
# Control symbols: every printable ASCII non-letter (the space is handled in code).
SYMBOLS = [chr(c) for c in range(0x21, 0x7F) if not chr(c).isalpha()]


def preamble() -> str:
    book = m.Book(key="k", title="t", subtitle="s", author="a", paper="a4paper", chapters=())
    env = template_environment(())
    return env.get_template("preamble.tex.j2").render(book=book, language=language_for(None), extra_preamble="")


def stages(text: str) -> list[tuple[str, str]]:
    """(group name, preamble up to and including that group), cumulative.

    A stage per package, and one after each line of the preamble's own that defines something.
    """
    own = "bookgen's preamble"
    lines = text.splitlines()
    first_package = next(i for i, line in enumerate(lines) if line.startswith("\\usepackage"))
    done = lines[:first_package]
    out = [("LaTeX kernel, ctexbook class (ctex, xeCJK, fontspec)", "\n".join(done))]
    for line in lines[first_package:]:
        match = re.match(r"\\usepackage(\[[^]]*\])?\{([^}]*)\}\s*(%.*)?$", line)
        if not match:
            done = done + [line]
            if re.match(r"\s*\\(new|renew|provide|def|let|Declare)", line):
                out.append((own, "\n".join(done)))
            continue
        for name in match.group(2).split(","):
            done = done + [f"\\usepackage{match.group(1) or ''}{{{name}}}"]
            out.append((name, "\n".join(done)))
    out.append((own, text))
    return out


def run(engine: str, tex: str, folder: Path, name: str, *args: str) -> str:
    (folder / f"{name}.tex").write_text(tex, encoding="utf-8")
    subprocess.run(
        [engine, "-interaction=batchmode", *args, f"{name}.tex"], cwd=folder,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=900,
    )  # fmt: skip
    return (folder / f"{name}.log").read_text(encoding="utf-8", errors="replace")


def candidates(full: str, folder: Path) -> set[str]:
    run("xelatex", full + "\n\\begin{document}\n\\end{document}\n", folder, "files", "-recorder")
    names: set[str] = set()
    files = {ln[6:].strip() for ln in (folder / "files.fls").read_text().splitlines() if ln.startswith("INPUT ")}
    files |= {subprocess.run(["kpsewhich", f], capture_output=True, text=True).stdout.strip()
              for f in ("latex.ltx", "fontmath.ltx", "fonttext.ltx", "preload.ltx")}  # fmt: skip
    for file in files:
        path = Path(file) if Path(file).is_absolute() else folder / file
        if path.is_file() and path.suffix in (".sty", ".cls", ".def", ".cfg", ".ltx", ".clo", ".fd", ".tex"):
            names |= set(NAME.findall(path.read_text(encoding="utf-8", errors="replace")))
    if shutil.which("lualatex"):
        packages = re.findall(r"^\\usepackage.*$", full, re.M)
        doc = "\\documentclass{book}\n\\usepackage{fontspec}\n" + "\n".join(packages)
        doc += "\n\\begin{document}\n\\directlua{for _, n in ipairs(tex.hashtokens()) do"
        doc += ' texio.write_nl("log", "HASH:" .. n .. ":") end}\n\\end{document}\n'
        log = run("lualatex", doc, folder, "hash")
        names |= set(re.findall(r"^HASH:([A-Za-z]+):$", log, re.M))
    return names


def defined(pre: str, names: list[str], folder: Path, tag: str) -> set[str]:
    """Which of ``names`` are defined (and not \\relax) after ``pre`` and \\begin{document}."""
    tests = []
    for index, name in enumerate(names):
        # A control symbol's name is made from the symbol's own control sequence, so that
        # % { } # never appear bare in the source.
        cs = name if name.isalpha() else f"\\expandafter\\@gobble\\string\\{name}"
        tests.append(
            f"\\ifcsname {cs}\\endcsname\\expandafter\\ifx\\csname {cs}\\endcsname\\relax"
            f"\\else\\immediate\\write\\known{{{index}}}\\fi\\fi"
        )
    doc = f"{pre}\n\\newwrite\\known\n\\begin{{document}}\n\\immediate\\openout\\known=known.out\n"
    doc += "\\makeatletter\n" + "\n".join(tests) + "\n\\immediate\\closeout\\known\n\\end{document}\n"
    (folder / "known.out").unlink(missing_ok=True)
    run("xelatex", doc, folder, f"stage-{tag}")
    out = folder / "known.out"
    found = {int(line) for line in out.read_text().split()} if out.exists() else set()
    return {names[i] for i in found} | ({"relax"} & set(names))  # \relax is \relax, and defined


def main() -> None:
    full = preamble()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        names = sorted(candidates(full, folder)) + SYMBOLS
        if "relax" not in names:
            names.append("relax")
        found: dict[str, set[str]] = {}
        seen: set[str] = set()
        steps = stages(full)
        final = defined(steps[-1][1], names, folder, "final")
        for index, (group, pre) in enumerate(steps):
            here = final if index == len(steps) - 1 else defined(pre, names, folder, str(index)) & final
            found.setdefault(group, set()).update(here - seen)
            seen |= here
        order = lambda n: (not n.isalpha(), n.lower(), n)  # noqa: E731
        groups = [(group, sorted(new, key=order)) for group, new in found.items() if new]
    lines = [
        "# Control sequences LaTeX defines with bookgen's preamble (templates/preamble.tex.j2),",
        "# read by the unknown-commands pass: a name in math that is neither here nor defined",
        "# by the post is replaced by \\bookgenunknown{name} instead of stopping the build.",
        f"# Generated by tools/make_known_macros.py on {date.today().isoformat()} (xelatex, TeX Live);",
        "# rerun it after changing the preamble.  Each name is filed under the first package",
        "# that defines it.  One control sequence per line; lines starting with # are comments.",
        "# The control space (backslash-space) is always known and not listed.",
    ]
    for group, new in groups:
        lines.append("")
        lines.append(f"## {group} ({len(new)})")
        lines.extend("\\" + n for n in new)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{OUT}: {sum(len(g) for _, g in groups)} names")
    for group, new in groups:
        print(f"  {group}: {len(new)}")


if __name__ == "__main__":
    main()
