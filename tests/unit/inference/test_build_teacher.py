"""make teacher reuses a teacher trained with the same recipe on the same files."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

from inference import build_teacher
from inference.build_teacher import TEACHER_RECIPE, trained_before


def write_teacher(out: Path, config: dict, train_files: list[str]) -> None:
    out.mkdir(parents=True)
    (out / "model.safetensors").write_bytes(b"x")
    record = {"best": {"valid_macro_f1": 0.9}, "config": config, "train_files": train_files}
    (out / "metrics.json").write_text(json.dumps(record))


def test_same_recipe_and_files_are_reused(tmp_path: Path):
    files = [tmp_path / "train.csv", build_teacher.HEADLINES_TRAIN]
    config = asdict(replace(TEACHER_RECIPE, threads=2))  # thread count is not the recipe
    write_teacher(tmp_path / "t", config, [str(p) for p in files])
    assert trained_before(tmp_path / "t", TEACHER_RECIPE, files)


def test_another_recipe_or_data_or_no_weights_retrains(tmp_path: Path):
    files = [tmp_path / "train.csv", build_teacher.HEADLINES_TRAIN]
    write_teacher(tmp_path / "t", asdict(TEACHER_RECIPE), [str(p) for p in files])
    assert not trained_before(tmp_path / "t", replace(TEACHER_RECIPE, lr=1e-5), files)
    assert not trained_before(tmp_path / "t", TEACHER_RECIPE, [tmp_path / "other.csv"])
    (tmp_path / "t" / "model.safetensors").unlink()
    assert not trained_before(tmp_path / "t", TEACHER_RECIPE, files)
    assert not trained_before(tmp_path / "missing", TEACHER_RECIPE, files)


def test_a_record_from_before_the_distillation_fields_still_matches(tmp_path: Path):
    files = [tmp_path / "train.csv"]
    config = asdict(TEACHER_RECIPE)
    del config["distill_weight"], config["distill_temperature"]  # defaults then
    write_teacher(tmp_path / "t", config, [str(p) for p in files])
    assert trained_before(tmp_path / "t", TEACHER_RECIPE, files)
