"""The batch's parts on their own (no kernels): options, statuses, the one task executor, the
manifest, the evidence handoff, the run lock."""
from __future__ import annotations

import dataclasses
import json
import os
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from auditlib.batch.handoff import load_task_evidence, save_task_evidence, task_evidence_path, unit_slice
from auditlib.batch.lock import remove_stale_parts, run_lock
from auditlib.batch.manifest import Manifest, task_record
from auditlib.batch.options import RunOptions, RunStatus, TaskStatus
from auditlib.batch.tasks import TaskKind, TaskResult, TaskSpec, execute_task
from auditlib.errors import AuditlibError, RunError
from auditlib.workspace import ENV


def _options(tmp_path: Path, **kw) -> RunOptions:
    return RunOptions(**{"db": tmp_path / "audit.duckdb", "notebooks": tmp_path / "nbs", "out": tmp_path / "out",
                         "lang": "zh", **kw})


def test_run_options_are_frozen(tmp_path):
    options = _options(tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.workers = 3
    assert dataclasses.replace(options, workers=3).workers == 3 and options.workers is None


@pytest.mark.parametrize("bad", [
    {"cell_timeout": 0}, {"cell_timeout": "600"}, {"cell_timeout": True}, {"start_timeout": -1},
    {"workers": 0}, {"workers": 1.5}, {"kernel": ""}, {"lang": "fr"}, {"units": "001"},
    {"units": ["001"]}, {"inspections": (1,)},
])
def test_run_options_are_validated(tmp_path, bad):
    with pytest.raises(AuditlibError):
        _options(tmp_path, **bad)


def test_run_options_resolve_paths_workspace_and_defaults(tmp_path, monkeypatch):
    ws = tmp_path / "ws"
    (ws / "params").mkdir(parents=True)
    (ws / "params" / "default.yaml").write_text("lang: zh\n", encoding="utf-8")
    (ws / "notebooks").mkdir()
    monkeypatch.setenv(ENV, str(ws))
    monkeypatch.chdir(tmp_path)
    options = RunOptions.resolve("data/a.duckdb", params_file="p.yaml", units=["001", 2], workers=2,
                                 kernel="no-such-kernel", cell_timeout="30")
    assert options.db == tmp_path / "data" / "a.duckdb" and options.params_file == str(tmp_path / "p.yaml")
    assert options.units == ("001", "2") and options.inspections == () and options.cell_timeout == 30
    assert options.workspace == str(ws.resolve())
    assert options.default_params == str(ws.resolve() / "params" / "default.yaml")
    assert options.notebooks == (ws / "notebooks").resolve() and options.out == tmp_path / "outputs"
    assert options.environment() == {ENV: str(ws.resolve())}


def test_task_status_is_its_value_in_json():
    assert json.dumps({"status": TaskStatus.OK}) == '{"status": "ok"}'
    assert TaskStatus("failed") is TaskStatus.FAILED and {TaskStatus.OK} == {"ok"}
    assert [s.value for s in TaskStatus] == ["ok", "failed", "skipped", "pending"]
    assert RunStatus.FINISHED == "finished"


def test_the_overview_runs_through_the_task_executor_and_its_failure_is_a_record(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    (tmp_path / "nbs").mkdir()
    run_dir = tmp_path / "out" / "r"
    run_dir.mkdir(parents=True)
    options = _options(tmp_path, workspace=str(tmp_path))
    spec = TaskSpec.overview(options, "r", run_dir, reuse_kernel=False)
    assert spec.kind is TaskKind.OVERVIEW and spec.notebook == str(tmp_path / "nbs" / "overview.ipynb")
    assert spec.parameters == {"db": str(options.db), "params_file": "", "lang": "zh", "run_dir": str(run_dir)}
    result = execute_task(spec)  # the notebook template is missing: a record, not an exception
    assert isinstance(result, TaskResult) and result.status is TaskStatus.FAILED
    assert result.kind is TaskKind.OVERVIEW and "overview.ipynb" in result.error and result.traceback
    assert result.overview_entry() == {"status": "failed", "notebook": "overview.ipynb", "html": "overview.html",
                                       "error": result.error, "seconds": result.seconds}
    assert os.environ[ENV] == str(tmp_path)  # kernels started by a task see the run's workspace
    # an inspection task fails the same way, through the same function
    entry = task_record("001", "单位", "idle_funds", "001")
    inspection = TaskSpec.inspection(options, "r", run_dir, entry, tmp_path / "missing.pkl")
    failed = execute_task(inspection)
    assert failed.status is TaskStatus.FAILED and failed.kind is TaskKind.INSPECTION
    assert (failed.unit_code, failed.inspection) == ("001", "idle_funds") and "missing.pkl" in failed.error
    assert not list(run_dir.rglob("*.part"))


def test_manifest_records_results_and_saves_whole(tmp_path):
    class P:
        as_of = pd.Timestamp("2024-12-31").date()
        fiscal_year = 2024

        @staticmethod
        def to_dict():
            return {"as_of": "2024-12-31"}

    tasks = [task_record(u, "", "idle_funds", u) for u in ("001", "002")]
    manifest = Manifest.new(tmp_path, "r", _options(tmp_path), P, [], tasks)
    manifest.save()
    assert [x["status"] for x in manifest.todo()] == ["pending", "pending"]
    manifest.record(TaskResult("002", "idle_funds", TaskStatus.OK, seconds=1.5, findings=2, amount="3.00"))
    saved = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert saved["status"] == "running" and saved["tasks"][1]["status"] == "ok"
    assert saved["tasks"][1]["findings"] == 2 and manifest.ok_keys() == {("002", "idle_funds")}
    assert [x["unit_code"] for x in manifest.todo()] == ["001"]
    manifest.finish({"status": "ok"})
    assert Manifest.load(tmp_path).data["status"] == "finished"
    assert not list(tmp_path.glob("*.part"))


def test_evidence_handoff_round_trip(tmp_path):
    findings = pd.DataFrame({"unit_code": ["001", "002"], "amount": [Decimal("1.10"), None]})
    evidence = {"X": pd.DataFrame({"unit_code": ["002", "001"], "v": [1, 2]})}
    f, ev = unit_slice(findings, evidence, "001")
    path = task_evidence_path(tmp_path / ".work", "001", "idle_funds")
    save_task_evidence(path, f, ev)
    got_f, got_ev = load_task_evidence(path)
    assert got_f.to_dict("records") == [{"unit_code": "001", "amount": Decimal("1.10")}]
    assert got_ev["X"]["v"].tolist() == [2]
    assert [p.name for p in path.parent.iterdir()] == ["idle_funds.pkl"]


def test_run_lock_refuses_a_second_holder_and_stale_parts_go(tmp_path):
    pytest.importorskip("fcntl")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / ".x.ipynb.123.part").write_text("half", encoding="utf-8")
    (tmp_path / "a" / "x.ipynb").write_text("whole", encoding="utf-8")
    assert remove_stale_parts(tmp_path) == 1 and (tmp_path / "a" / "x.ipynb").exists()
    with run_lock(tmp_path, "r", "zh"):
        import subprocess
        import sys

        code = ("import sys\nfrom pathlib import Path\nfrom auditlib.batch.lock import run_lock\n"
                "try:\n    run_lock(Path(sys.argv[1]), 'r', 'zh').__enter__()\n"
                "except Exception as e:\n    print(type(e).__name__)")
        out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True)
        assert out.stdout.strip() == RunError.__name__


