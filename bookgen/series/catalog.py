"""Where the titles of the blog's posts come from: source folders, a post list file, the site's archive page.

A ``Catalog`` maps archive ids to ``Listing``s (id, title, date, and where that
was read).  Three kinds of source fill it:

* **lists of the blog's posts** — a post list file (``--index``: JSON, a list of
  ``{"id", "title", "date"}``, or TSV with ``id``/``title``/``date`` columns) and
  the site's archive page ``/content.html`` (every post, by year and month),
  which ``bookgen fetch`` saves in its cache folder as ``content.html``.  They name
  every post of the blog, so a series found there is complete;
* **the posts in the source folders** — each file's own title, as the readers
  read it (front matter, the mirror's ``# title``, the page's
  ``<title>``/``<h1>``), and an archive page ``content.html`` saved there.

A list's title wins over a post file's for the same id: the list is the blog's
own, a mirror may have retitled its copy.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import lxml.html
from lxml import etree

from bookgen.diagnostics import printable
from bookgen.errors import SourceError, UserError
from bookgen.readers.htmlpage import page_date, page_title, parse_page
from bookgen.readers.markdown import iso_date
from bookgen.readers.mirror import split_mirror
from bookgen.sources import HTML_SUFFIXES, SourceIndex, archive_id_from

ARCHIVE_FILE = "content.html"  # the archive page's name in a cache or source folder, as the site names it
MAX_LIST_BYTES = 32 << 20  # the blog's 1,330 posts are 150 KB as JSON, its archive page a few hundred KB
MAX_POST_HEAD = 1 << 20  # a post's title is in its first lines (an HTML page's <head> can be long)

_ARCHIVE_LINK = re.compile(r"/archives/(\d+)/?$")
_YEAR = re.compile(r"^\s*((?:19|20)\d{2})\s*年(?:\s*(\d{1,2})\s*月)?")
_MONTH = re.compile(r"^\s*(\d{1,2})\s*月(?![\d日])")
_DAY = re.compile(r"^\s*(\d{1,2})\s*日")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})")


@dataclass(frozen=True)
class Listing:
    """A post as a list or a folder names it."""

    id: int
    title: str
    date: str  # yyyy-mm-dd, or "" when unknown
    origin: str  # where it was read: "POSTS.json", "cache/content.html", "posts/9119.md"


@dataclass
class Catalog:
    """The titles known, by archive id, and the posts of the source folders (when any were read)."""

    listings: dict[int, Listing] = field(default_factory=dict)
    lists: list[str] = field(default_factory=list)  # the post lists and archive pages read, as named to the user
    folders: tuple[Path, ...] = ()
    posts: SourceIndex | None = None  # the source folders' posts; None when no folder was read

    @property
    def complete(self) -> bool:
        """Whether a list of the blog's posts was read (a series found in it has all its chapters)."""
        return bool(self.lists)

    def add(self, listings: list[Listing]) -> None:
        for listing in listings:
            self.listings.setdefault(listing.id, listing)

    def describe(self) -> str:
        """``POSTS.json and 2 source folders`` — what was looked in, for messages."""
        parts = list(self.lists)
        if self.folders:
            folders = ", ".join(str(folder) for folder in self.folders)
            parts.append(f"the source folders ({folders})")
        return " and ".join(parts) if parts else "no source folder and no list of posts"


def catalog_from(index_files=(), archive_pages=(), folders=()) -> Catalog:
    """A catalog of the post list files, archive pages and source folders given (all optional)."""
    catalog = Catalog()
    for path in index_files:
        catalog.add(read_post_list(Path(path)))
        catalog.lists.append(str(path))
    for path in archive_pages:
        catalog.add(read_archive_page(Path(path)))
        catalog.lists.append(str(path))
    if folders:
        catalog.folders = tuple(Path(folder) for folder in folders)
        catalog.posts = SourceIndex.scan(catalog.folders)
        for folder in catalog.folders:
            page = folder / ARCHIVE_FILE
            if page.is_file():
                catalog.add(read_archive_page(page))
                catalog.lists.append(str(page))
        catalog.add(folder_listings(catalog.posts))
    return catalog


# ---------------------------------------------------------------- post list files


