"""Data flows one way (STYLE.md): no package imports from a package above its own, so a change
at the bottom never needs one at the top. Read from the source with ast: no import is executed."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Bottom to top: a package may import its own level and those below it.
LAYERS = ("settings", "analyzers", "search", "indexers", "api", "rcu")
# Provisioning a node is operations, beside the CLI: it reads settings and builds its probe client
# like everyone else; only the CLI (besides benchmarks and tests) starts or stops a node.
PROVISIONING = "provisioning"
PROVISIONING_MAY_IMPORT = ("settings", "search.client", PROVISIONING)
MAY_IMPORT_PROVISIONING = ("rcu", PROVISIONING)
PACKAGES = (*LAYERS, PROVISIONING)
FIRST_PARTY = (*PACKAGES, "bench", "tests")


def imports_of(path: Path) -> list[tuple[int, str, tuple[str, ...]]]:
    """(line, module, the names it imports) of every import in a file, lazy ones inside functions
    included: `import a.b` gives (a.b, (a.b,)), `from a.b import c` gives (a.b, (a.b.c,))."""
    found: list[tuple[int, str, tuple[str, ...]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, (alias.name,)) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module, tuple(f"{node.module}.{alias.name}" for alias in node.names)))
    return found


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(f"{prefix}.")


def wrong_way(importer: str, module: str) -> bool:
    target = module.split(".")[0]
    if target not in PACKAGES or target == importer:
        return False
    if importer == PROVISIONING:
        return not any(_within(module, allowed) for allowed in PROVISIONING_MAY_IMPORT)
    if target == PROVISIONING:
        return importer not in MAY_IMPORT_PROVISIONING
    return LAYERS.index(target) > LAYERS.index(importer)


@dataclass(frozen=True)
class Import:
    package: str  # the importing file's package
    where: str  # file:line
    module: str
    names: tuple[str, ...]


def every_import(packages: tuple[str, ...]) -> Iterator[Import]:
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            for line, module, names in imports_of(path):
                yield Import(package, f"{path.relative_to(ROOT)}:{line}", module, names)


def test_no_package_imports_from_a_package_above_its_own() -> None:
    against_the_flow = [
        f"{found.where} imports {name}" for found in every_import(PACKAGES) for name in found.names if wrong_way(found.package, name)
    ]
    assert against_the_flow == []


def test_the_layer_check_sees_an_import_against_the_flow() -> None:
    assert wrong_way("search", "indexers.push.RecordPusher")
    assert wrong_way("analyzers", "search.client.sync_client")
    assert wrong_way("api", "provisioning.process.start_node")
    assert wrong_way("provisioning", "search.indices.IndexNames")
    assert not wrong_way("provisioning", "search.client.sync_client")
    assert not wrong_way("rcu", "api.app.create_app")
    assert not wrong_way("search", "analyzers.index_settings.records_index_body")


def test_every_first_party_import_names_a_module_that_exists() -> None:
    """A module renamed or moved is renamed at every import, lazy ones and benchmarks included."""
    missing = [
        f"{found.where} imports {found.module}"
        for found in every_import(FIRST_PARTY)
        if found.module.split(".")[0] in FIRST_PARTY
        and not (ROOT / Path(*found.module.split("."))).with_suffix(".py").is_file()
        and not (ROOT / Path(*found.module.split(".")) / "__init__.py").is_file()
    ]
    assert missing == []
