"""The cascade: the fast model scores every post, the accurate one re-scores the doubtful.

``CascadeScorer`` is one ``Scorer`` to the rest of the pipeline. The student (the default
model) scores the whole batch; the rows whose calibrated confidence is below
``threshold`` go, in one call, to the accurate model (the fine-tuned all-mpnet-base-v2
teacher of ``make teacher``), whose calibrated probabilities replace the student's for
those rows. Each row records the model that scored it (``ScoreBatch.row_models``) and
whether it was escalated; the cascade's own id names both models
(``default+teacher@<student version>+<teacher version>:onnx-int8``).

The threshold comes from the student's held-out confidence quantiles for a target
escalation share (``Calibration.threshold_for_share``), or is set outright
(``SENTIMON_CASCADE_THRESHOLD``). See docs/MODEL.md, "The cascade".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from inference.scorer import ScoreBatch, Scorer


def cascade_id(student: str, teacher: str) -> str:
    """``a@1:onnx-int8`` + ``b@2:onnx-int8`` → ``a+b@1+2:onnx-int8`` (plain join otherwise)."""
    try:
        s_name, s_rest = student.split("@", 1)
        t_name, t_rest = teacher.split("@", 1)
        s_version, s_kind = s_rest.split(":", 1)
        t_version, t_kind = t_rest.split(":", 1)
    except ValueError:
        return f"{student}+{teacher}"
    kind = s_kind if s_kind == t_kind else f"{s_kind}+{t_kind}"
    return f"{s_name}+{t_name}@{s_version}+{t_version}:{kind}"


class CascadeScorer:
    """Scores with ``student``; rows below ``threshold`` confidence are re-scored by
    ``teacher``. Both should be calibrated (``inference.calibration.CalibratedScorer``)."""

    def __init__(self, student: Scorer, teacher: Scorer, threshold: float) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"cascade threshold must be in [0, 1], got {threshold}")
        self.student = student
        self.teacher = teacher
        self.threshold = float(threshold)
        self.concurrency = int(getattr(student, "concurrency", 1))
        self._id = cascade_id(student.model_id, teacher.model_id)

    @property
    def model_id(self) -> str:
        return self._id

    def score(self, texts: Sequence[str]) -> ScoreBatch:
        first = self.student.score(texts)
        escalate = first.confidence < self.threshold
        rows = np.flatnonzero(escalate)
        probs = np.array(first.probs, dtype=np.float32, copy=True)
        labels = first.label_ids.copy()
        models = [first.model_of(i) for i in range(len(first))]
        if rows.size:
            second = self.teacher.score([texts[i] for i in rows.tolist()])
            probs[rows] = second.probs
            labels[rows] = second.label_ids
            for j, i in enumerate(rows.tolist()):
                models[i] = second.model_of(j)
        # each row keeps the label its own model's decision rule gave it
        return ScoreBatch(
            probs=probs,
            model_id=self._id,
            row_models=tuple(models),
            escalated=escalate,
            decided=labels,
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.student, name)
