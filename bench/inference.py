"""Inference throughput and quality, side by side, in one process (issue 3).

Same texts, same model, every variant:

1. naive     - ``transformers.pipeline`` called once per text (the baseline);
2. torch     - the torch backend, batched (length-sorted buckets, token budget);
3. onnx-fp32 - ONNX Runtime on the transformer-fused fp32 export;
4. onnx-int8 - ONNX Runtime on the dynamic int8 export (what ``backend=auto`` serves on CPU);
5. with a CUDA GPU also torch-cuda-fp16 (and onnx-cuda-fp16 with onnxruntime-gpu);
6. served     - onnx-int8 with the model's calibration (what the consumer serves alone);
7. when the accurate model is built (``make teacher``): teacher (it alone, calibrated) and
   cascade (the served model, re-scoring its least sure texts with the teacher at the
   SENTIMON_CASCADE_SHARE threshold), with the share escalated and the throughput ratio
   to the served model.

Rows 1-5 are the raw models (no calibration); calibration moves a label only through its
bias, so their macro-F1 can differ slightly from the served row's.

For each: texts/s (best of ``--repeats`` timed passes after a warm-up; the naive baseline
runs once), the ratio to naive, accuracy and macro-F1 on the labelled sample, and label
agreement with torch fp32. Writes bench/results/inference.json.

    python bench/inference.py [--model models/default] [--data valid.csv] [--n 1000]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from inference import locate  # noqa: E402
from inference.onnx_backend import cuda_provider_available  # noqa: E402
from sentimon.settings import load_settings  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.common import write_result  # noqa: E402
from inference import load_scorer  # noqa: E402
from inference.labels import canonical_name  # noqa: E402
from inference.scorer import LABELS  # noqa: E402
from inference.training import dataset  # noqa: E402
from inference.training import scores as metrics  # noqa: E402

DEFAULT_DATA = ROOT / ".." / "shared" / "data" / "twitter-financial-news" / "valid.csv"
OUT = ROOT / "bench" / "results" / "inference.json"


def naive(model_dir: str, texts: list[str]) -> tuple[np.ndarray, float]:
    """One ``pipeline`` call per text: the way a first prototype scores a stream."""
    from transformers import pipeline  # noqa: PLC0415 (heavy: loaded only when used)

    pipe = pipeline("text-classification", model=model_dir, tokenizer=model_dir, device=-1)
    pipe(texts[0], truncation=True)  # warm-up
    index = {name: i for i, name in enumerate(LABELS)}
    started = time.perf_counter()
    out = [pipe(text, truncation=True)[0]["label"] for text in texts]
    seconds = time.perf_counter() - started
    ids = np.array([index[canonical_name(label) or "neutral"] for label in out])
    return ids, seconds


def batched(scorer: Any, texts: list[str], repeats: int) -> tuple[np.ndarray, float]:
    scorer.score(texts[:64])  # warm-up: allocations, kernels, thread pools
    best, ids = float("inf"), np.zeros(0)
    for _ in range(repeats):
        started = time.perf_counter()
        ids = scorer.score(texts).label_ids
        best = min(best, time.perf_counter() - started)
    return ids, best


def variants(model: str) -> list[tuple[str, dict[str, str]]]:
    import torch  # noqa: PLC0415 (heavy: loaded only when used)

    out = [
        ("torch", {"backend": "torch", "device": "cpu", "precision": "fp32"}),
        ("onnx-fp32", {"backend": "onnx", "device": "cpu", "precision": "fp32"}),
        ("onnx-int8", {"backend": "onnx", "device": "cpu", "precision": "int8"}),
    ]
    if torch.cuda.is_available():
        out.append(("torch-cuda-fp16", {"backend": "torch", "device": "cuda", "precision": "fp16"}))
        if cuda_provider_available():
            out.append(
                ("onnx-cuda-fp16", {"backend": "onnx", "device": "cuda", "precision": "fp16"})
            )
    return out


def served_variants(settings: Any) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = [("served", {"calibrate": True, "cascade": "off"})]
    teacher = Path(settings.model_cache) / settings.cascade_model
    if (teacher / "config.json").is_file():
        out += [
            ("teacher", {"model": str(teacher), "calibrate": True, "cascade": "off"}),
            ("cascade", {"calibrate": True, "cascade": "on"}),
        ]
    return out


def row(ids: np.ndarray, seconds: float, data: dataset.Labelled, ref: np.ndarray | None) -> dict:
    return {
        "texts_per_second": len(data) / seconds,
        "seconds": seconds,
        "accuracy": metrics.accuracy(data.labels, ids),
        "macro_f1": metrics.macro_f1(data.labels, ids),
        "agreement_with_torch": float((ids == ref).mean()) if ref is not None else None,
    }


def run(model: str, data: dataset.Labelled, repeats: int) -> dict[str, Any]:

    settings = load_settings(model=model)
    ref = locate.resolve(model, settings.model_cache)
    naive_ids, seconds = naive(ref.source, data.texts)
    results: dict[str, Any] = {"naive": row(naive_ids, seconds, data, None)}
    print(f"naive            {results['naive']['texts_per_second']:8.1f} texts/s", flush=True)
    torch_ids = None
    raw: list[tuple[str, dict[str, Any]]] = [
        (name, kw | {"calibrate": False, "cascade": "off"}) for name, kw in variants(model)
    ]
    for name, kw in raw + served_variants(settings):
        scorer = load_scorer(settings, **kw)
        ids, seconds = batched(scorer, data.texts, repeats)
        torch_ids = ids if torch_ids is None else torch_ids
        results[name] = row(ids, seconds, data, torch_ids) | {"model_id": scorer.model_id}
        if name == "cascade":
            escalated = scorer.score(data.texts).escalated
            results[name]["escalated"] = None if escalated is None else float(escalated.mean())
            results[name]["threshold"] = getattr(scorer, "threshold", None)
        print(
            f"{name:16} {results[name]['texts_per_second']:8.1f} texts/s  "
            f"macro-F1 {results[name]['macro_f1']:.4f}",
            flush=True,
        )
    if "cascade" in results:
        results["cascade"]["throughput_vs_served"] = (
            results["cascade"]["texts_per_second"] / results["served"]["texts_per_second"]
        )
    results["naive"]["agreement_with_torch"] = float((naive_ids == torch_ids).mean())
    base = results["naive"]["texts_per_second"]
    for entry in results.values():
        entry["speedup_vs_naive"] = entry["texts_per_second"] / base
    return {"results": results, "served_model_id": load_scorer(settings).model_id}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default", help="model dir, hub id or 'default'")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="labelled CSV")
    parser.add_argument("--n", type=int, default=1000, help="texts sampled from --data")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    import torch  # noqa: PLC0415 (heavy: loaded only when used)

    data = dataset.sample(dataset.read_labelled(args.data), args.n, seed=0)
    report = run(args.model, data, args.repeats)
    report.update(
        model=args.model,
        data=str(args.data),
        n=len(data),
        repeats=args.repeats,
        machine={
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "platform": platform.platform(),
            "cuda": torch.cuda.is_available(),
        },
        date=time.strftime("%Y-%m-%d %H:%M:%S"),
    )
    summarize(report)
    write_result(args.out, report, sort_keys=True)
    print(f"wrote {args.out}")
    return 0


def summarize(report: dict[str, Any]) -> None:
    results = report["results"]
    print(f"\n{'variant':16} {'texts/s':>9} {'x naive':>8} {'macro-F1':>9} {'accuracy':>9}")
    for name, entry in results.items():
        print(
            f"{name:16} {entry['texts_per_second']:9.1f} {entry['speedup_vs_naive']:8.2f} "
            f"{entry['macro_f1']:9.4f} {entry['accuracy']:9.4f}"
        )
    served_id = report["served_model_id"]
    served = next((name for name, e in results.items() if e.get("model_id") == served_id), "torch")
    drop = (results["naive"]["macro_f1"] - results[served]["macro_f1"]) * 100
    report["served"] = {
        "variant": served,
        "speedup_vs_naive": results[served]["speedup_vs_naive"],
        "macro_f1_points_lost_vs_naive": drop,
    }
    print(
        f"\nserved path ({report['served_model_id']}): "
        f"{results[served]['speedup_vs_naive']:.1f}x naive, {drop:+.2f} macro-F1 points lost"
    )


if __name__ == "__main__":
    sys.exit(main())
