"""Parity of an exported model with the original, on a labelled sample.

- fp32 (and fp16): the largest difference of any canonical probability <= tolerance.
- int8: argmax agreement >= 99 % and macro-F1 (against the sample's labels) within 1 point.

A failure raises :class:`ParityError` with the measured figures; a pass returns them.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from inference.scorer import Scorer
from inference.training import scores as metrics
from inference.training.dataset import Labelled
from sentimon.errors import ParityError

log = logging.getLogger(__name__)

FP32_MAX_PROB_DIFF = 1e-3
FP16_MAX_PROB_DIFF = 1e-2
INT8_MIN_AGREEMENT = 0.99
INT8_MAX_F1_DROP = 0.01


@dataclass(frozen=True)
class ParityReport:
    precision: str
    n: int
    max_prob_diff: float
    agreement: float
    macro_f1_reference: float
    macro_f1_candidate: float
    passed: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare(reference: Scorer, candidate: Scorer, sample: Labelled, precision: str) -> ParityReport:
    """Score ``sample`` with both scorers and judge the candidate at its precision."""
    ref = reference.score(sample.texts)
    cand = candidate.score(sample.texts)
    diff = float(np.abs(ref.probs - cand.probs).max()) if len(sample) else 0.0
    agreement = float((ref.label_ids == cand.label_ids).mean()) if len(sample) else 1.0
    f1_ref = metrics.macro_f1(sample.labels, ref.label_ids)
    f1_cand = metrics.macro_f1(sample.labels, cand.label_ids)
    if precision == "int8":
        passed = agreement >= INT8_MIN_AGREEMENT and f1_ref - f1_cand <= INT8_MAX_F1_DROP
    else:
        limit = FP16_MAX_PROB_DIFF if precision == "fp16" else FP32_MAX_PROB_DIFF
        passed = diff <= limit
    return ParityReport(precision, len(sample), diff, agreement, f1_ref, f1_cand, passed)


def require(report: ParityReport, candidate_id: str) -> ParityReport:
    """Raise ParityError unless ``report`` passed."""
    log.info("parity %s: %s", candidate_id, report.as_dict())
    if report.passed:
        return report
    if report.precision == "int8":
        rule = (
            f"needs agreement >= {INT8_MIN_AGREEMENT:.0%} and macro-F1 within "
            f"{INT8_MAX_F1_DROP * 100:.0f} point"
        )
    else:
        limit = FP16_MAX_PROB_DIFF if report.precision == "fp16" else FP32_MAX_PROB_DIFF
        rule = f"needs max probability difference <= {limit:g}"
    raise ParityError(
        f"{candidate_id} fails parity on {report.n} texts ({rule}): max prob diff "
        f"{report.max_prob_diff:.2e}, argmax agreement {report.agreement:.2%}, macro-F1 "
        f"{report.macro_f1_candidate:.4f} vs {report.macro_f1_reference:.4f}. Do not serve it: "
        "re-export without quantisation (drop --quantize int8) or check the export logs"
    )
