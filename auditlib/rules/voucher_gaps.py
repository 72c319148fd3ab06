"""SF14's voucher-number gaps (凭证号断号, the GAPS test of audit software): the query and the
drill-down to the vouchers on either side of a gap.

A ``voucher_no`` splits into a prefix (everything before its last run of digits) and a number
(that run as an integer; text after it is ignored, and a number of more than 18 digits is
treated like one without digits: left out).  Per (unit, prefix, year-month of ``voucher_date``)
the distinct numbers are ordered; wherever two neighbours differ by more than one, the numbers
between them are one gap, ref ``vouchers:<prefix>/<yyyy-mm>/<first missing>-<last missing>``.
Numbering that runs on across a month boundary is two groups; a number missing exactly at the
boundary lies between no group's smallest and largest number and is not a gap (CONTRACT §3).
"""
from __future__ import annotations

import pandas as pd

from auditlib.rules.sources import SourceRows, fetch

#: prefix (shortest, so that the digits are the last run) and number of a voucher number
SPLIT = r"^(.*?)([0-9]+)[^0-9]*$"

QUERY = r"""
        WITH v AS (
            SELECT l.unit_code, l.voucher_no, min(l.voucher_date) AS voucher_date
            FROM ledger l JOIN p USING (unit_code)
            WHERE l.voucher_date <= p.as_of AND l.voucher_no IS NOT NULL
            GROUP BY l.unit_code, l.voucher_no),
        c AS (  -- the number without the text after its last digit (most numbers end with a digit: no regex)
            SELECT unit_code, voucher_no, voucher_date,
                   CASE WHEN right(voucher_no, 1) BETWEEN '0' AND '9' THEN voucher_no
                        ELSE regexp_extract(voucher_no, '^(.*[0-9])[^0-9]*$', 1) END AS core
            FROM v),
        d AS (SELECT c.*, regexp_extract(core, '[0-9]+$') AS digits FROM c),
        n AS MATERIALIZED (  -- two spellings of one number (记-12, 记-012) are neighbours 0 apart: no gap
            -- (materialized: the groups and the window below read it, the split is done once; the
            -- filter on the number, not on the digits, so that the regex runs once per voucher)
            SELECT * FROM (
                SELECT unit_code, left(core, length(core) - length(digits)) AS prefix,
                       date_trunc('month', voucher_date) AS month_start,
                       CASE WHEN digits <> '' AND length(digits) <= 18 THEN CAST(digits AS BIGINT) END AS num,
                       voucher_no, voucher_date,
                       -- the width of the digits ending the voucher_no; -1 when text follows them
                       CASE WHEN core = voucher_no THEN length(digits) ELSE -1 END AS width
                FROM d) WHERE num IS NOT NULL),
        spans AS (
            SELECT unit_code, prefix, month_start, count(*) AS vouchers_in_month, min(num) AS month_first,
                   max(num) AS month_last, min(width) = max(width) AND min(width) > 0 AS plain
            FROM n GROUP BY unit_code, prefix, month_start),
        grp AS (  -- the groups with a gap (fewer distinct numbers than their span): only these are ordered
            -- a plain group (each voucher_no its prefix and digits of one width) holds each number once
            -- (its voucher_no are distinct): its count is its count of distinct numbers
            SELECT unit_code, prefix, month_start, vouchers_in_month, month_first, month_last FROM spans
            WHERE plain AND month_last - month_first + 1 > vouchers_in_month
            UNION ALL
            SELECT unit_code, prefix, month_start, any_value(s.vouchers_in_month), any_value(s.month_first),
                   any_value(s.month_last)
            FROM n JOIN (SELECT * FROM spans WHERE NOT plain) s USING (unit_code, prefix, month_start)
            GROUP BY unit_code, prefix, month_start
            HAVING any_value(s.month_last) - any_value(s.month_first) + 1 > count(DISTINCT n.num)),
        g AS (
            SELECT n.*, grp.vouchers_in_month, grp.month_first, grp.month_last,
                   strftime(n.month_start, '%Y-%m') AS month,
                   lag(num) OVER w AS prev_num, lag(voucher_no) OVER w AS prev_no, lag(voucher_date) OVER w AS prev_date
            FROM n JOIN grp USING (unit_code, prefix, month_start)
            WINDOW w AS (PARTITION BY unit_code, prefix, month_start ORDER BY num))
        SELECT unit_code,
               'vouchers:' || prefix || '/' || month || '/' || (prev_num + 1)::VARCHAR || '-' || (num - 1)::VARCHAR
                   AS ref,
               CAST(NULL AS DECIMAL(18, 2)) AS amount, 'low' AS severity,
               printf('%s 月“%s”凭证号 %d 至 %d 之间缺 %d 个号（%d–%d）', month, prefix, prev_num, num,
                      num - prev_num - 1, prev_num + 1, num - 1) AS detail,
               prefix, month, prev_num + 1 AS first_missing, num - 1 AS last_missing,
               num - prev_num - 1 AS missing_count, prev_no AS voucher_before, prev_date AS date_before,
               voucher_no AS voucher_after, voucher_date AS date_after, vouchers_in_month, month_first, month_last
        FROM g WHERE num - prev_num > 1"""

