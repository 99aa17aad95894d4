"""ONNX Runtime backend: CPU with tuned threads, or CUDA with IO binding.

Needs an exported model (``sentimon model export``): the ``.onnx`` file plus the tokenizer
and ``config.json`` (for the label names) in the model directory or its ``onnx/`` folder.

On a CPU with two cores or more, batches are scored side by side; tokenizing then goes
faster on the calling threads, with ``TOKENIZERS_PARALLELISM=false`` in the environment.
This module does not set it (a library does not change its host's environment; the
``tokenizers`` package has no per-tokenizer switch): ``sentimon consume`` sets it unless
already set, and a program scoring concurrently through the library should too.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from inference import locate
from inference.batched import BatchedScorer
from inference.labels import label_matrix
from sentimon.errors import ModelError

log = logging.getLogger(__name__)

CUDA_PROVIDER = "CUDAExecutionProvider"


def cpu_threads() -> int:
    """Cores this process may run on: intra-op threads beyond that only contend."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def cpu_workers(requested: int = 0) -> tuple[int, int]:
    """(batches scored at once, intra-op threads each) on the CPU for ``requested``
    workers (0 = auto: two, so one batch's Python work overlaps the other's matrix work
    and no run waits at a thread barrier for a core that another thread holds)."""
    cores = cpu_threads()
    workers = requested or min(2, cores)
    return workers, max(1, cores // workers)


def cuda_provider_available() -> bool:
    try:
        import onnxruntime as ort  # noqa: PLC0415 (heavy: loaded only when used)
    except ImportError:
        return False
    return CUDA_PROVIDER in ort.get_available_providers()


def make_session(path: Path, device: str, threads: int | None = None) -> Any:
    """An InferenceSession on ``device`` with full graph optimisation."""
    try:
        import onnxruntime as ort  # noqa: PLC0415 (heavy: loaded only when used)
    except ImportError as exc:
        raise ModelError("onnxruntime is not installed: pip install 'sentimon[cpu]'") from exc
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = threads or cpu_threads()
    options.inter_op_num_threads = 1
    # No busy-waiting between ops: the consumer shares its cores with the Kafka client and
    # Redis, and on a shared 2-core machine spinning threads halved throughput.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if device == "cuda":
        if not cuda_provider_available():
            raise ModelError("onnxruntime has no CUDA provider: pip install 'sentimon[gpu]'")
        providers = [CUDA_PROVIDER, "CPUExecutionProvider"]
    else:
        providers = ["CPUExecutionProvider"]
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own exception types
        raise ModelError(f"cannot load ONNX model {path}: {exc}") from exc


class OnnxScorer(BatchedScorer):
    """Scores with an ONNX Runtime session."""

    backend = "onnx"

    def __init__(
        self,
        session: Any,
        tokenizer: Any,
        matrix: np.ndarray,
        model_id: str,
        *,
        concurrency: int = 1,
        narrow: Any = None,
        **kw: Any,
    ):
        self.session = session
        #: the session concurrent calls use (fewer intra-op threads each); None: ``session``
        self.narrow = narrow
        self._input_names = [node.name for node in session.get_inputs()]
        self._output_name = session.get_outputs()[0].name
        self._cuda = session.get_providers()[0] == CUDA_PROVIDER
        super().__init__(tokenizer, matrix, model_id, **kw)
        # InferenceSession.run is thread-safe: concurrent calls share the narrow session.
        self.concurrency = 1 if self._cuda or narrow is None else concurrency

    def forward(self, inputs: dict[str, np.ndarray], *, alone: bool = True) -> np.ndarray:
        feed = {name: inputs[name] for name in self._input_names}
        if self._cuda:
            return self._forward_bound(feed)
        session = self.session if alone or self.narrow is None else self.narrow
        (logits,) = session.run([self._output_name], feed)
        return np.asarray(logits, dtype=np.float32)

    def _forward_bound(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        """Inputs copied to the GPU once, output allocated there: no per-node host copies."""
        import onnxruntime as ort  # noqa: PLC0415 (heavy: loaded only when used)

        binding = self.session.io_binding()
        for name, value in feed.items():
            binding.bind_ortvalue_input(name, ort.OrtValue.ortvalue_from_numpy(value, "cuda", 0))
        binding.bind_output(self._output_name, "cuda", 0)
        self.session.run_with_iobinding(binding)
        return np.asarray(binding.copy_outputs_to_cpu()[0], dtype=np.float32)


def build(
    ref: locate.ModelRef,
    onnx_path: Path,
    *,
    precision: str,
    device: str,
    label_map: Mapping[str, str] | None,
    max_length: int,
    token_budget: int,
    workers: int = 0,
) -> OnnxScorer:
    """An OnnxScorer for ``onnx_path``, tokenizer and labels read from beside it."""
    from transformers import AutoConfig, AutoTokenizer  # noqa: PLC0415 (heavy: loaded only when used)

    folder = onnx_path.parent
    meta = folder if (folder / "config.json").is_file() else ref.source
    try:
        tokenizer = AutoTokenizer.from_pretrained(meta)
        config = AutoConfig.from_pretrained(meta)
    except (OSError, ValueError) as exc:
        raise ModelError(f"no tokenizer/config.json beside {onnx_path}: {exc}") from exc
    matrix = label_matrix(config.id2label, label_map)
    version = locate.version_of(ref, onnx_path)
    concurrency, threads = cpu_workers(workers) if device == "cpu" else (1, None)
    # A call running alone gets every core; calls running beside each other (a full
    # consumer pipeline) share a second session with fewer threads each.
    narrow = None
    if concurrency > 1:
        # Wants TOKENIZERS_PARALLELISM=false, which the entry point sets, not this
        # library (``inference.loader.scores_concurrently``).
        narrow = make_session(onnx_path, device, threads)
    if device == "cpu":
        log.info(
            "onnx: up to %d batch(es) at once (%d intra-op thread(s) each; %d alone)",
            concurrency,
            threads,
            cpu_threads(),
        )
    return OnnxScorer(
        make_session(onnx_path, device),
        tokenizer,
        matrix,
        locate.model_id(ref, version, "onnx", precision),
        concurrency=concurrency,
        narrow=narrow,
        max_length=max_length,
        token_budget=token_budget,
    )
