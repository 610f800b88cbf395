"""What the resident bot says, in one place: every text residents read, and the replies built from
search responses, issues and subscriptions (the model they are made of is `bot.core.messages`;
whole articles are `bot.core.article_pages`). Nothing here touches the network, the index or the
database.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence

from bot.core import callbacks
from bot.core.messages import Button, Line, Reply, Span, shorten, text
from index.article import Article
from index.corpus import Issue
from index.search import SearchResponse, SearchResult
from index.snippet import Snippet

log = logging.getLogger(__name__)

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


REFUSED = "发得太快啦，下面 {count} 个问题这次不会回答，请稍等一会儿再发一次："


REFUSED_MORE = "……还有 {count} 个"


MAX_REFUSED_LISTED = 10


TEXT_ONLY = "我只能看懂文字问题哦。请直接打字提问，例如：垃圾分类、积水点改造。"


EXPIRED = "这个按钮已经过期了，请重新提问或发送 /latest。"


ARTICLE_GONE = "这篇文章已不在资料库中，请重新提问。"


NO_MORE = "没有更多结果了。"


UNKNOWN_COMMAND = "没有这个命令。发送 /help 看看我能做什么，或者直接打字提问。"


ERROR = "抱歉，刚才出了点问题，请稍后再试。"


ASK_USAGE = "请在 /ask 后面写上问题，例如：/ask 垃圾分类"


GROUP_USAGE = "在群里请这样问我：/ask 垃圾分类，或者 @我 加上问题。"


GROUP_PRIVATE_ONLY = "订阅和退订请私聊我：点下面的按钮打开私聊，再发送 {command}。"


GROUP_UNKNOWN_COMMAND = "没有这个命令。在群里可以用 /ask 问题、/latest 和 /help。"


EDITED_COMMAND = "修改过的命令不会再执行一次；需要的话请重新发送 {command}。"


EDITED_ANSWER = "✏️ 按修改后的问题重新回答："


NOT_IN_TERMINAL = "订阅在 Telegram 里使用：新一期出版时，机器人会把要点发给你。"


NO_QUESTION_YET = "还没有提问。直接打字提问吧，例如：垃圾分类。"


PICK_NUMBER = "请输入 {first}–{last} 之间的数字。"


DID_YOU_MEAN = "您是不是要找：{suggestion}"


UNSUBSCRIBE_HINT = "退订请发送 /unsubscribe 街道名（只写 /unsubscribe 全部退订）；发送 /mysubs 查看当前订阅。"


_MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})")


BLANK: Line = ()


def month_label(date: str) -> str:
    """'2020-06' (or '2020-06-15') as '2020年6月'; other dates as they are."""
    match = _MONTH_RE.match(date.strip())
    if not match:
        return date.strip()
    return f"{match[1]}年{int(match[2])}月"


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
    """ "我想订阅天山路的社区报": the street's subscribe button (and the way to pick another)."""
    return Reply(
        (
            text(f"想订阅 {street} 的社区报吗？点下面的按钮就好，新一期出版时我会把要点发给你。"),
            text(f"也可以发送 /subscribe {street}；订阅其他街道：/subscribe"),
        ),
        ((Button(f"✅ 订阅 {street}", callbacks.subscribe(street)),),),
    )


def group_help_reply(username: str) -> Reply:
    """/help and /start in a group: how to ask there, and where to subscribe."""
    return Reply(
        (
            text(Span("在群里怎么用", bold=True)),
            text("/ask 问题 — 例如：/ask 垃圾分类"),
            text("@我 加上问题 — 例如：@" + username + " 积水点改造"),
            text("/latest [街道] — 最新一期的标题"),
            BLANK,
            text("订阅新一期推送、看全部用法，请私聊我。"),
        ),
        ((Button("💬 私聊我", url=f"https://t.me/{username}?start=help"),),),
    )


