"""The cascade and calibration on real (tiny) models: a student named ``default`` and a
teacher, each calibrated on a held-out slice, served through ``load_scorer``."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from inference import load_scorer
from inference.calibration import CalibratedScorer, load_calibration
from inference.cascade import CascadeScorer
from inference.scorer import LABELS
from inference.training import dataset
from inference.training.calibrate import calibrate_model
from inference.training.student_data import split_holdout
from inference.training.tiny import build_tiny_model
from sentimon.cli.main import main
from sentimon.errors import ModelError
from sentimon.settings import Settings, get_settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path, train_csv: Path):
    """``default`` (the tiny model) and ``teacher`` (another seed), both calibrated."""
    cache = tmp_path_factory.mktemp("cache")
    shutil.copytree(tiny_model, cache / "default")
    build_tiny_model(cache / "teacher", train_csv, seed=1)
    holdout = split_holdout(dataset.read_labelled(train_csv))[1]
    holdout = dataset.sample(holdout, 300, seed=0)
    for name in ("default", "teacher"):
        calibrate_model(cache / name, holdout)
    return cache


def holdout_texts(train_csv: Path, n: int) -> list[str]:
    return dataset.sample(split_holdout(dataset.read_labelled(train_csv))[1], n, seed=1).texts


def test_auto_turns_the_cascade_on_for_the_default_model(model_cache, train_csv):
    settings = Settings(model_cache=model_cache, cascade_share=0.3)
    scorer = load_scorer(settings)
    assert isinstance(scorer, CascadeScorer)
    assert scorer.model_id.startswith("default+teacher@")
    expected = load_calibration(model_cache / "default").threshold_for_share(0.3)
    assert scorer.threshold == pytest.approx(expected)
    texts = holdout_texts(train_csv, 200)
    batch = scorer.score(texts)
    share = float(batch.escalated.mean())
    assert 0.1 < share < 0.5  # about the share asked for, on unseen texts of the same kind
    teacher_rows = {batch.model_of(i) for i in range(len(texts)) if batch.escalated[i]}
    student_rows = {batch.model_of(i) for i in range(len(texts)) if not batch.escalated[i]}
    assert len(teacher_rows) == 1 and next(iter(teacher_rows)).startswith("teacher@")
    assert len(student_rows) == 1 and next(iter(student_rows)).startswith("default@")
    assert (batch.confidence[~batch.escalated] >= scorer.threshold).all()


def test_off_and_explicit_thresholds(model_cache):
    plain = load_scorer(Settings(model_cache=model_cache, cascade="off"))
    assert isinstance(plain, CalibratedScorer)
    fixed = load_scorer(Settings(model_cache=model_cache, cascade_threshold=0.9))
    assert isinstance(fixed, CascadeScorer) and fixed.threshold == 0.9


def test_auto_leaves_other_models_alone_and_on_needs_the_teacher(model_cache, tmp_path):
    other = load_scorer(Settings(model=str(model_cache / "teacher"), model_cache=model_cache))
    assert not isinstance(other, CascadeScorer)
    with pytest.raises(ModelError, match="make teacher"):
        load_scorer(Settings(model_cache=model_cache, cascade="on", cascade_model="missing"))
    bare = tmp_path / "cache"
    shutil.copytree(model_cache / "default", bare / "default")
    assert not isinstance(load_scorer(Settings(model_cache=bare)), CascadeScorer)


def test_eval_reports_ece_escalation_and_draws_the_diagram(
    model_cache, train_csv, tmp_path, monkeypatch, capsys
):
    rows = dataset.sample(split_holdout(dataset.read_labelled(train_csv))[1], 120, seed=2)
    data = tmp_path / "held.csv"
    with data.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(
            (t, LABELS[y]) for t, y in zip(rows.texts, rows.labels.tolist(), strict=True)
        )
    monkeypatch.setenv("SENTIMON_MODEL_CACHE", str(model_cache))
    get_settings.cache_clear()
    try:
        png = tmp_path / "reliability.png"
        capsys.readouterr()
        code = main(["model", "eval", "--data", str(data), "--cascade", "on", "--plot", str(png),
                     "--json"])  # fmt: skip
    finally:
        get_settings.cache_clear()
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 120
    assert 0.0 <= report["ece"] <= 1.0 and 0.0 <= report["ece_uncalibrated"] <= 1.0
    assert 0.0 < report["escalated"] < 1.0
    assert report["model_id"].startswith("default+teacher@")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
