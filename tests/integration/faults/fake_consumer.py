"""``python -m tests.integration.faults.fake_consumer [--delay-s S] [--marker PATH]``

The consume service (``Consumer``: the real Kafka source, loop, processor, Redis sink and
DLQ), run as ``sentimon consume`` runs it (``sentimon.cli.consume_cmd.serve``: SIGTERM and
SIGINT stop it, the same switch interval), with ``sentimon.testing.HashScorer`` in place of
a model, so it starts in about a second. ``--delay-s`` makes every batch's scoring that slow
(a batch stays in flight); ``--marker`` gets a ``start N SIZE`` / ``end N`` line per batch.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delay-s", type=float, default=0.0)
    parser.add_argument("--marker", type=Path, default=None)
    args = parser.parse_args(argv)
    from consumers.service import Consumer
    from sentimon.cli.consume_cmd import serve
    from sentimon.logs import configure_logging
    from sentimon.settings import get_settings
    from sentimon.testing import HashScorer

    configure_logging("INFO")
    return serve(Consumer(get_settings(), scorer=HashScorer(args.delay_s, args.marker)))


if __name__ == "__main__":
    sys.exit(main())
