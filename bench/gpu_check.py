"""The GPU check of issue 3, for a machine with CUDA (prepared for the ``device`` tool).

Through the scorer, on the same texts and the same model:

1. parity: torch CUDA fp16 against torch CPU fp32 (label agreement, the largest
   probability difference, macro-F1 of each against the labels);
2. speed: texts/s of the CUDA fp16 scorer at batch 64 and 256 (each call one forward of
   that many texts; best of ``--repeats`` passes after a warm-up).

    python bench/gpu_check.py --model .gpu/model --data .gpu/valid.csv --out gpu_check.json

``bench/gpu_pack.sh`` builds ``.gpu/`` here (an fp16 copy of the default model, the labelled
texts, the few wheels the device image lacks). The device command: ``run(carry=[".gpu"],
timeout_s=480, command="python3 -m pip install -q --no-index --no-deps --no-compile --target
/tmp/site .gpu/wheels/*.whl && PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
python3 bench/gpu_check.py --model .gpu/model --data .gpu/valid.csv --out $OUT/gpu.json")``.
Without CUDA it exits 2 and says so; ``--allow-cpu`` runs the same code with the "GPU"
side on the CPU, to check the script itself.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.common import write_result  # noqa: E402
from inference import load_scorer  # noqa: E402
from inference.scorer import LABELS  # noqa: E402
from inference.training import dataset  # noqa: E402
from inference.training import scores as metrics  # noqa: E402
from sentimon.settings import load_settings  # noqa: E402

BATCHES = (64, 256)


def speed(scorer: Any, texts: list[str], batch: int, repeats: int) -> float:
    """Texts/s over ``texts`` in calls of ``batch`` texts (best pass)."""
    chunks = [texts[i : i + batch] for i in range(0, len(texts), batch)]
    scorer.score(chunks[0])  # warm-up: kernels, allocator
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for chunk in chunks:
            scorer.score(chunk)  # returns host arrays: the device work is finished
        best = min(best, time.perf_counter() - started)
    return len(texts) / best


def check(model: str, data: dataset.Labelled, repeats: int, device: str) -> dict[str, Any]:

    # A token budget that never splits a call, so "batch 256" is one forward of 256 texts.
    settings = load_settings(model=model, token_budget=max(BATCHES) * 128)
    cpu = load_scorer(settings, backend="torch", device="cpu", precision="fp32")
    precision = "fp16" if device == "cuda" else "fp32"
    gpu = load_scorer(settings, backend="torch", device=device, precision=precision)
    reference, probs = cpu.score(data.texts), gpu.score(data.texts)
    ref_ids, ids = reference.label_ids, probs.label_ids
    out: dict[str, Any] = {
        "model_cpu": cpu.model_id,
        "model_gpu": gpu.model_id,
        "n": len(data),
        "label_agreement": float((ids == ref_ids).mean()),
        "max_probability_difference": float(np.abs(probs.probs - reference.probs).max()),
        "macro_f1_cpu_fp32": metrics.macro_f1(data.labels, ref_ids),
        "macro_f1_gpu": metrics.macro_f1(data.labels, ids),
        "texts_per_second": {},
    }
    for batch in BATCHES:
        rate = speed(gpu, data.texts, batch, repeats)
        out["texts_per_second"][str(batch)] = rate
        print(f"{gpu.model_id} batch {batch:4d}: {rate:10.1f} texts/s", flush=True)
    out["texts_per_second_cpu_fp32_batch_64"] = speed(cpu, data.texts[:256], 64, 1)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default", help="model dir, hub id or 'default'")
    parser.add_argument("--data", type=Path, required=True, help="labelled CSV (valid.csv)")
    parser.add_argument("--n", type=int, default=2048, help="texts taken from --data")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "gpu.json")
    parser.add_argument("--allow-cpu", action="store_true", help="dry run without CUDA")
    args = parser.parse_args(argv)
    import torch  # noqa: PLC0415 (heavy: loaded only when used)

    cuda = torch.cuda.is_available()
    if not cuda and not args.allow_cpu:
        print("no CUDA device: nothing to measure (use --allow-cpu for a dry run)")
        return 2
    data = dataset.sample(dataset.read_labelled(args.data), args.n, seed=0)
    result = check(args.model, data, args.repeats, "cuda" if cuda else "cpu")
    result["device"] = torch.cuda.get_device_name(0) if cuda else "cpu (dry run)"
    result["torch"] = torch.__version__
    result["labels"] = list(LABELS)
    write_result(args.out, result)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
