"""Explanations on a real (tiny) model: occlusion through the served scorer, integrated
gradients through Captum, and the deletion test over valid.csv posts."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.paths import DATA

pytestmark = pytest.mark.integration

TEXT = "$ACME shares plunge after the company cuts its profit forecast -- report"


@pytest.fixture(scope="module")
def scorer(tiny_model: Path) -> Any:
    from inference.loader import load_scorer
    from sentimon.settings import load_settings

    return load_scorer(load_settings(), model=str(tiny_model), backend="torch", device="cpu")


def test_occlusion_weights_are_what_removing_each_word_takes_away(scorer: Any) -> None:
    from inference.explain import Occlusion, without, word_spans

    ex = Occlusion(scorer).explain(TEXT)
    spans = word_spans(TEXT)
    assert [(w.start, w.end) for w in ex.words] == spans and len(spans) == 11  # not "--"
    assert all(TEXT[w.start : w.end] == w.word for w in ex.words)
    base = scorer.score([TEXT])
    assert ex.label == base.labels[0] and ex.base_score == pytest.approx(base.scores[0], abs=1e-6)
    i = 2  # "plunge"
    alone = scorer.score([without(TEXT, spans, {i})])
    assert ex.words[i].score_weight == pytest.approx(base.scores[0] - alone.scores[0], abs=1e-5)
    assert ex == Occlusion(scorer).explain(TEXT)  # deterministic


def test_integrated_gradients_agree_on_words_and_sum_to_the_score_change(scorer: Any) -> None:
    pytest.importorskip("captum")
    from inference.explain import Occlusion
    from inference.gradients import IntegratedGradients

    ig = IntegratedGradients(scorer, steps=64)
    ex = ig.explain(TEXT)
    occluded = Occlusion(scorer).explain(TEXT)
    assert [(w.start, w.end) for w in ex.words] == [(w.start, w.end) for w in occluded.words]
    assert (ex.label, ex.method) == (occluded.label, "integrated-gradients")
    weights = np.array([w.score_weight for w in ex.words])
    assert np.isfinite(weights).all() and np.abs(weights).max() > 0
    # completeness: the weights add up to the score's change from the all-padding baseline
    assert weights.sum() == pytest.approx(ex.base_score - baseline_score(scorer), abs=0.02)
    assert ex == ig.explain(TEXT)


def baseline_score(scorer: Any) -> float:
    """The score of the integration path's start: TEXT's word pieces all padding."""
    import torch

    enc = scorer.tokenizer(TEXT, return_special_tokens_mask=True, return_tensors="pt")
    pad = torch.full_like(enc["input_ids"], scorer.tokenizer.pad_token_id)
    ids = torch.where(enc["special_tokens_mask"].bool(), enc["input_ids"], pad)
    with torch.no_grad():
        logits = scorer.model(input_ids=ids, attention_mask=enc["attention_mask"]).logits
    probs = torch.softmax(logits, -1).numpy() @ scorer.label_matrix
    return float(probs[0, 2] - probs[0, 0])


def test_the_deletion_test_on_valid_posts_returns_a_fraction(scorer: Any) -> None:
    from inference.explain import Occlusion
    from inference.faithfulness import deletion_test
    from inference.training.dataset import read_labelled

    texts = random.Random(0).sample(list(read_labelled(DATA / "valid.csv").texts), 30)
    explanations = [Occlusion(scorer).explain(t) for t in texts]
    result = deletion_test(scorer, explanations, "20%", draws=5)
    assert result.posts + result.skipped == 30 and result.posts >= 25
    assert 0.5 < result.fraction <= 1.0  # far better than chance even on the tiny model
    assert result.top_drop > result.random_drop
