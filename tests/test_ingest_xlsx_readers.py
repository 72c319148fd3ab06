"""The two XLSX readers agree (issue 17): python-calamine (the default) and openpyxl (the reference,
and the fallback) give the same header and rows on every workbook here, and an ingest through
either, and through the XLSX fast path, gives the same tables, rejects and report.

Workbooks: every ``.xlsx`` of ``tests/badfiles`` and generated ones with date cells, serial
numbers in date columns, codes as text and as numbers, formulas with cached values and errors,
merged two-row headers, title rows, blank rows and columns, Chinese headers and hostile text.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pytest
import xlsxwriter

from auditlib.ingest import xlsx_fast
from auditlib.ingest.load import ingest
from auditlib.ingest.readers import XlsxReader, read_xlsx

CORPUS = Path(__file__).resolve().parent / "badfiles"

HOSTILE = ["=HYPERLINK(\"http://x\",\"点我\")", "+1", "-2", "@SUM(A1)", "含,逗号", "含\"引号\"", "多\n行",
           "\t制表符", "  前后空格  ", "emoji 😀", "合计", "本月合计", "[\"json\"]", "{\"a\": 1}", "\\反斜杠",
           "x" * 300]


# ---- workbooks ------------------------------------------------------------------------------------------


def _payments_openpyxl(path: Path) -> None:
    """Payments as openpyxl writes them: title rows, Chinese headers, typed and text cells, bad rows."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["某县财政局 支付明细"])
    ws.append(["导出日期：2024-12-31"])
    ws.append([])
    ws.append(["单位编码", "支付编号", "收款人", "收款账号", "支付金额", "支付日期", "验收日期", "付款期限",
               "是否中小企业", "摘要", "备用"])
    rows = [
        ["0012", "P1", "甲公司", "6222021234567890123", 1234.5, dt.datetime(2024, 3, 5), dt.date(2024, 3, 1), 30,
         "是", "办公费", None],
        ["0012", "P2", "乙公司", "6222021234567890124", 100, dt.datetime(2024, 3, 6, 9, 30), 45356, 60.0, True,
         "会议费", 7],
        [12, "P3", "丙", 6222021234, 0.1 + 0.2, "2024/3/7", "20240301", "30", "否", None, 3.5],
        ["0012", "P4", "丁", None, 100.125, dt.datetime(2024, 3, 8), None, None, None, "three decimals", None],
        ["0012", "P5", "戊", None, "1,234.50", "not a date", None, None, None, None, None],
        ["0012", "P6", "己", None, 10, dt.datetime(2150, 1, 1), None, 30.5, "maybe", None, None],
        ["0012", "P7", "庚", None, True, dt.time(9, 30), None, None, None, None, None],
        [None, None, None, None, None, None, None, None, None, None, None],
        ["0012", "P1", "duplicate", None, 1, dt.datetime(2024, 3, 9), None, None, None, None, None],
        ["", "合计", "", "", 1345.5, "", "", "", "", "", ""],
        ["0012", "P8", "辛", None, -99.99, 19000, None, None, 1, None, dt.datetime(2024, 1, 1, 8, 0)],
        ["0012", "P9", "壬", None, "12345678901234567", 80001, None, 2**40, 0, None, None],
        [" 0013 ", "P10", None, None, 5, dt.datetime(2024, 3, 10), None, None, None, None, None],
    ]
    for row in rows:
        ws.append(row)
    for i, text in enumerate(HOSTILE):
        ws.append(["0014", f"H{i}", text, None, i, dt.datetime(2024, 4, 1), None, None, None, text, text])
    wb.save(path)


