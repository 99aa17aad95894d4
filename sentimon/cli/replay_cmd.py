"""``sentimon replay [run|clear|list|report]`` and ``sentimon backtest FILE...``.

A replay runs a time range of Kafka history (a backtest: JSONL/CSV files) through the live
pipeline into its own namespace (``bt:NAME``), optionally writing a report folder. This
module parses arguments and prints; what each action does is ``sentimon.replay.api``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from sentimon.cli.output import emit_json, emit_table
from sentimon.replay.api import clear_namespace, list_namespaces, replay_spec, rewrite_report
from sentimon.replay.job import run_replay
from sentimon.settings import get_settings

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
    clear.set_defaults(func=cmd_clear)
    listing = actions.add_parser("list", help="backtest namespaces with their range and status")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=cmd_list)
    report = actions.add_parser("report", help="(re)write the report of an existing namespace")
    report.add_argument("name", help="NAME or bt:NAME")
    report.add_argument("--report", required=True, type=Path, metavar="DIR")
    _price_options(report)
    report.add_argument("--json", action="store_true", help="print the summary as JSON")
    report.set_defaults(func=cmd_report)

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
    parser.add_argument(
        "--outbox",
        action="store_true",
        default=None,
        help="queue alert notices for `sentimon alerts dispatch` (default: none)",
    )
    parser.add_argument("--report", type=Path, default=None, metavar="DIR", help="write a report")
    _price_options(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=cmd_replay if kafka else cmd_backtest)


def _price_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--prices", type=Path, default=None, help="CSV ticker,ts,price: forward returns"
    )
    parser.add_argument(
        "--market-proxy", default=None, help="price series for market-wide alerts (e.g. SPY)"
    )


# --- handlers --------------------------------------------------------------------------
def cmd_replay(args: argparse.Namespace) -> int:

    settings = get_settings()
    spec = replay_spec(
        settings, topics=args.topic, slack=args.slack, scan_all=args.scan_all, **_common(args)
    )
    _print_summary(run_replay(settings, spec), args)
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:

    settings = get_settings()
    spec = replay_spec(settings, files=args.files, kind=args.kind, **_common(args))
    _print_summary(run_replay(settings, spec), args)
    return 0


def cmd_clear(args: argparse.Namespace) -> int:

    namespace, removed = clear_namespace(
        get_settings(), args.name, force=args.force, allow_live=args.allow_live and args.yes
    )
    if args.json:
        emit_json({"namespace": namespace, "keys_removed": removed})
    else:
        print(f"cleared {namespace}: {removed} keys")
    return 0


def cmd_list(args: argparse.Namespace) -> int:

    rows = list_namespaces(get_settings())
    if args.json:
        emit_json(rows)
    else:
        emit_table(
            rows, ["namespace", "kind", "status", "source", "from", "to", "scored", "alerts"]
        )
    return 0


def cmd_report(args: argparse.Namespace) -> int:

    summary = rewrite_report(
        get_settings(), args.name, args.report, prices=args.prices, market_proxy=args.market_proxy
    )
    _print_summary(summary, args)
    return 0


# --- helpers -------------------------------------------------------------------------
def _common(args: argparse.Namespace) -> dict[str, Any]:
    """``replay_spec`` arguments shared by ``replay`` and ``backtest``."""
    return {
        "start": args.start,
        "end": args.end,
        "namespace": args.namespace,
        "speed": args.speed,
        "batch_span": args.batch_span,
        "rules": args.rules,
        "model": args.model,
        "replace": args.replace,
        "report": args.report,
        "prices": args.prices,
        "market_proxy": args.market_proxy,
        "progress": not args.no_progress,
        "outbox": args.outbox,
    }


def _print_summary(summary: dict[str, Any], args: argparse.Namespace) -> None:

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
