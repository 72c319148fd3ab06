"""SF10–SF14 (CONTRACT §3, issue 15) on small hand-built databases: both sides of every threshold,
Hypothesis properties, and the ``words`` parameters (CONTRACT §2) that SF03, SF04, SF07, SF10 and
SF11 read."""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import itertools
from decimal import Decimal

import duckdb
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditlib.errors import ParameterError
from auditlib.rules import rest_days, voucher_gaps
from auditlib.rules.catalogue import get_rule
from auditlib.rules.engine import inspect
from auditlib.rules.params import escape_word, load_params, parse_word
from test_rules import fill

D = dt.date
BASE = load_params()


def memdb(**tables):
    """An in-memory audit database holding ``tables`` (rows as dicts; missing columns NULL)."""
    return fill(duckdb.connect(":memory:"), **tables)


def with_rules(as_of=None, units=None, **changes):
    """BASE with some rule parameters changed: ``SF10={"month_limit": Decimal(5)}``."""
    rules = copy.deepcopy(BASE.rules)
    for rule_id, values in changes.items():
        rules[rule_id].update(values)
    return dataclasses.replace(BASE, rules=rules, as_of=as_of or BASE.as_of, units=units or {})


def run(con, rule_id, params=None):
    result = inspect(con, "slush_funds", params=params or BASE, rule_ids=[rule_id])
    f = result.findings
    return result, f[f.rule_id == rule_id]


def refs(con, rule_id, params=None):
    return sorted(run(con, rule_id, params)[1]["ref"])


def bank(txn_id, day, outflow, memo, unit="001", inflow=None):
    return {"unit_code": unit, "account_no": "6222" + unit, "txn_id": txn_id, "txn_date": day,
            "outflow": None if outflow is None else Decimal(outflow), "inflow": inflow, "memo": memo}


def line(voucher_no, day, account, summary, credit="0", debit="0", unit="001", line_no=1):
    return {"unit_code": unit, "voucher_date": day, "voucher_no": voucher_no, "line_no": line_no,
            "account_code": account, "summary": summary, "credit": Decimal(credit), "debit": Decimal(debit)}


def pay(pid, payee, amount, paid_on, unit="001", expense="办公费"):
    return {"unit_code": unit, "payment_id": pid, "payee_name": payee, "amount": Decimal(amount),
            "paid_on": paid_on, "payee_is_sme": False, "expense_type": expense}


# ---- SF10 ----------------------------------------------------------------------------------------
def test_sf10_month_total_at_the_limit_lists_every_withdrawal_of_the_month():
    con = memdb(bank_txns=[
        bank("A1", D(2024, 3, 4), "40000.00", "提取现金"), bank("A2", D(2024, 3, 12), "30000.00", "备用金"),
        bank("A3", D(2024, 3, 25), "30000.00", "取现"),                       # March: exactly 100000.00
        bank("A4", D(2024, 3, 26), "90000.00", "支付工程款"),                  # not a withdrawal
        bank("A5", D(2024, 4, 1), "60000.00", "提现"),                          # April: 60000
        bank("B1", D(2024, 3, 4), "40000.00", "提取现金", unit="002"),
        bank("B2", D(2024, 3, 25), "59999.99", "取现", unit="002"),             # 99999.99
        bank("B3", D(2024, 3, 26), None, "现金存入", unit="002", inflow=Decimal("500.00")),
        bank("C1", D(2024, 12, 30), "60000.00", "提现", unit="003"),
        bank("C2", D(2025, 1, 1), "60000.00", "提现", unit="003"),              # after as_of, another month
        bank("C3", D(2024, 12, 31), "40000.00", "提现", unit="003"),            # December: 100000.00
    ])
    result, found = run(con, "SF10")
    assert sorted(found["ref"]) == ["bank_txns:A1", "bank_txns:A2", "bank_txns:A3", "bank_txns:C1", "bank_txns:C3"]
    ev = result.evidence["SF10"].set_index("txn_id")
    assert ev.loc["A2", "month_total"] == Decimal("100000.00") and ev.loc["A2", "month_count"] == 3
    assert dict(zip(found["ref"], found["exposure"]))["bank_txns:A1"] == Decimal("40000.00")
    rule = get_rule("SF10")
    assert not rule.unlabelled(c for c in ev.reset_index().columns)
    # a limit one fen lower brings unit 002's month in
    lower = with_rules(SF10={"month_limit": Decimal("99999.99")})
    assert {"bank_txns:B1", "bank_txns:B2"} <= set(refs(con, "SF10", lower))


