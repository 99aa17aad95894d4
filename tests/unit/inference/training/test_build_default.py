"""``make model`` is idempotent: a complete build with the same recipe is not redone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

from inference.training import build_default


class Built(NamedTuple):
    train: Path
    out: Path
    fingerprint: str


@pytest.fixture
def built(tmp_path: Path) -> Built:
    """A (fake) complete build of the default recipe on a one-line training file."""
    train = tmp_path / "train.csv"
    train.write_text("text,label\nup,positive\n")
    out = tmp_path / "default"
    fingerprint = build_default.build_fingerprint(build_default.RECIPE, [train], None)
    for name in build_default.REQUIRED:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(b"x")
    record = {"recipe": fingerprint, "export": build_default.export_recipe(), "best": {"f1": 1}}
    (out / "build.json").write_text(json.dumps(record))
    return Built(train, out, fingerprint)


def test_complete_build_is_skipped(built: Built, monkeypatch: pytest.MonkeyPatch):
    def must_not_train(*args, **kwargs):
        raise AssertionError("a complete build was redone")

    monkeypatch.setattr("inference.training.build_default.train_model", must_not_train)
    record = build_default.build(
        built.train, built.train.parent / "valid.csv", built.out, headlines=False, teacher=None
    )
    assert record["recipe"] == built.fingerprint


def test_incomplete_or_changed_builds_are_redone(built: Built):
    train, out, fingerprint = built
    assert build_default.is_complete(out, fingerprint)
    assert not build_default.is_complete(out, "another-recipe")
    (out / "onnx" / "model_int8.onnx").unlink()
    assert not build_default.is_complete(out, fingerprint)
    train.write_text("text,label\nup,negative\n")  # data changed: new fingerprint
    assert build_default.recipe_hash(build_default.RECIPE, [train]) != fingerprint


def test_changed_export_settings_reexport_without_retraining(
    built: Built, monkeypatch: pytest.MonkeyPatch
):
    _, out, fingerprint = built
    assert build_default.is_complete(out, fingerprint)
    monkeypatch.setattr("inference.training.build_default.FP32_LAYERS", 1)
    assert not build_default.is_complete(out, fingerprint)
    # the finished training (same recipe) is reused: only the export is redone
    (out / build_default.TRAINED_MARKER).write_text(json.dumps({"recipe": fingerprint}))
    (out / "metrics.json").write_text(json.dumps({"best": {"valid_macro_f1": 0.5}}))
    (out / "model.safetensors").write_bytes(b"x")
    assert build_default.reusable_training(out, fingerprint) == {"valid_macro_f1": 0.5}


def test_the_teacher_file_is_part_of_the_recipe(built: Built, tmp_path: Path):
    targets = tmp_path / "targets.csv"
    targets.write_text("key,negative,neutral,positive\n")
    with_teacher = build_default.recipe_hash(build_default.RECIPE, [built.train, targets])
    assert with_teacher != built.fingerprint
    targets.write_text("key,negative,neutral,positive\nabc,-1.0,-0.5,-2.0\n")
    assert build_default.recipe_hash(build_default.RECIPE, [built.train, targets]) != with_teacher


def test_a_missing_teacher_file_says_how_to_make_it(built: Built, tmp_path: Path):
    from sentimon.errors import ModelError

    valid = tmp_path / "valid.csv"
    valid.write_text("text,label\nup,positive\n")
    with pytest.raises(ModelError, match="make teacher"):
        build_default.build(
            built.train, valid, tmp_path / "new", headlines=False, teacher=tmp_path / "none.csv"
        )


def test_the_transfer_set_is_part_of_the_recipe(built: Built):
    with_variants = build_default.recipe_hash(
        build_default.RECIPE, [built.train], transfer_copies=2
    )
    assert with_variants != built.fingerprint
    assert with_variants != build_default.recipe_hash(
        build_default.RECIPE, [built.train], transfer_copies=3
    )


def test_a_teacher_file_without_the_transfer_set_says_how_to_rebuild_it(tmp_path: Path):
    """Targets for the training texts alone (an older make teacher) are not enough once
    the student also learns from variants: the build names the fix instead of training."""
    from inference.training import dataset, distill, student_data
    from sentimon.errors import ModelError

    train = tmp_path / "train.csv"
    train.write_text(
        "text,label\n"
        "Acme shares fall 12% after Barclays cuts them to Sell,negative\n"
        "Acme shares jump 8% after earnings beat by 15%,positive\n"
        "Initech holds its 2% dividend as sales rise 3%,neutral\n"
    )
    valid = tmp_path / "valid.csv"
    valid.write_text("text,label\nup,positive\n")
    texts = dataset.read_labelled(train).texts
    targets = tmp_path / "targets.csv"
    distill.write_targets(targets, texts, np.zeros((len(texts), 3)))
    assert student_data.transfer_variants(dataset.read_labelled(train).texts)
    with pytest.raises(ModelError, match="make teacher"):
        build_default.build(train, valid, tmp_path / "new", headlines=False, teacher=targets)
