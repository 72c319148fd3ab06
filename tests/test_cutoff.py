"""The audit cut-off applies to every rule (CONTRACT §3): a row dated after ``as_of`` — a payment by
``paid_on``, a ledger line by ``voucher_date``, a bank line by ``txn_date``, a budget line by
``issued_on`` — is no evidence; one dated on ``as_of`` is.  A payment made after ``as_of`` counts as
unpaid at ``as_of`` (so DP02 finds it, IF01 counts its budget line unspent).

Each case builds a tiny database whose one "cut" row is dated ``day``; the test runs it with the
row dated on ``as_of`` and on the day after, and checks that the finding comes and goes.
"""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from auditlib.rules.engine import implemented_rules, inspect
from auditlib.rules.params import load_params
from test_rules import fill

D = dt.date
BASE = load_params()
#: a Saturday in the fourth quarter whose next day (a Sunday) is in the same month and year
AS_OF = D(2024, 11, 16)
YEAR_END = D(2024, 12, 31)


def _pay(pid, day, amount="1000", **kw):
    row = {"unit_code": "001", "payment_id": pid, "payee_name": "某某公司", "amount": Decimal(amount),
           "payee_is_sme": False, "paid_on": day}
    row.update(kw)
    return row


def _bank(tid, day, **kw):
    row = {"unit_code": "001", "account_no": "A1", "txn_id": tid, "txn_date": day}
    row.update({k: Decimal(v) if k in ("inflow", "outflow", "balance") else v for k, v in kw.items()})
    return row


def _line(no, day, account, debit="0", credit="0", summary="", counterparty=None, line_no=1):
    return {"unit_code": "001", "voucher_no": no, "line_no": line_no, "voucher_date": day, "account_code": account,
            "summary": summary, "debit": Decimal(debit), "credit": Decimal(credit), "counterparty": counterparty}


def _budget(bid, amount, issued_on, fiscal_year=2024, **kw):
    row = {"unit_code": "001", "budget_id": bid, "amount": Decimal(amount), "issued_on": issued_on,
           "fiscal_year": fiscal_year}
    row.update(kw)
    return row


ACCOUNT = {"unit_code": "001", "account_no": "A1", "account_type": "basic", "opened_on": D(2015, 1, 1)}
UNITS = [{"unit_code": "001", "unit_name": "甲单位"}, {"unit_code": "002", "unit_name": "乙局"}]
ago = lambda n: AS_OF - dt.timedelta(n)  # noqa: E731


