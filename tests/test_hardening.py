"""Hardening (issue 8, items 2–4): hostile content, interrupted runs, concurrent runs.

One hostile county serves every test: the sample county with its unit codes rewritten to
``../../x``, ``a/b``, ``CON``, Chinese with spaces, quotes and a backslash, and formula text;
unit names holding ``<script>`` and ``<img onerror>``; payee names, memos and ledger
summaries holding ``=HYPERLINK(...)``, ``+cmd|...``, ``@SUM(1)`` and ``-2+3``.  Runs are real:
papermill kernels, worker processes, ``auditlib`` as a subprocess killed with SIGKILL.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import nbformat
import openpyxl
import psutil
import pytest
import yaml
from click.testing import CliRunner

from auditlib.cli import main
from auditlib.common.cells import neutralise
from auditlib.outputs.findings_csv import read_findings_csv, write_findings_csv
from auditlib.ingest.load import ingest
from auditlib.batch.plan import unit_folder
from auditlib.batch.run import run
from auditlib.synth.county import generate
from auditlib.workspace import notebooks_dir

pytestmark = pytest.mark.batch

NOTEBOOKS = notebooks_dir()

BIN = Path(sys.executable).parent

SCRIPT = "<script>document.title='pwned'</script>"
IMG = """<img src=x onerror="document.title='pwned'">"""
FORMULAS = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3"]
WEIRD_CODE = '单位 "四" \\ 4'
CODES = {  # sample code -> hostile code
    "001": "../../x", "002": "a/b", "003": "CON", "004": WEIRD_CODE,
    "005": FORMULAS[0], "006": FORMULAS[1], "0011": FORMULAS[3], "0021": FORMULAS[2],
}
TEXTS = {  # substring of a text cell -> hostile text (consistently, so the planted findings stay)
    "县教育局": SCRIPT + "县教育局",
    "县卫生健康局": IMG + "县卫生健康局",
    "天成水利工程有限公司": FORMULAS[0],      # SF06 payee of 001
    "嘉禾建筑工程有限公司": FORMULAS[1],      # SF05 payee of 001
    "提取现金": FORMULAS[2] + "提取现金",      # SF04 memo of 001
    "收取门面房租金": FORMULAS[3] + "收取门面房租金",  # SF03 summary of 001
}
CODE_HEADERS = {"unit_code", "单位编码", "单位代码", "预算单位编码", "supervisor_code", "主管部门编码"}
SMALL = ["../../x", "-2+3", "a/b"]  # three units whose codes survive a comma-separated --units


def _hostile(value, code_column: bool):
    if value is None:
        return None
    if code_column:
        return CODES.get(str(value), value)
    if isinstance(value, str):
        for old, new in TEXTS.items():
            value = value.replace(old, new)
    return value


def _rewrite_csv(path: Path) -> None:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = rows[0]
    codes = {i for i, h in enumerate(header) if h.strip() in CODE_HEADERS}
    out = [header] + [[_hostile(v, i in codes) for i, v in enumerate(r)] for r in rows[1:]]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(out)
    path.write_bytes(buf.getvalue().encode("utf-8-sig"))


def _rewrite_xlsx(path: Path) -> None:
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        header = [c.value for c in ws[1]]
        codes = {i for i, h in enumerate(header) if str(h or "").strip() in CODE_HEADERS}
        for row in ws.iter_rows(min_row=2):
            for i, c in enumerate(row):
                if isinstance(c.value, str):
                    c.value = _hostile(c.value, i in codes)
                    c.data_type = "s"  # an export's text cell, even when it starts with '='
    wb.save(path)


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    """(base folder, database) of the hostile county."""
    base = tmp_path_factory.mktemp("hostile")
    data = base / "data"
    generate(data, units=8, seed=2024)
    (data / "truth.csv").unlink()
    for path in data.iterdir():
        (_rewrite_csv if path.suffix == ".csv" else _rewrite_xlsx)(path)
    report = ingest(data, base / "audit.duckdb")
    assert sum(f.rows_rejected for f in report.files) == 0
    return base, base / "audit.duckdb"


def _scan_rows(db, units, inspections, tmp: Path) -> list[tuple]:
    from auditlib.batch.scan import scan

    scan(db, units=units, inspections=inspections, out=tmp / "scan.csv", run_id="scan")
    return _rows(tmp / "scan.csv")


def _rows(path: Path) -> list[tuple]:
    """A findings.csv as it is on disk, run_id left out, sorted."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return sorted(tuple(v for k, v in r.items() if k != "run_id") for r in csv.DictReader(fh))


