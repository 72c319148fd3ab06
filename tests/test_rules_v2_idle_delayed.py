"""The v2 rules IF05, IF06, IF07, DP06 and DP07 (CONTRACT §3) on small hand-built databases: both
sides of every threshold, the audit cut-off, exposure, IF06's drill-down, the basis cited by evidence
date on both sides of 2025-06-01, and (Hypothesis, on the sample county) that raising a threshold
never adds a finding."""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditlib.ingest.load import ingest
from auditlib.rules import laws
from auditlib.rules.catalogue import get_rule, render_catalogue
from auditlib.rules.engine import FINDING_COLUMNS, inspect
from auditlib.rules.params import load_params
from auditlib.synth.county import generate
from test_rules import make_db

D = dt.date
DAY = dt.timedelta(days=1)
AS_OF = D(2024, 12, 31)
Y = Decimal




def params(as_of=AS_OF, fiscal_year=2024, unit_rules=None, **rules):
    """Default parameters with ``rules`` ({rule: {name: value}}) and the cut-off changed."""
    base = load_params()
    resolved = {k: dict(v) for k, v in base.rules.items()}
    for rule_id, values in rules.items():
        resolved[rule_id].update(values)
    return dataclasses.replace(base, as_of=as_of, fiscal_year=fiscal_year, rules=resolved,
                               units=unit_rules or {})


def found(result, rule_id):
    """{ref: exposure} of the rule's findings."""
    f = result.findings
    f = f[f.rule_id == rule_id]
    return dict(zip(f["ref"], f["exposure"]))


# ---- IF05 idle accounts ---------------------------------------------------------------------------------
def account(no, opened=D(2020, 1, 1), kind="special", closed=None, unit="001"):
    return {"unit_code": unit, "account_no": no, "account_type": kind, "opened_on": opened, "closed_on": closed}


def line(tid, no, day, inflow=None, outflow=None, balance=None, unit="001"):
    return {"unit_code": unit, "account_no": no, "txn_id": tid, "txn_date": day, "inflow": inflow,
            "outflow": outflow, "balance": balance}


@pytest.fixture
def if05_db(tmp_path):
    accounts = [account("A365"), account("A364"), account("NOLINES"), account("OPEN365", opened=AS_OF - 365 * DAY),
                account("OPEN364", opened=AS_OF - 364 * DAY), account("ZBA", kind="zero_balance"),
                account("CLOSED", closed=AS_OF), account("CLOSEDLATER", closed=AS_OF + DAY),
                account("LATE"), account("ZERO"), account("NOOPEN", opened=None), account("INFLOW")]
    bank = [line("T1", "A365", D(2022, 1, 5), inflow=Y("800.00"), balance=Y("800.00")),
            line("T2", "A365", AS_OF - 365 * DAY, outflow=Y("300.00"), balance=Y("500.00")),
            line("T3", "A364", AS_OF - 364 * DAY, outflow=Y("300.00"), balance=Y("500.00")),
            line("T4", "CLOSED", D(2022, 1, 5), inflow=Y("10.00"), balance=Y("10.00")),
            line("T5", "CLOSEDLATER", D(2022, 1, 5), inflow=Y("20.00"), balance=Y("20.00")),
            line("T6", "LATE", D(2022, 1, 5), inflow=Y("70.00"), balance=Y("70.00")),
            line("T7", "LATE", AS_OF + DAY, outflow=Y("70.00"), balance=Y("0.00")),      # after the cut-off
            line("T8", "ZERO", D(2022, 1, 5), inflow=Y("60.00"), balance=Y("60.00")),
            line("T9", "ZERO", D(2024, 6, 30), inflow=Y("0"), outflow=Y("0"), balance=Y("60.00")),  # no movement
            line("T10", "INFLOW", D(2024, 6, 30), inflow=Y("5.00"), balance=Y("5.00"))]
    return make_db(tmp_path / "if05.duckdb", accounts=accounts, bank_txns=bank)


def test_if05_idle_days_both_sides_and_exposure(if05_db):
    got = found(inspect(if05_db, "idle_funds"), "IF05")
    assert got == {"accounts:A365": Y("500.00"), "accounts:NOLINES": Y("0.00"), "accounts:OPEN365": Y("0.00"),
                   "accounts:CLOSEDLATER": Y("20.00"), "accounts:LATE": Y("70.00"), "accounts:ZERO": Y("60.00"),
                   "accounts:NOOPEN": Y("0.00")}
    # one day less: the account idle 364 days and the one opened 364 days before join
    shorter = found(inspect(if05_db, "idle_funds", params=params(IF05={"idle_days": 364})), "IF05")
    assert set(shorter) - set(got) == {"accounts:A364", "accounts:OPEN364"}


