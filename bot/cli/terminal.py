"""`newsbot chat`: the resident conversation in a terminal, without Telegram or a token.

It reads one question or command a line from standard input (a terminal or a pipe) and prints
the same answers the bot gives, as plain text with matched words in 【】. Numbers open the
articles just listed, "更多" shows more results, and the Telegram commands work as far as they
make sense here. End of input ends the chat with exit status 0.
"""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TextIO

from bot.core import intents, messages, replies
from bot.core.exit_codes import EXIT_OK
from bot.core.messages import Line, text
from bot.core.replies import articles
from bot.core.resident_actions import latest_for, resolve_street
from bot.core.settings import Settings
from index.article import Article
from index.maintenance import open_engine
from index.search import SearchEngine
from index.search_response import SearchResponse

log = logging.getLogger(__name__)

QUIT_WORDS = frozenset({"/quit", "/exit", "退出", "quit", "exit"})
PROMPT = "> "


@dataclass
class ChatSession:
    """One terminal conversation: the engine, and what was last listed (for numbers and 更多)."""

    engine: SearchEngine
    per_page: int = 3
    question: str = ""
    offset: int = 0
    listed: list[Article] = field(default_factory=list)
    first_number: int = 1

    def handle(self, line: str) -> str:
        """The reply to one input line (empty when there is nothing to say)."""
        line = line.strip()
        if not line:
            return ""
        if line.startswith("/") and line.lower() not in intents.MORE_WORDS:
            return self.command(line)
        # The same reading of a message as the Telegram bot's (bot.core.intents).
        intent = intents.recognise(line)
        if intent.kind == intents.MORE:
            return self.more()
        if intent.kind == intents.NUMBER and self.listed:
            return self.open(intent.number)
        if intent.kind in intents.SMALL_TALK:
            return replies.for_terminal(replies.small_talk_reply(intent.kind).plain)
        if intent.kind == intents.SUBSCRIBE:
            street = self.engine.scope_of(line).street
            return self.subscribe(street)
        if intent.kind == intents.UNSUBSCRIBE:
            return replies.NOT_IN_TERMINAL
        return self.ask(line)

    def command(self, line: str) -> str:
        """A /command, with or without an argument."""
        word, _, argument = line.partition(" ")
        name = word[1:].split("@", 1)[0].lower()
        argument = argument.strip()
        if name == "start":
            return replies.terminal_welcome_text()
        if name == "help":
            return replies.terminal_help_text()
        if name == "latest":
            return self.latest(argument)
        if name == "ask":
            return self.ask(argument) if argument else replies.ASK_USAGE
        if name == "more":
            return self.more()
        if name == "subscribe":
            return self.subscribe(argument)
        if name in ("unsubscribe", "mysubs"):
            return replies.NOT_IN_TERMINAL
        return replies.for_terminal(replies.UNKNOWN_COMMAND)

    def ask(self, question: str) -> str:
        """A question: its first page of results."""
        self.question, self.offset = question, 0
        return self.show(self.engine.search(question, self.per_page, 0))

    def more(self) -> str:
        """The next page of the last question's results."""
        if not self.question:
            return replies.NO_QUESTION_YET
        response = self.engine.search(self.question, self.per_page, self.offset + self.per_page)
        if not response.results:
            return replies.NO_MORE
        self.offset = response.offset
        return self.show(response)

    def show(self, response: SearchResponse) -> str:
        """Results as text, remembering them for numbers."""
        if response.problem or not response.results:
            self.listed = []
            return replies.for_terminal(replies.answer_reply(response, None, self.per_page).plain)
        lines: list[Line] = [*replies.suggestion_lines(response), replies.results_header(response)]
        for number, result in enumerate(response.results, start=response.offset + 1):
            headline, *details = replies.result_lines(number, result)
            lines.extend([replies.BLANK, headline])
            lines.extend((messages.Span("   "), *line) for line in details)  # indented under the headline
        self.listed = [r.article for r in response.results]
        self.first_number = response.offset + 1
        last = response.offset + len(response.results)
        hint = replies.terminal_list_hint(self.first_number, last, more=last < response.total)
        lines.extend([replies.BLANK, text(hint)])
        return messages.render_plain(lines)

    def open(self, number: int) -> str:
        """The full text of a listed article, by the number shown next to it."""
        index = number - self.first_number
        if not 0 <= index < len(self.listed):
            last = self.first_number + len(self.listed) - 1
            return replies.PICK_NUMBER.format(first=self.first_number, last=last)
        return articles.article_text(self.listed[index])

    def latest(self, wanted: str) -> str:
        """/latest [street]: the newest issue's headlines, numbered for opening."""
        reply, articles = latest_for(self.engine, wanted, open_hint=replies.TERMINAL_OPEN_HINT)
        if not articles:
            streets = self.engine.streets()
            if wanted and streets:
                return replies.for_terminal(reply.plain) + "\n" + "、".join(streets)
            return reply.plain
        self.listed, self.first_number = articles[: replies.MAX_ISSUE_LINES], 1
        return reply.plain

    def subscribe(self, wanted: str) -> str:
        """/subscribe: explain that subscriptions live in Telegram, and which streets there are."""
        streets = self.engine.streets()
        found = resolve_street(streets, wanted) if wanted else []
        return replies.terminal_subscribe_text(wanted, found, streets)


def _lines(stdin: TextIO, interactive: bool, stdout: TextIO) -> Iterator[str]:
    if not interactive:
        yield from stdin
        return
    while True:
        try:
            yield input(PROMPT)
        except EOFError:
            print(file=stdout)
            return


def run_terminal_chat(settings: Settings, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Chat on standard input/output until end of input (or /quit); returns the exit status."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    if isinstance(stdin, io.TextIOWrapper):
        # Undecodable bytes from a pipe become replacement characters instead of a traceback.
        stdin.reconfigure(errors="replace")
    interactive = stdin is sys.stdin and stdin.isatty() and stdout.isatty()
    if interactive:
        print(replies.TERMINAL_LOADING, file=sys.stderr)
    engine, report = open_engine(
        settings.corpus_dir, settings.index_dir, settings.index, settings.search, workers=settings.workers
    )
    if report.built:
        print(replies.TERMINAL_BUILT.format(count=engine.index.n_docs), file=sys.stderr)
        for problem in report.skipped:
            print(replies.TERMINAL_SKIPPED.format(path=problem.path, reason=problem.reason), file=sys.stderr)
    session = ChatSession(engine, per_page=settings.search.results_per_page)
    if interactive:
        print(replies.terminal_welcome_text() + "\n", file=stdout)
    try:
        for raw in _lines(stdin, interactive, stdout):
            line = raw.strip()
            if line.lower() in QUIT_WORDS:
                break
            if not interactive and line:
                # A transcript reads better when each answer follows its question.
                print(PROMPT + line, file=stdout)
            answer = session.handle(line)
            if answer:
                print(answer + "\n", file=stdout, flush=True)
    except KeyboardInterrupt:
        print(file=stdout)
    except BrokenPipeError:
        # The reader went away (`newsbot chat | head`): stop quietly, and keep the interpreter's
        # final flush of standard output from failing again on exit.
        if stdout is sys.stdout:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
    return EXIT_OK
