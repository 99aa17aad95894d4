"""Backtests: namespaces of replays, their reports and the forward-return maths."""
