"""What the resident bot says: search responses, articles and issues turned into reply models,
rendered as Telegram HTML (escaped) or as plain text for the terminal chat.

A reply is a list of lines made of spans (plain, bold, italic, or a matched word) and rows of
buttons. Telegram shows matched words in bold; the terminal wraps them in 【】. Long articles are
split into pages that stay well under Telegram's 4096-character limit, with buttons to turn
pages. Nothing here touches the network, the index or the database.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.core import callbacks
from bot.core.dates import month_label
from index.article import Article
from index.corpus import Issue
from index.search import SearchResponse, SearchResult
from index.snippet import Snippet, split_sentences

TELEGRAM_TEXT_LIMIT = 4096
# Visible characters (UTF-16 units, as Telegram counts) on one page of an article; the rest of
# the limit is headroom for the page's header and footer.
PAGE_BUDGET = 3600
DEFAULT_NEWSPAPER = "社区报"
HEADLINE_CHARS = 60
ECHO_CHARS = 30
MAX_ISSUE_LINES = 20
MAX_STREET_BUTTONS = 40
BUTTONS_PER_ROW = 5

EXAMPLE_QUESTIONS: tuple[str, ...] = (
    "芷江西路垃圾分类检查去了哪些小区？",
    "天山路积水点改造",
    "老字号企业绣国旗",
)

SLOW_DOWN = "发得有点快啦 🙂 请稍等一两秒再问。"
QUEUE_FULL = "发得太快啦：这条和接下来 {seconds} 秒内发来的问题都不会回答，请稍后再发一次。"
TEXT_ONLY = "我只能看懂文字问题哦。请直接打字提问，例如：垃圾分类、积水点改造。"
EXPIRED = "这个按钮已经过期了，请重新提问或发送 /latest。"
ARTICLE_GONE = "这篇文章已不在资料库中，请重新提问。"
NO_MORE = "没有更多结果了。"
UNKNOWN_COMMAND = "没有这个命令。发送 /help 看看我能做什么，或者直接打字提问。"
ERROR = "抱歉，刚才出了点问题，请稍后再试。"
ASK_USAGE = "请在 /ask 后面写上问题，例如：/ask 垃圾分类"
GROUP_USAGE = "在群里请这样问我：/ask 垃圾分类，或者 @我 加上问题。"
NOT_IN_TERMINAL = "订阅在 Telegram 里使用：新一期出版时，机器人会把要点发给你。"
NO_QUESTION_YET = "还没有提问。直接打字提问吧，例如：垃圾分类。"
PICK_NUMBER = "请输入 {first}–{last} 之间的数字。"
DID_YOU_MEAN = "您是不是要找：{suggestion}"
UNSUBSCRIBE_HINT = "退订请发送 /unsubscribe 街道名（只写 /unsubscribe 全部退订）；发送 /mysubs 查看当前订阅。"


# --- the reply model ------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A run of text and how it is shown."""

    text: str
    bold: bool = False
    italic: bool = False
    mark: bool = False  # a word that matched the question


Line = tuple[Span, ...]


@dataclass(frozen=True)
class Button:
    """An inline button: callback data, or a URL."""

    text: str
    data: str | None = None
    url: str | None = None

    def json(self) -> dict[str, str]:
        """Telegram's InlineKeyboardButton fields."""
        fields = {"text": self.text}
        if self.data is not None:
            fields["callback_data"] = self.data
        if self.url is not None:
            fields["url"] = self.url
        return fields


@dataclass(frozen=True)
class Reply:
    """One message: lines of spans and rows of buttons."""

    lines: tuple[Line, ...]
    buttons: tuple[tuple[Button, ...], ...] = ()

    @property
    def html(self) -> str:
        """Telegram HTML (parse_mode=HTML)."""
        return render_html(self.lines)

    @property
    def plain(self) -> str:
        """Plain text for the terminal; matched words in 【】."""
        return render_plain(self.lines)

    def keyboard_json(self) -> dict[str, list[list[dict[str, str]]]] | None:
        """The inline keyboard as Telegram's JSON (stored with a broadcast), or None without buttons."""
        rows = [[button.json() for button in row] for row in self.buttons if row]
        return {"inline_keyboard": rows} if rows else None


