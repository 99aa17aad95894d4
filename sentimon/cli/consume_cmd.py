"""``sentimon consume``: run a consumer-group member until stopped or idle."""

from __future__ import annotations

import argparse
import logging

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "consume", help="consume the topics, score, write aggregates to Redis, commit"
    )
    parser.add_argument("--group", default=None, help="consumer group (default SENTIMON_GROUP)")
    parser.add_argument(
        "--until-idle",
        type=float,
        default=None,
        metavar="SECONDS",
        help="exit 0 after this many seconds without new records, counted once the member "
        "has partitions and has caught up to their end (a member assigned none exits after "
        "SENTIMON_ASSIGNMENT_WAIT_S)",
    )
    parser.add_argument("--namespace", default=None, help="Redis namespace (default live)")
    parser.add_argument("--metrics-port", type=int, default=None, help="serve /metrics, /healthz")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print a JSON summary at exit (records, first-poll-to-last-commit rate, peak RSS)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the consumer. SIGTERM/SIGINT: drain for at most ``SENTIMON_SHUTDOWN_GRACE_S``,
    then exit 0; a worker thread still stuck after that does not hold the process."""
    from consumers.service import exit_when_workers_stuck, run_consumer
    from sentimon.cli.output import emit_json
    from sentimon.settings import get_settings

    summary: dict[str, object] = {}
    code = run_consumer(
        get_settings(),
        group=args.group,
        until_idle_s=args.until_idle,
        namespace=args.namespace,
        metrics_port=args.metrics_port,
        summary=summary,
    )
    if args.json:
        emit_json(summary)
    exit_when_workers_stuck(code)
    return code
