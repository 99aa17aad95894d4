"""Paths the tests share."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The labelled headlines (train.csv, valid.csv), outside the repository.
DATA = (ROOT / ".." / "shared" / "data" / "twitter-financial-news").resolve()
#: Screenshots and other output of the tests, kept for a look afterwards.
ARTIFACTS = ROOT / "tests" / "artifacts"
