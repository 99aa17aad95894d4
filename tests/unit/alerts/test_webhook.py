"""The webhook sink against a real local HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sentimon.alerts import verify_signature
from sentimon.alerts.sinks import DeliveryError
from sentimon.alerts.webhook import WebhookSink, host_only

PAYLOAD = {
    "id": "a1",
    "event_id": "a1.0",
    "status": "firing",
    "severity": "critical",
    "summary": "FIRING ticker:NVDA",
    "stats": {"count": 9},
    "window": {"length": "15m"},
    "top_posts": [{"text": "awful", "score": -0.9, "url": "http://n/1"}],
    "model": "m",
}
BODY = json.dumps(PAYLOAD, sort_keys=True, separators=(",", ":"))


class Receiver:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        self.delay = 0.0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((dict(self.headers), body))
                if outer.delay:
                    threading.Event().wait(outer.delay)
                self.send_response(outer.status)
                self.send_header("Retry-After", "7")
                self.end_headers()

            def log_message(self, *args: Any) -> None: ...

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T0/SECRET"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def test_json_body_is_signed_and_carries_the_idempotency_key(receiver):
    WebhookSink(receiver.url, secret="s3cret").deliver("a1.0", BODY, PAYLOAD)
    ((headers, body),) = receiver.requests
    assert body == BODY.encode()
    assert headers["Idempotency-Key"] == "a1.0" and headers["X-Sentimon-Event"] == "firing"
    assert headers["Content-Type"] == "application/json"
    assert verify_signature(body, headers["X-Sentimon-Signature"], "s3cret")
    assert not verify_signature(body, headers["X-Sentimon-Signature"], "wrong")


def test_unsigned_without_a_secret_and_slack_format(receiver):
    WebhookSink(receiver.url, secret=None, fmt="slack").deliver("a1.0", BODY, PAYLOAD)
    ((headers, body),) = receiver.requests
    assert "X-Sentimon-Signature" not in headers
    message = json.loads(body)
    assert message["text"] == "FIRING ticker:NVDA"
    assert "awful" in message["attachments"][0]["blocks"][0]["text"]["text"]


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(500, False), (503, False), (429, False), (408, False), (400, True), (404, True)],
)
def test_http_errors_are_classified(receiver, status, permanent):
    receiver.status = status
    with pytest.raises(DeliveryError) as caught:
        WebhookSink(receiver.url, secret=None).deliver("a1.0", BODY, PAYLOAD)
    assert caught.value.permanent is permanent and str(status) in str(caught.value)
    assert caught.value.retry_after_s == 7.0


def test_timeouts_and_refused_connections_are_retryable(receiver):
    receiver.delay = 1.0
    with pytest.raises(DeliveryError) as slow:
        WebhookSink(receiver.url, secret=None, timeout_s=0.2).deliver("a1.0", BODY, PAYLOAD)
    assert not slow.value.permanent
    url = receiver.url
    receiver.server.shutdown()
    receiver.server.server_close()
    with pytest.raises(DeliveryError) as refused:
        WebhookSink(url, secret=None).deliver("a1.0", BODY, PAYLOAD)
    assert not refused.value.permanent and "SECRET" not in str(refused.value)


def test_names_and_descriptions_hide_url_paths():
    sink = WebhookSink("https://user:pw@hooks.example.com:8443/T0/B0/tok", secret="x")
    assert sink.name.startswith("webhook-") and "tok" not in sink.describe()
    assert (
        host_only("https://user:pw@hooks.example.com:8443/T0") == "https://hooks.example.com:8443"
    )
    with pytest.raises(ValueError):
        WebhookSink("ftp://x", secret=None)
