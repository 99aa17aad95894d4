"""Model lifecycle on the tiny model: train -> artefacts -> reload; export parity; eval; backends.

Everything runs on CPU in seconds; the CUDA check skips cleanly without a GPU. Training
slices come from train.csv only (valid.csv is never trained on).
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest

from inference import load_scorer
from inference.scorer import LABELS
from inference.training import dataset
from sentimon.cli.main import main
from sentimon.errors import ParityError


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def slices(tmp_path_factory: pytest.TempPathFactory, train_csv: Path) -> tuple[Path, Path]:
    """A 96-row balanced training slice and a disjoint 60-row selection slice of train.csv."""
    full = dataset.read_labelled(train_csv)
    picked = dataset.balanced(full, 80, seed=7)
    rows = [(t, LABELS[int(y)]) for t, y in zip(picked.texts, picked.labels, strict=True)]
    train_rows, select_rows = rows[::2][:96], rows[1::2][:60]
    folder = tmp_path_factory.mktemp("slices")
    return write_csv(folder / "train.csv", train_rows), write_csv(
        folder / "select.csv", select_rows
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Path:
    out = tmp_path_factory.mktemp("export") / "tiny-onnx"
    assert (
        main(
            ["model", "export", "--model", str(tiny_model), "--out", str(out), "--quantize", "int8"]
        )
        == 0
    )
    return out


def sample_texts(train_csv: Path, n: int = 300) -> list[str]:
    return dataset.sample(dataset.read_labelled(train_csv), n, seed=1).texts


def train(base: Path, slices: tuple[Path, Path], out: Path, seed: int) -> dict:
    args = [
        "model",
        "train",
        "--train",
        str(slices[0]),
        "--valid",
        str(slices[1]),
        "--base",
        str(base),
        "--out",
        str(out),
        "--epochs",
        "2",
        "--batch-size",
        "16",
        "--lr",
        "1e-3",
        "--max-length",
        "48",
        "--seed",
        str(seed),
    ]
    assert main(args) == 0
    return json.loads((out / "metrics.json").read_text())


def test_train_writes_a_reloadable_model_deterministically(tiny_model, slices, tmp_path):
    first = train(tiny_model, slices, tmp_path / "run-a", seed=3)
    second = train(tiny_model, slices, tmp_path / "run-b", seed=3)
    out = tmp_path / "run-a"
    for name in ("config.json", "model.safetensors", "tokenizer.json", "metrics.json", "README.md"):
        assert (out / name).is_file(), name
    assert first["steps"] == 12  # 96 rows / 16 per batch x 2 epochs
    assert len(first["history"]) == 2 and 0.0 <= first["best"]["valid_macro_f1"] <= 1.0
    assert first["best"] == second["best"] and first["history"] == second["history"]
    card = (out / "README.md").read_text()
    for needle in ("zeroshot/twitter-financial-news-sentiment", "MIT", "Seed: 3", str(tiny_model)):
        assert needle in card
    config = json.loads((out / "config.json").read_text())
    assert config["id2label"] == {"0": "negative", "1": "neutral", "2": "positive"}
    base_weights = (tiny_model / "model.safetensors").read_bytes()
    assert (out / "model.safetensors").read_bytes() != base_weights  # it did train
    scorer = load_scorer(model=str(out), backend="torch")
    assert scorer.model_id.startswith("run-a@") and scorer.model_id.endswith(":torch-fp32")
    assert len(scorer.score(["Stocks rally", "Shares plunge"])) == 2


def test_distillation_follows_the_teacher(tiny_model, slices, tmp_path):
    """A teacher that calls every text positive pulls a fully distilled student there; the
    same training on the (balanced) labels alone does not."""
    from inference.training.finetune import Provenance, train_model
    from inference.training.trainer import TrainConfig

    data = dataset.read_labelled(slices[0])
    confident_positive = np.log(np.array([0.02, 0.03, 0.95], dtype=np.float32))
    soft = np.tile(confident_positive, (len(data), 1))
    cfg = TrainConfig(epochs=3, lr=1e-3, batch_size=16, max_length=48, seed=3, distill_weight=1.0)

    def positive_share(name: str, soft_targets: np.ndarray | None) -> float:
        out = tmp_path / name
        prov = Provenance(base=str(tiny_model))
        train_model(data, None, out, cfg, prov, progress=False, soft_targets=soft_targets)
        probs = load_scorer(model=str(out), backend="torch").score(data.texts).probs
        return float((probs.argmax(axis=1) == LABELS.index("positive")).mean())

    assert positive_share("distilled", soft) > 0.9
    assert positive_share("labels-only", None) < 0.7  # a third of the slice is positive


def test_a_new_head_is_seeded_too(tiny_model, slices, tmp_path):
    """From an encoder without a classification head (like the packaged MiniLM), the head
    is drawn at load time: the seed must cover it, whatever the RNG did before."""
    import shutil

    import torch
    from transformers import AutoModel

    base = tmp_path / "headless"
    AutoModel.from_pretrained(tiny_model).save_pretrained(base)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        if (tiny_model / name).is_file():
            shutil.copy(tiny_model / name, base / name)
    torch.manual_seed(11)
    first = train(base, slices, tmp_path / "head-a", seed=3)
    torch.rand(1000)  # a different global RNG state
    second = train(base, slices, tmp_path / "head-b", seed=3)
    assert first["history"] == second["history"]


def test_export_writes_fp32_and_int8_with_parity(exported, tiny_model, train_csv):
    for name in ("model.onnx", "model_int8.onnx", "config.json", "tokenizer.json"):
        assert (exported / name).is_file(), name
    texts = sample_texts(train_csv)
    torch_batch = load_scorer(model=str(tiny_model), backend="torch").score(texts)
    fp32 = load_scorer(model=str(exported), backend="onnx", precision="fp32").score(texts)
    int8 = load_scorer(model=str(exported), backend="onnx").score(texts)
    assert np.abs(torch_batch.probs - fp32.probs).max() <= 1e-3
    assert (torch_batch.label_ids == fp32.label_ids).all()
    assert (torch_batch.label_ids == int8.label_ids).mean() >= 0.97
    assert len(set(torch_batch.label_ids.tolist())) > 1, "tiny model should not be constant"
    assert int8.model_id.endswith(":onnx-int8") and fp32.model_id.endswith(":onnx-fp32")
    assert fp32.model_id.split("@")[1] != int8.model_id.split("@")[1]


def test_auto_backend_serves_int8_when_it_exists(exported, tiny_model):
    assert load_scorer(model=str(exported)).model_id.endswith(":onnx-int8")
    assert load_scorer(model=str(tiny_model)).model_id.endswith(":torch-fp32")


def test_onnx_scores_concurrent_batches_like_serial_ones(exported, train_csv, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from inference import onnx_backend
    from inference.loader import scores_concurrently
    from inference.scorer import concurrency_of
    from sentimon.settings import Settings

    monkeypatch.setattr(onnx_backend, "cpu_threads", lambda: 2)
    monkeypatch.delenv("TOKENIZERS_PARALLELISM", raising=False)
    settings = Settings(model=str(exported), score_workers=0)
    scorer = load_scorer(settings)
    assert concurrency_of(scorer) == 2 and scores_concurrently(settings)
    assert "TOKENIZERS_PARALLELISM" not in os.environ  # the entry point sets it, not the library
    options = load_scorer(model=str(exported)).narrow.get_session_options()
    assert options.intra_op_num_threads == 1
    texts = sample_texts(train_csv, 240)
    batches = [texts[i : i + 16] for i in range(0, len(texts), 16)]
    serial = [scorer.score(b).probs for b in batches]
    with ThreadPoolExecutor(4) as pool:
        concurrent = [r.probs for r in pool.map(scorer.score, batches * 3)]
    for i, probs in enumerate(concurrent):
        assert np.allclose(probs, serial[i % len(batches)], atol=1e-5)


def test_failed_parity_is_loud_and_the_file_is_not_served(tiny_model, tmp_path, monkeypatch):
    from inference.training import parity
    from inference.training.verified_export import export_verified

    monkeypatch.setattr(parity, "FP32_MAX_PROB_DIFF", -1.0)  # nothing can pass
    out = tmp_path / "onnx"
    with pytest.raises(ParityError, match="fails parity"):
        export_verified(tiny_model, out)
    assert not (out / "model.onnx").exists()
    assert (out / "model.onnx.failed-parity").exists()
    monkeypatch.undo()  # a fixed re-export passes and supersedes the failed file
    export_verified(tiny_model, out)
    assert (out / "model.onnx").exists()
    assert not (out / "model.onnx.failed-parity").exists()


def test_eval_json_on_a_file_with_known_answers(tiny_model, train_csv, tmp_path, capsys):
    texts = sample_texts(train_csv, 40)
    predicted = load_scorer(model=str(tiny_model), backend="torch").score(texts).label_ids
    truth = predicted.copy()
    truth[30:] = (predicted[30:] + 1) % 3  # the last 10 are wrong on purpose
    names = write_csv(
        tmp_path / "names.csv", [(t, LABELS[y]) for t, y in zip(texts, truth.tolist(), strict=True)]
    )
    ints = {"negative": "5", "neutral": "7", "positive": "9"}
    numbered = write_csv(
        tmp_path / "ints.csv",
        [(t, ints[LABELS[y]]) for t, y in zip(texts, truth.tolist(), strict=True)],
    )
    capsys.readouterr()
    assert main(["model", "eval", "--data", str(names), "--model", str(tiny_model), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 40
    assert report["accuracy"] == pytest.approx(0.75)
    expected = np.zeros((3, 3), dtype=int)
    np.add.at(expected, (truth, predicted), 1)
    assert report["confusion_matrix"]["rows_true_cols_pred"] == expected.tolist()
    assert set(report["per_class"]) == set(LABELS)
    assert 0.0 <= report["macro_f1"] <= 1.0 and report["texts_per_second"] > 0
    label_map = "5=negative,7=neutral,9=positive"
    assert (
        main(
            [
                "model",
                "eval",
                "--data",
                str(numbered),
                "--model",
                str(tiny_model),
                "--label-map",
                label_map,
                "--json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["accuracy"] == pytest.approx(0.75)


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


@pytest.mark.cuda
@pytest.mark.skipif(not cuda_available(), reason="needs a CUDA GPU")
def test_cuda_fp16_agrees_with_cpu(tiny_model, train_csv):
    texts = sample_texts(train_csv)
    cpu = load_scorer(model=str(tiny_model), backend="torch", device="cpu").score(texts)
    gpu_scorer = load_scorer(model=str(tiny_model), backend="torch", device="cuda")
    assert gpu_scorer.model_id.endswith(":torch-fp16")
    gpu = gpu_scorer.score(texts)
    assert np.abs(cpu.probs - gpu.probs).max() < 1e-2
    assert (cpu.label_ids == gpu.label_ids).mean() >= 0.99
