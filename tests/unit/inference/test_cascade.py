"""The cascade routes by threshold and records which model scored each row."""

from __future__ import annotations

import numpy as np
import pytest

from inference.cascade import CascadeScorer, cascade_id
from sentimon.testing import KeywordScorer


class CountingScorer(KeywordScorer):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.calls: list[list[str]] = []

    def score(self, texts):  # type: ignore[no-untyped-def]
        self.calls.append(list(texts))
        return super().score(texts)


def pair() -> tuple[CountingScorer, CountingScorer]:
    student = CountingScorer(
        {"unsure": (0.40, 0.35, 0.25), "sure": (0.02, 0.03, 0.95)},
        model_id="default@aaaa1111:onnx-int8",
    )
    teacher = CountingScorer({"unsure": (0.05, 0.15, 0.80)}, model_id="teacher@bbbb2222:onnx-int8")
    return student, teacher


def test_only_rows_below_the_threshold_go_to_the_teacher() -> None:
    student, teacher = pair()
    cascade = CascadeScorer(student, teacher, threshold=0.6)
    batch = cascade.score(["sure one", "unsure one", "sure two"])
    assert teacher.calls == [["unsure one"]]
    assert batch.escalated.tolist() == [False, True, False]
    assert batch.labels == ["positive", "positive", "positive"]
    assert np.allclose(batch.probs[1], [0.05, 0.15, 0.80])
    assert batch.model_of(0) == "default@aaaa1111:onnx-int8"
    assert batch.model_of(1) == "teacher@bbbb2222:onnx-int8"


def test_a_confident_batch_never_calls_the_teacher() -> None:
    student, teacher = pair()
    batch = CascadeScorer(student, teacher, threshold=0.6).score(["sure", "sure again"])
    assert teacher.calls == []
    assert not batch.escalated.any()


def test_threshold_zero_and_one_are_student_only_and_teacher_only() -> None:
    student, teacher = pair()
    assert not CascadeScorer(student, teacher, 0.0).score(["unsure"]).escalated.any()
    assert CascadeScorer(student, teacher, 1.0).score(["sure"]).escalated.all()
    with pytest.raises(ValueError):
        CascadeScorer(student, teacher, 1.5)


def test_the_cascade_id_names_both_models() -> None:
    student, teacher = pair()
    cascade = CascadeScorer(student, teacher, 0.5)
    assert cascade.model_id == "default+teacher@aaaa1111+bbbb2222:onnx-int8"
    assert cascade_id("a@1:onnx-int8", "b@2:torch-fp16") == "a+b@1+2:onnx-int8+torch-fp16"
    assert cascade_id("hub/model", "other") == "hub/model+other"


def test_explanations_occlude_with_the_model_that_scored_the_post() -> None:
    from inference.explain import Occlusion

    student, teacher = pair()
    cascade = CascadeScorer(student, teacher, threshold=0.6)
    assert Occlusion(cascade).explain("an unsure take").model_id == teacher.model_id
    assert Occlusion(cascade).explain("a sure thing").model_id == student.model_id
