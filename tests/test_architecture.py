"""The shape of the house, checked on the source (no database): layers, cycles, private names,
lazy imports, module and function sizes. Each test lists every offender at once."""

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Lowest first: each app may import only those below it (pharmacy/ is configuration: it wires them all).
LAYERS = {
    "core": set(),
    "catalog": {"core"},
    "rx": {"core", "catalog"},
    "shop": {"core", "catalog", "rx"},
    "pumps": {"core", "catalog", "rx", "shop"},
}
CODE = [*LAYERS, "pharmacy"]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _modules(apps=CODE):
    """(dotted module name, path, tree) of every source module of the apps, migrations left out."""
    for app in apps:
        for path in sorted((ROOT / app).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if "migrations" in rel.parts:
                continue
            parts = list(rel.with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            yield ".".join(parts), is_package, path, ast.parse(path.read_text(), filename=str(path))


MODULES = {name: (is_pkg, path, tree) for name, is_pkg, path, tree in _modules()}


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str):
    """(imported module, names, node) for every import statement, at any depth, of ``module``."""
    is_package, _, tree = MODULES[module]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node
        elif isinstance(node, ast.ImportFrom):
            yield _absolute(module, is_package, node), [a.name for a in node.names], node


def _project_targets(target: str, names: list[str]) -> set[str]:
    """The project modules an import reaches: the module itself, and ``from pkg import submodule``."""
    found = {target} if target in MODULES else set()
    found |= {f"{target}.{name}" for name in names if f"{target}.{name}" in MODULES}
    return found


def _model_string_apps(tree) -> set[str]:
    """Apps named by model strings such as ForeignKey("shop.Order")."""
    apps = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.count(".") == 1:
            head, tail = node.value.split(".")
            if head in LAYERS and tail[:1].isupper() and tail.isidentifier():
                apps.add(head)
    return apps


@pytest.mark.parametrize("app", sorted(LAYERS))
def test_a_lower_app_never_imports_a_higher_one(app):
    offenders = []
    for module, (_, path, tree) in MODULES.items():
        if module.split(".")[0] != app:
            continue
        used = {target.split(".")[0] for target, _, _ in _imports(module)} | _model_string_apps(tree)
        bad = (used & set(LAYERS)) - LAYERS[app] - {app}
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not offenders, "\n".join(offenders)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles_counting_function_level_imports():
    graph = defaultdict(set)
    for module in MODULES:
        for target, names, _ in _imports(module):
            for reached in _project_targets(target, names):
                # A package's __init__ importing its own submodules is how packages re-export.
                if reached != module and not reached.startswith(module + "."):
                    graph[module].add(reached)
    cycles = _cycles(graph)
    assert not cycles, "\n".join(" <-> ".join(c) for c in cycles)


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _module_aliases(module: str) -> dict[str, str]:
    """Local names bound to project modules (``from . import gateway``, ``import shop.tasks as t``)."""
    aliases = {}
    for target, _, node in _imports(module):
        for alias in node.names:
            if isinstance(node, ast.ImportFrom) and f"{target}.{alias.name}" in MODULES:
                aliases[alias.asname or alias.name] = f"{target}.{alias.name}"
            elif isinstance(node, ast.Import) and alias.asname and alias.name in MODULES:
                aliases[alias.asname] = alias.name
    return aliases


def test_no_private_name_is_imported_from_another_module():
    offenders = []
    for module, (_, path, tree) in MODULES.items():
        where = path.relative_to(ROOT)
        for target, names, node in _imports(module):
            for name in names:
                if _private(name) and target != module:
                    offenders.append(f"{where}:{node.lineno} imports {target}.{name}")
        aliases = _module_aliases(module)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and _private(node.attr)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
            ):
                offenders.append(f"{where}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    assert not offenders, "\n".join(offenders)


def _function_level_imports(tree):
    """Import statements inside functions, with the function they sit in (ready() is Django's place)."""
    for func in ast.walk(tree):
        if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) and func.name != "ready":
            for node in ast.walk(func):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    yield func, node


def test_lazy_imports_only_where_a_comment_names_the_cycle_they_break():
    offenders = []
    for _, path, tree in MODULES.values():
        lines = path.read_text().splitlines()
        for func, node in _function_level_imports(tree):
            around = " ".join(lines[max(node.lineno - 2, 0) : node.end_lineno]).lower()
            if "cycle" not in around:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} in {func.name}()")
    assert not offenders, "\n".join(sorted(set(offenders)))


def test_no_module_is_longer_than_the_limit():
    long = [
        f"{path.relative_to(ROOT)}: {n} lines"
        for _, path, _ in MODULES.values()
        if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    ]
    assert not long, "\n".join(long)


def test_no_function_is_longer_than_the_limit():
    long = []
    for _, path, tree in MODULES.values():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}(): {n} lines")
    assert not long, "\n".join(long)


def test_the_checks_see_the_code():
    """Guard against a silent pass: the walker finds every app and real imports in them."""
    assert {name.split(".")[0] for name in MODULES} == set(CODE)
    assert "pumps.services.kits" in MODULES and "core.errors" in MODULES
    assert any(target == "core.errors" for target, _, _ in _imports("pumps.services.kits"))
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