def test_if05_evidence_is_labelled(if05_db):
    ev = inspect(if05_db, "idle_funds").evidence["IF05"]
    assert not get_rule("IF05").unlabelled(ev.columns)
    row = ev.set_index("account_no").loc["A365"]
    assert row["days_idle"] == 365 and row["last_movement"] == AS_OF - 365 * DAY


# ---- IF06 low execution in consecutive years --------------------------------------------------------------
def budget(bid, project, year, amount, unit="001", issued=None):
    return {"unit_code": unit, "budget_id": bid, "project_code": project, "project_name": f"项目{project}",
            "amount": Y(amount), "issued_on": issued or D(year, 2, 1), "fiscal_year": year}


def payment(pid, bid, amount, paid_on, unit="001", **kw):
    row = {"unit_code": unit, "payment_id": pid, "budget_id": bid, "payee_name": f"公司{pid}",
           "amount": Y(amount), "paid_on": paid_on, "payee_is_sme": False}
    row.update(kw)
    return row


@pytest.fixture
def if06_db(tmp_path):
    lines = [budget("L1", "LOW", 2023, "60000"), budget("L2", "LOW", 2024, "30000"), budget("L3", "LOW", 2024, "20000"),
             budget("H1", "HALF", 2023, "100000"), budget("H2", "HALF", 2024, "100000"),
             budget("S1", "SMALL", 2023, "50000"), budget("S2", "SMALL", 2024, "49999.99"),
             budget("E1", "EXACT", 2023, "50000"), budget("E2", "EXACT", 2024, "50000"),
             budget("O1", "ONE", 2024, "300000"),
             budget("N1", "", 2023, "300000"), budget("N2", "", 2024, "300000"),
             budget("G1", "GAP", 2022, "300000"), budget("G2", "GAP", 2024, "300000"),
             budget("M1", "MID", 2022, "80000"), budget("M2", "MID", 2023, "80000")]
    pays = [payment("P1", "L1", "29999.99", D(2023, 6, 1)), payment("P2", "L1", "30000.01", D(2024, 2, 1)),
            payment("P3", "L2", "10000", D(2024, 6, 1)), payment("P4", "L3", "2000", D(2024, 7, 1)),
            payment("P5", "L2", "30000", D(2025, 1, 5)),                       # after the cut-off
            payment("P6", "H1", "10000", D(2023, 6, 1)), payment("P7", "H2", "50000", D(2024, 6, 1)),
            payment("P8", "E1", "0.01", D(2023, 6, 1))]
    return make_db(tmp_path / "if06.duckdb", budget=lines, payments=pays)


def test_if06_rate_sum_and_years(if06_db):
    got = found(inspect(if06_db, "idle_funds"), "IF06")
    # LOW: 2023 29999.99/60000 (the 2024 payment counts for 2023's total only by 31 Dec 2023), 2024
    # 12000/50000; exposure = 2024's 50000 − 12000.  HALF: 2024 exactly 50 % is not below the rate.
    # SMALL sums to 99999.99; EXACT sums to exactly 100000; ONE and GAP lack a year; no project code: ignored
    assert got == {"projects:LOW": Y("38000.00"), "projects:EXACT": Y("50000.00")}
    assert found(inspect(if06_db, "idle_funds", params=params(IF06={"min_amount": Y("100000.01")})),
                 "IF06") == {"projects:LOW": Y("38000.00")}
    assert set(found(inspect(if06_db, "idle_funds", params=params(IF06={"max_rate": Y("0.51")})), "IF06")) \
        == {"projects:LOW", "projects:EXACT", "projects:HALF"}
    # three years: no project has lines in 2022, 2023 and 2024
    assert found(inspect(if06_db, "idle_funds", params=params(IF06={"years": 3})), "IF06") == {}


def test_if06_before_year_end_tests_the_last_complete_year(if06_db):
    # as_of mid-2024: LY = 2023, years 2022–2023 (GAP has 2022 but nothing in 2023)
    mid = params(as_of=D(2024, 6, 30))
    # MID has lines in 2022 and 2023 only: tested mid-2024, not at the end of 2024
    assert found(inspect(if06_db, "idle_funds", params=mid), "IF06") == {"projects:MID": Y("80000.00")}
    assert "projects:MID" not in found(inspect(if06_db, "idle_funds"), "IF06")