def test_sf10_chart_marks_the_months_at_the_limit():
    con = memdb(bank_txns=[bank("A1", D(2024, 3, 4), "100000.00", "提现"), bank("A2", D(2024, 4, 4), "500.00", "提现"),
                           bank("A3", D(2024, 5, 4), "900000.00", "工程款")])
    fig = get_rule("SF10").chart(con, "001", BASE, "en")
    bars = [p for p in fig.axes[0].patches]
    assert len(bars) == 2  # March and April; May's outflow is no withdrawal
    assert bars[0].get_facecolor() != bars[1].get_facecolor()
    assert get_rule("SF10").chart(con, "999", BASE, "en") is None


def test_sf10_reads_sf04_words_run_wide_and_per_unit():
    con = memdb(bank_txns=[bank("A1", D(2024, 3, 4), "100000.00", "零用金", unit="001"),
                           bank("B1", D(2024, 3, 4), "100000.00", "零用金", unit="002")])
    assert refs(con, "SF10") == []
    per_unit = with_rules(units={"002": {"SF04": {"words": ("零用金",)}}})
    assert refs(con, "SF10", per_unit) == ["bank_txns:B1"]
    assert refs(con, "SF04", per_unit) == ["bank_txns:B1"]
    assert refs(con, "SF10", with_rules(SF04={"words": ("零用金",)})) == ["bank_txns:A1", "bank_txns:B1"]


# ---- SF11 ----------------------------------------------------------------------------------------
def test_sf11_cash_credit_naming_a_card_item():
    con = memdb(ledger=[
        line("现-1", D(2024, 3, 5), "1001", "报销办公费", credit="1000.00", line_no=2),     # exactly the minimum
        line("现-2", D(2024, 3, 6), "100101", "报销办公费", credit="999.99", line_no=2),    # below
        line("现-3", D(2024, 3, 7), "1001", "发放劳务报酬", credit="5000.00", line_no=2),   # not an item
        line("现-4", D(2024, 3, 8), "1001", "退回差旅费", debit="3000.00"),                # a debit
        line("记-5", D(2024, 3, 9), "1002", "支付会议费", credit="5000.00"),                # a bank account
        line("现-6", D(2024, 3, 10), "100102", "支付会议费及培训费", credit="3500.00"),
        line("现-7", D(2025, 1, 2), "1001", "报销办公费", credit="3500.00"),                # after as_of
    ])
    result, found = run(con, "SF11")
    assert sorted(found["ref"]) == ["ledger:现-1#2", "ledger:现-6#1"]
    ev = result.evidence["SF11"].set_index("voucher_no")
    assert ev.loc["现-6", "items_named"] == "会议费、培训费"
    assert dict(zip(found["ref"], found["exposure"]))["ledger:现-6#1"] == Decimal("3500.00")
    assert refs(con, "SF11", with_rules(SF11={"min_amount": Decimal("999.99")})) == [
        "ledger:现-1#2", "ledger:现-2#2", "ledger:现-6#1"]
    assert refs(con, "SF11", with_rules(SF11={"items": ("劳务",)})) == ["ledger:现-3#2"]


# ---- SF12 ----------------------------------------------------------------------------------------
def test_sf12_rest_days_follow_the_state_council_arrangement():
    con = memdb(payments=[
        pay("P1", "甲商店", "20000.00", D(2024, 2, 4)),      # Sunday, adjusted working day (调休上班)
        pay("P2", "乙商店", "20000.00", D(2024, 2, 12)),     # Monday, Spring Festival holiday
        pay("P3", "丙商店", "10000.00", D(2024, 3, 16)),     # Saturday, exactly the minimum
        pay("P4", "丁商店", "9999.99", D(2024, 3, 17)),      # Sunday, below the minimum
        pay("P5", "戊商店", "50000.00", D(2024, 3, 18)),     # Monday
        pay("P6", "己商店", "50000.00", None),               # unpaid
        pay("P7", "庚商店", "50000.00", D(2025, 1, 1)),      # holiday, after as_of
        pay("P8", "辛商店", "50000.00", D(2024, 10, 3)),     # National Day
    ])
    result, found = run(con, "SF12")
    assert sorted(found["ref"]) == ["payments:P2", "payments:P3", "payments:P8"]
    ev = result.evidence["SF12"].set_index("payment_id")
    assert ev.loc["P2", "rest_day"] == "春节" and ev.loc["P3", "rest_day"] == "星期六"
    assert set(ev["calendar"]) == {"国务院节假日安排"}
    assert list(found["exposure"]) == [Decimal("20000.00"), Decimal("10000.00"), Decimal("50000.00")]
    assert get_rule("SF12").note(con, BASE) is None
    assert refs(con, "SF12", with_rules(SF12={"min_amount": Decimal("9999.99")})) == [
        "payments:P2", "payments:P3", "payments:P4", "payments:P8"]


