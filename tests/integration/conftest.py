"""Fixtures shared by the integration tests (the stack and model ones live in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.test_alerts_pipeline import Receiver, receiving


@pytest.fixture(name="receiver")
def _receiver() -> Iterator[Receiver]:
    """A webhook receiver on a free port, up for the test."""
    yield from receiving()
