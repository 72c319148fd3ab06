"""Bad input files (issue 8 item 1): each yields the right rows, a recorded reject naming file, line
and column, or (for a whole file) a clear error naming the file, exit 2 from the command line.

Tiny text samples live in ``tests/badfiles/``; binary ones (merged-cell and encrypted workbooks, NUL
bytes, UTF-16, a large CSV) are generated here in a temporary folder.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest
from click.testing import CliRunner

from auditlib.ingest import fast as fast_mod
from auditlib.cli import main
from auditlib.errors import DatabaseError, InputError
from auditlib.ingest.load import ingest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parent / "badfiles"
BIN = Path(sys.executable).parent


def _folder(tmp_path: Path, *names: str, rename: dict | None = None) -> Path:
    """A data folder holding copies of corpus files (``rename``: corpus name -> name in the folder)."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(CORPUS / name, data / (rename or {}).get(name, name))
    return data


def _rows(db: Path, sql: str) -> list:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _rejects(db: Path) -> list[dict]:
    with open(db.parent / "rejects.csv", encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _report(db: Path) -> dict:
    return {r["file"]: r for r in json.loads((db.parent / "ingest_report.json").read_text(encoding="utf-8"))}


def _cli_error(data: Path, db: Path) -> str:
    """Run ``auditlib ingest``, expect exit 2 and return its message."""
    result = CliRunner().invoke(main, ["ingest", str(data), "--db", str(db)])
    assert result.exit_code == 2, result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    return result.output + (result.stderr if hasattr(result, "stderr") else "")


def test_corpus_is_never_modified(tmp_path):
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in CORPUS.iterdir()}
    data = _folder(tmp_path, "ledger_title_rows.csv", "payments_semicolon.csv", "payments_cut_mid_field.csv")
    ingest(data, tmp_path / "a.duckdb")
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in CORPUS.iterdir()} == before


# ---- truncated files ---------------------------------------------------------------------------------


def test_unterminated_quote_is_an_error_naming_file_line_and_column(tmp_path):
    data = _folder(tmp_path, "payments_unterminated_quote.csv")
    with pytest.raises(InputError) as err:
        ingest(data, tmp_path / "a.duckdb")
    assert (err.value.file, err.value.line, err.value.column) == ("payments_unterminated_quote.csv", 3, "payee_name")
    out = _cli_error(data, tmp_path / "b.duckdb")
    assert "payments_unterminated_quote.csv" in out and "line 3" in out and "payee_name" in out and "cut off" in out
    # nothing of the file was loaded
    assert _rows(tmp_path / "a.duckdb", "SELECT count(*) FROM information_schema.tables "
                                        "WHERE table_name = 'payments'") == [(0,)]


def test_a_quote_open_over_many_lines_is_an_error_not_one_swallowed_row(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "payments.csv").write_text(
        "unit_code,payment_id,payee_name,amount,memo\n001,P1,甲,1,\"opened here\n"
        + "".join(f"001,P{i},乙,{i},\n" for i in range(2, 50)), encoding="utf-8")
    with pytest.raises(InputError) as err:
        ingest(data, tmp_path / "a.duckdb")
    assert (err.value.line, err.value.column) == (2, "memo")


def test_last_line_cut_mid_field_is_rejected_with_reason(tmp_path):
    data = _folder(tmp_path, "payments_cut_mid_field.csv")
    db = tmp_path / "a.duckdb"
    ingest(data, db)
    assert _rows(db, "SELECT payment_id, amount FROM payments") == [("P-1", Decimal("100.00"))]
    (rej,) = _rejects(db)
    assert (rej["file"], rej["line"], rej["column"]) == ("payments_cut_mid_field.csv", "3", "paid_on")
    assert "4 of 5 columns" in rej["reason"] and "cut off" in rej["reason"] and rej["value"] == "0012,P-2,乙公司,20"
    rec = _report(db)["payments_cut_mid_field.csv"]
    assert (rec["rows_read"], rec["rows_loaded"], rec["rows_rejected"]) == (2, 1, 1)


