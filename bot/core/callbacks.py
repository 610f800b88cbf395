"""Compact, versioned callback data for the resident bot's inline buttons.

Telegram gives a button at most 64 bytes of callback data and hands it back verbatim, possibly
months later and after any number of restarts. So every button here:

* starts with `VERSION` (`r1:`); data of another version decodes to `Expired`, so a change of
  format makes old buttons say they expired instead of doing something wrong;
* carries the day it was made; buttons older than `button_days` decode to `Expired`;
* points only at things that outlive the process: article ids and street names (or a digest
  of them when they are too long to fit), and query-log rows for "more results" (random ids,
  honoured only in the chat that asked).

Clients can send arbitrary callback data, so `decode` never raises and bounds every number.
"""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass

VERSION = "r1"
PREFIX = VERSION + ":"
MAX_BYTES = 64
# Larger numbers than these can only come from a forged button.
MAX_PAGE = 999
MAX_OFFSET = 10_000
MAX_QUERY_ID = 2**48  # query-log ids are random 48-bit numbers (bot.core.subscriptions)
_DIGEST_CHARS = 12
_SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Ref:
    """Something named by a string: the string itself, or its digest when the string is too long."""

    value: str | None = None
    digest: str | None = None

    def matches(self, candidate: str) -> bool:
        """True when `candidate` is what this reference names."""
        if self.value is not None:
            return candidate == self.value
        return self.digest is not None and digest(candidate) == self.digest


@dataclass(frozen=True)
class OpenArticle:
    """Send an article (from its first page) as a new message."""

    article: Ref


@dataclass(frozen=True)
class TurnPage:
    """Show another page of an article, editing the message the button is on."""

    article: Ref
    page: int


@dataclass(frozen=True)
class MoreResults:
    """Show the results of a logged question from `offset`, editing the results message."""

    query_id: int
    offset: int


@dataclass(frozen=True)
class Subscribe:
    """Subscribe the chat to a street (None: to every street)."""

    street: Ref | None


@dataclass(frozen=True)
class Latest:
    """Show the newest issue of a street (None: the newest issue of all)."""

    street: Ref | None


@dataclass(frozen=True)
class Unsubscribe:
    """Stop sending the chat a street's new issues (a broadcast's 退订 button)."""

    street: Ref


@dataclass(frozen=True)
class ShowSettings:
    """Show the chat's subscriptions with buttons to change them (a broadcast's 设置 button)."""


@dataclass(frozen=True)
class Example:
    """Ask one of the welcome message's example questions."""

    number: int


@dataclass(frozen=True)
class Expired:
    """A button from another version, too old, or not ours: say so."""

    reason: str


Action = OpenArticle | TurnPage | MoreResults | Subscribe | Latest | Unsubscribe | ShowSettings | Example | Expired


def digest(text: str) -> str:
    """A short, URL-safe, stable digest of a string (72 bits: collisions are not a concern)."""
    raw = hashlib.sha256(text.encode("utf-8")).digest()[:9]
    return base64.urlsafe_b64encode(raw).decode("ascii")


