"""Sentences and clauses of Chinese news text, and the clause kinds a one-line summary keeps or drops.

Chinese news writing puts when, who and what in the lead (导语) and wraps it in clauses a
reader of one line can do without: purpose (为…，), grounds (根据…要求，), circumstance
(在…的带领下，), attribution (据…报道，). Splitting happens only at clause punctuation that
is outside quotes and brackets, so a quoted slogan or a book title is never cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_OPEN = "“‘《（(「『【〈["
_CLOSE = "”’》）)」』】〉]"
_SENTENCE_END = "。！？!?"
_CLAUSE_END = "，,；;：:"

# An explicit date: 2019年5月7日, 5月7日, 8 月 16 日, 2019年5月, 五月七日.
DATE_RE = re.compile(
    r"(?:\d{4}\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*[日号]|\d{4}\s*年\s*\d{1,2}\s*月|"
    r"[一二三四五六七八九十]{1,3}月[一二三四五六七八九十]{1,3}日"
)
# A clause that says only when: 近日 / 5月18日下午 / 今年5月 / 当地时间8月2日.
_TIME_ONLY_RE = re.compile(
    r"^(?:(?:日前|近日|近期|近来|最近|今天|今日|昨天|昨日|本月|上月|今年|去年|当地时间|北京时间)"
    r"|(?:\d{4}\s*年\s*)?(?:\d{1,2}\s*月\s*)?(?:\d{1,2}\s*[日号])?|\s)*"
    r"(?:上午|下午|中午|晚上|晚间|凌晨|早上|傍晚|夜间|\d{1,2}\s*[时点](?:\d{1,2}\s*分)?许?|许|前后|左右|\s)*$"
)
# Opening words that point back at something the reader of one line never saw.
BACK_REFERRING = (
    "此外",
    "另外",
    "同时",
    "与此同时",
    "此前",
    "然而",
    "但是",
    "但",
    "不过",
    "而且",
    "并且",
    "并",
    "而",
    "因此",
    "所以",
    "于是",
    "随后",
    "接着",
    "然后",
    "最后",
    "首先",
    "其次",
    "其中",
    "对此",
    "为此",
    "就此",
    "据此",
    "总之",
    "当天",
    "当日",
    "同日",
    "次日",
    "会上",
    "会后",
    "会中",
    "期间",
    "其间",
    "届时",
    "此次",
    "本次",
    "这次",
    "这些",
    "这个",
    "这是",
    "这",
    "那",
    "该",
    "其",
    "他们",
    "她们",
    "它们",
    "他",
    "她",
    "它",
    "大家",
    "我们",
    "一行人",
    "上午",
    "下午",
    "晚上",
    "中午",
    "活动中",
    "活动上",
    "现场",
    "也",
)
# Pure connectives that can simply be left off the front of a clause.
_STRIPPABLE = ("此外", "另外", "同时", "与此同时", "而且", "并且", "因此", "所以", "于是", "不过", "然而")
_PURPOSE_RE = re.compile(r"^(?:为了|为(?![期主止此何首人数难准])|旨在|以便|以期)")
_BACKGROUND_RE = re.compile(
    r"^(?:根据|按照|依照|遵照|依据|本着|秉承|秉持|围绕|结合|针对|随着|伴随着|值此|借|趁|继|应.{1,20}邀请|受.{1,20}(?:委托|邀请)"
    r"|作为|自.{1,30}以来|.{1,40}以来$|在.{1,40}(?:带领|领导|指导|支持|关心|组织|帮助|协调|推动|号召|倡导|引领|见证|陪同|主持|努力|背景)下"
    r"|在.{1,40}之际|据.{0,30}(?:报道|消息|介绍|了解|统计|显示|通报|发布|称|悉)|记者.{0,20}(?:获悉|了解到|得知)"
    r"|[^，]{1,24}(?:报道|消息|发文|撰文|援引[^，]{1,20})称$)"
)
# Verbs and adverbs that carry a purpose on into its next clause (为加强…，巩固…，).
_PURPOSE_GOES_ON_RE = re.compile(
    r"^(?:进一步|切实|充分|有效|深入|更好|积极|不断|全面|扎实|持续|大力|努力|着力|加强|推进|推动|促进|提升|提高|巩固|"
    r"普及|丰富|满足|落实|贯彻|营造|增强|弘扬|引导|帮助|助力|让|使|把|做好|打造|构建|保障|维护|激发|发挥|畅通|传承|"
    r"深化|展示|培养|宣传|树立|倡导|鼓励|支持|服务|解决|实现)"
)
# A dateline (电头): "IT之家 8 月 16 日消息，", "新华社北京7月31日电 ".
_DATELINE_RE = re.compile(
    r"^\s*(?:[^，。\s]{1,20}?\s*)?(?:[^，。\s]{0,6}?)((?:\d{4}\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*日)\s*"
    r"(?:[上下中晚]午|晚间|晚)?\s*(?:电|讯|消息|报道)\s*[，：:\s]"
)
_PAREN_RE = re.compile(r"（[^（）]*）|\([^()]*\)")
_ENUM_RE = re.compile(r"([^、，：；“”《》（）\s]{1,12})(?:、[^、，：；“”《》（）\s]{1,12}){2,}(等)?")


@dataclass(frozen=True)
class Clause:
    """One clause and the punctuation that ended it ('' at the end of a sentence)."""

    text: str
    end: str = ""


def _split(text: str, stops: str, keep_trailing_close: bool) -> list[str]:
    out: list[str] = []
    depth = 0
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif ch in stops and depth == 0:
            if ch in ",，:：" and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit():
                i += 1
                continue
            end = i + 1
            while end < len(text) and text[end] in stops:
                end += 1
            if keep_trailing_close:
                while end < len(text) and text[end] in _CLOSE:
                    end += 1
            out.append(text[start:end])
            start = i = end
            continue
        i += 1
    if text[start:].strip():
        out.append(text[start:])
    return [s.strip() for s in out if s.strip()]


def sentences(text: str) -> list[str]:
    """Sentences (ending at 。！？ outside quotes), paragraph breaks always ending one."""
    out: list[str] = []
    for paragraph in text.split("\n"):
        out.extend(_split(paragraph.strip(), _SENTENCE_END, keep_trailing_close=True))
    return out


def paragraphs(text: str) -> list[str]:
    """Non-empty paragraphs."""
    return [p.strip() for p in text.split("\n") if p.strip()]


def clauses(sentence: str) -> list[Clause]:
    """The clauses of one sentence, each with its ending punctuation apart."""
    body = sentence.rstrip()
    tail = ""
    while body and (body[-1] in _SENTENCE_END or (body[-1] in _CLOSE and _balanced(body) is False)):
        tail = body[-1] + tail
        body = body[:-1]
    out = []
    for part in _split(body, _CLAUSE_END, keep_trailing_close=False):
        end = part[-1] if part[-1] in _CLAUSE_END else ""
        text = part[:-1].rstrip() if end else part
        if text:
            out.append(Clause(text, end))
    return out


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def is_time_only(text: str) -> bool:
    """True for a clause that says only when (近日 / 5月18日下午)."""
    return bool(text.strip()) and _TIME_ONLY_RE.match(text.strip()) is not None


def is_purpose(text: str) -> bool:
    """True for a purpose clause (为…， 旨在…)."""
    return _PURPOSE_RE.match(text) is not None


def is_background(text: str) -> bool:
    """True for grounds, circumstance and attribution clauses (根据…要求， 在…带领下， 据…报道，)."""
    return _BACKGROUND_RE.match(text) is not None


def continues_purpose(text: str) -> bool:
    """True for a clause that reads as the next verb of a purpose (巩固…， 普及…)."""
    return _PURPOSE_GOES_ON_RE.match(text) is not None


def back_referring_opener(text: str) -> str | None:
    """The opening word that refers back or connects to what came before, if any."""
    stripped = text.lstrip("“‘「 ")
    for word in sorted(BACK_REFERRING, key=len, reverse=True):
        if stripped.startswith(word):
            # 这里/其实 are not openers that point back the way 这/其 do.
            if word in ("其", "这", "那", "也", "并", "而", "但", "他", "她", "它") and _is_compound(stripped, word):
                continue
            return word
    return None


def _is_compound(text: str, word: str) -> bool:
    compounds = {
        "其": ("其实",),
        "这": (),
        "那": ("那曲",),
        "也": ("也门",),
        "并": ("并购",),
        "而": ("而立",),
        "但": (),
        "他": ("他乡",),
        "她": (),
        "它": (),
    }
    return any(text.startswith(c) for c in compounds.get(word, ()))


def strip_connective(text: str) -> str:
    """The clause without a leading pure connective (此外，… -> …)."""
    for word in _STRIPPABLE:
        if text.startswith(word):
            return text[len(word) :].lstrip("，, ")
    return text


def lead_date(text: str) -> str | None:
    """The first explicit date of a text, spaces removed (8 月 16 日 -> 8月16日)."""
    match = DATE_RE.search(text)
    return re.sub(r"\s+", "", match.group(0)) if match else None


def unwrap_dateline(sentence: str) -> str:
    """'IT之家 8 月 16 日消息，X' -> '8月16日，X': the dateline's date kept, its source dropped."""
    match = _DATELINE_RE.match(sentence)
    if not match:
        return sentence
    date = re.sub(r"\s+", "", match.group(1))
    return f"{date}，{sentence[match.end() :].lstrip()}"


