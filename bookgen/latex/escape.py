"""Escaping prose, URLs and verbatim text for LaTeX."""

from __future__ import annotations

import re

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
SAFE_URL = re.compile(r"^(?:https?://|mailto:|ftp://|#)", re.IGNORECASE)


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


def escape_url(url: str) -> str:
    r"""A URL for ``\url{}``/``\href{}`` inside another command's argument (hyperref wants ``\#``, ``\%``)."""
    url = CONTROL_CHARACTERS.sub("", _INVISIBLE.sub("", url)).replace(" ", "%20")
    return re.sub(r"([#%{}\\])", r"\\\1", url)


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


def tex_comment(text: str) -> str:
    return " ".join(text.split())
