"""Entry point of the ``sentimon`` console script.

Each command group lives in its own module under ``sentimon.cli`` exposing
``register(subparsers)``; it sets ``func`` on its parser to the handler, which receives the
parsed arguments and returns an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from sentimon import __version__
from sentimon.errors import SentimonError
from sentimon.logs import configure_logging

log = logging.getLogger(__name__)

#: Command modules, in the order ``sentimon --help`` lists them.
COMMAND_MODULES = (
    "sentimon.cli.stack_cmd",
    "sentimon.cli.produce_cmd",
    "sentimon.cli.consume_cmd",
    "sentimon.cli.query_cmd",
    "sentimon.cli.score_cmd",
    "sentimon.cli.status_cmd",
    "sentimon.cli.config_cmd",
    "sentimon.cli.model_cmd",
    "sentimon.cli.topics_cmd",
    "sentimon.cli.alerts_cmd",
    "sentimon.cli.replay_cmd",
    "sentimon.cli.dashboard_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sentimon",
        description="Streaming financial-sentiment monitor: Kafka -> inference -> Redis.",
    )
    parser.add_argument("--version", action="version", version=f"sentimon {__version__}")
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (default INFO)")
    parser.add_argument("--log-json", action="store_true", help="log JSON lines to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = args.log_level or os.environ.get("SENTIMON_LOG_LEVEL", "INFO")
    configure_logging(level, json_format=args.log_json)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except SentimonError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
