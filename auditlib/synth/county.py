"""A synthetic county for demos and tests (CONTRACT §5 ``auditlib synth``).

``generate(out_dir, units=8, seed=2024)`` writes the six input tables in the
messy forms of CONTRACT §1 (GBK CSV, Chinese headers, XLSX date cells,
subtotal rows, money as ``1,234.50`` / ``¥1234.5``) and ``truth.csv`` with the
planted findings of every rule at default parameters (as_of 2024-12-31,
fiscal_year 2024), together with near misses on each side of each threshold.
Each truth row names the rule, unit and ref and what the finding puts at stake
(``exposure``, CONTRACT §3 "Amounts") and its late-payment ``interest`` (DP01/DP02;
empty for other rules), as exact yuan.

Only ``random.Random(seed)`` is used, so the same seed gives the same bytes.
Money is kept in integer cents throughout.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from random import Random

from auditlib.errors import AuditlibError
from auditlib.rules.rest_days import is_rest_day

AS_OF = dt.date(2024, 12, 31)
FY = 2024
MIN_UNITS = 8

D = dt.date
DAY = dt.timedelta(days=1)

DEPARTMENTS = [
    "县教育局", "县卫生健康局", "县财政局", "县农业农村局", "县水利局", "县交通运输局",
    "县民政局", "县自然资源局", "县住房和城乡建设局", "县文化和旅游局", "县人力资源和社会保障局",
    "县市场监督管理局",
]
TOWNS = [
    "城关", "青山", "白沙", "河口", "石桥", "龙泉", "新华", "东岗", "西塘", "南湖", "北岭", "杨柳",
    "桃源", "长安", "金山", "黄田", "大坪", "柳溪", "双河", "马鞍", "高桥", "清水", "花园", "永丰",
]
COMPANY_PREFIX = [
    "宏达", "鑫源", "恒信", "华泰", "盛世", "利民", "永安", "瑞丰", "金鼎", "天成", "兴业", "同创",
    "博远", "嘉禾", "众诚", "信达", "润泽", "远航", "和顺", "正大", "安康", "泰和", "德胜", "中联",
]
COMPANY_KIND = [
    "建筑工程有限公司", "商贸有限公司", "办公用品有限公司", "信息技术有限公司", "印刷有限公司",
    "物业管理有限公司", "医疗器械有限公司", "农业科技有限公司", "水利工程有限公司", "文化传媒有限公司",
]
EXPENSES = ["办公费", "印刷费", "物业管理费", "维修(护)费", "专用材料费", "委托业务费", "设备购置", "工程款"]
ACCOUNT_NAMES = {
    "1001": "库存现金", "1002": "银行存款", "1011": "零余额账户用款额度", "1214": "预付账款",
    "1218": "其他应收款", "2305": "预收账款", "2307": "其他应付款", "4001": "财政拨款收入",
    "4609": "其他收入", "5001": "业务活动费用", "6001": "财政拨款预算收入", "7201": "事业支出",
}


def workday(day: dt.date) -> dt.date:
    """The latest working day on or before ``day``: background payments are made on working days,
    so that only the planted ones fall on a rest day (SF12)."""
    while is_rest_day(day):
        day -= DAY
    return day


def money(cents: int, style: str = "plain") -> str:
    sign = "-" if cents < 0 else ""
    c = abs(cents)
    y, f = divmod(c, 100)
    if style == "comma":
        return f"{sign}{y:,}.{f:02d}"
    if style == "yen":  # ¥1234.5 (UTF-8 files only)
        s = f"{y}.{f:02d}".rstrip("0").rstrip(".")
        return f"{sign}¥{s}"
    if style == "fwyen":  # ￥1,234.50 (encodable in GBK)
        return f"{sign}￥{y:,}.{f:02d}"
    return f"{sign}{y}.{f:02d}"


def _half_up(x: Fraction) -> int:
    """A non-negative exact amount of cents rounded half up to a whole cent."""
    return math.floor(x + Fraction(1, 2))


def late_interest(cents: int, days_late: int, rate_per_10000: int = 5) -> int:
    """DP01/DP02's 逾期利息 in cents: amount × 0.0005 a day × days late, rounded half up to the fen."""
    return (2 * cents * rate_per_10000 * days_late + 10000) // 20000


@dataclass
class SampleSummary:
    out_dir: str
    seed: int
    counts: dict[str, int] = field(default_factory=dict)
    planted: int = 0
    files: list[str] = field(default_factory=list)

    def describe(self, lang: str = "zh") -> str:
        names_zh = {"units": "单位", "accounts": "账户", "budget": "指标", "payments": "支付",
                    "ledger": "凭证分录", "bank_txns": "银行流水"}
        if lang == "en":
            parts = ", ".join(f"{k} {v}" for k, v in self.counts.items())
            return (f"Synthetic county written to {self.out_dir} (seed {self.seed}): {parts}; "
                    f"{self.planted} planted findings in truth.csv; files: {', '.join(self.files)}")
        parts = "，".join(f"{names_zh.get(k, k)} {v} 行" for k, v in self.counts.items())
        return (f"模拟县级财政数据已写入 {self.out_dir}（随机种子 {self.seed}）：{parts}；"
                f"预置疑点 {self.planted} 条（见 truth.csv）；文件：{'、'.join(self.files)}")


