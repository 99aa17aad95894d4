"""``sentimon status``: pipeline health for a person (or ``--json`` for a machine)."""

from __future__ import annotations

import argparse
import time
from typing import Any
from urllib.parse import urlsplit

import redis

from sentimon.cli.output import emit_json, emit_mapping
from sentimon.errors import SentimonError
from sentimon.keys import META_MODEL, META_WATERMARK
from sentimon.settings import get_settings
from sentimon.store.client import connect, describe
from sentimon.store.query import Query


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("status", help="pipeline health: counters, DLQ, lag, model")
    parser.add_argument("--namespace", default=None)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def collect(settings: Any, namespace: str) -> dict[str, Any]:
    """Everything ``status`` shows; a Redis that does not answer is a ``SentimonError``
    naming it (host and port, never the password)."""

    query = Query(connect(settings), namespace)
    now_ms = int(time.time() * 1000)
    try:
        consumers = query.health()
        meta = query.meta()
        counters = query.counters()
        dlq = query.dlq_counts()
    except redis.RedisError as exc:
        raise SentimonError(
            f"cannot read status from Redis at {_where(settings)} ({describe(exc)}); "
            "is it running and reachable? Consumers keep retrying while it is down."
        ) from exc
    for snap in consumers.values():
        snap["age_s"] = round((now_ms - int(snap.get("ts", now_ms))) / 1000, 1)
    return {
        "namespace": namespace,
        "kafka": settings.kafka_bootstrap,
        "counters": counters,
        "dlq": dlq,
        "model": meta.get(META_MODEL),
        "watermark_ms": int(meta[META_WATERMARK]) if META_WATERMARK in meta else None,
        "consumers": consumers,
    }


def _where(settings: Any) -> str:
    url = urlsplit(settings.redis_url.get_secret_value())
    return f"{url.hostname or '?'}:{url.port or 6379}"


def redis_line(snap: dict[str, Any]) -> str:
    """A consumer's view of Redis, from its health snapshot: ok, unavailable since when
    and why, or ok after an outage (when it ended, how long, how many retries)."""
    state = snap.get("redis")
    if not isinstance(state, dict):
        return "redis: unknown"
    if not state.get("ok", True):
        return (
            f"redis: UNAVAILABLE since {_clock(state.get('since'))} "
            f"({state.get('error')}, {state.get('retries', 0)} retries)"
        )
    last = state.get("last_outage")
    if not isinstance(last, dict):
        return "redis: ok"
    return (
        f"redis: ok; last outage {_clock(last.get('since'))}-{_clock(last.get('until'))} "
        f"({last.get('seconds')}s, {last.get('retries', 0)} retries, {last.get('error')})"
    )


def _clock(ts: Any) -> str:
    return time.strftime("%H:%M:%S", time.localtime(float(ts))) if ts is not None else "?"


def run(args: argparse.Namespace) -> int:

    settings = get_settings()
    data = collect(settings, args.namespace or settings.namespace)
    if args.json:
        emit_json(data)
        return 0
    emit_mapping({k: v for k, v in data.items() if k not in ("counters", "consumers", "dlq")})
    print("\ncounters:")
    emit_mapping(data["counters"] or {"(none)": ""})
    print("\ndead-lettered per topic:")
    emit_mapping(data["dlq"] or {"(none)": 0})
    print("\nconsumers:")
    for name, snap in data["consumers"].items():
        lag = sum(snap.get("lag", {}).values())
        print(
            f"  {name}: {snap.get('rate')} rec/s, lag {lag}, last seen {snap['age_s']}s ago; "
            f"{redis_line(snap)}"
        )
    return 0
