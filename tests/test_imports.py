"""The import graph of the package: no module reaches itself again through top-level imports."""

import ast
from pathlib import Path

import shopshot

ROOT = Path(shopshot.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.Module, modules: set[str]) -> set[str]:
    """The package's modules a file imports, also inside functions (a lazy import only hides a cycle),
    but not under `if TYPE_CHECKING:` (never run)."""
    found, nodes = set(), list(tree.body)
    while nodes:
        node = nodes.pop()
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            nodes += node.orelse
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        nodes += ast.iter_child_nodes(node)
    return found & modules


def import_graph() -> dict[str, set[str]]:
    files = {_module_name(path): path for path in ROOT.rglob("*.py")}
    return {
        name: _imports(ast.parse(path.read_text()), set(files)) - {name} - _packages_above(name)
        for name, path in files.items()
    }


def _packages_above(name: str) -> set[str]:
    # A module's own packages are imported before it in any case, so naming them adds no edge.
    parts = name.split(".")
    return {".".join(parts[:end]) for end in range(1, len(parts))}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return path[path.index(name) :] + [name]
        if name in done:
            return None
        for target in sorted(graph[name]):
            if found := visit(target, path + [name]):
                return found
        done.add(name)
        return None

    return next((found for name in sorted(graph) if (found := visit(name, []))), None)


def test_the_package_has_no_import_cycle():
    assert _cycle(import_graph()) is None


def test_the_cycle_check_finds_one_where_there_is_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_the_metrics_instruments_are_a_leaf_of_the_package():
    assert import_graph()["shopshot.metrics"] <= {"shopshot.config"}


FLOWS = "shopshot.bot.flows"


def _flow_imports(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Each flow module's imports of other flow modules; the package's __init__, which assembles the routers, is left out."""
    flows = {name for name in graph if name.startswith(FLOWS + ".")}
    return {name: graph[name] & flows for name in flows if graph[name] & flows}


def test_no_flow_imports_another_flow():
    # What two flows share lives in bot/screens.py (or another module outside flows), not in one of them.
    assert _flow_imports(import_graph()) == {}


def test_the_flow_check_finds_a_flow_that_imports_another():
    graph = {
        FLOWS: {f"{FLOWS}.a", f"{FLOWS}.b"},
        f"{FLOWS}.a": {f"{FLOWS}.b", "shopshot.bot.screens"},
        f"{FLOWS}.b": set(),
    }
    assert _flow_imports(graph) == {f"{FLOWS}.a": {f"{FLOWS}.b"}}


FIXTURES = ROOT.parents[1] / "fixtures"


def _fixture_imports(root: Path) -> dict[str, set[str]]:
    """Each file under `root` (by its path there) that imports the test fixtures, and which of them."""
    fixtures = {"fixtures"} | {"fixtures." + _module_name_in(path, FIXTURES) for path in FIXTURES.rglob("*.py")} - {
        "fixtures."
    }
    found = {
        str(path.relative_to(root)): _imports(ast.parse(path.read_text()), fixtures) for path in root.rglob("*.py")
    }
    return {name: imported for name, imported in found.items() if imported}


def _module_name_in(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_the_runtime_package_imports_no_test_fixture():
    # The random-weight model builds and synthetic photos ship outside the package: a deployed image has no fixtures/.
    assert _fixture_imports(ROOT) == {}


def test_the_fixture_check_finds_a_module_that_imports_one(tmp_path):
    (tmp_path / "leaky.py").write_text("def build():\n    from fixtures.diffusion import architectures\n")
    assert _fixture_imports(tmp_path) == {"leaky.py": {"fixtures.diffusion", "fixtures.diffusion.architectures"}}
