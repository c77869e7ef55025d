"""Escaping prose, URLs and verbatim text for LaTeX.

Used by the passes (which build TeX) and the writer alike, so it belongs to neither.
"""

from __future__ import annotations

import re

from bookgen.diagnostics import printable

_PROSE = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "%": r"\%",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
    "\u00a0": "~",
}
_PROSE_RE = re.compile("|".join(re.escape(c) for c in _PROSE))
# Zero-width and bidi controls carry nothing a reader sees; fonts have no glyph for them.
INVISIBLE = re.compile("[\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff\ufe0e\ufe0f]")
_INVISIBLE = INVISIBLE
# C0/C1 control characters: invalid in TeX input (^^G) or read as something else (^^K is ^).
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# The only targets a link in the PDF may have: a click opens a web page or a mail, never a program
# (run:), a file (file:, or a relative ../x, x.png, which a viewer resolves next to the PDF) or a
# share (smb:, which hands the reader's Windows credentials to the server).  Every link bookgen
# writes goes through this one check: anything else is shown as text (``url_or_text``).
SAFE_URL = re.compile(r"^(?:https?://|mailto:)", re.IGNORECASE)
SITE = "https://spaces.ac.cn"


def escape_text(text: str) -> str:
    text = CONTROL_CHARACTERS.sub("", _INVISIBLE.sub("", text))
    return _PROSE_RE.sub(lambda m: _PROSE[m.group(0)], text)


# A run of printable ASCII this long has no break point (no space, no CJK): TeX
# lets it run off the page, and a run of thousands crashes its line breaker.
_LONG_RUN = re.compile(r"[!-~]{40,}")
_RUN_PIECE = 20


def escape_prose(text: str) -> str:
    """``escape_text`` for running text, with a break allowed every 20 characters of a long run."""
    out, last = [], 0
    for match in _LONG_RUN.finditer(text):
        run = match.group(0)
        pieces = (escape_text(run[i : i + _RUN_PIECE]) for i in range(0, len(run), _RUN_PIECE))
        out += [escape_text(text[last : match.start()]), "\\allowbreak{}".join(pieces)]
        last = match.end()
    out.append(escape_text(text[last:]))
    return "".join(out)


# Where TeX source shown as text may break: before a \\command, after a brace or an operator.
_SOURCE_BREAK = re.compile(r"(?<=[{}_^=+,;:()\[\]|&$/-])(?=.)|(?<=.)(?=\\)")


def escape_breakable(text: str) -> str:
    r"""TeX source shown as text: escaped, and breakable after punctuation and in long runs.

    Before → after: ``\frac{a}{b}`` → ``\textbackslash{}\allowbreak{}frac\{\allowbreak{}a…``.
    """
    pieces = _SOURCE_BREAK.split(" ".join(text.split()))
    return "\\allowbreak{}".join(escape_prose(piece) for piece in pieces)


def escape_url(url: str) -> str:
    r"""A URL for ``\url{}``/``\href{}`` inside another command's argument (hyperref wants ``\#``, ``\%``)."""
    url = CONTROL_CHARACTERS.sub("", _INVISIBLE.sub("", url)).replace(" ", "%20")
    return re.sub(r"([#%{}\\])", r"\\\1", url)


def absolute_url(url: str) -> str:
    """A path on the blog made a full address: ``/archives/8231`` → ``https://spaces.ac.cn/archives/8231``."""
    return SITE + url if url.startswith("/") else url


def url_or_text(url: str) -> str:
    r"""``\url{…}`` when ``url`` may be a link in the PDF (``SAFE_URL``), else the address as plain text.

    Before → after: ``https://a.org/x`` → ``\url{https://a.org/x}``; ``run:/bin/sh`` → ``run:/bin/sh``
    (escaped and breakable, not clickable).  Give it ``absolute_url(src)`` to keep the blog's own paths links.
    """
    return f"\\url{{{escape_url(url)}}}" if SAFE_URL.match(url) else escape_prose(url)


def escape_code(text: str) -> str:
    r"""Inline code in ``\texttt``: escaped, and breakable after punctuation so long identifiers wrap."""
    return code_breaks(escape_text(text), len(text))


def code_breaks(escaped: str, length: int) -> str:
    r"""Escaped inline code of ``length`` characters, breakable after punctuation when longer than 20."""
    return re.sub(r"(?<=[/.,;=_-])(?=\S)", r"\\allowbreak{}", escaped) if length > 20 else escaped


def verbatim_safe(code: str) -> str:
    r"""Code for the ``bookgencode`` Verbatim environment: only a line that would end it needs care.

    A private environment name means code that mentions ``\end{Verbatim}`` prints as written.
    """
    code = CONTROL_CHARACTERS.sub("", _INVISIBLE.sub("", code)).replace("\t", "    ")
    return re.sub(r"^(\s*)\\end\{bookgencode\}", r"\1\\end {bookgencode}", code, flags=re.MULTILINE)


# Line breaks of every kind, with the spaces around them.
_LINE_BREAKS = re.compile("[ \t]*[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]\\s*")


def one_line(text: str) -> str:
    r"""A title on one line: ``"A\n\nB"`` → ``"A B"`` (a blank line in ``\chapter{…}`` or ``pdftitle`` stops TeX)."""
    return _LINE_BREAKS.sub(" ", text)


def tex_comment(text: str) -> str:
    r"""``text`` safe after a ``%``: on one line, each control character shown as an escape.

    A line break would end the comment and TeX would run the rest, so a post file named
    ``1⏎\textbf{X}\end{document}⏎.md`` ends the document.  Before → after:
    ``"1\n\\end{document}\n.md"`` → ``"1\\n\\end{document}\\n.md"`` (a comment still).
    """
    return printable(text)
