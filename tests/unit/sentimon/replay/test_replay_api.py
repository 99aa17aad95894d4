"""``sentimon.replay.api.replay_spec``: the command line's values, defaults and checks as
a function (no broker, no Redis)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentimon.errors import ConfigError
from sentimon.replay.api import replay_spec
from sentimon.settings import load_settings

T = 1_793_000_000_000  # 2026-10-26T07:33:20Z


@pytest.fixture
def settings():
    return load_settings(topics=["news", "social"], namespace="live")


def test_a_kafka_replay_defaults_to_the_settings_topics_and_a_derived_namespace(settings) -> None:
    spec = replay_spec(settings, start="2026-10-26T07:33:20Z", end=str(T + 3_600_000))
    assert spec.source == "kafka" and spec.topics == ["news", "social"] and not spec.files
    assert (spec.span.from_ms, spec.span.to_ms) == (T, T + 3_600_000)
    assert spec.namespace == "bt:news.social.20261026T073320Z-20261026T083320Z"
    assert (spec.slack_ms, spec.span_ms, spec.speed, spec.progress) == (
        3_600_000,
        300_000,
        None,
        True,
    )


def test_a_file_backtest_names_its_namespace_and_keeps_no_topics(settings, tmp_path) -> None:
    prices = tmp_path / "prices.csv"
    prices.write_text("ticker,ts,price\n")
    spec = replay_spec(
        settings, files=["a/news.jsonl"], kind="news", namespace="q3", batch_span="1m",
        report=tmp_path, prices=prices, progress=False,
    )  # fmt: skip
    assert spec.source == "files" and spec.files == [Path("a/news.jsonl")] and spec.topics == []
    assert (spec.namespace, spec.kind, spec.span_ms) == ("bt:q3", "news", 60_000)
    assert (spec.report_dir, spec.prices, spec.progress) == (tmp_path, prices, False)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"start": "yesterday"}, r"--from 'yesterday': .*not ISO-8601"),
        ({"start": str(T), "end": str(T)}, r"range is empty: --from must be before --to"),
        ({"speed": 0}, r"--speed must be > 0"),
        ({"batch_span": "500ms"}, r"--batch-span"),
        ({"batch_span": "0s"}, r"--batch-span"),
        ({"slack": "forever"}, r"--slack"),
        ({"namespace": "live"}, r"is the live namespace"),
        ({"namespace": "bad name!"}, r"use 1-64 characters"),
        ({"prices": "/nonexistent/prices.csv"}, r"prices file .* does not exist"),
    ],
)
def test_bad_values_name_the_flag(settings, options, message) -> None:
    with pytest.raises(ConfigError, match=message):
        replay_spec(settings, **options)
