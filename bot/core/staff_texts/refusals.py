"""Why a file or a step was refused, for staff: the library's typed errors worded, and where
staff commands work."""

from __future__ import annotations

from index.build import EmptyCorpus
from index.pdf import DamagedPdf, NotPdf, PdfError, ScannedPdf, TooManyPages, UnencodedFont
from index.publish import (
    BadMonth,
    CorrectedIssueGone,
    DuplicateIssue,
    FileTooLarge,
    IssueFileExists,
    NoArticles,
    NotAnIssueFile,
    PublishError,
    SameMonthIssue,
    UnreadableFile,
)
from index.text_decoding import BinaryFile, DecodeError, EmptyFile, NotText, TextTooLarge

ONLY_TXT_OR_PDF = "只接受 .txt 纯文本文件或带文字的 .pdf 文件。"


def file_too_large(size: int, limit: int) -> str:
    """An upload over the size limit, in KB."""
    return f"文件太大（{size // 1024} KB），上限 {limit // 1024} KB。"


def unreadable_text(exc: DecodeError) -> str:
    """Why a text file cannot be read."""
    if isinstance(exc, EmptyFile):
        return "文件是空的。"
    if isinstance(exc, BinaryFile):
        return "文件不是 UTF-8 或 GB18030 编码的文本（像是图片、Word 等二进制文件）。"
    if isinstance(exc, NotText):
        return "文件不是 UTF-8 或 GB18030 编码的文本。"
    if isinstance(exc, TextTooLarge):
        return file_too_large(exc.size, exc.limit)
    return f"文件无法读取：{exc}"


def unreadable_pdf(exc: PdfError) -> str:
    """Why no text can be taken out of a PDF."""
    if isinstance(exc, NotPdf):
        return "文件不是 PDF（开头没有 %PDF 标记）。"
    if isinstance(exc, TooManyPages):
        return f"PDF 超过 {exc.limit} 页，请分期上传。"
    if isinstance(exc, DamagedPdf):
        return f"PDF 文件损坏或无法读取（{exc.cause}）。"
    if isinstance(exc, ScannedPdf):
        return "PDF 里没有文字层（像是扫描件或图片），无法提取文字。请上传带文字的 PDF 或 .txt 文本。"
    if isinstance(exc, UnencodedFont):
        return (
            "PDF 的字体没有文字编码（提取出来是 (cid:N) 乱码），无法使用。请从排版软件重新导出 PDF 或上传 .txt 文本。"
        )
    return f"PDF 无法读取：{exc}"


def publish_refusal(exc: PublishError) -> str:
    """Why an issue is not published, for staff (a sentence or two, no markup)."""
    if isinstance(exc, BadMonth):
        return "月份格式应为 YYYY-MM，例如 2020-06。"
    if isinstance(exc, NotAnIssueFile):
        return ONLY_TXT_OR_PDF
    if isinstance(exc, FileTooLarge):
        return file_too_large(exc.size, exc.limit)
    if isinstance(exc, UnreadableFile):
        cause = exc.cause
        return unreadable_pdf(cause) if isinstance(cause, PdfError) else unreadable_text(cause)
    if isinstance(exc, NoArticles):
        return "没有从文件中识别出任何文章。"
    if isinstance(exc, IssueFileExists):
        return f"{exc.file} 已存在。"
    if isinstance(exc, CorrectedIssueGone):
        return f"要更正的 {exc.file} 已不在语料库中。"
    if isinstance(exc, SameMonthIssue):
        return f"这个街道这个月刚刚已有一期发布（{exc.file}）。没有发布：请重新发送，选择“更正”或“另一期”。"
    if isinstance(exc, DuplicateIssue):
        if exc.title is None:
            return f"这一期已经发布过（{exc.file}），内容相同（不计空白、换行和全角半角），没有重复发布。"
        named = f"{exc.title}（{exc.file}）" if exc.title else exc.file
        return f"这一期已经发布过：{named}。内容相同（不计空白、换行和全角半角），没有重复发布。"
    return str(exc)


def reindex_failure(failure: Exception | None, error: str) -> str:
    """Why a rebuild failed (`error` is the failure's text, shown when no wording fits)."""
    if isinstance(failure, EmptyCorpus):
        return f"语料库里没有一篇读得出的文章（{failure.skipped} 个文件被跳过），没有建新索引。"
    return error


def failure_reason(exc: Exception) -> str:
    """What went wrong, for a staff message: a refusal worded above, else the error's own text."""
    return publish_refusal(exc) if isinstance(exc, PublishError) else str(exc)


# --- where staff commands work ----------------------------------------------------------------

PRIVATE_ONLY = "{what} 只能在和我的私聊里使用：群里的消息大家都看得到。"


def cannot_publish(file_name: str, reason: str) -> str:
    """A refused upload: which file, why, and that nothing changed."""
    return f"❌ 《{file_name}》不能发布：{reason}\n没有做任何改动。"
