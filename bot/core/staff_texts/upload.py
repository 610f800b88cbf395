"""What staff read while publishing an upload: the questions about its street, month and an
earlier issue of the same month, their buttons, the preview, and how the publish ended. Values
are passed in plain; these functions escape them where the text is HTML.
"""

from __future__ import annotations

import html

CANCEL_BUTTON = "✖️ 取消"
PUBLISH_BUTTON = "✅ 发布"
EXPIRED_PREVIEW = "这个预览已过期，请重新发送文件。"
# After a failed publish or correction.
NOTHING_CHANGED_FOR_RESIDENTS = "\n居民看到的内容没有变化。"

# --- the street and the month ---------------------------------------------------------------


def which_street_unknown(name: str) -> str:
    """No street in the caption and none known to offer (`name`: the file name, HTML-escaped)."""
    return f"《{name}》是哪个街道的？请在文件说明里写上街道名（例如“天山路街道 2020-06”）后重新发送。"


def which_street(name: str) -> str:
    """Ask for the street, with the known ones as buttons (`name` HTML-escaped)."""
    return f"《{name}》是哪个街道的报纸？\n不在下面的话，请在文件说明里写上街道名后重新发送。"


def which_month(note: str, name: str, street: str) -> str:
    """Ask for the month (`note`: why the caption's month was not taken; `name` HTML-escaped)."""
    return f"{note}《{name}》（{html.escape(street)}）是哪个月的？"


def new_street_question(file_name: str, street: str, known: list[str]) -> str:
    """A street no issue has yet: new, or a mistake?"""
    listed = "、".join(known) or "（还没有）"
    return (
        f"《{html.escape(file_name)}》：还没有“{html.escape(street)}”的报纸。\n"
        f"已有的街道：{html.escape(listed)}\n"
        "是新街道就点“是新街道”；写错了就点正确的街道，或在文件说明里改正后重新发送。"
    )


def new_street_button(street: str) -> str:
    return f"🆕 是新街道：{street}"


def bad_month_note(bad_month: str) -> str:
    return f"说明里的“{html.escape(bad_month)}”不是有效的月份（月份是 01 到 12）。\n"


def future_month_question(label: str, year: int, month: int) -> str:
    """A month more than a month after today (`year`, `month`: today's)."""
    return f"{label}比现在（{year}年{month}月）晚了一个多月。确定是{label}吗？"


def future_month_button(label: str) -> str:
    return f"✅ 确定是 {label}"


# --- an issue of that street and month already out -----------------------------------------


def same_month_question(file_name: str, title: str, existing_file: str) -> str:
    """A correction of the issue already out, or another issue (`title` HTML-escaped)?"""
    return (
        f"《{html.escape(file_name)}》：{title} 已经发布过一期（{html.escape(existing_file)}）。\n"
        "这一期是对它的更正，还是同一个月的另一期？\n"
        "• 更正：替换旧一期的文章，不再推送给订阅者（可以选择发一条简短的更正通知）。\n"
        "• 另一期：作为新的一期发布并推送。"
    )


CORRECTION_CHOICE = "✏️ 更正（替换旧一期）"
ANOTHER_ISSUE_CHOICE = "➕ 另一期"
PUBLISH_CORRECTION_QUIETLY = "✅ 发布更正（不通知）"
PUBLISH_CORRECTION_AND_NOTIFY = "📣 发布并通知更正"


def correction_preview_note(title: str, replaced_file: str) -> str:
    """The line above a correction's preview (HTML; values plain)."""
    return (
        f"✏️ <b>更正</b>：发布后替换 {html.escape(title)}"
        f"（{html.escape(replaced_file)}）的文章。\n"
        "不会再推送本期；要告诉订阅者，请点“发布并通知更正”（只发一条简短的更正通知）。\n"
    )


def correction_title(title: str) -> str:
    """A correction notice's title in /broadcasts."""
    return f"更正：{title}"


# --- the preview ----------------------------------------------------------------------------


def edit_button(number: int, short_title: str) -> str:
    return f"✏️ 修改 {number}. {short_title}"


def edited_count(count: int) -> str:
    return f"\n✏️ 已修改 {count} 篇的摘要。"


HOW_TO_EDIT = "\n要改哪篇的摘要，点它的“✏️ 修改”。"


def buttons_line(shown: int, street: str) -> str:
    """The broadcast's buttons as the preview shows them."""
    return f"[📖 全文 ×{shown}] [🔕 退订{street}] [⚙️ 设置]"


def preview(
    file_name: str,
    street: str,
    month: str,
    district: str,
    articles: int,
    recipients: int,
    correction: bool,
    broadcast: str,
    buttons: str,
) -> str:
    """What staff check before pressing Publish (HTML; `broadcast` is HTML already, the rest plain)."""
    facts = [f"街道：{street}", f"月份：{month or '未填'}"]
    if district:
        facts.append(f"区：{district}")
    return "\n".join(
        [
            f"📝 <b>预览</b>：{html.escape(file_name)}",
            html.escape(" · ".join(facts)),
            f"{articles} 篇文章 · "
            + (f"更正不再推送（{recipients:,} 位订阅者）" if correction else f"将推送给 {recipients:,} 位订阅者"),
            "",
            "更正后的内容（不推送）：" if correction else "订阅者会收到：",
            "┈┈┈┈┈┈┈┈",
            broadcast,
            html.escape(buttons),
            "┈┈┈┈┈┈┈┈",
            "发布后居民马上就能搜到本期内容。",
        ]
    )


# --- Publish and Cancel ---------------------------------------------------------------------

CANCELLED = "已取消"
PUBLISHING = "正在发布…"
REINDEX_RUNNING = "索引正在重建，请等重建完成后再点发布。"
ANOTHER_PUBLISH_RUNNING = "正在发布另一期，请稍候再点。"
SEARCHABLE_NOW = "居民现在就能搜到本期内容。"
NO_SUBSCRIBERS = "目前没有这个街道的订阅者，不发送广播。"


def cancelled(file_name: str) -> str:
    return f"已取消：《{html.escape(file_name)}》没有发布，什么都没有改动。"


def publishing_now(title: str) -> str:
    """`title` HTML-escaped."""
    return f"⏳ 正在发布 {title}…"


def publish_failed(reason: str) -> str:
    """`reason` HTML-escaped."""
    return f"❌ 发布失败：{reason}" + NOTHING_CHANGED_FOR_RESIDENTS


def published(title: str, articles: int) -> str:
    """`title` HTML-escaped."""
    return f"✅ 已发布：{title}（{articles} 篇文章）"


def broadcast_queued(broadcast_id: int, queued: int) -> str:
    return f"广播 #{broadcast_id} 将推送给 {queued:,} 位订阅者，进度见下一条消息。"


# --- newsbot publish (the CLI's Chinese lines) ------------------------------------------------

CLI_CONFIRM = "发布？[y/N] "
CLI_YES_WORDS = ("y", "yes", "是")


def cli_articles(count: int) -> str:
    """After the issue's street and month: how many articles it has."""
    return f": {count} 篇文章"


def summary_file_instructions(file_name: str) -> list[str]:
    """The review file's first lines (`#` comments)."""
    return [
        f"# {file_name}: 每篇文章的摘要，订阅者收到的就是这些句子。",
        "# 只改标题下面那一行（一句话，不超过 90 个字）；不要改 [编号] 标题 这一行。以 # 开头的行不算。",
        "# 改好后保存为 UTF-8，再运行 newsbot publish（同样的参数）加上 --summary 这个文件。",
    ]
