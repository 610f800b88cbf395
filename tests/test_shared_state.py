"""Conversation state the workers share in the database: an upload's steps on both backends (what
one worker records the other reads, its bytes intact; only one taker wins; old uploads expire),
on PostgreSQL the numbered list each chat was last shown, and the ids of updates already taken."""

from __future__ import annotations

from bot.core.listings import ChatListings, Listing
from bot.core.state import Database
from bot.core.upload_checks import UploadChecks
from bot.core.upload_store import Upload, UploadStore
from bot.edge.update_dedupe import PRUNE_EVERY, claim_update
from index.records import Issue

PDF_BYTES = bytes(range(256)) * 40  # not text: NULs and every byte value


def test_two_workers_share_one_upload(state_url: str) -> None:
    first_db, second_db = Database(state_url), Database(state_url)
    first, second = UploadStore(first_db), UploadStore(second_db)
    checks = UploadChecks(text="正文", months=["2020-07"], street_new=True, kind="correction")
    checks.replaces = Issue(id="004_x", file="004.txt", street="天山路街道", month="2020-07")
    upload = Upload("t1", 1002, 1002, "期刊.pdf", PDF_BYTES, street=None, created=1000.0, checks=checks)
    upload.street_choices = ["天山路街道", "外滩街道"]
    first.add(upload)

    seen = second.get("t1")
    assert seen is not None and seen.data == PDF_BYTES and seen.street_choices == ["天山路街道", "外滩街道"]
    assert seen.checks == checks and seen.checks.replaces == checks.replaces
    assert second.get("t1") is seen  # unchanged: this worker's copy (and its draft) is kept
    seen.street, seen.month = "天山路街道", "2020-07"
    assert second.save(seen)
    again = first.get("t1")
    assert again is not None and again is not upload and (again.street, again.month) == ("天山路街道", "2020-07")

    assert first.take("t1") and not second.take("t1")
    assert second.get("t1") is None and not second.save(seen)
    first_db.close()
    second_db.close()


def test_old_uploads_expire(state_url: str) -> None:
    db = Database(state_url)
    store = UploadStore(db)
    store.add(Upload("old", 1, 1, "a.txt", b"x", created=100.0))
    store.add(Upload("new", 1, 1, "b.txt", b"y", created=10_000.0))
    assert store.expire(ttl=1000.0, now=10_500.0) == 1
    assert store.get("old") is None and store.get("new") is not None
    db.close()


def test_listings_shared_by_workers(postgres_url: str) -> None:
    """With several workers the numbered list a chat was shown is in the database: a bare number
    reaching the other worker opens the right article."""
    first_db, second_db = Database(postgres_url), Database(postgres_url)
    first, second = ChatListings(db=first_db), ChatListings(db=second_db)
    assert first.shared and not ChatListings().shared
    assert second.get(7) is None
    first.remember(7, Listing(["a1", "a2", "a3"], 4, "垃圾分类", 123456789012, 3))
    seen = second.get(7)
    assert (
        seen is not None
        and seen.pick(5) == "a2"
        and (seen.question, seen.query_id, seen.offset)
        == (
            "垃圾分类",
            123456789012,
            3,
        )
    )
    second.remember(7, Listing(["b1"]))
    latest = first.get(7)
    assert latest is not None and latest.article_ids == ["b1"] and latest.question == ""
    first_db.close()
    second_db.close()


def test_an_update_delivered_twice_is_claimed_once(state_url: str) -> None:
    first_db, second_db = Database(state_url), Database(state_url)
    assert claim_update(first_db, 5001, now=100.0)
    assert not claim_update(second_db, 5001, now=101.0) and not claim_update(first_db, 5001, now=102.0)
    assert claim_update(second_db, 5002, now=103.0)
    # Pruning keeps the recent ids: a copy arriving late is still recognised.
    assert claim_update(first_db, PRUNE_EVERY * 7, now=104.0)
    assert not claim_update(second_db, 5002, now=105.0)
    first_db.close()
    second_db.close()
