"""``load_scorer(settings)``: resolve the model, pick the backend, build the scorer.

``backend=auto`` picks the fastest thing available and logs the choice:

- CUDA GPU: ONNX fp16 when onnxruntime-gpu and a ``model_fp16.onnx`` exist, else torch fp16;
- CPU: ONNX int8 when ``model_int8.onnx`` exists, else ONNX fp32, else torch fp32.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from inference import locate, onnx_backend, torch_backend
from inference.batching import token_budget
from inference.calibration import CalibratedScorer, Calibration, load_calibration
from inference.cascade import CascadeScorer
from inference.onnx_backend import cpu_workers, cuda_provider_available
from inference.scorer import Scorer
from sentimon.errors import ConfigError, ModelError, SentimonError
from sentimon.settings import get_settings

if TYPE_CHECKING:
    from sentimon.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Choice:
    backend: str
    device: str
    precision: str


def torch_cuda_available() -> bool:
    try:
        import torch  # noqa: PLC0415 (heavy: loaded only when used)
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return bool(torch.cuda.is_available())


def _gpu_choice(
    backend: str, onnx: dict[str, Path], cuda_torch: bool, cuda_ort: bool
) -> Choice | None:
    """Best CUDA option for ``backend``, or None when there is none."""
    ort_precision = next((p for p in ("fp16", "fp32") if p in onnx), None)
    ort_ok = cuda_ort and ort_precision is not None
    if backend == "onnx" or (backend == "auto" and ort_ok and ort_precision == "fp16"):
        return Choice("onnx", "cuda", ort_precision) if ort_ok and ort_precision else None
    if cuda_torch:
        return Choice("torch", "cuda", "fp16")
    if backend == "auto" and ort_ok and ort_precision:
        return Choice("onnx", "cuda", ort_precision)
    return None


def _cpu_choice(backend: str, onnx: dict[str, Path]) -> Choice:
    if backend != "torch":
        for precision in ("int8", "fp32"):
            if precision in onnx:
                return Choice("onnx", "cpu", precision)
        if backend == "onnx":
            raise ModelError(
                "backend=onnx but the model has no CPU ONNX export: run `sentimon model export "
                "--model DIR --out DIR/onnx --quantize int8`, or use SENTIMON_BACKEND=torch"
            )
    return Choice("torch", "cpu", "fp32")


def choose(
    backend: str, device: str, onnx: dict[str, Path], cuda_torch: bool, cuda_ort: bool
) -> Choice:
    """Backend, device and precision for the requested settings and what is installed."""
    if device in ("cuda", "auto") and (cuda_torch or cuda_ort):
        gpu = _gpu_choice(backend, onnx, cuda_torch, cuda_ort)
        if gpu is not None:
            return gpu
    if device == "cuda":
        raise ConfigError(
            f"device=cuda (SENTIMON_DEVICE) but backend {backend} has no CUDA path here: "
            "install a CUDA build of torch or onnxruntime-gpu, or use SENTIMON_DEVICE=cpu"
        )
    return _cpu_choice(backend, onnx)


def plan(
    settings: Settings,
    *,
    model: str | None = None,
    backend: str | None = None,
    device: str | None = None,
    precision: str | None = None,
) -> tuple[locate.ModelRef, dict[str, Path], Choice]:
    """The model, its ONNX files and the choice ``load_scorer`` makes, loading nothing."""
    ref = locate.resolve(model or settings.model, settings.model_cache)
    found = locate.onnx_files(ref.local_dir)

    pool = found if precision is None else {k: v for k, v in found.items() if k == precision}
    choice = choose(
        backend or settings.backend,
        device or settings.device,
        pool,
        torch_cuda_available(),
        cuda_provider_available(),
    )
    if precision is not None and choice.precision != precision:
        if choice.backend != "torch":
            raise ModelError(f"no {precision} ONNX file for {ref.name}: export it first")
        choice = Choice("torch", choice.device, precision)
    return ref, found, choice


def scores_concurrently(settings: Settings) -> bool:
    """Whether ``load_scorer(settings)`` builds a scorer that scores batches side by side
    (ONNX Runtime on the CPU with ``score_workers`` > 1, or auto on two cores or more).

    Such a scorer wants ``TOKENIZERS_PARALLELISM=false``: every core already runs a batch,
    and the fast tokenizer's thread pool only adds threads competing for them. The
    ``tokenizers`` package has no per-tokenizer switch (its Rust pool reads the variable
    on every batch call) and this library does not change the environment, so an entry
    point sets it (``sentimon consume`` does). False where the model does not resolve
    (``load_scorer`` then says why)."""
    if settings.backend == "torch" or settings.device == "cuda":
        return False
    try:
        ref = locate.resolve(settings.model, settings.model_cache)
        if not locate.onnx_files(ref.local_dir):
            return False  # torch serves it
        _, _, choice = plan(settings)
    except SentimonError:
        return False
    if (choice.backend, choice.device) != ("onnx", "cpu"):
        return False

    return cpu_workers(settings.score_workers)[0] > 1


def load_scorer(
    settings: Settings | None = None,
    *,
    model: str | None = None,
    backend: str | None = None,
    device: str | None = None,
    precision: str | None = None,
    calibrate: bool | None = None,
    cascade: str | None = None,
) -> Scorer:
    """The scorer ``settings`` ask for; keyword arguments override single fields.

    ``precision`` (fp32, int8, fp16, bf16) pins the ONNX file or torch dtype instead of
    letting ``auto`` pick; benchmarks use it to compare variants of one model.
    ``calibrate`` applies the model's ``calibration.json`` (default: ``settings.calibrate``);
    ``cascade`` (auto, on, off; default ``settings.cascade``) adds the accurate model for
    the posts the served one is unsure of (``inference.cascade``).
    """
    if settings is None:
        settings = get_settings()
    calibrate = settings.calibrate if calibrate is None else calibrate
    served, ref = _load_one(settings, model, backend, device, precision, calibrate)
    teacher_model = _cascade_model(settings, ref, cascade or settings.cascade)
    if teacher_model is None:
        return served
    teacher, _ = _load_one(settings, teacher_model, backend, device, precision, calibrate)
    threshold = _cascade_threshold(settings, served)
    log.info("cascade: %s re-scores posts below confidence %.3f", teacher.model_id, threshold)
    return CascadeScorer(served, teacher, threshold)


def _cascade_model(settings: Settings, served: locate.ModelRef, mode: str) -> str | None:
    """The accurate model's directory when the cascade is on, else None."""
    if mode == "off":
        return None
    path = Path(settings.cascade_model).expanduser()
    if not path.is_dir():
        path = Path(settings.model_cache) / settings.cascade_model
    built = (path / "config.json").is_file() and bool(
        locate.onnx_files(path) or locate.weights_file(path)
    )
    if mode == "on":
        if not built:
            raise ModelError(
                f"SENTIMON_CASCADE=on but the accurate model {path} is not built: run "
                "`make teacher`, or set SENTIMON_CASCADE=off"
            )
        return str(path)
    return str(path) if built and served.name == locate.DEFAULT_NAME else None


