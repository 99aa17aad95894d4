"""`sentimon topics create|describe` against the real embedded broker."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from sentimon.cli.main import main
from sentimon.settings import get_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def topics_env(stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Settings pointing at the test stack, with topic names no other test uses."""
    suffix = uuid.uuid4().hex[:8]
    names = [f"tnews-{suffix}", f"tsocial-{suffix}"]
    for key in list(os.environ):
        if key.startswith("SENTIMON_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("SENTIMON_KAFKA_BOOTSTRAP", stack.bootstrap)
    monkeypatch.setenv("SENTIMON_KAFKA_PROFILE", "embedded")
    monkeypatch.setenv("SENTIMON_TOPICS", json.dumps(names))
    get_settings.cache_clear()
    yield names
    get_settings.cache_clear()


def _run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_create_then_describe(topics_env: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    news, social = topics_env
    code, created = _run_json(
        capsys, "topics", "create", "--partitions", "3", "--retention-ms", "3600000"
    )
    assert code == 0
    by_name = {row["topic"]: row for row in created}
    assert set(by_name) == {news, social, f"{news}.dlq", f"{social}.dlq", "alerts"}
    assert by_name[news]["status"] == "created"
    assert by_name[news]["partitions"] == 3
    assert by_name[f"{news}.dlq"]["partitions"] == 1

    code, described = _run_json(capsys, "topics", "describe", news, f"{social}.dlq")
    assert code == 0
    rows = {row["topic"]: row for row in described}
    assert rows[news]["partitions"] == 3
    assert rows[news]["replication"] == 1
    assert rows[news]["retention_ms"] == 3600000
    assert rows[f"{social}.dlq"]["partitions"] == 1


def test_create_is_idempotent_and_reports_fewer_partitions(
    topics_env: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    news = topics_env[0]
    assert _run_json(capsys, "topics", "create", "--partitions", "2")[0] == 0
    code, again = _run_json(capsys, "topics", "create", "--partitions", "5")
    assert code == 0
    row = next(r for r in again if r["topic"] == news)
    assert row["status"] == "exists"
    assert row["partitions"] == 2  # left unchanged
    assert row["requested_partitions"] == 5
    assert "left unchanged" in row["detail"]


def test_describe_unknown_topic_fails(
    topics_env: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, rows = _run_json(capsys, "topics", "describe", f"missing-{uuid.uuid4().hex[:6]}")
    assert code == 1
    assert rows[0]["error"] == "UnknownTopicOrPartitionError"


def test_no_broker_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sentimon.stack.services import free_port

    monkeypatch.setenv("SENTIMON_KAFKA_BOOTSTRAP", f"127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    from sentimon import topics

    monkeypatch.setattr(topics, "_ADMIN_TIMEOUT_S", 2.0)
    assert main(["topics", "describe"]) == 1
    assert "no Kafka broker answers" in capsys.readouterr().err
    get_settings.cache_clear()
