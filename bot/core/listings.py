"""What each chat was last shown as a numbered list, so a bare number opens result N and 更多
shows the next page in Telegram as in the terminal chat.

Kept in memory only (the last few thousand chats): after a restart a number is searched as a
question and 更多 asks for a question first, which loses nothing the resident needs.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

MAX_CHATS = 10_000


@dataclass
class Listing:
    """A numbered list a chat was shown: a question's page of results, or an issue's headlines."""

    article_ids: list[str] = field(default_factory=list)
    first: int = 1  # the number shown beside the first article
    question: str = ""  # the question whose results these are ("" for an issue's headlines)
    query_id: int | None = None  # its row in the query log (for the paging buttons)
    offset: int = 0  # the results' offset

    @property
    def last(self) -> int:
        """The number shown beside the last article."""
        return self.first + len(self.article_ids) - 1

    def pick(self, number: int) -> str | None:
        """The id of the article shown as `number`, None when no article had that number."""
        index = number - self.first
        return self.article_ids[index] if 0 <= index < len(self.article_ids) else None


class ChatListings:
    """The latest listing of each chat, forgetting the least recently used chats beyond `max_chats`."""

    def __init__(self, max_chats: int = MAX_CHATS) -> None:
        self.max_chats = max_chats
        self._by_chat: OrderedDict[int, Listing] = OrderedDict()

    def remember(self, chat_id: int, listing: Listing) -> None:
        """Record what a chat was just shown."""
        self._by_chat[chat_id] = listing
        self._by_chat.move_to_end(chat_id)
        while len(self._by_chat) > self.max_chats:
            self._by_chat.popitem(last=False)

    def get(self, chat_id: int) -> Listing | None:
        """What the chat was last shown, if it is remembered."""
        listing = self._by_chat.get(chat_id)
        if listing is not None:
            self._by_chat.move_to_end(chat_id)
        return listing
