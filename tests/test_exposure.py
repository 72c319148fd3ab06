"""What a finding puts at stake (CONTRACT §3 "Amounts"): every rule's ``exposure`` and DP01/DP02's
``interest``, exact to the fen and rounded half up, on small hand-built databases and on the
synthetic county."""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditlib.rules.catalogue import BUILTIN, INSPECTIONS, get_rule
from auditlib.rules.engine import FINDING_COLUMNS, inspect
from auditlib.rules.exposure import fen
from auditlib.rules.model import Rule
from auditlib.rules.params import load_params
from test_rules import AS_OF, D, acct, make_db, pay, txn

ZERO = Decimal("0.00")


def found(result, rule_id) -> pd.DataFrame:
    """The rule's findings indexed by ref."""
    f = result.findings
    return f[f.rule_id == rule_id].set_index("ref")


def exposures(result, rule_id) -> dict:
    return found(result, rule_id)["exposure"].to_dict()


def with_params(as_of=None, **rules):
    base = load_params()
    merged = {k: dict(v) for k, v in base.rules.items()}
    for rule_id, values in rules.items():
        merged[rule_id].update(values)
    return dataclasses.replace(base, as_of=as_of or base.as_of, rules=merged)


def assert_exact(values):
    for v in values:
        assert isinstance(v, Decimal) and v == v.quantize(Decimal("0.01")), v


# ---- the model and the engine -------------------------------------------------------------------------
def test_every_shipped_rule_declares_its_exposure_and_only_dp01_dp02_an_interest():
    assert all(rule.exposure is not None for rule in BUILTIN)
    assert {rule.id for rule in BUILTIN if rule.interest is not None} == {"DP01", "DP02"}


def test_findings_frame_carries_exposure_and_interest_after_finding_id(tmp_path):
    i = FINDING_COLUMNS.index("finding_id")
    assert FINDING_COLUMNS[i:i + 3] == ["finding_id", "exposure", "interest"]
    empty = inspect(make_db(tmp_path / "e.duckdb"))
    assert list(empty.findings.columns) == FINDING_COLUMNS and empty.findings.empty


def test_fen_rounds_half_up_and_reads_floats_by_their_text():
    assert fen(Decimal("0.005")) == Decimal("0.01") and fen(Decimal("0.015")) == Decimal("0.02")
    assert fen(Decimal("19.985")) == Decimal("19.99") and fen(Decimal("-0.005")) == Decimal("-0.01")
    assert fen(0.1) == Decimal("0.10") and fen(7) == Decimal("7.00")
    assert fen(None) is None and fen(float("nan")) is None and fen(pd.NA) is None


def test_a_rule_without_a_declaration_puts_its_amount_at_stake_and_no_interest():
    plain = Rule("XX01", "slush_funds", "x", "x", "")
    ev = pd.DataFrame({"amount": [Decimal("12.30"), None]})
    assert list(plain.exposures(ev)) == [Decimal("12.30"), ZERO]
    assert list(plain.interests(ev)) == [None, None]
    by_function = Rule("XX02", "slush_funds", "x", "x", "", exposure=lambda e: e["amount"] * 2)
    assert list(by_function.exposures(ev.head(1))) == [Decimal("24.60")]


