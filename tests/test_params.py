"""Parameters (CONTRACT §2): defaults, partial files, per-unit overrides and clear errors."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from click.testing import CliRunner

from auditlib.rules.catalogue import all_rules
from auditlib.cli import main
from auditlib.errors import ParameterError
from auditlib.rules.params import load_params
from auditlib.workspace import default_params_file

RULES = all_rules()


def test_default_file_matches_the_catalogue():
    params = load_params()
    assert params.sources == (str(default_params_file()),)
    assert params.as_of == dt.date(2024, 12, 31) and params.fiscal_year == 2024 and params.lang == "zh"
    for rule in RULES:
        assert params.rules[rule.id] == rule.defaults(), rule.id
    assert params.rules["SF08"]["max_mad"] == Decimal("0.015")


def test_partial_file_and_unit_override(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text('as_of: "2024-06-30"\nrules:\n  IF01: {min_amount: 20000}\n'
                 'units:\n  "0012": {rules: {SF04: {min_amount: 20000}}}\n', encoding="utf-8")
    params = load_params(f)
    assert params.as_of == dt.date(2024, 6, 30)
    assert params.rules["IF01"] == {"min_amount": Decimal(20000), "carry_days": 365, "recover_days": 730}
    assert params.for_unit("0012")["SF04"]["min_amount"] == Decimal(20000)
    assert params.for_unit("0013")["SF04"]["min_amount"] == Decimal(50000)
    assert params.rules["SF04"]["min_amount"] == Decimal(50000)  # overrides do not leak


@pytest.mark.parametrize(
    "text, key",
    [
        ("colour: red\n", "colour"),
        ("rules:\n  XX99: {a: 1}\n", "rules.XX99"),
        ("rules:\n  IF01: {min_amout: 1}\n", "rules.IF01.min_amout"),
        ("rules:\n  IF01: {carry_days: '365'}\n", "rules.IF01.carry_days"),
        ("rules:\n  IF01: {carry_days: 36.5}\n", "rules.IF01.carry_days"),
        ("rules:\n  IF01: {min_amount: -1}\n", "rules.IF01.min_amount"),
        ("rules:\n  DP03: {gap: 1.5}\n", "rules.DP03.gap"),
        ("rules:\n  SF08: {max_mad: true}\n", "rules.SF08.max_mad"),
        ("units:\n  0012: {rules: {SF04: {min_amount: 1}}}\n", 'units."0012"'),  # as written (issue 14)
        ('units:\n  "0012": {colour: red}\n', "units.0012.colour"),
        ("as_of: '2024-13-01'\n", "as_of"),
        ("fiscal_year: '2024'\n", "fiscal_year"),
        ("lang: fr\n", "lang"),
    ],
)
def test_bad_values_name_file_and_key(tmp_path, text, key):
    f = tmp_path / "bad.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ParameterError) as info:
        load_params(f)
    assert info.value.key == key and info.value.file == str(f)
    assert str(f) in str(info.value) and key in str(info.value)


def test_python_tags_are_refused(tmp_path):
    f = tmp_path / "evil.yaml"
    f.write_text("as_of: !!python/object/apply:os.system ['echo pwned']\n", encoding="utf-8")
    with pytest.raises(ParameterError):
        load_params(f)


@pytest.mark.parametrize("lang, word", [("zh", "依据"), ("en", "basis")])
def test_rules_command_prints_every_rule(lang, word):
    result = CliRunner().invoke(main, ["rules", "--lang", lang])
    assert result.exit_code == 0
    for rule in RULES:
        assert rule.id in result.output and rule.title(lang) in result.output
    assert word in result.output
