"""Slush funds (小金库): the rules SF01–SF14, each with its query, labels, chart, drill-down and exposure.

Exposure (CONTRACT §3 "Amounts"): SF01 the inflows of the account's qualifying lines, else its
outflows; SF02, SF04, SF10 the bank line's amount; SF03, SF11 the ledger line's amount; SF05, SF07,
SF09, SF12 the payment's amount; SF06 the chain rule (a payment with an earlier twin within the
window puts its amount at stake, the first of a chain 0); SF13 the later payment of each pair;
SF08, SF14 nothing (indicators).

Word lists (SF03's income words, SF04's cash words read by SF10 too, SF07's words, SF11's items and
the exclusions of SF05, SF06, SF07 and SF13) are ``words`` parameters (CONTRACT §2), matched as
literal words with the ``holds_word`` macro of :mod:`auditlib.rules.engine`.

SF02's one-to-one matching lives in :mod:`auditlib.rules.matching`, SF08's screen in
:mod:`auditlib.rules.benford`, SF12's calendar and query in :mod:`auditlib.rules.rest_days`, SF14's
query and drill-down in :mod:`auditlib.rules.voucher_gaps`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import pandas as pd

from auditlib.db import query
from auditlib.i18n import register
from auditlib.rules.benford import benford_screen, benford_test, expected_proportions
from auditlib.rules.exposure import nothing_at_stake
from auditlib.rules.floors import benford_not_applicable
from auditlib.rules.matching import unbooked_bank_lines
from auditlib.rules.model import EXPOSURE_LABEL, Rule, count, days, money, ratio, words
from auditlib.rules.plotting import figure, label, legend_outside, percent_axis, wan
from auditlib.rules import voucher_gaps
from auditlib.rules.rest_days import rest_day_note, rest_day_payments
from auditlib.rules.sources import SourceRows, fetch, source_rows

if TYPE_CHECKING:
    from matplotlib.figure import Figure

register({
    "chart.recon.title": ("银行流水与账簿银行存款科目按月核对", "Bank statements against the books, by month"),
    "chart.recon.y": ("金额（万元）", "amount (10k yuan)"),
    "chart.recon.bank_in": ("银行收入", "bank inflow"),
    "chart.recon.book_in": ("账簿借方(1002/1011)", "books debit (1002/1011)"),
    "chart.recon.bank_out": ("银行支出", "bank outflow"),
    "chart.recon.book_out": ("账簿贷方(1002/1011)", "books credit (1002/1011)"),
    "chart.benford.title": ("支付金额首位数字分布（n={n}，MAD={mad:.4f}，{label}）",
                            "First digits of payments (n={n}, MAD={mad:.4f}, {label})"),
    "chart.benford.too_few": ("支付金额首位数字分布（n={n}，少于 {minimum} 笔：样本不足，不作判断）",
                              "First digits of payments (n={n}, fewer than {minimum}: too few to judge)"),
    "chart.benford.no_judgement": ("样本不足，不作判断", "too few to judge"),
    "chart.benford.x": ("首位数字", "first digit"),
    "chart.benford.y": ("占比", "share"),
    "chart.benford.observed": ("实际", "observed"),
    "chart.benford.expected": ("本福特定律", "Benford's law"),
})


# ---- SF02's chart: bank-to-books reconciliation --------------------------------------------------
def reconciliation(con, unit_code: str, params, lang: str) -> Figure | None:
    """Monthly bank inflows/outflows beside the books' debits/credits on 1002/1011."""
    bank = query(con, """
        SELECT strftime(txn_date, '%Y-%m') AS month, SUM(COALESCE(inflow, 0)) AS inflow,
               SUM(COALESCE(outflow, 0)) AS outflow
        FROM bank_txns WHERE unit_code = ? AND txn_date <= ?::DATE GROUP BY 1""", [unit_code, params.as_of])
    books = query(con, """
        SELECT strftime(voucher_date, '%Y-%m') AS month, SUM(COALESCE(debit, 0)) AS debit,
               SUM(COALESCE(credit, 0)) AS credit
        FROM ledger WHERE unit_code = ? AND voucher_date <= ?::DATE
          AND (account_code LIKE '1002%' OR account_code LIKE '1011%') GROUP BY 1""", [unit_code, params.as_of])
    if bank.empty and books.empty:
        return None
    months = sorted(set(bank["month"]) | set(books["month"]))
    bank = bank.set_index("month").reindex(months)
    books = books.set_index("month").reindex(months)
    x = list(range(len(months)))
    fig, (top, bottom) = figure(9, 5, rows=2, sharex=True)
    w = 0.4
    top.bar([i - w / 2 for i in x], wan(bank["inflow"]), w, label=label("chart.recon.bank_in", lang), color="#4f81bd")
    top.bar([i + w / 2 for i in x], wan(books["debit"]), w, label=label("chart.recon.book_in", lang), color="#9bbb59")
    bottom.bar([i - w / 2 for i in x], wan(bank["outflow"]), w, label=label("chart.recon.bank_out", lang),
               color="#c0504d")
    bottom.bar([i + w / 2 for i in x], wan(books["credit"]), w, label=label("chart.recon.book_out", lang),
               color="#f79646")
    for ax in (top, bottom):
        ax.set_ylabel(label("chart.recon.y", lang))
        legend_outside(ax)
    bottom.set_xticks(x, months, rotation=60, fontsize=7)
    top.set_title(label("chart.recon.title", lang))
    return fig


# ---- SF08's chart and sample: first digits against Benford ------------------------------------------
def _benford_amounts(con, unit_code: str, as_of):
    """The unit's payment amounts SF08 tests: ≥ 10, none paid after ``as_of`` (the cut-off)."""
    return query(con, "SELECT amount FROM payments WHERE unit_code = ? AND amount >= 10 "
                      "AND (paid_on IS NULL OR paid_on <= ?::DATE)", [unit_code, as_of])["amount"]


def benford_sample(con, unit_code: str, params) -> tuple[int, int]:
    """The unit's number of amounts the screen tests and the least it judges (``min_count``)."""
    amounts = _benford_amounts(con, unit_code, params.as_of)
    n = benford_test(amounts, digits=1).n if len(amounts) else 0
    return n, int(params.for_unit(unit_code)["SF08"]["min_count"])


