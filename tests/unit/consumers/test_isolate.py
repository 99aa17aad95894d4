"""Poison input: the posts a scorer fails on are found and named; a broken scorer is not
mistaken for bad input."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from consumers.isolate import score_isolating
from inference.scorer import ScoreBatch
from sentimon.errors import ModelError, SinkError
from sentimon.testing import FailingScorer


class PickyScorer(FailingScorer):
    """Fails a whole call when any text in it contains ``POISON``; counts its calls."""

    def __init__(self, broken: bool = False) -> None:
        super().__init__("POISON", broken=broken, model_id="picky@1")


def test_the_failing_posts_are_named_and_the_rest_scored_in_order() -> None:
    texts = [f"post {i}" for i in range(16)]
    texts[3] = "POISON a"
    texts[11] = "b POISON"
    scorer = PickyScorer()
    items = list(range(16))
    out = score_isolating(scorer, items, texts, ValueError("first try"))
    assert [item for item, _ in out.failed] == [3, 11]
    assert all(why == "scoring failed: ValueError: tokenizer exploded" for _, why in out.failed)
    assert [item for item, *_ in out.scored] == [i for i in items if i not in (3, 11)]
    assert {(label, model) for _, label, _, model in out.scored} == {("positive", "picky@1")}
    assert scorer.calls <= 1 + 2 * 2 * 4 + 1  # canary + ~2 log2(16) calls per poison post


def test_a_scorer_that_fails_on_a_plain_sentence_is_reported_broken() -> None:
    with pytest.raises(ModelError, match="broken, not the input"):
        score_isolating(PickyScorer(broken=True), [0, 1], ["a", "b"], ValueError("x"))


def test_sentimon_errors_are_not_taken_for_poison() -> None:
    class Failing(PickyScorer):
        def score(self, texts: Sequence[str]) -> ScoreBatch:
            if len(texts) < 4:
                raise SinkError("not a scoring problem")
            return super().score(texts)

    with pytest.raises(SinkError):
        score_isolating(Failing(), list(range(4)), ["a", "b", "c", "POISON"], ValueError("x"))


def test_a_long_error_message_is_cut_for_the_reason_header() -> None:
    class Verbose(PickyScorer):
        def score(self, texts: Sequence[str]) -> ScoreBatch:
            if any("POISON" in t for t in texts):
                raise ValueError("bad input: " + "x" * 10_000)
            return super().score(texts)

    out = score_isolating(Verbose(), [0, 1], ["POISON", "fine"], ValueError("x"))
    [(_, why)] = out.failed
    assert why.startswith("scoring failed: ValueError: bad input: x") and len(why) == 500
