"""Fine-tune a base encoder into a sentiment model directory (what ``model train`` runs).

The output is a standard Hugging Face model directory with canonical labels
(0 negative, 1 neutral, 2 positive), plus ``metrics.json`` and a ``README.md`` model card.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inference.labels import canonical_id2label
from inference.training import model_card, text_prep
from inference.training.dataset import Labelled
from inference.training.trainer import TrainConfig, TrainResult, fine_tune
from sentimon.errors import ModelError

log = logging.getLogger(__name__)


@dataclass
class Provenance:
    """What the model card says about where the model came from."""

    base: str
    train_files: list[str] = field(default_factory=list)
    valid_file: str | None = None
    label_map: dict[str, str] | None = None
    data_credit: str = model_card.DATA_CREDIT


def load_base(base: str) -> tuple[Any, Any]:
    """Tokenizer (with URL stripping) and a 3-class head on ``base`` (new head if needed)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer  # noqa: PLC0415 (heavy: loaded only when used)

    id2label = canonical_id2label()
    try:
        tokenizer = AutoTokenizer.from_pretrained(base)
        model = AutoModelForSequenceClassification.from_pretrained(
            base,
            num_labels=len(id2label),
            id2label=id2label,
            label2id={name: i for i, name in id2label.items()},
            ignore_mismatched_sizes=True,
        )
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load base model {base!r}: {exc}") from exc
    return text_prep.strip_urls(tokenizer), model


def save_model(
    model: Any, tokenizer: Any, out: Path, result: TrainResult, prov: Provenance
) -> None:
    """Write the model directory atomically enough: into ``out.tmp`` then rename."""
    staging = out.with_name(out.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    model.save_pretrained(staging)
    text_prep.save_tokenizer(tokenizer, staging)
    metrics = {
        "best": result.best,
        "history": result.history,
        "train_seconds": result.seconds,
        "steps": result.steps,
        "config": result.config,
        "base": prov.base,
        "train_files": prov.train_files,
        "valid_file": prov.valid_file,
    }
    model_card.write_metrics(staging, metrics)
    model_card.write_card(
        staging,
        {
            "name": out.name,
            "base": prov.base,
            "train_files": prov.train_files,
            "valid_file": prov.valid_file,
            "label_map": prov.label_map,
            "data_credit": prov.data_credit,
            "seed": result.config.get("seed"),
            "best": result.best,
            "config": result.config,
        },
    )
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)


def train_model(
    train: Labelled,
    valid: Labelled | None,
    out: Path,
    cfg: TrainConfig,
    prov: Provenance,
    *,
    progress: bool = True,
    base_dir: str | None = None,
    soft_targets: np.ndarray | None = None,
) -> TrainResult:
    """Fine-tune ``prov.base`` (or ``base_dir``, loaded in its place) on ``train``, selecting by
    ``valid``, and save it to ``out``; ``soft_targets`` (a teacher's logits per training
    row) add distillation."""
    if len(train) == 0:
        raise ModelError("no training rows")
    import torch  # noqa: PLC0415 (heavy: loaded only when used)

    # The new classification head is drawn from torch's RNG when the base loads: seed it
    # here, or two runs of the same recipe start from different heads and end apart.
    torch.manual_seed(cfg.seed)
    tokenizer, model = load_base(base_dir or prov.base)
    log.info("fine-tuning %s on %d texts (%s)", prov.base, len(train), train.counts())
    result = fine_tune(
        model, tokenizer, train, valid, cfg, progress=progress, soft_targets=soft_targets
    )
    save_model(model, tokenizer, Path(out), result, prov)
    log.info("saved %s: best %s", out, result.best)
    return result
