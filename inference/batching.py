"""Batch construction for fast inference: tokenize once, sort by length, cut by token budget.

All texts are tokenized in one call of the fast tokenizer (truncated at ``max_length``).
Rows are then sorted by their true length and cut into contiguous batches whose padded
size (rows x longest row) stays within a token budget; each batch is trimmed to its own
longest row (dynamic padding). The only Python loop runs once per batch, never per text.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Padded tokens per model call when the settings leave it to us: on a CPU small calls keep
#: their activations in cache and run faster than big ones; a GPU wants large batches
#: (the budget sweep is in bench/HISTORY.md).
CPU_TOKEN_BUDGET = 1024
CUDA_TOKEN_BUDGET = 16384


def token_budget(configured: int, device: str) -> int:
    """``configured`` if set (SENTIMON_TOKEN_BUDGET), else the device's default."""
    if configured:
        return configured
    return CUDA_TOKEN_BUDGET if device == "cuda" else CPU_TOKEN_BUDGET


@dataclass(frozen=True)
class Batch:
    """One model call: ``rows`` are positions in the input, ``inputs`` the padded arrays."""

    rows: np.ndarray
    inputs: dict[str, np.ndarray]

    @property
    def shape(self) -> tuple[int, int]:
        ids = self.inputs["input_ids"]
        return int(ids.shape[0]), int(ids.shape[1])


def encode(tokenizer: Any, texts: Sequence[str], max_length: int) -> dict[str, np.ndarray]:
    """Tokenize all texts at once, padded to the longest, as int64 numpy arrays."""
    enc = tokenizer(
        list(texts),
        truncation=True,
        max_length=max_length,
        padding=True,
        return_tensors="np",
    )
    return {key: np.asarray(value, dtype=np.int64) for key, value in enc.items()}


def cut_points(lengths: np.ndarray, token_budget: int, max_rows: int | None = None) -> list[int]:
    """Batch boundaries over ascending ``lengths``: each batch's rows x max length <= budget.

    A batch always holds at least one row, so a single row longer than the budget still runs.
    """
    n = int(lengths.shape[0])
    cuts = [0]
    start = 0
    while start < n:
        sizes = np.arange(1, n - start + 1)
        cost = sizes * lengths[start:]  # ascending lengths: cost of ending the batch here
        fits = int(np.searchsorted(cost, token_budget, side="right"))
        take = max(1, fits)
        if max_rows is not None:
            take = min(take, max_rows)
        start += take
        cuts.append(start)
    return cuts


def make_batches(
    encoded: dict[str, np.ndarray], token_budget: int, max_rows: int | None = None
) -> Iterator[Batch]:
    """Length-sorted, budget-bounded, dynamically padded batches of ``encoded``."""
    mask = encoded["attention_mask"]
    if mask.shape[0] == 0:
        return
    lengths = mask.sum(axis=1)
    order = np.argsort(lengths, kind="stable")
    sorted_lengths = lengths[order]
    cuts = cut_points(sorted_lengths, token_budget, max_rows)
    for lo, hi in itertools.pairwise(cuts):
        rows = order[lo:hi]
        width = max(1, int(sorted_lengths[hi - 1]))
        inputs = {key: value[rows, :width] for key, value in encoded.items()}
        yield Batch(rows=rows, inputs=inputs)


def scatter(batches: Sequence[tuple[np.ndarray, np.ndarray]], n: int, width: int) -> np.ndarray:
    """Put each batch's output rows back at their input positions."""
    out = np.zeros((n, width), dtype=np.float32)
    for rows, values in batches:
        out[rows] = values
    return out