def test_a_short_row_in_the_middle_is_rejected_not_padded(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "payments.csv").write_text("unit_code,payment_id,payee_name,amount,paid_on\n"
                                       "001,P1,甲,1,2024-01-02\n001,P2,乙,2\n001,P3,丙,3,2024-01-03\n", encoding="utf-8")
    db = tmp_path / "a.duckdb"
    ingest(data, db)
    assert _rows(db, "SELECT payment_id FROM payments ORDER BY 1") == [("P1",), ("P3",)]
    (rej,) = _rejects(db)
    assert (rej["line"], rej["column"], rej["reason"]) == ("3", "paid_on", "row has 4 of 5 columns")


# ---- delimiters, title rows, headers --------------------------------------------------------------------


@pytest.mark.parametrize("name,label", [("payments_semicolon.csv", ";"), ("payments_tab.csv", "tab")])
def test_semicolon_and_tab_delimiters(tmp_path, name, label):
    data = _folder(tmp_path, name)
    db = tmp_path / "a.duckdb"
    ingest(data, db)
    got = _rows(db, "SELECT unit_code, payment_id, payee_name, amount, paid_on FROM payments ORDER BY _line")
    assert got[0] == ("0012", "P-1", "甲公司", Decimal("1234.50"), dt.date(2024, 3, 1))
    assert len(got) == (2 if label == ";" else 1)
    rec = _report(db)[name]
    assert any(f"delimiter is {label}" in w for w in rec["warnings"]) and rec["rows_rejected"] == 0


def test_title_rows_above_the_header_are_skipped_with_a_note(tmp_path):
    data = _folder(tmp_path, "ledger_title_rows.csv")
    db = tmp_path / "a.duckdb"
    ingest(data, db)
    assert _rows(db, "SELECT unit_code, line_no, debit, credit, _line FROM ledger ORDER BY _line") == [
        ("0012", 1, Decimal("1000.00"), Decimal("0.00"), 4), ("0012", 2, Decimal("0.00"), Decimal("1000.00"), 5)]
    rec = _report(db)["ledger_title_rows.csv"]
    assert (rec["rows_read"], rec["rows_loaded"]) == (2, 2)
    assert any("header on line 3" in w and "某某单位序时账 2024年" in w for w in rec["warnings"])


def test_title_rows_in_gbk_and_in_xlsx(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "单位.csv").write_bytes("某县财政局 单位清单\n导出日期：2024-12-31,,\n\n单位编码,单位名称\n0012,县教育局\n"
                                   .encode("gbk"))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["某某单位序时账 2024年"])
    ws.append([])
    ws.append(["单位编码", "账号", "账户类型"])
    ws.append(["0012", "6222021234567890123", "基本户"])
    wb.save(data / "accounts.xlsx")
    db = tmp_path / "a.duckdb"
    ingest(data, db)
    assert _rows(db, "SELECT unit_code, unit_name, _line FROM units") == [("0012", "县教育局", 5)]
    assert _rows(db, "SELECT account_no, account_type, _line FROM accounts") == [("6222021234567890123", "basic", 4)]
    assert all(any("title line" in w for w in r["warnings"]) for r in _report(db).values())


def test_a_file_without_the_header_anywhere_still_names_the_missing_column(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "payments.csv").write_text("某某单位支付明细\n\n单位编码,支付编号\n0012,P1\n", encoding="utf-8")
    out = _cli_error(data, tmp_path / "a.duckdb")
    assert "payments.csv" in out and "payee_name" in out and "单位编码, 支付编号" in out  # the best row


