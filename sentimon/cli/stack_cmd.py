"""``sentimon stack up|down|status``: the embedded broker and Redis."""

from __future__ import annotations

import argparse
from pathlib import Path

from sentimon.cli.output import emit_json, emit_table
from sentimon.settings import DEFAULT_KAFKA_PORT, DEFAULT_REDIS_PORT, get_settings
from sentimon.stack import Stack


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("stack", help="start/stop the embedded Kafka broker and Redis")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, help_text in (
        ("up", "start broker and Redis, wait until both answer, create topics"),
        ("down", "stop what `stack up` started (nothing else)"),
        ("status", "report each service and its address"),
    ):
        sub = actions.add_parser(name, help=help_text)
        sub.add_argument("--kafka-port", type=int, default=DEFAULT_KAFKA_PORT)
        sub.add_argument("--redis-port", type=int, default=DEFAULT_REDIS_PORT)
        sub.add_argument("--state-dir", type=Path, default=Path(".sentimon"))
        sub.add_argument("--json", action="store_true", help="print JSON")
        sub.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    stack = Stack(args.kafka_port, args.redis_port, args.state_dir)
    if args.action == "up":
        stack.up(get_settings())
    elif args.action == "down":
        stopped = stack.down()
        if not args.json:
            print("stopped: " + (", ".join(stopped) or "nothing (no service of ours running)"))
    rows = stack.status()
    if args.json:
        emit_json(rows)
    elif args.action != "down":
        emit_table(rows, ["service", "address", "pid", "running", "answering"])
        if args.action == "up":
            print(f"\nexport SENTIMON_KAFKA_BOOTSTRAP={stack.bootstrap}")
            print(f"export SENTIMON_REDIS_URL={stack.redis_url}")
    return 0 if args.action == "down" or all(r["answering"] for r in rows) else 1
