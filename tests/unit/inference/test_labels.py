"""Label mapping: a model's own id2label (or an explicit map) onto negative/neutral/positive."""

from __future__ import annotations

import numpy as np
import pytest

from inference.labels import label_matrix, parse_label_map, resolve_labels
from sentimon.errors import ConfigError, ModelError


@pytest.mark.parametrize(
    ("id2label", "expected"),
    [
        ({0: "negative", 1: "neutral", 2: "positive"}, ["negative", "neutral", "positive"]),
        ({0: "positive", 1: "negative", 2: "neutral"}, ["positive", "negative", "neutral"]),
        ({0: "Bearish", 1: "Bullish", 2: "Neutral"}, ["negative", "positive", "neutral"]),
        ({0: "NEG", 1: "NEU", 2: "POS"}, ["negative", "neutral", "positive"]),
        ({"1": "POSITIVE", "0": "NEGATIVE"}, ["negative", "positive"]),
    ],
)
def test_model_names_are_mapped_case_insensitively(id2label, expected):
    assert resolve_labels(id2label) == expected


def test_generic_names_need_an_explicit_map():
    with pytest.raises(ModelError, match="label-map"):
        resolve_labels({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})


def test_explicit_map_by_index_or_by_name_wins_over_the_config():
    generic = {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}
    by_index = {"0": "negative", "1": "positive", "2": "neutral"}
    by_name = {"label_0": "bearish", "LABEL_1": "bullish", "LABEL_2": "neutral"}
    assert resolve_labels(generic, by_index) == ["negative", "positive", "neutral"]
    assert resolve_labels(generic, by_name) == ["negative", "positive", "neutral"]
    swapped = {0: "negative", 1: "neutral", 2: "positive"}
    assert resolve_labels(swapped, {"0": "positive", "2": "negative"}) == [
        "positive",
        "neutral",
        "negative",
    ]


@pytest.mark.parametrize(
    "id2label",
    [
        {0: "negative", 1: "negative", 2: "positive"},  # duplicate
        {0: "neutral", 1: "positive"},  # no negative class
        {0: "negative", 1: "happy", 2: "positive"},  # unknown
    ],
)
def test_unmappable_labels_raise_model_error(id2label):
    with pytest.raises(ModelError):
        resolve_labels(id2label)


def test_matrix_reorders_probabilities_into_canonical_order():
    # FinBERT's order: positive, negative, neutral
    matrix = label_matrix({0: "positive", 1: "negative", 2: "neutral"})
    probs = np.array([[0.7, 0.1, 0.2], [0.05, 0.9, 0.05]], dtype=np.float32)
    np.testing.assert_allclose(probs @ matrix, [[0.1, 0.2, 0.7], [0.9, 0.05, 0.05]])


def test_binary_model_gets_zero_neutral():
    matrix = label_matrix({0: "negative", 1: "positive"})
    np.testing.assert_allclose(np.array([[0.3, 0.7]]) @ matrix, [[0.3, 0.0, 0.7]])


def test_parse_label_map_accepts_synonyms_and_rejects_junk():
    assert parse_label_map("0=bearish, 1=Bullish,2=neutral") == {
        "0": "negative",
        "1": "positive",
        "2": "neutral",
    }
    with pytest.raises(ConfigError):
        parse_label_map("0=negative,1")
    with pytest.raises(ConfigError):
        parse_label_map("0=angry")