COLUMNS = {
    "prefix": ("凭证字/前缀", "Prefix"), "month": ("月份", "Month"),
    "first_missing": ("缺号起", "First missing"), "last_missing": ("缺号止", "Last missing"),
    "missing_count": ("缺号个数", "Numbers missing"),
    "voucher_before": ("断号前凭证号", "Voucher before"), "date_before": ("断号前凭证日期", "Date before"),
    "voucher_after": ("断号后凭证号", "Voucher after"), "date_after": ("断号后凭证日期", "Date after"),
    "vouchers_in_month": ("当月凭证张数", "Vouchers in the month"),
    "month_first": ("当月最小号", "Month's first number"), "month_last": ("当月最大号", "Month's last number"),
}


def parse_ref(ref: str) -> tuple[str, str, int, int] | None:
    """``vouchers:<prefix>/<yyyy-mm>/<from>-<to>`` → (prefix, month, from, to); None when it is not one.
    The prefix may itself hold ``/``: the month and range are taken from the right."""
    kind, _, key = str(ref).partition(":")
    parts = key.rsplit("/", 2)
    if kind != "vouchers" or len(parts) != 3:
        return None
    prefix, month, span = parts
    first, sep, last = span.partition("-")
    if not sep or not first.isdigit() or not last.isdigit():
        return None
    return prefix, month, int(first), int(last)


def gap_neighbours(con, unit_code: str, ref: str, evidence: pd.Series | None = None, as_of=None,
                   fiscal_year: int | None = None) -> list[SourceRows]:
    """The vouchers on either side of the gap ``ref``: every line of the voucher with the largest
    number below it and of the one with the smallest number above it (same prefix and month)."""
    parsed = parse_ref(ref)
    if parsed is None:
        return []
    prefix, month, first, last = parsed
    cut = "AND voucher_date <= ?::DATE" if as_of is not None else ""
    base = f"""
        WITH s AS (
            SELECT l.*, regexp_extract(voucher_no, '{SPLIT}', 1) AS _prefix,
                   TRY_CAST(regexp_extract(voucher_no, '{SPLIT}', 2) AS BIGINT) AS _num
            FROM ledger l WHERE unit_code = ? AND strftime(voucher_date, '%Y-%m') = ? {cut})
        SELECT * EXCLUDE (_prefix, _num) FROM s
        WHERE _prefix = ? AND _num = (SELECT {{agg}}(_num) FROM s WHERE _prefix = ? AND _num {{cmp}} ?)
        ORDER BY voucher_no, line_no"""
    head = [unit_code, month] + ([as_of] if as_of is not None else [])
    out = fetch(con, "ledger", "断号前的一张凭证", "the voucher before the gap",
                base.format(agg="max", cmp="<"), head + [prefix, prefix, first])
    out += fetch(con, "ledger", "断号后的一张凭证", "the voucher after the gap",
                 base.format(agg="min", cmp=">"), head + [prefix, prefix, last])
    return out
