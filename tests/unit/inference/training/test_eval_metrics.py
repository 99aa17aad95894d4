"""Metrics and evaluation on small labelled files whose answers are worked out by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inference.training import scores as metrics
from inference.training.dataset import read_labelled, to_label_ids
from inference.training.evaluate import evaluate, format_report
from sentimon.errors import ConfigError
from sentimon.testing import KeywordScorer

NEG, NEU, POS = 0, 1, 2


def test_report_matches_hand_computed_values():
    truth = np.array([NEG, NEG, NEU, NEU, NEU, POS])
    pred = np.array([NEG, NEU, NEU, NEU, POS, POS])
    report = metrics.report(truth, pred)
    assert report["n"] == 6
    assert report["accuracy"] == pytest.approx(4 / 6)
    # negative: P=1/1 R=1/2 F1=2/3; neutral: P=2/3 R=2/3 F1=2/3; positive: P=1/2 R=1 F1=2/3
    assert report["per_class"]["negative"] == pytest.approx(
        {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2}
    )
    assert report["per_class"]["positive"]["precision"] == pytest.approx(0.5)
    assert report["macro_f1"] == pytest.approx(2 / 3)
    assert report["confusion_matrix"]["rows_true_cols_pred"] == [[1, 1, 0], [0, 2, 1], [0, 0, 1]]


def test_macro_f1_ignores_classes_absent_from_truth_and_predictions():
    assert metrics.macro_f1(np.array([NEG, POS]), np.array([NEG, POS])) == 1.0
    assert metrics.macro_f1(np.array([NEG, NEG]), np.array([POS, POS])) == 0.0


def test_labels_as_names_or_integers():
    assert to_label_ids(["Bearish", "neutral", "BULLISH", "positive"]).tolist() == [0, 1, 2, 2]
    # integers default to the twitter-financial-news convention: 0 bearish, 1 bullish, 2 neutral
    assert to_label_ids(["0", "1", "2"]).tolist() == [NEG, POS, NEU]
    assert to_label_ids(
        ["0", "1", "2"], {"0": "negative", "1": "neutral", "2": "positive"}
    ).tolist() == [NEG, NEU, POS]
    with pytest.raises(ConfigError, match="row 3"):
        to_label_ids(["negative", "meh"])


def test_csv_needs_text_and_label_columns(tmp_path: Path):
    bad = tmp_path / "bad.csv"
    bad.write_text("body,sentiment\nx,negative\n")
    with pytest.raises(ConfigError, match="text,label"):
        read_labelled(bad)


def keyword_scorer() -> KeywordScorer:
    """Predicts by keyword, so the right answers on any file are known in advance."""
    row = {label: [0.8 if i == label else 0.1 for i in range(3)] for label in (NEG, NEU, POS)}
    return KeywordScorer(
        {"down": row[NEG], "up": row[POS]}, row[NEU], model_id="keywords@1", dtype=np.float32
    )


def test_evaluate_on_a_known_file(tmp_path: Path):
    path = tmp_path / "known.csv"
    path.write_text(
        "text,label\n"
        "shares down,negative\n"  # right
        "shares up,positive\n"  # right
        "shares flat,neutral\n"  # right
        "shares up,neutral\n"  # wrong: predicted positive
        '"down, a lot",bearish\n'  # right (quoted comma)
    )
    report = evaluate(keyword_scorer(), read_labelled(path))
    assert report["n"] == 5
    assert report["accuracy"] == pytest.approx(0.8)
    assert report["per_class"]["neutral"]["recall"] == pytest.approx(0.5)
    assert report["per_class"]["positive"]["precision"] == pytest.approx(0.5)
    assert report["texts_per_second"] > 0
    assert report["model_id"] == "keywords@1"
    text = format_report(report)
    assert "macro-F1" in text and "0.8000" in text
