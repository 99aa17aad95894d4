"""Small formatting helpers shared by the panels."""

from __future__ import annotations


def num(value: float | None, fmt: str = "{:+.3f}") -> str:
    return "—" if value is None else fmt.format(value)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}x base rate"
