"""The rule engine: one DuckDB query per rule over all units at once.

Each rule's query reads the six tables and a relation ``p`` holding that rule's
resolved parameters per unit (``unit_code``, one column per parameter, ``as_of``,
``fiscal_year``), so per-unit overrides cost no extra query.  A query returns one
row per finding: ``unit_code, ref, amount, severity, detail`` followed by the
evidence columns an auditor checks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import duckdb
import pandas as pd

from auditlib.rules.catalogue import all_rules, get_rule
from auditlib.rules.coverage import UNTESTED_COLUMNS, untested
from auditlib.db import connect, frame
from auditlib.rules.exposure import FEN_QUOTIENT_MACRO
from auditlib.rules.identity import finding_ids
from auditlib.rules.laws import with_cited_basis
from auditlib.rules.model import Rule
from auditlib.rules.params import Params, load_params

#: columns of the findings frame; ``finding_id`` is CONTRACT §6's identity (:mod:`auditlib.rules.identity`),
#: ``exposure`` and ``interest`` what the finding puts at stake and its late-payment interest, as its
#: rule declares them (CONTRACT §3 "Amounts"; exact Decimal yuan, interest None for most rules)
FINDING_COLUMNS = ["inspection", "rule_id", "unit_code", "ref", "amount", "severity", "title", "detail", "finding_id",
                   "exposure", "interest"]


@dataclass
class Inspection:
    """Findings of one inspection run: a findings frame and the evidence per rule."""

    findings: pd.DataFrame
    evidence: dict[str, pd.DataFrame] = field(default_factory=dict)
    params: Params | None = None
    #: the (unit, rule) pairs not tested for want of input (CONTRACT §3 未检查):
    #: ``unit_code, rule_id, reason_zh, reason_en`` (:func:`auditlib.rules.coverage.untested`)
    untested: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=UNTESTED_COLUMNS))


_FULL = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
_HALF = "".join(chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)) + " "


def _install_macros(con) -> None:
    """``norm_name(x)``: names compared after full-width to half-width and without spaces;
    ``fen_quotient(n, d)``: an exact quotient rounded half up to the fen (:mod:`auditlib.rules.exposure`);
    ``holds_word(x, words)``: ``x`` contains one of the literal ``words``."""
    full, half = _FULL.replace("'", "''"), _HALF.replace("'", "''")
    # most names hold neither white space nor full-width forms: those are returned as they are
    # without the (slow) translate, the same result as translating them
    con.execute(f"CREATE OR REPLACE TEMP MACRO norm_name(x) AS "
                f"CASE WHEN NOT regexp_matches(COALESCE(x, ''), '[\\s\\x{{3000}}\\x{{FF01}}-\\x{{FF5E}}]') "
                f"THEN COALESCE(x, '') "
                f"ELSE regexp_replace(translate(COALESCE(x, ''), '{full}', '{half}'), '\\s+', '', 'g') END")
    con.execute(FEN_QUOTIENT_MACRO)
    # ``holds_word(text, words)``: the text contains one of the literal words of a ``words``
    # parameter (CONTRACT §2); false for an empty list or a missing text
    con.execute("CREATE OR REPLACE TEMP MACRO holds_word(x, words) AS "
                "COALESCE(list_bool_or(list_transform(words, lambda w: contains(COALESCE(x, ''), w))), false)")


def implemented_rules(inspection: str | None = None) -> list[Rule]:
    """Rules that have a query, optionally of one inspection, in catalogue order."""
    return [r for r in all_rules() if r.query is not None and (inspection is None or r.inspection == inspection)]


def _param_relation(rule: Rule, params: Params, units: list[str]) -> str:
    """SQL text of the ``p`` relation: one row per unit with its resolved parameters."""
    own = list(rule.params)
    borrowed = [(other, get_rule(other).param(name)) for other, name in rule.uses]  # Rule.uses
    names = [prm.name for prm in own] + [prm.name for _, prm in borrowed]
    cols = ["unit_code", *names, "as_of", "fiscal_year"]
    rows = []
    for unit in units:
        # a rule the parameters do not know (one installed after they were loaded) runs on its defaults
        resolved = params.for_unit(unit)
        values = resolved.get(rule.id) or rule.defaults()
        cells = [_literal(unit)]
        for prm in own:  # a value the parameters lack (a hand-made Params) is the rule's default
            cells.append(_cell(values.get(prm.name, prm.default)))
        for other, prm in borrowed:
            cells.append(_cell((resolved.get(other) or {}).get(prm.name, prm.default)))
        cells += [f"DATE '{params.as_of.isoformat()}'", str(params.fiscal_year)]
        rows.append(f"({', '.join(cells)})")
    if not rows:  # no unit: one typed row of NULLs (untyped ones leave e.g. dayofyear(as_of) ambiguous)
        types = ["VARCHAR", *("DECIMAL(18,6)" if isinstance(prm.default, Decimal) else
                              "VARCHAR[]" if prm.type == "words" else "INTEGER"
                              for prm in [*own, *(prm for _, prm in borrowed)]),
                 "DATE", "INTEGER"]
        rows = ["(" + ", ".join(f"CAST(NULL AS {t})" for t in types) + ")"]
    quoted = ", ".join(f'"{c}"' for c in cols)
    return f"(SELECT * FROM (VALUES {', '.join(rows)}) AS v({quoted}) WHERE unit_code IS NOT NULL)"


def _cell(value) -> str:
    """One parameter value as SQL: money and ratios exact decimals, a word list a ``VARCHAR[]``
    of literal words (matched with ``holds_word``), days and counts integers."""
    if isinstance(value, Decimal):
        return f"CAST('{value}' AS DECIMAL(18,6))"
    if isinstance(value, (tuple, list)):
        return "CAST([" + ", ".join(_literal(w) for w in value) + "] AS VARCHAR[])"
    return str(int(value))


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def unit_names(con) -> dict[str, str]:
    """Every unit the data mention, code → name, in code order.

    A unit is one of the ``units`` table or any unit code in the data tables: an export of
    one table (a payments file mapped with a profile, say) is inspected too, its name
    empty when no ``units`` row gives one.  The rules, the batch, the reports and the
    explore panel all take their units from here.
    """
    return dict(con.execute(
        "SELECT c.unit_code, COALESCE(any_value(u.unit_name), '') FROM ("
        "SELECT unit_code FROM units UNION SELECT unit_code FROM payments UNION SELECT unit_code FROM ledger "
        "UNION SELECT unit_code FROM bank_txns UNION SELECT unit_code FROM budget "
        "UNION SELECT unit_code FROM accounts) c LEFT JOIN units u USING (unit_code) "
        "WHERE c.unit_code IS NOT NULL GROUP BY c.unit_code ORDER BY c.unit_code").fetchall())


def rule_notes(db, params: Params | None = None, inspection: str | None = None) -> dict[str, tuple[str, str]]:
    """The run-level remarks of the rules (``Rule.note``), rule id → (zh, en), only rules with one:
    e.g. SF12's years outside its holiday calendar, judged on Saturdays and Sundays only.  The
    manifest records them and reports show them beside the rule's findings."""
    params = params or load_params()
    own = not isinstance(db, duckdb.DuckDBPyConnection)
    con = connect(db) if own else db
    try:
        out = {}
        for rule in implemented_rules(inspection):
            note = rule.note(con, params) if rule.note is not None else None
            if note:
                out[rule.id] = tuple(note)
        return out
    finally:
        if own:
            con.close()


