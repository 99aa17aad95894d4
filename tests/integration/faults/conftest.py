"""Fixtures of the fault suite: a private stack for tests that stop or kill services."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sentimon.stack import Stack
from sentimon.stack.services import free_port
from tests.integration.faults.procs import Consumer


@pytest.fixture
def own_stack(tmp_path: Path) -> Iterator[Stack]:
    """A broker and a Redis of this test alone (never the session's shared stack)."""
    stack = Stack(free_port(), free_port(), tmp_path / "stack")
    stack.up()
    try:
        yield stack
    finally:
        stack.down()


@pytest.fixture
def reaper() -> Iterator[list[Consumer]]:
    """Consumers a test started; any still running at teardown are killed."""
    started: list[Consumer] = []
    yield started
    for consumer in started:
        if consumer.alive():
            consumer.proc.kill()
            consumer.proc.wait()
