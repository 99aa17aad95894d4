"""``sentimon alerts check|list|silence|unsilence|dispatch|dead|redrive``."""

from __future__ import annotations

import argparse
import getpass
import logging
import signal
import threading
import time
from datetime import UTC, datetime
from typing import Any

from sentimon import metrics
from sentimon.alerts.backoff import Backoff
from sentimon.alerts.dispatch import Dispatcher
from sentimon.alerts.durations import format_duration, parse_duration
from sentimon.alerts.group_store import GroupStore
from sentimon.alerts.history import AlertReader
from sentimon.alerts.outbox import Outbox
from sentimon.alerts.receiver_sinks import build_receivers
from sentimon.alerts.receivers import build_sinks
from sentimon.alerts.router import Router
from sentimon.alerts.routing import describe
from sentimon.alerts.rulefile import load_rules
from sentimon.alerts.silence_store import SilenceStore
from sentimon.alerts.silences import parse_matchers
from sentimon.cli.output import emit_json, emit_table
from sentimon.keys import Keys
from sentimon.settings import get_settings
from sentimon.store.client import connect
from sentimon.windows import format_window

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("alerts", help="alert rules, open alerts, silences, dispatcher")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="validate an alert rules file")
    check.add_argument(
        "file", nargs="?", default=None, help="default: SENTIMON_ALERT_RULES or the shipped rules"
    )
    listing = actions.add_parser("list", help="open alerts, recent history, silences, dead letters")
    listing.add_argument("--limit", type=int, default=20, help="history entries (default 20)")
    silence = actions.add_parser("silence", help="mute matching alerts for a while")
    silence.add_argument(
        "--match",
        action="append",
        required=True,
        metavar="LABEL=VALUE",
        help="rule, kind, severity, entity, ticker, sector, source, scope; = or !=, globs ok; "
        "repeatable",
    )
    silence.add_argument("--for", dest="duration", required=True, help="e.g. 30m, 2h, 1d")
    silence.add_argument("--reason", required=True)
    silence.add_argument("--by", default=None, help="who (default: the OS user)")
    unsilence = actions.add_parser("unsilence", help="end a silence now")
    unsilence.add_argument("silence_id")
    dispatch = actions.add_parser("dispatch", help="deliver outbox alerts to webhooks and Kafka")
    dispatch.add_argument("--once", action="store_true", help="deliver what is pending, then exit")
    dispatch.add_argument("--metrics-port", type=int, default=None, help="serve /metrics, /healthz")
    dispatch.add_argument(
        "--name", default="dispatcher", help="consumer name (unique per dispatcher)"
    )
    dead = actions.add_parser("dead", help="notices a sink gave up on, with the last error")
    dead.add_argument("--sink", default=None)
    dead.add_argument("--limit", type=int, default=20)
    redrive = actions.add_parser("redrive", help="queue a sink's dead letters for delivery again")
    redrive.add_argument("sink")
    redrive.add_argument("--limit", type=int, default=1000)
    for sub in (check, listing, silence, unsilence, dispatch, dead, redrive):
        if sub is not check:
            sub.add_argument("--namespace", default=None, help="default SENTIMON_NAMESPACE (live)")
        sub.add_argument("--json", action="store_true", help="print JSON")
        sub.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    handler = {
        "check": _check,
        "list": _list,
        "silence": _silence,
        "unsilence": _unsilence,
        "dispatch": _dispatch,
        "dead": _dead,
        "redrive": _redrive,
    }[args.action]
    return handler(args)


def _settings() -> Any:

    return get_settings()


def _client_keys(args: argparse.Namespace) -> tuple[Any, Any]:

    settings = _settings()
    return connect(settings), Keys(args.namespace or settings.namespace)


def _check(args: argparse.Namespace) -> int:

    settings = _settings()
    path = args.file if args.file is not None else settings.alert_rules
    rules = load_rules(path, min_relevance=settings.min_relevance, exchange=settings.exchange)
    rows = [
        {
            "name": r.name,
            "kind": r.kind,
            "scope": ",".join(r.scope),
            "window": format_window(r.window_s),
            "open": r.threshold,
            "resolve": r.resolve,
            "min_count": r.min_count,
            "min_relevance": r.min_relevance,
            "count": r.count,
            "severity": r.severity,
            "cooldown": format_duration(r.cooldown_s),
            "repeat": format_duration(r.repeat_s),
            "line": r.line,
        }
        for r in rules.rules
    ]
    routes = describe(rules.routing) if rules.routing is not None else []
    if args.json:
        emit_json(
            {
                "file": rules.source, "ok": True, "inhibit": rules.inhibit, "rules": rows,
                "routes": routes, "inhibit_rules": len(rules.inhibit_rules),
            }
        )  # fmt: skip
        return 0
    print(f"{rules.source}: OK, {len(rows)} rules (inhibit={'on' if rules.inhibit else 'off'})")
    emit_table(
        rows,
        [
            "name",
            "kind",
            "scope",
            "window",
            "open",
            "resolve",
            "min_count",
            "min_relevance",
            "count",
            "severity",
            "cooldown",
            "repeat",
        ],
    )
    if routes:
        print(f"\nrouting: {len(routes)} routes, {len(rules.inhibit_rules)} inhibition rules")
        emit_table(routes, ["route", "matchers", "receiver", "group_by", "continue", "mute"])
    return 0