def _payments_xlsxwriter(path: Path) -> None:
    """Payments as an export system writes them (xlsxwriter): a merged title, date formats, formulas
    with cached values and errors, numbers formatted as text, blank rows and a blank first column."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("支付明细")
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    dt_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    text_fmt = wb.add_format({"num_format": "@"})
    ws.merge_range("B2:H2", "某县财政国库集中支付明细（2024年度）")
    ws.write_row("B4", ["单位编码", "支付编号", "收款人", "支付金额", "支付日期", "申请日期", "备注"])
    r = 4
    for i in range(40):
        r += 1
        if i % 13 == 7:
            r += 1  # a blank row
        ws.write_string(r, 1, f"{i % 5:04d}")
        ws.write(r, 2, f"ZF{i:06d}")
        ws.write(r, 3, ["某某建设工程有限公司", "县第一印刷厂", "张三"][i % 3])
        if i % 10 == 3:
            ws.write_formula(r, 4, "=1/0", None, "#DIV/0!")
        elif i % 10 == 4:
            ws.write_formula(r, 4, "=NA()", None, "#N/A")
        elif i % 10 == 5:
            ws.write_formula(r, 4, "=100+0.5", None, 100.5)
        else:
            ws.write_number(r, 4, i * 1000.25 if i % 2 else i * 10, text_fmt if i % 7 == 0 else None)
        if i % 9 == 2:
            ws.write_formula(r, 5, "=NA()", None, "#N/A")
        elif i % 9 == 3:
            ws.write_number(r, 5, 45300 + i)  # a serial number, not formatted as a date
        else:
            ws.write_datetime(r, 5, dt.datetime(2024, 1, 1) + dt.timedelta(days=i, hours=i % 3 * 5),
                              dt_fmt if i % 3 else date_fmt)
        if i % 4 == 0:
            ws.write_datetime(r, 6, dt.datetime(2024, 1, 1) + dt.timedelta(days=i), date_fmt)
        ws.write(r, 7, HOSTILE[i % len(HOSTILE)].replace("\n", " "))
        if i % 11 == 10:
            ws.write_formula(r, 7, '="备"&"注"', None, "备注")
    wb.close()


def _ledger_merged(path: Path) -> None:
    """A ledger export with a two-row header (codes merged over both rows, 借方/贷方 over 金额/数量)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["单位编码", "凭证日期", "凭证号", "分录号", "科目编码", "借方", None, "贷方", None, "摘要"])
    ws.append([None, None, None, None, None, "金额", "数量", "金额", "数量", None])
    for col in "ABCDEJ":
        ws.merge_cells(f"{col}1:{col}2")
    ws.merge_cells("F1:G1")
    ws.merge_cells("H1:I1")
    ws.append(["0012", dt.datetime(2024, 3, 5), "记-1", 1, "1002", 1000.5, 2, None, None, "提现"])
    ws.append(["0012", dt.datetime(2024, 3, 5), "记-1", 2, 4001, None, None, 1000.5, 2, "提现"])
    ws.append([])
    ws.append(["0012", "2024-03-06", "记-2", "1", "1001", "1,000.00", None, None, None, "=SUM(F3:F4)"])
    ws.append(["0012", dt.datetime(2024, 3, 6), "记-2", 2.5, "1001", None, None, 1000, None, "bad line_no"])
    ws.append(["", "本月合计", "", "", "", 2000.5, None, 2000.5, None, ""])
    wb.save(path)


def _accounts_offset(path: Path) -> None:
    """Accounts starting at C3 with codes as numbers and as text; a chart sheet comes first."""
    wb = xlsxwriter.Workbook(str(path))
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": "=账户!$D$4:$D$6"})
    wb.add_chartsheet("图表").set_chart(chart)
    ws = wb.add_worksheet("账户")
    ws.write_row("C3", ["单位编码", "账号", "账户类型", "开户日期", "销户日期"])
    ws.write_row("C4", ["0012", "6222021234567890123", "基本户", "2020-01-01"])
    ws.write_row("C5", [12, 6222021234, "零余额账户"])
    ws.write_datetime("F5", dt.datetime(2019, 5, 6), wb.add_format({"num_format": "yyyy/m/d"}))
    ws.write_row("C6", ["0013", "62220299", "专用户", 43831, 43832.75])
    ws.write_row("C7", ["0014", "62220300", "unknown type", None, "2021年3月5日"])
    wb.close()