def group_private_only_reply(command: str, username: str) -> Reply:
    """/subscribe, /unsubscribe, /mysubs in a group: they are private-chat matters; a link there."""
    return Reply(
        (text(GROUP_PRIVATE_ONLY.format(command=command)),),
        ((Button("💬 私聊我", url=f"https://t.me/{username}?start=subscribe"),),),
    )


def refused_reply(questions: Sequence[str], more: int = 0) -> Reply:
    """Which questions were not answered because the resident sent more than the queue holds."""
    listed = questions[:MAX_REFUSED_LISTED]
    more += len(questions) - len(listed)
    lines = [text(REFUSED.format(count=len(listed) + more))]
    lines += [text(f"{n}. {shorten(q, ECHO_CHARS)}") for n, q in enumerate(listed, 1)]
    if more:
        lines.append(text(REFUSED_MORE.format(count=more)))
    return Reply(tuple(lines))


def edited_reply(reply: Reply) -> Reply:
    """The answer to an edited question, saying it answers the question as edited."""
    return Reply((text(EDITED_ANSWER), *reply.lines), reply.buttons)


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


# --- the terminal chat: the same replies, worded for typing instead of tapping ---------

# (Telegram's wording, the terminal's): one types (输入) what one sends (发送) in Telegram.
TERMINAL_WORDING = (
    ("发送 /", "输入 /"),
    ("请从下面选一个街道：", "可选街道："),
    ("/help 全部用法", "/help 全部用法，Ctrl-D 退出"),
)
TERMINAL_OPEN_HINT = "输入数字看全文。"
TERMINAL_LOADING = "正在载入社区报资料库…"
TERMINAL_BUILT = "已建立索引：{count} 篇文章"
TERMINAL_SKIPPED = "跳过 {path}：{reason}"


def for_terminal(message: str) -> str:
    """A Telegram reply's plain text as the terminal chat says it."""
    for telegram_words, terminal_words in TERMINAL_WORDING:
        message = message.replace(telegram_words, terminal_words)
    return message


def terminal_list_hint(first: int, last: int, more: bool) -> str:
    """The hint under listed results: which numbers open an article, and 更多."""
    hints = [f"输入 {first}–{last} 看全文" if last > first else f"输入 {last} 看全文"]
    if more:
        hints.append("输入“更多”看下一页")
    return "（" + "，".join(hints) + "）"


def terminal_subscribe_text(wanted: str, found: Sequence[str], streets: Sequence[str]) -> str:
    """/subscribe in the terminal: subscriptions live in Telegram; which streets there are."""
    lines = [NOT_IN_TERMINAL]
    if wanted:
        if len(found) == 1:
            lines.append(f"在 Telegram 里发送 /subscribe {found[0]} 即可订阅。")
        else:
            lines.append(f"没有找到“{shorten(wanted, ECHO_CHARS)}”。")
    if streets:
        lines.append("可订阅的街道：" + "、".join(streets))
    return "\n".join(lines)


def terminal_welcome_text() -> str:
    """The terminal chat's welcome, with the example questions to type."""
    lines = [
        "你好！我是社区报小助手 📰",
        "直接输入想了解的事，我会在上海各街道的社区报里帮你找相关报道。",
        "试试这些问题：",
        *(f"  · {q}" for q in EXAMPLE_QUESTIONS),
        "输入 /help 查看命令，Ctrl-D 退出。",
    ]
    return "\n".join(lines)


def terminal_help_text() -> str:
    """What can be typed in the terminal chat."""
    return "\n".join(
        [
            "直接输入问题，例如：垃圾分类检查去了哪些小区？",
            "数字（如 1）— 看刚列出的文章全文",
            "更多 — 看下一页结果",
            "/latest [街道] — 最新一期的标题",
            "/subscribe [街道] — 可订阅的街道（订阅在 Telegram 里使用）",
            "/quit — 退出（或 Ctrl-D）",
        ]
    )
