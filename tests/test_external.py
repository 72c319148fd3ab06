"""Known answers on real public data (../shared/external, see its README), through the real path:
ingest with a shipped mapping profile into a DuckDB file -> the rules / Benford functions -> outputs.

The data are read where they lie (``$AUDITLIB_EXTERNAL`` or ``../shared/external`` beside the
repository) and never copied into the repository; without them every test here skips.
"""
from __future__ import annotations

import csv
import json
import os
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from auditlib.rules.benford import benford_report, benford_test
from auditlib.rules.engine import inspect
from auditlib.ingest.load import ingest
from auditlib.rules.params import load_params
from auditlib.batch.scan import scan

pytestmark = pytest.mark.external

EXTERNAL = Path(os.environ.get("AUDITLIB_EXTERNAL") or Path(__file__).resolve().parents[2] / "shared" / "external")


def _dataset(*parts) -> Path:
    path = EXTERNAL.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"external data not available: {path} (set AUDITLIB_EXTERNAL or run inside the workplace)")
    return path


def _query(db, sql, params=None):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _rejects(db):
    with open(Path(db).parent / "rejects.csv", encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _report(db):
    return json.loads((Path(db).parent / "ingest_report.json").read_text(encoding="utf-8"))


def _amounts(db):
    return [a for (a,) in _query(db, "SELECT amount FROM payments")]


# ------------------------------------------------------------------ Nigrini corporate payments

@pytest.fixture(scope="module")
def corporate(tmp_path_factory):
    data = _dataset("nigrini", "corporate.payment.csv").parent
    db = tmp_path_factory.mktemp("corporate") / "audit.duckdb"
    report = ingest(data, db, mapping="nigrini-corporate-payments")
    return db, report


def test_corporate_payments_load_whole(corporate):
    db, report = corporate
    (rec,) = [f for f in report.files if f.file == "corporate.payment.csv"]
    assert (rec.table, rec.mapping, rec.rows_read, rec.rows_loaded, rec.rows_rejected) == (
        "payments", "nigrini-corporate-payments", 189_470, 189_470, 0)
    skipped = [f for f in report.files if f.file == "journal.entry.csv"]
    assert skipped and skipped[0].status == "skipped"  # not named by the profile, no table by name
    # money stays exact: the database sum equals the exact decimal sum of the source text
    with open(_dataset("nigrini", "corporate.payment.csv"), newline="", encoding="utf-8") as fh:
        source_total = sum(Decimal(r["Amount"]) for r in csv.DictReader(fh))
    assert _query(db, "SELECT sum(amount) FROM payments")[0][0] == source_total


def test_corporate_benford_known_answers(corporate):
    db, _ = corporate
    report = benford_report(_amounts(db), min_amount=10)
    first, two = report.first, report.first_two
    assert first.n == two.n == 177_763
    assert round(first.mad, 5) == 0.01464
    assert (first.conformity, first.label("en"), first.label("zh")) == (
        "marginal", "marginally acceptable conformity", "勉强可接受的符合")
    assert round(two.mad, 5) == 0.00243
    assert (two.conformity, two.label("en")) == ("nonconformity", "nonconformity")
    top = [(a, c) for a, c in zip(report.top_amounts["amount"], report.top_amounts["count"])][:3]
    assert top == [(Decimal("50.00"), 6022), (Decimal("1153.35"), 2264), (Decimal("1083.45"), 1185)]
    assert report.floor is None  # no reporting floor in a full payments file
    assert any("50.00" in note and "6022" in note for note in report.observations("en"))


def test_corporate_first_two_digits_on_all_positive_amounts(corporate):
    db, _ = corporate
    res = benford_test([a for a in _amounts(db) if a > 0], 2)
    assert res.n == 185_083
    assert round(res.mad, 9) == 0.002336614
    # the largest discrepancies by absolute deviation, as benford.analysis ranks them (14 is short, the others over)
    table = res.table.assign(size=res.table["deviation"].abs()).sort_values("size", ascending=False)
    assert table["digit"].head(5).tolist() == [50, 11, 10, 14, 98]


def test_sf08_does_not_flag_corporate_payments_at_its_default(corporate, tmp_path):
    db, _ = corporate
    result = inspect(db, "slush_funds")
    assert "SF08" not in set(result.findings["rule_id"])  # MAD 0.01464 <= max_mad 0.015
    # the same screen with a stricter limit does flag the unit, with the published MAD
    stricter = tmp_path / "strict.yaml"
    stricter.write_text("rules:\n  SF08: {max_mad: 0.014}\n", encoding="utf-8")
    flagged = inspect(db, "slush_funds", params=load_params(stricter)).evidence["SF08"]
    assert flagged["ref"].tolist() == ["units:CORP"]
    assert (int(flagged["n"].iloc[0]), round(float(flagged["mad"].iloc[0]), 5)) == (177_763, 0.01464)


# ------------------------------------------------------------------ IBM accounts receivable

@pytest.fixture(scope="module")
def receivables(tmp_path_factory):
    data = _dataset("ar-invoices", "accounts-receivable.csv").parent
    db = tmp_path_factory.mktemp("receivables") / "audit.duckdb"
    report = ingest(data, db, mapping="ar-invoices")
    return db, report


def test_ar_invoices_dp01_known_answer(receivables, tmp_path):
    db, report = receivables
    (rec,) = report.files
    assert (rec.table, rec.rows_read, rec.rows_loaded, rec.rows_rejected) == ("payments", 2466, 2466, 0)
    out = tmp_path / "findings.csv"
    result = scan(db, inspections=["delayed_payments"], out=out)
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["rule_id"] == "DP01"]
    assert result.counts["DP01"] == len(rows) == 877
    ev = inspect(db, "delayed_payments").evidence["DP01"]
    assert len(ev) == 877
    assert int(ev["days_late"].sum()) == 8489 and int(ev["days_late"].max()) == 45
    assert set(ev["ref"]) == {r["ref"] for r in rows}
    # each finding agrees with the file's own DaysLate column (kept as an extra column)
    published = {pid: int(json.loads(extra)["DaysLate"])
                 for pid, extra in _query(db, "SELECT payment_id, _extra FROM payments")}
    assert {pid: int(d) for pid, d in zip(ev["payment_id"], ev["days_late"])} == {
        pid: d for pid, d in published.items() if d > 0}