def _cascade_threshold(settings: Settings, served: Scorer) -> float:
    if settings.cascade_threshold is not None:
        return float(settings.cascade_threshold)
    calibration = getattr(served, "calibration", None)
    if not isinstance(calibration, Calibration):
        raise ModelError(
            "the cascade needs the served model's calibration.json to turn "
            "SENTIMON_CASCADE_SHARE into a threshold: rebuild it with `make model`, or set "
            "SENTIMON_CASCADE_THRESHOLD"
        )
    return calibration.threshold_for_share(settings.cascade_share)


def _load_one(
    settings: Settings,
    model: str | None,
    backend: str | None,
    device: str | None,
    precision: str | None,
    calibrate: bool,
) -> tuple[Scorer, locate.ModelRef]:
    """One model's scorer, calibrated when asked and it has a calibration."""
    scorer, ref = _build(settings, model, backend, device, precision)
    calibration = load_calibration(ref.local_dir) if calibrate else None
    if calibration is None:
        return scorer, ref
    return CalibratedScorer(scorer, calibration), ref


def _build(
    settings: Settings,
    model: str | None,
    backend: str | None,
    device: str | None,
    precision: str | None,
) -> tuple[Scorer, locate.ModelRef]:
    ref, found, choice = plan(
        settings, model=model, backend=backend, device=device, precision=precision
    )
    log.info(
        "scoring with %s: %s on %s, %s", ref.name, choice.backend, choice.device, choice.precision
    )
    label_map = settings.label_map or None
    if choice.backend == "onnx":
        scorer: Scorer = onnx_backend.build(
            ref,
            found[choice.precision],
            precision=choice.precision,
            device=choice.device,
            label_map=label_map,
            max_length=settings.max_length,
            token_budget=token_budget(settings.token_budget, choice.device),
            workers=settings.score_workers,
        )
    else:
        scorer = torch_backend.build(
            ref,
            device=choice.device,
            precision=choice.precision,
            label_map=label_map,
            max_length=settings.max_length,
            token_budget=token_budget(settings.token_budget, choice.device),
        )
    return scorer, ref
