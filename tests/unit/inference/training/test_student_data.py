"""The student's training data: the held-out slice and partial teacher targets."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inference.training import dataset, distill
from inference.training.student_data import (
    HOLDOUT_EVERY,
    is_held_out,
    split_holdout,
    student_data,
    transfer_base,
    transfer_variants,
)


def tweets_csv(tmp_path: Path, n: int = 200) -> Path:
    path = tmp_path / "train.csv"
    rows = [f"Company {i} shares move {i % 7} points on quarterly update {i}" for i in range(n)]
    labels = ["positive", "neutral", "negative"]
    path.write_text(
        "text,label\n" + "".join(f"{t},{labels[i % 3]}\n" for i, t in enumerate(rows)),
        encoding="utf-8",
    )
    return path


def test_the_holdout_is_a_stable_tenth_and_never_trained_on(tmp_path: Path) -> None:
    tweets = dataset.read_labelled(tweets_csv(tmp_path, 1000))
    fit, held = split_holdout(tweets)
    assert abs(len(held) - len(tweets) / HOLDOUT_EVERY) < 40
    assert not set(fit.texts) & set(held.texts)
    assert all(is_held_out(t) for t in held.texts)
    assert split_holdout(tweets)[1].texts == held.texts  # the same split every time


def test_missing_targets_use_the_label_and_drop_variants(tmp_path: Path) -> None:
    train = tweets_csv(tmp_path)
    headlines = tmp_path / "headlines.csv"
    headlines.write_text("text,label\nAcme wins a large new supply contract,positive\n")
    tweets = dataset.read_labelled(train)
    base = transfer_base(tweets, None)
    variants = [v for _, v in transfer_variants(base)]
    covered = tweets.texts + variants[: int(len(variants) * 0.8)]
    targets = tmp_path / "targets.csv"
    distill.write_targets(targets, covered, np.log(np.full((len(covered), 3), 1 / 3)))

    data = student_data(train, headlines, targets)

    assert not set(data.train.texts) & set(data.holdout.texts)
    assert "Acme wins a large new supply contract" in data.train.texts
    row = data.train.texts.index("Acme wins a large new supply contract")
    assert np.exp(data.soft[row]).argmax() == 2  # its label stands in for the teacher
    assert data.stats["variants_without_target"] > 0
    unlabelled = data.train.labels == dataset.UNLABELLED
    assert set(np.array(data.train.texts)[unlabelled]) <= set(covered)
    held_origins = {i for i, t in enumerate(base) if is_held_out(t)}
    held_variants = {v for o, v in transfer_variants(base) if o in held_origins}
    assert not held_variants & set(data.train.texts)
