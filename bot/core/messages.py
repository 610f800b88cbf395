"""The message model every reply is built from: lines of spans (plain, bold, italic, or a matched
word) and rows of buttons, rendered as Telegram HTML (escaped) or as plain text for the terminal,
with lengths counted as Telegram counts them (UTF-16 units).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)

TELEGRAM_TEXT_LIMIT = 4096


@dataclass(frozen=True)
class Span:
    """A run of text and how it is shown."""

    text: str
    bold: bool = False
    italic: bool = False
    mark: bool = False  # a word that matched the question


Line = tuple[Span, ...]


@dataclass(frozen=True)
class Button:
    """An inline button: callback data, or a URL."""

    text: str
    data: str | None = None
    url: str | None = None

    def json(self) -> dict[str, str]:
        """Telegram's InlineKeyboardButton fields."""
        fields = {"text": self.text}
        if self.data is not None:
            fields["callback_data"] = self.data
        if self.url is not None:
            fields["url"] = self.url
        return fields


@dataclass(frozen=True)
class Reply:
    """One message: lines of spans and rows of buttons."""

    lines: tuple[Line, ...]
    buttons: tuple[tuple[Button, ...], ...] = ()

    @property
    def html(self) -> str:
        """Telegram HTML (parse_mode=HTML)."""
        return render_html(self.lines)

    @property
    def plain(self) -> str:
        """Plain text for the terminal; matched words in 【】."""
        return render_plain(self.lines)

    def keyboard_json(self) -> dict[str, list[list[dict[str, str]]]] | None:
        """The inline keyboard as Telegram's JSON (stored with a broadcast), or None without buttons."""
        rows = [[button.json() for button in row] for row in self.buttons if row]
        return {"inline_keyboard": rows} if rows else None


def text(*parts: str | Span) -> Line:
    """A line from strings and spans."""
    return tuple(Span(p) if isinstance(p, str) else p for p in parts)


def render_html(lines: Iterable[Line]) -> str:
    """Lines as Telegram HTML: everything escaped, bold/italic as tags."""
    out = []
    for line in lines:
        parts = []
        for span in line:
            piece = html.escape(span.text, quote=False)
            if span.italic:
                piece = f"<i>{piece}</i>"
            if span.bold or span.mark:
                piece = f"<b>{piece}</b>"
            parts.append(piece)
        out.append("".join(parts))
    return "\n".join(out)


def render_plain(lines: Iterable[Line]) -> str:
    """Lines as plain text; matched words in 【】."""
    return "\n".join("".join(f"【{s.text}】" if s.mark else s.text for s in line) for line in lines)


def visible_length(lines: Iterable[Line]) -> int:
    """Length as Telegram counts it (UTF-16 code units of the text without markup)."""
    plain = "\n".join("".join(s.text for s in line) for line in lines)
    return len(plain.encode("utf-16-le")) // 2


def utf16_length(value: str) -> int:
    return len(value.encode("utf-16-le")) // 2


def shorten(value: str, limit: int) -> str:
    """At most `limit` characters, with an ellipsis when cut."""
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"
