"""Fine-tuning loop: cross-entropy, AdamW, linear warm-up then linear decay, best by macro-F1.

Deterministic for a seed on a given machine: the RNGs are seeded, torch uses deterministic
algorithms and a fixed thread count, and batches are drawn from a seeded generator.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import random
import re
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from inference.batching import encode
from inference.torch_backend import TorchScorer
from inference.training import scores as metrics
from inference.training.dataset import UNLABELLED, Labelled
from inference.training.distill import distillation_loss

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    epochs: float = 5.0
    lr: float = 8e-5
    batch_size: int = 32
    max_length: int = 64
    seed: int = 0
    warmup_ratio: float = 0.08
    weight_decay: float = 0.01
    label_smoothing: float = 0.0
    #: Stop after this many optimizer steps (None: run all epochs). For smoke tests.
    max_steps: int | None = None
    #: Validate this many times per epoch (best checkpoint is chosen among them).
    evals_per_epoch: int = 1
    threads: int | None = None
    freeze_word_embeddings: bool = False
    #: Stop after this many seconds of training (None: no limit); the best checkpoint is kept.
    time_limit_s: float | None = None
    #: Class weights in the loss ~ (1 / class frequency) ** power; 0 = unweighted.
    class_weight_power: float = 0.0
    #: Layer-wise learning-rate decay: encoder layer i of L trains at lr * decay ** (L - i),
    #: embeddings at lr * decay ** (L + 1); 1.0 = one learning rate for all.
    layer_lr_decay: float = 1.0
    #: The classification head (and pooler) trains at lr * this.
    head_lr_multiplier: float = 1.0
    #: Weight of the distillation term when soft targets are given (inference.training.distill):
    #: loss = (1 - w) * cross-entropy + w * T^2 * KL(teacher_T || student_T).
    distill_weight: float = 0.0
    distill_temperature: float = 2.0


@dataclass
class TrainResult:
    history: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    steps: int = 0
    config: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def deterministic(seed: int, threads: int | None) -> Iterator[None]:
    """Seed every RNG, fix the thread count and force deterministic kernels; then restore."""
    import torch  # noqa: PLC0415 (heavy: loaded only when used)

    before = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled())
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads or before[0])
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.set_num_threads(before[0])
        torch.use_deterministic_algorithms(before[1])


def lr_lambda(warmup: int, total: int) -> Any:
    """Multiplier: 0 -> 1 over ``warmup`` steps, then linearly 1 -> 0 at ``total``."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return factor


#: Rows are sorted by length inside windows of this many batches (less padding, still random).
SORT_WINDOW_BATCHES = 50


def batch_order(lengths: np.ndarray, size: int, gen: Any) -> list[np.ndarray]:
    """Random batches of similar lengths: shuffle, sort within windows, shuffle the batches."""
    import torch  # noqa: PLC0415 (heavy: loaded only when used)

    order = torch.randperm(len(lengths), generator=gen).numpy()
    window = size * SORT_WINDOW_BATCHES
    batches: list[np.ndarray] = []
    for start in range(0, len(order), window):
        chunk = order[start : start + window]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + size] for i in range(0, len(chunk), size))
    shuffle = torch.randperm(len(batches), generator=gen).tolist()
    return [batches[i] for i in shuffle]


def _batches(
    enc: dict[str, np.ndarray], labels: np.ndarray, size: int, gen: Any
) -> Iterator[tuple[dict[str, Any], Any, np.ndarray]]:
    """Length-grouped random batches, each padded only to its own longest row (with the
    rows they hold)."""
    import torch  # noqa: PLC0415 (heavy: loaded only when used)

    lengths = enc["attention_mask"].sum(axis=1)
    for rows in batch_order(lengths, size, gen):
        width = int(lengths[rows].max())
        inputs = {
            k: torch.from_numpy(np.ascontiguousarray(v[rows, :width])) for k, v in enc.items()
        }
        yield inputs, torch.from_numpy(labels[rows]), rows


