"""Distillation: the soft-target file, its lookup by text, and the loss."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inference import distill
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
