"""The whole verification cycle of CONTRACT §6, as an auditor lives it (issue 13):

run → fill the evidence workbooks (属实 with 认定金额, 排除 with a reason) → ``auditlib review import``
→ rerun with ``--register`` (statuses in findings.csv, the workbook prefilled, the index) → next
year's data with two confirmed findings' causes gone → rerun with ``--baseline`` → ``resolved.csv``
and ``auditlib diff`` exact (the two rectified, the rest persisting).
"""
from __future__ import annotations

import csv
import json
import shutil

import openpyxl
import pytest
from click.testing import CliRunner

from auditlib.cli import main
from auditlib.ingest.load import ingest
from auditlib.review import form
from auditlib.rules.identity import finding_id
from auditlib.synth.county import generate

pytestmark = pytest.mark.batch

UNITS, INSPECTIONS = "001,006", "slush_funds"
SF04 = ("SF04", "001", "bank_txns:LS202404120000006")   # confirmed at 45000, rectified next year
SF02 = ("SF02", "006", "bank_txns:LS202406030000132")   # confirmed, rectified next year
SF06 = ("SF06", "001", "payments:ZF20240000019")        # dismissed, still found next year
#: the bank lines whose removal is "next year's" rectification
FIXED_LINES = ("LS202404120000006", "LS202406030000132")