@pytest.mark.batch
def test_ar_invoices_run_through_the_delayed_payments_notebook(receivables, tmp_path):
    """A real export as a unit: the batch runs delayed_payments.ipynb on it and the report renders."""
    from auditlib.outputs.html_export import external_urls
    from auditlib.batch.run import run

    db, _ = receivables
    result = run(db, inspections=["delayed_payments"], out=tmp_path / "runs", run_id="ar", workers=1,
                 progress=False)
    assert result.exit_code == 0, result.failed
    with open(result.run_dir / "findings.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(x["unit_code"], x["status"], x["findings"]) for x in result.tasks] == [("AR", "ok", len(rows))]
    assert sum(r["rule_id"] == "DP01" for r in rows) == 877
    page = (result.run_dir / "AR" / "delayed_payments.html").read_text(encoding="utf-8")
    assert "DP01" in page and "中小企业款项超过付款期限支付" in page and "877" in page
    assert 'src="data:image/png;base64,' in page  # the days-to-pay chart
    assert external_urls(page) == []
    assert (result.run_dir / "AR" / "delayed_payments.xlsx").is_file()


# ------------------------------------------------------------------ Oxford City Council payments

@pytest.mark.parametrize("which", ["corporate", "oxford"])
def test_sf12_and_sf13_behave_on_real_payments(which, request):
    """Not a target count: SF12 and SF13 run on real exports, and every finding is what the rule
    says (a rest day by the calendar or, outside it, a weekend; a same-amount pair with near names)."""
    from auditlib.rules.rest_days import is_covered, is_rest_day

    db = request.getfixturevalue(which)[0 if which == "corporate" else 1]
    result = inspect(db, "slush_funds", rule_ids=["SF12", "SF13"])
    rows = {pid: (payee, amount, paid) for pid, payee, amount, paid in _query(
        db, "SELECT payment_id, payee_name, amount, paid_on FROM payments")}
    sf12 = result.evidence.get("SF12")
    assert sf12 is not None
    for ref in sf12["ref"]:
        paid = rows[ref.split(":", 1)[1]][2]
        assert is_rest_day(paid) if is_covered(paid.year) else paid.weekday() >= 5, ref
    sf13 = result.evidence.get("SF13")
    assert sf13 is not None
    for rec in sf13.itertuples():
        payee, amount, paid = rows[rec.payment_id]
        partners = [rows[i.strip()] for i in str(rec.similar_ids).replace(";", ",").split(",") if i.strip()]
        assert partners and all(a == amount and abs((d - paid).days) <= 30 and p != payee
                                for p, a, d in partners), rec.ref
    print(f"{which}: SF12 {len(sf12)}, SF13 {len(sf13)}")


@pytest.fixture(scope="module")
def oxford(tmp_path_factory):
    data = _dataset("oxford-payments")
    db = tmp_path_factory.mktemp("oxford") / "audit.duckdb"
    report = ingest(data, db, mapping="oxford-payments")
    return data, db, report


def test_oxford_all_quarters_load_through_one_profile(oxford):
    data, db, report = oxford
    files = sorted(p.name for p in data.glob("*.csv"))
    assert len(files) == 17
    recs = {r["file"]: r for r in _report(db)}
    assert sorted(recs) == files
    for rec in recs.values():
        assert (rec["table"], rec["mapping"], rec["status"]) == ("payments", "oxford-payments", "loaded")
        assert rec["rows_read"] == rec["rows_loaded"] + rec["rows_subtotal"] + rec["rows_rejected"] + rec["rows_filtered"]
        loaded = _query(db, "SELECT count(*) FROM payments WHERE _file = ?", [rec["file"]])[0][0]
        assert loaded == rec["rows_loaded"]
    # the README's 61,528 payments, plus one junk trailer line (",,xxx,,,,,,,") that is rejected
    assert sum(r["rows_read"] for r in recs.values()) == 61_528 + 1
    rejects = _rejects(db)
    trailer = [r for r in rejects if r["file"] == "expenditure-over-500-jan-mar-2014.csv"]
    assert {r["line"] for r in trailer} == {str(recs["expenditure-over-500-jan-mar-2014.csv"]["rows_read"] + 1)}
    assert {r["reason"] for r in trailer} == {"missing required value"}
    # every reject is recorded with file, line, column and reason; the counts agree
    per_file = {}
    for r in rejects:
        assert r["file"] and r["line"] and r["column"] and r["reason"]
        per_file.setdefault(r["file"], set()).add(r["line"])
    assert {f: len(lines) for f, lines in per_file.items()} == {
        f: r["rows_rejected"] for f, r in recs.items() if r["rows_rejected"]}


def test_oxford_quarter_without_paid_dates_is_rejected_row_by_row(oxford):
    data, db, _ = oxford
    name = "expenditure-over-500-apr-jun-2014.csv"
    rec = {r["file"]: r for r in _report(db)}[name]
    assert rec["rows_loaded"] == 0 and rec["rows_rejected"] == rec["rows_read"] > 3000
    rejects = [r for r in _rejects(db) if r["file"] == name]
    assert len(rejects) == rec["rows_read"]  # one per row
    assert {(r["column"], r["value"], r["reason"]) for r in rejects} == {
        ("paid_on (Paid Date)", "00:00:00", "time without a date: '00:00:00'")}
    assert len({r["line"] for r in rejects}) == rec["rows_read"]
    assert _query(db, "SELECT count(*) FROM payments WHERE _file = ? OR paid_on IS NULL", [name])[0][0] == 0


def test_oxford_sf06_duplicate_payments(oxford):
    _, db, _ = oxford
    result = inspect(db, "slush_funds")
    ev = result.evidence["SF06"]
    assert len(ev) > 100
    assert set(result.findings.loc[result.findings["rule_id"] == "SF06", "ref"]) == set(ev["ref"])
    rows = {pid: (payee, amount, paid) for pid, payee, amount, paid in _query(
        db, "SELECT payment_id, payee_name, amount, paid_on FROM payments")}
    flagged = [rows[ref.split(":", 1)[1]] for ref in ev["ref"]]
    for payee, amount, paid in flagged:  # each has a twin among the findings within 30 days
        twins = [1 for p, a, d in flagged if p == payee and a == amount and abs((d - paid).days) <= 30]
        assert len(twins) >= 2


def test_oxford_benford_report_names_the_reporting_floor(oxford):
    _, db, _ = oxford
    report = benford_report(_amounts(db), min_amount=10)
    assert report.floor is not None and report.floor.threshold == 500
    assert report.first.conformity == "nonconformity"
    en = " ".join(report.observations("en"))
    zh = " ".join(report.observations("zh"))
    assert "Reporting floor" in en and "payments over 500" in en and "distorts the leading digits" in en
    assert "报告下限" in zh and "500" in zh and "扭曲了首位数字" in zh
    assert "Reporting floor" in report.describe("en")


# ------------------------------------------------------------------ Leeds spending over £500 (issue 16)

LEEDS_MOJIBAKE = ("點", "Ã¼", "\ufffd")  # Büchler read as GBK, UTF-8 read as Latin-1, a replacement


@pytest.fixture(scope="module")
def leeds(tmp_path_factory):
    data = _dataset("leeds-spending", "2011-12.csv").parent
    db = tmp_path_factory.mktemp("leeds") / "audit.duckdb"
    report = ingest(data, db, mapping="leeds-spending")
    return db, report


def test_leeds_loads_whole_with_no_name_mis_decoded(leeds):
    db, report = leeds
    files = {f.file: f for f in report.files}
    assert sorted(files) == ["2011-10.csv", "2011-11.csv", "2011-12.csv", "2012-01.csv", "2012-02.csv", "2012-03.csv"]
    assert sum(f.rows_read for f in report.files) == 55_427
    assert sum(f.rows_loaded for f in report.files) == 55_426  # + the unlabelled grand-total line, filtered
    assert files["2011-12.csv"].rows_filtered == 1 and sum(f.rows_rejected for f in report.files) == 0
    assert files["2011-11.csv"].encoding == files["2011-12.csv"].encoding == "cp1252"
    assert _query(db, "SELECT count(*) FROM payments WHERE payee_name = 'Pavel Büchler'")[0][0] == 1
    for bad in LEEDS_MOJIBAKE:
        assert _query(db, "SELECT count(*) FROM payments WHERE contains(payee_name, ?) OR contains(unit_code, ?)",
                      [bad, bad])[0][0] == 0
    # the three date forms all read; the grand total (78,917,710.50) is not a payment
    assert _query(db, "SELECT min(paid_on) >= DATE '2011-09-01', max(paid_on) <= DATE '2012-03-31', "
                      "count(*) FILTER (WHERE paid_on IS NULL) FROM payments")[0] == (True, True, 0)
    assert _query(db, "SELECT count(*) FROM payments WHERE amount >= 78917710")[0][0] == 0
    # transaction numbers repeat across months for different payments: both kept
    assert _query(db, "SELECT count(*) FROM payments WHERE payment_id LIKE '%/1112-00001'")[0][0] == 2


def test_leeds_2011_12_alone_without_encoding_is_right_or_exit_2_never_mojibake(tmp_path):
    """No encoding setting at all: the detector reads the file right, or stops naming the candidates."""
    import yaml
    from click.testing import CliRunner

    from auditlib.cli import main
    from auditlib.ingest.profiles import resolve

    source = _dataset("leeds-spending", "2011-12.csv")
    spec = yaml.safe_load(resolve("leeds-spending").read_text(encoding="utf-8"))
    spec.pop("encoding")
    profile = tmp_path / "leeds-no-encoding.yaml"
    profile.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    db = tmp_path / "a.duckdb"
    res = CliRunner().invoke(main, ["ingest", str(source), "--db", str(db), "--mapping", str(profile), "--lang", "en"])
    if res.exit_code == 2:
        assert "2011-12.csv" in res.output and "gbk" in res.output and "cp1252" in res.output
        return
    assert res.exit_code == 0, res.output
    assert _query(db, "SELECT count(*) FROM payments WHERE payee_name = 'Pavel Büchler'")[0][0] == 1
    for bad in LEEDS_MOJIBAKE:
        assert _query(db, "SELECT count(*) FROM payments WHERE contains(payee_name, ?)", [bad])[0][0] == 0
    (rec,) = _report(db)
    assert rec["encoding"] == "cp1252" and rec["encoding_candidates"]["gbk"] < 0.5


def test_leeds_one_date_format_rejects_half_and_exits_1(tmp_path):
    """The trap of the issue: one date format where the files use three -> 27,064 rejected, exit 1."""
    import yaml
    from click.testing import CliRunner

    from auditlib.cli import main
    from auditlib.ingest.profiles import resolve

    data = _dataset("leeds-spending", "2011-12.csv").parent
    spec = yaml.safe_load(resolve("leeds-spending").read_text(encoding="utf-8"))
    spec["dates"] = {"format": "%d/%m/%Y"}
    profile = tmp_path / "leeds-one-format.yaml"
    profile.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    db = tmp_path / "a.duckdb"
    res = CliRunner().invoke(main, ["ingest", str(data), "--db", str(db), "--mapping", str(profile), "--lang", "en"])
    assert res.exit_code == 1, res.output
    assert sum(r["rows_rejected"] for r in _report(db)) == 27_064
    assert "2012-01.csv: 8177 row(s) rejected (100.0%), most common reasons: paid_on (Date paid)" in res.output


def test_leeds_end_to_end_says_what_it_could_not_test(leeds, tmp_path, monkeypatch):
    """No acceptance dates (DP01/DP02) and a £500 publication floor (SF08): 未检查 with the reason in
    the engine, the report and the workbook, amounts labelled £ — never 未发现 for a rule that could not run."""
    from auditlib.outputs.workbook import write_workbook
    from auditlib.views import report as report_module

    db, _ = leeds
    params_file = tmp_path / "leeds.yaml"
    params_file.write_text('as_of: "2012-03-31"\nfiscal_year: 2011\ncurrency: "£"\n', encoding="utf-8")
    try:
        params = load_params(params_file)
        units = [u for (u,) in _query(db, "SELECT unit_code FROM payments GROUP BY 1 HAVING count(*) >= 300")]
        delayed = inspect(str(db), "delayed_payments", params=params)
        gaps = delayed.untested
        for rule in ("DP01", "DP02"):
            untested = set(gaps.loc[gaps.rule_id == rule, "unit_code"])
            assert untested == {u for (u,) in _query(db, "SELECT DISTINCT unit_code FROM payments")}
            assert gaps.loc[gaps.rule_id == rule, "reason_zh"].str.contains("accepted_on").all()
            assert not (delayed.findings.rule_id == rule).any()
        slush = inspect(str(db), "slush_funds", params=params)
        sf08 = slush.untested.loc[slush.untested.rule_id == "SF08"].set_index("unit_code")["reason_zh"]
        assert "Leeds City Council" in sf08.index
        assert "报告下限 400 £" in sf08["Leeds City Council"] and "不适用本福特定律" in sf08["Leeds City Council"]
        assert set(sf08.index) <= set(units)
        assert not slush.findings.loc[slush.findings.rule_id == "SF08", "unit_code"].isin(sf08.index).any()
        # the unit's report says 未检查 where the rule could not run, and labels amounts in £
        shown = []
        monkeypatch.setattr(report_module, "show", lambda html, **kw: shown.append(html))
        rep = report_module.Report.open(str(db), "Leeds City Council", "slush_funds", params_file=str(params_file))
        assert "SF08: 未检查（金额有报告下限 400 £" in rep.summary_text()
        rep.rule("SF08", chart=False)
        assert "未检查" in shown[-1] and "未发现" not in shown[-1]
        assert "£" in rep.totals_line() and " 元" not in rep.totals_line()
        dp = report_module.Report.open(str(db), "Leeds City Council", "delayed_payments", params_file=str(params_file))
        dp.rule("DP01", chart=False)
        assert "未检查（缺少 accepted_on）" in shown[-1] and "未发现" not in shown[-1]
        assert not dp.conclusion_text().startswith("本次检查未发现")
        # the workbook's summary says so too
        path = write_workbook(tmp_path / "w.xlsx", unit_code="Leeds City Council", unit_name="Leeds City Council",
                              inspection="delayed_payments", findings=delayed.findings, evidence=delayed.evidence,
                              params=params, run_id="leeds", sources=[], untested=delayed.untested)
        import openpyxl

        text = "\n".join(str(c.value) for ws in openpyxl.load_workbook(path).worksheets
                         for row in ws.iter_rows() for c in row if c.value is not None)
        assert "未检查（缺少 accepted_on）" in text and "(元)" not in text
    finally:
        load_params()  # back to the default currency for the tests after this one
