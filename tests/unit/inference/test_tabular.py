"""``sentimon.score``: texts, a Series or a DataFrame column -> one row per text."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from inference import tabular
from inference.scorer import ScoreBatch


class LengthScorer:
    """P(positive) grows with the text's length; records the size of every call."""

    model_id = "length@1:fake"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def score(self, texts: Sequence[str]) -> ScoreBatch:
        self.calls.append(len(texts))
        pos = np.array([min(len(t), 9) / 10 for t in texts])
        probs = np.stack([(1 - pos) * 0.3, (1 - pos) * 0.7, pos], axis=1)
        return ScoreBatch(probs, self.model_id)


def test_a_frame_column_scores_in_chunks_keeping_order_and_index(monkeypatch) -> None:
    monkeypatch.setattr(tabular, "CHUNK", 2)
    scorer = LengthScorer()
    frame = pd.DataFrame(
        {"headline": ["a", "abcdefghi", "abc", "ab", "abcde"]}, index=list("vwxyz")
    )
    scored = tabular.score(frame, column="headline", scorer=scorer)
    assert scorer.calls == [2, 2, 1]
    assert list(scored.index) == list("vwxyz")
    assert list(scored.columns) == ["label", "score", "negative", "neutral", "positive", "model"]
    assert scored.loc["w", "label"] == "positive" and scored.loc["v", "label"] != "positive"
    assert np.allclose(scored["positive"], [0.1, 0.9, 0.3, 0.2, 0.5])
    assert np.allclose(scored["score"], scored["positive"] - scored["negative"])
    assert set(scored["model"]) == {"length@1:fake"}


def test_plain_texts_get_a_range_index_and_an_empty_input_an_empty_frame() -> None:
    scored = tabular.score(iter(["abcdefghi", "a"]), scorer=LengthScorer())
    assert list(scored.index) == [0, 1] and list(scored["label"]) == ["positive", "neutral"]
    empty = tabular.score([], scorer=LengthScorer())
    assert empty.empty and list(empty.columns) == list(tabular.COLUMNS)


def test_a_missing_text_is_named_not_scored() -> None:
    scorer = LengthScorer()
    with pytest.raises(TypeError, match=r"text at 'b' is a float"):
        tabular.score(pd.Series(["x", None], index=["a", "b"]), scorer=scorer)
    assert scorer.calls == []
