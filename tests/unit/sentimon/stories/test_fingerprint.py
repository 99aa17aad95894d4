"""Story fingerprints: normalisation, the same-story decision, serialisation, band keys."""

from __future__ import annotations

import pytest

from sentimon.stories.fingerprint import (
    BANDS,
    Fingerprint,
    band_keys,
    fingerprint,
    normalise,
    same_story,
)
from sentimon.stories.tokens import content_tokens

WIRE = "Apple beats third-quarter revenue estimates with $94.9 billion in sales"


def same(a: str, b: str) -> bool:
    return same_story(fingerprint(a), fingerprint(b))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("UPDATE 2-Apple beats estimates", "apple beats estimates"),
        ("BREAKING: UPDATE 1-Apple beats estimates", "apple beats estimates"),
        ("(Reuters) - Apple beats estimates", "apple beats estimates"),
        ("BRIEF-Apple beats estimates", "apple beats estimates"),
        ("RT @deskwire: Apple beats estimates", "apple beats estimates"),
        ("🚨 Apple beats estimates 🚀", "apple beats estimates"),
        ("Apple beats estimates - Daily Market Wire", "apple beats estimates"),
        ("Apple beats estimates (adds analyst comment, shares)", "apple beats estimates"),
        ("Apple beats estimates https://t.co/AbC123 #stocks", "apple beats estimates"),
        ("APPLE   BEATS\testimates...", "apple beats estimates"),
        ("Amazon.com's third-quarter sales", "amazons thirdquarter sales"),
    ],
)
def test_normalise_drops_wire_furniture(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_normalise_keeps_all_caps_headlines_and_cashtags() -> None:
    assert normalise("US STOCKS RALLY: $AAPL UP 3%") == "us stocks rally: $aapl up 3%"


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Apple Q3 revenue $94.9B", ("appl", "q3", "revenue", "94.9b")),
        ("Apple 3Q sales of $94.90 bln", ("appl", "q3", "revenue", "94.9b")),
        ("Apple third quarter revenue 94.9 billion", ("appl", "q3", "revenue", "94.9b")),
        ("Tesla shares fall 5 pct", ("tesla", "~down", "5%")),
        ("Tesla stock slides 5 percent", ("tesla", "~down", "5%")),
        ("Fitch upgrades Pfizer to AA-", ("fitch", "~up", "pfizer", "aa-")),
        ("Amazon to cut 10,000 jobs", ("amazon", "~down", "10000", "job")),
    ],
)
def test_content_tokens_spell_numbers_quarters_and_directions_one_way(
    text: str, tokens: tuple[str, ...]
) -> None:
    assert content_tokens(normalise(text)) == tokens


@pytest.mark.parametrize(
    "copy",
    [
        "UPDATE 1-" + WIRE + " - Reuters",
        WIRE.upper(),
        WIRE.lower() + " https://t.co/x1y2z3",
        "RT @marketdesk: " + WIRE,
        "Apple beats third-quarter revenue estimates with $94.9 bln in sales (adds details)",
        "Apple tops Q3 revenue estimates with $94.9B in sales",
        "Apple beats third-quarter revenue estimates with $94.9 billion...",
        "Apple beats third-quarter revenue estimates with $94.9 billion in sa…",
        "Apple Inc beats third-quarter revenue estimates with $94.9 billion in sales, CEO says",
        "$AAPL " + WIRE + " 🔥",
    ],
)
def test_copies_of_a_story_merge(copy: str) -> None:
    assert same(WIRE, copy)
    assert same(copy, WIRE)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("$AAPL misses revenue estimates for Q3", "$AAPL beats revenue estimates for Q3"),
        ("Apple raises full-year revenue guidance", "Apple cuts full-year revenue guidance"),
        ("Apple Q3 EPS $1.20 vs $1.15 expected", "Apple Q3 EPS $1.02 vs $1.15 expected"),
        ("Apple Q3 EPS $1.20 vs $1.15 expected", "Apple Q4 EPS $1.20 vs $1.15 expected"),
        ("$AAPL upgraded to buy at Morgan Stanley", "$MSFT upgraded to buy at Morgan Stanley"),
        ("$AAPL upgraded to buy at Jefferies", "$AAPL upgraded to buy at Wedbush"),
        ("$AAPL upgraded to buy at Jefferies", "$AAPL downgraded to hold at Jefferies"),
        (
            "Tesla shares fall 4% premarket after recall",
            "Tesla shares fall 4% premarket on weak demand",
        ),
        (
            "Pfizer delays vaccine launch in Brazil to March",
            "Pfizer delays vaccine launch in Brazil to May",
        ),
        ("Fitch upgrades Pfizer to AA-", "Fitch upgrades Pfizer to AA+"),
    ],
)
def test_different_news_with_the_same_template_stays_apart(a: str, b: str) -> None:
    assert not same(a, b)
    assert not same(b, a)


def test_a_copy_cut_before_the_figure_does_not_need_it() -> None:
    assert same(
        "Apple raises 2026 revenue forecast to $420 billion",
        "Apple raises 2026 revenue forecast to...",
    )


def test_short_posts_match_only_exactly() -> None:
    assert same("$TSLA 🚀🚀", "$tsla 🚀")
    assert not same("$TSLA to the moon", "$TSLA down bad")


def test_mentions_read_company_names_as_their_ticker() -> None:
    wire = "Exxon Mobil raises Permian output target"
    copy = "ExxonMobil raises Permian output target"
    other = "Chevron raises Permian output target"
    assert not same(wire, copy)
    xom = fingerprint(wire, [(0, 11, "XOM")])
    assert same_story(xom, fingerprint(copy, [(0, 10, "XOM")]))
    assert not same_story(xom, fingerprint(other, [(0, 7, "CVX")]))


@pytest.mark.parametrize("text", [WIRE, "$TSLA 🚀", "", "Apple raises 2026 outlook to..."])
def test_fingerprint_round_trips_through_bytes(text: str) -> None:
    fp = fingerprint(text)
    data = fp.to_bytes()
    assert Fingerprint.from_bytes(data) == fp
    assert len(data) < 400


def test_fingerprints_are_compact_even_for_long_posts() -> None:
    long_post = " ".join(f"word{i} ${i}.5 billion" for i in range(200))
    assert len(fingerprint(long_post).to_bytes()) < 400


def test_band_keys_are_few_stable_and_shared_by_copies() -> None:
    keys = band_keys(fingerprint(WIRE))
    assert len(keys) == BANDS <= 8
    assert keys == band_keys(fingerprint(WIRE))
    for copy in ("UPDATE 1-" + WIRE + " - Reuters", WIRE.upper(), WIRE[:60] + "..."):
        assert set(keys) & set(band_keys(fingerprint(copy)))


def test_band_keys_of_unrelated_posts_differ() -> None:
    other = band_keys(fingerprint("Pfizer wins FDA approval for its RSV vaccine in older adults"))
    assert not set(band_keys(fingerprint(WIRE))) & set(other)


def test_short_posts_are_keyed_by_their_exact_text() -> None:
    assert band_keys(fingerprint("$TSLA 🚀")) == ["x" + fingerprint("$tsla").exact]
