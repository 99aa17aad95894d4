"""A real Prometheus Alertmanager (Debian's ``prometheus-alertmanager``) for the tests.

``AlertmanagerServer`` writes a config whose one route sends every notification to a
webhook receiver the test runs (``sentimon.testing.WebhookReceiver``), groups by
``group_by`` with short ``group_wait``/``group_interval``, and starts the binary on a free
port with its own storage directory and clustering off. ``binary()`` finds it; without it
a test skips, except under CI (``CI`` set), where it fails: .ci/run installs it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sentimon.stack.services import free_port

CANDIDATES = ("prometheus-alertmanager", "alertmanager")

CONFIG = """\
route:
  receiver: hook
  group_by: [{group_by}]
  group_wait: {group_wait}
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: {webhook}
        send_resolved: true
"""


def binary() -> str:
    """The Alertmanager executable; skips the test when absent, fails it under CI."""
    for name in CANDIDATES:
        found = shutil.which(name) or (
            f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").is_file() else None
        )
        if found:
            return found
    message = "prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)"
    if os.environ.get("CI"):
        pytest.fail(message + "; CI must have it (.ci/run installs it)")
    pytest.skip(message)


class AlertmanagerServer:
    def __init__(
        self,
        workdir: Path,
        webhook_url: str,
        *,
        group_by: tuple[str, ...] = ("alertname", "namespace"),
        group_wait: str = "2s",
    ) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = CONFIG.format(
            group_by=", ".join(group_by), group_wait=group_wait, webhook=webhook_url
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 20.0) -> AlertmanagerServer:
        config = self.workdir / "alertmanager.yml"
        config.write_text(self.config)
        storage = self.workdir / "data"
        storage.mkdir(exist_ok=True)
        self.log = (self.workdir / "alertmanager.log").open("wb")
        self.proc = subprocess.Popen(
            [
                binary(),
                f"--config.file={config}",
                f"--storage.path={storage}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"alertmanager exited: {self.logs()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"alertmanager not ready after {timeout_s}s: {self.logs()[-2000:]}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            self.proc = None
            self.log.close()

    def logs(self) -> str:
        return (self.workdir / "alertmanager.log").read_text(errors="replace")

    # --- API v2 -------------------------------------------------------------------------
    def alerts(self, **labels: str) -> list[dict[str, Any]]:
        """``GET /api/v2/alerts`` (active, silenced and inhibited; resolved ones are not
        listed), filtered on exact label values."""
        query = urllib.parse.urlencode(
            [("filter", f'{k}="{v}"') for k, v in labels.items()], doseq=True
        )
        with urllib.request.urlopen(f"{self.url}/api/v2/alerts?{query}", timeout=5) as response:
            return list(json.loads(response.read()))

    def silence(self, for_s: float = 3600, **labels: str) -> str:
        """``POST /api/v2/silences`` matching ``labels`` exactly; the silence id."""
        now = datetime.now(UTC)
        body = {
            "matchers": [
                {"name": k, "value": v, "isRegex": False, "isEqual": True}
                for k, v in labels.items()
            ],
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(seconds=for_s)).isoformat(),
            "createdBy": "sentimon tests",
            "comment": "test silence",
        }
        request = urllib.request.Request(
            f"{self.url}/api/v2/silences",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return str(json.loads(response.read())["silenceID"])
