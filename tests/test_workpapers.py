"""The evidence workbook as 审计工作底稿: the cover's elements fed from ``project:``, 索引号 on every
sheet and in the page header and footer, one 取证单 per confirmed matter stating the facts in
words, and what LibreOffice prints of it (text ≥ 8 pt, no blank page, the Chinese text there)."""
from __future__ import annotations

import dataclasses
import re
import warnings
import zipfile
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest

from auditlib.outputs import workpaper_index as wpi
from auditlib.outputs.workbook import write_workbook
from auditlib.review.apply import apply_register
from auditlib.review.importer import import_workbooks
from auditlib.review.register import Decision, Register
from auditlib.review.statuses import Status
from auditlib.rules.catalogue import rules_for
from auditlib.rules.engine import inspect

UNIT = "0011"
PROJECT = {"name": "2024年度财政资金专项检查", "team": "县财政局监督检查组", "period": "2024-01-01 至 2024-12-31",
           "members": ["张三", "李四"], "reviewer": "王五"}
#: the seven elements of an 审计工作底稿, as the cover labels them
ELEMENTS = ("审计（检查）项目名称", "审计（检查）事项名称", "审计过程", "审计结论", "审计人员（检查人员）", "编制人",
            "复核人", "审核意见", "索引号", "页码", "附件数量")
SF = [r.id for r in rules_for("slush_funds")]


@pytest.fixture(scope="module")
def county(sample_db):
    return inspect(sample_db, "slush_funds")


def _slice(county):
    f = county.findings[county.findings["unit_code"] == UNIT].reset_index(drop=True)
    ev = {k: v[v["unit_code"] == UNIT].reset_index(drop=True) for k, v in county.evidence.items()}
    return f, ev


def _decide(county, tmp_path, statuses: dict[str, Status]) -> pd.DataFrame:
    """The unit's findings after a register holding a decision for the first finding of each rule
    of ``statuses`` (rule id -> status), as ``auditlib run --register`` gives them."""
    f, _ = _slice(county)
    reg = Register(tmp_path / "register.jsonl")
    decisions = []
    for rid, status in statuses.items():
        rec = f[f["rule_id"] == rid].iloc[0]
        decisions.append(Decision(rec["finding_id"], rid, UNIT, rec["ref"], status,
                                  reason="系正常业务" if status is Status.DISMISSED else "经核实属实", by="张三",
                                  amount=Decimal("1000.00") if status is Status.CONFIRMED else None))
    reg.append(decisions)
    return apply_register(f, reg.latest())


def _write(county, path, findings=None, project=PROJECT, unit_name="县教育局", lang="zh"):
    f, ev = _slice(county)
    params = dataclasses.replace(county.params, project=dict(project))
    return write_workbook(path, unit_code=UNIT, unit_name=unit_name, inspection="slush_funds",
                          findings=f if findings is None else findings, evidence=ev, params=params, run_id="r1",
                          sources=[], lang=lang)


def _rows(ws):
    return [[c for c in row if c is not None] for row in ws.iter_rows(values_only=True)]


def _labelled(ws) -> dict:
    """{label in column A: the value beside it} of the cover (the first row of each label, as the
    importer reads it)."""
    out = {}
    for row in ws.iter_rows(max_col=2):
        if isinstance(row[0].value, str):
            out.setdefault(row[0].value, row[1].value)
    return out


def _text(ws) -> str:
    return "\n".join(str(v) for row in _rows(ws) for v in row)


# --------------------------------------------------------------------------- the cover

def test_cover_has_the_seven_elements_fed_from_the_project(county, tmp_path):
    decided = _decide(county, tmp_path, {"SF05": Status.CONFIRMED})
    wb = openpyxl.load_workbook(_write(county, tmp_path / "w.xlsx", findings=decided))
    cover = _labelled(wb["封面"])
    for label in ELEMENTS:
        assert label in cover, label
    assert cover["审计（检查）项目名称"] == PROJECT["name"]
    assert cover["检查组"] == PROJECT["team"] and cover["检查期间"] == PROJECT["period"]
    assert cover["审计人员（检查人员）"] == "张三、李四"
    assert cover["复核人"] == "王五"  # the reviewer's name, left editable
    assert cover["审计（检查）事项名称"] == "小金库专项检查：县教育局（0011）"
    assert cover["索引号"] == "0011-SF-00"
    # 附件数量: the 取证单 and evidence tables of this very workbook, counted
    certs = [n for n in wb.sheetnames if n.startswith("取证单-")]
    details = [n for n in wb.sheetnames if n.endswith("-明细")]
    assert certs == ["取证单-SF05"] and details
    assert cover["附件数量"] == f"{len(certs) + len(details)} 件（取证单 {len(certs)} 份，证据明细表 {len(details)} 张）"
    # 审计过程和结论: the rules run (their parameters below), the conclusion in the stage's words
    assert f"运用 {len(SF)} 条检查规则" in cover["审计过程"]
    f, _ = _slice(county)
    assert cover["审计结论"].startswith(f"发现疑点 {len(f)} 条，其中：")
    assert "经核实属实的问题 1 条，金额 1,000.00 元" in cover["审计结论"]
    params = [r for r in _rows(wb["封面"]) if r and str(r[0]).startswith("SF05 ")]
    assert {r[1] for r in params} == {p.name for p in rules_for("slush_funds")[SF.index("SF05")].params}
    # the index of every paper of the workbook, with its sheet
    index = {r[2]: r[0] for r in _rows(wb["封面"]) if len(r) == 3 and str(r[0]).startswith(UNIT + "-SF-")}
    assert set(index) == set(wb.sheetnames)


