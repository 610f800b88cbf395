"""Unit tests of the resident bot's pieces: callback data, pacing, reply rendering and splitting,
keeping the token out of logs, and `run_bot`'s failures."""

from __future__ import annotations

import logging
import random
import re
import string
from pathlib import Path

import pytest
from bots import TOKEN
from configs import write_settings
from fake_bot_api import FakeBotApi

from bot.core import callbacks, dates, messages, replies
from bot.core.ratelimit import RateLimiter, Verdict
from bot.core.replies import articles
from bot.edge import app as bot_app
from index.article import Article
from index.snippet import Snippet

# --- callback data ----------------------------------------------------------------------------


def test_callback_data_round_trips_under_64_bytes() -> None:
    long_id = "20240101120000_" + "社区报特刊" * 7 + "-12"  # a published issue named in Chinese
    made = {
        callbacks.open_article("004_8c6126055dad1091-02"): callbacks.OpenArticle(
            callbacks.Ref("004_8c6126055dad1091-02")
        ),
        callbacks.turn_page("a:b", 7): callbacks.TurnPage(callbacks.Ref("a:b"), 7),
        callbacks.more_results(123456789, 30): callbacks.MoreResults(123456789, 30),
        callbacks.subscribe("天山路街道"): callbacks.Subscribe(callbacks.Ref("天山路街道")),
        callbacks.subscribe(None): callbacks.Subscribe(None),
        callbacks.latest(None): callbacks.Latest(None),
        callbacks.example(2): callbacks.Example(2),
    }
    for data, action in made.items():
        assert len(data.encode()) <= callbacks.MAX_BYTES
        assert callbacks.decode(data) == action

    hashed = callbacks.turn_page(long_id, 999)
    assert len(hashed.encode()) <= callbacks.MAX_BYTES
    decoded = callbacks.decode(hashed)
    assert isinstance(decoded, callbacks.TurnPage) and decoded.page == 999
    assert decoded.article.value is None and decoded.article.matches(long_id)
    assert not decoded.article.matches(long_id + "x")
    # A digest reference is passed on as it came.
    assert callbacks.decode(callbacks.turn_page(decoded.article, 3)) == callbacks.TurnPage(decoded.article, 3)


def test_callback_data_expires_and_never_raises() -> None:
    today = callbacks.today()
    assert isinstance(callbacks.decode(callbacks.example(0, day=today - 30), max_age_days=30), callbacks.Example)
    assert isinstance(callbacks.decode(callbacks.example(0, day=today - 31), max_age_days=30), callbacks.Expired)
    assert isinstance(callbacks.decode(callbacks.example(0, day=today + 5)), callbacks.Expired)
    for data in (None, "", "r1", "r1:", "r1:a", "r1:a:1", "r2:a:1:=x", "r1:m:zz:1:2", "r1:m:1:-1:2", "r1:p:1:1:"):
        assert isinstance(callbacks.decode(data), callbacks.Expired), data
    rng = random.Random(7)
    alphabet = string.printable + "街道天山：😀#="
    for _ in range(2000):
        junk = "r1:" + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 64)))
        callbacks.decode(junk)  # any outcome but an exception


# --- pacing -------------------------------------------------------------------------------------


def test_rate_limiter_allows_bursts_then_one_a_second() -> None:
    now = [0.0]
    limiter = RateLimiter(burst=3, rate_per_second=1.0, warn_every=10.0, clock=lambda: now[0])
    assert [limiter.check(1) for _ in range(3)] == [Verdict.ALLOW] * 3
    assert limiter.check(1) is Verdict.WARN
    assert limiter.check(1) is Verdict.DROP
    assert limiter.check(2) is Verdict.ALLOW  # per resident
    now[0] = 1.0
    assert limiter.check(1) is Verdict.ALLOW
    assert limiter.check(1) is Verdict.DROP  # told recently: stay quiet
    now[0] = 11.5
    assert [limiter.check(1) for _ in range(3)] == [Verdict.ALLOW] * 3
    assert limiter.check(1) is Verdict.WARN


# --- rendering ----------------------------------------------------------------------------------


