"""A ``sentimon consume`` process with a near-free scorer, for the scaling check: it
shows what partitions, Kafka, decoding and Redis allow when inference is not the limit.
Bench-only; the product never uses this scorer."""

from __future__ import annotations

import json
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from consumers.service import run_consumer
from inference.scorer import ScoreBatch
from sentimon.logs import configure_logging
from sentimon.settings import get_settings


class HashScorer:
    """Deterministic pseudo-probabilities from a CRC of the text."""

    model_id = "bench-hash@0"

    def score(self, texts: Sequence[str]) -> ScoreBatch:
        seeds = np.array([zlib.crc32(t.encode()) for t in texts], dtype=np.uint64)
        raw = np.stack([(seeds >> s) % 97 + 1 for s in (0, 8, 16)], axis=1).astype(np.float64)
        return ScoreBatch(raw / raw.sum(axis=1, keepdims=True), self.model_id)


if __name__ == "__main__":
    configure_logging("WARNING")
    summary: dict[str, object] = {}
    run_consumer(get_settings(), scorer=HashScorer(), until_idle_s=3, summary=summary)
    print(json.dumps(summary))