# ---- idle funds ---------------------------------------------------------------------------------------
def test_if01_unspent_and_if04_open_balance(tmp_path):
    old = AS_OF - dt.timedelta(800)
    budget = [{"unit_code": "001", "budget_id": "B1", "amount": Decimal("50000.00"), "issued_on": old}]
    payments = [pay("P1", budget_id="B1", amount=Decimal("20000.01"), paid_on=D(2024, 1, 1)),
                pay("P2", budget_id="B1", amount=Decimal("5000.00"), paid_on=D(2025, 1, 1))]  # after as_of

    def line(no, code, debit=0, credit=0):
        return {"unit_code": "001", "voucher_date": old, "voucher_no": no, "line_no": 1, "account_code": code,
                "counterparty": "甲公司", "debit": Decimal(debit), "credit": Decimal(credit)}
    ledger = [line("1", "121801", debit="15000.50"), line("2", "1218", credit="3000.25"),
              line("3", "2307", credit="20000"), line("4", "2307", debit="5000")]
    result = inspect(make_db(tmp_path / "a.duckdb", budget=budget, payments=payments, ledger=ledger), "idle_funds")
    assert exposures(result, "IF01") == {"budget:B1": Decimal("29999.99")}
    assert exposures(result, "IF04") == {"balances:1218/甲公司": Decimal("12000.25"),
                                         "balances:2307/甲公司": Decimal("15000.00")}


def test_if02_last_balance_on_or_before_as_of_and_zero_when_none(tmp_path):
    bank = [txn("1", "A", D(2022, 1, 1), outflow=Decimal(1), balance=Decimal("150000.00")),
            txn("2", "A", D(2023, 3, 1), inflow=Decimal(1), balance=Decimal("150001.00")),
            txn("3", "A", D(2025, 1, 2), outflow=Decimal("100000"), balance=Decimal("50001.00"))]  # after as_of
    result = inspect(make_db(tmp_path / "b.duckdb", accounts=[acct("A")], bank_txns=bank), "idle_funds")
    assert exposures(result, "IF02") == {"accounts:A": Decimal("150001.00")}
    # a finding whose last balance is not known puts 0 at stake
    ev = pd.DataFrame({"balance": [None, Decimal("5.10")], "amount": [None, Decimal("5.10")]})
    assert list(get_rule("IF02").exposures(ev)) == [ZERO, Decimal("5.10")]


def test_if03_sf09_payment_amounts(tmp_path):
    units = [{"unit_code": "001", "unit_name": "县教育局"}, {"unit_code": "002", "unit_name": "县水利局"}]
    payments = [pay("OWN", payee_name="县教育局", amount=Decimal("123.45")),
                pay("OTHER", payee_name="县水利局", amount=Decimal("678.90"))]
    result = inspect(make_db(tmp_path / "c.duckdb", units=units, payments=payments))
    assert exposures(result, "IF03") == {"payments:OWN": Decimal("123.45")}
    assert exposures(result, "SF09") == {"payments:OTHER": Decimal("678.90")}
    assert found(result, "IF03")["interest"].isna().all()


# ---- slush funds --------------------------------------------------------------------------------------
def test_sf01_inflows_else_outflows(tmp_path):
    accounts = [acct("CLOSED", closed=D(2024, 6, 30))]
    bank = [txn("1", "BOTH", D(2024, 3, 1), inflow=Decimal("900.10")),
            txn("2", "BOTH", D(2024, 3, 2), outflow=Decimal("400.00")),
            txn("3", "CLOSED", D(2024, 6, 1), inflow=Decimal("5000.00")),   # before closure: not qualifying
            txn("4", "CLOSED", D(2024, 7, 1), outflow=Decimal("7.00")),
            txn("5", "CLOSED", D(2024, 7, 2), outflow=Decimal("8.50"))]
    result = inspect(make_db(tmp_path / "d.duckdb", accounts=accounts, bank_txns=bank), "slush_funds")
    f = found(result, "SF01")
    assert f["exposure"].to_dict() == {"accounts:BOTH": Decimal("900.10"), "accounts:CLOSED": Decimal("15.50")}
    assert f.loc["accounts:BOTH", "amount"] == Decimal("1300.10")  # amount stays inflows + outflows
    ev = result.evidence["SF01"].set_index("account_no")
    assert ev.loc["BOTH", "exposure"] == Decimal("900.10")