# --------------------------------------------------------------------------- hostile content


def test_findings_csv_quotes_text_that_starts_a_formula_but_never_amounts(tmp_path):
    import pandas as pd
    from decimal import Decimal

    rows = [{"inspection": "slush_funds", "rule_id": "SF06", "unit_code": code, "ref": f"payments:{code}",
             "amount": Decimal("-1234.50") if i == 0 else Decimal("10.00"), "severity": "medium",
             "title": text, "detail": text}
            for i, (code, text) in enumerate(zip(FORMULAS, ["\tTAB", "\rCR", "=1+1", "plain"]))]
    path = write_findings_csv(pd.DataFrame(rows), tmp_path / "findings.csv", "=run")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        got = list(csv.DictReader(fh))
    by_code = {r["unit_code"]: r for r in got}
    for code in FORMULAS:
        assert by_code["'" + code]["ref"] == f"payments:{code}"  # does not start a formula
    assert {r["run_id"] for r in got} == {"'=run"}
    assert by_code["'=HYPERLINK(\"http://x\",\"y\")"]["amount"] == "-1234.50"  # a number: no quote
    assert sorted(r["detail"] for r in got) == sorted(["'\tTAB", "'\rCR", "'=1+1", "plain"])
    assert [neutralise(x) for x in ("", None, "a=b", "０=")] == ["", "", "a=b", "０="]
    back = read_findings_csv(path)  # the values as the engine gave them
    assert sorted(back["unit_code"]) == sorted(FORMULAS) and set(back["run_id"]) == {"=run"}
    assert sorted(back["detail"]) == sorted(["\tTAB", "\rCR", "=1+1", "plain"])


def test_params_yaml_with_python_tags_is_refused(county, tmp_path):
    _, db = county
    marker = tmp_path / "pwned"
    out = tmp_path / "outputs"
    docs = [f'!!python/object/apply:os.system ["touch {marker}"]\n',
            f'as_of: !!python/object/apply:os.system ["touch {marker}"]\n',
            f'units:\n  "0012": !!python/object/new:subprocess.Popen [["touch", "{marker}"]]\n']
    for i, doc in enumerate(docs):
        params = tmp_path / f"evil{i}.yaml"
        params.write_text(doc, encoding="utf-8")
        result = CliRunner().invoke(main, ["run", "--db", str(db), "--params", str(params), "--out", str(out),
                                           "--no-progress"])
        assert result.exit_code == 2, result.output
        assert str(params) in result.output and "YAML" in result.output
    assert not marker.exists()
    assert not out.exists() or not any(out.iterdir())


@pytest.fixture(scope="module")
def hostile_run(county, tmp_path_factory):
    """Every hostile unit through the slush-funds notebook (its evidence holds every hostile text)."""
    base, db = county
    out = base / "deep" / "er" / "outputs"
    result = run(db, inspections=["slush_funds"], out=out, run_id="hostile", workers=2, progress=False)
    return result


def test_hostile_unit_codes_stay_inside_the_run_folder(county, hostile_run):
    base, db = county
    assert hostile_run.exit_code == 0, hostile_run.failed
    run_dir = hostile_run.run_dir
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert {x["unit_code"] for x in manifest["tasks"]} == set(CODES.values())
    for task in manifest["tasks"]:
        # unsafe codes: a readable slug, "~" and a short hash (never the raw code, never ".." or "/")
        assert task["folder"] == unit_folder(task["unit_code"]) and "~" in task["folder"]
        assert "/" not in task["folder"] and not task["folder"].startswith(".")
        for kind in ("notebook", "html", "xlsx"):
            path = (run_dir / task[kind]).resolve()
            assert path.is_file() and path.parent.parent == run_dir, task[kind]
    # nothing outside the run folder but the county's own files
    outside = {p.relative_to(base).as_posix() for p in base.rglob("*")
               if p.is_file() and run_dir not in p.parents}
    assert outside == {"audit.duckdb", "ingest_report.json", "rejects.csv", "audit-log.jsonl", "completeness.csv",
                       *(f"data/{p.name}" for p in (base / "data").iterdir())}
    assert {p.name for p in run_dir.iterdir() if p.is_dir()} == {unit_folder(c) for c in CODES.values()}