def test_if06_drilldown_shows_the_lines_and_payments_of_the_years_tested(if06_db):
    rule = get_rule("IF06")
    result = inspect(if06_db, "idle_funds")
    ev = result.evidence["IF06"].set_index("ref").loc["projects:LOW"]
    assert not rule.unlabelled(result.evidence["IF06"].columns)
    con = duckdb.connect(str(if06_db), read_only=True)
    try:
        rows = rule.source_rows(con, "001", "projects:LOW", ev, AS_OF, 2024)
    finally:
        con.close()
    tables = {r.table: r.rows for r in rows}
    assert sorted(tables["budget"]["budget_id"]) == ["L1", "L2", "L3"]
    assert sorted(tables["payments"]["payment_id"]) == ["P1", "P2", "P3", "P4"]  # not P5 (after as_of)


# ---- IF07 fourth-quarter prepayments ----------------------------------------------------------------------
def ledger_line(no, day, code="121401", debit=Y(0), credit=Y(0), unit="001"):
    return {"unit_code": unit, "voucher_date": day, "voucher_no": no, "line_no": 1, "account_code": code,
            "summary": "预付款", "debit": debit, "credit": credit, "counterparty": "某公司"}


def test_if07_amount_quarter_and_account(tmp_path):
    lines = [ledger_line("V1", D(2024, 10, 1), debit=Y("100000.00")),
             ledger_line("V2", D(2024, 10, 2), debit=Y("99999.99")),
             ledger_line("V3", D(2024, 9, 30), debit=Y("500000.00")),
             ledger_line("V4", D(2024, 12, 31), debit=Y("250000.00"), code="1214"),
             ledger_line("V5", D(2024, 11, 5), debit=Y("300000.00"), code="121801"),
             ledger_line("V6", D(2024, 11, 6), credit=Y("300000.00")),
             ledger_line("V7", D(2023, 11, 6), debit=Y("300000.00"))]
    db = make_db(tmp_path / "if07.duckdb", ledger=lines)
    assert found(inspect(db, "idle_funds"), "IF07") == {"ledger:V1#1": Y("100000.00"), "ledger:V4#1": Y("250000.00")}
    assert set(found(inspect(db, "idle_funds", params=params(IF07={"min_amount": Y("99999.99")})), "IF07")) \
        == {"ledger:V1#1", "ledger:V2#1", "ledger:V4#1"}
    # the cut-off: on 30 November the December line is not evidence yet
    assert set(found(inspect(db, "idle_funds", params=params(as_of=D(2024, 11, 30))), "IF07")) == {"ledger:V1#1"}


# ---- DP06 contract terms over DP01's max_term_days ----------------------------------------------------------
def sme(pid, term, paid_on=D(2024, 9, 12), accepted=D(2024, 9, 1), is_sme=True, amount="1000.00", unit="001"):
    return payment(pid, "", amount, paid_on, unit=unit, payee_is_sme=is_sme, term_days=term, accepted_on=accepted,
                   requested_on=paid_on)


@pytest.fixture
def dp06_db(tmp_path):
    pays = [sme("T61", 61, amount="1234.56"), sme("T60", 60), sme("BIG", 61, is_sme=False),
            sme("UNPAID", 75, paid_on=None, accepted=D(2024, 12, 1)),
            sme("NOTYET", 75, paid_on=None, accepted=D(2025, 1, 2)),
            sme("PAIDLATER", 90, paid_on=D(2025, 1, 10), accepted=D(2024, 12, 20)),
            sme("NOTERM", None), sme("U2", 75, unit="002")]
    return make_db(tmp_path / "dp06.duckdb", payments=pays)


def test_dp06_60_vs_61_days_and_the_cut_off(dp06_db):
    got = found(inspect(dp06_db, "delayed_payments"), "DP06")
    assert got == {"payments:T61": Y("1234.56"), "payments:UNPAID": Y("1000.00"),
                   "payments:PAIDLATER": Y("1000.00"), "payments:U2": Y("1000.00")}
    assert "payments:NOTYET" in found(inspect(dp06_db, "delayed_payments", params=params(as_of=D(2025, 1, 31),
                                                                                        fiscal_year=2025)), "DP06")


