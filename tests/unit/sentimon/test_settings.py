"""Settings: env parsing, the TOML file, errors naming the field, secrets never shown."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sentimon.cli.config_cmd import _redis_display, _url_host_only
from sentimon.cli.main import main
from sentimon.errors import ConfigError
from sentimon.settings import Settings, get_settings, load_settings

REDIS_PW = "redis-pw-8c1f2e"
SASL_PW = "sasl-pw-77d0aa"
HOOK_SECRET = "hook-secret-4b9e11"
HOOK_TOKEN = "T000/B000/tok3n5ecret"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No SENTIMON_* variables and no ./sentimon.toml leak in from the developer's shell."""
    for key in list(os.environ):
        if key.upper().startswith("SENTIMON_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTIMON_REDIS_URL", f"redis://app:{REDIS_PW}@redis.internal:6380/2")
    monkeypatch.setenv("SENTIMON_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("SENTIMON_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("SENTIMON_KAFKA_SASL_USERNAME", "sentimon")
    monkeypatch.setenv("SENTIMON_KAFKA_SASL_PASSWORD", SASL_PW)
    monkeypatch.setenv("SENTIMON_WEBHOOK_SECRET", HOOK_SECRET)
    monkeypatch.setenv(
        "SENTIMON_WEBHOOK_URLS", json.dumps([f"https://hooks.example.com/{HOOK_TOKEN}"])
    )


def _assert_no_secret(text: str) -> None:
    for secret in (REDIS_PW, SASL_PW, HOOK_SECRET, HOOK_TOKEN):
        assert secret not in text


# --- environment ---------------------------------------------------------------------------
def test_defaults_point_at_the_embedded_stack() -> None:
    s = load_settings()
    assert s.kafka_bootstrap == "127.0.0.1:19092"
    assert s.redis_url.get_secret_value() == "redis://127.0.0.1:16379/0"
    assert s.topics == ["news", "social"]
    assert s.namespace == "live"


def test_env_scalars_lists_and_dicts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTIMON_PARTITIONS", "12")
    monkeypatch.setenv("SENTIMON_KAFKA_BOOTSTRAP", "k1:9092, k2:9092")
    monkeypatch.setenv("SENTIMON_TOPICS", '["tweets", "wires"]')
    monkeypatch.setenv("SENTIMON_WINDOWS", '["1m", "15m"]')
    monkeypatch.setenv("SENTIMON_LABEL_MAP", '{"bearish": "negative", "bullish": "positive"}')
    monkeypatch.setenv("SENTIMON_DASHBOARD_ALLOW_WRITES", "true")
    monkeypatch.setenv("sentimon_namespace", "lowercase-works")
    s = load_settings()
    assert s.partitions == 12
    assert s.bootstrap_servers == ["k1:9092", "k2:9092"]
    assert s.topics == ["tweets", "wires"]
    assert s.windows == ["1m", "15m"]
    assert s.label_map == {"bearish": "negative", "bullish": "positive"}
    assert s.dashboard_allow_writes is True
    assert s.namespace == "lowercase-works"


def test_keyword_overrides_beat_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTIMON_GROUP", "from-env")
    assert load_settings(group="from-arg").group == "from-arg"
    assert load_settings(group=None).group == "from-env"  # None means "not given"


# --- TOML file -----------------------------------------------------------------------------
def _write_toml(path: Path) -> Path:
    path.write_text(
        'namespace = "from-file"\n'
        "partitions = 3\n"
        'topics = ["a", "b", "c"]\n'
        'group = "file-group"\n'
        "[label_map]\n"
        'LABEL_0 = "negative"\n'
    )
    return path


def test_toml_file_via_sentimon_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = _write_toml(tmp_path / "elsewhere.toml")
    monkeypatch.setenv("SENTIMON_CONFIG", str(config))
    monkeypatch.setenv("SENTIMON_GROUP", "env-group")
    s = load_settings()
    assert s.namespace == "from-file"
    assert s.partitions == 3
    assert s.topics == ["a", "b", "c"]
    assert s.label_map == {"LABEL_0": "negative"}
    assert s.group == "env-group"  # env beats the file


def test_sentimon_toml_in_working_directory(clean_env: Path) -> None:
    _write_toml(clean_env / "sentimon.toml")
    assert load_settings().namespace == "from-file"


def test_sentimon_config_pointing_nowhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SENTIMON_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="SENTIMON_CONFIG"):
        load_settings()


