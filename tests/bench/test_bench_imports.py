"""Every benchmark's imports from the rest of rcu name something that exists, including those made
inside a stage's function (bench/ is not type-checked; `bench.scale --stages lookups` failed on a
helper renamed in bench.search, found only by running the 1M benchmark)."""

import ast
import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
OWN_PACKAGES = ("bench", "analyzers", "indexers", "search", "api", "rcu", "settings", "provisioning")


def _imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) of every `from <rcu module> import name` in the file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.split(".")[0] in OWN_PACKAGES:
            found += [(node.module, alias.name) for alias in node.names]
    return found


@pytest.mark.parametrize("path", sorted(BENCH.rglob("*.py")), ids=lambda p: str(p.relative_to(BENCH)))
def test_every_name_a_benchmark_imports_from_rcu_exists(path: Path) -> None:
    missing = []
    for module, name in _imports(path):
        imported = importlib.import_module(module)
        if not hasattr(imported, name):
            try:
                importlib.import_module(f"{module}.{name}")  # a submodule
            except ModuleNotFoundError:
                missing.append(f"{module}.{name}")
    assert not missing, f"{path.name} imports what does not exist: {missing}"
