"""The webhook sink against a real local HTTP server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from sentimon.alerts import verify_signature
from sentimon.alerts.sinks import DeliveryError
from sentimon.alerts.webhook import WebhookSink, host_only
from sentimon.testing import WebhookReceiver

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


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver(path="/hooks/T0/SECRET")
    r.status = 200
    r.retry_after = "7"
    with r.up():
        yield r


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
    receiver.delay_s = 1.0
    with pytest.raises(DeliveryError) as slow:
        WebhookSink(receiver.url, secret=None, timeout_s=0.2).deliver("a1.0", BODY, PAYLOAD)
    assert not slow.value.permanent
    url = receiver.url
    receiver.down()
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
