"""What staff read while correcting a summary line (✏️ 修改) and publishing a correction."""

from __future__ import annotations

import html

from bot.core.staff_texts.upload import NOTHING_CHANGED_FOR_RESIDENTS

# What a staff member sends instead of a line to leave it as it was.
CANCEL_WORDS = ("取消", "不改", "算了")
LINE_PLACEHOLDER = "新的摘要"
EMPTY_LINE = "摘要不能是空的。"


def ask_for_line(number: int, headline: str, line: str, max_chars: int) -> str:
    """Asking for article `number`'s corrected line (HTML; values plain)."""
    return (
        f"✏️ 请发送第 {number} 篇《{html.escape(headline)}》的新摘要："
        f"一句话，不超过 {max_chars} 个字。\n"
        f"现在是：{html.escape(line)}\n"
        "不想改了，发送“取消”。"
    )


def line_too_long(length: int, max_chars: int) -> str:
    return f"这句摘要有 {length} 个字，超过了 {max_chars} 个字的上限。"


def line_refused(why: str, number: int, headline: str, max_chars: int) -> str:
    return (
        f"❌ {why}第 {number} 篇《{headline}》的摘要没有改，预览也没有变。\n"
        f"请重新发送（不超过 {max_chars} 个字），或发送“取消”。"
    )


def line_kept(number: int, headline: str) -> str:
    return f"好的，第 {number} 篇《{headline}》的摘要没有改。"


def line_saved_preview_gone(number: int, headline: str) -> str:
    return (
        f"✅ 已记下第 {number} 篇《{headline}》的新摘要。\n"
        "原来的预览已经不在了（机器人重启过或已超过 24 小时）：请重新发送这个文件，新的预览会用改好的摘要。"
    )


def line_changed(number: int, headline: str, line: str, preview_updated: bool) -> str:
    return (
        f"✅ 第 {number} 篇《{headline}》的摘要改为：\n{line}\n"
        + ("预览已更新" if preview_updated else "新的预览在上一条消息")
        + "，确认无误后点“✅ 发布”。订阅者收到的就是预览里的内容。"
    )


# --- publishing a correction ------------------------------------------------------------------

CORRECTED_SEARCHABLE = "居民现在搜到的是更正后的内容。"
NO_SUBSCRIBERS_FOR_NOTICE = "目前没有这个街道的订阅者，不发送更正通知。"
NOT_PUSHED_AGAIN = "没有再次推送给订阅者。"


def correction_failed(reason: str) -> str:
    """`reason` HTML-escaped."""
    return f"❌ 更正失败：{reason}" + NOTHING_CHANGED_FOR_RESIDENTS


def corrected(title: str, articles: int, replaced_file: str) -> str:
    """`title` HTML-escaped; `replaced_file` plain."""
    return f"✅ 已更正：{title}（{articles} 篇文章），替换了 {html.escape(replaced_file)}。"


def correction_notice_queued(broadcast_id: int, queued: int) -> str:
    return f"更正通知（广播 #{broadcast_id}）将推送给 {queued:,} 位订阅者，进度见下一条消息。"
