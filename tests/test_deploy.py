"""deploy/ checked as far as this machine allows (no Docker daemon, no nginx): every command line
in the systemd unit and docker-compose.yml parses with the real `newsbot` parser, the workers
listen on distinct ports that the proxy configurations list, and they share one state and secret."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from bot.cli.commands import build_parser
from bot.core.settings import STATE_URL_ENV, TOKEN_ENV, WEBHOOK_SECRET_ENV

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def upstream_servers(conf: str) -> list[str]:
    block = re.search(r"upstream newsbot_workers \{(.*?)\}", conf, re.S)
    assert block is not None
    return re.findall(r"^\s*server\s+(\S+)", block.group(1), re.M)


def run_args(command: list[str]) -> list[str]:
    assert Path(command[0]).name == "newsbot" and command[1] == "run", command
    return command[1:]


def test_compose_runs_two_workers_on_one_state_behind_the_proxy() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"postgres", "index", "worker1", "worker2", "proxy"} <= set(services)
    ports = {}
    for name in ("worker1", "worker2"):
        worker = services[name]
        args = build_parser().parse_args(run_args(worker["command"]))
        assert args.webhook and args.port and args.listen == "0.0.0.0"
        ports[name] = args.port
        env = worker["environment"]
        assert {TOKEN_ENV, STATE_URL_ENV, WEBHOOK_SECRET_ENV} <= set(env)
        assert env[STATE_URL_ENV].startswith("postgresql://") and "@postgres:5432/" in env[STATE_URL_ENV]
        assert {"data:/app/data", "corpus:/app/corpus"} <= set(worker["volumes"])
        assert worker["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert worker["depends_on"]["index"]["condition"] == "service_completed_successfully"
    assert len(set(ports.values())) == 2
    assert services["worker1"]["environment"] == services["worker2"]["environment"]
    build_parser().parse_args(services["index"]["command"][1:])
    proxy_conf = (DEPLOY / "nginx" / "compose.conf").read_text(encoding="utf-8")
    assert sorted(upstream_servers(proxy_conf)) == sorted(f"{name}:{port}" for name, port in ports.items())
    assert "./nginx/compose.conf:/etc/nginx/conf.d/default.conf:ro" in services["proxy"]["volumes"]
    assert "'.[postgres]'" in (DEPLOY / "Dockerfile").read_text(encoding="utf-8")


def test_systemd_template_and_host_proxy_agree() -> None:
    unit = (DEPLOY / "newsbot@.service").read_text(encoding="utf-8")
    exec_start = re.search(r"^ExecStart=(.+)$", unit, re.M)
    assert exec_start is not None
    # What systemd runs for newsbot@8001, with the URL from the environment file.
    line = exec_start.group(1).replace("${NEWSBOT_WEBHOOK_URL}", "https://bot.example.org/hook")
    args = build_parser().parse_args(run_args(shlex.split(line.replace("%i", "8001"))))
    assert args.port == 8001 and args.listen == "127.0.0.1" and args.webhook
    assert "--port %i" in exec_start.group(1)
    assert "EnvironmentFile=/etc/newsbot/newsbot.env" in unit and "Restart=always" in unit
    enabled = re.findall(r"newsbot@(\d+)", unit)
    host = (DEPLOY / "nginx" / "newsbot.conf").read_text(encoding="utf-8")
    assert sorted(upstream_servers(host)) == sorted(f"127.0.0.1:{port}" for port in set(enabled))
    assert "proxy_next_upstream error timeout;" in host
    env = dict(
        line.split("=", 1)
        for line in (DEPLOY / "newsbot.env.example").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    assert {TOKEN_ENV, STATE_URL_ENV, WEBHOOK_SECRET_ENV, "NEWSBOT_WEBHOOK_URL"} <= set(env)
