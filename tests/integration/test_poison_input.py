"""A post the scorer fails on (real Redis, the real batch processor): it is dead-lettered
with the error, the rest of its batch is applied once, and a redelivery changes nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from consumers.dlq import CollectingDeadLetters
from consumers.records import SourceRecord
from consumers.wiring import build_processor
from sentimon.errors import ModelError
from sentimon.store.query import Query
from sentimon.testing import FailingScorer
from tests.integration.feeds import T0

pytestmark = pytest.mark.integration


def tokenizer_bug() -> FailingScorer:
    """A scorer with a bug some texts trigger (as a tokenizer or runtime bug would)."""
    return FailingScorer(
        "\u2063",
        error=RuntimeError,
        message="index out of range in encode",
        probs=(0.6, 0.3, 0.1),
        model_id="buggy@1",
    )


def _records(n: int, poison: set[int]) -> list[SourceRecord]:
    def body(i: int) -> bytes:
        text = f"$ACME update {i}" + ("\u2063" if i in poison else "")
        return json.dumps({"id": f"p-{i}", "text": text, "ts": T0}).encode()

    return [SourceRecord("n", 0, i, T0, body(i)) for i in range(n)]


def _processor(stack: Any, scorer: FailingScorer) -> tuple[Any, CollectingDeadLetters, Query]:
    settings = stack.settings(namespace=f"t-{uuid.uuid4().hex[:8]}", topics=["n"])
    letters = CollectingDeadLetters()
    proc = build_processor(settings, scorer, dead_letters=letters, hooks=[])
    return proc, letters, Query(proc.sink.client, settings.namespace)


def test_poison_posts_are_dead_lettered_and_the_batch_applied_once(stack: Any) -> None:
    proc, letters, q = _processor(stack, tokenizer_bug())
    result = proc.process(_records(20, poison={4, 17}))
    assert (result.scored, result.invalid) == (18, 2)
    assert [(d.record.offset, d.reason) for d in letters.letters] == [
        (4, "scoring failed: RuntimeError: index out of range in encode"),
        (17, "scoring failed: RuntimeError: index out of range in encode"),
    ]
    counters = q.counters()
    assert (counters["records"], counters["scored"], counters["dlq"]) == (20, 18, 2)
    assert q.applied_offsets() == {"n:0": 19}
    again = proc.process(_records(20, poison={4, 17}))  # redelivered after a crash
    assert again.skipped == 20 and q.counters()["scored"] == 18 and len(letters.letters) == 2


def test_a_broken_scorer_fails_the_batch_without_dead_lettering_it(stack: Any) -> None:
    scorer = tokenizer_bug()
    scorer.broken = True
    proc, letters, q = _processor(stack, scorer)
    with pytest.raises(ModelError, match="broken, not the input"):
        proc.process(_records(5, poison=set()))
    assert letters.letters == [] and q.applied_offsets() == {}
