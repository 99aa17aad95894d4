"""PyTorch backend: CPU fp32, or CUDA fp16/bf16, through ``from_pretrained``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from inference import locate
from inference.batched import BatchedScorer
from inference.labels import label_matrix
from sentimon.errors import ModelError

log = logging.getLogger(__name__)

PRECISIONS = ("fp32", "fp16", "bf16")


def load_pretrained(source: str) -> tuple[Any, Any]:
    """Tokenizer and sequence-classification model from a directory or a hub id."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer  # noqa: PLC0415 (heavy: loaded only when used)

    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForSequenceClassification.from_pretrained(source)
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"cannot load model {source!r}: {exc}. Use a local model directory, run "
            "`make model` for the default one, or check the hub id and your network "
            "(HF_HUB_OFFLINE=1 forbids downloads)"
        ) from exc
    if not getattr(tokenizer, "is_fast", False):
        log.warning("tokenizer of %s is not a fast tokenizer: scoring will be slower", source)
    return tokenizer, model


class TorchScorer(BatchedScorer):
    """Scores with a transformers model on CPU or CUDA."""

    backend = "torch"

    def __init__(
        self, tokenizer: Any, model: Any, *, device: str, precision: str, model_id: str, **kw: Any
    ) -> None:
        import torch  # noqa: PLC0415 (heavy: loaded only when used)

        dtypes = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
        if precision not in dtypes:
            raise ModelError(f"unknown precision {precision!r}: use one of {PRECISIONS}")
        if device == "cpu" and precision != "fp32":
            raise ModelError("half precision needs CUDA: use precision fp32 on CPU")
        self.device = torch.device(device)
        self.model = model.to(device=self.device, dtype=dtypes[precision]).eval()
        self._input_names = {"input_ids", "attention_mask", "token_type_ids"}
        matrix = label_matrix(model.config.id2label, kw.pop("label_map", None))
        super().__init__(tokenizer, matrix, model_id, **kw)

    def forward(self, inputs: dict[str, np.ndarray], *, alone: bool = True) -> np.ndarray:
        import torch  # noqa: PLC0415 (heavy: loaded only when used)

        feed = {
            key: torch.from_numpy(value).to(self.device, non_blocking=True)
            for key, value in inputs.items()
            if key in self._input_names
        }
        with torch.inference_mode():
            logits = self.model(**feed).logits
        return np.asarray(logits.float().cpu().numpy())


def build(
    ref: locate.ModelRef,
    *,
    device: str,
    precision: str,
    label_map: Mapping[str, str] | None,
    max_length: int,
    token_budget: int,
) -> TorchScorer:
    """A TorchScorer for ``ref``, versioned by its weights file or hub commit."""
    tokenizer, model = load_pretrained(ref.source)
    artefact = locate.weights_file(ref.local_dir) if ref.local_dir else None
    version = locate.version_of(ref, artefact, getattr(model.config, "_commit_hash", None))
    return TorchScorer(
        tokenizer,
        model,
        device=device,
        precision=precision,
        model_id=locate.model_id(ref, version, "torch", precision),
        label_map=label_map,
        max_length=max_length,
        token_budget=token_budget,
    )