def test_hostile_findings_csv_is_neutralised_and_equals_scan(county, hostile_run, tmp_path):
    _, db = county
    run_dir = hostile_run.run_dir
    with open(run_dir / "findings.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    codes = {r["unit_code"] for r in rows}
    assert {"'" + c for c in FORMULAS[1:]} <= codes and {"../../x", "a/b"} <= codes  # 005 has none
    for r in rows:
        for col in ("run_id", "unit_code", "ref", "title", "detail"):
            assert not r[col].startswith(("=", "+", "-", "@", "\t", "\r")), (col, r[col])
        assert r["amount"] == "" or not r["amount"].startswith("'")
    details = " ".join(r["detail"] for r in rows)
    assert FORMULAS[0] in details and FORMULAS[1] in details and FORMULAS[2] in details  # kept, as text
    assert _rows(run_dir / "findings.csv") == _scan_rows(db, None, ["slush_funds"], tmp_path)
    # the overview reads the quoted codes back: every unit's findings are counted under its code
    from auditlib.views.overview import Overview

    ranking = Overview.open(db, run_dir=str(run_dir)).ranking_frame()
    counted = dict(zip(ranking["单位代码"], ranking["疑点条数"]))
    for code in CODES.values():
        assert counted[code] == sum(r["unit_code"] == neutralise(code) for r in rows), code
    ov = nbformat.read(run_dir / "overview.ipynb", as_version=4)
    text = "".join(o.get("text", "") + (o.get("data") or {}).get("text/plain", "")  # printed or displayed
                   for c in ov.cells for o in c.get("outputs", []))
    assert f"发现疑点 {len(rows)} 条" in text


def _hostile_cells(ws):
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str) and any(h in c.value for h in FORMULAS + [SCRIPT, IMG]):
                yield c


def test_hostile_text_is_text_in_every_workbook(hostile_run):
    books = sorted(hostile_run.run_dir.rglob("*.xlsx"))
    # one workbook per unit, and the county list of findings (问题清单) beside them
    assert sorted(p.parent.name == hostile_run.run_dir.name for p in books) == [False] * len(CODES) + [True]
    seen = set()
    for path in books:
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            assert not ws._hyperlinks, (path, ws.title)
            for row in ws.iter_rows():
                for c in row:
                    assert c.data_type != "f", (path, ws.title, c.coordinate, c.value)
            for c in _hostile_cells(ws):
                assert c.data_type == "s", (path, ws.title, c.coordinate)
                seen.update(h for h in FORMULAS + [SCRIPT, IMG] if c.value.startswith(h) or c.value == h)
        with zipfile.ZipFile(path) as z:  # no formula and no link anywhere in the file
            sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
            xml = "".join(z.read(n).decode("utf-8") for n in sheets)
            assert sheets and "<f>" not in xml and "<f " not in xml and "<hyperlink" not in xml
    # each hostile text reached a workbook at the start of a cell (cover, payees, memos, summaries)
    assert seen == set(FORMULAS + [SCRIPT, IMG])


