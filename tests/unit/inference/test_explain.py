"""Word attributions by occlusion and the deletion test, on a scorer whose answer is known:
each word adds a fixed amount to the positive or negative logit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from inference.explain import Occlusion, explain, without, word_spans
from inference.faithfulness import deletion_test, k_for
from inference.scorer import ScoreBatch

#: word -> (negative logit, positive logit) it adds; neutral's logit is fixed at 1.
LEXICON = {"plunges": (3.0, 0.0), "cuts": (1.5, 0.0), "beats": (0.0, 2.5), "raises": (0.0, 1.0)}


class AdditiveScorer:
    """Softmax of (sum of negative pulls, 1, sum of positive pulls) over the words."""

    model_id = "additive@test"

    def __init__(self) -> None:
        self.calls = 0

    def score(self, texts: Sequence[str]) -> ScoreBatch:
        self.calls += 1
        rows = []
        for text in texts:
            pulls = [LEXICON.get(w.strip(",.").lower(), (0.0, 0.0)) for w in text.split()]
            neg, pos = (sum(p[i] for p in pulls) for i in (0, 1))
            logits = np.array([neg, 1.0, pos])
            rows.append(np.exp(logits) / np.exp(logits).sum())
        return ScoreBatch(np.array(rows).reshape(-1, 3), self.model_id)


def test_words_are_spans_of_the_text_and_standalone_punctuation_is_not_a_word() -> None:
    text = "$ACME -- plunges 12%, cuts  guidance"
    spans = word_spans(text)
    assert [text[s:e] for s, e in spans] == ["$ACME", "plunges", "12%,", "cuts", "guidance"]
    assert without(text, spans, {1, 3}) == "$ACME -- 12%, guidance"


def test_occlusion_finds_the_words_that_move_the_score_in_one_call() -> None:
    scorer = AdditiveScorer()
    ex = Occlusion(scorer).explain("Acme plunges as it cuts guidance, analysts say")
    assert scorer.calls == 1
    assert ex.label == "negative" and ex.method == "occlusion" and ex.model_id == "additive@test"
    by_word = {w.word: w for w in ex.words}
    assert [w.word for w in ex.top(2)] == ["plunges", "cuts"]
    assert by_word["plunges"].score_weight < by_word["cuts"].score_weight < 0
    assert by_word["plunges"].label_weight > by_word["cuts"].label_weight > 0
    assert by_word["analysts"].score_weight == pytest.approx(0.0, abs=1e-12)
    assert ex.top(10)[-1].word == "cuts"  # words that change nothing are not "top"
    for w in ex.words:
        assert ex.text[w.start : w.end] == w.word


def test_pieces_rebuild_the_text_and_strength_is_relative_to_the_strongest_word() -> None:
    ex = Occlusion(AdditiveScorer()).explain("  Acme beats, then raises  ")
    assert "".join(piece for piece, _ in ex.pieces()) == ex.text
    strengths = {w.word: ex.strength(w) for w in ex.words}
    assert strengths["beats,"] == pytest.approx(1.0)
    assert 0 < strengths["raises"] < 1 and strengths["Acme"] == pytest.approx(0.0, abs=1e-9)


def test_explanations_are_deterministic_and_serialise() -> None:
    scorer = AdditiveScorer()
    first = explain("Acme beats estimates", scorer)
    assert first == explain("Acme beats estimates", scorer)
    data = first.as_json()
    assert set(data) == {"method", "model", "label", "confidence", "base_score", "words"}
    assert [w["word"] for w in data["words"]] == ["Acme", "beats", "estimates"]
    assert set(data["words"][0]) == {"word", "start", "end", "label_weight", "score_weight"}


def test_a_text_without_words_has_an_empty_explanation() -> None:
    ex = Occlusion(AdditiveScorer()).explain("-- !!")
    assert ex.words == () and ex.top() == [] and "".join(p for p, _ in ex.pieces()) == "-- !!"


def test_k_rules() -> None:
    assert [k_for("1", 9), k_for("3", 9), k_for("20%", 9), k_for("20%", 3)] == [1, 3, 2, 1]


def test_the_deletion_test_passes_faithful_explanations_and_fails_reversed_ones() -> None:
    scorer = AdditiveScorer()
    texts = [
        "Acme plunges after the chief executive cuts the outlook for the year",
        "Globex beats forecasts and raises its dividend for the third year running",
        "Initech shares plunge on weak demand as the company cuts jobs in Europe",
    ]
    explanations = [Occlusion(scorer).explain(t) for t in texts]
    result = deletion_test(scorer, explanations, "20%", draws=8, seed=1)
    assert (result.posts, result.skipped) == (3, 0)
    assert result.fraction == 1.0 and result.top_drop > result.random_drop
    assert result.as_json()["fraction"] == 1.0
    reversed_ = [
        type(ex)(**{**ex.__dict__, "words": tuple(
            type(w)(w.start, w.end, w.word, -w.label_weight, -w.score_weight) for w in ex.words
        )})
        for ex in explanations
    ]  # fmt: skip
    assert deletion_test(scorer, reversed_, "1", draws=8, seed=1).fraction == 0.0


def test_the_deletion_test_skips_posts_too_short_for_k() -> None:
    scorer = AdditiveScorer()
    result = deletion_test(scorer, [Occlusion(scorer).explain("Acme beats")], "2")
    assert (result.posts, result.skipped, result.fraction) == (0, 1, 0.0)
