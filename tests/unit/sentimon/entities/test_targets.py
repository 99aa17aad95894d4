"""Which text each company of a multi-company post is scored on."""

from __future__ import annotations

import pytest

from sentimon.entities.link import Linker
from sentimon.entities.targets import target_texts
from sentimon.entities.universe import parse_universe
from tests.unit.sentimon.entities.test_link import UNIVERSE


@pytest.fixture(scope="module")
def linker() -> Linker:
    return Linker(parse_universe(UNIVERSE, "test.csv"))


def targets(linker: Linker, text: str) -> dict[str, str | None]:
    return target_texts(text, linker.link(text, tickers=()))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "$AAPL soars on record orders while $MSFT slumps after guidance cut",
            {"AAPL": "$AAPL soars on record orders", "MSFT": "while $MSFT slumps after guidance cut"},
        ),
        ("Ford cuts outlook; General Motors raises guidance",
         {"F": "Ford cuts outlook", "GM": "General Motors raises guidance"}),
        ("Coca-Cola gains after an upbeat forecast, but PepsiCo slides on weak volumes",
         {"KO": "Coca-Cola gains after an upbeat forecast",
          "PEP": "but PepsiCo slides on weak volumes"}),
        ("Delta shares jump as United warns on fuel costs",
         {"DAL": "Delta shares jump", "UAL": "as United warns on fuel costs"}),
        ("Microsoft Corp. beats estimates. Alphabet Inc. misses on ads.",
         {"MSFT": "Microsoft Corp. beats estimates", "GOOGL": "Alphabet Inc. misses on ads."}),
    ],
)  # fmt: skip
def test_mixed_posts_split_per_company(linker: Linker, text: str, expected: dict) -> None:
    assert targets(linker, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Visa and Mastercard rally as consumer spending holds up",
        "Microsoft and Alphabet both beat estimates",
        "Apple shares slide after the company warns of weaker demand",
    ],
)
def test_shared_clauses_keep_the_post_score(linker: Linker, text: str) -> None:
    assert set(targets(linker, text).values()) == {None}


def test_a_clause_without_company_stays_with_the_one_before(linker: Linker) -> None:
    text = "Microsoft rises as investors cheer cloud growth, while Alphabet falls"
    assert targets(linker, text) == {
        "MSFT": "Microsoft rises as investors cheer cloud growth",
        "GOOGL": "while Alphabet falls",
    }