# rule id -> (as_of, build(day) -> tables, ref of the finding, present when the cut row is dated on as_of)
CASES = {
    # ---- budget lines (issued_on) and payments (paid_on) -------------------------------------------
    # IF01: a payment after as_of is unpaid at as_of, so the line's unspent amount reaches the minimum
    "IF01": (AS_OF, lambda day: {"budget": [_budget("B1", "20000", ago(400))],
                                 "payments": [_pay("P1", day, "15000", budget_id="B1")]}, "budget:B1", False),
    "IF02": (AS_OF, lambda day: {"accounts": [ACCOUNT],
                                 "bank_txns": [_bank("T1", day, inflow="0", balance="200000")]}, "accounts:A1", True),
    "IF03": (AS_OF, lambda day: {"accounts": [ACCOUNT], "payments": [_pay("P1", day, payee_account="A1")]},
             "payments:P1", True),
    # IF04: a recent line on the pair after as_of does not refresh it
    "IF04": (AS_OF, lambda day: {"ledger": [_line("V1", ago(800), "121401", debit="20000", counterparty="乙公司"),
                                            _line("V2", day, "121401", credit="1", counterparty="乙公司")]},
             "balances:1214/乙公司", False),
    "IF05": (AS_OF, lambda day: {"accounts": [ACCOUNT], "bank_txns": [_bank("T1", day, inflow="5")]},
             "accounts:A1", False),
    "IF06": (YEAR_END, lambda day: {"budget": [_budget("B23", "100000", D(2023, 2, 1), 2023, project_code="X"),
                                               _budget("B24", "100000", day, 2024, project_code="X")]},
             "projects:X", True),
    "IF07": (AS_OF, lambda day: {"ledger": [_line("V1", day, "121401", debit="200000")]}, "ledger:V1#1", True),
    # ---- slush funds --------------------------------------------------------------------------------
    "SF01": (AS_OF, lambda day: {"bank_txns": [_bank("T1", day, account_no="X9", inflow="100")]},
             "accounts:X9", True),
    "SF02": (AS_OF, lambda day: {"accounts": [ACCOUNT], "bank_txns": [_bank("T1", day, inflow="100")],
                                 "ledger": [_line("V0", ago(60), "1002", debit="7")]},
             "bank_txns:T1", True),
    "SF03": (AS_OF, lambda day: {"ledger": [_line("V1", day, "2307", credit="20000", summary="房屋租金")]},
             "ledger:V1#1", True),
    "SF04": (AS_OF, lambda day: {"bank_txns": [_bank("T1", day, outflow="60000", memo="提现")]},
             "bank_txns:T1", True),
    "SF05": (AS_OF, lambda day: {"payments": [_pay("P1", ago(1), "30000"), _pay("P2", day, "30000")]},
             "payments:P1", True),
    "SF06": (AS_OF, lambda day: {"payments": [_pay("P1", ago(1), "3000"), _pay("P2", day, "3000")]},
             "payments:P1", True),
    "SF07": (AS_OF, lambda day: {"payments": [_pay("P1", day, "10000", expense_type="会议费")]}, "payments:P1", True),
    # SF08 judged with min_count 3 (see PARAMS): the third amount after as_of leaves too few
    "SF08": (AS_OF, lambda day: {"payments": [_pay("P1", ago(2), "900"), _pay("P2", ago(1), "910"),
                                              _pay("P3", day, "920")]}, "units:001", True),
    "SF09": (AS_OF, lambda day: {"units": UNITS, "payments": [_pay("P1", day, payee_name="乙局")]},
             "payments:P1", True),
    "SF10": (AS_OF, lambda day: {"bank_txns": [_bank("T1", day, outflow="100000", memo="提取现金")]},
             "bank_txns:T1", True),
    "SF11": (AS_OF, lambda day: {"ledger": [_line("V1", day, "1001", credit="2000", summary="付办公费")]},
             "ledger:V1#1", True),
    "SF12": (AS_OF, lambda day: {"payments": [_pay("P1", day, "20000")]}, "payments:P1", True),
    "SF13": (AS_OF, lambda day: {"payments": [_pay("P1", ago(1), "5000", payee_name="北京某某科技公司"),
                                              _pay("P2", day, "5000", payee_name="北京某某科枝公司")]},
             "payments:P1", True),
    "SF14": (AS_OF, lambda day: {"ledger": [_line("记-1", ago(1), "1002", debit="1"),
                                            _line("记-3", day, "1002", debit="1")]}, "vouchers:记-/2024-11/2-2", True),
    # ---- delayed payments ---------------------------------------------------------------------------
    "DP01": (AS_OF, lambda day: {"payments": [_pay("P1", day, payee_is_sme=True, accepted_on=ago(100))]},
             "payments:P1", True),
    # DP02: a payment made after as_of counts as unpaid at as_of
    "DP02": (AS_OF, lambda day: {"payments": [_pay("P1", day, payee_is_sme=True, accepted_on=ago(100))]},
             "payments:P1", False),
    "DP03": (AS_OF, lambda day: {"budget": [_budget("B1", "100000", day)],
                                 "payments": [_pay("P1", ago(200), "1", budget_id="B1")]}, "budget:B1", True),
    "DP04": (AS_OF, lambda day: {"payments": [_pay("P1", day, requested_on=ago(30))]}, "payments:P1", True),
    "DP05": (YEAR_END, lambda day: {"payments": [_pay("P1", D(2024, 3, 1), "1000"), _pay("P2", day, "9000")]},
             "units:001", True),
    "DP06": (AS_OF, lambda day: {"payments": [_pay("P1", day, payee_is_sme=True, term_days=90)]},
             "payments:P1", True),
    "DP07": (YEAR_END, lambda day: {"budget": [_budget("B1", "200000", D(2024, 1, 5))],
                                    "payments": [_pay("P1", D(2024, 3, 1), "1000", budget_id="B1"),
                                                 _pay("P2", day, "9000", budget_id="B1")]}, "budget:B1", True),
}
#: cases for the other side of a rule: SF02's ledger line, DP07's budget line
EXTRA = {
    # SF02: a ledger line booked after as_of does not book the bank line
    "SF02/ledger": (AS_OF, lambda day: {"accounts": [ACCOUNT], "bank_txns": [_bank("T1", AS_OF, inflow="100")],
                                        "ledger": [_line("V1", day, "1002", debit="100")]}, "bank_txns:T1", False),
    "DP07/budget": (YEAR_END, lambda day: {"budget": [_budget("B1", "200000", day)],
                                           "payments": [_pay("P1", D(2024, 3, 1), "1000", budget_id="B1"),
                                                        _pay("P2", D(2024, 12, 1), "9000", budget_id="B1")]},
                    "budget:B1", True),
}


def _params(as_of):
    rules = copy.deepcopy(BASE.rules)
    rules["SF08"]["min_count"] = 3
    return dataclasses.replace(BASE, rules=rules, as_of=as_of, fiscal_year=2024, units={})


def _refs(rule_id, tables, as_of):
    con = fill(duckdb.connect(":memory:"), **tables)
    try:
        f = inspect(con, params=_params(as_of), rule_ids=[rule_id]).findings
        return set(f.loc[f.rule_id == rule_id, "ref"])
    finally:
        con.close()


def test_every_rule_has_a_cutoff_case():
    assert {r.id for r in implemented_rules()} == set(CASES)


@pytest.mark.parametrize("case", sorted(CASES) + sorted(EXTRA))
def test_a_row_dated_after_as_of_is_no_evidence_and_one_on_as_of_is(case):
    as_of, build, ref, present_on_as_of = {**CASES, **EXTRA}[case]
    rule_id = case.split("/")[0]
    on = ref in _refs(rule_id, build(as_of), as_of)
    after = ref in _refs(rule_id, build(as_of + dt.timedelta(days=1)), as_of)
    # the day after as_of is no evidence: the finding goes (or, for a payment that counts as
    # unpaid at as_of, comes) with it
    assert (on, after) == (present_on_as_of, not present_on_as_of)


def test_sf08_sample_and_chart_count_only_payments_by_as_of():
    from auditlib.rules.slush_funds import benford_sample

    con = fill(duckdb.connect(":memory:"),
               payments=[_pay("P1", ago(1), "900"), _pay("P2", AS_OF, "910"), _pay("P3", AS_OF + dt.timedelta(1), "920")])
    try:
        assert benford_sample(con, "001", _params(AS_OF)) == (2, 3)
    finally:
        con.close()