def test_hostile_markup_is_escaped_in_every_html_page(hostile_run):
    pages = sorted(hostile_run.run_dir.rglob("*.html"))
    assert len(pages) == len(CODES) + 2
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert SCRIPT not in text and "<img src=x" not in text, page  # quotes in text content are inert
    index = (hostile_run.run_dir / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;document.title=" in index and "&lt;img src=x onerror=" in index
    report = (hostile_run.run_dir / unit_folder("../../x") / "slush_funds.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;document.title=" in report


@pytest.fixture(scope="module")
def browser_page(offline_page):
    return offline_page


def test_browser_runs_no_hostile_script(hostile_run, browser_page):
    page = browser_page
    run_dir = hostile_run.run_dir
    targets = [run_dir / "index.html", run_dir / "overview.html",
               run_dir / unit_folder("../../x") / "slush_funds.html",
               run_dir / unit_folder("a/b") / "slush_funds.html"]
    for target in targets:
        page.goto(target.as_uri())
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)  # an onerror would have fired by now
        assert page.title() != "pwned", target
        assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0, target
        assert page.evaluate("Array.from(document.scripts).some(s => s.text.includes('pwned'))") is False
    assert page.dialogs == []
    page.goto((run_dir / "index.html").as_uri())
    body = page.inner_text("body")
    assert SCRIPT + "县教育局" in body and IMG + "县卫生健康局" in body  # shown as the text it is
    page.goto((run_dir / unit_folder("../../x") / "slush_funds.html").as_uri())
    assert SCRIPT in page.inner_text("body") and page.title() != "pwned"


def test_quotes_backslashes_and_newlines_reach_the_notebook_unchanged(county, tmp_path):
    _, db = county
    weird = tmp_path / "审计 it's \"q\" \\ back\nline"
    weird.mkdir()  # DuckDB reads a backslash in a path as a separator: the database stays outside
    params = weird / "p'\"\\.yaml"
    params.write_text(yaml.safe_dump({"units": {WEIRD_CODE: {"rules": {"IF01": {"min_amount": 12345}}}}},
                                     allow_unicode=True), encoding="utf-8")
    nbs = weird / "nbs"
    shutil.copytree(NOTEBOOKS, nbs)
    nb = nbformat.read(nbs / "idle_funds.ipynb", as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell(
        'import json\nprint("PARAMS=" + json.dumps({"db": db, "unit": unit, "params_file": params_file, '
        '"run_id": run_id, "evidence": evidence, "code": report.unit_code, '
        '"min_amount": str(report.params.for_unit(unit)["IF01"]["min_amount"])}))'))
    nbformat.write(nb, nbs / "idle_funds.ipynb")
    result = run(db, params_file=params, units=[WEIRD_CODE], inspections=["idle_funds"],
                 out=weird / "out", run_id="weird", notebooks=nbs, workers=1, progress=False)
    assert result.exit_code == 0, result.failed
    done = nbformat.read(result.run_dir / unit_folder(WEIRD_CODE) / "idle_funds.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for o in done.cells[3].outputs)
    got = json.loads(printed.split("PARAMS=", 1)[1])
    assert got["db"] == str(db.resolve())
    assert got["params_file"] == str(params.resolve())
    assert got["unit"] == WEIRD_CODE == got["code"]
    assert got["run_id"] == "weird" and Path(got["evidence"]).parent.parent == result.run_dir / ".work"
    assert got["min_amount"] == "12345"
    page = (result.run_dir / unit_folder(WEIRD_CODE) / "idle_funds.html").read_text(encoding="utf-8")
    import html

    assert f"{WEIRD_CODE}）" in html.unescape(page)  # the title: 名称（code）


# --------------------------------------------------------------------------- interrupted runs


def _complete(path: Path) -> str | None:
    """Why ``path`` is not a whole file of its kind, or None when it is."""
    try:
        data = path.read_bytes()
        if path.suffix in (".json", ".ipynb"):
            json.loads(data)
        elif path.suffix == ".html":
            if not data.rstrip().endswith(b"</html>"):
                return "html not closed"
        elif path.suffix == ".xlsx":
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                if z.testzip() is not None:
                    return "bad zip member"
        elif path.suffix == ".csv":
            if not data.endswith(b"\n"):
                return "csv cut"
    except FileNotFoundError:  # renamed away between listing and reading
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


class Watcher(threading.Thread):
    """Reads every file under a final name in ``root`` over and over while a run writes it."""

    def __init__(self, root: Path):
        super().__init__(daemon=True)
        self.root, self.stop, self.bad, self.checked = root, threading.Event(), [], 0

    def run(self):
        while not self.stop.is_set():
            self.bad += check_final_files(self.root)
            self.checked += 1
            time.sleep(0.02)


def check_final_files(root: Path) -> list:
    bad = []
    if root.exists():
        for p in root.rglob("*"):
            if p.is_file() and ".part" not in p.name and p.name != ".lock" and ".work" not in p.parts:
                why = _complete(p)
                if why:
                    bad.append((str(p), why))
    return bad


def _cli(*args, **kw) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "auditlib"), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kw)


@pytest.fixture(scope="module")
def two_runs(county):
    """Two runs started at the same moment on one database, without run ids."""
    base, db = county
    out = base / "concurrent"
    args = ["run", "--db", str(db), "--out", str(out), "--units", ",".join(SMALL),
            "--inspections", "slush_funds,delayed_payments", "--workers", "1", "--no-progress"]
    procs = [_cli(*args) for _ in range(2)]
    results = [p.communicate(timeout=600) for p in procs]
    return out, [p.returncode for p in procs], results


