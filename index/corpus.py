"""Reading a corpus directory: issue text files, the manifest that describes them, and JSONL archives.

A bad file never breaks the corpus: it is named in `CorpusLoad.skipped` with its reason and
the rest is read.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import lzma
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from index.article import Article, lead_headline
from index.issue_parser import DEFAULT_SECTION_LABELS, parse_issue
from index.normalize import for_display

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.yaml"
TEXT_SUFFIXES = (".txt",)
PDF_SUFFIX = ".pdf"
JSONL_SUFFIXES = (".jsonl", ".jsonl.xz", ".jsonl.gz")
MAX_TEXT_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Skipped:
    """A file (or a line of one) that was not read, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class Issue:
    """One newspaper issue (or one imported archive file) and what the manifest says of it."""

    id: str
    file: str
    street: str = ""
    district: str = ""
    newspaper: str = ""
    month: str = ""
    article_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the index directory."""
        return dict(self.__dict__)


@dataclass
class CorpusLoad:
    """Everything read from a corpus directory."""

    articles: list[Article] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


class DecodeError(ValueError):
    """The bytes are not text in an encoding we read (the subclasses say how)."""


class EmptyFile(DecodeError):
    """Nothing but whitespace."""

    def __init__(self) -> None:
        super().__init__("empty file")


class NotText(DecodeError):
    """Neither UTF-8 (or UTF-16 with a byte-order mark) nor GB18030 Chinese text."""

    def __init__(self, detail: str = "not UTF-8 or GB18030 text") -> None:
        super().__init__(detail)


class BinaryFile(NotText):
    """NUL bytes: a picture, a Word document or another binary file."""

    def __init__(self) -> None:
        super().__init__("binary file (contains NUL bytes), not text")


class TextTooLarge(DecodeError):
    """An issue text file over the size limit."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"too large ({size} bytes; the limit is {limit})")
        self.size = size
        self.limit = limit


