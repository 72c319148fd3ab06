"""The ingest: encodings, headers, subtotals, rejects, exact money, re-ingest, checks, audit log."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from decimal import Decimal

import duckdb
import openpyxl
import pytest
from click.testing import CliRunner

from auditlib.ingest import schema
from auditlib.ingest.completeness import completeness_warnings
from auditlib.cli import main
from auditlib.ingest.load import ingest
from auditlib.ingest.readers import read_file


def _write_csv(path, rows, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _rejects(tmp_path):
    with open(tmp_path / "rejects.csv", encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _report(tmp_path):
    return {r["file"]: r for r in json.loads((tmp_path / "ingest_report.json").read_text(encoding="utf-8"))}


@pytest.fixture
def county(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    # GBK units file with Chinese headers and a leading-zero code
    _write_csv(data / "单位.csv", [
        ["单位编码", "单位名称", "主管部门编码", "备用"],
        ["0012", "县教育局", "001", "x"],
        ["0013", "县卫健委", "001", ""],
        ["", "无编码单位", "", ""],          # missing required value
        ["0012", "重复", "", ""],            # duplicate key
    ], encoding="gbk")
    # UTF-8 with BOM ledger: unbalanced voucher 记-2, subtotal row, bad date
    _write_csv(data / "ledger-0012.csv", [
        ["单位编码", "凭证日期", "凭证号", "分录号", "科目编码", "摘要", "借方金额", "贷方金额"],
        ["0012", "2024-03-05", "记-1", "1", "5001", "办公费", "0.10", ""],
        ["0012", "2024/3/5", "记-1", "2", "1011", "办公费", "0.20", ""],
        ["0012", "2024年3月5日", "记-1", "3", "1011", "办公费", "", "0.30"],
        ["0012", "20240306", "记-2", "1", "5001", "会议费", "￥1,234.50", ""],
        ["0012", "2024-03-06", "记-2", "2", "1011", "会议费", "", "1,000.00"],
        ["", "本月合计", "", "", "", "", "1,234.80", "1,000.30"],
        ["0012", "2024-13-01", "记-3", "1", "5001", "坏日期", "1", ""],
        ["0012", "2024-03-07", "记-4", "1", "5001", "=HYPERLINK()", "abc", ""],
    ], encoding="utf-8-sig")
    # budget and payments (plain UTF-8), payment with an unknown budget id
    _write_csv(data / "budget.csv", [
        ["unit_code", "budget_id", "amount", "issued_on"],
        ["0012", "B-1", "100000", "2024-01-10"],
    ])
    _write_csv(data / "支付明细.csv", [
        ["单位编码", "支付编号", "指标编号", "收款人", "支付金额", "支付日期", "是否中小企业"],
        ["0012", "P-1", "B-1", "某公司", "500.00", "2024-03-01", "是"],
        ["0012", "P-2", "B-404", "某公司", "600.00", "2024-03-02", ""],
        ["0012", "P-3", "", "某公司", "-700", "2024-03-03", "否"],
        ["", "合计", "", "", "400", "", ""],
    ])
    # XLSX bank statement: date cells, text code '0012', long account number, broken balance
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["单位编码", "账号", "流水号", "交易日期", "收入金额", "支出金额", "余额"])
    acct = "6222021234567890123"
    ws.append(["0012", acct, "T1", dt.datetime(2024, 3, 1), 1000, None, 1000])
    ws.append(["0012", acct, "T2", dt.datetime(2024, 3, 2, 9, 30), None, 100.5, 899.5])
    ws.append(["0012", acct, "T3", dt.date(2024, 3, 3), 10, None, 950])  # broken: 899.5 + 10 != 950
    ws.append(["0012", acct, "T4", "本月合计", 1010, 100.5, None])
    ws.append(["0012", acct, "T5", "not a date", 1, None, None])
    wb.save(data / "流水2024.xlsx")
    # a file that matches no table
    _write_csv(data / "notes.csv", [["a"], ["b"]])
    return data


def test_ingest_county(county, tmp_path):
    db = tmp_path / "audit.duckdb"
    before = _digests(county)
    report = ingest(county, db)
    assert _digests(county) == before  # inputs never modified

    recs = _report(tmp_path)
    for rec in recs.values():
        assert rec["rows_read"] == rec["rows_loaded"] + rec["rows_subtotal"] + rec["rows_rejected"]
    assert recs["单位.csv"]["encoding"] == "gbk"
    assert recs["ledger-0012.csv"]["encoding"] == "utf-8-sig"
    assert recs["budget.csv"]["encoding"] == "utf-8"
    assert recs["notes.csv"]["status"] == "skipped" and recs["notes.csv"]["table"] is None
    assert (recs["单位.csv"]["rows_loaded"], recs["单位.csv"]["rows_rejected"]) == (2, 2)
    led = recs["ledger-0012.csv"]
    assert (led["rows_read"], led["rows_loaded"], led["rows_subtotal"], led["rows_rejected"]) == (8, 5, 1, 2)
    assert recs["支付明细.csv"]["rows_subtotal"] == 1
    bank = recs["流水2024.xlsx"]
    assert (bank["rows_read"], bank["rows_loaded"], bank["rows_subtotal"], bank["rows_rejected"]) == (5, 3, 1, 1)
    assert bank["table"] == "bank_txns" and bank["sha256"] == before["流水2024.xlsx"]

    rejects = _rejects(tmp_path)
    by_reason = {(r["file"], r["line"], r["column"]): r for r in rejects}
    assert by_reason[("单位.csv", "4", "unit_code")]["reason"] == "missing required value"
    assert by_reason[("单位.csv", "5", "unit_code")]["reason"] == "duplicate key"
    assert "2024-13-01" in by_reason[("ledger-0012.csv", "8", "voucher_date")]["value"]
    assert by_reason[("ledger-0012.csv", "9", "debit")]["reason"]
    assert by_reason[("流水2024.xlsx", "6", "txn_date")]["reason"]
    assert all(r["file"] and r["line"] and r["column"] and r["reason"] for r in rejects)

    con = duckdb.connect(str(db), read_only=True)
    # codes keep leading zeros, long account numbers stay exact text
    assert con.execute("SELECT unit_code FROM units ORDER BY 1").fetchall() == [("0012",), ("0013",)]
    assert con.execute("SELECT DISTINCT account_no FROM bank_txns").fetchall() == [("6222021234567890123",)]
    # money exact
    assert con.execute("SELECT typeof(debit) FROM ledger LIMIT 1").fetchone()[0] == "DECIMAL(18,2)"
    s = con.execute("SELECT sum(debit) FROM ledger WHERE voucher_no = '记-1'").fetchone()[0]
    assert s == Decimal("0.30")
    assert con.execute("SELECT sum(debit) = sum(credit) FROM ledger WHERE voucher_no = '记-1'").fetchone()[0]
    assert con.execute("SELECT debit FROM ledger WHERE voucher_no = '记-2' AND line_no = 1").fetchone()[0] \
        == Decimal("1234.50")
    # dates from XLSX date cells and text formats
    assert con.execute("SELECT txn_date FROM bank_txns WHERE txn_id = 'T2'").fetchone()[0] == dt.date(2024, 3, 2)
    assert con.execute("SELECT count(DISTINCT voucher_date) FROM ledger WHERE voucher_no = '记-1'").fetchone()[0] == 1
    # defaults, provenance, extras
    assert con.execute("SELECT payee_is_sme FROM payments WHERE payment_id = 'P-2'").fetchone()[0] is False
    assert con.execute("SELECT amount FROM payments WHERE payment_id = 'P-3'").fetchone()[0] == Decimal("-700.00")
    assert con.execute("SELECT fiscal_year FROM budget").fetchone()[0] == 2024
    assert con.execute("SELECT credit FROM ledger WHERE voucher_no = '记-2' AND line_no = 1").fetchone()[0] == 0
    assert con.execute("SELECT _file, _line FROM bank_txns WHERE txn_id = 'T3'").fetchone() == ("流水2024.xlsx", 4)
    assert json.loads(con.execute("SELECT _extra FROM units WHERE unit_code = '0012'").fetchone()[0]) == {"备用": "x"}

    warnings = completeness_warnings(con)
    con.close()
    assert warnings == report.warnings
    assert any("记-2" in w and "unbalanced" in w for w in warnings)
    assert not any("记-1" in w for w in warnings)
    assert any("B-404" in w for w in warnings) and not any("B-1 " in w for w in warnings)
    assert any("T3" in w and "balance" in w for w in warnings) and len(warnings) == 3

    # formula-like cells are neutralised in rejects.csv
    raw = (tmp_path / "rejects.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert all(not r["value"].startswith(("=", "+", "-", "@")) for r in rejects)

    log = (tmp_path / "audit-log.jsonl").read_text(encoding="utf-8").splitlines()
    entry = json.loads(log[-1])
    assert entry["command"] == "ingest" and "@" in entry["user"] and entry["time"].endswith("+00:00")
    assert {i["sha256"] for i in entry["inputs"]} == set(before.values())

    text_zh, text_en = report.describe("zh"), report.describe("en")
    assert "单位.csv" in text_zh and "载入" in text_zh and "loaded" in text_en


def test_reingest_does_not_duplicate(county, tmp_path):
    db = tmp_path / "audit.duckdb"
    ingest(county, db)
    con = duckdb.connect(str(db), read_only=True)
    n1 = con.execute("SELECT count(*) FROM ledger").fetchone()[0]
    con.close()
    report = ingest(county, db)
    assert {f.status for f in report.files if f.table} == {"already loaded"}
    # a copy under another name is the same content: loaded once
    (county / "ledger-copy.csv").write_bytes((county / "ledger-0012.csv").read_bytes())
    report = ingest(county, db)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM ledger").fetchone()[0] == n1
    con.close()
    assert len((tmp_path / "audit-log.jsonl").read_text(encoding="utf-8").splitlines()) == 3


def test_duplicate_key_against_database(tmp_path):
    data, db = tmp_path / "d", tmp_path / "a.duckdb"
    data.mkdir()
    _write_csv(data / "units_a.csv", [["unit_code", "unit_name"], ["0012", "A"]])
    ingest(data, db)
    _write_csv(data / "units_b.csv", [["unit_code", "unit_name"], ["0012", "B"], ["0014", "C"]])
    report = ingest(data, db)
    rec = {f.file: f for f in report.files}["units_b.csv"]
    assert (rec.rows_loaded, rec.rows_rejected) == (1, 1)
    assert report.rejects[0].reason == "duplicate key" and report.rejects[0].line == 2


def test_missing_column_exits_2_and_names_file_column_found(tmp_path):
    data, db = tmp_path / "d", tmp_path / "a.duckdb"
    data.mkdir()
    _write_csv(data / "payments.csv", [["单位编码", "支付编号", "收款人"], ["0012", "P-1", "X"]])
    result = CliRunner().invoke(main, ["ingest", str(data), "--db", str(db)])
    assert result.exit_code == 2
    out = result.output + (result.stderr if hasattr(result, "stderr") else "")
    assert "payments.csv" in out and "amount" in out and "支付编号" in out and "收款人" in out


def test_cli_prints_summary(county, tmp_path):
    result = CliRunner().invoke(main, ["ingest", str(county), "--db", str(tmp_path / "a.duckdb"), "--lang", "en"])
    # the county has rejects on purpose (2 of 8 ledger rows): more than the 1% default -> exit 1
    assert result.exit_code == 1, result.output
    assert "ledger-0012.csv" in result.output and "unbalanced" in result.output
    assert "ledger-0012.csv: 25.0% of its rows rejected" in result.output
    again = CliRunner().invoke(main, ["ingest", str(county), "--db", str(tmp_path / "b.duckdb"), "--lang", "en",
                                      "--max-reject-share", "0.5"])
    assert again.exit_code == 0, again.output


_ALIASES = [(t.name, c.name, alias) for t in schema.TABLES.values() for c in t.columns
            for alias in c.aliases]


@pytest.mark.parametrize("table,column,alias", _ALIASES)
def test_every_alias_maps(tmp_path, table, column, alias):
    """A file whose header uses ``alias`` loads into ``column``."""
    tab = schema.TABLES[table]
    samples = {"text": "X1", "money": "12.50", "date": "2024-03-05", "bool": "是", "int": "3",
               "account_type": "基本存款账户"}
    cols = list(tab.required)
    if column not in cols:
        cols.append(column)
    header = [alias if c == column else c for c in cols]
    # full-width / spaced variant of the alias must also map
    header = [h if c != column else " " + h.upper() + " " for h, c in zip(header, cols)]
    data, db = tmp_path / "d", tmp_path / "a.duckdb"
    data.mkdir()
    _write_csv(data / f"{tab.zh}.csv", [header, [samples[tab.column(c).type] for c in cols]], encoding="gbk")
    report = ingest(data, db)
    assert report.files[0].table == table and report.files[0].rows_loaded == 1, report.rejects
    con = duckdb.connect(str(db), read_only=True)
    val = con.execute(f'SELECT "{column}" FROM {table}').fetchone()[0]
    con.close()
    assert val is not None


def test_readers_line_numbers_and_types(tmp_path):
    path = tmp_path / "x.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([None])
    ws.append(["unit_code", "d"])
    ws.append(["0012", dt.datetime(2024, 1, 2)])
    ws.append([None, None])
    ws.append([12, 3.5])
    wb.save(path)
    raw = read_file(path)
    assert raw.header == ["unit_code", "d"] and raw.encoding is None
    rows = list(raw.rows)
    assert rows == [(3, ["0012", dt.datetime(2024, 1, 2)]), (5, [12, 3.5])]

    path = tmp_path / "y.csv"
    path.write_bytes('a,b\n"multi\nline",1\n\n007,2\n'.encode("gb18030"))
    raw = read_file(path)
    assert raw.header == ["a", "b"]
    assert list(raw.rows) == [(2, ["multi\nline", "1"]), (5, ["007", "2"])]


def test_short_gbk_text_that_is_also_valid_utf8_reads_as_gbk(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes("摘要\n".encode("gbk"))
    raw = read_file(path)
    assert raw.encoding == "gbk" and raw.header == ["摘要"]
    path.write_bytes("摘要,金额\n会议费,1\n".encode("utf-8"))
    assert read_file(path).encoding == "utf-8"


def test_rejects_csv_neutralises_formulas(tmp_path):
    from auditlib.ingest.report import Reject, write_rejects

    write_rejects(tmp_path / "r.csv", [Reject("f.csv", 3, "amount", v, "bad") for v in
                                       ("=1+1", "+1", "-x", "@SUM(A1)", "\tx", "ok")])
    with open(tmp_path / "r.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["value"] for r in rows] == ["'=1+1", "'+1", "'-x", "'@SUM(A1)", "'\tx", "ok"]
    assert rows[0]["line"] == "3" and rows[0]["column"] == "amount"


def test_missing_column_loads_nothing(tmp_path):
    from auditlib.errors import MissingColumnError

    data, db = tmp_path / "d", tmp_path / "a.duckdb"
    data.mkdir()
    _write_csv(data / "budget.csv", [["unit_code", "budget_id", "amount", "issued_on"], ["1", "B", "1", "2024-01-01"]])
    _write_csv(data / "units.csv", [["单位编码"], ["0012"]])
    with pytest.raises(MissingColumnError) as err:
        ingest(data, db)
    assert err.value.file == "units.csv" and err.value.column == "unit_name" and err.value.found == ["单位编码"]
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'budget'").fetchone()[0] == 0
    con.close()
