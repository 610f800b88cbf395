"""An index directory opened for serving: BM25 and bigram arrays, vocabulary, tokenizer, issues,
and articles read on demand (index.loading reads it safely while writers replace it)."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from index.arrays import load_array, open_array
from index.article import Article
from index.article_file import ArticleFile
from index.bigram import BigramIndex, BigramSegment
from index.bm25 import BM25Index, DiskSlices, Segment
from index.index_files import FORMAT_VERSION, META, MINHASH, IndexUnusable, count_lines, index_file, read_lines
from index.neardup import N_HASHES, SignatureFiles
from index.records import Issue
from index.settings import IndexParams
from index.tokenize import Tokenizer
from index.vocabulary import SORTED_FILES, TermIds

log = logging.getLogger(__name__)

# Articles shown as answers (the candidates' text is cached apart, by index.candidates, as one string each).
ARTICLE_CACHE_SIZE = 512


class LoadedIndex:
    """An index directory in memory: BM25 arrays, vocabulary, tokenizer, articles on demand."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        meta_path = directory / META
        if not meta_path.exists():
            raise IndexUnusable(f"no index at {directory}")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise IndexUnusable(f"damaged index metadata ({exc})") from exc
        if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
            found = meta.get("format_version") if isinstance(meta, dict) else None
            raise IndexUnusable(f"index format version {found}, this program reads {FORMAT_VERSION}")
        self.meta = meta
        id_files: list[BinaryIO] = []
        try:
            self.params = IndexParams(**meta["params"])
            n_terms = int(meta["n_terms"])
            self.term_ids = TermIds.open({name: index_file(directory, meta, name) for name in SORTED_FILES})
            vocab_lines = count_lines(index_file(directory, meta, "vocab.txt"))
            if len(self.term_ids) != n_terms or vocab_lines != n_terms:
                raise ValueError("vocabulary size does not match the metadata")
            # The segmenter that built the index, whatever the settings say now: mixing two
            # segmenters' tokens would miss words (index_is_current reports the change).
            user_words = read_lines(index_file(directory, meta, "userdict.txt"))
            self.tokenizer = Tokenizer(user_words, segmenter=meta["segmenter"])
            issues_text = index_file(directory, meta, "issues.json").read_text("utf-8")
            self.issues = [Issue(**i) for i in json.loads(issues_text)]
            segments: list[Segment] = []
            bigram_segments: list[BigramSegment] = []
            minhash: list[tuple[int, DiskSlices]] = []
            self.article_files: list[ArticleFile] = []
            start = 0
            for entry in meta["segments"]:
                seg_dir = directory / entry["name"]
                segment = Segment.load(seg_dir, start)
                offsets = load_array(seg_dir / "offsets.npy", mmap=False)
                if segment.n_docs != int(entry["n_docs"]) or offsets.shape[0] != segment.n_docs + 1:
                    raise ValueError(f"{entry['name']} holds another number of documents than recorded")
                # The inverted terms are sorted and hold the same ids as the forward arrays;
                # reading only the last keeps the forward arrays out of memory while serving.
                if segment.terms.shape[0] and int(segment.terms[-1]) >= n_terms:
                    raise ValueError(f"{entry['name']} uses terms beyond the vocabulary")
                try:
                    # Kept open: the ids are read on first use, and a rebuild may have swapped the
                    # whole directory away by then (an open file outlives its removal).
                    id_files.append((seg_dir / "ids.txt").open("rb"))
                except FileNotFoundError:
                    raise ValueError(f"{entry['name']} has no article ids") from None
                bigram_segment = BigramSegment.load(seg_dir, start)
                rows = open_array(seg_dir / MINHASH)
                if bigram_segment.n_docs != segment.n_docs or rows.shape != (segment.n_docs, N_HASHES):
                    raise ValueError(f"{entry['name']} has bigrams or signatures of another number of documents")
                segments.append(segment)
                bigram_segments.append(bigram_segment)
                minhash.append((start, DiskSlices(seg_dir / MINHASH, rows)))
                self.article_files.append(ArticleFile(seg_dir / "articles.jsonl", offsets))
                start += segment.n_docs
            self.bm25 = BM25Index(segments, n_terms, self.params.bm25)
            self.bigrams = BigramIndex(bigram_segments, self.params.bm25)
            self.minhash = SignatureFiles(minhash)
        except (OSError, ValueError, KeyError, TypeError, IndexError, json.JSONDecodeError) as exc:
            for handle in id_files:
                handle.close()
            raise IndexUnusable(f"damaged index ({exc})") from exc
        self._ids: dict[str, int] | None = None
        self._id_files = id_files
        self.closed = False
        # Popular articles recur across questions.
        self._cached_article = functools.lru_cache(maxsize=ARTICLE_CACHE_SIZE)(self._read_article)

    @property
    def n_docs(self) -> int:
        """How many articles the index holds."""
        return self.bm25.n_docs

    def terms_by_id(self) -> list[str]:
        """Every term, a term's id being its position (read from disk: large at scale)."""
        return read_lines(index_file(self.directory, self.meta, "vocab.txt"))

    def article(self, doc: int) -> Article:
        """An article by its document number (recently read ones come from memory; do not modify)."""
        return self._cached_article(doc)

    def read_article(self, doc: int) -> Article:
        """An article by its document number, read from disk (not cached)."""
        return self._read_article(doc)

    def read_record(self, doc: int) -> dict[str, Any]:
        """An article's stored record by its document number, read from disk (not cached)."""
        for number, segment in reversed(list(enumerate(self.bm25.segments))):
            if doc >= segment.doc_start:
                return self.article_files[number].record(doc - segment.doc_start)
        raise IndexError(doc)

    def _read_article(self, doc: int) -> Article:
        for number, segment in reversed(list(enumerate(self.bm25.segments))):
            if doc >= segment.doc_start:
                return self.article_files[number].get(doc - segment.doc_start)
        raise IndexError(doc)

    def articles(self) -> Iterator[Article]:
        """Every article in document order."""
        for article_file in self.article_files:
            for local in range(len(article_file)):
                yield article_file.get(local)

    def article_ids(self) -> dict[str, int]:
        """Every article id and its document number (read from the segments' id lists once)."""
        if self._ids is None:
            ids: list[str] = []
            for handle in self._id_files:
                handle.seek(0)
                data = handle.read().decode("utf-8")
                ids.extend(data.split("\n") if data else [])
            self._ids = {article_id: number for number, article_id in enumerate(ids)}
        return self._ids

    def doc_number(self, article_id: str) -> int | None:
        """The document number of an article id."""
        return self.article_ids().get(article_id)

    def close(self) -> None:
        """Release open files and memory maps (the index must not be searched afterwards).

        Dropping the segments is what unmaps their arrays: the article cache refers back to
        this object, so without it the maps would live until the cycle collector ran.
        """
        for article_file in self.article_files:
            article_file.close()
        for handle in self._id_files:
            handle.close()
        for segment in self.bm25.segments:
            segment.close()
        for bigram_segment in self.bigrams.segments:
            bigram_segment.close()
        self.minhash.close()
        self.bm25.segments = []
        self.bigrams = BigramIndex([], self.params.bm25)
        self._cached_article.cache_clear()
        self.closed = True
