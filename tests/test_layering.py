"""The engine knows nothing of telecom: `workflows` never imports `onsite` or any views module."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINE_FILES = sorted((ROOT / "workflows").rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", ENGINE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_module_does_not_import_the_domain_or_views(path):
    forbidden = {
        name
        for name in imported_modules(path)
        if name == "onsite" or name.startswith("onsite.") or "views" in name.split(".")
    }
    assert forbidden == set()


def test_the_check_sees_the_engine():
    assert len(ENGINE_FILES) > 20
