"""Fixtures shared by all tests: paths, the real embedded stack, a tiny real model."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT / ".." / "shared" / "data" / "twitter-financial-news").resolve()
ARTIFACTS = ROOT / "tests" / "artifacts"
#: How far behind processing time the test slices accept event times (the feeds are fixed).
FEED_HISTORY_S = 30 * 365 * 86_400


@pytest.fixture(autouse=True, scope="session")
def _feeds_within_event_time_bounds() -> Iterator[None]:
    """The fixed test feeds are dated around ``tests.integration.feeds.T0`` (2026-10-26),
    any number of days before the run, so the live consumer's default bounds (7 days
    behind processing time) would dead-letter them. Every test's settings, and the
    consumers they spawn, accept them; tests of the bounds set them explicitly."""
    name = "SENTIMON_EVENT_TIME_MAX_BEHIND_S"
    before = os.environ.get(name)
    os.environ[name] = str(FEED_HISTORY_S)
    yield
    if before is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = before


@pytest.fixture(autouse=True)
def _tokenizers_parallelism_restored() -> Iterator[None]:
    """Loading an ONNX scorer that runs batches concurrently sets TOKENIZERS_PARALLELISM
    for the whole process (``inference.onnx_backend.serial_tokenizer``); undo it after
    each test, so consumers that later tests start do not inherit it by test order."""
    before = os.environ.get("TOKENIZERS_PARALLELISM")
    yield
    if before is None:
        os.environ.pop("TOKENIZERS_PARALLELISM", None)
    else:
        os.environ["TOKENIZERS_PARALLELISM"] = before


@pytest.fixture(scope="session")
def train_csv() -> Path:
    path = DATA / "train.csv"
    if not path.is_file():
        pytest.skip(f"training data not found at {path}")
    return path


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real Tansu broker and Redis server on free ports, once per test session."""
    from sentimon.stack import Stack
    from sentimon.stack.services import free_port

    stack = Stack(free_port(), free_port(), tmp_path_factory.mktemp("stack"))
    stack.up()
    yield stack
    stack.down()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, train_csv: Path) -> Path:
    """A small real HF classifier trained for seconds (for pipeline mechanics tests)."""
    from inference.training.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny", train_csv, seed=0)


def settings_env(settings: Any) -> dict[str, str]:
    """SENTIMON_* environment variables reproducing ``settings`` in a child process."""
    return dict(settings.as_env())


class Env:
    """An isolated slice of the shared stack: own topics, namespace and group."""

    def __init__(self, stack: Any, model: Path, **overrides: Any) -> None:
        uid = uuid.uuid4().hex[:8]
        self.uid = uid
        self.stack = stack
        base = {
            "topics": [f"news-{uid}", f"social-{uid}"],
            "namespace": f"t-{uid}",
            "group": f"g-{uid}",
            "model": str(model),
            "backend": "torch",
        }
        base.update(overrides)
        self.settings = stack.settings(**base)
        from sentimon.topics import create_topics, default_specs

        create_topics(self.settings, default_specs(self.settings))

    @property
    def news(self) -> str:
        return self.settings.topics[0]

    @property
    def social(self) -> str:
        return self.settings.topics[1]

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SENTIMON_")}
        env.update(settings_env(self.settings))
        env["HF_HUB_OFFLINE"] = "1"
        env.update(extra)
        return env

    def cli(
        self, *args: str, timeout: float = 180, check: bool = True, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "sentimon.cli.main", *args],
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"sentimon {' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-4000:]}"
            )
        return proc

    def spawn(self, *args: str, **extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "sentimon.cli.main", *args],
            env=self.env(**extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )

    def redis(self) -> Any:
        from sentimon.store.client import connect

        return connect(self.settings)

    def query(self) -> Any:
        from sentimon.store.query import Query

        return Query(self.redis(), self.settings.namespace)


@pytest.fixture
def env(stack: Any, tiny_model: Path) -> Env:
    return Env(stack, tiny_model)
