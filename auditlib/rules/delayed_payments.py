"""Delayed payments (支付不及时): the rules DP01–DP07, each with its query, labels, chart, drill-down and exposure.

Exposure (CONTRACT §3 "Amounts"): DP01, DP02, DP04, DP06 the payment's amount; DP03 time progress ×
amount − paid and DP05 December's payments − ``max_share`` × the year's payments, both rounded
half up to the fen in the query; DP07 the line's November and December payments.  DP01 and DP02
also give ``interest`` (逾期利息), rounded half up.

DP01, DP02, DP04 and DP06 cite 《保障中小企业款项支付条例》 by the version in force on each
finding's evidence date (``basis_versions``, :mod:`auditlib.rules.laws`).  DP06 reads DP01's
``max_term_days`` (``uses``), so one setting governs both.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd

from auditlib.db import query
from auditlib.i18n import register
from auditlib.rules.laws import SME_LATE, SME_PROCESSING, SME_TERM
from auditlib.rules.model import EXPOSURE_LABEL, Rule, days, money, ratio
from auditlib.rules.plotting import figure, label, legend_outside, percent_axis
from auditlib.rules.sources import SourceRows, fetch

if TYPE_CHECKING:
    from matplotlib.figure import Figure

register({
    "chart.progress.title": ("支出进度与序时进度", "Paid share against time progress"),
    "chart.progress.x": ("已支付比例", "paid share"),
    "chart.progress.time": ("序时进度 {p:.0%}", "time progress {p:.0%}"),
    "chart.progress.floor": ("允许滞后下限 {p:.0%}", "lowest allowed {p:.0%}"),
    "chart.days.title": ("中小企业款项验收至支付天数", "Days from acceptance to payment (SMEs)"),
    "chart.days.x": ("天数", "days"),
    "chart.days.y": ("笔数", "payments"),
    "chart.days.line": ("付款期限 {d} 天（{n} 笔）", "term {d} days ({n} payments)"),
})

#: the payment terms DP01 and DP02 share
DP_TERMS = (
    days("term_days_default", 30, "默认付款期限(天)", "default payment term (days)", 365),
    days("max_term_days", 60, "合同约定付款期限上限(天)", "longest term a contract may set (days)", 365),
    ratio("daily_rate", "0.0005", "逾期利息日利率", "daily interest rate on late payment", hi="0.01"),
)


# ---- DP01's chart: days to pay SMEs, by the payment term that applies -------------------------------
#: line styles of the terms' reference lines, in order
_TERM_STYLES = ("--", ":", "-.", (0, (5, 1)), (0, (1, 3)))


def days_to_pay(con, unit_code: str, params, lang: str) -> Figure | None:
    """Histogram of days from acceptance to payment for SME payments, stacked by the term that
    applies to each (its contract's term up to ``max_term_days``, else ``term_days_default``, as
    DP01 judges it), with one reference line per term present."""
    p = params.for_unit(unit_code)["DP01"]
    taken = query(con, """
        SELECT paid_on - accepted_on AS days,
               CASE WHEN term_days > 0 THEN LEAST(term_days, ?) ELSE ? END AS limit_days
        FROM payments
        WHERE unit_code = ? AND payee_is_sme AND accepted_on IS NOT NULL AND paid_on IS NOT NULL
          AND paid_on <= ?::DATE""", [int(p["max_term_days"]), int(p["term_days_default"]), unit_code, params.as_of])
    if taken.empty:
        return None
    from matplotlib import colormaps

    terms = sorted({int(d) for d in taken["limit_days"]})
    colours = [colormaps["tab10"](i % 10) for i in range(len(terms))]
    groups = [[int(x) for x in taken.loc[taken["limit_days"] == d, "days"]] for d in terms]
    fig, ax = figure()
    low, high = min(0, int(taken["days"].min())), max(int(taken["days"].max()), max(terms)) + 1
    width = 5 * max(1, -(-(high - low) // 200))  # 5-day bins, wider for a long span (≤ 40 bins)
    ax.hist(groups, bins=range(low, high + width, width), stacked=True, color=colours, alpha=0.85)
    for i, (d, group) in enumerate(zip(terms, groups)):
        ax.axvline(d, color=colours[i], linewidth=1.6, linestyle=_TERM_STYLES[i % len(_TERM_STYLES)],
                   label=label("chart.days.line", lang, d=d, n=len(group)))
    ax.set_title(label("chart.days.title", lang))
    ax.set_xlabel(label("chart.days.x", lang))
    ax.set_ylabel(label("chart.days.y", lang))
    ax.yaxis.get_major_locator().set_params(integer=True)
    legend_outside(ax)
    return fig


# ---- DP03's chart: paid share against time progress -----------------------------------------------
def progress(con, unit_code: str, params, lang: str) -> Figure | None:
    """Paid share of each budget line of the year against time progress and the allowed gap."""
    p = params.for_unit(unit_code)["DP03"]
    df = query(con, """
        SELECT b.budget_id, COALESCE(b.project_name, b.budget_id) AS name, b.amount,
               COALESCE((SELECT SUM(y.amount) FROM payments y
                         WHERE y.budget_id = b.budget_id AND y.paid_on <= ?::DATE), 0) AS paid
        FROM budget b WHERE b.unit_code = ? AND b.fiscal_year = ? AND b.amount >= ?
          AND (b.issued_on IS NULL OR b.issued_on <= ?::DATE)
        ORDER BY b.budget_id""", [params.as_of, unit_code, params.fiscal_year, p["min_amount"], params.as_of])
    if df.empty:
        return None
    start, end = dt.date(params.fiscal_year, 1, 1), dt.date(params.fiscal_year + 1, 1, 1)
    time_share = min(max((params.as_of - start).days + 1, 0), (end - start).days) / (end - start).days
    floor = max(time_share - float(p["gap"]), 0.0)
    shares = [float(paid / amount) if amount else 0.0 for paid, amount in zip(df["paid"], df["amount"])]
    df = df.assign(share=shares).head(30)
    fig, ax = figure(8, max(2.5, 0.28 * len(df) + 1.2))
    colors = ["#c0504d" if s < floor else "#4f81bd" for s in df["share"]]
    ax.barh(range(len(df)), df["share"], color=colors)
    ax.set_yticks(range(len(df)), [str(n)[:14] for n in df["name"]], fontsize=7)
    ax.invert_yaxis()
    ax.axvline(time_share, color="#333333", linestyle="--", label=label("chart.progress.time", lang, p=time_share))
    ax.axvline(floor, color="#c0504d", linestyle=":", label=label("chart.progress.floor", lang, p=floor))
    percent_axis(ax.xaxis, 0.0, max(1.0, max(df["share"]) * 1.05))  # 0–100 % (more when overpaid)
    ax.set_title(label("chart.progress.title", lang))
    ax.set_xlabel(label("chart.progress.x", lang))
    legend_outside(ax)
    return fig


# ---- DP05's drill-down: the December payments behind a unit-level finding ------------------------------
def december_payments(con, unit_code: str, ref: str, evidence: pd.Series | None = None, as_of=None,
                      fiscal_year: int | None = None) -> list[SourceRows]:
    """The unit's December payments of the fiscal year, largest first."""
    if fiscal_year is None or as_of is None or evidence is None:
        return []
    return fetch(con, "payments", "12月支付明细", "December payments",
                 "SELECT * FROM payments WHERE unit_code = ? AND year(paid_on) = ? AND month(paid_on) = 12 "
                 "AND paid_on <= ?::DATE ORDER BY amount DESC", [unit_code, fiscal_year, as_of])