def benford_chart(con, unit_code: str, params, lang: str) -> Figure | None:
    """Observed first-digit shares of the unit's payments (≥ 10) against Benford's law."""
    amounts = _benford_amounts(con, unit_code, params.as_of)
    if amounts.empty:
        return None
    result = benford_test(amounts, digits=1)
    if result.n == 0:
        return None
    expected = expected_proportions(1)
    table = result.table.set_index("digit")
    digits = list(range(1, 10))
    fig, ax = figure()
    heights = [float(table["observed"].get(d, 0.0)) for d in digits]
    ax.bar(digits, heights, color="#4f81bd",
           label=label("chart.benford.observed", lang))
    ax.plot(digits, [expected[d] for d in digits], "o-", color="#c0504d",
            label=label("chart.benford.expected", lang))
    ax.set_xticks(digits)
    minimum = int(params.for_unit(unit_code)["SF08"]["min_count"])
    if result.n < minimum:  # no judgement below the minimum count: the title says so, no MAD verdict
        ax.set_title(label("chart.benford.too_few", lang, n=result.n, minimum=minimum))
        ax.text(0.97, 0.95, label("chart.benford.no_judgement", lang), transform=ax.transAxes, ha="right",
                va="top", fontsize=11, color="#8a6d00",
                bbox={"boxstyle": "round", "facecolor": "#fff8e1", "edgecolor": "#8a6d00"})
    else:
        ax.set_title(label("chart.benford.title", lang, n=result.n, mad=result.mad, label=result.label(lang)))
    ax.set_xlabel(label("chart.benford.x", lang))
    ax.set_ylabel(label("chart.benford.y", lang))
    percent_axis(ax.yaxis, 0.0, max(0.35, max(heights) * 1.1))
    legend_outside(ax)
    return fig


# ---- SF06's and SF13's drill-down: the payment and the payments its evidence names ----------------------
def payment_and_others(column: str, zh: str, en: str) -> Callable:
    """A drill-down: the payment (the generic lookup), then the other payments whose ids its
    evidence lists in ``column`` (SF06 its twins, SF13 its near-duplicates), labelled ``zh``/``en``."""
    def drilldown(con, unit_code: str, ref: str, evidence: pd.Series | None = None, as_of=None,
                  fiscal_year: int | None = None) -> list[SourceRows]:
        out = source_rows(con, unit_code, ref, evidence, as_of, fiscal_year)
        others = _ids(evidence, column)
        if others:
            out += fetch(con, "payments", zh, en,
                         "SELECT * FROM payments WHERE unit_code = ? AND list_contains(?, payment_id) ORDER BY paid_on",
                         [unit_code, others])
        return out
    return drilldown


# ---- SF10's chart: cash withdrawals by month against the limit ---------------------------------------
register({
    "chart.cash.title": ("提现按月累计与月限额", "Cash withdrawals by month against the monthly limit"),
    "chart.cash.y": ("金额（万元）", "amount (10k yuan)"),
    "chart.cash.month": ("当月提现合计", "month's withdrawals"),
    "chart.cash.limit": ("月限额", "monthly limit"),
})


def cash_by_month(con, unit_code: str, params, lang: str) -> Figure | None:
    """The unit's cash withdrawals (SF04's words) per month, the months at the limit in red."""
    values = params.for_unit(unit_code)
    limit, cash_words = values["SF10"]["month_limit"], list(values["SF04"]["words"])
    months = query(con, """
        SELECT strftime(txn_date, '%Y-%m') AS month, SUM(outflow) AS total
        FROM bank_txns WHERE unit_code = ? AND txn_date <= ?::DATE AND outflow > 0
          AND list_bool_or(list_transform(?::VARCHAR[], lambda w: contains(COALESCE(memo, ''), w)))
        GROUP BY 1 ORDER BY 1""", [unit_code, params.as_of, cash_words])
    if months.empty:
        return None
    fig, ax = figure()
    x = list(range(len(months)))
    colours = ["#c0504d" if v >= limit else "#4f81bd" for v in months["total"]]
    ax.bar(x, wan(months["total"]), color=colours, label=label("chart.cash.month", lang))
    ax.axhline(float(limit) / 10000, color="#8a6d00", linestyle="--", label=label("chart.cash.limit", lang))
    ax.set_xticks(x, list(months["month"]), rotation=60, fontsize=7)
    ax.set_ylabel(label("chart.cash.y", lang))
    ax.set_title(label("chart.cash.title", lang))
    legend_outside(ax)
    return fig


def _ids(evidence: pd.Series | None, column: str) -> list[str]:
    if evidence is None or column not in evidence or evidence[column] is None:
        return []
    value = evidence[column]
    if isinstance(value, str):
        return [v.strip() for v in value.replace(";", ",").split(",") if v.strip()]
    try:
        return [str(v) for v in value]
    except TypeError:
        return []


# ---- word lists (CONTRACT §2 ``words`` parameters; these are the defaults) ----------------------------
#: SF03: words of a ledger summary that name income
INCOME_WORDS = ("租金", "房租", "出租", "罚款", "罚没", "处置", "变卖", "拍卖", "废品", "回扣", "返利", "返还", "赞助",
                "管理费", "利息")
#: SF04 (and SF10, which reads SF04's list): words of a bank memo that name a cash withdrawal
CASH_WORDS = ("现金", "取现", "提现", "备用金")
#: SF07: expense types and memos that are the usual covers for drawing money
DRESSED_WORDS = ("会议", "培训", "劳务", "咨询")
#: SF11: the official-card list (公务卡强制结算目录) items a summary may name
CARD_ITEMS = ("办公费", "印刷费", "咨询费", "手续费", "水费", "电费", "邮电费", "物业管理费", "差旅费", "维修费",
              "租赁费", "会议费", "培训费", "接待费", "专用材料费", "公务用车", "交通费")
