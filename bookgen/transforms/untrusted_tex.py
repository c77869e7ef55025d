"""Neutralise TeX in posts that could touch files, the shell, catcodes or the document.

Posts come from the web, and the only raw TeX the writer emits from a post is
``Math.tex``.  This pass runs before anything else trusts that TeX: every
dangerous control sequence becomes ``{\\bookgenunknown{name}}`` (the preamble
prints it as a visible boxed ``\\name``; the braces make it one math atom, so
``x^\\input`` still has a superscript to typeset).

What is dangerous:

* file, shell and PDF access (``\\input``, ``\\openout``, ``\\write``,
  ``\\special``, ``\\href{run:…}``, fonts loaded from a path …);
* anything that changes how TeX reads what follows (``\\catcode``, ``\\verb``,
  ``\\makeatletter``, ``\\endlinechar``, ``^^`` notation, control characters);
* anything that builds a control sequence from characters (``\\csname``,
  ``\\string``, ``\\expandafter``, ``\\UseName``, and ``\\begin{X}``, which
  runs ``\\X``: ``\\begin{input}{/etc/passwd}`` is ``\\input``);
* definitions and assignments that escape the post's group or loop forever
  (``\\def``, ``\\let``, ``\\global``, ``\\loop``, conditionals …);
* the document's structure (``\\documentclass``, ``\\end{document}``,
  ``\\endinput``, ``\\begingroup``/``\\endgroup`` …), and every name with ``@``.
* ``\\unicode{94}`` and friends, which ``mathjax-macros`` would turn into a TeX
  special *after* this pass (two of them make ``^^``), and a ``\\newcommand`` or
  ``\\newenvironment`` of a denied name (``\\newcommand{\\endgroup}{}``).

Removed control characters leave a space, so ``\\in^^@put`` never becomes ``\\input``.

``\\newcommand`` and friends are left to the ``mathjax-macros`` pass, which runs
after this one; their bodies have been cleaned here already.
"""

from __future__ import annotations

import dataclasses
import re
from functools import lru_cache

from bookgen import model as m
from bookgen.escape import SAFE_URL
from bookgen.transforms import walk
from bookgen.transforms.base import Context, Pass

NAME = "untrusted-tex"

