"""ONNX export of a model directory: fp32 (graph-optimised), int8 dynamic, fp16.

The output directory is self-contained for the ONNX backend: ``model.onnx`` (fp32,
transformer-fused), optionally ``model_int8.onnx`` (dynamic int8, for CPU) and
``model_fp16.onnx`` (for GPU), plus the tokenizer and ``config.json``. Runtime code
lives in :mod:`inference.onnx_backend`; parity checks in :mod:`inference.training.parity`.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from inference.locate import ONNX_FILES
from sentimon.errors import ModelError

log = logging.getLogger(__name__)

OPSET = 17
#: Model types the onnxruntime transformer optimiser fuses with its BERT rules.
BERT_LIKE = {"bert", "roberta", "xlm-roberta", "distilbert", "electra", "camembert", "mpnet"}
META_FILES = (
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "merges.txt",
    "vocab.json",
    "sentencepiece.bpe.model",
)


def logits_only(model: Any) -> Any:
    """Wrap a classifier so the traced graph takes (input_ids, attention_mask) -> logits."""
    import torch  # noqa: PLC0415 (heavy: loaded only when used)

    class LogitsOnly(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).logits

    return LogitsOnly(model).eval()


def load_for_export(model_dir: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer  # noqa: PLC0415 (heavy: loaded only when used)

    if not (Path(model_dir) / "config.json").is_file():
        raise ModelError(f"{model_dir} is not a model directory (no config.json)")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir, attn_implementation="eager"
    )
    return tokenizer, model.eval()


def export_fp32_raw(model: Any, tokenizer: Any, path: Path) -> None:
    """Trace ``model`` to ONNX with dynamic batch and sequence axes (TorchScript exporter)."""
    import torch  # noqa: PLC0415 (heavy: loaded only when used)

    sample = tokenizer(
        ["a short sample", "a somewhat longer sample sentence for tracing"],
        padding=True,
        return_tensors="pt",
    )
    args = (sample["input_ids"], sample["attention_mask"])
    axes = {0: "batch", 1: "sequence"}
    with torch.inference_mode(), warnings.catch_warnings():
        # tracing warnings about constant shapes/indexing: the dynamic axes are checked by
        # the parity run on texts of other lengths and batch sizes than the trace sample
        warnings.simplefilter("ignore")
        torch.onnx.export(
            logits_only(model),
            args,
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "logits": {0: "batch"}},
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )


def optimize(raw: Path, out: Path, config: Any) -> Any:
    """Fuse attention/LayerNorm/GELU with onnxruntime's transformer optimiser; returns it."""
    from onnxruntime.transformers import optimizer  # noqa: PLC0415 (heavy: loaded only when used)

    model_type = getattr(config, "model_type", "")
    if model_type not in BERT_LIKE:
        log.warning("model type %r is not BERT-like: exporting without fusion", model_type)
        shutil.copyfile(raw, out)
        return None
    opt = optimizer.optimize_model(
        str(raw),
        model_type="bert",
        num_heads=int(getattr(config, "num_attention_heads", 0) or 0),
        hidden_size=int(getattr(config, "hidden_size", 0) or 0),
        opt_level=1,
    )
    log.info("fused operators: %s", opt.get_fused_operator_statistics())
    opt.save_model_to_file(str(out))
    return opt


#: Leading encoder layers kept in fp32 by ``quantize_int8``.
FP32_LAYERS = 3


def leading_layer_nodes(path: Path, layers: int = FP32_LAYERS) -> list[str]:
    """Names of the first ``layers`` encoder layers' compute nodes (fused Attention, MatMuls)."""
    import onnx  # noqa: PLC0415 (heavy: loaded only when used)

    graph = onnx.load(str(path), load_external_data=False).graph
    prefixes = tuple(f"layer.{i}/" for i in range(layers))
    names = [
        n.name
        for n in graph.node
        if n.op_type in ("MatMul", "Gemm") and any(p in n.name for p in prefixes)
    ]
    attention = [n.name for n in graph.node if n.op_type == "Attention"]
    return names + attention[:layers]


def quantize_int8(fp32: Path, out: Path) -> None:
    """Dynamic int8 quantisation of the weights (activations quantised at run time).

    Weights use 7 bits (``reduce_range``): CPUs without VNNI (AVX2-only) can saturate the
    u8 x s8 products with full-range weights. The first three encoder layers stay fp32:
    their inputs carry outliers that per-tensor activation scales crush, and activation
    scales are taken per model call, so agreement depends on how texts are batched. Three
    layers are the fewest that pass the parity rule on the default model; keeping the
    pooler/classifier or the embeddings in fp32 as well did not help (the study is in
    bench/HISTORY.md).
    """
    import onnx  # noqa: PLC0415 (heavy: loaded only when used)
    from onnxruntime.quantization import QuantType, quantize_dynamic  # noqa: PLC0415 (heavy: loaded only when used)

    keep = leading_layer_nodes(fp32)
    log.info("int8: keeping %d nodes of the first %d layers in fp32", len(keep), FP32_LAYERS)
    quantize_dynamic(
        fp32,
        out,
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=True,
        nodes_to_exclude=keep,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def convert_fp16(optimized: Any, fp32: Path, out: Path) -> None:
    """fp16 weights and compute with fp32 inputs/outputs (for the CUDA provider)."""
    if optimized is None:
        import onnx  # noqa: PLC0415 (heavy: loaded only when used)
        from onnxruntime.transformers.onnx_model import OnnxModel  # noqa: PLC0415 (heavy: loaded only when used)

        optimized = OnnxModel(onnx.load(str(fp32)))
    optimized.convert_float_to_float16(keep_io_types=True)
    optimized.save_model_to_file(str(out))


def copy_meta(model_dir: Path, out_dir: Path) -> None:
    """Tokenizer and config beside the ONNX files, so the folder loads on its own."""
    for name in META_FILES:
        source = Path(model_dir) / name
        if source.is_file() and source.resolve() != (out_dir / name).resolve():
            shutil.copyfile(source, out_dir / name)


def export(
    model_dir: Path, out_dir: Path, *, int8: bool = False, fp16: bool = False
) -> dict[str, Path]:
    """Export ``model_dir`` into ``out_dir``; returns the written ONNX files by precision."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer, model = load_for_export(Path(model_dir))
    written: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="sentimon-export-") as tmp:
        raw = Path(tmp) / "raw.onnx"
        export_fp32_raw(model, tokenizer, raw)
        written["fp32"] = out_dir / ONNX_FILES["fp32"]
        optimized = optimize(raw, written["fp32"], model.config)
        if int8:
            written["int8"] = out_dir / ONNX_FILES["int8"]
            quantize_int8(written["fp32"], written["int8"])
        if fp16:
            written["fp16"] = out_dir / ONNX_FILES["fp16"]
            convert_fp16(optimized, written["fp32"], written["fp16"])
    copy_meta(Path(model_dir), out_dir)
    for precision, path in written.items():
        log.info("wrote %s (%s, %.1f MB)", path, precision, path.stat().st_size / 1e6)
    return written
