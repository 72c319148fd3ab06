"""The package's layout keeps its promises (README "Layout"): subpackages along the pipeline
with imports pointing one way, rule ids only inside the rules, no file found through the
checkout's folder structure."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "auditlib"

#: the pipeline, lowest first: a module may import its own layer and the layers below it
LAYERS = [
    {"errors", "i18n", "common", "workspace", "db", "auditlog", "_shipped"},
    {"ingest"},
    {"rules"},
    {"review"},
    {"outputs"},
    {"sampling"},
    {"batch"},
    {"views"},
    {"cli", "__main__", "__init__", "synth", "devtools"},
]


def _layer(part: str) -> int:
    for i, names in enumerate(LAYERS):
        if part in names:
            return i
    raise AssertionError(f"auditlib.{part} is in no layer of the README's Layout (add it to LAYERS)")


def _room(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                if name.startswith("auditlib."):
                    yield node.lineno, name.split(".")[1]
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}:{node.lineno}: relative import (the package uses absolute imports)")
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("auditlib."):
                    yield node.lineno, a.name.split(".")[1]


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down_the_pipeline(path):
    here = _room(path)
    level = _layer(here)
    for line, target in _imports(path):
        if target == "__version__" or target == here:
            continue
        assert _layer(target) <= level, (
            f"{path.relative_to(PACKAGE.parent)}:{line}: auditlib.{here} imports auditlib.{target}, "
            f"a later stage of the pipeline")


def test_rule_ids_live_only_in_the_rules():
    pattern = re.compile(r"""["'](IF|SF|DP)\d\d["']""")
    offenders = []
    for path in MODULES:
        room = _room(path)
        if room in ("rules", "synth"):
            continue
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{no}: {line.strip()}")
    assert not offenders, "rule ids outside auditlib/rules:\n" + "\n".join(offenders)


def test_no_file_is_found_through_the_checkout_folders():
    offenders = [f"{p.relative_to(PACKAGE.parent)}:{no}" for p in MODULES
                 for no, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(r"__file__\)\.resolve\(\)\.(parents\[|parent\.parent)", line)]
    assert not offenders, "found through the checkout's folders instead of the package or workspace: " + ", ".join(offenders)


def _requirement_names(specs) -> set[str]:
    """Distribution names of requirement strings (extras and versions dropped, lower case)."""
    return {re.split(r"[\s\[<>=!~;]", s.strip(), maxsplit=1)[0].lower() for s in specs if s.strip()}


def test_environment_yml_lists_every_dependency_of_pyproject():
    """conda users get what pip users get: each dependency (and test extra) of pyproject.toml is in
    environment.yml, under its conda-forge name or in its pip section."""
    import tomllib

    import yaml

    root = PACKAGE.parent
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = _requirement_names(project["dependencies"]) | _requirement_names(
        project.get("optional-dependencies", {}).get("test", []))
    env = yaml.safe_load((root / "environment.yml").read_text(encoding="utf-8"))
    listed = set()
    for dep in env["dependencies"]:
        listed |= _requirement_names(dep["pip"] if isinstance(dep, dict) else [dep])
    conda_names = {"duckdb": "python-duckdb", "dask": "dask"}
    missing = sorted(n for n in wanted if conda_names.get(n, n) not in listed)
    assert missing == [], missing