def test_the_workers_take_the_longest_notebooks_first_ties_in_run_order(tmp_path):
    from auditlib.batch.run import longest_first
    from auditlib.rules.engine import implemented_rules

    options = _options(tmp_path)
    names = ("idle_funds", "slush_funds", "delayed_payments")
    specs = [TaskSpec.inspection(options, "r", tmp_path, task_record(u, "", n, u), tmp_path / f"{u}-{n}.pkl")
             for u in ("001", "002", "003") for n in names]
    found = [pd.DataFrame({"unit_code": ["003"] * 40, "inspection": ["delayed_payments"] * 40}),
             pd.DataFrame({"unit_code": ["002", "002"], "inspection": ["idle_funds"] * 2})]
    order = [(s.unit_code, s.name) for s in longest_first(specs, found)]
    assert sorted(order) == sorted((s.unit_code, s.name) for s in specs)  # every task, once
    assert order[0] == ("003", "delayed_payments")  # 40 findings outweigh any inspection's rules
    weight = {n: len(implemented_rules(n)) for n in names}
    cost = [weight[n] + 2 * {("003", "delayed_payments"): 40, ("002", "idle_funds"): 2}.get((u, n), 0)
            for u, n in order]
    assert cost == sorted(cost, reverse=True)
    ties = [k for k, c in zip(order, cost) if c == weight["slush_funds"]]
    assert ties == [(u, "slush_funds") for u in ("001", "002", "003")]  # equal cost: the run's order


def test_the_county_deliverables_made_early_read_the_manifest_as_it_ends_when_all_is_ok(tmp_path):
    from auditlib.batch.run import _assumed_manifest

    tasks = [task_record("001", "甲", "idle_funds", "001"), task_record("002", "乙", "idle_funds", "002"),
             task_record("003", "丙", "idle_funds", "003")]
    tasks[2].update(status="failed", error="boom")  # a task not run again keeps its record
    manifest = Manifest(tmp_path / "manifest.json", {"tasks": tasks})
    assumed = _assumed_manifest(manifest, {("001", "idle_funds"), ("002", "idle_funds")})
    assert [(x["status"], x["error"]) for x in assumed["tasks"]] == [("ok", None), ("ok", None), ("failed", "boom")]
    assert [x["status"] for x in manifest.tasks] == ["pending", "pending", "failed"]  # a copy: the run's own is untouched


def test_the_plan_reads_a_notebooks_parameters_as_papermill_does(tmp_path):
    import nbformat
    import papermill as pm

    from auditlib.batch.plan import declared_parameters
    from auditlib.workspace import notebooks_dir

    for path in sorted(notebooks_dir().glob("*.ipynb")):
        assert declared_parameters(path) == set(pm.inspect_notebook(str(path))), path.name
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    cell = nbformat.v4.new_code_cell('db = ""  # the database\nunit: str = "001"\nx, y = 1, 2\nimport os\n')
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_code_cell("z = 1"), cell]
    nbformat.write(nb, tmp_path / "p.ipynb")
    assert declared_parameters(tmp_path / "p.ipynb") == {"db", "unit"} <= set(pm.inspect_notebook(str(tmp_path / "p.ipynb")))
    nb.cells = [nbformat.v4.new_code_cell("z = 1")]  # no parameters cell: nothing declared
    nbformat.write(nb, tmp_path / "p.ipynb")
    assert declared_parameters(tmp_path / "p.ipynb") == set()
