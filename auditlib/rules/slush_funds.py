"""Slush funds (小金库): the rules SF01–SF09, each with its query, labels, chart, drill-down and exposure.

Exposure (CONTRACT §3 "Amounts"): SF01 the inflows of the account's qualifying lines, else its
outflows; SF02, SF04 the bank line's amount; SF03 the ledger line's amount; SF05, SF07, SF09 the
payment's amount; SF06 the chain rule (a payment with an earlier twin within the window puts its
amount at stake, the first of a chain 0); SF08 nothing (an indicator).

SF02's one-to-one matching lives in :mod:`auditlib.rules.matching`, SF08's screen in
:mod:`auditlib.rules.benford`; both are queries SQL alone cannot express.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from auditlib.db import query
from auditlib.i18n import register
from auditlib.rules.benford import benford_screen, benford_test, expected_proportions
from auditlib.rules.exposure import nothing_at_stake
from auditlib.rules.matching import unbooked_bank_lines
from auditlib.rules.model import EXPOSURE_LABEL, Rule, count, days, money, ratio
from auditlib.rules.plotting import figure, label, wan
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
        ax.legend(fontsize=8)
    bottom.set_xticks(x, months, rotation=60, fontsize=7)
    top.set_title(label("chart.recon.title", lang))
    fig.tight_layout()
    return fig


# ---- SF08's chart and sample: first digits against Benford ------------------------------------------
def _benford_amounts(con, unit_code: str):
    return query(con, "SELECT amount FROM payments WHERE unit_code = ? AND amount >= 10", [unit_code])["amount"]


def benford_sample(con, unit_code: str, params) -> tuple[int, int]:
    """The unit's number of amounts the screen tests and the least it judges (``min_count``)."""
    amounts = _benford_amounts(con, unit_code)
    n = benford_test(amounts, digits=1).n if len(amounts) else 0
    return n, int(params.for_unit(unit_code)["SF08"]["min_count"])


def benford_chart(con, unit_code: str, params, lang: str) -> Figure | None:
    """Observed first-digit shares of the unit's payments (≥ 10) against Benford's law."""
    amounts = _benford_amounts(con, unit_code)
    if amounts.empty:
        return None
    result = benford_test(amounts, digits=1)
    if result.n == 0:
        return None
    expected = expected_proportions(1)
    table = result.table.set_index("digit")
    digits = list(range(1, 10))
    fig, ax = figure()
    ax.bar(digits, [float(table["observed"].get(d, 0.0)) for d in digits], color="#4f81bd",
           label=label("chart.benford.observed", lang))
    ax.plot(digits, [expected[d] for d in digits], "o-", color="#c0504d",
            label=label("chart.benford.expected", lang))
    ax.set_xticks(digits)
    minimum = int(params.for_unit(unit_code)["SF08"]["min_count"])
    if result.n < minimum:  # no judgement below the minimum count: the title says so, no MAD verdict
        ax.set_title(label("chart.benford.too_few", lang, n=result.n, minimum=minimum))
    else:
        ax.set_title(label("chart.benford.title", lang, n=result.n, mad=result.mad, label=result.label(lang)))
    ax.set_xlabel(label("chart.benford.x", lang))
    ax.set_ylabel(label("chart.benford.y", lang))
    ax.legend()
    return fig


# ---- SF06's drill-down: the payment and its twins ----------------------------------------------------
def payment_and_twins(con, unit_code: str, ref: str, evidence: pd.Series | None = None, as_of=None,
                      fiscal_year: int | None = None) -> list[SourceRows]:
    """The payment (the generic lookup), then the other payments its evidence names as twins."""
    out = source_rows(con, unit_code, ref, evidence, as_of, fiscal_year)
    twins = _ids(evidence, "twin_ids")
    if twins:
        out += fetch(con, "payments", "疑似重复的另一笔支付", "its twin payments",
                     "SELECT * FROM payments WHERE unit_code = ? AND list_contains(?, payment_id) ORDER BY paid_on",
                     [unit_code, twins])
    return out


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


