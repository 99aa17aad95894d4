"""Sentiment inference at serving time: one scorer interface over torch and ONNX Runtime.

Model building (training, distillation, export, evaluation) lives in
``inference.training``; nothing here imports it. Heavy libraries (torch, transformers,
onnxruntime) are imported only when a scorer is actually built, so importing this package
stays cheap.
"""

from inference.loader import load_scorer
from inference.scorer import LABELS, ScoreBatch, Scorer

__all__ = ["LABELS", "ScoreBatch", "Scorer", "load_scorer"]
