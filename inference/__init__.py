"""Sentiment inference: one scorer interface over torch and ONNX Runtime backends.

Heavy libraries (torch, transformers, onnxruntime) are imported only when a scorer or a
model is actually built, so importing this package stays cheap.
"""

from inference.loader import load_scorer
from inference.scorer import LABELS, ScoreBatch, Scorer

__all__ = ["LABELS", "ScoreBatch", "Scorer", "build_tiny_model", "load_scorer"]


def __getattr__(name: str) -> object:
    if name == "build_tiny_model":
        from inference.tiny import build_tiny_model

        return build_tiny_model
    raise AttributeError(f"module 'inference' has no attribute {name!r}")