def test_two_runs_on_one_database_at_once_both_succeed(two_runs):
    out, codes, results = two_runs
    assert codes == [0, 0], results
    dirs = sorted(p for p in out.iterdir() if p.is_dir())
    assert len(dirs) == 2  # different run ids (started in the same second: a suffix)
    a, b = (_rows(d / "findings.csv") for d in dirs)
    assert a == b and a
    for d in dirs:
        manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["run_id"] == d.name and {x["status"] for x in manifest["tasks"]} == {"ok"}


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path):
    from auditlib.batch.plan import claim_run_dir as _claim_run_dir

    got, barrier = [], threading.Barrier(8)

    def claim():
        barrier.wait()
        got.append(_claim_run_dir(tmp_path, "20241231-120000", numbered=True, lang="zh").name)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(got) == sorted(["20241231-120000", *(f"20241231-120000-{i}" for i in range(2, 9))])
    with pytest.raises(Exception, match="不会被覆盖"):  # a given run id is never reused
        _claim_run_dir(tmp_path, "20241231-120000", numbered=False, lang="zh")


def _children(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _gone(procs, timeout: float) -> list:
    deadline = time.time() + timeout
    alive = list(procs)
    while alive and time.time() < deadline:
        alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        time.sleep(0.2)
    return alive


def test_kill_9_midway_then_resume_gives_the_uninterrupted_findings(county, two_runs, tmp_path):
    base, db = county
    reference = _rows(sorted(p for p in two_runs[0].iterdir() if p.is_dir())[0] / "findings.csv")
    out = tmp_path / "outputs"
    run_dir = out / "cut"
    args = ["run", "--db", str(db), "--out", str(out), "--units", ",".join(SMALL),
            "--inspections", "slush_funds,delayed_payments", "--workers", "1", "--no-progress"]
    watcher = Watcher(run_dir)
    watcher.start()
    proc = _cli(*args, "--run-id", "cut")
    try:
        deadline = time.time() + 240
        while True:
            assert proc.poll() is None, proc.communicate()
            assert time.time() < deadline, "no task finished"
            try:
                tasks = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))["tasks"]
            except (FileNotFoundError, json.JSONDecodeError):
                tasks = []
            if sum(x["status"] == "ok" for x in tasks) >= 2:
                break
            time.sleep(0.05)
        workers = _children(proc.pid)
        assert workers, "the run has worker processes"
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        # the workers (and their kernels) notice and stop: nothing writes into the run afterwards
        assert _gone(workers, 30) == []
    finally:
        watcher.stop.set()
        watcher.join()
        if proc.poll() is None:
            proc.kill()
    assert watcher.bad == [] and watcher.checked > 10
    assert check_final_files(run_dir) == []
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "running" and not (run_dir / "findings.csv").exists()
    # nor what the run makes alongside its tasks, on the assumption that they all end ok
    assert not [p.name for p in run_dir.iterdir() if p.name.startswith(("overview.", "county-"))]
    done = {(x["unit_code"], x["inspection"]): (run_dir / x["notebook"]).stat().st_mtime_ns
            for x in manifest["tasks"] if x["status"] == "ok"}
    assert 2 <= len(done) < len(manifest["tasks"])

    resumed = _cli("run", "--db", str(db), "--out", str(out), "--run-id", "cut", "--resume", "--no-progress")
    stdout, stderr = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, stderr
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert {x["status"] for x in manifest["tasks"]} == {"ok"} and manifest["resumed"]
    assert {k: (run_dir / x["notebook"]).stat().st_mtime_ns for x in manifest["tasks"]
            if (k := (x["unit_code"], x["inspection"])) in done} == done  # not redone
    assert _rows(run_dir / "findings.csv") == reference
    assert check_final_files(run_dir) == [] and not list(run_dir.rglob("*.part*"))


def test_killed_worker_killed_kernel_and_hung_cell_fail_only_their_task(county, tmp_path):
    _, db = county
    nbs = tmp_path / "nbs"
    shutil.copytree(NOTEBOOKS, nbs)
    nb = nbformat.read(nbs / "slush_funds.ipynb", as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell(
        "import os, signal, time\n"
        'if unit == "../../x":\n    os.kill(os.getppid(), signal.SIGKILL)  # the worker process\n    time.sleep(60)\n'
        'elif unit == "-2+3":\n    os.kill(os.getpid(), signal.SIGKILL)  # the kernel\n'
        'elif unit == "a/b":\n    time.sleep(600)  # hangs'))
    nbformat.write(nb, nbs / "slush_funds.ipynb")
    units = ["../../x", "-2+3", "a/b", "CON", FORMULAS[2]]
    start = time.perf_counter()
    result = CliRunner().invoke(main, ["run", "--db", str(db), "--out", str(tmp_path / "o"), "--run-id", "f",
                                       "--units", ",".join(units), "--inspections", "slush_funds",
                                       "--notebooks", str(nbs), "--workers", "2", "--cell-timeout", "20",
                                       "--no-progress"])
    assert result.exit_code == 1, result.output
    assert time.perf_counter() - start < 300
    run_dir = tmp_path / "o" / "f"
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    status = {x["unit_code"]: x for x in manifest["tasks"]}
    assert status["../../x"]["status"] == "failed"
    assert "进程意外退出" in status["../../x"]["error"] and "-9" in status["../../x"]["error"]
    assert status["-2+3"]["status"] == "failed" and "DeadKernel" in status["-2+3"]["error"]
    assert status["a/b"]["status"] == "failed" and "timed out" in status["a/b"]["error"].lower()
    assert status["CON"]["status"] == "ok" and status[FORMULAS[2]]["status"] == "ok"
    found = set(read_findings_csv(run_dir / "findings.csv")["unit_code"])
    assert found == {u for u in ("CON", FORMULAS[2]) if status[u]["findings"]}  # only tasks that are ok
    index = (run_dir / "index.html").read_text(encoding="utf-8")
    assert index.count('data-status="failed"') == 3 or index.count("data-status=failed") == 3
    assert check_final_files(run_dir) == []


