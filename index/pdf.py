"""Text of a newspaper PDF in the plain-text form the issue parser reads.

pdfminer.six gives the characters with their positions and sizes; this module puts them in
reading order (bands between headlines that span the columns, then column by column), joins the
lines of a paragraph (no space between two Chinese characters), keeps headlines and captions as
paragraphs of their own (captions set off by the double gap the parser reads as a caption), and
drops mastheads and page furniture (running heads, page numbers, the masthead band of page one).
"""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from dataclasses import dataclass

from index.issue_parser import _glue, is_byline, is_department

log = logging.getLogger(__name__)

MAX_PAGES = 64
# char_margin below one character: the gutter between two columns (usually 1.5-3 characters)
# must never be read as a space inside one line.
_LINE_MARGIN = 0.3
_CHAR_MARGIN = 1.0
_CID_RE = re.compile(r"\(cid:\d+\)")
_PAGE_NUMBER_RE = re.compile(r"^(第?\s*\d{1,3}\s*[版页]?|-\s*\d{1,3}\s*-|\d{1,3}\s*/\s*\d{1,3})$")


class PdfError(ValueError):
    """The PDF cannot be turned into text (the subclasses say why; the bot words it for staff)."""


class NotPdf(PdfError):
    """The file does not start with the %PDF marker."""

    def __init__(self) -> None:
        super().__init__("not a PDF (no %PDF marker at the start)")


class TooManyPages(PdfError):
    """More pages than one issue has (`limit`)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} pages")
        self.limit = limit


class DamagedPdf(PdfError):
    """pdfminer could not read the file; `cause` names what it raised."""

    def __init__(self, cause: str) -> None:
        super().__init__(f"damaged or unreadable PDF ({cause})")
        self.cause = cause


class ScannedPdf(PdfError):
    """No text layer on any of the `pages` pages: a scan or pictures."""

    def __init__(self, pages: int) -> None:
        super().__init__(f"no text layer on its {pages} page(s): a scan or pictures")
        self.pages = pages


class UnencodedFont(PdfError):
    """The fonts map glyphs to no characters: the text comes out as `cids` (cid:N) codes."""

    def __init__(self, cids: int) -> None:
        super().__init__(f"fonts without a text encoding ({cids} (cid:N) codes)")
        self.cids = cids


@dataclass
class Line:
    """One text line of a page, with its box and the size of its characters."""

    text: str
    x0: float
    x1: float
    y0: float
    y1: float
    size: float

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass
class Page:
    width: float
    height: float
    lines: list[Line]
    # Heights of the page's horizontal rules (thin wide lines and boxes), which fence mastheads off.
    rules: list[float]


def read_pages(data: bytes) -> list[Page]:
    """The text lines of every page; raises PdfError when the file is not a readable PDF."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTChar, LTCurve, LTTextContainer, LTTextLineHorizontal
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psparser import PSException

    if not data.lstrip().startswith(b"%PDF"):
        raise NotPdf()
    pages: list[Page] = []
    try:
        for number, layout in enumerate(
            extract_pages(io.BytesIO(data), laparams=LAParams(line_margin=_LINE_MARGIN, char_margin=_CHAR_MARGIN))
        ):
            if number >= MAX_PAGES:
                raise TooManyPages(MAX_PAGES)
            lines: list[Line] = []
            rules: list[float] = []
            stack = list(layout)
            while stack:
                item = stack.pop()
                if isinstance(item, LTTextLineHorizontal):
                    chars = [c for c in item if isinstance(c, LTChar)]
                    text = item.get_text().strip()
                    if not text or not chars:
                        continue
                    sizes = Counter(round(c.size, 1) for c in chars)
                    lines.append(Line(text, item.x0, item.x1, item.y0, item.y1, sizes.most_common(1)[0][0]))
                elif isinstance(item, LTCurve):
                    if item.height < 3 and item.width > layout.width * 0.5:
                        rules.append(item.y0)
                elif isinstance(item, LTTextContainer) or hasattr(item, "__iter__"):
                    stack.extend(item)
            pages.append(Page(layout.width, layout.height, lines, rules))
    except PdfError:
        raise
    except (PDFSyntaxError, PSException, ValueError, KeyError, TypeError, AssertionError) as exc:
        raise DamagedPdf(exc.__class__.__name__) from exc
    return pages


def _furniture(pages: list[Page]) -> set[int]:
    """Ids of lines that are page furniture: page numbers and text repeated on most pages."""
    drop: set[int] = set()
    repeated: Counter[str] = Counter()
    for page in pages:
        seen = {re.sub(r"\d+", "#", ln.text) for ln in page.lines if _in_margin(ln, page)}
        repeated.update(seen)
    for page in pages:
        for ln in page.lines:
            if (_PAGE_NUMBER_RE.match(ln.text) and _in_margin(ln, page)) or (
                len(pages) > 1 and _in_margin(ln, page) and repeated[re.sub(r"\d+", "#", ln.text)] > len(pages) / 2
            ):
                drop.add(id(ln))
    if pages:
        drop.update(id(ln) for ln in _masthead(pages[0]))
    return drop


def _in_margin(line: Line, page: Page) -> bool:
    return line.y0 > page.height * 0.92 or line.y1 < page.height * 0.08