# Exact names (without the backslash) that are never allowed in a post's math.
DENIED = frozenset(
    """
    input include includeonly InputIfFileExists IfFileExists openin openout read readline write immediate
    closein closeout newwrite newread endinput openoutput nofiles listfiles addtocontents addcontentsline
    VerbatimInput BVerbatimInput LVerbatimInput verbatiminput lstinputlisting includegraphics includepdf
    filesize filemoddate filedump mdfivesum typein typeout
    font fontspec setmainfont setsansfont setmonofont setmathfont newfontfamily newfontface
    setCJKmainfont setCJKsansfont setCJKmonofont setCJKfamilyfont newCJKfontfamily
    special shipout output jobname primitive directlua luaexec luadirect ShellEscape ShellEscapeEnabled
    catcode uccode lccode sfcode mathcode delcode endlinechar newlinechar escapechar
    makeatletter makeatother verb Verb lstinline mintinline obeylines obeyspaces scantokens detokenize
    ExplSyntaxOn ExplSyntaxOff
    csname endcsname ifcsname expandafter string meaning noexpand unexpanded romannumeral lowercase uppercase
    UseName ExpandArgs NewCommandCopy RenewCommandCopy DeclareCommandCopy LetLtxMacro
    def gdef edef xdef let futurelet global globaldefs outer long protected afterassignment aftergroup
    chardef mathchardef countdef dimendef skipdef muskipdef toksdef
    NewDocumentCommand RenewDocumentCommand ProvideDocumentCommand DeclareDocumentCommand
    NewExpandableDocumentCommand RenewExpandableDocumentCommand DeclareExpandableDocumentCommand
    NewDocumentEnvironment RenewDocumentEnvironment ProvideDocumentEnvironment DeclareDocumentEnvironment
    DeclareRobustCommand
    everypar everymath everydisplay everyhbox everyvbox everyjob everycr everyeof
    errhelp errmessage message show showthe showbox showlists showtokens showgroups showifs ShowCommand
    batchmode nonstopmode scrollmode errorstopmode interactionmode
    documentclass usepackage RequirePackage NeedsTeXFormat ProvidesPackage ProvidesFile PassOptionsToPackage
    DocumentMetadata document enddocument stop dump end
    AtBeginDocument AtEndDocument AddToHook AddToHookNext AtEndOfPackage AtBeginDvi AtBeginShipout AtEndPreamble
    hypersetup Acrobatmenu hyperimage Form TextField CheckBox ChoiceMenu PushButton Submit Reset
    loop repeat iterate
    if ifx ifnum ifdim ifodd ifcase ifcat ifvmode ifhmode ifmmode ifinner ifvoid ifhbox ifvbox ifeof
    iftrue iffalse ifdefined iffontchar ifincsname unless else fi or newif
    begingroup endgroup bgroup egroup
    newcount newdimen newtoks newbox newskip newmuskip newinsert newlanguage newfam
    count dimen skip muskip toks setbox box
    """.split()
)
# Families of primitives denied by prefix: pdfTeX/XeTeX/LuaTeX extensions, tracing, bookgen's own macros.
DENIED_PREFIXES = ("pdf", "XeTeX", "luatex", "tracing", "bookgen")
# The marker itself (so running the pass twice changes nothing) and the harmless
# macros later passes put into math, so this pass may run again after them.
ALLOWED = frozenset({
    "bookgenunknown", "bookgenfit", "bookgenfitbox", "bookgendangling", "bookgeninlinelabel", "bookgenbbox",
    "bookgencircle", "bookgenroundedbox",
})  # fmt: skip
# Environments that read or write files or change catcodes (beyond those named in DENIED).
DENIED_ENVIRONMENTS = frozenset(
    """
    document filecontents filecontents* verbatim verbatim* Verbatim Verbatim* BVerbatim BVerbatim* LVerbatim
    LVerbatim* SaveVerbatim VerbatimOut lstlisting minted comment luacode luacode*
    """.split()
)
# Link targets math may point at: what the writer lets become a link (SAFE_URL), or a #name inside
# the PDF; anything else (run:, file:, smb:, javascript:) becomes a PDF action.  A target that is not
# one plain group (``\href{{run:…}}``, ``\href[…]{…}``, ``\url|…|``) cannot be checked: neutralised too.
LINK_TARGET = re.compile(r"\s*\{([^{}]*)\}")
LINK_COMMANDS = ("href", "url")
# Definitions whose name is checked: \newcommand{\endgroup}{} would break the
# post's group, \newcommand{\bookgenunknown}{…} the marker.  mathjax-macros
# moves them out of math, and the blog writes the name without a backslash too.
DEFINERS = ("newcommand", "renewcommand", "providecommand", "DeclareMathOperator")
ENV_DEFINERS = ("newenvironment", "renewenvironment")
DEFINED_NAME = re.compile(r"\s*\*?\s*(?:\{\s*\\?([A-Za-z@]+)\s*\}|\\([A-Za-z@]+))")
DEFINED_ENV = re.compile(r"\s*\*?\s*\{([^{}\\]*)\}")
# MathJax's \unicode{N} becomes the character N (mathjax-macros): never a TeX special.
UNICODE_ARG = re.compile(r"\s*(?:\[[^\]]*\]\s*)?\{\s*(x[0-9A-Fa-f]+|X[0-9A-Fa-f]+|[0-9]+)\s*\}")
UNSAFE_CHARACTERS = frozenset("\\{}$&#^_%~") | frozenset(map(chr, range(32))) | frozenset(map(chr, range(127, 160)))

# A regex over control-sequence tokens, scanning left to right, rather than
# pylatexenc's parse: the parse is tolerant and would misplace or swallow a
# primitive inside an unbalanced group, an unknown environment or a
# ``\csname`` built name, and this pass must catch every occurrence.  Scanning
# left to right keeps ``\\`` (a line break) one token, so ``\\input`` is a line
# break followed by letters, and ``\\\input`` is a line break followed by \input.
TOKEN = re.compile(
    r"(?P<hat>\^\^)"  # ^^5c: TeX turns it into a backslash before it even sees tokens
    r"|(?P<env>\\(?P<which>begin|end)\s*\{\s*(?P<envname>[^{}\\]*?)\s*\})"
    r"|(?P<cs>\\(?:[A-Za-z@]+|[\s\S])?)"
    r"|(?P<ctrl>[\x00-\x08\x0b-\x1f\x7f])"  # NUL is ignored, ^^L is \par, DEL is invalid…
)
CONTROL_CHAR = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# ``^^`` becomes one boxed atom: carets of any kind could meet the next ``^`` and
# form ``^^`` again, or make a double superscript (``x^{}^5`` is a TeX error).
HAT_SAFE = "{\\bookgenunknown{\\^{}\\^{}}}"


def is_denied(name: str) -> bool:
    if name in ALLOWED:
        return False
    return name in DENIED or "@" in name or name.startswith(DENIED_PREFIXES)


def unicode_target(code: str) -> str | None:
    hexadecimal = code[:1] in "xX"
    digits = (code[1:] if hexadecimal else code).lstrip("0") or "0"
    if len(digits) > 7:  # past U+10FFFF either way; and int() of 4,301 decimal digits raises
        return None
    number = int(digits, 16 if hexadecimal else 10)
    return chr(number) if 0 <= number < 0x110000 else None


def safe_link_target(target: str) -> bool:
    """``https://a.org`` or ``#eq:1`` (a place in the PDF): yes; ``run:/bin/sh``, ``smb://…``, ``x.pdf``: no."""
    target = target.strip()
    return bool(SAFE_URL.match(target)) or target.startswith(("#", "\\#"))