#: CONTRACT §3 exclusions of the payment rules SF05, SF06, SF07 and SF13 (may be emptied)
EXCLUSIONS = (
    words("exclude_payees", (), "排除的收款人字样", "payees left out (words)", empty=True),
    words("exclude_expense_types", ("工资福利", "社会保障缴费", "住房公积金"), "排除的支出类型字样",
          "expense types left out (words)", empty=True),
)


RULES: tuple[Rule, ...] = (
    Rule("SF01", "slush_funds", "未登记或已销户账户有收支", "Lines on an unregistered or closed account",
         "《会计法》第十六条",
         query="""
        WITH t AS (SELECT t.* FROM bank_txns t JOIN p USING (unit_code) WHERE t.txn_date <= p.as_of),
        bad AS (
            SELECT t.*, CASE WHEN a.account_no IS NULL THEN 'unregistered' ELSE 'after_closure' END AS reason,
                   a.closed_on
            FROM t LEFT JOIN accounts a ON a.unit_code = t.unit_code AND a.account_no = t.account_no
            WHERE a.account_no IS NULL OR (a.closed_on IS NOT NULL AND t.txn_date > a.closed_on))
        SELECT unit_code, 'accounts:' || account_no AS ref,
               SUM(COALESCE(inflow, 0) + COALESCE(outflow, 0)) AS amount, 'high' AS severity,
               printf('%s：%d 笔收支 %s 至 %s',
                      CASE WHEN any_value(reason) = 'unregistered' THEN '账户未在财政登记'
                           ELSE '销户后仍有收支' END,
                      count(*), min(txn_date)::VARCHAR, max(txn_date)::VARCHAR) AS detail,
               account_no, any_value(reason) AS reason, any_value(closed_on) AS closed_on,
               count(*) AS lines, SUM(COALESCE(inflow, 0)) AS inflow, SUM(COALESCE(outflow, 0)) AS outflow,
               CASE WHEN SUM(COALESCE(inflow, 0)) <> 0 THEN SUM(COALESCE(inflow, 0))
                    ELSE SUM(COALESCE(outflow, 0)) END AS exposure,
               min(txn_date) AS first_date, max(txn_date) AS last_date
        FROM bad GROUP BY unit_code, account_no""",
         needs=("bank_txns.account_no", "bank_txns.txn_date"),
         check_zh='银行流水中出现未在单位账户登记表中的账号，或已销户账户在销户后仍有收支。',
         check_en='A bank account in the statements that is not registered, or that has lines after its closure.',
         penalty_basis="《财政违法行为处罚处分条例》第十一条、第十七条；《预算法实施条例》第九十四条第（三）项",
         advice_zh="核实账户的开立审批和资金来源；账户资金补记入账、纳入单位统一核算；未经批准开立或应撤未撤的账户依法撤销，资金按规定上缴或并入单位账户。",
         advice_en="Establish who approved the account and where its money came from; record that money in the books under the unit's single accounting; accounts opened without approval or still used after closure are closed and the money paid over or moved into the unit's own accounts.",
         columns={"account_no": ("银行账号", "Account no."), "reason": ("原因", "Reason"),
                  "closed_on": ("销户日期", "Closed on"), "lines": ("笔数", "Lines"),
                  "inflow": ("收入(元)", "Inflow (yuan)"), "outflow": ("支出(元)", "Outflow (yuan)"),
                  "exposure": EXPOSURE_LABEL,
                  "first_date": ("首笔日期", "First date"), "last_date": ("末笔日期", "Last date")},
         exposure="exposure"),
    Rule("SF02", "slush_funds", "银行收支在账簿中未找到对应记录", "Bank line without a matching ledger line",
         "《会计法》第十六条",
         (days("window_days", 10, "匹配日期窗口(天)", "matching window (days)", 365),),
         query=unbooked_bank_lines,
         needs=("bank_txns.txn_date", "ledger.account_code"),
         accounts=("1002", "1011"),
         check_zh='银行流水在账簿的银行存款/其他货币资金科目（1002/1011）中找不到金额相同、方向一致、日期在窗口内的凭证行（一对一、就近匹配）。',
         check_en='A bank line with no ledger line on 1002/1011 of the same amount and direction within the window (one-to-one, nearest date first).',
         penalty_basis="《财政违法行为处罚处分条例》第十七条",
         advice_zh="逐笔核对银行流水与账簿，查明未入账收支的性质；补记入账、纳入单位统一核算；属于私存私放的资金予以追回并调整会计账目。",
         advice_en="Match the bank lines to the books one by one and establish what the unbooked ones are; record them in the books under the unit's single accounting; money kept off the books is recovered and the accounts adjusted.",
         columns={"account_no": ("银行账号", "Account no."), "txn_id": ("交易流水号", "Transaction id"),
                  "txn_date": ("交易日期", "Transaction date"), "direction": ("收支方向", "Direction"),
                  "txn_amount": ("交易金额(元)", "Transaction amount (yuan)"),
                  "counterparty_name": ("对方户名", "Counterparty"), "memo": ("摘要/用途", "Memo"),
                  "window_days": ("匹配窗口(天)", "Window (days)")},
         chart=reconciliation, exposure="txn_amount", heavy=True),
    Rule("SF03", "slush_funds", "往来科目贷方摘要含收入字样", "Liability credit whose summary names income",
         "《预算法》第三十六条第二款；《会计法》第九条",
         (money("min_amount", 10000, "贷方金额下限(元)", "minimum credit (yuan)"),
          words("words", INCOME_WORDS, "收入字样", "income words")),
         query="""
        SELECT l.unit_code, 'ledger:' || l.voucher_no || '#' || l.line_no AS ref, l.credit AS amount,
               'high' AS severity,
               printf('%s 贷方 %s 元，摘要“%s”', l.account_code, l.credit::VARCHAR, l.summary) AS detail,
               l.voucher_date, l.voucher_no, l.line_no, l.account_code, l.account_name, l.summary,
               l.credit, l.counterparty, l._file, l._line
        FROM ledger l JOIN p USING (unit_code)
        WHERE l.voucher_date <= p.as_of
          AND (l.account_code LIKE '2305%' OR l.account_code LIKE '2307%')
          AND l.credit >= p.min_amount
          AND holds_word(l.summary, p.words)""",
         needs=("ledger.credit", "ledger.summary"),
         accounts=("2305", "2307"),
         check_zh='其他应付款/应缴财政款（2305/2307）贷方金额 ≥ 下限且摘要含租金、罚没、处置、利息等收入字样。',
         check_en='A credit on 2305/2307 of at least the minimum whose summary names income (rent, fines, disposals, interest ...).',
         penalty_basis="《预算法》第九十三条第（一）项",
         advice_zh="核实挂账款项的性质；属于收入的及时确认收入，应当上缴的按规定缴入国库或财政专户，不得长期挂在往来科目。",
         advice_en="Establish what the credited money is; income is recognised as income without delay, and what must be paid over goes to the treasury or the fiscal special account instead of staying in a liability account.",
         columns={"voucher_date": ("凭证日期", "Voucher date"), "voucher_no": ("凭证号", "Voucher no."),
                  "line_no": ("分录行号", "Line no."), "account_code": ("会计科目", "Account code"),
                  "account_name": ("账户/科目名称", "Account name"), "summary": ("摘要", "Summary"),
                  "credit": ("贷方金额(元)", "Credit (yuan)"), "counterparty": ("往来单位", "Counterparty")},
         exposure="credit"),
    Rule("SF04", "slush_funds", "大额提取现金", "Large cash withdrawal",
         "《现金管理暂行条例》第五条、第十一条第（三）项",
         (money("min_amount", 50000, "提现金额下限(元)", "minimum withdrawal (yuan)"),
          words("words", CASH_WORDS, "提现字样", "cash words")),
         query="""
        SELECT t.unit_code, 'bank_txns:' || t.txn_id AS ref, t.outflow AS amount, 'medium' AS severity,
               printf('账户 %s 提现 %s 元，摘要“%s”', t.account_no, t.outflow::VARCHAR, t.memo) AS detail,
               t.account_no, t.txn_id, t.txn_date, t.outflow, t.memo, t._file, t._line
        FROM bank_txns t JOIN p USING (unit_code)
        WHERE t.txn_date <= p.as_of AND t.outflow >= p.min_amount
          AND holds_word(t.memo, p.words)""",
         needs=("bank_txns.outflow", "bank_txns.memo"),
         check_zh='银行支出 ≥ 下限且摘要含现金、取现、提现或备用金。',
         check_en='A bank outflow of at least the minimum whose memo mentions cash withdrawal.',
         penalty_basis="",
         advice_zh="核实提现用途和现金支付对象；超出现金使用范围的支出改用转账或公务卡结算；现金支出须取得合法原始凭证，备用金按核定限额管理。",
         advice_en="Establish what the cash was for and who was paid; payments outside the permitted uses of cash go by bank transfer or official card; every cash payment needs a proper source voucher, and petty cash stays within its approved limit.",
         columns={"account_no": ("银行账号", "Account no."), "txn_id": ("交易流水号", "Transaction id"),
                  "txn_date": ("交易日期", "Transaction date"), "outflow": ("支出(元)", "Outflow (yuan)"),
                  "memo": ("摘要/用途", "Memo")},
         exposure="outflow"),
    Rule("SF05", "slush_funds", "同一收款人短期内多笔支付合计达到限额", "Payments to one payee reaching the limit within days",
         "《政府采购法》第二十八条；《政府采购法实施条例》第二十八条",
         (money("limit", 50000, "限额(元)", "limit (yuan)"),
          days("window_days", 7, "时间窗口(天)", "window (days)", 365), *EXCLUSIONS),
         query="""
        WITH y AS (
            SELECT y.*, norm_name(y.payee_name) AS payee_key, p."limit" AS lim, p.window_days
            FROM payments y JOIN p USING (unit_code)
            WHERE y.paid_on IS NOT NULL AND y.paid_on <= p.as_of AND y.amount < p.limit
              AND NOT holds_word(y.payee_name, p.exclude_payees)
              AND NOT holds_word(y.expense_type, p.exclude_expense_types)),
        pairs AS (
            SELECT a.payment_id AS anchor, b.payment_id, b.amount, a.lim
            FROM y a JOIN y b ON a.unit_code = b.unit_code AND a.payee_key = b.payee_key
             AND b.paid_on BETWEEN a.paid_on AND a.paid_on + a.window_days),
        windows AS (
            SELECT anchor, SUM(amount) AS total FROM pairs GROUP BY anchor
            HAVING count(*) >= 2 AND SUM(amount) >= max(lim)),
        hits AS (
            SELECT pairs.payment_id, max(windows.total) AS window_total, count(*) AS windows
            FROM pairs JOIN windows USING (anchor) GROUP BY pairs.payment_id)
        SELECT y.unit_code, 'payments:' || y.payment_id AS ref, y.amount, 'medium' AS severity,
               printf('向 %s 分笔支付，窗口合计 %s 元 ≥ 限额 %s 元', y.payee_name, h.window_total::VARCHAR,
                      CAST(y.lim AS DECIMAL(18, 2))::VARCHAR) AS detail,
               y.payment_id, y.payee_name, y.amount AS payment_amount, y.paid_on, h.window_total,
               y.expense_type, y.memo, y._file, y._line
        FROM y JOIN hits h USING (payment_id)""",
         needs=("payments.payee_name", "payments.paid_on"),
         check_zh='同一收款人的多笔支付各自低于限额，但在规定天数内合计达到限额；不含排除清单中的收款人和支出类型（默认排除工资福利、社会保障缴费、住房公积金）。',
         check_en='Payments to one payee, each below the limit, that add up to the limit within the window. Payees and expense types on the exclusion lists are left out (by default wages and benefits, social security contributions and the housing provident fund).',
         penalty_basis="《政府采购法实施条例》第六十七条第（二）项",
         advice_zh="核实是否属于同一预算项目下同一品目或类别的多次采购；累计达到公开招标数额标准的依法公开招标，规范采购计划和采购方式。",
         advice_en="Establish whether the payments are repeated purchases of one item or category under one budget project; where together they reach the public-tender threshold, tender publicly as the law requires and plan purchases accordingly.",
         columns={"payment_id": ("支付单号", "Payment id"), "payee_name": ("收款人", "Payee"),
                  "payment_amount": ("支付金额(元)", "Payment amount (yuan)"), "paid_on": ("支付日期", "Paid on"),
                  "window_total": ("窗口合计(元)", "Window total (yuan)"), "expense_type": ("支出类型", "Expense type"),
                  "memo": ("摘要/用途", "Memo")},
         exposure="payment_amount", heavy=True),
    Rule("SF06", "slush_funds", "同一收款人同金额短期内多次支付", "Same amount to one payee more than once within days",
         "《会计法》第十四条第三款",
         (days("window_days", 30, "时间窗口(天)", "window (days)", 365), *EXCLUSIONS),
         query="""
        WITH y AS (
            SELECT y.*, norm_name(y.payee_name) AS payee_key, p.window_days
            FROM payments y JOIN p USING (unit_code) WHERE y.paid_on IS NOT NULL AND y.paid_on <= p.as_of
              AND NOT holds_word(y.payee_name, p.exclude_payees)
              AND NOT holds_word(y.expense_type, p.exclude_expense_types)),
        dup AS (
            SELECT a.payment_id, count(*) AS twins, string_agg(b.payment_id, ',' ORDER BY b.payment_id) AS twin_ids
            FROM y a JOIN y b ON a.unit_code = b.unit_code AND a.payee_key = b.payee_key
             AND a.amount = b.amount AND a.payment_id <> b.payment_id
             AND abs(a.paid_on - b.paid_on) <= a.window_days
            GROUP BY a.payment_id)
        SELECT y.unit_code, 'payments:' || y.payment_id AS ref, y.amount, 'high' AS severity,
               printf('向 %s 重复支付 %s 元（另见 %s）', y.payee_name, y.amount::VARCHAR, d.twin_ids) AS detail,
               y.payment_id, y.payee_name, y.amount AS payment_amount, y.paid_on, d.twin_ids,
               -- the chain rule: a payment with an earlier twin (by paid_on, payment_id) within the
               -- window puts its amount at stake, the first of a chain 0 (only twins are in dup, and
               -- an earlier payment within the window of a twin is a twin itself)
               CASE WHEN y.paid_on - lag(y.paid_on) OVER (PARTITION BY y.unit_code, y.payee_key, y.amount
                                                          ORDER BY y.paid_on, y.payment_id) <= y.window_days
                    THEN y.amount ELSE 0 END AS exposure,
               y.memo, y._file, y._line
        FROM y JOIN dup d USING (payment_id)""",
         needs=("payments.payee_name", "payments.paid_on"),
         check_zh='同一收款人、同一金额在规定天数内支付两次以上；不含排除清单中的收款人和支出类型（默认排除工资福利、社会保障缴费、住房公积金）。',
         check_en='Two or more payments to one payee of the same amount within the window. Payees and expense types on the exclusion lists are left out (by default wages and benefits, social security contributions and the housing provident fund).',
         penalty_basis="",
         advice_zh="核对合同、发票和收款记录，确认是否重复支付；属重复支付的向收款人追回多付款项，并完善支付审核。",
         advice_en="Check the contract, invoices and receipts to establish whether the payment was made twice; recover any overpayment from the payee and tighten payment review.",
         columns={"payment_id": ("支付单号", "Payment id"), "payee_name": ("收款人", "Payee"),
                  "payment_amount": ("支付金额(元)", "Payment amount (yuan)"), "paid_on": ("支付日期", "Paid on"),
                  "twin_ids": ("重复支付单号", "Duplicate of"), "exposure": EXPOSURE_LABEL,
                  "memo": ("摘要/用途", "Memo")},
         drilldown=payment_and_others("twin_ids", "疑似重复的另一笔支付", "its twin payments"), exposure="exposure", heavy=True),
    Rule("SF07", "slush_funds", "会议费等整数金额支出", "Round-amount meeting and similar expenses",
         "《预算法》第五十七条第二款；《会计法》第九条",
         (money("min_amount", 10000, "金额下限(元)", "minimum amount (yuan)"),
          money("round_unit", 1000, "整数单位(元)", "round unit (yuan)", 10**8),
          words("words", DRESSED_WORDS, "支出字样", "expense words"), *EXCLUSIONS),
         query="""
        SELECT y.unit_code, 'payments:' || y.payment_id AS ref, y.amount, 'medium' AS severity,
               printf('%s %s 元为 %s 元整数倍', COALESCE(y.expense_type, ''), y.amount::VARCHAR,
                      CAST(p.round_unit AS DECIMAL(18, 2))::VARCHAR) AS detail,
               y.payment_id, y.payee_name, y.expense_type, y.memo, y.amount AS payment_amount, y.paid_on,
               y._file, y._line
        FROM payments y JOIN p USING (unit_code)
        WHERE (y.paid_on IS NULL OR y.paid_on <= p.as_of)
          AND (holds_word(y.expense_type, p.words) OR holds_word(y.memo, p.words))
          AND NOT holds_word(y.payee_name, p.exclude_payees) AND NOT holds_word(y.expense_type, p.exclude_expense_types)
          AND y.amount >= p.min_amount AND p.round_unit > 0 AND y.amount % p.round_unit = 0""",
         needs=("payments.amount", "payments.expense_type|payments.memo"),
         check_zh='支出类型或摘要含会议、培训、劳务、咨询字样，金额 ≥ 下限且为整数单位（默认 1,000 元）的整数倍。整数金额只是线索，须查看原始凭证判断支出是否真实。字样可按参数调整；不含排除清单中的收款人和支出类型（默认排除工资福利、社会保障缴费、住房公积金）。',
         check_en='A payment whose expense type or memo names meetings, training, labour or consulting, of at least the minimum and a multiple of the round unit (1,000 yuan by default). A round amount is only a lead: the vouchers show whether the spending was real. The words are a parameter. Payees and expense types on the exclusion lists are left out (by default wages and benefits, social security contributions and the housing provident fund).',
         penalty_basis="《财政违法行为处罚处分条例》第六条第（一）项",
         advice_zh="调阅会议（培训）通知、签到表、费用明细和发票，核实支出是否真实发生；虚列支出套取的资金予以追回并调整会计账目。",
         advice_en="Obtain the meeting or training notice, attendance sheet, cost breakdown and invoices to establish whether the spending was real; money drawn by fictitious spending is recovered and the accounts adjusted.",
         columns={"payment_id": ("支付单号", "Payment id"), "payee_name": ("收款人", "Payee"),
                  "expense_type": ("支出类型", "Expense type"), "memo": ("摘要/用途", "Memo"),
                  "payment_amount": ("支付金额(元)", "Payment amount (yuan)"), "paid_on": ("支付日期", "Paid on")},
         exposure="payment_amount"),
    Rule("SF08", "slush_funds", "支付金额首位数字分布检验（本福特定律）", "Benford screen of payment amounts",
         "《会计法》第九条（筛查指标，非定性依据）",
         (ratio("max_mad", "0.015", "首位数字MAD上限", "largest first-digit MAD", hi="1"),
          count("min_count", 300, "最少金额笔数", "minimum number of amounts")),
         query=benford_screen,
         needs=("payments.amount",),
         check_zh='单位支付金额（≥10 元）首位数字分布与本福特定律的平均绝对偏差超过阈值（单位层面的筛查指标，非定性依据）；金额笔数少于最少笔数时样本不足，不作判断。',
         check_en="First-digit distribution of the unit's payments (≥ 10 yuan) deviates from Benford's law beyond the MAD limit (a screen, not proof); with fewer amounts than the minimum count the sample is too small to judge.",
         penalty_basis="",
         advice_zh="仅作筛查线索：对偏离较大的首位数字区间抽查原始凭证，核实金额的真实性；不单独作为定性依据。",
         advice_en="A lead only: sample the source vouchers in the first-digit bands that deviate most and check that the amounts are genuine; never a finding on its own.",
         columns={"n": ("金额笔数", "Amounts"), "mad": ("平均绝对偏差MAD", "MAD"),
                  "chi_square": ("卡方值", "Chi-square"), "conformity": ("符合程度", "Conformity"),
                  **{f"digit_{d}": (f"首位{d}笔数", f"First digit {d}") for d in range(1, 10)}},
         chart=benford_chart, exposure=nothing_at_stake, sample=benford_sample, applies=benford_not_applicable),
    Rule("SF09", "slush_funds", "向其他预算单位支付", "Payment to another budget unit",
         "《预算法》第十三条、第六十三条",
         query="""
        SELECT y.unit_code, 'payments:' || y.payment_id AS ref, y.amount, 'high' AS severity,
               printf('支付给其他预算单位 %s', COALESCE(un.unit_code, ac.unit_code)) AS detail,
               y.payment_id, y.payee_name, y.payee_account, COALESCE(un.unit_code, ac.unit_code) AS other_unit,
               y.amount AS payment_amount, y.paid_on, y.memo, y._file, y._line
        FROM payments y JOIN p USING (unit_code)
        LEFT JOIN (SELECT unit_code, norm_name(unit_name) AS key FROM units) un
               ON un.key = norm_name(y.payee_name) AND un.unit_code <> y.unit_code
        LEFT JOIN accounts ac ON ac.account_no = y.payee_account AND ac.unit_code <> y.unit_code
        WHERE (y.paid_on IS NULL OR y.paid_on <= p.as_of) AND (un.unit_code IS NOT NULL OR ac.unit_code IS NOT NULL)""",
         needs=("payments.payee_name",),
         check_zh='收款人名称是另一预算单位的名称，或收款账户是另一单位登记的账户。',
         check_en='A payment to another budget unit by name or registered account.',
         penalty_basis="《预算法》第九十三条第（四）项；《财政违法行为处罚处分条例》第六条第（二）项",
         advice_zh="核实支付依据（合同、委托协议或上级文件）；无合法依据的资金转移予以追回，按批准的预算用途使用。",
         advice_en="Establish the ground for the payment (contract, agency agreement or a higher authority's document); transfers without a lawful ground are recovered and the money used as the approved budget says.",
         columns={"payment_id": ("支付单号", "Payment id"), "payee_name": ("收款人", "Payee"),
                  "payee_account": ("收款账号", "Payee account"), "other_unit": ("收款单位编码", "Receiving unit"),
                  "payment_amount": ("支付金额(元)", "Payment amount (yuan)"), "paid_on": ("支付日期", "Paid on"),
                  "memo": ("摘要/用途", "Memo")},
         exposure="payment_amount"),
    Rule("SF10", "slush_funds", "月度提现累计达到限额", "Cash withdrawals in a month reaching the limit",
         "《现金管理暂行条例》第五条、第九条、第十一条第（三）项",
         (money("month_limit", 100000, "月提现累计限额(元)", "monthly cash limit (yuan)"),),
         uses=(("SF04", "words"),),
         query="""
        WITH c AS (
            SELECT t.*, strftime(t.txn_date, '%Y-%m') AS month, p.month_limit
            FROM bank_txns t JOIN p USING (unit_code)
            WHERE t.txn_date <= p.as_of AND t.outflow > 0 AND holds_word(t.memo, p.words)),
        m AS (
            SELECT unit_code, month, SUM(outflow) AS month_total, count(*) AS month_count
            FROM c GROUP BY unit_code, month HAVING SUM(outflow) >= any_value(month_limit))
        SELECT c.unit_code, 'bank_txns:' || c.txn_id AS ref, c.outflow AS amount, 'medium' AS severity,
               printf('%s 月提现 %d 笔，合计 %s 元 ≥ 月限额 %s 元', c.month, m.month_count, m.month_total::VARCHAR,
                      CAST(c.month_limit AS DECIMAL(18, 2))::VARCHAR) AS detail,
               c.account_no, c.txn_id, c.txn_date, c.outflow, c.memo, c.month, m.month_count, m.month_total,
               CAST(c.month_limit AS DECIMAL(18, 2)) AS month_limit, c._file, c._line
        FROM c JOIN m USING (unit_code, month)""",
         needs=("bank_txns.txn_date", "bank_txns.outflow", "bank_txns.memo"),
         check_zh='提现（银行支出摘要含 SF04 的提现字样，如现金、取现、提现、备用金）按自然月累计，当月合计 ≥ 月限额时，当月每一笔提现都列为疑点。',
         check_en="Cash withdrawals (bank outflows whose memo holds one of SF04's cash words) added up per calendar month; in a month whose total reaches the limit, every withdrawal of that month is listed.",
         penalty_basis="",
         advice_zh="核实当月各笔提现的用途、审批和现金支付对象；超出现金使用范围的支出改用转账或公务卡结算，库存现金按开户银行核定的限额管理。",
         advice_en="Establish the purpose, approval and recipients of each withdrawal of the month; payments outside the permitted uses of cash go by bank transfer or official card, and cash on hand stays within the limit the bank set.",
         columns={"account_no": ("银行账号", "Account no."), "txn_id": ("交易流水号", "Transaction id"),
                  "txn_date": ("交易日期", "Transaction date"), "outflow": ("提现金额(元)", "Withdrawal (yuan)"),
                  "memo": ("摘要/用途", "Memo"), "month": ("月份", "Month"),
                  "month_count": ("当月提现笔数", "Withdrawals in the month"),
                  "month_total": ("当月提现合计(元)", "Month's total (yuan)"),
                  "month_limit": ("月限额(元)", "Monthly limit (yuan)")},
         chart=cash_by_month, exposure="outflow"),
    Rule("SF11", "slush_funds", "公务卡强制结算目录项目以现金支付", "Official-card list item paid in cash",
         "《现金管理暂行条例》第三条、第五条",
         (money("min_amount", 1000, "现金支付金额下限(元)", "minimum cash payment (yuan)"),
          words("items", CARD_ITEMS, "公务卡强制结算目录项目", "official-card list items")),
         query="""
        SELECT l.unit_code, 'ledger:' || l.voucher_no || '#' || l.line_no AS ref, l.credit AS amount,
               'medium' AS severity,
               printf('库存现金 %s 贷方 %s 元，摘要“%s”含公务卡强制结算目录项目（%s）', l.account_code,
                      l.credit::VARCHAR, l.summary,
                      array_to_string(list_filter(p.items, lambda w: contains(l.summary, w)), '、')) AS detail,
               l.voucher_date, l.voucher_no, l.line_no, l.account_code, l.account_name, l.summary, l.credit,
               array_to_string(list_filter(p.items, lambda w: contains(l.summary, w)), '、') AS items_named,
               l.counterparty, l._file, l._line
        FROM ledger l JOIN p USING (unit_code)
        WHERE l.voucher_date <= p.as_of AND l.account_code LIKE '1001%' AND l.credit >= p.min_amount
          AND holds_word(l.summary, p.items)""",
         needs=("ledger.credit", "ledger.summary"),
         accounts=("1001",),
         check_zh='库存现金（1001）贷方 ≥ 下限（默认 1,000 元，现金结算起点），摘要含公务卡强制结算目录项目（办公费、差旅费、会议费、培训费、接待费等）。',
         check_en='A credit on cash (1001) of at least the minimum (1,000 yuan, the cash settlement threshold by default) whose summary names an item of the official-card list (office, travel, meetings, training, hospitality ...).',
         penalty_basis="",
         advice_zh="调阅原始凭证，核实以现金支付的原因和收款人；公务卡强制结算目录内的支出应使用公务卡或转账结算，确需现金支付的应有审批和说明。",
         advice_en="Read the source vouchers to establish why cash was used and who was paid; spending on the official-card list goes by official card or bank transfer, and any cash payment needs an approval and a reason on file.",
         columns={"voucher_date": ("凭证日期", "Voucher date"), "voucher_no": ("凭证号", "Voucher no."),
                  "line_no": ("分录行号", "Line no."), "account_code": ("会计科目", "Account code"),
                  "account_name": ("账户/科目名称", "Account name"), "summary": ("摘要", "Summary"),
                  "credit": ("现金贷方金额(元)", "Cash credit (yuan)"),
                  "items_named": ("涉及目录项目", "List items named"), "counterparty": ("往来单位", "Counterparty")},
         exposure="credit"),
    Rule("SF12", "slush_funds", "非工作日支付", "Payment on a rest day",
         "《会计法》第九条、第十四条第三款（筛查线索，非定性依据）",
         (money("min_amount", 10000, "支付金额下限(元)", "minimum payment (yuan)"),),
         query=rest_day_payments, note=rest_day_note,
         needs=("payments.paid_on",),
         check_zh='已支付且金额 ≥ 下限的支付，支付日期为法定节假日，或为非调休上班的周六、周日（按国务院当年节假日安排）。日历未覆盖的年度仅按周六、周日判断，运行结果会注明。非工作日支付只是线索，须核实业务是否真实、审批是否完备。',
         check_en="A paid payment of at least the minimum whose paid_on is a rest day: a statutory holiday, or a Saturday or Sunday that is not an adjusted working day (per the State Council's arrangement for that year). Years the calendar does not cover count Saturdays and Sundays only, and the run says so. A rest-day payment is a lead only: check that the transaction is real and properly approved.",
         penalty_basis="",
         advice_zh="调阅支付审批单、合同和发票，核实非工作日办理支付的原因、审批人和业务真实性；无合理理由的，检查是否存在绕过审批或虚列支出。",
         advice_en="Obtain the payment approval, contract and invoice and establish why the payment was made on a rest day, who approved it and whether the transaction is real; without a good reason, check for a bypassed approval or fictitious spending.",
         columns={"payment_id": ("支付单号", "Payment id"), "payee_name": ("收款人", "Payee"),
                  "payment_amount": ("支付金额(元)", "Payment amount (yuan)"), "paid_on": ("支付日期", "Paid on"),
                  "weekday": ("星期", "Weekday"), "rest_day": ("非工作日类型", "Rest day"),
                  "calendar": ("判断依据", "Calendar"), "expense_type": ("支出类型", "Expense type"),
                  "memo": ("摘要/用途", "Memo")},
         exposure="payment_amount"),
    Rule("SF13", "slush_funds", "收款人名称相近的同金额支付", "Same amount to payees with near-identical names",
         "《会计法》第十四条第三款",
         (days("window_days", 30, "时间窗口(天)", "window (days)", 365),
          count("max_distance", 1, "名称最大编辑距离", "largest name edit distance", lo=1, hi=5), *EXCLUSIONS),
         query="""
        WITH y AS (
            SELECT y.*, norm_name(y.payee_name) AS payee_key, p.window_days, p.max_distance
            FROM payments y JOIN p USING (unit_code)
            WHERE y.paid_on IS NOT NULL AND y.paid_on <= p.as_of
              AND length(norm_name(y.payee_name)) >= 4
              AND NOT holds_word(y.payee_name, p.exclude_payees)
              AND NOT holds_word(y.expense_type, p.exclude_expense_types)),
        pairs AS (
            -- blocked by (unit, amount); b is the later payment of the pair (by paid_on, then payment_id)
            SELECT a.unit_code, a.payment_id AS first_id, b.payment_id AS later_id,
                   a.payee_name AS first_payee, b.payee_name AS later_payee,
                   levenshtein(a.payee_key, b.payee_key) AS distance
            FROM y a JOIN y b ON a.unit_code = b.unit_code AND a.amount = b.amount
             AND (a.paid_on < b.paid_on OR (a.paid_on = b.paid_on AND a.payment_id < b.payment_id))
             AND b.paid_on - a.paid_on <= a.window_days AND a.payee_key <> b.payee_key
            WHERE levenshtein(a.payee_key, b.payee_key) <= a.max_distance),
        ends AS (
            SELECT unit_code, first_id AS payment_id, later_id AS other_id, later_payee AS other_payee, distance,
                   false AS is_later FROM pairs
            UNION ALL
            SELECT unit_code, later_id, first_id, first_payee, distance, true FROM pairs),
        hits AS (
            SELECT unit_code, payment_id, string_agg(other_id, ',' ORDER BY other_id) AS similar_ids,
                   string_agg(DISTINCT other_payee, '；' ORDER BY other_payee) AS similar_payees,
                   min(distance) AS distance, bool_or(is_later) AS is_later
            FROM ends GROUP BY unit_code, payment_id)
        SELECT y.unit_code, 'payments:' || y.payment_id AS ref, y.amount, 'medium' AS severity,
               printf('向 %s 支付 %s 元；名称相近的收款人 %s 同金额另见 %s', y.payee_name, y.amount::VARCHAR,
                      h.similar_payees, h.similar_ids) AS detail,
               y.payment_id, y.payee_name, y.amount AS payment_amount, y.paid_on, h.similar_ids, h.similar_payees,
               h.distance, CASE WHEN h.is_later THEN y.amount ELSE 0 END AS exposure, y.memo, y._file, y._line
        FROM y JOIN hits h USING (unit_code, payment_id)""",
         needs=("payments.payee_name", "payments.paid_on"),
         check_zh='同一单位在规定天数内向名称相近的收款人（规范化后名称不同，但编辑距离 ≤ 上限，两者均不少于 4 个字）支付相同金额；每对中的两笔均列为疑点，涉及金额只计较晚的一笔；不含排除清单中的收款人和支出类型（默认排除工资福利、社会保障缴费、住房公积金）。',
         check_en='Two payments of one unit of the same amount within the window to payees whose names differ after normalisation but are within the edit distance (both names at least 4 characters); both payments of a pair are listed, and only the later one counts as exposure. Payees and expense types on the exclusion lists are left out (by default wages and benefits, social security contributions and the housing provident fund).',
         penalty_basis="",
         advice_zh="核对两笔支付的合同、发票、收款账户和工商登记，确认是否为同一债务重复支付或虚构收款人；属重复支付的向收款人追回多付款项。",
         advice_en="Compare the two payments' contracts, invoices, payee accounts and business registrations to establish whether one debt was paid twice or a payee was invented; recover any overpayment from the payee.",
         columns={"payment_id": ("支付单号", "Payment id"), "payee_name": ("收款人", "Payee"),
                  "payment_amount": ("支付金额(元)", "Payment amount (yuan)"), "paid_on": ("支付日期", "Paid on"),
                  "similar_ids": ("名称相近的另一笔支付", "Paired payments"),
                  "similar_payees": ("相近的收款人名称", "Similar payee names"),
                  "distance": ("名称编辑距离", "Name edit distance"), "exposure": EXPOSURE_LABEL,
                  "memo": ("摘要/用途", "Memo")},
         drilldown=payment_and_others("similar_ids", "收款人名称相近的同金额支付",
                                               "its payments to a near-identical payee"), exposure="exposure", heavy=True),
    Rule("SF14", "slush_funds", "凭证号不连续（断号）", "Gap in voucher numbering",
         "《会计法》第十三条第三款、第十五条第二款、第二十三条",
         query=voucher_gaps.QUERY,
         needs=("ledger.voucher_no", "ledger.voucher_date"),
         check_zh='凭证号拆为前缀（最后一段数字之前的部分）和序号；同一单位、同一前缀、同一月份内，最小号与最大号之间缺少的每一段连续号码为一条疑点。断号只是线索，须查明缺号凭证是作废、跨月编号还是被删除。',
         check_en="Voucher numbers split into prefix (all before the last run of digits) and number; per unit, prefix and month, every run of numbers missing between the smallest and largest is listed. A gap is a lead only: establish whether the missing vouchers were voided, numbered in another month or deleted.",
         penalty_basis="",
         advice_zh="查明缺号凭证的去向（作废凭证应保留并注明作废，跨月编号应有说明）；无法说明的，检查是否删除或隐匿会计凭证。",
         advice_en="Establish what became of the missing vouchers (voided ones are kept and marked void; numbering across months is explained); where no account can be given, check whether vouchers were deleted or hidden.",
         columns=voucher_gaps.COLUMNS, drilldown=voucher_gaps.gap_neighbours, exposure=nothing_at_stake, heavy=True),
)
