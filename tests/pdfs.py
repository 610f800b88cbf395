"""Newspaper-like PDFs for tests, set with reportlab's built-in STSong-Light CID font.

A page has a full-width masthead, articles whose larger-type headline spans both columns,
body text balanced over two columns (so a sentence runs from the left column into the right),
and a smaller-type caption under the body. `issue_text` gives the same issue as plain text.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"
BODY = 10.0
HEAD = 16.0
CAPTION = 8.0
MARGIN = 50.0
GUTTER = 20.0


@dataclass
class SampleArticle:
    headline: str
    paragraphs: list[str]
    caption: str = ""
    source: str = ""
    subtitle: str = ""


@dataclass
class SampleIssue:
    masthead: str
    date_line: str
    articles: list[SampleArticle] = field(default_factory=list)


def issue_text(issue: SampleIssue) -> str:
    """The issue as plain text, as the parser reads text issues."""
    parts: list[str] = []
    for article in issue.articles:
        parts.append(article.headline)
        if article.subtitle:
            parts.append(article.subtitle)
        parts.extend(article.paragraphs)
        if article.source:
            parts.append(article.source)
        if article.caption:
            parts.append(f"\n{article.caption}\n")
    return "\n\n".join(parts) + "\n"


def _wrap(text: str, size: float, width: float, indent: bool) -> list[str]:
    lines: list[str] = []
    current = "\u3000\u3000" if indent else ""
    for ch in text:
        if pdfmetrics.stringWidth(current + ch, FONT, size) > width:
            lines.append(current)
            current = ""
        current += ch
    if current:
        lines.append(current)
    return lines


def issue_pdf(issue: SampleIssue, scanned: bool = False) -> bytes:
    """The issue as a two-column PDF (or, with `scanned`, the same pages with no text layer)."""
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    out = io.BytesIO()
    page_w, page_h = A4
    pdf = canvas.Canvas(out, pagesize=A4)
    col_w = (page_w - 2 * MARGIN - GUTTER) / 2
    y = page_h - MARGIN

    def new_page() -> float:
        pdf.showPage()
        return page_h - MARGIN

    if scanned:
        # A scan: only pictures (here: grey boxes) where the text would be.
        pdf.setFillGray(0.6)
        for row in range(30):
            pdf.rect(MARGIN, y - row * 20, page_w - 2 * MARGIN, 12, fill=1, stroke=0)
        pdf.save()
        return out.getvalue()

    pdf.setFont(FONT, 36)
    pdf.drawCentredString(page_w / 2, y - 36, issue.masthead)
    y -= 36 + 18
    pdf.setFont(FONT, BODY)
    pdf.drawCentredString(page_w / 2, y, issue.date_line)
    y -= 14
    pdf.line(MARGIN, y, page_w - MARGIN, y)
    y -= 24
    for article in issue.articles:
        lines: list[tuple[str, float]] = []
        for paragraph in [*article.paragraphs, article.source] if article.source else article.paragraphs:
            lines.extend((ln, BODY) for ln in _wrap(paragraph, BODY, col_w, indent=not paragraph.startswith("（")))
        captions = _wrap(article.caption, CAPTION, col_w, indent=False) if article.caption else []
        per_column = (len(lines) + 1) // 2
        needed = HEAD * 2 + per_column * BODY * 1.5 + len(captions) * CAPTION * 1.5 + 40
        if y - needed < MARGIN:
            y = new_page()
        pdf.setFont(FONT, HEAD)
        pdf.drawCentredString(page_w / 2, y - HEAD, article.headline)
        y -= HEAD + 14
        if article.subtitle:
            pdf.setFont(FONT, 12)
            pdf.drawCentredString(page_w / 2, y - 12, article.subtitle)
            y -= 12 + 12
        top = y
        pdf.setFont(FONT, BODY)
        for i, (text, _) in enumerate(lines):
            column, row = divmod(i, per_column)
            pdf.drawString(MARGIN + column * (col_w + GUTTER), top - BODY - row * BODY * 1.5, text)
        y = top - per_column * BODY * 1.5 - 8
        if captions:
            pdf.setFont(FONT, CAPTION)
            for text in captions:
                pdf.drawString(MARGIN + col_w + GUTTER, y - CAPTION, text)
                y -= CAPTION * 1.5
        y -= 20
    pdf.save()
    return out.getvalue()
