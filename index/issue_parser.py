"""Splitting the plain text of one newspaper issue (extracted from its PDF) into articles.

The extracted text interleaves headlines, bylines, photo captions and page breaks. Page
breaks show up as runs of blank lines, often with a photo caption in between, and cut
sentences and even words in two. This module repairs those cuts, drops mastheads and
section labels, and groups what is left into articles (kicker, headline, subtitle, byline,
body paragraphs, captions, source department).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from index.article import Article, lead_headline
from index.normalize import for_display, is_cjk_char

TITLE_MAX_CHARS = 40
CAPTION_MAX_CHARS = 30
ISOLATED_CAPTION_MAX_CHARS = 100
PAGE_BREAK_BLANKS = 2

_TERMINAL = "。！？!?；;…：:"
_CLOSERS = "”’」』\"'"
_SENTENCE_PUNCT_RE = re.compile(r"[。；;！？!?]")
_FRAGMENT_PUNCT_RE = re.compile(r"[。；;！？!?，,：:]")
_DEPT_RE = re.compile(r"^[(（][^()（）]{2,24}[)）]$")
_BYLINE_RE = re.compile(r"^[□■◇◆]\s*\S|^(通讯员|记者|文/|文／|撰稿|供稿)[\s:：/／]")
_BYLINE_PREFIX_RE = re.compile(r"^(本报讯|本刊讯|又讯)\s*")
_ENUM_HEADING_RE = re.compile(
    r"^([●○◎■◆▲★·•]|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[)）]|\d+[.、．])"
)
_PIPE_TITLE_RE = re.compile(r"^\S{1,10}\s*[|｜]\s*\S")
_NOISE_RES = [
    re.compile(r"扫描二维码|二维码关注|SHANGHAI\s+COMMUNITY\s+NEWS|联合出版|主办单位|^第\s*\d+\s*版$", re.I),
    # Spaced-out slogans such as "自 / 家 / 门 / 口".
    re.compile(r"^\S(\s*/\s*\S){3,}$"),
    re.compile(r"^[A-Z\s]+$"),
]
# Section labels print above a group of items; they are not articles of their own.
DEFAULT_SECTION_LABELS = frozenset(
    {
        "图片新闻",
        "要闻简讯",
        "简讯",
        "社区简讯",
        "新闻简讯",
        "新闻速递",
        "社区动态",
        "一周要闻",
        "要闻",
        "通知公告",
        "公告",
        "信息速递",
        "社区速递",
        "图说社区",
        "社区风采",
        "居民区动态",
    }
)


@dataclass
class Block:
    """A paragraph of the extracted text and the blank lines around it."""

    text: str
    gap_before: int
    gap_after: int = 0
    captions: list[str] = field(default_factory=list)


def split_blocks(raw: str) -> list[Block]:
    """Paragraphs separated by blank lines, with the size of each gap."""
    blocks: list[Block] = []
    current: list[str] = []
    blanks = 0
    pending_gap = 0
    for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        stripped = line.strip()
        if not stripped:
            if current:
                blocks.append(Block(_join_lines(current), gap_before=pending_gap))
                current = []
                blanks = 0
            blanks += 1
            continue
        if not current:
            pending_gap = blanks
        current.append(stripped)
    if current:
        blocks.append(Block(_join_lines(current), gap_before=pending_gap))
        blanks = 0
    for block, following in itertools.pairwise(blocks):
        block.gap_after = following.gap_before
    if blocks:
        blocks[-1].gap_after = max(blanks, PAGE_BREAK_BLANKS)
    return blocks


def _join_lines(lines: list[str]) -> str:
    text = lines[0]
    for line in lines[1:]:
        text = _glue(text, line)
    return text


def _glue(left: str, right: str) -> str:
    """Join two halves of a cut sentence: no space between Chinese, one between Latin words."""
    if left and right and left[-1].isascii() and right[0].isascii() and left[-1].isalnum():
        return f"{left} {right}"
    return left + right


def is_terminated(text: str) -> bool:
    """True when the paragraph ends a sentence (or with a parenthesised source)."""
    stripped = text.rstrip(_CLOSERS)
    if not stripped:
        return False
    return stripped[-1] in _TERMINAL or text[-1] in ")）"


def is_noise(text: str, labels: frozenset[str]) -> bool:
    """Mastheads, QR-code notices, slogans and section labels."""
    return text in labels or any(regex.search(text) for regex in _NOISE_RES)


def is_department(text: str) -> bool:
    """The source line that closes an article, e.g. `(社区党建办)`."""
    return _DEPT_RE.match(text) is not None


def is_byline(text: str) -> bool:
    """A byline such as `□ 通讯员 梁炜晶` or `□文 徐云`."""
    return len(text) <= 30 and _BYLINE_RE.match(text) is not None


def is_title_like(text: str) -> bool:
    """Short, unterminated, without sentence punctuation: a headline, subheading or caption."""
    return len(text) <= TITLE_MAX_CHARS and not is_terminated(text) and _SENTENCE_PUNCT_RE.search(text) is None


def _is_fragment(text: str, at_title_position: bool) -> bool:
    """An unterminated paragraph that reads as the first half of a cut sentence."""
    if is_terminated(text):
        return False
    if len(text) > TITLE_MAX_CHARS or _SENTENCE_PUNCT_RE.search(text):
        return True
    if at_title_position or _ENUM_HEADING_RE.match(text):
        return False
    return _FRAGMENT_PUNCT_RE.search(text) is not None


def _starts_article_body(text: str) -> bool:
    return _BYLINE_PREFIX_RE.match(text) is not None or is_byline(text)


def repair_page_breaks(blocks: list[Block], labels: frozenset[str]) -> list[Block]:
    """Join sentences cut by page breaks, lifting out the captions printed in between."""
    repaired: list[Block] = []
    i = 0
    while i < len(blocks):
        block = Block(blocks[i].text, blocks[i].gap_before, blocks[i].gap_after)
        i += 1
        while True:
            previous = repaired[-1].text if repaired else ""
            at_title_position = not repaired or is_department(previous) or is_noise(previous, labels)
            if not _is_fragment(block.text, at_title_position):
                break
            j = i
            captions: list[str] = []
            while (
                j < len(blocks)
                and blocks[j].gap_before >= PAGE_BREAK_BLANKS
                and len(blocks[j].text) <= CAPTION_MAX_CHARS
                and is_title_like(blocks[j].text)
                and len(captions) < 2
            ):
                captions.append(blocks[j].text)
                j += 1
            if j >= len(blocks):
                break
            following = blocks[j].text
            if (
                is_title_like(following)
                or is_noise(following, labels)
                or is_department(following)
                or _starts_article_body(following)
            ):
                break
            block.text = _glue(block.text, following)
            block.captions.extend(captions)
            block.gap_after = blocks[j].gap_after
            i = j + 1
        repaired.append(block)
    return repaired


@dataclass
class _Draft:
    title_lines: list[str]
    paragraphs: list[str] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)
    byline: str = ""
    source: str = ""


def _title_parts(lines: list[str]) -> tuple[str, str, str]:
    """(kicker, headline, subtitle) from the title lines of an article."""
    subtitle = ""
    if len(lines) > 1 and lines[-1].startswith(("——", "--", "—")):
        subtitle = lines[-1]
        lines = lines[:-1]
    if not lines:
        return "", "", subtitle
    if len(lines) == 1:
        return "", lines[0], subtitle
    return lines[0], " ".join(lines[1:]), subtitle


def _is_isolated_caption(block: Block) -> bool:
    return (
        block.gap_before >= PAGE_BREAK_BLANKS
        and block.gap_after >= PAGE_BREAK_BLANKS
        and len(block.text) <= ISOLATED_CAPTION_MAX_CHARS
    )


def segment_articles(blocks: list[Block], labels: frozenset[str]) -> list[_Draft]:
    """Group repaired paragraphs into article drafts."""
    drafts: list[_Draft] = []
    current: _Draft | None = None
    expect_title = True
    i = 0
    while i < len(blocks):
        block = blocks[i]
        text = block.text
        if is_noise(text, labels):
            if text in labels:
                current, expect_title = None, True
            i += 1
            continue
        if is_department(text):
            if current is not None:
                current.source = text.strip("()（）")
            current, expect_title = None, True
            i += 1
            continue
        if is_byline(text):
            if current is not None and not current.paragraphs and not current.byline:
                current.byline = text.lstrip("□■◇◆ ")
            i += 1
            continue
        if (
            _is_isolated_caption(block)
            and current is not None
            and current.paragraphs
            and is_terminated(current.paragraphs[-1])
            and not text.startswith("——")
        ):
            # Set off on both sides right after a finished article: its photo caption, not the next kicker.
            current.captions.append(text)
            i += 1
            continue
        if is_title_like(text) or text.startswith("——"):
            j = i
            run: list[Block] = []
            while j < len(blocks) and len(run) < 4:
                candidate = blocks[j].text
                if is_noise(candidate, labels) or is_department(candidate) or is_byline(candidate):
                    break
                if not (is_title_like(candidate) or (run and candidate.startswith("——"))):
                    break
                run.append(blocks[j])
                j += 1
            following = blocks[j].text if j < len(blocks) else ""
            has_body_after = bool(following) and not is_noise(following, labels) and not is_department(following)
            lines = [b.text for b in run]
            starts_article = has_body_after and (
                expect_title
                or _starts_article_body(following)
                or len(lines) >= 2
                or _PIPE_TITLE_RE.match(lines[0]) is not None
            )
            if starts_article:
                current = _Draft(title_lines=lines[-3:])
                for extra in lines[:-3]:
                    current.captions.append(extra)
                drafts.append(current)
                expect_title = False
            else:
                target = current if current is not None else (drafts[-1] if drafts else None)
                for b in run:
                    if target is None:
                        continue
                    if current is None or _is_isolated_caption(b):
                        target.captions.append(b.text)
                    else:
                        target.paragraphs.append(b.text)
            i = j
            continue
        # A body paragraph.
        match = _BYLINE_PREFIX_RE.match(text)
        if match and current is not None and not current.paragraphs and match.group(1) != "又讯":
            current.byline = current.byline or match.group(1)
            text = text[match.end() :]
        if current is None or expect_title:
            last = drafts[-1] if drafts else None
            if last is not None and len(text) <= ISOLATED_CAPTION_MAX_CHARS:
                last.captions.append(text)
                last.captions.extend(block.captions)
            else:
                current = _Draft(title_lines=[])
                current.paragraphs.append(text)
                current.captions.extend(block.captions)
                drafts.append(current)
                expect_title = False
        elif _is_isolated_caption(block) and current.paragraphs and is_terminated(current.paragraphs[-1]):
            current.captions.append(text)
        else:
            current.paragraphs.append(text)
            current.captions.extend(block.captions)
        i += 1
    return [d for d in drafts if d.paragraphs]


def parse_issue(
    raw: str,
    issue_id: str,
    *,
    street: str = "",
    district: str = "",
    newspaper: str = "",
    date: str = "",
    section_labels: frozenset[str] = DEFAULT_SECTION_LABELS,
) -> list[Article]:
    """The articles of one issue's extracted text, in print order."""
    blocks = repair_page_breaks(split_blocks(raw), section_labels)
    articles: list[Article] = []
    for number, draft in enumerate(segment_articles(blocks, section_labels), start=1):
        body = "\n".join(for_display(p) for p in draft.paragraphs)
        kicker, headline, subtitle = _title_parts([for_display(t) for t in draft.title_lines])
        derived = not headline
        articles.append(
            Article(
                id=f"{issue_id}-{number:02d}",
                headline=headline or lead_headline(body),
                kicker=kicker,
                subtitle=subtitle,
                body=body,
                issue=issue_id,
                street=street,
                district=district,
                newspaper=newspaper,
                date=date,
                byline=for_display(draft.byline),
                source=for_display(draft.source),
                captions=[for_display(c) for c in draft.captions],
                derived_headline=derived,
            )
        )
    return articles


def first_char_is_cjk(text: str) -> bool:
    """True when the text starts with a Chinese character."""
    return bool(text) and is_cjk_char(text[0])
