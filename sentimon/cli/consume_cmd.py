"""``sentimon consume``: run a consumer-group member until stopped or idle.

The library's consumer (``consumers.service.Consumer``) changes nothing process-wide; this
entry point owns the process: SIGTERM/SIGINT handlers that stop the consumer, the GIL
switch interval, and ``TOKENIZERS_PARALLELISM`` for a scorer that scores batches side by
side. ``serve`` is the part other entry points (the fault-test and bench consumers) share.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from typing import TYPE_CHECKING, Any

from consumers.service import Consumer, exit_when_workers_stuck
from inference.loader import scores_concurrently
from sentimon.cli.output import emit_json
from sentimon.settings import get_settings

if TYPE_CHECKING:
    from consumers.service import Consumer
    from sentimon.settings import Settings

log = logging.getLogger(__name__)

#: GIL switch interval of a consume process. Scorer threads come back from ONNX Runtime
#: (which runs without the GIL) needing the GIL for a moment; the default 5 ms interval
#: can leave a core idle that long while the writer thread runs Python, so a shorter one
#: hands the GIL back sooner (measured in ``bench/HISTORY.md``, run F).
SWITCH_INTERVAL_S = 0.001


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

    consumer = Consumer(
        get_settings(),
        group=args.group,
        until_idle_s=args.until_idle,
        namespace=args.namespace,
        metrics_port=args.metrics_port,
    )
    code = serve(consumer)
    if args.json:
        emit_json(consumer.summary)
    exit_when_workers_stuck(code)
    return code


def serve(consumer: Consumer) -> int:
    """Run ``consumer`` as this process's work: SIGTERM/SIGINT stop it (at once during
    start-up, else after draining), the GIL switch interval is ``SWITCH_INTERVAL_S`` and,
    where the consumer loads its own scorer, ``serial_tokenizer`` applies. For entry points
    only: what it sets stays for the process's life."""

    def on_signal(signum: int, _frame: Any) -> None:
        if not consumer.stopping:
            log.info("received %s", signal.Signals(signum).name)
        consumer.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    if consumer.scorer is None:
        serial_tokenizer(consumer.settings)
    return consumer.run()


def serial_tokenizer(settings: Settings) -> None:
    """Tokenize on the scoring threads when the scorer ``settings`` load scores batches
    side by side (ONNX Runtime on a CPU with two workers or more), unless the environment
    sets ``TOKENIZERS_PARALLELISM`` already (``export TOKENIZERS_PARALLELISM=true`` keeps
    the tokenizer's pool). Every core then already runs a batch; the fast
    tokenizer's own thread pool only adds threads competing for them (``bench/HISTORY.md``,
    lever 10). The ``tokenizers`` package
    has no per-tokenizer switch (its Rust thread pool reads this variable on every batch
    call), so the process sets it, here rather than in the library."""
    if "TOKENIZERS_PARALLELISM" in os.environ:
        return

    if scores_concurrently(settings):
        os.environ["TOKENIZERS_PARALLELISM"] = "false"
        log.info("tokenizing on the scoring threads (TOKENIZERS_PARALLELISM=false)")
