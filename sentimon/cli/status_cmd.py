"""``sentimon status``: pipeline health for a person (or ``--json`` for a machine)."""

from __future__ import annotations

import argparse
import time
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("status", help="pipeline health: counters, DLQ, lag, model")
    parser.add_argument("--namespace", default=None)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def collect(settings: Any, namespace: str) -> dict[str, Any]:
    from sentimon.query import Query
    from sentimon.redis_client import connect

    query = Query(connect(settings), namespace)
    now_ms = int(time.time() * 1000)
    consumers = query.health()
    for snap in consumers.values():
        snap["age_s"] = round((now_ms - int(snap.get("ts", now_ms))) / 1000, 1)
    meta = query.meta()
    return {
        "namespace": namespace,
        "kafka": settings.kafka_bootstrap,
        "counters": query.counters(),
        "dlq": query.dlq_counts(),
        "model": meta.get("model"),
        "watermark_ms": int(meta["watermark_ms"]) if "watermark_ms" in meta else None,
        "consumers": consumers,
    }


def run(args: argparse.Namespace) -> int:
    from sentimon.cli.output import emit_json, emit_mapping
    from sentimon.settings import get_settings

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
        print(f"  {name}: {snap.get('rate')} rec/s, lag {lag}, last seen {snap['age_s']}s ago")
    return 0
