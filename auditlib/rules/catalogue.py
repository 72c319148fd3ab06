"""The rule catalogue of CONTRACT §3: the registry of every rule, asked at use time.

The rules themselves live one module per inspection (:mod:`auditlib.rules.idle_funds`,
:mod:`auditlib.rules.slush_funds`, :mod:`auditlib.rules.delayed_payments`), each
:class:`~auditlib.rules.model.Rule` holding everything about itself.  Everything else
asks this registry when it needs the rules (:func:`all_rules`, :func:`get_rule`,
:func:`rules_for`), never a list imported once, so a rule added at run time with
:func:`temporary_rules` shows in the engine, the parameters, the reports, the
workbook and the explore panel alike.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from auditlib.rules import delayed_payments, idle_funds, slush_funds
from auditlib.rules.model import Rule

#: inspection key → (zh, en) name, in report order
INSPECTIONS = {
    "idle_funds": ("沉淀资金", "Idle funds"),
    "slush_funds": ("小金库", "Slush funds"),
    "delayed_payments": ("支付不及时", "Delayed payments"),
}

#: the rules shipped, in catalogue order
BUILTIN: tuple[Rule, ...] = (*idle_funds.RULES, *slush_funds.RULES, *delayed_payments.RULES)

_installed: tuple[Rule, ...] = BUILTIN


def all_rules() -> tuple[Rule, ...]:
    """Every rule of the catalogue in force, in catalogue order."""
    return _installed


def get_rule(rule_id: str) -> Rule:
    """The rule ``rule_id``; :class:`KeyError` when the catalogue has none."""
    for rule in _installed:
        if rule.id == rule_id:
            return rule
    raise KeyError(rule_id)


def rules_for(inspection: str) -> list[Rule]:
    """The rules of one inspection, in catalogue order."""
    return [r for r in _installed if r.inspection == inspection]


@contextmanager
def temporary_rules(*extra: Rule) -> Iterator[tuple[Rule, ...]]:
    """Install a catalogue holding the shipped rules plus ``extra`` for the ``with`` block.

    Every part of the library asks the registry at use time, so the extra rules appear
    everywhere while the block runs (in this process; the batch's worker processes keep
    the shipped catalogue).  The previous catalogue is restored on leaving the block.
    """
    global _installed
    rules = (*_installed, *extra)
    ids = [r.id for r in rules]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"rule ids already in the catalogue: {', '.join(duplicates)}")
    unknown = sorted({r.inspection for r in extra if r.inspection not in INSPECTIONS})
    if unknown:
        raise ValueError(f"unknown inspection: {', '.join(unknown)}")
    before = _installed
    _installed = rules
    try:
        yield rules
    finally:
        _installed = before


#: the catalogue's labels (zh, en): 依据, 处理依据, 处理建议, and what an empty one says
_LABELS = {
    "basis": ("依据", "basis"),
    "penalty": ("处理依据", "penalty basis"),
    "advice": ("处理建议", "advice"),
    "none": ("（无）", "(none)"),
    "version": ("{since} 起适用", "from {since}"),
    "uses": ("使用 {rule} 的参数 {name}", "uses {rule}'s parameter {name}"),
}


def render_catalogue(lang: str = "zh") -> str:
    """The catalogue as text: per inspection, each rule with its basis (依据), the provision a
    confirmed problem is dealt with under (处理依据), the suggested handling (处理建议) and its
    parameters."""
    def word(key: str) -> str:
        zh_word, en_word = _LABELS[key]
        return zh_word if lang == "zh" else en_word

    lines = []
    for name, (zh, en) in INSPECTIONS.items():
        lines.append(f"== {name} {zh if lang == 'zh' else en} ==")
        for rule in rules_for(name):
            lines.append(f"{rule.id}  {rule.title(lang)}")
            lines.append(f"      {word('basis')}: {rule.basis or word('none')}")
            lines.append(f"      {word('penalty')}: {rule.penalty_basis or word('none')}")
            for version in rule.basis_versions:  # a basis by law version: every version, dated
                since = word("version").format(since=version.since.isoformat())
                sep = "；" if lang == "zh" else "; "
                lines.append(f"        {since} {word('basis')}: {version.basis}{sep}"
                             f"{word('penalty')}: {version.penalty_basis or word('none')}")
            lines.append(f"      {word('advice')}: {rule.advice(lang) or word('none')}")
            for p in rule.params:
                label = p.label(lang)
                if p.type == "words":  # a word list: its words, and how many it may hold
                    shown = "、".join(p.default) or "—"
                    lines.append(f"      {p.name} = [{shown}]  ({label}; {p.min}–{p.max})")
                else:
                    lines.append(f"      {p.name} = {p.default}  ({label}; {p.min}–{p.max})")
            for other, name in rule.uses:  # another rule's parameter, set there (one place)
                lines.append(f"      {name}: " + word("uses").format(rule=other, name=name))
        lines.append("")
    return "\n".join(lines)
