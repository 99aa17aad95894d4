"""The company universe: the shipped file is right, and every file error names its line."""

from __future__ import annotations

import importlib.util
import re
import textwrap
from pathlib import Path

import pytest

from sentimon.entities.universe import (
    DEFAULT_SOURCE,
    DEFAULT_UNIVERSE,
    GICS_SECTORS,
    HEADER,
    Company,
    Universe,
    load_universe,
    parse_universe,
)
from sentimon.errors import ConfigError

HEAD = ",".join(HEADER)
BUILD = Path(__file__).resolve().parents[4] / "data" / "universe" / "build.py"


@pytest.fixture(scope="module")
def shipped() -> Universe:
    return load_universe()


def _owners(universe: Universe) -> dict[str, tuple[str, bool]]:
    return {s: (c.ticker, amb) for s, c, amb in universe.names()}


# --- the shipped default ----------------------------------------------------------


def test_shipped_default_loads_with_its_label(shipped):
    assert shipped.source == DEFAULT_SOURCE
    assert len(shipped) >= 500
    assert DEFAULT_UNIVERSE.name == "universe.csv" and DEFAULT_UNIVERSE.is_file()


@pytest.mark.parametrize(
    ("ticker", "name", "sector"),
    [
        ("AAPL", "Apple", "Information Technology"),
        ("MSFT", "Microsoft", "Information Technology"),
        ("NVDA", "Nvidia", "Information Technology"),
        ("GOOGL", "Alphabet", "Communication Services"),
        ("AMZN", "Amazon", "Consumer Discretionary"),
        ("META", "Meta", "Communication Services"),
        ("TSLA", "Tesla", "Consumer Discretionary"),
        ("JPM", "JPMorgan Chase", "Financials"),
        ("BRK.B", "Berkshire Hathaway", "Financials"),
        ("XOM", "ExxonMobil", "Energy"),
        ("TGT", "Target", "Consumer Staples"),
        ("WMT", "Walmart", "Consumer Staples"),
        ("V", "Visa", "Financials"),
        ("F", "Ford", "Consumer Discretionary"),
        ("DAL", "Delta Air Lines", "Industrials"),
        ("NEE", "NextEra Energy", "Utilities"),
        ("PLD", "Prologis", "Real Estate"),
        ("LIN", "Linde", "Materials"),
        ("UNH", "UnitedHealth Group", "Health Care"),
        ("CAT", "Caterpillar", "Industrials"),
        ("PG", "Procter & Gamble", "Consumer Staples"),
        ("APO", "Apollo Global Management", "Financials"),
        ("AIZ", "Assurant", "Financials"),
        ("XYZ", "Block", "Financials"),
        ("ELV", "Elevance Health", "Health Care"),
    ],
)
def test_shipped_spot_checks(shipped, ticker, name, sector):
    company = shipped.get(ticker)
    assert company is not None, ticker
    assert (company.name, company.sector) == (name, sector)


def test_shipped_covers_the_sp500_and_has_no_stale_tickers(shipped):
    # a cross-section of the index; renamed tickers must be the current ones
    sample = (
        "A AAPL ABBV ABT ACN ADBE AMD AMGN AVGO BA BAC BK BKNG BLK BMY C CMCSA COP COST CRM "
        "CSCO CVS CVX DHR DIS DUK GE GILD GOOG GS HD HON IBM INTC JNJ KO LLY LMT LOW MA MCD "
        "MDT MMM MO MRK MS NFLX NKE ORCL PEP PFE PM QCOM RTX SBUX SO SPGI T TMO TXN UNP UPS "
        "USB VZ WFC FOX FOXA NWS NWSA"
    )
    for ticker in sample.split():
        assert ticker in shipped, ticker
    for stale in ("FB", "SQ", "ANTM", "FI", "PEAK", "RE", "MMC"):
        assert stale not in shipped, stale


def test_shipped_rows_have_a_gics_sector_and_an_exchange(shipped):
    assert set(shipped.sectors()) == set(GICS_SECTORS)
    assert {c.exchange for c in shipped.companies} <= {"NYSE", "NASDAQ", "NYSE American", "Cboe"}


def test_shipped_file_is_sorted_utf8_without_bom():
    raw = DEFAULT_UNIVERSE.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8").splitlines()
    assert lines[0] == HEAD
    tickers = [line.split(",", 1)[0] for line in lines[1:]]
    assert tickers == sorted(tickers)


@pytest.mark.parametrize("word", ["Apple", "Amazon", "Target", "Visa", "Ford", "Delta", "Block"])
def test_shipped_everyday_words_are_ambiguous(shipped, word):
    assert _owners(shipped)[word][1] is True


@pytest.mark.parametrize(
    ("surface", "ticker"),
    [
        ("Google", "GOOGL"),
        ("Alphabet", "GOOGL"),
        ("Facebook", "META"),
        ("JPMorgan", "JPM"),
        ("J.P. Morgan", "JPM"),
        ("Berkshire", "BRK.B"),
        ("Exxon", "XOM"),
        ("Wal-Mart", "WMT"),
        ("Fox", "FOXA"),
        ("News Corp", "NWSA"),
    ],
)
def test_shipped_aliases_link_to_the_primary_row(shipped, surface, ticker):
    assert _owners(shipped)[surface][0] == ticker


def test_shipped_unambiguous_names_stay_so(shipped):
    owners = _owners(shipped)
    for name in ("Microsoft", "Home Depot", "JPMorgan Chase", "Google", "Nvidia"):
        assert owners[name][1] is False, name


