"""The fast CSV path of the ingest (DuckDB reads the file, canonical cells convert in SQL) loads
exactly what the row path loads: same rows and values, same rejects, same counts."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import duckdb

from auditlib.ingest import fast as fast_mod
from auditlib.ingest.load import ingest
from auditlib.synth.county import generate

ROOT = Path(__file__).resolve().parents[1]

EDGE_LEDGER = (
    "\ufeffunit_code,voucher_date,voucher_no,line_no,account_code,account_name,summary,debit,credit,"
    "counterparty,备注,extra2\n"
    "001,2024-01-05,V1,1,1002,银行存款,正常,100.00,,甲,note \"q\",x\n"       # extra with a quote
    "001,20240106,V1,2,4001,收入,正常,,100,,,\n"                              # 8-digit date, 100
    "001,2024/1/7,V2,1,1002,银行存款,斜杠日期,\"1,234.50\",,,,\n"             # export forms
    "001,2024-02-30,V3,1,1002,银行存款,坏日期,1.00,,,,\n"                     # not a calendar date
    "001,2024-01-08,V4,1,1002,银行存款,三位小数,1.234,,,,\n"                  # more than two decimals
    "001,2024-01-08,V4,2,1002,银行存款, 前空格,1.230,,,,\n"                   # strips, 1.23
    ",合计,,,,,,,,,,\n"                                                       # subtotal
    "001,2024-01-09,V5,1,1002,银行存款,本月合计,1,,,,\n"                     # subtotal in summary
    "001,2024-01-05,V1,1,1002,银行存款,重复,5,,,,\n"                          # duplicate key
    ",,,,,,,,,,,\n"                                                           # blank record
    " , ,,,,,,,,,,\n"                                                         # blank (spaces)
    "001,,V7,1,1002,银行存款,缺日期,1,,,,\n"                                  # missing required
    "001,1899-12-31,V8,1,1002,银行存款,年份,1,,,,\n"                          # year out of range
    "0012,2024-03-01,V9,1.0,1002,银行存款,行号,-5.5,,,,\n"                    # int 1.0, negative money
    "001,2024-03-02,V10,x,1002,银行存款,坏行号,1,,,,\n"
    "001,2024-03-03,V11,1,1002,银行存款,￥12,¥12,,,,\n"
    "001,2024-03-04,V12,1,1002,银行存款,\"a,b\",(3.00),,,,\n"
)
EDGE_LEDGER_2 = (  # a second file of the same table: keys of the first file are taken
    "unit_code,voucher_date,voucher_no,line_no,account_code,summary,debit,credit\n"
    "001,2024-01-05,V1,1,1002,另一文件重复,1,\n"
    "001,2024-04-01,V20,1,1002,新,2.5,\n"
    "001,2024-04-01,V20,1,1002,同文件重复,2.5,\n"
)
EDGE_PAYMENTS = (
    "unit_code,payment_id,payee_name,payee_is_sme,amount,accepted_on,paid_on,term_days\n"
    "001,P1,甲公司,是,100,2024-01-01,2024-02-01,30\n"
    "001,P2,乙公司,,200.5,2024-01-01,,\n"
    "001,P3,丙公司,Y,300,2024-01-01,2024-02-01,\n"
    "001,P4,丁公司,maybe,300,2024-01-01,2024-02-01,\n"
    "001,P5,戊公司,√,1e3,2024-01-01,2024-02-01,\n"
    "001,P6,己公司,false,99999999999999999,2024-01-01,2024-02-01,2147483648\n"
)
EDGE_BUDGET = (
    "unit_code,budget_id,is_special,amount,issued_on,fiscal_year\n"
    "001,B1,否,1000,2023-05-01,\n"
    "001,B2,1,1000,2023-05-01,2024\n"
    "001,B3,,1000,2023-05-01,2024.0\n"
)
EDGE_ACCOUNTS = (
    "unit_code,account_no,account_type,opened_on,closed_on\n"
    "001,A1,basic,2015-01-01,\n"
    "001,A2,基本户,2015-01-01,2020-01-01\n"
    "001,A3,BASIC,2015-01-01,\n"
    "001,A4,savings,2015-01-01,\n"
)


def _snapshot(db: Path) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for table in ("units", "accounts", "budget", "payments", "ledger", "bank_txns"):
            out[table] = con.execute(f"SELECT * EXCLUDE (_file, _line), _file, _line FROM {table} "
                                     "ORDER BY _file, _line").fetchall()
    finally:
        con.close()
    report = json.loads((db.parent / "ingest_report.json").read_text(encoding="utf-8"))
    rejects = (db.parent / "rejects.csv").read_text(encoding="utf-8-sig")
    return {"tables": out, "report": report, "rejects": rejects}


def _both(monkeypatch, tmp_path: Path, data: Path) -> tuple[dict, dict]:
    snaps = []
    for name, threshold in (("row", 10 ** 15), ("fast", 0)):
        monkeypatch.setattr(fast_mod, "FAST_MIN_BYTES", threshold)
        db = tmp_path / name / "audit.duckdb"
        db.parent.mkdir()
        ingest(data, db)
        snaps.append(_snapshot(db))
    return snaps[0], snaps[1]


def test_fast_path_equals_row_path_on_edge_cases(monkeypatch, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "ledger_a.csv").write_text(EDGE_LEDGER, encoding="utf-8")
    (data / "ledger_b.csv").write_text(EDGE_LEDGER_2, encoding="utf-8")
    (data / "payments.csv").write_text(EDGE_PAYMENTS, encoding="utf-8")
    (data / "budget.csv").write_text(EDGE_BUDGET, encoding="utf-8")
    (data / "accounts.csv").write_text(EDGE_ACCOUNTS, encoding="utf-8")
    row, fast = _both(monkeypatch, tmp_path, data)
    assert fast == row
    assert any("duplicate key" in line for line in row["rejects"].splitlines())
    assert sum(f["rows_subtotal"] for f in row["report"]) == 2


def test_fast_path_falls_back_on_files_it_cannot_pair_with_lines(monkeypatch, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    head = "unit_code,payment_id,payee_name,amount,memo\n"
    (data / "payments_1.csv").write_text(head + '001,P1,甲,1,"two\nlines"\n001,P2,乙,2,\n', encoding="utf-8")
    (data / "payments_2.csv").write_text(head + "\n001,P3,丙,3,\n\n001,P4,丁,4,\n", encoding="utf-8")
    (data / "payments_3.csv").write_text(head + "001,P5,戊,5,x,overflow\n", encoding="utf-8")
    (data / "payments_4.csv").write_bytes((head + "001,P6,己,6,备注\n").encode("gbk"))
    (data / "payments_5.csv").write_text(head.replace("\n", "\r\n") + "001,P7,庚,7,\r\n", encoding="utf-8")
    (data / "payments_6.csv").write_text(head + "001,P8,辛,8,\n001,P9,壬\n", encoding="utf-8")  # short row
    row, fast = _both(monkeypatch, tmp_path, data)
    assert fast == row
    assert len(row["tables"]["payments"]) == 8


def test_fast_path_equals_row_path_on_the_sample_county(monkeypatch, tmp_path):
    data = tmp_path / "data"
    generate(data, units=8, seed=7)
    row, fast = _both(monkeypatch, tmp_path, data)
    assert fast == row


def test_fast_path_equals_row_path_on_the_bench_generator(monkeypatch, tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    import bigdata

    data = tmp_path / "data"
    bigdata.generate(data, 40_000)
    with open(data / "ledger.csv", encoding="utf-8") as fh:
        fh.readline()
        first = fh.readline()  # the key of the first line, whatever the generator's numbering
    unit, _, voucher, line_no = first.split(",")[:4]
    with open(data / "ledger.csv", "a", encoding="utf-8") as fh:  # a bad row and a duplicate
        fh.write("U00001,N/A,记-1,1,1002,银行存款,坏,1,,,\n")
        fh.write(f"{unit},2024-01-04,{voucher},{line_no},1002,银行存款,重复,1,,,\n")
    row, fast = _both(monkeypatch, tmp_path, data)
    assert fast == row
    assert row["rejects"].count("\n") == 3
    shutil.rmtree(data)