def test_cover_before_verification_says_leads_and_leaves_absent_values_blank(county, tmp_path):
    wb = openpyxl.load_workbook(_write(county, tmp_path / "w.xlsx", project={}))
    ws = wb["封面"]
    cover = _labelled(ws)
    for label in ("审计（检查）项目名称", "检查组", "检查期间", "审计人员（检查人员）", "编制人", "核实人", "复核人",
                  "审核意见"):
        assert cover[label] in (None, ""), label
    f, _ = _slice(county)
    assert cover["审计结论"].startswith(f"发现疑点 {len(f)} 条，涉及金额 ")
    assert "问题" not in cover["审计结论"].replace("方为问题", "")  # 问题 only for 属实
    assert cover["附件数量"].startswith(f"{sum(n.endswith('-明细') for n in wb.sheetnames)} 件（取证单 0 份")
    # the blanks to sign and date: editable, empty
    for row in ws.iter_rows():
        if row[0].value in ("编制人", "核实人", "复核人"):
            assert row[1].value is None and row[3].value is None
            assert row[1].protection.locked is False and row[3].protection.locked is False
            assert row[4].value == "签名："


# --------------------------------------------------------------------------- 索引号

def test_every_sheet_has_its_index_number_on_it_and_in_its_header(county, tmp_path):
    decided = _decide(county, tmp_path, {"SF05": Status.CONFIRMED, "SF06": Status.RECTIFIED})
    path = _write(county, tmp_path / "w.xlsx", findings=decided)
    wb = openpyxl.load_workbook(path)
    want = {"封面": "0011-SF-00", "汇总": "0011-SF-00-1", "SF05": "0011-SF-05", "SF05-明细": "0011-SF-05-1",
            "取证单-SF05": "0011-SF-05-2", "取证单-SF06": "0011-SF-06-2", "SF08": "0011-SF-08"}
    seen = {}
    for ws in wb.worksheets:
        header, footer = ws.oddHeader, ws.oddFooter
        index = re.search(r"索引号：(\S+)", header.right.text or "").group(1)
        assert re.fullmatch(r"0011-SF-\d\d(-[12])?", index), (ws.title, index)
        assert index in _text(ws), ws.title  # printed on the sheet itself
        assert "县教育局（0011）" in header.left.text
        assert "&P" in footer.center.text and "&N" in footer.center.text and index in footer.left.text
        seen[ws.title] = index
    assert len(set(seen.values())) == len(seen)  # one number per paper
    assert {k: seen[k] for k in want} == want
    # deterministic: the same data give the same numbers
    again = openpyxl.load_workbook(_write(county, tmp_path / "again.xlsx", findings=decided))
    assert {ws.title: re.search(r"索引号：(\S+)", ws.oddHeader.right.text).group(1) for ws in again.worksheets} == seen


def test_header_text_is_escaped():
    assert wpi.escape("A&B") == "A&&B"
    assert wpi.escape("&G&[Picture]x") == "＆G＆[Picture]x"  # not an image placeholder
    text = wpi.header("县教育&体育局" * 40, "标题", "001-SF-05")
    assert len(text) <= wpi.MAX_HEADER and "&&" in text
    assert wpi.paper(wpi.Kind.DETAIL, "001", "SF", "SF05", 5).index == "001-SF-05-1"
    assert wpi.prefix_of("delayed_payments") == "DP" and wpi.prefix_of("custom", ["XY1", "XY2"]) == "XY"


