"""Consumer processes for the fault tests: logs go to a file (a pipe could fill and stall)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sentimon.stack import Stack
from sentimon.stack.services import RedisService
from tests.fixtures.stack import Env
from tests.paths import ROOT


@dataclass
class Consumer:
    proc: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout_s: float = 30.0) -> tuple[int, float]:
        """SIGTERM, then wait: (exit code, seconds it took to exit)."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.wait(timeout_s)
        return code, time.monotonic() - started

    def wait(self, timeout_s: float) -> int:
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"still running after {timeout_s}s:\n{self.tail()}") from exc

    def tail(self, chars: int = 3000) -> str:
        return self.text()[-chars:]


CLI = "sentimon.cli.main"
FAKE = "tests.integration.faults.fake_consumer"  # run_consumer with a hash scorer


def spawn(env: Env, log: Path, *argv: str, module: str = CLI, **extra: str) -> Consumer:
    """Start ``python -m module argv...`` with the env's settings, output to ``log``."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", module, *argv],
            env=env.env(**extra),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    return Consumer(proc, log)


def kill_run(env: Env, log: Path, fault: str, timeout_s: float = 180.0) -> int:
    """One ``consume`` run that must SIGKILL itself at ``fault``: its exit code."""
    consumer = spawn(env, log, "consume", "--until-idle", "8", SENTIMON_FAULT=fault)
    return consumer.wait(timeout_s)


def aof_redis(stack: Stack) -> RedisService:
    """The stack's Redis, with persistence (append-only file) on: restarted, it keeps its data."""
    return RedisService("redis", stack.redis_port, stack.state_dir, appendonly=True)
