"""The survey modules' import order (see surveys/__init__.py): no cycle, no import hidden inside a function but
``AppConfig.ready``'s, reads never reaching a module that writes, and ``core`` importing no app. Read from the
source, so a cycle shows up here before it shows up as a half-initialised module in a worker."""

import ast
from graphlib import TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READS = {
    "surveys.selectors",
    "surveys.audience",
    "surveys.selectors_chi",
    "surveys.charts",
    "surveys.results",
    "surveys.campaign_counts",
    "surveys.comments",
    "surveys.exports",
    "surveys.scoring",
}
# ``surveys.tallies`` is neither: the results read its builds (``fresh_build``) that its beat job writes.
WRITES = {
    "surveys.counted_for",
    "surveys.services",
    "surveys.services_chi",
    "surveys.answers",
    "surveys.employees",
    "surveys.planning",
    "surveys.dispatch",
    "surveys.reminders",
    "surveys.scheduling",
    "surveys.triggers",
    "surveys.bounces",
    "surveys.tasks",
}


def modules(*packages: str) -> dict[str, ast.Module]:
    found = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = ast.parse(path.read_text(encoding="utf-8"))
    return found


def imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.module is None:
        return []
    return [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]


def module_level_graph(found: dict[str, ast.Module]) -> dict[str, set[str]]:
    return {
        name: {
            target
            for node in tree.body
            if isinstance(node, ast.Import | ast.ImportFrom)
            for target in imported(node)
            if target in found and target != name
        }
        for name, tree in found.items()
    }


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for target in graph[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def test_the_survey_modules_import_each_other_without_a_cycle():
    graph = module_level_graph(modules("surveys", "core"))

    # a cycle raises graphlib.CycleError, naming the modules in it
    order = list(TopologicalSorter(graph).static_order())

    assert order.index("surveys.selectors") < order.index("surveys.results") < order.index("surveys.views")
    assert order.index("surveys.dispatch") < order.index("surveys.tasks") < order.index("surveys.services")


def test_only_app_ready_imports_inside_a_function():
    hidden = [
        (name, function.name, ast.unparse(node))
        for name, tree in modules("surveys").items()
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(function)
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]

    assert {(name, function) for name, function, _line in hidden} == {("surveys.apps", "ready")}


def test_reads_never_reach_a_module_that_writes():
    graph = module_level_graph(modules("surveys"))

    reached = {read: sorted(reachable(graph, read) & WRITES) for read in READS}

    assert reached == {read: [] for read in READS}


def test_core_imports_no_app():
    apps = ("accounts", "portfolio", "surveys", "playbooks", "metrics", "config")
    found = modules("core")

    outside = [
        (name, target)
        for name, tree in found.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for target in imported(node)
        if target.split(".")[0] in apps
    ]

    assert outside == []
