"""The rule catalogue of CONTRACT §3 as data: id, inspection, titles, basis and parameters.

Each rule's parameters carry their type, default and allowed range; parameter
files are validated against them (:mod:`auditlib.rules.params`) and the interactive
panel builds its controls from them.  Each rule also carries the one query that
finds its cases (see :mod:`auditlib.rules.engine` for the convention): adding a rule
touches this file only.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from auditlib.rules.rule_functions import sf02_unbooked_bank_lines, sf08_benford

INSPECTIONS = {
    "idle_funds": ("沉淀资金", "Idle funds"),
    "slush_funds": ("小金库", "Slush funds"),
    "delayed_payments": ("支付不及时", "Delayed payments"),
}

#: parameter types: money (yuan, Decimal), days (int), count (int), ratio (Decimal)
PARAM_TYPES = ("money", "days", "count", "ratio")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Decimal | int
    min: Decimal | int
    max: Decimal | int
    zh: str
    en: str


@dataclass(frozen=True)
class Rule:
    id: str
    inspection: str
    title_zh: str
    title_en: str
    basis: str
    params: tuple[Param, ...] = ()
    #: one DuckDB SELECT (reading the tables and the parameter relation ``p``), or a function
    #: ``f(con, p_relation_sql) -> DataFrame`` for rules SQL alone cannot express
    query: str | Callable | None = None
    #: what the rule checks, in a sentence, for reports and workbooks
    check_zh: str = ""
    check_en: str = ""

    def title(self, lang: str = "zh") -> str:
        return self.title_zh if lang == "zh" else self.title_en

    def check(self, lang: str = "zh") -> str:
        return self.check_zh if lang == "zh" else self.check_en

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}


def _money(name, default, zh, en, hi=10**10):
    return Param(name, "money", Decimal(default), Decimal(0), Decimal(hi), zh, en)


def _days(name, default, zh, en, hi=3650):
    return Param(name, "days", default, 0, hi, zh, en)


def _ratio(name, default, zh, en, lo="0", hi="1"):
    return Param(name, "ratio", Decimal(default), Decimal(lo), Decimal(hi), zh, en)


_DP_TERMS = (
    _days("term_days_default", 30, "默认付款期限(天)", "default payment term (days)", 365),
    _days("max_term_days", 60, "合同约定付款期限上限(天)", "longest term a contract may set (days)", 365),
    _ratio("daily_rate", "0.0005", "逾期利息日利率", "daily interest rate on late payment", hi="0.01"),
)

RULES: tuple[Rule, ...] = (
    Rule("IF01", "idle_funds", "预算指标长期未支出", "Budget line left unspent",
         "《预算法》第四十二条；财预〔2015〕15号",
         (_money("min_amount", 10000, "未支出金额下限(元)", "minimum unspent amount (yuan)"),
          _days("carry_days", 365, "结转年限(天)", "carry-over age (days)"),
          _days("recover_days", 730, "收回年限(天)", "age at which funds are recovered (days)")),
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
         check_en='An appropriation still unspent past the carry-over age: unspent = amount − payments on it by the cut-off; unspent ≥ the minimum and age > carry days; high severity past the recovery age.'),
    Rule("IF02", "idle_funds", "银行账户资金长期闲置", "Dormant bank balance",
         "财预〔2013〕372号；《预算单位银行账户管理办法》",
         (_money("min_balance", 100000, "余额下限(元)", "minimum balance (yuan)"),
          _days("dormant_days", 365, "无支出天数", "days without an outflow")),
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
         check_en='A registered non-zero-balance account whose last balance by the cut-off is at least the minimum and which had no outflow in the given days.'),
    Rule("IF03", "idle_funds", "向本单位实有资金账户划转资金", "Money moved to the unit's own account",
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
         check_en="A payment whose payee account is one of the unit's own registered accounts, or whose payee is the unit itself."),
    Rule("IF04", "idle_funds", "往来款长期挂账", "Long-outstanding current account",
         "《政府会计制度》；财预〔2015〕15号",
         (_money("min_amount", 10000, "挂账余额下限(元)", "minimum open balance (yuan)"),
          _days("stale_days", 730, "无发生额天数", "days without a ledger line")),
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
         check_en='Open balances on 1214/1218/2307 per counterparty at least the minimum with no ledger line in the given days.'),
    Rule("SF01", "slush_funds", "未登记或已销户账户仍有收支", "Account not registered",
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
               min(txn_date) AS first_date, max(txn_date) AS last_date
        FROM bad GROUP BY unit_code, account_no""",
         check_zh='银行流水中出现未在单位账户登记表中的账号，或已销户账户在销户后仍有收支。',
         check_en='A bank account in the statements that is not registered, or that has lines after its closure.'),
    Rule("SF02", "slush_funds", "银行收支未入账", "Bank line not in the books",
         "《会计法》第十六条；中办发〔2009〕18号",
         (_days("window_days", 10, "匹配日期窗口(天)", "matching window (days)", 365),),
         query=sf02_unbooked_bank_lines,
         check_zh='银行流水在账簿的银行存款/其他货币资金科目（1002/1011）中找不到金额相同、方向一致、日期在窗口内的凭证行（一对一、就近匹配）。',
         check_en='A bank line with no ledger line on 1002/1011 of the same amount and direction within the window (one-to-one, nearest date first).'),
    Rule("SF03", "slush_funds", "收入挂往来款", "Income parked in a liability",
         "《会计法》第十六条；《政府会计制度》",
         (_money("min_amount", 10000, "贷方金额下限(元)", "minimum credit (yuan)"),),
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
         check_en='A credit on 2305/2307 of at least the minimum whose summary names income (rent, fines, disposals, interest ...).'),
    Rule("SF04", "slush_funds", "大额提取现金", "Large cash withdrawal",
         "《现金管理暂行条例》；《党政机关厉行节约反对浪费条例》",
         (_money("min_amount", 50000, "提现金额下限(元)", "minimum withdrawal (yuan)"),),
         query="""
        SELECT t.unit_code, 'bank_txns:' || t.txn_id AS ref, t.outflow AS amount, 'medium' AS severity,
               printf('账户 %s 提现 %s 元，摘要“%s”', t.account_no, t.outflow::VARCHAR, t.memo) AS detail,
               t.account_no, t.txn_id, t.txn_date, t.outflow, t.memo, t._file, t._line
        FROM bank_txns t JOIN p USING (unit_code)
        WHERE t.txn_date <= p.as_of AND t.outflow >= p.min_amount
          AND regexp_matches(COALESCE(t.memo, ''), '现金|取现|提现|备用金')""",
         check_zh='银行支出 ≥ 下限且摘要含现金、取现、提现或备用金。',
         check_en='A bank outflow of at least the minimum whose memo mentions cash withdrawal.'),
    Rule("SF05", "slush_funds", "化整为零拆分支付", "Split payments",
         "《政府采购法》第二十八条",
         (_money("limit", 50000, "限额(元)", "limit (yuan)"),
          _days("window_days", 7, "时间窗口(天)", "window (days)", 365)),
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
                      y.lim::VARCHAR) AS detail,
               y.payment_id, y.payee_name, y.amount AS payment_amount, y.paid_on, h.window_total,
               y.expense_type, y.memo, y._file, y._line
        FROM y JOIN hits h USING (payment_id)""",
         check_zh='同一收款人的多笔支付各自低于限额，但在规定天数内合计达到限额。',
         check_en='Payments to one payee, each below the limit, that add up to the limit within the window.'),
    Rule("SF06", "slush_funds", "重复支付", "Duplicate payment",
         "《会计基础工作规范》",
         (_days("window_days", 30, "时间窗口(天)", "window (days)", 365),),
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
               y.memo, y._file, y._line
        FROM y JOIN dup d USING (payment_id)""",
         check_zh='同一收款人、同一金额在规定天数内支付两次以上。',
         check_en='Two or more payments to one payee of the same amount within the window.'),
    Rule("SF07", "slush_funds", "以会议费、培训费、劳务费、咨询费名义套取资金", "Dressed-up expense",
         "中办发〔2009〕18号；《中央和国家机关会议费管理办法》",
         (_money("min_amount", 10000, "金额下限(元)", "minimum amount (yuan)"),
          _money("round_unit", 1000, "整数单位(元)", "round unit (yuan)", 10**8)),
         query="""
        SELECT y.unit_code, 'payments:' || y.payment_id AS ref, y.amount, 'medium' AS severity,
               printf('%s %s 元为 %s 元整数倍', COALESCE(y.expense_type, ''), y.amount::VARCHAR,
                      p.round_unit::VARCHAR) AS detail,
               y.payment_id, y.payee_name, y.expense_type, y.memo, y.amount AS payment_amount, y.paid_on,
               y._file, y._line
        FROM payments y JOIN p USING (unit_code)
        WHERE regexp_matches(COALESCE(y.expense_type, '') || ' ' || COALESCE(y.memo, ''), '会议|培训|劳务|咨询')
          AND y.amount >= p.min_amount AND p.round_unit > 0 AND y.amount % p.round_unit = 0""",
         check_zh='会议费、培训费、劳务费、咨询费金额 ≥ 下限且为整千（规定单位）的整数倍。',
         check_en='Meeting, training, labour or consulting expenses of at least the minimum in round multiples.'),
    Rule("SF08", "slush_funds", "支付金额首位数字偏离本福特定律", "Benford screen of payment amounts",
         "Nigrini, Benford's Law (2012)；审计署计算机审计方法",
         (_ratio("max_mad", "0.015", "首位数字MAD上限", "largest first-digit MAD", hi="1"),
          Param("min_count", "count", 300, 1, 10**9, "最少金额笔数", "minimum number of amounts")),
         query=sf08_benford,
         check_zh='单位支付金额（≥10 元）首位数字分布与本福特定律的平均绝对偏差超过阈值（单位层面的筛查指标，非定性依据）。',
         check_en="First-digit distribution of the unit's payments (≥ 10 yuan) deviates from Benford's law beyond the MAD limit (a screen, not proof)."),
    Rule("SF09", "slush_funds", "上下级单位间转移资金", "Money moved between units",
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
         check_en='A payment to another budget unit by name or registered account.'),
    Rule("DP01", "delayed_payments", "逾期支付中小企业款项", "Late payment to an SME",
         "《保障中小企业款项支付条例》第八条、第十五条", _DP_TERMS,
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
         check_zh='向中小企业支付的款项自验收之日起超过约定期限（默认 30 天，合同约定最长 60 天）才支付；按日利率计算逾期利息。',
         check_en='An SME paid after the term from acceptance (30 days by default, at most 60 by contract); interest at the daily rate.'),
    Rule("DP02", "delayed_payments", "中小企业款项逾期未付", "Overdue and unpaid",
         "《保障中小企业款项支付条例》第八条、第十五条", _DP_TERMS,
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
         check_zh='中小企业款项已验收、截止日仍未支付且已超过付款期限；利息计至截止日。',
         check_en='An SME payment accepted, unpaid at the cut-off and past its term; interest to the cut-off.'),
    Rule("DP03", "delayed_payments", "支出进度滞后于序时进度", "Spending behind schedule",
         "《预算法》；财政部关于加快预算执行进度的要求",
         (_money("min_amount", 50000, "指标金额下限(元)", "minimum budget amount (yuan)"),
          _ratio("gap", "0.20", "允许滞后幅度", "allowed gap")),
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
            WHERE b.fiscal_year = p.fiscal_year AND b.amount >= p.min_amount)
        SELECT unit_code, 'budget:' || budget_id AS ref, amount - paid AS amount, 'medium' AS severity,
               printf('支出进度 %.1f%%，序时进度 %.1f%%', 100.0 * paid / amount, 100.0 * elapsed / year_days) AS detail,
               budget_id, project_name, amount AS budget_amount, paid,
               round(paid / amount, 4)::DOUBLE AS paid_share, round(elapsed / year_days, 4)::DOUBLE AS time_progress,
               _file, _line
        FROM b WHERE paid * year_days < amount * (elapsed - gap * year_days)""",
         check_zh='本年度指标金额 ≥ 下限，截止日已支付比例低于序时进度减去允许差距。',
         check_en='A budget line of the year, at least the minimum, whose paid share is below time progress minus the allowed gap.'),
    Rule("DP04", "delayed_payments", "支付审批办理不及时", "Slow processing",
         "《国库集中支付管理办法》",
         (_days("max_days", 10, "办理天数上限", "longest processing time (days)", 365),),
         query="""
        SELECT y.unit_code, 'payments:' || y.payment_id AS ref, y.amount, 'low' AS severity,
               printf('申请后 %d 天支付', y.paid_on - y.requested_on) AS detail,
               y.payment_id, y.payee_name, y.requested_on, y.paid_on,
               y.paid_on - y.requested_on AS processing_days, y._file, y._line
        FROM payments y JOIN p USING (unit_code)
        WHERE y.paid_on <= p.as_of AND y.paid_on - y.requested_on > p.max_days""",
         check_zh='从申请支付到实际支付超过规定天数。',
         check_en='More than the allowed days from payment request to payment.'),
    Rule("DP05", "delayed_payments", "年底突击花钱", "Year-end rush",
         "《党政机关厉行节约反对浪费条例》；《预算法》",
         (_ratio("max_share", "0.30", "12月支出占比上限", "largest December share"),),
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
               total AS year_total, december, round(december / total, 4)::DOUBLE AS december_share
        FROM s WHERE total > 0 AND december > max_share * total""",
         check_zh='已结束年度中 12 月份支付金额占全年比例超过上限。',
         check_en="December's share of the year's payments above the limit, once the year has ended."),
)

RULES_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}


def render_catalogue(lang: str = "zh") -> str:
    """The catalogue as text: per inspection, each rule with its basis and parameters."""
    lines = []
    for name, (zh, en) in INSPECTIONS.items():
        lines.append(f"== {name} {zh if lang == 'zh' else en} ==")
        for rule in (r for r in RULES if r.inspection == name):
            lines.append(f"{rule.id}  {rule.title(lang)}")
            lines.append(f"      {'依据' if lang == 'zh' else 'basis'}: {rule.basis}")
            for p in rule.params:
                label = p.zh if lang == "zh" else p.en
                lines.append(f"      {p.name} = {p.default}  ({label}; {p.min}–{p.max})")
        lines.append("")
    return "\n".join(lines)
