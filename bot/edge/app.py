"""Building and running the Telegram application: handlers, start-up and shutdown hooks, the
error handler, long polling or a webhook, and keeping the bot token out of every log line.

`build_application` wires resident handlers (bot.edge.handlers), then the staff module's, then the
resident catch-alls, in the handler groups of bot.edge.routing; sets the `Defaults` every call
uses (HTML, no link previews); registers the typed context (bot.edge.context); and hands updates
to the per-conversation `ChatOrderedProcessor` (bot.edge.ordering).

`start_application`/`stop_application` run an application the way `run_polling` does
(including the start-up hooks) for tests and embedding; `run_bot` is what `newsbot run` calls.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import importlib.util
import logging
import re
import secrets
import urllib.parse

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import Forbidden, InvalidToken, NetworkError, TelegramError, TimedOut
from telegram.ext import ApplicationBuilder, ApplicationHandlerStop, Defaults
from telegram.request import HTTPXRequest

from bot.core import replies, subscriptions
from bot.core.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from bot.core.services import BotServices
from bot.core.settings import Settings
from bot.core.state import Database
from bot.edge import handlers, staff
from bot.edge.context import CONTEXT_TYPES, BotApplication, BotContext
from bot.edge.ordering import ChatOrderedProcessor
from bot.edge.request import RetryingRequest
from bot.edge.update_dedupe import UpdateClaims
from bot.edge.updates import TolerantBot
from index.maintenance import EngineHolder, open_engine

log = logging.getLogger(__name__)

# Conversations handled at the same time (one chat's updates run in order, bot.edge.ordering);
# each mostly waits on the network or a worker thread.
CONCURRENT_UPDATES = 64
# Every message is HTML without link previews, unless a call says otherwise.
DEFAULTS = Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True))
# Connections for ordinary calls (PTB's default); long polling has its own.
CONNECTION_POOL_SIZE = 256
WEBHOOK_EXTRA = "python-telegram-bot[webhooks]"

PRIVATE_COMMANDS = [
    BotCommand("start", "开始使用"),
    BotCommand("latest", "最新一期社区报"),
    BotCommand("subscribe", "订阅新一期推送"),
    BotCommand("unsubscribe", "退订"),
    BotCommand("mysubs", "我的订阅"),
    BotCommand("help", "怎么用"),
]
GROUP_COMMANDS = [BotCommand("ask", "提问，例如 /ask 垃圾分类")]


class WebhookUnavailable(ValueError):
    """`--webhook` needs python-telegram-bot's webhooks extra (tornado), which is not installed."""


class TokenFilter(logging.Filter):
    """Replaces the bot token in log records (messages, arguments and tracebacks) with a placeholder."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.secrets = [s for s in {token, token.partition(":")[2]} if len(s) >= 8]

    def redact(self, text: str) -> str:
        """The text with every secret replaced."""
        for secret in self.secrets:
            text = text.replace(secret, "<TOKEN>")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: logging reports it itself, and it has no token to hide
            return True
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set, so the traceback is redacted too.
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
        return True


def protect_token(token: str) -> TokenFilter:
    """Keep the token out of logs: quiet httpx (it logs request URLs) and redact every handler's output."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    token_filter = TokenFilter(token)
    for handler in root.handlers:
        handler.addFilter(token_filter)
    return token_filter


def open_services(settings: Settings) -> BotServices:
    """Load the index (building it when needed) and open the state database."""
    engine, report = open_engine(
        settings.corpus_dir, settings.index_dir, settings.index, settings.search, workers=settings.workers
    )
    if report.built:
        log.info("index built (%s)", report.reason)
    holder = EngineHolder(
        engine, settings.corpus_dir, settings.index_dir, settings.index, settings.search, settings.workers
    )
    return BotServices(settings, holder, Database(settings.state_url))


# --- the application ------------------------------------------------------------------------


