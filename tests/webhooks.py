"""A webhook bot in a subprocess: `newsbot run --webhook URL` started and stopped as a service
manager would, and updates POSTed to it the way Telegram (or a reverse proxy) does."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bots import TOKEN

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
START_TIMEOUT = 30.0  # loading jieba and the index; usually about two seconds


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post(url: str, body: dict[str, Any] | bytes, secret: str | None) -> int:
    """POST an update the way Telegram does; returns the HTTP status."""
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code)


@dataclass
class BotProcess:
    """`newsbot run --webhook` running in a subprocess, its output going to a file."""

    process: subprocess.Popen[bytes]
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Send `sig` and wait for the exit status (killed, and failing, if it hangs)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
            raise AssertionError(f"the bot did not stop within {timeout}s:\n{self.output()}") from None


@dataclass
class Webhook:
    """Where the bot listens, and how to start bot processes serving it."""

    url: str
    port: int
    config: Path
    index: Path
    directory: Path
    processes: list[BotProcess]

    def start(self, name: str = "bot") -> BotProcess:
        log_path = self.directory / f"{name}.log"
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
        env.pop("NEWSBOT_CONFIG", None)
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bot.cli",
                    "run",
                    "--verbose",  # INFO logs: more lines in which a leaked token would show
                    "--config",
                    str(self.config),
                    "--index",
                    str(self.index),
                    "--webhook",
                    self.url,
                ],
                cwd=self.directory,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        running = BotProcess(process, log_path)
        self.processes.append(running)
        return running

    def wait_listening(self, bot: BotProcess, timeout: float = START_TIMEOUT) -> None:
        """Until the webhook server accepts connections (it binds right after setWebhook)."""
        deadline = time.monotonic() + timeout
        while True:
            assert bot.process.poll() is None, f"the bot exited ({bot.process.returncode}):\n{bot.output()}"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"nothing listens on port {self.port}:\n{bot.output()}") from None
                time.sleep(0.05)