def today() -> int:
    """Days since the Unix epoch (UTC): the date stamped on new buttons."""
    return int(time.time() // _SECONDS_PER_DAY)


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


def _join(kind: str, day: int | None, fields: list[str], ref: Ref | str | None = None) -> str:
    head = ":".join([VERSION, kind, _base36(today() if day is None else day), *fields])
    if ref is None:
        return head
    if isinstance(ref, Ref):
        # A reference decoded from another button is passed on in the form it came in.
        tail = "=" + ref.value if ref.value is not None else "#" + (ref.digest or "")
        data = head + ":" + tail
    else:
        data = head + ":=" + ref
        if len(data.encode("utf-8")) > MAX_BYTES:
            data = head + ":#" + digest(ref)
    if len(data.encode("utf-8")) > MAX_BYTES:
        raise ValueError(f"callback data too long: {data!r}")
    return data


def open_article(article_id: str | Ref, day: int | None = None) -> str:
    """Data of a button that opens an article in a new message."""
    return _join("a", day, [], article_id)


def turn_page(article_id: str | Ref, page: int, day: int | None = None) -> str:
    """Data of a button that shows page `page` (0-based) of an article in place."""
    return _join("p", day, [str(max(0, min(page, MAX_PAGE)))], article_id)


def more_results(query_id: int, offset: int, day: int | None = None) -> str:
    """Data of a button that pages the results of a logged question."""
    return _join("m", day, [str(query_id), str(max(0, min(offset, MAX_OFFSET)))])


def subscribe(street: str | Ref | None, day: int | None = None) -> str:
    """Data of a button that subscribes to a street (None: every street)."""
    return _join("s", day, [], "*" if street is None else street)


def latest(street: str | Ref | None, day: int | None = None) -> str:
    """Data of a button that shows a street's newest issue (None: the newest of all)."""
    return _join("l", day, [], "*" if street is None else street)


def unsubscribe(street: str | Ref, day: int | None = None) -> str:
    """Data of a button that unsubscribes the chat from a street."""
    return _join("u", day, [], street)


def show_settings(day: int | None = None) -> str:
    """Data of a button that shows the chat's subscriptions to change them."""
    return _join("g", day, [])


def example(number: int, day: int | None = None) -> str:
    """Data of a button that asks example question `number`."""
    return _join("q", day, [str(number)])


def _int(text: str, upper: int) -> int | None:
    if not text.isascii() or not text.isdigit() or len(text) > len(str(upper)):
        return None
    value = int(text)
    return value if value <= upper else None


def _ref(text: str) -> Ref | None:
    if text.startswith("=") and len(text) > 1:
        return Ref(value=text[1:])
    if text.startswith("#") and len(text) == 1 + _DIGEST_CHARS:
        return Ref(digest=text[1:])
    return None


def decode(data: str | None, max_age_days: int = 30, now_day: int | None = None) -> Action:
    """What a button press asks for; `Expired` for anything old, foreign or malformed."""
    if not data or not data.startswith(PREFIX):
        return Expired("unknown or older button format")
    parts = data.split(":", 3)
    if len(parts) < 3:
        return Expired("malformed")
    _, kind, day_text = parts[:3]
    rest = parts[3] if len(parts) > 3 else ""
    day = int(day_text, 36) if day_text.isascii() and day_text.isalnum() and len(day_text) <= 6 else None
    current = today() if now_day is None else now_day
    if day is None or day > current + 1:
        return Expired("malformed date")
    if current - day > max_age_days:
        return Expired("too old")
    if kind == "a":
        ref = _ref(rest)
        return OpenArticle(ref) if ref else Expired("malformed")
    if kind == "p":
        page_text, _, ref_text = rest.partition(":")
        page, ref = _int(page_text, MAX_PAGE), _ref(ref_text)
        return TurnPage(ref, page) if ref is not None and page is not None else Expired("malformed")
    if kind == "m":
        id_text, _, offset_text = rest.partition(":")
        query_id, offset = _int(id_text, MAX_QUERY_ID), _int(offset_text, MAX_OFFSET)
        return MoreResults(query_id, offset) if query_id is not None and offset is not None else Expired("malformed")
    if kind in ("s", "l"):
        if rest == "=*":
            return Subscribe(None) if kind == "s" else Latest(None)
        ref = _ref(rest)
        if ref is None:
            return Expired("malformed")
        return Subscribe(ref) if kind == "s" else Latest(ref)
    if kind == "u":
        ref = _ref(rest)
        return Unsubscribe(ref) if ref is not None else Expired("malformed")
    if kind == "g":
        return ShowSettings() if not rest else Expired("malformed")
    if kind == "q":
        number = _int(rest, 99)
        return Example(number) if number is not None else Expired("malformed")
    return Expired(f"unknown kind {kind!r}")