def test_sf12_years_outside_the_calendar_count_weekends_and_say_so():
    last = rest_days.covered_years().stop - 1
    year = last + 4
    saturday = next(D(year, 1, d) for d in range(1, 8) if D(year, 1, d).weekday() == 5)
    monday = saturday + dt.timedelta(days=2)
    con = memdb(payments=[pay("P1", "甲商店", "20000.00", saturday), pay("P2", "乙商店", "20000.00", monday),
                          pay("P3", "丙商店", "20000.00", D(year, 1, 1) if D(year, 1, 1).weekday() < 5 else monday)])
    params = with_rules(as_of=D(year, 12, 31))
    result, found = run(con, "SF12", params)
    assert list(found["ref"]) == ["payments:P1"]  # New Year's Day of an uncovered year is not known
    ev = result.evidence["SF12"].iloc[0]
    assert "未覆盖" in ev["calendar"] and "仅按周六、周日" in ev["detail"]
    zh, en = get_rule("SF12").note(con, params)
    assert str(year) in zh and str(year) in en and "Saturdays and Sundays" in en


def test_rule_notes_reach_the_manifest(tmp_path):
    from types import SimpleNamespace

    from auditlib.batch.manifest import Manifest
    from auditlib.rules.engine import rule_notes

    year = rest_days.covered_years().stop + 1
    con = memdb(payments=[pay("P1", "甲商店", "20000.00", D(year, 3, 3))])
    params = with_rules(as_of=D(year, 12, 31))
    notes = rule_notes(con, params, "slush_funds")
    assert list(notes) == ["SF12"] and str(year) in notes["SF12"][0]
    assert rule_notes(con, BASE, "slush_funds") == {}  # that payment is after the default cut-off
    options = SimpleNamespace(lang="zh", db="audit.duckdb", params_file=None, notebooks="notebooks", workspace=None,
                              default_params=None)
    manifest = Manifest.new(tmp_path, "r1", options, params, [], [], notes=notes)
    assert manifest.data["rule_notes"]["SF12"]["en"] == notes["SF12"][1]
    assert manifest.data["software"]["chinese-calendar"]


def test_the_report_shows_the_calendar_note(tmp_path, monkeypatch):
    from auditlib.views import report as report_module
    from auditlib.views.report import Report

    year = rest_days.covered_years().stop + 1
    db = tmp_path / "a.duckdb"
    con = memdb(payments=[pay("P1", "甲商店", "20000.00", D(year, 3, 3))])
    con.execute(f"ATTACH '{db}' AS out")
    con.execute("COPY FROM DATABASE memory TO out")
    con.close()
    params = tmp_path / "p.yaml"
    params.write_text(f'as_of: "{year}-12-31"\nfiscal_year: {year}\n', encoding="utf-8")
    shown = []
    monkeypatch.setattr(report_module, "show", lambda html, **kw: shown.append(html))
    report = Report.open(str(db), "001", "slush_funds", params_file=str(params))
    report.rule("SF12", chart=False)
    assert "仅覆盖" in shown[-1] and str(year) in shown[-1]
    report.rule("SF11", chart=False)
    assert "仅覆盖" not in shown[-1]


