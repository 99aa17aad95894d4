"""Learning rates per parameter group: layer-wise decay and the head multiplier."""

from __future__ import annotations

import pytest

from inference.training.trainer import TrainConfig, _optimizer


@pytest.fixture(scope="module")
def model():
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(
        vocab_size=100, hidden_size=16, num_hidden_layers=3, num_attention_heads=2,
        intermediate_size=32, num_labels=3,
    )  # fmt: skip
    return BertForSequenceClassification(config)


def lr_of(model, optimizer):
    by_param = {id(p): g["lr"] for g in optimizer.param_groups for p in g["params"]}
    return {name: by_param.get(id(p)) for name, p in model.named_parameters()}


def test_one_rate_by_default(model):
    lrs = lr_of(model, _optimizer(model, TrainConfig(lr=1e-4)))
    assert set(lrs.values()) == {1e-4}


def test_layer_decay_and_head_multiplier(model):
    cfg = TrainConfig(lr=1e-4, layer_lr_decay=0.5, head_lr_multiplier=10.0)
    lrs = lr_of(model, _optimizer(model, cfg))
    assert lrs["classifier.weight"] == pytest.approx(1e-3)
    assert lrs["bert.pooler.dense.weight"] == pytest.approx(1e-3)
    assert lrs["bert.encoder.layer.2.output.dense.weight"] == pytest.approx(0.5e-4)
    assert lrs["bert.encoder.layer.0.output.dense.weight"] == pytest.approx(0.125e-4)
    assert lrs["bert.embeddings.word_embeddings.weight"] == pytest.approx(0.0625e-4)


def test_frozen_word_embeddings_are_not_optimised(model):
    lrs = lr_of(model, _optimizer(model, TrainConfig(freeze_word_embeddings=True)))
    assert lrs["bert.embeddings.word_embeddings.weight"] is None
    model.bert.embeddings.word_embeddings.weight.requires_grad_(True)


def test_no_weight_decay_on_biases_and_norms(model):
    optimizer = _optimizer(model, TrainConfig(weight_decay=0.01))
    decays = {id(p): g["weight_decay"] for g in optimizer.param_groups for p in g["params"]}
    named = dict(model.named_parameters())
    assert decays[id(named["classifier.bias"])] == 0.0
    assert decays[id(named["bert.embeddings.LayerNorm.weight"])] == 0.0
    assert decays[id(named["classifier.weight"])] == 0.01