def test_sf02_sf04_bank_line_and_sf03_ledger_line(tmp_path):
    day = D(2024, 5, 10)
    bank = [txn("IN", "A", day, inflow=Decimal("600.00")),
            txn("CASH", "A", day, outflow=Decimal("50000.00"), memo="提取现金")]
    ledger = [{"unit_code": "001", "voucher_date": day, "voucher_no": "V1", "line_no": 1, "account_code": "2307",
               "summary": "收房租", "credit": Decimal("12000.50"), "debit": Decimal(0)}]
    result = inspect(make_db(tmp_path / "e.duckdb", accounts=[acct("A")], bank_txns=bank, ledger=ledger),
                     "slush_funds")
    assert exposures(result, "SF02") == {"bank_txns:CASH": Decimal("50000.00"), "bank_txns:IN": Decimal("600.00")}
    assert exposures(result, "SF04") == {"bank_txns:CASH": Decimal("50000.00")}
    assert exposures(result, "SF03") == {"ledger:V1#1": Decimal("12000.50")}


def test_sf05_sf07_payment_amounts(tmp_path):
    day = D(2024, 4, 1)
    payments = [pay("S1", payee_name="拆分公司", amount=Decimal("30000.00"), paid_on=day),
                pay("S2", payee_name="拆分公司", amount=Decimal("20000.10"), paid_on=day + dt.timedelta(7)),
                pay("M1", payee_name="会务公司", expense_type="会议费", amount=Decimal("12000.00"), paid_on=day)]
    result = inspect(make_db(tmp_path / "f.duckdb", payments=payments), "slush_funds")
    assert exposures(result, "SF05") == {"payments:S1": Decimal("30000.00"), "payments:S2": Decimal("20000.10")}
    assert exposures(result, "SF07") == {"payments:M1": Decimal("12000.00")}


def test_sf06_chains_put_each_duplicate_once(tmp_path):
    day = D(2024, 4, 1)
    a, b = Decimal("8888.00"), Decimal("7777.00")

    def later(n):
        return day + dt.timedelta(n)
    payments = [
        # a chain of three within the window: the first puts 0, the others their amount
        pay("A1", payee_name="重复公司", amount=a, paid_on=day),
        pay("A2", payee_name="重复　公司", amount=a, paid_on=later(20)),  # same payee after normalising
        pay("A3", payee_name="重复公司", amount=a, paid_on=later(40)),   # within 30 of A2, not of A1
        pay("A-other", payee_name="重复公司", amount=a + 1, paid_on=later(1)),  # another amount: no twin
        # the earlier one of the set lies outside the window: 0; its later twin puts its amount
        pay("B1", payee_name="间隔公司", amount=b, paid_on=day),
        pay("B2", payee_name="间隔公司", amount=b, paid_on=later(31)),
        pay("B3", payee_name="间隔公司", amount=b, paid_on=later(61)),
        # the same day: ordered by payment_id
        pay("C-b", payee_name="同日公司", amount=Decimal("100.00"), paid_on=day),
        pay("C-a", payee_name="同日公司", amount=Decimal("100.00"), paid_on=day),
    ]
    result = inspect(make_db(tmp_path / "g.duckdb", payments=payments), "slush_funds")
    assert exposures(result, "SF06") == {
        "payments:A1": ZERO, "payments:A2": a, "payments:A3": a,
        "payments:B2": ZERO, "payments:B3": b,
        "payments:C-a": ZERO, "payments:C-b": Decimal("100.00")}
    f = found(result, "SF06")
    amounts = {"payments:" + p["payment_id"]: p["amount"] for p in payments}
    assert all(f.loc[ref, "amount"] == amounts[ref] for ref in f.index)  # amount as in v1
    ev = result.evidence["SF06"].set_index("payment_id")
    assert ev.loc["A3", "exposure"] == a and ev.loc["A1", "exposure"] == ZERO


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(offsets=st.lists(st.integers(0, 90), min_size=1, max_size=7))
def test_sf06_exposure_follows_the_chain_rule_and_never_exceeds_the_amounts(tmp_path_factory, offsets):
    base, amount, window = D(2024, 2, 1), Decimal("500.00"), 30
    payments = [pay(f"P{i}", payee_name="某公司", amount=amount, paid_on=base + dt.timedelta(d))
                for i, d in enumerate(offsets)]
    db = make_db(tmp_path_factory.mktemp("sf06") / "p.duckdb", payments=payments)
    f = found(inspect(db, "slush_funds"), "SF06")
    order = sorted((p["paid_on"], p["payment_id"]) for p in payments)
    expected = {}
    for k, (day, pid) in enumerate(order):
        earlier = any((day - d).days <= window for d, _ in order[:k])
        twin = any(abs((day - d).days) <= window for d, q in order if q != pid)
        if twin:
            expected["payments:" + pid] = amount if earlier else ZERO
    assert f["exposure"].to_dict() == expected
    if len(f):
        assert sum(f["exposure"]) < sum(f["amount"])  # the first of every chain puts nothing at stake


