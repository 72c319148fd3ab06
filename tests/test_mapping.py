"""Mapping profiles (CONTRACT §1): each shipped profile loads a two-line sample of its export
through the real ingest; bad profiles and missing columns fail with exit 2 naming the column."""
from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest
from click.testing import CliRunner

from auditlib.cli import main
from auditlib.errors import MappingError
from auditlib.ingest.load import ingest
from auditlib.ingest.profiles import load_profile
from auditlib.workspace import shipped

def _shipped_profiles() -> Path:
    """The profiles the package ships (``params/mappings/`` as a package resource)."""
    return shipped("params") / "mappings"


SHIPPED = ("oxford-payments", "nigrini-corporate-payments", "ar-invoices", "yonyou-u8-voucher",
           "kingdee-k3-voucher", "yonyou-voucher-aux", "leeds-spending")


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding=encoding, newline="")
    return path


def _rows(db, sql):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _rejects(db):
    with open(Path(db).parent / "rejects.csv", encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _report(db):
    return {r["file"]: r for r in json.loads((Path(db).parent / "ingest_report.json").read_text("utf-8"))}


def test_every_shipped_profile_is_valid_and_documented_here():
    assert sorted(p.stem for p in _shipped_profiles().glob("*.yaml")) == sorted(SHIPPED)
    for name in SHIPPED:
        profile = load_profile(name)
        assert profile.name == name
        assert load_profile(_shipped_profiles() / f"{name}.yaml").fields.keys() == profile.fields.keys()


# ------------------------------------------------------------- two-line samples, one per profile

def test_oxford_profile_sample_and_header_drift(tmp_path):
    data = tmp_path / "data"
    # two quarters with different headers (the real files drift like this)
    _write(data / "expenditure-over-500-apr-jun-2015.csv",
           "Body Name,Organisatonal Unit,Expenditure Category,Expenditure Code,Paid Date,Trans No,Amount,Type,"
           "Supplier ID,Supplier Name\n"
           "Oxford City Council,Financial Services,Grants,D3701,07/04/2015,46285340_1,1054.11,Revenue,"
           "20000000_46285340,Redacted personal data\n"
           "Oxford City Council,Financial Services,Grants,D3701,00:00:00,46285341_1,\"1,255.18\",Revenue,"
           "20000000_46285341,Boogie Bros\n")
    _write(data / "expenditure-over-500-jul-sep-2017.csv",
           "Client,Service Area,Expenditure Code,Paid Date,Trans No,Amount,Type of Expenditure,Supplier ID,"
           "Supplier Name\n"
           "OCC,General Fund,Z110205,01/08/2017,1038986 - 2,198.35,Revenue,20019050,SMS CONNECTIONS LTD\n"
           "OCC,General Fund,Z970590,18/07/2017,46294528 - 1,6203.90,Revenue,20016580,HMRC\n")
    db = tmp_path / "out" / "a.duckdb"
    report = ingest(data, db, mapping="oxford-payments")
    assert [(f.rows_read, f.rows_loaded, f.rows_rejected) for f in report.files] == [(2, 1, 1), (2, 2, 0)]
    rows = _rows(db, "SELECT unit_code, payment_id, payee_name, amount, paid_on, expense_type, memo "
                     "FROM payments ORDER BY paid_on")
    assert rows == [
        ("OCC", "46285340_1", "Redacted personal data", Decimal("1054.11"), dt.date(2015, 4, 7), "Grants", "D3701"),
        ("OCC", "46294528 - 1", "HMRC", Decimal("6203.90"), dt.date(2017, 7, 18), None, "Z970590"),
        ("OCC", "1038986 - 2", "SMS CONNECTIONS LTD", Decimal("198.35"), dt.date(2017, 8, 1), None, "Z110205"),
    ]
    (rej,) = _rejects(db)
    assert rej == {"file": "expenditure-over-500-apr-jun-2015.csv", "line": "3", "column": "paid_on (Paid Date)",
                   "value": "00:00:00", "reason": "time without a date: '00:00:00'"}
    # columns no field uses stay in the database
    extra = _rows(db, "SELECT _extra FROM payments WHERE payment_id = '46285340_1'")[0][0]
    assert json.loads(extra)["Supplier ID"] == "20000000_46285340"
    assert _report(db)["expenditure-over-500-apr-jun-2015.csv"]["mapping"] == "oxford-payments"


def test_nigrini_profile_sample_keeps_repeated_rows(tmp_path):
    data = tmp_path / "data"
    _write(data / "corporate.payment.csv",
           "VendorNum,Date,InvNum,Amount\n"
           "2001,2010-01-02,0496J10,36.08\n"
           "2001,2010-01-02,0496J10,36.08\n")
    db = tmp_path / "a.duckdb"
    ingest(data, db, mapping="nigrini-corporate-payments")
    assert _rows(db, "SELECT unit_code, payment_id, payee_name, amount, paid_on, memo FROM payments ORDER BY 2") == [
        ("CORP", "2001-0496J10-2", "2001", Decimal("36.08"), dt.date(2010, 1, 2), "0496J10"),
        ("CORP", "2001-0496J10-3", "2001", Decimal("36.08"), dt.date(2010, 1, 2), "0496J10"),
    ]


def test_ar_invoices_profile_sample(tmp_path):
    data = tmp_path / "data"
    _write(data / "accounts-receivable.csv",
           "countryCode,customerID,PaperlessDate,invoiceNumber,InvoiceDate,DueDate,InvoiceAmount,Disputed,"
           "SettledDate,PaperlessBill,DaysToSettle,DaysLate\n"
           "391,0379-NEVHP,4/6/2013,611365,1/2/2013,2/1/2013,55.94,No,1/15/2013,Paper,13,0\n"
           "406,8976-AMJEO,3/3/2012,7900770,1/26/2013,2/25/2013,61.74,Yes,3/3/2013,Electronic,36,6\n")
    db = tmp_path / "a.duckdb"
    report = ingest(data, db, mapping="ar-invoices")
    assert report.files[0].table == "payments"  # not "accounts" by the file name
    rows = _rows(db, "SELECT unit_code, payment_id, payee_name, amount, accepted_on, paid_on, payee_is_sme, "
                     "term_days FROM payments ORDER BY payment_id")
    assert rows == [
        ("AR", "611365", "0379-NEVHP", Decimal("55.94"), dt.date(2013, 1, 2), dt.date(2013, 1, 15), True, 30),
        ("AR", "7900770", "8976-AMJEO", Decimal("61.74"), dt.date(2013, 1, 26), dt.date(2013, 3, 3), True, 30),
    ]


U8_HEADER = "iyear,iperiod,csign,ino_id,inid,dbill_date,cdigest,ccode,md,mc,ccode_equal,ccus_id,csup_id,iflag\n"


def test_yonyou_u8_profile_sample(tmp_path):
    data = tmp_path / "data"
    _write(data / "GL_accvouch_0012.csv",
           U8_HEADER
           + "2024,3,记,12,1,2024-03-05 00:00:00.000,收到房租,100201,\"12,000.00\",0,230701,,,\n"
           + "2024,3,记,12,2,2024-03-05 00:00:00.000,收到房租,230701,0,12000,100201,,S007,\n", "gbk")
    db = tmp_path / "a.duckdb"
    report = ingest(data, db, mapping="yonyou-u8-voucher")
    assert report.files[0].encoding == "gbk"
    rows = _rows(db, "SELECT unit_code, voucher_date, voucher_no, line_no, account_code, summary, debit, credit, "
                     "counterparty, _extra FROM ledger ORDER BY line_no")
    assert [r[:9] for r in rows] == [
        ("0012", dt.date(2024, 3, 5), "2024-3-记-12", 1, "100201", "收到房租", Decimal("12000.00"), Decimal("0.00"),
         None),
        ("0012", dt.date(2024, 3, 5), "2024-3-记-12", 2, "230701", "收到房租", Decimal("0.00"), Decimal("12000.00"),
         "S007"),
    ]
    assert json.loads(rows[0][9])["ccode_equal"] == "230701"


def test_yonyou_u8_void_vouchers_are_filtered_and_counted(tmp_path):
    data = tmp_path / "data"
    _write(data / "GL_accvouch_0012.csv",
           U8_HEADER
           + "2024,3,记,12,1,2024-03-05,收到房租,100201,500,0,230701,,,\n"
           + "2024,3,记,13,1,2024-03-06,作废,100201,800,0,230701,,,1\n"
           + "2024,3,记,14,1,2024-13-06,日期错,100201,800,0,230701,,,\n"
           + "2024,3,记,15,1,本月合计,,,1300,0,,,,\n")
    db = tmp_path / "a.duckdb"
    report = ingest(data, db, mapping="yonyou-u8-voucher")
    f = report.files[0]
    assert (f.rows_read, f.rows_loaded, f.rows_rejected, f.rows_subtotal, f.rows_filtered) == (4, 1, 1, 1, 1)
    rec = _report(db)["GL_accvouch_0012.csv"]
    assert rec["rows_read"] == rec["rows_loaded"] + rec["rows_subtotal"] + rec["rows_rejected"] + rec["rows_filtered"]
    (rej,) = _rejects(db)
    assert (rej["line"], rej["column"], rej["value"]) == ("4", "voucher_date (dbill_date)", "2024-13-06")
    assert "过滤" in report.describe("zh") and "filtered" in report.describe("en")


def test_yonyou_u8_profile_reads_xlsx_codes_as_text(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(U8_HEADER.strip().split(","))
    ws.append([2024, 3, "记", 7, 1, dt.datetime(2024, 3, 5), "提现", 1001, 5000.5, None, "1002", None, None, None])
    ws.append([2024, 3, "记", 7, 2, dt.datetime(2024, 3, 5), "提现", 100201, None, 5000.5, "1001", None, None, None])
    wb.save(data / "GL_accvouch_U01.xlsx")
    db = tmp_path / "a.duckdb"
    ingest(data, db, mapping="yonyou-u8-voucher")
    assert _rows(db, "SELECT unit_code, voucher_no, account_code, debit, credit FROM ledger ORDER BY line_no") == [
        ("U01", "2024-3-记-7", "1001", Decimal("5000.50"), Decimal("0.00")),
        ("U01", "2024-3-记-7", "100201", Decimal("0.00"), Decimal("5000.50")),
    ]


def test_kingdee_k3_profile_sample(tmp_path):
    data = tmp_path / "data"
    _write(data / "t_VoucherEntry_0012.csv",
           "FDate,FYear,FPeriod,FGroupID,FNumber,FEntryID,FExplanation,FAccountID,FDC,FAmount\n"
           "2024/3/5,2024,3,1,12,0,支付会议费,6101,1,8800.00\n"
           "2024/3/5,2024,3,1,12,1,支付会议费,1002,0,8800.00\n")
    db = tmp_path / "a.duckdb"
    ingest(data, db, mapping="kingdee-k3-voucher")
    assert _rows(db, "SELECT unit_code, voucher_date, voucher_no, line_no, account_code, summary, debit, credit "
                     "FROM ledger ORDER BY line_no") == [
        ("0012", dt.date(2024, 3, 5), "2024-3-1-12", 0, "6101", "支付会议费", Decimal("8800.00"), Decimal("0.00")),
        ("0012", dt.date(2024, 3, 5), "2024-3-1-12", 1, "1002", "支付会议费", Decimal("0.00"), Decimal("8800.00")),
    ]


# ---------------------------------------------------------------- formats of a custom profile

def test_custom_profile_decimal_comma_currency_constants_and_other_files(tmp_path):
    profile = _write(tmp_path / "eu.yaml", """
table: payments
files: ["zahlungen*.csv"]
encoding: utf-8
dates: {format: ["%d.%m.%Y"]}
money: {decimal_comma: true, currency: ["EUR"]}
constants: {unit_code: "0012", payee_is_sme: true}
fields:
  payment_id: Belegnr
  payee_name: Empfaenger
  amount: Betrag
  accepted_on: {column: Rechnungsdatum, format: "%d.%m.%y"}
  paid_on: Zahldatum
""")
    data = tmp_path / "data"
    _write(data / "zahlungen_2024.csv",
           "Belegnr;Empfaenger;Betrag;Rechnungsdatum;Zahldatum\n".replace(";", ",")
           + "0007,Müller GmbH,\"EUR 1.234,56\",01.02.24,05.03.2024\n"
           + "0008,Schmidt AG,\"-0,50 €\",01.02.24,31.02.2024\n")
    _write(data / "units.csv", "unit_code,unit_name\n0012,某局\n")
    db = tmp_path / "a.duckdb"
    report = ingest(data, db, mapping=profile)
    assert {f.file: (f.table, f.mapping) for f in report.files} == {
        "units.csv": ("units", None), "zahlungen_2024.csv": ("payments", "eu")}
    assert _rows(db, "SELECT unit_code, payment_id, amount, accepted_on, paid_on, payee_is_sme FROM payments") == [
        ("0012", "0007", Decimal("1234.56"), dt.date(2024, 2, 1), dt.date(2024, 3, 5), True)]
    (rej,) = _rejects(db)
    assert (rej["file"], rej["line"], rej["column"]) == ("zahlungen_2024.csv", "3", "paid_on (Zahldatum)")
    assert (rej["value"], rej["reason"]) == ("31.02.2024", "not a date in the format %d.%m.%Y: '31.02.2024'")


# ----------------------------------------------------------------------------- errors, exit 2

def test_cli_profile_naming_a_missing_column_exits_2_naming_it(tmp_path):
    data = tmp_path / "data"
    _write(data / "corporate.payment.csv", "VendorNum,Date,InvoiceNo,Amount\n2001,2010-01-02,0496J10,36.08\n")
    db = tmp_path / "a.duckdb"
    result = CliRunner().invoke(main, ["ingest", str(data), "--db", str(db), "--mapping",
                                       "nigrini-corporate-payments"])
    assert result.exit_code == 2, result.output
    assert "'InvNum'" in result.output and "corporate.payment.csv" in result.output
    assert "InvoiceNo" in result.output  # the columns found
    assert not (tmp_path / "ingest_report.json").exists()
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'payments'"
                           ).fetchone()[0] == 0 or con.execute("SELECT count(*) FROM payments").fetchone()[0] == 0
    finally:
        con.close()


def test_cli_mapping_by_file_in_english(tmp_path):
    data = tmp_path / "data"
    _write(data / "accounts-receivable.csv",
           "customerID,invoiceNumber,InvoiceDate,InvoiceAmount,SettledDate\nC1,1,1/2/2013,10.00,3/3/2013\n")
    result = CliRunner().invoke(main, ["ingest", str(data), "--db", str(tmp_path / "a.duckdb"), "--mapping",
                                       str(_shipped_profiles() / "ar-invoices.yaml"), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "profile ar-invoices" in result.output and "loaded" in result.output


@pytest.mark.parametrize("body, key", [
    ("table: payment\nfields: {}\n", "table"),
    ("table: payments\nfields: {payment_id: a, payee_name: b, amount: c, colour: d}\nconstants: {unit_code: x}\n",
     "fields.colour"),
    ("table: payments\nfields: {payment_id: a, payee_name: b}\nconstants: {unit_code: x}\n", "fields"),
    ("table: payments\nfields: {payment_id: a, payee_name: b, amount: {col: c}}\nconstants: {unit_code: x}\n",
     "fields.amount.col"),
    ("table: payments\nfields: {payment_id: a, payee_name: b, amount: c}\nconstants: {unit_code: x}\nextra: 1\n",
     "extra"),
])
def test_bad_profiles_name_the_key(tmp_path, body, key):
    path = _write(tmp_path / "bad.yaml", body)
    with pytest.raises(MappingError) as err:
        load_profile(path)
    assert err.value.key == key and str(path) in str(err.value)
    data = tmp_path / "data"
    _write(data / "payments.csv", "a,b,c\n1,2,3\n")
    result = CliRunner().invoke(main, ["ingest", str(data), "--db", str(tmp_path / "a.duckdb"), "--mapping", str(path)])
    assert result.exit_code == 2 and key in result.output


def test_unknown_profile_and_no_matching_file_exit_2(tmp_path):
    data = tmp_path / "data"
    _write(data / "payments.csv", "a\n1\n")
    runner = CliRunner()
    result = runner.invoke(main, ["ingest", str(data), "--db", str(tmp_path / "a.duckdb"), "--mapping", "no-such"])
    assert result.exit_code == 2 and "oxford-payments" in result.output  # lists the shipped profiles
    result = runner.invoke(main, ["ingest", str(data), "--db", str(tmp_path / "a.duckdb"), "--mapping",
                                  "kingdee-k3-voucher"])
    assert result.exit_code == 2 and "kingdee-k3-voucher" in result.output


def test_unit_code_from_a_file_name_that_lacks_it_is_an_error(tmp_path):
    data = tmp_path / "data"
    _write(data / "GL_accvouch.csv", U8_HEADER + "2024,3,记,1,1,2024-03-05,x,1001,1,0,,,,\n")
    with pytest.raises(MappingError) as err:
        ingest(data, tmp_path / "a.duckdb", mapping="yonyou-u8-voucher")
    assert err.value.key == "fields.unit_code" and "GL_accvouch.csv" in str(err.value)


# ------------------------------------------------------------- issue 16: regex, 辅助项, Leeds

AUX_HEADER = "会计期间,制单日期,凭证号,摘要,科目编码,科目名称,借方金额,贷方金额,辅助项\n"


def test_yonyou_voucher_aux_profile_takes_the_counterparty_out_of_the_aux_column(tmp_path):
    data = tmp_path / "data"
    _write(data / "凭证_0012.csv",
           AUX_HEADER
           + "3,2024-03-05,记-0001,付房租,5001,业务活动费用,\"12,000.00\",,【客商：某某物业公司】【部门：办公室】【项目：P001 房租】\n"
           + "3,2024-03-05,记-0001,付房租,1011,零余额账户用款额度,,12000,【部门：办公室】\n"
           + "4,2024-04-01,记-0001,借款,1218,其他应收款,500,,[客户:张三]\n"
           + "4,2024-04-01,记-0001,借款,1002,银行存款,,500,\n", "gbk")
    db = tmp_path / "a.duckdb"
    report = ingest(data, db, mapping="yonyou-voucher-aux")
    assert report.files[0].encoding == "gbk" and report.files[0].rows_loaded == 4
    rows = _rows(db, "SELECT unit_code, voucher_no, line_no, account_code, debit, credit, counterparty, project_code "
                     "FROM ledger ORDER BY voucher_no, line_no")
    assert rows == [
        ("0012", "3-记-0001", 2, "5001", Decimal("12000.00"), Decimal("0.00"), "某某物业公司", "P001"),
        ("0012", "3-记-0001", 3, "1011", Decimal("0.00"), Decimal("12000.00"), None, None),
        ("0012", "4-记-0001", 4, "1218", Decimal("500.00"), Decimal("0.00"), "张三", None),
        ("0012", "4-记-0001", 5, "1002", Decimal("0.00"), Decimal("500.00"), None, None),
    ]


def test_regex_field_takes_the_value_group_and_leaves_no_match_empty(tmp_path):
    data = tmp_path / "data"
    _write(data / "x.csv", "id,who,amt\n1,【客商：甲公司】【部门：办公室】,1\n2,【部门：办公室】,1\n3,客商：乙,1\n")
    profile = _write(tmp_path / "p.yaml", """
table: payments
files: ["x.csv"]
constants: {unit_code: "U"}
fields:
  payment_id: id
  payee_name: {column: who, regex: '客商：(?P<value>[^】]+)'}
  amount: amt
""")
    db = tmp_path / "a.duckdb"
    report = ingest(data, db, mapping=profile)
    assert _rows(db, "SELECT payment_id, payee_name FROM payments ORDER BY 1") == [("1", "甲公司"), ("3", "乙")]
    assert report.files[0].rows_rejected == 1  # no 客商 in row 2: the required payee is missing
    assert _rejects(db)[0]["reason"] == "missing required value"


@pytest.mark.parametrize("regex, message", [("'客商：[^】]+'", "(?P<value>"), ("'(?P<value>['", "bad regular")])
def test_regex_needs_a_group_and_must_compile(tmp_path, regex, message):
    profile = _write(tmp_path / "p.yaml", f"""
table: payments
constants: {{unit_code: "U", amount: 1, payment_id: "1"}}
fields:
  payee_name: {{column: who, regex: {regex}}}
""")
    with pytest.raises(MappingError) as exc:
        load_profile(profile)
    assert exc.value.key == "fields.payee_name.regex" and message in str(exc.value)


LEEDS_HEADER_2011 = ("Body,Body name,Service label,Service divison label,Expenditure category,"
                     "Detailed expenditure type,Detailed expenditure code,Date paid,Transaction number,Net amount,"
                     "Capital or revenue,Supplier name\r\n")
LEEDS_HEADER_2012 = LEEDS_HEADER_2011.replace("expenditure type", "expenses type").replace(
    "expenditure code", "expense code").replace("Supplier name", "Supplier name ")
BODY = "http://statistics.data.gov.uk/doc/local-authority/00DA"


def test_leeds_spending_profile_sample(tmp_path):
    """Built from the Leeds field names: header drift, three date forms, a Windows-1252 name that is
    valid GBK, padded names, 1,234.56, the same transaction number in two months, a grand total."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "2011-12.csv").write_bytes((
        LEEDS_HEADER_2011
        + f"{BODY},Leeds City Council,City Development,Libraries,Supplies,Contributions,271,09/12/2011,1112-06301,"
          "2000.00,R,Pavel Büchler\r\n"
        + f"{BODY},East - North East   ,East,Construction,Supplies,Materials,205,16/12/2011,1112-00001,"
          "\"1,234.56\",R,A Andrews & Sons \r\n"
        + ",,,,,,,,,3234.56,,\r\n").encode("cp1252"))
    (data / "2012-01.csv").write_bytes((
        LEEDS_HEADER_2012
        + f"{BODY},Leeds City Council,Insurance,Insurance,Supplies,Claims,248,12-Jan-2012,1112-00001,1325.00,R,"
          "4th Coming Events\r\n").encode("ascii"))
    (data / "2012-03.csv").write_bytes((
        LEEDS_HEADER_2012
        + f"{BODY},Leeds City Council,Childrens,Learning,Third Party,Services,511,21-Mar-12,1203-10322,17316,R,"
          "4children\r\n").encode("ascii"))
    db = tmp_path / "a.duckdb"
    report = ingest(data, db, mapping="leeds-spending")
    rows = _rows(db, "SELECT payment_id, unit_code, payee_name, amount, paid_on, expense_type FROM payments "
                     "ORDER BY payment_id")
    assert rows == [
        ("2011-12/1112-00001", "East - North East", "A Andrews & Sons", Decimal("1234.56"), dt.date(2011, 12, 16),
         "Materials"),
        ("2011-12/1112-06301", "Leeds City Council", "Pavel Büchler", Decimal("2000.00"), dt.date(2011, 12, 9),
         "Contributions"),
        ("2012-01/1112-00001", "Leeds City Council", "4th Coming Events", Decimal("1325.00"), dt.date(2012, 1, 12),
         "Claims"),
        ("2012-03/1203-10322", "Leeds City Council", "4children", Decimal("17316.00"), dt.date(2012, 3, 21),
         "Services"),
    ]
    rep = {f.file: f for f in report.files}
    assert rep["2011-12.csv"].encoding == "cp1252" and rep["2011-12.csv"].rows_filtered == 1
    assert sum(f.rows_rejected for f in report.files) == 0
