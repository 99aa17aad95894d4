"""Build sentimon's shipped company universe (sentimon/data/universe.csv).

How to run it (from the repository root)::

    .venv/bin/pip install -e '.[universe]'     # pytickersymbols==1.17.10, offline data
    .venv/bin/python data/universe/build.py     # rewrites sentimon/data/universe.csv
    .venv/bin/python data/universe/build.py --check   # exit 1 if the shipped file is stale

What it does: takes the S&P 500 and NASDAQ 100 constituents that ``pytickersymbols``
ships (its ``name``, its Google symbol's exchange prefix, and the GICS sector among its
``industries``), then applies the hand-written overlays next to this script:

``overrides.csv``   ``ticker,field,value,reason``: one correction per line to ``name``,
                    ``exchange`` or ``sector`` (wrong or stale data, the name news uses).
``exchanges.csv``   ``ticker,exchange``: the primary US listing venue where
                    pytickersymbols gives no exchange prefix.
``aliases.csv``     ``ticker,aliases,ambiguous``: other names news uses (``|``-separated)
                    and which of name/aliases are also ordinary words, people, places or
                    products, so the linker wants context before counting them.

Legal suffixes (Inc., Corporation, plc, ...) and a leading "The" are stripped from names
first; the linker accepts them itself. The result is validated with the same loader
sentimon uses, plus checks only the shipped file must pass (GICS sectors, every row has
an exchange, every overlay line is used), and written sorted by ticker.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from pathlib import Path

from pytickersymbols import PyTickerSymbols  # the optional "universe" extra

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from sentimon.entities.universe import (  # noqa: E402 (after the path is set)
    DEFAULT_UNIVERSE,
    GICS_SECTORS,
    HEADER,
    parse_universe,
)

INDICES = ("S&P 500", "NASDAQ 100")
#: Google Finance exchange prefixes -> the venue names the universe uses
VENUES = {"NYSE": "NYSE", "NASDAQ": "NASDAQ", "NYSEAMERICAN": "NYSE American", "BATS": "Cboe"}
#: Share classes whose secondary row repeats the primary's name with no aliases
SECONDARY_CLASSES = {"GOOG": "GOOGL", "FOX": "FOXA", "NWS": "NWSA"}
_SUFFIX_RE = re.compile(
    r"(?:,?\s+(?:(?:&|and)\s+)?(?:Inc\.?|Incorporated|Corporation|Corp\.?|Company|Co\.|plc"
    r"|Limited|Ltd\.?|Holdings|N\.V\.|S\.A\.))+$",
    re.IGNORECASE,
)
FIELDS = ("name", "exchange", "sector")


def clean_name(name: str) -> str:
    """The name without a leading "The" and trailing legal suffixes."""
    name = re.sub(r"^The\s+", "", name.strip())
    return _SUFFIX_RE.sub("", name).strip()


def read_overlay(name: str) -> list[dict[str, str]]:
    """Rows of an overlay CSV (``#`` lines are comments), fields stripped."""
    lines = (HERE / name).read_text("utf-8").splitlines()
    body = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(body)]


def exchange_of(stock: dict) -> str:
    """The US venue from the Google symbol that matches the ticker, else "" (none given)."""
    symbol = stock["symbol"]
    for entry in stock.get("symbols", []):
        prefix, _, code = entry.get("google", "").partition(":")
        if code == symbol and prefix in VENUES:
            return VENUES[prefix]
    for entry in stock.get("symbols", []):
        prefix, _, _code = entry.get("google", "").partition(":")
        if entry.get("currency") == "USD" and prefix in VENUES:
            return VENUES[prefix]
    return ""


def sector_of(stock: dict) -> str:
    """The GICS sector among pytickersymbols' industries, if exactly one is named."""
    found = {i for i in stock.get("industries", []) if i in GICS_SECTORS}
    return found.pop() if len(found) == 1 else ""


