"""Report files: prices CSV, alerts.csv rendering, series.parquet, namespace naming."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from sentimon.errors import ConfigError
from sentimon.keys import Keys
from sentimon.replay import namespaces
from sentimon.replay.alertlog import AlertLog, BacktestAlert, outcomes, price_symbol, render_csv
from sentimon.replay.prices import read_prices
from sentimon.replay.report import ticker_summary
from sentimon.replay.series import SeriesRow, _rows_of, write_series
from sentimon.windows import Stats

T = 1_793_000_000_000


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- prices ------------------------------------------------------------------------------
def test_read_prices_accepts_iso_and_epoch_ms(tmp_path):
    path = write(
        tmp_path,
        "p.csv",
        f"ticker,ts,price\nnvda,{T + 60_000},101.5\nNVDA,2026-10-26T07:33:20Z,100\n$AAPL,{T},5\n",
    )
    prices = read_prices(path)
    assert sorted(prices) == ["AAPL", "NVDA"]
    assert prices["NVDA"].ts == (T, T + 60_000)
    assert prices["NVDA"].px == (100.0, 101.5)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("symbol,ts,price\nA,1,2\n", "missing column(s) ticker"),
        (f"ticker,ts,price\nA,{T},abc\n", "line 2: price 'abc' is not a number"),
        (f"ticker,ts,price\nA,{T},1\nA,{T},-3\n", "line 3: price must be > 0"),
        ("ticker,ts,price\nA,yesterday,1\n", "line 2: ts 'yesterday' is not ISO-8601"),
        (f"ticker,ts,price\n,{T},1\n", "line 2: empty ticker"),
    ],
)
def test_read_prices_errors_name_the_line(tmp_path, body, needle):
    with pytest.raises(ConfigError, match="prices file") as err:
        read_prices(write(tmp_path, "p.csv", body))
    assert needle in str(err.value)


# --- alerts.csv --------------------------------------------------------------------------
def event(
    status: str, seq: int, at: int, opened: int, entity: str = "ticker:NVDA"
) -> BacktestAlert:
    payload = {
        "id": "ns-specific-id",
        "namespace": "bt:x",
        "status": status,
        "seq": seq,
        "rule": "drop",
        "kind": "sentiment_drop",
        "severity": "warning",
        "entity": entity,
        "opened_ms": opened,
        "event_ms": at,
        "window": {"seconds": 900, "length": "15m"},
        "stats": {"count": 12, "mean": -0.5, "z": -4.25},
        "threshold": {"open": 3.5},
        "value": -4.25,
        "summary": f"{status} {entity}",
    }
    return BacktestAlert(payload, notified=True, muted="")


def test_alerts_csv_has_no_namespace_specific_values_and_marks_openings():
    log = AlertLog(
        [
            event("firing", 0, T, T),
            event("firing", 1, T + 7_200_000, T),
            event("resolved", 2, T + 8_000_000, T),
        ]
    )
    text = render_csv(log)
    assert "ns-specific-id" not in text and "bt:x" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["status"] for r in rows] == ["firing", "firing", "resolved"]
    assert rows[0]["event_time"] == "2026-10-26T07:33:20.000+00:00"
    assert rows[0]["window"] == "15m" and rows[0]["z"] == "-4.25" and rows[0]["notified"] == "1"
    assert log.per_rule() == {"drop": {"firing": 2, "resolved": 1, "alerts": 1}}


def test_alerts_csv_with_prices_fills_returns_on_the_opening_row_only():
    from sentimon.replay.returns import PriceSeries

    log = AlertLog(
        [
            event("firing", 0, T, T),
            event("resolved", 1, T + 1000, T),
            event("firing", 0, T, T, "market"),
        ]
    )
    log.events.sort(key=lambda e: e.sort_key)
    prices = {"NVDA": PriceSeries.of([(T, 100.0), (T + 900_000, 90.0), (T + 90_000_000, 80.0)])}
    results = outcomes(log, prices, market_proxy=None)
    rows = list(csv.DictReader(io.StringIO(render_csv(log, results))))
    nvda = [r for r in rows if r["entity"] == "ticker:NVDA"]
    assert nvda[0]["ret_15m"] == "-0.1" and nvda[0]["ret_1d"] == "-0.1"
    assert nvda[1]["ret_15m"] == ""  # resolved row
    market = next(r for r in rows if r["entity"] == "market")
    assert market["ret_15m"] == ""  # no proxy given
    assert price_symbol("market", "spy") == "SPY" and price_symbol("kind:news", "SPY") is None


# --- series.parquet ---------------------------------------------------------------------
def test_rows_are_parsed_from_hour_hashes():
    keys = Keys("bt:x")
    hour = 1_793_001_600  # an hour start (epoch s)
    name = keys.hour("ticker:BRK.B", hour)
    fields = {
        "n": "3",
        "2:n": "2",
        "2:pos": "2",
        "2:s": "1500000",
        "2:ss": "1250000",
        "59:n": "1",
        "59:neg": "1",
        "59:s": "-1000000",
        "59:ss": "1000000",
        "2:st": "1",
        "2:sts": "1000000",
        "st": "1",
    }
    rows = list(_rows_of(keys, name, fields))
    assert [(r.ticker, r.minute_ms) for r in rows] == [
        ("BRK.B", (hour + 120) * 1000),
        ("BRK.B", (hour + 3540) * 1000),
    ]
    assert rows[0].stats.mean_score == 0.75 and rows[1].stats.negative == 1
    assert [r.stories for r in rows] == [1, 0]  # two copies of one story, then a copy


def test_ticker_summary_reports_stories_beside_posts():
    rows = [
        SeriesRow("AAPL", T, Stats(3, 3, 0, 0, 0, 0), stories=1),
        SeriesRow("AAPL", T + 60_000, Stats(2, 2, 0, 0, 0, 0), stories=2),
        SeriesRow("NVDA", T, Stats(5, 0, 0, 5, 0, 0), stories=5),
    ]
    assert ticker_summary(rows) == {
        "count": 2,
        "top": [
            {"ticker": "AAPL", "posts": 5, "stories": 3},
            {"ticker": "NVDA", "posts": 5, "stories": 5},
        ],
    }


def test_series_parquet_is_byte_identical_and_typed(tmp_path):
    rows = [
        SeriesRow("AAPL", T, Stats(2, 1, 1, 0, 500_000, 250_000), stories=1),
        SeriesRow("NVDA", T + 60_000, Stats(1, 0, 0, 1, -900_000, 810_000)),
    ]
    write_series(rows, tmp_path / "a.parquet")
    write_series(list(rows), tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    table = pq.read_table(tmp_path / "a.parquet")
    assert table.column("count").to_pylist() == [2, 1]
    assert table.column("stories").to_pylist() == [1, 0]
    assert str(table.schema.field("stories").type) == "int64"
    assert str(table.schema.field("minute").type) == "timestamp[ms, tz=UTC]"
    assert table.column("mean_score").to_pylist() == [0.25, -0.9]
    assert table.schema.metadata is None or b"pandas" not in table.schema.metadata


def test_empty_series_still_writes_a_valid_file(tmp_path):
    write_series([], tmp_path / "e.parquet")
    assert pq.read_table(tmp_path / "e.parquet").num_rows == 0


# --- namespaces --------------------------------------------------------------------------
def test_namespace_naming_and_the_live_guard():
    assert namespaces.resolve("q3-drop") == "bt:q3-drop"
    assert namespaces.resolve("bt:q3") == "bt:q3"
    assert namespaces.resolve("research:q3") == "research:q3"
    with pytest.raises(ConfigError, match="1-64 characters"):
        namespaces.resolve("has space")
    with pytest.raises(ConfigError, match="live namespace"):
        namespaces.refuse_live("live", "live")
    with pytest.raises(ConfigError, match="live namespace"):
        namespaces.refuse_live("prod", "prod")
    namespaces.refuse_live("bt:live", "live")


def test_derived_namespaces_are_valid_and_stable():
    name = namespaces.derived(["news", "social"], T, T + 3_600_000)
    assert name == "bt:news.social.20261026T073320Z-20261026T083320Z"
    long = namespaces.derived([f"news-{'x' * 30}", f"social-{'y' * 30}"], T, None)
    assert len(long) <= 64 and long.startswith("bt:news-") and long == namespaces.resolve(long)
    assert long == namespaces.derived([f"news-{'x' * 30}", f"social-{'y' * 30}"], T, None)
