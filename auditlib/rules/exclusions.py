"""What the payment rules left out (CONTRACT §3 exclusions), so that exclusion is never silent.

SF05, SF06, SF07 and SF13 skip payments whose ``payee_name`` holds a word of ``exclude_payees`` or
whose ``expense_type`` holds a word of ``exclude_expense_types`` (``words`` parameters of each of
those rules, run-wide or per unit).  :func:`excluded_payments` counts, per unit and word, the
payments those words leave out and their amount, with the same cut-off as the rules (a payment
paid after ``as_of`` is no evidence), in one query.  The report shows the table.
"""
from __future__ import annotations

import pandas as pd

from auditlib.db import frame

#: the rules that apply the exclusion lists (CONTRACT §3)
EXCLUDING_RULES = ("SF05", "SF06", "SF07", "SF13")
#: parameter name → the payments column its words are looked for in
FIELDS = {"exclude_payees": "payee_name", "exclude_expense_types": "expense_type"}
#: columns of :func:`excluded_payments`' frame
COLUMNS = ["unit_code", "field", "word", "rules", "payments", "amount"]


def _words(params, units: list[str]) -> list[tuple[str, str, str, str]]:
    """(unit, parameter, word, rule) for every exclusion word in force, per unit and rule."""
    out = []
    for unit in units:
        resolved = params.for_unit(unit)
        for rule_id in EXCLUDING_RULES:
            values = resolved.get(rule_id) or {}
            for name in FIELDS:
                out += [(str(unit), name, str(w), rule_id) for w in values.get(name) or ()]
    return out


def excluded_payments(con, params, units: list[str] | None = None) -> pd.DataFrame:
    """The payments the exclusion lists leave out, per unit and word.

    Parameters
    ----------
    con : duckdb connection
        The audit database.
    params : Params
        Resolved parameters (their ``as_of`` is the cut-off; per-unit overrides apply).
    units : list of str, optional
        The units to count; every unit with payments when omitted.

    Returns
    -------
    DataFrame
        ``unit_code, field`` (``exclude_payees`` or ``exclude_expense_types``), ``word``, ``rules``
        (the rules whose list holds the word, e.g. ``SF05、SF06、SF07、SF13``), ``payments`` (how many
        payments hold it, paid on or before ``as_of`` or undated) and ``amount`` (their exact sum);
        only words that leave out at least one payment, ordered by unit, field and word.  A payment
        holding two words is counted under each.
    """
    if units is None:
        units = [r[0] for r in con.execute(
            "SELECT DISTINCT unit_code FROM payments WHERE unit_code IS NOT NULL ORDER BY 1").fetchall()]
    rows = _words(params, units)
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    words = pd.DataFrame(rows, columns=["unit_code", "field", "word", "rule_id"])
    con.register("_excluded_words", words)
    try:
        out = frame(con.sql(f"""
            WITH w AS (
                SELECT unit_code, field, word, string_agg(DISTINCT rule_id, '、' ORDER BY rule_id) AS rules
                FROM _excluded_words GROUP BY ALL)
            SELECT w.unit_code, w.field, w.word, w.rules, count(*) AS payments, SUM(y.amount) AS amount
            FROM w JOIN payments y ON y.unit_code = w.unit_code
             AND contains(COALESCE(CASE w.field WHEN 'exclude_payees' THEN y.payee_name
                                                ELSE y.expense_type END, ''), w.word)
            WHERE y.paid_on IS NULL OR y.paid_on <= DATE '{params.as_of.isoformat()}'
            GROUP BY ALL ORDER BY w.unit_code, w.field DESC, w.word"""))
    finally:
        con.unregister("_excluded_words")
    return out[COLUMNS].reset_index(drop=True) if len(out) else pd.DataFrame(columns=COLUMNS)
