"""A fake Telegram Bot API server for end-to-end tests.

This module owns :class:`FakeBotApi`: a real HTTP server (standard library
``ThreadingHTTPServer`` on ``127.0.0.1`` with an ephemeral port, served from a
daemon thread) that speaks enough of the Telegram Bot API for the real
python-telegram-bot ``Bot`` / ``Application`` to run against it unchanged::

    with FakeBotApi() as api:
        bot = telegram.Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url)
        api.message_update(chat_id=42, text="/start")  # queued for getUpdates
        ...
        api.wait_for_calls("sendMessage", count=1)

What it does:

* routes ``POST``/``GET /bot<TOKEN>/<method>`` and ``GET /file/bot<TOKEN>/<file_path>``;
* decodes url-encoded, JSON and ``multipart/form-data`` bodies.  python-telegram-bot
  sends every non-string value JSON-encoded (``chat_id=123``, ``reply_markup={...}``)
  and string values *raw*, so form values are ``json.loads``-ed when they parse,
  except for parameters that are always strings (``text``, ``caption``, ...) which are
  kept verbatim (otherwise a message text ``"123"`` would turn into an ``int``);
* answers with valid Bot API objects (users, chats, messages, documents, files);
* records every call as a :class:`Call` and offers (sync and async) waiting helpers;
* lets tests inject updates (:meth:`FakeBotApi.push_update` and builders) that are
  served by ``getUpdates`` with proper ``offset`` / long-poll ``timeout`` semantics;
* injects failures (:meth:`FakeBotApi.fail_next`, :meth:`FakeBotApi.block_chat`).

It does not own any production code; it is test infrastructure only.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.message
import email.utils
import html
import itertools
import json
import logging
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socket import SHUT_RDWR, socket
from types import TracebackType
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

JSONDict = dict[str, Any]
ChatKey = int | str
T = TypeVar("T")

#: Parameters whose values python-telegram-bot always sends as raw strings; they are
#: never JSON-decoded (a text of ``"123"`` or ``"true"`` must stay a string).
STRING_PARAMS: frozenset[str] = frozenset(
    {
        "action",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "currency",
        "custom_title",
        "description",
        "emoji",
        "explanation",
        "file_id",
        "game_short_name",
        "inline_message_id",
        "inline_query_id",
        "ip_address",
        "language_code",
        "message_effect_id",
        "name",
        "next_offset",
        "parse_mode",
        "payload",
        "provider_token",
        "query",
        "question",
        "secret_token",
        "short_description",
        "start_parameter",
        "switch_pm_parameter",
        "switch_pm_text",
        "text",
        "title",
        "url",
        # media parameters are either a file_id / URL string or an uploaded file
        "animation",
        "audio",
        "document",
        "photo",
        "sticker",
        "thumbnail",
        "video",
        "video_note",
        "voice",
    }
)

FAILURE_KINDS: frozenset[str] = frozenset({"429", "403", "400", "500", "hang"})
_BLOCKABLE_PREFIXES: tuple[str, ...] = ("send", "edit", "forward", "copy")
_MAX_TEXT_LENGTH = 4096
_MAX_CAPTION_LENGTH = 1024
_ALLOWED_HTML_TAGS: frozenset[str] = frozenset(
    {
        "a",
        "b",
        "blockquote",
        "code",
        "del",
        "em",
        "i",
        "ins",
        "pre",
        "s",
        "span",
        "strike",
        "strong",
        "tg-emoji",
        "tg-spoiler",
        "u",
    }
)


# --------------------------------------------------------------------------- data types


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a ``multipart/form-data`` request (appears in :attr:`Call.params`)."""

    field_name: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(frozen=True)
class Call:
    """One recorded Bot API call.

    ``outcome`` is ``"ok"`` for a successful answer, otherwise the failure: an injected
    kind (``"429"``, ``"403"``, ``"hang"``, ...), or the HTTP status of a real
    validation error (``"400"``, ``"404"``, ``"409"``, ``"401"``).
    """

    method: str
    params: JSONDict
    time: float
    token: str = ""
    outcome: str = "ok"
    # When the server finished answering (``time`` is when the request arrived); both time.time().
    answered: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the call was answered with ``{"ok": true}``."""
        return self.outcome == "ok"


@dataclass(frozen=True)
class StoredFile:
    """A file known to the fake server (uploaded by the bot or injected by a test)."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None


@dataclass
class _FailRule:
    method: str
    kind: str
    remaining: int
    retry_after: int
    chat_id: ChatKey | None


