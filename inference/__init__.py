"""Sentiment inference: one scorer interface over torch and ONNX Runtime backends."""

from inference.scorer import LABELS, ScoreBatch, Scorer

__all__ = ["LABELS", "ScoreBatch", "Scorer"]
