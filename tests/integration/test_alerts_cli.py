"""Rule-file errors at the CLI and at consumer start-up; the shipped rules check clean."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sentimon.errors import ConfigError
from sentimon.testing import MarkerScorer
from tests.fixtures.stack import Env
from tests.paths import ROOT

pytestmark = pytest.mark.integration

BAD = """# a rules file with a typo in a threshold
[[rule]]
name = "drop"
scope = "*"
kind = "sentiment_drop"
window = "15m"
z = "high"
"""


def sentimon(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sentimon.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_check_reports_file_line_and_field(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(BAD)
    proc = sentimon("alerts", "check", str(path))
    assert proc.returncode == 2
    assert f"alert rules {path}, line 7: rule 'drop' field 'z': must be a number" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_check_the_shipped_rules():
    proc = sentimon("alerts", "check", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] and len(report["rules"]) >= 4


def test_consumer_refuses_to_start_with_a_bad_rules_file(stack, tmp_path):
    from consumers.service import run_consumer

    path = tmp_path / "bad.toml"
    path.write_text(BAD)
    env = Env(stack, Path("unused-model"), alert_rules=path)
    with pytest.raises(ConfigError, match=r"bad\.toml, line 7: rule 'drop' field 'z'"):
        run_consumer(env.settings, scorer=MarkerScorer(), until_idle_s=1)
