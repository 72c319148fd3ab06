"""The evidence workbook: sheets, typed cells, inert hostile text, both languages."""
from __future__ import annotations

import dataclasses
import datetime as dt
import zipfile
from decimal import Decimal

import openpyxl
from openpyxl.cell.cell import MergedCell
import pandas as pd
import pytest

from auditlib.outputs import workbook
from auditlib.rules.catalogue import all_rules
from auditlib.rules.engine import inspect
from auditlib.rules.identity import finding_id
from auditlib.ingest.load import ingest
from auditlib.synth.county import generate
from auditlib.outputs.verification import exposure
from auditlib.review import form
from auditlib.outputs.workbook import write_workbook

RULES = all_rules()

HOSTILE = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "http://evil.example/x"]
SF_RULES = [r.id for r in RULES if r.inspection == "slush_funds"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wb")
    generate(tmp / "s", units=8, seed=2024)
    report = ingest(tmp / "s", tmp / "a.duckdb")
    sources = [{"file": f.file, "table": f.table, "rows": f.rows_loaded, "sha256": f.sha256}
               for f in report.files if f.status == "loaded"]
    return inspect(tmp / "a.duckdb", "slush_funds"), sources


def _slice(ins, unit):
    findings = ins.findings[ins.findings["unit_code"] == unit].reset_index(drop=True)
    evidence = {k: v[v["unit_code"] == unit].reset_index(drop=True) for k, v in ins.evidence.items()}
    return findings, evidence


def _write(path, ins, sources, unit="0011", findings=None, evidence=None, **kw):
    f, ev = _slice(ins, unit)
    args = {"unit_code": unit, "unit_name": "县教育局", "inspection": "slush_funds",
            "findings": f if findings is None else findings, "evidence": ev if evidence is None else evidence,
            "params": ins.params, "run_id": "20241231T000000", "sources": sources}
    args.update(kw)
    return write_workbook(path, **args)


def _sheets(evidence, last="疑点核实清单", detail="{}-明细", cover=("封面", "汇总")):
    """The sheet names a workbook has: cover, summary, each rule and, with findings, its detail."""
    names = list(cover)
    for rid in SF_RULES:
        names.append(rid)
        if len(evidence.get(rid, [])):
            names.append(detail.format(rid))
    return names + ([last] if last else [])


def _header(ws):
    """(header row number, {label: column index}) of a rule sheet's table."""
    for row in ws.iter_rows(min_row=1, max_row=12):
        if row[0].value in ("序号", "No."):
            return row[0].row, {c.value: c.column for c in row if c.value is not None}
    raise AssertionError(f"no table header on {ws.title}")


def _cells(wb):
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                yield ws, c


def test_sheets_cover_and_atomic_write(tmp_path, sample):
    ins, sources = sample
    path = tmp_path / "out" / "0011" / "slush_funds.xlsx"
    assert _write(path, ins, sources) == path
    assert sorted(p.name for p in path.parent.iterdir()) == ["slush_funds.xlsx"]  # no .part left
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == _sheets(_slice(ins, "0011")[1])  # nothing confirmed: no 取证单
    cover = {(c.row, c.column): c for _, c in _cells(wb) if _.title == "封面"}
    values = [c.value for c in cover.values()]
    code = [c for c in cover.values() if c.value == "0011"]
    assert code and all(c.data_type == "s" for c in code)
    for src in sources:
        assert src["sha256"] in values and src["file"] in values
    assert dt.datetime(2024, 12, 31) in values  # cut-off as a real date
    assert {"编制人", "核实人", "复核人", "日期", "20241231T000000"} <= set(values)
    # the parameters applied, per rule
    assert "SF05 同一收款人短期内多笔支付合计达到限额" in values and "window_days" in values


def test_summary_counts_and_amounts_match_findings(tmp_path, sample):
    ins, sources = sample
    findings, _ = _slice(ins, "0011")
    wb = openpyxl.load_workbook(_write(tmp_path / "w.xlsx", ins, sources))
    ws = wb["汇总"]
    head = next(r for r in ws.iter_rows() if r[0].value == "规则编号")
    col = {c.value: c.column - 1 for c in head}
    n, money = col["疑点(条)"], col["待核实金额(元)"]  # without a register every finding is 待核实
    rows = {r[0].value: r for r in ws.iter_rows() if r[0].value in SF_RULES}
    assert list(rows) == SF_RULES
    for rid, r in rows.items():
        mine = findings[findings["rule_id"] == rid]
        assert r[n].value == len(mine) and r[n].data_type == "n"
        assert r[col["待核实(条)"]].value == len(mine)
        assert r[col["属实(条)"]].value == r[col["排除(条)"]].value == 0
        amounts = [a for a in exposure(mine) if a is not None]  # exposure (amount when absent)
        if amounts:
            assert r[money].data_type == "n" and "0.00" in r[money].number_format
            assert Decimal(repr(r[money].value)).quantize(Decimal("0.01")) == sum(amounts)
        else:
            assert r[money].value is None
    total = next(r for r in ws.iter_rows() if r[0].value == "合计")
    assert total[n].value == len(findings)


def test_rule_sheets_typed_cells_and_frozen_header(tmp_path, sample):
    ins, sources = sample
    _, evidence = _slice(ins, "0011")
    wb = openpyxl.load_workbook(_write(tmp_path / "w.xlsx", ins, sources))
    for rid in SF_RULES:
        ws = wb[rid]
        assert ws.freeze_panes is not None
        if len(evidence[rid]):
            assert ws.auto_filter.ref
        else:
            assert any(c.value == "未发现疑点。" for row in ws.iter_rows() for c in row)
    ev = evidence["SF05"]
    assert len(ev) >= 2
    # the rule sheet: the form and the key columns, at most ten of them
    ws = wb["SF05"]
    head, cols = _header(ws)
    assert {"疑点编号", "核实结论", "核实说明", "认定金额", "证据行", "金额(元)", "情况说明", "来源"} <= set(cols)
    assert len(cols) <= 10 and "收款人" not in cols
    assert ws.freeze_panes == f"C{head + 1}"
    for i, rec in enumerate(ev.itertuples(index=False)):
        row = head + 1 + i
        money = ws.cell(row, cols["金额(元)"])
        assert money.data_type == "n" and "0.00" in money.number_format
        assert Decimal(repr(money.value)).quantize(Decimal("0.01")) == rec.amount
        assert ws.cell(row, cols["证据行"]).value == rec.ref
        assert ws.cell(row, cols["来源"]).value == f"{ev['_file'].iloc[i]} 第 {ev['_line'].iloc[i]} 行"
        assert ws.cell(row, cols["核实结论"]).value is None  # no register: nothing decided
        assert ws.cell(row, cols["疑点编号"]).value == finding_id("SF05", "0011", rec.ref)
    # every evidence column, typed, on the rule's detail sheet
    ws = wb["SF05-明细"]
    assert not str(ws.cell(1, 1).value).split()[0] in SF_RULES  # the importer does not take it for a rule sheet
    head, cols = _header(ws)
    assert {"证据行", "支付日期", "收款人", "支付单号", "来源"} <= set(cols)
    assert "核实结论" not in cols
    for i, rec in enumerate(ev.itertuples(index=False)):
        row = head + 1 + i
        assert ws.cell(row, cols["证据行"]).value == rec.ref  # the same row as on the rule sheet
        day = ws.cell(row, cols["支付日期"])
        assert isinstance(day.value, dt.datetime) and day.value.date() == rec.paid_on
        assert day.number_format == "yyyy-mm-dd"
        assert ws.cell(row, cols["收款人"]).value == rec.payee_name
    # account numbers stay text (no float rounding of 19 digits)
    ws = wb["SF04-明细"]
    head, cols = _header(ws)
    acct = ws.cell(head + 1, cols["银行账号"])
    assert acct.data_type == "s" and acct.value == evidence["SF04"]["account_no"].iloc[0]


def test_certificate_lists_every_finding(tmp_path, sample):
    ins, sources = sample
    findings, _ = _slice(ins, "0011")
    confirmed = findings.assign(status="confirmed")  # every finding verified 属实
    wb = openpyxl.load_workbook(_write(tmp_path / "w.xlsx", ins, sources, findings=confirmed))
    rules = list(dict.fromkeys(findings["rule_id"]))
    assert [n for n in wb.sheetnames if n.startswith("取证单")] == [f"取证单-{r}" for r in SF_RULES if r in rules]
    for rid in rules:
        ws = wb[f"取证单-{rid}"]
        text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
        for fid in findings.loc[findings["rule_id"] == rid, "finding_id"]:
            assert fid in text
        for label in ("被检查单位意见：", "被检查单位负责人（签名）：", "检查人员（签名）：", "复核人（签名）：",
                      "被检查单位（盖章）：", "证据提供单位", "附件页数", "县教育局（0011）", "审计（检查）取证单"):
            assert label in text, (rid, label)
    assert "疑点核实清单" not in wb.sheetnames


def test_hostile_text_is_stored_as_plain_strings(tmp_path, sample):
    ins, sources = sample
    findings, evidence = _slice(ins, "0011")
    ev = evidence["SF09"].copy()
    assert len(ev)
    ev = pd.concat([ev] * len(HOSTILE), ignore_index=True)
    ev["payee_name"] = HOSTILE
    ev["memo"] = HOSTILE[::-1]
    ev["detail"] = HOSTILE
    evidence["SF09"] = ev
    findings = findings.copy()
    findings["detail"] = HOSTILE[0]
    hostile_sources = sources + [{"file": HOSTILE[1], "table": HOSTILE[2], "rows": 1, "sha256": HOSTILE[4]}]
    path = _write(tmp_path / "h.xlsx", ins, hostile_sources, findings=findings, evidence=evidence,
                  unit_name=HOSTILE[0], run_id=HOSTILE[3])
    wb = openpyxl.load_workbook(path)
    seen = set()
    for ws, c in _cells(wb):
        assert c.data_type != "f", (ws.title, c.coordinate, c.value)
        if c.value in HOSTILE:
            assert c.data_type == "s"
            seen.add(c.value)
    assert seen == set(HOSTILE)
    for ws in wb.worksheets:
        assert not ws._hyperlinks, ws.title
    ws = wb["SF09-明细"]
    head, cols = _header(ws)
    cell = ws.cell(head + 1, cols["收款人"])
    assert cell.value == HOSTILE[0] and cell.quotePrefix  # Excel shows it as text even when retyped
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            xml = z.read(name).decode("utf-8")
            if name.startswith("xl/worksheets/sheet"):
                assert "<f>" not in xml and "<f " not in xml, name
                assert "<hyperlink" not in xml, name
            assert 'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"' \
                not in xml, name


def test_english_labels(tmp_path, sample):
    ins, sources = sample
    wb = openpyxl.load_workbook(_write(tmp_path / "en.xlsx", ins, sources, lang="en"))
    assert wb.sheetnames == _sheets(_slice(ins, "0011")[1], "Findings to verify", "{}-detail", ("Cover", "Summary"))
    values = {c.value for _, c in _cells(wb)}
    assert {"Unit code", "Cut-off date", "Prepared by", "Verified by", "Reviewed by", "No.", "Finding id",
            "Conclusion", "Explanation", "Confirmed amount", "Amount (yuan)", "high"} <= values
    assert not any(isinstance(v, str) and v in ("核实结论", "封面", "编制人") for v in values)
    confirmed = _slice(ins, "0011")[0].assign(status="confirmed")
    wb = openpyxl.load_workbook(_write(tmp_path / "en2.xlsx", ins, sources, lang="en", findings=confirmed))
    assert wb.sheetnames[-1].startswith("Certificate-")
    assert "Opinion of the inspected unit:" in {c.value for _, c in _cells(wb)}


def test_empty_inspection_and_unit_override(tmp_path, sample):
    ins, _ = sample
    params = dataclasses.replace(ins.params, units={"0012": {"IF01": {"min_amount": Decimal(20000)}}})
    empty = pd.DataFrame(columns=["inspection", "rule_id", "unit_code", "ref", "amount", "severity", "title",
                                  "detail"])
    path = write_workbook(tmp_path / "0012" / "idle_funds.xlsx", unit_code="0012", unit_name="某单位",
                          inspection="idle_funds", findings=empty, evidence={}, params=params,
                          run_id="r", sources=[])
    wb = openpyxl.load_workbook(path)
    rules = [r.id for r in RULES if r.inspection == "idle_funds"]
    assert wb.sheetnames == ["封面", "汇总", *rules, "疑点核实清单"]  # no findings: no detail sheets
    for rid in rules:
        assert any(c.value == "未发现疑点。" for row in wb[rid].iter_rows() for c in row)
    code = [c for row in wb["封面"].iter_rows() for c in row if c.value == "0012"]
    assert code and code[0].data_type == "s"
    # the override is the value shown for IF01 min_amount, and marked
    row = next(r for r in wb["封面"].iter_rows() if r[0].value and str(r[0].value).startswith("IF01")
               and r[1].value == "min_amount")
    assert row[3].value == 20000 and row[3].data_type == "n" and row[4].value == "是"
    summary = [r for r in wb["汇总"].iter_rows() if r[0].value in rules]
    assert [r[3].value for r in summary] == [0] * len(rules)


def test_failed_write_leaves_nothing(tmp_path, sample, monkeypatch):
    ins, sources = sample

    def boom(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(workbook, "_certificate", boom)
    with pytest.raises(RuntimeError):
        _write(tmp_path / "x.xlsx", ins, sources)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- the round-trip form (CONTRACT §6)

FORM = [h[0] for h in form.FORM_COLUMNS]  # 疑点编号 核实结论 核实说明 认定金额
FILL = "FF" + form.EDITABLE_FILL.lstrip("#").upper()


def _decided(findings):
    """The findings with the register's columns, as apply_register gives them: by position,
    confirmed (with a 认定金额), dismissed, rectified, open, ..."""
    cycle = ["confirmed", "dismissed", "rectified", "open"]
    status = [cycle[i % 4] for i in range(len(findings))]
    reason = {"confirmed": "经核实属实", "dismissed": "系正常业务", "rectified": "已收回", "open": ""}
    return findings.assign(
        status=status, status_reason=[reason[s] for s in status],
        confirmed_amount=[Decimal("1234.50") if s == "confirmed" else None for s in status],
        decided_by="张三", decided_at="2025-01-02T10:00:00+08:00")


def _form_rows(ws):
    """{finding_id: {header: cell}} of a rule sheet's form, found as the importer finds it."""
    head, cols = _header(ws)
    assert form.REF_HEADER[0] in cols and set(FORM) <= set(cols)
    out = {}
    for r in range(head + 1, ws.max_row + 1):
        fid = ws.cell(r, cols["疑点编号"]).value
        if not fid:
            break
        out[fid] = {h: ws.cell(r, cols[h]) for h in cols}
    return out


def test_form_cells_are_the_only_unlocked_ones_and_every_sheet_is_protected(tmp_path, sample):
    ins, sources = sample
    findings, evidence = _slice(ins, "0011")
    wb = openpyxl.load_workbook(_write(tmp_path / "f.xlsx", ins, sources))
    for ws in wb.worksheets:
        p = ws.protection
        assert p.sheet and not p.password, ws.title  # protected, without a password
        assert p.autoFilter is False and p.sort is False and p.formatColumns is False  # still allowed
        unlocked = [c for row in ws.iter_rows() for c in row if c.protection.locked is False
                    and not isinstance(c, MergedCell)]  # a merged range is its top-left cell
        assert all(c.fill.fgColor.rgb == FILL for c in unlocked), ws.title
        if ws.title in SF_RULES and not len(evidence[ws.title]):
            assert not unlocked, ws.title  # 未发现问题: nothing to fill in
        elif ws.title in SF_RULES:
            rows = _form_rows(ws)
            ev = evidence[ws.title]
            assert len(rows) == len(ev)
            editable = {c.coordinate for r in rows.values() for h in FORM[1:] for c in [r[h]]}
            assert {c.coordinate for c in unlocked} == editable, ws.title
            for r in rows.values():
                assert r["疑点编号"].protection.locked is not False  # the id is not for editing
                assert "0.00" in r["认定金额"].number_format
            assert set(rows) == {finding_id(ws.title, "0011", ref) for ref in ev["ref"]}
            assert ws.cell(1, 1).value.startswith(ws.title)  # the importer finds the rule here
        elif ws.title == "封面":
            labels = {ws.cell(c.row, 1).value for c in unlocked}
            assert labels == {"编制人", form.COVER_VERIFIER[0], form.COVER_REVIEWER[0], "审核意见"}
            names = [c for c in unlocked if ws.cell(c.row, 1).value != "审核意见"]
            assert {c.column for c in names} == {2, 4}  # the name and the date beside each label
        else:
            assert not unlocked, ws.title
    ws = wb["SF05"]
    (dv,) = [d for d in ws.data_validations.dataValidation if d.type == "list"]
    assert dv.formula1 == '"待核实,属实,排除,已整改"' and dv.showErrorMessage
    head, cols = _header(ws)
    column = openpyxl.utils.get_column_letter(cols["核实结论"])
    assert str(dv.sqref) == f"{column}{head + 1}:{column}{head + len(evidence['SF05'])}"


def test_cells_decided_in_the_register_are_prefilled(tmp_path, sample):
    ins, sources = sample
    findings, _ = _slice(ins, "0011")
    decided = _decided(findings)
    wb = openpyxl.load_workbook(_write(tmp_path / "p.xlsx", ins, sources, findings=decided))
    seen = set()
    for rec in decided.itertuples(index=False):
        cells = _form_rows(wb[rec.rule_id])[rec.finding_id]
        word = {"confirmed": "属实", "dismissed": "排除", "rectified": "已整改", "open": None}[rec.status]
        assert cells["核实结论"].value == word
        assert (cells["核实说明"].value or "") == rec.status_reason
        if rec.confirmed_amount is None:
            assert cells["认定金额"].value is None
        else:
            assert cells["认定金额"].data_type == "n" and Decimal(str(cells["认定金额"].value)) == Decimal("1234.5")
        assert all(cells[h].protection.locked is False for h in FORM[1:])
        seen.add(rec.status)
    assert seen == {"confirmed", "dismissed", "rectified", "open"}


def test_certificate_holds_only_confirmed_and_rectified_findings(tmp_path, sample):
    ins, sources = sample
    findings, _ = _slice(ins, "0011")
    decided = _decided(findings)
    wb = openpyxl.load_workbook(_write(tmp_path / "c.xlsx", ins, sources, findings=decided))
    assert "疑点核实清单" not in wb.sheetnames
    papers = [n for n in wb.sheetnames if n.startswith("取证单-")]
    matters = {r for r, s in zip(decided["rule_id"], decided["status"]) if s in ("confirmed", "rectified")}
    assert papers == [f"取证单-{r}" for r in SF_RULES if r in matters]  # one per confirmed matter
    text = "\n".join(str(c.value) for n in papers for row in wb[n].iter_rows() for c in row if c.value is not None)
    for rec in decided.itertuples(index=False):
        assert (rec.finding_id in text) == (rec.status in ("confirmed", "rectified")), (rec.ref, rec.status)
    assert "核实结论：属实" in text and "核实结论：已整改" in text and "经核实属实" in text
    assert "核实结论：排除" not in text and "核实结论：待核实" not in text
    for rid in matters:
        n = int(((decided["rule_id"] == rid) & decided["status"].isin(["confirmed", "rectified"])).sum())
        paper = "\n".join(str(c.value) for row in wb[f"取证单-{rid}"].iter_rows() for c in row if c.value)
        assert f"共 {n} 笔" in paper


def test_without_confirmed_findings_a_checklist_replaces_the_certificate(tmp_path, sample):
    ins, sources = sample
    findings, _ = _slice(ins, "0011")
    some = findings.assign(status=["dismissed"] + ["open"] * (len(findings) - 1),
                           status_reason=["系正常业务"] + [""] * (len(findings) - 1))
    wb = openpyxl.load_workbook(_write(tmp_path / "k.xlsx", ins, sources, findings=some))
    assert wb.sheetnames[-1] == "疑点核实清单" and "取证单" not in wb.sheetnames
    ws = wb["疑点核实清单"]
    values = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    assert some["finding_id"].iloc[0] not in values  # dismissed: not to verify
    for fid in some["finding_id"].iloc[1:]:
        assert fid in values
    assert not [c for row in ws.iter_rows() for c in row if c.protection.locked is False]  # a plain list


def test_summary_splits_counts_and_amounts_by_status(tmp_path, sample):
    ins, sources = sample
    findings, _ = _slice(ins, "0011")
    decided = _decided(findings)
    ws = openpyxl.load_workbook(_write(tmp_path / "s.xlsx", ins, sources, findings=decided))["汇总"]
    head = next(r for r in ws.iter_rows() if r[0].value == "规则编号")
    col = {c.value: c.column - 1 for c in head}
    assert "排除金额(元)" not in col  # dismissed findings are counted in no total
    total = next(r for r in ws.iter_rows() if r[0].value == "合计")
    exp = dict(zip(decided["finding_id"], exposure(decided)))

    def money(status):
        mine = decided[decided["status"] == status]
        vals = [Decimal("1234.50") if status == "confirmed" else exp[f] for f in mine["finding_id"]]
        vals = [v for v in vals if v is not None]
        return sum(vals, Decimal(0)) if vals else None

    for status, zh in (("open", "待核实"), ("confirmed", "属实"), ("rectified", "已整改"), ("dismissed", "排除")):
        assert total[col[f"{zh}(条)"]].value == int((decided["status"] == status).sum())
        if status != "dismissed":
            got = total[col[f"{zh}金额(元)"]].value
            want = money(status)
            assert (got is None and want is None) or Decimal(repr(got)).quantize(Decimal("0.01")) == want
    assert total[col["疑点(条)"]].value == len(decided)
    assert any("疑点" in str(c.value) for row in ws.iter_rows(max_row=3) for c in row)
    assert not any("问题" in str(c.value) for c in head)


def test_hostile_explanation_stays_inert_and_long_text_is_cut_with_a_marker(tmp_path, sample):
    ins, sources = sample
    findings, _ = _slice(ins, "0011")
    hostile = ['=HYPERLINK("http://evil.example","点我")', "<script>alert(1)</script>", "说" * (5 * 1024 * 1024)]
    n = len(findings)
    decided = findings.assign(status=["confirmed"] * n, status_reason=[hostile[i % 3] for i in range(n)])
    path = _write(tmp_path / "x.xlsx", ins, sources, findings=decided)
    assert path.stat().st_size < 4 * 1024 * 1024  # the 5 MB text was cut, not written whole
    wb = openpyxl.load_workbook(path)
    seen = set()
    for ws, c in _cells(wb):
        assert c.data_type != "f", (ws.title, c.coordinate)
        if isinstance(c.value, str) and c.value.startswith("说说说"):
            assert len(c.value) <= workbook.MAX_CELL_CHARS and "已截断" in c.value and "5242880" in c.value
            seen.add("long")
        elif c.value in hostile:
            assert c.data_type == "s"
            if c.value.startswith("="):
                assert c.quotePrefix
            seen.add(c.value)
    assert seen == {"long", hostile[0], hostile[1]}
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                xml = z.read(name).decode("utf-8")
                assert "<f>" not in xml and "<hyperlink" not in xml, name


def test_display_width_counts_wide_characters_twice_whatever_was_measured_before():
    """Remembered widths (labels recur on every sheet) are the widths measured afresh."""
    import unicodedata

    from auditlib.outputs.xlsx_cells import display_width

    def plain(text):
        return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)

    texts = ["", "abc 123", "资金", "沉淀资金 IF01（元）", "ＡＢ", "a\tb", "金额(元)"]
    for _ in range(2):
        assert [display_width(x) for x in texts] == [plain(x) for x in texts]
    assert display_width("资金") == 4 and display_width("ab") == 2


def _fitted_widths(tmp_path, columns: int) -> dict:
    """The widths ``fit_columns`` gives ``columns`` wide columns, two of them wrap columns."""
    import xlsxwriter

    from auditlib.outputs.xlsx_cells import Writer

    wb = xlsxwriter.Workbook(str(tmp_path / "w.xlsx"))
    w = Writer(wb, "zh")
    ws = w.add_sheet("S")
    for c in range(columns):
        w.text(ws, 0, c, "说" * 30)
    widths = w.fit_columns(ws, maximum=40, wrap={1: 12, 2: 16})
    wb.close()
    return widths


def test_fit_columns_gives_up_width_in_the_wrap_columns_until_the_page_holds_them(tmp_path):
    from auditlib.outputs.xlsx_cells import MIN_PRINT_SCALE, PAGE_PX, column_px

    widths = _fitted_widths(tmp_path, 8)
    budget = PAGE_PX["landscape"] / MIN_PRINT_SCALE
    # the wrap columns shrank as far as they may; the others kept their width
    assert widths[1] == 12 and widths[2] == 16 and all(widths[c] == 40 for c in (0, 3, 4, 5, 6, 7))
    assert sum(column_px(v) for v in widths.values()) > budget  # the rest does not fit: no more to give


def test_fit_columns_stops_shrinking_once_the_page_holds_the_columns(tmp_path):
    from auditlib.outputs.xlsx_cells import MIN_PRINT_SCALE, PAGE_PX, column_px

    widths = _fitted_widths(tmp_path, 4)
    total = sum(column_px(v) for v in widths.values())
    budget = PAGE_PX["landscape"] / MIN_PRINT_SCALE
    assert widths[0] == widths[3] == 40 and widths[1] >= 12 and widths[2] >= 16
    assert budget - column_px(1) < total <= budget  # one step more would have been one too many