_SHEET_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>unit_code</t></is></c><c r="B1" t="inlineStr"><is><t>payment_id</t></is></c>
<c r="C1" t="inlineStr"><is><t>payee_name</t></is></c><c r="D1" t="inlineStr"><is><t>amount</t></is></c>
<c r="E1" t="inlineStr"><is><t>paid_on</t></is></c><c r="F1" t="inlineStr"><is><t>memo</t></is></c></row>
<row r="2"><c r="A2" t="inlineStr"><is><t>0012</t></is></c><c r="B2" t="inlineStr"><is><t>P1</t></is></c>
<c r="C2" t="inlineStr"><is><r><t>富</t></r><r><t>文本</t></r></is></c><c r="D2"><v>1.2345E2</v></c>
<c r="E2" s="1"><v>45356</v></c><c r="F2" t="b"><v>1</v></c></row>
<row r="3"><c r="A3" t="inlineStr"><is><t>0012</t></is></c><c r="B3" t="inlineStr"><is><t>P2</t></is></c>
<c r="C3" t="inlineStr"><is><t>乙</t></is></c><c r="D3"><v>12.50</v></c><c r="E3" t="e"><v>#VALUE!</v></c>
<c r="F3" t="str"><f>"a"&amp;"b"</f><v>ab</v></c></row>
<row r="5"><c r="A5" t="inlineStr"><is><t>0012</t></is></c><c r="B5" t="inlineStr"><is><t>P3</t></is></c>
<c r="C5" t="inlineStr"><is><t>丙</t></is></c><c r="D5" t="e"><v>#N/A</v></c><c r="E5" s="1"><v>45357.5</v></c>
<c r="F5" t="inlineStr"><is><t xml:space="preserve"> &lt;tag&gt; &amp; </t></is></c></row>
<row r="6"><c r="A6" t="inlineStr"><is><t>0012</t></is></c><c r="B6" t="inlineStr"><is><t>P4</t></is></c>
<c r="C6" t="inlineStr"><is><t>丁</t></is></c><c r="D6"><v>-0.5</v></c><c r="E6"><v>20240305</v></c></row>
</sheetData></worksheet>"""

_STYLES_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="1"><fill><patternFill patternType="none"/></fill></fills>
<borders count="1"><border/></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>
</styleSheet>"""


def _handmade(path: Path, sheet_xml: str = _SHEET_XML) -> None:
    """A workbook written by hand as other export tools write them: inline strings, rich text,
    numbers as ``1.2345E2``, error cells with and without formulas, no shared strings."""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>'),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="导出" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'styles" Target="styles.xml"/></Relationships>'),
        "xl/styles.xml": _STYLES_XML,
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(name, text)


def _long_number(path: Path) -> None:
    """A 19-digit account number stored as a number (a double cannot hold it: openpyxl keeps the digits)."""
    _handmade(path, _SHEET_XML.replace('<c r="E6"><v>20240305</v></c>', '<c r="E6"><v>20240305</v></c>'
                                       '<c r="F6"><v>6222021234567890123</v></c>'))


WORKBOOKS = {
    "payments_openpyxl.xlsx": _payments_openpyxl,
    "payments_export.xlsx": _payments_xlsxwriter,
    "ledger_merged.xlsx": _ledger_merged,
    "accounts_offset.xlsx": _accounts_offset,
    "payments_handmade.xlsx": _handmade,
    "payments_long_number.xlsx": _long_number,
}


