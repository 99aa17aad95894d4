"""Notification templates: Jinja2, sandboxed, strict, for JSON and plain-text bodies.

A template sees the alert payload (docs/ALERTS.md, "Payload") twice: as ``payload`` and
key by key (``{{ summary }}``, ``{{ stats.count }}``). Undefined names are errors (a typo
must not send an empty field), nothing is HTML-escaped (bodies are JSON or plain text),
and ``tojson`` writes canonical JSON (sorted keys, no spaces, UTF-8 as is), so a JSON
template builds its strings with ``{{ summary | tojson }}``. The sandbox refuses
attribute access to Python internals. Any error becomes a ``ConfigError`` naming the
template's source (the rules file and receiver) and line.

``BUILTIN`` holds the shipped templates: ``json`` (the payload, byte-identical to what
webhooks send by default), ``slack`` (the same message as the webhook's ``slack``
format), ``email_subject`` and ``email`` (the email receiver's defaults).
"""

from __future__ import annotations

import json
import traceback
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from sentimon.errors import ConfigError

_FILENAME = "<sentimon template>"


def tojson(value: Any) -> str:
    """Canonical JSON, as ``sentimon.alerts.payload.encode`` writes it."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
    )
    env.filters["tojson"] = tojson
    return env


_ENV = _environment()


@lru_cache(maxsize=256)
def _compile(template: str, source: str) -> Any:
    try:
        code = _ENV.compile(template, name=source, filename=_FILENAME)
    except TemplateSyntaxError as exc:
        raise ConfigError(
            f"{source}, line {exc.lineno}: template syntax error: {exc.message}; fix the template"
        ) from None
    return _ENV.template_class.from_code(_ENV, code, _ENV.make_globals(None), None)


def render(template: str, context: dict[str, Any], *, source: str = "<template>") -> str:
    """``template`` rendered with ``context`` (see the module's docstring)."""
    compiled = _compile(template, source)
    try:
        return str(compiled.render(context))
    except TemplateError as exc:
        raise ConfigError(
            f"{source}, line {_line(exc)}: template error: {exc}; fix the template"
        ) from None


def render_payload(template: str, payload: dict[str, Any], *, source: str) -> str:
    """``template`` over an alert payload: its keys and ``payload`` itself."""
    return render(template, {**payload, "payload": payload}, source=source)


def validate(template: str, source: str) -> None:
    """Compile ``template`` and render it over a sample firing payload (so undefined
    names and bad filters show when the rules file is checked, not at the first alert)."""
    _compile(template, source)
    render_payload(template, SAMPLE, source=source)


def _line(exc: BaseException) -> int | str:
    """The template line where a render error was raised (Jinja maps its frames)."""
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == _FILENAME]
    return lines[-1] if lines and lines[-1] is not None else "?"


#: A firing payload with every field and every stat any kind measures, for ``validate``
#: (a template reading a stat only some kinds have still renders for the others only if
#: it guards it: ``{{ stats.get("z") }}``).
SAMPLE: dict[str, Any] = {
    "schema": 1, "id": "0123456789abcdef0123", "event_id": "0123456789abcdef0123.0",
    "seq": 0, "status": "firing", "rule": "sample-rule", "kind": "sentiment_drop",
    "severity": "warning", "description": "", "entity": "ticker:ACME",
    "scope": {"type": "ticker", "value": "ACME"}, "min_relevance": 0.4, "count": "posts",
    "namespace": "live", "opened_ms": 0, "event_ms": 0, "resolved_ms": None,
    "window": {"length": "15m", "seconds": 900, "start_ms": 0, "end_ms": 0},
    "stats": {"count": 9, "mean": -0.6, "std": 0.3, "negative_share": 0.8,
              "rate_per_min": 0.6, "baseline_mean": 0.05, "baseline_std": 0.6,
              "baseline_rate": 2.0, "baseline_windows": 8, "z": -4.1, "ratio": 4.5,
              "reason": ""},
    "value": -4.1,
    "threshold": {"open": 3.5, "resolve": 1.5}, "model": "default@sample", "muted": "",
    "top_posts": [{"id": "p1", "ts": 0, "text": "ACME recalls", "url": "https://example.com/1",
                   "score": -0.9, "label": "negative", "source": "Newswire"}],
    "summary": "FIRING [warning] ticker:ACME sentiment_drop (sample-rule): ...",
}  # fmt: skip

_SLACK = (
    '{"text":{{ summary | tojson }},"attachments":[{"color":'
    '{{ {"critical": "#d62728", "warning": "#ff7f0e", "info": "#1f77b4"}'
    '.get(severity, "#888888") | tojson }},"blocks":[{"type":"section","text":'
    '{"type":"mrkdwn","text":{% set lines = [(":rotating_light:" if status == "firing"'
    ' else ":white_check_mark:") ~ " *" ~ summary ~ "*"] %}'
    "{% for p in top_posts[:3] %}{% set _ = lines.append(("
    '"> %+.2f %s %s" | format(p.score or 0, p.text or "",'
    ' ("<" ~ p.url ~ "|link>") if p.url else "")) | trim) %}{% endfor %}'
    '{{ lines | join("\\n") | tojson }}}},{"type":"context","elements":[{"type":"mrkdwn",'
    '"text":{{ ("id `" ~ id ~ "` · window " ~ window.length ~ " · " ~ stats.count'
    ' ~ " posts · model " ~ model ~ " · namespace " ~ namespace) | tojson }}}]}]}]}'
)

_EMAIL_SUBJECT = "[sentimon] {{ summary }}"

_EMAIL = """\
{{ summary }}

Rule:      {{ rule }} ({{ kind }}, {{ severity }})
Entity:    {{ entity }}
Window:    {{ window.length }}, {{ stats.count }} {{ count | default("posts") }}
Namespace: {{ namespace }}
Model:     {{ model }}
Alert id:  {{ id }} (notice {{ event_id }})
{% if description %}
{{ description }}
{% endif %}{% if top_posts %}
Top posts:
{% for p in top_posts %}  {{ "%+.2f" | format(p.score or 0) }}  {{ p.text }}{% if p.url %}
         {{ p.url }}{% endif %}
{% endfor %}{% endif %}"""

BUILTIN: dict[str, str] = {
    "json": "{{ payload | tojson }}",
    "slack": _SLACK,
    "email_subject": _EMAIL_SUBJECT,
    "email": _EMAIL,
}