def _merged_workbook(path: Path) -> None:
    """A ledger export with a two-row header: codes merged over both rows, 借方/贷方 over 金额."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["单位编码", "凭证日期", "凭证号", "分录号", "科目编码", "借方", None, "贷方", None])
    ws.append([None, None, None, None, None, "金额", "数量", "金额", "数量"])
    for col in "ABCDE":
        ws.merge_cells(f"{col}1:{col}2")
    ws.merge_cells("F1:G1")
    ws.merge_cells("H1:I1")
    ws.append(["0012", dt.datetime(2024, 3, 5), "记-1", 1, "1002", 1000.5, 2, None, None])
    ws.append(["0012", dt.datetime(2024, 3, 5), "记-1", 2, "4001", None, None, 1000.5, 2])
    wb.save(path)


def test_merged_two_row_header_in_xlsx(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    _merged_workbook(data / "ledger.xlsx")
    wb = openpyxl.Workbook()  # a group title over a sub-header that is itself the column name
    ws = wb.active
    ws.append(["单位编码", "支付编号", "收款人", "金额", None, "支付日期"])
    ws.append([None, None, None, "支付金额", "币种", None])
    for col in "ABCF":
        ws.merge_cells(f"{col}1:{col}2")
    ws.merge_cells("D1:E1")
    ws.append(["0012", "P1", "甲", 100, "CNY", "2024-01-01"])
    wb.save(data / "payments.xlsx")
    db = tmp_path / "a.duckdb"
    ingest(data, db)
    assert _rows(db, "SELECT line_no, debit, credit, _line FROM ledger ORDER BY line_no") == [
        (1, Decimal("1000.50"), Decimal("0.00"), 3), (2, Decimal("0.00"), Decimal("1000.50"), 4)]
    extra = [json.loads(x) for (x,) in _rows(db, "SELECT _extra FROM ledger ORDER BY line_no")]
    assert extra == [{"借方/数量": "2"}, {"贷方/数量": "2"}]
    assert _rows(db, "SELECT amount, _extra FROM payments") == [(Decimal("100.00"), '{"金额/币种": "CNY"}')]
    assert not _rejects(db)  # the second header row is not a rejected data row
    assert all(r["rows_read"] == r["rows_loaded"] for r in _report(db).values())


def test_duplicate_header_names_are_an_error(tmp_path):
    data = _folder(tmp_path, "payments_duplicate_header.csv")
    with pytest.raises(InputError) as err:
        ingest(data, tmp_path / "a.duckdb")
    assert (err.value.file, err.value.line, err.value.column) == ("payments_duplicate_header.csv", 1, "amount")
    out = _cli_error(data, tmp_path / "b.duckdb")
    assert "payments_duplicate_header.csv" in out and "columns 4 and 5" in out and "amount" in out


def test_duplicate_names_of_extra_columns_keep_both(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "units.csv").write_text("unit_code,unit_name,备注,备注\n0012,甲,a,b\n", encoding="utf-8")
    db = tmp_path / "a.duckdb"
    ingest(data, db)
    assert json.loads(_rows(db, "SELECT _extra FROM units")[0][0]) == {"备注": "a", "备注_": "b"}


# ---- empty files, headers only, files that are not what they say ----------------------------------------


def test_empty_file_is_an_error(tmp_path):
    data = _folder(tmp_path, "payments_empty.csv")
    out = _cli_error(data, tmp_path / "a.duckdb")
    assert "payments_empty.csv" in out and "empty" in out and "为空" in out
    wb = openpyxl.Workbook()
    (tmp_path / "x").mkdir()
    wb.save(tmp_path / "x" / "payments.xlsx")
    out = _cli_error(tmp_path / "x", tmp_path / "b.duckdb")
    assert "payments.xlsx" in out and "empty" in out


def test_header_only_loads_nothing_with_a_warning(tmp_path):
    data = _folder(tmp_path, "payments_header_only.csv")
    db = tmp_path / "a.duckdb"
    result = CliRunner().invoke(main, ["ingest", str(data), "--db", str(db), "--lang", "en"])
    assert result.exit_code == 0, result.output
    rec = _report(db)["payments_header_only.csv"]
    assert (rec["rows_read"], rec["rows_loaded"], rec["status"]) == (0, 0, "loaded")
    assert any("header only" in w for w in rec["warnings"]) and "header only" in result.output


def test_xlsx_that_is_really_a_csv_is_read_as_csv(tmp_path):
    data = _folder(tmp_path, "payments_really_csv.xlsx")
    db = tmp_path / "a.duckdb"
    ingest(data, db)
    assert _rows(db, "SELECT payment_id, amount FROM payments") == [("P-1", Decimal("1234.50"))]
    rec = _report(db)["payments_really_csv.xlsx"]
    assert rec["encoding"] == "utf-8" and any("is CSV text" in w for w in rec["warnings"])


def test_xlsx_that_is_binary_garbage_is_a_clear_error(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "payments.xlsx").write_bytes(bytes(range(256)) * 4)
    out = _cli_error(data, tmp_path / "a.duckdb")
    assert "payments.xlsx" in out and "XLSX" in out


def _encrypted_workbook(path: Path) -> None:
    """A password-protected workbook as Excel writes it: an OLE2 (CFB) container, not a zip."""
    wb = openpyxl.Workbook()
    wb.active.append(["unit_code", "payment_id", "payee_name", "amount"])
    wb.active.append(["0012", "P1", "甲", 1])
    plain = io.BytesIO()
    wb.save(plain)
    plain.seek(0)
    try:
        from msoffcrypto.format.ooxml import OOXMLFile
    except ImportError:  # without msoffcrypto-tool: the container's magic and stream names only
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + "EncryptionInfo".encode("utf-16-le")
                         + b"\0" * 100 + "EncryptedPackage".encode("utf-16-le") + b"\0" * 2048)
        return
    with open(path, "wb") as fh:
        OOXMLFile(plain).encrypt("secret", fh)


def test_encrypted_xlsx_is_a_clear_error(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    _encrypted_workbook(data / "payments.xlsx")
    assert (data / "payments.xlsx").read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    with pytest.raises(InputError) as err:
        ingest(data, tmp_path / "a.duckdb")
    assert err.value.file == "payments.xlsx" and err.value.reason == "encrypted workbook"
    out = _cli_error(data, tmp_path / "b.duckdb")
    assert "payments.xlsx" in out and "password" in out and "密码" in out


def test_old_xls_renamed_xlsx_is_a_clear_error(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "payments.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
                                         + "Workbook".encode("utf-16-le") + b"\0" * 2048)
    out = _cli_error(data, tmp_path / "a.duckdb")
    assert "payments.xlsx" in out and ".xls" in out


# ---- bytes and values -----------------------------------------------------------------------------------


def test_nul_bytes_in_a_cell_are_rejected_naming_line_and_column(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "payments.csv").write_bytes("unit_code,payment_id,payee_name,amount,memo\n001,P1,甲\x00公司,1,\n"
                                        "001,P2,乙,2,x\x00\n001,P3,丙,3,\n".encode("utf-8"))
    db = tmp_path / "a.duckdb"
    ingest(data, db)
    assert _rows(db, "SELECT payment_id FROM payments") == [("P3",)]
    got = [(r["line"], r["column"], r["reason"].split(":")[0]) for r in _rejects(db)]
    assert got == [("2", "payee_name", "NUL byte in text"), ("3", "memo", "NUL byte in text")]
    assert b"\x00" not in (db.parent / "rejects.csv").read_bytes()  # shown as \x00, never written raw


def test_utf16_and_nul_filled_files_are_clear_errors(tmp_path):
    text = "unit_code,unit_name\n0012,甲\n"
    for name, raw in (("units_bom.csv", text.encode("utf-16")), ("units_nobom.csv", text.encode("utf-16-le"))):
        data = tmp_path / name
        data.mkdir()
        (data / name).write_bytes(raw)
        out = _cli_error(data, tmp_path / f"{name}.duckdb")
        assert name in out and "UTF-16" in out


def test_three_decimals_are_rejected_never_rounded(tmp_path):
    data = _folder(tmp_path, "payments_three_decimals.csv")
    wb = openpyxl.Workbook()
    wb.active.append(["unit_code", "payment_id", "payee_name", "amount"])
    wb.active.append(["0012", "X-1", "甲", 100.125])
    wb.active.append(["0012", "X-2", "甲", "1,000.005"])
    wb.active.append(["0012", "X-3", "甲", 100.12])
    wb.save(data / "payments_x.xlsx")
    db = tmp_path / "a.duckdb"
    ingest(data, db)
    assert _rows(db, "SELECT payment_id, amount FROM payments ORDER BY 1") == [
        ("P-2", Decimal("100.12")), ("X-3", Decimal("100.12"))]
    got = {(r["file"], r["line"], r["column"]): r for r in _rejects(db)}
    assert set(got) == {("payments_three_decimals.csv", "2", "amount"), ("payments_x.xlsx", "2", "amount"),
                        ("payments_x.xlsx", "3", "amount")}
    assert all(r["reason"].startswith("more than two decimals") for r in got.values())
    assert got[("payments_three_decimals.csv", "2", "amount")]["value"] == "100.125"


def test_dates_far_outside_the_fiscal_year_load_with_a_warning(tmp_path):
    data = _folder(tmp_path, "payments_far_dates.csv")
    db = tmp_path / "a.duckdb"
    result = CliRunner().invoke(main, ["ingest", str(data), "--db", str(db), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert _rows(db, "SELECT count(*) FROM payments") == [(3,)]  # loaded, not rejected
    (warning,) = _report(db)["payments_far_dates.csv"]["warnings"]
    assert "paid_on" in warning and "line 2" in warning and "1924-03-01" in warning and "2024" in warning
    assert "far outside" in result.output


def test_dates_within_a_few_years_give_no_warning(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "budget.csv").write_text("unit_code,budget_id,amount,issued_on\n001,B1,1,2020-01-01\n"
                                     "001,B2,1,2024-01-01\n001,B3,1,2024-02-01\n", encoding="utf-8")
    db = tmp_path / "a.duckdb"
    ingest(data, db)
    assert _report(db)["budget.csv"]["warnings"] == []


def test_fast_path_agrees_with_row_path_on_bad_rows(monkeypatch, tmp_path):
    """NUL cells, short rows and cut-off last lines: the same rejects whichever path reads the file."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "payments_a.csv").write_bytes("unit_code,payment_id,payee_name,amount,memo\n001,P1,甲\x00,1,\n"
                                          "001,P2,乙,2,ok\n001,P3,丙,3\n001,P4,丁".encode("utf-8"))
    (data / "payments_b.csv").write_bytes("unit_code,payment_id,payee_name,amount,memo\n001,Q1,甲,1.005,\n"
                                          "001,Q2,乙,2,x\x00y\n".encode("utf-8"))
    snaps = []
    for name, threshold in (("row", 10 ** 15), ("fast", 0)):
        monkeypatch.setattr(fast_mod, "FAST_MIN_BYTES", threshold)
        db = tmp_path / name / "a.duckdb"
        db.parent.mkdir()
        ingest(data, db)
        snaps.append((_rows(db, "SELECT * EXCLUDE (_extra) FROM payments ORDER BY _file, _line"), _rejects(db),
                      _report(db)))
    assert snaps[0] == snaps[1]
    assert [r[1] for r in snaps[0][0]] == ["P2"]
    assert [(r["file"], r["line"]) for r in snaps[0][1]] == [
        ("payments_a.csv", "2"), ("payments_a.csv", "4"), ("payments_a.csv", "5"),
        ("payments_b.csv", "2"), ("payments_b.csv", "3")]


