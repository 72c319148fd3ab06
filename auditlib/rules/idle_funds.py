"""Idle funds (沉淀资金): the rules IF01–IF07, each with its query, labels, chart and exposure.

The queries follow :mod:`auditlib.rules.engine`'s convention: one row per finding,
``unit_code, ref, amount, severity, detail`` then the evidence columns an auditor checks.
Exposure (CONTRACT §3 "Amounts"): IF01 the unspent amount, IF02 and IF05 the last known balance
(0 when none), IF03 the payment's amount, IF04 the open balance, IF06 the last tested year's
amount − its paid amount, IF07 the ledger line's debit, each an evidence column.  IF06 is about a
project (``projects:<project_code>``) and has its own drill-down (:func:`project_lines`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from auditlib.db import query
from auditlib.i18n import register
from auditlib.rules.model import EXPOSURE_LABEL, Rule, count, days, money, ratio
from auditlib.rules.plotting import figure, label, legend_outside, wan
from auditlib.rules.sources import SourceRows, fetch

if TYPE_CHECKING:
    from matplotlib.figure import Figure

register({
    "chart.aging.title": ("未支出指标账龄", "Age of unspent appropriations"),
    "chart.aging.x": ("指标下达至截止日的年数", "years from issue to cut-off"),
    "chart.aging.y": ("未支出金额（万元）", "unspent (10k yuan)"),
    "chart.aging.carry": ("结转年限", "carry-over age"),
    "chart.aging.recover": ("收回年限", "recovery age"),
})


# ---- IF01's chart: aging of unspent appropriations ----------------------------------------------
def aging(con, unit_code: str, params, lang: str) -> Figure | None:
    """Unspent amount of each budget line by its age at the cut-off, with the carry/recover lines."""
    p = params.for_unit(unit_code)["IF01"]
    df = query(con, """
        SELECT b.budget_id, ?::DATE - b.issued_on AS age_days,
               b.amount - COALESCE((SELECT SUM(y.amount) FROM payments y
                                    WHERE y.budget_id = b.budget_id AND y.paid_on <= ?::DATE), 0) AS unspent
        FROM budget b WHERE b.unit_code = ? AND b.issued_on <= ?::DATE""",
               [params.as_of, params.as_of, unit_code, params.as_of])
    df = df[df["unspent"].map(lambda v: v is not None and v > 0)]
    if df.empty:
        return None
    fig, ax = figure()
    years = [d / 365 for d in df["age_days"]]
    ax.bar(years, wan(df["unspent"]), width=0.08, color="#c0504d")
    for d, key, style in ((p["carry_days"], "chart.aging.carry", "--"), (p["recover_days"], "chart.aging.recover", ":")):
        ax.axvline(d / 365, color="#333333", linestyle=style, label=label(key, lang))
    ax.set_title(label("chart.aging.title", lang))
    ax.set_xlabel(label("chart.aging.x", lang))
    ax.set_ylabel(label("chart.aging.y", lang))
    legend_outside(ax)
    return fig


# ---- IF06's drill-down: the project's budget lines of the years tested and their payments --------------
def project_lines(con, unit_code: str, ref: str, evidence: pd.Series | None = None, as_of=None,
                  fiscal_year: int | None = None) -> list[SourceRows]:
    """The budget lines of the project ``projects:<project_code>`` in the years the finding tested
    (its evidence's ``first_year``–``last_year``; every year without evidence) and the payments
    made against them, by year."""
    code = str(ref).partition(":")[2]
    first, last = -10**6, 10**6
    if evidence is not None and evidence.get("first_year") is not None:
        first, last = int(evidence["first_year"]), int(evidence["last_year"])
    cut = "AND y.paid_on <= ?::DATE " if as_of is not None else ""
    args = [unit_code, code, first, last] + ([as_of] if as_of is not None else [])
    return [
        *fetch(con, "budget", "该项目各年度预算指标", "the project's budget lines of the years tested",
               "SELECT * FROM budget WHERE unit_code = ? AND trim(project_code) = ? "
               "AND fiscal_year BETWEEN ? AND ? ORDER BY fiscal_year, budget_id", [unit_code, code, first, last]),
        *fetch(con, "payments", "以这些指标支付的款项", "payments made against them",
               "SELECT y.* FROM payments y JOIN budget b ON b.unit_code = y.unit_code AND b.budget_id = y.budget_id "
               "WHERE y.unit_code = ? AND trim(b.project_code) = ? AND b.fiscal_year BETWEEN ? AND ? "
               + cut + "ORDER BY y.paid_on, y.payment_id", args),
    ]


#: IF02's and IF05's CTE: per account its last bank line by the cut-off (by txn_date, _file, _line;
#: NULLs last), with its balance
LAST_BALANCE = """ranked AS (  -- per account its last line (by txn_date, _file, _line; NULLs last)
            SELECT unit_code, account_no, last.balance, last.txn_date, 1 AS rn FROM (
                SELECT t.unit_code, t.account_no,
                       arg_max({'balance': t.balance, 'txn_date': t.txn_date},
                               (t.txn_date, t._file IS NOT NULL, COALESCE(t._file, ''),
                                t._line IS NOT NULL, COALESCE(t._line, 0))) AS last
                FROM bank_txns t JOIN p USING (unit_code)
                WHERE t.txn_date <= p.as_of AND t.balance IS NOT NULL
                GROUP BY t.unit_code, t.account_no))"""

RULES: tuple[Rule, ...] = (
    Rule("IF01", "idle_funds", "预算指标超过结转年限未支出", "Budget line unspent past the carry-over age",
         "《预算法》第四十二条；《预算法实施条例》第五十条；参照《财政部关于推进地方盘活财政存量资金有关事项的通知》（财预〔2015〕15号）第一条",
         (money("min_amount", 10000, "未支出金额下限(元)", "minimum unspent amount (yuan)"),
          days("carry_days", 365, "结转年限(天)", "carry-over age (days)"),
          days("recover_days", 730, "收回年限(天)", "age at which funds are recovered (days)")),
         query="""
        WITH spent AS (
            SELECT b.budget_id, COALESCE(SUM(pay.amount), 0) AS paid
            FROM budget b JOIN p USING (unit_code)
            LEFT JOIN payments pay ON pay.budget_id = b.budget_id AND pay.paid_on <= p.as_of
            GROUP BY b.budget_id)
        SELECT b.unit_code, 'budget:' || b.budget_id AS ref, b.amount - s.paid AS amount,
               CASE WHEN p.as_of - b.issued_on > p.recover_days THEN 'high' ELSE 'medium' END AS severity,
               printf('指标 %s 下达 %d 天，未支出 %s 元', b.budget_id, p.as_of - b.issued_on,
                      (b.amount - s.paid)::VARCHAR) AS detail,
               b.budget_id, b.project_name, b.issued_on, b.amount AS budget_amount, s.paid,
               b.amount - s.paid AS unspent, p.as_of - b.issued_on AS age_days, b._file, b._line
        FROM budget b JOIN p USING (unit_code) JOIN spent s USING (budget_id)
        WHERE b.issued_on <= p.as_of AND b.amount - s.paid >= p.min_amount
          AND p.as_of - b.issued_on > p.carry_days""",
         needs=("budget.amount", "budget.issued_on"),
         check_zh='指标下达后超过结转年限仍未支出：未支出金额 = 指标金额 − 截止日前以该指标支付的金额，未支出 ≥ 下限且指标年龄 > 结转天数；超过收回年限为高风险。',
         check_en='An appropriation still unspent past the carry-over age: unspent = amount − payments on it by the cut-off; unspent ≥ the minimum and age > carry days; high severity past the recovery age.',
         penalty_basis="",
         advice_zh="核实指标未支出的原因；连续两年未用完的结转资金按结余资金管理，由财政收回统筹使用；确需继续使用的按规定重新申报预算。",
         advice_en="Establish why the appropriation is unspent; carry-over funds unused for two consecutive years are managed as surplus and recovered by the finance bureau for general use; needs that remain are budgeted afresh.",
         columns={"budget_id": ("指标编号", "Budget line"), "project_name": ("项目名称", "Project"),
                  "issued_on": ("下达日期", "Issued on"), "budget_amount": ("指标金额(元)", "Budget amount (yuan)"),
                  "paid": ("已支付(元)", "Paid (yuan)"), "unspent": ("未支出(元)", "Unspent (yuan)"),
                  "age_days": ("下达天数", "Age (days)")},
         chart=aging, exposure="unspent"),
    Rule("IF02", "idle_funds", "银行账户余额长期无支出", "Bank balance with no outflow for long",
         "《预算法》第四十二条；《预算法实施条例》第八十三条",
         (money("min_balance", 100000, "余额下限(元)", "minimum balance (yuan)"),
          days("dormant_days", 365, "无支出天数", "days without an outflow")),
         query="""
        WITH """ + LAST_BALANCE + """,
        lastout AS (
            SELECT t.unit_code, t.account_no, max(t.txn_date) AS last_outflow
            FROM bank_txns t JOIN p USING (unit_code)
            WHERE t.outflow > 0 AND t.txn_date <= p.as_of GROUP BY ALL)
        SELECT a.unit_code, 'accounts:' || a.account_no AS ref, r.balance AS amount, 'medium' AS severity,
               printf('账户 %s 余额 %s 元，%s', a.account_no, r.balance::VARCHAR,
                      CASE WHEN o.last_outflow IS NULL THEN '无支出记录'
                           ELSE printf('%d 天无支出', p.as_of - o.last_outflow) END) AS detail,
               a.account_no, a.account_name, a.bank_name, a.account_type, r.txn_date AS balance_date,
               r.balance, o.last_outflow, p.as_of - o.last_outflow AS days_since_outflow, a._file, a._line
        FROM accounts a JOIN p USING (unit_code)
        JOIN ranked r ON r.unit_code = a.unit_code AND r.account_no = a.account_no AND r.rn = 1
        LEFT JOIN lastout o ON o.unit_code = a.unit_code AND o.account_no = a.account_no
        WHERE a.account_type <> 'zero_balance' AND (a.closed_on IS NULL OR a.closed_on > p.as_of)
          AND r.balance >= p.min_balance
          AND (o.last_outflow IS NULL OR p.as_of - o.last_outflow > p.dormant_days)""",
         needs=("accounts.account_no", "bank_txns.balance"),
         check_zh='非零余额账户在截止日的最近余额 ≥ 下限，且截止日前规定天数内没有任何支出。',
         check_en='A registered non-zero-balance account whose last balance by the cut-off is at least the minimum and which had no outflow in the given days.',
         penalty_basis="",
         advice_zh="核实账户余额的来源和性质；属于财政拨款结转结余的按规定上缴或由财政收回统筹使用；无保留必要的账户按规定撤销。",
         advice_en="Establish where the balance came from and what it is; appropriation carry-overs and surpluses are paid over or recovered by the finance bureau for general use; accounts with no reason to stay open are closed.",
         columns={"account_no": ("银行账号", "Account no."), "account_name": ("账户/科目名称", "Account name"),
                  "bank_name": ("开户银行", "Bank"), "account_type": ("账户类型", "Account type"),
                  "balance_date": ("余额日期", "Balance date"), "balance": ("余额(元)", "Balance (yuan)"),
                  "last_outflow": ("最后支出日期", "Last outflow"),
                  "days_since_outflow": ("无支出天数", "Days since outflow")},
         exposure="balance"),
    Rule("IF03", "idle_funds", "向本单位账户支付", "Payment to the unit's own account",
         "《预算法》第五十七条第二款、第六十一条",
         query="""
        SELECT y.unit_code, 'payments:' || y.payment_id AS ref, y.amount, 'medium' AS severity,
               printf('支付给本单位账户 %s（%s）', COALESCE(y.payee_account, ''), y.payee_name) AS detail,
               y.payment_id, y.payee_name, y.payee_account, u.unit_name, y.amount AS payment_amount,
               y.paid_on, y.memo, y._file, y._line
        FROM payments y JOIN p USING (unit_code) LEFT JOIN units u ON u.unit_code = y.unit_code
        LEFT JOIN (SELECT DISTINCT unit_code, account_no FROM accounts) own
               ON own.unit_code = y.unit_code AND own.account_no = y.payee_account
        WHERE (y.paid_on IS NULL OR y.paid_on <= p.as_of)
          AND (own.account_no IS NOT NULL OR norm_name(y.payee_name) = norm_name(u.unit_name))""",
         needs=("payments.payee_name",),
         check_zh='支付的收款账户是本单位登记的账户，或收款人名称就是本单位名称。',
         check_en="A payment whose payee account is one of the unit's own registered accounts, or whose payee is the unit itself.",
         penalty_basis="《预算法》第九十三条第（一）项",
         advice_zh="核实划转资金的用途；未形成实际支出的冲减支出，资金退回国库或原资金渠道，今后按预算和国库集中支付规定直接支付给最终收款人。",
         advice_en="Establish what the transferred money was for; amounts not actually spent are reversed and returned to the treasury or their source, and later payments go straight to the final payee under the budget and treasury single-account rules.",
         columns={"payment_id": ("支付单号", "Payment id"), "payee_name": ("收款人", "Payee"),
                  "payee_account": ("收款账号", "Payee account"), "unit_name": ("单位名称", "Unit name"),
                  "payment_amount": ("支付金额(元)", "Payment amount (yuan)"), "paid_on": ("支付日期", "Paid on"),
                  "memo": ("摘要/用途", "Memo")},
         exposure="payment_amount"),
    Rule("IF04", "idle_funds", "往来款余额长期无发生额", "Open current-account balance with no movement",
         "《预算法实施条例》第八十三条；《会计法》第十七条",
         (money("min_amount", 10000, "挂账余额下限(元)", "minimum open balance (yuan)"),
          days("stale_days", 730, "无发生额天数", "days without a ledger line")),
         query="""
        WITH l AS (
            SELECT l.unit_code, left(l.account_code, 4) AS acct, trim(l.counterparty) AS counterparty,
                   l.voucher_date, COALESCE(l.debit, 0) AS debit, COALESCE(l.credit, 0) AS credit
            FROM ledger l JOIN p USING (unit_code)
            WHERE l.voucher_date <= p.as_of AND left(l.account_code, 4) IN ('1214', '1218', '2307')
              AND COALESCE(trim(l.counterparty), '') <> ''),
        g AS (
            SELECT unit_code, acct, counterparty,
                   SUM(CASE WHEN acct LIKE '1%' THEN debit - credit ELSE credit - debit END) AS balance,
                   max(voucher_date) AS last_line, count(*) AS lines
            FROM l GROUP BY ALL)
        SELECT g.unit_code, 'balances:' || g.acct || '/' || g.counterparty AS ref, g.balance AS amount,
               'medium' AS severity,
               printf('%s 往来 %s 余额 %s 元，%d 天无发生额', g.acct, g.counterparty, g.balance::VARCHAR,
                      p.as_of - g.last_line) AS detail,
               g.acct AS account_code, g.counterparty, g.balance AS open_balance, g.last_line,
               p.as_of - g.last_line AS days_idle, g.lines
        FROM g JOIN p USING (unit_code)
        WHERE g.balance >= p.min_amount AND p.as_of - g.last_line > p.stale_days""",
         needs=("ledger.account_code", "ledger.counterparty"),
         accounts=("1214", "1218", "2307"),
         check_zh='其他应收款、预付账款、其他应付款（1214/1218/2307）按往来单位的挂账余额 ≥ 下限，且规定天数内无发生额。',
         check_en='Open balances on 1214/1218/2307 per counterparty at least the minimum with no ledger line in the given days.',
         penalty_basis="",
         advice_zh="逐户清理往来款项：应收、预付款项及时收回或结算，应付款项核实后支付或按规定转入收入；确实无法收回或支付的按规定程序处理，不得长期挂账。",
         advice_en="Clear the open items counterparty by counterparty: collect or settle receivables and prepayments, pay payables or recognise them as income where the rules say so; items that truly cannot be collected or paid go through the prescribed procedure instead of staying open.",
         columns={"account_code": ("会计科目", "Account code"), "counterparty": ("往来单位", "Counterparty"),
                  "open_balance": ("挂账余额(元)", "Open balance (yuan)"),
                  "last_line": ("最后发生日期", "Last ledger line"), "days_idle": ("无发生额天数", "Days idle"),
                  "lines": ("笔数", "Lines")},
         exposure="open_balance"),
    Rule("IF05", "idle_funds", "银行账户长期无收支", "Bank account with no movement for long",
         "参照《人民币银行结算账户管理办法》（中国人民银行令〔2003〕第5号）第五十六条；《预算法》第四十二条（账户资金属结转结余资金的）",
         (days("idle_days", 365, "无收支天数", "days without a movement"),),
         query="""
        WITH acct AS (
            SELECT a.* FROM accounts a JOIN p USING (unit_code)
            QUALIFY row_number() OVER (PARTITION BY a.unit_code, a.account_no ORDER BY a._file, a._line) = 1),
        moved AS (
            SELECT t.unit_code, t.account_no, max(t.txn_date) AS last_movement
            FROM bank_txns t JOIN p USING (unit_code)
            WHERE t.txn_date <= p.as_of AND (COALESCE(t.inflow, 0) <> 0 OR COALESCE(t.outflow, 0) <> 0)
            GROUP BY ALL),
        """ + LAST_BALANCE + """
        SELECT a.unit_code, 'accounts:' || a.account_no AS ref, COALESCE(r.balance, 0) AS amount,
               'medium' AS severity,
               printf('账户 %s %s，最近余额 %s 元', a.account_no,
                      CASE WHEN m.last_movement IS NULL THEN '无收支记录'
                           ELSE printf('%d 天无收支', p.as_of - m.last_movement) END,
                      COALESCE(r.balance, 0)::VARCHAR) AS detail,
               a.account_no, a.account_name, a.bank_name, a.account_type, a.opened_on,
               m.last_movement, p.as_of - m.last_movement AS days_idle,
               r.txn_date AS balance_date, r.balance, a._file, a._line
        FROM acct a JOIN p USING (unit_code)
        LEFT JOIN moved m ON m.unit_code = a.unit_code AND m.account_no = a.account_no
        LEFT JOIN ranked r ON r.unit_code = a.unit_code AND r.account_no = a.account_no AND r.rn = 1
        WHERE a.account_type IS DISTINCT FROM 'zero_balance'
          AND (a.closed_on IS NULL OR a.closed_on > p.as_of)
          AND (a.opened_on IS NULL OR a.opened_on <= p.as_of - p.idle_days)
          AND (m.last_movement IS NULL OR m.last_movement <= p.as_of - p.idle_days)""",
         needs=("accounts.account_no",),
         check_zh='单位登记的账户（零余额账户除外）截止日未销户、开户已满规定天数，且截止日前规定天数内（不含起始日）银行流水无任何收入或支出。',
         check_en='A registered account of the unit (other than a zero-balance account), open at the cut-off and opened at least the given days before, with no bank line with an inflow or outflow in the given days up to the cut-off.',
         penalty_basis="",
         advice_zh="核实账户长期闲置的原因；无保留必要的账户按规定撤销，账户余额按资金性质上缴国库、由财政收回统筹使用或并入单位基本账户。",
         advice_en="Establish why the account lies idle; accounts with no reason to stay open are closed as the rules provide, and their balances paid over to the treasury, recovered by the finance bureau or moved into the unit's basic account according to what the money is.",
         columns={"account_no": ("银行账号", "Account no."), "account_name": ("账户/科目名称", "Account name"),
                  "bank_name": ("开户银行", "Bank"), "account_type": ("账户类型", "Account type"),
                  "opened_on": ("开户日期", "Opened on"), "last_movement": ("最后收支日期", "Last movement"),
                  "days_idle": ("无收支天数", "Days without movement"),
                  "balance_date": ("余额日期", "Balance date"), "balance": ("余额(元)", "Balance (yuan)")},
         exposure="balance"),
    Rule("IF06", "idle_funds", "项目连续多年预算执行率低于下限", "Project with low execution in consecutive years",
         "《预算法》第三十二条第一款、第五十七条第三款；《预算法实施条例》第六十条",
         (count("years", 2, "连续年数", "consecutive years", lo=2, hi=10),
          ratio("max_rate", "0.5", "执行率下限", "execution rate below which a year counts as low"),
          money("min_amount", 100000, "各年指标合计下限(元)", "minimum total budget of those years (yuan)")),
         query="""
        WITH q AS (
            SELECT *, CASE WHEN as_of >= make_date(fiscal_year, 12, 31) THEN fiscal_year
                           ELSE fiscal_year - 1 END AS ly
            FROM p),
        lines AS (
            SELECT b.unit_code, trim(b.project_code) AS project_code, b.fiscal_year AS yr, b.budget_id,
                   b.amount, b.project_name
            FROM budget b JOIN q USING (unit_code)
            WHERE COALESCE(trim(b.project_code), '') <> ''
              AND b.fiscal_year BETWEEN q.ly - q.years + 1 AND q.ly
              AND (b.issued_on IS NULL OR b.issued_on <= q.as_of)),
        paid AS (
            SELECT l.unit_code, l.budget_id, SUM(y.amount) AS paid
            FROM lines l JOIN q USING (unit_code)
            JOIN payments y ON y.unit_code = l.unit_code AND y.budget_id = l.budget_id
            WHERE y.paid_on <= make_date(l.yr, 12, 31) AND y.paid_on <= q.as_of
            GROUP BY ALL),
        yearly AS (
            SELECT l.unit_code, l.project_code, l.yr, SUM(l.amount) AS amount,
                   SUM(COALESCE(d.paid, 0)) AS paid, any_value(l.project_name) AS project_name
            FROM lines l LEFT JOIN paid d ON d.unit_code = l.unit_code AND d.budget_id = l.budget_id
            GROUP BY ALL),
        proj AS (
            SELECT y.unit_code, y.project_code, any_value(y.project_name) AS project_name,
                   count(*) AS n_years, min(y.yr) AS first_year, max(y.yr) AS last_year,
                   bool_and(y.amount > 0 AND y.paid < q.max_rate * y.amount) AS all_low,
                   SUM(y.amount) AS total_amount,
                   SUM(CASE WHEN y.yr = q.ly THEN y.amount ELSE 0 END) AS ly_amount,
                   SUM(CASE WHEN y.yr = q.ly THEN y.paid ELSE 0 END) AS ly_paid,
                   string_agg(printf('%d年 %.1f%%', y.yr, 100.0 * y.paid / NULLIF(y.amount, 0)), '；' ORDER BY y.yr)
                       AS rates,
                   any_value(q.years) AS years, any_value(q.min_amount) AS min_amount
            FROM yearly y JOIN q USING (unit_code)
            GROUP BY y.unit_code, y.project_code)
        SELECT unit_code, 'projects:' || project_code AS ref, total_amount AS amount, 'medium' AS severity,
               printf('项目 %s 连续 %d 年执行率偏低：%s', project_code, n_years, rates) AS detail,
               project_code, project_name, first_year, last_year, rates, total_amount, ly_amount, ly_paid,
               ly_amount - ly_paid AS exposure
        FROM proj
        WHERE n_years = years AND all_low AND total_amount >= min_amount""",
         needs=("budget.project_code", "budget.fiscal_year", "budget.amount"),
         check_zh='同一项目（项目编码）在截至最近一个完整年度的连续若干年度均有预算指标，且每年年底前以这些指标支付的金额占当年指标金额的比例均低于执行率下限，各年指标合计 ≥ 下限；无项目编码的指标不参与。',
         check_en='A project (project code) with budget lines in each of the given consecutive years up to the last complete year, where each year the payments against its lines by 31 December are below the rate times that year\'s amount, and the amounts of those years sum to at least the minimum; lines without a project code are ignored.',
         penalty_basis="",
         advice_zh="分析项目连续执行率偏低的原因；结合执行情况和绩效评价结果压减或取消下一年度预算安排，结转结余资金按规定收回统筹使用。",
         advice_en="Analyse why the project keeps spending little; reduce or drop its next budget in the light of its execution and performance evaluation, and recover carried-over and surplus funds for general use as the rules provide.",
         columns={"project_code": ("项目编码", "Project code"), "project_name": ("项目名称", "Project"),
                  "first_year": ("起始年度", "First year"), "last_year": ("截至年度", "Last year"),
                  "rates": ("各年执行率", "Execution rate by year"),
                  "total_amount": ("各年指标合计(元)", "Budget of those years (yuan)"),
                  "ly_amount": ("截至年度指标(元)", "Budget of the last year (yuan)"),
                  "ly_paid": ("截至年度已支付(元)", "Paid in the last year (yuan)"),
                  "exposure": EXPOSURE_LABEL},
         drilldown=project_lines, exposure="exposure"),
    Rule("IF07", "idle_funds", "第四季度大额预付款项", "Large prepayment in the fourth quarter",
         "《预算法》第五十七条第二款；《预算法实施条例》第六十条",
         (money("min_amount", 100000, "预付金额下限(元)", "minimum prepayment (yuan)"),),
         query="""
        SELECT l.unit_code, 'ledger:' || l.voucher_no || '#' || l.line_no AS ref, l.debit AS amount,
               'medium' AS severity,
               printf('%s 预付账款借方 %s 元（%s）', l.voucher_date::VARCHAR, l.debit::VARCHAR,
                      COALESCE(l.counterparty, '')) AS detail,
               l.voucher_date, l.voucher_no, l.line_no, l.account_code, l.account_name, l.summary,
               l.debit, l.counterparty, l._file, l._line
        FROM ledger l JOIN p USING (unit_code)
        WHERE l.account_code LIKE '1214%' AND l.debit >= p.min_amount
          AND l.voucher_date BETWEEN make_date(p.fiscal_year, 10, 1) AND make_date(p.fiscal_year, 12, 31)
          AND l.voucher_date <= p.as_of""",
         needs=("ledger.account_code", "ledger.debit"),
         accounts=("1214",),
         check_zh='本年度10月1日至12月31日预付账款（1214）借方金额 ≥ 下限的凭证行。',
         check_en='A ledger line debiting prepayments (1214) by at least the minimum, dated 1 October to 31 December of the year.',
         penalty_basis="《预算法》第九十三条第（一）项（属虚列支出的）",
         advice_zh="核实预付款项的合同依据和履约进度；无实际业务或提前支付的预付款项收回，不得以预付方式虚列支出、突击花钱或规避资金收回。",
         advice_en="Check the contract behind each prepayment and how far it has been performed; prepayments without real business or paid ahead of need are recovered, and prepayment is not used to book fictitious spending, rush spending or avoid recovery of funds.",
         columns={"voucher_date": ("凭证日期", "Voucher date"), "voucher_no": ("凭证号", "Voucher no."),
                  "line_no": ("分录行号", "Line no."), "account_code": ("会计科目", "Account code"),
                  "account_name": ("账户/科目名称", "Account name"), "summary": ("摘要", "Summary"),
                  "debit": ("借方金额(元)", "Debit (yuan)"), "counterparty": ("往来单位", "Counterparty")},
         exposure="debit"),
)