def read_post_list(path: Path) -> list[Listing]:
    """A post list file: JSON (a list of objects with id, title, date) or TSV (id, title, date columns)."""
    text = _read_text(path, "post list")
    if text.lstrip().startswith(("[", "{")):
        return _json_listings(text, path)
    return _tsv_listings(text, path)


def _read_text(path: Path, what: str) -> str:
    data = _read_bytes(path, what)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(f"not valid UTF-8 (byte {exc.start})", path, data[: exc.start].count(b"\n") + 1) from None


def _read_bytes(path: Path, what: str) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_LIST_BYTES + 1)
    except FileNotFoundError:
        raise UserError(f"{what} not found", path) from None
    except OSError as exc:
        raise UserError(f"cannot read {what}: {exc.strerror or exc}", path) from None
    if len(data) > MAX_LIST_BYTES:
        raise UserError(f"{what} is larger than {MAX_LIST_BYTES >> 20} MB", path)
    return data


def _json_listings(text: str, path: Path) -> list[Listing]:
    """``[{"id": "9119", "title": "…", "date": "2022-06-13"}, …]`` (or ``{"posts": [...]}``)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        raise UserError(f"not valid JSON: {getattr(exc, 'msg', exc)}", path, line) from None
    except RecursionError:  # [[[[…]]]] nested deeper than Python's stack: no list of posts looks like that
        raise UserError("not a list of posts: JSON nested too deeply", path) from None
    if isinstance(data, dict) and isinstance(data.get("posts"), list):
        data = data["posts"]
    if not isinstance(data, list):
        raise UserError('a post list must be a JSON list of {"id", "title", "date"} objects', path)
    listings = []
    for number, item in enumerate(data, 1):
        if not isinstance(item, dict):
            raise UserError(f'entry {number} is not an object with "id" and "title"', path)
        listings.append(_listing(item.get("id"), item.get("title"), item.get("date"), path, f"entry {number}"))
    return listings


def _tsv_listings(text: str, path: Path) -> list[Listing]:
    """Tab-separated ``id  title  date`` lines; a first line naming the columns (``archive_id``, ``title``…) is a header."""
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))
    except csv.Error as exc:  # a field longer than csv's limit (128 KB): no title is
        raise UserError(f"not a list of posts: {exc}", path) from None
    columns = {"id": 0, "title": 1, "date": 2}
    first = 0
    if rows and any(cell.strip().lower() == "title" for cell in rows[0]):
        header = [cell.strip().lower() for cell in rows[0]]
        columns = {name: _column(header, name) for name in ("id", "title", "date")}
        if columns["id"] is None or columns["title"] is None:
            raise UserError("the header names no id (or archive_id) column and title column", path, 1)
        first = 1
    listings = []
    for line, row in enumerate(rows[first:], first + 1):
        if not any(cell.strip() for cell in row):
            continue

        def cell(name: str) -> str | None:
            index = columns[name]
            return row[index] if index is not None and index < len(row) else None

        listings.append(_listing(cell("id"), cell("title"), cell("date"), path, None, line))
    return listings


def _column(header: list[str], name: str) -> int | None:
    names = {"id": ("id", "archive_id", "archive id"), "title": ("title",), "date": ("date",)}[name]
    return next((index for index, cell in enumerate(header) if cell in names), None)


def _listing(raw_id, title, date, path: Path, entry: str | None, line: int | None = None) -> Listing:
    where = f"{entry}: " if entry else ""
    archive_id = archive_id_from(str(raw_id).strip()) if isinstance(raw_id, (int, str)) else None
    if archive_id is None:
        shown = printable(str(raw_id))[:40]
        raise UserError(f"{where}archive id must be a whole number of at most 9 digits, not '{shown}'", path, line)
    if not isinstance(title, str) or not title.strip():
        raise UserError(f"{where}post {archive_id} has no title", path, line)
    found = _ISO_DATE.match(date) if isinstance(date, str) else None
    iso = f"{found.group(1)}-{int(found.group(2)):02d}-{int(found.group(3)):02d}" if found else ""
    return Listing(archive_id, " ".join(title.split()), iso, str(path))


# ---------------------------------------------------------------- the site's archive page


def read_archive_page(path: Path) -> list[Listing]:
    listings = parse_archive_page(_read_bytes(path, "archive page"), str(path))
    if not listings:
        raise UserError("no post listed: not the site's archive page (content.html)?", path)
    return listings


def parse_archive_page(data: bytes, origin: str) -> list[Listing]:
    """The posts of the site's archive page ``/content.html``, in its order.

    The page lists every post under year headings (``2013年 (共1篇)``) and months
    (``<span>01月</span>``), one ``<li>`` a post: ``20日: <a href=".../archives/N">标题</a>
    (<a href="…#PostComment">2</a>)`` — the comment link is not the post's.  Read
    with lxml's HTML parser, walked in document order without recursion (a page
    nested a thousand deep costs a loop, not the stack); only the structure above
    is relied on, not tag names or classes.
    """
    if not data.strip():
        return []
    try:
        root = lxml.html.document_fromstring(data, parser=lxml.html.HTMLParser(encoding="utf-8"))
    except (etree.ParserError, ValueError):
        return []
    listings: list[Listing] = []
    seen: set[int] = set()
    year = month = None
    post_item = None  # the <li> of the post being walked through: its text is the post's, not a heading
    for event, element in etree.iterwalk(root, events=("start", "end")):
        if post_item is not None:
            if event == "end" and element is post_item:
                post_item = None
            continue
        if event == "end" or not isinstance(element.tag, str):
            continue
        own = element.text or ""
        found_year, found_month = _YEAR.match(own), _MONTH.match(own)
        if found_year:
            year, month = int(found_year.group(1)), int(found_year.group(2)) if found_year.group(2) else None
        elif found_month:
            month = int(found_month.group(1))
        if element.tag == "li":
            listing = _archive_item(element, year, month, origin)
            if listing is not None:
                post_item = element
                if listing.id not in seen:
                    seen.add(listing.id)
                    listings.append(listing)
    return listings


def _archive_item(item, year: int | None, month: int | None, origin: str) -> Listing | None:
    """The post of one ``<li>``: its first link to an archive page that is in this item, not in a nested list."""
    for link in item.iter("a"):
        if _in_nested_list(link, item):
            continue
        href = (link.get("href") or "").strip()
        found = _ARCHIVE_LINK.search(href.split("?")[0]) if "#" not in href else None
        archive_id = archive_id_from(found.group(1)) if found else None
        title = " ".join(link.text_content().split())
        if archive_id is None or not title:
            continue
        day = _DAY.match(" ".join(item.itertext()))
        return Listing(archive_id, title, _date(year, month, int(day.group(1)) if day else None), origin)
    return None


def _in_nested_list(element, item) -> bool:
    parent = element.getparent()
    while parent is not None and parent is not item:
        if parent.tag in ("ul", "ol", "li"):
            return True
        parent = parent.getparent()
    return False


def _date(year: int | None, month: int | None, day: int | None) -> str:
    if year and month and day and 1 <= month <= 12 and 1 <= day <= 31:
        return f"{year}-{month:02d}-{day:02d}"
    return ""


# ---------------------------------------------------------------- the posts of the source folders


def folder_listings(posts: SourceIndex) -> list[Listing]:
    """Each post file's title and date, as its reader reads them (a file whose title cannot be read is left out)."""
    listings = []
    for archive_id, path in sorted(posts.by_id.items()):
        title, date = post_heading(path)
        if title:
            listings.append(Listing(archive_id, title, date, str(path)))
    return listings


def post_heading(path: Path) -> tuple[str, str]:
    """(title, date) of a post file, read as the readers read them, without converting the post.

    Markdown: the front matter's ``title``/``date`` or the mirror's ``# title``
    (``split_mirror``).  A page of the site: its ``<title>`` less the site's name,
    else the ``<h1>`` above the post; its date from the page.
    """
    try:
        with path.open("rb") as handle:
            text = handle.read(MAX_POST_HEAD).decode("utf-8", errors="replace")
    except OSError as exc:
        raise SourceError(f"cannot read post: {exc.strerror or exc}", path) from None
    if path.suffix.lower() in HTML_SUFFIXES:
        page = parse_page(text)
        return page_title(page.root, page.content), page_date(page.root, page.content, "")
    meta = split_mirror(text).meta
    return meta.get("title", "").strip(), iso_date(meta.get("date", ""))