def dangerous_definition(name: str, after: str) -> bool:
    """Whether ``\\name`` (a definer) followed by ``after`` defines a denied name."""
    if name in ENV_DEFINERS:
        found = DEFINED_ENV.match(after)
        env = found.group(1).strip() if found else ""
        return bool(found) and (env in DENIED_ENVIRONMENTS or is_denied(env) or is_denied("end" + env)
                                or env.startswith("bookgen"))  # fmt: skip
    found = DEFINED_NAME.match(after)
    defined = (found.group(1) or found.group(2)) if found else ""
    return bool(found) and (is_denied(defined) or defined.startswith("bookgen"))


def marker(shown: str) -> str:
    r"""``{\bookgenunknown{…}}`` showing ``\shown``, with the text escaped for \texttt."""
    return "{\\bookgenunknown{" + _escape_shown(shown) + "}}"


def _escape_shown(text: str) -> str:
    out = []
    for char in text:
        if char in "{}#$%&_":
            out.append("\\" + char)
        elif char == "\\":
            out.append("\\textbackslash{}")
        elif char == "^":
            out.append("\\^{}")
        elif char == "~":
            out.append("\\~{}")
        elif char.isprintable():
            out.append(char)
    return "".join(out)


def neutralise(tex: str) -> tuple[str, list[str]]:
    """``tex`` with every dangerous token replaced, and one message per replacement."""
    if not SUSPECT.search(tex):
        return tex, []
    result, messages = _neutralise_cached(tex)
    return result, list(messages)


SUSPECT = re.compile(r"[\\^\x00-\x08\x0b-\x1f\x7f]")  # no backslash, caret or control character: nothing to do


@lru_cache(maxsize=20000)
def _neutralise_cached(tex: str) -> tuple[str, tuple[str, ...]]:
    result, messages = _neutralise(tex)
    return result, tuple(messages)


def _neutralise(tex: str) -> tuple[str, list[str]]:
    out: list[str] = []
    messages: list[str] = []
    cursor = 0
    for match in TOKEN.finditer(tex):
        start, end = match.span()
        kind = match.lastgroup if match.lastgroup in ("hat", "cs", "ctrl") else "env"
        replacement = None
        if kind == "hat":
            replacement = HAT_SAFE
            messages.append("neutralised ^^")
        elif kind == "ctrl":
            replacement = " "  # not "": \in^^@put must not become \input
            messages.append(f"removed control character U+{ord(match.group(0)):04X}")
        elif kind == "env":
            which, name = match.group("which"), match.group("envname")
            # \begin{X} runs \X and \end{X} runs \endX: both must be harmless names.
            if name in DENIED_ENVIRONMENTS or is_denied(name) or (which == "end" and is_denied("end" + name)):
                shown = f"{which}{{{name}}}"
                replacement = marker(shown)
                messages.append(f"neutralised \\{shown}")
        else:
            name = match.group("cs")[1:]
            if CONTROL_CHAR.fullmatch(name):
                replacement = " "  # a control symbol of a control character: drop both, keep a boundary
                messages.append(f"removed control character U+{ord(name):04X}")
            elif name == "^" and tex.startswith("^", end):
                # \^^5c: the ^^ is reduced first, so this is a backslash and then whatever ^^ builds.
                replacement = HAT_SAFE
                end += 1
                messages.append("neutralised ^^")
            elif is_denied(name):
                replacement = marker(name)
                messages.append(f"neutralised \\{name}")
            elif name in LINK_COMMANDS:
                target = LINK_TARGET.match(tex, end)
                if not (target and safe_link_target(target.group(1))):
                    replacement = marker(name)
                    messages.append(f"neutralised \\{name}")
            elif name in DEFINERS + ENV_DEFINERS:
                if dangerous_definition(name, tex[end : end + 200]):
                    replacement = marker(name)
                    messages.append(f"neutralised \\{name}")
            elif name == "unicode":
                found = UNICODE_ARG.match(tex, end)
                target = unicode_target(found.group(1)) if found else None
                if found and (target is None or target in UNSAFE_CHARACTERS):
                    shown = "unicode{" + found.group(1) + "}"
                    replacement = marker(shown)
                    end = found.end()
                    messages.append(f"neutralised \\{shown}")
        if replacement is None:
            continue
        out.append(tex[cursor:start])
        out.append(replacement)
        cursor = end
    if not messages:
        return tex, []
    out.append(tex[cursor:])
    return "".join(out), messages


def run(post: m.Post, context: Context) -> m.Post:
    def clean(post: m.Post, math: m.Math):
        tex, messages = neutralise(math.tex)
        for message in messages:
            context.report(post, math.line, NAME, message)
        return dataclasses.replace(math, tex=tex) if messages else math

    return walk.map_math(post, clean)


PASS = Pass(NAME, run)
