"""The dependency direction is one way (docs/ARCHITECTURE.md, "Layers").

Every ``import`` and ``from ... import`` in the project's packages, at module level or
inside a function, is read from the source (no import is executed). A module may import
modules of its own layer or of lower layers, never of a higher one.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("sentimon", "consumers", "inference", "dashboard")

CORE, STORE, SERVICES, TRAINING, TOP = range(5)
LAYER_NAMES = {
    CORE: "core",
    STORE: "store",
    SERVICES: "services",
    TRAINING: "model building",
    TOP: "top",
}

# Module prefix -> layer; the longest matching prefix wins. A prefix covers the module
# itself and everything below it.
PLACEMENT: dict[str, int] = {
    **{
        f"sentimon.{name}": CORE
        for name in (
            "contract",
            "windows",
            "aggregate",
            "eventtime",
            "writeplan",
            "settings",
            "errors",
            "keys",
            "kafka_config",
            "logs",
            "version",
            "market_calendar",
            "drift",
            "wordpieces",
            "health_window",
            "entities",
            "stories",
        )
    },
    "sentimon.store": STORE,
    "consumers": SERVICES,
    "inference": SERVICES,
    "sentimon.alerts": SERVICES,
    "sentimon.replay": SERVICES,
    "sentimon.metrics": SERVICES,
    "sentimon.topics": SERVICES,
    "sentimon.stack": SERVICES,
    "inference.training": TRAINING,
    "sentimon.cli": TOP,
    "dashboard": TOP,
    # test doubles (a scorer, a clock) shared by the tests and the benchmarks
    "sentimon.testing": TOP,
}
# Placed as exactly this module, not as a prefix: the package's __init__ is the public
# API facade, while its submodules each need a place above.
EXACT: dict[str, int] = {"sentimon": TOP}

# Third-party packages a layer must not import (top-level names).
FORBIDDEN_EXTERNAL: dict[int, frozenset[str]] = {
    CORE: frozenset({"kafka", "redis"}),
    STORE: frozenset({"kafka"}),
}


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    module: str  # the importing module
    target: str  # the imported module, fully qualified


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "__pycache__" not in path.parts
    )


def is_module(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def layer_of(module: str) -> int | None:
    if module in EXACT:
        return EXACT[module]
    best = None
    for prefix, layer in PLACEMENT.items():
        if (module == prefix or module.startswith(prefix + ".")) and (
            best is None or len(prefix) > len(best[0])
        ):
            best = (prefix, layer)
    return None if best is None else best[1]


def imports_of(path: Path, source: str | None = None, module: str | None = None) -> list[Import]:
    """Every import in the file (``source``, ``module``: read it as this text and name)."""
    module = module or module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    text = path.read_text(encoding="utf-8") if source is None else source
    tree = ast.parse(text, filename=str(path))
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(Import(path, node.lineno, module, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                target = sub if alias.name != "*" and is_module(sub) else base
                found.append(Import(path, node.lineno, module, target))
    return found


def all_imports() -> list[Import]:
    return [imp for path in source_files() for imp in imports_of(path)]


def where(imp: Import) -> str:
    return f"{imp.path.relative_to(ROOT)}:{imp.line}"


def test_every_module_has_a_layer() -> None:
    unplaced = [
        str(path.relative_to(ROOT))
        for path in source_files()
        if layer_of(module_name(path)) is None
    ]
    assert not unplaced, (
        "modules without a layer (add them to PLACEMENT in tests/unit/test_layers.py "
        f"and to docs/ARCHITECTURE.md): {unplaced}"
    )


def test_no_lower_layer_imports_a_higher_one() -> None:
    violations = []
    for imp in all_imports():
        if imp.target.split(".")[0] not in PACKAGES:
            continue
        source, target = layer_of(imp.module), layer_of(imp.target)
        if source is None or target is None:
            continue  # reported by test_every_module_has_a_layer (or not a module)
        if target > source:
            violations.append(
                f"{where(imp)}: {imp.module} ({LAYER_NAMES[source]}) imports "
                f"{imp.target} ({LAYER_NAMES[target]})"
            )
    assert not violations, "lower layer imports a higher one:\n" + "\n".join(violations)


def test_lower_layers_stay_off_kafka_and_redis() -> None:
    violations = []
    for imp in all_imports():
        layer = layer_of(imp.module)
        forbidden = FORBIDDEN_EXTERNAL.get(layer if layer is not None else -1, frozenset())
        if imp.target.split(".")[0] in forbidden:
            violations.append(
                f"{where(imp)}: {imp.module} ({LAYER_NAMES[layer or 0]}) imports {imp.target}"
            )
    assert not violations, "\n".join(violations)


def test_serving_runtime_does_not_import_model_building() -> None:
    violations = [
        f"{where(imp)}: {imp.module} imports {imp.target}"
        for imp in all_imports()
        if layer_of(imp.module) == SERVICES
        and imp.module.split(".")[0] == "inference"
        and layer_of(imp.target) == TRAINING
    ]
    assert not violations, "\n".join(violations)


def test_the_checker_sees_function_level_and_relative_imports() -> None:
    source = (
        "import redis\n"
        "from . import client\n"
        "from ..alerts import history\n"
        "def read():\n"
        "    from sentimon.alerts.history import AlertReader\n"
        "    import dashboard.app\n"
        "    from sentimon import keys, __version__\n"
    )
    path = ROOT / "sentimon" / "store" / "example.py"
    found = imports_of(path, source, "sentimon.store.example")
    assert [(imp.line, imp.target) for imp in found] == [
        (1, "redis"),
        (2, "sentimon.store.client"),
        (3, "sentimon.alerts.history"),
        (5, "sentimon.alerts.history"),
        (6, "dashboard.app"),
        (7, "sentimon.keys"),
        (7, "sentimon"),
    ]
    assert [layer_of(imp.target) for imp in found[1:]] == [
        STORE,
        SERVICES,
        SERVICES,
        TOP,
        CORE,
        TOP,
    ]
    assert layer_of("inference.training.trainer") == TRAINING
    assert layer_of("inference.scorer") == SERVICES
    assert layer_of("sentimon.unplaced_module") is None


def test_module_and_class_names_are_unique() -> None:
    # Issue 22: one name, one thing (no two ``metrics.py``, no two ``Batch`` classes).
    modules: dict[str, list[str]] = {}
    classes: dict[str, list[str]] = {}
    for path in source_files():
        where_ = str(path.relative_to(ROOT))
        if path.name != "__init__.py":
            modules.setdefault(path.name, []).append(where_)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                classes.setdefault(node.name, []).append(f"{where_}:{node.lineno}")
    twice = {name: at for name, at in {**modules, **classes}.items() if len(at) > 1}
    assert not twice, f"names used for two things: {twice}"
