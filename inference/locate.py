"""Where a model lives and what version it is.

``settings.model`` is ``"default"`` (the fine-tuned model ``make model`` builds into
``<model_cache>/default``), a local model directory, or a Hugging Face Hub id. A model
directory may carry ONNX exports in ``onnx/`` (or next to its config) named
``model.onnx`` (fp32), ``model_int8.onnx`` and ``model_fp16.onnx``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from sentimon.errors import ModelError

log = logging.getLogger(__name__)

DEFAULT_NAME = "default"
ONNX_FILES: dict[str, str] = {
    "fp32": "model.onnx",
    "int8": "model_int8.onnx",
    "fp16": "model_fp16.onnx",
}
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


@dataclass(frozen=True)
class ModelRef:
    """A resolved model: a local directory, or a hub id handed to ``from_pretrained``."""

    source: str
    local_dir: Path | None
    name: str

    @property
    def is_local(self) -> bool:
        return self.local_dir is not None


def resolve(model: str, model_cache: Path) -> ModelRef:
    """Resolve ``settings.model`` to a :class:`ModelRef`, or raise ModelError saying what to do."""
    if model == DEFAULT_NAME:
        path = Path(model_cache) / DEFAULT_NAME
        if not (path / "config.json").is_file():
            raise ModelError(f"no default model at {path}: run `make model`")
        return ModelRef(str(path), path, DEFAULT_NAME)
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelError(f"{path} is not a model directory (no config.json)")
        return ModelRef(str(path), path, path.resolve().name)
    if model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise ModelError(f"model directory {path} does not exist: check SENTIMON_MODEL / --model")
    return ModelRef(model, None, model)


def onnx_files(model_dir: Path | None) -> dict[str, Path]:
    """ONNX exports found for a local model, by precision."""
    if model_dir is None:
        return {}
    found: dict[str, Path] = {}
    for folder in (model_dir / "onnx", model_dir):
        for precision, filename in ONNX_FILES.items():
            candidate = folder / filename
            if precision not in found and candidate.is_file():
                found[precision] = candidate
    return found


def weights_file(model_dir: Path) -> Path | None:
    for name in WEIGHT_FILES:
        if (model_dir / name).is_file():
            return model_dir / name
    return None


def short_hash(path: Path, length: int = 8) -> str:
    """First characters of the SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:length]


def version_of(ref: ModelRef, artefact: Path | None, commit: str | None = None) -> str:
    """A short version for a model: hash of the weights actually served, or the hub commit."""
    if artefact is not None and artefact.is_file():
        return short_hash(artefact)
    if commit:
        return commit[:8]
    log.warning("model %s has no weights file or commit hash to version it by", ref.name)
    return "unversioned"


def model_id(ref: ModelRef, version: str, backend: str, precision: str) -> str:
    """Identifier every scored post records, e.g. ``default@1a2b3c4d:onnx-int8``."""
    return f"{ref.name}@{version}:{backend}-{precision}"


def read_json(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelError(f"{path} does not hold a JSON object")
    return data