async def on_error(update: object, context: BotContext) -> None:
    """Log a failed update and tell the resident, so no input ends in silence or a crash.

    It ends the update's journey (ApplicationHandlerStop): a later handler group must not
    answer an update whose handler failed a second time.
    """
    error = context.error
    chat_id = update.effective_chat.id if isinstance(update, Update) and update.effective_chat else None
    if isinstance(error, Forbidden):
        log.info("chat %s blocked the bot", chat_id)
        if chat_id is not None:
            await asyncio.to_thread(subscriptions.mark_blocked, context.services.db, chat_id)
        raise ApplicationHandlerStop
    if isinstance(error, TimedOut | NetworkError) and not isinstance(update, Update):
        log.warning("network trouble while fetching updates: %s", error)
        return
    log.error("update %s failed", getattr(update, "update_id", "-"), exc_info=error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(replies.ERROR)
        elif update.inline_query is not None:
            await update.inline_query.answer([], cache_time=5)
        elif chat_id is not None:
            await context.bot.send_message(chat_id, replies.ERROR)
    except TelegramError as exc:
        log.warning("could not tell chat %s about the failure: %s", chat_id, exc)
    raise ApplicationHandlerStop


async def on_startup(application: BotApplication) -> None:
    """After initialize: publish the command menus, then start the staff side."""
    bot = application.bot
    try:
        await bot.set_my_commands(PRIVATE_COMMANDS, scope=BotCommandScopeAllPrivateChats())
        await bot.set_my_commands(GROUP_COMMANDS, scope=BotCommandScopeAllGroupChats())
    except TelegramError as exc:
        log.warning("could not set the command menu: %s", exc)
    await staff.on_startup(application)
    log.info("bot @%s is ready", bot.username)


async def on_shutdown(application: BotApplication) -> None:
    """After shutdown: stop the staff side and close the database."""
    try:
        await staff.on_shutdown(application)
    finally:
        application.bot_data.services.db.close()


def build_application(services: BotServices, token: str) -> BotApplication:
    """The bot's Application: resident handlers, then staff handlers, then the resident catch-alls."""
    tg = services.settings.telegram
    bot = TolerantBot(
        token,
        base_url=tg.base_url,
        base_file_url=tg.base_file_url,
        request=RetryingRequest(connection_pool_size=CONNECTION_POOL_SIZE),
        get_updates_request=HTTPXRequest(connection_pool_size=1),
        defaults=DEFAULTS,
    )
    # Several workers: an update Telegram delivers twice is handled by one of them only.
    claims = UpdateClaims(services.db) if services.db.shared else None
    processor = ChatOrderedProcessor(CONCURRENT_UPDATES, claims)
    application: BotApplication = (
        ApplicationBuilder()
        .bot(bot)
        .context_types(CONTEXT_TYPES)
        .concurrent_updates(processor)
        .post_init(on_startup)
        .post_shutdown(on_shutdown)
        .build()
    )
    application.bot_data.attach(services)
    application.bot_data.processor = processor
    handlers.add_resident_handlers(application)
    staff.register(application)
    handlers.add_catch_all_handlers(application)
    application.add_error_handler(on_error)
    return application


async def start_application(application: BotApplication, polling: bool = True) -> None:
    """Initialise, run the start-up hook, start, and (by default) start long polling."""
    await application.initialize()
    await on_startup(application)
    await application.start()
    if polling:
        assert application.updater is not None
        services = application.bot_data.services
        await application.updater.start_polling(
            poll_interval=0,
            timeout=dtm.timedelta(seconds=services.settings.telegram.poll_timeout),
            allowed_updates=Update.ALL_TYPES,
        )


async def stop_application(application: BotApplication) -> None:
    """Stop polling and the application, shut it down, and run the shutdown hook."""
    try:
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
    finally:
        await application.shutdown()
        await on_shutdown(application)


# --- running --------------------------------------------------------------------------------


def _check_webhook(webhook_url: str) -> str:
    """The URL path to serve (raises ValueError on a bad URL or a missing webhooks extra).

    python-telegram-bot hands the path to tornado as a regular expression, so it is escaped: a
    path such as `/hook+v1` must match itself, and `/hook[1]` must not stop the server starting.
    Non-ASCII is percent-encoded, as it arrives in Telegram's requests.
    """
    if importlib.util.find_spec("tornado") is None:
        raise WebhookUnavailable(f"--webhook needs the webhooks extra: pip install '{WEBHOOK_EXTRA}'")
    parts = urllib.parse.urlsplit(webhook_url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(f"--webhook needs a full URL such as https://example.org/newsbot, not {webhook_url!r}")
    return re.escape(urllib.parse.quote(parts.path.strip("/"), safe="/%:@!$&'()*+,;=~"))


def _cannot_listen(listen: str, port: int) -> str | None:
    """Why the webhook server could not bind `listen:port` (None when it can).

    python-telegram-bot calls setWebhook (with this run's new secret token) before it binds the
    port. Checked first, a second instance started by mistake exits without re-pointing Telegram,
    instead of leaving the running instance rejecting every update for a secret it no longer has.
    """
    from tornado.netutil import bind_sockets

    try:
        sockets = bind_sockets(port, address=listen or None)
    except (OSError, OverflowError) as exc:  # in use, not permitted, no such address, port out of range
        return str(exc)
    for sock in sockets:
        sock.close()
    return None


def run_bot(settings: Settings, token: str, webhook_url: str | None = None) -> int:
    """Run the bot until interrupted: long polling, or a webhook with a secret token at `webhook_url`.

    Several workers may serve one webhook URL (behind a reverse proxy) when they share the state
    database (PostgreSQL) and `telegram.webhook_secret`: each calls setWebhook with the same URL
    and secret, and handles the updates the proxy gives it.
    """
    token_filter = protect_token(token)
    url_path = _check_webhook(webhook_url) if webhook_url else ""
    services = open_services(settings)
    application = build_application(services, token)
    tg = settings.telegram
    try:
        if webhook_url:
            problem = _cannot_listen(tg.webhook_listen, tg.webhook_port)
            if problem:
                log.error("cannot serve the webhook on %s:%s: %s", tg.webhook_listen, tg.webhook_port, problem)
                return EXIT_FAILED
            log.info("serving a webhook on %s:%s for %s", tg.webhook_listen, tg.webhook_port, webhook_url)
            if not tg.webhook_secret and services.db.shared:
                log.warning(
                    "no shared telegram.webhook_secret: a second worker on this database would re-point the "
                    "webhook with its own secret and this one would refuse every update"
                )
            application.run_webhook(
                listen=tg.webhook_listen,
                port=tg.webhook_port,
                url_path=url_path,
                webhook_url=webhook_url,
                secret_token=tg.webhook_secret or secrets.token_urlsafe(32),
                allowed_updates=Update.ALL_TYPES,
                bootstrap_retries=3,
            )
        else:
            application.run_polling(
                poll_interval=0,
                timeout=dtm.timedelta(seconds=tg.poll_timeout),
                allowed_updates=Update.ALL_TYPES,
                bootstrap_retries=3,
            )
    except InvalidToken:
        log.error("the Bot API rejected the token in TELEGRAM_BOT_TOKEN")
        return EXIT_USAGE
    except TelegramError as exc:
        log.error("cannot reach the Bot API at %s: %s", tg.base_url, token_filter.redact(str(exc)))
        return EXIT_FAILED
    finally:
        services.db.close()  # also when start-up failed before the shutdown hook could run
    return EXIT_OK
