"""Knowledge distillation: a larger teacher's soft targets for training the default model.

The teacher (``inference.training.build_teacher``) scores every training text once; its
log-probabilities are stored per text in a small CSV keyed by a hash of the text
(``inference/data/teacher_targets.csv``), so the default build can learn from them without
the teacher's 400 MB of weights or its half hour of training. The student's loss mixes the
usual cross-entropy on the hand labels with the temperature-softened KL divergence to the
teacher (Hinton et al., 2015, "Distilling the Knowledge in a Neural Network").
"""

from __future__ import annotations

import csv
import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from inference.scorer import LABELS
from sentimon.errors import ModelError

log = logging.getLogger(__name__)

#: Log-probabilities below this are stored as this (exp(-30) is nothing, and finite).
FLOOR = -30.0
REBUILD_HINT = "rebuild them with `make teacher` (docs/MODEL.md, Distillation)"


def text_key(text: str) -> str:
    """Stable key of a training text (the file holds no text, only this and the targets)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def log_probs(probs: np.ndarray) -> np.ndarray:
    """Teacher logits up to a per-row constant (all a softmax sees), floored to be finite."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(np.asarray(probs, dtype=np.float64)), FLOOR)


def write_targets(path: Path, texts: Sequence[str], logits: np.ndarray) -> int:
    """Write one row per distinct text: its key and the teacher's log-probabilities."""
    if len(texts) != len(logits):
        raise ValueError(f"{len(texts)} texts but {len(logits)} rows of targets")
    seen: set[str] = set()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["key", *LABELS])
        for text, row in zip(texts, logits, strict=True):
            key = text_key(text)
            if key not in seen:
                seen.add(key)
                writer.writerow([key, *(f"{value:.4f}" for value in row)])
    return len(seen)


def read_targets(path: Path, texts: Sequence[str]) -> np.ndarray:
    """The teacher's log-probabilities for ``texts`` in order; ModelError if any is missing."""
    targets, found = read_some_targets(path, texts)
    if not found.all():
        missing = [t for t, ok in zip(texts, found.tolist(), strict=True) if not ok]
        raise ModelError(
            f"{path} has no targets for {len(missing)} of {len(texts)} training texts "
            f"(first: {missing[0][:60]!r}): the training data changed; {REBUILD_HINT}"
        )
    return targets


def label_targets(labels: np.ndarray, weight: float = 0.9) -> np.ndarray:
    """Stand-in targets for labelled texts the teacher never scored: log of a smoothed
    one-hot (``weight`` on the label, the rest shared)."""
    rows = np.full((len(labels), len(LABELS)), (1.0 - weight) / (len(LABELS) - 1))
    rows[np.arange(len(labels)), labels] = weight
    return log_probs(rows).astype(np.float32)


def read_some_targets(path: Path, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The teacher's log-probabilities for ``texts`` (zeros where it has none) and, per
    text, whether it had one."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, [])
            if header != ["key", *LABELS]:
                raise ModelError(f"{path}: expected columns key,{','.join(LABELS)}; {REBUILD_HINT}")
            table = {row[0]: [float(v) for v in row[1:4]] for row in reader if row}
    except OSError as exc:
        raise ModelError(f"cannot read teacher targets {path}: {exc}; {REBUILD_HINT}") from exc
    except (ValueError, IndexError) as exc:
        raise ModelError(f"{path} is malformed ({exc}); {REBUILD_HINT}") from exc
    keys = [text_key(t) for t in texts]
    found = np.array([key in table for key in keys], dtype=bool)
    zeros = [0.0] * len(LABELS)
    return np.array([table.get(key, zeros) for key in keys], dtype=np.float32), found


def distillation_loss(student_logits: Any, teacher_logits: Any, temperature: float) -> Any:
    """KL(teacher_T || student_T) * T^2, averaged over the batch (torch tensors)."""
    from torch.nn import functional  # noqa: PLC0415 (heavy: loaded only when used)

    t = float(temperature)
    student = functional.log_softmax(student_logits / t, dim=-1)
    teacher = functional.log_softmax(teacher_logits / t, dim=-1)
    return functional.kl_div(student, teacher, log_target=True, reduction="batchmean") * (t * t)
