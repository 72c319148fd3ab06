"""The ``currency`` display setting: a label after amounts (元 by default, e.g. £ for a UK export),
validated like every parameter, never a conversion."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import yaml

from auditlib.errors import ParameterError
from auditlib.i18n import in_currency
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


def _cells(path):
    import openpyxl

    wb = openpyxl.load_workbook(path)
    return "\n".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None)


def test_every_page_labels_amounts_in_the_currency_then_back_to_yuan(tmp_path):
    import auditlib.outputs.county_charts  # noqa: F401  (their messages)
    import auditlib.outputs.county_findings  # noqa: F401
    import auditlib.views.overview  # noqa: F401
    from auditlib.i18n import t
    from auditlib.outputs.workbook import write_workbook
    from auditlib.rules.catalogue import get_rule
    from auditlib.rules.engine import inspect

    db = make_db(tmp_path / "c.duckdb", payments=[pay("M1", expense_type="会议费", amount=Decimal("10000.00"),
                                                       paid_on=dt.date(2024, 3, 4))])
    params = _params(tmp_path, currency="£")  # loading the parameters sets the pages' currency
    try:
        assert get_rule("SF07").label("payment_amount") == "支付金额(£)"
        assert get_rule("SF07").label("payment_amount", "en") == "Payment amount (£)"
        assert t("ov.col.amount", "zh") == "金额(£)" and t("cc.axis", "zh") == "涉及金额（万£）"
        assert t("cf.exposure", "en") == "Exposure (£)"
        import auditlib.outputs.index_page  # noqa: F401
        assert t("idx.yuan", "zh") == "£" == t("idx.yuan", "en")
        result = inspect(str(db), "slush_funds", params=params)
        assert len(result.findings)
        path = write_workbook(tmp_path / "w.xlsx", unit_code="001", unit_name="某单位", inspection="slush_funds",
                              findings=result.findings, evidence=result.evidence, params=params, run_id="r",
                              sources=[], lang="zh", untested=result.untested)
        text = _cells(path)
        assert "(£)" in text
        assert "(元)" not in text and "（元）" not in text and " 元" not in text
    finally:
        load_params()
    # the default parameters label in yuan again
    assert get_rule("SF07").label("payment_amount") == "支付金额(元)" and t("ov.col.amount", "zh") == "金额(元)"


def test_a_profile_suggests_its_currency(tmp_path):
    from click.testing import CliRunner

    from auditlib.cli import main

    data = tmp_path / "in"
    data.mkdir()
    (data / "2012-01.csv").write_text("Body name,Transaction number,Supplier name,Net amount,Date paid\n"
                                      "Leeds City Council,1,Acme Ltd,£600.00,07/01/2012\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["ingest", str(data), "--db", str(tmp_path / "a.duckdb"),
                                    "--mapping", "leeds-spending"])
    assert res.exit_code == 0, res.output
    assert "currency: £" in res.output and "leeds-spending" in res.output
    # a profile without a label says nothing of it
    res = CliRunner().invoke(main, ["ingest", str(data), "--db", str(tmp_path / "b.duckdb")])
    assert "currency:" not in res.output
