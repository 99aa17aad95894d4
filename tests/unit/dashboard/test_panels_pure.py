"""Backtest summary, namespace ordering and the CLI's Streamlit command line (pure)."""

from __future__ import annotations

import argparse
import json

from dashboard.panels.namespace import (
    backtest_range,
    headline,
    is_backtest,
    per_rule_rows,
    summary_of,
)
from dashboard.session import namespace_label, namespace_options
from sentimon.cli import dashboard_cmd
from sentimon.cli.main import build_parser

SUMMARY = {
    "messages": {"read": 120, "scored": 110},
    "alerts": {"events": 3, "alerts": 2, "per_rule": {"drop": {"firing": 2, "resolved": 1, "alerts": 2}}},
    "tickers": {"count": 7, "top": []},
}  # fmt: skip
META = {
    "kind": "backtest", "status": "done", "range_from_ms": "1000", "range_to_ms": "2000",
    "summary": json.dumps(SUMMARY),
}  # fmt: skip


def test_backtest_detection_and_summary():
    assert is_backtest("bt:x", {}) and is_backtest("other", META) and not is_backtest("live", {})
    assert backtest_range(META) == (1000, 2000)
    assert backtest_range({}) == (None, None)
    assert summary_of(META) == SUMMARY
    assert summary_of({"summary": "not json"}) == {}
    assert per_rule_rows(SUMMARY) == [{"rule": "drop", "alerts": 2, "firing": 2, "resolved": 1}]
    assert headline(SUMMARY) == [
        ("Messages scored", "110"), ("Alerts opened", "2"), ("Alert events", "3"), ("Tickers", "7")
    ]  # fmt: skip
    assert headline({})[0] == ("Alerts opened", "—")


def test_namespace_options_put_the_default_first_then_live_then_backtests():
    got = namespace_options(["bt:b", "live", "bt:a", "other"], "live", None)
    assert got == ["live", "other", "bt:a", "bt:b"]
    assert namespace_options([], "live", "bt:new") == ["live", "bt:new"]
    assert namespace_label("bt:run1") == "backtest · run1" and namespace_label("live") == "live"


def test_dashboard_command_is_registered_and_builds_a_streamlit_command(monkeypatch):
    args = build_parser().parse_args(["dashboard", "--port", "8765", "--headless"])
    assert args.func is dashboard_cmd.run
    monkeypatch.delenv("STREAMLIT_SERVER_ADDRESS", raising=False)
    argv = dashboard_cmd.streamlit_argv(args)
    assert argv[1:4] == ["-m", "streamlit", "run"]
    assert argv[4].endswith("dashboard/app.py") and dashboard_cmd.app_path().is_file()
    flags = dict(zip(argv[5::2], argv[6::2], strict=True))
    assert flags["--server.port"] == "8765"
    assert flags["--server.address"] == "127.0.0.1"
    assert flags["--server.headless"] == "true"
    monkeypatch.setenv("STREAMLIT_SERVER_ADDRESS", "0.0.0.0")
    no_flag = argparse.Namespace(port=1, address=None, namespace=None, headless=False)
    assert "0.0.0.0" in dashboard_cmd.streamlit_argv(no_flag)
