"""``auditlib run``: real papermill kernels, local processes and a real Dask scheduler.

The sample county is run once per executor; both runs must leave the same
``findings.csv``, equal to the sample's ``truth.csv`` and to ``auditlib scan``.
"""
from __future__ import annotations

import csv
import json
import shutil
import re
import sys
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from auditlib.cli import main
from auditlib.db import connect
from auditlib.ingest.load import ingest
from auditlib.batch.plan import unit_folder
from auditlib.batch.run import run
from auditlib.synth.county import generate
from auditlib.batch.scan import scan
from auditlib.workspace import notebooks_dir

NOTEBOOKS = notebooks_dir()

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.batch


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    base = tmp_path_factory.mktemp("county")
    generate(base / "data", units=8, seed=2024)
    ingest(base / "data", base / "audit.duckdb")
    with open(base / "data" / "truth.csv", encoding="utf-8-sig", newline="") as fh:
        truth = {(r["rule_id"], r["unit_code"], r["ref"]) for r in csv.DictReader(fh)}
    return base, base / "audit.duckdb", truth


def read_findings(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def keys(rows) -> set:
    return {(r["rule_id"], r["unit_code"], r["ref"]) for r in rows}


def without_run_id(rows) -> list[tuple]:
    return sorted(tuple(v for k, v in r.items() if k != "run_id") for r in rows)


@pytest.fixture(scope="module")
def local_run(county):
    base, db, _ = county
    return run(db, out=base / "outputs", run_id="local", workers=2, progress=False)


def test_reviewer_html_is_self_contained_chinese_and_codeless(local_run):
    from auditlib.outputs.html_export import external_urls

    run_dir = local_run.run_dir
    pages = sorted(run_dir.rglob("*.html"))
    assert len(pages) == 8 * 3 + 2  # reports, overview, index
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert external_urls(text) == [], page
        assert '<html lang="zh-CN">' in text, page
        assert "Report.open" not in text and "from auditlib" not in text, page  # no code cells
    report = (run_dir / "001" / "slush_funds.html").read_text(encoding="utf-8")
    assert "小金库" in report and "SF02" in report and "本福特" in report
    assert report.count('src="data:image/png;base64,') >= 2  # reconciliation and Benford charts
    assert 'alt="银行流水与账簿银行存款科目按月核对"' in report  # charts carry their title as alt text
    assert 'src="data:image/png;base64,' in (run_dir / "overview.html").read_text(encoding="utf-8")


def test_local_batch_equals_truth_and_scan(county, local_run):
    base, db, truth = county
    assert local_run.exit_code == 0, local_run.failed
    rows = read_findings(local_run.run_dir / "findings.csv")
    assert keys(rows) == truth
    scan(db, out=base / "scan.csv", run_id="scan")
    assert without_run_id(rows) == without_run_id(read_findings(base / "scan.csv"))
    assert {r["run_id"] for r in rows} == {"local"}


def test_run_leaves_every_artifact(county, local_run):
    _, db, _ = county
    run_dir = local_run.run_dir
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "finished" and manifest["finished"]
    assert manifest["as_of"] == "2024-12-31"
    assert len(manifest["tasks"]) == 8 * 3
    assert {x["status"] for x in manifest["tasks"]} == {"ok"}
    assert {x["table"] for x in manifest["inputs"]} == {"units", "accounts", "budget", "payments", "ledger",
                                                        "bank_txns"}
    assert all(len(x["sha256"]) == 64 for x in manifest["inputs"])
    assert manifest["software"]["auditlib"]
    total = sum(x["findings"] for x in manifest["tasks"])
    assert total == len(read_findings(run_dir / "findings.csv"))
    for task in manifest["tasks"]:
        for kind in ("notebook", "html", "xlsx"):
            assert (run_dir / task[kind]).is_file(), task[kind]
    assert (run_dir / "index.html").is_file() and (run_dir / "overview.html").is_file()
    assert manifest["overview"]["status"] == "ok"
    assert not list(run_dir.rglob("*.part*")) and not (run_dir / ".work").exists()
    # the executed notebook ran on the project's kernel with the task's parameters
    nb = nbformat.read(run_dir / "001" / "slush_funds.ipynb", as_version=4)
    assert nb.metadata.kernelspec.name == "auditlib"
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and '"001"' in injected[0].source and str(db) in injected[0].source
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    # the summary shown in the notebook (a table, with its plain text beside) agrees with the manifest
    summary = next(c for c in nb.cells if c.source.startswith("# NBVAL_CHECK_OUTPUT"))
    task = next(x for x in manifest["tasks"] if x["unit_code"] == "001" and x["inspection"] == "slush_funds")
    assert f"发现疑点 {task['findings']} 条" in summary.outputs[0]["data"]["text/plain"]


def test_finished_run_is_never_overwritten(county, local_run):
    base, db, _ = county
    before = (local_run.run_dir / "manifest.json").read_bytes()
    result = CliRunner().invoke(main, ["run", "--db", str(db), "--out", str(base / "outputs"),
                                       "--run-id", "local", "--no-progress"])
    assert result.exit_code == 2
    assert "不会被覆盖" in result.output
    assert (local_run.run_dir / "manifest.json").read_bytes() == before


def test_bad_parameters_exit_2_before_anything_runs(county, tmp_path):
    _, db, _ = county
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  SF04: {min_amount: -1}\n", encoding="utf-8")
    out = tmp_path / "outputs"
    for args in (["--params", str(bad)], ["--units", "999"], ["--inspections", "nope"],
                 ["--run-id", "../escape"], ["--resume"]):
        result = CliRunner().invoke(main, ["run", "--db", str(db), "--out", str(out), "--no-progress", *args])
        assert result.exit_code == 2, (args, result.output)
    assert not out.exists() or not any(out.iterdir())


def test_notebook_lacking_a_parameter_is_refused(county, tmp_path):
    _, db, _ = county
    nbs = tmp_path / "nbs"
    shutil.copytree(NOTEBOOKS, nbs)
    nb = nbformat.read(nbs / "idle_funds.ipynb", as_version=4)
    nb.cells[0].source = nb.cells[0].source.replace('evidence = ""', 'evidencez = ""')
    nbformat.write(nb, nbs / "idle_funds.ipynb")
    result = CliRunner().invoke(main, ["run", "--db", str(db), "--out", str(tmp_path / "o"), "--notebooks",
                                       str(nbs), "--no-progress"])
    assert result.exit_code == 2 and "evidence" in result.output
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def _plant_failure(nbs: Path, unit: str) -> None:
    nb = nbformat.read(nbs / "slush_funds.ipynb", as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell(
        f'if unit == "{unit}":\n    raise RuntimeError("planted failure for unit {unit}")'))
    nbformat.write(nb, nbs / "slush_funds.ipynb")


def test_failing_task_then_resume(county, tmp_path):
    _, db, _ = county
    nbs = tmp_path / "nbs"
    shutil.copytree(NOTEBOOKS, nbs)
    _plant_failure(nbs, "002")
    out = tmp_path / "outputs"
    args = ["run", "--db", str(db), "--out", str(out), "--run-id", "r1", "--units", "001,002,003",
            "--inspections", "slush_funds,delayed_payments", "--notebooks", str(nbs), "--workers", "2",
            "--no-progress"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    run_dir = out / "r1"
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    status = {(x["unit_code"], x["inspection"]): x for x in manifest["tasks"]}
    failed = status.pop(("002", "slush_funds"))
    assert failed["status"] == "failed" and "planted failure for unit 002" in failed["error"]
    assert {x["status"] for x in status.values()} == {"ok"}
    assert "planted failure for unit 002" in (run_dir / "index.html").read_text(encoding="utf-8")
    assert not (run_dir / "002" / "slush_funds.xlsx").exists()
    rows = read_findings(run_dir / "findings.csv")
    assert not [r for r in rows if r["unit_code"] == "002" and r["inspection"] == "slush_funds"]
    # the county list and the overview, made while the tasks ran as if all would end ok, were made
    # again without the failed task's findings
    assert _county_list(run_dir) == sorted((r["unit_code"], r["finding_id"]) for r in rows)
    assert manifest["overview"]["status"] == "ok" and manifest["county"]["errors"] == []
    kept = {k: (run_dir / v["notebook"]).stat().st_mtime_ns for k, v in status.items()}

    shutil.copy(NOTEBOOKS / "slush_funds.ipynb", nbs / "slush_funds.ipynb")  # fixed
    result = CliRunner().invoke(main, [*args[:5], "--run-id", "r1", "--resume", "--notebooks", str(nbs),
                                       "--no-progress"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert {x["status"] for x in manifest["tasks"]} == {"ok"}
    # only the failed task was redone
    assert {k: (run_dir / v["notebook"]).stat().st_mtime_ns for k, v in status.items()} == kept
    assert (run_dir / "002" / "slush_funds.xlsx").is_file()
    rows = read_findings(run_dir / "findings.csv")
    assert [r for r in rows if r["unit_code"] == "002" and r["inspection"] == "slush_funds"]
    assert manifest.get("resumed")


def _county_list(run_dir: Path) -> list[tuple[str, str]]:
    """(unit code, finding id) of every row of the run's county list of findings (问题清单)."""
    import openpyxl

    rows = list(openpyxl.load_workbook(run_dir / "county-findings.xlsx")["清单"].iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r[0] == "序号")
    labels = list(rows[head])
    return sorted((r[labels.index("单位编码")], r[labels.index("疑点编号")]) for r in rows[head + 1:]
                  if isinstance(r[0], int))


def test_unsafe_unit_codes_get_encoded_folders():
    assert unit_folder("0012") == "0012"
    for code in ("../../x", "a/b", "CON", "con.txt", "has space", "单位1", ".hidden", "-x", "x.", ""):
        folder = unit_folder(code)
        # a readable slug, "~", 8 hex digits of the code's SHA-256 (issue 16; raw safe codes never hold "~")
        slug, _, digest = folder.partition("~")
        assert re.fullmatch(r"[0-9a-f]{8}", digest) and re.fullmatch(r"[0-9A-Za-z_]*", slug), code
        assert "/" not in folder and "\\" not in folder and not folder.startswith((".", "-")), code
    codes = ("../../x", "a/b", "CON", "con.txt", "has space", "单位1", ".hidden", "-x", "x.", "", "has/space")
    assert len({unit_folder(c) for c in codes}) == len(codes)
    assert unit_folder("has space") == "has_space~" + __import__("hashlib").sha256(b"has space").hexdigest()[:8]


@pytest.fixture
def dask_cluster(tmp_path):
    """A real Dask scheduler and two single-threaded workers on loopback (the benchmark's)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from bench_batch import dask_cluster as loopback

    with loopback(tmp_path, 2, logs=tmp_path / "dask-logs") as address:
        yield address


def test_dask_batch_equals_local_batch(county, local_run, dask_cluster):
    base, db, truth = county
    result = run(db, out=base / "outputs", run_id="dask", scheduler=dask_cluster, progress=False)
    assert result.exit_code == 0, result.failed
    rows = read_findings(result.run_dir / "findings.csv")
    assert keys(rows) == truth
    assert without_run_id(rows) == without_run_id(read_findings(local_run.run_dir / "findings.csv"))


def test_after_a_dask_run_its_kernels_leave_the_database_free_for_writing(county, dask_cluster, tmp_path):
    # a Dask worker's kernel serves many runs: it never keeps the database open (auditlib ingest
    # would be locked out), unlike a local run's kernels, which end with their run
    base, db, _ = county
    result = run(db, out=tmp_path, run_id="dask-free", units=["004"], inspections=["idle_funds"],
                 scheduler=dask_cluster, progress=False)
    assert result.exit_code == 0, result.failed
    connect(db, read_only=False).close()  # the workers and their kernels are still up


def test_a_runs_kernels_keep_no_input_history(county, tmp_path, monkeypatch):
    # the cells are in the notebooks: IPython's SQLite history would only cost time (and fill ~/.ipython)
    _, db, _ = county
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    result = run(db, out=tmp_path, run_id="no-history", units=["004"], inspections=["idle_funds"], workers=1,
                 progress=False)
    assert result.exit_code == 0, result.failed
    assert (tmp_path / "ipython").is_dir()  # the kernel ran with this IPython folder
    assert not list((tmp_path / "ipython").rglob("history.sqlite"))


def test_after_a_local_run_the_database_is_free_for_writing(county, local_run):
    _, db, _ = county
    assert local_run.exit_code == 0
    connect(db, read_only=False).close()


def test_cli_run_prints_index(county, tmp_path):
    _, db, _ = county
    result = CliRunner().invoke(main, ["run", "--db", str(db), "--out", str(tmp_path), "--units", "004",
                                       "--inspections", "idle_funds", "--run-id", "one", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert str(tmp_path / "one" / "index.html") in result.output



def test_missing_kernel_is_a_recorded_task_failure(county, tmp_path):
    _, db, _ = county
    result = CliRunner().invoke(main, ["run", "--db", str(db), "--out", str(tmp_path), "--run-id", "k",
                                       "--units", "001,002", "--inspections", "idle_funds",
                                       "--kernel", "no-such-kernel", "--no-progress"])
    assert result.exit_code == 1, result.output
    manifest = json.loads((tmp_path / "k" / "manifest.json").read_text(encoding="utf-8"))
    assert [x["status"] for x in manifest["tasks"]] == ["failed", "failed"]
    assert all("no-such-kernel" in x["error"] for x in manifest["tasks"])
    assert "no-such-kernel" in (tmp_path / "k" / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("reuse", [True, False], ids=["warm-worker", "in-process"])
def test_a_failing_overview_is_recorded_like_a_task(county, tmp_path, reuse):
    _, db, _ = county
    nbs = tmp_path / "nbs"
    shutil.copytree(NOTEBOOKS, nbs)
    nb = nbformat.read(nbs / "overview.ipynb", as_version=4)
    nb.cells.insert(1, nbformat.v4.new_code_cell('raise RuntimeError("planted overview failure")'))
    nbformat.write(nb, nbs / "overview.ipynb")
    result = run(db, out=tmp_path / "o", run_id="ov", units=["001"], inspections=["idle_funds"], notebooks=nbs,
                 workers=1, progress=False, reuse_kernels=reuse)
    assert result.exit_code == 1 and not result.failed  # the tasks are ok; the overview is not
    manifest = json.loads((result.run_dir / "manifest.json").read_text(encoding="utf-8"))
    overview = manifest["overview"]
    assert overview["status"] == "failed" and "planted overview failure" in overview["error"]
    assert set(overview) == {"status", "notebook", "html", "error", "seconds"}
    # like a failed task: its executed notebook and page are kept, showing the error
    assert (result.run_dir / "overview.ipynb").is_file()
    assert "planted overview failure" in (result.run_dir / "overview.html").read_text(encoding="utf-8")
    assert manifest["workspace"] and manifest["default_params"].endswith("default.yaml")
    assert not list(result.run_dir.rglob("*.part*"))


# ---- the findings register and comparing runs (CONTRACT §6) ------------------------------------

def _decide(register_path, rows):
    """Record decisions (rule, unit, ref, status, reason, amount) in a register file."""
    from decimal import Decimal

    from auditlib.review.register import Decision, Register
    from auditlib.review.statuses import Status
    from auditlib.rules.identity import finding_id

    return Register(register_path).append([
        Decision(finding_id(r, u, ref), r, u, ref, Status(s), reason=why, amount=None if a is None else Decimal(a),
                 by="测试员", source="cli") for r, u, ref, s, why, a in rows])


SF04_001 = ("SF04", "001", "bank_txns:LS202404120000006")
SF06_001 = ("SF06", "001", "payments:ZF20240000019")


def test_run_with_register_shows_statuses_everywhere_and_records_it(county, tmp_path):
    from auditlib.review.register import Register

    _, db, _ = county
    reg = tmp_path / "reg.jsonl"
    _decide(reg, [(*SF04_001, "confirmed", "", "40000.00"), (*SF06_001, "dismissed", "同一合同分期付款", None)])
    result = CliRunner().invoke(main, ["run", "--db", str(db), "--out", str(tmp_path), "--run-id", "reg",
                                       "--units", "001", "--inspections", "slush_funds", "--register", str(reg),
                                       "--no-progress"])
    assert result.exit_code == 0, result.output
    run_dir = tmp_path / "reg"
    rows = {(r["rule_id"], r["unit_code"], r["ref"]): r for r in read_findings(run_dir / "findings.csv")}
    assert rows[SF04_001]["status"] == "confirmed" and rows[SF06_001]["status"] == "dismissed"
    assert {r["status"] for k, r in rows.items() if k not in (SF04_001, SF06_001)} == {"open"}
    assert {r["change"] for r in rows.values()} == {""}  # no baseline
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["register"] == Register(reg).fingerprint()
    assert manifest["register"]["decisions"] == 2 and len(manifest["register"]["sha256"]) == 64
    (task,) = manifest["tasks"]
    assert task["statuses"] == {"open": len(rows) - 2, "confirmed": 1, "dismissed": 1, "rectified": 0}
    assert "changes" not in task and manifest["baseline"] is None
    assert not (run_dir / "resolved.csv").exists()


def test_run_reads_the_register_beside_the_database_by_default(county, tmp_path):
    _, db, _ = county
    local_db = tmp_path / "audit.duckdb"
    shutil.copy(db, local_db)
    _decide(tmp_path / "register.jsonl", [(*SF04_001, "rectified", "", None)])
    result = run(local_db, out=tmp_path / "o", run_id="d", units=["001"], inspections=["slush_funds"], workers=1,
                 progress=False)
    assert result.exit_code == 0, result.failed
    rows = {(r["rule_id"], r["unit_code"], r["ref"]): r for r in read_findings(result.run_dir / "findings.csv")}
    assert rows[SF04_001]["status"] == "rectified"
    manifest = json.loads((result.run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["register"]["path"] == str((tmp_path / "register.jsonl").resolve())


def test_with_a_register_the_county_deliverables_carry_its_reasons_and_amounts(county, tmp_path):
    """Made on a worker's kernel (the usual way), handed the decisions on the run's findings."""
    import openpyxl

    _, db, _ = county
    register = tmp_path / "decisions.jsonl"
    others = [("SF06", f"9{i:03d}", f"payments:ZF{i:011d}", "dismissed", "别的单位", None) for i in range(300)]
    _decide(register, [(*SF04_001, "confirmed", "提现发放劳务费，无签收单", "45000.00"), *others])
    result = run(db, out=tmp_path / "o", run_id="reg", units=["001"], inspections=["slush_funds"], workers=1,
                 progress=False, register=register)
    assert result.exit_code == 0, result.failed
    listing = openpyxl.load_workbook(result.run_dir / "county-findings.xlsx")["清单"]
    row = next(r for r in listing.iter_rows(values_only=True) if SF04_001[2] in r)
    assert "属实" in row and "提现发放劳务费，无签收单" in row and 45000 in row


def test_a_run_hands_its_overview_and_county_only_the_decisions_on_its_findings(tmp_path):
    """decisions.json beside the findings.csv being made: read instead of the register."""
    import pandas as pd

    from auditlib.batch.handoff import run_file, staged_dir
    from auditlib.outputs.verification import RUN_DECISIONS, run_decisions, save_run_decisions
    from auditlib.review.register import Decision
    from auditlib.review.statuses import Status

    mine = Decision("a" * 12, "SF04", "001", "bank_txns:1", Status.CONFIRMED, reason="属实，见流水", by="甲", source="cli")
    other = Decision("b" * 12, "SF04", "002", "bank_txns:2", Status.DISMISSED, reason="排除", by="甲", source="cli")
    staged = staged_dir(tmp_path)
    staged.mkdir(parents=True)
    save_run_decisions(staged, {mine.finding_id: mine, other.finding_id: other},
                       [pd.DataFrame({"finding_id": [mine.finding_id, "c" * 12]})])
    manifest = {"register": {"path": str(tmp_path / "gone.jsonl"), "decisions": 2}}
    assert run_decisions(manifest, run_file(tmp_path, RUN_DECISIONS)) == {mine.finding_id: mine}
    shutil.rmtree(staged)  # the run made: its register again (gone here)
    assert run_decisions(manifest, run_file(tmp_path, RUN_DECISIONS)) is None


def test_resume_refuses_when_the_register_changed(county, tmp_path):
    _, db, _ = county
    reg = tmp_path / "reg.jsonl"
    _decide(reg, [(*SF04_001, "confirmed", "", None)])
    args = ["run", "--db", str(db), "--out", str(tmp_path), "--run-id", "r", "--units", "001",
            "--inspections", "slush_funds", "--register", str(reg), "--no-progress"]
    assert CliRunner().invoke(main, args).exit_code == 0
    # unchanged: resuming (nothing to redo) is fine, with or without naming the register again
    assert CliRunner().invoke(main, [*args, "--resume"]).exit_code == 0
    assert CliRunner().invoke(main, [*args[:-3], "--no-progress", "--resume"]).exit_code == 0
    _decide(reg, [(*SF06_001, "dismissed", "已核实", None)])
    for extra in (["--register", str(reg)], []):
        result = CliRunner().invoke(main, [*args[:-3], *extra, "--no-progress", "--resume"])
        assert result.exit_code == 2, result.output
        assert "疑点登记簿" in result.output and "不能续跑" in result.output
    result = CliRunner().invoke(main, [*args, "--resume", "--lang", "en"])
    assert result.exit_code == 2 and "the findings register" in result.output and "changed since run r" in result.output


def test_a_missing_register_named_on_the_command_line_is_refused(county, tmp_path):
    _, db, _ = county
    result = CliRunner().invoke(main, ["run", "--db", str(db), "--out", str(tmp_path), "--run-id", "x",
                                       "--register", str(tmp_path / "nope.jsonl"), "--no-progress"])
    assert result.exit_code == 2 and "找不到疑点登记簿" in result.output
    assert not (tmp_path / "x").exists()


def test_baseline_marks_changes_and_lists_resolved(county, tmp_path):
    _, db, _ = county
    reg = tmp_path / "reg.jsonl"
    _decide(reg, [(*SF04_001, "confirmed", "", None)])
    base = run(db, out=tmp_path, run_id="base", units=["001"], inspections=["slush_funds"], workers=1,
               progress=False, register=reg)
    params = tmp_path / "p.yaml"
    params.write_text("rules: {SF04: {min_amount: 100000000}}\n", encoding="utf-8")  # SF04's finding goes
    result = CliRunner().invoke(main, ["run", "--db", str(db), "--out", str(tmp_path), "--run-id", "next",
                                       "--units", "001", "--inspections", "slush_funds", "--register", str(reg),
                                       "--baseline", str(base.run_dir), "--params", str(params), "--no-progress"])
    assert result.exit_code == 0, result.output
    before = read_findings(base.run_dir / "findings.csv")
    after = read_findings(tmp_path / "next" / "findings.csv")
    assert {r["change"] for r in after} == {"persisting"} and len(after) == len(before) - 1
    resolved = read_findings(tmp_path / "next" / "resolved.csv")
    assert [(r["rule_id"], r["unit_code"], r["ref"], r["baseline_status"], r["outcome"]) for r in resolved] == \
        [(*SF04_001, "confirmed", "rectified")]
    assert resolved[0]["baseline_exposure"] == "50000.00"
    manifest = json.loads((tmp_path / "next" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["baseline"] == {"path": str(base.run_dir), "run_id": "base"}
    assert manifest["tasks"][0]["changes"] == {"new": 0, "persisting": len(after), "resolved": 1}
    # the baseline cannot change under --resume
    other = CliRunner().invoke(main, ["run", "--db", str(db), "--out", str(tmp_path), "--run-id", "next",
                                      "--baseline", str(tmp_path / "next"), "--params", str(params),
                                      "--no-progress", "--resume"])
    assert other.exit_code == 2 and "对比基准批次" in other.output


def test_a_kernel_call_returns_the_functions_result_or_its_error():
    from auditlib.batch.kernels import KernelCall, call, kernel_for_run, shutdown_kernels

    kernel = kernel_for_run()
    try:
        ok = call(KernelCall(kernel, "json:dumps", {"obj": [1, "二"], "ensure_ascii": False}))
        assert ok == {"call": "json:dumps", "value": '[1, "二"]', "error": None}
        bad = call(KernelCall(kernel, "json:loads", {"s": "{"}))  # raises in the kernel: a record, not an exception
        assert bad["value"] is None and "JSONDecodeError" in bad["error"]
        again = call(KernelCall(kernel, "json:dumps", {"obj": 2}))  # a fresh kernel after the error
        assert again["value"] == "2" and again["error"] is None
        missing = call(KernelCall("no-such-kernel", "json:dumps", {"obj": 1}))
        assert missing["value"] is None and "no-such-kernel" in missing["error"]
    finally:
        shutdown_kernels()
