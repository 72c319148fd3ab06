"""索引号 of the evidence workbook's papers, and the page header and footer that print them.

Every sheet of ``<unit>/<inspection>.xlsx`` is one paper of the 审计工作底稿 with an index number
``<unit>-<IF|SF|DP>-<nn>[-<part>]``, derived from what the paper is, never from the order of
writing, so the same unit, inspection and findings always give the same numbers:

========================  ======================  ==========================================
paper                     index                   example (unit ``001``, slush funds)
========================  ======================  ==========================================
封面 (cover)               ``<u>-<p>-00``           ``001-SF-00``
汇总 (summary)             ``<u>-<p>-00-1``         ``001-SF-00-1``
疑点核实清单 (checklist)    ``<u>-<p>-00-2``         ``001-SF-00-2``
a rule's sheet            ``<u>-<p>-<nn>``         ``001-SF-05`` for SF05
its evidence in full      ``<u>-<p>-<nn>-1``       ``001-SF-05-1``
its 取证单                 ``<u>-<p>-<nn>-2``       ``001-SF-05-2``
========================  ======================  ==========================================

``<p>`` is the inspection's prefix (``IF`` 沉淀资金, ``SF`` 小金库, ``DP`` 支付不及时) and
``<nn>`` the rule's number (the digits of its id, two places).

The header names the unit, the paper and its index number; the footer the page (第 &P 页 共 &N
页).  Text from the data is escaped for Excel's header codes: ``&`` is doubled (``A&B`` prints
``A&B``), and a ``&G`` / ``&[Picture]`` in a name (an image placeholder to Excel) loses its
ampersand to a full-width one, so a unit name can neither format the header nor swallow it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from auditlib.i18n import register, t

register({
    "wpi.header.index": ("索引号：{index}", "Index: {index}"),
    "wpi.footer": ("第 &P 页 共 &N 页", "Page &P of &N"),
})

#: the index prefix of each inspection
PREFIXES = {"idle_funds": "IF", "slush_funds": "SF", "delayed_payments": "DP"}
#: Excel refuses a header or footer longer than this (characters, after escaping)
MAX_HEADER = 255
#: the longest name a header shows before it is cut with an ellipsis
_MAX_NAME = 40


class Kind:
    """What a paper is (its index number follows from it)."""

    COVER = "cover"
    SUMMARY = "summary"
    CHECKLIST = "checklist"
    RULE = "rule"
    DETAIL = "detail"
    CERTIFICATE = "certificate"


#: the ``-<part>`` of each kind of paper (None: no part)
_PART = {Kind.COVER: None, Kind.SUMMARY: "1", Kind.CHECKLIST: "2", Kind.RULE: None, Kind.DETAIL: "1",
         Kind.CERTIFICATE: "2"}


@dataclass(frozen=True)
class Paper:
    """One sheet of the workbook: what it is, for which rule, and its index number."""

    kind: str
    index: str
    rule_id: str = ""


def prefix_of(inspection: str, rule_ids=()) -> str:
    """The index prefix of ``inspection``: ``SF`` for slush funds; for an inspection the table
    does not know, the letters of its rules' ids when they agree, else ``XX``."""
    if inspection in PREFIXES:
        return PREFIXES[inspection]
    letters = {re.sub(r"[^A-Za-z]", "", str(r)).upper() for r in rule_ids}
    return letters.pop() if len(letters) == 1 and "" not in letters else "XX"


def rule_number(rule_id: str, position: int) -> str:
    """``nn`` of a rule: the digits of its id (``SF05`` -> ``05``), else its 1-based position."""
    digits = re.sub(r"\D", "", str(rule_id))
    return f"{int(digits):02d}" if digits else f"{position:02d}"


def index_number(unit_code: str, prefix: str, number: str, part: str | None = None) -> str:
    """``<unit>-<prefix>-<nn>[-<part>]``."""
    base = f"{unit_code}-{prefix}-{number}"
    return f"{base}-{part}" if part else base


def paper(kind: str, unit_code: str, prefix: str, rule_id: str = "", position: int = 0) -> Paper:
    """The paper of ``kind`` (for ``rule_id`` at ``position`` among the rules, for rule papers)."""
    number = "00" if kind in (Kind.COVER, Kind.SUMMARY, Kind.CHECKLIST) else rule_number(rule_id, position)
    return Paper(kind, index_number(str(unit_code), prefix, number, _PART[kind]), rule_id)


def escape(text: str) -> str:
    """``text`` made literal inside an Excel header or footer (see the module's note)."""
    text = str(text).replace("&[Picture]", "＆[Picture]").replace("&G", "＆G")
    return text.replace("&", "&&")


def _cut(text: str, n: int = _MAX_NAME) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[:n - 1] + "…"


def header(unit: str, title: str, index: str, lang: str = "zh") -> str:
    """The page header: the unit on the left, the paper in the centre, its index on the right."""
    parts = [_cut(unit), _cut(title), _cut(t("wpi.header.index", lang, index=index), 80)]
    text = "&L&10 " + escape(parts[0]) + "&C&10 " + escape(parts[1]) + "&R&10 " + escape(parts[2])
    while len(text) > MAX_HEADER:  # only a pathological index gets here: shorten everything
        parts = [_cut(p, max(8, len(p) // 2)) for p in parts]
        text = "&L&10 " + escape(parts[0]) + "&C&10 " + escape(parts[1]) + "&R&10 " + escape(parts[2])
    return text


def footer(index: str, lang: str = "zh") -> str:
    """The page footer: the index number on the left, the page (第 &P 页 共 &N 页) in the centre."""
    return "&L&10 " + escape(_cut(t("wpi.header.index", lang, index=index), 80)) + "&C&10 " + t("wpi.footer", lang)


__all__ = ["Kind", "Paper", "PREFIXES", "escape", "footer", "header", "index_number", "paper", "prefix_of",
           "rule_number"]
