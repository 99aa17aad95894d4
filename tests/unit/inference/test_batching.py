"""Batch construction: length-sorted, token-budget-bounded, dynamically padded, input order kept."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from inference.batched import BatchedScorer
from inference.batching import cut_points, make_batches


def encoded_with_lengths(lengths: list[int]) -> dict[str, np.ndarray]:
    width = max(lengths)
    mask = np.zeros((len(lengths), width), dtype=np.int64)
    for row, n in enumerate(lengths):
        mask[row, :n] = 1
    ids = mask * (np.arange(len(lengths))[:, None] + 1)  # row number as every token id
    return {"input_ids": ids, "attention_mask": mask}


def test_cut_points_keep_every_batch_within_budget():
    lengths = np.array(sorted([3, 5, 5, 8, 9, 12, 20, 20, 31, 40]))
    cuts = cut_points(lengths, token_budget=40)
    assert cuts[0] == 0 and cuts[-1] == len(lengths)
    for lo, hi in itertools.pairwise(cuts):
        assert hi > lo
        assert (hi - lo) * lengths[hi - 1] <= 40
        # greedy: one more row would have broken the budget
        if hi < len(lengths):
            assert (hi - lo + 1) * lengths[hi] > 40


def test_a_row_longer_than_the_budget_still_gets_a_batch():
    assert cut_points(np.array([50, 60]), token_budget=10) == [0, 1, 2]


def test_max_rows_caps_batch_size():
    assert cut_points(np.full(10, 2), token_budget=1000, max_rows=4) == [0, 4, 8, 10]


def test_batches_cover_each_row_once_sorted_and_trimmed():
    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 60, size=101).tolist()
    enc = encoded_with_lengths(lengths)
    seen: list[int] = []
    previous_width = 0
    for batch in make_batches(enc, token_budget=256):
        rows, width = batch.rows, batch.shape[1]
        assert width == max(lengths[r] for r in rows)  # dynamic padding: no extra columns
        assert width >= previous_width  # ascending length order
        assert batch.shape[0] * width <= 256 or batch.shape[0] == 1
        np.testing.assert_array_equal(batch.inputs["input_ids"][:, 0], rows + 1)
        previous_width = width
        seen.extend(rows.tolist())
    assert sorted(seen) == list(range(101))


class WordCountTokenizer:
    """Fake fast tokenizer: one token per word, ids = word lengths."""

    padding_side = "left"

    def __call__(self, texts, truncation, max_length, padding, return_tensors):
        rows = [[len(w) for w in t.split()][:max_length] or [1] for t in texts]
        width = max(len(r) for r in rows)
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = r
            mask[i, : len(r)] = 1
        return {"input_ids": ids, "attention_mask": mask}


class CountingScorer(BatchedScorer):
    """Logits encode the number of tokens, so every output row names its input row."""

    def __init__(self, **kw):
        super().__init__(WordCountTokenizer(), np.eye(3, dtype=np.float32), "fake@0", **kw)
        self.calls: list[tuple[int, int]] = []

    def forward(self, inputs, *, alone=True):
        self.calls.append(inputs["input_ids"].shape)
        n = inputs["attention_mask"].sum(axis=1).astype(np.float32)
        return np.stack([np.zeros_like(n), np.log(n), np.zeros_like(n)], axis=1)


def test_scores_come_back_in_input_order():
    texts = [" ".join(["w"] * n) for n in (7, 1, 30, 2, 2, 15, 4)]
    scorer = CountingScorer(max_length=128, token_budget=16)
    probs = scorer.score(texts).probs
    counts = np.array([7, 1, 30, 2, 2, 15, 4], dtype=np.float32)
    np.testing.assert_allclose(probs[:, 1], counts / (counts + 2), rtol=1e-5)
    assert len(scorer.calls) > 1  # the budget forced several batches
    assert scorer.tokenizer.padding_side == "right"


def test_truncation_at_max_length():
    scorer = CountingScorer(max_length=5, token_budget=1000)
    probs = scorer.score(["a " * 50]).probs
    assert probs[0, 1] == pytest.approx(5 / 7)


def test_empty_input_gives_empty_batch():
    batch = CountingScorer().score([])
    assert batch.probs.shape == (0, 3)
    assert batch.model_id == "fake@0"


def test_forward_is_told_whether_another_call_runs():
    import threading

    started, release = threading.Event(), threading.Event()
    seen: list[bool] = []

    class Blocking(CountingScorer):
        def forward(self, inputs, *, alone=True):
            seen.append(alone)
            if len(seen) == 1:
                started.set()
                release.wait(5)
            return super().forward(inputs, alone=alone)

    scorer = Blocking(max_length=128, token_budget=1024)
    first = threading.Thread(target=scorer.score, args=(["a b"],))
    first.start()
    assert started.wait(5)
    scorer.score(["c d e"])  # runs while the first call is inside forward
    release.set()
    first.join(5)
    scorer.score(["f"])
    assert seen == [True, False, True]
