"""Refused questions are all listed, in at most one notice per pause, per resident."""

from __future__ import annotations

from bot.core import replies
from bot.core.refusals import MAX_KEPT, RefusedQuestions


def test_every_refused_question_is_listed_once_per_pause() -> None:
    now = [100.0]
    refused = RefusedQuestions(every=10.0, clock=lambda: now[0])
    assert refused.take(1) is None and refused.due_in(1) == 0.0
    refused.add(1, "a")
    refused.add(1, "b")
    refused.add(2, "x")
    first = refused.take(1)
    assert first is not None and first.questions == ("a", "b") and first.total == 2
    assert not refused.waiting(1) and refused.waiting(2)
    # More refused soon after: kept for the next notice, which may go only after the pause.
    now[0] += 4
    refused.add(1, "c")
    assert refused.due_in(1) == 6.0 and refused.due_in(2) == 0.0
    now[0] += 6
    later = refused.take(1)
    assert later is not None and later.questions == ("c",)
    for n in range(MAX_KEPT + 7):
        refused.add(3, str(n))
    flood = refused.take(3)
    assert flood is not None and len(flood.questions) == MAX_KEPT and flood.more == 7


def test_the_notice_names_the_questions_and_counts_the_rest() -> None:
    reply = replies.refused_reply([f"问题{n}" for n in range(12)], more=3)
    lines = reply.plain.splitlines()
    assert lines[0] == replies.REFUSED.format(count=15)
    assert lines[1] == "1. 问题0" and len(lines) == 1 + replies.MAX_REFUSED_LISTED + 1
    assert lines[-1] == replies.REFUSED_MORE.format(count=5)
    assert "&lt;b&gt;" in replies.refused_reply(["<b>"]).html
