"""Idle funds (沉淀资金): the rules IF01–IF04, each with its query, labels, chart and exposure.

The queries follow :mod:`auditlib.rules.engine`'s convention: one row per finding,
``unit_code, ref, amount, severity, detail`` then the evidence columns an auditor checks.
Exposure (CONTRACT §3 "Amounts"): IF01 the unspent amount, IF02 the last known balance,
IF03 the payment's amount, IF04 the open balance, each an evidence column.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from auditlib.db import query
from auditlib.i18n import register
from auditlib.rules.model import Rule, days, money
from auditlib.rules.plotting import figure, label, wan

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
    ax.legend()
    return fig


RULES: tuple[Rule, ...] = (
    Rule("IF01", "idle_funds", "预算指标超过结转年限未支出", "Budget line unspent past the carry-over age",
         "《预算法》第四十二条；财预〔2015〕15号",
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
         check_zh='指标下达后超过结转年限仍未支出：未支出金额 = 指标金额 − 截止日前以该指标支付的金额，未支出 ≥ 下限且指标年龄 > 结转天数；超过收回年限为高风险。',
         check_en='An appropriation still unspent past the carry-over age: unspent = amount − payments on it by the cut-off; unspent ≥ the minimum and age > carry days; high severity past the recovery age.',
         columns={"budget_id": ("指标编号", "Budget line"), "project_name": ("项目名称", "Project"),
                  "issued_on": ("下达日期", "Issued on"), "budget_amount": ("指标金额(元)", "Budget amount (yuan)"),
                  "paid": ("已支付(元)", "Paid (yuan)"), "unspent": ("未支出(元)", "Unspent (yuan)"),
                  "age_days": ("下达天数", "Age (days)")},
         chart=aging, exposure="unspent"),
    Rule("IF02", "idle_funds", "银行账户余额长期无支出", "Bank balance with no outflow for long",
         "财预〔2013〕372号；《预算单位银行账户管理办法》",
         (money("min_balance", 100000, "余额下限(元)", "minimum balance (yuan)"),
          days("dormant_days", 365, "无支出天数", "days without an outflow")),
         query="""
        WITH ranked AS (
            SELECT t.unit_code, t.account_no, t.balance, t.txn_date,
                   row_number() OVER (PARTITION BY t.unit_code, t.account_no
                                      ORDER BY t.txn_date DESC, t._file DESC, t._line DESC) AS rn
            FROM bank_txns t JOIN p USING (unit_code)
            WHERE t.txn_date <= p.as_of AND t.balance IS NOT NULL),
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
         check_zh='非零余额账户在截止日的最近余额 ≥ 下限，且截止日前规定天数内没有任何支出。',
         check_en='A registered non-zero-balance account whose last balance by the cut-off is at least the minimum and which had no outflow in the given days.',
         columns={"account_no": ("银行账号", "Account no."), "account_name": ("账户/科目名称", "Account name"),
                  "bank_name": ("开户银行", "Bank"), "account_type": ("账户类型", "Account type"),
                  "balance_date": ("余额日期", "Balance date"), "balance": ("余额(元)", "Balance (yuan)"),
                  "last_outflow": ("最后支出日期", "Last outflow"),
                  "days_since_outflow": ("无支出天数", "Days since outflow")},
         exposure="balance"),
    Rule("IF03", "idle_funds", "向本单位账户支付", "Payment to the unit's own account",
         "财预〔2013〕372号",
         query="""
        SELECT y.unit_code, 'payments:' || y.payment_id AS ref, y.amount, 'medium' AS severity,
               printf('支付给本单位账户 %s（%s）', COALESCE(y.payee_account, ''), y.payee_name) AS detail,
               y.payment_id, y.payee_name, y.payee_account, u.unit_name, y.amount AS payment_amount,
               y.paid_on, y.memo, y._file, y._line
        FROM payments y JOIN p USING (unit_code) LEFT JOIN units u ON u.unit_code = y.unit_code
        LEFT JOIN (SELECT DISTINCT unit_code, account_no FROM accounts) own
               ON own.unit_code = y.unit_code AND own.account_no = y.payee_account
        WHERE own.account_no IS NOT NULL OR norm_name(y.payee_name) = norm_name(u.unit_name)""",
         check_zh='支付的收款账户是本单位登记的账户，或收款人名称就是本单位名称。',
         check_en="A payment whose payee account is one of the unit's own registered accounts, or whose payee is the unit itself.",
         columns={"payment_id": ("支付单号", "Payment id"), "payee_name": ("收款人", "Payee"),
                  "payee_account": ("收款账号", "Payee account"), "unit_name": ("单位名称", "Unit name"),
                  "payment_amount": ("支付金额(元)", "Payment amount (yuan)"), "paid_on": ("支付日期", "Paid on"),
                  "memo": ("摘要/用途", "Memo")},
         exposure="payment_amount"),
    Rule("IF04", "idle_funds", "往来款余额长期无发生额", "Open current-account balance with no movement",
         "《政府会计制度》；财预〔2015〕15号",
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
         check_zh='其他应收款、预付账款、其他应付款（1214/1218/2307）按往来单位的挂账余额 ≥ 下限，且规定天数内无发生额。',
         check_en='Open balances on 1214/1218/2307 per counterparty at least the minimum with no ledger line in the given days.',
         columns={"account_code": ("会计科目", "Account code"), "counterparty": ("往来单位", "Counterparty"),
                  "open_balance": ("挂账余额(元)", "Open balance (yuan)"),
                  "last_line": ("最后发生日期", "Last ledger line"), "days_idle": ("无发生额天数", "Days idle"),
                  "lines": ("笔数", "Lines")},
         exposure="open_balance"),
)