def test_dp06_reads_dp01s_max_term_days_run_wide_and_per_unit(dp06_db):
    wide = found(inspect(dp06_db, "delayed_payments", params=params(DP01={"max_term_days": 75})), "DP06")
    assert set(wide) == {"payments:PAIDLATER"}
    per_unit = params(unit_rules={"002": {"DP01": {"max_term_days": 75}}})
    assert "payments:U2" not in found(inspect(dp06_db, "delayed_payments", params=per_unit), "DP06")
    assert not get_rule("DP06").params and ("DP01", "max_term_days") in get_rule("DP06").uses


# ---- DP07 year-end rush on one budget line ------------------------------------------------------------------
def test_dp07_share_minimum_and_year_end(tmp_path):
    lines = [budget("R1", "", 2024, "200000"), budget("R2", "", 2024, "200000"), budget("R3", "", 2024, "99999.99"),
             budget("R4", "", 2024, "200000"), budget("R5", "", 2023, "200000"), budget("R6", "", 2024, "200000")]
    pays = [payment("A1", "R1", "100000.00", D(2024, 6, 3)), payment("A2", "R1", "100000.01", D(2024, 11, 4)),
            payment("B1", "R2", "100000.00", D(2024, 6, 3)), payment("B2", "R2", "60000.00", D(2024, 11, 4)),
            payment("B3", "R2", "40000.00", D(2024, 12, 4)),                              # exactly 50 %
            payment("C1", "R3", "99999.99", D(2024, 12, 4)),                              # below the minimum
            payment("D1", "R4", "60000.00", D(2024, 10, 31)), payment("D2", "R4", "40000.00", D(2024, 11, 1)),
            payment("E1", "R5", "200000.00", D(2023, 12, 4)),                             # not the fiscal year
            payment("F1", "R6", "10000.00", D(2024, 5, 6)), payment("F2", "R6", "90000.00", D(2025, 1, 6))]
    db = make_db(tmp_path / "dp07.duckdb", budget=lines, payments=pays)
    assert found(inspect(db, "delayed_payments"), "DP07") == {"budget:R1": Y("100000.01")}
    looser = found(inspect(db, "delayed_payments", params=params(DP07={"max_share": Y("0.49")})), "DP07")
    assert set(looser) == {"budget:R1", "budget:R2"}
    assert found(inspect(db, "delayed_payments", params=params(DP07={"min_amount": Y("99999.99")})), "DP07") \
        == {"budget:R1": Y("100000.01"), "budget:R3": Y("99999.99")}
    # before the year has ended there is no finding
    assert found(inspect(db, "delayed_payments", params=params(as_of=D(2024, 12, 30))), "DP07") == {}


# ---- basis by the law version in force on the evidence date --------------------------------------------------
def test_basis_versions_by_evidence_date_both_sides_of_2025_06_01(tmp_path):
    pays = [sme("OLD", None, paid_on=D(2025, 7, 15), accepted=D(2025, 5, 31)),     # DP01, accepted before
            sme("NEW", None, paid_on=D(2025, 7, 16), accepted=D(2025, 6, 1)),      # DP01, accepted on the day
            sme("U-OLD", 30, paid_on=None, accepted=D(2025, 5, 31)),               # DP02
            sme("U-NEW", 30, paid_on=None, accepted=D(2025, 6, 1)),
            sme("T-OLD", 90, paid_on=D(2025, 5, 31), accepted=None),               # DP06 dated by paid_on
            sme("T-NEW", 90, paid_on=D(2025, 6, 1), accepted=None)]
    db = make_db(tmp_path / "dates.duckdb", payments=pays)
    result = inspect(db, "delayed_payments", params=params(as_of=D(2025, 12, 31), fiscal_year=2025))
    assert list(result.findings.columns) == FINDING_COLUMNS  # findings.csv's columns are unchanged
    cited = {}
    for rule_id in ("DP01", "DP02", "DP06"):
        ev = result.evidence[rule_id]
        assert not get_rule(rule_id).unlabelled(ev.columns)
        cited.update({(rule_id, pid): (b, pb) for pid, b, pb in zip(ev["payment_id"], ev["basis"], ev["penalty_basis"])})
    assert laws.articles(cited["DP01", "OLD"][0]) == ["第八条", "第九条", "第十五条"]
    assert laws.articles(cited["DP01", "NEW"][0]) == ["第九条", "第十条", "第十七条"]
    assert "第二十五条" in cited["DP01", "OLD"][1] and "第三十一条" in cited["DP01", "NEW"][1]
    assert "2020年版" in cited["DP02", "U-OLD"][0] and "2025年修订版" in cited["DP02", "U-NEW"][0]
    assert laws.articles(cited["DP06", "T-OLD"][0]) == ["第六条", "第八条"]
    assert laws.articles(cited["DP06", "T-NEW"][0]) == ["第七条", "第九条"]
    assert cited["DP06", "T-OLD"][1] == cited["DP06", "T-NEW"][1] == ""
    # a rule without versions cites its one basis and gets no basis column
    assert "basis" not in result.evidence["DP03"].columns


