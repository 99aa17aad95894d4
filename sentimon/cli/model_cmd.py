"""``sentimon model train|eval|export``: fine-tune, evaluate and export sentiment models.

torch, transformers and onnxruntime are imported inside the handlers, so ``sentimon --help``
stays fast.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from inference import load_scorer
from inference.labels import parse_label_map
from inference.posts import PostScorer, linker_of
from inference.training import dataset, packaged
from inference.training.entity_eval import evaluate_entities, format_entity_report, read_items
from inference.training.evaluate import evaluate, format_report
from inference.training.finetune import Provenance, train_model
from inference.training.trainer import TrainConfig
from inference.training.verified_export import export_verified
from sentimon.cli.output import emit_json
from sentimon.errors import ConfigError
from sentimon.settings import get_settings

log = logging.getLogger(__name__)

LABEL_MAP_HELP = (
    "integer labels of the CSV, e.g. 0=negative,1=positive,2=neutral (the default for integer "
    "labels: the twitter-financial-news convention); name labels need no map"
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("model", help="train, evaluate and export sentiment models")
    actions = parser.add_subparsers(dest="model_action", metavar="ACTION", required=True)
    _add_train(actions)
    _add_eval(actions)
    _add_eval_entities(actions)
    _add_export(actions)
    _add_profile(actions)
    parser.set_defaults(func=run)


def _add_train(actions: Any) -> None:

    d = TrainConfig()
    p = actions.add_parser("train", help="fine-tune a sequence classifier")
    p.add_argument("--train", type=Path, required=True, help="training CSV (text,label)")
    p.add_argument("--valid", type=Path, help="validation CSV for model selection")
    p.add_argument("--base", help="base model dir or hub id (default: packaged MiniLM-L6)")
    p.add_argument("--out", type=Path, required=True, help="output model directory")
    p.add_argument("--epochs", type=float, default=d.epochs, help=f"default {d.epochs}")
    p.add_argument("--lr", type=float, default=d.lr, help=f"peak learning rate, default {d.lr}")
    p.add_argument("--max-length", type=int, default=d.max_length, help=f"default {d.max_length}")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help=f"default {d.batch_size}")
    p.add_argument("--seed", type=int, default=d.seed, help=f"default {d.seed}")
    p.add_argument("--label-map", help=LABEL_MAP_HELP)


def _add_eval(actions: Any) -> None:
    p = actions.add_parser("eval", help="accuracy, macro-F1, per-class scores and speed")
    p.add_argument("--data", type=Path, required=True, help="labelled CSV (text,label)")
    p.add_argument("--model", help="model dir, hub id or 'default' (default: SENTIMON_MODEL)")
    p.add_argument("--label-map", help=LABEL_MAP_HELP)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--cascade",
        choices=["auto", "on", "off"],
        help="re-score unsure texts with the accurate model (default: SENTIMON_CASCADE)",
    )
    p.add_argument(
        "--no-calibration", action="store_true", help="the model's raw probabilities and labels"
    )
    p.add_argument(
        "--plot",
        type=Path,
        metavar="PNG",
        help="write a reliability diagram (calibrated beside uncalibrated) to this file",
    )


def _add_eval_entities(actions: Any) -> None:
    p = actions.add_parser(
        "eval-entities", help="entity linking and per-company sentiment on a labelled set"
    )
    p.add_argument(
        "--data",
        type=Path,
        default=Path("inference/data/entities_test.jsonl"),
        help="JSON lines (default: the held-out inference/data/entities_test.jsonl)",
    )
    p.add_argument("--model", help="model dir, hub id or 'default' (default: SENTIMON_MODEL)")
    p.add_argument("--json", action="store_true", help="print JSON")


def _add_export(actions: Any) -> None:
    p = actions.add_parser("export", help="ONNX export, quantisation and parity check")
    p.add_argument("--model", type=Path, required=True, help="model directory to export")
    p.add_argument("--out", type=Path, required=True, help="output directory (e.g. MODEL/onnx)")
    p.add_argument("--quantize", choices=["int8"], help="also write an int8 model for CPU")
    p.add_argument("--fp16", action="store_true", help="also write an fp16 model for GPU")


def run(args: argparse.Namespace) -> int:
    handlers = {
        "train": _train,
        "eval": _eval,
        "eval-entities": _eval_entities,
        "export": _export,
        "profile": _profile,
    }
    return handlers[args.model_action](args)


def _csv_map(spec: str | None) -> dict[str, str] | None:

    return parse_label_map(spec) if spec else None


def _train(args: argparse.Namespace) -> int:

    label_map = _csv_map(args.label_map)
    train = dataset.read_labelled(args.train, label_map)
    valid = dataset.read_labelled(args.valid, label_map) if args.valid else None
    cfg = TrainConfig(
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        max_length=args.max_length,
        seed=args.seed,
        freeze_word_embeddings=True,
    )
    prov = Provenance(
        base=args.base or str(packaged.encoder_dir()),
        train_files=[str(args.train)],
        valid_file=str(args.valid) if args.valid else None,
        label_map=label_map,
    )
    result = train_model(train, valid, args.out, cfg, prov)
    print(f"wrote {args.out} in {result.seconds:.0f}s; best: {json.dumps(result.best)}")
    return 0


def _eval(args: argparse.Namespace) -> int:

    data = dataset.read_labelled(args.data, _csv_map(args.label_map))
    calibrate = not args.no_calibration
    scorer = load_scorer(model=args.model, calibrate=calibrate, cascade=args.cascade)
    report = evaluate(scorer, data)
    if args.plot:
        from inference.training.reliability_plot import plot_reliability  # noqa: PLC0415

        before = None
        if calibrate:
            # the served model's raw probabilities (no calibration, so no cascade threshold)
            raw = load_scorer(model=args.model, calibrate=False, cascade="off")
            before = evaluate(raw, data, warmup=False)
            report["ece_uncalibrated"] = before["ece"]
        log.info("reliability diagram: %s", plot_reliability(report, args.plot, before=before))
    if args.json:
        emit_json(report)
    else:
        print(format_report(report))
    return 0


def _eval_entities(args: argparse.Namespace) -> int:
    items = read_items(args.data)
    settings = get_settings()
    linker = linker_of(settings)
    if linker is None:
        raise ConfigError(
            "entity linking is off (SENTIMON_ENTITY_LINKING=false): nothing to evaluate"
        )
    report = evaluate_entities(PostScorer(load_scorer(model=args.model), linker), items)
    report["data"] = str(args.data)
    if args.json:
        emit_json(report)
    else:
        print(format_entity_report(report))
    return 0


def _add_profile(actions: Any) -> None:
    p = actions.add_parser(
        "profile", help="(re)write a model's reference profile (reference.json) for drift"
    )
    p.add_argument("--model", type=Path, required=True, help="model directory")
    p.add_argument("--data", type=Path, required=True, help="its training CSV (a text column)")
    p.add_argument("--limit", type=int, help="profile only the first N rows")


def _profile(args: argparse.Namespace) -> int:
    from inference.profile import profile_model  # noqa: PLC0415 (heavy: loaded only when used)

    print(f"wrote {profile_model(args.model, args.data, limit=args.limit)}")
    return 0


def _export(args: argparse.Namespace) -> int:

    reports = export_verified(args.model, args.out, int8=args.quantize == "int8", fp16=args.fp16)
    for precision, report in reports.items():
        if report.get("checked"):
            print(
                f"{precision:5} {report['path']}: parity ok (max prob diff "
                f"{report['max_prob_diff']:.1e}, agreement {report['agreement']:.2%})"
            )
        else:
            print(f"{precision:5} {report['path']}: written, parity not checked here (no GPU)")
    return 0
