"""The Redis layout module (``sentimon.keys``) and the Lua scripts beside it."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from importlib.resources import files
from pathlib import Path

import pytest

from sentimon import keys
from sentimon.alerts import state
from sentimon.store import rollups, sink
from sentimon.windows import Stats

ROOT = Path(__file__).resolve().parents[3]
SCRIPTS = files("sentimon").joinpath("scripts")
NAMES = sorted(p.name.removesuffix(".lua") for p in SCRIPTS.iterdir() if p.name.endswith(".lua"))
#: What each module loads, as Redis receives it.
LOADED = {
    "apply_batch": sink._SCRIPT,
    "rebase_fence": sink._REBASE,
    "rollup": rollups._SCRIPT,
    "alert_read": state._READ_SCRIPT,
}
#: The Python module each script's loop bounds are checked in.
BOUNDS_IN = {"apply_batch": sink, "rollup": rollups, "alert_read": state}
#: Field names of the layout that no script may spell out itself.
LAYOUT_NAMES = {*keys.STAT_FIELDS, *keys.COUNTERS, keys.META_WATERMARK, keys.META_MODEL}
LITERAL = re.compile(r"'([^']*)'")
PLACEHOLDER = re.compile(r"__[A-Z][A-Z0-9_]*__")


def test_every_script_file_is_loaded_by_its_module() -> None:
    assert sorted(LOADED) == NAMES


@pytest.mark.parametrize("name", sorted(LOADED))
def test_loaded_script_has_no_placeholder_left(name: str) -> None:
    assert LOADED[name].strip()
    assert PLACEHOLDER.findall(LOADED[name]) == []


@pytest.mark.parametrize("name", sorted(LOADED))
def test_script_file_spells_out_no_layout_name(name: str) -> None:
    raw = SCRIPTS.joinpath(f"{name}.lua").read_text(encoding="utf-8")
    code = "\n".join(line.split("--")[0] for line in raw.splitlines())
    assert {lit for lit in LITERAL.findall(code) if lit in LAYOUT_NAMES} == set()


@pytest.mark.parametrize("name", sorted(LOADED))
def test_script_header_names_its_keys_and_bounds(name: str) -> None:
    raw = SCRIPTS.joinpath(f"{name}.lua").read_text(encoding="utf-8")
    header = []
    for line in raw.splitlines():
        if not line.startswith("--"):
            break
        header.append(line)
    text = "\n".join(header)
    assert "KEYS" in text and "ARGV" in text and ("Loops" in text or "No loops" in text)
    for bound in re.findall(r"\bMAX_[A-Z_]+\b", text):
        assert isinstance(getattr(BOUNDS_IN[name], bound), int), bound


def test_rollup_reads_the_layouts_stat_fields() -> None:
    stats = keys.lua_strings(keys.STAT_FIELDS)
    assert f"local STAT = {{{stats}}}" in rollups._SCRIPT
    assert f"redis.call('HMGET', key, {stats})" in rollups._SCRIPT
    assert f"m .. '{keys.FIELD_SEP}' .. STAT[j]" in rollups._SCRIPT
    assert rollups._STAT == keys.STAT_FIELDS


def test_alert_read_uses_the_layouts_field_names() -> None:
    script = state._READ_SCRIPT
    assert f"local names = {{{keys.lua_strings(state.RANGE_FIELDS)}}}" in script
    assert f"local window_names = {{{keys.lua_strings(keys.ALERT_WINDOW_FIELDS)}}}" in script
    assert f"i .. '{keys.FIELD_SEP}' .. f" in script
    assert f"for i = 1, #spec.fields, {state.UNPACK_CHUNK} do" in script
    assert set(state.RANGE_FIELDS) <= set(keys.STAT_FIELDS)
    assert state.WINDOW_FIELDS == keys.ALERT_WINDOW_FIELDS
    assert state.WINDOW_BLOCK == keys.ALERT_WINDOW_BLOCK


def test_rebase_counts_the_layouts_counter() -> None:
    assert f"redis.call('HINCRBY', KEYS[2], '{keys.OFFSET_RESETS}', 1)" in sink._REBASE


def test_script_source_refuses_missing_and_unused_values() -> None:
    with pytest.raises(ValueError, match=r"__RANGE_FIELDS__|__UNPACK_CHUNK__"):
        keys.script_source("alert_read")
    with pytest.raises(ValueError, match="BOGUS"):
        keys.script_source("rollup", BOGUS=1)
    with pytest.raises(FileNotFoundError):
        keys.script_source("no_such_script")


def test_scripts_are_package_data() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["sentimon"]
    assert "scripts/*.lua" in patterns


def test_stat_fields_follow_stats() -> None:
    assert len(keys.STAT_FIELDS) == len(dataclasses.fields(Stats))
    assert keys.HOUR_TOTAL_FIELDS == keys.STAT_FIELDS


def test_field_names() -> None:
    assert keys.minute_field(7, keys.NEG) == "7:neg"
    assert keys.window_field(1234, keys.SS) == "1234:ss"
    assert keys.minute_fields(58, 59, (keys.N, keys.S)) == ["58:n", "58:s", "59:n", "59:s"]
    assert len(keys.minute_fields(0, 59)) == 60 * len(keys.STAT_FIELDS)
    assert keys.minute_fields(3, 3) == [f"3:{s}" for s in ("n", "pos", "neu", "neg", "s", "ss")]
