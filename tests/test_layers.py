"""The direction of imports: writers below the survey, storage below the domain, the
container and the blueprints on top. A cycle or an upward import fails here."""

from __future__ import annotations

import ast
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("survey", "exports")
# Alembic runs these as scripts by path (``0001_households.py`` is no module name): not imported.
SCRIPTS = ROOT / "survey" / "storage" / "postgres" / "migrations"
# What each layer may not import at run time (type-only imports under TYPE_CHECKING are allowed).
FORBIDDEN = {
    "exports": ("survey",),
    "survey.storage": ("survey.households", "survey.reporting", "survey.campaign", "survey.api",
                       "survey.pages", "survey.downloads", "survey.auth", "survey.users"),
    "survey.households": ("survey.campaign", "survey.api", "survey.pages", "survey.downloads"),
    "survey.reporting": ("survey.campaign", "survey.api", "survey.pages", "survey.downloads"),
    "survey.cli": ("survey.api", "survey.pages", "survey.downloads"),
}


def _modules() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if SCRIPTS in path.parents:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:  # Alembic runs these by path, inside its own context
                continue
            found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def _runtime_imports(module: str) -> set[str]:
    """Absolute names a module imports outside ``if TYPE_CHECKING:`` blocks."""
    path = ROOT / Path(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    tree = ast.parse(path.read_text())
    _drop_type_checking(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names.update(f"{base}.{alias.name}" for alias in node.names)
            names.add(base)
    return names


def _drop_type_checking(tree: ast.AST) -> None:
    """Empty every ``if TYPE_CHECKING:`` block: those imports never run."""
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            node.body = []


def test_every_module_imports_on_its_own_in_a_fresh_interpreter():
    """No module depends on another having been imported first: a cycle shows up here."""
    def load(module: str) -> tuple[str, str]:
        done = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True,
                              text=True, timeout=120)
        return module, done.stderr.strip().splitlines()[-1] if done.returncode else ""

    modules = _modules()
    assert len(modules) > 60  # the walk found the code, not an empty folder
    with ThreadPoolExecutor(4) as pool:
        failures = [f"{m}: {err}" for m, err in pool.map(load, modules) if err]
    assert failures == []


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_imports_point_one_way(layer):
    """Each layer imports only what lies below it."""
    offending = []
    for module in _modules():
        if module == layer or module.startswith(layer + "."):
            for name in _runtime_imports(module):
                if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer]):
                    offending.append(f"{module} imports {name}")
    assert offending == []
