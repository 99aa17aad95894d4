"""Entity linking: names, aliases, cashtags, tickers; the ambiguous-name traps."""

from __future__ import annotations

import pytest

from sentimon.entities.link import CASHTAG, NAME, TICKERS, Linker
from sentimon.entities.universe import parse_universe

UNIVERSE = """ticker,name,aliases,exchange,sector,ambiguous
AAPL,Apple,,NASDAQ,Information Technology,Apple
AMZN,Amazon,Amazon.com,NASDAQ,Consumer Discretionary,Amazon
TGT,Target,,NYSE,Consumer Staples,Target
V,Visa,,NYSE,Financials,Visa
MA,Mastercard,,NYSE,Financials,
F,Ford,Ford Motor,NYSE,Consumer Discretionary,Ford
DAL,Delta Air Lines,Delta,NYSE,Industrials,Delta
GOOGL,Alphabet,Google,NASDAQ,Communication Services,
MSFT,Microsoft,,NASDAQ,Information Technology,
KO,Coca-Cola,Coke,NYSE,Consumer Staples,Coke
PEP,PepsiCo,Pepsi,NASDAQ,Consumer Staples,
BAC,Bank of America,BofA,NYSE,Financials,
JNJ,Johnson & Johnson,J&J,NYSE,Health Care,
GM,General Motors,,NYSE,Consumer Discretionary,
UAL,United Airlines,United,NASDAQ,Industrials,United
EBAY,eBay,,NASDAQ,Consumer Discretionary,
"""


@pytest.fixture(scope="module")
def linker() -> Linker:
    return Linker(parse_universe(UNIVERSE, "test.csv"))


def tickers(linker: Linker, text: str, **kw: object) -> list[str]:
    return [e.ticker for e in linker.link(text, **kw)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Apple shares slide after the company warns of weaker iPhone demand", ["AAPL"]),
        ("Apple's services revenue hits a record", ["AAPL"]),
        ("Apple\u2019s services revenue hits a record", ["AAPL"]),
        ("Microsoft Corp. said it would buy back $60 billion of stock", ["MSFT"]),
        ("Target Corp cuts its sales forecast", ["TGT"]),
        ("Bank of America's profit beats estimates", ["BAC"]),
        ("Johnson and Johnson wins talc appeal", ["JNJ"]),
        ("Johnson & Johnson wins talc appeal", ["JNJ"]),
        ("Coca Cola raises prices again", ["KO"]),
        ("Alphabet's Google unveils a new AI model", ["GOOGL"]),
        ("Google parent Alphabet beats on cloud growth", ["GOOGL"]),
        ("General Motors recalls 40,000 SUVs", ["GM"]),
        ("eBay beats on gross merchandise volume", ["EBAY"]),
        ("Target cuts its sales forecast", ["TGT"]),
        ("Visa posts record payment volume", ["V"]),
        ("Delta raises its profit outlook", ["DAL"]),
        ("Ford recalls 100,000 trucks", ["F"]),
        ("Amazon to hire 250,000 holiday workers", ["AMZN"]),
        ("apple earnings tonight, expecting a beat", ["AAPL"]),
        ("Tesla Rival Ford Cuts EV Prices", ["F"]),
        ("Delta Air Lines cancels flights as a storm hits the Mississippi delta", ["DAL"]),
        ("Apple (NASDAQ: AAPL) slips", ["AAPL"]),
        ("Walmart, Target report strong holiday sales", ["TGT"]),
    ],
)
def test_names_link(linker: Linker, text: str, expected: list[str]) -> None:
    assert tickers(linker, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Apple pie prices rise ahead of Thanksgiving",
        "Fires spread in the Amazon rainforest",
        "She applied for a visa at the consulate",
        "Harrison Ford stars in a new film",
        "Farmers in the river delta brace for floods",
        "The archer managed to hit the target",
        "Target Practice: Archers Gather For Regional Contest",
        "Amazon River Levels Drop To Record Low",
        "Ford the stream at the shallow end",
        "united we stand",
        "The two sides remain united on trade policy",
        "a can of coke and a sandwich",
        "pineapple juice sales",
        "FORD THE RIVER",
    ],
)
def test_traps_link_nothing(linker: Linker, text: str) -> None:
    assert tickers(linker, text) == []


def test_cashtags_and_explicit_tickers_count_even_outside_the_universe(linker: Linker) -> None:
    found = linker.link("$ZZZZ and $AAPL rally", tickers=("ZZZZ", "AAPL", "QQQ"))
    assert [(e.ticker, e.name) for e in found] == [("ZZZZ", None), ("AAPL", "Apple"),
                                                    ("QQQ", None)]  # fmt: skip
    assert [m.via for e in found for m in e.mentions] == [CASHTAG, CASHTAG, TICKERS]


def test_own_cashtag_is_context_for_an_ambiguous_name(linker: Linker) -> None:
    found = linker.link("Target: the $TGT dip is a gift", tickers=("TGT",))
    assert [e.ticker for e in found] == ["TGT"]
    assert sorted(m.via for m in found[0].mentions) == [CASHTAG, NAME]


def test_several_names_of_one_company_are_one_entity_with_mentions(linker: Linker) -> None:
    [google] = linker.link("Alphabet's Google says Google Cloud grew 30%")
    assert google.ticker == "GOOGL" and len(google.mentions) == 3
    assert google.sector == "Communication Services"


def test_title_mentions_count_and_lead(linker: Linker) -> None:
    found = linker.link("The company also said Visa would join the deal.", title="Mastercard beats")
    assert [e.ticker for e in found] == ["MA", "V"]
    assert found[0].mentions[0].in_title


def test_relevance_subject_first_and_crowding(linker: Linker) -> None:
    one = linker.link("Microsoft beats estimates")
    two = linker.link("Microsoft beats estimates while Alphabet misses")
    many = linker.link("Watchlist: $A1 $B2 $C3 $D4 $E5 $F6 $G7 $H8 $I9 $J10",
                       tickers=("A1", "B2", "C3", "D4", "E5", "F6", "G7", "H8", "I9", "J10"))  # fmt: skip
    assert [e.relevance for e in one] == [1.0]
    assert [e.relevance for e in two] == [0.8, 0.6]
    assert max(e.relevance for e in many) <= 0.4
    assert all(e.relevance >= 0.2 for e in many)


def test_hostile_input_links_quickly_and_boundedly(linker: Linker) -> None:
    text = ("Apple " * 2000) + "$" * 5000 + ("Visa and " * 500)
    found = linker.link(text, tickers=tuple(f"T{i}" for i in range(20)))
    assert len(found) <= 20
