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


# ---- issue 17: one read per file, GBK on the fast path, all rules on both paths ----------------------

GBK_PAYMENTS = (
    "unit_code,payment_id,payee_name,amount,paid_on,memo,备注\n"
    + "".join(f"001,P{i},供应商{i % 7}有限公司,{i}.50,2024-03-{i % 28 + 1:02d},支付货款,说明{i}\n" for i in range(1, 400))
    + "001,P9001,甲公司,\"1,234.50\",2024/3/5,斜杠日期,\n"     # export forms: the row path's parser
    + "001,P9002,乙公司,12.345,2024-03-05,三位小数,\n"          # rejected
    + "001,P1,丙公司,5,2024-03-05,重复,\n"                      # duplicate key
    + ",合计,,999,,,\n"                                         # subtotal
)


def _taken(monkeypatch) -> list:
    """Records each file the fast path finished (True) — not the ones it handed to the row path."""
    taken = []
    real = fast_mod._load_staged
    monkeypatch.setattr(fast_mod, "_load_staged", lambda *a: taken.append(a[1]) or real(*a))
    return taken


def test_gbk_and_windows_1252_files_take_the_fast_path_and_equal_the_row_path(monkeypatch, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "payments_gbk.csv").write_bytes(GBK_PAYMENTS.encode("gbk"))
    western = ("unit_code,payment_id,payee_name,amount,memo\n"
               + "".join(f"001,W{i},Café Müller {i},{i}.00,Straße £{i}\n" for i in range(1, 300)))
    (data / "payments_cp1252.csv").write_bytes(western.encode("cp1252"))
    taken = _taken(monkeypatch)
    row, fast = _both(monkeypatch, tmp_path, data)
    assert sorted(taken) == ["payments_cp1252.csv", "payments_gbk.csv"]  # the fast run only
    assert fast == row
    enc = {f["file"]: f["encoding"] for f in row["report"]}
    assert enc == {"payments_gbk.csv": "gbk", "payments_cp1252.csv": "cp1252"}
    lines = [line.split(",")[1] for line in row["rejects"].splitlines()[1:]]
    assert lines == ["402", "403"]  # line numbers of the GBK file, as written
    assert not list(tmp_path.glob("*/.auditlib-*.csv"))  # the UTF-8 copy is gone


def test_a_file_whose_utf8_breaks_after_the_sniffed_start_falls_back_and_equals_the_row_path(monkeypatch, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    good = "unit_code,payment_id,payee_name,amount,memo\n" + "".join(
        f"001,P{i},供应商{i},{i}.00,备注\n" for i in range(1, 3000))
    (data / "payments.csv").write_bytes(good.encode("utf-8") + "001,PX,B,1,é\n".encode("latin-1"))
    from auditlib.ingest import load as load_mod, sniff

    # small chunks: the sniffer settles on UTF-8 long before the byte that is not UTF-8
    monkeypatch.setattr(load_mod, "scan_csv", lambda p: sniff.scan_csv(p, chunk_size=1 << 12))
    assert sniff.scan_csv(data / "payments.csv", chunk_size=1 << 12).choice.encoding == "utf-8"
    taken = _taken(monkeypatch)
    outcomes = []
    for name, threshold in (("row", 10 ** 15), ("fast", 0)):
        monkeypatch.setattr(fast_mod, "FAST_MIN_BYTES", threshold)
        db = tmp_path / name / "audit.duckdb"
        db.parent.mkdir()
        try:
            ingest(data, db)
            outcomes.append(_snapshot(db))
        except Exception as exc:  # the row path decides the encoding (or says it cannot): both the same
            outcomes.append(repr(exc))
    assert outcomes[0] == outcomes[1]
    assert taken == []


def test_one_read_gives_the_same_encoding_choice_as_the_whole_file(tmp_path):
    from auditlib.ingest.encoding import choose_encoding
    from auditlib.ingest.sniff import scan_csv
    from auditlib.common.files import sha256_file

    cases = {"ascii": b"a,b\n1,2\n" * 50000, "bom": b"\xef\xbb\xbfa,b\n" + "1,\u4e2d\n".encode() * 50000,
             "utf8": "a,b\n".encode() + "1,摘要\n".encode() * 300000, "gbk": "a,b\n1,摘要\n".encode("gbk") * 1000}
    for name, data in cases.items():
        path = tmp_path / f"{name}.csv"
        path.write_bytes(data)
        scan = scan_csv(path, chunk_size=1 << 16)
        assert scan.choice == choose_encoding(data, path.name), name
        assert scan.sha256 == sha256_file(path) and scan.lines == data.count(b"\n") and scan.simple


def test_all_rules_find_the_same_on_both_paths(monkeypatch, tmp_path):
    from auditlib.batch.scan import scan

    data = tmp_path / "data"
    generate(data, units=8, seed=11)
    found = []
    for name, threshold in (("row", 10 ** 15), ("fast", 0)):
        monkeypatch.setattr(fast_mod, "FAST_MIN_BYTES", threshold)
        db = tmp_path / name / "audit.duckdb"
        db.parent.mkdir()
        ingest(data, db)
        out = scan(db, out=tmp_path / name / "findings.csv", run_id="same")
        found.append(Path(out.out).read_text(encoding="utf-8-sig"))
    assert found[0] == found[1]
    assert found[0].count("\n") > 10


def test_the_whole_text_encoding_scores_equal_the_run_by_run_definition():
    import random

    from auditlib.ingest import encoding as enc

    alphabet = list("aZb Q,.1\n") + list("中文摘要¥·—“”ÕªÒüéÄ£€°\u00a0\u3000，！\u3400\uf900\u9fff\ufaff\u2000")
    rng = random.Random(17)
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(20000)]
    texts.append(GBK_PAYMENTS.encode("gbk").decode("latin-1"))
    texts.append("Pavel B點hler, Café Müller, 预算单位 ABC中DEF x中y")
    for text in texts:
        assert enc.chinese_score(text) == enc._chinese_score_per_run(text), text
        assert enc.western_score(text) == enc._western_score_per_run(text), text
