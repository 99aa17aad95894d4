"""A ``sentimon consume`` process with a near-free scorer (``sentimon.testing.HashScorer``),
for the scaling check: it shows what partitions, Kafka, decoding and Redis allow when
inference is not the limit. Bench-only; the product never serves this scorer."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from consumers.service import Consumer
from consumers.source import KafkaSource
from sentimon.cli.consume_cmd import serve
from sentimon.logs import configure_logging
from sentimon.settings import get_settings
from sentimon.testing import HashScorer

_GATED_POLL_MS = 5


def hold_until_gate(path: str) -> None:
    """Bench only: fetch nothing until ``path`` exists (the member joins its group and
    reports its partitions meanwhile), so a timed run starts with the group settled and
    the data already on the broker."""
    poll = KafkaSource.poll

    def gated(self: KafkaSource, timeout_s: float) -> list:  # type: ignore[type-arg]
        if os.path.exists(path):
            return poll(self, timeout_s)
        self.pause_all()
        # Short polls while gated, so every member sees the gate within a few ms of the
        # others (a 100 ms idle poll would put up to that much skew inside the span).
        fetched = self.consumer.poll(timeout_ms=min(int(timeout_s * 1000), _GATED_POLL_MS))
        # Records fetched in the poll that joined the group (before its partitions could be
        # paused) are put back: the timed run reads them again.
        for tp, messages in fetched.items():
            self.consumer.seek(tp, messages[0].offset)
        return []

    KafkaSource.poll = gated  # type: ignore[method-assign]


if __name__ == "__main__":
    if os.environ.get("SENTIMON_BENCH_GATE"):
        hold_until_gate(os.environ["SENTIMON_BENCH_GATE"])
    configure_logging("WARNING")
    idle = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    consumer = Consumer(
        get_settings(), scorer=HashScorer(model_id="bench-hash@0"), until_idle_s=idle
    )
    serve(consumer)  # as `sentimon consume` runs it: signal handlers, switch interval
    print(json.dumps(consumer.summary))
