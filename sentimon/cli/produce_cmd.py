"""``sentimon produce FILE --topic T``: publish JSONL/CSV records."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tqdm import tqdm

from consumers.produce import live, prepared, publish, read_records
from consumers.wiring import make_producer
from sentimon.cli.output import emit_json
from sentimon.settings import get_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("produce", help="publish JSONL or CSV records to a topic")
    parser.add_argument("file", type=Path, help="a .jsonl or .csv file")
    parser.add_argument("--topic", required=True, help="destination topic, e.g. news")
    parser.add_argument(
        "--rate", type=float, default=None, help="records per second (default: max)"
    )
    parser.add_argument(
        "--loop", action="store_true", help="repeat forever, shifted in time, fresh ids"
    )
    parser.add_argument("--limit", type=int, default=None, help="stop after N records")
    parser.add_argument(
        "--rebase-now",
        action="store_true",
        help="shift event times so the feed's last record is now (history looks recent)",
    )
    parser.add_argument(
        "--live",
        action="store_true",
        help="cycle through the file forever, stamping each record with the time it is sent",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    settings = get_settings()
    records = read_records(args.file)
    rebase = int(time.time() * 1000) if args.rebase_now else None
    if args.live:
        stream = live(records, run_id=f"{int(time.time())}")
    else:
        stream = prepared(records, loop=args.loop, end_ms=rebase)
    producer = make_producer(settings)
    total = args.limit or (None if args.loop or args.live else len(records))
    started = time.monotonic()
    with tqdm(total=total, unit="msg", file=sys.stderr, desc=f"-> {args.topic}") as bar:
        try:
            sent = publish(
                producer, args.topic, stream, rate=args.rate, limit=args.limit, progress=bar
            )
        finally:
            producer.close(timeout=10)
    elapsed = time.monotonic() - started
    if args.json:
        emit_json({"topic": args.topic, "sent": sent, "seconds": round(elapsed, 3)})
    return 0
