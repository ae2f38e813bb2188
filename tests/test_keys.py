"""Every Redis key has one owner: the module that names it; the others call its operations (docs/architecture.md)."""

import ast
import re
from pathlib import Path

import shopshot

ROOT = Path(shopshot.__file__).parent
# A key starts "shopshot:" (an f-string's first part may end there); "shopshot: " with a space starts a message to a person.
KEY = re.compile(r"shopshot:(?!\s)")
KEY_NAME = re.compile(r"^[A-Z_]*(_KEY|PREFIX)$")


def _sources() -> dict[str, ast.Module]:
    return {str(path.relative_to(ROOT.parent)): ast.parse(path.read_text()) for path in ROOT.rglob("*.py")}


def _defined_keys(tree: ast.Module) -> dict[str, str]:
    """The module-level key constants of a file, name -> value."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name) and KEY_NAME.match(target.id):
                    found[target.id] = node.value.value
    return found


def _key_literals(tree: ast.Module) -> list[str]:
    """Every string in a file that names a key, whether or not it is a key constant's value."""
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and KEY.match(node.value)
    ]


def test_every_key_is_named_by_one_module_and_only_as_a_key_constant():
    owners: dict[str, list[str]] = {}
    loose = []
    for path, tree in _sources().items():
        named = set(_defined_keys(tree).values())
        for value in named:
            owners.setdefault(value, []).append(path)
        # config.py's events_stream default is the one key a setting names: the stream's name may change per deployment.
        loose += [
            f"{path}: {value}" for value in _key_literals(tree) if value not in named and path != "shopshot/config.py"
        ]
    assert not {value: paths for value, paths in owners.items() if len(paths) > 1}
    assert not loose


def test_no_module_imports_or_reads_another_modules_key_constants():
    reaches = []
    for path, tree in _sources().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                reaches += [
                    f"{path} imports {node.module}.{alias.name}" for alias in node.names if KEY_NAME.match(alias.name)
                ]
            elif isinstance(node, ast.Attribute) and KEY_NAME.match(node.attr):
                reaches += [f"{path} reads {ast.unparse(node)}"]
    assert not reaches