def base_rows() -> dict[str, dict[str, str]]:
    """One row per ticker from the indices, before any overlay."""
    tickers = PyTickerSymbols()
    rows: dict[str, dict[str, str]] = {}
    for index in INDICES:
        for stock in tickers.get_stocks_by_index(index):
            ticker = stock["symbol"].strip().upper()
            rows.setdefault(
                ticker,
                {
                    "ticker": ticker,
                    "name": clean_name(stock["name"]),
                    "aliases": "",
                    "exchange": exchange_of(stock),
                    "sector": sector_of(stock),
                    "ambiguous": "",
                },
            )
    return rows


def apply_overlays(rows: dict[str, dict[str, str]]) -> list[str]:
    """Apply exchanges, overrides and aliases in place; returns the problems found."""
    return _exchanges(rows) + _overrides(rows) + _aliases(rows)


def _entries(name: str, rows: dict[str, dict[str, str]], problems: list[str]) -> list[dict]:
    """An overlay's lines whose ticker is in the universe (others are problems)."""
    found = []
    for entry in read_overlay(name):
        if entry["ticker"] not in rows:
            problems.append(f"{name}: {entry['ticker']} is not in the universe")
        else:
            found.append(entry)
    return found


def _exchanges(rows: dict[str, dict[str, str]]) -> list[str]:
    problems: list[str] = []
    for entry in _entries("exchanges.csv", rows, problems):
        row = rows[entry["ticker"]]
        if row["exchange"]:
            problems.append(f"exchanges.csv: {entry['ticker']} already has {row['exchange']}")
        row["exchange"] = entry["exchange"]
    return problems


def _overrides(rows: dict[str, dict[str, str]]) -> list[str]:
    problems: list[str] = []
    for entry in _entries("overrides.csv", rows, problems):
        row = rows[entry["ticker"]]
        if entry["field"] not in FIELDS or not entry["reason"]:
            problems.append(f"overrides.csv: needs a field in {FIELDS} and a reason: {entry}")
        elif row[entry["field"]] == entry["value"]:
            problems.append(f"overrides.csv: {entry['ticker']} {entry['field']} is already so")
        else:
            row[entry["field"]] = entry["value"]
    return problems


def _aliases(rows: dict[str, dict[str, str]]) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for entry in _entries("aliases.csv", rows, problems):
        if entry["ticker"] in seen:
            problems.append(f"aliases.csv: {entry['ticker']} is listed twice")
        seen.add(entry["ticker"])
        rows[entry["ticker"]].update(aliases=entry["aliases"], ambiguous=entry["ambiguous"])
    return problems


def check(rows: dict[str, dict[str, str]]) -> list[str]:
    """What only the shipped file must satisfy (a desk's own file may differ)."""
    problems = []
    for ticker, row in rows.items():
        if row["sector"] not in GICS_SECTORS:
            problems.append(f"{ticker}: sector {row['sector']!r} is not GICS (overrides.csv)")
        if row["exchange"] not in VENUES.values():
            problems.append(f"{ticker}: exchange {row['exchange']!r} (exchanges.csv)")
    for secondary, primary in SECONDARY_CLASSES.items():
        if secondary in rows and rows[secondary]["aliases"]:
            problems.append(f"{secondary}: a secondary share class of {primary} has aliases")
    return problems


def render(rows: dict[str, dict[str, str]]) -> str:
    """The CSV text, sorted by ticker, LF line ends, quoted only where needed."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for ticker in sorted(rows):
        writer.writerow([rows[ticker][field] for field in HEADER])
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("--out", type=Path, default=DEFAULT_UNIVERSE)
    args = parser.parse_args(argv)
    rows = base_rows()
    problems = apply_overlays(rows) + check(rows)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    text = render(rows)
    universe = parse_universe(text, "<built universe.csv>")  # the loader's own validation
    if args.check:
        current = args.out.read_text("utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is stale: run data/universe/build.py", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date ({len(universe)} companies)")
        return 0
    args.out.write_text(text, "utf-8")
    print(f"wrote {args.out}: {len(universe)} companies")
    return 0


if __name__ == "__main__":
    sys.exit(main())
