"""The rule catalogue of CONTRACT §3 as data: id, inspection, titles, basis and parameters.

Each rule's parameters carry their type, default and allowed range; parameter
files are validated against them (:mod:`auditlib.params`) and the interactive
panel builds its controls from them.  The queries that find the cases are added
to each rule by the rule engine.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

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

    def title(self, lang: str = "zh") -> str:
        return self.title_zh if lang == "zh" else self.title_en

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
          _days("recover_days", 730, "收回年限(天)", "age at which funds are recovered (days)"))),
    Rule("IF02", "idle_funds", "银行账户资金长期闲置", "Dormant bank balance",
         "财预〔2013〕372号；《预算单位银行账户管理办法》",
         (_money("min_balance", 100000, "余额下限(元)", "minimum balance (yuan)"),
          _days("dormant_days", 365, "无支出天数", "days without an outflow"))),
    Rule("IF03", "idle_funds", "向本单位实有资金账户划转资金", "Money moved to the unit's own account",
         "财预〔2013〕372号"),
    Rule("IF04", "idle_funds", "往来款长期挂账", "Long-outstanding current account",
         "《政府会计制度》；财预〔2015〕15号",
         (_money("min_amount", 10000, "挂账余额下限(元)", "minimum open balance (yuan)"),
          _days("stale_days", 730, "无发生额天数", "days without a ledger line"))),
    Rule("SF01", "slush_funds", "未登记或已销户账户仍有收支", "Account not registered",
         "《预算单位银行账户管理办法》；中办发〔2009〕18号"),
    Rule("SF02", "slush_funds", "银行收支未入账", "Bank line not in the books",
         "《会计法》第十六条；中办发〔2009〕18号",
         (_days("window_days", 10, "匹配日期窗口(天)", "matching window (days)", 365),)),
    Rule("SF03", "slush_funds", "收入挂往来款", "Income parked in a liability",
         "《会计法》第十六条；《政府会计制度》",
         (_money("min_amount", 10000, "贷方金额下限(元)", "minimum credit (yuan)"),)),
    Rule("SF04", "slush_funds", "大额提取现金", "Large cash withdrawal",
         "《现金管理暂行条例》；《党政机关厉行节约反对浪费条例》",
         (_money("min_amount", 50000, "提现金额下限(元)", "minimum withdrawal (yuan)"),)),
    Rule("SF05", "slush_funds", "化整为零拆分支付", "Split payments",
         "《政府采购法》第二十八条",
         (_money("limit", 50000, "限额(元)", "limit (yuan)"),
          _days("window_days", 7, "时间窗口(天)", "window (days)", 365))),
    Rule("SF06", "slush_funds", "重复支付", "Duplicate payment",
         "《会计基础工作规范》",
         (_days("window_days", 30, "时间窗口(天)", "window (days)", 365),)),
    Rule("SF07", "slush_funds", "以会议费、培训费、劳务费、咨询费名义套取资金", "Dressed-up expense",
         "中办发〔2009〕18号；《中央和国家机关会议费管理办法》",
         (_money("min_amount", 10000, "金额下限(元)", "minimum amount (yuan)"),
          _money("round_unit", 1000, "整数单位(元)", "round unit (yuan)", 10**8))),
    Rule("SF08", "slush_funds", "支付金额首位数字偏离本福特定律", "Benford screen of payment amounts",
         "Nigrini, Benford's Law (2012)；审计署计算机审计方法",
         (_ratio("max_mad", "0.015", "首位数字MAD上限", "largest first-digit MAD", hi="1"),
          Param("min_count", "count", 300, 1, 10**9, "最少金额笔数", "minimum number of amounts"))),
    Rule("SF09", "slush_funds", "上下级单位间转移资金", "Money moved between units",
         "中办发〔2009〕18号；财预〔2013〕372号"),
    Rule("DP01", "delayed_payments", "逾期支付中小企业款项", "Late payment to an SME",
         "《保障中小企业款项支付条例》第八条、第十五条", _DP_TERMS),
    Rule("DP02", "delayed_payments", "中小企业款项逾期未付", "Overdue and unpaid",
         "《保障中小企业款项支付条例》第八条、第十五条", _DP_TERMS),
    Rule("DP03", "delayed_payments", "支出进度滞后于序时进度", "Spending behind schedule",
         "《预算法》；财政部关于加快预算执行进度的要求",
         (_money("min_amount", 50000, "指标金额下限(元)", "minimum budget amount (yuan)"),
          _ratio("gap", "0.20", "允许滞后幅度", "allowed gap"))),
    Rule("DP04", "delayed_payments", "支付审批办理不及时", "Slow processing",
         "《国库集中支付管理办法》",
         (_days("max_days", 10, "办理天数上限", "longest processing time (days)", 365),)),
    Rule("DP05", "delayed_payments", "年底突击花钱", "Year-end rush",
         "《党政机关厉行节约反对浪费条例》；《预算法》",
         (_ratio("max_share", "0.30", "12月支出占比上限", "largest December share"),)),
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
