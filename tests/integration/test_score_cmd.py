"""``sentimon score`` end to end: no broker, no Redis; a real (tiny) model."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import ROOT

pytestmark = pytest.mark.integration


def score(
    tiny_model: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTIMON_")}
    env.update(
        SENTIMON_MODEL=str(tiny_model),
        SENTIMON_BACKEND="torch",
        SENTIMON_REDIS_URL="redis://127.0.0.1:1/0",  # unreachable: must not be needed
        SENTIMON_KAFKA_BOOTSTRAP="127.0.0.1:1",
        HF_HUB_OFFLINE="1",
    )
    return subprocess.run(
        [sys.executable, "-m", "sentimon.cli.main", "score", *args],
        input=stdin, env=env, capture_output=True, text=True, timeout=180, cwd=ROOT,
    )  # fmt: skip


def test_texts_as_arguments_give_one_json_object_each(tiny_model: Path) -> None:
    proc = score(
        tiny_model,
        "--json",
        "Coca-Cola gains after an upbeat forecast while PepsiCo slides on weak volumes",
        "Apple pie prices rise ahead of Thanksgiving",
    )
    assert proc.returncode == 0, proc.stderr
    first, second = (json.loads(line) for line in proc.stdout.splitlines())
    assert set(first) == {"id", "label", "score", "confidence", "model", "entities", "story_id",
                          "novel"}  # fmt: skip
    assert [e["ticker"] for e in first["entities"]] == ["KO", "PEP"]
    assert set(first["entities"][0]) == {"ticker", "name", "label", "score", "relevance",
                                         "mentions"}  # fmt: skip
    assert first["entities"][0]["name"] == "Coca-Cola"
    assert first["entities"][0]["relevance"] > first["entities"][1]["relevance"]
    assert 0 < first["confidence"] <= 1 and -1 <= first["score"] <= 1
    assert second["entities"] == []


def test_a_file_of_mixed_lines_reports_bad_ones_and_scores_the_rest(
    tiny_model: Path, tmp_path: Path
) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({"id": "a", "text": "Target cuts its sales forecast"}),
                "{not json",
                json.dumps({"id": "b", "text": "$NVDA rallies", "tickers": ["AMD"]}),
                json.dumps({"id": "c"}),
                "",
                "Microsoft beats estimates on cloud growth",
                json.dumps({"id": "d", "text": "x", "ts": "yesterday"}),
            ]
        ),
        encoding="utf-8",
    )
    proc = score(tiny_model, "--file", str(path), "--json")
    assert proc.returncode == 1
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "b", "line-6"]
    assert [e["ticker"] for e in out[0]["entities"]] == ["TGT"]
    # named in the text first, then the tickers field
    assert [e["ticker"] for e in out[1]["entities"]] == ["NVDA", "AMD"]
    assert [e["ticker"] for e in out[2]["entities"]] == ["MSFT"]
    errors = proc.stderr.strip().splitlines()
    assert [e.split(":")[0] for e in errors[-3:]] == ["line 2", "line 4", "line 7"]
    assert "text" in errors[-2] and "ISO-8601" in errors[-1]


def test_stdin_and_the_readable_table(tiny_model: Path) -> None:
    proc = score(
        tiny_model, "--file", "-", stdin="Ford cuts its outlook; General Motors raises guidance\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert "F (Ford)" in proc.stdout and "GM (General Motors)" in proc.stdout
    assert "relevance" in proc.stdout


def test_nothing_to_score_is_a_clear_error(tiny_model: Path) -> None:
    proc = score(tiny_model)
    assert proc.returncode == 1
    assert "nothing to score" in proc.stderr


def test_copies_within_the_input_share_the_first_post_s_story(tiny_model: Path) -> None:
    lines = [
        json.dumps({"id": "w1", "text": "Apple beats quarterly revenue estimates on iPhone strength"}),
        json.dumps({"id": "w2", "text": "Apple misses quarterly revenue estimates on iPhone weakness"}),
        json.dumps({"id": "w3", "text": "UPDATE 1-Apple beats quarterly revenue estimates on iPhone strength - Reuters"}),
        json.dumps({"id": "w4", "text": "APPLE BEATS QUARTERLY REVENUE ESTIMATES ON IPHONE STRENGTH https://t.co/x"}),
    ]  # fmt: skip
    proc = score(tiny_model, "--file", "-", "--json", stdin="\n".join(lines) + "\n")
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(o["id"], o["story_id"], o["novel"]) for o in out] == [
        ("w1", "w1", True), ("w2", "w2", True), ("w3", "w1", False), ("w4", "w1", False),
    ]  # fmt: skip


EXPLAINED = "Acme shares plunge after the company cuts its profit forecast"


def test_explain_marks_the_words_that_moved_the_score(tiny_model: Path) -> None:
    proc = score(tiny_model, "--explain", EXPLAINED)
    assert proc.returncode == 0, proc.stderr
    why = next(line for line in proc.stdout.splitlines() if line.startswith("  why: "))
    assert "\x1b[" not in proc.stdout  # not a terminal: markers, no colours
    marks = re.findall(r"\[([+-])([^\]]+)\]", why)
    assert marks and all(word in EXPLAINED.split() for _, word in marks)
    assert re.sub(r"\[[+-]([^\]]+)\]", r"\1", why[len("  why: ") :]) == EXPLAINED
    top = next(line for line in proc.stdout.splitlines() if "top words" in line)
    assert re.search(r"(\S+) [+-]\d\.\d{3}", top)


def test_explain_json_gives_words_spans_and_weights(tiny_model: Path) -> None:
    proc = score(tiny_model, "--json", "--explain", EXPLAINED)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    ex = out["explanation"]
    assert (ex["label"], ex["method"], ex["model"]) == (out["label"], "occlusion", out["model"])
    assert ex["base_score"] == pytest.approx(out["score"], abs=1e-4)
    assert [w["word"] for w in ex["words"]] == EXPLAINED.split()
    assert all(EXPLAINED[w["start"] : w["end"]] == w["word"] for w in ex["words"])
    assert any(w["score_weight"] != 0 for w in ex["words"])


def test_explain_on_a_terminal_is_coloured(tiny_model: Path) -> None:
    import pty

    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTIMON_")}
    env.update(SENTIMON_MODEL=str(tiny_model), SENTIMON_BACKEND="torch", HF_HUB_OFFLINE="1")
    proc = subprocess.run(
        [sys.executable, "-m", "sentimon.cli.main", "score", "--explain", EXPLAINED],
        stdout=follower, stderr=subprocess.DEVNULL, env=env, timeout=180, cwd=ROOT,
    )  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    text = b"".join(chunks).decode()
    assert proc.returncode == 0
    assert re.search(r"\x1b\[97;48;5;(22|28|34|40|52|88|124|160)m\S+\x1b\[0m", text)
    assert "[+" not in text and "[-" not in text
