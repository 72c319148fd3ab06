"""`auditlib review import|set|list` (CONTRACT §5, §6): exit codes, the register beside the
database, ids found in a run's findings.csv or by running the rules, a formula-safe list."""
from __future__ import annotations

import csv

import openpyxl
import pytest
from click.testing import CliRunner

from auditlib.cli import main
from auditlib.ingest.load import ingest
from auditlib.outputs.findings_csv import write_findings_csv
from auditlib.outputs.workbook import write_workbook
from auditlib.review import form
from auditlib.review.register import Register
from auditlib.review.statuses import Status
from auditlib.rules.engine import inspect
from auditlib.synth.county import generate


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    base = tmp_path_factory.mktemp("review-cli")
    generate(base / "data", units=8, seed=2024)
    ingest(base / "data", base / "audit.duckdb")
    ins = inspect(base / "audit.duckdb")
    run = base / "run1"
    write_findings_csv(ins.findings, run / "findings.csv", "run1")
    return base, ins, run


def _invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_set_then_list(county, tmp_path):
    base, ins, run = county
    reg = tmp_path / "r.jsonl"
    a, b = list(ins.findings["finding_id"][:2])
    res = _invoke("review", "set", a, b, "--status", "confirmed", "--by", "张三", "--amount", "1,000.5",
                  "--register", reg, "--run", run)
    assert res.exit_code == 0, res.output
    got = Register(reg).decisions()
    assert [d.finding_id for d in got] == [a, b] and all(d.source == "cli" and d.by == "张三" for d in got)
    assert got[0].amount is not None and str(got[0].amount) == "1000.50"
    row = ins.findings.set_index("finding_id").loc[a]
    assert (got[0].rule_id, got[0].unit_code, got[0].ref) == (row["rule_id"], row["unit_code"], row["ref"])
    # dismissed needs a reason; nothing recorded
    res = _invoke("review", "set", a, "--status", "dismissed", "--by", "张三", "--register", reg, "--run", run)
    assert res.exit_code == 2 and "--reason" in res.output
    _invoke("review", "set", a, "--status", "dismissed", "--by", "李四", "--reason", "=HYPERLINK(\"x\")",
            "--register", reg, "--run", run)
    out = tmp_path / "list.csv"
    assert _invoke("review", "list", "--register", reg, "--out", out).exit_code == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert list(rows[0]) == ["finding_id", "rule_id", "unit_code", "ref", "status", "reason", "amount", "by", "at", "source"]
    assert len(rows) == 2
    mine = {r["finding_id"]: r for r in rows}
    assert mine[a]["status"] == "dismissed" and mine[a]["reason"] == "'=HYPERLINK(\"x\")"
    assert mine[b]["amount"] == "1000.50"
    _invoke("review", "list", "--register", reg, "--history", "--out", out)
    assert len(list(csv.DictReader(out.open(encoding="utf-8-sig")))) == 3
    _invoke("review", "list", "--register", reg, "--status", "confirmed", "--out", out)
    assert [r["finding_id"] for r in csv.DictReader(out.open(encoding="utf-8-sig"))] == [b]


def test_unknown_id_exits_2_and_records_nothing(county, tmp_path):
    base, ins, run = county
    reg = tmp_path / "r.jsonl"
    a = ins.findings["finding_id"].iloc[0]
    res = _invoke("review", "set", a, "000000000000", "--status", "confirmed", "--by", "张三",
                  "--register", reg, "--run", run, "--lang", "en")
    assert res.exit_code == 2 and "000000000000" in res.output and "Unknown" in res.output
    assert not reg.exists()


def test_set_finds_ids_by_running_the_rules_and_uses_the_register_beside_the_db(county, tmp_path):
    base, ins, _ = county
    a = ins.findings["finding_id"].iloc[-1]
    res = _invoke("review", "set", a, "--status", "rectified", "--by", "王五", "--db", base / "audit.duckdb")
    try:
        assert res.exit_code == 0, res.output
        assert Register.beside(base / "audit.duckdb").latest()[a].status is Status.RECTIFIED
    finally:
        for name in ("register.jsonl", "register.jsonl.lock"):
            (base / name).unlink(missing_ok=True)


def test_review_needs_a_register(tmp_path):
    res = _invoke("review", "list", "--out", tmp_path / "x.csv")
    assert res.exit_code == 2 and "--register" in res.output


def test_import_command(county, tmp_path):
    base, ins, _ = county
    unit = "0011"
    f = ins.findings[(ins.findings["unit_code"] == unit) & (ins.findings["inspection"] == "slush_funds")]
    ev = {k: v[v["unit_code"] == unit] for k, v in ins.evidence.items()}
    path = write_workbook(tmp_path / "w.xlsx", unit_code=unit, unit_name="x", inspection="slush_funds",
                          findings=f, evidence=ev, params=ins.params, run_id="r", sources=[])
    wb = openpyxl.load_workbook(path)
    fid = f["finding_id"].iloc[0]
    # fill the first finding's conclusion wherever its id is on a rule sheet
    for ws in wb.worksheets:
        head = None
        for row in ws.iter_rows(min_row=1, max_row=20):
            vals = [c.value for c in row]
            if form.CONCLUSION[0] in vals and form.REF_HEADER[0] in vals:
                head = {v: c.column for c, v in zip(row, vals)}
                break
        if head:
            for row in ws.iter_rows(min_row=1):
                if row[head[form.FINDING_ID[0]] - 1].value == fid:
                    ws.cell(row[0].row, head[form.CONCLUSION[0]]).value = "排除"
    wb.save(path)
    reg = tmp_path / "r.jsonl"
    res = _invoke("review", "import", path, "--register", reg, "--by", "张三")
    assert res.exit_code == 2 and "排除" in res.output and "w.xlsx!" in res.output
    assert not reg.exists()
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value == "排除" and c.row > 5:
                    ws.cell(c.row, c.column + 1).value = "正常支出"
    wb.save(path)
    res = _invoke("review", "import", path, "--register", reg, "--by", "张三")
    assert res.exit_code == 0, res.output
    assert Register(reg).latest()[fid].reason == "正常支出"
    res = _invoke("review", "import", path, "--register", reg, "--by", "张三", "--lang", "en")
    assert res.exit_code == 0 and "0 decisions imported (1 already" in res.output
    res = _invoke("review", "import", tmp_path / "nothing.xlsx", "--register", reg)
    assert res.exit_code == 2