RULES: tuple[Rule, ...] = (
    Rule("DP01", "delayed_payments", "中小企业款项超过付款期限支付", "SME paid after its payment term",
         "《保障中小企业款项支付条例》第九条、第十条、第十七条（2025年6月1日起施行的修订版；此前适用2020年版第八条、第九条、第十五条）", DP_TERMS,
         query="""
        WITH t AS (
            SELECT y.*, p.daily_rate,
                   CASE WHEN y.term_days > 0 THEN LEAST(y.term_days, p.max_term_days)
                        ELSE p.term_days_default END AS limit_days
            FROM payments y JOIN p USING (unit_code)
            WHERE y.payee_is_sme AND y.accepted_on IS NOT NULL AND y.paid_on IS NOT NULL
              AND y.paid_on <= p.as_of)
        SELECT unit_code, 'payments:' || payment_id AS ref, amount, 'high' AS severity,
               printf('验收后 %d 天支付，超期 %d 天', paid_on - accepted_on,
                      paid_on - accepted_on - limit_days) AS detail,
               payment_id, payee_name, contract_id, accepted_on, paid_on, term_days, limit_days,
               paid_on - accepted_on - limit_days AS days_late,
               CAST(amount * daily_rate * (paid_on - accepted_on - limit_days) AS DECIMAL(18,2)) AS interest,
               _file, _line
        FROM t WHERE paid_on - accepted_on - limit_days > 0""",
         needs=("payments.payee_is_sme", "payments.accepted_on", "payments.paid_on"),
         check_zh='向中小企业支付的款项自验收之日起超过约定期限（默认 30 天，合同约定最长 60 天）才支付；按日利率计算逾期利息。',
         check_en='An SME paid after the term from acceptance (30 days by default, at most 60 by contract); interest at the daily rate.',
         penalty_basis="《保障中小企业款项支付条例》第三十一条第（一）项（2025年6月1日起施行的修订版；此前适用2020年版第二十五条第（一）项）",
         advice_zh="按约定利率（未约定的按每日万分之五）向中小企业支付逾期利息；规范验收和付款流程，自交付或验收合格之日起在法定期限内付款。",
         advice_en="Pay the SME late-payment interest at the agreed rate (0.05% a day where none was agreed); tighten acceptance and payment so that payment falls within the legal term from delivery or acceptance.",
         columns={"payment_id": ("支付单号", "Payment id"), "payee_name": ("收款人", "Payee"),
                  "contract_id": ("合同编号", "Contract"), "accepted_on": ("验收日期", "Accepted on"),
                  "paid_on": ("支付日期", "Paid on"), "term_days": ("合同付款期限(天)", "Contract term (days)"),
                  "limit_days": ("适用付款期限(天)", "Term applied (days)"), "days_late": ("逾期天数", "Days late"),
                  "interest": ("逾期利息(元)", "Interest (yuan)")},
         chart=days_to_pay, exposure="amount", interest="interest", basis_versions=SME_LATE),
    Rule("DP02", "delayed_payments", "中小企业款项超过付款期限未付", "SME payment unpaid past its term",
         "《保障中小企业款项支付条例》第九条、第十条、第十七条（2025年6月1日起施行的修订版；此前适用2020年版第八条、第九条、第十五条）", DP_TERMS,
         query="""
        WITH t AS (
            SELECT y.*, p.daily_rate, p.as_of,
                   CASE WHEN y.term_days > 0 THEN LEAST(y.term_days, p.max_term_days)
                        ELSE p.term_days_default END AS limit_days
            FROM payments y JOIN p USING (unit_code)
            WHERE y.payee_is_sme AND y.accepted_on <= p.as_of
              AND (y.paid_on IS NULL OR y.paid_on > p.as_of))
        SELECT unit_code, 'payments:' || payment_id AS ref, amount, 'high' AS severity,
               printf('验收后 %d 天仍未支付，超期 %d 天', as_of - accepted_on,
                      as_of - accepted_on - limit_days) AS detail,
               payment_id, payee_name, contract_id, accepted_on, term_days, limit_days,
               as_of - accepted_on - limit_days AS days_late,
               CAST(amount * daily_rate * (as_of - accepted_on - limit_days) AS DECIMAL(18,2)) AS interest,
               _file, _line
        FROM t WHERE as_of - accepted_on > limit_days""",
         needs=("payments.payee_is_sme", "payments.accepted_on"),
         check_zh='中小企业款项已验收、截止日仍未支付且已超过付款期限；利息计至截止日。',
         check_en='An SME payment accepted, unpaid at the cut-off and past its term; interest to the cut-off.',
         penalty_basis="《保障中小企业款项支付条例》第三十一条第（一）项（2025年6月1日起施行的修订版；此前适用2020年版第二十五条第（一）项）",
         advice_zh="立即向中小企业支付逾期款项，并按约定利率（未约定的按每日万分之五）支付逾期利息。",
         advice_en="Pay the SME the overdue amount at once, with late-payment interest at the agreed rate (0.05% a day where none was agreed).",
         columns={"payment_id": ("支付单号", "Payment id"), "payee_name": ("收款人", "Payee"),
                  "contract_id": ("合同编号", "Contract"), "accepted_on": ("验收日期", "Accepted on"),
                  "term_days": ("合同付款期限(天)", "Contract term (days)"),
                  "limit_days": ("适用付款期限(天)", "Term applied (days)"), "days_late": ("逾期天数", "Days late"),
                  "interest": ("逾期利息(元)", "Interest (yuan)")},
         exposure="amount", interest="interest", basis_versions=SME_LATE),
    Rule("DP03", "delayed_payments", "支出进度低于序时进度", "Paid share behind time progress",
         "《预算法实施条例》第六十条",
         (money("min_amount", 50000, "指标金额下限(元)", "minimum budget amount (yuan)"),
          ratio("gap", "0.20", "允许滞后幅度", "allowed gap")),
         query="""
        WITH b AS (
            SELECT b.*, p.min_amount, p.gap, p.as_of,
                   make_date(p.fiscal_year + 1, 1, 1) - make_date(p.fiscal_year, 1, 1) AS year_days,
                   CASE WHEN p.as_of >= make_date(p.fiscal_year, 12, 31)
                             THEN make_date(p.fiscal_year + 1, 1, 1) - make_date(p.fiscal_year, 1, 1)
                        WHEN p.as_of < make_date(p.fiscal_year, 1, 1) THEN 0
                        ELSE dayofyear(p.as_of) END AS elapsed,
                   (SELECT COALESCE(SUM(y.amount), 0) FROM payments y
                     WHERE y.budget_id = b.budget_id AND y.paid_on <= p.as_of) AS paid
            FROM budget b JOIN p USING (unit_code)
            WHERE b.fiscal_year = p.fiscal_year AND b.amount >= p.min_amount
              AND (b.issued_on IS NULL OR b.issued_on <= p.as_of))
        SELECT unit_code, 'budget:' || budget_id AS ref, amount - paid AS amount, 'medium' AS severity,
               printf('支出进度 %.1f%%，序时进度 %.1f%%', 100.0 * paid / amount, 100.0 * elapsed / year_days) AS detail,
               budget_id, project_name, amount AS budget_amount, paid,
               round(paid / amount, 4)::DOUBLE AS paid_share, round(elapsed / year_days, 4)::DOUBLE AS time_progress,
               fen_quotient(amount * elapsed - paid * year_days, year_days) AS exposure,
               _file, _line
        FROM b WHERE paid * year_days < amount * (elapsed - gap * year_days)""",
         needs=("budget.amount", "budget.fiscal_year", "payments.budget_id", "payments.paid_on"),
         check_zh='本年度指标金额 ≥ 下限，截止日已支付比例低于序时进度减去允许差距。',
         check_en='A budget line of the year, at least the minimum, whose paid share is below time progress minus the allowed gap.',
         penalty_basis="",
         advice_zh="排查支出进度滞后的原因，加快项目实施和资金支付；确实无法执行的按规定调整预算或交回财政统筹使用。",
         advice_en="Find out why spending lags and speed up the project and its payments; amounts that truly cannot be spent are re-budgeted or returned to the finance bureau as the rules provide.",
         columns={"budget_id": ("指标编号", "Budget line"), "project_name": ("项目名称", "Project"),
                  "budget_amount": ("指标金额(元)", "Budget amount (yuan)"), "paid": ("已支付(元)", "Paid (yuan)"),
                  "paid_share": ("支出进度", "Paid share"), "time_progress": ("序时进度", "Time progress"),
                  "exposure": EXPOSURE_LABEL},
         percent=("paid_share", "time_progress"), chart=progress, exposure="exposure"),
    Rule("DP04", "delayed_payments", "支付办理天数超过上限", "Payment processed over the day limit",
         "《保障中小企业款项支付条例》第十四条（收款人为中小企业时；2025年6月1日起施行的修订版；此前适用2020年版第十三条）",
         (days("max_days", 10, "办理天数上限", "longest processing time (days)", 365),),
         query="""
        SELECT y.unit_code, 'payments:' || y.payment_id AS ref, y.amount, 'low' AS severity,
               printf('申请后 %d 天支付', y.paid_on - y.requested_on) AS detail,
               y.payment_id, y.payee_name, y.requested_on, y.paid_on,
               y.paid_on - y.requested_on AS processing_days, y._file, y._line
        FROM payments y JOIN p USING (unit_code)
        WHERE y.paid_on <= p.as_of AND y.paid_on - y.requested_on > p.max_days""",
         needs=("payments.requested_on", "payments.paid_on"),
         check_zh='从申请支付到实际支付超过规定天数。',
         check_en='More than the allowed days from payment request to payment.',
         penalty_basis="《保障中小企业款项支付条例》第三十一条第（六）项（2025年6月1日起施行的修订版；此前适用2020年版第二十五条第（六）项）",
         advice_zh="梳理支付审批环节，压缩内部流转时间；不得以履行内部付款流程为由迟延支付中小企业款项。",
         advice_en="Review the approval steps and shorten internal handling; internal payment procedures are no reason to pay an SME late.",
         columns={"payment_id": ("支付单号", "Payment id"), "payee_name": ("收款人", "Payee"),
                  "requested_on": ("申请日期", "Requested on"), "paid_on": ("支付日期", "Paid on"),
                  "processing_days": ("办理天数", "Processing days")},
         exposure="amount", basis_versions=SME_PROCESSING),
    Rule("DP05", "delayed_payments", "12月支出占全年比例超过上限", "December share of the year's payments above the limit",
         "《预算法实施条例》第六十条",
         (ratio("max_share", "0.30", "12月支出占比上限", "largest December share"),),
         query="""
        WITH y AS (
            SELECT y.unit_code, y.amount, y.paid_on, p.max_share
            FROM payments y JOIN p USING (unit_code)
            WHERE p.as_of >= make_date(p.fiscal_year, 12, 31) AND year(y.paid_on) = p.fiscal_year
              AND y.paid_on <= p.as_of),
        s AS (
            SELECT unit_code, SUM(amount) AS total,
                   SUM(CASE WHEN month(paid_on) = 12 THEN amount ELSE 0 END) AS december,
                   any_value(max_share) AS max_share
            FROM y GROUP BY unit_code)
        SELECT unit_code, 'units:' || unit_code AS ref, december AS amount, 'medium' AS severity,
               printf('12月支出 %s 元，占全年 %.1f%%', december::VARCHAR, 100.0 * december / total) AS detail,
               total AS year_total, december, round(december / total, 4)::DOUBLE AS december_share,
               round(december - max_share * total, 2) AS exposure
        FROM s WHERE total > 0 AND december > max_share * total""",
         needs=("payments.paid_on",),
         check_zh='已结束年度中 12 月份支付金额占全年比例超过上限。',
         check_en="December's share of the year's payments above the limit, once the year has ended.",
         penalty_basis="",
         advice_zh="分析12月集中支付的项目和原因，核实是否存在突击花钱、提前支付或虚列支出；均衡安排全年支出进度。",
         advice_en="Analyse which projects were paid in December and why, and check for year-end rush spending, early payment or fictitious spending; spread spending evenly across the year.",
         columns={"year_total": ("全年支出(元)", "Year total (yuan)"), "december": ("12月支出(元)", "December (yuan)"),
                  "december_share": ("12月占比", "December share"), "exposure": EXPOSURE_LABEL},
         percent=("december_share",), drilldown=december_payments, exposure="exposure"),
    Rule("DP06", "delayed_payments", "中小企业合同约定付款期限超过法定上限",
         "SME contract term longer than the legal maximum",
         "《保障中小企业款项支付条例》第七条第一款、第九条第一款（2025年6月1日起施行的修订版；此前适用2020年版第六条第一款、第八条第一款）",
         query="""
        SELECT y.unit_code, 'payments:' || y.payment_id AS ref, y.amount, 'medium' AS severity,
               printf('合同约定付款期限 %d 天，超过上限 %d 天', y.term_days, p.max_term_days) AS detail,
               y.payment_id, y.payee_name, y.contract_id, y.accepted_on, y.paid_on, y.term_days,
               p.max_term_days AS max_term_days, y.term_days - p.max_term_days AS excess_days,
               y.amount AS payment_amount, y._file, y._line
        FROM payments y JOIN p USING (unit_code)
        WHERE y.payee_is_sme AND y.term_days > p.max_term_days
          AND (y.paid_on <= p.as_of OR ((y.paid_on IS NULL OR y.paid_on > p.as_of) AND y.accepted_on <= p.as_of))""",
         needs=("payments.payee_is_sme", "payments.term_days"),
         check_zh='向中小企业付款的合同约定付款期限超过合同可约定的最长期限（支付不及时 DP01 的参数，默认 60 天）；截止日前已支付，或截止日前已验收尚未支付的款项。',
         check_en="A payment to an SME whose contract sets a payment term longer than a contract may set (DP01's parameter, 60 days by default); payments made by the cut-off, or accepted by then and still unpaid.",
         penalty_basis="",
         advice_zh="与中小企业协商修改合同付款条款，将付款期限调整至法定上限以内；规范合同文本审核，不得要求中小企业接受不合理的付款期限。",
         advice_en="Agree with the SME to amend the contract so that the payment term is within the legal maximum; review contract templates so that SMEs are not asked to accept unreasonable payment terms.",
         columns={"payment_id": ("支付单号", "Payment id"), "payee_name": ("收款人", "Payee"),
                  "contract_id": ("合同编号", "Contract"), "accepted_on": ("验收日期", "Accepted on"),
                  "paid_on": ("支付日期", "Paid on"), "term_days": ("合同付款期限(天)", "Contract term (days)"),
                  "max_term_days": ("法定上限(天)", "Legal maximum (days)"),
                  "excess_days": ("超过天数", "Days over the maximum"),
                  "payment_amount": ("支付金额(元)", "Payment amount (yuan)")},
         exposure="payment_amount", uses=(("DP01", "max_term_days"),), basis_versions=SME_TERM),
    Rule("DP07", "delayed_payments", "指标11—12月支付占全年比例超过上限",
         "November–December share of a budget line's payments above the limit",
         "《预算法实施条例》第六十条",
         (money("min_amount", 100000, "指标金额下限(元)", "minimum budget amount (yuan)"),
          ratio("max_share", "0.5", "11—12月支付占比上限", "largest November–December share")),
         query="""
        WITH pay AS (
            SELECT y.unit_code, y.budget_id, SUM(y.amount) AS year_paid,
                   SUM(CASE WHEN month(y.paid_on) >= 11 THEN y.amount ELSE 0 END) AS late_paid
            FROM payments y JOIN p USING (unit_code)
            WHERE year(y.paid_on) = p.fiscal_year AND y.paid_on <= p.as_of
            GROUP BY ALL)
        SELECT b.unit_code, 'budget:' || b.budget_id AS ref, b.amount, 'medium' AS severity,
               printf('11—12月支付 %s 元，占本指标全年支付 %.1f%%', y.late_paid::VARCHAR,
                      100.0 * y.late_paid / y.year_paid) AS detail,
               b.budget_id, b.project_name, b.issued_on, b.amount AS budget_amount, y.year_paid,
               y.late_paid, round(y.late_paid / y.year_paid, 4)::DOUBLE AS late_share, b._file, b._line
        FROM budget b JOIN p USING (unit_code)
        JOIN pay y ON y.unit_code = b.unit_code AND y.budget_id = b.budget_id
        WHERE b.fiscal_year = p.fiscal_year AND b.amount >= p.min_amount
          AND (b.issued_on IS NULL OR b.issued_on <= p.as_of)
          AND p.as_of >= make_date(p.fiscal_year, 12, 31)
          AND y.year_paid > 0 AND y.late_paid > p.max_share * y.year_paid""",
         needs=("budget.amount", "budget.fiscal_year", "payments.budget_id", "payments.paid_on"),
         check_zh='已结束年度的本年度指标，金额 ≥ 下限，11月和12月以该指标支付的金额超过该指标全年支付金额乘以占比上限。',
         check_en="A budget line of the year, at least the minimum, once the year has ended, whose November and December payments exceed the largest share of its payments in the year.",
         penalty_basis="",
         advice_zh="核实该项目年底集中支付的原因，检查是否存在提前支付、以拨代支或虚列支出；督促按项目实施进度均衡支付。",
         advice_en="Establish why the project's payments were bunched at year end and check for early payment, transfers booked as spending or fictitious spending; pay in step with the project's progress.",
         columns={"budget_id": ("指标编号", "Budget line"), "project_name": ("项目名称", "Project"),
                  "issued_on": ("下达日期", "Issued on"), "budget_amount": ("指标金额(元)", "Budget amount (yuan)"),
                  "year_paid": ("全年支付(元)", "Paid in the year (yuan)"),
                  "late_paid": ("11—12月支付(元)", "Paid in Nov–Dec (yuan)"),
                  "late_share": ("11—12月占比", "Nov–Dec share")},
         percent=("late_share",), exposure="late_paid"),
)
