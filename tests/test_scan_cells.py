"""``auditlib scan`` builds findings.csv's cells rule by rule, most of them in the database
(:mod:`auditlib.outputs.findings_scan`): its file is byte for byte the one the engine's findings frame gives
through the row-by-row reference writer, whatever the types of the money columns, with missing
refs and hostile text, for some units only, in another currency, in one lane or two."""
from __future__ import annotations

import shutil

import pandas as pd
import pytest

from auditlib.batch.scan import scan
from auditlib.db import connect
from auditlib.rules.catalogue import temporary_rules
from auditlib.outputs.findings_scan import finding_cells_by_rule
from auditlib.rules.engine import inspect, unit_names
from auditlib.rules.model import Rule
from auditlib.rules.params import load_params
from auditlib.workspace import default_params_file
from test_findings_csv_fast import reference_write

#: money of odd scales (half-even and half-up differ on them), a negative amount that rounds to
#: -0.00, NULLs, a missing ref, text a spreadsheet would run, quotes, commas and line breaks
ODD = Rule(
    "SF97", "slush_funds", "零散金额", "Odd amounts", "（测试用）",
    query="""
        SELECT p.unit_code, CASE WHEN v.k = 3 THEN NULL ELSE 'odd:' || v.k END AS ref,
               v.amount, v.severity, v.detail, v.exp3, v.intr
        FROM p CROSS JOIN (VALUES
            (1, CAST(0.005 AS DECIMAL(18,4)), 'high', '=1+1 元', CAST(-0.001 AS DECIMAL(18,3)), 5),
            (2, CAST(0.015 AS DECIMAL(18,4)), '-low', 'a,b "c"', CAST(0.005 AS DECIMAL(18,3)), NULL),
            (3, CAST(-0.0049 AS DECIMAL(18,4)), NULL, 'line
break', CAST(2.675 AS DECIMAL(18,3)), 7),
            (4, NULL, 'low', NULL, NULL, 0),
            (5, CAST(12.3456 AS DECIMAL(18,4)), 'low', '支付 12 元', CAST(-2.5 AS DECIMAL(18,3)), -3)
        ) AS v(k, amount, severity, detail, exp3, intr)""",
    exposure="exp3", interest="intr")

#: a floating-point exposure, money of one place, an interest of two
FLOAT = Rule(
    "SF98", "slush_funds", "浮点金额", "Floating amounts", "（测试用）",
    query="""
        SELECT p.unit_code, 'float:' || v.k AS ref, v.amount, 'low' AS severity, '金额 ' || v.k || ' 元' AS detail,
               v.expd, v.intr
        FROM p CROSS JOIN (VALUES
            (1, CAST(1.5 AS DECIMAL(18,1)), 0.1 + 0.2, CAST(3.14 AS DECIMAL(18,2))),
            (2, CAST(-7 AS DECIMAL(18,1)), 2.675, NULL),
            (3, NULL, NULL, CAST(0 AS DECIMAL(18,2)))
        ) AS v(k, amount, expd, intr)""",
    exposure="expd", interest="intr")


#: money of two places, so every cell is made by the database: text starting a formula, quotes,
#: commas, line breaks, tabs, empty and missing text, a title needing quotes
TEXT = Rule(
    "SF95", "slush_funds", "文本, \"引号\"", "Text, quoted", "（测试用）",
    query="""
        SELECT p.unit_code, 'text:' || v.k AS ref, CAST(v.amount AS DECIMAL(18,2)) AS amount, v.severity, v.detail
        FROM p CROSS JOIN (VALUES
            (1, 1.5, '=SUM(1)', '@x'), (2, -2.25, '+1', '-2+3'), (3, 0, chr(9) || 'tab', chr(13) || 'cr'),
            (4, NULL, chr(10) || 'lf', 'a,b'), (5, 100, '', 'say "hi"'), (6, 3, NULL, 'line' || chr(10) || 'break'),
            (7, 4, 'low', 'cr' || chr(13) || 'inside'), (8, 5, 'low', NULL), (9, 6, chr(39), chr(39) || '=quoted'),
            (10, 7, ' ', '小金库，单位“甲”')
        ) AS v(k, amount, severity, detail)""")


