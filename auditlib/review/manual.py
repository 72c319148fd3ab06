"""Decisions made by hand, one finding or several at a time (``auditlib review set``, the explore
panel's 属实 / 排除 / 已整改 buttons): checked whole, then recorded in one append."""
from __future__ import annotations

from typing import Callable, Iterable

from auditlib.errors import ReviewError
from auditlib.i18n import register as register_messages
from auditlib.i18n import t
from auditlib.review.importer import parse_money
from auditlib.review.register import MAX_TEXT, Decision, Register
from auditlib.review.statuses import Status

#: ``finding_id`` -> ``(rule_id, unit_code, ref)``, or None for an id that is no finding
Lookup = Callable[[str], "tuple[str, str, str] | None"]

register_messages({
    "man.unknown": ("未知的疑点编号：{ids}（在 {where} 中找不到）", "Unknown finding id(s): {ids} (not in {where})"),
    "man.bad_status": ("核实结论“{word}”无效，应为 {words} 之一", "Status “{word}” is not one of {words}"),
    "man.no_reason": ("排除须用 --reason 说明理由", "dismissed needs a --reason"),
    "man.no_by": ("须用 --by 写明核实人", "--by must name who decided"),
    "man.too_long": ("{what} 过长（{n} 字，上限 {max} 字）", "{what} too long ({n} characters, at most {max})"),
    "man.bad_amount": ("认定金额“{value}”不是金额（须为不小于 0、至多两位小数的数字）",
                       "Confirmed amount “{value}” is not money (a number ≥ 0 with at most two decimals)"),
    "man.no_ids": ("没有给出疑点编号", "No finding id given"),
})


def decide(ids: Iterable[str], status: Status | str, by: str, lookup: Lookup, *, reason: str = "",
           amount=None, source: str = "cli", where: str = "", lang: str | None = None) -> list[Decision]:
    """The decisions setting every finding of ``ids`` to ``status`` (nothing recorded yet).

    Parameters
    ----------
    ids : iterable of str
        Finding ids (duplicates count once).
    status : Status or str
        The new status (a :class:`Status`, its value or its Chinese/English word).
    by : str
        Who decided (required).
    lookup : callable
        ``finding_id`` -> ``(rule_id, unit_code, ref)`` or None.
    reason : str
        核实说明; required for ``dismissed``.
    amount : Decimal, number or text, optional
        认定金额 (yuan, at most two decimals).
    source : str
        ``cli`` or ``explore``.
    where : str
        Where ``lookup`` looks (named in the error for unknown ids).

    Raises
    ------
    ReviewError
        Every problem at once (unknown ids, bad status or amount, dismissed without reason,
        no ``by``).
    """
    problems: list[str] = []
    ids = list(dict.fromkeys(str(i).strip() for i in ids if str(i).strip()))
    if not ids:
        problems.append(t("man.no_ids", lang))
    word = status
    status = status if isinstance(status, Status) else Status.from_word(str(status))
    if status is None:
        problems.append(t("man.bad_status", lang, word=word, words=" / ".join(s.value for s in Status)))
    reason = (reason or "").strip()
    by = (by or "").strip()
    if not by:
        problems.append(t("man.no_by", lang))
    if status is Status.DISMISSED and not reason:
        problems.append(t("man.no_reason", lang))
    for what, text in (("--reason", reason), ("--by", by)):
        if len(text) > MAX_TEXT:
            problems.append(t("man.too_long", lang, what=what, n=f"{len(text):,}", max=MAX_TEXT))
    money, ok = parse_money(amount)
    if not ok:
        problems.append(t("man.bad_amount", lang, value=str(amount)[:50]))
    keys = {i: lookup(i) for i in ids}
    unknown = [i for i, k in keys.items() if k is None]
    if unknown:
        problems.append(t("man.unknown", lang, ids=", ".join(unknown), where=where or "-"))
    if problems:
        raise ReviewError("; ".join(problems), problems=problems)
    return [Decision(finding_id=i, rule_id=str(k[0]), unit_code=str(k[1]), ref=str(k[2]), status=status,
                     reason=reason, amount=money, by=by, source=source) for i, k in keys.items()]


def set_status(register: Register, ids: Iterable[str], status: Status | str, by: str, lookup: Lookup,
               **kw) -> list[Decision]:
    """:func:`decide` and record the decisions in ``register`` (all or none); the decisions."""
    decisions = decide(ids, status, by, lookup, **kw)
    register.append(decisions)
    return decisions
