"""``sentimon replay [run|clear|list|report]`` and ``sentimon backtest FILE...``.

A replay runs a time range of Kafka history (a backtest: JSONL/CSV files) through the live
pipeline into its own namespace (``bt:NAME``), optionally writing a report folder.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    replay = subparsers.add_parser(
        "replay",
        help="replay a time range of the topics into a backtest namespace (and clear/list them)",
        description="Replay history through the live pipeline into bt:NAME. "
        "Without an action: `replay run`.",
    )
    _run_options(replay, kafka=True)
    actions = replay.add_subparsers(dest="action", metavar="ACTION")
    run_parser = actions.add_parser("run", help="replay a range (the default action)")
    _run_options(run_parser, kafka=True)
    clear = actions.add_parser("clear", help="delete a backtest namespace's keys")
    clear.add_argument("name", help="NAME or bt:NAME")
    clear.add_argument("--force", action="store_true", help="also clear a non-backtest namespace")
    clear.add_argument(
        "--allow-live", action="store_true", help="permit clearing the live namespace"
    )
    clear.add_argument("--yes", action="store_true", help="confirm --allow-live")
    clear.add_argument("--json", action="store_true", help="print JSON")
    clear.set_defaults(func=run_clear)
    listing = actions.add_parser("list", help="backtest namespaces with their range and status")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=run_list)
    report = actions.add_parser("report", help="(re)write the report of an existing namespace")
    report.add_argument("name", help="NAME or bt:NAME")
    report.add_argument("--report", required=True, type=Path, metavar="DIR")
    _price_options(report)
    report.add_argument("--json", action="store_true", help="print the summary as JSON")
    report.set_defaults(func=run_report)

    backtest = subparsers.add_parser(
        "backtest",
        help="run JSONL/CSV files through the pipeline into a backtest namespace (no Kafka)",
    )
    backtest.add_argument("files", nargs="+", type=Path, metavar="FILE", help=".jsonl or .csv")
    backtest.add_argument(
        "--kind", default=None, help="source kind of every file (default: news*/social* by name)"
    )
    _run_options(backtest, kafka=False)


def _run_options(parser: argparse.ArgumentParser, *, kafka: bool) -> None:
    if kafka:
        parser.add_argument(
            "--topic", action="append", default=None, help="repeatable (default SENTIMON_TOPICS)"
        )
    parser.add_argument("--from", dest="start", default=None, help="ISO-8601 or epoch ms")
    parser.add_argument("--to", dest="end", default=None, help="ISO-8601 or epoch ms (exclusive)")
    parser.add_argument("--namespace", default=None, help="NAME -> bt:NAME (default: derived)")
    parser.add_argument("--rules", type=Path, default=None, help="alert rules file")
    parser.add_argument("--model", default=None, help="model directory or hub id")
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument("--speed", type=float, default=None, help="pace event time at X x real time")
    pace.add_argument("--fast", action="store_true", help="as fast as possible (the default)")
    if kafka:
        parser.add_argument(
            "--slack",
            default="1h",
            help="how far broker timestamps may differ from event times (default 1h)",
        )
        parser.add_argument(
            "--scan-all",
            action="store_true",
            help="read whole partitions (topics whose record timestamps are not event times)",
        )
    parser.add_argument(
        "--batch-span",
        default="5m",
        help="most event time one batch covers (default 5m; the report depends on it, "
        "not on the speed)",
    )
    parser.add_argument("--replace", action="store_true", help="clear the namespace first")
    parser.add_argument("--report", type=Path, default=None, metavar="DIR", help="write a report")
    _price_options(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run_replay if kafka else run_backtest)


def _price_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--prices", type=Path, default=None, help="CSV ticker,ts,price: forward returns"
    )
    parser.add_argument(
        "--market-proxy", default=None, help="price series for market-wide alerts (e.g. SPY)"
    )


# --- handlers --------------------------------------------------------------------------
def run_replay(args: argparse.Namespace) -> int:
    from sentimon.settings import get_settings

    settings = get_settings()
    topics = args.topic or list(settings.topics)
    spec = _spec(args, settings, labels=topics)
    spec.topics = topics
    spec.slack_ms = _duration_ms(args.slack, "--slack")
    spec.scan_all = args.scan_all
    return _execute(settings, spec, args)


def run_backtest(args: argparse.Namespace) -> int:
    from sentimon.settings import get_settings

    settings = get_settings()
    spec = _spec(args, settings, labels=[p.stem for p in args.files])
    spec.files = list(args.files)
    spec.kind = args.kind
    return _execute(settings, spec, args)


def run_clear(args: argparse.Namespace) -> int:
    from sentimon.cli.output import emit_json
    from sentimon.errors import ConfigError
    from sentimon.replay import namespaces
    from sentimon.settings import get_settings
    from sentimon.store.client import connect

    settings = get_settings()
    namespace = (
        args.name if args.name in ("live", settings.namespace) else namespaces.resolve(args.name)
    )
    client = connect(settings)
    if namespaces.is_live(namespace, settings.namespace) and not (args.allow_live and args.yes):
        raise ConfigError(
            f"{namespace!r} is the live namespace: refusing to clear it "
            "(if you really mean it: --allow-live --yes)"
        )
    kind = namespaces.read_meta(client, namespace).get("kind")
    if (
        kind != "backtest"
        and not args.force
        and not namespaces.is_live(namespace, settings.namespace)
    ):
        if not namespaces.exists(client, namespace):
            raise ConfigError(
                f"namespace {namespace!r} does not exist (see `sentimon replay list`)"
            )
        raise ConfigError(f"{namespace!r} is not a backtest namespace; pass --force to clear it")
    removed = namespaces.clear(client, namespace)
    if args.json:
        emit_json({"namespace": namespace, "keys_removed": removed})
    else:
        print(f"cleared {namespace}: {removed} keys")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from sentimon.cli.output import emit_json, emit_table
    from sentimon.replay import namespaces
    from sentimon.settings import get_settings
    from sentimon.store.client import connect

    settings = get_settings()
    rows = namespaces.listing(connect(settings), settings.namespace)
    if args.json:
        emit_json(rows)
    else:
        emit_table(
            rows, ["namespace", "kind", "status", "source", "from", "to", "scored", "alerts"]
        )
    return 0


def run_report(args: argparse.Namespace) -> int:
    import json

    from sentimon.errors import ConfigError
    from sentimon.replay import namespaces
    from sentimon.replay.report import write_report
    from sentimon.settings import get_settings
    from sentimon.store.client import connect

    settings = get_settings()
    namespace = namespaces.resolve(args.name)
    client = connect(settings)
    if not namespaces.exists(client, namespace):
        raise ConfigError(f"namespace {namespace!r} does not exist (see `sentimon replay list`)")
    meta = namespaces.read_meta(client, namespace)
    try:
        run = json.loads(meta.get("summary") or "{}")
    except ValueError:
        run = {}
    run = {k: v for k, v in run.items() if k not in ("tickers", "alerts", "files", "prices")}
    summary = write_report(
        client, namespace, args.report, run or {"namespace": namespace},
        prices=args.prices, market_proxy=args.market_proxy,
    )  # fmt: skip
    _print_summary(summary, args)
    return 0


# --- helpers -------------------------------------------------------------------------
def _spec(args: argparse.Namespace, settings: Any, *, labels: list[str]) -> Any:
    from sentimon.errors import ConfigError
    from sentimon.replay import namespaces
    from sentimon.replay.job import ReplaySpec
    from sentimon.replay.merge import TimeRange

    start, end = _time_ms(args.start, "--from"), _time_ms(args.end, "--to")
    try:
        span = TimeRange(start, end)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if args.speed is not None and args.speed <= 0:
        raise ConfigError("--speed must be > 0 (e.g. --speed 60 for one minute per second)")
    span_ms = _duration_ms(args.batch_span, "--batch-span")
    if span_ms < 1000:
        raise ConfigError("--batch-span must be at least 1s (e.g. 1m, 5m)")
    if args.namespace in ("live", settings.namespace):
        namespaces.refuse_live(args.namespace, settings.namespace)
    name = (
        namespaces.resolve(args.namespace)
        if args.namespace
        else namespaces.derived(labels, start, end)
    )
    return ReplaySpec(
        namespace=name,
        span=span,
        speed=args.speed,
        rules=args.rules,
        model=args.model,
        replace=args.replace,
        report_dir=args.report,
        prices=args.prices,
        market_proxy=args.market_proxy,
        progress=not args.no_progress,
        span_ms=span_ms,
    )


def _execute(settings: Any, spec: Any, args: argparse.Namespace) -> int:
    from sentimon.replay.job import run_replay as run_job

    if spec.prices is not None and not spec.prices.is_file():
        from sentimon.errors import ConfigError

        raise ConfigError(f"prices file {spec.prices} does not exist")
    summary = run_job(settings, spec)
    _print_summary(summary, args)
    return 0


def _time_ms(text: str | None, flag: str) -> int | None:
    from sentimon.contract import parse_ts
    from sentimon.errors import ConfigError

    if text is None:
        return None
    value = parse_ts(int(text) if text.strip().isdigit() else text)
    if not isinstance(value, int):
        raise ConfigError(f"{flag} {text!r}: {value.reason} (e.g. 2026-10-26T08:00:00Z)")
    return value


def _duration_ms(text: str, flag: str) -> int:
    from sentimon.alerts.durations import parse_duration
    from sentimon.errors import ConfigError

    try:
        return parse_duration(text) * 1000
    except ConfigError as exc:
        raise ConfigError(f"{flag}: {exc}") from None


def _print_summary(summary: dict[str, Any], args: argparse.Namespace) -> None:
    from sentimon.cli.output import emit_json

    if getattr(args, "json", False):
        emit_json(summary)
        return
    messages = summary.get("messages", {})
    rng = summary.get("range", {})
    throughput = summary.get("throughput", {})
    alerts = summary.get("alerts", {})
    lines = [
        f"namespace   {summary.get('namespace')}",
        f"range       {rng.get('from') or 'start'} .. {rng.get('to') or 'end'}",
        f"messages    read {messages.get('read')}, in range {messages.get('in_range')}, "
        f"scored {messages.get('scored')}, dlq {messages.get('dlq')}, "
        f"duplicates {messages.get('duplicates')}",
        f"alerts      {alerts.get('alerts')} alerts, {alerts.get('events')} events",
        f"throughput  {throughput.get('messages_per_s')} msg/s over {throughput.get('seconds')} s",
        f"model       {summary.get('model')}",
    ]
    if getattr(args, "report", None):
        lines.append(f"report      {args.report}")
    print("\n".join(lines), file=sys.stdout)
