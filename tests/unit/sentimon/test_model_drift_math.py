"""PSI, the reference profile, WordPiece counts and the health window (pure, fast)."""

from __future__ import annotations

import math

import pytest

from sentimon.drift import (
    EPSILON,
    LENGTH_BINS,
    FeedCounts,
    ReferenceProfile,
    length_bin,
    psi,
    psi_band,
)
from sentimon.errors import ConfigError
from sentimon.health_window import HealthWindow, Observation, summary_fields
from sentimon.wordpieces import WordPieceCounter

VOCAB = ["the", "stock", "rose", "fell", "shares", "##s", "un", "##usual", "rally", "$", ".", "a"]


def test_psi_is_zero_for_equal_mixes_and_matches_the_formula() -> None:
    assert psi((0.2, 0.5, 0.3), (0.2, 0.5, 0.3)) == 0.0
    expected = (
        (0.5 - 0.2) * math.log(0.5 / 0.2)
        + (0.3 - 0.5) * math.log(0.3 / 0.5)
        + (0.2 - 0.3) * math.log(0.2 / 0.3)
    )
    assert psi((0.5, 0.3, 0.2), (0.2, 0.5, 0.3)) == pytest.approx(expected)
    # an empty bin costs a bounded amount (the epsilon floor), not infinity
    empty = psi((1.0, 0.0), (0.5, 0.5))
    assert math.isfinite(empty)
    assert empty == pytest.approx(
        0.5 * math.log(0.5 / 0.5) * 0
        + 0.5 * math.log(2)
        + (EPSILON - 0.5) * math.log(EPSILON / 0.5)
    )
    with pytest.raises(ValueError):
        psi((1.0,), (0.5, 0.5))


def test_psi_bands() -> None:
    assert [psi_band(v) for v in (None, 0.05, 0.1, 0.2, 0.25, 1.0)] == [
        "n/a", "none", "moderate", "moderate", "major", "major"
    ]  # fmt: skip


def test_length_bins_are_fixed() -> None:
    assert [length_bin(n) for n in (0, 31, 32, 100, 1023, 1024, 10_000)] == [0, 0, 1, 3, 8, 9, 9]
    assert LENGTH_BINS == 10


def test_wordpiece_counts_like_wordpiece() -> None:
    counter = WordPieceCounter(VOCAB)
    assert counter.pieces("shares") == 1
    assert counter.pieces("stocks") == 2  # stock ##s
    assert counter.pieces("unusuals") == 3  # un ##usual ##s
    assert counter.pieces("zebra") == 0  # no piece fits: one unknown token
    counts = counter.count("The stock rose. Unusuals $ zebra 🚀")
    # the stock rose . unusuals(3) $ zebra(unk) 🚀(unk)
    assert (counts.tokens, counts.unknown, counts.words, counts.fragmented) == (10, 2, 5, 1)
    assert counter.count("Ünusual").tokens == 2  # accents stripped on an uncased vocab


def test_wordpiece_counts_match_the_real_tokenizer() -> None:
    from transformers import AutoTokenizer

    from inference.profile import load_counter, tokenizer_shares
    from inference.training import packaged

    folder = packaged.encoder_dir()
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    counter = load_counter(folder)
    assert counter is not None
    texts = [
        "Apple shares rose 3.5% after earnings beat estimates",
        "$TSLA deliveries disappoint; Übergeschäftsführer resigns 🚀",
        "Ein völlig unerwarteter Quartalsbericht der Gesellschaft",
    ]
    for text in texts:
        assert counter.count(text).tokens == len(tokenizer.tokenize(text)), text
    unknown, fragmented = tokenizer_shares(texts, tokenizer)
    counts = [counter.count(t) for t in texts]
    assert unknown == pytest.approx(sum(c.unknown for c in counts) / sum(c.tokens for c in counts))
    assert fragmented == pytest.approx(
        sum(c.fragmented for c in counts) / sum(c.words for c in counts)
    )