def text(*parts: str | Span) -> Line:
    """A line from strings and spans."""
    return tuple(Span(p) if isinstance(p, str) else p for p in parts)


BLANK: Line = ()


def render_html(lines: Iterable[Line]) -> str:
    """Lines as Telegram HTML: everything escaped, bold/italic as tags."""
    out = []
    for line in lines:
        parts = []
        for span in line:
            piece = html.escape(span.text, quote=False)
            if span.italic:
                piece = f"<i>{piece}</i>"
            if span.bold or span.mark:
                piece = f"<b>{piece}</b>"
            parts.append(piece)
        out.append("".join(parts))
    return "\n".join(out)


def render_plain(lines: Iterable[Line]) -> str:
    """Lines as plain text; matched words in 【】."""
    return "\n".join("".join(f"【{s.text}】" if s.mark else s.text for s in line) for line in lines)


def visible_length(lines: Iterable[Line]) -> int:
    """Length as Telegram counts it (UTF-16 code units of the text without markup)."""
    plain = "\n".join("".join(s.text for s in line) for line in lines)
    return len(plain.encode("utf-16-le")) // 2


def _utf16(value: str) -> int:
    return len(value.encode("utf-16-le")) // 2


def shorten(value: str, limit: int) -> str:
    """At most `limit` characters, with an ellipsis when cut."""
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


# --- pieces ---------------------------------------------------------------------------------


def meta_line(article: Article) -> Line:
    """street · newspaper · month."""
    parts = [article.street or article.district, article.newspaper or DEFAULT_NEWSPAPER, month_label(article.date)]
    return text(" · ".join(p for p in parts if p))


def issue_label(issue: Issue) -> str:
    """street · newspaper · month of an issue."""
    parts = [issue.street or issue.district, issue.newspaper or DEFAULT_NEWSPAPER, month_label(issue.month)]
    return " · ".join(p for p in parts if p)


def snippet_line(snippet: Snippet) -> Line:
    """The snippet with its matched words marked."""
    flat = snippet.text.replace("\n", " ")  # same length, so the highlight spans still fit
    spans: list[Span] = []
    last = 0
    for start, end in snippet.highlights:
        if start > last:
            spans.append(Span(flat[last:start]))
        spans.append(Span(flat[start:end], mark=True))
        last = end
    if last < len(flat):
        spans.append(Span(flat[last:]))
    return tuple(spans)


def headline_of(article: Article) -> str:
    """The headline shown in lists (the main headline; the full title when there is none)."""
    return shorten(article.headline or article.title or article.id, HEADLINE_CHARS)


def similar_text(count: int) -> str:
    """Said under a result that stands for near-identical reports of the same story."""
    return f"另有 {count} 篇相似报道"


def result_lines(number: int, result: SearchResult) -> list[Line]:
    """One result: bold numbered headline, where and when, the snippet (and how many like it)."""
    article = result.article
    lines = [
        text(Span(f"{number}. {headline_of(article)}", bold=True)),
        meta_line(article),
        snippet_line(result.snippet),
    ]
    if result.similar:
        lines.append(text(Span(f"（{similar_text(len(result.similar))}）", italic=True)))
    return lines


def _rows(buttons: Sequence[Button], per_row: int) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))


# --- replies to questions -------------------------------------------------------------------


def results_header(response: SearchResponse) -> Line:
    """'找到 N 篇相关报道（第 a–b 篇）：'."""
    first, last = response.offset + 1, response.offset + len(response.results)
    where = "" if response.total <= len(response.results) else f"（第 {first}–{last} 篇）"
    if first == last and where:
        where = f"（第 {first} 篇）"
    return text(f"找到 {response.total} 篇相关报道{where}：")


def suggestion_lines(response: SearchResponse) -> list[Line]:
    """'您是不是要找：社区义诊' when a typo in the question was corrected to find the results."""
    if not response.suggestion:
        return []
    return [text(DID_YOU_MEAN.format(suggestion=shorten(response.suggestion, ECHO_CHARS * 2)))]


