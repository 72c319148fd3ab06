"""The county deliverables of a run (CONTRACT §4, issue 14): ``county-findings.xlsx`` and
``county-report.docx``, built from a small hand-made run folder (no batch: the batch writes them
too, which ``tests/test_totals_agree.py`` checks on a real run).

The run folder holds a ``findings.csv`` with every status (a 属实 finding with a 认定金额 in the
register, an 排除 one, an 已整改 one), one evidence row given by two rules (涉及资金（去重）),
逾期利息, hostile text and a unit code with a leading zero; every expected figure is recomputed
here from those rows, never copied from the builders.
"""
from __future__ import annotations

import json
import re
import zipfile
from decimal import Decimal

import docx
import openpyxl
import pandas as pd
import pytest

from auditlib.outputs import county as county_mod
from auditlib.outputs.county import write_county
from auditlib.outputs.county_data import FINDINGS_XLSX, REPORT_DOCX, CountyInput, load_county_input
from auditlib.outputs.county_findings import write_county_findings
from auditlib.outputs.county_report import ReportFonts, installed_fonts, write_county_report
from auditlib.outputs.findings_csv import write_findings_csv
from auditlib.review.register import Decision, Register
from auditlib.review.statuses import Status
from auditlib.rules.identity import finding_id

PROJECT = {"name": "2024年度财政资金专项检查", "team": "县财政局监督检查组", "period": "2024-01-01 至 2024-12-31",
           "members": ["张三", "李四"], "reviewer": "王五"}
UNITS = {"001": "县教育局", "0012": "=1+1县卫生局", "003": "县文化局"}
EVIL = '=HYPERLINK("http://evil.example","点我")'
#: (inspection, rule, unit, ref, exposure, interest, detail)
ROWS = [
    ("idle_funds", "IF01", "001", "budget:B1", "120000.00", "", "指标 B1 下达 500 天，未支出 120000.00 元"),
    ("delayed_payments", "DP03", "001", "budget:B1", "30000.00", "", "支出进度 20%，序时进度 100%"),
    ("slush_funds", "SF04", "001", "bank_txns:T1", "50000.00", "", EVIL),
    ("slush_funds", "SF06", "0012", "payments:P1", "0.00", "", "重复支付\x01"),
    ("slush_funds", "SF06", "0012", "payments:P2", "36800.00", "", "@SUM(1+1)"),
    ("delayed_payments", "DP01", "0012", "payments:P3", "7244.96", "3.62", "验收后 31 天支付，超期 1 天"),
    ("delayed_payments", "DP01", "001", "+payments:P4", "100.00", "0.05", "-2+3"),
]
CONFIRMED = ("SF04", "001", "bank_txns:T1", Decimal("45000.00"))
DISMISSED = ("SF06", "0012", "payments:P2")
RECTIFIED = ("DP01", "0012", "payments:P3")
NUM = r"(-?[\d,]+\.\d{2})"


def _d(text) -> Decimal:
    return Decimal(str(text).replace(",", "")) if text not in (None, "") else Decimal(0)


def _status(rule, unit, ref) -> str:
    key = (rule, unit, ref)
    return {CONFIRMED[:3]: "confirmed", DISMISSED: "dismissed", RECTIFIED: "rectified"}.get(key, "open")


