"""The laws the rules cite (法规依据): one table, each law's full title, issuer and versions.

A rule's ``basis`` (依据) and ``penalty_basis`` (处理依据) name laws in 《…》 by the short name
used here (《预算法》 for 《中华人民共和国预算法》), each followed by its article numbers.  Every
citation was checked against the published text of the version named here; a law not in
:data:`LAWS` is a typo, and :func:`unknown_laws` finds it.  Reports use the table for a
法规依据 appendix (:func:`laws_cited`).

A law revised with new article numbers (《保障中小企业款项支付条例》, revised with effect from
2025-06-01) is cited by the version in force on a finding's evidence date (CONTRACT §3): a rule
lists its bases by effective date (``Rule.basis_versions``, built from :class:`BasisVersion` and the
version tables here, e.g. :data:`SME_LATE`); :meth:`Rule.basis_for` picks the
one in force, and the engine adds it to each finding's evidence (columns ``basis`` and
``penalty_basis``).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

#: a citation's law name: the text between 《 and 》
_LAW = re.compile(r"《([^《》]+)》")
#: an article number: 第 + Chinese numerals + 条
ARTICLE = re.compile(r"第[零〇一二三四五六七八九十百]+条")


@dataclass(frozen=True)
class LawVersion:
    """One text of a law: its label, the document that published it, and the day it took effect."""

    label: str
    document: str
    effective: dt.date | None


@dataclass(frozen=True)
class Law:
    """A law as the rules cite it: short name (inside 《》), full title, issuer, kind and versions
    (oldest first; the last is the one in force)."""

    short: str
    title: str
    issuer: str
    kind: str
    versions: tuple[LawVersion, ...]

    @property
    def current(self) -> LawVersion:
        return self.versions[-1]

    def version_on(self, day: dt.date) -> LawVersion | None:
        """The version in force on ``day`` (None before the first took effect).  A version whose
        effective date is not recorded follows the one before it."""
        found = None
        for version in self.versions:
            if version.effective is None:
                if found is not None or version is self.versions[0]:
                    found = version
            elif version.effective <= day:
                found = version
        return found

    def describe(self, lang: str = "zh") -> str:
        """One line for a 法规依据 appendix: title, issuer, document and effective date."""
        v = self.current
        when = v.effective.isoformat() if v.effective else ""
        if lang == "zh":
            return f"《{self.title}》（{self.issuer}，{v.document}，{v.label}" + (f"，{when}起施行）" if when else "）")
        return f"《{self.title}》 ({self.issuer}, {v.document}, {v.label}" + (f", in force from {when})" if when else ")")


def _law(short, title, issuer, kind, *versions) -> tuple[str, Law]:
    return short, Law(short, title, issuer, kind, tuple(LawVersion(*v) for v in versions))


#: the laws the rules cite, by short name
LAWS: Mapping[str, Law] = dict([
    _law("预算法", "中华人民共和国预算法", "全国人民代表大会常务委员会", "法律",
         ("2014年修正", "中华人民共和国主席令第十二号", dt.date(2015, 1, 1)),
         ("2018年12月29日修正", "第十三届全国人民代表大会常务委员会第七次会议决定", None)),
    _law("预算法实施条例", "中华人民共和国预算法实施条例", "国务院", "行政法规",
         ("2020年修订", "国务院令第729号", dt.date(2020, 10, 1))),
    _law("会计法", "中华人民共和国会计法", "全国人民代表大会常务委员会", "法律",
         ("2017年修正", "第十二届全国人民代表大会常务委员会第三十次会议决定", dt.date(2017, 11, 5)),
         ("2024年修正", "第十四届全国人民代表大会常务委员会第十次会议决定", dt.date(2024, 7, 1))),
    _law("政府采购法", "中华人民共和国政府采购法", "全国人民代表大会常务委员会", "法律",
         ("2002年", "第九届全国人民代表大会常务委员会第二十八次会议通过", dt.date(2003, 1, 1)),
         ("2014年8月31日修正", "第十二届全国人民代表大会常务委员会第十次会议决定", None)),
    _law("政府采购法实施条例", "中华人民共和国政府采购法实施条例", "国务院", "行政法规",
         ("2015年", "国务院令第658号", dt.date(2015, 3, 1))),
    _law("财政违法行为处罚处分条例", "财政违法行为处罚处分条例", "国务院", "行政法规",
         ("2004年", "国务院令第427号", dt.date(2005, 2, 1)),
         ("2011年1月8日修订", "国务院令第588号", None)),
    _law("现金管理暂行条例", "现金管理暂行条例", "国务院", "行政法规",
         ("1988年", "国务院令第12号", dt.date(1988, 10, 1)),
         ("2011年1月8日修订", "国务院令第588号", None)),
    _law("保障中小企业款项支付条例", "保障中小企业款项支付条例", "国务院", "行政法规",
         ("2020年版", "国务院令第728号", dt.date(2020, 9, 1)),
         ("2025年修订版", "国务院令第802号", dt.date(2025, 6, 1))),
    _law("人民币银行结算账户管理办法", "人民币银行结算账户管理办法", "中国人民银行", "部门规章",
         ("2003年", "中国人民银行令〔2003〕第5号", dt.date(2003, 9, 1))),
    _law("财政部关于推进地方盘活财政存量资金有关事项的通知", "财政部关于推进地方盘活财政存量资金有关事项的通知",
         "财政部", "规范性文件",
         ("2015年", "财预〔2015〕15号", None)),
])


def cited(text: str) -> list[str]:
    """The law names cited in ``text`` (inside 《》), in order, each once."""
    return list(dict.fromkeys(_LAW.findall(text or "")))


def unknown_laws(text: str) -> list[str]:
    """The law names cited in ``text`` that :data:`LAWS` does not know (typos)."""
    return [name for name in cited(text) if name not in LAWS]


def articles(text: str) -> list[str]:
    """The article numbers (第…条) cited in ``text``, in order."""
    return ARTICLE.findall(text or "")


def laws_cited(rules: Iterable) -> list[Law]:
    """The laws the ``rules`` cite in their basis or penalty basis, in order of first citation:
    the rows of a 法规依据 appendix."""
    names: dict[str, None] = {}
    for rule in rules:
        for name in cited(f"{rule.basis}；{rule.penalty_basis}"):
            names.setdefault(name, None)
    return [LAWS[name] for name in names if name in LAWS]


# ---- bases that depend on the evidence date -----------------------------------------------------
@dataclass(frozen=True)
class BasisVersion:
    """A rule's basis and penalty basis under the law version in force from ``since``."""

    since: dt.date
    basis: str
    penalty_basis: str


