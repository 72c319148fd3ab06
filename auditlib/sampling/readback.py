"""Reading a filled sample workbook back, all or nothing (as ``auditlib review import`` reads the
evidence workbooks).

The file is untrusted: :func:`auditlib.review.importer.check_container` refuses a missing file, a
non-xlsx, an encrypted workbook or a zip bomb before it is parsed; cells are read as stored, never
computed.  The sample sheet is found by its headers (:mod:`auditlib.sampling.words`).  Every row of
``plan.json``'s sample must be there once, with its 编号 and 账面金额 unchanged; every row needs a
核实结论; 差错金额 must be money (0 < 差错金额 ≤ 账面金额 for 有差错, blank or 0 for 无差错, blank or
the book amount for 无法核实); 说明 at most 2,000 characters.  One problem anywhere raises a single
:class:`~auditlib.errors.SamplingError` listing every problem with its sheet and cell, and nothing
is evaluated or written.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from auditlib.errors import ReviewError, SamplingError
from auditlib.i18n import register, t
from auditlib.review.importer import check_container, parse_money
from auditlib.review.register import MAX_TEXT
from auditlib.sampling import words
from auditlib.sampling.words import Conclusion

register({
    "smp.rb.refused": ("抽样评价被拒绝，未写入任何结果（{n} 处问题）：", "Evaluation refused, nothing written ({n} problems):"),
    "smp.rb.no_sheet": ("{file}：找不到样本工作表（表头含 {headers} 的工作表）",
                        "{file}: no sample sheet (a sheet whose header row holds {headers})"),
    "smp.rb.missing_row": ("{file}：第 {seq} 号样本（编号 {item}）不在工作簿中（行被删除？）",
                           "{file}: sample item {seq} ({item}) is missing (a row removed?)"),
    "smp.rb.extra_row": ("{place}：样本序号 {seq} 不在抽样方案中", "{place}: item number {seq} is not in the plan"),
    "smp.rb.bad_seq": ("{place}：样本序号“{value}”不是整数", "{place}: item number “{value}” is not a whole number"),
    "smp.rb.duplicate": ("{place}：样本序号 {seq} 重复（另见 {other}）", "{place}: item number {seq} repeated (see {other})"),
    "smp.rb.key_changed": ("{place}：第 {seq} 号样本的编号应为 {want}，现为 {got}",
                           "{place}: item {seq} should be {want}, found {got}"),
    "smp.rb.amount_changed": ("{place}：第 {seq} 号样本的账面金额应为 {want}，现为 {got}",
                              "{place}: item {seq}'s book amount should be {want}, found {got}"),
    "smp.rb.no_conclusion": ("{place}：第 {seq} 号样本未填写核实结论", "{place}: item {seq} has no conclusion"),
    "smp.rb.bad_word": ("{place}：核实结论“{word}”无效，应为 {words} 之一", "{place}: conclusion “{word}” is not one of {words}"),
    "smp.rb.bad_error": ("{place}：差错金额“{value}”不是金额（须为不小于 0、至多两位小数的数字）",
                         "{place}: misstatement “{value}” is not money (a number ≥ 0 with at most two decimals)"),
    "smp.rb.error_needed": ("{place}：结论为有差错，须填写大于 0 的差错金额", "{place}: a misstatement needs an amount above 0"),
    "smp.rb.error_too_big": ("{place}：差错金额 {value} 超过账面金额 {amount}", "{place}: misstatement {value} exceeds the book amount {amount}"),
    "smp.rb.error_unwanted": ("{place}：结论为无差错，差错金额应为空或 0（现为 {value}）",
                              "{place}: no misstatement, but the misstatement cell holds {value}"),
    "smp.rb.unverifiable_amount": ("{place}：无法核实的项目按全额计为差错，差错金额应为空或 {amount}（现为 {value}）",
                                   "{place}: an item that cannot be verified counts in full; leave the cell blank or "
                                   "{amount} (found {value})"),
    "smp.rb.too_long": ("{place}：说明过长（{n} 字，上限 {max} 字）", "{place}: note too long ({n} characters, at most {max})"),
})

_HEADER_SEARCH = 40


@dataclass(frozen=True)
class Result:
    """One sampled item as the auditor returned it."""

    seq: int
    conclusion: Conclusion
    misstatement: Decimal
    note: str
    word: str
    raw_error: Decimal | None


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_filled(path: str | os.PathLike, plan: dict, lang: str | None = None) -> dict[int, Result]:
    """``seq`` -> :class:`Result` for every sampled item of ``plan``, or :class:`SamplingError`."""
    import openpyxl  # late: the CLI starts without it
    from openpyxl.utils import get_column_letter

    path = Path(path)
    name = path.name
    try:
        check_container(path, lang)
    except ReviewError as exc:
        raise SamplingError(exc.message, file=str(path), problems=[exc.message]) from None
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False, keep_links=False)
    except Exception as exc:  # noqa: BLE001 - any failure of a hostile file is "cannot be read"
        message = t("imp.unreadable", lang, file=name, reason=f"{type(exc).__name__}: {exc}")
        raise SamplingError(message, file=str(path), problems=[message]) from None
    try:
        found = None
        for ws in wb.worksheets:
            rows = list(ws.iter_rows(values_only=True))
            head, cols = _header_row(rows)
            if head is not None:
                found = (ws.title, rows, head, cols)
                break
    finally:
        wb.close()
    problems: list[str] = []
    if found is None:
        message = t("smp.rb.no_sheet", lang, file=name, headers="、".join(p[0] for p in words.READ_COLUMNS))
        raise SamplingError(message, file=str(path), problems=[message])
    title, rows, head, cols = found
    by_seq = {s["seq"]: s for s in plan["sample"]}
    out: dict[int, Result] = {}
    seen: dict[int, str] = {}
    labels = " / ".join(c.label(lang) for c in Conclusion)
    c_seq, c_key, c_amount, c_conc, c_err, c_note = (cols[p] for p in words.READ_COLUMNS)
    for r, row in enumerate(rows[head + 1:], start=head + 2):
        def cell(c):
            return row[c] if c < len(row) else None

        def place(c):
            return f"{name}!{title}!{get_column_letter(c + 1)}{r}"

        raw_seq = cell(c_seq)
        if _text(raw_seq) == "":
            if any(_text(cell(c)) for c in (c_conc, c_err, c_note)):
                problems.append(t("smp.rb.bad_seq", lang, place=place(c_seq), value=""))
            continue
        try:
            seq = int(Decimal(_text(raw_seq)))
            if Decimal(_text(raw_seq)) != seq:
                raise ValueError
        except Exception:  # noqa: BLE001
            problems.append(t("smp.rb.bad_seq", lang, place=place(c_seq), value=_text(raw_seq)[:50]))
            continue
        plan_row = by_seq.get(seq)
        if plan_row is None:
            problems.append(t("smp.rb.extra_row", lang, place=place(c_seq), seq=seq))
            continue
        if seq in seen:
            problems.append(t("smp.rb.duplicate", lang, place=place(c_seq), seq=seq, other=seen[seq]))
            continue
        seen[seq] = place(c_seq)
        if _text(cell(c_key)) != plan_row["key"]:
            problems.append(t("smp.rb.key_changed", lang, place=place(c_key), seq=seq, want=plan_row["key"],
                              got=_text(cell(c_key))[:50]))
            continue
        book = Decimal(plan_row["amount"])
        got_amount, ok = parse_money(cell(c_amount))
        if not ok or got_amount != book:
            problems.append(t("smp.rb.amount_changed", lang, place=place(c_amount), seq=seq, want=f"{book:,.2f}",
                              got=_text(cell(c_amount))[:50]))
            continue
        note = "" if cell(c_note) is None else str(cell(c_note)).strip()
        if len(note) > MAX_TEXT:
            problems.append(t("smp.rb.too_long", lang, place=place(c_note), n=f"{len(note):,}", max=MAX_TEXT))
            continue
        word = _text(cell(c_conc))
        if not word:
            problems.append(t("smp.rb.no_conclusion", lang, place=place(c_conc), seq=seq))
            continue
        conclusion = Conclusion.from_word(word)
        if conclusion is None:
            problems.append(t("smp.rb.bad_word", lang, place=place(c_conc), word=word[:50], words=labels))
            continue
        error, ok = parse_money(cell(c_err))
        if not ok:
            problems.append(t("smp.rb.bad_error", lang, place=place(c_err), value=_text(cell(c_err))[:50]))
            continue
        if conclusion is Conclusion.ERROR:
            if error is None or error <= 0:
                problems.append(t("smp.rb.error_needed", lang, place=place(c_err)))
                continue
            if error > book:
                problems.append(t("smp.rb.error_too_big", lang, place=place(c_err), value=f"{error:,.2f}",
                                  amount=f"{book:,.2f}"))
                continue
            misstatement = error
        elif conclusion is Conclusion.NO_ERROR:
            if error not in (None, Decimal("0")):
                problems.append(t("smp.rb.error_unwanted", lang, place=place(c_err), value=f"{error:,.2f}"))
                continue
            misstatement = Decimal("0")
        else:
            if error not in (None, book):
                problems.append(t("smp.rb.unverifiable_amount", lang, place=place(c_err), amount=f"{book:,.2f}",
                                  value=f"{error:,.2f}"))
                continue
            misstatement = book
        out[seq] = Result(seq, conclusion, misstatement, note, word, error)
    for seq, s in sorted(by_seq.items()):
        if seq not in seen:
            problems.append(t("smp.rb.missing_row", lang, file=name, seq=seq, item=s["key"]))
    if problems:
        head_line = t("smp.rb.refused", lang, n=len(problems))
        raise SamplingError(head_line + "\n  " + "\n  ".join(problems), file=str(path), problems=problems)
    return out


def _header_row(rows) -> tuple[int | None, dict]:
    """The header row holding every :data:`words.READ_COLUMNS` header (either language)."""
    wanted = {w: pair for pair in words.READ_COLUMNS for w in pair}
    for i, row in enumerate(rows[:_HEADER_SEARCH]):
        found = {}
        for c, value in enumerate(row):
            pair = wanted.get(_text(value))
            if pair is not None and pair not in found:
                found[pair] = c
        if len(found) == len(words.READ_COLUMNS):
            return i, found
    return None, {}
