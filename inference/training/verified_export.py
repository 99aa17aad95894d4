"""Export, then prove the exports match the original before anything can serve them.

A file that fails parity is renamed to ``*.failed-parity`` (so ``backend=auto`` never
picks it up) and :class:`ParityError` is raised with the measured figures.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from inference import locate, onnx_backend, torch_backend
from inference.batching import token_budget
from inference.scorer import Scorer
from inference.training import dataset, export, parity
from inference.training.dataset import Labelled

log = logging.getLogger(__name__)

PARITY_SAMPLE_SIZE = 1000


def default_sample() -> Labelled:
    """The bundled labelled headlines (written for this project)."""
    data_dir = Path(__file__).resolve().parents[1] / "data"
    parts = [dataset.read_labelled(p) for p in sorted(data_dir.glob("headlines_*.csv"))]
    return dataset.concat(parts)


def _reference(model_dir: Path, max_length: int) -> Scorer:
    ref = locate.resolve(str(model_dir), model_dir.parent)
    return torch_backend.build(
        ref,
        device="cpu",
        precision="fp32",
        label_map=None,
        max_length=max_length,
        token_budget=token_budget(0, "cpu"),
    )


def _candidate(out_dir: Path, path: Path, precision: str, max_length: int) -> Scorer:
    ref = locate.resolve(str(out_dir), out_dir.parent)
    device = "cuda" if precision == "fp16" else "cpu"
    return onnx_backend.build(
        ref,
        path,
        precision=precision,
        device=device,
        label_map=None,
        max_length=max_length,
        token_budget=token_budget(0, device),
    )


def _quarantine(path: Path) -> None:
    target = path.with_name(path.name + ".failed-parity")
    path.replace(target)
    log.error("moved %s to %s: it failed parity and must not be served", path, target)


def export_verified(
    model_dir: Path,
    out_dir: Path,
    *,
    int8: bool = False,
    fp16: bool = False,
    sample: Labelled | None = None,
    max_length: int = 128,
) -> dict[str, Any]:
    """Export ``model_dir`` to ``out_dir`` and check every file; returns the parity figures."""
    model_dir, out_dir = Path(model_dir), Path(out_dir)
    written = export.export(model_dir, out_dir, int8=int8, fp16=fp16)
    sample = dataset.sample(sample or default_sample(), PARITY_SAMPLE_SIZE, seed=0)
    reference = _reference(model_dir, max_length)
    reports: dict[str, Any] = {}
    for precision, path in written.items():
        if precision == "fp16" and not onnx_backend.cuda_provider_available():
            log.warning("%s written but not parity-checked: fp16 needs onnxruntime-gpu", path)
            reports[precision] = {"checked": False, "path": str(path)}
            continue
        candidate = _candidate(out_dir, path, precision, max_length)
        report = parity.compare(reference, candidate, sample, precision)
        if not report.passed:
            _quarantine(path)
        parity.require(report, candidate.model_id)
        # a re-export that passes supersedes an earlier failed one
        path.with_name(path.name + ".failed-parity").unlink(missing_ok=True)
        reports[precision] = {"checked": True, "path": str(path), **report.as_dict()}
    return reports
