"""``sentimon config show``: the effective settings, secrets masked, and where each came from."""

from __future__ import annotations

import argparse
import json
import os
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from sentimon.cli.output import emit_json, emit_table
from sentimon.settings import _config_file, load_settings

MASK = "**********"
_ENV_PREFIX = "SENTIMON_"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("config", help="show the effective configuration")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = actions.add_parser(
        "show",
        help="print every setting (secrets masked) and its source: env, file or default",
        description="Settings come from SENTIMON_* variables, then the TOML file "
        "(SENTIMON_CONFIG or ./sentimon.toml), then defaults. Secrets are always masked.",
    )
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    settings = load_settings()
    report = build_report(settings.masked(), _redis_display(settings.redis_url.get_secret_value()))
    if args.json:
        emit_json(report)
        return 0
    print(f"config file: {report['config_file'] or '(none)'}")
    rows = [
        {"setting": name, "value": _text(value), "source": report["sources"][name]}
        for name, value in report["settings"].items()
    ]
    emit_table(rows, ["setting", "value", "source"])
    return 0


def build_report(masked: dict[str, Any], redis_display: str) -> dict[str, Any]:
    """``masked`` is ``Settings.masked()``; ``redis_url`` is shown with only its password
    masked, so the host stays visible."""

    path = _config_file()
    values = dict(masked)
    if "redis_url" in values:
        values["redis_url"] = redis_display
    if values.get("webhook_urls"):
        # Webhook URLs often carry their token in the path (Slack, Teams): show the host only.
        values["webhook_urls"] = [_url_host_only(url) for url in values["webhook_urls"]]
    return {
        "config_file": str(path) if path else None,
        "settings": values,
        "sources": setting_sources(list(values), path),
    }


def setting_sources(names: list[str], path: Path | None) -> dict[str, str]:
    """``env`` (SENTIMON_<NAME>), ``file`` (the TOML file) or ``default``, in that priority."""
    env = {key.lower() for key in os.environ if key.upper().startswith(_ENV_PREFIX)}
    in_file = set(_toml_keys(path)) if path else set()
    out = {}
    for name in names:
        if f"{_ENV_PREFIX.lower()}{name}" in env:
            out[name] = "env"
        elif name in in_file:
            out[name] = "file"
        else:
            out[name] = "default"
    return out


def _toml_keys(path: Path) -> list[str]:
    with path.open("rb") as handle:
        return list(tomllib.load(handle))


def _text(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, list | dict) else value


def _url_host_only(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return MASK
    if not parts.hostname:
        return MASK
    rest = f"/{MASK}" if (parts.path.strip("/") or parts.query) else ""
    return f"{parts.scheme}://{parts.hostname}{port}{rest}"


def _redis_display(url: str) -> str:
    """The Redis URL with its password (userinfo or ``?password=``) replaced by the mask;
    user name, host, port and database stay visible. Anything unparsable is masked whole."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return MASK
    netloc = parts.netloc
    if parts.password is not None:
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        netloc = f"{parts.username or ''}:{MASK}@{host}{port}"
    query = urlencode(
        [
            (k, MASK if k.lower() == "password" else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="*",
    )
    shown = f"{parts.scheme}://{netloc}{parts.path}"
    return f"{shown}?{query}" if query else shown