def test_sf08_indicator_puts_nothing_at_stake(tmp_path):
    skewed = [pay(f"K{i}", amount=Decimal("5000.00") + i) for i in range(300)]
    result = inspect(make_db(tmp_path / "h.duckdb", payments=skewed), "slush_funds")
    f = found(result, "SF08")
    assert list(f.index) == ["units:001"] and list(f["exposure"]) == [ZERO]


# ---- delayed payments ---------------------------------------------------------------------------------
def test_dp01_dp02_interest_rounded_half_up_and_dp04_amount(tmp_path):
    acc = D(2024, 3, 1)
    sme = {"payee_is_sme": True, "accepted_on": acc}
    payments = [
        pay("L10", amount=Decimal("10.00"), paid_on=acc + dt.timedelta(31), **sme),       # 0.005 -> 0.01
        pay("L30", amount=Decimal("30.00"), paid_on=acc + dt.timedelta(31), **sme),       # 0.015 -> 0.02
        pay("L5", amount=Decimal("1234.56"), paid_on=acc + dt.timedelta(35), **sme),      # 3.0864 -> 3.09
        pay("U", amount=Decimal("90.00"), payee_is_sme=True, accepted_on=AS_OF - dt.timedelta(31)),  # 0.045
        pay("SLOW", amount=Decimal("77.70"), requested_on=D(2024, 5, 1), paid_on=D(2024, 5, 12)),
    ]
    result = inspect(make_db(tmp_path / "i.duckdb", payments=payments), "delayed_payments")
    dp01 = found(result, "DP01")
    assert dp01["interest"].to_dict() == {"payments:L10": Decimal("0.01"), "payments:L30": Decimal("0.02"),
                                          "payments:L5": Decimal("3.09")}
    assert dp01["exposure"].to_dict() == {"payments:L10": Decimal("10.00"), "payments:L30": Decimal("30.00"),
                                          "payments:L5": Decimal("1234.56")}
    dp02 = found(result, "DP02")
    assert dp02["interest"].to_dict() == {"payments:U": Decimal("0.05")}
    assert dp02["exposure"].to_dict() == {"payments:U": Decimal("90.00")}
    assert exposures(result, "DP04") == {"payments:SLOW": Decimal("77.70")}
    assert found(result, "DP04")["interest"].isna().all()