def results_reply(response: SearchResponse, query_id: int | None, per_page: int) -> Reply:
    """Results of a question (at least one), with buttons to open each and to page."""
    lines: list[Line] = [*suggestion_lines(response), results_header(response)]
    for number, result in enumerate(response.results, start=response.offset + 1):
        lines.append(BLANK)
        lines.extend(result_lines(number, result))
    rows: list[tuple[Button, ...]] = []
    open_row = tuple(
        Button(f"📖 全文 {number}", callbacks.open_article(result.article.id))
        for number, result in enumerate(response.results, start=response.offset + 1)
    )
    rows.append(open_row)
    if query_id is not None:
        nav: list[Button] = []
        if response.offset > 0:
            nav.append(Button("◀ 上一页", callbacks.more_results(query_id, max(0, response.offset - per_page))))
        if response.offset + len(response.results) < response.total:
            nav.append(Button("更多结果 ▶", callbacks.more_results(query_id, response.offset + len(response.results))))
        if nav:
            rows.append(tuple(nav))
    return Reply(tuple(lines), tuple(rows))


def not_found_reply(question: str) -> Reply:
    """Nothing answers the question: say so, suggest /latest and other words."""
    return Reply(
        (
            text(f"没有找到和“{shorten(question, ECHO_CHARS)}”相关的报道。"),
            text("可以换个说法，只写关键词试试，例如：垃圾分类、积水点改造；也可以发送 /latest 看看最新一期社区报。"),
        ),
        ((Button("📰 最新一期", callbacks.latest(None)),),),
    )


def problem_reply(response: SearchResponse) -> Reply:
    """The question could not be searched (empty, or no searchable words)."""
    return Reply((text(response.message or TEXT_ONLY), text("发送 /help 查看用法。")))


def answer_reply(response: SearchResponse, query_id: int | None, per_page: int) -> Reply:
    """Whatever a question gets: results, a problem, or nothing found."""
    if response.problem:
        return problem_reply(response)
    if not response.results:
        return not_found_reply(response.query)
    return results_reply(response, query_id, per_page)


def notice(message: str) -> Reply:
    """A one-line message."""
    return Reply((text(message),))


# --- articles -------------------------------------------------------------------------------


def _header_lines(article: Article) -> list[Line]:
    lines: list[Line] = []
    if article.kicker:
        lines.append(text(shorten(article.kicker, 200)))
    lines.append(text(Span(shorten(article.headline or article.title or article.id, 200), bold=True)))
    if article.subtitle:
        lines.append(text(shorten(article.subtitle, 200)))
    lines.append(meta_line(article))
    if article.byline:
        lines.append(text(Span(shorten(article.byline, 100), italic=True)))
    return lines


def _pieces(paragraph: str, budget: int) -> list[str]:
    """A paragraph cut into pieces of at most `budget` UTF-16 units, at sentence ends if possible."""
    if _utf16(paragraph) <= budget:
        return [paragraph]
    pieces: list[str] = []
    current = ""
    for sentence in split_sentences(paragraph) or [paragraph]:
        while _utf16(sentence) > budget:
            # A "sentence" longer than a page (no punctuation at all): cut it hard.
            cut = budget // 2  # surrogate pairs take two units, so half the budget in characters is safe
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:cut])
            sentence = sentence[cut:]
        if current and _utf16(current) + _utf16(sentence) > budget:
            pieces.append(current)
            current = ""
        current += sentence
    if current:
        pieces.append(current)
    return pieces


def article_blocks(article: Article, budget: int = PAGE_BUDGET) -> list[list[Line]]:
    """The article as blocks that never share a page boundary: header, paragraphs, the end."""
    blocks: list[list[Line]] = [_header_lines(article)]
    for paragraph in article.body.split("\n"):
        paragraph = paragraph.strip()
        if paragraph:
            blocks.extend([text(piece)] for piece in _pieces(paragraph, budget))
    tail: list[Line] = []
    if article.source:
        tail.append(text(Span(f"（{shorten(article.source, 100)}）", italic=True)))
    tail.extend(text(f"📷 {shorten(caption, 300)}") for caption in article.captions if caption.strip())
    if tail:
        blocks.append(tail)
    return blocks


