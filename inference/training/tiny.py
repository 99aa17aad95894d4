"""A real but very small sentiment model, built in seconds, for tests and smoke runs.

A 2-layer, 64-wide BERT classifier with the packaged MiniLM tokenizer and the canonical
``id2label``, optionally trained for a few seconds on a slice of a labelled CSV. It is a
normal Hugging Face model directory, so ``load_scorer`` loads it through
``from_pretrained``. Its accuracy is modest by design: use it for pipeline mechanics only.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from inference.labels import canonical_id2label
from inference.training import dataset, model_card, packaged, text_prep
from inference.training import trainer as training

log = logging.getLogger(__name__)

TINY_SHAPE = {
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 128,
    "max_position_embeddings": 512,
}
TINY_ROWS_PER_CLASS = 1000
TINY_TRAIN_STEPS = 150
TINY_TRAIN_SECONDS = 20.0  # safety net on a heavily loaded machine


def tiny_model(vocab_size: int, seed: int) -> Any:
    """A randomly initialised tiny BERT sequence classifier with canonical labels."""
    import torch  # noqa: PLC0415 (heavy: loaded only when used)
    from transformers import BertConfig, BertForSequenceClassification  # noqa: PLC0415 (heavy: loaded only when used)

    id2label = canonical_id2label()
    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=TINY_SHAPE["hidden_size"],
        num_hidden_layers=TINY_SHAPE["num_hidden_layers"],
        num_attention_heads=TINY_SHAPE["num_attention_heads"],
        intermediate_size=TINY_SHAPE["intermediate_size"],
        max_position_embeddings=TINY_SHAPE["max_position_embeddings"],
        id2label=id2label,
        label2id={name: i for i, name in id2label.items()},
    )
    torch.manual_seed(seed)
    return BertForSequenceClassification(config)


def seed_embeddings(model: Any, encoder_dir: Path) -> None:
    """Start the tiny word embeddings from the packaged encoder's, projected by PCA.

    Tokens then begin with meaningful neighbours, so a few seconds of training suffice.
    """
    import torch  # noqa: PLC0415 (heavy: loaded only when used)
    from safetensors import safe_open  # noqa: PLC0415 (heavy: loaded only when used)

    with safe_open(str(encoder_dir / "model.safetensors"), framework="pt") as handle:
        big = handle.get_tensor("embeddings.word_embeddings.weight").float()
    target = model.bert.embeddings.word_embeddings.weight
    if big.shape[0] != target.shape[0]:
        log.warning("vocabulary sizes differ: keeping random tiny embeddings")
        return
    centred = big - big.mean(dim=0, keepdim=True)
    _, _, v = torch.linalg.svd(centred[::4], full_matrices=False)
    projected = centred @ v[: target.shape[1]].T
    projected *= 0.05 / projected.std()
    with torch.no_grad():
        target.copy_(projected)


def build_tiny_model(out_dir: Path, train_csv: Path | None = None, seed: int = 0) -> Path:
    """Write a tiny model directory to ``out_dir`` and return it.

    Word embeddings start from a PCA projection of the packaged encoder's. With ``train_csv``
    (``text,label``; names or the twitter-financial-news integers) the model then trains for
    150 steps (a few seconds; at most 20 s) on a seeded class-balanced slice; without, the
    encoder layers and head keep their random init.
    """
    from transformers import AutoTokenizer  # noqa: PLC0415 (heavy: loaded only when used)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = text_prep.strip_urls(AutoTokenizer.from_pretrained(packaged.encoder_dir()))
    model = tiny_model(len(tokenizer), seed)
    seed_embeddings(model, packaged.encoder_dir())
    info: dict[str, Any] = {
        "name": "tiny",
        "base": "tiny BERT (random init, PCA-seeded word embeddings)",
        "seed": seed,
    }
    if train_csv is not None:
        data = dataset.balanced(dataset.read_labelled(Path(train_csv)), TINY_ROWS_PER_CLASS, seed)
        cfg = training.TrainConfig(
            epochs=3,
            lr=2e-3,
            batch_size=32,
            max_length=64,
            seed=seed,
            warmup_ratio=0.05,
            max_steps=TINY_TRAIN_STEPS,
            freeze_word_embeddings=True,
            threads=1,  # tiny matrices: one thread is faster and the result deterministic
            time_limit_s=TINY_TRAIN_SECONDS,
        )
        result = training.fine_tune(model, tokenizer, data, None, cfg, progress=False)
        info.update(train_files=[str(train_csv)], best=result.best, config=result.config)
        log.info("tiny model trained %d steps in %.1fs", result.steps, result.seconds)
    model.eval()
    model.save_pretrained(out_dir)
    text_prep.save_tokenizer(tokenizer, out_dir)
    model_card.write_metrics(
        out_dir, {"best": info.get("best", {}), "trained": train_csv is not None}
    )
    model_card.write_card(out_dir, info)
    return out_dir