@pytest.fixture(scope="module")
def books(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("books")
    for name, make in WORKBOOKS.items():
        make(folder / name)
    for path in CORPUS.glob("*.xlsx"):
        (folder / path.name).write_bytes(path.read_bytes())
    return folder


def _read(path: Path, reader: XlsxReader):
    raw = read_xlsx(path, reader) if path.read_bytes()[:2] == b"PK" else None
    if raw is None:
        return None
    return raw.header, raw.header_line, raw.header_alts, list(raw.rows)


def _typed(rows):
    """Rows with each cell's type; trailing empty cells left out (openpyxl pads a row to the sheet's
    ``<dimension>`` when it has one, calamine to the cells it found: the pipeline pads rows itself)."""
    out = []
    for line, values in rows:
        values = list(values)
        while values and values[-1] is None:
            values.pop()
        out.append((line, [(type(v).__name__, v) for v in values]))
    return out


# ---- the readers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(WORKBOOKS) + [p.name for p in CORPUS.glob("*.xlsx")])
def test_both_readers_give_the_same_header_and_rows(books, name):
    path = books / name
    ours, ref = _read(path, XlsxReader.CALAMINE), _read(path, XlsxReader.OPENPYXL)
    if ref is None:  # not a workbook (CSV text named .xlsx): neither reader is asked
        return
    assert ours[:3] == ref[:3]
    assert _typed(ours[3]) == _typed(ref[3])  # same values of the same types, on the same lines


def test_cells_come_back_as_the_pipeline_expects(books):
    header, line, _alts, rows = _read(books / "payments_export.xlsx", XlsxReader.CALAMINE)
    assert line == 2 and header[1] == "某县财政国库集中支付明细（2024年度）"  # the title; the header is found later
    assert rows[0] == (4, [None, "单位编码", "支付编号", "收款人", "支付金额", "支付日期", "申请日期", "备注"])
    cells = {r[1][2]: r[1] for r in rows}
    first = cells["ZF000000"]
    assert first[1] == "0000" and first[4] == 0 and type(first[4]) is int  # code as text, a whole number an int
    assert first[5] == dt.datetime(2024, 1, 1) and first[6] == dt.datetime(2024, 1, 1)  # date cells: datetime
    assert cells["ZF000003"][4] == "#DIV/0!" and cells["ZF000004"][4] == "#N/A"  # errors, never empty
    assert cells["ZF000003"][5] == 45303  # a serial number stays a number
    assert cells["ZF000001"][4] == 1000.25 and cells["ZF000005"][4] == 100.5  # a formula's cached value


def test_a_long_whole_number_is_read_by_openpyxl_with_every_digit(books):
    _h, _l, _a, rows = _read(books / "payments_long_number.xlsx", XlsxReader.CALAMINE)
    assert rows[-1][1][5] == 6222021234567890123


def test_calamine_reads_a_carriage_return_that_openpyxl_leaves_escaped(tmp_path):
    """The one known difference: xlsxwriter (as Excel) writes CR as ``_x000D_``; calamine gives the
    text back, openpyxl's read-only mode leaves the escape in it."""
    wb = xlsxwriter.Workbook(str(tmp_path / "x.xlsx"))
    wb.add_worksheet().write_row(0, 0, ["a", "b"])
    wb.worksheets()[0].write_row(1, 0, ["x\r\ny", "1"])
    wb.close()
    ours = _read(tmp_path / "x.xlsx", XlsxReader.CALAMINE)[3]
    ref = _read(tmp_path / "x.xlsx", XlsxReader.OPENPYXL)[3]
    assert ours == [(2, ["x\r\ny", "1"])] and ref == [(2, ["x_x000D_\ny", "1"])]


def test_the_reader_can_be_chosen_by_environment(monkeypatch, books):
    from auditlib.ingest import readers

    monkeypatch.setenv("AUDITLIB_XLSX_READER", "openpyxl")
    assert readers.xlsx_reader() is XlsxReader.OPENPYXL
    assert not xlsx_fast.wants_fast(books / "payments_export.xlsx", False)
    monkeypatch.setenv("AUDITLIB_XLSX_READER", "calamine")
    assert readers.xlsx_reader() is XlsxReader.CALAMINE


# ---- ingest: openpyxl row path = calamine row path = calamine fast path ---------------------------------------


_TABLE_NAMES = {"payments_openpyxl.xlsx": "payments_a.xlsx", "payments_export.xlsx": "payments_b.xlsx",
                "payments_handmade.xlsx": "payments_c.xlsx", "payments_long_number.xlsx": "payments_d.xlsx",
                "ledger_merged.xlsx": "ledger.xlsx", "accounts_offset.xlsx": "accounts.xlsx"}


def _snapshot(db: Path) -> tuple:
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = {t: con.execute(f"SELECT * FROM {t} ORDER BY _file, _line").fetchall()
                  for t in ("payments", "ledger", "accounts")}
    finally:
        con.close()
    with open(db.parent / "rejects.csv", encoding="utf-8-sig", newline="") as fh:
        rejects = list(csv.DictReader(fh))
    report = json.loads((db.parent / "ingest_report.json").read_text(encoding="utf-8"))
    for rec in report:
        rec.pop("seconds", None)
    return tables, rejects, report


@pytest.mark.parametrize("name", list(_TABLE_NAMES))
def test_ingest_is_the_same_through_either_reader_and_either_path(books, tmp_path, monkeypatch, name):
    data = tmp_path / "data"
    data.mkdir()
    (data / _TABLE_NAMES[name]).write_bytes((books / name).read_bytes())
    snaps = {}
    for label, reader, threshold in (("openpyxl", "openpyxl", 10**15), ("calamine-rows", "calamine", 10**15),
                                     ("calamine-fast", "calamine", 0)):
        monkeypatch.setenv("AUDITLIB_XLSX_READER", reader)
        monkeypatch.setattr(xlsx_fast, "FAST_MIN_BYTES", threshold)
        db = tmp_path / label / "a.duckdb"
        db.parent.mkdir()
        ingest(data, db)
        snaps[label] = _snapshot(db)
    assert snaps["calamine-rows"] == snaps["openpyxl"]
    assert snaps["calamine-fast"] == snaps["openpyxl"]
    tables, rejects, report = snaps["openpyxl"]
    assert report[0]["rows_read"] > 0 and sum(len(v) for v in tables.values()) > 0


def test_fast_path_loads_typed_cells_exactly(books, tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_fast, "FAST_MIN_BYTES", 0)
    calls = []
    real = xlsx_fast._insert
    monkeypatch.setattr(xlsx_fast, "_insert", lambda *a, **k: calls.append(1) or real(*a, **k))
    data = tmp_path / "data"
    data.mkdir()
    (data / "payments.xlsx").write_bytes((books / "payments_openpyxl.xlsx").read_bytes())
    db = tmp_path / "a.duckdb"
    ingest(data, db)
    assert calls  # the fast path loaded it
    tables, rejects, report = _snapshot(db)
    got = {r[1]: r for r in tables["payments"]}
    con = duckdb.connect(str(db), read_only=True)
    cols = [c[0] for c in con.execute("SELECT * FROM payments LIMIT 0").description]
    con.close()
    p1 = dict(zip(cols, got["P1"]))
    assert p1["unit_code"] == "0012" and p1["payee_account"] == "6222021234567890123"
    assert str(p1["amount"]) == "1234.50" and p1["paid_on"] == dt.date(2024, 3, 5) and p1["_line"] == 5
    p2 = dict(zip(cols, got["P2"]))  # a serial number in a date column, a whole float, a bool cell
    assert p2["accepted_on"] == dt.date(2024, 3, 5) and p2["term_days"] == 60 and p2["payee_is_sme"] is True
    assert str(dict(zip(cols, got["P3"]))["amount"]) == "0.30"  # 0.1 + 0.2 within the float tolerance
    reasons = {(r["line"], r["column"]): r["reason"] for r in rejects}
    assert reasons[("8", "amount")] == "more than two decimals: 100.125"  # the float's reason, not a text's
    assert reasons[("10", "paid_on")] == "year outside 1900..2100: datetime.datetime(2150, 1, 1, 0, 0)"
    assert reasons[("11", "paid_on")] == "time without a date: datetime.time(9, 30)"
    assert reasons[("11", "amount")] == "not a money amount: True"
    assert reasons[("13", "payment_id")] == "duplicate key"
    assert reasons[("16", "amount")] == "money amount too large: '12345678901234567'"
    assert [int(r["line"]) for r in rejects] == sorted(int(r["line"]) for r in rejects)  # in line order
    rec = report[0]
    assert (rec["rows_read"], rec["rows_loaded"], rec["rows_subtotal"], rec["rows_rejected"]) == (28, 16, 3, 9)
    assert rec["encoding"] is None and any("title line" in w for w in rec["warnings"])


def test_error_cells_are_found_across_chunk_boundaries(books):
    from auditlib.ingest.xlsx_parts import first_worksheet, scan_sheet

    with zipfile.ZipFile(books / "payments_export.xlsx") as zf:
        part = first_worksheet(zf)
        whole = scan_sheet(zf, part.member)
        pieces = [scan_sheet(zf, part.member, chunk_size=size) for size in (7, 61, 997)]
    assert part.name == "支付明细" and len(whole.errors) >= 8 and whole.complete
    assert set(whole.errors.values()) == {"#DIV/0!", "#N/A"}
    assert all(p == whole for p in pieces)


def test_an_error_cell_without_an_address_is_left_to_openpyxl(tmp_path):
    from auditlib.ingest.xlsx_parts import first_worksheet, scan_sheet

    path = tmp_path / "payments.xlsx"
    _handmade(path, _SHEET_XML.replace('<c r="E3" t="e">', '<c t="e">'))
    with zipfile.ZipFile(path) as zf:
        assert not scan_sheet(zf, first_worksheet(zf).member).complete
    ours, ref = _read(path, XlsxReader.CALAMINE), _read(path, XlsxReader.OPENPYXL)
    assert _typed(ours[3]) == _typed(ref[3]) and ref[3][1][1][4] == "#VALUE!"
