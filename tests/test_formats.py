"""The one formatter of values shown to a reader (issue 14: values by their type, Chinese code
values, no machine paths, local time with the zone)."""
from __future__ import annotations

from decimal import Decimal

from auditlib.outputs.formats import (enum_label, inspection_label, local_time, param_text, param_value, percent,
                                      shown_path)
from auditlib.rules.catalogue import all_rules


def _param(name):
    for rule in all_rules():
        for p in rule.params:
            if p.name == name:
                return rule, p
    raise KeyError(name)


def test_parameters_by_their_type():
    _, money = _param("min_amount")
    _, ratio = _param("max_mad")
    _, count = _param("min_count")
    _, days = _param("window_days")
    assert param_value(money, Decimal("50000.000000")) == "50,000.00"
    assert param_value(ratio, Decimal("0.015000")) == "1.5%" and percent(Decimal("0.2")) == "20%"
    assert param_value(count, Decimal("300.000000")) == "300" and param_value(days, 7) == "7"
    rule, _ = _param("round_unit")
    text = param_text(rule, {"min_amount": Decimal("10000.000000"), "round_unit": Decimal("1000.000000")})
    assert text == "金额下限(元) = 10,000.00；整数单位(元) = 1,000.00" and "000000" not in text


def test_code_values_and_inspections_in_chinese():
    assert enum_label("account_type", "special") == "专用存款账户"
    assert enum_label("direction", "out") == "支出" and enum_label("direction", "in", "en") == "inflow"
    assert enum_label("reason", "unregistered") == "未在财政登记" and enum_label("severity", "medium") == "中"
    assert enum_label("memo", "out") == "out"  # only the columns that hold code values
    assert inspection_label("slush_funds") == "小金库" and inspection_label("slush_funds", "en") == "Slush funds"


def test_paths_relative_and_time_local(tmp_path):
    run = tmp_path / "out" / "r1"
    assert shown_path(run / "001" / "slush_funds.html", run) == "001/slush_funds.html"
    assert shown_path(tmp_path / "elsewhere" / "audit.duckdb", run) == "audit.duckdb"  # never absolute
    assert shown_path(run, run) == "r1" and shown_path("data/audit.duckdb") == "data/audit.duckdb"
    shown = local_time("2026-11-29T12:37:55+00:00")
    assert "T12" not in shown and " UTC" in shown and len(shown) == len("2026-11-29 12:37:55 UTC+00:00")
