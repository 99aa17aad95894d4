"""Model resolution and the backend ``auto`` picks for what is installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference import locate
from inference.loader import Choice, choose
from sentimon.errors import ConfigError, ModelError

ONNX_ALL = {"fp32": Path("m.onnx"), "int8": Path("m8.onnx"), "fp16": Path("m16.onnx")}


@pytest.mark.parametrize(
    ("backend", "device", "onnx", "cuda_torch", "cuda_ort", "expected"),
    [
        ("auto", "auto", ONNX_ALL, False, False, Choice("onnx", "cpu", "int8")),
        ("auto", "auto", {"fp32": Path("m.onnx")}, False, False, Choice("onnx", "cpu", "fp32")),
        ("auto", "auto", {}, False, False, Choice("torch", "cpu", "fp32")),
        ("auto", "auto", ONNX_ALL, True, True, Choice("onnx", "cuda", "fp16")),
        ("auto", "auto", ONNX_ALL, True, False, Choice("torch", "cuda", "fp16")),
        ("auto", "cpu", ONNX_ALL, True, True, Choice("onnx", "cpu", "int8")),
        ("torch", "auto", ONNX_ALL, False, False, Choice("torch", "cpu", "fp32")),
        ("torch", "auto", ONNX_ALL, True, False, Choice("torch", "cuda", "fp16")),
        ("onnx", "auto", ONNX_ALL, True, False, Choice("onnx", "cpu", "int8")),
        ("onnx", "cuda", {"fp32": Path("m.onnx")}, False, True, Choice("onnx", "cuda", "fp32")),
    ],
)
def test_choice(backend, device, onnx, cuda_torch, cuda_ort, expected):
    assert choose(backend, device, onnx, cuda_torch, cuda_ort) == expected


def test_onnx_without_export_says_how_to_export():
    with pytest.raises(ModelError, match="sentimon model export"):
        choose("onnx", "cpu", {}, False, False)


def test_cuda_requested_without_gpu_is_a_config_error():
    with pytest.raises(ConfigError, match="SENTIMON_DEVICE"):
        choose("auto", "cuda", ONNX_ALL, False, False)


def test_missing_default_model_says_make_model(tmp_path: Path):
    with pytest.raises(ModelError, match=r"no default model at .*default: run `make model`"):
        locate.resolve("default", tmp_path)


def test_resolution_of_dirs_and_hub_ids(tmp_path: Path):
    model_dir = tmp_path / "my-model"
    model_dir.mkdir()
    with pytest.raises(ModelError, match=r"config\.json"):
        locate.resolve(str(model_dir), tmp_path)
    (model_dir / "config.json").write_text("{}")
    (model_dir / "onnx").mkdir()
    (model_dir / "onnx" / "model_int8.onnx").write_bytes(b"x")
    ref = locate.resolve(str(model_dir), tmp_path)
    assert ref.is_local and ref.name == "my-model"
    assert locate.onnx_files(ref.local_dir) == {"int8": model_dir / "onnx" / "model_int8.onnx"}
    hub = locate.resolve("ProsusAI/finbert", tmp_path)
    assert not hub.is_local and hub.source == "ProsusAI/finbert"
    with pytest.raises(ModelError, match="does not exist"):
        locate.resolve("./nowhere/model", tmp_path)


def test_model_id_carries_name_version_backend_and_precision(tmp_path: Path):
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"weights v1")
    ref = locate.ModelRef(str(tmp_path), tmp_path, "default")
    v1 = locate.version_of(ref, weights)
    weights.write_bytes(b"weights v2")
    v2 = locate.version_of(ref, weights)
    assert v1 != v2 and len(v1) == 8
    assert locate.model_id(ref, v1, "onnx", "int8") == f"default@{v1}:onnx-int8"


@pytest.mark.parametrize(
    ("cores", "requested", "expected"),
    [(1, 0, (1, 1)), (2, 0, (2, 1)), (16, 0, (2, 8)), (16, 4, (4, 4)), (2, 3, (3, 1))],
)
def test_cpu_workers_split_the_cores(monkeypatch, cores, requested, expected):
    from inference import onnx_backend

    monkeypatch.setattr(onnx_backend, "cpu_threads", lambda: cores)
    assert onnx_backend.cpu_workers(requested) == expected


def test_concurrency_defaults_to_one():
    from inference.scorer import concurrency_of

    class Plain:
        model_id = "x@0"

    class Pooled:
        model_id = "x@0"
        concurrency = 3

    assert concurrency_of(Plain()) == 1  # type: ignore[arg-type]
    assert concurrency_of(Pooled()) == 3  # type: ignore[arg-type]


def test_the_token_budget_defaults_per_device_and_a_setting_wins() -> None:
    from inference.batching import CPU_TOKEN_BUDGET, CUDA_TOKEN_BUDGET, token_budget

    assert token_budget(0, "cpu") == CPU_TOKEN_BUDGET == 1024
    assert token_budget(0, "cuda") == CUDA_TOKEN_BUDGET > CPU_TOKEN_BUDGET
    assert token_budget(4096, "cpu") == token_budget(4096, "cuda") == 4096


def test_a_token_budget_too_small_to_hold_a_text_names_the_field() -> None:
    from sentimon.settings import load_settings

    with pytest.raises(ConfigError, match=r"token_budget \(SENTIMON_TOKEN_BUDGET\)"):
        load_settings(token_budget=64)


@pytest.fixture
def onnx_model_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A model directory with an int8 export (nothing loads it), on a 2-core CPU machine."""
    from inference import loader, onnx_backend

    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "onnx").mkdir()
    (tmp_path / "onnx" / "model_int8.onnx").write_bytes(b"")
    monkeypatch.setattr(loader, "torch_cuda_available", lambda: False)
    monkeypatch.setattr(onnx_backend, "cuda_provider_available", lambda: False)
    monkeypatch.setattr(onnx_backend, "cpu_threads", lambda: 2)
    return tmp_path


def test_the_runtime_says_when_batches_are_scored_side_by_side(onnx_model_dir: Path) -> None:
    from inference.loader import scores_concurrently
    from sentimon.settings import load_settings

    assert scores_concurrently(load_settings(model=str(onnx_model_dir)))
    assert not scores_concurrently(load_settings(model=str(onnx_model_dir), score_workers=1))
    assert not scores_concurrently(load_settings(model=str(onnx_model_dir), backend="torch"))
    (onnx_model_dir / "onnx" / "model_int8.onnx").unlink()  # torch serves it
    assert not scores_concurrently(load_settings(model=str(onnx_model_dir)))
    assert not scores_concurrently(load_settings(model=str(onnx_model_dir / "missing")))


def test_the_consume_command_not_the_runtime_sets_tokenizers_parallelism(
    onnx_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from sentimon.cli.consume_cmd import serial_tokenizer
    from sentimon.settings import load_settings

    settings = load_settings(model=str(onnx_model_dir))
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "true")
    serial_tokenizer(settings)
    assert os.environ["TOKENIZERS_PARALLELISM"] == "true"  # the user's choice stays
    monkeypatch.delenv("TOKENIZERS_PARALLELISM")
    serial_tokenizer(load_settings(model=str(onnx_model_dir), score_workers=1))
    assert "TOKENIZERS_PARALLELISM" not in os.environ  # one batch at a time: the pool helps
    serial_tokenizer(settings)
    assert os.environ["TOKENIZERS_PARALLELISM"] == "false"