def article_pages(article: Article, budget: int = PAGE_BUDGET) -> list[list[Line]]:
    """The article split into pages of at most `budget` visible characters (before headers)."""
    pages: list[list[Line]] = []
    current: list[Line] = []
    size = 0
    for block in article_blocks(article, budget):
        block_size = visible_length(block) + 2  # the blank line that separates blocks
        if current and size + block_size > budget:
            pages.append(current)
            current, size = [], 0
        if current:
            current.append(BLANK)
        current.extend(block)
        size += block_size
    if current:
        pages.append(current)
    return pages


def article_reply(article: Article, page: int, budget: int = PAGE_BUDGET) -> Reply:
    """Page `page` (0-based, clamped) of an article, with previous/next buttons when it has several."""
    pages = article_pages(article, budget)
    page = max(0, min(page, len(pages) - 1))
    lines = list(pages[page])
    if page > 0:
        lines[:0] = [text(Span(headline_of(article), bold=True), "（续）"), BLANK]
    nav: list[Button] = []
    if len(pages) > 1:
        lines.extend([BLANK, text(Span(f"第 {page + 1}/{len(pages)} 页", italic=True))])
        if page > 0:
            nav.append(Button("◀ 上一页", callbacks.turn_page(article.id, page - 1)))
        if page < len(pages) - 1:
            nav.append(Button("下一页 ▶", callbacks.turn_page(article.id, page + 1)))
    return Reply(tuple(lines), (tuple(nav),) if nav else ())


def article_text(article: Article) -> str:
    """The whole article as plain text (the terminal has no page limit)."""
    pages = article_pages(article, budget=10**9)
    return render_plain(pages[0]) if pages else ""


def share_html(result: SearchResult, limit: int = 700) -> str:
    """What an inline-mode result posts into a chat: headline, where and when, the opening."""
    article = result.article
    opening = ""
    for paragraph in article.body.split("\n"):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if opening and len(opening) + len(paragraph) > limit:
            break
        opening = (opening + "\n" + paragraph).strip()
    lines = [
        text(Span(shorten(article.headline or article.title, 200), bold=True)),
        meta_line(article),
        BLANK,
        text(shorten(opening, limit)),
    ]
    return render_html(lines)


# --- issues, streets, subscriptions ---------------------------------------------------------


def latest_reply(
    issue: Issue,
    articles: Sequence[Article],
    other_streets: Sequence[str] = (),
    open_hint: str = "点下面的数字看全文。",
) -> Reply:
    """The headlines of an issue, with a button to open each, and buttons for other streets."""
    lines: list[Line] = [text(Span(f"📰 {issue_label(issue)}", bold=True))]
    shown = list(articles[:MAX_ISSUE_LINES])
    more = len(articles) - len(shown)
    lines.append(text(f"本期共 {len(articles)} 篇" + (f"，这里列出前 {len(shown)} 篇：" if more else "：")))
    for number, article in enumerate(shown, start=1):
        lines.append(text(f"{number}. {headline_of(article)}"))
    rows = list(_rows([Button(str(n), callbacks.open_article(a.id)) for n, a in enumerate(shown, 1)], BUTTONS_PER_ROW))
    if shown:
        lines.extend([BLANK, text(open_hint)])
    others = [s for s in other_streets if s != issue.street][:4]
    if others:
        lines.append(text("看其他街道：/latest 街道名"))
        rows.extend(_rows([Button(f"📰 {s}", callbacks.latest(s)) for s in others], 2))
    return Reply(tuple(lines), tuple(rows))


def broadcast_buttons(articles: Sequence[tuple[str, str]], street: str) -> tuple[tuple[Button, ...], ...]:
    """Under a broadcast: 全文 for each (article id, headline), then 退订 (this street) and 设置."""
    rows: list[tuple[Button, ...]] = [
        (Button(f"📖 全文：{shorten(title, 16)}", callbacks.open_article(article_id)),)
        for article_id, title in articles
    ]
    rows.append(
        (
            Button(f"🔕 退订{shorten(street, 10)}", callbacks.unsubscribe(street)),
            Button("⚙️ 设置", callbacks.show_settings()),
        )
    )
    return tuple(rows)


