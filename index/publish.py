"""Adding a newly published issue to the corpus and the index without a rebuild."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

from index.article import Article
from index.corpus import Issue, decode_text, issue_id_for, write_manifest_entry
from index.issue_parser import parse_issue
from index.store import add_articles
from index.tokenize import names_from_street, names_from_text

log = logging.getLogger(__name__)

MAX_ISSUE_BYTES = 2 * 1024 * 1024
_SAFE_NAME_RE = re.compile(r"[^\w\u4e00-\u9fff.-]+")
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class PublishError(ValueError):
    """The file cannot be published; the message says why, for staff to read."""


def parse_upload(
    data: bytes, file_name: str, street: str, month: str = "", district: str = "", newspaper: str = ""
) -> tuple[Issue, list[Article], str]:
    """Check and parse an uploaded issue: (issue, articles, decoded text). Raises PublishError."""
    if not file_name.lower().endswith(".txt"):
        raise PublishError("只接受 .txt 纯文本文件。")
    if len(data) > MAX_ISSUE_BYTES:
        raise PublishError(f"文件太大（{len(data) // 1024} KB），上限 {MAX_ISSUE_BYTES // 1024} KB。")
    if month and not _MONTH_RE.match(month):
        raise PublishError("月份格式应为 YYYY-MM，例如 2020-06。")
    try:
        text = decode_text(data)
    except ValueError as exc:
        reasons = {
            "empty file": "文件是空的。",
            "not UTF-8 or GB18030 text": "文件不是 UTF-8 或 GB18030 编码的文本。",
            "binary file (contains NUL bytes), not text": (
                "文件不是 UTF-8 或 GB18030 编码的文本（像是图片、Word 等二进制文件）。"
            ),
        }
        raise PublishError(reasons.get(str(exc), f"文件无法读取：{exc}")) from exc
    stem = _SAFE_NAME_RE.sub("_", Path(file_name).stem).strip("_") or "issue"
    issue_id = f"{time.strftime('%Y%m%d%H%M%S')}_{stem}"[:48]
    articles = parse_issue(text, issue_id, street=street, district=district, newspaper=newspaper, date=month)
    if not articles:
        raise PublishError("没有从文件中识别出任何文章。")
    issue = Issue(
        id=issue_id,
        file=f"{issue_id}.txt",
        street=street,
        district=district,
        newspaper=newspaper,
        month=month,
        article_ids=[a.id for a in articles],
    )
    return issue, articles, text


def publish_issue(corpus_dir: Path, index_dir: Path, issue: Issue, articles: list[Article], text: str) -> None:
    """Write the issue into the corpus (file and manifest) and append it to the index."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    path = corpus_dir / issue.file
    if path.exists() or issue_id_for(path) != issue.id:
        raise PublishError(f"{issue.file} 已存在。")
    tmp = path.with_name("." + path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    write_manifest_entry(
        corpus_dir,
        path.name,
        {
            "street": issue.street,
            "district": issue.district,
            "newspaper": issue.newspaper,
            "month": issue.month,
        },
    )
    words = names_from_street(issue.street) | names_from_text(text)
    add_articles(index_dir, issue, articles, corpus_dir, words)
    log.info("published %s: %d articles", issue.id, len(articles))