class ApiError(Exception):
    """Raised by method implementations to answer ``{"ok": false, ...}``."""

    def __init__(self, error_code: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSONDict:
        """The JSON body Telegram would answer with."""
        body: JSONDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


# --------------------------------------------------------------------------- helpers


def chat_key(chat_id: Any) -> ChatKey:
    """Normalise a chat id as sent by a client (``123``, ``"123"``, ``"@name"``)."""
    if isinstance(chat_id, bool):
        raise ApiError(400, "Bad Request: chat not found")
    if isinstance(chat_id, int):
        return chat_id
    text = str(chat_id).strip()
    try:
        return int(text)
    except ValueError:
        return text


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def decode_form_value(name: str, raw: str) -> Any:
    """Decode one form field the way python-telegram-bot encoded it."""
    if name in STRING_PARAMS:
        return raw
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except ValueError:
        return raw


def _copy(obj: T) -> T:
    """A deep, JSON-clean copy (what a client would see on the wire)."""
    copied: T = json.loads(json.dumps(obj))
    return copied


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _header_params(value: str) -> tuple[str, dict[str, str]]:
    """Split a header like ``form-data; name="x"; filename="y"`` (RFC 2231 aware)."""
    msg = email.message.Message()
    msg["X"] = value
    params = msg.get_params(header="X") or []
    main = params[0][0] if params else ""
    out: dict[str, str] = {}
    for key, val in params[1:]:
        out[key.lower()] = email.utils.collapse_rfc2231_value(val)
    return main.lower(), out


def parse_multipart(body: bytes, content_type: str) -> tuple[JSONDict, list[UploadedFile]]:
    """Parse a ``multipart/form-data`` body into decoded fields and file parts."""
    _, ct_params = _header_params(content_type)
    boundary = ct_params.get("boundary")
    if not boundary:
        raise ApiError(400, "Bad Request: multipart boundary missing")
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    fields: JSONDict = {}
    files: list[UploadedFile] = []
    chunks = (b"\r\n" + body).split(delimiter)
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        # the delimiter line may carry transport padding before its CRLF
        _, _, part = chunk.partition(b"\r\n")
        head, sep, data = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, colon, val = line.partition(":")
            if colon:
                headers[key.strip().lower()] = val.strip()
        _, disp = _header_params(headers.get("content-disposition", ""))
        name = disp.get("name", "")
        # httpx escapes '"' as %22 inside quoted parameters
        name = name.replace("%22", '"')
        filename = disp.get("filename")
        if filename is not None:
            files.append(
                UploadedFile(
                    field_name=name,
                    filename=filename.replace("%22", '"'),
                    content_type=headers.get("content-type"),
                    data=data,
                )
            )
        else:
            fields[name] = decode_form_value(name, data.decode("utf-8"))
    return fields, files


def validate_html(text: str) -> None:
    """Reject HTML that Telegram would refuse (unknown tags, unbalanced tags)."""
    checker = _HtmlChecker()
    checker.feed(text)
    checker.close()
    if checker.error is None and checker.stack:
        checker.error = f'Can\'t find end tag corresponding to start tag "{checker.stack[-1]}"'
    if checker.error is not None:
        raise ApiError(400, f"Bad Request: can't parse entities: {checker.error}")


class _HtmlChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.error is not None:
            return
        if tag not in _ALLOWED_HTML_TAGS:
            self.error = f'Unsupported start tag "{tag}"'
            return
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.error is None:
            self.error = f'Unsupported start tag "{tag}"'

    def handle_endtag(self, tag: str) -> None:
        if self.error is not None:
            return
        if not self.stack or self.stack[-1] != tag:
            self.error = f'Unexpected end tag "{tag}"'
            return
        self.stack.pop()


def _visible_text(text: str, parse_mode: str | None) -> str:
    if parse_mode and parse_mode.upper() == "HTML":
        return html.unescape(re.sub(r"<[^>]+>", "", text))
    return text


# --------------------------------------------------------------------------- HTTP layer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    # socketserver's default listen backlog is 5: a burst of new connections from the bot
    # (dozens of concurrent replies) then overflows it and connections are refused or reset.
    request_queue_size = 256

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api
        self._conn_lock = threading.Lock()
        self._connections: set[socket] = set()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conn_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conn_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut down keep-alive connections so handler threads finish promptly."""
        with self._conn_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("error while handling request from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # avoid 40 ms delayed-ACK stalls on keep-alive
    timeout = 30  # idle keep-alive connections are dropped eventually

    _METHOD_RE = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z_]+)/?$")
    _FILE_RE = re.compile(r"^/file/bot(?P<token>[^/]+)/(?P<path>.+)$")

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        file_match = self._FILE_RE.match(path)
        if file_match:
            self._serve_file(file_match["token"], urllib.parse.unquote(file_match["path"]))
            return
        self._handle_method(path, query, b"")

    def do_POST(self) -> None:
        path, _, query = self.path.partition("?")
        self._handle_method(path, query, self._read_body())

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = bytearray()
            while True:
                size_line = self.rfile.readline()
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _parse_params(self, query: str, body: bytes) -> tuple[JSONDict, list[UploadedFile]]:
        params: JSONDict = {
            key: decode_form_value(key, val) for key, val in urllib.parse.parse_qsl(query, keep_blank_values=True)
        }
        files: list[UploadedFile] = []
        if not body:
            return params, files
        content_type = self.headers.get("Content-Type", "")
        main_type = content_type.split(";")[0].strip().lower()
        if main_type == "application/json":
            decoded = json.loads(body.decode("utf-8"))
            if not isinstance(decoded, dict):
                raise ApiError(400, "Bad Request: JSON body must be an object")
            params.update(decoded)
        elif main_type == "multipart/form-data":
            fields, files = parse_multipart(body, content_type)
            params.update(fields)
        else:
            for key, val in urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True):
                params[key] = decode_form_value(key, val)
        return params, files

    def _handle_method(self, path: str, query: str, body: bytes) -> None:
        match = self._METHOD_RE.match(path)
        if not match:
            self._send_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        try:
            params, files = self._parse_params(query, body)
        except (ApiError, ValueError) as exc:
            err = exc if isinstance(exc, ApiError) else ApiError(400, f"Bad Request: {exc}")
            self._send_json(err.error_code, err.payload())
            return
        for upload in files:
            params[upload.field_name] = upload
        status, payload = self.server.api.dispatch(match["token"], match["method"], params)
        self._send_json(status, payload)

    def _serve_file(self, token: str, file_path: str) -> None:
        data = self.server.api.file_bytes_by_path(file_path)
        if data is None:
            self._send_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        self._send_bytes(200, data, "application/octet-stream")

    def _send_json(self, status: int, payload: JSONDict) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self._send_bytes(status, data, "application/json")

    def _send_bytes(self, status: int, data: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            logger.debug("client went away before the response was written")
            self.close_connection = True


# --------------------------------------------------------------------------- the fake API

Handler = Callable[[str, JSONDict], Any]


class FakeBotApi:
    """A fake Telegram Bot API server; see the module docstring.

    Args:
        token: if given, only this bot token is accepted (others get 401).
        hang_seconds: how long a ``"hang"`` failure stalls before answering 502.
        max_long_poll: cap (seconds) on the ``getUpdates`` long-poll ``timeout``.
        strict: validate like Telegram does (empty/too-long texts, HTML markup,
            "message is not modified" on no-op edits).
        bot_first_name / bot_username: the identity returned by ``getMe``.
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        hang_seconds: float = 5.0,
        max_long_poll: float = 1.0,
        strict: bool = True,
        bot_first_name: str = "NewsBot",
        bot_username: str = "newsbot_test_bot",
    ) -> None:
        self.token = token
        self.hang_seconds = hang_seconds
        self.max_long_poll = max_long_poll
        self.strict = strict
        self.bot_first_name = bot_first_name
        self.bot_username = bot_username

        self._cond = threading.Condition(threading.RLock())
        self._stopping = threading.Event()
        self._long_polls_waiting = 0
        self._calls: list[Call] = []
        self._updates: list[JSONDict] = []
        self._update_ids = itertools.count(1)
        self._object_ids = itertools.count(1)
        self._next_message_id: dict[ChatKey, int] = {}
        self._messages: dict[tuple[ChatKey, int], JSONDict] = {}
        self._chats: dict[ChatKey, JSONDict] = {}
        self._users: dict[int, JSONDict] = {}
        self._files_by_id: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._commands: dict[str, list[JSONDict]] = {}
        self._fail_rules: list[_FailRule] = []
        self._blocked_chats: set[ChatKey] = set()
        self._webhook_url = ""
        self._last_token = token or ""

        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._handlers: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, func)
            for name, func in {
                "getMe": self._get_me,
                "logOut": self._true,
                "close": self._true,
                "getWebhookInfo": self._get_webhook_info,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getUpdates": self._get_updates,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "editMessageCaption": self._edit_message_caption,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._true,
                "answerInlineQuery": self._true,
                "sendChatAction": self._true,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "sendDocument": self._send_document,
                "sendPhoto": self._send_photo,
                "getFile": self._get_file,
            }.items()
        }

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeBotApi:
        """Bind 127.0.0.1:<ephemeral port> and serve from a daemon thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeBotApi:{self.port}",
            daemon=True,
        )
        self._thread.start()
        logger.debug("fake Bot API listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving; wakes long polls and hung requests so shutdown is prompt."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None
        logger.debug("fake Bot API stopped")

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port (server must be started)."""
        if self._server is None:
            raise RuntimeError("FakeBotApi is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """Pass as ``Bot(base_url=...)``; PTB appends the token."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Pass as ``Bot(base_file_url=...)``; PTB appends the token."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ------------------------------------------------------------------ recorded calls

    def calls(self, method: str | None = None) -> list[Call]:
        """All recorded calls (including failed ones), optionally of one method."""
        with self._cond:
            calls = list(self._calls)
        if method is None:
            return calls
        wanted = method.lower()
        return [c for c in calls if c.method.lower() == wanted]

    def sent_messages(self, chat_id: Any = None) -> list[JSONDict]:
        """Params of successful ``sendMessage`` calls, optionally for one chat."""
        key = None if chat_id is None else chat_key(chat_id)
        return [
            c.params
            for c in self.calls("sendMessage")
            if c.ok and (key is None or chat_key(c.params.get("chat_id")) == key)
        ]

    def sent_texts(self, chat_id: Any = None) -> list[str]:
        """Texts of successful ``sendMessage`` calls, optionally for one chat."""
        return [str(p.get("text", "")) for p in self.sent_messages(chat_id)]

    def clear_calls(self) -> None:
        """Forget recorded calls (state such as messages and files is kept)."""
        with self._cond:
            self._calls.clear()

    def message(self, chat_id: Any, message_id: int) -> JSONDict | None:
        """The current state of a stored message (after edits), or None if unknown/deleted."""
        with self._cond:
            msg = self._messages.get((chat_key(chat_id), int(message_id)))
            return _copy(msg) if msg is not None else None

    @property
    def long_polls_waiting(self) -> int:
        """``getUpdates`` calls inside the server now, waiting for an update or their timeout."""
        with self._cond:
            return self._long_polls_waiting

    def pending_updates(self) -> list[JSONDict]:
        """Updates queued and not yet confirmed by an ``offset``."""
        with self._cond:
            return list(self._updates)

    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """The command list stored by ``setMyCommands`` for a scope/language."""
        with self._cond:
            return list(self._commands.get(self._commands_key(scope, language_code), []))

    # ------------------------------------------------------------------ waiting helpers

    def wait_for(self, predicate: Callable[[], T], timeout: float = 15.0, message: str = "") -> T:
        """Poll ``predicate()`` until truthy and return its value; AssertionError on timeout.

        Blocks the calling thread: inside a coroutine that shares its event loop with a
        running ``Application`` use :meth:`wait_for_async` instead.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_message(predicate, timeout, message))
            time.sleep(0.01)

    async def wait_for_async(self, predicate: Callable[[], T], timeout: float = 15.0, message: str = "") -> T:
        """Like :meth:`wait_for` but yields to the event loop while polling."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_message(predicate, timeout, message))
            await asyncio.sleep(0.01)

    def wait_for_calls(self, method: str, count: int = 1, timeout: float = 15.0) -> list[Call]:
        """Wait until at least ``count`` calls of ``method`` were recorded; return them."""
        return self.wait_for(
            self._calls_predicate(method, count),
            timeout,
            f"expected >= {count} {method} call(s)",
        )

    async def wait_for_calls_async(self, method: str, count: int = 1, timeout: float = 15.0) -> list[Call]:
        """Async variant of :meth:`wait_for_calls`."""
        return await self.wait_for_async(
            self._calls_predicate(method, count),
            timeout,
            f"expected >= {count} {method} call(s)",
        )

    def wait_for_messages(self, chat_id: Any = None, count: int = 1, timeout: float = 15.0) -> list[JSONDict]:
        """Wait until ``count`` messages were successfully sent (to ``chat_id``)."""
        return self.wait_for(
            lambda: m if len(m := self.sent_messages(chat_id)) >= count else [],
            timeout,
            f"expected >= {count} sent message(s) to chat {chat_id}",
        )

    async def wait_for_messages_async(
        self, chat_id: Any = None, count: int = 1, timeout: float = 15.0
    ) -> list[JSONDict]:
        """Async variant of :meth:`wait_for_messages`."""
        return await self.wait_for_async(
            lambda: m if len(m := self.sent_messages(chat_id)) >= count else [],
            timeout,
            f"expected >= {count} sent message(s) to chat {chat_id}",
        )

    def _calls_predicate(self, method: str, count: int) -> Callable[[], list[Call]]:
        def predicate() -> list[Call]:
            found = self.calls(method)
            return found if len(found) >= count else []

        return predicate

    def _timeout_message(self, predicate: Callable[[], Any], timeout: float, message: str) -> str:
        what = message or getattr(predicate, "__qualname__", repr(predicate))
        recent = ", ".join(f"{c.method}[{c.outcome}]" for c in self.calls()[-15:])
        return f"timed out after {timeout:.2f}s waiting for {what}; recent calls: {recent or '-'}"

    # ------------------------------------------------------------------ failure injection

    def fail_next(
        self,
        method: str,
        kind: str | int,
        count: int = 1,
        retry_after: int = 1,
        chat_id: Any = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` (``"*"`` = any) fail.

        ``kind``: ``"429"`` (RetryAfter with ``retry_after``), ``"403"`` (bot blocked),
        ``"400"`` (bad request), ``"500"`` (server error) or ``"hang"`` (stall for
        ``hang_seconds`` then answer 502, with no side effects).  ``chat_id`` scopes the
        rule to calls whose ``chat_id`` parameter matches.
        """
        kind = str(kind)
        if kind not in FAILURE_KINDS:
            raise ValueError(f"unknown failure kind {kind!r}; expected one of {FAILURE_KINDS}")
        if count < 1:
            raise ValueError("count must be >= 1")
        rule = _FailRule(
            method=method.lower(),
            kind=kind,
            remaining=count,
            retry_after=retry_after,
            chat_id=None if chat_id is None else chat_key(chat_id),
        )
        with self._cond:
            self._fail_rules.append(rule)

    def block_chat(self, chat_id: Any) -> None:
        """Every send/edit/forward/copy to ``chat_id`` answers 403 until unblocked."""
        with self._cond:
            self._blocked_chats.add(chat_key(chat_id))

    def unblock_chat(self, chat_id: Any) -> None:
        """Undo :meth:`block_chat`."""
        with self._cond:
            self._blocked_chats.discard(chat_key(chat_id))

    def clear_failures(self) -> None:
        """Drop pending :meth:`fail_next` rules and blocked chats."""
        with self._cond:
            self._fail_rules.clear()
            self._blocked_chats.clear()

    def _take_failure(self, method: str, params: JSONDict) -> _FailRule | None:
        lowered = method.lower()
        raw_chat = params.get("chat_id")
        try:
            key = None if raw_chat is None else chat_key(raw_chat)
        except ApiError:
            key = None
        for rule in self._fail_rules:
            if rule.method not in ("*", lowered):
                continue
            if rule.chat_id is not None and rule.chat_id != key:
                continue
            rule.remaining -= 1
            if rule.remaining <= 0:
                self._fail_rules.remove(rule)
            return rule
        if key is not None and key in self._blocked_chats and lowered.startswith(_BLOCKABLE_PREFIXES):
            return _FailRule(lowered, "403", 1, 0, key)
        return None

    @staticmethod
    def _failure_error(rule: _FailRule) -> ApiError:
        if rule.kind == "429":
            return ApiError(
                429,
                f"Too Many Requests: retry after {rule.retry_after}",
                {"retry_after": rule.retry_after},
            )
        if rule.kind == "403":
            return ApiError(403, "Forbidden: bot was blocked by the user")
        if rule.kind == "400":
            return ApiError(400, "Bad Request: injected failure")
        if rule.kind == "500":
            return ApiError(500, "Internal Server Error: injected failure")
        return ApiError(502, "Bad Gateway")

    # ------------------------------------------------------------------ dispatch

    def dispatch(self, token: str, method: str, params: JSONDict) -> tuple[int, JSONDict]:
        """Handle one API call; returns (HTTP status, JSON body). Called by the HTTP layer."""
        started = time.time()
        entry = self._handlers.get(method.lower())
        name = entry[0] if entry else method
        self._last_token = token
        if self.token is not None and token != self.token:
            self._record(Call(name, params, started, token, "401"))
            return 401, ApiError(401, "Unauthorized").payload()
        if entry is None:
            self._record(Call(name, params, started, token, "404"))
            return 404, ApiError(404, "Not Found: method not found").payload()
        with self._cond:
            rule = self._take_failure(name, params)
        if rule is not None:
            self._record(Call(name, params, started, token, rule.kind))
            logger.debug("injecting %s failure into %s", rule.kind, name)
            if rule.kind == "hang":
                self._stopping.wait(self.hang_seconds)
            err = self._failure_error(rule)
            return err.error_code, err.payload()
        try:
            result = entry[1](token, params)
        except ApiError as err:
            self._record(Call(name, params, started, token, str(err.error_code)))
            return err.error_code, err.payload()
        self._record(Call(name, params, started, token, "ok"))
        return 200, {"ok": True, "result": result}

    def _record(self, call: Call) -> None:
        call = replace(call, answered=time.time())
        logger.debug("call %s %s -> %s", call.method, call.params, call.outcome)
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    # ------------------------------------------------------------------ objects

    def bot_user(self, token: str = "") -> JSONDict:
        """The bot's own User object (id taken from the token's numeric prefix)."""
        prefix = token.split(":", 1)[0]
        bot_id = int(prefix) if prefix.isdigit() else 100000
        return {
            "id": bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def user(self, user_id: int, **fields: Any) -> JSONDict:
        """A (registered or default) human User object; ``fields`` override/register."""
        with self._cond:
            current = self._users.get(user_id) or {
                "id": user_id,
                "is_bot": False,
                "first_name": f"User{user_id}",
                "username": f"user{user_id}",
                "language_code": "zh-hans",
            }
            if fields:
                current = {**current, **fields, "id": user_id}
                self._users[user_id] = current
            return dict(current)

    def chat(self, chat_id: Any, chat_type: str | None = None) -> JSONDict:
        """The Chat object for ``chat_id`` (remembered from updates, else inferred)."""
        key = chat_key(chat_id)
        with self._cond:
            known = self._chats.get(key)
            if known is not None and (chat_type is None or known["type"] == chat_type):
                return dict(known)
            chat = self._make_chat(key, chat_type)
            self._chats[key] = chat
            return dict(chat)

    def _make_chat(self, key: ChatKey, chat_type: str | None) -> JSONDict:
        if isinstance(key, str):
            username = key.lstrip("@")
            numeric = -1000000000000 - (sum(map(ord, username)) % 1000000)
            return {"id": numeric, "type": "channel", "title": username, "username": username}
        if chat_type is None:
            chat_type = "private" if key > 0 else ("supergroup" if str(key).startswith("-100") else "group")
        if chat_type == "private":
            return {
                "id": key,
                "type": "private",
                "first_name": f"User{key}",
                "username": f"user{key}",
            }
        return {"id": key, "type": chat_type, "title": f"Chat {key}"}

    def _new_message_id(self, key: ChatKey) -> int:
        with self._cond:
            next_id = self._next_message_id.get(key, 1)
            self._next_message_id[key] = next_id + 1
            return next_id

    def _bot_message(self, token: str, params: JSONDict, **content: Any) -> JSONDict:
        chat = self.chat(self._require(params, "chat_id"))
        key = chat_key(params["chat_id"])
        msg: JSONDict = {
            "message_id": self._new_message_id(key),
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot_user(token),
            **content,
        }
        if chat["type"] == "channel":
            msg.pop("from")
            msg["sender_chat"] = chat
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            msg["reply_markup"] = markup
        with self._cond:
            self._messages[(key, msg["message_id"])] = msg
        return _copy(msg)

    def store_file(
        self,
        data: bytes,
        file_name: str | None = None,
        mime_type: str | None = None,
        folder: str = "documents",
    ) -> StoredFile:
        """Register bytes so ``getFile`` + download return them."""
        n = next(self._object_ids)
        ext = ""
        if file_name and "." in file_name:
            ext = "." + file_name.rsplit(".", 1)[1]
        stored = StoredFile(
            file_id=f"FILE{n:06d}-{folder}",
            file_unique_id=f"U{n:06d}",
            file_path=f"{folder}/file_{n}{ext}",
            data=bytes(data),
            file_name=file_name,
            mime_type=mime_type,
        )
        with self._cond:
            self._files_by_id[stored.file_id] = stored
            self._files_by_path[stored.file_path] = stored
        return stored

    def file_bytes(self, file_id: str) -> bytes | None:
        """The stored bytes for ``file_id`` (e.g. what the bot uploaded)."""
        with self._cond:
            stored = self._files_by_id.get(file_id)
        return None if stored is None else stored.data

    def file_bytes_by_path(self, file_path: str) -> bytes | None:
        """The stored bytes served at ``/file/bot<TOKEN>/<file_path>``."""
        with self._cond:
            stored = self._files_by_path.get(file_path)
        return None if stored is None else stored.data

    @staticmethod
    def _document_object(stored: StoredFile) -> JSONDict:
        doc: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        if stored.file_name is not None:
            doc["file_name"] = stored.file_name
        if stored.mime_type is not None:
            doc["mime_type"] = stored.mime_type
        return doc

    # ------------------------------------------------------------------ updates

    def push_update(self, update: Mapping[str, Any]) -> JSONDict:
        """Queue an update for ``getUpdates``; assigns ``update_id`` and returns the update."""
        with self._cond:
            queued = {**update, "update_id": next(self._update_ids)}
            self._updates.append(queued)
            self._cond.notify_all()
        logger.debug("queued update %s", queued["update_id"])
        return dict(queued)

    def _user_message(
        self,
        chat_id: Any,
        user_id: int | None,
        chat_type: str | None,
        content: JSONDict,
    ) -> tuple[str, JSONDict]:
        chat = self.chat(chat_id, chat_type)
        key = chat_key(chat_id)
        if user_id is None:
            user_id = key if isinstance(key, int) and key > 0 else 1001
        msg: JSONDict = {
            "message_id": self._new_message_id(key),
            "date": int(time.time()),
            "chat": chat,
            **content,
        }
        kind = "message"
        if chat["type"] == "channel":
            kind = "channel_post"
            msg["sender_chat"] = chat
        else:
            msg["from"] = self.user(user_id)
        with self._cond:
            self._messages[(key, msg["message_id"])] = msg
        return kind, msg

    def message_update(
        self,
        chat_id: Any,
        text: str,
        user_id: int | None = None,
        chat_type: str = "private",
        entities: list[JSONDict] | None = None,
        **extra: Any,
    ) -> JSONDict:
        """Queue a text message from a user. A leading ``/command`` gets a bot_command entity.

        ``extra`` is merged into the Message object (e.g. ``reply_to_message=...``).
        """
        if entities is None and text.startswith("/"):
            command = text.split(maxsplit=1)[0] if text.strip() else text
            entities = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
        content: JSONDict = {"text": text}
        if entities:
            content["entities"] = entities
        content.update(extra)
        key = chat_key(chat_id)
        effective_type: str | None = chat_type
        if chat_type == "private" and not (isinstance(key, int) and key > 0):
            effective_type = None  # a negative id / @name cannot be a private chat
        kind, msg = self._user_message(chat_id, user_id, effective_type, content)
        return self.push_update({kind: msg})

    def edited_message_update(self, chat_id: Any, message_id: int, text: str, user_id: int | None = None) -> JSONDict:
        """Queue an edit of a user's earlier text message (an ``edited_message`` update)."""
        key = chat_key(chat_id)
        if user_id is None:
            user_id = key if isinstance(key, int) and key > 0 else 1001
        now = int(time.time())
        edited: JSONDict = {
            "message_id": int(message_id),
            "date": now - 1,
            "edit_date": now,
            "chat": self.chat(chat_id),
            "from": self.user(user_id),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            edited["entities"] = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
        return self.push_update({"edited_message": edited})

    def callback_update(self, chat_id: Any, message_id: int, data: str, user_id: int | None = None) -> JSONDict:
        """Queue a callback query pressed on ``message_id`` (the stored message if known)."""
        key = chat_key(chat_id)
        if user_id is None:
            user_id = key if isinstance(key, int) and key > 0 else 1001
        message = self.message(chat_id, message_id) or {
            "message_id": int(message_id),
            "date": int(time.time()),
            "chat": self.chat(chat_id),
            "from": self.bot_user(self._last_token),
            "text": "",
        }
        query: JSONDict = {
            "id": str(next(self._object_ids)),
            "from": self.user(user_id),
            "chat_instance": f"ci{key}",
            "message": message,
            "data": data,
        }
        return self.push_update({"callback_query": query})

    def inline_query_update(self, user_id: int, query: str, offset: str = "") -> JSONDict:
        """Queue an inline query from ``user_id``."""
        inline: JSONDict = {
            "id": str(next(self._object_ids)),
            "from": self.user(user_id),
            "query": query,
            "offset": offset,
            "chat_type": "sender",
        }
        return self.push_update({"inline_query": inline})

    def document_update(
        self,
        chat_id: Any,
        file_name: str,
        content: bytes,
        mime_type: str = "text/plain",
        caption: str | None = None,
        user_id: int | None = None,
    ) -> JSONDict:
        """Queue a document message; the bytes are stored for ``getFile`` + download."""
        stored = self.store_file(content, file_name, mime_type, folder="documents")
        body: JSONDict = {"document": self._document_object(stored)}
        if caption is not None:
            body["caption"] = caption
        kind, msg = self._user_message(chat_id, user_id, None, body)
        return self.push_update({kind: msg})

    def sticker_update(self, chat_id: Any, emoji: str = "👍", user_id: int | None = None) -> JSONDict:
        """Queue a (regular, static) sticker message."""
        stored = self.store_file(b"RIFF-fake-webp", "sticker.webp", "image/webp", "stickers")
        sticker: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
            "emoji": emoji,
            "file_size": len(stored.data),
        }
        kind, msg = self._user_message(chat_id, user_id, None, {"sticker": sticker})
        return self.push_update({kind: msg})

    def photo_update(
        self,
        chat_id: Any,
        caption: str | None = None,
        user_id: int | None = None,
        content: bytes = b"\xff\xd8\xff\xe0fake-jpeg",
    ) -> JSONDict:
        """Queue a photo message (two sizes, both backed by ``content``)."""
        sizes = []
        for width, height in ((90, 60), (800, 533)):
            stored = self.store_file(content, "photo.jpg", "image/jpeg", "photos")
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": width,
                    "height": height,
                    "file_size": len(content),
                }
            )
        body: JSONDict = {"photo": sizes}
        if caption is not None:
            body["caption"] = caption
        kind, msg = self._user_message(chat_id, user_id, None, body)
        return self.push_update({kind: msg})

    def voice_update(
        self,
        chat_id: Any,
        duration: int = 3,
        user_id: int | None = None,
        content: bytes = b"OggS-fake-voice",
    ) -> JSONDict:
        """Queue a voice message."""
        stored = self.store_file(content, "voice.oga", "audio/ogg", "voice")
        voice: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(content),
        }
        kind, msg = self._user_message(chat_id, user_id, None, {"voice": voice})
        return self.push_update({kind: msg})

    # ------------------------------------------------------------------ method implementations

    @staticmethod
    def _require(params: JSONDict, name: str) -> Any:
        value = params.get(name)
        if value is None or value == "":
            raise ApiError(400, f"Bad Request: {name} is empty")
        return value

    @staticmethod
    def _true(token: str, params: JSONDict) -> bool:
        return True

    def _get_me(self, token: str, params: JSONDict) -> JSONDict:
        return {
            **self.bot_user(token),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _get_webhook_info(self, token: str, params: JSONDict) -> JSONDict:
        with self._cond:
            return {
                "url": self._webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }

    def _set_webhook(self, token: str, params: JSONDict) -> bool:
        with self._cond:
            self._webhook_url = str(params.get("url") or "")
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    def _delete_webhook(self, token: str, params: JSONDict) -> bool:
        with self._cond:
            self._webhook_url = ""
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    def _get_updates(self, token: str, params: JSONDict) -> list[JSONDict]:
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, min(float(params.get("timeout") or 0), self.max_long_poll))
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._webhook_url:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif offset < 0:
                self._updates = self._updates[offset:]
            self._long_polls_waiting += 1
            try:
                while not self._updates and not self._stopping.is_set():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
            finally:
                self._long_polls_waiting -= 1
            return _copy(self._updates[:limit])

    def _check_text(self, text: Any, parse_mode: Any, limit: int, what: str) -> None:
        if not self.strict:
            return
        mode = parse_mode if isinstance(parse_mode, str) else None
        if mode and mode.upper() == "HTML":
            validate_html(str(text))
        visible = _visible_text(str(text), mode)
        if what == "text" and not visible.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if _utf16_len(visible) > limit:
            raise ApiError(
                400,
                "Bad Request: message is too long" if what == "text" else "Bad Request: message caption is too long",
            )

    def _send_message(self, token: str, params: JSONDict) -> JSONDict:
        self._require(params, "chat_id")
        text = params.get("text")
        if text is None or text == "":
            raise ApiError(400, "Bad Request: message text is empty")
        self._check_text(text, params.get("parse_mode"), _MAX_TEXT_LENGTH, "text")
        return self._bot_message(token, params, text=str(text))

    def _find_message(self, params: JSONDict) -> tuple[ChatKey, int, JSONDict] | None:
        """The stored message addressed by chat_id/message_id (synthesised if unknown)."""
        if params.get("inline_message_id"):
            return None
        key = chat_key(self._require(params, "chat_id"))
        message_id = int(self._require(params, "message_id"))
        with self._cond:
            msg = self._messages.get((key, message_id))
            if msg is None:
                msg = {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": self.chat(key),
                    "from": self.bot_user(self._last_token),
                }
                self._messages[(key, message_id)] = msg
        return key, message_id, msg

    def _apply_edit(self, params: JSONDict, changes: JSONDict) -> JSONDict | bool:
        found = self._find_message(params)
        if found is None:
            return True
        _, _, msg = found
        markup = params.get("reply_markup")
        with self._cond:
            new = {k: v for k, v in msg.items() if k != "reply_markup"}
            new.update(changes)
            if isinstance(markup, dict) and "inline_keyboard" in markup:
                new["reply_markup"] = markup
            unchanged = all(msg.get(k) == new.get(k) for k in ("text", "caption", "reply_markup"))
            if self.strict and unchanged:
                raise ApiError(
                    400,
                    "Bad Request: message is not modified: specified new message content "
                    "and reply markup are exactly the same as a current content and reply "
                    "markup of the message",
                )
            new["edit_date"] = int(time.time())
            msg.clear()
            msg.update(new)
            return _copy(msg)

    def _edit_message_text(self, token: str, params: JSONDict) -> JSONDict | bool:
        text = params.get("text")
        if text is None or text == "":
            raise ApiError(400, "Bad Request: text must be non-empty")
        self._check_text(text, params.get("parse_mode"), _MAX_TEXT_LENGTH, "text")
        return self._apply_edit(params, {"text": str(text)})

    def _edit_message_caption(self, token: str, params: JSONDict) -> JSONDict | bool:
        caption = str(params.get("caption") or "")
        self._check_text(caption, params.get("parse_mode"), _MAX_CAPTION_LENGTH, "caption")
        return self._apply_edit(params, {"caption": caption})

    def _edit_message_reply_markup(self, token: str, params: JSONDict) -> JSONDict | bool:
        return self._apply_edit(params, {})

    def _delete_message(self, token: str, params: JSONDict) -> bool:
        key = chat_key(self._require(params, "chat_id"))
        message_id = int(self._require(params, "message_id"))
        with self._cond:
            self._messages.pop((key, message_id), None)
        return True

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> str:
        scope_obj = scope if isinstance(scope, dict) else {"type": "default"}
        return json.dumps(scope_obj, sort_keys=True) + "|" + str(language_code or "")

    def _set_my_commands(self, token: str, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        with self._cond:
            self._commands[key] = [dict(c) for c in commands]
        return True

    def _get_my_commands(self, token: str, params: JSONDict) -> list[JSONDict]:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        with self._cond:
            return [dict(c) for c in self._commands.get(key, [])]

    def _delete_my_commands(self, token: str, params: JSONDict) -> bool:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        with self._cond:
            self._commands.pop(key, None)
        return True

    def _send_document(self, token: str, params: JSONDict) -> JSONDict:
        self._require(params, "chat_id")
        document = params.get("document")
        if isinstance(document, UploadedFile):
            stored = self.store_file(document.data, document.filename, document.content_type)
        elif isinstance(document, str) and document:
            with self._cond:
                existing = self._files_by_id.get(document)
            if existing is None:
                if document.startswith(("http://", "https://")):
                    name = document.rstrip("/").rsplit("/", 1)[-1] or None
                    stored = self.store_file(b"", name, None)
                else:
                    raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            else:
                stored = existing
        else:
            raise ApiError(400, "Bad Request: there is no document in the request")
        content: JSONDict = {"document": self._document_object(stored)}
        caption = params.get("caption")
        if caption:
            self._check_text(caption, params.get("parse_mode"), _MAX_CAPTION_LENGTH, "caption")
            content["caption"] = str(caption)
        return self._bot_message(token, params, **content)

    def _send_photo(self, token: str, params: JSONDict) -> JSONDict:
        """A photo upload (or a known file_id): the message carries one PhotoSize of the stored bytes."""
        self._require(params, "chat_id")
        photo = params.get("photo")
        if isinstance(photo, UploadedFile):
            if not photo.data:
                raise ApiError(400, "Bad Request: file must be non-empty")
            stored = self.store_file(photo.data, photo.filename, photo.content_type, folder="photos")
        elif isinstance(photo, str) and photo:
            with self._cond:
                existing = self._files_by_id.get(photo)
            if existing is None:
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            stored = existing
        else:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        width = height = 0
        if stored.data[:8] == b"\x89PNG\r\n\x1a\n" and len(stored.data) >= 24:  # IHDR: width, height
            width, height = int.from_bytes(stored.data[16:20], "big"), int.from_bytes(stored.data[20:24], "big")
        size: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "width": width,
            "height": height,
        }
        content: JSONDict = {"photo": [size]}
        caption = params.get("caption")
        if caption:
            self._check_text(caption, params.get("parse_mode"), _MAX_CAPTION_LENGTH, "caption")
            content["caption"] = str(caption)
        return self._bot_message(token, params, **content)

    def _get_file(self, token: str, params: JSONDict) -> JSONDict:
        file_id = str(self._require(params, "file_id"))
        with self._cond:
            stored = self._files_by_id.get(file_id)
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }


__all__ = [
    "STRING_PARAMS",
    "ApiError",
    "Call",
    "FakeBotApi",
    "StoredFile",
    "UploadedFile",
    "chat_key",
    "decode_form_value",
    "parse_multipart",
    "validate_html",
]
