"""The HTTP webhook sink: POST JSON, signed, with an idempotency key, under a timeout.

Headers: ``Content-Type: application/json``, ``Idempotency-Key: <event id>``,
``X-Sentimon-Event: firing|resolved`` and, with a secret configured,
``X-Sentimon-Signature: sha256=<hex HMAC-SHA256 of the body>``. The body is the alert
payload (``json``), a Slack-compatible message (``slack``: ``text`` + ``blocks``) or
a Jinja2 template's output (``template``: ``sentimon.alerts.templates``; a template that
fails to render is a permanent failure). ``json`` and ``slack`` keep their own code, so
their bytes never change; ``templates.BUILTIN`` reproduces both.
2xx is success; 408, 425, 429 and 5xx (and network errors, timeouts) are retried; any
other status is a permanent failure.
"""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from sentimon.alerts import templates
from sentimon.alerts.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign
from sentimon.alerts.sinks import DeliveryError
from sentimon.errors import ConfigError

log = logging.getLogger(__name__)

_RETRYABLE = {408, 425, 429}
_COLORS = {"critical": "#d62728", "warning": "#ff7f0e", "info": "#1f77b4"}


class WebhookSink:
    def __init__(
        self,
        url: str,
        *,
        secret: str | None,
        fmt: str = "json",
        timeout_s: float = 5.0,
        template: str | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"webhook URL must be http(s)://host/..., got {host_only(url)!r}")
        self.url = url
        self.secret = secret
        self.fmt = fmt
        self.timeout_s = timeout_s
        if (fmt == "template") != (template is not None):
            raise ValueError('a webhook template goes with fmt="template", and only with it')
        self.template = template
        self._name = "webhook-" + hashlib.sha256(url.encode()).hexdigest()[:8]

    @property
    def name(self) -> str:
        return self._name

    def describe(self) -> str:
        return f"webhook {host_only(self.url)} ({self.fmt}{', signed' if self.secret else ''})"

    def body(self, body: str, payload: dict[str, Any]) -> bytes:
        if self.fmt == "slack":
            return json.dumps(slack_message(payload), separators=(",", ":")).encode("utf-8")
        if self.template is not None:
            try:
                text = templates.render_payload(
                    self.template, payload, source=f"{self.name} template"
                )
            except ConfigError as exc:
                raise DeliveryError(str(exc), permanent=True) from None
            return text.encode("utf-8")
        return body.encode("utf-8")

    def deliver(self, event_id: str, body: str, payload: dict[str, Any]) -> None:
        data = self.body(body, payload)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "sentimon-alerts",
            IDEMPOTENCY_HEADER: event_id,
            "X-Sentimon-Event": str(payload.get("status", "")),
        }
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(data, self.secret)
        post(self.url, data, headers, self.timeout_s)

    def close(self) -> None:
        return None


def post(url: str, data: bytes, headers: dict[str, str], timeout_s: float) -> None:
    """POST ``data``; return on 2xx, else raise ``DeliveryError`` (permanent for statuses
    retrying cannot fix). Shared by every HTTP sink."""
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            response.read(65536)
    except urllib.error.HTTPError as exc:
        raise _http_error(exc) from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"{host_only(url)}: {type(exc).__name__}: {reason}") from None


def _http_error(exc: urllib.error.HTTPError) -> DeliveryError:
    retry_after = _seconds(exc.headers.get("Retry-After") if exc.headers else None)
    permanent = not (exc.code >= 500 or exc.code in _RETRYABLE)
    return DeliveryError(
        f"HTTP {exc.code} {exc.reason}", permanent=permanent, retry_after_s=retry_after
    )


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def host_only(url: str) -> str:
    """``https://user:pw@hooks.example.com/T0/B0/secret`` -> ``https://hooks.example.com``."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def slack_message(payload: dict[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook message for an alert payload."""
    emoji = ":rotating_light:" if payload.get("status") == "firing" else ":white_check_mark:"
    stats = payload.get("stats", {})
    lines = [f"{emoji} *{payload.get('summary', '')}*"]
    for post in payload.get("top_posts", [])[:3]:
        link = f"<{post['url']}|link>" if post.get("url") else ""
        lines.append(f"> {post.get('score', 0):+.2f} {post.get('text', '')} {link}".rstrip())
    context = (
        f"id `{payload.get('id')}` · window {payload.get('window', {}).get('length')} · "
        f"{stats.get('count')} posts · model {payload.get('model')} · "
        f"namespace {payload.get('namespace')}"
    )
    return {
        "text": str(payload.get("summary", "")),
        "attachments": [
            {
                "color": _COLORS.get(str(payload.get("severity")), "#888888"),
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
                    {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
                ],
            }
        ],
    }
