"""Word attributions ("why this score"): faithfulness by deletion, and ms per post.

For each method (``occlusion`` on the served model, ``integrated-gradients`` on the torch
model through Captum), on ``--n`` posts of valid.csv drawn with a fixed seed (evaluation
only: nothing is tuned on them):

- ms/post: each post explained alone, as the dashboard and ``sentimon score --explain``
  do (after a warm-up of 3 posts); the issue's target is < 150 ms/post on the CPU;
- the deletion test (``inference.faithfulness``): the share of posts where removing the
  top-k words lowers P(label) more than removing k random words (mean of 10 draws), for
  k = 1, 2, 3 and 20 % of the words (rounded up; the headline); the target is >= 90 %.

Each method is tested on the model it explains (occlusion: the served backend, ONNX int8
when exported; integrated gradients: torch fp32). Writes bench/results/explain.json.

    python bench/explain.py [--model models/default] [--n 200] [--methods occlusion,...]
    python bench/explain.py --tiny      # on a freshly built tiny test model (seconds)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.common import write_result  # noqa: E402
from inference.explain import Explainer, Occlusion  # noqa: E402
from inference.faithfulness import K_RULES, deletion_test  # noqa: E402
from inference.loader import load_scorer  # noqa: E402
from inference.scorer import Scorer  # noqa: E402
from inference.training import dataset  # noqa: E402
from sentimon.settings import load_settings  # noqa: E402

DEFAULT_DATA = ROOT / ".." / "shared" / "data" / "twitter-financial-news" / "valid.csv"
OUT = ROOT / "bench" / "results" / "explain.json"
METHODS = ("occlusion", "integrated-gradients")
SEED = 20261207


def sample(path: Path, n: int) -> list[str]:
    texts = dataset.read_labelled(path).texts
    return random.Random(SEED).sample(list(texts), min(n, len(texts)))


def explainer_for(method: str, model: str) -> tuple[Explainer, Scorer]:
    if method == "occlusion":
        # the student as served (calibrated), without the cascade: its cost is the target
        scorer = load_scorer(load_settings(), model=model, cascade="off")
        return Occlusion(scorer), scorer
    from inference.gradients import IntegratedGradients  # noqa: PLC0415 (needs Captum)
    from inference.torch_backend import TorchScorer  # noqa: PLC0415 (heavy: loaded only when used)

    torch_scorer = load_scorer(
        load_settings(), model=model, backend="torch", device="cpu", calibrate=False, cascade="off"
    )
    assert isinstance(torch_scorer, TorchScorer)
    return IntegratedGradients(torch_scorer), torch_scorer


def run_method(method: str, model: str, texts: list[str]) -> dict[str, Any]:
    explainer, scorer = explainer_for(method, model)
    for text in texts[:3]:
        explainer.explain(text)  # warm-up
    started = time.perf_counter()
    explanations = [explainer.explain(text) for text in texts]
    ms = (time.perf_counter() - started) * 1000 / len(texts)
    deletion = {rule: deletion_test(scorer, explanations, rule, seed=SEED) for rule in K_RULES}
    return {
        "method": method,
        "model_id": scorer.model_id,
        "ms_per_post": round(ms, 1),
        "deletion": {rule: result.as_json() for rule, result in deletion.items()},
    }


def tiny_model(folder: Path) -> str:
    from inference.training.tiny import build_tiny_model  # noqa: PLC0415 (model building)

    train = ROOT / ".." / "shared" / "data" / "twitter-financial-news" / "train.csv"
    return str(build_tiny_model(folder / "tiny", train, seed=0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="default SENTIMON_MODEL")
    parser.add_argument("--tiny", action="store_true", help="build and use the tiny test model")
    parser.add_argument("--n", type=int, default=200, help="posts of valid.csv (default 200)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    texts = sample(args.data, args.n)
    with tempfile.TemporaryDirectory(prefix="sentimon-explain-") as tmp:
        model = tiny_model(Path(tmp)) if args.tiny else (args.model or load_settings().model)
        results = [run_method(m, model, texts) for m in args.methods.split(",") if m]
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "model": "tiny (inference/training/tiny.py, seed 0)" if args.tiny else model,
        "data": str(args.data.name),
        "posts": len(texts),
        "seed": SEED,
        "methods": results,
    }
    write_result(args.out, result)
    for r in results:
        headline = r["deletion"]["20%"]
        print(json.dumps({"method": r["method"], "ms_per_post": r["ms_per_post"],
                          "deletion_20pct": headline["fraction"],
                          "by_k": {k: v["fraction"] for k, v in r["deletion"].items()}}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