def make_run(base, rows=ROWS, project=PROJECT, with_register=True):
    """A run folder as the batch leaves it: findings.csv (statuses applied), manifest.json and
    the register it read."""
    run_dir = base / "run"
    run_dir.mkdir(parents=True)
    frame = pd.DataFrame([{"inspection": i, "rule_id": r, "unit_code": u, "ref": ref, "amount": e, "severity": "high",
                           "title": r, "detail": d, "exposure": e, "interest": x or None,
                           "status": _status(r, u, ref), "change": ""}
                          for i, r, u, ref, e, x, d in rows],
                         columns=["inspection", "rule_id", "unit_code", "ref", "amount", "severity", "title", "detail",
                                  "exposure", "interest", "status", "change"])
    write_findings_csv(frame, run_dir / "findings.csv", "r1")
    register = None
    if with_register:
        reg = Register(base / "register.jsonl")
        rid, unit, ref, amount = CONFIRMED
        reg.append([
            Decision(finding_id=finding_id(rid, unit, ref), rule_id=rid, unit_code=unit, ref=ref,
                     status=Status.CONFIRMED, reason="提现用于发放劳务费", amount=amount, by="张三", source="cli"),
            Decision(finding_id=finding_id(*DISMISSED), rule_id=DISMISSED[0], unit_code=DISMISSED[1], ref=DISMISSED[2],
                     status=Status.DISMISSED, reason="同一合同分期付款", by="张三", source="cli"),
            Decision(finding_id=finding_id(*RECTIFIED), rule_id=RECTIFIED[0], unit_code=RECTIFIED[1], ref=RECTIFIED[2],
                     status=Status.RECTIFIED, reason="已支付并补付利息", by="张三", source="cli")])
        register = {"path": str(reg.path), "sha256": "x", "decisions": 3}
    tasks = [{"unit_code": u, "unit_name": n, "inspection": i, "status": "ok"}
             for u, n in UNITS.items() for i in ("idle_funds", "slush_funds", "delayed_payments")]
    params = {"as_of": "2024-12-31", "fiscal_year": 2024, "lang": "zh", "rules": {}, "units": {}}
    if project is not None:
        params["project"] = project
    manifest = {"run_id": "r1", "as_of": "2024-12-31", "fiscal_year": 2024, "lang": "zh", "db": "",
                "params_file": None, "params": params, "register": register, "baseline": None, "tasks": tasks,
                "inputs": [{"file": "payments.csv", "table": "payments", "rows": 714, "sha256": "0"},
                           {"file": "凭证.csv", "table": "ledger", "rows": 3002, "sha256": "0"}]}
    (run_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return run_dir


def expected(rows=ROWS, keep=lambda r: True) -> dict:
    """Counts and money recomputed from the rows: 排除 left out, 属实 at its 认定金额, interest beside."""
    out = {"n": 0, "money": Decimal(0), "interest": Decimal(0), "dedup": {},
           **{f"n_{s}": 0 for s in ("open", "confirmed", "rectified", "dismissed")},
           **{f"m_{s}": Decimal(0) for s in ("open", "confirmed", "rectified")}}
    for i, r, u, ref, e, x, d in rows:
        if not keep((i, r, u, ref)):
            continue
        s = _status(r, u, ref)
        out[f"n_{s}"] += 1
        if s == "dismissed":
            continue
        m = CONFIRMED[3] if s == "confirmed" else _d(e)
        out["n"] += 1
        out["money"] += m
        out[f"m_{s}"] += m
        out["interest"] += _d(x)
        out["dedup"][(u, ref)] = max(out["dedup"].get((u, ref), Decimal(0)), _d(e))
    out["dedup"] = sum(out["dedup"].values(), Decimal(0))
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("county")
    run_dir = make_run(base)
    inp = load_county_input(run_dir, county_units=len(UNITS) + 5)
    return inp, write_county_findings(inp, run_dir / FINDINGS_XLSX), write_county_report(inp, run_dir / REPORT_DOCX)


def _clean(value) -> str:
    return str(value or "").replace("\n", "")


def _table(ws, first: str):
    """(header labels, data rows) of the table whose header row starts with ``first``."""
    rows = list(ws.iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r[0] == first)
    labels = [_clean(v) for v in rows[head]]
    body = [dict(zip(labels, r)) for r in rows[head + 1:] if any(v not in (None, "") for v in r)]
    return labels, body


# -- the input ------------------------------------------------------------------------------

def test_input_reads_the_run_and_the_registers_amounts(built):
    inp, _, _ = built
    assert len(inp.findings) == len(ROWS)
    assert list(inp.units) == list(UNITS) and inp.project == PROJECT
    assert inp.scope() == f"本批次 {len(UNITS)} 个单位（数据库共 {len(UNITS) + 5} 个单位）" and not inp.whole_county
    got = dict(zip(inp.findings["finding_id"], inp.findings["confirmed_amount"]))
    assert got[finding_id(*CONFIRMED[:3])] == CONFIRMED[3]
    assert sum(v is not None for v in got.values()) == 1  # only 属实 carries a 认定金额


def test_whole_county_only_when_every_unit_ran(built):
    inp, _, _ = built
    every = CountyInput(run_id="r", lang="zh", findings=inp.findings, units=inp.units, inspections=inp.inspections,
                        county_units=len(UNITS))
    assert every.whole_county and every.scope() == f"全县 {len(UNITS)} 个单位"
    unknown = CountyInput(run_id="r", lang="zh", findings=inp.findings, units=inp.units, inspections=())
    assert unknown.scope() == f"本批次 {len(UNITS)} 个单位"


# -- county-findings.xlsx -----------------------------------------------------------------------

def test_list_has_one_row_per_finding_with_exact_money_and_text_codes(built):
    inp, xlsx, _ = built
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames[:3] == ["按问题性质汇总", "按单位汇总", "清单"]
    ws = wb["清单"]
    labels, body = _table(ws, "序号")
    assert len(body) == len(ROWS)
    want = {finding_id(r, u, ref): (u, e, x, _status(r, u, ref)) for _, r, u, ref, e, x, _ in ROWS}
    assert {row["疑点编号"] for row in body} == set(want)
    for row in body:
        unit, exposure, interest, status = want[row["疑点编号"]]
        assert row["单位编码"] == unit and isinstance(row["单位编码"], str)
        assert row["单位名称"] == UNITS[unit] or row["单位名称"] == "'" + UNITS[unit]
        assert _d(row["涉及金额(元)"]) == _d(exposure)
        assert _d(row["逾期利息(元)"]) == _d(interest)
        assert row["核实状态"] == Status(status).label("zh")
        if status == "confirmed":
            assert _d(row["认定金额(元)"]) == CONFIRMED[3]
        else:
            assert row["认定金额(元)"] is None
    col = labels.index("涉及金额(元)") + 1
    head = next(c.row for c in ws["A"] if c.value == "序号")
    assert ws.cell(head + 1, col).number_format == "#,##0.00"
    assert ws.freeze_panes == f"A{head + 1}" and ws.auto_filter.ref


def test_summaries_split_by_status_agree_with_the_findings(built):
    inp, xlsx, _ = built
    wb = openpyxl.load_workbook(xlsx)
    _, body = _table(wb["按问题性质汇总"], "检查事项")
    rules = [r for r in body if r["规则编号"]]
    assert {r["规则编号"] for r in rules} == {r for _, r, *_ in ROWS}
    for row in rules:
        want = expected(keep=lambda k: k[1] == row["规则编号"])
        assert (row["合计(条)"], _d(row["合计金额(元)"]), _d(row["逾期利息(元)"])) == (
            want["n"], want["money"], want["interest"]), row
        for s in ("open", "confirmed", "rectified"):
            label = Status(s).label("zh")
            assert (row[f"{label}(条)"], _d(row[f"{label}金额(元)"])) == (want[f"n_{s}"], want[f"m_{s}"])
        assert row["排除(条)"] == want["n_dismissed"]
    total = next(r for r in body if r["检查内容"] == "合计")
    want = expected()
    assert (total["合计(条)"], _d(total["合计金额(元)"]), _d(total["涉及资金（去重）(元)"]), _d(total["逾期利息(元)"])) == (
        want["n"], want["money"], want["dedup"], want["interest"])
    assert sum(_d(r["合计金额(元)"]) for r in rules) == want["money"]

    _, units = _table(wb["按单位汇总"], "单位编码")
    per_unit = [r for r in units if r["单位编码"]]
    assert [r["单位编码"] for r in per_unit] == list(UNITS)  # a unit without findings too
    for row in per_unit:
        want = expected(keep=lambda k: k[2] == row["单位编码"])
        assert (row["合计(条)"], _d(row["合计金额(元)"]), _d(row["涉及资金（去重）(元)"])) == (
            want["n"], want["money"], want["dedup"])
        assert sum(_d(row[f"{n}(元)"]) for n in ("沉淀资金", "小金库", "支付不及时")) == want["money"]
    total = next(r for r in units if r["单位名称"] == "合计")
    assert _d(total["合计金额(元)"]) == expected()["money"]


def test_hostile_text_stays_inert_text(built):
    _, xlsx, _ = built
    with zipfile.ZipFile(xlsx) as z:
        sheets = [z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    assert sheets and not any("<f>" in s or "<f " in s for s in sheets)  # no formula anywhere
    values = [c.value for ws in openpyxl.load_workbook(xlsx) for row in ws.iter_rows() for c in row
              if isinstance(c.value, str)]
    assert "'" + EVIL in values and "'@SUM(1+1)" in values and "'-2+3" in values and "'+payments:P4" in values
    assert not any(v.startswith(("=", "+", "-", "@")) for v in values)


def test_every_sheet_prints_landscape_fitted_with_its_header_repeated(built):
    _, xlsx, _ = built
    for ws in openpyxl.load_workbook(xlsx):
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)  # 1 is the default
        assert ws.page_setup.fitToHeight == 0
        assert ws.print_title_rows and ws.freeze_panes


def test_the_workbook_prints_text_of_at_least_8_points(built, to_pdf):
    import pdfplumber

    _, xlsx, _ = built
    with pdfplumber.open(to_pdf(xlsx)) as pdf:
        sizes = [c["size"] for p in pdf.pages for c in p.chars if c["text"].strip()]
        text = "".join(p.extract_text() or "" for p in pdf.pages)
    assert sizes and min(sizes) >= 7.95, min(sizes)
    assert "疑点及问题清单" in text and "县教育局" in text


# -- county-report.docx -------------------------------------------------------------------------

def _docx_text(path) -> str:
    d = docx.Document(str(path))
    parts = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            parts.append(" | ".join(c.text for c in row.cells))
    return "\n".join(parts)


def test_report_has_the_project_scope_and_totals_of_the_findings(built):
    _, _, report = built
    text = _docx_text(report)
    for value in (PROJECT["name"], PROJECT["team"], PROJECT["period"], PROJECT["reviewer"], "张三、李四"):
        assert value in text, value
    assert f"本批次 {len(UNITS)} 个单位" in text and "全县" not in text
    assert "payments.csv" in text and "714" in text and "3,002" in text
    want = expected()
    got = re.search(rf"发现疑点 (\d+) 条，涉及金额 {NUM} 元；涉及资金（去重） {NUM} 元；逾期利息 {NUM} 元", text)
    assert got, text[:3000]
    assert (int(got[1]), _d(got[2]), _d(got[3]), _d(got[4])) == (want["n"], want["money"], want["dedup"],
                                                                  want["interest"])
    got = re.search(rf"待核实 (\d+) 条，金额 {NUM} 元；经核实属实 (\d+) 条，金额 {NUM} 元；已整改 (\d+) 条，金额 {NUM} 元；"
                    rf"已排除 (\d+) 条", text)
    assert got and (int(got[1]), _d(got[2]), int(got[3]), _d(got[4]), int(got[5]), _d(got[6]), int(got[7])) == (
        want["n_open"], want["m_open"], want["n_confirmed"], want["m_confirmed"], want["n_rectified"],
        want["m_rectified"], want["n_dismissed"])


def test_report_calls_only_verified_findings_problems(built):
    inp, _, report = built
    d = docx.Document(str(report))
    heads = [p.text for p in d.paragraphs if p.style.name.startswith("Heading")]
    assert "五、经核实属实的问题" in heads and "六、尚待核实的疑点" in heads and "七、整改（处理）建议" in heads
    problems = next(t for t in d.tables if t.rows[0].cells[-1].text == "计入金额（元）")
    assert [r.cells[4].text for r in problems.rows[1:]] == ["属实", "已整改"]  # never an open or dismissed one
    assert _d(problems.rows[1].cells[-1].text) == CONFIRMED[3]  # at its 认定金额
    appendix = d.tables[-1]
    assert len(appendix.rows) - 1 == len(ROWS)
    assert any("重复支付\ufffd" in c.text for r in appendix.rows for c in r.cells)  # a control character made safe
    assert len(d.inline_shapes) >= 1  # a chart


def test_report_sets_an_installed_east_asian_font(built):
    _, _, report = built
    d = docx.Document(str(report))
    from docx.oxml.ns import qn

    east = d.styles["Normal"].element.rPr.rFonts.get(qn("w:eastAsia"))
    assert east
    if installed_fonts() is not None:
        assert east in installed_fonts()


@pytest.mark.parametrize("have, chosen", [(frozenset({"B", "C"}), "B"), (None, "A"), (frozenset(), "C")])
def test_fonts_take_the_first_installed_candidate(monkeypatch, have, chosen):
    """Installed: the first that is; no fontconfig (Windows): the official face; none: the last resort."""
    monkeypatch.setattr("auditlib.outputs.county_report.installed_fonts", lambda: have)
    assert ReportFonts(body=("A", "B", "C")).resolve()["body"] == chosen


def test_report_renders_its_chinese_text_in_libreoffice(built, to_pdf):
    import pdfplumber

    inp, _, report = built
    with pdfplumber.open(to_pdf(report)) as pdf:
        text = "".join((p.extract_text() or "") for p in pdf.pages)
        fonts = {c["fontname"] for p in pdf.pages for c in p.chars if "\u4e00" <= c["text"] <= "\u9fff"}
        assert all(p.chars for p in pdf.pages)  # no blank page
    flat = re.sub(r"\s+", "", text)
    for words in ("检查情况报告", PROJECT["name"], "县教育局", "尚待核实的疑点", "疑点及问题清单"):
        assert words in flat, words
    assert fonts and all("CJK" in f or "Song" in f or "Hei" in f or "Kai" in f or "Fang" in f for f in fonts), fonts


def test_without_project_or_findings_both_files_are_still_written(tmp_path):
    run_dir = make_run(tmp_path, rows=[], project=None, with_register=False)
    inp = load_county_input(run_dir, county_units=len(UNITS))
    assert inp.project == {} and inp.whole_county
    xlsx = write_county_findings(inp, run_dir / FINDINGS_XLSX)
    _, body = _table(openpyxl.load_workbook(xlsx)["清单"], "序号")
    assert [r["序号"] for r in body] == ["本批次未发现疑点。"]
    text = _docx_text(write_county_report(inp, run_dir / REPORT_DOCX))
    assert "（未填写）" in text and f"全县 {len(UNITS)} 个单位" in text
    assert "尚无经核实属实的问题" in text and "发现疑点 0 条，涉及金额 0.00 元" in text


# -- writing both into a run ----------------------------------------------------------------

def test_a_failing_deliverable_is_reported_and_costs_nothing_else(tmp_path, monkeypatch, caplog):
    run_dir = make_run(tmp_path)

    def broken(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr("auditlib.outputs.county_report.write_county_report", broken)
    record = write_county(run_dir)
    assert record["xlsx"] == FINDINGS_XLSX and record["docx"] is None
    assert [e["file"] for e in record["errors"]] == [REPORT_DOCX] and "boom" in record["errors"][0]["error"]
    assert (run_dir / FINDINGS_XLSX).is_file() and not (run_dir / REPORT_DOCX).exists()
    assert not list(run_dir.glob("*.part")) and not list(run_dir.glob(".*.part"))
    assert REPORT_DOCX in caplog.text
    assert county_mod.write_county(run_dir.parent / "nowhere")["errors"]  # no run at all: reported, not raised


def test_a_long_appendix_keeps_every_problem_and_the_largest_leads(built, tmp_path, monkeypatch):
    inp, _, _ = built
    monkeypatch.setattr("auditlib.outputs.county_report.APPENDIX_ROWS", 3)
    d = docx.Document(str(write_county_report(inp, tmp_path / REPORT_DOCX)))
    rows = d.tables[-1].rows[1:]
    assert [r.cells[5].text for r in rows].count("属实") == 1 and [r.cells[5].text for r in rows].count("已整改") == 1
    largest = max((r for r in ROWS if _status(*r[1:4]) not in ("confirmed", "rectified")), key=lambda r: _d(r[4]))
    assert any(c.text == largest[6] for r in rows for c in r.cells)
    assert any(f"共 {len(ROWS)} 条，此处列出 3 条" in p.text for p in d.paragraphs)


def test_with_a_baseline_the_list_says_what_is_new_and_still_prints_legibly(built, tmp_path, to_pdf):
    import dataclasses

    import pdfplumber

    inp, _, _ = built
    changed = inp.findings.assign(change=["new" if i % 2 else "persisting" for i in range(len(inp.findings))])
    xlsx = write_county_findings(dataclasses.replace(inp, findings=changed, baseline="r0"), tmp_path / FINDINGS_XLSX)
    ws = openpyxl.load_workbook(xlsx)["清单"]
    labels, body = _table(ws, "序号")
    assert sorted({r["对比上次"] for r in body}) == ["仍存在", "新增"]
    printed = ws.print_area if isinstance(ws.print_area, str) else ws.print_area[0]
    last = re.search(r":\$?([A-Z]+)\$?\d+$", printed)[1]
    assert openpyxl.utils.column_index_from_string(last) == labels.index("对比上次") + 1  # 依据, 处理建议 not printed
    with pdfplumber.open(to_pdf(xlsx)) as pdf:
        assert min(c["size"] for p in pdf.pages for c in p.chars if c["text"].strip()) >= 7.95


def test_the_run_records_a_failed_deliverable_in_its_manifest_and_exits_1(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from auditlib.batch import run as batch
    from auditlib.batch.manifest import Manifest

    run_dir = make_run(tmp_path)
    manifest = Manifest.load(run_dir)
    plan = SimpleNamespace(run_dir=run_dir, params=None, decisions=None, lang="zh")
    monkeypatch.setattr("auditlib.outputs.county_findings.write_county_findings",
                        lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    record = batch._write_county(plan, manifest)
    saved = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))["county"]
    assert saved == record and saved["xlsx"] is None and saved["docx"] == REPORT_DOCX
    assert "disk full" in saved["errors"][0]["error"]
    result = batch.RunResult(run_id="r1", run_dir=run_dir, tasks=[], findings=0, index=run_dir / "index.html",
                             county_ok=not record["errors"])
    assert result.exit_code == 1
