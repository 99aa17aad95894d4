"""The email receiver against a real local SMTP server (aiosmtpd): STARTTLS with a
throw-away self-signed certificate, AUTH, templates, and how failures are classified."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from sentimon.alerts.email_sink import EVENT_HEADER, EmailConfig, EmailSink, from_settings
from sentimon.alerts.outbox import Entry
from sentimon.alerts.payload import encode
from sentimon.alerts.sinks import DeliveryError
from sentimon.alerts.templates import SAMPLE
from sentimon.settings import load_settings
from tests.fixtures.smtp import SmtpServer
from tests.unit.sentimon.alerts.test_dispatch import FakeOutbox, drive, make

BODY = encode(SAMPLE)
EVENT = str(SAMPLE["event_id"])


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    server = SmtpServer(tmp_path, tls=True, users={"desk": "s3cret"}).start()
    yield server
    server.stop()


def config(server: SmtpServer, **extra: object) -> EmailConfig:
    base: dict[str, object] = {
        "host": "127.0.0.1",
        "port": server.port,
        "sender": "sentimon@desk.example",
        "to": ("pm@desk.example", "risk@desk.example"),
        "username": "desk",
        "password": SecretStr("s3cret"),
        "ca_file": str(server.cert) if server.cert else None,
    }
    return EmailConfig(**(base | extra))  # type: ignore[arg-type]


def test_starttls_and_auth_deliver_the_rendered_message(smtp: SmtpServer) -> None:
    EmailSink(config(smtp), timeout_s=5).deliver(EVENT, BODY, SAMPLE)
    (msg,) = smtp.messages
    assert msg["Subject"].strip() == f"[sentimon] {SAMPLE['summary']}"  # folded: 78 chars
    assert msg["Message-ID"] == f"<{EVENT}@sentimon>" and msg[EVENT_HEADER] == EVENT
    assert msg["From"] == "sentimon@desk.example"
    assert smtp.envelopes == [("sentimon@desk.example", ["pm@desk.example", "risk@desk.example"])]
    body = msg.get_payload(decode=True).decode()
    assert body.startswith(SAMPLE["summary"]) and "ACME recalls" in body


def test_custom_templates(smtp: SmtpServer) -> None:
    sink = EmailSink(
        config(
            smtp,
            subject_template="{{ severity | upper }}: {{ entity }}\n(ignored newline)",
            body_template="z={{ stats.z }} see {{ top_posts[0].url }}",
        ),
        timeout_s=5,
    )
    sink.deliver(EVENT, BODY, SAMPLE)
    (msg,) = smtp.messages
    assert msg["Subject"].strip() == "WARNING: ticker:ACME (ignored newline)"
    assert msg.get_payload(decode=True).decode().strip() == "z=-4.1 see https://example.com/1"


@pytest.mark.parametrize(
    ("extra", "what"),
    [
        ({"password": SecretStr("wrong")}, "SMTP 535"),  # authentication refused
        ({"ca_file": None}, "SENTIMON_SMTP_CA_FILE"),  # the self-signed cert is not trusted
        ({"body_template": "{{ nope }}"}, "'nope' is undefined"),
    ],
)
def test_permanent_failures(smtp: SmtpServer, extra: dict[str, object], what: str) -> None:
    with pytest.raises(DeliveryError) as err:
        EmailSink(config(smtp, **extra), timeout_s=5).deliver(EVENT, BODY, SAMPLE)
    assert err.value.permanent and what in str(err.value)
    assert smtp.messages == []


@pytest.mark.parametrize(("reply", "permanent"), [("451 try later", False), ("554 no", True)])
def test_smtp_replies_4xx_retry_5xx_do_not(smtp: SmtpServer, reply: str, permanent: bool) -> None:
    smtp.reply = reply
    with pytest.raises(DeliveryError) as err:
        EmailSink(config(smtp), timeout_s=5).deliver(EVENT, BODY, SAMPLE)
    assert err.value.permanent is permanent and reply.split(maxsplit=1)[0] in str(err.value)


def test_a_server_that_is_down_is_retried_and_nothing_is_lost(smtp: SmtpServer) -> None:
    sink = EmailSink(config(smtp), timeout_s=5)
    smtp.stop()
    box = FakeOutbox()
    box.new.append(Entry("0-0", EVENT, json.dumps(SAMPLE)))
    dispatcher, clock = make(box, sink)  # type: ignore[arg-type]
    drive(dispatcher, clock, 3)
    assert box.records[("0-0", sink.name)]["state"] == "retry" and box.acked == []
    smtp.start()  # same port
    drive(dispatcher, clock, 20)
    assert box.acked == ["0-0"] and box.dead == []
    assert [m["Message-ID"] for m in smtp.messages] == [f"<{EVENT}@sentimon>"]


def test_settings_configure_the_receiver(smtp: SmtpServer) -> None:
    assert from_settings(load_settings()) is None
    settings = load_settings(
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_to="pm@desk.example, risk@desk.example",
        smtp_username="desk",
        smtp_password="s3cret",
        smtp_ca_file=str(smtp.cert),
    )
    sink = from_settings(settings)
    assert sink is not None and sink.config.to == ("pm@desk.example", "risk@desk.example")
    assert "s3cret" not in sink.describe() and "s3cret" not in repr(sink.config)
    sink.deliver(EVENT, BODY, SAMPLE)
    assert len(smtp.messages) == 1
