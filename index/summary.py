"""The summary staff check and broadcast: one line per article, built from its lead.

Chinese news says when, who and what in its lead (导语), so the line is the lead sentence
(or the first that reports something, when the lead is a slogan or a purpose), compressed at
clause boundaries: dates, actor and action kept, purpose and background clauses dropped, and
cut only after a whole clause (at most `TARGET_CHARS`, never more than `MAX_CHARS`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from index import clauses as cl
from index.article import Article
from index.lead_debris import strip_debris
from index.snippet import fold, split_sentences

TARGET_CHARS = 80
MAX_CHARS = 90
# Sentences of the body looked at for the lead.
LEAD_CANDIDATES = 5
MIN_LINE_CHARS = 8
_NOISE_RE = re.compile(
    r"^(?:[^，。]{0,40}，)?正文：|^原标题：[^。！？]*?\s{2,}|^\d{2,4}[-/]\d{1,2}[-/]?\d{0,2}\s+\d{1,2}:\d{2}(?::\d{2})?\s*"
)


def _clean(sentence: str) -> str:
    previous = None
    text = sentence.strip()
    while previous != text:
        previous = text
        text = _NOISE_RE.sub("", text).strip(" ，,")
    return cl.unwrap_dateline(text)


def _is_slogan(sentence: str) -> bool:
    """A headline-like opener: short parallel phrases with no date (党建中心搭平台，主题教育引力强。)."""
    parts = cl.clauses(sentence)
    if cl.lead_date(sentence) or len(sentence) > 30:
        return False
    return len(parts) >= 2 and all(len(p.text) <= 9 for p in parts)


def _compress(sentence: str) -> str | None:
    """The sentence cut down to date + actor + action; None when nothing reportable is left."""
    parts = cl.clauses(_clean(sentence))
    if not parts:
        return None
    final = sentence.rstrip()[-1:] if sentence.rstrip()[-1:] in "！？" else "。"
    # Before the main clause: keep the dates, drop purpose and background (and what carries them on).
    kept: list[str] = []
    i = 0
    in_purpose = False
    while i < len(parts):
        text = cl.strip_connective(parts[i].text)
        if cl.is_time_only(text):
            kept.append(text)
            in_purpose = False
        elif cl.is_purpose(text) or cl.is_background(text):
            in_purpose = True
        elif in_purpose and (cl.continues_purpose(text) or _date_follows(parts, i)):
            pass
        else:
            break
        i += 1
    if i >= len(parts):
        return None
    main = [cl.drop_asides(p.text) for p in parts[i:]]
    main = [m for m in main if m]
    if main and len(main[0]) + 1 > MAX_CHARS - len("".join(kept)):
        main[0] = cl.shorten_lists(main[0])
    if not main:
        return None
    head = "".join(k + "，" for k in kept)
    line = head + main[0]
    if len(line) + 1 > MAX_CHARS and kept:
        line = kept[0] + "，" + main[0]
    for extra in main[1:]:
        if cl.is_purpose(extra) or cl.is_background(extra) or extra.startswith(_NEEDS_MORE):
            break
        candidate = line + "，" + extra
        if len(candidate) + 1 > TARGET_CHARS:
            break
        line = candidate
    return line + final


# A clause opening with these leads into the next one (就…， 结合…，) or only adds a goal.
_NEEDS_MORE = (
    "就",
    "对",
    "向",
    "与",
    "在",
    "以",
    "通过",
    "从",
    "为",
    "借助",
    "依托",
    "当",
    "经过",
    "旨在",
    "从而",
    "进而",
    "以期",
    "确保",
    "力争",
)


def _date_follows(parts: list[cl.Clause], i: int) -> bool:
    return any(cl.is_time_only(p.text) for p in parts[i + 1 : i + 4])


def _normal(text: str) -> str:
    return re.sub(r"[\s，。！？、“”‘’《》（）()：:；;|·—-]+", "", fold(text))


def repeats_headline(line: str, headline: str) -> bool:
    """True when the line says no more than the headline, word for word."""
    a, b = _normal(line), _normal(headline)
    return bool(a) and a in b


def lead_line(article: Article) -> str:
    """The article's summary line: its lead, compressed to a whole clause of at most MAX_CHARS."""
    body = strip_debris(article.body)
    candidates = cl.sentences(body)[:LEAD_CANDIDATES] or [body.strip()]
    # Second choices, best first: a long line cut back to whole clauses, a lead opening on a word
    # that points back (the headline may say what it points at), a line repeating the headline.
    too_long: str | None = None
    points_back: str | None = None
    repeating: str | None = None
    for number, sentence in enumerate(candidates):
        if number == 0 and _is_slogan(sentence) and len(candidates) > 1:
            continue
        line = _compress(sentence)
        if line is not None and not cl.is_whole(line):
            line = _whole_prefix(line) or line
        if line is None or len(line) < MIN_LINE_CHARS or line.endswith("？"):
            continue
        if cl.back_referring_opener(line):
            points_back = points_back or (line if number == 0 and len(line) <= MAX_CHARS else None)
            continue
        # A headline derived from the lead repeats it by construction: nothing better to pick then.
        if not article.derived_headline and repeats_headline(line, article.headline):
            repeating = repeating or line
            continue
        if len(line) <= MAX_CHARS:
            return line
        too_long = too_long or line
    line = (_hard_cut(too_long) if too_long else None) or points_back or repeating or _clean(candidates[0])
    return line if len(line) <= MAX_CHARS else _hard_cut(line)


