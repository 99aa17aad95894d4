"""Replays and file backtests as Python calls: what ``sentimon replay`` and ``sentimon
backtest`` do once their arguments are parsed, and what ``sentimon.run_backtest`` is.

``replay_spec`` turns plain values (times as ISO-8601 or epoch ms, durations as ``5m``) into
a :class:`~sentimon.replay.job.ReplaySpec`, with the defaults and checks of the command
line: the namespace is ``bt:NAME`` (derived from the sources and range when not given),
never the live one. ``run_replay`` (``sentimon.replay.job``) runs a spec. Error messages
name the command-line flag of the value at fault (``--from``, ``--batch-span``, ...).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import redis

from inference.scorer import Scorer
from sentimon.alerts.durations import parse_duration
from sentimon.contract import parse_ts
from sentimon.errors import ConfigError
from sentimon.replay import namespaces
from sentimon.replay.job import ReplaySpec, run_replay
from sentimon.replay.merge import TimeRange
from sentimon.replay.report import write_report
from sentimon.settings import Settings, load_settings
from sentimon.store.client import connect


def replay_spec(
    settings: Settings,
    *,
    files: Sequence[str | Path] = (),
    kind: str | None = None,
    topics: Sequence[str] | None = None,
    start: str | int | None = None,
    end: str | int | None = None,
    namespace: str | None = None,
    speed: float | None = None,
    slack: str = "1h",
    scan_all: bool = False,
    batch_span: str = "5m",
    rules: str | Path | None = None,
    model: str | None = None,
    replace: bool = False,
    report: str | Path | None = None,
    prices: str | Path | None = None,
    market_proxy: str | None = None,
    progress: bool = True,
    outbox: bool | None = None,
) -> ReplaySpec:
    """The spec of a file backtest (``files``) or else a Kafka replay of ``topics``
    (default: ``settings.topics``) over ``[start, end)`` into ``bt:NAMESPACE``.

    ``speed``: pace event time at that many times real time (None: as fast as possible);
    ``slack``/``scan_all``: Kafka only (how far broker timestamps may differ from event
    times; read whole partitions); ``batch_span``: most event time one batch covers;
    ``replace``: clear the namespace first; ``report``: a folder to write the report to;
    ``prices`` (CSV ticker,ts,price) and ``market_proxy``: forward returns in it;
    ``outbox``: queue alert notices for a dispatcher (None: ``settings.replay_outbox``).

    >>> spec = replay_spec(settings, topics=["news"], start="2026-10-26T08:00Z",
    ...                    end="2026-10-26T12:00Z", namespace="morning")
    """
    paths = [Path(p) for p in files]
    start_ms, end_ms = parse_time_ms(start, "--from"), parse_time_ms(end, "--to")
    try:
        span = TimeRange(start_ms, end_ms)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if speed is not None and speed <= 0:
        raise ConfigError("--speed must be > 0 (e.g. --speed 60 for one minute per second)")
    span_ms = parse_duration_ms(batch_span, "--batch-span")
    if span_ms < 1000:
        raise ConfigError("--batch-span must be at least 1s (e.g. 1m, 5m)")
    chosen_topics = [] if paths else list(topics or settings.topics)
    if namespace in ("live", settings.namespace):
        namespaces.refuse_live(namespace, settings.namespace)
    labels = [p.stem for p in paths] if paths else chosen_topics
    name = (
        namespaces.resolve(namespace) if namespace else namespaces.derived(labels, start_ms, end_ms)
    )
    spec = ReplaySpec(
        namespace=name,
        span=span,
        speed=speed,
        rules=Path(rules) if rules is not None else None,
        model=model,
        replace=replace,
        report_dir=Path(report) if report is not None else None,
        prices=Path(prices) if prices is not None else None,
        market_proxy=market_proxy,
        progress=progress,
        span_ms=span_ms,
        outbox=outbox,
    )
    if paths:
        spec.files = paths
        spec.kind = kind
    else:
        spec.topics = chosen_topics
        spec.slack_ms = parse_duration_ms(slack, "--slack")
        spec.scan_all = scan_all
    if spec.prices is not None and not spec.prices.is_file():
        raise ConfigError(f"prices file {spec.prices} does not exist")
    return spec


def run_backtest(
    paths: str | Path | Sequence[str | Path],
    *,
    namespace: str | None = None,
    settings: Settings | None = None,
    scorer: Scorer | None = None,
    client: redis.Redis | None = None,
    progress: bool = False,
    **options: Any,
) -> dict[str, Any]:
    """Run JSONL/CSV files of posts through the live pipeline into ``bt:NAMESPACE`` (no
    Kafka) and return the run's summary (``summary["namespace"]`` is where the aggregates
    are). ``options`` are ``replay_spec``'s (``start``, ``end``, ``kind``, ``replace``,
    ``report``, ``prices``, ...); ``scorer``: one already loaded (else the settings' model).

    >>> summary = run_backtest(["news.jsonl"], namespace="q3", replace=True)
    >>> summary["messages"]["scored"]
    """
    settings = settings if settings is not None else load_settings()
    if isinstance(paths, str | Path):
        paths = [paths]
    if not paths:
        raise ConfigError("a backtest needs at least one file")
    spec = replay_spec(settings, files=paths, namespace=namespace, progress=progress, **options)
    return run_replay(settings, spec, scorer=scorer, client=client)


def clear_namespace(
    settings: Settings, name: str, *, force: bool = False, allow_live: bool = False
) -> tuple[str, int]:
    """Delete a backtest namespace's keys: (namespace, keys removed). Another namespace
    only with ``force``; the live one only with ``allow_live``."""
    namespace = name if name in ("live", settings.namespace) else namespaces.resolve(name)
    client = connect(settings)
    if namespaces.is_live(namespace, settings.namespace) and not allow_live:
        raise ConfigError(
            f"{namespace!r} is the live namespace: refusing to clear it "
            "(if you really mean it: --allow-live --yes)"
        )
    kind = namespaces.read_meta(client, namespace).get("kind")
    if kind != "backtest" and not force and not namespaces.is_live(namespace, settings.namespace):
        if not namespaces.exists(client, namespace):
            raise ConfigError(
                f"namespace {namespace!r} does not exist (see `sentimon replay list`)"
            )
        raise ConfigError(f"{namespace!r} is not a backtest namespace; pass --force to clear it")
    return namespace, namespaces.clear(client, namespace)


def list_namespaces(settings: Settings) -> list[dict[str, Any]]:
    """Backtest namespaces with their range, status, source and counts."""
    return namespaces.listing(connect(settings), settings.namespace)


def rewrite_report(
    settings: Settings,
    name: str,
    report: str | Path,
    *,
    prices: str | Path | None = None,
    market_proxy: str | None = None,
) -> dict[str, Any]:
    """(Re)write the report folder of an existing namespace; returns its summary."""
    namespace = namespaces.resolve(name)
    client = connect(settings)
    if not namespaces.exists(client, namespace):
        raise ConfigError(f"namespace {namespace!r} does not exist (see `sentimon replay list`)")
    meta = namespaces.read_meta(client, namespace)
    try:
        run = json.loads(meta.get("summary") or "{}")
    except ValueError:
        run = {}
    run = {k: v for k, v in run.items() if k not in ("tickers", "alerts", "files", "prices")}
    return write_report(
        client, namespace, Path(report), run or {"namespace": namespace},
        prices=Path(prices) if prices is not None else None, market_proxy=market_proxy,
    )  # fmt: skip


def parse_time_ms(value: str | int | None, flag: str) -> int | None:
    """ISO-8601 or epoch ms (a string of digits counts as ms) -> epoch ms."""
    if value is None:
        return None
    parsed = parse_ts(int(value) if isinstance(value, str) and value.strip().isdigit() else value)
    if not isinstance(parsed, int):
        raise ConfigError(f"{flag} {value!r}: {parsed.reason} (e.g. 2026-10-26T08:00:00Z)")
    return parsed


def parse_duration_ms(text: str, flag: str) -> int:
    """``30s``, ``5m``, ``1h`` ... -> ms."""
    try:
        return parse_duration(text) * 1000
    except ConfigError as exc:
        raise ConfigError(f"{flag}: {exc}") from None