def _loss(cfg: TrainConfig, labels: np.ndarray, soft_targets: np.ndarray | None) -> Any:
    """The batch loss: cross-entropy on the labels, mixed with distillation when given.

    A row labelled ``UNLABELLED`` (it needs soft targets) learns from the teacher alone:
    the distillation term covers every row of the batch, the cross-entropy is the mean over
    its labelled rows (none: no cross-entropy)."""
    import torch  # noqa: PLC0415 (heavy: loaded only when used)

    if soft_targets is None and (labels == UNLABELLED).any():
        raise ValueError("unlabelled training rows need the teacher's soft targets")
    cross_entropy = torch.nn.CrossEntropyLoss(
        weight=class_weights(labels[labels != UNLABELLED], cfg.class_weight_power),
        label_smoothing=cfg.label_smoothing,
    )

    def hard(logits: Any, target: Any) -> Any:
        labelled = target != UNLABELLED
        if bool(labelled.all()):
            return cross_entropy(logits, target)
        if not bool(labelled.any()):
            return logits.sum() * 0.0
        return cross_entropy(logits[labelled], target[labelled])

    if soft_targets is None or cfg.distill_weight == 0:
        return lambda logits, target, rows: hard(logits, target)

    def mixed(logits: Any, target: Any, rows: np.ndarray) -> Any:
        teacher = torch.from_numpy(soft_targets[rows])
        soft = distillation_loss(logits, teacher, cfg.distill_temperature)
        return (1 - cfg.distill_weight) * hard(logits, target) + cfg.distill_weight * soft

    return mixed


def predict(model: Any, tokenizer: Any, texts: list[str], max_length: int) -> np.ndarray:
    """Canonical label ids predicted by an in-memory model (canonical id2label)."""

    scorer = TorchScorer(
        tokenizer,
        model,
        device="cpu",
        precision="fp32",
        model_id="training",
        max_length=max_length,
    )
    return scorer.score(texts).label_ids


def _validate(model: Any, tokenizer: Any, valid: Labelled, cfg: TrainConfig) -> dict[str, float]:
    pred = predict(model, tokenizer, valid.texts, cfg.max_length)
    model.train()
    return {
        "valid_macro_f1": metrics.macro_f1(valid.labels, pred),
        "valid_accuracy": metrics.accuracy(valid.labels, pred),
    }


def class_weights(labels: np.ndarray, power: float) -> Any:
    """Loss weights ~ frequency ** -power, normalised to mean 1 (None when power is 0)."""
    import torch  # noqa: PLC0415 (heavy: loaded only when used)

    if power == 0:
        return None
    counts = np.bincount(labels, minlength=3).astype(np.float64)
    weights = np.where(counts > 0, np.maximum(counts, 1.0) ** -power, 0.0)
    weights *= (counts > 0).sum() / weights.sum()
    return torch.tensor(weights, dtype=torch.float32)


def _depth(name: str, layers: int) -> int:
    """0 for embeddings, 1..L for encoder layers, L + 1 for the pooler and head."""
    match = re.search(r"\.layer\.(\d+)\.", name)
    if match:
        return int(match.group(1)) + 1
    return 0 if ".embeddings." in f".{name}" else layers + 1


def _lr_scale(depth: int, layers: int, cfg: TrainConfig) -> float:
    if depth > layers:
        return cfg.head_lr_multiplier
    return float(cfg.layer_lr_decay ** (layers + 1 - depth))


def _optimizer(model: Any, cfg: TrainConfig) -> Any:
    import torch  # noqa: PLC0415 (heavy: loaded only when used)

    if cfg.freeze_word_embeddings:
        for name, param in model.named_parameters():
            if name.endswith("word_embeddings.weight"):
                param.requires_grad_(False)
    layers = int(getattr(model.config, "num_hidden_layers", 0))
    groups: dict[tuple[float, float], list[Any]] = {}
    for name, param in model.named_parameters():
        if param.requires_grad:
            scale = _lr_scale(_depth(name, layers), layers, cfg)
            decay = 0.0 if param.ndim < 2 else cfg.weight_decay
            groups.setdefault((scale, decay), []).append(param)
    return torch.optim.AdamW(
        [
            {"params": params, "lr": cfg.lr * scale, "weight_decay": decay}
            for (scale, decay), params in sorted(groups.items())
        ],
        lr=cfg.lr,
    )


