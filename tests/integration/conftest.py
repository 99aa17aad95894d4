"""Fixtures of the integration tests, registered here once (the stack and model ones are
in tests/fixtures/stack.py; every test under this directory is marked ``integration`` by
tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sentimon.testing import WebhookReceiver
from tests.fixtures.stack import Env


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A webhook receiver on a free port, up for the test (``down()``/``up()`` keep the port)."""
    with WebhookReceiver() as r:
        yield r


@pytest.fixture(scope="session")
def live(stack: Any, tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Env:
    """The live namespace the dashboard tests read (AppTest and the browser), filled once
    per session: a feed, a negative burst on ``dashboard_feed.BURST``, an alert rule."""
    from tests.integration.dashboard_feed import fill_live

    return fill_live(stack, tiny_model, tmp_path_factory)
