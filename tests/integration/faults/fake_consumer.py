"""``python -m tests.integration.faults.fake_consumer [--delay-s S] [--marker PATH]``

The consume service (``run_consumer``: the real Kafka source, loop, processor, Redis sink
and DLQ, signal handling included) with a deterministic scorer in place of a model, so
it starts in about a second. ``--delay-s`` makes every batch's scoring that slow (a batch
stays in flight); ``--marker`` gets a ``start N SIZE`` / ``end N`` line per batch.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from inference.scorer import ScoreBatch


class FakeScorer:
    """Probabilities from a hash of the text: stable across runs and batchings."""

    def __init__(self, delay_s: float = 0.0, marker: Path | None = None) -> None:
        self.delay_s = delay_s
        self.marker = marker
        self.batches = 0

    @property
    def model_id(self) -> str:
        return "fake-hash@1"

    def score(self, texts: Sequence[str]) -> ScoreBatch:
        self.batches += 1
        self._note(f"start {self.batches} {len(texts)}")
        time.sleep(self.delay_s)
        probs = np.array([_probs(t) for t in texts], dtype=np.float64).reshape(-1, 3)
        self._note(f"end {self.batches}")
        return ScoreBatch(probs, self.model_id)

    def _note(self, line: str) -> None:
        if self.marker is not None:
            with self.marker.open("a") as f:
                f.write(line + "\n")


def _probs(text: str) -> list[float]:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    weights = [b + 1 for b in digest[:3]]
    return [w / sum(weights) for w in weights]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delay-s", type=float, default=0.0)
    parser.add_argument("--marker", type=Path, default=None)
    args = parser.parse_args(argv)
    from consumers.service import run_consumer
    from sentimon.logs import configure_logging
    from sentimon.settings import get_settings

    configure_logging("INFO")
    return run_consumer(get_settings(), scorer=FakeScorer(args.delay_s, args.marker))


if __name__ == "__main__":
    sys.exit(main())