def inspect(db, inspection: str | None = None, unit: str | None = None,
            params: Params | None = None, rule_ids=None) -> Inspection:
    """Run the rules of ``inspection`` (all when None) for every unit or one.

    Parameters
    ----------
    db : path or duckdb connection
        The audit database written by ``auditlib ingest``.
    inspection : {'idle_funds', 'slush_funds', 'delayed_payments'}, optional
    unit : str, optional
        One unit code; the same findings as an all-units run, filtered.
    params : Params, optional
        Resolved parameters; ``params/default.yaml`` when omitted.
    rule_ids : iterable of str, optional
        Only these rules (of ``inspection``); every rule when omitted.
    """
    params = params or load_params()
    own = not isinstance(db, duckdb.DuckDBPyConnection)
    con = connect(db) if own else db
    try:
        _install_macros(con)
        units = list(unit_names(con))
        if unit is not None:
            units = [u for u in units if u == str(unit)]
        frames, evidence = [], {}
        wanted = None if rule_ids is None else set(rule_ids)
        run = [r for r in implemented_rules(inspection) if wanted is None or r.id in wanted]
        gaps = untested(con, units, run)  # CONTRACT §3: a rule without its input is not tested
        for rule in run:
            p_rel = f"p AS {_param_relation(rule, params, units)}"
            query = rule.query
            if callable(query):
                ev = query(con, p_rel)
            else:
                query = query.strip()
                if query[:4].upper() == "WITH":  # join our CTE to the query's own
                    sql = f"WITH {p_rel}, {query[4:]} ORDER BY 1, 2"
                else:
                    sql = f"WITH {p_rel} {query} ORDER BY 1, 2"
                ev = frame(con.sql(sql))
            ev = with_cited_basis(rule, ev)  # the basis version in force on each finding's date
            skip = set(gaps.loc[gaps["rule_id"] == rule.id, "unit_code"])
            if skip and len(ev):  # a unit the rule could not test has no findings of it, only 未检查
                ev = ev[~ev["unit_code"].astype(str).isin(skip)].reset_index(drop=True)
            evidence[rule.id] = ev
            if len(ev):
                f = ev[["unit_code", "ref", "amount", "severity", "detail"]].copy()
                f.insert(0, "rule_id", rule.id)
                f.insert(0, "inspection", rule.inspection)
                f["title"] = rule.title(params.lang)
                f["finding_id"] = finding_ids(f)
                f["exposure"] = rule.exposures(ev).values
                f["interest"] = rule.interests(ev).values
                frames.append(f[FINDING_COLUMNS])
        findings = (pd.concat(frames, ignore_index=True) if frames
                    else pd.DataFrame(columns=FINDING_COLUMNS))
        return Inspection(findings=findings, evidence=evidence, params=params, untested=gaps)
    finally:
        if own:
            con.close()
