"""``sentimon topics create|describe``: provision and inspect topics on any Kafka cluster."""

from __future__ import annotations

import argparse

from sentimon.cli.output import emit_json, emit_table
from sentimon.settings import get_settings
from sentimon.topics import default_specs, describe_topics, ensure_topics

_CREATE_COLUMNS = ["topic", "status", "partitions", "requested_partitions", "replication", "detail"]
_DESCRIBE_COLUMNS = ["topic", "partitions", "replication", "retention_ms", "error"]


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "topics", help="create/describe the input, DLQ and alerts topics on the configured cluster"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser(
        "create",
        help="create missing topics (existing ones are left unchanged)",
        description="Create the input topics (SENTIMON_TOPICS), their .dlq topics and `alerts`. "
        "Idempotent: topics that exist are reported, never altered.",
    )
    create.add_argument(
        "--partitions",
        type=_positive,
        default=None,
        help="partitions of each input topic (default SENTIMON_PARTITIONS); DLQs/alerts get 1",
    )
    create.add_argument(
        "--replication", type=_positive, default=1, help="replication factor (default 1)"
    )
    create.add_argument(
        "--retention-ms",
        type=_positive,
        default=None,
        help="retention.ms for the new topics (default: the broker's)",
    )
    describe = actions.add_parser(
        "describe", help="partitions, replication and retention per topic"
    )
    describe.add_argument(
        "topics", nargs="*", help="topic names (default: every non-internal topic)"
    )
    for sub in (create, describe):
        sub.add_argument("--json", action="store_true", help="print JSON")
        sub.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    settings = get_settings()
    if args.action == "create":
        specs = default_specs(
            settings, args.replication, partitions=args.partitions, retention_ms=args.retention_ms
        )
        rows = [r.as_dict() for r in ensure_topics(settings, specs)]
        _emit(rows, _CREATE_COLUMNS, args.json)
        return 1 if any(r["status"] == "error" for r in rows) else 0
    rows = describe_topics(settings, args.topics or None)
    _emit(rows, _DESCRIBE_COLUMNS, args.json)
    return 1 if any(r["error"] for r in rows) else 0


def _emit(rows: list[dict], columns: list[str], as_json: bool) -> None:
    if as_json:
        emit_json(rows)
    else:
        emit_table(rows, columns)
