"""The email receiver: one plain-text message per notice over SMTP, STARTTLS by default.

Subject and body are Jinja2 templates over the payload (``sentimon.alerts.templates``;
defaults ``BUILTIN["email_subject"]`` and ``BUILTIN["email"]``). The ``Message-ID`` is
derived from the notice's event id (``<event id>@sentimon``) and the event id travels in
``X-Sentimon-Event-Id``, so a message sent again after a dispatcher restart is recognisable
as the same notice (mail clients thread or drop it). STARTTLS verifies the server's
certificate against the system's CAs, or ``ca_file`` for a private or self-signed one.

Failures: an SMTP 5xx reply (refused sender or recipients, authentication, message) and a
server without STARTTLS or with an untrusted certificate are permanent; 4xx replies,
connection errors and timeouts are retried.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from pydantic import SecretStr

from sentimon.alerts import templates
from sentimon.alerts.sinks import DeliveryError
from sentimon.errors import ConfigError

log = logging.getLogger(__name__)

EVENT_HEADER = "X-Sentimon-Event-Id"


@dataclass(frozen=True)
class EmailConfig:
    host: str
    port: int
    sender: str
    to: tuple[str, ...]
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = True
    subject_template: str | None = None
    body_template: str | None = None
    #: PEM CA bundle trusted for STARTTLS instead of the system's.
    ca_file: str | None = None


class EmailSink:
    def __init__(self, config: EmailConfig, *, timeout_s: float) -> None:
        if not config.to:
            raise ValueError("the email receiver needs at least one recipient")
        self.config = config
        self.timeout_s = timeout_s
        target = f"{config.host}:{config.port}|{','.join(config.to)}"
        self._name = "email-" + hashlib.sha256(target.encode()).hexdigest()[:8]

    @property
    def name(self) -> str:
        return self._name

    def describe(self) -> str:
        c = self.config
        tls = "starttls" if c.starttls else "plain"
        return f"email {c.host}:{c.port} ({tls}) to {len(c.to)} recipient(s)"

    def close(self) -> None:
        return None

    def message(self, event_id: str, payload: dict[str, Any]) -> EmailMessage:
        """The message for one notice (templates rendered; errors are permanent)."""
        c = self.config
        subject = self._render(c.subject_template, "email_subject", payload)
        msg = EmailMessage()
        msg["Subject"] = " ".join(subject.split())  # one line, whatever the template did
        msg["From"] = c.sender
        msg["To"] = ", ".join(c.to)
        msg["Date"] = formatdate(usegmt=True)
        msg["Message-ID"] = f"<{event_id}@sentimon>"
        msg[EVENT_HEADER] = event_id
        msg.set_content(self._render(c.body_template, "email", payload))
        return msg

    def _render(self, template: str | None, builtin: str, payload: dict[str, Any]) -> str:
        source = f"{self.name} {builtin.replace('_', ' ')} template"
        try:
            return templates.render_payload(
                template or templates.BUILTIN[builtin], payload, source=source
            )
        except ConfigError as exc:
            raise DeliveryError(str(exc), permanent=True) from None

    def deliver(self, event_id: str, body: str, payload: dict[str, Any]) -> None:
        msg = self.message(event_id, payload)
        c = self.config
        try:
            with smtplib.SMTP(c.host, c.port, timeout=self.timeout_s) as smtp:
                if c.starttls:
                    smtp.starttls(context=ssl.create_default_context(cafile=c.ca_file))
                if c.username:
                    password = c.password.get_secret_value() if c.password else ""
                    smtp.login(c.username, password)
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(
                f"{self._where()}: recipients refused {codes}; check SENTIMON_SMTP_TO",
                permanent=all(code >= 500 for code in codes),
            ) from None
        except smtplib.SMTPResponseException as exc:
            reply = (
                exc.smtp_error.decode(errors="replace")
                if isinstance(exc.smtp_error, bytes)
                else exc.smtp_error
            )
            raise DeliveryError(
                f"{self._where()}: SMTP {exc.smtp_code} {reply}", permanent=exc.smtp_code >= 500
            ) from None
        except (smtplib.SMTPNotSupportedError, ssl.SSLCertVerificationError) as exc:
            raise DeliveryError(
                f"{self._where()}: {exc}; check the server's STARTTLS and SENTIMON_SMTP_CA_FILE",
                permanent=True,
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{self._where()}: {type(exc).__name__}: {exc}") from None

    def _where(self) -> str:
        return f"smtp {self.config.host}:{self.config.port}"


def from_settings(settings: Any) -> EmailSink | None:
    """The receiver ``SENTIMON_SMTP_*`` configures, or None without host and recipients."""
    if not settings.smtp_host or not settings.smtp_to:
        return None
    config = EmailConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        to=tuple(settings.smtp_to),
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
        ca_file=str(settings.smtp_ca_file) if settings.smtp_ca_file else None,
    )
    return EmailSink(config, timeout_s=settings.dispatch_timeout_s)