# ---- a very large CSV: streamed, memory flat ---------------------------------------------------------------

_GEN = textwrap.dedent("""
    import sys
    path, size = sys.argv[1], int(sys.argv[2])
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("unit_code,voucher_date,voucher_no,line_no,account_code,account_name,summary,debit,credit,"
                 "counterparty\\n")
        i = 0
        while fh.tell() < size:
            out = []
            for n in range(i, i + 5000):
                a, d = f"{n % 100000}.{n % 100:02d}", f"2024-{n % 12 + 1:02d}-{n % 28 + 1:02d}"
                out.append(f"U{n % 50:03d},{d},记-{n:09d},1,1002,银行存款,摘要{n % 97},{a},,对方单位{n % 333}\\n"
                           f"U{n % 50:03d},{d},记-{n:09d},2,4001,收入,摘要{n % 97},,{a},对方单位{n % 333}\\n")
            fh.write("".join(out))
            i += 5000
""")
_PEAK = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True); "
         "sys.stderr.write(r.stderr.decode()); "
         "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def _ingest_peak_kib(tmp_path: Path, mib: int, memory: str | None = None) -> tuple[int, int]:
    data = tmp_path / f"d{mib}"
    data.mkdir()
    subprocess.run([sys.executable, "-c", _GEN, str(data / "ledger.csv"), str(mib << 20)], check=True)
    db = tmp_path / f"a{mib}.duckdb"
    env = dict(os.environ)
    env.pop("AUDITLIB_INGEST_MEMORY", None)
    if memory is not None:
        env["AUDITLIB_INGEST_MEMORY"] = memory
    out = subprocess.run([sys.executable, "-c", _PEAK, str(BIN / "auditlib"), "ingest", str(data), "--db", str(db)],
                         capture_output=True, text=True, timeout=600, env=env)
    code, peak = map(int, out.stdout.split())
    assert code == 0, out.stderr
    rows = _rows(db, "SELECT count(*) FROM ledger")[0][0]
    shutil.rmtree(data)
    for p in tmp_path.glob(f"a{mib}.duckdb*"):
        if p.is_file():
            p.unlink()
    return peak, rows


