"""One root exception type for everything sentimon raises on purpose.

Every error says what went wrong *and* what to do about it, so the CLI can print
it without a traceback.
"""

from __future__ import annotations


class SentimonError(Exception):
    """Root of every error sentimon raises deliberately."""

    exit_code = 1


class ConfigError(SentimonError):
    """A setting, rule file or argument is invalid; the message names the field."""

    exit_code = 2


class StackError(SentimonError):
    """The embedded broker or Redis could not be started, found or stopped."""


class ModelError(SentimonError):
    """A model could not be located, loaded, trained or exported."""


class ParityError(ModelError):
    """An exported model disagrees with the original beyond the allowed tolerance."""


class SinkError(SentimonError):
    """The Redis write failed; offsets were not committed, the batch will be retried."""


class FencedError(SinkError):
    """Another writer advanced a partition's applied offset first (zombie after rebalance)."""


class ScriptBoundError(SinkError):
    """A Redis script would exceed a bound stated in its header; it was not sent.

    A retry of the same batch fails the same way: the write is too big for one atomic
    script (the message names the bound and what to lower)."""

    @classmethod
    def over(
        cls, script: str, bound: str, count: int, limit: int, *, also: str = ""
    ) -> ScriptBoundError:
        """The error for ``count`` > ``limit`` of ``bound`` in ``script``; ``also``: a
        further remedy to suggest."""
        return cls(
            f"the {script} script would exceed its bound on {bound}: {count:,} > {limit:,} "
            "(nothing was sent to Redis); lower SENTIMON_MAX_BATCH or "
            f"SENTIMON_COALESCE_BATCHES so that one write carries fewer posts{also}"
        )