# ---- SF13 ----------------------------------------------------------------------------------------
def test_sf13_near_duplicate_payees_both_sides():
    con = memdb(payments=[
        pay("A1", "新华华泰商贸有限公司", "23456.78", D(2024, 7, 8)),
        pay("A2", "新华华秦商贸有限公司", "23456.78", D(2024, 7, 15)),        # distance 1
        pay("B1", "东岗 鑫源印刷有限公司", "18765.40", D(2024, 8, 5)),
        pay("B2", "东岗鑫原印刷有限公司", "18765.40", D(2024, 9, 4)),          # spaces aside 1; 30 days
        pay("C1", "西塘恒信建筑工程有限公司", "15432.10", D(2024, 7, 8)),
        pay("C2", "西塘永信建造工程有限公司", "15432.10", D(2024, 7, 12)),      # distance 2
        pay("D1", "张小明", "8765.00", D(2024, 7, 8)), pay("D2", "张晓明", "8765.00", D(2024, 7, 10)),  # 3 chars
        pay("E1", "南湖博远商贸有限公司", "16543.20", D(2024, 8, 5)),
        pay("E2", "南湖博达商贸有限公司", "16543.20", D(2024, 9, 5)),          # 31 days
        pay("F1", "北岭嘉禾商贸有限公司", "17654.30", D(2024, 8, 5)),
        pay("F2", "北岭嘉和商贸有限公司", "17654.31", D(2024, 8, 9)),          # one fen apart
        pay("G1", "河口同创商贸有限公司", "12000.00", D(2024, 8, 5)),
        pay("G2", "河口 同创商贸有限公司", "12000.00", D(2024, 8, 9)),         # the same name (SF06's case)
        pay("H1", "城关某某劳务有限公司", "9000.00", D(2024, 8, 5), expense="工资福利"),
        pay("H2", "城关某某劳务有限司", "9000.00", D(2024, 8, 6), expense="工资福利"),   # excluded type
        pay("I1", "杨柳华泰商贸有限公司", "9100.00", D(2024, 8, 5), unit="002"),
        pay("I2", "杨柳华秦商贸有限公司", "9100.00", D(2024, 8, 6), unit="003"),   # other units
    ])
    result, found = run(con, "SF13")
    assert sorted(found["ref"]) == ["payments:A1", "payments:A2", "payments:B1", "payments:B2"]
    stake = dict(zip(found["ref"], found["exposure"]))
    assert stake["payments:A1"] == 0 and stake["payments:A2"] == Decimal("23456.78")
    assert stake["payments:B1"] == 0 and stake["payments:B2"] == Decimal("18765.40")
    ev = result.evidence["SF13"].set_index("payment_id")
    assert ev.loc["A1", "similar_ids"] == "A2" and ev.loc["A2", "distance"] == 1
    rows = get_rule("SF13").source_rows(con, "001", "payments:A1", ev.loc["A1"])
    assert [len(r.rows) for r in rows] == [1, 1] and rows[1].rows["payment_id"].tolist() == ["A2"]
    wider = with_rules(SF13={"max_distance": 2, "window_days": 31, "exclude_expense_types": ()})
    assert sorted(refs(con, "SF13", wider)) == ["payments:A1", "payments:A2", "payments:B1", "payments:B2",
                                                "payments:C1", "payments:C2", "payments:E1", "payments:E2",
                                                "payments:H1", "payments:H2"]
    assert refs(con, "SF13", with_rules(SF13={"exclude_payees": ("鑫",)})) == ["payments:A1", "payments:A2"]


def _names():
    return st.text(alphabet="华泰秦商贸公司", min_size=3, max_size=6)


@settings(max_examples=40, deadline=None)
@given(names=st.lists(_names(), min_size=2, max_size=6), days=st.lists(st.integers(0, 60), min_size=7, max_size=7),
       amounts=st.lists(st.sampled_from(["100.00", "200.00"]), min_size=7, max_size=7))
def test_sf13_is_symmetric_in_its_pair(names, days, amounts):
    """Whatever the payments, a finding's pair partners are findings too, each pair puts exactly its
    later payment at stake, and reversing which payment carries which id changes no pair."""
    # one more payment one letter away from the first (a pair whenever the name has 4 characters)
    names = names + [names[0][:-1] + ("华" if names[0][-1] != "华" else "泰")]
    amounts = amounts[:len(names) - 1] + [amounts[0]]
    days = days[:len(names) - 1] + [days[-1] % 31]
    rows = [pay(f"P{i}", n, amounts[i], D(2024, 6, 1) + dt.timedelta(days[i])) for i, n in enumerate(names)]
    con = memdb(payments=rows)
    result, found = run(con, "SF13")
    ev = result.evidence["SF13"]
    ids = set(ev["payment_id"])
    by_id = {r["payment_id"]: r for r in rows}
    for _, e in ev.iterrows():
        partners = e["similar_ids"].split(",")
        assert partners and set(partners) <= ids
        for other in partners:  # the partner lists this payment back
            assert e["payment_id"] in ev.set_index("payment_id").loc[other, "similar_ids"].split(",")
        later = any((by_id[o]["paid_on"], o) < (by_id[e["payment_id"]]["paid_on"], e["payment_id"]) for o in partners)
        assert e["exposure"] == (e["payment_amount"] if later else 0)
    mirrored = [dict(r, payment_id=f"Q{len(rows) - 1 - i}") for i, r in enumerate(rows)]
    again, _ = run(memdb(payments=mirrored), "SF13")
    pairs = lambda f, id_of: {frozenset(id_of(x) for x in [p] + s.split(","))  # noqa: E731
                              for p, s in zip(f["payment_id"], f["similar_ids"])}
    back = {f"Q{len(rows) - 1 - i}": f"P{i}" for i in range(len(rows))}
    assert pairs(ev, str) == pairs(again.evidence["SF13"], back.get)
    assert len(again.evidence["SF13"]) == len(found)


