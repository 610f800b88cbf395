"""What staff read about broadcasts: the progress message, the final report, /broadcasts."""

from __future__ import annotations

import datetime as dtm

from bot.core.broadcasts import DONE, QUEUED, RUNNING, BroadcastInfo


def format_duration(seconds: float) -> str:
    """'45 秒', '1 分 20 秒', '2 小时 3 分'."""
    total = round(seconds)
    if total < 60:
        return f"{total} 秒"
    minutes, rest = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} 分 {rest} 秒"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} 小时 {minutes} 分"


def progress_text(info: BroadcastInfo, rate: float) -> str:
    """The staff member's progress message while a broadcast runs."""
    c = info.counts
    waiting = c.pending + c.sending
    if info.started_at is None:
        return (
            f"📣 广播 #{info.id} 排队中：{info.title}\n"
            f"共 {info.total:,} 位订阅者，预计需要 {format_duration(info.total / max(rate, 0.1))}"
        )
    return "\n".join(
        [
            f"📣 广播 #{info.id} 发送中：{info.title}",
            f"已发送 {c.sent:,} / {info.total:,} · 屏蔽 {c.blocked:,} · 失败 {c.failed:,} · 待发 {waiting:,}",
            f"已用 {format_duration(info.duration)}，预计还需 {format_duration(waiting / max(rate, 0.1))}",
        ]
    )


def final_report(info: BroadcastInfo) -> str:
    """The report sent when a broadcast is over."""
    c = info.counts
    lines = [
        f"✅ 广播 #{info.id} 完成：{info.title}",
        f"订阅者 {info.total:,} 位",
        f"已发送 {c.sent:,}",
        f"屏蔽了机器人 {c.blocked:,}（已标记为停用）",
        f"失败 {c.failed:,}",
    ]
    if c.unknown:
        lines.append(f"可能已送达 {c.unknown:,}（发送途中机器人中断，为免重复没有重发）")
    if c.skipped:
        lines.append(f"跳过 {c.skipped:,}（发送前已退订）")
    lines.append(f"用时 {format_duration(info.duration)}")
    return "\n".join(lines)


STATE_NAMES = {QUEUED: "排队中", RUNNING: "发送中", DONE: "已完成"}


def broadcast_line(info: BroadcastInfo, tz: dtm.tzinfo) -> str:
    """One line of /broadcasts."""
    c = info.counts
    when = dtm.datetime.fromtimestamp(info.created_at, tz).strftime("%m-%d %H:%M")
    parts = [f"已发送 {c.sent:,}/{info.total:,}"]
    if c.blocked:
        parts.append(f"屏蔽 {c.blocked:,}")
    if c.failed:
        parts.append(f"失败 {c.failed:,}")
    if c.unknown:
        parts.append(f"可能已送达 {c.unknown:,}")
    if info.state == DONE and info.started_at is not None:
        parts.append(f"用时 {format_duration(info.duration)}")
    state = STATE_NAMES.get(info.state, info.state)
    return f"#{info.id} {when} {info.title} · {state}\n    " + " · ".join(parts)


# The progress message's first line once the final report follows it.
REPORT_FOLLOWS = "（报告见下一条消息）"
