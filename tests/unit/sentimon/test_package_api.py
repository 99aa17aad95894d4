"""The ``sentimon`` package's public API: every name in ``__all__`` resolves, and it is
imported lazily (PEP 562), so importing the core stays free of the pipeline."""

from __future__ import annotations

import subprocess
import sys

import pytest

import sentimon
from tests.paths import ROOT

HEAVY = ("consumers", "inference", "kafka", "redis", "torch", "pandas")


def test_importing_the_core_pulls_in_neither_the_pipeline_nor_its_clients() -> None:
    code = (
        "import sentimon.windows, sentimon.settings, sys; "
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert out.strip() == "[]"


def test_every_public_name_resolves_and_is_listed() -> None:
    from consumers.service import Consumer
    from sentimon.replay.api import run_backtest
    from sentimon.store.query import Query

    assert set(sentimon.__all__) == {"__version__", *sentimon._EXPORTS}
    for name in sentimon.__all__:
        assert getattr(sentimon, name) is not None, name
        assert name in dir(sentimon)
    assert sentimon.Consumer is Consumer and sentimon.Query is Query
    assert sentimon.run_backtest is run_backtest


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        sentimon.nope  # noqa: B018
    assert not hasattr(sentimon, "nope")