@pytest.mark.slow
def test_a_large_csv_is_ingested_in_flat_memory(tmp_path):
    # DuckDB's memory limit set small, so that an 80 MiB file is already beyond it: the peak must
    # then stay where it is for a file eight times as large (DuckDB spills to disk instead of
    # growing).  Measured: 40 MiB 208 MB; 80 MiB 241-244 MB; 160 MiB 246-263 MB; 320 MiB 251-259 MB;
    # 640 MiB 260 MB.  The same file's peak varies by up to ~22 MB from run to run, so the pair is
    # taken far apart: a 160/320 pair with a 16 MiB allowance failed once on that noise alone.
    small_peak, small_rows = _ingest_peak_kib(tmp_path, 80, "128MB")
    big_peak, big_rows = _ingest_peak_kib(tmp_path, 640, "128MB")
    assert big_rows > 7.8 * small_rows  # every line loaded
    growth_mib = (big_peak - small_peak) / 1024
    # the file grew by 560 MiB; the ingest's peak memory may grow by a small fraction of that
    assert growth_mib < 0.1 * 560, (small_peak, big_peak)


@pytest.mark.slow
def test_a_large_csv_is_ingested_within_the_default_memory_bound(tmp_path):
    # the default limit scales with the machine (at most INGEST_MEMORY_MAX_MB): the whole command's
    # peak stays within that limit plus a fixed allowance for Python and DuckDB's own structures,
    # whatever the file's size (a 160 MiB file, several times the limit's share of it)
    from auditlib.ingest.load import INGEST_MEMORY_MAX_MB

    peak, rows = _ingest_peak_kib(tmp_path, 160)
    assert rows > 2_000_000
    assert peak / 1024 < INGEST_MEMORY_MAX_MB + 300, peak


# ---- a database held by another process ------------------------------------------------------------------


def test_ingest_into_a_database_another_process_holds_is_a_clear_error(tmp_path):
    data = _folder(tmp_path, "payments_far_dates.csv")
    db = tmp_path / "a.duckdb"
    ingest(data, db)
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; "
                               f"c = duckdb.connect({str(db)!r}, read_only=True); print('ok', flush=True); "
                               "time.sleep(120)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        (tmp_path / "more").mkdir()
        (tmp_path / "more" / "units.csv").write_text("unit_code,unit_name\n9,x\n", encoding="utf-8")
        result = subprocess.run([str(BIN / "auditlib"), "ingest", str(tmp_path / "more"), "--db", str(db)],
                                capture_output=True, text=True, timeout=120)
        from auditlib.db import connect

        with pytest.raises(DatabaseError) as err:
            connect(db, read_only=False)
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 2, result.stderr
    msg = result.stderr
    assert str(db) in msg and f"PID {holder.pid}" in msg and "正被其他进程使用" in msg and "in use by another process" in msg
    assert "lock" in msg and "Conflicting" not in msg  # DuckDB's raw text is not shown
    assert err.value.reason == "locked" and str(db) in str(err.value) and "auditlib run" in str(err.value)