def test_unknown_key_in_toml_is_rejected(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "typo.toml"
    config.write_text("partitons = 3\n")
    monkeypatch.setenv("SENTIMON_CONFIG", str(config))
    with pytest.raises(ConfigError, match="SENTIMON_PARTITONS"):
        load_settings()


# --- errors name the field -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PARTITIONS", "many"),
        ("PARTITIONS", "0"),
        ("KAFKA_BOOTSTRAP", "no-port-here"),
        ("NAMESPACE", "has spaces"),
        ("TOPICS", "[]"),
        ("KAFKA_SECURITY_PROTOCOL", "TLS"),
        ("LABEL_MAP", "not json"),
        ("MAX_BATCH", "100000"),
    ],
)
def test_bad_env_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(f"SENTIMON_{name}", value)
    with pytest.raises(ConfigError, match=f"SENTIMON_{name}") as info:
        load_settings()
    assert info.value.exit_code == 2


def test_bad_redis_url_error_does_not_echo_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTIMON_REDIS_URL", f"http://:{REDIS_PW}@redis:6379/0")
    with pytest.raises(ConfigError, match="SENTIMON_REDIS_URL") as info:
        load_settings()
    assert REDIS_PW not in str(info.value)


def test_config_show_exits_2_naming_the_field(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SENTIMON_MAX_WAIT_MS", "-5")
    assert main(["config", "show"]) == 2
    assert "SENTIMON_MAX_WAIT_MS" in capsys.readouterr().err


# --- secrets -------------------------------------------------------------------------------
@pytest.mark.usefixtures("secrets_env")
def test_secrets_never_in_repr_str_or_masked() -> None:
    s = load_settings()
    assert s.kafka_sasl_password is not None
    assert s.kafka_sasl_password.get_secret_value() == SASL_PW  # still usable by the clients
    for text in (repr(s), str(s), json.dumps(s.masked()), s.model_dump_json()):
        assert REDIS_PW not in text
        assert SASL_PW not in text
        assert HOOK_SECRET not in text
    assert s.masked()["kafka_sasl_password"] == "**********"


@pytest.mark.usefixtures("secrets_env")
@pytest.mark.parametrize("argv", [["config", "show"], ["config", "show", "--json"]])
def test_config_show_masks_secrets(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 0
    captured = capsys.readouterr()
    _assert_no_secret(captured.out + captured.err)
    assert "redis.internal:6380/2" in captured.out  # the host stays visible
    assert "**********" in captured.out


@pytest.mark.usefixtures("secrets_env")
def test_config_show_json_reports_sources(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SENTIMON_CONFIG", str(_write_toml(tmp_path / "c.toml")))
    assert main(["config", "show", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["config_file"] == str(tmp_path / "c.toml")
    assert report["settings"]["namespace"] == "from-file"
    assert report["settings"]["redis_url"] == "redis://app:**********@redis.internal:6380/2"
    assert report["settings"]["kafka_sasl_password"] == "**********"
    sources = report["sources"]
    assert sources["kafka_sasl_password"] == "env"
    assert sources["namespace"] == "file"
    assert sources["max_batch"] == "default"
    assert set(sources) == set(Settings.model_fields)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://127.0.0.1:16379/0", "redis://127.0.0.1:16379/0"),
        (f"redis://:{REDIS_PW}@redis:6379/0", "redis://:**********@redis:6379/0"),
        (f"rediss://u:{REDIS_PW}@[::1]:6380/1", "rediss://u:**********@[::1]:6380/1"),
        (f"redis://h/0?password={REDIS_PW}&db=1", "redis://h/0?password=**********&db=1"),
        (f"unix:///run/r.sock?password={REDIS_PW}", "unix:///run/r.sock?password=**********"),
        (f"redis://:{REDIS_PW}@h:notaport/0", "**********"),
    ],
)
def test_redis_url_display(url: str, shown: str) -> None:
    assert _redis_display(url) == shown


def test_webhook_urls_show_host_only() -> None:
    assert _url_host_only(f"https://hooks.example.com/{HOOK_TOKEN}") == (
        "https://hooks.example.com/**********"
    )
    assert _url_host_only("http://u:pw@alerts.local:8080") == "http://alerts.local:8080"
    assert _url_host_only("not a url") == "**********"


def test_as_env_round_trips_through_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from sentimon.settings import load_settings

    original = load_settings(
        topics=["a", "b"],
        max_batch=7,
        label_map={"0": "negative"},
        redis_url="redis://:pw@127.0.0.1:1/0",
    )
    for key, value in original.as_env().items():
        monkeypatch.setenv(key, value)
    again = load_settings()
    assert again.model_dump() == original.model_dump()
    assert again.redis_url.get_secret_value() == "redis://:pw@127.0.0.1:1/0"
