"""Notification templates: the built-ins match today's bodies, errors name source and
line, the sandbox holds, and a webhook can send a custom template."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sentimon.alerts.payload import encode
from sentimon.alerts.sinks import DeliveryError
from sentimon.alerts.templates import BUILTIN, SAMPLE, render, render_payload, validate
from sentimon.alerts.webhook import WebhookSink, slack_message
from sentimon.errors import ConfigError
from sentimon.testing import WebhookReceiver

RESOLVED: dict[str, Any] = SAMPLE | {
    "status": "resolved",
    "severity": "critical",
    "summary": "RESOLVED ticker:ÆRØ — “quoted” <b>&</b>",
    "top_posts": [
        {"text": "naïve café", "score": 0.31, "url": None},
        {"text": "", "score": 0.0, "url": "https://x/2"},
        {"text": "third", "score": -1.0, "url": "https://x/3"},
        {"text": "fourth, not shown", "score": -1.0, "url": None},
    ],
}


@pytest.mark.parametrize("payload", [SAMPLE, RESOLVED], ids=["firing", "resolved"])
def test_builtin_json_is_byte_identical_to_the_webhook_body(payload):
    assert render_payload(BUILTIN["json"], payload, source="json") == encode(payload)


@pytest.mark.parametrize("payload", [SAMPLE, RESOLVED], ids=["firing", "resolved"])
def test_builtin_slack_is_the_webhook_slack_message(payload):
    out = render_payload(BUILTIN["slack"], payload, source="slack")
    assert json.loads(out) == json.loads(json.dumps(slack_message(payload)))


def test_builtin_email_lists_the_alert_and_its_posts():
    body = render_payload(BUILTIN["email"], SAMPLE, source="email")
    assert body.startswith(SAMPLE["summary"] + "\n")
    assert "Entity:    ticker:ACME" in body and "-0.90  ACME recalls" in body
    subject = render_payload(BUILTIN["email_subject"], SAMPLE, source="subject")
    assert subject == f"[sentimon] {SAMPLE['summary']}"


def test_no_html_escaping_and_canonical_tojson():
    assert render("{{ s }}|{{ d | tojson }}", {"s": "<&>", "d": {"b": 1, "a": "é"}}) == (
        '<&>|{"a":"é","b":1}'
    )


@pytest.mark.parametrize(
    ("template", "line", "what"),
    [
        ("ok\n{{ tickr }}", 2, "'tickr' is undefined"),
        ("{% for p in top_posts %}\n{{ p.nope }}{% endfor %}", 2, "has no attribute 'nope'"),
        ("a\nb\n{% if %}", 3, "syntax error"),
        ("{{ summary | nosuch }}", 1, "No filter named 'nosuch'"),
        ("x\n\n{{ payload.__class__.__subclasses__() }}", 3, "unsafe"),
    ],
)
def test_errors_name_the_source_and_line(template, line, what):
    with pytest.raises(ConfigError) as err:
        validate(template, "rules.toml, receiver 'desk' template")
    assert str(err.value).startswith(f"rules.toml, receiver 'desk' template, line {line}: ")
    assert what in str(err.value)


def test_a_webhook_sends_its_template_and_a_broken_one_fails_permanently():
    template = '{"msg": {{ summary | tojson }}, "n": {{ stats.count }}}'
    with WebhookReceiver() as receiver:
        WebhookSink(receiver.url, secret=None, fmt="template", template=template).deliver(
            "e.0", encode(SAMPLE), SAMPLE
        )
        assert receiver.payloads() == [{"msg": SAMPLE["summary"], "n": 9}]
        broken = WebhookSink(receiver.url, secret=None, fmt="template", template="{{ x.y }}")
        with pytest.raises(DeliveryError) as err:
            broken.deliver("e.0", encode(SAMPLE), SAMPLE)
    assert err.value.permanent and "line 1" in str(err.value)
    with pytest.raises(ValueError, match="template"):
        WebhookSink("http://h/x", secret=None, fmt="json", template="{{ summary }}")