def _profile_of(observations: list[Observation]) -> ReferenceProfile:
    window = HealthWindow(len(observations), low_confidence=0.6)
    window.extend(observations)
    return ReferenceProfile.of(window.counts)


def test_profile_round_trips_and_names_a_bad_field() -> None:
    counter = WordPieceCounter(VOCAB)
    profile = _profile_of([Observation.of("neutral", "the stock rose", counter=counter)] * 3)
    again = ReferenceProfile.from_dict(profile.as_dict(), "m/reference.json")
    assert again.label_mix == pytest.approx(profile.label_mix)
    assert again.length_mix == pytest.approx(profile.length_mix)
    broken = profile.as_dict() | {"length_mix": [1.0]}
    with pytest.raises(ConfigError, match=r"m/reference.json.*length_mix"):
        ReferenceProfile.from_dict(broken, "m/reference.json")


def _short_neutral(i: int, counter: WordPieceCounter) -> Observation:
    return Observation.of("neutral", f"the stock rose {i % 7}.", 0.9, None, counter)


def _long_unusual(counter: WordPieceCounter) -> Observation:
    text = "Zorblax quintessential hyperflux anomalies " * 12
    return Observation.of("negative", text, 0.4, None, counter)


def test_drift_figures_move_when_the_feed_changes() -> None:
    counter = WordPieceCounter(VOCAB)
    reference = _profile_of([_short_neutral(i, counter) for i in range(200)])
    window = HealthWindow(100, low_confidence=0.6, reference=reference)
    window.extend(_short_neutral(i, counter) for i in range(100))
    calm = window.snapshot()
    assert calm.psi_label == pytest.approx(0.0) and calm.psi_length == pytest.approx(0.0)
    assert calm.low_confidence_share == 0.0 and calm.mean_confidence == pytest.approx(0.9)
    window.extend(_long_unusual(counter) for _ in range(40))
    shifted = window.snapshot()
    assert shifted.posts == 100  # the oldest 40 left the window
    assert shifted.psi_label is not None and shifted.psi_label > 0.25
    assert shifted.psi_length is not None and shifted.psi_length > 0.25
    assert shifted.low_confidence_share == pytest.approx(0.4)
    assert shifted.mean_confidence == pytest.approx(0.6 * 0.9 + 0.4 * 0.4)
    assert shifted.unknown_share is not None and shifted.unknown_share > calm.unknown_share  # type: ignore[operator]
    assert shifted.label_mix == pytest.approx((0.4, 0.6, 0.0))


def test_preview_is_what_extend_gives_and_changes_nothing() -> None:
    counter = WordPieceCounter(VOCAB)
    window = HealthWindow(10, low_confidence=0.6)
    window.extend(_short_neutral(i, counter) for i in range(8))
    before = window.snapshot()
    batch = [_long_unusual(counter) for _ in range(5)]
    preview = window.snapshot(window.preview(batch))
    assert window.snapshot() == before
    window.extend(batch)
    assert window.snapshot() == preview


def test_escalation_share_only_counts_cascaded_posts() -> None:
    window = HealthWindow(10, low_confidence=0.6)
    window.extend([Observation(1, 10, 0.9)])
    assert window.snapshot().escalation_share is None  # no cascade: not measured
    window.extend([Observation(1, 10, 0.5, True), Observation(1, 10, 0.9, False)] * 2)
    assert window.snapshot().escalation_share == pytest.approx(0.5)


def test_without_a_reference_psi_is_not_measured_and_the_summary_says_so() -> None:
    window = HealthWindow(5, low_confidence=0.6)
    window.extend([Observation(0, 10, 0.3)])
    fields = summary_fields(window.snapshot())
    assert fields["psi_label"] == "" and fields["reference"] == "0"
    assert fields["low_confidence_share"] == "1" and fields["label_negative"] == "1"
    assert fields["unknown_share"] == ""  # no vocabulary: token shares not measured
    assert FeedCounts().unknown_share == 0.0
