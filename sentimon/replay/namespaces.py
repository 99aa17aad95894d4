"""Backtest namespaces in Redis: naming, the live guard, metadata, listing and clearing.

A replay or file backtest writes under its own namespace (``bt:<name>``), never ``live``.
Its ``meta`` hash records what it was (``kind=backtest``, ``source``, ``status``, the
event-time range ``range_from_ms``/``range_to_ms``, topics or files, model, rules and
their sha256, and when finished a ``summary`` JSON), which is what the dashboard and
``sentimon replay list`` show.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import redis

from sentimon.errors import ConfigError
from sentimon.keys import REGISTRY, Keys

log = logging.getLogger(__name__)

PREFIX = "bt:"
LIVE = "live"
_NAMESPACE_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_UNLINK_CHUNK = 500


def resolve(name: str) -> str:
    """``NAME`` -> ``bt:NAME``; a name that already has a ``prefix:`` is kept as given."""
    text = name.strip()
    namespace = text if ":" in text else PREFIX + text
    if not _NAMESPACE_RE.match(namespace):
        raise ConfigError(f"namespace {namespace!r}: use 1-64 characters from A-Z a-z 0-9 _ . : -")
    return namespace


def is_live(namespace: str, live_namespace: str) -> bool:
    return namespace in (LIVE, live_namespace)


def refuse_live(namespace: str, live_namespace: str) -> None:
    if is_live(namespace, live_namespace):
        raise ConfigError(
            f"namespace {namespace!r} is the live namespace; replays and backtests write "
            "only to their own namespaces: pass --namespace NAME (it becomes bt:NAME)"
        )


def derived(labels: Sequence[str], from_ms: int | None, to_ms: int | None) -> str:
    """A default namespace from what is replayed, e.g. ``bt:news.social.20261026T0733Z-...``."""
    clean = [re.sub(r"[^A-Za-z0-9_-]+", "_", label) for label in labels] or ["all"]
    base = f"{'.'.join(clean)}.{_stamp(from_ms, 'start')}-{_stamp(to_ms, 'end')}"
    if len(PREFIX) + len(base) > 64:
        digest = hashlib.sha1(base.encode()).hexdigest()[:8]
        base = f"{base[: 64 - len(PREFIX) - 9]}.{digest}"
    return PREFIX + base


def _stamp(ms: int | None, missing: str) -> str:
    if ms is None:
        return missing
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y%m%dT%H%M%SZ")


def exists(client: redis.Redis, namespace: str) -> bool:
    """Whether anything was written to the namespace (registry, meta, stats, offsets)."""
    keys = Keys(namespace)
    if client.sismember(REGISTRY, namespace):
        return True
    return bool(client.exists(keys.meta, keys.stats, keys.offsets))


def clear(client: redis.Redis, namespace: str) -> int:
    """Delete every key of the namespace (SCAN + UNLINK) and unregister it; returns keys removed."""
    removed = 0
    chunk: list[str] = []
    for key in client.scan_iter(match=Keys(namespace).pattern(), count=1000):
        chunk.append(key)
        if len(chunk) >= _UNLINK_CHUNK:
            removed += int(client.unlink(*chunk))
            chunk = []
    if chunk:
        removed += int(client.unlink(*chunk))
    client.srem(REGISTRY, namespace)
    log.info("cleared namespace %s (%d keys)", namespace, removed)
    return removed


def write_meta(client: redis.Redis, namespace: str, fields: Mapping[str, Any]) -> None:
    """Set meta fields (values JSON-encoded unless they are strings or numbers)."""
    encoded: dict[Any, Any] = {k: _encode(v) for k, v in fields.items() if v is not None}
    if encoded:
        client.hset(Keys(namespace).meta, mapping=encoded)


def _encode(value: Any) -> str | int | float:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str | int | float):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def read_meta(client: redis.Redis, namespace: str) -> dict[str, str]:
    raw: Any = client.hgetall(Keys(namespace).meta)
    return {str(k): str(v) for k, v in raw.items()}


def listing(client: redis.Redis, live_namespace: str) -> list[dict[str, Any]]:
    """Every registered namespace except the live one, with its backtest metadata."""
    rows = []
    for namespace in sorted(str(m) for m in client.smembers(REGISTRY)):
        if is_live(namespace, live_namespace):
            continue
        meta = read_meta(client, namespace)
        summary = _json(meta.get("summary"))
        messages = summary.get("messages", {}) if isinstance(summary, dict) else {}
        rows.append(
            {
                "namespace": namespace,
                "kind": meta.get("kind", "other"),
                "status": meta.get("status"),
                "source": meta.get("source"),
                "from": _iso(meta.get("range_from_ms")),
                "to": _iso(meta.get("range_to_ms")),
                "scored": messages.get("scored"),
                "alerts": summary.get("alerts", {}).get("events")
                if isinstance(summary, dict)
                else None,
                "model": meta.get("model"),
                "created_ms": _int(meta.get("created_ms")),
            }
        )
    return rows


def _json(raw: str | None) -> Any:
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return {}


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError:
        return None


def _iso(raw: str | None) -> str | None:
    ms = _int(raw)
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds")