#: the columns of a finding's evidence that date it, in order of preference (CONTRACT §3: a
#: finding cites the basis in force on ``accepted_on``, else ``paid_on``, else the row's date)
EVIDENCE_DATES = ("accepted_on", "paid_on", "requested_on", "txn_date", "voucher_date", "issued_on")

SME_2020 = dt.date(2020, 9, 1)
SME_2025 = dt.date(2025, 6, 1)

#: DP01 and DP02 (late payment to an SME and its interest): 2020 text 第八条、第九条、第十五条,
#: penalty 第二十五条第（一）项; revised text (from 2025-06-01) 第九条、第十条、第十七条, penalty
#: 第三十一条第（一）项
SME_LATE = (
    BasisVersion(SME_2020,
                 "《保障中小企业款项支付条例》（2020年版）第八条、第九条、第十五条",
                 "《保障中小企业款项支付条例》（2020年版）第二十五条第（一）项"),
    BasisVersion(SME_2025,
                 "《保障中小企业款项支付条例》（2025年修订版）第九条、第十条、第十七条",
                 "《保障中小企业款项支付条例》（2025年修订版）第三十一条第（一）项"),
)

#: DP04 (slow processing, when the payee is an SME): 2020 第十三条 / 第二十五条第（六）项,
#: revised 第十四条 / 第三十一条第（六）项
SME_PROCESSING = (
    BasisVersion(SME_2020,
                 "《保障中小企业款项支付条例》（2020年版）第十三条（收款人为中小企业时）",
                 "《保障中小企业款项支付条例》（2020年版）第二十五条第（六）项"),
    BasisVersion(SME_2025,
                 "《保障中小企业款项支付条例》（2025年修订版）第十四条（收款人为中小企业时）",
                 "《保障中小企业款项支付条例》（2025年修订版）第三十一条第（六）项"),
)

#: DP06 (a contract term over 60 days): 2020 第六条第一款 (no unreasonable payment terms) and
#: 第八条第一款 (a contract may set at most 60 days); revised 第七条第一款 and 第九条第一款.  Neither
#: text's penalty article lists this case, so no penalty basis.
SME_TERM = (
    BasisVersion(SME_2020,
                 "《保障中小企业款项支付条例》（2020年版）第六条第一款、第八条第一款", ""),
    BasisVersion(SME_2025,
                 "《保障中小企业款项支付条例》（2025年修订版）第七条第一款、第九条第一款", ""),
)


def version_on(versions, day: dt.date | None) -> BasisVersion:
    """The version of ``versions`` (oldest first) in force on ``day``: the latest when ``day`` is
    None, the earliest for a day before every version."""
    chosen = versions[0] if day is not None else versions[-1]
    for version in versions:
        if day is not None and version.since <= day:
            chosen = version
    return chosen


def evidence_day(row) -> dt.date | None:
    """The date a finding's evidence row (a mapping or Series) is judged by: its first present
    column of :data:`EVIDENCE_DATES` (``accepted_on``, else ``paid_on``, else the row's own date)."""
    for column in EVIDENCE_DATES:
        value = row.get(column) if hasattr(row, "get") else None
        if value is None or value is pd.NaT:
            continue
        try:
            if pd.isna(value):
                continue
        except (TypeError, ValueError):
            pass
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        return pd.Timestamp(value).date()
    return None


def with_cited_basis(rule, evidence: pd.DataFrame) -> pd.DataFrame:
    """``evidence`` with the columns ``basis`` and ``penalty_basis``: for each finding the version
    of the rule's basis in force on its evidence date (:func:`evidence_day`).  Unchanged for a
    rule without ``basis_versions``."""
    if not getattr(rule, "basis_versions", ()) or not len(evidence):
        return evidence
    day = pd.Series(pd.NaT, index=evidence.index, dtype="datetime64[ns]")
    for column in EVIDENCE_DATES:  # the first present date of each row, column by column
        if column in evidence.columns:
            day = day.fillna(pd.to_datetime(evidence[column], errors="coerce"))
    codes, days = pd.factorize(day)  # each distinct day looked up once; NaT is code -1
    bases = [rule.basis_for(d.date()) for d in days] + [rule.basis_for(None)]
    basis = np.array([b for b, _ in bases], dtype=object)
    penalty = np.array([p for _, p in bases], dtype=object)
    out = evidence.copy()
    out["basis"] = list(basis[codes])  # code -1 takes the last entry: the basis for no date
    out["penalty_basis"] = list(penalty[codes])
    return out