def decode_text(data: bytes) -> str:
    """Bytes of an issue file as text: UTF-8 (with or without BOM), else GB18030."""
    if not data.strip():
        raise EmptyFile()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Windows Notepad saves "Unicode" as UTF-16 with a byte-order mark: text, not binary.
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise NotText() from exc
        if _looks_like_text(text):
            return text.lstrip("\ufeff")
        raise NotText()
    if b"\x00" in data[:8192]:
        raise BinaryFile()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise NotText() from exc
    # GB18030 decodes almost any byte soup; insist that the result looks like Chinese text.
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    if cjk < max(1, len(text) // 10):
        raise NotText()
    return text


def _looks_like_text(text: str) -> bool:
    """Mostly Chinese, ASCII or CJK punctuation: what a byte-order mark followed by garbage is not."""
    good = sum(
        1 for ch in text if ch.isspace() or " " <= ch <= "~" or "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef"
    )
    return good >= len(text) * 0.9


def read_manifest(directory: Path) -> tuple[dict[str, dict[str, Any]], list[Skipped]]:
    """The per-file facts of `manifest.yaml` (street, district, newspaper, month)."""
    path = directory / MANIFEST_NAME
    if not path.exists():
        return {}, []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return {}, [Skipped(str(path), f"unreadable manifest: {exc}")]
    issues = data.get("issues") if isinstance(data, dict) else None
    if not isinstance(issues, dict):
        return {}, [Skipped(str(path), "manifest has no 'issues' mapping")]
    return {str(k): (v if isinstance(v, dict) else {}) for k, v in issues.items()}, []


def write_manifest_entry(directory: Path, file_name: str, facts: dict[str, str]) -> None:
    """Add or replace one file's entry in the manifest, keeping the others and every comment.

    The entry is written as one flow-style line under `issues:` (the manifest's own style); only
    when the file's layout does not allow that is the whole manifest written out again.
    Callers hold the writer lock (index.lock), so read-modify-write is safe.
    """
    path = directory / MANIFEST_NAME
    entry = {k: v for k, v in facts.items() if v}
    original = path.read_text(encoding="utf-8") if path.exists() else ""
    updated = _edited_manifest(original, file_name, entry)
    data: Any = None
    if updated is not None:
        try:
            data = yaml.safe_load(updated)
        except yaml.YAMLError:
            data = None
    expected = (yaml.safe_load(original) or {}) if original else {}
    if not isinstance(expected, dict):
        expected = {}
    issues = expected.setdefault("issues", {})
    if not isinstance(issues, dict):
        expected["issues"] = issues = {}
    issues[file_name] = entry
    if updated is None or data != expected:
        log.warning("manifest layout not editable line by line; rewriting %s without its comments", path)
        updated = yaml.safe_dump(expected, allow_unicode=True, sort_keys=True)
    write_atomically(path, updated.encode("utf-8"))


def write_atomically(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all, through a temporary file no other writer uses."""
    # A unique temporary name: two writers never share one, and a crash leaves only a dot-file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def remove_manifest_entry(directory: Path, file_name: str) -> None:
    """Drop one file's entry from the manifest (its line only; comments stay). Callers hold the lock."""
    path = directory / MANIFEST_NAME
    if not path.exists():
        return
    original = path.read_text(encoding="utf-8")
    key = yaml.safe_dump(file_name, allow_unicode=True).split("\n")[0]
    kept = [ln for ln in original.splitlines() if not ln.strip().startswith((f"{key}:", f"{file_name}:"))]
    updated = "\n".join(kept) + "\n"
    data = yaml.safe_load(updated) or {}
    if not isinstance(data, dict) or file_name in (data.get("issues") or {}):
        data = yaml.safe_load(original) or {}
        (data.get("issues") or {}).pop(file_name, None)
        updated = yaml.safe_dump(data, allow_unicode=True, sort_keys=True)
    write_atomically(path, updated.encode("utf-8"))


def _edited_manifest(text: str, file_name: str, entry: dict[str, str]) -> str | None:
    """The manifest text with the entry's line replaced or appended under `issues:`; None if unsure."""
    flow = yaml.safe_dump({file_name: entry}, allow_unicode=True, default_flow_style=True, width=10**6).strip()
    # safe_dump wraps the mapping in braces: '{name: {street: ...}}' -> 'name: {street: ...}'.
    line = flow[1:-1] if flow.startswith("{") and flow.endswith("}") else flow
    if not text.strip():
        return f"issues:\n  {line}\n"
    lines = text.splitlines()
    try:
        start = next(i for i, ln in enumerate(lines) if ln.rstrip() == "issues:")
    except StopIteration:
        return text.rstrip("\n") + f"\nissues:\n  {line}\n"
    end = start + 1
    key = yaml.safe_dump(file_name, allow_unicode=True).split("\n")[0]
    while end < len(lines) and (not lines[end].strip() or lines[end][:1] in (" ", "#")):
        stripped = lines[end].strip()
        if stripped.startswith((f"{key}:", f"{file_name}:")):
            indent = lines[end][: len(lines[end]) - len(lines[end].lstrip())]
            lines[end] = indent + line
            return "\n".join(lines) + "\n"
        end += 1
    last = end
    while last > start + 1 and not lines[last - 1].strip():
        last -= 1
    lines.insert(last, "  " + line)
    return "\n".join(lines) + "\n"


def corpus_files(directory: Path) -> list[Path]:
    """The issue and archive files of a corpus directory, in name order."""
    return sorted(
        p for p in directory.iterdir() if p.is_file() and not p.name.startswith(".") and p.name != MANIFEST_NAME
    )


def file_digest(path: Path) -> str:
    """Content hash of a corpus file (what decides whether the index is stale)."""
    digest = hashlib.sha1()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def issue_id_for(path: Path) -> str:
    """The issue id of a file: its name without the suffixes we read."""
    name = path.name
    for suffix in (*JSONL_SUFFIXES, *TEXT_SUFFIXES, PDF_SUFFIX):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def issue_for(path: Path, facts: dict[str, Any]) -> Issue:
    """The issue record of a corpus file, with what the manifest says of it."""
    return Issue(
        id=issue_id_for(path),
        file=path.name,
        street=str(facts.get("street", "")),
        district=str(facts.get("district", "")),
        newspaper=str(facts.get("newspaper", "")),
        month=str(facts.get("month", "")),
    )


def load_issue_file(
    path: Path, facts: dict[str, Any], section_labels: frozenset[str] = DEFAULT_SECTION_LABELS
) -> tuple[Issue, list[Article]]:
    """Parse one issue text file; raises DecodeError or ValueError with a reason."""
    size = path.stat().st_size
    if size > MAX_TEXT_BYTES and not path.name.lower().endswith(PDF_SUFFIX):
        raise TextTooLarge(size, MAX_TEXT_BYTES)
    if path.name.lower().endswith(PDF_SUFFIX):
        from index.pdf import pdf_to_text

        text = pdf_to_text(path.read_bytes())
    else:
        text = decode_text(path.read_bytes())
    issue = issue_for(path, facts)
    articles = parse_issue(
        text,
        issue.id,
        street=issue.street,
        district=issue.district,
        newspaper=issue.newspaper,
        date=issue.month,
        section_labels=section_labels,
    )
    if not articles:
        raise ValueError("no articles found in the text")
    issue.article_ids = [a.id for a in articles]
    return issue, articles


def _open_jsonl(path: Path) -> Iterator[bytes]:
    if path.name.endswith(".xz"):
        with lzma.open(path, "rb") as handle:
            yield from handle
    elif path.name.endswith(".gz"):
        with gzip.open(path, "rb") as handle:
            yield from handle
    else:
        with path.open("rb") as handle:
            yield from handle


def load_jsonl_file(path: Path, facts: dict[str, Any]) -> tuple[Issue, list[Article], list[Skipped]]:
    """Articles of a JSONL archive: one object a line, `text` required."""
    issue = issue_for(path, facts)
    articles: list[Article] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
    try:
        for number, raw in enumerate(_open_jsonl(path), start=1):
            if not raw.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(raw.decode("utf-8-sig"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                skipped.append(Skipped(where, f"malformed JSON line ({exc.__class__.__name__})"))
                continue
            if not isinstance(record, dict):
                skipped.append(Skipped(where, "line is not a JSON object"))
                continue
            text = record.get("text")
            if not isinstance(text, str) or not text.strip():
                skipped.append(Skipped(where, "missing or empty 'text'"))
                continue
            article_id = str(record.get("id") or f"{issue.id}-{number}")
            if article_id in seen:
                skipped.append(Skipped(where, f"duplicate id {article_id!r}"))
                continue
            seen.add(article_id)
            title = str(record.get("title") or "").strip()
            body = for_display(text)
            articles.append(
                Article(
                    id=article_id,
                    headline=for_display(title) if title else lead_headline(body),
                    body=body,
                    issue=issue.id,
                    street=str(record.get("street") or issue.street),
                    district=issue.district,
                    newspaper=issue.newspaper,
                    date=str(record.get("date") or issue.month),
                    source=str(record.get("source") or ""),
                    derived_headline=not title,
                )
            )
    except (OSError, EOFError, lzma.LZMAError) as exc:
        skipped.append(Skipped(str(path), f"unreadable archive: {exc}"))
    if not articles:
        raise ValueError("no readable articles in the archive")
    issue.article_ids = [a.id for a in articles]
    return issue, articles, skipped


def load_file(
    path: Path, facts: dict[str, Any], section_labels: frozenset[str] = DEFAULT_SECTION_LABELS
) -> tuple[Issue, list[Article], list[Skipped]]:
    """Read one corpus file of either kind; raises ValueError (with a reason) when it is unusable."""
    if path.name.endswith(JSONL_SUFFIXES):
        return load_jsonl_file(path, facts)
    issue, articles = load_issue_file(path, facts, section_labels)
    return issue, articles, []


def load_corpus(directory: Path, section_labels: frozenset[str] = DEFAULT_SECTION_LABELS) -> CorpusLoad:
    """Every readable article under `directory`, with the files that were skipped and why."""
    result = CorpusLoad()
    if directory.is_file():
        # A single archive or issue file given as the corpus.
        manifest, problems = read_manifest(directory.parent)
        paths = [directory]
    elif directory.is_dir():
        manifest, problems = read_manifest(directory)
        paths = corpus_files(directory)
    else:
        result.skipped.append(Skipped(str(directory), "corpus directory does not exist"))
        return result
    result.skipped.extend(problems)
    seen_ids: set[str] = set()
    names = {p.name for p in paths}
    for path in paths:
        if path.name.lower().endswith(PDF_SUFFIX) and f"{path.name[:-4]}.txt" in names:
            # The original PDF kept beside the text extracted (and previewed) at publishing.
            continue
        if not path.name.lower().endswith((*TEXT_SUFFIXES, *JSONL_SUFFIXES, PDF_SUFFIX)):
            result.skipped.append(Skipped(str(path), "not a .txt or .pdf issue or .jsonl archive"))
            continue
        try:
            issue, articles, line_problems = load_file(path, manifest.get(path.name, {}), section_labels)
        except (ValueError, OSError) as exc:
            result.skipped.append(Skipped(str(path), str(exc)))
            continue
        result.skipped.extend(line_problems)
        fresh = [a for a in articles if a.id not in seen_ids]
        if len(fresh) < len(articles):
            result.skipped.append(
                Skipped(str(path), f"{len(articles) - len(fresh)} article ids already used by another file")
            )
        seen_ids.update(a.id for a in fresh)
        issue.article_ids = [a.id for a in fresh]
        result.issues.append(issue)
        result.articles.extend(fresh)
    for problem in result.skipped:
        log.warning("skipped %s", problem)
    return result


def corpus_fingerprint(directory: Path) -> str:
    """A hash of the corpus files' names and contents (and the manifest)."""
    digest = hashlib.sha1()
    if directory.is_file():
        files = [directory]
    elif directory.is_dir():
        files = sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith("."))
    else:
        return "missing"
    for path in files:
        stat = path.stat()
        digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()