BROADCAST_FOOT = "点下面的按钮看全文；不想再收到可以退订。"


def correction_notice_html(title: str, street: str) -> str:
    """The short notice subscribers get when staff publish a correction and choose to tell them (HTML)."""
    return (
        f"✏️ <b>更正</b>：{html.escape(title)} 有更正，内容已经更新。\n"
        + (f"{html.escape(street)}\n" if street and street not in title else "")
        + "点下面的按钮看更正后的全文。"
    )


def settings_reply(subscribed: Sequence[str], streets: Sequence[str]) -> Reply:
    """The 设置 button: what the chat gets, a button to drop each, and the streets to add."""
    if subscribed:
        lines = [
            text(f"你订阅了：{'、'.join(street_label(s) for s in subscribed)}"),
            text("点“退订”去掉一个，或点街道加订："),
        ]
    else:
        lines = [text("你现在没有订阅。点下面的街道订阅，新一期出版时我会把要点发给你。")]
    drop = [Button(f"🔕 退订{shorten(street_label(s), 10)}", callbacks.unsubscribe(s)) for s in subscribed]
    others = [s for s in streets if s not in subscribed]
    add = [Button(s, callbacks.subscribe(s)) for s in others[:MAX_STREET_BUTTONS]]
    if "*" not in subscribed:
        add.append(Button("全部街道", callbacks.subscribe(None)))
    return Reply(tuple(lines), _rows(drop, 2) + _rows(add, 2))


def everything_subscribed_reply(street: str) -> Reply:
    """退订 pressed for one street by a chat that gets every street."""
    return Reply(
        (
            text(f"你订阅的是全部街道，所以会收到{street}的推送。"),
            text("点“设置”改成只订阅某些街道，或发送 /unsubscribe 全部退订。"),
        ),
        ((Button("⚙️ 设置", callbacks.show_settings()),),),
    )


def no_issues_reply() -> Reply:
    """The index holds no issue at all."""
    return notice("资料库里还没有社区报。")


def street_buttons(streets: Sequence[str], action: str) -> tuple[tuple[Button, ...], ...]:
    """A button per street (two per row); `action` is 'subscribe' or 'latest'."""
    make = callbacks.subscribe if action == "subscribe" else callbacks.latest
    buttons = [Button(s, make(s)) for s in streets[:MAX_STREET_BUTTONS]]
    if action == "subscribe":
        buttons.append(Button("全部街道", callbacks.subscribe(None)))
    return _rows(buttons, 2)


def unknown_street_reply(wanted: str, streets: Sequence[str], action: str) -> Reply:
    """A street name that matches nothing (or several): offer the streets as buttons."""
    lines = [text(f"没有找到“{shorten(wanted, ECHO_CHARS)}”的社区报。请从下面选一个街道：")]
    if not streets:
        return no_issues_reply()
    if len(streets) > MAX_STREET_BUTTONS:
        lines.append(text(f"（共 {len(streets)} 个街道，这里列出前 {MAX_STREET_BUTTONS} 个；也可以直接输入街道名）"))
    return Reply(tuple(lines), street_buttons(streets, action))


def choose_street_reply(streets: Sequence[str]) -> Reply:
    """/subscribe without a street: the streets as buttons, and 'all'."""
    if not streets:
        return no_issues_reply()
    lines = [
        text("想订阅哪个街道的社区报？新一期出版时我会把要点发给你。"),
        text("点下面的街道，或者发送 /subscribe 街道名（/subscribe 全部 订阅所有街道）。"),
    ]
    return Reply(tuple(lines), street_buttons(streets, "subscribe"))


def street_label(street: str) -> str:
    """A stored street name as residents read it ('*' is every street)."""
    return "全部街道" if street == "*" else street


def subscribed_reply(added: Sequence[str], streets: Sequence[str]) -> Reply:
    """After /subscribe: what was added, and what the chat now gets."""
    current = "、".join(street_label(s) for s in streets)
    if added:
        first = f"已订阅 {'、'.join(street_label(s) for s in added)} 的社区报。新一期出版时我会把要点发给你。"
    else:
        first = f"你已经订阅了 {current}。"
    return Reply((text(first), text(f"当前订阅：{current}"), text("退订：/unsubscribe")))