def rows_of(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def by_key(rows):
    return {(r["rule_id"], r["unit_code"], r["ref"]): r for r in rows}


def invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def form_columns(ws):
    """(header row, {header: column}) of a rule sheet's form, found by its headers."""
    for row in ws.iter_rows(min_row=1, max_row=40):
        names = {str(c.value).strip(): c.column for c in row if c.value is not None}
        if form.FINDING_ID[0] in names and form.CONCLUSION[0] in names:
            return row[0].row, names
    return None, {}  # a rule sheet without findings has no form


def fill(path, answers, verifier):
    """Fill a returned workbook as an auditor would: 核实结论 / 核实说明 / 认定金额 per finding id,
    and the 核实人 on the cover."""
    wb = openpyxl.load_workbook(path)
    done = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows(min_row=1, max_row=60, max_col=2):
            if row[0].value == form.COVER_VERIFIER[0]:
                ws.cell(row=row[0].row, column=row[0].column + 1, value=verifier)
        first = str(ws.cell(1, 1).value or "")
        if not first[:4] in {rid for rid, _, _ in (SF04, SF02, SF06)}:
            continue
        head, cols = form_columns(ws)
        for r in range(head + 1, ws.max_row + 1) if head else ():
            fid = ws.cell(r, cols[form.FINDING_ID[0]]).value
            if fid in answers:
                status, reason, amount = answers[fid]
                ws.cell(r, cols[form.CONCLUSION[0]], status)
                ws.cell(r, cols[form.EXPLANATION[0]], reason)
                if amount is not None:
                    ws.cell(r, cols[form.CONFIRMED_AMOUNT[0]], amount)
                done.add(fid)
    wb.save(path)
    assert done == set(answers), (path, set(answers) - done)


def form_row(path, key):
    """The form cells of the finding ``key`` in a workbook: (核实结论, 核实说明, 认定金额)."""
    wb = openpyxl.load_workbook(path)
    fid = finding_id(*key)
    for ws in wb.worksheets:
        if str(ws.cell(1, 1).value or "").startswith(key[0]):
            head, cols = form_columns(ws)
            for r in range(head + 1, ws.max_row + 1) if head else ():
                if ws.cell(r, cols[form.FINDING_ID[0]]).value == fid:
                    return tuple(ws.cell(r, cols[h[0]]).value for h in (form.CONCLUSION, form.EXPLANATION,
                                                                         form.CONFIRMED_AMOUNT))
    raise AssertionError(f"{key} not in {path}")


def test_run_verify_rerun_next_year_compare(tmp_path):
    year1, year2 = tmp_path / "2024", tmp_path / "2025"
    generate(year1 / "data", units=8, seed=2024)
    ingest(year1 / "data", year1 / "audit.duckdb")
    db1, out = year1 / "audit.duckdb", tmp_path / "outputs"
    register = year1 / "register.jsonl"

    # 1. the first run: every finding 待核实
    invoke("run", "--db", db1, "--out", out, "--run-id", "first", "--units", UNITS, "--inspections", INSPECTIONS,
           "--no-progress")
    first = rows_of(out / "first" / "findings.csv")
    assert {r["status"] for r in first} == {"open"} and len(first) > 5

    # 2. the auditor fills the workbooks and they are read back
    fill(out / "first" / "001" / "slush_funds.xlsx",
         {finding_id(*SF04): ("属实", "提现用于发放劳务费，无签收单", 45000),
          finding_id(*SF06): ("排除", "同一合同分期付款，非重复支付", None)}, "张三")
    fill(out / "first" / "006" / "slush_funds.xlsx", {finding_id(*SF02): ("属实", "账外收取场地租金", None)}, "李四")
    invoke("review", "import", out / "first" / "001" / "slush_funds.xlsx", out / "first" / "006" / "slush_funds.xlsx",
           "--db", db1)
    again = invoke("review", "import", out / "first" / "001" / "slush_funds.xlsx", "--db", db1)  # idempotent
    lines = register.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3, again.output
    decided = {json.loads(x)["finding_id"]: json.loads(x) for x in lines}
    assert decided[finding_id(*SF04)]["amount"] == "45000.00" and decided[finding_id(*SF04)]["by"].startswith("张三")

    # 3. the rerun with the register: statuses in findings.csv, the workbook prefilled, the index
    invoke("run", "--db", db1, "--out", out, "--run-id", "verified", "--units", UNITS, "--inspections", INSPECTIONS,
           "--register", register, "--no-progress")
    verified = by_key(rows_of(out / "verified" / "findings.csv"))
    assert (verified[SF04]["status"], verified[SF02]["status"], verified[SF06]["status"]) == \
        ("confirmed", "confirmed", "dismissed")
    assert {r["status"] for k, r in verified.items() if k not in (SF04, SF02, SF06)} == {"open"}
    assert set(verified) == set(by_key(first))
    status, reason, amount = form_row(out / "verified" / "001" / "slush_funds.xlsx", SF04)
    assert (status, reason, float(amount)) == ("属实", "提现用于发放劳务费，无签收单", 45000.0)
    assert form_row(out / "verified" / "001" / "slush_funds.xlsx", SF06)[:2] == ("排除", "同一合同分期付款，非重复支付")
    index = (out / "verified" / "index.html").read_text(encoding="utf-8")
    assert "属实" in index and "排除" in index and "待核实" in index
    manifest = json.loads((out / "verified" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["register"]["decisions"] == 3
    tasks = {x["unit_code"]: x for x in manifest["tasks"]}
    assert tasks["001"]["statuses"]["confirmed"] == 1 and tasks["001"]["statuses"]["dismissed"] == 1
    assert tasks["006"]["statuses"]["confirmed"] == 1

    # 4. next year: the two confirmed findings' causes are gone from the data, a new database
    shutil.copytree(year1 / "data", year2 / "data")
    bank = year2 / "data" / "bank_txns.csv"
    text = bank.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    kept = [line for line in text if not any(x in line for x in FIXED_LINES)]
    assert len(kept) == len(text) - 2
    bank.write_text("".join(kept), encoding="utf-8-sig")
    ingest(year2 / "data", year2 / "audit.duckdb")

    # 5. the rerun against last year's run
    invoke("run", "--db", year2 / "audit.duckdb", "--out", out, "--run-id", "next", "--units", UNITS,
           "--inspections", INSPECTIONS, "--register", register, "--baseline", out / "verified", "--no-progress")
    nxt = by_key(rows_of(out / "next" / "findings.csv"))
    assert set(nxt) == set(verified) - {SF04, SF02}
    assert {r["change"] for r in nxt.values()} == {"persisting"}
    assert nxt[SF06]["status"] == "dismissed"  # the decision carries over to next year
    resolved = rows_of(out / "next" / "resolved.csv")
    assert resolved == [
        {"finding_id": finding_id(*SF02), "rule_id": "SF02", "unit_code": "006", "ref": SF02[2],
         "baseline_status": "confirmed", "baseline_exposure": verified[SF02]["exposure"], "outcome": "rectified"},
        {"finding_id": finding_id(*SF04), "rule_id": "SF04", "unit_code": "001", "ref": SF04[2],
         "baseline_status": "confirmed", "baseline_exposure": "50000.00", "outcome": "rectified"},
    ]
    assert verified[SF02]["exposure"] == "8765.43"
    manifest = json.loads((out / "next" / "manifest.json").read_text(encoding="utf-8"))
    changes = {x["unit_code"]: x["changes"] for x in manifest["tasks"]}
    assert changes["001"]["resolved"] == 1 and changes["006"]["resolved"] == 1
    assert sum(c["persisting"] for c in changes.values()) == len(nxt)
    assert sum(c["new"] for c in changes.values()) == 0

    # 6. auditlib diff: exact
    invoke("diff", out / "verified", out / "next", "--out", tmp_path / "diff.csv")
    diff = rows_of(tmp_path / "diff.csv")
    expected = []
    for key, r in sorted(verified.items(), key=lambda kv: (kv[0], finding_id(*kv[0]))):
        gone = key in (SF04, SF02)
        expected.append({"finding_id": finding_id(*key), "rule_id": key[0], "unit_code": key[1], "ref": key[2],
                         "change": "resolved" if gone else "persisting", "exposure_a": r["exposure"],
                         "exposure_b": "" if gone else nxt[key]["exposure"], "status_a": r["status"],
                         "status_b": "" if gone else nxt[key]["status"]})
    assert diff == expected
