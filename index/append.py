"""Appending a published issue to the index as a new segment, crash-safe, without a rebuild."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from index.article import Article
from index.bags import Chunk, Segmenter, VocabularyExtension
from index.bigram import bigram_segment_of_blocks
from index.bm25 import Int32Array, build_segment
from index.corpus import corpus_fingerprint
from index.index_files import (
    GENERATION_FILES,
    META,
    index_file,
    read_lines,
    save_segment,
    write_json,
    write_lines,
    write_text,
)
from index.indexed_text import content_hash
from index.neardup import N_HASHES
from index.records import Issue
from index.settings import IndexParams
from index.tokenize import Tokenizer
from index.vocabulary import SORTED_FILES, TermIds


def add_articles(
    index_dir: Path, issue: Issue, articles: list[Article], corpus_dir: Path, new_words: Iterable[str] = ()
) -> None:
    """Append a published issue to the index as a new segment (no rebuild).

    Crash-safe order: the segment, then new copies of the vocabulary, user words and issue
    list under new names, then meta.json naming them all (the commit), then the old copies go.
    Until meta.json is replaced, the index on disk is the old one, whole.
    """
    meta = json.loads((index_dir / META).read_text(encoding="utf-8"))
    params = IndexParams(**meta["params"])
    issues = json.loads(index_file(index_dir, meta, "issues.json").read_text("utf-8"))
    if issue.id in {i["id"] for i in issues}:
        raise ValueError(f"issue {issue.id} is already in the index")
    user_words = read_lines(index_file(index_dir, meta, "userdict.txt"))
    tokenizer = Tokenizer(user_words, segmenter=meta["segmenter"])
    tokenizer.add_words(new_words)
    known = TermIds.open({key: index_file(index_dir, meta, key) for key in SORTED_FILES})
    vocabulary = VocabularyExtension(known)
    bags: list[tuple[Int32Array, Int32Array]] = []
    bigram_chunks: list[Chunk] = []
    with Segmenter(articles, tokenizer, params, workers=1) as chunks:
        for chunk in chunks:
            bags.extend(vocabulary.bags(chunk))
            bigram_chunks.append(chunk)
    start = sum(int(s["n_docs"]) for s in meta["segments"])
    segment = build_segment(bags, start)
    bigrams = bigram_segment_of_blocks([(c.bg_lengths, c.bg_terms, c.bg_tfs) for c in bigram_chunks], start)
    rows = [c.minhash for c in bigram_chunks]
    minhash = np.concatenate(rows) if rows else np.zeros((0, N_HASHES), dtype=np.uint32)
    name = f"seg-{len(meta['segments']):03d}"
    hashes = [content_hash(a, params, tokenizer.signature) for a in articles]
    save_segment(index_dir, name, segment, bigrams, minhash, articles, hashes)
    old_files = {key: index_file(index_dir, meta, key) for key in GENERATION_FILES}
    files = {key: f"{Path(key).stem}.{name}{Path(key).suffix}" for key in GENERATION_FILES}
    terms = index_file(index_dir, meta, "vocab.txt").read_text(encoding="utf-8")
    write_text(
        index_dir / files["vocab.txt"], "\n".join([terms, *vocabulary.new_terms] if terms else vocabulary.new_terms)
    )
    known.write_extended(
        vocabulary.new_terms, vocabulary.first_new_id, {key: index_dir / files[key] for key in SORTED_FILES}
    )
    write_lines(index_dir / files["userdict.txt"], tokenizer.user_words)
    write_json(index_dir / files["issues.json"], [*issues, issue.to_dict()], compact=True)
    meta["files"] = files
    meta["segments"].append({"name": name, "n_docs": segment.n_docs})
    meta["n_terms"] = vocabulary.first_new_id + len(vocabulary.new_terms)
    meta["tokenizer"] = tokenizer.signature
    meta["corpus"]["fingerprint"] = corpus_fingerprint(corpus_dir)
    # The digest names the bytes one segment was built from; the next rebuild merges the segments.
    meta["corpus"].pop("digest", None)
    write_json(index_dir / META, meta)
    for path in old_files.values():
        if path.name not in files.values():
            path.unlink(missing_ok=True)
