"""``series.parquet``: per ticker per event-time minute, read back from the namespace.

Rows come from the namespace's hour hashes (``h:ticker:<SYMBOL>:<hour>``, minute fields
``m:n m:pos m:neu m:neg m:s m:ss``). The counts are of every post about the company; the
relevance-level hashes (``h:ticker:<SYMBOL>@<level>:<hour>``) give the relevance-weighted
columns (``weighted_count``, ``weighted_mean_score``), exactly, and the story fields
``m:st`` the stories begun in the minute (``stories``: a story counts once, in the minute
of its first post; ``sentimon.stories``). The post aggregates are exact integer sums, so
they do not depend on how records were batched (the story assignment depends only on the
order of the posts, which a replay fixes); rows are sorted by (ticker, minute), every column has a
fixed type, and the file is written with fixed options and no run metadata, so the same
input gives byte-identical files.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from sentimon.entities.weighted import RelevanceStats
from sentimon.keys import RELEVANCE_SEP, ST, STAT_FIELDS, Keys
from sentimon.windows import MINUTE, Stats

_TICKER_PREFIX = "ticker:"
_PIPELINE_CHUNK = 200


@dataclass(frozen=True)
class SeriesRow:
    ticker: str
    minute_ms: int
    stats: Stats
    #: Stats of the minute's mentions at each relevance level below 1.
    levels: tuple[tuple[float, Stats], ...] = ()
    #: Stories begun in the minute (their first post is in it).
    stories: int = 0

    @property
    def relevance(self) -> RelevanceStats:
        return RelevanceStats(self.stats, dict(self.levels))


def read_series(client: redis.Redis, namespace: str) -> list[SeriesRow]:
    """Every (ticker, minute) with posts, sorted by ticker then minute."""
    keys = Keys(namespace)
    pattern = f"{keys.prefix}h:{_TICKER_PREFIX}*"
    names = sorted(str(k) for k in client.scan_iter(match=pattern, count=1000))
    rows: list[SeriesRow] = []
    for start in range(0, len(names), _PIPELINE_CHUNK):
        chunk = names[start : start + _PIPELINE_CHUNK]
        pipe = client.pipeline(transaction=False)
        for name in chunk:
            pipe.hgetall(name)
        for name, fields in zip(chunk, pipe.execute(), strict=True):
            rows.extend(_rows_of(keys, name, fields))
    return _with_levels(rows)


def _with_levels(rows: list[SeriesRow]) -> list[SeriesRow]:
    """Rows of ``TICKER@level`` folded into their ticker's rows, sorted."""
    levels: dict[tuple[str, int], list[tuple[float, Stats]]] = {}
    main = []
    for row in rows:
        ticker, sep, level = row.ticker.partition(RELEVANCE_SEP)
        if sep:
            levels.setdefault((ticker, row.minute_ms), []).append((float(level), row.stats))
        else:
            main.append(row)
    out = [
        SeriesRow(r.ticker, r.minute_ms, r.stats,
                  tuple(sorted(levels.get((r.ticker, r.minute_ms), []))), r.stories)
        for r in main
    ]  # fmt: skip
    out.sort(key=lambda r: (r.ticker, r.minute_ms))
    return out


def _rows_of(keys: Keys, name: str, fields: dict[Any, Any]) -> Iterable[SeriesRow]:
    entity, _, hour = name[len(keys.prefix) + len("h:") :].rpartition(":")
    ticker = entity[len(_TICKER_PREFIX) :]
    hour_s = int(hour)
    minutes: dict[int, dict[str, Any]] = {}
    for raw_field, value in fields.items():
        slot, sep, stat = str(raw_field).partition(":")
        if sep and slot.isdigit():
            minutes.setdefault(int(slot), {})[stat] = value
    for minute, stats in sorted(minutes.items()):
        parsed = Stats.from_values([stats.get(f) for f in STAT_FIELDS])
        if parsed.count:
            stories = int(stats.get(ST) or 0)
            yield SeriesRow(ticker, (hour_s + minute * MINUTE) * 1000, parsed, stories=stories)


def series_table(rows: list[SeriesRow]) -> Any:
    """The rows as a pyarrow Table with a fixed schema."""
    import pyarrow as pa  # noqa: PLC0415 (heavy: loaded only when used)

    schema = pa.schema(
        [
            ("ticker", pa.string()),
            ("minute", pa.timestamp("ms", tz="UTC")),
            ("count", pa.int64()),
            ("positive", pa.int64()),
            ("neutral", pa.int64()),
            ("negative", pa.int64()),
            ("mean_score", pa.float64()),
            ("std_score", pa.float64()),
            ("score_sum_micro", pa.int64()),
            ("weighted_count", pa.float64()),
            ("weighted_mean_score", pa.float64()),
            ("stories", pa.int64()),
        ]
    )
    columns = [
        [r.ticker for r in rows],
        [r.minute_ms for r in rows],
        [r.stats.count for r in rows],
        [r.stats.positive for r in rows],
        [r.stats.neutral for r in rows],
        [r.stats.negative for r in rows],
        [r.stats.mean_score for r in rows],
        [r.stats.std_score for r in rows],
        [r.stats.s_micro for r in rows],
        [round(r.relevance.weighted_count, 6) for r in rows],
        [_rounded(r.relevance.weighted_mean) for r in rows],
        [r.stories for r in rows],
    ]
    arrays = [pa.array(col, type=f.type) for col, f in zip(columns, schema, strict=True)]
    return pa.Table.from_arrays(arrays, schema=schema)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 9)


def write_series(rows: list[SeriesRow], path: Path) -> None:
    """Write ``series.parquet`` with options fixed for byte-identical output."""
    import pyarrow.parquet as pq  # noqa: PLC0415 (heavy: loaded only when used)

    pq.write_table(
        series_table(rows),
        path,
        compression="zstd",
        compression_level=3,
        use_dictionary=["ticker"],
        write_statistics=True,
        data_page_version="1.0",
        version="2.6",
        row_group_size=1_000_000,
        store_schema=True,
        write_page_index=False,
        write_page_checksum=False,
    )
