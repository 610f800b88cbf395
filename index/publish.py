"""Adding a newly published issue to the corpus and the index without a rebuild."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path

from index.append import add_articles
from index.article import Article
from index.atomic import write_atomically
from index.build import build_index
from index.corpus import issue_id_for
from index.dedupe import duplicate_in
from index.index_files import META, index_file
from index.issue_parser import parse_issue
from index.lock import writer_lock
from index.manifest import remove_manifest_entry, write_manifest_entry
from index.pdf import PdfError, pdf_to_text
from index.records import Issue
from index.settings import IndexParams
from index.text_decoding import DecodeError, decode_text
from index.tokenize import names_from_street, names_from_text

log = logging.getLogger(__name__)

MAX_ISSUE_BYTES = 2 * 1024 * 1024
# PDFs carry fonts and pictures: the same issue is many times its text.
MAX_PDF_BYTES = 40 * 1024 * 1024
_SAFE_NAME_RE = re.compile(r"[^\w\u4e00-\u9fff.-]+")
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class PublishError(ValueError):
    """The file cannot be published; the subclass and its fields say why (the bot words it for staff)."""


class BadMonth(PublishError):
    """The month is not YYYY-MM."""

    def __init__(self, month: str) -> None:
        super().__init__(f"month {month!r} is not YYYY-MM")
        self.month = month


class NotAnIssueFile(PublishError):
    """Neither a .txt nor a .pdf file."""

    def __init__(self, file_name: str) -> None:
        super().__init__(f"{file_name}: only .txt text and .pdf files with text are published")
        self.file_name = file_name


class FileTooLarge(PublishError):
    """`size` bytes, over the `limit` for its kind of file."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"file too large ({size} bytes; the limit is {limit})")
        self.size = size
        self.limit = limit


class UnreadableFile(PublishError):
    """The file's text cannot be read: `cause` (a DecodeError or a PdfError) says why."""

    def __init__(self, cause: DecodeError | PdfError) -> None:
        super().__init__(str(cause))
        self.cause = cause


class NoArticles(PublishError):
    """The text holds nothing the parser reads as an article."""

    def __init__(self) -> None:
        super().__init__("no articles found in the file")


class IssueFileExists(PublishError):
    """The corpus already has a file of the new issue's name."""

    def __init__(self, file: str) -> None:
        super().__init__(f"{file} already exists")
        self.file = file


class CorrectedIssueGone(PublishError):
    """The issue a correction replaces (`file`) is no longer in the corpus."""

    def __init__(self, file: str) -> None:
        super().__init__(f"{file}, the issue to correct, is no longer in the corpus")
        self.file = file


class SameMonthIssue(PublishError):
    """Another issue of the street and month was published meanwhile, as `file`."""

    def __init__(self, file: str) -> None:
        super().__init__(f"another issue of this street and month was just published ({file})")
        self.file = file


class DuplicateIssue(PublishError):
    """The issue is already in the corpus, as `file`; `title` is how the bot names that issue,
    None when nobody looked it up."""

    def __init__(self, file: str, title: str | None = None) -> None:
        super().__init__(f"the same text is already published as {file}")
        self.file = file
        self.title = title


def parse_upload(
    data: bytes, file_name: str, street: str, month: str = "", district: str = "", newspaper: str = ""
) -> tuple[Issue, list[Article], str]:
    """Check and parse an uploaded issue (.txt or .pdf): (issue, articles, text). Raises PublishError."""
    if month and not _MONTH_RE.match(month):
        raise BadMonth(month)
    return parse_text(issue_text(data, file_name), file_name, street, month, district, newspaper)


def parse_text(
    text: str, file_name: str, street: str, month: str = "", district: str = "", newspaper: str = ""
) -> tuple[Issue, list[Article], str]:
    """Parse an issue's text already read from its file (a PDF is extracted once): see `parse_upload`."""
    if month and not _MONTH_RE.match(month):
        raise BadMonth(month)
    return _parsed(text, file_name, street, month, district, newspaper)


def issue_text(data: bytes, file_name: str) -> str:
    """The text of an issue file (.txt decoded, .pdf extracted); raises PublishError."""
    is_pdf = file_name.lower().endswith(".pdf")
    if not file_name.lower().endswith(".txt") and not is_pdf:
        raise NotAnIssueFile(file_name)
    limit = MAX_PDF_BYTES if is_pdf else MAX_ISSUE_BYTES
    if len(data) > limit:
        raise FileTooLarge(len(data), limit)
    return _pdf_text(data) if is_pdf else _decoded(data)


def _pdf_text(data: bytes) -> str:
    try:
        return pdf_to_text(data)
    except PdfError as exc:
        raise UnreadableFile(exc) from exc