def unsubscribed_reply(removed: Sequence[str], left: Sequence[str], wanted: str | None) -> Reply:
    """After /unsubscribe."""
    if not removed:
        if wanted:
            current = "、".join(street_label(s) for s in left) or "无"
            return Reply((text(f"你没有订阅“{shorten(wanted, ECHO_CHARS)}”。"), text(f"当前订阅：{current}")))
        return notice("你现在没有订阅。发送 /subscribe 选择街道。")
    lines = [text(f"已退订 {'、'.join(street_label(s) for s in removed)}。")]
    if left:
        lines.append(text(f"还在订阅：{'、'.join(street_label(s) for s in left)}"))
    else:
        lines.append(text("不会再收到新一期的推送了。随时可以用 /subscribe 重新订阅。"))
    return Reply(tuple(lines))


def mysubs_reply(active: bool, streets: Sequence[str], since_label: str) -> Reply:
    """/mysubs."""
    if not active or not streets:
        return notice("你还没有订阅。发送 /subscribe 选择街道，新一期出版时我会把要点发给你。")
    return Reply(
        (
            text(f"你订阅了：{'、'.join(street_label(s) for s in streets)}"),
            text(f"订阅时间：{since_label}"),
            text("退订某个街道：/unsubscribe 街道名；全部退订：/unsubscribe"),
        )
    )


# --- welcome and help -----------------------------------------------------------------------


def welcome_reply() -> Reply:
    """/start: what the bot does, and three example questions to tap."""
    lines = (
        text("你好！我是社区报小助手 📰"),
        text("直接把想了解的事发给我，我会在上海各街道的社区报里帮你找相关报道。"),
        BLANK,
        text("试试这些问题："),
    )
    rows = tuple((Button(q, callbacks.example(n)),) for n, q in enumerate(EXAMPLE_QUESTIONS))
    return Reply(lines, rows)


_SMALL_TALK_OPENING = {
    "greeting": "你好！我是社区报小助手 📰 我会在上海各街道的社区报里帮你找相关报道。",
    "thanks": "不客气 😊 还想了解什么，直接发给我就好。",
    "help": "我是社区报小助手：直接发一句话或几个关键词，我会在各街道的社区报里找相关报道。",
    "bye": "再见！想看新一期社区报，随时发送 /latest；发送 /subscribe 可以订阅新一期推送。",
}


def small_talk_reply(kind: str) -> Reply:
    """你好 / 谢谢 / help / 再见: a friendly pointer to what the bot does, with questions to try."""
    lines = [
        text(_SMALL_TALK_OPENING.get(kind, _SMALL_TALK_OPENING["help"])),
        text("可以这样问：" + "；".join(EXAMPLE_QUESTIONS[:2])),
        text("/latest 看最新一期 · /subscribe 订阅新一期推送 · /help 全部用法"),
    ]
    rows = tuple((Button(q, callbacks.example(n)),) for n, q in enumerate(EXAMPLE_QUESTIONS))
    return Reply(tuple(lines), rows)


def subscribe_offer_reply(street: str) -> Reply:
    """"我想订阅天山路的社区报": the street's subscribe button (and the way to pick another)."""
    return Reply(
        (
            text(f"想订阅 {street} 的社区报吗？点下面的按钮就好，新一期出版时我会把要点发给你。"),
            text(f"也可以发送 /subscribe {street}；订阅其他街道：/subscribe"),
        ),
        ((Button(f"✅ 订阅 {street}", callbacks.subscribe(street)),),),
    )


def help_reply() -> Reply:
    """/help: the commands."""
    return Reply(
        (
            text(Span("怎么用", bold=True)),
            text("直接发送问题，例如：垃圾分类检查去了哪些小区？"),
            text("结果下面的按钮可以看全文、看更多结果。"),
            BLANK,
            text("/latest [街道] — 最新一期的标题"),
            text("/subscribe [街道] — 订阅新一期推送（“全部”订阅所有街道）"),
            text("/unsubscribe [街道] — 退订"),
            text("/mysubs — 我的订阅"),
            text("/ask 问题 — 在群里提问（也可以 @我）"),
        )
    )