# ---- SF14 ----------------------------------------------------------------------------------------
def _vouchers(numbers, month=(2024, 3), prefix="记-", unit="001"):
    return [line(f"{prefix}{n:04d}", D(*month, 1 + (n % 28)), "5001", "x", debit="1", unit=unit) for n in numbers]


def test_sf14_gaps_per_prefix_and_month():
    ledger = (_vouchers([1, 2, 4, 5, 9, 10])                               # March: 3 and 6–8 missing
              + _vouchers([11, 12, 14], month=(2024, 4))                    # April: 13 missing
              + _vouchers([16, 17], month=(2024, 5))                        # 15 at the April/May boundary
              + _vouchers([1, 3], prefix="银-2024-")                        # another series: 2 missing
              + [line("现金日记账", D(2024, 3, 3), "1001", "no digits", credit="1")]
              + _vouchers([20, 25], month=(2025, 1)))                       # after as_of
    con = memdb(ledger=ledger)
    result, found = run(con, "SF14")
    assert sorted(found["ref"]) == ["vouchers:记-/2024-03/3-3", "vouchers:记-/2024-03/6-8",
                                    "vouchers:记-/2024-04/13-13", "vouchers:银-2024-/2024-03/2-2"]
    assert set(found["exposure"]) == {Decimal("0")}
    ev = result.evidence["SF14"].set_index("ref")
    gap = ev.loc["vouchers:记-/2024-03/6-8"]
    assert (gap["missing_count"], gap["voucher_before"], gap["voucher_after"]) == (3, "记-0005", "记-0009")
    rows = get_rule("SF14").source_rows(con, "001", "vouchers:记-/2024-03/6-8", gap, as_of=BASE.as_of)
    assert [r.rows["voucher_no"].unique().tolist() for r in rows] == [["记-0005"], ["记-0009"]]
    assert not get_rule("SF14").unlabelled(ev.reset_index().columns)


def test_sf14_ref_with_a_slash_in_the_prefix():
    assert voucher_gaps.parse_ref("vouchers:记/2024-/2024-03/22-22") == ("记/2024-", "2024-03", 22, 22)
    assert voucher_gaps.parse_ref("payments:P1") is None
    con = memdb(ledger=_vouchers([21, 23], prefix="记/2024-"))
    assert refs(con, "SF14") == ["vouchers:记/2024-/2024-03/22-22"]


@settings(max_examples=40, deadline=None)
@given(n=st.integers(3, 60), data=st.data())
def test_sf14_finds_exactly_the_removed_numbers(n, data):
    removed = data.draw(st.sets(st.integers(2, n - 1), max_size=n - 2))
    kept = [k for k in range(1, n + 1) if k not in removed]
    _, found = run(memdb(ledger=_vouchers(kept)), "SF14")
    missing = set()
    for ref in found["ref"]:
        first, last = voucher_gaps.parse_ref(ref)[2:]
        assert first - 1 in kept and last + 1 in kept and first <= last
        missing |= set(range(first, last + 1))
    assert missing == removed
    runs = [list(g) for _, g in itertools.groupby(sorted(removed), key=lambda k, c=itertools.count(): k - next(c))]
    assert len(found) == len(runs)


