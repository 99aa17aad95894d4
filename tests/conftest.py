"""Registered once for the whole suite: the fixture plugins (``pytest_plugins``), the
``integration`` marker, and environment every test and the consumers it spawns share.

Tests under tests/integration are marked ``integration`` here (a new file cannot forget
it), and so must be any other test that starts a broker or Redis, trains or loads a real
model, or drives Chromium: ``pytest -m "not integration"`` runs only pure tests, and
refuses (at collection) a test that uses a service fixture without the marker and (at run
time) a pure test that starts a service.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Helper modules beside the integration tests (feeds, fault checks) explain a failed assert
# like a test module does.
pytest.register_assert_rewrite("tests.integration")

pytest_plugins = ("tests.fixtures.stack",)

#: Fixtures that start the broker or Redis or train a model (tests/fixtures/stack.py,
#: tests/integration/faults/conftest.py): a test using one must be marked integration.
SERVICE_FIXTURES = frozenset({"stack", "tiny_model", "env", "own_stack", "live"})

INTEGRATION_DIR = Path(__file__).resolve().parent / "integration"
#: How far behind processing time the test slices accept event times (the feeds are fixed).
FEED_HISTORY_S = 30 * 365 * 86_400


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION_DIR in item.path.resolve().parents:
            item.add_marker(pytest.mark.integration)
    unmarked = [
        item.nodeid
        for item in items
        if item.get_closest_marker("integration") is None
        and SERVICE_FIXTURES & set(getattr(item, "fixturenames", ()))
    ]
    if unmarked:
        raise pytest.UsageError(
            f"tests using {sorted(SERVICE_FIXTURES)} must be marked integration "
            "(or live under tests/integration): " + ", ".join(unmarked)
        )


@pytest.fixture(autouse=True)
def _pure_tests_start_no_services(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test not marked ``integration`` that starts the broker or Redis fails."""
    if request.node.get_closest_marker("integration") is not None:
        yield
        return
    from sentimon.stack.services import Service

    def refuse(service: Service, *args: object, **kwargs: object) -> None:
        raise AssertionError(
            f"{request.node.nodeid} started {service.name}: mark it integration "
            "(or move it under tests/integration)"
        )

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Service, "start", refuse)
        yield


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