# --------------------------------------------------------------------------- concurrency with ingest


def _extra_units(folder: Path) -> Path:
    folder.mkdir()
    (folder / "units_extra.csv").write_text("unit_code,unit_name\n9999,新增单位\n", encoding="utf-8")
    return folder


def test_ingest_while_a_run_reads_the_database_fails_clearly_and_changes_nothing(county, tmp_path):
    import duckdb

    _, shared = county
    db = tmp_path / "copy.duckdb"
    shutil.copy(shared, db)
    before = db.read_bytes()
    proc = _cli("run", "--db", str(db), "--out", str(tmp_path / "o"), "--run-id", "r", "--units", "a/b",
                "--inspections", "idle_funds", "--workers", "1", "--no-progress")
    try:
        deadline = time.time() + 120
        while not (tmp_path / "o" / "r" / "manifest.json").exists():
            assert proc.poll() is None and time.time() < deadline, proc.communicate()
            time.sleep(0.05)
        ing = subprocess.run([str(BIN / "auditlib"), "ingest", str(_extra_units(tmp_path / "extra")),
                              "--db", str(db)], capture_output=True, text=True, timeout=120)
        running = proc.poll() is None
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert running, "the run ended before the ingest tried"
    assert proc.returncode == 0, stderr
    assert ing.returncode == 2, (ing.stdout, ing.stderr)
    assert str(db) in ing.stderr and "lock" in ing.stderr.lower()
    assert db.read_bytes() == before  # untouched
    # once the run is over the same ingest goes through
    ok = subprocess.run([str(BIN / "auditlib"), "ingest", str(tmp_path / "extra"), "--db", str(db)],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM units WHERE unit_code = '9999'").fetchone()[0] == 1
    finally:
        con.close()


def test_a_run_while_ingest_writes_fails_clearly_before_anything_runs(county, tmp_path):
    import duckdb

    _, shared = county
    db = tmp_path / "copy.duckdb"
    shutil.copy(shared, db)
    con = duckdb.connect(str(db))  # a writer holds the database, as ingest does
    try:
        result = subprocess.run([str(BIN / "auditlib"), "run", "--db", str(db), "--out", str(tmp_path / "o"),
                                 "--units", "a/b", "--inspections", "idle_funds", "--no-progress"],
                                capture_output=True, text=True, timeout=120)
    finally:
        con.close()
    assert result.returncode == 2, result.stderr
    assert str(db) in result.stderr and "lock" in result.stderr.lower()
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_a_second_resume_of_a_running_run_is_refused(county, tmp_path):
    _, db = county
    out = tmp_path / "o"
    proc = _cli("run", "--db", str(db), "--out", str(out), "--run-id", "busy", "--units", "a/b",
                "--inspections", "idle_funds", "--workers", "1", "--no-progress")
    try:
        deadline = time.time() + 120
        while not (out / "busy" / "manifest.json").exists():
            assert proc.poll() is None and time.time() < deadline, proc.communicate()
            time.sleep(0.05)
        second = subprocess.run([str(BIN / "auditlib"), "run", "--db", str(db), "--out", str(out), "--run-id",
                                 "busy", "--resume", "--no-progress"], capture_output=True, text=True, timeout=120)
        running = proc.poll() is None
        proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert running
    assert second.returncode == 2 and "另一个进程" in second.stderr, second.stderr
    assert proc.returncode == 0