def _gap_refs(vouchers):
    """SF14's refs computed from its definition: ``vouchers`` is ``[(voucher_no, day)]`` (one unit)."""
    import re

    first_day = {}
    for no, day in vouchers:
        first_day[no] = min(day, first_day.get(no, day))
    numbers = {}
    for no, day in first_day.items():
        m = re.match(r"^(.*?)([0-9]+)[^0-9]*$", no)
        if m and len(m.group(2)) <= 18 and day <= BASE.as_of:
            numbers.setdefault((m.group(1), day.strftime("%Y-%m")), set()).add(int(m.group(2)))
    out = []
    for (prefix, month), nums in numbers.items():
        ordered = sorted(nums)
        out += [f"vouchers:{prefix}/{month}/{a + 1}-{b - 1}" for a, b in zip(ordered, ordered[1:]) if b - a > 1]
    return sorted(out)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_sf14_one_number_spelt_several_ways(data):
    """Numbers spelt with other widths (记-12, 记-012) or with text after them (记-12附) count once: a
    gap is a number missing in every spelling; a voucher's month is that of its first line."""
    numbers = data.draw(st.lists(st.integers(1, 30), min_size=1, max_size=25))
    vouchers = []
    for n in numbers:
        spelling = data.draw(st.sampled_from(["{:d}", "{:03d}", "{:04d}", "{:d}附", "{:03d}-A"]))
        month = data.draw(st.sampled_from([3, 3, 3, 4]))
        day = D(2024, month, data.draw(st.integers(1, 28)))
        vouchers.append((f"记-{spelling.format(n)}", day))
    con = memdb(ledger=[line(no, day, "5001", "x", debit="1", line_no=i) for i, (no, day) in enumerate(vouchers)])
    assert refs(con, "SF14") == _gap_refs(vouchers)


# ---- raising a threshold never adds a finding ------------------------------------------------------
def _mixed_db(seed_rows):
    payments, bank_rows, ledger = [], [], []
    for i, (day, cents, word) in enumerate(seed_rows):
        amount = f"{Decimal(cents) / 100:.2f}"
        when = D(2024, 1, 1) + dt.timedelta(day)
        payments.append(pay(f"P{i}", ["华泰商贸", "华秦商贸", "华泰商店"][i % 3], amount, when))
        bank_rows.append(bank(f"T{i}", when, amount, word))
        ledger.append(line(f"现-{i}", when, "1001", f"报销{word}", credit=amount))
    return memdb(payments=payments, bank_txns=bank_rows, ledger=ledger)


THRESHOLDS = [("SF10", "month_limit", Decimal), ("SF11", "min_amount", Decimal), ("SF12", "min_amount", Decimal)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(st.integers(0, 365), st.integers(1, 5_000_000), st.sampled_from(["提现", "办公费", "x"])),
                     min_size=1, max_size=12),
       which=st.sampled_from(THRESHOLDS), low=st.integers(0, 60_000), step=st.integers(0, 60_000))
def test_raising_a_threshold_never_adds_a_finding(rows, which, low, step):
    rule_id, name, kind = which
    con = _mixed_db(rows)
    lower = set(refs(con, rule_id, with_rules(**{rule_id: {name: kind(low)}})))
    higher = set(refs(con, rule_id, with_rules(**{rule_id: {name: kind(low + step)}})))
    assert higher <= lower


@settings(max_examples=20, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(0, 90), st.sampled_from([100, 200]), st.just("x")), min_size=2, max_size=8),
       distance=st.integers(1, 4), window=st.integers(0, 60))
def test_sf13_stricter_distance_or_window_never_adds_a_finding(rows, distance, window):
    con = _mixed_db(rows)
    loose = set(refs(con, "SF13", with_rules(SF13={"max_distance": distance + 1, "window_days": window + 5})))
    strict = set(refs(con, "SF13", with_rules(SF13={"max_distance": distance, "window_days": window})))
    assert strict <= loose


# ---- words parameters (CONTRACT §2) ----------------------------------------------------------------
def _load(tmp_path, text):
    f = tmp_path / "p.yaml"
    f.write_text(text, encoding="utf-8")
    return f, load_params(f)


