"""The ``currency`` display setting: a label after amounts (元 by default, e.g. £ for a UK export),
validated like every parameter, never a conversion."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import yaml

from auditlib.errors import ParameterError
from auditlib.outputs.formats import in_currency
from auditlib.rules.params import load_params
from auditlib.views import report as report_module
from test_rules import make_db, pay


def _params(tmp_path, **data):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_params(path)


def test_default_is_yuan_and_a_file_may_set_it(tmp_path):
    assert load_params().currency == "元" and "currency" not in load_params().to_dict()
    params = _params(tmp_path, currency="£")
    assert params.currency == "£" and params.to_dict()["currency"] == "£"
    # what to_dict writes reads back
    again = tmp_path / "again.yaml"
    again.write_text(yaml.safe_dump(params.to_dict(), allow_unicode=True), encoding="utf-8")
    assert load_params(again).currency == "£"


@pytest.mark.parametrize("bad", ["", "   ", 5, ["£"], "£\tGBP", "a-very-long-label"])
def test_a_bad_currency_is_an_error_naming_the_key(tmp_path, bad):
    with pytest.raises(ParameterError) as err:
        _params(tmp_path, currency=bad)
    assert err.value.key == "currency"


def test_in_currency_relabels_units_after_numbers_and_in_brackets_only():
    assert in_currency("涉及金额 1,000.00 元；利息 0.50 元", "£") == "涉及金额 1,000.00 £；利息 0.50 £"
    assert in_currency("amount 12.00 yuan (yuan) yuanfoo", "£") == "amount 12.00 £ (£) yuanfoo"
    assert in_currency("金额(元) 金额（元） 元旦 2024元旦", "£") == "金额(£) 金额（£） 元旦 2024元旦"
    assert in_currency("金额 1.00 元", "元") == "金额 1.00 元"
    assert in_currency("1.00 元", r"\1") == r"1.00 \1"  # the label is text, not a pattern


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_totals_follow_the_currency(tmp_path, monkeypatch, lang):
    shown = []
    monkeypatch.setattr(report_module, "show", lambda html, **kw: shown.append(html))
    db = make_db(tmp_path / "c.duckdb", payments=[pay("M1", expense_type="会议费", amount=Decimal("10000.00"),
                                                       paid_on=dt.date(2024, 3, 4))])
    path = tmp_path / "p.yaml"
    path.write_text("currency: £\n", encoding="utf-8")
    rep = report_module.Report.open(str(db), "001", "slush_funds", params_file=str(path), lang=lang)
    line = rep.totals_line()
    assert "10,000.00 £" in line and "元" not in line and "yuan" not in line
    plain = report_module.Report.open(str(db), "001", "slush_funds", lang=lang).totals_line()
    assert ("10,000.00 元" if lang == "zh" else "10,000.00 yuan") in plain