def test_evidence_day_prefers_accepted_then_paid_then_the_rows_date():
    assert laws.evidence_day({"accepted_on": D(2025, 5, 1), "paid_on": D(2025, 7, 1)}) == D(2025, 5, 1)
    assert laws.evidence_day({"accepted_on": None, "paid_on": D(2025, 7, 1)}) == D(2025, 7, 1)
    assert laws.evidence_day({"paid_on": float("nan"), "txn_date": D(2025, 2, 3)}) == D(2025, 2, 3)
    assert laws.evidence_day({"memo": "x"}) is None


@pytest.mark.parametrize("rule_id", ["DP01", "DP02", "DP06"])
def test_rule_basis_for_a_date(rule_id):
    rule = get_rule(rule_id)
    assert [v.since for v in rule.basis_versions] == [D(2020, 9, 1), D(2025, 6, 1)]
    assert "2020年版" in rule.basis_for(D(2025, 5, 31))[0] and "2025年修订版" in rule.basis_for(D(2025, 6, 1))[0]
    assert rule.basis_for(None) == rule.basis_for(D(2030, 1, 1))
    for version in rule.basis_versions:
        assert not laws.unknown_laws(version.basis + version.penalty_basis) and laws.articles(version.basis)
        assert all(article in rule.basis for article in laws.articles(version.basis))
    assert get_rule("IF05").basis_for(D(2025, 6, 1)) == (get_rule("IF05").basis, get_rule("IF05").penalty_basis)


@pytest.mark.parametrize("lang, word", [("zh", "2020-09-01 起适用"), ("en", "from 2020-09-01")])
def test_catalogue_lists_every_basis_version_with_its_date(lang, word):
    text = render_catalogue(lang)
    for rule_id in ("DP01", "DP02", "DP04", "DP06"):
        block = text.split(f"\n{rule_id}  ", 1)[1].split("\nDP0", 1)[0]
        for version in get_rule(rule_id).basis_versions:
            assert version.since.isoformat() in block and version.basis in block
        assert word in block
    for rule_id in ("IF05", "IF06", "IF07", "DP06", "DP07"):
        assert f"\n{rule_id}  " in text


# ---- raising a threshold never adds a finding (the sample county) ---------------------------------------------
@pytest.fixture(scope="module")
def county_db(tmp_path_factory):
    base = tmp_path_factory.mktemp("county_v2")
    generate(base / "data", units=8, seed=31)
    ingest(base / "data", base / "audit.duckdb")
    return base / "audit.duckdb"


#: (rule whose findings are compared, rule and parameter raised, sign: +1 raising tightens, -1 lowering does)
THRESHOLDS = [("IF05", "IF05", "idle_days", 1), ("IF06", "IF06", "min_amount", 1),
              ("IF06", "IF06", "max_rate", -1), ("IF07", "IF07", "min_amount", 1),
              ("DP06", "DP01", "max_term_days", 1), ("DP07", "DP07", "min_amount", 1),
              ("DP07", "DP07", "max_share", 1)]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=st.sampled_from(THRESHOLDS), low=st.integers(0, 1000), step=st.integers(0, 1000))
def test_tightening_a_threshold_never_adds_a_finding(county_db, case, low, step):
    rule_id, owner, name, sign = case
    prm = get_rule(owner).param(name)
    span = prm.max - prm.min

    def value(k):  # k in 0..2000 spread over the parameter's range (money over 0..2 000 000)
        if prm.type == "money":
            return Y(k) * 1000
        if prm.type == "ratio":
            return (prm.min + span * Y(k) / 2000).quantize(Y("0.0001"))
        return min(prm.max, prm.min + k)

    def keys(v):
        result = inspect(county_db, get_rule(rule_id).inspection, params=params(**{owner: {name: v}}))
        f = result.findings
        return set(f.loc[f.rule_id == rule_id, "ref"])

    loose, tight = (value(low), value(low + step)) if sign > 0 else (value(low + step), value(low))
    assert keys(tight) <= keys(loose)