RULES: tuple[Rule, ...] = (
    Rule("SF01", "slush_funds", "未登记或已销户账户有收支", "Lines on an unregistered or closed account",
         "《预算单位银行账户管理办法》；中办发〔2009〕18号",
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
         check_zh='银行流水中出现未在单位账户登记表中的账号，或已销户账户在销户后仍有收支。',
         check_en='A bank account in the statements that is not registered, or that has lines after its closure.',
         columns={"account_no": ("银行账号", "Account no."), "reason": ("原因", "Reason"),
                  "closed_on": ("销户日期", "Closed on"), "lines": ("笔数", "Lines"),
                  "inflow": ("收入(元)", "Inflow (yuan)"), "outflow": ("支出(元)", "Outflow (yuan)"),
                  "exposure": EXPOSURE_LABEL,
                  "first_date": ("首笔日期", "First date"), "last_date": ("末笔日期", "Last date")},
         exposure="exposure"),
    Rule("SF02", "slush_funds", "银行收支在账簿中未找到对应记录", "Bank line without a matching ledger line",
         "《会计法》第十六条；中办发〔2009〕18号",
         (days("window_days", 10, "匹配日期窗口(天)", "matching window (days)", 365),),
         query=unbooked_bank_lines,
         check_zh='银行流水在账簿的银行存款/其他货币资金科目（1002/1011）中找不到金额相同、方向一致、日期在窗口内的凭证行（一对一、就近匹配）。',
         check_en='A bank line with no ledger line on 1002/1011 of the same amount and direction within the window (one-to-one, nearest date first).',
         columns={"account_no": ("银行账号", "Account no."), "txn_id": ("交易流水号", "Transaction id"),
                  "txn_date": ("交易日期", "Transaction date"), "direction": ("收支方向", "Direction"),
                  "txn_amount": ("交易金额(元)", "Transaction amount (yuan)"),
                  "counterparty_name": ("对方户名", "Counterparty"), "memo": ("摘要/用途", "Memo"),
                  "window_days": ("匹配窗口(天)", "Window (days)")},
         chart=reconciliation, exposure="txn_amount"),
    Rule("SF03", "slush_funds", "往来科目贷方摘要含收入字样", "Liability credit whose summary names income",
         "《会计法》第十六条；《政府会计制度》",
         (money("min_amount", 10000, "贷方金额下限(元)", "minimum credit (yuan)"),),
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
          AND regexp_matches(COALESCE(l.summary, ''),
              '租金|房租|出租|罚款|罚没|处置|变卖|拍卖|废品|回扣|返利|返还|赞助|管理费|利息')""",
         check_zh='其他应付款/应缴财政款（2305/2307）贷方金额 ≥ 下限且摘要含租金、罚没、处置、利息等收入字样。',
         check_en='A credit on 2305/2307 of at least the minimum whose summary names income (rent, fines, disposals, interest ...).',
         columns={"voucher_date": ("凭证日期", "Voucher date"), "voucher_no": ("凭证号", "Voucher no."),
                  "line_no": ("分录行号", "Line no."), "account_code": ("会计科目", "Account code"),
                  "account_name": ("账户/科目名称", "Account name"), "summary": ("摘要", "Summary"),
                  "credit": ("贷方金额(元)", "Credit (yuan)"), "counterparty": ("往来单位", "Counterparty")},
         exposure="credit"),
    Rule("SF04", "slush_funds", "大额提取现金", "Large cash withdrawal",
         "《现金管理暂行条例》；《党政机关厉行节约反对浪费条例》",
         (money("min_amount", 50000, "提现金额下限(元)", "minimum withdrawal (yuan)"),),
         query="""
        SELECT t.unit_code, 'bank_txns:' || t.txn_id AS ref, t.outflow AS amount, 'medium' AS severity,
               printf('账户 %s 提现 %s 元，摘要“%s”', t.account_no, t.outflow::VARCHAR, t.memo) AS detail,
               t.account_no, t.txn_id, t.txn_date, t.outflow, t.memo, t._file, t._line
        FROM bank_txns t JOIN p USING (unit_code)
        WHERE t.txn_date <= p.as_of AND t.outflow >= p.min_amount
          AND regexp_matches(COALESCE(t.memo, ''), '现金|取现|提现|备用金')""",
         check_zh='银行支出 ≥ 下限且摘要含现金、取现、提现或备用金。',
         check_en='A bank outflow of at least the minimum whose memo mentions cash withdrawal.',
         columns={"account_no": ("银行账号", "Account no."), "txn_id": ("交易流水号", "Transaction id"),
                  "txn_date": ("交易日期", "Transaction date"), "outflow": ("支出(元)", "Outflow (yuan)"),
                  "memo": ("摘要/用途", "Memo")},
         exposure="outflow"),
    Rule("SF05", "slush_funds", "同一收款人短期内多笔支付合计达到限额", "Payments to one payee reaching the limit within days",
         "《政府采购法》第二十八条",
         (money("limit", 50000, "限额(元)", "limit (yuan)"),
          days("window_days", 7, "时间窗口(天)", "window (days)", 365)),
         query="""
        WITH y AS (
            SELECT y.*, norm_name(y.payee_name) AS payee_key, p."limit" AS lim, p.window_days
            FROM payments y JOIN p USING (unit_code)
            WHERE y.paid_on IS NOT NULL AND y.paid_on <= p.as_of AND y.amount < p.limit),
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
         check_zh='同一收款人的多笔支付各自低于限额，但在规定天数内合计达到限额。',
         check_en='Payments to one payee, each below the limit, that add up to the limit within the window.',
         columns={"payment_id": ("支付单号", "Payment id"), "payee_name": ("收款人", "Payee"),
                  "payment_amount": ("支付金额(元)", "Payment amount (yuan)"), "paid_on": ("支付日期", "Paid on"),
                  "window_total": ("窗口合计(元)", "Window total (yuan)"), "expense_type": ("支出类型", "Expense type"),
                  "memo": ("摘要/用途", "Memo")},
         exposure="payment_amount"),
    Rule("SF06", "slush_funds", "同一收款人同金额短期内多次支付", "Same amount to one payee more than once within days",
         "《会计基础工作规范》",
         (days("window_days", 30, "时间窗口(天)", "window (days)", 365),),
         query="""
        WITH y AS (
            SELECT y.*, norm_name(y.payee_name) AS payee_key, p.window_days
            FROM payments y JOIN p USING (unit_code) WHERE y.paid_on IS NOT NULL AND y.paid_on <= p.as_of),
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
         check_zh='同一收款人、同一金额在规定天数内支付两次以上。',
         check_en='Two or more payments to one payee of the same amount within the window.',
         columns={"payment_id": ("支付单号", "Payment id"), "payee_name": ("收款人", "Payee"),
                  "payment_amount": ("支付金额(元)", "Payment amount (yuan)"), "paid_on": ("支付日期", "Paid on"),
                  "twin_ids": ("重复支付单号", "Duplicate of"), "exposure": EXPOSURE_LABEL,
                  "memo": ("摘要/用途", "Memo")},
         drilldown=payment_and_twins, exposure="exposure"),
    Rule("SF07", "slush_funds", "会议费等整数金额支出", "Round-amount meeting and similar expenses",
         "中办发〔2009〕18号；《中央和国家机关会议费管理办法》",
         (money("min_amount", 10000, "金额下限(元)", "minimum amount (yuan)"),
          money("round_unit", 1000, "整数单位(元)", "round unit (yuan)", 10**8)),
         query="""
        SELECT y.unit_code, 'payments:' || y.payment_id AS ref, y.amount, 'medium' AS severity,
               printf('%s %s 元为 %s 元整数倍', COALESCE(y.expense_type, ''), y.amount::VARCHAR,
                      CAST(p.round_unit AS DECIMAL(18, 2))::VARCHAR) AS detail,
               y.payment_id, y.payee_name, y.expense_type, y.memo, y.amount AS payment_amount, y.paid_on,
               y._file, y._line
        FROM payments y JOIN p USING (unit_code)
        WHERE regexp_matches(COALESCE(y.expense_type, '') || ' ' || COALESCE(y.memo, ''), '会议|培训|劳务|咨询')
          AND y.amount >= p.min_amount AND p.round_unit > 0 AND y.amount % p.round_unit = 0""",
         check_zh='支出类型或摘要含会议、培训、劳务、咨询字样，金额 ≥ 下限且为整数单位（默认 1,000 元）的整数倍。整数金额只是线索，须查看原始凭证判断支出是否真实。',
         check_en='A payment whose expense type or memo names meetings, training, labour or consulting, of at least the minimum and a multiple of the round unit (1,000 yuan by default). A round amount is only a lead: the vouchers show whether the spending was real.',
         columns={"payment_id": ("支付单号", "Payment id"), "payee_name": ("收款人", "Payee"),
                  "expense_type": ("支出类型", "Expense type"), "memo": ("摘要/用途", "Memo"),
                  "payment_amount": ("支付金额(元)", "Payment amount (yuan)"), "paid_on": ("支付日期", "Paid on")},
         exposure="payment_amount"),
    Rule("SF08", "slush_funds", "支付金额首位数字分布检验（本福特定律）", "Benford screen of payment amounts",
         "Nigrini, Benford's Law (2012)；审计署计算机审计方法",
         (ratio("max_mad", "0.015", "首位数字MAD上限", "largest first-digit MAD", hi="1"),
          count("min_count", 300, "最少金额笔数", "minimum number of amounts")),
         query=benford_screen,
         check_zh='单位支付金额（≥10 元）首位数字分布与本福特定律的平均绝对偏差超过阈值（单位层面的筛查指标，非定性依据）；金额笔数少于最少笔数时样本不足，不作判断。',
         check_en="First-digit distribution of the unit's payments (≥ 10 yuan) deviates from Benford's law beyond the MAD limit (a screen, not proof); with fewer amounts than the minimum count the sample is too small to judge.",
         columns={"n": ("金额笔数", "Amounts"), "mad": ("平均绝对偏差MAD", "MAD"),
                  "chi_square": ("卡方值", "Chi-square"), "conformity": ("符合程度", "Conformity"),
                  **{f"digit_{d}": (f"首位{d}笔数", f"First digit {d}") for d in range(1, 10)}},
         chart=benford_chart, exposure=nothing_at_stake, sample=benford_sample),
    Rule("SF09", "slush_funds", "向其他预算单位支付", "Payment to another budget unit",
         "中办发〔2009〕18号；财预〔2013〕372号",
         query="""
        SELECT y.unit_code, 'payments:' || y.payment_id AS ref, y.amount, 'high' AS severity,
               printf('支付给其他预算单位 %s', COALESCE(un.unit_code, ac.unit_code)) AS detail,
               y.payment_id, y.payee_name, y.payee_account, COALESCE(un.unit_code, ac.unit_code) AS other_unit,
               y.amount AS payment_amount, y.paid_on, y.memo, y._file, y._line
        FROM payments y JOIN p USING (unit_code)
        LEFT JOIN (SELECT unit_code, norm_name(unit_name) AS key FROM units) un
               ON un.key = norm_name(y.payee_name) AND un.unit_code <> y.unit_code
        LEFT JOIN accounts ac ON ac.account_no = y.payee_account AND ac.unit_code <> y.unit_code
        WHERE un.unit_code IS NOT NULL OR ac.unit_code IS NOT NULL""",
         check_zh='收款人名称是另一预算单位的名称，或收款账户是另一单位登记的账户。',
         check_en='A payment to another budget unit by name or registered account.',
         columns={"payment_id": ("支付单号", "Payment id"), "payee_name": ("收款人", "Payee"),
                  "payee_account": ("收款账号", "Payee account"), "other_unit": ("收款单位编码", "Receiving unit"),
                  "payment_amount": ("支付金额(元)", "Payment amount (yuan)"), "paid_on": ("支付日期", "Paid on"),
                  "memo": ("摘要/用途", "Memo")},
         exposure="payment_amount"),
)
