"""Crawl and wire debris in front of a news lead: what `strip_debris` removes before the lead is found.

Archived and syndicated news often carries, glued to its first sentence: page furniture
("，正文：", a timestamp), the original headline ("原标题：…", sometimes twice, with no break before
the text), source and author lines ("来源：…", "作者：…", "本文转自【…】"), reporters' bylines
("记者 某某 通讯员 某某", "【…特派记者 某某】", "（记者 某某）") and a dateline
("中新网牡丹江8月9日电", "红网时刻衡阳8月3日讯"). None of it says what happened. The rules key on
these labels and on the shape of the text (a date, a dateline, a purpose clause opening the
text proper), never on particular sources.
"""

from __future__ import annotations

import re

# How far into the text debris is looked for: it sits in front of the lead.
HEAD_CHARS = 400
_DATE = r"(?:\d{4}\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*日"
_LABEL = r"(?:来源|作者|编辑|责任编辑|责编|编审|审核|供稿|稿源|图片来源|图文)"

_FURNITURE_RE = re.compile(
    r"^(?:[^，。]{0,40}，)?正文[：:]"
    r"|^\d{2,4}[-/年]\d{1,2}[-/月]?\d{0,2}日?\s+\d{1,2}:\d{2}(?::\d{2})?\s*"
    r"|^" + _LABEL + r"[：:]\s*[^，。：:\s|]{1,20}\s*\|\s*[\d年月日:\s-]{6,30}"
)
_ORIGINAL_TITLE_RE = re.compile(r"^原标题[：:]\s*")
# A labelled source or author line: up to the next space, or up to the 据/记者 the text goes on with.
_LABELLED_RE = re.compile(r"^" + _LABEL + r"[：:]\s*(?:[^，。：:\s]{1,16}?(?=据|记者)|[^，。：:\s]{1,16}(?:\s+|$))")
_REPOST_RE = re.compile(r"^本文(?:转自|来源于?|来自)\s*[【\[]?[^】\]\s，。；;]{1,20}[】\]]?\s*[；;，,：:。]?")
_BRACKET_BYLINE_RE = re.compile(r"^【[^】]{0,30}(?:记者|通讯员|编辑|作者)[^】]{0,20}】")
_PAREN_BYLINE_RE = re.compile(r"[（(]\s*(?:特约|实习|本报|首席)?(?:记者|通讯员|实习生|作者|编辑)[^（）()]{0,40}[)）]")
# 记者 王某 通讯员 张某 李某8月16日上午，… : names before the date, no punctuation between.
_LOOSE_BYLINE_RE = re.compile(r"^[^，。：:]{0,30}?(?:记者|通讯员)[^，。：:]{0,24}?(?=" + _DATE + ")")
# A dateline: source (and place) glued to a date and 电/讯, then the text.
_DATELINE_RE = re.compile(r"^[^，。\s]{0,16}?(" + _DATE + r")\s*(?:[上下中晚]午|晚间|晚)?\s*(?:电|讯)\s*[：:，,]?\s*")
# 今天（8月1日） -> 8月1日: the date a monthly digest needs instead of the word pointing at it.
_RELATIVE_DAY_RE = re.compile(r"(?:今天|今日|昨天|昨日|前天|日前|当天|当日)\s*[（(]\s*(" + _DATE + r")\s*[)）]")

# Where the text proper begins after an original headline glued to it (before the match;
# after it for a dateless dateline such as 观点网讯：).
_AFTER_DATELINE = re.compile(r"(?<=[网社报台端])讯[：:]?")
_BODY_STARTS = [
    re.compile(_LABEL + r"[：:]|本文(?:转自|来源|来自)"),
    re.compile(r"[^，。\s]{0,16}?" + _DATE + r"\s*(?:[上下中晚]午|晚间|晚)?\s*(?:电|讯)"),
    re.compile(_DATE + r"\s*(?:[上下中晚]午|晚间|晚|凌晨)?\s*(?:\d{1,2}\s*时\s*(?:\d{1,2}\s*分)?许?)?\s*[，,\s]"),
    re.compile(
        r"为(?:了)?(?:进一步|积极|深入|切实|全面|更好|丰富|加强|推进|推动|促进|提升|提高|落实|贯彻|响应|庆祝|纪念|迎接|做好|满足|营造)"
    ),
    re.compile(r"\s(?:记者|通讯员|特约记者)"),
]
MIN_TITLE_CHARS = 6


def strip_debris(text: str) -> str:
    """The text with the debris in front of its lead removed (and 今天（8月1日） made 8月1日)."""
    head, tail = text[:HEAD_CHARS], text[HEAD_CHARS:]
    previous = None
    while previous != head:
        previous = head
        head = _PAREN_BYLINE_RE.sub("", head.lstrip(" \t\n\r，,。；;：:|"))
        head = _FURNITURE_RE.sub("", head, count=1)
        if _ORIGINAL_TITLE_RE.match(head):
            head = _drop_original_title(_ORIGINAL_TITLE_RE.sub("", head, count=1))
        for rule in (_LABELLED_RE, _REPOST_RE, _BRACKET_BYLINE_RE, _LOOSE_BYLINE_RE):
            head = rule.sub("", head, count=1)
        head = _DATELINE_RE.sub(lambda m: re.sub(r"\s+", "", m.group(1)) + "，", head, count=1)
    return _RELATIVE_DAY_RE.sub(lambda m: re.sub(r"\s+", "", m.group(1)), head + tail)


def _drop_original_title(rest: str) -> str:
    """`rest` without the headline it starts with (the text proper follows with no break)."""
    repeat = _repeated_title_end(rest)
    if repeat is not None:
        return rest[repeat:]
    starts = [m.start() for rule in _BODY_STARTS if (m := rule.search(rest, MIN_TITLE_CHARS, 160))]
    if (m := _AFTER_DATELINE.search(rest, MIN_TITLE_CHARS, 160)) is not None:
        starts.append(m.end())
    if not starts:
        return rest
    cut = min(starts)
    # A dateline's source begins after the headline's last space, if the headline has one.
    space = rest.rfind(" ", 0, cut)
    if space > 0 and cut - space <= 16 and _BODY_STARTS[1].match(rest, space + 1):
        cut = space + 1
    return rest[cut:]


def _repeated_title_end(rest: str) -> int | None:
    """Where the headline ends when it is given twice in a row ("标题 标题 正文"): after its repeat."""
    for length in range(min(80, len(rest) // 2), MIN_TITLE_CHARS - 1, -1):
        title = rest[:length].rstrip()
        if len(title) < MIN_TITLE_CHARS:
            break
        again = rest.find(title, length)
        if again != -1 and again - length <= 2:
            return again + len(title)
    return None