def test_a_unit_name_with_ampersands_prints_literally(county, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # xlsxwriter warns (and drops the header) on a bad one
        path = _write(county, tmp_path / "w.xlsx", unit_name="教育&体育局&G" + "长" * 300)
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
    header = re.search(r"<oddHeader>(.*?)</oddHeader>", xml).group(1)
    assert "教育&amp;&amp;体育局＆G" in header and "索引号：0011-SF-00" in header


# --------------------------------------------------------------------------- 取证单

def test_one_certificate_per_confirmed_matter_stating_the_facts(county, tmp_path):
    decided = _decide(county, tmp_path, {"SF05": Status.CONFIRMED, "SF06": Status.RECTIFIED,
                                         "SF04": Status.DISMISSED})
    wb = openpyxl.load_workbook(_write(county, tmp_path / "w.xlsx", findings=decided))
    assert [n for n in wb.sheetnames if n.startswith("取证单")] == ["取证单-SF05", "取证单-SF06"]
    assert "疑点核实清单" not in wb.sheetnames
    _, ev = _slice(county)
    for rid, word in (("SF05", "属实"), ("SF06", "已整改")):
        text = _text(wb[f"取证单-{rid}"])
        rec = decided[(decided["rule_id"] == rid) & (decided["status"] != "open")].iloc[0]
        row = ev[rid][ev[rid]["ref"] == rec["ref"]].iloc[0]
        # the facts in words: who, when, how much, to whom, the source file and line
        assert "县教育局（0011）" in text
        assert f"{row['paid_on'].year}年{row['paid_on'].month}月{row['paid_on'].day}日" in text
        assert f"{row['payee_name']}支付{row['amount']:,.2f} 元" in text
        assert f"来源：{row['_file']} 第 {row['_line']} 行" in text
        assert rec["ref"] not in text  # not the internal ref alone
        assert f"核实结论：{word}" in text and rec["finding_id"] in text
        # others of the rule, still open, are not on it
        for other in decided[(decided["rule_id"] == rid) & (decided["status"] == "open")]["finding_id"]:
            assert other not in text
        for label in ("审计（检查）取证单", "依据", "证据提供单位", "附件页数", "被检查单位意见：", "检查人员（签名）：",
                      "复核人（签名）：", "被检查单位负责人（签名）：", "被检查单位（盖章）：", "日期："):
            assert label in text, (rid, label)
        rule = next(r for r in rules_for("slush_funds") if r.id == rid)
        assert rule.basis in text
        if rule.advice("zh"):
            assert rule.advice("zh") in text
    assert "认定金额 1,000.00 元" in _text(wb["取证单-SF05"])


def test_without_a_confirmed_matter_the_checklist_stays(county, tmp_path):
    decided = _decide(county, tmp_path, {"SF04": Status.DISMISSED})
    wb = openpyxl.load_workbook(_write(county, tmp_path / "w.xlsx", findings=decided))
    assert wb.sheetnames[-1] == "疑点核实清单" and not [n for n in wb.sheetnames if n.startswith("取证单")]
    text = _text(wb["疑点核实清单"])
    f = decided[decided["status"] == "open"]
    assert all(fid in text for fid in f["finding_id"])
    assert decided[decided["status"] == "dismissed"]["finding_id"].iloc[0] not in text


def test_the_form_round_trip_still_works_beside_the_new_sheets(county, tmp_path):
    path = _write(county, tmp_path / "w.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["SF05"]
    head = next(r for r in ws.iter_rows(max_row=20) if r[0].value == "序号")
    col = {c.value: c.column for c in head}
    r = head[0].row + 1
    fid = ws.cell(r, col["疑点编号"]).value
    ws.cell(r, col["核实结论"]).value = "属实"
    ws.cell(r, col["认定金额"]).value = 88
    wb.save(tmp_path / "back.xlsx")
    reg = Register(tmp_path / "r.jsonl")
    got = import_workbooks([tmp_path / "back.xlsx"], reg).recorded
    assert [(d.finding_id, d.status, d.amount) for d in got] == [(fid, Status.CONFIRMED, Decimal("88.00"))]
    assert got[0].by == "王五（复核）"  # the project's reviewer, named on the cover


# --------------------------------------------------------------------------- printed

def test_printed_by_libreoffice_legibly_without_blank_pages(county, tmp_path, to_pdf):
    import pdfplumber

    decided = _decide(county, tmp_path, {"SF05": Status.CONFIRMED, "SF06": Status.RECTIFIED})
    path = _write(county, tmp_path / "w.xlsx", findings=decided)
    sheets = openpyxl.load_workbook(path).sheetnames
    with pdfplumber.open(to_pdf(path)) as pdf:
        pages = pdf.pages
        assert len(pages) >= len(sheets)
        text = []
        for i, page in enumerate(pages, start=1):
            body = [c for c in page.chars if 60 < c["top"] < page.height - 60]  # not the header/footer
            assert body, f"page {i} is blank"
            small = [c["text"] for c in page.chars if c["size"] < 8]
            assert not small, f"page {i}: text below 8 pt: {''.join(small)[:40]}"
            text.append(page.extract_text() or "")
    printed = "\n".join(text)
    for words in ("审计工作底稿", "审计（检查）项目名称", PROJECT["name"], "附件数量", "SF05 同一收款人",
                  "审计（检查）取证单", "被检查单位意见", "索引号：0011-SF-05-2", f"第 1 页 共 {len(pages)} 页"):
        assert words.replace(" ", "") in printed.replace(" ", ""), words