def _masthead(page: Page) -> list[Line]:
    """The masthead band of page one: the page's largest type at the top and all above its rule."""
    if not page.lines:
        return []
    biggest = max(page.lines, key=lambda ln: ln.size)
    body = _body_size(page.lines)
    others = [ln.size for ln in page.lines if ln is not biggest and ln.size < biggest.size]
    # A masthead is set well above every headline of the page and sits in its top quarter.
    if biggest.y0 < page.height * 0.75 or biggest.size < body * 2 or (others and biggest.size < max(others) * 1.3):
        return []
    rules = [y for y in page.rules if biggest.y0 - biggest.height * 3 < y < biggest.y0]
    if rules:
        # Everything above the rule under the newspaper's name (date, issue number, publisher).
        return [ln for ln in page.lines if ln.y0 > max(rules)]
    top_text = [ln for ln in page.lines if ln.y0 >= biggest.y0 - biggest.height * 0.2]
    # Without a rule: the short lines centred right under the name.
    centre = (biggest.x0 + biggest.x1) / 2
    band = [
        ln
        for ln in page.lines
        if biggest.y0 - biggest.height * 1.5 < ln.y1 < biggest.y0
        and abs((ln.x0 + ln.x1) / 2 - centre) < page.width * 0.05
    ]
    return top_text + band


def _body_size(lines: list[Line]) -> float:
    weights: Counter[float] = Counter()
    for ln in lines:
        weights[ln.size] += len(ln.text)
    return weights.most_common(1)[0][0] if weights else 0.0


def _gutters(page: Page, lines: list[Line]) -> list[tuple[float, float]]:
    """Vertical white strips between columns, from the body lines narrower than half the text width.

    Headlines are left out: a short centred headline would bridge the gutter it spans.
    """
    if not lines:
        return []
    left = min(ln.x0 for ln in lines)
    right = max(ln.x1 for ln in lines)
    body = _body_size(lines)
    narrow = sorted((ln.x0, ln.x1) for ln in lines if ln.x1 - ln.x0 < (right - left) * 0.55 and ln.size <= body + 0.3)
    gutters: list[tuple[float, float]] = []
    if not narrow:
        return gutters
    end = narrow[0][1]
    for x0, x1 in narrow[1:]:
        if x0 > end + 4:
            gutters.append((end, x0))
        end = max(end, x1)
    return gutters


def _ordered(page: Page, lines: list[Line]) -> list[tuple[Line, bool]]:
    """Lines in reading order, each with whether it starts a new column (or band)."""
    gutters = _gutters(page, lines)

    def spans(ln: Line) -> bool:
        return any(ln.x0 < g0 and ln.x1 > g1 for g0, g1 in gutters)

    top_down = sorted(lines, key=lambda ln: -ln.y1)
    out: list[tuple[Line, bool]] = []
    band: list[Line] = []

    def flush() -> None:
        columns: list[list[Line]] = []
        for ln in sorted(band, key=lambda ln: ln.x0):
            for column in columns:
                if ln.x0 < max(c.x1 for c in column) - 2:
                    column.append(ln)
                    break
            else:
                columns.append([ln])
        for column in columns:
            for i, ln in enumerate(sorted(column, key=lambda ln: -ln.y1)):
                out.append((ln, i == 0))
        band.clear()

    for ln in top_down:
        if spans(ln):
            flush()
            out.append((ln, True))
        else:
            band.append(ln)
    flush()
    return out


def _continues(prev: Line, line: Line, new_column: bool, column_right: float, body: float) -> bool:
    """True when `line` carries on the paragraph `prev` ends (same type, no indent, no gap)."""
    if abs(prev.size - line.size) > 0.3 or is_department(line.text) or is_byline(line.text):
        return False
    full = prev.x1 >= column_right - prev.size * 1.5
    indented = line.x0 > prev.x0 + line.size * 1.2 if not new_column else False
    if new_column:
        # Across a column break the paragraph goes on when the last line was full and this one is not indented.
        return full and line.size <= body * 1.05
    gap = prev.y0 - line.y1
    return full and not indented and gap < line.height * 0.9


def pdf_to_text(data: bytes) -> str:
    """The issue's text, paragraphs separated by blank lines; raises a PdfError saying why not."""
    pages = read_pages(data)
    all_lines = [ln for page in pages for ln in page.lines]
    joined = "".join(ln.text for ln in all_lines)
    if not joined.strip():
        raise ScannedPdf(len(pages))
    cids = len(_CID_RE.findall(joined))
    if cids and cids * 8 > len(joined) * 0.2:
        raise UnencodedFont(cids)
    body = _body_size(all_lines)
    drop = _furniture(pages)
    paragraphs: list[tuple[str, float]] = []
    for page in pages:
        kept = [ln for ln in page.lines if id(ln) not in drop]
        ordered = _ordered(page, kept)
        current: list[Line] = []
        column_right = 0.0
        for line, new_column in ordered:
            previous_right = column_right
            if new_column:
                column_right = max(
                    (o.x1 for o, _ in ordered if o.x0 < line.x1 and o.x1 > line.x0 and abs(o.size - line.size) < 0.3),
                    default=line.x1,
                )
            right = previous_right if new_column else column_right
            if current and _continues(current[-1], line, new_column, right, body):
                current.append(line)
                continue
            if current:
                paragraphs.append(_paragraph(current))
            current = [line]
        if current:
            paragraphs.append(_paragraph(current))
    return _render(paragraphs, body)


def _paragraph(lines: list[Line]) -> tuple[str, float]:
    text = lines[0].text
    for line in lines[1:]:
        text = _glue(text, line.text)
    return text, lines[0].size


def _render(paragraphs: list[tuple[str, float]], body: float) -> str:
    """Paragraphs as the parser reads them: blank line between, captions set off by two."""
    parts: list[str] = []
    for text, size in paragraphs:
        if size < body - 0.5:
            parts.append(f"\n\n{text}\n\n")
        else:
            parts.append(text)
    out = "\n\n".join(parts)
    return re.sub(r"\n{4,}", "\n\n\n", out).strip() + "\n"
