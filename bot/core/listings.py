"""What each chat was last shown as a numbered list, so a bare number opens result N and 更多
shows the next page in Telegram as in the terminal chat.

One process (SQLite) keeps them in memory only (the last few thousand chats): after a restart a
number is searched as a question and 更多 asks for a question first, which loses nothing the
resident needs. Several workers (PostgreSQL) keep them in the `chat_listings` table (migration
009_chat_listings), since the resident's next message may reach another worker.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from bot.core.state import Database

MAX_CHATS = 10_000
# Listings in the database are forgotten after this long (looked for every PRUNE_EVERY listings).
MAX_AGE = 7 * 24 * 3600.0
PRUNE_EVERY = 1000


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
    """The latest listing of each chat, forgetting the least recently used chats beyond `max_chats`.

    With `db` (a state several workers share) the listings live there instead of in memory:
    call `remember` and `get` from a worker thread then (`shared` says so).
    """

    def __init__(self, max_chats: int = MAX_CHATS, db: Database | None = None) -> None:
        self.max_chats = max_chats
        self.db = db
        self._by_chat: OrderedDict[int, Listing] = OrderedDict()
        self._remembered = 0

    @property
    def shared(self) -> bool:
        """Whether the listings are in the database (each call is a query)."""
        return self.db is not None

    def remember(self, chat_id: int, listing: Listing) -> None:
        """Record what a chat was just shown."""
        if self.db is not None:
            now = time.time()
            self.db.execute(
                "INSERT INTO chat_listings (chat_id, listing, at) VALUES (?, ?, ?) "
                "ON CONFLICT (chat_id) DO UPDATE SET listing = excluded.listing, at = excluded.at",
                (chat_id, json.dumps(dataclasses.asdict(listing), ensure_ascii=False), now),
            )
            self._remembered += 1
            if self._remembered % PRUNE_EVERY == 0:
                self.db.execute("DELETE FROM chat_listings WHERE at < ?", (now - MAX_AGE,))
            return
        self._by_chat[chat_id] = listing
        self._by_chat.move_to_end(chat_id)
        while len(self._by_chat) > self.max_chats:
            self._by_chat.popitem(last=False)

    def get(self, chat_id: int) -> Listing | None:
        """What the chat was last shown, if it is remembered."""
        if self.db is not None:
            rows = self.db.query("SELECT listing FROM chat_listings WHERE chat_id = ?", (chat_id,))
            return Listing(**json.loads(rows[0][0])) if rows else None
        listing = self._by_chat.get(chat_id)
        if listing is not None:
            self._by_chat.move_to_end(chat_id)
        return listing
