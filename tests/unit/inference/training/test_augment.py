"""The distillation transfer set: deterministic variants of the training texts."""

from __future__ import annotations

import re

from inference.training.augment import transfer_texts

CORPUS = [
    "$AAPL - Barclays cuts to Neutral https://t.co/abc",
    "$MSFT - Barclays raises to Overweight https://t.co/def",
    "$TSLA - Nomura cuts to Sell https://t.co/ghi",
    "$NVDA - Nomura raises to Buy https://t.co/jkl",
    "Shares of Acme jump 12% after earnings beat",
    "Shares of Initech fall 3.5% after earnings miss",
    "Fed holds rates steady",
    "ok",
]


def test_the_same_texts_and_seed_give_the_same_variants_in_the_same_order():
    assert transfer_texts(CORPUS, 3, seed=0) == transfer_texts(list(CORPUS), 3, seed=0)
    assert transfer_texts(CORPUS, 3, seed=0) != transfer_texts(CORPUS, 3, seed=1)


def test_variants_are_new_distinct_and_at_most_copies_per_text():
    out = transfer_texts(CORPUS, 4, seed=0)
    assert out and len(out) == len(set(out))
    assert not set(out) & set(CORPUS)
    assert len(out) <= 4 * sum(len(t.split()) >= 3 for t in CORPUS)
    assert not transfer_texts(CORPUS, 0, seed=0)


def test_variants_change_only_a_few_words_and_use_the_corpus():
    vocabulary = {w for t in CORPUS for w in t.split()}
    number = re.compile(r"^[+-]?\d+(\.\d+)?%$")
    for variant in transfer_texts(CORPUS, 8, seed=0):
        for word in variant.split():
            # a word of the corpus, or a changed number
            assert word in vocabulary or number.match(word), (word, variant)


def test_substitutes_come_from_the_same_context():
    # "cuts" and "raises" both sit between "Barclays"/"Nomura" and "to": they swap; a
    # cashtag becomes another cashtag of the corpus.
    out = transfer_texts(CORPUS, 30, seed=0)
    assert any("Barclays raises to Neutral" in v or "Nomura raises to Sell" in v for v in out)
    cashtags = {w for t in CORPUS for w in t.split() if w.startswith("$")}
    assert all(v.split()[0] in cashtags for v in out if v.startswith("$"))


def test_links_are_kept_as_they_are():
    linked = [t for t in CORPUS if "https://" in t]
    links = {w for t in linked for w in t.split() if w.startswith("http")}
    for variant in transfer_texts(linked, 20, seed=0):
        kept = [w for w in variant.split() if w.startswith("http")]
        assert len(kept) == 1 and kept[0] in links
