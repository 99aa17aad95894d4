"""make teacher reuses a teacher trained with the same recipe on the same files."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from inference.calibration import Calibration
from inference.training import build_teacher, dataset, distill
from inference.training.build_teacher import TEACHER_RECIPE
from inference.training.student_data import transfer_base, transfer_variants
from sentimon.testing import FixedScorer


def neutral_teacher() -> FixedScorer:
    """Calls every text neutral (the build's orchestration is under test, not a model)."""
    return FixedScorer([0.1, 0.8, 0.1], model_id="teacher@test:torch-fp32")


@pytest.fixture
def trainings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Learning rates of the trainings the build ran (each writes a fake model directory)."""
    runs: list[float] = []

    def fake_train(train, valid, out: Path, cfg, prov, **kwargs: Any):
        runs.append(cfg.lr)
        out.mkdir(parents=True, exist_ok=True)
        (out / "model.safetensors").write_bytes(b"x")
        best = {"valid_macro_f1": 0.9}
        (out / "metrics.json").write_text(json.dumps({"best": best, "train_seconds": 1.0}))
        return type("Result", (), {"best": best})()

    monkeypatch.setattr("inference.training.build_teacher.train_model", fake_train)
    monkeypatch.setattr(
        "inference.training.build_teacher.load_scorer", lambda **kwargs: neutral_teacher()
    )
    monkeypatch.setattr(build_teacher.packaged, "teacher_encoder_dir", lambda cache: tmp_path)
    # the export and calibration for the cascade are tested on real (tiny) models elsewhere
    monkeypatch.setattr("inference.training.build_teacher.export_verified", lambda *a, **k: {})
    monkeypatch.setattr(
        "inference.training.build_teacher.calibrate_model", lambda *a, **k: Calibration()
    )
    return runs


def run(tmp_path: Path, train: Path, cfg=TEACHER_RECIPE) -> dict:
    valid = tmp_path / "valid.csv"
    valid.write_text("text,label\nup,positive\n")
    targets = tmp_path / "targets.csv"
    return build_teacher.build(train, valid, tmp_path / "t", targets, tmp_path / "cache", cfg)


def test_same_recipe_and_files_are_reused(tmp_path: Path, trainings: list[float]):
    train = tmp_path / "train.csv"
    train.write_text("text,label\nup,positive\ndown,negative\n")
    record = run(tmp_path, train)
    assert trainings == [TEACHER_RECIPE.lr]
    run(tmp_path, train, replace(TEACHER_RECIPE, threads=1))  # threads are not the recipe
    assert trainings == [TEACHER_RECIPE.lr]
    tweets = dataset.read_labelled(train)
    headlines = dataset.read_labelled(build_teacher.HEADLINES_TRAIN)
    data = dataset.concat([tweets, headlines])
    variants = [v for _, v in transfer_variants(transfer_base(tweets, headlines))]
    assert variants  # the headlines have variants ("up" and "down" are too short)
    # one row per distinct training text and per variant the student will learn from
    assert record["rows"] == len(set(data.texts)) + len(variants)
    assert record["transfer_copies"] == build_teacher.TRANSFER_COPIES
    soft = distill.read_targets(tmp_path / "targets.csv", ["up", "down", *variants])
    np.testing.assert_allclose(np.exp(soft), [[0.1, 0.8, 0.1]] * (2 + len(variants)), atol=1e-3)


def test_another_recipe_or_data_or_no_weights_retrains(tmp_path: Path, trainings: list[float]):
    train = tmp_path / "train.csv"
    train.write_text("text,label\nup,positive\n")
    run(tmp_path, train)
    run(tmp_path, train, replace(TEACHER_RECIPE, lr=1e-5))
    assert trainings == [TEACHER_RECIPE.lr, 1e-5]
    train.write_text("text,label\nup,negative\n")
    run(tmp_path, train)
    assert len(trainings) == 3
    (tmp_path / "t" / "model.safetensors").unlink()
    run(tmp_path, train)
    assert len(trainings) == 4
