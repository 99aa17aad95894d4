"""The one typed, validated settings object.

Values come, highest priority first, from: explicit keyword arguments, ``SENTIMON_*``
environment variables, an optional TOML file (``SENTIMON_CONFIG`` or ``sentimon.toml`` in
the working directory), then the defaults below, which point at the embedded stack.
Secrets are ``SecretStr``: they never appear in ``repr``, logs or ``sentimon config show``.
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from sentimon.errors import ConfigError

DEFAULT_KAFKA_PORT = 19092
DEFAULT_REDIS_PORT = 16379
_NAMESPACE_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def _config_file() -> Path | None:
    explicit = os.environ.get("SENTIMON_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"SENTIMON_CONFIG points at {path}, which is not a file")
        return path
    local = Path("sentimon.toml")
    return local if local.is_file() else None


class Settings(BaseSettings):
    """Everything configurable. Field ``foo`` is read from ``SENTIMON_FOO``."""

    model_config = SettingsConfigDict(
        env_prefix="SENTIMON_", extra="forbid", validate_default=True, frozen=True
    )

    # --- connections ---------------------------------------------------------------
    kafka_bootstrap: str = f"127.0.0.1:{DEFAULT_KAFKA_PORT}"
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = None
    kafka_ssl_certfile: str | None = None
    kafka_ssl_keyfile: str | None = None
    #: "kafka" uses Kafka-safe group timeouts; "embedded" the fast ones Tansu allows.
    kafka_profile: Literal["kafka", "embedded"] = "kafka"
    redis_url: SecretStr = SecretStr(f"redis://127.0.0.1:{DEFAULT_REDIS_PORT}/0")

    # --- topics and data contract ----------------------------------------------------
    topics: list[str] = Field(default_factory=lambda: ["news", "social"])
    #: Source kind of each topic; unlisted topics named ``news*``/``social*`` get that kind.
    topic_kinds: dict[str, str] = Field(default_factory=dict)
    partitions: int = Field(default=4, ge=1, le=1024)
    group: str = "sentimon"
    namespace: str = "live"
    max_message_bytes: int = Field(default=64 * 1024, ge=256)
    max_text_chars: int = Field(default=2000, ge=16)
    max_tickers: int = Field(default=20, ge=1)
    dedup_horizon_s: int = Field(default=24 * 3600, ge=0)
    #: Event-time bounds of the live consumer, relative to processing time (wall clock):
    #: a post stamped further ahead or further behind is dead-lettered with the reason,
    #: and the watermark never passes processing time plus ``event_time_max_ahead_s``.
    #: Replays and backtests set their own bounds from the requested range.
    event_time_max_ahead_s: int = Field(default=300, ge=0, le=7 * 24 * 3600)
    event_time_max_behind_s: int = Field(default=7 * 24 * 3600, ge=60)

    # --- batching --------------------------------------------------------------------
    max_batch: int = Field(default=64, ge=1, le=4096)
    max_wait_ms: int = Field(default=50, ge=0)
    #: Under load, one Kafka commit per this many ms covers every batch written since the
    #: last (a batch is committed at once when nothing else is in the pipeline; 0 = after
    #: every batch). Offsets are only ever committed after the Redis write.
    commit_interval_ms: int = Field(default=500, ge=0)
    #: Under a backlog, up to this many scored batches go to Redis as one write (one
    #: script, one alert evaluation); each is still scored as its own batch. Without a
    #: backlog a batch is written as soon as it is scored. 1 = every batch alone.
    coalesce_batches: int = Field(default=4, ge=1, le=64)

    # --- model -----------------------------------------------------------------------
    model: str = "default"
    backend: Literal["auto", "onnx", "torch"] = "auto"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    max_length: int = Field(default=128, ge=8, le=512)
    #: Padded tokens per model call (0 = auto: 1,024 on CPU, where small batches stay in
    #: cache; 16,384 on CUDA).
    token_budget: int = Field(default=0, ge=0)
    #: Batches scored at once (0 = auto: on CPU ONNX Runtime, two batches each on half the
    #: cores; one batch elsewhere). Results are still written in batch order.
    score_workers: int = Field(default=0, ge=0, le=16)
    label_map: dict[str, str] = Field(default_factory=dict)
    model_cache: Path = Path("models")
    #: Apply the calibration stored with the model (``calibration.json``): calibrated
    #: confidence and its macro-F1 decision rule (docs/MODEL.md, "Confidence").
    calibrate: bool = True

    # --- the cascade (docs/MODEL.md, "The cascade") -------------------------------------
    #: Re-score the posts the model is unsure of with the accurate model. auto: when the
    #: served model is the default and ``cascade_model`` has been built (`make teacher`).
    cascade: Literal["auto", "on", "off"] = "auto"
    cascade_model: str = "teacher"
    #: Share of posts to escalate, turned into a threshold from the served model's
    #: held-out confidence (ignored when ``cascade_threshold`` is set).
    cascade_share: float = Field(default=0.2, ge=0.0, le=1.0)
    #: Escalate posts whose calibrated confidence is below this.
    cascade_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    #: Posts less sure than this stay in recent posts but are left out of the aggregates
    #: (and so of the alerts); 0 counts every post.
    min_confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    #: Model health (docs/MODEL.md): posts less sure than this count as low-confidence in
    #: the health window (a health figure only: they are still counted everywhere).
    low_confidence: float = Field(default=0.6, ge=0.0, le=1.0)
    #: Posts the model-health window holds (the last N the consumer wrote).
    health_window: int = Field(default=2000, ge=10, le=1_000_000)

    # --- aggregates --------------------------------------------------------------------
    windows: list[str] = Field(default_factory=lambda: ["5m", "1h", "24h"])
    retention_s: int = Field(default=7 * 24 * 3600, ge=3600)
    recent_posts: int = Field(default=50, ge=1)

    # --- entities (docs/ENTITIES.md) ------------------------------------------------------
    #: Link posts to companies by name as well as by ticker and cashtag.
    entity_linking: bool = True
    #: The company universe (CSV: ticker,name,aliases,exchange,sector,ambiguous); None:
    #: the shipped S&P 500 file. Read at start-up (a restart picks up a changed file).
    universe: Path | None = None
    #: Mentions below this relevance are left out of company and sector figures in
    #: queries, the dashboard and alert rules that do not set their own (0: all).
    min_relevance: float = Field(default=0.4, ge=0.0, le=1.0)

    # --- stories (docs/STORIES.md) --------------------------------------------------------
    #: Give each post a story (the earliest near-duplicate within the horizon) and count
    #: stories beside posts.
    stories_enabled: bool = True
    #: How far back a copy finds its story.
    story_horizon_s: int = Field(default=24 * 3600, ge=60, le=30 * 86400)

    # --- alerts ------------------------------------------------------------------------
    alert_rules: Path | None = None
    webhook_urls: list[str] = Field(default_factory=list)
    webhook_secret: SecretStr | None = None
    webhook_format: Literal["json", "slack"] = "json"
    #: Evaluate alert rules in the consumer (``alert_rules`` or the shipped default file).
    alerts_enabled: bool = True
    #: Entries kept in the ``alerts`` history stream (approximate trim).
    alerts_history_max: int = Field(default=10_000, ge=100)
    #: Queue deliverable alert notices in the outbox (the dispatcher's input). Replays
    #: and backtests set it from ``replay_outbox``: off unless asked (``--outbox``).
    alerts_outbox: bool = True
    replay_outbox: bool = False
    #: Exchange (ISO 10383 code, e.g. XNYS, XNAS, XLON) whose sessions and holidays
    #: drive seasonal alert baselines and ``hours`` limits; a rule may set its own.
    exchange: str = "XNYS"
    #: Dispatcher: per-request timeout, attempts per sink before dead-lettering, backoff.
    dispatch_timeout_s: float = Field(default=5.0, gt=0)
    dispatch_max_attempts: int = Field(default=8, ge=1)
    dispatch_backoff_s: float = Field(default=0.5, gt=0)
    dispatch_backoff_max_s: float = Field(default=60.0, gt=0)
    #: Alertmanager API v2 base URLs (``http://am1:9093,http://am2:9093`` or a JSON list):
    #: every alert goes to each; see docs/ALERTS.md, "Alertmanager".
    alertmanager_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: A firing alert is re-sent to Alertmanager this often, its ``endsAt`` four of these
    #: ahead (Prometheus' resend delay: 1m).
    alertmanager_resend_s: float = Field(default=60.0, ge=1)
    #: The dashboard's address, linked from Alertmanager alerts (``generatorURL``).
    dashboard_url: str | None = None
    #: The email receiver (docs/ALERTS.md, "Email"): on when ``smtp_host`` and ``smtp_to``
    #: are set. ``smtp_to``: comma-separated or a JSON list. ``smtp_ca_file``: trust this
    #: CA (PEM) for STARTTLS instead of the system's (a private or self-signed server).
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_from: str = "sentimon@localhost"
    smtp_to: Annotated[list[str], NoDecode] = Field(default_factory=list)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_ca_file: Path | None = None

    # --- dashboard ---------------------------------------------------------------------
    dashboard_refresh_s: float = Field(default=2.0, gt=0)
    dashboard_allow_writes: bool = False

    # --- operations ----------------------------------------------------------------------
    log_level: str = "INFO"
    #: Address the /metrics and /healthz endpoints bind (``0.0.0.0`` in containers).
    metrics_host: str = "127.0.0.1"
    state_dir: Path = Path(".sentimon")
    #: SIGTERM/SIGINT: at most this long to finish in-flight batches, commit and leave the
    #: group, whatever Redis or the broker do; what is not written stays uncommitted.
    shutdown_grace_s: float = Field(default=30.0, gt=0, le=3600)
    #: ``--until-idle``: the idle clock starts once the member has been assigned partitions
    #: and caught up; a member never assigned any gives up after this long.
    assignment_wait_s: float = Field(default=120.0, gt=0)

    @field_validator("kafka_bootstrap")
    @classmethod
    def _check_bootstrap(cls, value: str) -> str:
        for part in value.split(","):
            host, sep, port = part.strip().rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"expected host:port[,host:port...], got {part.strip()!r}")
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value()
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("namespace")
    @classmethod
    def _check_namespace(cls, value: str) -> str:
        if not _NAMESPACE_RE.match(value):
            raise ValueError("use 1-64 characters from A-Z a-z 0-9 _ . : -")
        return value

    @field_validator("token_budget")
    @classmethod
    def _check_token_budget(cls, value: int) -> int:
        if 0 < value < 128:
            raise ValueError("use 0 (auto: 1024 on CPU, 16384 on CUDA) or at least 128")
        return value

    @field_validator("alertmanager_urls", "smtp_to", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        """Comma-separated (``a,b``) or a JSON list (what ``as_env`` writes)."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("topics")
    @classmethod
    def _check_topics(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one topic is required")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_file()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    # --- derived -------------------------------------------------------------------------
    @property
    def bootstrap_servers(self) -> list[str]:
        return [part.strip() for part in self.kafka_bootstrap.split(",")]

    def kind_of(self, topic: str) -> str:
        """The source kind (``news``, ``social``) aggregates of ``topic`` count toward."""
        if topic in self.topic_kinds:
            return self.topic_kinds[topic]
        for kind in ("news", "social"):
            if topic.startswith(kind):
                return kind
        return topic

    def as_env(self) -> dict[str, str]:
        """``SENTIMON_*`` variables that reproduce these settings in a child process
        (secrets in clear: for spawning our own processes, never for printing)."""
        env = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if isinstance(value, list | dict):
                value = json.dumps(value)
            env[f"SENTIMON_{name.upper()}"] = str(value)
        return env

    def masked(self) -> dict[str, Any]:
        """All settings as plain data, secrets replaced by ``**********``."""
        out: dict[str, Any] = {}
        for name, value in self.model_dump().items():
            if isinstance(value, SecretStr):
                out[name] = "**********"
            elif isinstance(value, Path):
                out[name] = str(value)
            else:
                out[name] = value
        return out


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning validation errors into a ConfigError naming the field."""
    clean = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**clean)
    except SettingsError as exc:
        # Raised before validation, e.g. SENTIMON_TOPICS / SENTIMON_LABEL_MAP not valid JSON.
        match = re.search(r'field "([^"]+)"', str(exc))
        field = match.group(1) if match else "settings"
        raise ConfigError(
            f"invalid configuration: {field} (SENTIMON_{field.upper()}): "
            "not valid JSON (list and dict settings take JSON, e.g. '[\"news\"]')"
        ) from None
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(part) for part in err["loc"]) or "settings"
            env = f"SENTIMON_{field.split('.')[0].upper()}"
            problems.append(f"{field} ({env}): {err['msg']}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings, read once."""
    return load_settings()