def _decoded(data: bytes) -> str:
    try:
        return decode_text(data)
    except DecodeError as exc:
        raise UnreadableFile(exc) from exc


def _parsed(
    text: str, file_name: str, street: str, month: str, district: str, newspaper: str
) -> tuple[Issue, list[Article], str]:
    stem = _SAFE_NAME_RE.sub("_", Path(file_name).stem).strip("_") or "issue"
    issue_id = f"{time.strftime('%Y%m%d%H%M%S')}_{stem}"[:48]
    articles = parse_issue(text, issue_id, street=street, district=district, newspaper=newspaper, date=month)
    if not articles:
        raise NoArticles()
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


def publish_issue(
    corpus_dir: Path,
    index_dir: Path,
    issue: Issue,
    articles: list[Article],
    text: str,
    original_pdf: bytes | None = None,
    on_wait: Callable[[str], None] | None = None,
    another_of_month: bool = False,
) -> None:
    """Write the issue into the corpus (file and manifest) and append it to the index.

    Unless `another_of_month`, an issue of the same street and month already in the index (one
    another writer published after this one was checked) refuses it: SameMonthIssue.

    An issue read from a PDF keeps the PDF beside its extracted text (same name, .pdf); the corpus
    reads the text, so what staff previewed is what residents search.
    """
    with writer_lock(index_dir, f"publishing {issue.file}", on_wait=on_wait):
        _refuse_duplicate(corpus_dir, text)
        earlier = None if another_of_month else _issue_of_month(index_dir, issue.street, issue.month)
        if earlier is not None:
            raise SameMonthIssue(earlier)
        corpus_dir.mkdir(parents=True, exist_ok=True)
        path = corpus_dir / issue.file
        if path.exists() or issue_id_for(path) != issue.id:
            raise IssueFileExists(issue.file)
        _write_issue(corpus_dir, issue, text, original_pdf)
        words = names_from_street(issue.street) | names_from_text(text)
        add_articles(index_dir, issue, articles, corpus_dir, words)
    log.info("published %s: %d articles", issue.id, len(articles))


def replace_issue(
    corpus_dir: Path,
    index_dir: Path,
    old_file: str,
    issue: Issue,
    articles: list[Article],
    text: str,
    original_pdf: bytes | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> None:
    """Publish `issue` as a correction of the corpus file `old_file`: the old issue's articles
    leave the index and the new ones take their place (one rebuild, reusing unchanged segments).

    The new file is written before the old one goes, so a crash in between leaves both issues in
    the corpus (the next start indexes them and staff see two issues of one month), never none.
    """
    with writer_lock(index_dir, f"correcting {old_file} with {issue.file}", on_wait=on_wait):
        _refuse_duplicate(corpus_dir, text)
        old = corpus_dir / old_file
        if not old.exists():
            raise CorrectedIssueGone(old_file)
        if (corpus_dir / issue.file).exists():
            raise IssueFileExists(issue.file)
        _write_issue(corpus_dir, issue, text, original_pdf)
        old.unlink()
        old_pdf = old.with_suffix(".pdf")
        if old.suffix == ".txt" and old_pdf.exists():
            old_pdf.unlink()
        remove_manifest_entry(corpus_dir, old_file)
        meta = json.loads((index_dir / META).read_text(encoding="utf-8"))
        build_index(corpus_dir, index_dir, IndexParams(**meta["params"]), workers=1)
    log.info("corrected %s with %s: %d articles", old_file, issue.id, len(articles))


def _refuse_duplicate(corpus_dir: Path, text: str) -> None:
    """Checked again under the lock: two writers may have been handed the same issue at once."""
    same = duplicate_in(corpus_dir, text)
    if same is not None:
        raise DuplicateIssue(same)


def _write_issue(corpus_dir: Path, issue: Issue, text: str, original_pdf: bytes | None) -> None:
    """The issue's text (and the PDF it came from) into the corpus, and its manifest entry."""
    path = corpus_dir / issue.file
    if original_pdf is not None:
        write_atomically(path.with_suffix(".pdf"), original_pdf)
    write_atomically(path, text.encode("utf-8"))
    write_manifest_entry(corpus_dir, path.name, _facts(issue))


def _issue_of_month(index_dir: Path, street: str, month: str) -> str | None:
    """The file of an indexed issue of this street and month, if any (read under the lock)."""
    if not month:
        return None
    meta = json.loads((index_dir / META).read_text(encoding="utf-8"))
    for entry in json.loads(index_file(index_dir, meta, "issues.json").read_text(encoding="utf-8")):
        if entry.get("street") == street and entry.get("month") == month:
            return str(entry.get("file") or entry.get("id"))
    return None


def _facts(issue: Issue) -> dict[str, str]:
    return {"street": issue.street, "district": issue.district, "newspaper": issue.newspaper, "month": issue.month}
