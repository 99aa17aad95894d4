"""The entity evaluation's arithmetic and its data-file errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inference.posts import PostScorer
from inference.training.entity_eval import evaluate_entities, format_entity_report, read_items
from sentimon.entities.link import Linker
from sentimon.entities.universe import parse_universe
from sentimon.errors import ConfigError
from tests.unit.inference.test_posts import WordScorer
from tests.unit.sentimon.entities.test_link import UNIVERSE


def write(tmp_path: Path, items: list[dict]) -> Path:
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(json.dumps(i) for i in items) + "\n", encoding="utf-8")
    return path


def test_precision_recall_and_accuracies(tmp_path: Path) -> None:
    path = write(tmp_path, [
        {"id": "1", "text": "Coca-Cola gains while PepsiCo slides", "category": "mixed",
         "entities": [{"ticker": "KO", "label": "positive"}, {"ticker": "PEP", "label": "negative"}]},
        {"id": "2", "text": "Apple pie prices rise", "category": "trap", "entities": []},
        {"id": "3", "text": "Visa slides", "category": "real",
         "entities": [{"ticker": "V", "label": "negative"}, {"ticker": "MA", "label": "negative"}]},
    ])  # fmt: skip
    scorer = PostScorer(WordScorer(), Linker(parse_universe(UNIVERSE, "t.csv")))
    report = evaluate_entities(scorer, read_items(path))
    assert report["linking_precision"] == 1.0  # KO, PEP, V linked, all right
    assert report["linking_recall"] == 0.75  # MA missed
    assert report["sentiment_accuracy"] == 1.0
    assert report["sentiment_accuracy_mixed"] == 1.0
    assert report["post_label_accuracy"] == pytest.approx(1 / 3, abs=1e-4)
    assert report["by_category"]["trap"]["linking_precision"] is None
    assert "mixed" in format_entity_report(report)


def test_bad_items_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "1", "text": "x", "entities": []}\n{"id": "2"}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="line 2"):
        read_items(path)
    path.write_text('{"id": "1", "text": "x", "entities": [{"ticker": "A", "label": "up"}]}\n')
    with pytest.raises(ConfigError, match="line 1, field 'entities'"):
        read_items(path)
