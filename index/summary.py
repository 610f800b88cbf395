"""The summary staff check and broadcast: each article's headline and its key sentence."""

from __future__ import annotations

from collections.abc import Callable

from index.article import Article
from index.snippet import fold, split_sentences

KEY_SENTENCE_CHARS = 120
MIN_SENTENCE_CHARS = 12


def key_sentence(article: Article, tokenize: Callable[[str], list[str]], weight: Callable[[str], float]) -> str:
    """The sentence of the body that says most of what the title says (early ones preferred).

    `tokenize` turns text into search tokens; `weight` gives a token's importance (idf).
    """
    sentences = [s for s in split_sentences(article.body) if len(s) >= MIN_SENTENCE_CHARS]
    if not sentences:
        sentences = split_sentences(article.body) or [article.body]
    title_terms = {t: weight(t) for t in tokenize(article.title)} if not article.derived_headline else {}
    best, best_score = sentences[0], -1.0
    for position, sentence in enumerate(sentences[:12]):
        folded = fold(sentence)
        overlap = sum(w for t, w in title_terms.items() if t in folded)
        # Newspapers lead with the news: the first sentence gets a head start.
        score = overlap + (1.5 if position == 0 else 0.0) - 0.05 * position
        if score > best_score:
            best, best_score = sentence, score
    if len(best) > KEY_SENTENCE_CHARS:
        best = best[: KEY_SENTENCE_CHARS - 1] + "…"
    return best


def summary_lines(
    articles: list[Article], tokenize: Callable[[str], list[str]], weight: Callable[[str], float]
) -> list[tuple[Article, str]]:
    """(article, key sentence) for each article of an issue, in print order."""
    return [(article, key_sentence(article, tokenize, weight)) for article in articles]
