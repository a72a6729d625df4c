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


CONSOLE_FILES = sorted((ROOT / "console").rglob("*.py"))


@pytest.mark.parametrize("path", CONSOLE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_console_module_imports_the_engine_but_not_the_domain(path):
    # The console knows no telecom: what the domain adds reaches it through the engine's registries.
    assert {
        name for name in imported_modules(path) if name == "onsite" or name.startswith("onsite.")
    } == set()


def test_the_check_sees_the_engine():
    assert len(ENGINE_FILES) > 20
    assert len(CONSOLE_FILES) >= 5


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def engine_imports(path: Path, modules: set[str]) -> set[str]:
    """The engine modules `path` imports, at its top or inside a function: a deferred import still
    ties the two modules together."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            candidates = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in candidates:
            # `from workflows import runtime` names a module; `from workflows.store import Sql` a
            # module's attribute: keep the longest engine module the name starts with.
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != "workflows":
                found.add(name)
                break
    return found


def import_cycles() -> list[list[str]]:
    modules = {module_name(p): p for p in ENGINE_FILES}
    graph = {name: engine_imports(path, set(modules)) - {name} for name, path in modules.items()}
    cycles, state = [], {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                cycles.append([*trail[trail.index(target) :], target])
            elif target not in state:
                visit(target, [*trail, target])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    return cycles


def test_no_engine_module_imports_one_that_imports_it_back():
    # Import cycles between engine modules hide the layering (runtime <-> services once did).
    assert import_cycles() == []


def test_the_cycle_check_sees_imports_inside_functions_and_relative_ones():
    modules = {module_name(p) for p in ENGINE_FILES}
    # selectors reads the specs through a deferred import; the sandbox package imports relatively.
    assert "workflows.sessions" in engine_imports(ROOT / "workflows" / "selectors.py", modules)
    sandbox = engine_imports(ROOT / "workflows" / "sandbox" / "__init__.py", modules)
    assert sandbox and all(name.startswith("workflows.") for name in sandbox)