def test_shipped_file_matches_its_build_script():
    pytest.importorskip("pytickersymbols")
    spec = importlib.util.spec_from_file_location("universe_build", BUILD)
    assert spec and spec.loader
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    assert build.main(["--check"]) == 0


# --- parsing ----------------------------------------------------------------------


GOOD = f"""\
# a desk's own universe
{HEAD}

AAA,Alpha Corp, "Alpha | Alpha, the company" ,NYSE,Financials, Alpha
# a comment between rows
BBB,Beta,,LSE,Banks,
"""


def test_comments_blank_lines_quotes_and_whitespace():
    universe = parse_universe(GOOD, "desk.csv")
    alpha = universe.get("aaa")
    assert alpha == Company(
        "AAA", "Alpha Corp", ("Alpha", "Alpha, the company"), "NYSE", "Financials",
        frozenset({"Alpha"}),
    )  # fmt: skip
    assert "bbb" in universe and "CCC" not in universe and 7 not in universe
    assert universe.sectors() == ["Banks", "Financials"]  # a desk's file need not be GICS
    assert [(s, c.ticker, a) for s, c, a in universe.names()] == [
        ("Alpha Corp", "AAA", False),
        ("Alpha", "AAA", True),
        ("Alpha, the company", "AAA", False),
        ("Beta", "BBB", False),
    ]


def test_share_classes_may_repeat_a_name_which_links_to_the_first():
    text = f"{HEAD}\nZZA,Zeta,Zeta Group,NYSE,Energy,\nZZB,Zeta,,NYSE,Energy,\n"
    universe = parse_universe(text, "u.csv")
    assert len(universe) == 2 and universe.get("ZZB") is not None
    assert [(s, c.ticker) for s, c, _ in universe.names()] == [
        ("Zeta", "ZZA"),
        ("Zeta Group", "ZZA"),
    ]


def test_load_reads_a_file_and_drops_a_bom(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    universe = load_universe(path)
    assert universe.source == str(path) and len(universe) == 2


def test_load_of_a_missing_file_says_so(tmp_path):
    with pytest.raises(ConfigError, match=r"cannot read the file.*SENTIMON_UNIVERSE"):
        load_universe(tmp_path / "absent.csv")


ROW = "AAA,Alpha,Al,NYSE,Financials,"


ERRORS = [
    ("", 1, None, "header must be"),
    ("AAA,Alpha,,NYSE,Financials,\n", 1, None, "header must be"),
    (f"{HEAD},extra\n", 1, None, "header must be"),
    ("ticker,aliases,name,exchange,sector,ambiguous\n", 1, None, "header must be"),
    (f"{HEAD}\n{ROW}\n\nBBB,Beta,,NYSE\n", 4, None, "4 fields, expected 6"),
    (f"{HEAD}\n{ROW}\nBBB,Beta,,NYSE,Energy,,x\n", 3, None, "7 fields, expected 6"),
    (f"{HEAD}\n ,Beta,,NYSE,Energy,\n", 2, "ticker", "empty"),
    (f"{HEAD}\naapl,Apple,,NYSE,Energy,\n", 2, "ticker", "'aapl' is not a ticker"),
    (f"{HEAD}\nBRK/B,Berk,,NYSE,Energy,\n", 2, "ticker", "is not a ticker"),
    (f"{HEAD}\n{ROW}\n# c\nAAA,Again,,NYSE,Energy,\n", 4, "ticker", "already on line 2"),
    (f"{HEAD}\n{ROW}\nBBB,,,NYSE,Energy,\n", 3, "name", "empty"),
    (f"{HEAD}\n{ROW}\nBBB,Beta,,,Energy,\n", 3, "exchange", "empty"),
    (f"{HEAD}\n{ROW}\nBBB,Beta,,NYSE, ,\n", 3, "sector", "empty"),
    (f"{HEAD}\n{ROW}\nBBB,Beta,al,NYSE,Energy,\n", 3, "aliases", "'al' is already a name"),
    (f"{HEAD}\n{ROW}\nBBB,Al,,NYSE,Energy,\n", 3, "name", "alias of AAA (line 2)"),
    (f"{HEAD}\n{ROW}\nBBB,alpha,,NYSE,Energy,\n", 3, "name", "'alpha' is already"),
    (f"{HEAD}\nBBB,Beta,Beta,NYSE,Energy,\n", 2, "aliases", "of this row"),
    (f"{HEAD}\nBBB,Beta,Bet,NYSE,Energy,Gamma\n", 2, "ambiguous", "'Gamma' is not"),
    (f"{HEAD}\nBBB,Beta,Bet,NYSE,Energy,beta\n", 2, "ambiguous", "'beta' is not"),
    (f"{HEAD}\n{ROW}\nBBB,{'x' * 200_000},,NYSE,Energy,\n", 3, None, "not CSV"),
]


@pytest.mark.parametrize(
    ("body", "line", "field", "problem"),
    ERRORS,
    ids=[f"line{e[1]}-{e[2] or 'record'}-{e[3][:20]}" for e in ERRORS],
)
def test_each_error_names_file_line_and_field(body, line, field, problem):
    with pytest.raises(ConfigError) as caught:
        parse_universe(body, "desk.csv")
    message = str(caught.value)
    assert message.startswith(f"desk.csv line {line}")
    assert (f"field {field!r}" in message) == (field is not None)
    assert problem in message
    assert message.endswith("fix the file or point SENTIMON_UNIVERSE at another")


def test_header_error_names_the_expected_header():
    with pytest.raises(ConfigError, match=re.escape(HEAD)):
        parse_universe(textwrap.dedent("ticker,name\n"), "x.csv")