def _join(parts: list[cl.Clause], final: str) -> str:
    return "".join(p.text + p.end for p in parts[:-1]) + parts[-1].text + final


def _whole_prefix(line: str, limit: int = MAX_CHARS) -> str | None:
    """The longest run of the line's first clauses that fits `limit` and reads as a whole sentence."""
    final = line.rstrip()[-1:] if line.rstrip()[-1:] in "。！？" else "。"
    parts = cl.clauses(line)
    for count in range(len(parts), 0, -1):
        candidate = _join(parts[:count], final)
        if len(candidate) <= limit and len(candidate) >= MIN_LINE_CHARS and cl.is_whole(candidate):
            return candidate
    return None


def _hard_cut(line: str) -> str:
    """A line longer than MAX_CHARS cut back to its first whole clauses; a single clause too long
    for that loses its asides and lists first, and only then is cut at an inner break."""
    found = _whole_prefix(line)
    if found is not None:
        return found
    shorter = cl.shorten_lists(cl.drop_asides(line))
    found = _whole_prefix(shorter)
    if found is not None:
        return found
    first = cl.clauses(shorter)
    clause = first[0].text if first else shorter
    room = clause[: MAX_CHARS - 1]
    cut = max(room.rfind(mark) for mark in "、 ")
    room = room[:cut] if cut > MAX_CHARS // 2 else room
    # Never leave a quotation or a title open.
    for opener, closer in (("“", "”"), ("《", "》"), ("（", "）"), ("(", ")")):
        while room.count(opener) > room.count(closer):
            room = room[: room.rfind(opener)]
    return room.rstrip("，、 的和与及并在对把被将为以从向或") + "。"


def summary_lines(articles: list[Article]) -> list[tuple[Article, str]]:
    """(article, summary line) for each article of an issue, in print order."""
    return [(article, lead_line(article)) for article in articles]


# --- the previous method, kept so `newsbot summary --check` can show both side by side --------

KEY_SENTENCE_CHARS = 120
MIN_SENTENCE_CHARS = 12


def weighted_key_sentence(
    article: Article, tokenize: Callable[[str], list[str]], weight: Callable[[str], float]
) -> str:
    """The sentence of the body that says most of what the title says, cut at 120 characters."""
    sentences = [s for s in split_sentences(article.body) if len(s) >= MIN_SENTENCE_CHARS]
    if not sentences:
        sentences = split_sentences(article.body) or [article.body]
    title_terms = {t: weight(t) for t in tokenize(article.title)} if not article.derived_headline else {}
    best, best_score = sentences[0], -1.0
    for position, sentence in enumerate(sentences[:12]):
        folded = fold(sentence)
        overlap = sum(w for t, w in title_terms.items() if t in folded)
        score = overlap + (1.5 if position == 0 else 0.0) - 0.05 * position
        if score > best_score:
            best, best_score = sentence, score
    if len(best) > KEY_SENTENCE_CHARS:
        best = best[: KEY_SENTENCE_CHARS - 1] + "…"
    return best
