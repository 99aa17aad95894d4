"""The company universe: which tickers sentimon knows and the names news uses for them.

A universe file is CSV (UTF-8) with the header ``ticker,name,aliases,exchange,sector,
ambiguous``. ``aliases`` and ``ambiguous`` are ``|``-separated; ``ambiguous`` lists the
entries of ``name``/``aliases`` that are also ordinary words, people or places ("Apple",
"Target", "Delta"), so the linker wants context before it counts them as the company.
Blank lines and lines starting with ``#`` are skipped; fields are stripped.

A name or alias belongs to one company. The one exception is share classes (GOOGL and
GOOG, FOXA and FOX): rows with exactly the same ``name`` are allowed, and that name
links to the first listed. The shipped file is ``sentimon/data/universe.csv``, built
by ``data/universe/build.py``; a desk can point ``SENTIMON_UNIVERSE`` at its own file.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sentimon.errors import ConfigError

HEADER = ("ticker", "name", "aliases", "exchange", "sector", "ambiguous")
#: The 11 GICS sectors; the shipped file uses only these (a desk's own file may not).
GICS_SECTORS = (
    "Communication Services",
    "Consumer Discretionary",
    "Consumer Staples",
    "Energy",
    "Financials",
    "Health Care",
    "Industrials",
    "Information Technology",
    "Materials",
    "Real Estate",
    "Utilities",
)
DEFAULT_UNIVERSE = Path(str(resources.files("sentimon").joinpath("data/universe.csv")))
DEFAULT_SOURCE = "<default universe.csv>"
TICKER_RE = re.compile(r"^[A-Z][A-Z0-9]{0,9}(?:[.\-][A-Z]{1,3})?$")
_ADVICE = "fix the file or point SENTIMON_UNIVERSE at another"


@dataclass(frozen=True)
class Company:
    """One listed company: its symbol, the names news uses for it, where and what it is."""

    ticker: str
    name: str
    aliases: tuple[str, ...]
    exchange: str
    sector: str
    #: which of name/aliases need context before they count (as written in the file)
    ambiguous: frozenset[str] = frozenset()

    def surfaces(self) -> tuple[str, ...]:
        """The name then the aliases: every text that can refer to this company."""
        return (self.name, *self.aliases)


class Universe:
    """A validated set of companies, looked up by ticker or walked by name."""

    def __init__(self, companies: Iterable[Company], source: str) -> None:
        self.companies = tuple(companies)
        self.source = source
        self._by_ticker = {c.ticker: c for c in self.companies}

    def get(self, ticker: str) -> Company | None:
        """The company listed as ``ticker`` (any case, e.g. from a cashtag), or None."""
        return self._by_ticker.get(ticker.strip().upper())

    def __contains__(self, ticker: object) -> bool:
        return isinstance(ticker, str) and self.get(ticker) is not None

    def __len__(self) -> int:
        return len(self.companies)

    def names(self) -> Iterator[tuple[str, Company, bool]]:
        """``(surface, company, is_ambiguous)`` for every name and alias.

        A name shared by share classes (same text, compared without case) is yielded
        once, for the first listed company, so a linker never sees two owners.
        """
        seen: set[str] = set()
        for company in self.companies:
            for surface in company.surfaces():
                key = surface.casefold()
                if key not in seen:
                    seen.add(key)
                    yield surface, company, surface in company.ambiguous

    def sectors(self) -> list[str]:
        """The distinct sectors, sorted."""
        return sorted({c.sector for c in self.companies})


def load_universe(path: str | Path | None = None) -> Universe:
    """The universe in ``path``, or the shipped default when ``path`` is None."""
    if path is None:
        return parse_universe(_read(DEFAULT_UNIVERSE), DEFAULT_SOURCE)
    return parse_universe(_read(Path(path)), str(path))


def parse_universe(text: str, source: str) -> Universe:
    """Parse and validate universe CSV; raises ConfigError naming file, line and field."""
    rows = _records(text, source)
    first = next(rows, None)
    if first is None or tuple(first[1]) != HEADER:
        line = first[0] if first else 1
        found = ",".join(first[1]) if first else "nothing"
        raise _error(
            source, line, None, f"the header must be {','.join(HEADER)!r}, found {found!r}"
        )
    checker = _Checker(source)
    companies = [checker.company(line, fields) for line, fields in rows]
    return Universe(companies, source)


def _read(path: Path) -> str:
    """The file's text; a BOM (as spreadsheet exports write) is dropped."""
    try:
        return path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"universe {path}: cannot read the file ({exc}); {_ADVICE}") from exc


