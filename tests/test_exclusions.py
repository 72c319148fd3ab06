"""Exclusion is never silent (CONTRACT §3): the payments SF05, SF06, SF07 and SF13 leave out by
``exclude_payees`` / ``exclude_expense_types`` are counted per unit and word, with their amount,
and the report lists them."""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from auditlib.rules.engine import inspect
from auditlib.rules.exclusions import EXCLUDING_RULES, excluded_payments
from auditlib.rules.params import load_params
from auditlib.views import report as report_module
from test_rules import fill, make_db, pay

D = dt.date
BASE = load_params()


def _payments():
    return [
        pay("W1", expense_type="工资福利", amount=Decimal("3000.00"), paid_on=D(2024, 3, 1)),
        pay("W2", expense_type="工资福利支出", amount=Decimal("4000.50"), paid_on=D(2024, 4, 1)),
        pay("W3", expense_type="工资福利", amount=Decimal("9.00"), paid_on=D(2025, 1, 1)),  # after as_of
        pay("S1", expense_type="社会保障缴费", amount=Decimal("700.00"), paid_on=D(2024, 5, 1)),
        pay("M1", expense_type="会议费", payee_name="某劳务派遣公司", amount=Decimal("10000.00"),
            paid_on=D(2024, 6, 1)),
        pay("O1", expense_type="办公费", amount=Decimal("10000.00"), paid_on=D(2024, 6, 2)),
        pay("X1", unit_code="002", expense_type="工资福利", amount=Decimal("1.00"), paid_on=D(2024, 6, 2)),
    ]


def _with(units=None, **changes):
    rules = copy.deepcopy(BASE.rules)
    for rule_id in EXCLUDING_RULES:
        rules[rule_id].update(changes)
    return dataclasses.replace(BASE, rules=rules, units=units or {})


def _rows(df):
    return {(r.unit_code, r.field, r.word): (int(r.payments), r.amount) for r in df.itertuples()}


def test_defaults_count_and_sum_the_left_out_payments_per_word_within_the_cutoff():
    con = fill(duckdb.connect(":memory:"), payments=_payments())
    got = _rows(excluded_payments(con, BASE))
    assert got == {("001", "exclude_expense_types", "工资福利"): (2, Decimal("7000.50")),
                   ("001", "exclude_expense_types", "社会保障缴费"): (1, Decimal("700.00")),
                   ("002", "exclude_expense_types", "工资福利"): (1, Decimal("1.00"))}
    df = excluded_payments(con, BASE, ["001"])
    assert set(df["unit_code"]) == {"001"} and set(df["rules"]) == {"SF05、SF06、SF07、SF13"}


def test_payee_words_and_per_unit_lists_are_counted():
    params = _with(exclude_payees=("劳务派遣",))
    params = dataclasses.replace(params, units={"002": {r: {"exclude_expense_types": ()} for r in EXCLUDING_RULES}})
    con = fill(duckdb.connect(":memory:"), payments=_payments())
    got = _rows(excluded_payments(con, params))
    assert got[("001", "exclude_payees", "劳务派遣")] == (1, Decimal("10000.00"))
    assert not any(unit == "002" for unit, _, _ in got)  # the unit emptied its list: nothing left out


def test_the_count_agrees_with_what_sf07_leaves_out():
    # M1 is a round 会议费 payment: SF07 finds it unless its payee is excluded, and then the table counts it
    con = fill(duckdb.connect(":memory:"), payments=_payments())
    for params, found in ((BASE, True), (_with(exclude_payees=("劳务派遣",)), False)):
        f = inspect(con, "slush_funds", params=params, rule_ids=["SF07"]).findings
        assert ("payments:M1" in set(f["ref"])) is found
        listed = _rows(excluded_payments(con, params)).get(("001", "exclude_payees", "劳务派遣"))
        assert (listed is None) is found


def test_empty_lists_leave_nothing_out():
    con = fill(duckdb.connect(":memory:"), payments=_payments())
    assert excluded_payments(con, _with(exclude_payees=(), exclude_expense_types=())).empty


@pytest.fixture()
def shown(monkeypatch):
    out = []
    monkeypatch.setattr(report_module, "show", lambda html, **kw: out.append(html))
    return out


@pytest.mark.parametrize("lang, head, word", [("zh", "已排除的支付（不参与 SF05/SF06/SF07/SF13）", "支出类型"),
                                              ("en", "Payments left out of SF05/SF06/SF07/SF13", "expense type")])
def test_report_header_lists_the_exclusions(tmp_path, shown, lang, head, word):
    db = make_db(tmp_path / "e.duckdb", units=[{"unit_code": "001", "unit_name": "县教育局"}], payments=_payments())
    rep = report_module.Report.open(str(db), "001", "slush_funds", lang=lang)
    rep.header()
    page = shown[-1]
    assert head in page and word in page and "工资福利" in page and "7,000.50" in page and "700.00" in page
    # another inspection has no payment rules that exclude: no table
    shown.clear()
    report_module.Report.open(str(db), "001", "idle_funds", lang=lang).header()
    assert head not in shown[-1]


def test_report_without_exclusions_shows_no_table(tmp_path, shown):
    db = make_db(tmp_path / "n.duckdb", payments=[pay("O1", expense_type="办公费", paid_on=D(2024, 6, 2))])
    report_module.Report.open(str(db), "001", "slush_funds").header()
    assert "已排除的支付" not in shown[-1]