@pytest.fixture
def db(sample_db, tmp_path):
    """A private copy of the sample county (scan writes an audit log beside the database)."""
    copy = tmp_path / "audit.duckdb"
    shutil.copy(sample_db, copy)
    return copy


def _reference(db, path, params=None, units=None, run_id="r1"):
    findings = inspect(db, params=params or load_params(None, default=default_params_file()),
                       keep_evidence=False).findings
    if units:
        findings = findings[findings["unit_code"].isin(units)]
    return reference_write(findings, path, run_id)


def test_odd_money_types_and_text_write_the_reference_bytes(db, tmp_path):
    with temporary_rules(ODD, FLOAT, TEXT):
        result = scan(db, out=tmp_path / "scan.csv", run_id="=r1")
        _reference(db, tmp_path / "ref.csv", run_id="=r1")
    assert (tmp_path / "scan.csv").read_bytes() == (tmp_path / "ref.csv").read_bytes()
    assert result.counts["SF95"] == 10 * len(unit_names(connect(db, read_only=True)))
    assert result.counts["SF97"] == 5 * len(unit_names(connect(db, read_only=True)))
    text = (tmp_path / "scan.csv").read_text(encoding="utf-8-sig")
    assert "'=1+1 元" in text and ",-0.00," in text  # neutralised; -0.001 rounds to -0.00 as Decimal does


def test_some_units_only(db, tmp_path):
    con = connect(db, read_only=True)
    units = list(unit_names(con))[1:3]
    con.close()
    with temporary_rules(ODD):
        result = scan(db, units=units, out=tmp_path / "scan.csv", run_id="r1")
        _reference(db, tmp_path / "ref.csv", units=units)
    assert (tmp_path / "scan.csv").read_bytes() == (tmp_path / "ref.csv").read_bytes()
    back = pd.read_csv(tmp_path / "scan.csv", dtype=str, encoding="utf-8-sig")
    assert set(back["unit_code"]) <= set(units) and result.counts["SF97"] == 10


def test_another_currency(db, tmp_path):
    file = tmp_path / "params.yaml"
    file.write_text("currency: £\n", encoding="utf-8")
    with temporary_rules(ODD, FLOAT):
        scan(db, params_file=file, out=tmp_path / "scan.csv", run_id="r1")
        _reference(db, tmp_path / "ref.csv", params=load_params(file, default=default_params_file()))
    assert (tmp_path / "scan.csv").read_bytes() == (tmp_path / "ref.csv").read_bytes()
    assert "支付 12 £" in (tmp_path / "scan.csv").read_text(encoding="utf-8-sig")


def test_one_lane_and_two_give_the_same_cells_in_the_same_order(db):
    params = load_params(None, default=default_params_file())
    con = connect(db)
    try:
        with temporary_rules(ODD, TEXT):
            one = [(p.rule_id, p.cells) for p in finding_cells_by_rule(con, params, lanes=1)]
            two = [(p.rule_id, p.cells) for p in finding_cells_by_rule(con, params, lanes=2)]
    finally:
        con.close()
    assert one == two
    assert [rule for rule, _ in one] == sorted((rule for rule, _ in one), key=lambda r: (
        {"DP": 0, "IF": 1, "SF": 2}[r[:2]], r))


def test_a_failing_rule_fails_the_scan_and_leaves_no_file(db, tmp_path):
    broken = Rule("SF96", "slush_funds", "坏规则", "Broken", "（测试用）",
                  query="SELECT unit_code, no_such_column AS ref FROM p")
    with temporary_rules(broken), pytest.raises(Exception):
        scan(db, out=tmp_path / "scan.csv", run_id="r1")
    assert not (tmp_path / "scan.csv").exists()
