"""Rest days in mainland China (SF12): statutory holidays and adjusted working days (调休).

The calendar is the ``chinese-calendar`` package.  It was chosen over ``holidays`` because it
holds exactly what SF12 needs, taken each year from the State Council's notice on the holiday
arrangement (国务院办公厅关于…部分节假日安排的通知): the days off *and* the adjusted working
Saturdays and Sundays (调休上班), and it refuses a year it has no notice for (so a year it does
not cover is known, not guessed).  ``holidays`` computes China's holidays by rule for any year,
so a year without a published arrangement is silently "covered", and it does not list the
adjusted working days as such.  ``chinese-calendar`` has no dependencies; a new release follows
each year's notice (update the package when a new year is audited).

A year outside the calendar counts Saturdays and Sundays only; :func:`uncovered_years` names
those years so the run can say so (CONTRACT §3, SF12).
"""
from __future__ import annotations

import datetime as dt
import logging
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterable

import pandas as pd

from auditlib.rules.model import sql_query

_log = logging.getLogger("auditlib")


@lru_cache(maxsize=1)
def _calendar() -> tuple[dict, dict, int, int]:
    """The calendar's holidays and adjusted working days and the years it covers."""
    from chinese_calendar import constants

    holidays = dict(constants.holidays)
    workdays = dict(constants.workdays)
    years = [d.year for d in holidays] + [d.year for d in workdays]
    return holidays, workdays, min(years), max(years)


def covered_years() -> range:
    """The years the calendar holds the State Council's arrangement for."""
    _, _, first, last = _calendar()
    return range(first, last + 1)


def is_covered(year: int) -> bool:
    return year in covered_years()


def is_rest_day(day: dt.date) -> bool:
    """A statutory holiday, or a Saturday or Sunday that is not an adjusted working day; in a
    year the calendar does not cover, a Saturday or Sunday."""
    holidays, workdays, _, _ = _calendar()
    if not is_covered(day.year):
        return day.weekday() >= 5
    return day in holidays or (day.weekday() >= 5 and day not in workdays)


_HOLIDAY_ZH = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节", "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利纪念日",
}


def exceptions_frame(years: Iterable[int]) -> pd.DataFrame:
    """The calendar's days that differ from "Saturday and Sunday off" in the covered ``years``:
    ``day`` (date), ``rest`` (True a holiday on a weekday or weekend, False an adjusted working
    day), ``name`` (zh) and ``name_en`` — the relation SF12's query joins."""
    holidays, workdays, _, _ = _calendar()
    wanted = {y for y in years if is_covered(y)}
    rows = [(d, True, _HOLIDAY_ZH.get(str(n), "法定节假日"), str(n)) for d, n in holidays.items() if d.year in wanted]
    rows += [(d, False, "调休上班", "adjusted working day") for d in workdays if d.year in wanted]
    frame = pd.DataFrame(rows, columns=["day", "rest", "name", "name_en"])
    frame["day"] = pd.to_datetime(frame["day"]).dt.date if len(frame) else pd.Series([], dtype="object")
    return frame


def uncovered_years(years: Iterable[int]) -> list[int]:
    """Those of ``years`` the calendar does not cover (judged on Saturdays and Sundays only)."""
    return sorted({int(y) for y in years if not is_covered(int(y))})


def uncovered_note(years: Iterable[int]) -> tuple[str, str] | None:
    """The run's remark about ``years`` outside the calendar, (zh, en); None when all are covered."""
    missing = uncovered_years(years)
    if not missing:
        return None
    span = covered_years()
    text = "、".join(str(y) for y in missing)
    return (f"节假日日历（国务院节假日安排）仅覆盖 {span.start}–{span.stop - 1} 年；{text} 年按周六、周日判断非工作日，"
            f"未考虑法定节假日和调休上班日。",
            f"The holiday calendar (State Council arrangements) covers {span.start}–{span.stop - 1} only; "
            f"{', '.join(str(y) for y in missing)} judged on Saturdays and Sundays only, without statutory "
            f"holidays or adjusted working days.")