def test_dp03_time_progress_times_amount_less_paid_rounded_half_up(tmp_path):
    def line(bid, amount):
        return {"unit_code": "001", "budget_id": bid, "amount": Decimal(amount), "issued_on": D(2024, 1, 1),
                "fiscal_year": 2024}
    budget = [line("TIE", "100000.01"), line("PART", "366000.00"), line("ODD", "100000.00")]
    payments = [pay("PP", budget_id="PART", amount=Decimal("1.23"), paid_on=D(2024, 3, 15))]
    db = make_db(tmp_path / "j.duckdb", budget=budget, payments=payments)
    # 2024-07-01 is day 183 of 366: time progress exactly one half
    mid = inspect(db, "delayed_payments", params=with_params(as_of=D(2024, 7, 1)))
    assert exposures(mid, "DP03") == {"budget:TIE": Decimal("50000.01"),      # 50000.005 half up
                                      "budget:PART": Decimal("182998.77"),    # 183000 - 1.23
                                      "budget:ODD": Decimal("50000.00")}
    # 2024-04-01 is day 92: 100000 × 92/366 = 25136.612... ; 366000 × 92/366 − 1.23 = 91998.77
    april = inspect(db, "delayed_payments", params=with_params(as_of=D(2024, 4, 1)))
    assert exposures(april, "DP03")["budget:ODD"] == Decimal("25136.61")
    assert exposures(april, "DP03")["budget:PART"] == Decimal("91998.77")
    # at year end time progress is 1: the exposure is the unpaid amount
    end = inspect(db, "delayed_payments")
    assert exposures(end, "DP03")["budget:PART"] == Decimal("365998.77")
    assert found(end, "DP03").loc["budget:PART", "amount"] == Decimal("365998.77")


def test_dp05_december_excess_rounded_half_up(tmp_path):
    payments = [pay("J", amount=Decimal("50.05"), paid_on=D(2024, 1, 10)),
                pay("Dc", amount=Decimal("50.00"), paid_on=D(2024, 12, 10)),
                pay("X", unit_code="002", amount=Decimal("80000.00"), paid_on=D(2024, 12, 1)),
                pay("Y", unit_code="002", amount=Decimal("79999.99"), paid_on=D(2024, 6, 1))]
    result = inspect(make_db(tmp_path / "k.duckdb", payments=payments), "delayed_payments")
    f = found(result, "DP05")
    # 001: 50.00 − 0.30 × 100.05 = 19.985 -> 19.99; 002: 80000 − 0.30 × 159999.99 = 32000.003 -> 32000.00
    assert f["exposure"].to_dict() == {"units:001": Decimal("19.99"), "units:002": Decimal("32000.00")}
    assert f.loc["units:001", "amount"] == Decimal("50.00")  # amount stays December's payments
    ev = result.evidence["DP05"].set_index("unit_code")
    assert ev.loc["002", "exposure"] == Decimal("32000.00")


# ---- the synthetic county -----------------------------------------------------------------------------
def test_county_exposures_are_exact_non_negative_and_never_exceed_what_they_stand_for(sample_db):
    findings = pd.concat([inspect(sample_db, name).findings for name in INSPECTIONS], ignore_index=True)
    assert len(findings) and findings["exposure"].notna().all()
    assert_exact(findings["exposure"])
    assert (findings["exposure"] >= 0).all()
    by_rule = {rid: f for rid, f in findings.groupby("rule_id")}
    assert set(by_rule["SF08"]["exposure"]) == {ZERO}
    sf06 = by_rule["SF06"]
    assert sum(sf06["exposure"]) <= sum(sf06["amount"])
    assert sum(sf06["exposure"]) < sum(sf06["amount"])  # the county plants duplicates: one leg each counts
    dp05 = by_rule["DP05"]
    assert all(e < a for e, a in zip(dp05["exposure"], dp05["amount"]))
    for rid in ("IF01", "IF02", "IF03", "IF04", "SF02", "SF03", "SF04", "SF05", "SF07", "SF09", "DP01", "DP02", "DP04"):
        f = by_rule[rid]
        assert list(f["exposure"]) == list(f["amount"]), rid
    interest = findings[findings["interest"].notna()]
    assert set(interest["rule_id"]) == {"DP01", "DP02"}
    assert len(interest) == len(by_rule["DP01"]) + len(by_rule["DP02"])
    assert_exact(interest["interest"])
    assert (interest["interest"] > 0).all()