def _list(args: argparse.Namespace) -> int:

    client, keys = _client_keys(args)
    reader = AlertReader(client, keys.namespace)
    now = int(time.time() * 1000)
    silences = [s.as_dict() | {"active": s.active(now)} for s in SilenceStore(client, keys).all()]
    data = {
        "namespace": keys.namespace,
        "open": reader.open_alerts(),
        "history": reader.history(args.limit),
        "silences": silences,
        "dead_letters": reader.dead_counts(),
        "outbox": reader.outbox(),
    }
    if args.json:
        emit_json(data)
        return 0
    _print_listing(data, keys.namespace)
    print(f"\noutbox: {data['outbox']}  dead letters: {data['dead_letters'] or 'none'}")
    return 0


def _print_listing(data: dict[str, Any], namespace: str) -> None:

    print(f"open alerts ({namespace}):")
    emit_table(
        [{**a, "opened": _iso(a["opened_ms"])} for a in data["open"]],
        ["id", "rule", "entity", "severity", "opened", "notices"],
    )
    print("\nrecent history (event time):")
    emit_table(
        [{**h, "time": _iso(h["ts"]), "sent": "yes" if h["notify"] else "no",
          "summary": h["payload"].get("summary", "")} for h in data["history"]],
        ["time", "status", "sent", "muted", "event", "summary"],
    )  # fmt: skip
    print("\nsilences:")
    emit_table(
        [{**s, "matchers": ",".join(s["matchers"]), "until": _iso(s["expires_ms"])}
         for s in data["silences"]],
        ["id", "active", "matchers", "until", "reason", "by"],
    )  # fmt: skip


def _silence(args: argparse.Namespace) -> int:

    matchers = parse_matchers(args.match)
    for_s = parse_duration(args.duration)
    client, keys = _client_keys(args)
    silence = SilenceStore(client, keys).add(matchers, for_s, args.reason, args.by or _user())
    if args.json:
        emit_json(silence.as_dict())
    else:
        print(
            f"silence {silence.id}: {', '.join(map(str, matchers))} until "
            f"{_iso(silence.expires_ms)} ({args.reason})"
        )
    return 0


def _unsilence(args: argparse.Namespace) -> int:

    client, keys = _client_keys(args)
    silence = SilenceStore(client, keys).expire(args.silence_id)
    if args.json:
        emit_json(silence.as_dict())
    else:
        print(f"silence {silence.id} expired at {_iso(silence.expires_ms)}")
    return 0


def _dispatch(args: argparse.Namespace) -> int:

    settings = _settings()
    client, keys = _client_keys(args)
    rules = load_rules(
        settings.alert_rules, min_relevance=settings.min_relevance, exchange=settings.exchange
    )
    router = None
    if rules.routing is None:
        sinks = build_sinks(settings)
    else:  # the rules file's [route]: its receivers instead of the settings' sinks
        routed = build_receivers(rules.routing, settings)
        sinks = routed.sinks
        router = Router(rules.routing, GroupStore(client, keys), routed.names)
    if not settings.webhook_secret and any("webhook-" in s.name for s in sinks):
        log.warning("SENTIMON_WEBHOOK_SECRET is not set: webhooks go out unsigned")
    backoff = Backoff(
        settings.dispatch_backoff_s, settings.dispatch_backoff_max_s, settings.dispatch_max_attempts
    )
    dispatcher = Dispatcher(Outbox(client, keys, args.name), sinks, backoff, router=router)
    log.info("dispatching %s alerts to %s", keys.namespace, "; ".join(s.describe() for s in sinks))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server = (
        metrics.serve(args.metrics_port, dispatcher.health)
        if args.metrics_port is not None
        else None
    )
    try:
        return dispatcher.run(stop, once=args.once)
    finally:
        if server is not None:
            server.close()
        log.info(
            "dispatcher stopped: %d delivered, %d dead-lettered, %d still pending",
            dispatcher.delivered,
            dispatcher.dead,
            len(dispatcher.inflight),
        )


def _dead(args: argparse.Namespace) -> int:

    client, keys = _client_keys(args)
    letters = AlertReader(client, keys.namespace).dead_letters(args.sink, args.limit)
    if args.json:
        emit_json(letters)
        return 0
    for sink, rows in sorted(letters.items()):
        print(f"{sink}:")
        emit_table(rows, ["event_id", "attempts", "failed_ms", "error"])
    if not letters:
        print("(no dead letters)")
    return 0


def _redrive(args: argparse.Namespace) -> int:

    client, keys = _client_keys(args)
    moved = Outbox(client, keys, "redrive").redrive(args.sink, args.limit)
    if args.json:
        emit_json({"sink": args.sink, "requeued": moved})
    else:
        print(f"requeued {moved} dead letters of {args.sink}")
    return 0


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def _iso(ms: int) -> str:

    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds")