def drop_asides(text: str) -> str:
    """The clause without bracketed asides （…）."""
    previous = None
    while previous != text:
        previous, text = text, _PAREN_RE.sub("", text)
    return text


def shorten_lists(text: str) -> str:
    """Long enumerations cut to their first item: 甲、乙、丙、丁等 -> 甲等."""
    return _ENUM_RE.sub(lambda m: m.group(1) + "等", text)


# --- properties of a finished line -----------------------------------------------------

_DANGLING_END = ("的", "和", "与", "及", "并", "在", "对", "把", "被", "将", "为", "以", "从", "向", "或", "、")


def is_whole(line: str) -> bool:
    """Ends a sentence, nothing cut: final punctuation, no ellipsis, balanced quotes, no dangling word."""
    text = line.strip()
    if not text or "…" in text or "..." in text or not _balanced(text):
        return False
    core = text
    while core and core[-1] in _CLOSE:
        core = core[:-1]
    if not core or core[-1] not in _SENTENCE_END:
        return False
    core = core.rstrip(_SENTENCE_END)
    while core and core[-1] in _CLOSE:
        core = core[:-1]
    if not core or core.endswith(_DANGLING_END) or core[-1] in _CLAUSE_END:
        return False
    last = clauses(text)
    return bool(last) and not is_time_only(last[-1].text) and not is_purpose(last[0].text)