def test_html_is_escaped_and_matches_are_bold() -> None:
    snippet = Snippet("A <b> & 垃圾分类 ok", [(8, 12)])
    line = replies.snippet_line(snippet)
    assert messages.render_html([line]) == "A &lt;b&gt; &amp; <b>垃圾分类</b> ok"
    assert messages.render_plain([line]) == "A <b> & 【垃圾分类】 ok"
    assert dates.month_label("2020-06") == "2020年6月"
    assert dates.month_label("2019-11-03") == "2019年11月"
    assert dates.month_label("去年") == "去年"
    article = Article(id="x", headline="h", body="b", street="天山路街道", date="2020-06")
    assert messages.render_plain([replies.meta_line(article)]) == "天山路街道 · 社区报 · 2020年6月"


def _visible(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def test_long_articles_split_under_the_limit_without_losing_text() -> None:
    paragraphs = [
        "第一段。" * 400,  # one paragraph longer than a page, with sentence ends
        "无标点" * 2000,  # one with no punctuation at all
        "😀<&>" * 1500,  # astral characters count twice; markup characters are escaped
        "最后一段。",
    ]
    article = Article(
        id="long",
        headline="很长的文章",
        body="\n".join(paragraphs),
        kicker="引题",
        byline="通讯员 张三",
        source="社区办",
    )
    pages = articles.article_pages(article)
    assert len(pages) >= 5
    texts = []
    for number in range(len(pages)):
        reply = articles.article_reply(article, number)
        assert messages.visible_length(reply.lines) <= messages.TELEGRAM_TEXT_LIMIT
        assert f"第 {number + 1}/{len(pages)} 页" in reply.plain
        texts.append(_visible(reply.html))
        labels = {b.text for row in reply.buttons for b in row}
        assert ("◀ 上一页" in labels) == (number > 0)
        assert ("下一页 ▶" in labels) == (number < len(pages) - 1)
    # Pages without their headers and page numbers: the article's text, cut at line ends only.
    joined = "".join(messages.render_plain(page).replace("\n", "") for page in pages)
    for paragraph in paragraphs:
        assert paragraph in joined
    assert "（社区办）" in texts[-1]
    # A page number beyond the end (an old button) shows the last page.
    assert articles.article_reply(article, 999).plain == articles.article_reply(article, len(pages) - 1).plain


# --- the token stays out of logs ----------------------------------------------------------------


def test_token_filter_redacts_messages_arguments_and_tracebacks() -> None:
    token_filter = bot_app.TokenFilter(TOKEN)
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "POST %s", (f"https://x/bot{TOKEN}/getMe",), None)
    token_filter.filter(record)
    assert TOKEN not in record.getMessage() and "<TOKEN>" in record.getMessage()
    try:
        raise RuntimeError(f"failed at https://x/bot{TOKEN}/sendMessage")
    except RuntimeError as exc:
        record = logging.LogRecord("telegram", logging.ERROR, __file__, 1, "boom", (), (type(exc), exc, None))
    token_filter.filter(record)
    formatted = logging.Formatter().format(record)
    assert TOKEN not in formatted and TOKEN.partition(":")[2] not in formatted


def test_run_bot_with_a_rejected_token_fails_cleanly(
    tmp_path: Path, corpus_index: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with FakeBotApi(token="999:the-only-accepted-token") as api:
        settings = write_settings(tmp_path, api, corpus_index)
        with caplog.at_level(logging.DEBUG):
            code = bot_app.run_bot(settings, TOKEN)
    assert code == 2
    assert "rejected the token" in caplog.text
    assert TOKEN not in caplog.text
    assert TOKEN.partition(":")[2] not in caplog.text
    for handler in logging.getLogger().handlers:
        for token_filter in [f for f in handler.filters if isinstance(f, bot_app.TokenFilter)]:
            handler.removeFilter(token_filter)


def test_webhook_needs_tornado_or_a_good_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot_app.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(bot_app.WebhookUnavailable, match=r"python-telegram-bot\[webhooks\]"):
        bot_app._check_webhook("https://example.org/newsbot")
    monkeypatch.setattr(bot_app.importlib.util, "find_spec", lambda name: object())
    assert bot_app._check_webhook("https://example.org/hooks/newsbot") == "hooks/newsbot"
    with pytest.raises(ValueError, match="full URL"):
        bot_app._check_webhook("example.org/newsbot")
