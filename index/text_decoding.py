"""Issue file bytes as text: the encodings read (UTF-8, UTF-16 with a byte-order mark, GB18030)
and the errors that say why some bytes are not text."""

from __future__ import annotations


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