def _records(text: str, source: str) -> Iterator[tuple[int, list[str]]]:
    """``(first line number, stripped fields)`` per CSV record, skipping blanks/comments."""
    reader = csv.reader(text.splitlines(keepends=True), skipinitialspace=True)
    end = 0
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _error(source, reader.line_num, None, f"not CSV: {exc}") from None
        start, end = end + 1, reader.line_num
        fields = [f.strip() for f in raw]
        if any(fields) and not fields[0].startswith("#"):
            yield start, fields


def _error(source: str, line: int, field: str | None, problem: str) -> ConfigError:
    where = f", field {field!r}" if field else ""
    return ConfigError(f"{source} line {line}{where}: {problem}; {_ADVICE}")


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split("|") if part.strip())


class _Checker:
    """Validates rows in file order, remembering tickers and names already claimed."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tickers: dict[str, int] = {}
        #: casefolded surface -> (ticker, line, the text, whether it was a ``name``)
        self.owners: dict[str, tuple[str, int, str, bool]] = {}

    def fail(self, line: int, field: str | None, problem: str) -> ConfigError:
        return _error(self.source, line, field, problem)

    def company(self, line: int, fields: list[str]) -> Company:
        if len(fields) != len(HEADER):
            problem = f"{len(fields)} fields, expected {len(HEADER)} ({','.join(HEADER)})"
            raise self.fail(line, None, problem + "; quote a field that contains a comma")
        ticker, name, aliases_text, exchange, sector, ambiguous_text = fields
        self._ticker(line, ticker)
        for field, value in (("name", name), ("exchange", exchange), ("sector", sector)):
            if not value:
                raise self.fail(line, field, "empty")
        aliases = _split(aliases_text)
        self._claim(line, ticker, name, "name")
        for alias in aliases:
            self._claim(line, ticker, alias, "aliases")
        ambiguous = _split(ambiguous_text)
        for entry in ambiguous:
            if entry not in (name, *aliases):
                problem = f"{entry!r} is not this row's name or one of its aliases (exact text)"
                raise self.fail(line, "ambiguous", problem)
        return Company(ticker, name, aliases, exchange, sector, frozenset(ambiguous))

    def _ticker(self, line: int, ticker: str) -> None:
        if not ticker:
            raise self.fail(line, "ticker", "empty")
        if not TICKER_RE.match(ticker):
            problem = f"{ticker!r} is not a ticker symbol (upper case, e.g. AAPL or BRK.B)"
            raise self.fail(line, "ticker", problem)
        if ticker in self.tickers:
            raise self.fail(line, "ticker", f"{ticker!r} is already on line {self.tickers[ticker]}")
        self.tickers[ticker] = line

    def _claim(self, line: int, ticker: str, surface: str, field: str) -> None:
        """Record that ``surface`` names ``ticker``; a second owner is an error.

        The exception: a share class repeating another row's ``name`` exactly.
        """
        key = surface.casefold()
        owner = self.owners.get(key)
        if owner is None:
            self.owners[key] = (ticker, line, surface, field == "name")
            return
        other, other_line, text, was_name = owner
        if other != ticker and field == "name" and was_name and text == surface:
            return
        where = "this row" if other == ticker else f"{other} (line {other_line})"
        raise self.fail(line, field, f"{surface!r} is already a name or alias of {where}")
