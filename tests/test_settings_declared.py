"""Every setting the apps read is declared in pharmacy/settings.py (or is one of Django's own).

A setting read as ``getattr(settings, "X", default)`` but declared nowhere is configuration
nobody can find: its default hides in the code and the README cannot list it. This reads the
source (no import), so a setting read only on a rare path is caught as well.
"""

import ast
from pathlib import Path

from django.conf import global_settings

ROOT = Path(__file__).resolve().parent.parent
APPS = ("catalog", "rx", "shop", "pumps", "core", "pharmacy")
SETTINGS_FILE = ROOT / "pharmacy" / "settings.py"


def _settings_aliases(tree: ast.Module) -> set[str]:
    """Local names bound to ``django.conf.settings`` (``from django.conf import settings [as x]``)."""
    return {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "django.conf"
        for alias in node.names
        if alias.name == "settings"
    }


def _hooks_aliases(tree: ast.Module) -> set[str]:
    """Local names bound to ``core.extensions.hooks`` (its argument is a setting's name)."""
    return {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "core.extensions"
        for alias in node.names
        if alias.name == "hooks"
    }


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def settings_read(path: Path) -> dict[str, list[int]]:
    """``{setting name: [line, ...]}`` for every setting the module reads."""
    tree = ast.parse(path.read_text(), filename=str(path))
    settings_names, hooks_names = _settings_aliases(tree), _hooks_aliases(tree)
    found: dict[str, list[int]] = {}
    for node in ast.walk(tree):
        name = None
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in settings_names
            and node.attr.isupper()
        ):
            name = node.attr
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
            if (
                node.func.id in {"getattr", "hasattr"}
                and len(node.args) >= 2
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id in settings_names
            ):
                name = _literal(node.args[1])
            elif node.func.id in hooks_names:
                name = _literal(node.args[0])
        if name:
            found.setdefault(name, []).append(node.lineno)
    return found


def declared_settings() -> set[str]:
    """Upper-case names assigned at the top level of settings.py (in any profile's branch)."""
    names: set[str] = set()
    tree = ast.parse(SETTINGS_FILE.read_text(), filename=str(SETTINGS_FILE))
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If | ast.For | ast.With | ast.Try):
            pending.extend(node.body + node.orelse + getattr(node, "handlers", []) + getattr(node, "finalbody", []))
        elif isinstance(node, ast.ExceptHandler):
            pending.extend(node.body)
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign | ast.AugAssign)
            else []
        )
        for target in targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Name) and leaf.id.isupper():
                    names.add(leaf.id)
    return names


def app_modules() -> list[Path]:
    return [
        path
        for app in APPS
        if (ROOT / app).is_dir()
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts and path != SETTINGS_FILE
    ]


def test_the_reader_finds_settings_attributes_getattr_and_hooks(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "from django.conf import settings\nfrom django.conf import settings as s\nfrom core.extensions import hooks\n"
        "a = settings.ALPHA\nb = getattr(s, 'BETA', 1)\nc = hooks('GAMMA')\nd = settings.configure\n"
    )
    assert settings_read(module) == {"ALPHA": [4], "BETA": [5], "GAMMA": [6]}


def test_settings_py_declarations_are_found():
    declared = declared_settings()
    assert {"SECRET_KEY", "DATABASES", "KIT_ORDER_LEAD_DAYS", "CELERY_BROKER_URL", "SECURE_SSL_REDIRECT"} <= declared


def test_every_setting_the_apps_read_is_declared_in_settings_py_or_is_a_django_default():
    known = declared_settings() | {name for name in dir(global_settings) if name.isupper()}
    missing = []
    for path in app_modules():
        for name, lines in sorted(settings_read(path).items()):
            if name not in known:
                missing.extend(f"{path.relative_to(ROOT)}:{line} reads {name}" for line in lines)
    assert not missing, "Declare these in pharmacy/settings.py (and README's configuration table):\n" + "\n".join(
        missing
    )
