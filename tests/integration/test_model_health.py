"""Model health end to end on real Redis: the window moves with the feed, a model_drift
rule fires and resolves through the alert machinery, and the summary lands in Redis."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from consumers.dlq import CollectingDeadLetters
from consumers.observe import ConsumerObserver
from consumers.records import SourceRecord
from consumers.runner import LoopStats
from consumers.wiring import HealthReporter, build_processor
from inference.profile import REFERENCE_FILE, write_reference
from inference.training import packaged
from sentimon.store.client import RedisState
from sentimon.store.health_summary import read_model_health
from sentimon.testing import KeywordScorer
from tests.integration.feeds import T0

pytestmark = pytest.mark.integration

RULES = """
[[rule]]
name = "model-drift"
kind = "model_drift"
psi = 0.25
resolve_psi = 0.15
min_count = 40
cooldown = "1m"
"""
ODD = "Zorblax quintessential hyperflux anomalies befuddle the quarterly flibbertigibbet. "
WINDOW = 50


def _calm(i: int) -> str:
    return f"$ACME shares flat at {i % 9} cents"


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """A model directory with the packaged vocabulary and a reference profile of calm,
    short, neutral posts (the scorer itself is a test double)."""
    from transformers import AutoTokenizer

    folder = tmp_path / "model"
    folder.mkdir()
    encoder = packaged.encoder_dir()
    for name in ("config.json", "vocab.txt"):
        shutil.copy(encoder / name, folder / name)
    texts = [_calm(i) for i in range(300)]
    probs = np.tile([0.05, 0.9, 0.05], (len(texts), 1))
    write_reference(folder, texts, probs, AutoTokenizer.from_pretrained(str(encoder)))
    return folder


def _records(texts: list[str], first: int) -> list[SourceRecord]:
    return [
        SourceRecord("n", 0, first + i, T0, json.dumps(
            {"id": f"m-{first + i}", "text": text, "ts": T0 + (first + i) * 1000}).encode())
        for i, text in enumerate(texts)
    ]  # fmt: skip


def _feed(proc: Any, texts: list[str], first: int) -> int:
    for start in range(0, len(texts), 20):
        proc.process(_records(texts[start : start + 20], first + start))
    return first + len(texts)


def _history(proc: Any) -> list[dict[str, str]]:
    return [f for _, f in proc.sink.client.xrange(proc.keys.alerts) if f["kind"] == "model_drift"]


def test_drift_rises_fires_an_alert_resolves_and_is_summarised(
    stack: Any, tmp_path: Path, model_dir: Path
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    settings = stack.settings(
        namespace=f"mh-{uuid.uuid4().hex[:8]}", topics=["n"], model=str(model_dir),
        alert_rules=rules, health_window=WINDOW,
    )  # fmt: skip
    scorer = KeywordScorer({"Zorblax": (0.7, 0.2, 0.1)}, default=(0.05, 0.9, 0.05))
    proc = build_processor(settings, scorer, dead_letters=CollectingDeadLetters())
    assert proc.health is not None and proc.health.window.reference is not None
    client, keys = proc.sink.client, proc.keys

    offset = _feed(proc, [_calm(i) for i in range(60)], 0)
    calm = proc.health.latest
    assert calm is not None and calm.posts == WINDOW
    assert calm.psi_label is not None and calm.psi_label < 0.1 and calm.psi_length < 0.1  # type: ignore[operator]
    assert _history(proc) == [] and client.hgetall(keys.alert_open) == {}

    offset = _feed(proc, [ODD * 3] * 60, offset)
    shifted = proc.health.latest
    assert shifted.psi_label > 0.25 and shifted.psi_length > 0.25  # type: ignore[operator, union-attr]
    assert shifted.fragmented_share > calm.fragmented_share  # type: ignore[operator, union-attr]
    [opened] = _history(proc)
    assert (opened["status"], opened["entity"], opened["notify"]) == ("firing", "model", "1")
    body = json.loads(opened["payload"])
    assert body["stats"]["psi_band"] == "major" and "PSI" in body["summary"]
    assert list(client.hgetall(keys.alert_open)) == ["model-drift|model"]
    assert client.xlen(keys.alert_outbox) == 1

    _feed(proc, [_calm(i) for i in range(60)], offset)
    assert [h["status"] for h in _history(proc)] == ["firing", "resolved"]
    assert client.hgetall(keys.alert_open) == {}

    loop = SimpleNamespace(redis=RedisState(), stats=LoopStats(), processor=proc)
    source = SimpleNamespace(lag=dict, assignment=list)
    observer = ConsumerObserver(loop, source, scorer.model_id)  # type: ignore[arg-type]
    HealthReporter(client, keys, observer, model_health=proc.health).tick()
    summary = read_model_health(client, keys)
    assert summary["posts"] == str(WINDOW) and summary["reference"] == "1"
    assert float(summary["psi_label"]) < 0.1 and summary["model"] == scorer.model_id
    assert float(summary["label_neutral"]) == 1.0 and summary["escalation_share"] == ""


def test_a_model_without_reference_json_loads_and_reports_no_reference(
    stack: Any, model_dir: Path
) -> None:
    (model_dir / REFERENCE_FILE).unlink()
    settings = stack.settings(namespace=f"mh-{uuid.uuid4().hex[:8]}", topics=["n"],
                              model=str(model_dir))  # fmt: skip
    proc = build_processor(settings, KeywordScorer({}), dead_letters=CollectingDeadLetters())
    _feed(proc, [_calm(i) for i in range(10)], 0)
    latest = proc.health.latest  # type: ignore[union-attr]
    assert latest is not None and latest.psi_label is None and latest.reference is None
    assert latest.unknown_share is not None  # the vocabulary is still there
