"""The state database's schema: named migrations, in order, shared by SQLite and PostgreSQL.

Written for SQLite (bot/core/state_dialect.py maps the column types for PostgreSQL), or with one
body per dialect where the SQL cannot be shared. `bot.core.state.Database.migrate` runs the ones a
database has not recorded, each in its transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# A migration's body: SQL statements (written for SQLite, types mapped for PostgreSQL by
# `postgres_ddl`), one body per dialect ({"sqlite": ..., "postgresql": ...}) where the SQL cannot
# be shared, or a function given the connection inside the transaction.
MigrationStep = str | dict[str, str] | Callable[[Any], None]

# (name, body). Never edit a migration that has shipped; add a new one.
MIGRATIONS: list[tuple[str, MigrationStep]] = [
    (
        "001_subscribers",
        """
        CREATE TABLE subscribers (
            chat_id INTEGER PRIMARY KEY,
            since REAL NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            blocked_at REAL,
            updated_at REAL NOT NULL
        );
        CREATE TABLE subscriptions (
            chat_id INTEGER NOT NULL REFERENCES subscribers(chat_id) ON DELETE CASCADE,
            street TEXT NOT NULL,
            since REAL NOT NULL,
            PRIMARY KEY (chat_id, street)
        );
        CREATE INDEX subscriptions_street ON subscriptions(street);
        """,
    ),
    (
        "002_query_log",
        """
        CREATE TABLE query_log (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            chat_id INTEGER,
            question TEXT NOT NULL,
            results INTEGER NOT NULL
        );
        CREATE INDEX query_log_at ON query_log(at);
        """,
    ),
    (
        # Staff added or removed by admins from the bot; a row overrides config.yaml's staff list.
        "003_staff",
        """
        CREATE TABLE staff (
            user_id INTEGER PRIMARY KEY,
            active INTEGER NOT NULL,
            changed_by INTEGER,
            changed_at REAL NOT NULL
        );
        """,
    ),
    (
        # One broadcast per published issue, one delivery row per subscriber of it (see bot/core/broadcasts.py).
        "004_broadcasts",
        """
        CREATE TABLE broadcasts (
            id INTEGER PRIMARY KEY,
            issue_id TEXT NOT NULL UNIQUE,
            street TEXT NOT NULL,
            title TEXT NOT NULL,
            text TEXT NOT NULL,
            created_at REAL NOT NULL,
            created_by INTEGER,
            report_chat_id INTEGER,
            progress_message_id INTEGER,
            state TEXT NOT NULL DEFAULT 'queued',
            total INTEGER NOT NULL,
            started_at REAL,
            finished_at REAL,
            reported_at REAL
        );
        CREATE TABLE deliveries (
            broadcast_id INTEGER NOT NULL REFERENCES broadcasts(id) ON DELETE CASCADE,
            chat_id INTEGER NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            throttled INTEGER NOT NULL DEFAULT 0,
            next_at REAL NOT NULL DEFAULT 0,
            updated_at REAL,
            message_id INTEGER,
            error TEXT,
            PRIMARY KEY (broadcast_id, chat_id)
        );
        CREATE INDEX deliveries_due ON deliveries(state, next_at);
        CREATE INDEX broadcasts_state ON broadcasts(state);
        """,
    ),
    (
        # Summary lines staff corrected before a broadcast, and the correction each staff chat is
        # being asked for (see bot/summary_edits.py): both outlive a restart of the bot.
        "005_summary_edits",
        """
        CREATE TABLE summary_edits (
            draft_key TEXT NOT NULL,
            number INTEGER NOT NULL,
            line TEXT NOT NULL,
            edited_by INTEGER,
            edited_at REAL NOT NULL,
            PRIMARY KEY (draft_key, number)
        );
        CREATE TABLE summary_edit_prompts (
            chat_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            draft_key TEXT NOT NULL,
            number INTEGER NOT NULL,
            headline TEXT NOT NULL,
            token TEXT NOT NULL,
            message_id INTEGER,
            asked_at REAL NOT NULL,
            PRIMARY KEY (chat_id, user_id)
        );
        """,
    ),
    # The inline keyboard (JSON) sent with a broadcast: 全文 per article, 退订 and 设置.
    ("006_broadcast_buttons", "ALTER TABLE broadcasts ADD COLUMN markup TEXT;"),
    (
        # Several workers sending one broadcast (bot/core/broadcast_claims.py): who claimed each delivery,
        # the one pace they share, their heartbeats, and the last message to a chat found quickly.
        "007_shared_sending",
        """
        ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
        CREATE INDEX deliveries_chat ON deliveries(chat_id, updated_at);
        CREATE TABLE send_pace (id INTEGER PRIMARY KEY, next_at REAL NOT NULL);
        INSERT INTO send_pace (id, next_at) VALUES (1, 0);
        CREATE TABLE workers (id TEXT PRIMARY KEY, started_at REAL NOT NULL, seen_at REAL NOT NULL);
        """,
    ),
    (
        # Staff uploads between the document and Publish (bot/core/upload_store.py): any worker can take
        # the next step. The file's bytes need a per-dialect type (BLOB / BYTEA).
        "008_uploads",
        {
            "sqlite": """
                CREATE TABLE uploads (token TEXT PRIMARY KEY, chat_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
                    created REAL NOT NULL, version INTEGER NOT NULL, data BLOB NOT NULL, state TEXT NOT NULL);
                CREATE INDEX uploads_created ON uploads(created);
            """,
            "postgresql": """
                CREATE TABLE uploads (token TEXT PRIMARY KEY, chat_id BIGINT NOT NULL, user_id BIGINT NOT NULL,
                    created DOUBLE PRECISION NOT NULL, version BIGINT NOT NULL, data BYTEA NOT NULL,
                    state TEXT NOT NULL);
                CREATE INDEX uploads_created ON uploads(created);
            """,
        },
    ),
    (
        # What each chat was last shown as a numbered list, when several workers share the state
        # (bot/listings.py; one process keeps them in memory).
        "009_chat_listings",
        """
        CREATE TABLE chat_listings (chat_id INTEGER PRIMARY KEY, listing TEXT NOT NULL, at REAL NOT NULL);
        CREATE INDEX chat_listings_at ON chat_listings(at);
        """,
    ),
    (
        # Update ids a worker took, so a copy Telegram delivers again is handled once (bot/edge/update_dedupe.py).
        "010_handled_updates",
        """
        CREATE TABLE handled_updates (update_id INTEGER PRIMARY KEY, at REAL NOT NULL);
        CREATE INDEX handled_updates_at ON handled_updates(at);
        """,
    ),
]
