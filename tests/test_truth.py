"""On the sample county the rules find exactly the planted cases (recall 1.0, precision 1.0),
and properties that must hold whatever the thresholds."""
from __future__ import annotations

import csv
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditlib.rules.catalogue import all_rules
from auditlib.rules.engine import inspect
from auditlib.ingest.load import ingest
from auditlib.rules.params import load_params
from auditlib.synth.county import generate

RULES = all_rules()


def _truth(data):
    """truth.csv as {(rule, unit, ref): (exposure, interest)}, exact Decimal yuan (interest None
    when the rule gives none)."""
    with open(data / "truth.csv", encoding="utf-8-sig", newline="") as fh:
        return {(r["rule_id"], r["unit_code"], r["ref"]):
                (Decimal(r["exposure"]), Decimal(r["interest"]) if r["interest"] else None)
                for r in csv.DictReader(fh)}


def _county(tmp_path, units, seed):
    data, db = tmp_path / "county", tmp_path / "audit.duckdb"
    generate(data, units=units, seed=seed)
    ingest(data, db)
    return db, set(_truth(data)), _truth(data)


@pytest.mark.parametrize("units, seed", [(8, 2024), (8, 7), (20, 99), (200, 5)])
def test_rules_return_exactly_truth(tmp_path, units, seed):
    db, truth, amounts = _county(tmp_path, units, seed)
    f = inspect(db).findings
    found = set(zip(f["rule_id"], f["unit_code"], f["ref"]))
    missed, extra = sorted(truth - found), sorted(found - truth)
    assert not missed and not extra, f"missed {missed[:10]} extra {extra[:10]}"
    assert {r.id for r in RULES} <= {rule for rule, _, _ in truth}
    # exposure and interest exactly as planted (CONTRACT §3 "Amounts"), to the fen
    got = {(r, u, ref): (e, i) for r, u, ref, e, i in
           zip(f["rule_id"], f["unit_code"], f["ref"], f["exposure"], f["interest"])}
    wrong = sorted((key, amounts[key], got[key]) for key in truth if got[key] != amounts[key])
    assert not wrong, f"{len(wrong)} wrong exposure/interest (key, planted, found): {wrong[:10]}"
    assert all(isinstance(e, Decimal) and e == e.quantize(Decimal("0.01")) for e, _ in got.values())


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    return _county(tmp_path_factory.mktemp("county"), 8, 11)[:2]


def _keys(findings):
    return set(zip(findings["rule_id"], findings["unit_code"], findings["ref"]))


MIN_AMOUNT_RULES = [r.id for r in RULES if any(p.name == "min_amount" for p in r.params)]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rule_id=st.sampled_from(MIN_AMOUNT_RULES), low=st.integers(0, 200_000), step=st.integers(0, 200_000))
def test_raising_min_amount_never_adds_a_finding(county, rule_id, low, step):
    db, _ = county
    base = load_params()
    inspection = next(r.inspection for r in RULES if r.id == rule_id)

    def run(value):
        rules = {k: dict(v) for k, v in base.rules.items()}
        rules[rule_id]["min_amount"] = Decimal(value)
        params = type(base)(as_of=base.as_of, fiscal_year=base.fiscal_year, lang=base.lang, rules=rules)
        f = inspect(db, inspection, params=params).findings
        return _keys(f[f.rule_id == rule_id])

    assert run(low + step) <= run(low)


def test_one_unit_equals_all_units_and_sf02_window_is_monotone(county):
    db, _ = county
    everything = inspect(db)
    units = sorted(set(everything.findings["unit_code"]))
    per_unit = pd.concat([inspect(db, unit=u).findings for u in units], ignore_index=True)
    assert _keys(per_unit) == _keys(everything.findings)
    # a narrower SF02 window leaves more bank lines unmatched, never fewer
    base = load_params()
    rules = {k: dict(v) for k, v in base.rules.items()}
    rules["SF02"]["window_days"] = 0
    narrow = inspect(db, "slush_funds", params=type(base)(as_of=base.as_of, fiscal_year=base.fiscal_year,
                                                          lang=base.lang, rules=rules)).findings
    wide = everything.findings
    assert _keys(wide[wide.rule_id == "SF02"]) <= _keys(narrow[narrow.rule_id == "SF02"])
