"""Reading a corpus directory: issue text and PDF files, JSONL archives, and the fingerprint
that tells whether the corpus changed (the manifest is index.manifest, decoding index.text_decoding).

A bad file never breaks the corpus: it is named in `CorpusLoad.skipped` with its reason and
the rest is read.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import lzma
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.article import Article, lead_headline
from index.issue_parser import DEFAULT_SECTION_LABELS, parse_issue
from index.manifest import MANIFEST_NAME, read_manifest
from index.normalize import for_display
from index.read_ahead import xz_lines
from index.records import Issue, Skipped
from index.text_decoding import TextTooLarge, decode_text

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt",)
PDF_SUFFIX = ".pdf"
JSONL_SUFFIXES = (".jsonl", ".jsonl.xz", ".jsonl.gz")
MAX_TEXT_BYTES = 5 * 1024 * 1024


@dataclass
class CorpusLoad:
    """Everything read from a corpus directory."""

    articles: list[Article] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def corpus_files(directory: Path) -> list[Path]:
    """The issue and archive files of a corpus directory, in name order."""
    return sorted(
        p for p in directory.iterdir() if p.is_file() and not p.name.startswith(".") and p.name != MANIFEST_NAME
    )


def _beside_its_text(path: Path, names: set[str]) -> bool:
    """Whether `path` is the original PDF kept beside the text extracted (and previewed) from it
    at publishing, among files `names`: the corpus reads the text, not the PDF."""
    return path.name.lower().endswith(PDF_SUFFIX) and f"{path.name[:-4]}.txt" in names


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
        yield from xz_lines(path)
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
        if _beside_its_text(path, names):
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
    """A hash of the corpus files' names, sizes and modification times (and the manifest's).

    Cheap enough for every start and command (a city's corpus is many thousands of files), as
    make's check is; a rebuild compares `corpus_digest`, which reads the bytes.
    """
    digest = hashlib.sha1()
    for path in _fingerprinted(directory):
        stat = path.stat()
        digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest() if directory.exists() else "missing"


def corpus_digest(directory: Path) -> str:
    """A hash of the bytes of every file `load_corpus` reads (the manifest included).

    Equal digests mean the same articles, issues and skipped files: reading and parsing are
    deterministic. A PDF kept beside its extracted text is not read, so it is left out.
    """
    digest = hashlib.sha1()
    files = _fingerprinted(directory)
    names = {p.name for p in files}
    for path in files:
        if _beside_its_text(path, names):
            continue
        digest.update(f"{path.name}\0".encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest() if directory.exists() else "missing"


def _fingerprinted(directory: Path) -> list[Path]:
    if directory.is_file():
        manifest = directory.parent / MANIFEST_NAME
        return [directory, manifest] if manifest.is_file() else [directory]
    if directory.is_dir():
        return sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith("."))
    return []
