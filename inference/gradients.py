"""Word attributions by integrated gradients on the torch model (the ``explain`` extra).

Captum's ``LayerIntegratedGradients`` integrates the gradient of the output along a
straight path from a baseline (every word piece replaced by the padding token, the
special tokens kept) to the post, in the word-embedding layer; a word's weight is the sum
of its word pieces' attributions. One ``attribute`` call attributes both outputs (the
predicted label's probability and the score) by running the post twice with one target
each. It needs the torch model (``SENTIMON_BACKEND=torch`` or the model's safetensors
beside its ONNX files) and Captum: ``pip install 'sentimon[explain]'``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from inference.explain import Explanation, build, label_index, word_spans
from inference.torch_backend import TorchScorer
from sentimon.errors import ModelError

#: Points on the integration path; 32 keeps the completeness error small on MiniLM.
STEPS = 32


class IntegratedGradients:
    """Integrated gradients over a ``TorchScorer``'s model (fp32)."""

    method = "integrated-gradients"

    def __init__(self, scorer: TorchScorer, steps: int = STEPS) -> None:
        try:
            from captum.attr import LayerIntegratedGradients  # noqa: PLC0415 (optional extra)
        except ImportError as exc:
            raise ModelError(
                "integrated gradients need Captum: pip install 'sentimon[explain]'"
            ) from exc
        self.scorer = scorer
        self.steps = steps
        model = scorer.model
        self._ig = LayerIntegratedGradients(self._outputs, model.get_input_embeddings())

    def _outputs(self, input_ids: Any, attention_mask: Any, label: int) -> Any:
        """(rows, 2): P(canonical ``label``) and P(positive) - P(negative)."""
        import torch  # noqa: PLC0415 (heavy: loaded only when used)

        logits = self.scorer.model(input_ids=input_ids, attention_mask=attention_mask).logits
        matrix = torch.from_numpy(self.scorer.label_matrix).to(logits.device)
        probs = torch.softmax(logits.float(), dim=-1) @ matrix
        return torch.stack([probs[:, label], probs[:, 2] - probs[:, 0]], dim=1)

    def explain(self, text: str) -> Explanation:
        import torch  # noqa: PLC0415 (heavy: loaded only when used)

        tokenizer = self.scorer.tokenizer
        enc = tokenizer(
            [text, text],
            truncation=True,
            max_length=self.scorer.max_length,
            return_offsets_mapping=True,
            return_special_tokens_mask=True,
            return_tensors="pt",
        )
        device = self.scorer.device
        ids = enc["input_ids"].to(device)
        mask = enc["attention_mask"].to(device)
        special = enc["special_tokens_mask"].bool().to(device)
        baseline = torch.where(special, ids, torch.full_like(ids, tokenizer.pad_token_id or 0))
        base = self.scorer.score([text]).probs[0].astype(np.float64)
        attributions = self._ig.attribute(
            ids,
            baselines=baseline,
            additional_forward_args=(mask, label_index(base)),
            target=[0, 1],
            n_steps=self.steps,
        )
        per_token = attributions.sum(dim=-1).detach().cpu().numpy().astype(np.float64)
        spans = word_spans(text)
        offsets = enc["offset_mapping"][0].tolist()
        label_w = _per_word(per_token[0], offsets, spans)
        score_w = _per_word(per_token[1], offsets, spans)
        return build(
            text, spans, base, label_w, score_w, method=self.method, model_id=self.scorer.model_id
        )


def _per_word(
    token_weights: np.ndarray, offsets: list[list[int]], spans: list[tuple[int, int]]
) -> np.ndarray:
    """Sum the word pieces' weights into the words whose span holds them."""
    out = np.zeros(len(spans), dtype=np.float64)
    starts = np.array([s for s, _ in spans], dtype=np.int64)
    ends = np.array([e for _, e in spans], dtype=np.int64)
    for weight, (begin, finish) in zip(token_weights, offsets, strict=True):
        if finish <= begin or not spans:
            continue  # special and padding tokens
        word = int(np.searchsorted(starts, begin, side="right")) - 1
        if word >= 0 and begin < ends[word]:
            out[word] += weight
    return out
