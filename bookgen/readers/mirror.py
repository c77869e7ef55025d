"""Split a mirrored post into metadata and the author's own text.

The html2text mirror wraps each post: front matter, then ``# title``,
``**原文链接**``, ``**发布日期**`` and ``---`` (metadata, not content); at the
end the site's boilerplate (转载…, 打赏, the citation and ``@online{…}``) and
anything a mirror appended after it.  Only the lines in between are the post.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n", re.DOTALL)
HEADER_LINE = re.compile(r"^(#\s+.*|\*\*(原文链接|发布日期)\*\*.*|---\s*)$")
BOILERPLATE_START = re.compile(r"^[_*\s]*转载到请包括本文地址|^_?\*\*如果您需要引用本文|^## 公式推导与注释")
CITATION_DATE = re.compile(r"苏剑林\.\s*\((\w{3})\.?\s+(\d{1,2}),\s*(\d{4})\)")
MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}


@dataclass(frozen=True)
class MirrorParts:
    meta: dict[str, str]
    body: str
    body_line: int  # 1-based line of the file where ``body`` starts
    title_line: int
    html2text: bool = False  # the mirror's `**原文链接**` header was present


def parse_front_matter(block: str) -> dict[str, str]:
    # Mirrors write flat `key: value` lines, often unquoted with colons in the
    # title ("Transformer升级之路：1、…: …"), which YAML would reject; a line
    # split is the faithful reading of this format.
    meta: dict[str, str] = {}
    for line in block.splitlines():
        key, sep, value = line.partition(":")
        if sep and re.fullmatch(r"[A-Za-z_]+", key.strip()):
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            meta[key.strip()] = value
    return meta


def date_from_citation(text: str) -> str:
    match = CITATION_DATE.search(text)
    if not match or match.group(1)[:3].title() not in MONTHS:
        return ""
    month = MONTHS[match.group(1)[:3].title()]
    return f"{match.group(3)}-{month:02d}-{int(match.group(2)):02d}"


def split_mirror(text: str) -> MirrorParts:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    meta: dict[str, str] = {}
    lines = text.split("\n")
    start = 0
    match = FRONT_MATTER.match(text)
    if match:
        meta = parse_front_matter(match.group(1))
        start = match.group(0).count("\n")
    title_line = start + 1
    # Skip the mirror's header: blank lines and header lines, up to and including its `---`.
    cursor = start
    while cursor < len(lines) and cursor < start + 12:
        line = lines[cursor].strip()
        if not line:
            cursor += 1
            continue
        if not HEADER_LINE.match(line):
            break
        if line.startswith("# ") and "title" not in meta:
            meta["title"] = line[2:].strip().rstrip("#").strip()
        if line.startswith("# "):
            title_line = cursor + 1
        cursor += 1
        if line.startswith("---"):
            break
    if cursor >= start + 12 or not any(HEADER_LINE.match(l.strip()) for l in lines[start:cursor] if l.strip()):
        cursor = start
    end = len(lines)
    for index in range(cursor, len(lines)):
        if BOILERPLATE_START.match(lines[index]):
            end = index
            break
    tail = "\n".join(lines[end:])
    if not meta.get("date"):
        meta["date"] = date_from_citation(tail)
    body_lines = lines[cursor:end]
    # A mirror's `---` right before the cut belongs to the appended section.
    while body_lines and body_lines[-1].strip() in ("", "---"):
        body_lines.pop()
    html2text = any(line.startswith("**原文链接**") for line in lines[start:cursor])
    return MirrorParts(
        meta=meta, body="\n".join(body_lines) + "\n", body_line=cursor + 1, title_line=title_line, html2text=html2text
    )
