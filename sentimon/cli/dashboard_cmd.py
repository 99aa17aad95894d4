"""``sentimon dashboard``: serve the Streamlit dashboard (``dashboard/app.py``).

The process execs ``python -m streamlit run dashboard/app.py`` with the same interpreter,
so it is the server a supervisor or ``docker compose`` signals.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import dashboard
from sentimon.settings import load_settings

log = logging.getLogger(__name__)

DEFAULT_PORT = 8501


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dashboard", help="serve the live dashboard (Streamlit; read-only by default)"
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="default 8501")
    parser.add_argument(
        "--address",
        default=None,
        help="interface to bind (default 127.0.0.1, or STREAMLIT_SERVER_ADDRESS)",
    )
    parser.add_argument("--namespace", default=None, help="namespace shown first (default live)")
    parser.add_argument(
        "--headless",
        action="store_true",
        help="do not open a browser (always on without a display)",
    )
    parser.set_defaults(func=run)


def app_path() -> Path:
    """``dashboard/app.py`` of the installed (or checked-out) package."""

    return Path(next(iter(dashboard.__path__))) / "app.py"


def streamlit_argv(args: argparse.Namespace) -> list[str]:
    address = args.address or os.environ.get("STREAMLIT_SERVER_ADDRESS") or "127.0.0.1"
    headless = args.headless or not os.environ.get("DISPLAY")
    return [
        sys.executable, "-m", "streamlit", "run", str(app_path()),
        "--server.port", str(args.port),
        "--server.address", address,
        "--server.headless", "true" if headless else "false",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "viewer",
    ]  # fmt: skip


def run(args: argparse.Namespace) -> int:

    env = dict(os.environ)
    if args.namespace:
        env["SENTIMON_NAMESPACE"] = args.namespace
    load_settings(namespace=args.namespace)  # fail here, with the field, on a bad config
    argv = streamlit_argv(args)
    address = argv[argv.index("--server.address") + 1]
    print(f"sentimon dashboard on http://{address}:{args.port}", file=sys.stderr, flush=True)
    # Become the Streamlit server, so signals (Ctrl-C, SIGTERM from a supervisor) reach it.
    os.execve(argv[0], argv, env)
    return 0  # not reached
