"""The library API: the README's example runs as written, and a consumer runs and stops
from Python without touching process-wide state (signal handlers, the GIL switch
interval, the environment)."""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
import time
from typing import Any

import pytest

from tests.fixtures.stack import Env, settings_env
from tests.integration.feeds import make_feed, publish
from tests.paths import ROOT

pytestmark = pytest.mark.integration


def readme_example() -> str:
    """The fenced Python block under the README's "Python API" heading."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "README.md: no ```python block under ## Python API"
    return match.group(1)


def test_the_readme_example_runs(
    env: Env, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = readme_example()
    assert len(code.strip().splitlines()) <= 12, "the README promises a short example"
    for name in [k for k in os.environ if k.startswith("SENTIMON_")]:
        monkeypatch.delenv(name)
    for name, value in settings_env(env.settings).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(ROOT)  # the example's data/sample path
    scope: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), scope)

    out = capsys.readouterr().out
    assert "positive" in out or "negative" in out or "neutral" in out  # the score table
    summary = scope["summary"]
    assert summary["namespace"] == "bt:readme"
    lines = (ROOT / "data" / "sample" / "news.jsonl").read_text().splitlines()
    assert summary["messages"]["scored"] == len(lines)
    assert scope["nvda"].count > 0 and scope["nvda"].mean_score is not None
    assert f"bt:readme {len(lines)} posts scored" in out

    from sentimon.replay.api import clear_namespace

    clear_namespace(env.settings, "readme")


def test_score_returns_a_frame_indexed_like_its_input(env: Env) -> None:
    import pandas as pd

    import sentimon

    news = pd.DataFrame(
        {"headline": ["$NVDA beats estimates", "$XOM cuts its outlook"]}, index=[10, 20]
    )
    scored = sentimon.score(news, column="headline", settings=env.settings)
    assert list(scored.index) == [10, 20]
    assert list(scored.columns) == ["label", "score", "negative", "neutral", "positive", "model"]
    assert set(scored["label"]) <= {"negative", "neutral", "positive"}
    assert ((scored[["negative", "neutral", "positive"]].sum(axis=1) - 1).abs() < 1e-4).all()
    assert scored["model"].iloc[0].endswith(":torch-fp32")


def test_a_consumer_runs_and_stops_from_python_without_process_wide_changes(
    env: Env,
) -> None:
    import sentimon

    feed = make_feed(env.news, env.social, n_valid=40, with_malformed=False, duplicates=0)
    publish(env.stack.bootstrap, feed)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    interval = sys.getswitchinterval()
    environ = dict(os.environ)

    consumer = sentimon.Consumer(env.settings)
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(consumer.run()), daemon=True)
    thread.start()
    query = env.query()
    deadline = time.monotonic() + 120
    while query.counters().get("scored", 0) < feed.market:
        assert thread.is_alive(), "the consumer returned before it was stopped"
        assert time.monotonic() < deadline, f"scored {query.counters()} of {feed.market}"
        time.sleep(0.2)
    assert {sig: signal.getsignal(sig) for sig in handlers} == handlers  # while it runs
    stopped = time.monotonic()
    consumer.stop()
    thread.join(timeout=30)
    assert not thread.is_alive() and codes == [0]
    assert time.monotonic() - stopped < 10
    assert consumer.summary["records"] == feed.total

    assert {sig: signal.getsignal(sig) for sig in handlers} == handlers
    assert sys.getswitchinterval() == interval
    assert dict(os.environ) == environ