@pytest.mark.parametrize("text, key, says", [
    ("rules:\n  SF03: {words: ['租金|房租']}\n", "rules.SF03.words", "|"),
    ("rules:\n  SF03: {words: []}\n", "rules.SF03.words", "不能为空"),
    ("rules:\n  SF04: {words: 现金}\n", "rules.SF04.words", "列表"),
    ("rules:\n  SF07: {words: [会议, '']}\n", "rules.SF07.words", "空词语"),
    ("rules:\n  SF11: {items: [办公费, 1001]}\n", "rules.SF11.items", "1001"),
    ("rules:\n  SF11: {items: ['a\\b']}\n", "rules.SF11.items", "反斜杠"),
    ('units:\n  "0012": {rules: {SF04: {words: [现.金]}}}\n', "units.0012.rules.SF04.words", "."),
    ("rules:\n  SF10: {words: [现金]}\n", "rules.SF10.words", "未知参数"),
])
def test_bad_words_name_file_and_key(tmp_path, text, key, says):
    with pytest.raises(ParameterError) as info:
        _load(tmp_path, text)
    assert info.value.key == key and key in str(info.value) and says in str(info.value)
    assert str(tmp_path / "p.yaml") in str(info.value)


def test_every_bad_word_list_is_reported_at_once(tmp_path):
    with pytest.raises(ParameterError) as info:
        _load(tmp_path, "rules:\n  SF03: {words: ['a*']}\n  SF04: {words: []}\n"
                        'units:\n  "001": {rules: {SF11: {items: ["(x)"]}}}\n')
    assert [p["key"] for p in info.value.problems] == ["rules.SF03.words", "rules.SF04.words",
                                                       "units.001.rules.SF11.items"]


def test_words_escaped_literal_empty_exclusions_and_per_unit(tmp_path):
    f, params = _load(tmp_path, "rules:\n  SF13: {exclude_payees: [], exclude_expense_types: []}\n"
                                "  SF11: {items: ['维修\\(护\\)费', 办公费, 办公费]}\n"
                                'units:\n  "002": {rules: {SF04: {words: [零用金]}}}\n')
    assert params.rules["SF13"]["exclude_expense_types"] == ()
    assert params.rules["SF11"]["items"] == ("维修(护)费", "办公费")
    assert params.for_unit("002")["SF04"]["words"] == ("零用金",)
    assert params.for_unit("001")["SF04"]["words"] == ("现金", "取现", "提现", "备用金")
    # resolved parameters written out read back the same (escaped words)
    again = tmp_path / "again.yaml"
    data = params.to_dict()
    again.write_text(yaml.safe_dump({"rules": data["rules"], "units": data["units"]}, allow_unicode=True),
                     encoding="utf-8")
    assert load_params(again).rules == params.rules and load_params(again).for_unit("002") == params.for_unit("002")
    con = memdb(ledger=[line("现-1", D(2024, 3, 5), "1001", "支付维修(护)费", credit="2000.00")])
    assert refs(con, "SF11", params) == ["ledger:现-1#1"]


@pytest.mark.parametrize("word, literal", [("租金", "租金"), ("a\\.b", "a.b"), ("\\\\", "\\"), ("\\(x\\)", "(x)")])
def test_parse_and_escape_words(word, literal):
    assert parse_word(word) == (literal, None)
    assert parse_word(escape_word(literal)) == (literal, None)


def test_word_lists_are_defaults_of_the_rules_and_the_default_file():
    assert get_rule("SF03").param("words").default[:3] == ("租金", "房租", "出租")
    assert get_rule("SF04").param("words").default == ("现金", "取现", "提现", "备用金")
    assert get_rule("SF07").param("words").default == ("会议", "培训", "劳务", "咨询")
    assert "公务用车" in get_rule("SF11").param("items").default
    for rule_id in ("SF05", "SF06", "SF07", "SF13"):
        assert get_rule(rule_id).param("exclude_payees").min == 0
        assert BASE.rules[rule_id]["exclude_expense_types"] == ("工资福利", "社会保障缴费", "住房公积金")


# ---- SF02: lines sharing a key ---------------------------------------------------------------------
@pytest.mark.parametrize("shared_key", [False, True])
def test_sf02_a_matched_key_clears_every_line_holding_it(shared_key):
    """Matching is by key (unit, account, txn_id): a second bank line with the key of a matched one
    is matched too, whichever way the lines are selected (no two lines sharing a key, or some)."""
    bank_rows = [bank("T1", D(2024, 3, 1), "100.00", "付款"), bank("T2", D(2024, 3, 5), "300.00", "付款")]
    if shared_key:
        bank_rows.append(bank("T1", D(2024, 3, 2), "200.00", "付款"))
    ledger = [line("记-1", D(2024, 3, 1), "1002", "付款", credit="100.00")]
    assert refs(memdb(bank_txns=bank_rows, ledger=ledger), "SF02") == ["bank_txns:T2"]
