"""The shared scoring loop of every backend: encode, batch, run, softmax, map, reorder.

A backend only supplies :meth:`BatchedScorer.forward`, turning one padded batch of token
ids into logits; everything else (length-sorted token-budget batches, dynamic padding,
label mapping, input order) lives here so the backends agree by construction.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from inference.batching import CPU_TOKEN_BUDGET, encode, make_batches, scatter
from inference.scorer import LABELS, ScoreBatch

log = logging.getLogger(__name__)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits.astype(np.float32) - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True), dtype=np.float32)


class BatchedScorer(ABC):
    """Scorer over a tokenizer and a batch-at-a-time model call."""

    backend = "abstract"
    #: How many batches callers may score at once (see ``inference.scorer.concurrency_of``).
    concurrency = 1

    def __init__(
        self,
        tokenizer: Any,
        label_matrix: np.ndarray,
        model_id: str,
        *,
        max_length: int = 128,
        token_budget: int = CPU_TOKEN_BUDGET,
        max_rows: int | None = None,
    ) -> None:
        tokenizer.padding_side = "right"  # batches are trimmed on the right
        self.tokenizer = tokenizer
        self.label_matrix = label_matrix.astype(np.float32)
        self._model_id = model_id
        limit = getattr(tokenizer, "model_max_length", None)
        if isinstance(limit, int) and 0 < limit < max_length:
            log.info("max_length %d exceeds the tokenizer's %d: using %d", max_length, limit, limit)
            max_length = limit
        self.max_length = max_length
        self.token_budget = token_budget
        self.max_rows = max_rows
        # A fast tokenizer must not be called from two threads at once (its truncation
        # settings are mutated per call); the model runs themselves may overlap.
        self._encode_lock = threading.Lock()
        self._calls_lock = threading.Lock()
        self._active_calls = 0

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def num_model_labels(self) -> int:
        return int(self.label_matrix.shape[0])

    @abstractmethod
    def forward(self, inputs: dict[str, np.ndarray], *, alone: bool = True) -> np.ndarray:
        """Logits (rows, num_model_labels) for one padded batch; ``alone``: no other call
        of this scorer is running."""

    def model_probs(self, texts: Sequence[str]) -> np.ndarray:
        """Softmax probabilities in the model's own label order, rows in input order.

        ``forward`` learns whether the call runs alone (a serial caller: eval, replay, a
        consumer whose pipeline is not full) or beside others (a full pipeline scoring
        ``concurrency`` batches at once), so a backend can size its threads to match."""
        if not texts:
            return np.zeros((0, self.num_model_labels), dtype=np.float32)
        with self._encode_lock:
            encoded = encode(self.tokenizer, list(texts), self.max_length)
        with self._calls_lock:
            self._active_calls += 1
            alone = self._active_calls == 1
        try:
            results = [
                (batch.rows, softmax(self.forward(batch.inputs, alone=alone)))
                for batch in make_batches(encoded, self.token_budget, self.max_rows)
            ]
        finally:
            with self._calls_lock:
                self._active_calls -= 1
        return scatter(results, len(texts), self.num_model_labels)

    def score(self, texts: Sequence[str]) -> ScoreBatch:
        probs = self.model_probs(texts) @ self.label_matrix
        return ScoreBatch(probs=np.asarray(probs, dtype=np.float32), model_id=self._model_id)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._model_id!r}, labels={LABELS})"