# ---- SF12's query and run note ---------------------------------------------------------------------
def _calendar_sql(years: Iterable[int]) -> str:
    """The calendar's exceptions for ``years`` as SQL rows ``(day, rest, name)``."""
    rows = exceptions_frame(years)
    if rows.empty:
        return "SELECT CAST(NULL AS DATE) AS day, CAST(NULL AS BOOLEAN) AS rest, CAST(NULL AS VARCHAR) AS name WHERE false"
    values = ", ".join(f"(DATE '{r.day.isoformat()}', {'true' if r.rest else 'false'}, '{r.name}')"
                       for r in rows.itertuples())
    return f"SELECT * FROM (VALUES {values}) AS c(day, rest, name)"


def _paid_years(con, p_rel: str) -> list[int]:
    return [int(y) for (y,) in con.sql(
        f"WITH {p_rel} SELECT DISTINCT year(y.paid_on) FROM payments y JOIN p USING (unit_code) "
        f"WHERE y.paid_on IS NOT NULL AND y.paid_on <= p.as_of AND y.amount >= p.min_amount").fetchall()
        if y is not None]


@sql_query
@contextmanager
def rest_day_payments(con, p_rel: str):
    """SF12: paid payments ≥ ``min_amount`` (paid on or before ``as_of``) whose ``paid_on`` is a rest
    day (:func:`is_rest_day`); a year outside the calendar is judged on Saturdays and Sundays, and
    the finding's ``calendar`` and ``detail`` say so (the run's note too, :func:`rest_day_note`)."""
    years = _paid_years(con, p_rel)
    first, last = covered_years().start, covered_years().stop - 1
    missing = uncovered_years(years)
    if missing:
        _log.warning("SF12: %s", uncovered_note(missing)[1])
    sql = f"""
        WITH {p_rel}, cal AS ({_calendar_sql(years)}),
        y AS (
            SELECT y.*, year(y.paid_on) BETWEEN {first} AND {last} AS covered
            FROM payments y JOIN p USING (unit_code)
            WHERE y.paid_on IS NOT NULL AND y.paid_on <= p.as_of AND y.amount >= p.min_amount),
        r AS (
            SELECT y.*, CASE isodow(y.paid_on) WHEN 1 THEN '星期一' WHEN 2 THEN '星期二' WHEN 3 THEN '星期三'
                         WHEN 4 THEN '星期四' WHEN 5 THEN '星期五' WHEN 6 THEN '星期六' ELSE '星期日' END AS weekday,
                   CASE WHEN y.covered AND c.rest THEN c.name
                        WHEN isodow(y.paid_on) = 6 THEN '星期六' ELSE '星期日' END AS rest_day,
                   CASE WHEN y.covered THEN '国务院节假日安排' ELSE '仅按周六、周日（日历未覆盖该年度）' END AS calendar
            FROM y LEFT JOIN cal c ON y.covered AND c.day = y.paid_on
            WHERE CASE WHEN y.covered AND c.rest IS NOT NULL THEN c.rest ELSE isodow(y.paid_on) >= 6 END)
        SELECT unit_code, 'payments:' || payment_id AS ref, amount, 'medium' AS severity,
               printf('%s（%s）向 %s 支付 %s 元%s', paid_on::VARCHAR,
                      CASE WHEN rest_day = weekday THEN weekday ELSE weekday || '，' || rest_day END, payee_name,
                      amount::VARCHAR, CASE WHEN covered THEN '' ELSE '；该年度不在节假日日历范围内，仅按周六、周日判断' END)
                   AS detail,
               payment_id, payee_name, amount AS payment_amount, paid_on, weekday, rest_day, calendar,
               expense_type, memo, _file, _line
        FROM r ORDER BY 1, 2"""
    yield sql


def rest_day_note(con, params) -> tuple[str, str] | None:
    """SF12's remark for the run: the years of its payments the calendar does not cover."""
    years = [int(y) for (y,) in con.execute(
        "SELECT DISTINCT year(paid_on) FROM payments WHERE paid_on IS NOT NULL AND paid_on <= ?::DATE",
        [params.as_of]).fetchall() if y is not None]
    return uncovered_note(years)
