"""Distillation: the soft-target file, its lookup by text, and the loss."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inference.training import distill
from sentimon.errors import ModelError


def test_targets_round_trip_by_text_not_by_row(tmp_path: Path):
    texts = ["$AAPL up 5%", "Fed holds rates", "$TSLA misses", "Fed holds rates"]
    probs = np.array(
        [[0.1, 0.2, 0.7], [0.2, 0.6, 0.2], [0.8, 0.15, 0.05], [0.2, 0.6, 0.2]], dtype=np.float64
    )
    path = tmp_path / "targets.csv"
    assert distill.write_targets(path, texts, distill.log_probs(probs)) == 3  # one per text
    back = distill.read_targets(path, ["$TSLA misses", "$AAPL up 5%"])
    assert back.shape == (2, 3) and back.dtype == np.float32
    np.testing.assert_allclose(np.exp(back), probs[[2, 0]], atol=1e-3)


def test_zero_probabilities_are_floored_to_finite_logits():
    logits = distill.log_probs(np.array([[0.0, 1.0, 0.0]]))
    assert np.isfinite(logits).all() and logits[0, 0] == distill.FLOOR


def test_a_text_without_a_target_names_the_fix(tmp_path: Path):
    path = tmp_path / "targets.csv"
    distill.write_targets(path, ["known"], np.zeros((1, 3)))
    with pytest.raises(ModelError, match=r"1 of 2 training texts.*make teacher"):
        distill.read_targets(path, ["known", "a new training text"])


@pytest.mark.parametrize(
    "content", ["text,label\nup,positive\n", "key,negative,neutral,positive\nabc,x,1,2\n"]
)
def test_a_malformed_file_is_refused(tmp_path: Path, content: str):
    path = tmp_path / "targets.csv"
    path.write_text(content)
    with pytest.raises(ModelError, match="make teacher"):
        distill.read_targets(path, ["abc"])


def test_the_loss_is_zero_on_agreement_and_grows_with_disagreement():
    import torch

    teacher = torch.tensor([[2.0, 0.0, -1.0], [-1.0, 0.5, 1.5]])
    same = distill.distillation_loss(teacher + 3.0, teacher, temperature=2.0)  # shift-invariant
    assert same.item() == pytest.approx(0.0, abs=1e-6)
    near = distill.distillation_loss(teacher * 0.8, teacher, temperature=2.0).item()
    far = distill.distillation_loss(-teacher, teacher, temperature=2.0).item()
    assert 0 < near < far


def test_the_loss_pulls_the_student_towards_the_teacher():
    import torch

    teacher = torch.tensor([[3.0, 0.0, -3.0]])
    student = torch.zeros(1, 3, requires_grad=True)
    distill.distillation_loss(student, teacher, temperature=2.0).backward()
    assert student.grad is not None
    # gradient descent raises the logit the teacher favours and lowers the one it rejects
    assert student.grad[0, 0] < 0 < student.grad[0, 2]


def _mixed_loss(labels, soft, weight=0.8):
    from inference.training.trainer import TrainConfig, _loss

    cfg = TrainConfig(distill_weight=weight, distill_temperature=2.0, class_weight_power=0.3)
    return _loss(cfg, np.asarray(labels), None if soft is None else np.asarray(soft, np.float32))


def test_teacher_only_rows_add_no_cross_entropy():
    import torch

    from inference.training.dataset import UNLABELLED
    from inference.training.trainer import TrainConfig, _loss

    labels = np.array([0, 2, UNLABELLED, UNLABELLED])
    soft = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7], [0.2, 0.6, 0.2], [0.3, 0.3, 0.4]]))
    logits = torch.tensor([[1.0, 0.0, -1.0], [0.0, 0.5, 1.0], [0.3, 0.2, 0.1], [0.0, 0.0, 0.0]])
    mixed = _mixed_loss(labels, soft)
    rows = np.arange(4)
    kd = distill.distillation_loss(logits, torch.from_numpy(soft.astype(np.float32)), 2.0)
    # the cross-entropy of the labelled rows alone, with the class weights of those labels
    labelled_only = _loss(TrainConfig(class_weight_power=0.3), labels[:2], None)
    ce = labelled_only(logits[:2], torch.tensor(labels[:2]), rows[:2])
    got = mixed(logits, torch.tensor(labels), rows)
    assert got.item() == pytest.approx((0.2 * ce + 0.8 * kd).item(), rel=1e-6)
    # a batch of teacher-only rows is pure distillation
    only = mixed(logits[2:], torch.tensor(labels[2:]), rows[2:])
    kd_only = distill.distillation_loss(
        logits[2:], torch.from_numpy(soft[2:].astype(np.float32)), 2.0
    )
    assert only.item() == pytest.approx(0.8 * kd_only.item(), rel=1e-6)


def test_teacher_only_rows_need_soft_targets():
    from inference.training.dataset import UNLABELLED

    with pytest.raises(ValueError, match="soft targets"):
        _mixed_loss([0, UNLABELLED], None)