def fine_tune(
    model: Any,
    tokenizer: Any,
    train: Labelled,
    valid: Labelled | None,
    cfg: TrainConfig,
    *,
    progress: bool = True,
    soft_targets: np.ndarray | None = None,
) -> TrainResult:
    """Train ``model`` in place; at the end it holds the best checkpoint seen.

    ``soft_targets`` (one row of teacher logits per training row) turn on distillation
    with ``cfg.distill_weight``."""
    with deterministic(cfg.seed, cfg.threads):
        return _fine_tune(
            model, tokenizer, train, valid, cfg, progress=progress, soft_targets=soft_targets
        )


def _fine_tune(
    model: Any,
    tokenizer: Any,
    train: Labelled,
    valid: Labelled | None,
    cfg: TrainConfig,
    *,
    progress: bool,
    soft_targets: np.ndarray | None,
) -> TrainResult:
    import torch  # noqa: PLC0415 (heavy: loaded only when used)

    enc = encode(tokenizer, train.texts, cfg.max_length)
    per_epoch = -(-len(train) // cfg.batch_size)
    total = max(1, round(cfg.epochs * per_epoch))
    if cfg.max_steps is not None:
        total = min(total, cfg.max_steps)
    eval_every = max(1, per_epoch // max(1, cfg.evals_per_epoch))
    optimizer = _optimizer(model, cfg)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lr_lambda(round(cfg.warmup_ratio * total), total)
    )
    if soft_targets is not None and len(soft_targets) != len(train):
        raise ValueError(f"{len(soft_targets)} soft targets for {len(train)} training rows")
    loss_fn = _loss(cfg, train.labels, soft_targets)
    gen = torch.Generator().manual_seed(cfg.seed)
    result = TrainResult(config=asdict(cfg))
    best_state: dict[str, Any] | None = None
    started = time.perf_counter()
    bar = tqdm(total=total, desc="train", unit="step", disable=not progress, dynamic_ncols=True)
    model.train()
    step, seen, running = 0, 0, 0.0
    while step < total:
        for inputs, labels, rows in _batches(enc, train.labels, cfg.batch_size, gen):
            loss = loss_fn(model(**inputs).logits, labels, rows)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            seen += len(labels)
            running = loss.item() if step == 1 else 0.9 * running + 0.1 * loss.item()
            elapsed = time.perf_counter() - started
            bar.update(1)
            bar.set_postfix(loss=f"{running:.3f}", texts_s=f"{seen / max(elapsed, 1e-9):.0f}")
            out_of_time = cfg.time_limit_s is not None and elapsed > cfg.time_limit_s
            if step % eval_every == 0 or step == total or out_of_time:
                entry: dict[str, Any] = {
                    "step": step,
                    "epoch": step / per_epoch,
                    "train_loss": running,
                }
                if valid is not None:
                    entry.update(_validate(model, tokenizer, valid, cfg))
                    if not result.best or entry["valid_macro_f1"] > result.best["valid_macro_f1"]:
                        result.best = dict(entry)
                        best_state = copy.deepcopy(model.state_dict())
                result.history.append(entry)
                log.info("step %d: %s", step, entry)
            if step >= total or out_of_time:
                if out_of_time and step < total:
                    log.warning(
                        "time limit of %.0fs reached at step %d of %d: keeping the best "
                        "checkpoint so far (the learning-rate decay did not finish)",
                        cfg.time_limit_s,
                        step,
                        total,
                    )
                total = step
                break
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    elif result.history:
        result.best = dict(result.history[-1])
    result.seconds = time.perf_counter() - started
    result.steps = step
    model.eval()
    return result
