"""What staff and admins read from their commands: /staff, /broadcasts and /reindex."""

from __future__ import annotations

REFUSAL = "抱歉，这个命令不可用。"

# --- /staff ---------------------------------------------------------------------------

STAFF_USAGE = "用法：/staff list · /staff add 用户ID · /staff remove 用户ID"
ADDED_BY_ADMIN = "管理员添加"
STILL_IN_CONFIG = "\n注意：config.yaml 仍列出此人；已在机器人里停用，请也从 config.yaml 删除。"


def staff_added(target: int, changed: bool) -> str:
    """The answer to /staff add ID."""
    return f"已把 {target} 加为工作人员。" if changed else f"{target} 已经是工作人员。"


def staff_removed(target: int, changed: bool) -> str:
    """The answer to /staff remove ID."""
    return f"已移除工作人员 {target}。" if changed else f"{target} 不是工作人员。"


def staff_list(admins: list[str], staff: list[str], removed: list[int]) -> str:
    """/staff list: admins, staff (with where each comes from), config staff stopped in the bot."""
    lines = [
        "👥 工作人员",
        "管理员：" + ("、".join(admins) or "无"),
        "工作人员：" + ("、".join(staff) or "无"),
    ]
    if removed:
        lines.append("config.yaml 仍列出、但已在机器人里停用：" + "、".join(str(u) for u in removed))
    lines.append(STAFF_USAGE)
    return "\n".join(lines)


def staff_member(user_id: int, source: str) -> str:
    """One staff member in /staff list, with where they come from."""
    return f"{user_id}（{source}）"


# --- /broadcasts ------------------------------------------------------------------------

NO_BROADCASTS = "还没有广播。"
RECENT_BROADCASTS_HEADER = "📣 最近的广播"

# --- /reindex ---------------------------------------------------------------------------

STAGE_NAMES = {"starting": "准备中", "waiting": "等待", "segmenting": "分词", "done": "完成", "failed": "失败"}
OLD_INDEX_SERVES = "\n居民的提问照常用旧索引回答。"
REINDEX_STARTED = "🔄 开始重建索引…" + OLD_INDEX_SERVES
ALREADY_REINDEXING = "已经在重建了。\n"
PUBLISHING_NOW = "正在发布新一期，请稍后再重建索引。"
OLD_INDEX_KEPT = "仍在使用原来的索引，居民的提问不受影响。"


def reindex_progress(elapsed: float, stage: str, waiting_for: str | None, done: int, total: int) -> str:
    """The progress of a running rebuild (`waiting_for`: the writer it waits for, when waiting)."""
    line = f"🔄 正在重建索引（已 {elapsed:.0f} 秒）：{stage}"
    if waiting_for is not None:
        line += f"另一项写入完成（{waiting_for or '其他进程'}）"
    if total:
        line += f" {done:,} / {total:,}（{done * 100 // total}%）"
    return line + OLD_INDEX_SERVES


def reindex_failed(reason: str) -> str:
    return f"❌ 索引重建失败：{reason}"


def reindex_done(articles: int, seconds: float) -> str:
    return f"✅ 索引重建完成：{articles:,} 篇文章，用时 {seconds:.0f} 秒，已换用新索引。"


def reindex_unchanged(articles: int) -> str:
    return f"✅ 语料库自上次建索引以来没有变化，索引保持原样：{articles:,} 篇文章。"


def files_skipped(count: int) -> str:
    return f"跳过了 {count} 个文件："


def skipped_file(shown: str, reason: str) -> str:
    return f"• {shown}：{reason}"


def more_skipped(count: int) -> str:
    return f"……还有 {count} 个"
