"""The package's shape: imports run one way down the pipeline's stages with no cycle, every folder
says its job and its public names (and they exist), no module outgrows one job, and `import
ib_keras` or the estimate stage never starts TensorFlow."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ib_keras"
# The stages in pipeline order: a module may import its own stage and those before it, never a
# later one. `train` comes after `runfile` (the recorder writes run files) and before `estimate`
# (which reads them); `live` after `estimate` and `plots` (it estimates and draws while a network
# trains); `_lazy` and the root package (`ib_keras`: the oneDNN setting and the lazy public face)
# first, the command line last.
STAGES = ["_lazy", "ib_keras", "system", "scaleout", "data", "networks", "runfile", "train", "estimate", "analysis",
          "plots", "live", "studies", "cli", "__main__"]
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _lazy_homes(package: str) -> dict[str, str]:
    """A package's public names and the module each lives in, read from its ``lazy_names`` call."""
    tree = ast.parse(MODULES[package].read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "lazy_names":
            modules = ast.literal_eval(node.args[1])
            return {name: f"{package}.{module}" for module, names in modules.items() for name in names}
    return {}


def _imports(module: str) -> set[str]:
    """The ib_keras modules ``module`` imports anywhere in its file (functions included), a name
    imported from a package resolved to the module it lives in."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "ib_keras"}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            if base.split(".")[0] != "ib_keras":
                continue
            homes = _lazy_homes(base) if base in MODULES else {}
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.add(target if target in MODULES else homes.get(alias.name, base))
    return found - {module}


def _top_level_names(module: str) -> set[str]:
    """The names ``module`` defines or imports at its top level (read, not imported: no TensorFlow)."""
    names = set()
    for node in ast.parse(MODULES[module].read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    return names


GRAPH = {module: _imports(module) for module in MODULES}


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_every_stage_is_known_and_imports_only_itself_and_earlier_stages():
    assert {_stage(module) for module in MODULES} <= set(STAGES)
    wrong = sorted(f"{module} ({_stage(module)}) imports {target} ({_stage(target)})"
                   for module, targets in GRAPH.items() for target in targets
                   if STAGES.index(_stage(target)) > STAGES.index(_stage(module)))
    assert not wrong, "imports against the pipeline:\n" + "\n".join(wrong)


def test_the_modules_imports_hold_no_cycle():
    unknown = sorted({target for targets in GRAPH.values() for target in targets} - set(MODULES))
    assert not unknown, f"imports of modules that do not exist: {unknown}"
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(GRAPH[module]):
            if state.get(target) == 1:
                cycles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(MODULES):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_checks_see_a_cycle_and_an_import_against_the_pipeline(monkeypatch):
    """The two rules above, on a made-up graph: a lower stage importing a higher one, and a cycle."""
    fake = {"ib_keras.data.a": {"ib_keras.studies.b"}, "ib_keras.studies.b": {"ib_keras.data.a"}}
    monkeypatch.setattr(sys.modules[__name__], "GRAPH", fake)
    monkeypatch.setattr(sys.modules[__name__], "MODULES", dict.fromkeys(fake, PACKAGE))
    with pytest.raises(AssertionError, match="ib_keras.data.a \\(data\\) imports ib_keras.studies.b"):
        test_every_stage_is_known_and_imports_only_itself_and_earlier_stages()
    with pytest.raises(AssertionError, match="import cycles"):
        test_the_modules_imports_hold_no_cycle()


def test_no_module_is_over_400_lines():
    long = {module: n for module, path in MODULES.items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long


@pytest.mark.parametrize("package", sorted(m for m, p in MODULES.items() if p.name == "__init__.py"))
def test_every_folder_says_its_job_and_its_public_names_which_exist(package):
    docstring = ast.get_docstring(ast.parse(MODULES[package].read_text())) or ""
    homes = _lazy_homes(package)
    assert docstring and homes, f"{package}: no docstring or no public names"
    assert all(name in docstring for name in homes)
    missing = [f"{name} (in {home})" for name, home in homes.items() if name not in _top_level_names(home)]
    assert not missing, f"{package}: public names its modules do not define: {missing}"


def test_every_name_imported_from_ib_keras_exists():
    """Across the package, the tests and the benchmarks (read, not run): a moved or renamed name is
    found here, not when a rarely run benchmark starts."""
    root = PACKAGE.parent
    missing = []
    for path in sorted([*PACKAGE.rglob("*.py"), *(root / "tests").glob("*.py"), *(root / "benchmarks").glob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] == "ib_keras":
                for alias in node.names:
                    known = node.module in MODULES and (alias.name in _top_level_names(node.module)
                                                        or alias.name in _lazy_homes(node.module))
                    if f"{node.module}.{alias.name}" not in MODULES and not known:
                        missing.append(f"{path.relative_to(root)}: {node.module}.{alias.name}")
    assert not missing, "imports of names that do not exist:\n" + "\n".join(missing)


def test_every_registered_study_is_a_folder_of_the_one_shape_with_its_own_modes():
    from ib_keras.studies.registry import REGISTERED, studies

    for name in REGISTERED:
        parts = {path.stem for path in (PACKAGE / "studies" / name).glob("*.py")}
        assert parts >= {"__init__", "configurations", "claims", "report", "figures", "command"}, name
    assert [study.name for study in studies()] == list(REGISTERED)
    flags = [mode.flag for study in studies() for mode in study.modes]
    assert len(flags) == len(set(flags)) and "--quick" in flags


def test_importing_ib_keras_and_the_estimate_stage_does_not_start_tensorflow():
    code = ("import sys, ib_keras, ib_keras.estimate, ib_keras.analysis, ib_keras.cli\n"
            "from ib_keras import estimate_runs, read_run, load\n"
            "from ib_keras.estimate import estimate_mi\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow was imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
