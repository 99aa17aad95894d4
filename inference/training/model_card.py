"""The files written next to a trained model: ``metrics.json`` and a short ``README.md`` card."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from inference.scorer import LABELS

DATA_CREDIT = (
    "Twitter Financial News sentiment by zeroshot "
    "(Hugging Face Hub: `zeroshot/twitter-financial-news-sentiment`), MIT licence"
)


def write_metrics(out_dir: Path, metrics: dict[str, Any]) -> Path:
    path = out_dir / "metrics.json"
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def write_card(out_dir: Path, info: dict[str, Any]) -> Path:
    """A model card from ``info``: base, data, label_map, metrics, seed, config."""
    best = info.get("best", {})
    lines = [
        f"# {info.get('name', out_dir.name)}: financial sentiment classifier",
        "",
        f"- Base model: `{info.get('base', '?')}`",
        f"- Training data: {', '.join(info.get('train_files', [])) or '?'}",
        f"- Data credit and licence: {info.get('data_credit', DATA_CREDIT)}",
        f"- Validation data (model selection only): {info.get('valid_file') or 'none'}",
        f"- Labels (output order): {', '.join(f'{i}={name}' for i, name in enumerate(LABELS))}",
        f"- Label map applied to the CSV labels: {info.get('label_map') or 'names / default'}",
        f"- Seed: {info.get('seed')}",
        f"- Trained: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        "",
        "## Metrics (best checkpoint)",
        "",
    ]
    lines += [f"- {key}: {_fmt(value)}" for key, value in sorted(best.items())] or ["- none"]
    lines += ["", "## Training configuration", ""]
    lines += [f"- {key}: {value}" for key, value in sorted(info.get("config", {}).items())]
    lines += [
        "",
        "Load it with `SENTIMON_MODEL=<this directory>` or "
        "`AutoModelForSequenceClassification.from_pretrained(<this directory>)`.",
        "",
    ]
    path = out_dir / "README.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
