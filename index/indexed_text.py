"""What an article contributes to the index: its fields and their weights, the token stream BM25
sees, its character-bigram bag, and the content hash that decides whether a rebuild can reuse it."""

from __future__ import annotations

import hashlib

import numpy as np

from index.article import Article
from index.bigram import BigramDoc, bigram_bags, weighted_text
from index.normalize import for_matching
from index.settings import IndexParams
from index.tokenize import TOKENIZER_VERSION, Tokenizer, default_local_names, default_stopwords

# Bump when what an article contributes to the index changes (fields, weights, segmentation).
TEXT_LAYOUT_VERSION = 3


def shipped_words_signature() -> str:
    """A hash of the text layout, the tokenizer's version and the word lists shipped with the program.

    A change means a rebuild (index.staleness compares it at every start).
    """
    digest = hashlib.sha1(f"layout {TEXT_LAYOUT_VERSION} tokenizer {TOKENIZER_VERSION}\n".encode())
    digest.update("\n".join(sorted(default_stopwords())).encode())
    digest.update("\n".join(default_local_names()).encode())
    return digest.hexdigest()[:16]


def weighted_text_parts(article: Article, params: IndexParams) -> list[tuple[str, int]]:
    """The article's fields and how many times each one's tokens count."""
    # Where the article appeared counts as text once: residents name their street in questions.
    where = " ".join(dict.fromkeys(p for p in (article.street, article.district, article.newspaper) if p))
    parts = [(article.index_title, params.title_weight), (where, 1), (article.body, 1)]
    parts.extend((caption, params.caption_weight) for caption in article.captions)
    return [(text, weight) for text, weight in parts if text and weight > 0]


def document_token_list(tokenizer: Tokenizer, article: Article, params: IndexParams) -> list[str]:
    """The token stream BM25 sees for an article: the title's tokens repeated by its weight."""
    tokens: list[str] = []
    for text, weight in weighted_text_parts(article, params):
        tokens.extend(tokenizer.document_tokens(text) * weight)
    return tokens


def document_words(
    tokenizer: Tokenizer, article: Article, params: IndexParams, folded_body: str | None = None
) -> list[str]:
    """The article's segmented words, each part's repeated by its weight (`folded_body`: the
    body, folded); their tokens, in order, make `document_token_list(...)`."""
    return tokenizer.weighted_words(_folded_parts(article, params, folded_body))


def _folded_parts(article: Article, params: IndexParams, folded_body: str | None) -> list[tuple[str, int]]:
    return [
        (folded_body if folded_body is not None and text is article.body else for_matching(text), weight)
        for text, weight in weighted_text_parts(article, params)
    ]


def content_hash(article: Article, params: IndexParams, signature: str) -> str:
    """What decides whether an article's bag of words can be reused."""
    digest = hashlib.sha1(signature.encode())
    for text, weight in weighted_text_parts(article, params):
        digest.update(f"\0{weight}\0{text}".encode())
    return digest.hexdigest()[:20]


def folded_weighted_text(article: Article, params: IndexParams, folded_body: str | None = None) -> str:
    """The weighted parts as one folded text for bigrams (`folded_body`: the body, already folded)."""
    return weighted_text(_folded_parts(article, params, folded_body))


def document_bigram_bag(article: Article, params: IndexParams, folded_body: str | None = None) -> BigramDoc:
    """The article's character bigrams, from the same weighted parts as its words."""
    _, terms, tfs = bigram_bags([folded_weighted_text(article, params, folded_body)])
    return BigramDoc(terms, tfs.astype(np.int32))