class _County:
    def __init__(self, n_units: int, seed: int):
        self.r = Random(seed)
        self.n = n_units
        self.units: list[dict] = []
        self.accounts: list[dict] = []
        self.budgets: list[dict] = []
        self.payments: list[dict] = []
        self.vouchers: dict[str, list[dict]] = {}  # unit -> vouchers {date, lines}
        self.bank: dict[str, list[dict]] = {}  # account_no -> lines
        self.bank_unit: dict[str, str] = {}
        # rule, unit, ref, exposure, interest; each of the last three a value or a callable
        self.truth: list[tuple[str, str, object, object, object]] = []
        self.used_accounts: set[str] = set()
        self.seq = 0
        self.companies = [p + k for p in COMPANY_PREFIX for k in COMPANY_KIND]
        self.r.shuffle(self.companies)
        self.plant_payees = iter(self.companies[:100])  # reserved for plants
        self.bg_payees = self.companies[100:]

    # -- helpers -------------------------------------------------------------
    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def acct_no(self, prefix: str) -> str:
        while True:
            no = prefix + "".join(str(self.r.randrange(10)) for _ in range(19 - len(prefix)))
            if no not in self.used_accounts:
                self.used_accounts.add(no)
                return no

    def cents(self, lo: int, hi: int) -> int:
        """Random amount in cents, log-uniform in [lo, hi) yuan, never a whole 1000 yuan."""
        while True:
            v = int(math.exp(self.r.uniform(math.log(lo), math.log(hi))) * 100)
            if v % 100 and v % 100000:
                return v

    def voucher(self, unit: str, date: dt.date, lines: list[tuple]) -> dict:
        """lines: (account_code, summary, debit_cents, credit_cents, counterparty)."""
        assert sum(l[2] for l in lines) == sum(l[3] for l in lines), lines
        v = {"date": date, "lines": lines, "seq": self.next_seq()}
        self.vouchers.setdefault(unit, []).append(v)
        return v

    def bank_line(self, account: str, date, inflow=0, outflow=0, memo="", cp="", cp_acct="",
                  book: int | None = 0) -> dict:
        line = {"date": date, "in": inflow, "out": outflow, "memo": memo, "cp": cp,
                "cp_acct": cp_acct, "seq": self.next_seq()}
        self.bank.setdefault(account, []).append(line)
        unit = self.bank_unit[account]
        if book is not None:
            vd = min(date + book * DAY, AS_OF) if date <= AS_OF else date
            if inflow:
                self.voucher(unit, vd, [("1002", memo, inflow, 0, cp), ("4609", memo, 0, inflow, cp)])
            else:
                self.voucher(unit, vd, [("5001", memo, outflow, 0, cp), ("1002", memo, 0, outflow, cp)])
        return line

    def payment(self, unit: dict, amount: int, paid_on, payee=None, *, budget=None, sme=False,
                accepted=None, requested=None, term=None, expense=None, memo="", payee_account=None,
                book=True) -> dict:
        if payee is None:
            payee = self.r.choice(self.bg_payees)
        if paid_on is not None and requested is None:
            requested = paid_on - self.r.randint(1, 6) * DAY
        if accepted is None and paid_on is not None:
            accepted = (requested or paid_on) - self.r.randint(3, 15) * DAY
        p = {"unit_code": unit["code"], "budget_id": budget["budget_id"] if budget else "",
             "payee_name": payee, "payee_account": payee_account or self.acct_no("62"),
             "payee_is_sme": sme, "contract_id": f"HT{FY}-{unit['code']}-{self.next_seq():05d}",
             "expense_type": expense or self.r.choice(EXPENSES), "amount": amount,
             "accepted_on": accepted, "requested_on": requested, "paid_on": paid_on,
             "term_days": term, "memo": memo or "支付" + (expense or "货款"), "seq": self.next_seq()}
        self.payments.append(p)
        if budget is not None and paid_on is not None and paid_on <= AS_OF:
            budget["paid"] += amount
        if book and paid_on is not None and paid_on <= AS_OF:
            memo = f"付{payee}{p['expense_type']}"
            self.voucher(unit["code"], paid_on, [
                ("5001", memo, amount, 0, payee), ("1011", memo, 0, amount, ""),
                ("7201", memo, amount, 0, ""), ("6001", memo, 0, amount, "")])
        return p

    def budget(self, unit: dict, issued: dt.date, amount: int | None = None, name=None,
               fiscal_year=None) -> dict:
        n = sum(1 for b in self.budgets if b["unit_code"] == unit["code"]) + 1
        b = {"unit_code": unit["code"], "budget_id": f"{issued.year}-{unit['code']}-{n:03d}",
             "project_code": f"{unit['code']}{issued.year}{n:03d}",
             "project_name": name or self.r.choice(["公用经费", "专项业务经费", "基础设施维修", "信息化建设",
                                                    "人才培训", "设备购置"]),
             "fund_type": "一般公共预算", "is_special": n % 2 == 0, "amount": amount,
             "issued_on": issued, "fiscal_year": fiscal_year or issued.year, "paid": 0}
        self.budgets.append(b)
        return b

    def plant(self, rule: str, unit: str, ref, *, exposure=None, interest=None) -> None:
        """Record a planted finding for ``truth.csv``.

        ``ref`` is the finding's ref, or a callable giving it once ids are assigned (after
        :meth:`finalize`).  ``exposure`` and ``interest`` (CONTRACT §3 "Amounts") are integer
        cents, or callables giving integer cents after :meth:`finalize` (e.g. a bank balance);
        ``interest`` stays None for a rule that gives none.  truth.csv writes them as exact yuan.
        """
        self.truth.append((rule, unit, ref, exposure, interest))

    # -- background ----------------------------------------------------------
    def make_units(self) -> None:
        names, codes = [], []
        n_dept = min(len(DEPARTMENTS), max(6, self.n // 10))
        for i in range(self.n):
            if i < n_dept:
                code, name, sup = f"{i + 1:03d}", DEPARTMENTS[i], ""
            else:
                k = i - n_dept
                sup_i = k % n_dept
                code = f"{sup_i + 1:03d}{k // n_dept + 1}" if k // n_dept < 9 else f"{i + 1:05d}"
                town = TOWNS[k % len(TOWNS)]
                rnd = k // len(TOWNS)
                suffix = "" if rnd == 0 else str(rnd + 1)
                kind = {"县教育局": "中心小学", "县卫生健康局": "卫生院", "县财政局": "财政所",
                        "县农业农村局": "农业综合服务站", "县水利局": "水利站",
                        "县交通运输局": "交通管理站"}.get(DEPARTMENTS[sup_i], "人民政府")
                name = f"{town}{suffix}镇{'人民政府' if k % 5 == 4 else kind}"
                sup = f"{sup_i + 1:03d}"
            while name in names:
                name = name + "分部"
            names.append(name)
            codes.append(code)
            self.units.append({"code": code, "name": name, "sup": sup})
        assert len(set(codes)) == len(codes)
        banks = ["中国农业银行某县支行", "中国工商银行某县支行", "中国建设银行某县支行", "某县农村商业银行"]
        for u in self.units:
            bank = self.r.choice(banks)
            u["zba"] = self.acct_no("33")
            u["basic"] = self.acct_no("19")
            for no, typ, nm in ((u["zba"], "零余额账户", "零余额"), (u["basic"], "基本存款账户", "基本户")):
                self.accounts.append({"unit_code": u["code"], "account_no": no,
                                      "account_name": f"{u['name']}{nm}", "bank_name": bank,
                                      "account_type": typ, "opened_on": D(2015, 3, 1), "closed_on": None})
                self.bank_unit[no] = u["code"]

    def background(self, u: dict, n_pay: int) -> None:
        r = self.r
        # 2022/2023 budgets fully spent in their year
        for year in (2022, 2023):
            b = self.budget(u, D(year, r.randint(1, 4), r.randint(1, 28)))
            for _ in range(2):
                self.payment(u, self.cents(2000, 30000), workday(D(year, r.randint(5, 11), r.randint(1, 28))),
                             budget=b)
            b["amount"] = b["paid"]
        # 2024 budgets, spent 85-100 %
        b24 = [self.budget(u, D(FY, r.randint(1, 3), r.randint(1, 28))) for _ in range(3)]
        items = [[workday(D(FY, 1, 1) + r.randint(14, 360) * DAY), self.cents(300, 48000)] for _ in range(n_pay)]
        total = sum(a for _, a in items)
        while True:  # keep the December share well below DP05's 30 %
            dec = [it for it in items if it[0].month == 12]
            if sum(a for _, a in dec) * 5 <= total:
                break
            big = max(dec, key=lambda it: it[1])
            big[0] = workday(big[0] - 40 * DAY)
        # each payment's budget line chosen up front, so that no line pays more than 40 % of its
        # year in November and December (DP07's 50 % is for the planted cases only)
        for it in items:
            it.append(r.randrange(len(b24)))
        for k in range(len(b24)):
            while True:
                mine = [it for it in items if it[2] == k]
                late = [it for it in mine if it[0].month >= 11]
                if sum(it[1] for it in late) * 5 <= sum(it[1] for it in mine) * 2:
                    break
                big = max(late, key=lambda it: it[1])
                big[0] = workday(big[0] - 61 * DAY)
        used: dict[str, list[dt.date]] = {}
        for d, amount, k in sorted(items):
            for _ in range(100):
                payee = r.choice(self.bg_payees)
                if all(abs((d - x).days) > 40 for x in used.get(payee, ())):
                    break
            else:  # pragma: no cover - pool is far larger than needed
                raise RuntimeError("payee pool exhausted")
            used.setdefault(payee, []).append(d)
            sme = r.random() < 0.4
            term = r.choice([None, 30, 45, 60]) if sme else None
            limit = min(term, 60) if term else 30
            req = d - r.randint(1, 8) * DAY
            acc = d - r.randint(2, limit) * DAY
            self.payment(u, amount, d, payee, budget=b24[k], sme=sme,
                         accepted=acc, requested=req, term=term)
        for b in b24:
            share = r.uniform(0.86, 1.0)
            b["amount"] = max(b["paid"], -(-int(b["paid"] / share) // 100) * 100)
        # bank statement of the basic account, every line booked within 0-3 days
        acct = u["basic"]
        self.bank_line(acct, D(FY, 1, 1), inflow=r.randint(200000, 600000) * 100 + r.randint(1, 99),
                       memo="上年结转资金划入", cp="县财政国库集中支付中心", cp_acct="", book=0)
        for m in range(1, 13):
            for _ in range(r.randint(1, 3)):
                d = D(FY, m, r.randint(2, 28))
                if r.random() < 0.4:
                    self.bank_line(acct, d, inflow=self.cents(1000, 60000), memo=r.choice(["收到往来款", "收回暂付款", "收到补助资金"]),
                                   cp=r.choice(self.bg_payees), cp_acct=self.acct_no("62"), book=r.randint(0, 3))
                else:
                    self.bank_line(acct, d, outflow=self.cents(500, 30000), memo=r.choice(["支付货款", "支付维修费", "转账支付", "支付水电费"]),
                                   cp=r.choice(self.bg_payees), cp_acct=self.acct_no("62"), book=r.randint(0, 3))

    # -- plants ----------------------------------------------------------------
    def plants(self) -> None:
        U = self.units
        u0, u5, u6, u7 = U[0], U[5], U[6], U[7]
        pp = lambda: next(self.plant_payees)  # noqa: E731
        P = lambda p: (lambda: f"payments:{p['payment_id']}")  # noqa: E731

        # IF01 budget lines not spent
        def old_budget(u, issued, amount, paid, hit, fy=None):
            b = self.budget(u, issued, amount, "往年结转项目", fy)
            if paid:
                self.payment(u, paid, workday(issued + 30 * DAY), budget=b)
            if hit:
                self.plant("IF01", u["code"], f"budget:{b['budget_id']}", exposure=amount - paid)
            return b
        old_budget(u0, D(2023, 6, 30), 8_000_000, 7_000_000, True)    # unspent 10000.00 exactly
        old_budget(u5, D(2023, 6, 30), 8_000_000, 7_000_001, False)   # unspent 9999.99
        old_budget(u6, AS_OF - 366 * DAY, 4_000_000, 0, True)         # age 366
        old_budget(u7, AS_OF - 365 * DAY, 4_000_000, 0, False, FY)    # age 365 (FY budget < DP03 min)
        old_budget(u0, D(2022, 3, 1), 12_000_000, 0, True)            # age > 730, high

        # DP03 spending behind schedule (FY budgets)
        def fy_budget(u, amount, paid, hit):
            b = self.budget(u, D(FY, 4, 15), amount, "年度专项资金")
            if paid:
                self.payment(u, paid, D(FY, 7, 10), budget=b)
            if hit:  # the year has ended: time progress 1, exposure = amount − paid
                self.plant("DP03", u["code"], f"budget:{b['budget_id']}", exposure=amount - paid)
        fy_budget(u0, 5_000_000, 3_999_999, True)    # share 0.7999998
        fy_budget(u5, 5_000_000, 4_000_000, False)   # share exactly 0.80
        fy_budget(u6, 4_999_999, 0, False)           # below min_amount
        fy_budget(u7, 20_000_000, 10_000_000, True)  # 50 %

        # IF02 dormant special accounts; SF01 unregistered / closed accounts
        def special(u, lines, hit, typ="专用存款账户", closed=None, registered=True, rule="IF02"):
            no = self.acct_no("62")
            self.bank_unit[no] = u["code"]
            if registered:
                self.accounts.append({"unit_code": u["code"], "account_no": no,
                                      "account_name": f"{u['name']}专户", "bank_name": "某县农村商业银行",
                                      "account_type": typ, "opened_on": D(2021, 1, 5), "closed_on": closed})
            for d, i, o in lines:
                self.bank_line(no, d, inflow=i, outflow=o, memo="专项资金拨入" if i else "专项资金支出",
                               cp="县财政局" if i else pp(), book=1)
            if hit:  # IF02: the last balance; SF01: the inflows of its lines after closure (else outflows)
                if rule == "IF02":
                    stake = sum(i - o for d, i, o in lines if d <= AS_OF)
                else:
                    bad = [(i, o) for d, i, o in lines if d <= AS_OF and (closed is None or d > closed)]
                    stake = sum(i for i, _ in bad) or sum(o for _, o in bad)
                self.plant(rule, u["code"], f"accounts:{no}", exposure=stake)
            return no
        # (these and u7's below have no bank line in the last 365 days: idle accounts, IF05, too)
        no = special(u0, [(D(2022, 3, 1), 13_000_000, 0), (D(2022, 9, 1), 0, 3_000_000)], True)  # 100000.00
        self.plant("IF05", u0["code"], f"accounts:{no}", exposure=10_000_000)
        no = special(u5, [(D(2022, 3, 1), 12_999_999, 0), (D(2022, 9, 1), 0, 3_000_000)], False)  # 99999.99
        self.plant("IF05", u5["code"], f"accounts:{no}", exposure=9_999_999)
        special(u6, [(D(2023, 2, 1), 30_000_000, 0), (AS_OF - 366 * DAY, 0, 1_500_000),
                     (D(2024, 3, 1), 200_000, 0)], True)  # last outflow 366 days before
        no = special(u7, [(D(2023, 2, 1), 60_000_000, 0), (AS_OF - 365 * DAY, 0, 1_000_000)], False)
        self.plant("IF05", u7["code"], f"accounts:{no}", exposure=59_000_000)  # idle exactly 365 days
        special(u0, [(D(FY, 3, 3), 2_345_600, 0), (D(FY, 5, 8), 0, 1_200_000), (D(FY, 8, 8), 0, 1_145_600)],
                True, registered=False, rule="SF01")
        special(u5, [(D(FY, 2, 1), 5_000_000, 0), (D(FY, 6, 30), 0, 5_000_000), (D(FY, 7, 5), 120_000, 0),
                     (D(FY, 7, 6), 0, 120_000)], True, typ="其他", closed=D(FY, 6, 30), rule="SF01")
        special(u6, [(D(FY, 1, 10), 800_000, 0), (D(FY, 3, 31), 0, 800_000)], False, typ="其他",
                closed=D(FY, 3, 31), rule="SF01")

        # SF02 bank lines not in the books
        def sf02(u, d, amt, inflow, gap, hit):
            kw = {"inflow": amt} if inflow else {"outflow": amt}
            line = self.bank_line(u["basic"], d, memo="转账", cp=pp(), cp_acct=self.acct_no("62"),
                                  book=gap, **kw)
            if hit:
                self.plant("SF02", u["code"], lambda: f"bank_txns:{line['txn_id']}", exposure=amt)
            return line
        sf02(u0, D(FY, 5, 20), 2_345_678, False, None, True)   # never booked
        sf02(u5, D(FY, 6, 3), 876_543, True, 11, True)         # booked 11 days later
        sf02(u6, D(FY, 6, 3), 3_456_789, False, 10, False)     # booked 10 days later: matched
        sf02(u7, D(FY, 9, 10), 432_109, False, 0, False)       # one-to-one: this one matched
        sf02(u7, D(FY, 9, 15), 432_109, False, None, True)     # ... this one not

        # SF04 large cash withdrawals
        def sf04(u, d, amt, memo, hit):
            line = self.bank_line(u["basic"], d, outflow=amt, memo=memo, cp=u["name"], book=0)
            if hit:
                self.plant("SF04", u["code"], lambda: f"bank_txns:{line['txn_id']}", exposure=amt)
        sf04(u0, D(FY, 4, 12), 5_000_000, "提取现金", True)
        sf04(u5, D(FY, 4, 12), 4_999_999, "提现", False)
        sf04(u6, D(FY, 8, 12), 8_000_000, "备用金", True)
        sf04(u7, D(FY, 8, 12), 6_000_000, "转账支付工程款", False)

        # SF03 income parked in 2305/2307 (booked with a bank inflow)
        def sf03(u, d, amt, code, summary, hit):
            self.bank_line(u["basic"], d, inflow=amt, memo=summary, cp=pp(), book=None)
            v = self.voucher(u["code"], d, [("1002", summary, amt, 0, ""), (code, summary, 0, amt, "某承租人")])
            if hit:
                self.plant("SF03", u["code"], lambda: f"ledger:{v['voucher_no']}#2", exposure=amt)
        sf03(u0, D(FY, 3, 18), 1_000_000, "2307", "收取门面房租金", True)
        sf03(u5, D(FY, 3, 18), 999_999, "2307", "收取门面房租", False)
        sf03(u6, D(FY, 10, 9), 3_500_000, "2305", "处置废旧车辆变卖款", True)
        sf03(u7, D(FY, 10, 9), 5_000_000, "2307", "收到工程质量保证金", False)

        # IF04 long-outstanding current accounts
        def if04(u, code, cp, dated, hit):
            for d, dr, cr in dated:
                other = ("1002", 0, dr) if dr else ("1002", cr, 0)
                self.voucher(u["code"], d, [(code, f"往来款 {cp}", dr, cr, cp),
                                            (other[0], f"往来款 {cp}", other[1], other[2], "")])
            if hit:
                sign = 1 if code.startswith("1") else -1
                self.plant("IF04", u["code"], f"balances:{code[:4]}/{cp}",
                           exposure=sum(sign * (dr - cr) for _, dr, cr in dated))
        a, b_, c, d_, e = pp(), pp(), pp(), pp(), pp()
        if04(u0, "121801", a, [(D(2021, 5, 10), 5_000_000, 0)], True)
        if04(u5, "2307", b_, [(D(2022, 3, 15), 0, 1_000_000)], True)              # 10000.00 exactly
        if04(u6, "1214", c, [(D(2021, 7, 1), 999_999, 0)], False)                # 9999.99
        if04(u7, "1218", d_, [(D(2021, 1, 4), 3_000_000, 0), (AS_OF - 730 * DAY, 100, 0)], False)
        if04(u0, "1218", e, [(D(2021, 1, 4), 3_000_000, 0), (AS_OF - 731 * DAY, 100, 0)], True)

        # payment-level plants (units 0, 5, 6, 7)
        plant_budgets: dict[str, dict] = {}

        def pay(u, amt, d, payee=None, rules=(), stake=None, interest=None, **kw):
            """A payment planted for ``rules``; it puts its amount at stake unless ``stake``
            ({rule: cents}) says otherwise; ``interest`` ({rule: cents}) for DP01/DP02."""
            if u["code"] not in plant_budgets:
                plant_budgets[u["code"]] = self.budget(u, D(FY, 2, 1), None, "业务运转经费")
            p = self.payment(u, amt, d, payee or pp(), budget=plant_budgets[u["code"]], **kw)
            for rule in rules:
                self.plant(rule, u["code"], P(p), exposure=(stake or {}).get(rule, amt),
                           interest=(interest or {}).get(rule))
            return p
        # IF03 to own account / own name
        pay(u0, 1_234_500, D(FY, 5, 6), u0["name"], ("IF03",), payee_account=self.acct_no("62"))
        pay(u5, 2_000_000, D(FY, 5, 6), "基本户", ("IF03",), payee_account=u5["basic"])
        pay(u6, 1_500_000, D(FY, 5, 6), u6["name"] + "工会委员会")
        # SF09 to other units
        pay(u0, 3_000_000, D(FY, 6, 17), U[1]["name"], ("SF09",))
        pay(u6, 2_500_000, D(FY, 6, 17), "项目结算户", ("SF09",), payee_account=U[2]["basic"])
        pay(u7, 1_800_000, D(FY, 6, 17), U[1]["name"] + "食堂")
        # SF05 split payments
        x = pp()
        pay(u0, 2_600_000, D(FY, 9, 2), x, ("SF05",))
        pay(u0, 2_400_000, D(FY, 9, 3), x, ("SF05",))           # sum exactly 50000.00
        x = pp()
        pay(u5, 2_600_000, D(FY, 9, 2), x)
        pay(u5, 2_399_999, D(FY, 9, 3), x)                     # 49999.99
        x = pp()
        pay(u6, 3_000_000, D(FY, 9, 2), x, ("SF05",))
        pay(u6, 1_500_000, D(FY, 9, 4), x, ("SF05",))
        pay(u6, 1_200_000, D(FY, 9, 6), x, ("SF05",))
        x = pp()
        pay(u7, 3_000_000, D(FY, 9, 2), x)
        pay(u7, 2_500_000, D(FY, 9, 14), x)                    # 12 days apart
        x = pp()
        pay(u7, 5_000_000, D(FY, 10, 8), x)                    # not below limit
        pay(u7, 1_000_000, D(FY, 10, 9), x)
        # SF06 duplicates
        x = pp()
        pay(u0, 3_680_000, D(FY, 4, 8), x, ("SF06",), stake={"SF06": 0})  # the first of the set: 0
        pay(u0, 3_680_000, D(FY, 5, 8), x, ("SF06",))          # exactly 30 days
        x = pp()
        pay(u6, 1_234_560, D(FY, 4, 8), x, ("SF06",), stake={"SF06": 0})  # same day: the earlier id
        pay(u6, 1_234_560, D(FY, 4, 8), x, ("SF06",))
        x = pp()
        pay(u5, 3_680_000, D(FY, 4, 8), x)
        pay(u5, 3_680_000, D(FY, 5, 9), x)                     # 31 days
        x = pp()
        pay(u7, 2_000_001, D(FY, 4, 1), x)
        pay(u7, 2_000_000, D(FY, 4, 3), x)                     # one cent apart, sum < 50000
        # SF07 dressed-up expenses
        pay(u0, 1_000_000, D(FY, 7, 2), rules=("SF07",), expense="会议费", memo="召开工作会议")
        pay(u6, 4_800_000, D(FY, 7, 2), rules=("SF07",), expense="办公费", memo="业务咨询服务")
        pay(u5, 900_000, D(FY, 7, 2), expense="培训费", memo="干部培训")
        pay(u7, 1_050_000, D(FY, 7, 2), expense="劳务费", memo="劳务报酬")  # 10500.00: not a multiple of 1000
        pay(u7, 1_100_000, D(FY, 7, 22), rules=("SF07",), expense="劳务费", memo="劳务报酬")
        # DP01 late payments to SMEs (requested 2 days before payment)
        def dp01(u, days, term, hit, sme=True):
            paid, amt = D(FY, 8, 20), self.cents(5000, 40000)
            late = days - (min(term, 60) if term else 30)
            rules = (("DP01",) if hit else ()) + (("DP06",) if sme and term and term > 60 else ())
            pay(u, amt, paid, rules=rules, sme=sme, interest={"DP01": late_interest(amt, late)},
                accepted=paid - days * DAY, requested=paid - 2 * DAY, term=term)
        dp01(u0, 31, None, True)
        dp01(u5, 30, None, False)
        dp01(u6, 61, 90, True)
        dp01(u7, 60, 90, False)
        dp01(u0, 46, 45, True)
        dp01(u5, 45, 45, False)
        dp01(u6, 100, None, False, sme=False)
        # DP02 overdue and unpaid
        def dp02(u, days, term, hit, sme=True):
            amt = self.cents(5000, 40000)
            late = days - (min(term, 60) if term else 30)
            pay(u, amt, None, rules=("DP02",) if hit else (), sme=sme,
                interest={"DP02": late_interest(amt, late)},
                accepted=AS_OF - days * DAY, requested=None, term=term, book=False)
        dp02(u0, 31, None, True)
        dp02(u5, 30, None, False)
        dp02(u6, 61, 60, True)
        dp02(u7, 60, 60, False)
        dp02(u7, 200, None, False, sme=False)
        # DP04 slow processing
        def dp04(u, days, hit):
            paid = D(FY, 10, 28)
            pay(u, self.cents(3000, 40000), paid, rules=("DP04",) if hit else (),
                requested=paid - days * DAY, accepted=paid - (days + 3) * DAY)
        dp04(u0, 11, True)
        dp04(u5, 10, False)
        dp04(u6, 25, True)
        for b in plant_budgets.values():
            b["amount"] = b["paid"]
        self.plants_idle_delayed_v2()
        self.plants_slush_v2()

    def plants_slush_v2(self) -> None:
        """Planted cases of SF10–SF14 (issue 15) with near misses on each side of each threshold, on
        units 0, 5, 6 and 7.  Their payees are names of their own (never a company of the pools), so
        that SF05, SF06 and SF09 stay quiet; cash vouchers are a voucher series of their own (凭证字
        ``现``), so that SF14's gaps and near misses are exactly the planted ones."""
        U = self.units
        u0, u5, u6, u7 = U[0], U[5], U[6], U[7]

        def pay(u, amt, d, payee, rules=(), stake=None):
            p = self.payment(u, amt, d, payee, expense="办公费", memo="支付办公用品款")
            for rule in rules:
                self.plant(rule, u["code"], lambda p=p: f"payments:{p['payment_id']}",
                           exposure=(stake or {}).get(rule, amt))
            return p

        # SF10 cash withdrawals (SF04's words) adding up to month_limit 100000 in a month; each line
        # below SF04's 50000; the basic account is topped up first so that its balance stays positive
        def withdrawals(u, lines, hit):
            self.bank_line(u["basic"], lines[0][0] - 3 * DAY, inflow=20_000_000, memo="收到补助资金",
                           cp="县财政国库集中支付中心", book=0)
            for d, amt, memo in lines:
                line = self.bank_line(u["basic"], d, outflow=amt, memo=memo, cp=u["name"], book=0)
                if hit:
                    self.plant("SF10", u["code"], lambda line=line: f"bank_txns:{line['txn_id']}", exposure=amt)
        withdrawals(u5, [(D(FY, 3, 4), 4_000_000, "提取现金"), (D(FY, 3, 12), 3_000_000, "备用金"),
                         (D(FY, 3, 25), 3_000_000, "取现")], True)                      # exactly 100000.00
        withdrawals(u6, [(D(FY, 3, 4), 4_000_000, "提取现金"), (D(FY, 3, 12), 3_000_000, "备用金"),
                         (D(FY, 3, 25), 2_999_999, "取现")], False)                     # 99999.99
        withdrawals(u7, [(D(FY, 11, 4), 4_500_000, "提现"), (D(FY, 11, 14), 4_500_000, "提取现金"),
                         (D(FY, 11, 27), 2_000_000, "备用金")], True)                   # 110000.00
        withdrawals(u0, [(D(FY, 5, 30), 4_500_000, "提现"), (D(FY, 6, 3), 4_500_000, "提取现金"),
                         (D(FY, 6, 4), 2_000_000, "备用金")], False)                    # 45000 | 65000: two months

        # cash vouchers (凭证字 现): SF11 items paid in cash, and SF14's gaps in their numbering
        def cash(u, d, amt, summary, debit_cash=False):
            lines = ([("1001", summary, amt, 0, ""), ("4609", summary, 0, amt, "")] if debit_cash else
                     [("5001", summary, amt, 0, ""), ("1001", summary, 0, amt, "")])
            v = self.voucher(u["code"], d, lines)
            v["word"] = "现"
            return v

        def skip(u, d, n):
            """``n`` voucher numbers used up and never written (the missing vouchers of a gap)."""
            out = []
            for _ in range(n):
                v = self.voucher(u["code"], d, [])
                v["word"] = "现"
                out.append(v)
            return out

        def number(v):
            return int(v["voucher_no"].rsplit("-", 1)[1])

        def gap(u, missing):
            self.plant("SF14", u["code"], lambda: (f"vouchers:{missing[0]['voucher_no'].rsplit('-', 1)[0]}-/"
                                                   f"{missing[0]['date']:%Y-%m}/{number(missing[0])}-{number(missing[-1])}"),
                       exposure=0)

        def sf11(u, d, amt, summary, hit):
            v = cash(u, d, amt, summary)
            if hit:
                self.plant("SF11", u["code"], lambda: f"ledger:{v['voucher_no']}#2", exposure=amt)
        # u0: one missing number in March; the series runs on into April without a gap
        sf11(u0, D(FY, 3, 5), 100_000, "报销办公费", True)                 # exactly 1000.00
        cash(u0, D(FY, 3, 12), 50_000, "发放误餐补助")
        gap(u0, skip(u0, D(FY, 3, 15), 1))
        cash(u0, D(FY, 3, 20), 30_000, "零星采购")
        cash(u0, D(FY, 4, 2), 45_000, "零星采购")
        cash(u0, D(FY, 4, 9), 120_000, "收回备用金", debit_cash=True)
        # u5: near misses of SF11 (below the minimum; not an item); no gap
        sf11(u5, D(FY, 5, 6), 99_999, "报销办公费", False)                 # 999.99
        sf11(u5, D(FY, 5, 13), 500_000, "发放劳务报酬", False)             # not on the list
        # u6: three missing numbers in August; a number missing at the August/September boundary lies
        # between no month's smallest and largest number and is no gap (CONTRACT §3: per month)
        sf11(u6, D(FY, 8, 6), 350_000, "支付会议费", True)
        gap(u6, skip(u6, D(FY, 8, 12), 3))
        cash(u6, D(FY, 8, 20), 20_000, "零星采购")
        cash(u6, D(FY, 8, 30), 20_000, "零星采购")
        skip(u6, D(FY, 8, 31), 1)
        cash(u6, D(FY, 9, 3), 20_000, "零星采购")
        # u7: cash received naming an item (a debit, not a payment); travel expenses paid in cash; two missing
        cash(u7, D(FY, 11, 4), 300_000, "退回差旅费", debit_cash=True)
        sf11(u7, D(FY, 11, 5), 280_000, "差旅费报销", True)
        gap(u7, skip(u7, D(FY, 11, 8), 2))
        cash(u7, D(FY, 11, 18), 15_000, "零星采购")

        # SF12 payments on rest days (min_amount 10000): a holiday, a Saturday, National Day; near misses on
        # an adjusted working Sunday (调休上班) and just below the minimum on a Sunday
        pay(u0, 2_345_600, D(FY, 2, 12), "城关惠民办公设备经营部", ("SF12",))      # 春节 (a Monday)
        pay(u5, 1_000_000, D(FY, 3, 16), "青山乐购文具经营部", ("SF12",))          # Saturday, exactly 10000.00
        pay(u6, 3_210_000, D(FY, 10, 3), "白沙联创电脑经营部", ("SF12",))          # 国庆节 (a Thursday)
        pay(u7, 2_000_000, D(FY, 2, 4), "河口顺达办公家具店")                    # adjusted working Sunday
        pay(u6, 2_500_000, D(FY, 4, 7), "石桥新意广告制作部")                    # adjusted working Sunday
        pay(u0, 999_999, D(FY, 3, 17), "龙泉晨光文化用品店")                     # Sunday, 9999.99

        # SF13 near-duplicate payees (same amount within window_days 30, edit distance <= 1, names >= 4)
        pay(u0, 2_345_678, D(FY, 7, 8), "新华华泰商贸有限公司", ("SF13",), {"SF13": 0})
        pay(u0, 2_345_678, D(FY, 7, 15), "新华华秦商贸有限公司", ("SF13",))         # distance 1: the later
        pay(u6, 1_876_540, D(FY, 8, 5), "东岗 鑫源印刷有限公司", ("SF13",), {"SF13": 0})
        pay(u6, 1_876_540, D(FY, 9, 4), "东岗鑫原印刷有限公司", ("SF13",))          # spaces aside distance 1; 30 days
        pay(u5, 1_543_210, D(FY, 7, 8), "西塘恒信建筑工程有限公司")
        pay(u5, 1_543_210, D(FY, 7, 12), "西塘永信建造工程有限公司")               # distance 2
        pay(u7, 876_500, D(FY, 7, 8), "张小明")
        pay(u7, 876_500, D(FY, 7, 10), "张晓明")                                    # 3 characters
        pay(u5, 1_654_320, D(FY, 8, 5), "南湖博远商贸有限公司")
        pay(u5, 1_654_320, D(FY, 9, 5), "南湖博达商贸有限公司")                     # 31 days
        pay(u7, 1_765_430, D(FY, 8, 5), "北岭嘉禾商贸有限公司")
        pay(u7, 1_765_431, D(FY, 8, 9), "北岭嘉和商贸有限公司")                     # one cent apart

    def plants_idle_delayed_v2(self) -> None:
        """Planted cases of IF05, IF06, IF07, DP06 and DP07 (issue 15) with near misses on each side
        of each threshold, on units 0, 5, 6 and 7.  Payments fall on working days (SF12), to payees
        of their own (SF05/SF06/SF13); the budget lines stay under DP03's and IF01's thresholds."""
        U = self.units
        u0, u5, u6, u7 = U[0], U[5], U[6], U[7]
        pp = lambda: next(self.plant_payees)  # noqa: E731

        # IF05 idle accounts: registered, open at as_of, no bank movement in (as_of − 365, as_of]
        def idle(u, opened, lines, hit, closed=None):
            no = self.acct_no("62")
            self.bank_unit[no] = u["code"]
            self.accounts.append({"unit_code": u["code"], "account_no": no, "account_name": f"{u['name']}项目专户",
                                  "bank_name": "某县农村商业银行", "account_type": "专用存款账户",
                                  "opened_on": opened, "closed_on": closed})
            for d, i, o in lines:
                self.bank_line(no, d, inflow=i, outflow=o, memo="项目资金拨入" if i else "项目资金支出",
                               cp="县财政局" if i else pp(), book=1)
            if hit:  # the last balance on or before as_of; 0 for an account without lines
                self.plant("IF05", u["code"], f"accounts:{no}",
                           exposure=sum(i - o for d, i, o in lines if d <= AS_OF))
        old = [(D(2021, 4, 1), 5_432_100, 0)]
        idle(u0, D(2020, 5, 1), old + [(AS_OF - 365 * DAY, 0, 1_000_000)], True)   # idle exactly 365 days
        idle(u5, D(2020, 5, 1), old + [(AS_OF - 364 * DAY, 0, 1_000_000)], False)  # 364 days
        idle(u6, D(2019, 3, 1), [], True)                                          # never used: balance 0
        idle(u7, AS_OF - 365 * DAY, [], True)                                      # opened exactly 365 days before
        idle(u0, AS_OF - 364 * DAY, [], False)                                     # opened 364 days before
        idle(u5, D(2020, 5, 1), old, False, closed=AS_OF)                          # closed on as_of
        idle(u6, D(2020, 5, 1), old, True, closed=AS_OF + DAY)                     # closed after as_of: open
        idle(u7, D(2020, 5, 1), old + [(D(2025, 1, 10), 0, 432_100)], True)        # a line after the cut-off

        # IF06 projects with low execution in 2023 and 2024 (years 2, max_rate 0.5, min_amount 100000):
        # each line (amount, paid that year, paid the next year); 2024 lines stay below DP03's 50000 and
        # 2023 lines are paid in full by as_of (IF01)
        def project(u, years: dict, hit, stake=0):
            code = f"XM{u['code']}{self.next_seq():05d}"
            for year, lines in years.items():
                for amount, in_year, later in lines:
                    b = self.budget(u, D(year, 2, 20), amount, "连续执行项目", year)
                    b["project_code"] = code
                    for cents, day in ((in_year, D(year, 6, 15) if year == 2023 else D(year, 6, 13)),
                                       (later, D(year + 1, 3, 14))):
                        if cents:
                            self.payment(u, cents, day, pp(), budget=b)
            if hit:
                self.plant("IF06", u["code"], f"projects:{code}", exposure=stake)
        project(u0, {2023: [(12_000_000, 5_000_000, 7_000_000)],
                     2024: [(4_000_000, 2_000_000, 0), (3_000_000, 0, 0)]}, True, 5_000_000)
        project(u5, {2023: [(10_000_000, 3_000_000, 7_000_000)],
                     2024: [(4_000_000, 4_000_000, 0), (4_000_000, 0, 0)]}, False)          # 2024 exactly 50 %
        project(u6, {2023: [(6_000_000, 2_999_999, 3_000_001), (6_000_000, 3_000_000, 3_000_000)],
                     2024: [(4_500_000, 2_249_999, 0)]}, True, 2_250_001)                    # just below 50 %
        project(u7, {2023: [(6_000_000, 0, 6_000_000)], 2024: [(3_999_999, 0, 0)]}, False)  # 99999.99 in all
        project(u7, {2023: [(6_000_000, 1_000_000, 5_000_000)], 2024: [(4_000_000, 0, 0)]}, True, 4_000_000)
        project(u0, {2023: [(8_000_000, 8_000_000, 0)], 2024: [(4_500_000, 0, 0)]}, False)  # one low year only

        # IF07 large prepayments (1214 debits) in the fourth quarter, paid from the zero-balance account
        def prepay(u, d, cents, hit, code="121401", debit=True):
            cp = pp()
            lines = [(code, f"预付{cp}合同款", cents, 0, cp), ("1011", f"预付{cp}合同款", 0, cents, "")]
            if not debit:  # a refund of a prepayment: credit 1214
                lines = [("1011", f"收回{cp}预付款", cents, 0, ""), (code, f"收回{cp}预付款", 0, cents, cp)]
            v = self.voucher(u["code"], d, lines)
            if hit:
                self.plant("IF07", u["code"], lambda: f"ledger:{v['voucher_no']}#1", exposure=cents)
        prepay(u0, D(FY, 10, 1), 10_000_000, True)      # exactly the minimum, on 1 October
        prepay(u5, D(FY, 10, 2), 9_999_999, False)      # one fen below
        prepay(u6, D(FY, 9, 30), 50_000_000, False)     # 30 September
        prepay(u6, D(FY, 12, 31), 25_000_000, True)     # 31 December
        prepay(u7, D(FY, 11, 15), 25_000_000, False, debit=False)
        prepay(u7, D(FY, 11, 20), 30_000_000, False, code="121801")  # other receivables, not 1214
        prepay(u7, D(FY, 12, 5), 12_345_678, True)

        # DP06 SME contract terms over DP01's max_term_days (60); DP01's own plants with term 90 are
        # DP06 cases too.  Each payment is made well within its term (no DP01/DP02/DP04).
        contracts = {u["code"]: self.budget(u, D(FY, 2, 1), None, "合同款项") for u in (u0, u5, u6, u7)}

        def dp06(u, term, hit, paid=D(FY, 9, 12), accepted=None, sme=True):
            cents = self.cents(5000, 40000)
            accepted = accepted or (paid - 20 * DAY if paid else None)
            self.payment(u, cents, paid, pp(), budget=contracts[u["code"]], sme=sme, term=term,
                         accepted=accepted, requested=(paid - 2 * DAY) if paid else None,
                         book=bool(paid and paid <= AS_OF))
            if hit:
                p = self.payments[-1]
                self.plant("DP06", u["code"], lambda: f"payments:{p['payment_id']}", exposure=cents)
        dp06(u0, 61, True)
        dp06(u5, 60, False)
        dp06(u6, 75, True, paid=None, accepted=AS_OF - 10 * DAY)           # unpaid, accepted by as_of
        dp06(u0, 70, True, paid=D(2025, 1, 10), accepted=D(FY, 12, 20))    # paid after the cut-off
        dp06(u5, 90, False, paid=None, accepted=D(2025, 1, 6))             # accepted after the cut-off
        dp06(u7, 120, False, sme=False)                                    # not an SME

        # DP07 budget lines of FY (≥ 100000) whose Nov+Dec payments exceed half of the year's; November
        # only, so that DP05's December shares stay as december() sets them
        def dp07(u, amount, pays, hit):
            b = self.budget(u, D(FY, 2, 20), amount, "年度设备更新")
            for d, cents in pays:
                self.payment(u, cents, d, pp(), budget=b)
            if hit:
                self.plant("DP07", u["code"], f"budget:{b['budget_id']}",
                           exposure=sum(c for d, c in pays if d.month >= 11))
        dp07(u0, 25_000_001, [(D(FY, 5, 15), 10_000_000), (D(FY, 11, 12), 15_000_001)], True)
        dp07(u5, 20_000_000, [(D(FY, 6, 12), 10_000_000), (D(FY, 11, 13), 10_000_000)], False)  # exactly 50 %
        dp07(u6, 12_000_000, [(D(FY, 7, 10), 4_999_999), (D(FY, 11, 14), 5_000_000)], True)
        dp07(u7, 9_999_999, [(D(FY, 11, 19), 9_999_999)], False)                                 # below the minimum
        dp07(u7, 10_000_000, [(D(FY, 10, 31), 6_000_000), (D(FY, 11, 1), 4_000_000)], False)     # 31 Oct vs 1 Nov
        for b in contracts.values():
            b["amount"] = b["paid"]

    def benford_unit(self, u: dict, n: int, skewed: bool, hit: bool) -> None:
        r = self.r
        if skewed:
            digits = [r.choice([4, 4, 4, 5]) for _ in range(n)]
        else:
            probs = [math.log10(1 + 1 / d) for d in range(1, 10)]
            counts = [round(n * p) for p in probs]
            counts[0] += n - sum(counts)
            digits = [d for d, c in zip(range(1, 10), counts) for _ in range(c)]
            r.shuffle(digits)
        b = self.budget(u, D(FY, 1, 10), None, "日常运转经费")
        used: dict[str, list[dt.date]] = {}
        dates = sorted(workday(D(FY, 1, 15) + r.randint(0, 310) * DAY) for _ in range(n))
        for d, digit in zip(dates, digits):
            scale = r.choice([100, 1000, 10000]) if digit < 5 else r.choice([100, 1000])
            while True:
                amt = digit * scale * 100 + r.randint(1, scale * 100 - 1)
                if amt % 100:
                    break
            for _ in range(200):
                payee = r.choice(self.bg_payees)
                if all((d - x).days > 40 for x in used.get(payee, ())):
                    break
            else:  # pragma: no cover
                raise RuntimeError("payee pool exhausted")
            used.setdefault(payee, []).append(d)
            self.payment(u, amt, d, payee, budget=b, expense="专用材料费")
        b["amount"] = -(-int(b["paid"] / 0.95) // 100) * 100
        if hit:  # an indicator: nothing at stake
            self.plant("SF08", u["code"], f"units:{u['code']}", exposure=0)

    def december(self, u: dict, num: int, den: int, extra_cent: int, hit: bool) -> None:
        """Make the unit's December share of FY payments exactly num/den (+ extra cents)."""
        fy = [p for p in self.payments if p["unit_code"] == u["code"] and p["paid_on"]
              and p["paid_on"].year == FY]
        dec = sum(p["amount"] for p in fy if p["paid_on"].month == 12)
        other = sum(p["amount"] for p in fy if p["paid_on"].month != 12)
        b = self.budget(u, D(FY, 11, 20), None, "年末设备购置")
        # make `other` divisible by (den - num) so that dec/(dec+other) == num/den exactly
        adj = (-other) % (den - num)
        if adj:
            adj += (den - num) * 10000
            self.payment(u, adj, D(FY, 11, 25), next(self.plant_payees), budget=b, expense="设备购置")
            other += adj
        target = other * num // (den - num) + extra_cent
        add = target - dec
        assert add > 0
        self.payment(u, add, D(FY, 12, 18), next(self.plant_payees), budget=b, expense="设备购置")
        b["amount"] = b["paid"]
        if hit:  # December's payments − 30 % of the year's, rounded half up, once every payment is made
            def excess(code=u["code"]):
                fy_paid = [p for p in self.payments if p["unit_code"] == code and p["paid_on"]
                           and p["paid_on"].year == FY and p["paid_on"] <= AS_OF]
                dec_total = sum(p["amount"] for p in fy_paid if p["paid_on"].month == 12)
                year_total = sum(p["amount"] for p in fy_paid)
                return _half_up(Fraction(dec_total) - Fraction(3, 10) * year_total)
            self.plant("DP05", u["code"], f"units:{u['code']}", exposure=excess)
        # the year-end line itself is paid wholly in Nov/Dec: DP07 when it reaches DP07's minimum
        if b["amount"] >= 10_000_000:
            self.plant("DP07", u["code"], f"budget:{b['budget_id']}", exposure=b["paid"])

    # -- finalize --------------------------------------------------------------
    def finalize(self) -> None:
        self.payments.sort(key=lambda p: (p["unit_code"], p["paid_on"] or p["accepted_on"], p["seq"]))
        for i, p in enumerate(self.payments, 1):
            p["payment_id"] = f"ZF{FY}{i:07d}"
        n = 0
        self.bank_rows = []
        for acct in sorted(self.bank, key=lambda a: (self.bank_unit[a], a)):
            lines = sorted(self.bank[acct], key=lambda l: (l["date"], l["seq"]))
            bal = 0
            for l in lines:
                n += 1
                bal += l["in"] - l["out"]
                assert bal >= 0, (acct, l)
                l["txn_id"] = f"LS{l['date']:%Y%m%d}{n:07d}"
                l["balance"] = bal
                self.bank_rows.append((self.bank_unit[acct], acct, l))
        self.ledger_rows = []
        for u in self.units:
            vs = sorted(self.vouchers.get(u["code"], []), key=lambda v: (v["date"], v["seq"]))
            count: dict[tuple[str, int], int] = {}  # per voucher word (凭证字) and year
            for v in vs:
                y, word = v["date"].year, v.get("word", "记")
                count[word, y] = count.get((word, y), 0) + 1
                v["voucher_no"] = f"{word}-{y}-{count[word, y]:04d}"
                for i, (code, summ, dr, cr, cp) in enumerate(v["lines"], 1):
                    self.ledger_rows.append((u["code"], v["date"], v["voucher_no"], i, code, summ, dr, cr, cp))


def _csv_bytes(header: list[str], rows: list[list], encoding: str) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode(encoding)


def _d(x, fmt="%Y-%m-%d") -> str:
    return "" if x is None else x.strftime(fmt)


def _cn_date(x) -> str:
    return "" if x is None else f"{x.year}年{x.month}月{x.day}日"


def _truth_rows(planted) -> list[list[str]]:
    """truth.csv's rows, sorted, one per (rule, unit, ref): exposure and interest as exact yuan
    text (interest empty when the rule gives none).  A case planted twice must agree with itself."""
    def value(x):
        x = x() if callable(x) else x
        return "" if x is None else money(int(x))

    rows: dict[tuple[str, str, str], tuple[str, str]] = {}
    for rule, unit, ref, exposure, interest in planted:
        key = (rule, unit, ref() if callable(ref) else ref)
        amounts = (value(exposure), value(interest))
        assert rows.setdefault(key, amounts) == amounts, (key, rows[key], amounts)
        rows[key] = amounts
    return [[*key, *rows[key]] for key in sorted(rows)]


def generate(out_dir, units: int = 8, seed: int = 2024) -> SampleSummary:
    """Write a synthetic county with planted findings to ``out_dir``."""
    if units < MIN_UNITS:
        raise AuditlibError(f"the sample county needs at least {MIN_UNITS} units to plant every rule "
                            f"(样例数据至少需要 {MIN_UNITS} 个单位), got {units}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    c = _County(units, seed)
    c.make_units()
    U = c.units
    special = {1, 2, 3, 4}
    for i, u in enumerate(U):
        if i not in special:
            c.background(u, c.r.randint(25, 45))
    # units 1-4: Benford screen (two planted, two near misses) with a clean bank statement
    c.benford_unit(U[1], 320, True, True)
    c.benford_unit(U[2], 360, True, True)
    c.benford_unit(U[3], 299, True, False)
    c.benford_unit(U[4], 500, False, False)
    for u in U[1:5]:
        c.bank_line(u["basic"], D(FY, 1, 2), inflow=30_000_000, memo="上年结转资金划入", cp="县财政局", book=0)
        c.bank_line(u["basic"], D(FY, 6, 5), outflow=1_234_517, memo="支付水电费", cp="县供电公司", book=2)
    c.plants()
    # DP05 on units 5 (exactly 30 % + 1 cent), 6 (50 %); 7 exactly 30 % -> no finding
    c.december(U[5], 3, 10, 1, True)
    c.december(U[6], 1, 2, 0, True)
    c.december(U[7], 3, 10, 0, False)
    c.finalize()

    files = []

    def write(name, data: bytes):
        (out / name).write_bytes(data)
        files.append(name)

    # units.csv: UTF-8 with BOM, canonical headers
    write("units.csv", _csv_bytes(["unit_code", "unit_name", "supervisor_code"],
                                  [[u["code"], u["name"], u["sup"]] for u in U], "utf-8-sig"))
    # accounts.csv: GBK, Chinese headers and Chinese account types
    write("accounts.csv", _csv_bytes(
        ["单位编码", "账号", "户名", "开户银行", "账户类型", "开户日期", "销户日期"],
        [[a["unit_code"], a["account_no"], a["account_name"], a["bank_name"], a["account_type"],
          _d(a["opened_on"], "%Y/%m/%d"), _d(a["closed_on"], "%Y/%m/%d")] for a in c.accounts], "gbk"))
    # 指标.csv: UTF-8, Chinese headers, money 1,234.50, dates 2024年3月5日
    write("指标.csv", _csv_bytes(
        ["单位编码", "指标编号", "项目编码", "项目名称", "资金性质", "是否专项", "指标金额", "下达日期", "预算年度"],
        [[b["unit_code"], b["budget_id"], b["project_code"], b["project_name"], b["fund_type"],
          "是" if b["is_special"] else "否", money(b["amount"], "comma"), _cn_date(b["issued_on"]),
          b["fiscal_year"]] for b in c.budgets], "utf-8"))
    # payments: even units in payments.xlsx (date cells), odd units in 支付明细.csv (¥, Chinese headers)
    import xlsxwriter
    pay_cols = ["unit_code", "payment_id", "budget_id", "payee_name", "payee_account", "payee_is_sme",
                "contract_id", "expense_type", "amount", "accepted_on", "requested_on", "paid_on",
                "term_days", "memo"]
    even = {u["code"] for i, u in enumerate(U) if i % 2 == 0}
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.set_properties({"created": dt.datetime(2025, 1, 15, 9, 0, 0), "author": "auditlib synth"})
    ws = wb.add_worksheet("支付明细")
    datef = wb.add_format({"num_format": "yyyy-mm-dd"})
    moneyf = wb.add_format({"num_format": "#,##0.00"})
    ws.write_row(0, 0, pay_cols)
    row = 1
    csv_rows = []
    for p in c.payments:
        if p["unit_code"] in even:
            for j, col in enumerate(pay_cols):
                v = p[col]
                if col in ("accepted_on", "requested_on", "paid_on"):
                    if v is not None:
                        ws.write_datetime(row, j, dt.datetime(v.year, v.month, v.day), datef)
                elif col == "amount":
                    ws.write_number(row, j, v / 100, moneyf)
                elif col == "payee_is_sme":
                    ws.write_string(row, j, "Y" if v else "N")
                elif col == "term_days":
                    if v is not None:
                        ws.write_number(row, j, v)
                else:
                    ws.write_string(row, j, str(v))
            row += 1
        else:
            csv_rows.append([p["unit_code"], p["payment_id"], p["budget_id"], p["payee_name"],
                             p["payee_account"], "是" if p["payee_is_sme"] else "", p["contract_id"],
                             p["expense_type"], money(p["amount"], "yen"), _d(p["accepted_on"], "%Y/%m/%d"),
                             _d(p["requested_on"], "%Y/%m/%d"), _d(p["paid_on"], "%Y/%m/%d"),
                             "" if p["term_days"] is None else p["term_days"], p["memo"]])
    wb.close()
    write("payments.xlsx", buf.getvalue())
    write("支付明细.csv", _csv_bytes(
        ["单位编码", "支付凭证号", "指标编号", "收款人名称", "收款账号", "是否中小企业", "合同编号",
         "经济分类", "支付金额", "验收日期", "申请日期", "支付日期", "约定付款期限", "摘要"], csv_rows, "utf-8-sig"))
    # ledger: even units ledger.csv (UTF-8, canonical), odd units 凭证.csv (GBK, Chinese, 1,234.50);
    # each file ends with a 合计 row
    lrows, grows = [], []
    for (uc, d, vno, ln, code, summ, dr, cr, cp) in c.ledger_rows:
        name = ACCOUNT_NAMES.get(code[:4], "")
        if uc in even:
            lrows.append([uc, _d(d), vno, ln, code, name, summ, money(dr) if dr else "",
                          money(cr) if cr else "", cp])
        else:
            grows.append([uc, _d(d, "%Y%m%d"), vno, ln, code, name, summ, money(dr, "comma") if dr else "",
                          money(cr, "comma") if cr else "", cp])
    ltot = sum(dr for (uc, *_x, dr, cr, cp) in c.ledger_rows if uc in even)
    gtot = sum(dr for (uc, *_x, dr, cr, cp) in c.ledger_rows if uc not in even)
    lrows.append(["", "", "", "", "", "", "合计", money(ltot), money(ltot), ""])
    grows.append(["", "", "", "", "", "", "本年累计", money(gtot, "comma"), money(gtot, "comma"), ""])
    write("ledger.csv", _csv_bytes(["unit_code", "voucher_date", "voucher_no", "line_no", "account_code",
                                    "account_name", "summary", "debit", "credit", "counterparty"],
                                   lrows, "utf-8"))
    write("凭证.csv", _csv_bytes(["单位编码", "凭证日期", "凭证号", "分录号", "科目编码", "科目名称", "摘要",
                                  "借方金额", "贷方金额", "往来单位"], grows, "gbk"))
    # bank_txns.csv: UTF-8, canonical headers, dates 20240305
    write("bank_txns.csv", _csv_bytes(
        ["unit_code", "account_no", "txn_id", "txn_date", "inflow", "outflow", "balance",
         "counterparty_name", "counterparty_account", "memo"],
        [[uc, acct, l["txn_id"], _d(l["date"], "%Y%m%d"), money(l["in"]) if l["in"] else "",
          money(l["out"]) if l["out"] else "", money(l["balance"]), l["cp"], l["cp_acct"], l["memo"]]
         for uc, acct, l in c.bank_rows], "utf-8"))
    truth = _truth_rows(c.truth)
    write("truth.csv", _csv_bytes(["rule_id", "unit_code", "ref", "exposure", "interest"], truth, "utf-8"))

    counts = {"units": len(U), "accounts": len(c.accounts), "budget": len(c.budgets),
              "payments": len(c.payments), "ledger": len(c.ledger_rows), "bank_txns": len(c.bank_rows)}
    return SampleSummary(str(out), seed, counts, len(truth), files)
