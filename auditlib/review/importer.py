"""Decisions read back from returned evidence workbooks (``auditlib review import``, CONTRACT §6).

A returned workbook is untrusted input.  Before openpyxl sees it, the file must be a zip whose
members add up to no more than :data:`MAX_UNCOMPRESSED` bytes and none of which inflates more
than :data:`MAX_RATIO` times (a zip bomb); an encrypted workbook or a legacy ``.xls`` is refused
by name.  Cells are read as stored, never computed: a formula comes back as its text.

Every row of every file is checked first; one problem anywhere raises a single
:class:`~auditlib.errors.ReviewError` listing every problem with its file, sheet and cell
(``SF06!K7``), and nothing is recorded.  Otherwise the decisions are appended to the register
in one batch, leaving out those the register already holds as the finding's latest decision
(importing the same workbook twice records its decisions once).

Layout (:mod:`auditlib.review.form`): the cover is the sheet with the :data:`COVER_UNIT` label;
a rule sheet is a sheet whose first cell begins with a rule id; its header row holds
:data:`REF_HEADER` and the :data:`FORM_COLUMNS` headers (Chinese or English).  Sheets may be
renamed or reordered.
"""
from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Callable, Iterable, Mapping

from auditlib.errors import ReviewError
from auditlib.i18n import register as register_messages
from auditlib.i18n import t
from auditlib.review import form
from auditlib.review.register import MAX_TEXT, Decision, Register
from auditlib.review.statuses import Status
from auditlib.rules.catalogue import all_rules
from auditlib.rules.identity import finding_id

#: refuse a workbook whose members add up to more than this many bytes uncompressed
MAX_UNCOMPRESSED = 200 * 1024 * 1024
#: refuse a workbook with a member (over :data:`_RATIO_FLOOR` bytes) inflating more than this
MAX_RATIO = 100
_RATIO_FLOOR = 1024 * 1024
#: refuse a workbook of more members than this
MAX_MEMBERS = 10_000
#: rows searched for a rule sheet's header row, and for the cover's labels
_HEADER_SEARCH = 40
_COVER_SEARCH = 200
#: largest 认定金额 accepted (yuan)
_MAX_AMOUNT = Decimal("1e15")

_MONEY_TEXT = re.compile(r"^-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

register_messages({
    "imp.missing": ("文件不存在：{file}", "No such file: {file}"),
    "imp.not_xlsx": ("{file} 不是 xlsx 工作簿（请用 Excel、WPS 或 LibreOffice 另存为 .xlsx）",
                     "{file} is not an xlsx workbook (save it as .xlsx from Excel, WPS or LibreOffice)"),
    "imp.encrypted": ("{file} 已加密或为旧版 .xls 格式：请取消密码保护并另存为 .xlsx 后再导入",
                      "{file} is encrypted or a legacy .xls: remove the password and save it as .xlsx"),
    "imp.bomb": ("{file} 解压后过大或压缩比异常（{detail}），疑为恶意文件，拒绝读取",
                 "{file} inflates too much ({detail}), refused as a possible zip bomb"),
    "imp.unreadable": ("{file} 无法读取：{reason}", "{file} cannot be read: {reason}"),
    "imp.no_cover": ("{file}：找不到封面的“{label}”，无法确定被检查单位",
                     "{file}: no cover row “{label}”, so the unit is unknown"),
    "imp.no_rules": ("{file}：没有规则工作表（首格以规则编号开头、表头含{headers}的工作表）",
                     "{file}: no rule sheet (a sheet whose first cell starts with a rule id and whose "
                     "header row holds {headers})"),
    "imp.missing_headers": ("{place}：规则工作表缺少表头 {headers}", "{place}: the rule sheet lacks the headers {headers}"),
    "imp.bad_word": ("{place}：核实结论“{word}”无效，应为 {words} 之一",
                     "{place}: conclusion “{word}” is not one of {words}"),
    "imp.no_reason": ("{place}：结论为排除，须在核实说明中填写理由",
                      "{place}: dismissed without an explanation"),
    "imp.too_long": ("{place}：内容过长（{n} 字，上限 {max} 字）",
                     "{place}: too long ({n} characters, at most {max})"),
    "imp.bad_amount": ("{place}：认定金额“{value}”不是金额（须为不小于 0、至多两位小数的数字）",
                       "{place}: confirmed amount “{value}” is not money (a number ≥ 0 with at most two decimals)"),
    "imp.id_mismatch": ("{place}：疑点编号 {got} 与本行的规则、单位和证据行不符（应为 {want}），"
                        "该工作簿可能来自另一数据库的数据",
                        "{place}: finding id {got} does not match this row's rule, unit and evidence row "
                        "(expected {want}); the workbook may come from another database's data"),
    "imp.no_id": ("{place}：已填写核实内容，但本行没有疑点编号", "{place}: filled in, but the row has no finding id"),
    "imp.unknown_id": ("{place}：疑点编号 {got} 不在本次数据的疑点中", "{place}: finding id {got} is not a finding of these data"),
    "imp.no_by": ("{file}：封面未填写核实人或复核人姓名，请填写或使用 --by 指定",
                  "{file}: the cover names no verifier or reviewer; fill them in or pass --by"),
    "imp.conflict": ("{place}：与 {other} 对同一疑点 {fid} 的结论不一致",
                     "{place}: contradicts {other} about finding {fid}"),
    "imp.refused": ("导入被拒绝，未记录任何结论（{n} 处问题）：", "Import refused, nothing recorded ({n} problems):"),
    "imp.reviewed": ("{verifier}（复核：{reviewer}）", "{verifier} (reviewed: {reviewer})"),
    "imp.reviewer_only": ("{reviewer}（复核）", "{reviewer} (reviewer)"),
})


@dataclass(frozen=True)
class ImportResult:
    """What an import did.

    Attributes
    ----------
    files : tuple of str
        The workbooks read.
    recorded : tuple of Decision
        The decisions appended to the register.
    unchanged : int
        Decisions left out because the register already holds them as the latest.
    undecided : int
        Finding rows left blank or 待核实.
    """

    files: tuple[str, ...]
    recorded: tuple[Decision, ...] = ()
    unchanged: int = 0
    undecided: int = 0


@dataclass
class _Problems:
    lang: str | None
    items: list[str] = field(default_factory=list)

    def add(self, key: str, **kw) -> None:
        self.items.append(t(key, self.lang, **kw))


def import_workbooks(paths: Iterable[str | os.PathLike], register: Register, by: str | None = None,
                     findings_lookup: Mapping | Callable[[str], object] | None = None,
                     lang: str | None = None) -> ImportResult:
    """Read the decisions of returned evidence workbooks into ``register``, all or none.

    Parameters
    ----------
    paths : iterable of path-like
        The returned workbooks (``.xlsx``).
    register : Register
        Where the decisions go.
    by : str, optional
        Who decided, overriding the covers' 核实人/复核人.
    findings_lookup : mapping or callable, optional
        ``finding_id`` -> anything (None when unknown): when given, a row whose 疑点编号 is not
        among these findings is an error.
    lang : {"zh", "en"}, optional
        Language of the error messages.

    Raises
    ------
    ReviewError
        Listing every problem of every file (``problems``), nothing recorded.
    """
    paths = [Path(p) for p in paths]
    problems = _Problems(lang)
    rows: list[tuple[Decision, str]] = []   # (decision, place) in file order
    undecided = 0
    for path in paths:
        got = _read_workbook(path, by, findings_lookup, problems)
        rows.extend(got[0])
        undecided += got[1]
    seen: dict[str, tuple[Decision, str]] = {}
    batch: list[Decision] = []
    for decision, place in rows:
        earlier = seen.get(decision.finding_id)
        if earlier is not None:
            if not decision.same_decision(earlier[0]):
                problems.add("imp.conflict", place=place, other=earlier[1], fid=decision.finding_id)
            continue
        seen[decision.finding_id] = (decision, place)
        batch.append(decision)
    if problems.items:
        head = t("imp.refused", lang, n=len(problems.items))
        raise ReviewError(head + "\n  " + "\n  ".join(problems.items),
                          file=", ".join(str(p) for p in paths), problems=list(problems.items))
    latest = register.latest() if batch else {}
    new = [d for d in batch if not d.same_decision(latest.get(d.finding_id))]
    register.append(new)
    return ImportResult(files=tuple(str(p) for p in paths), recorded=tuple(new),
                        unchanged=len(batch) - len(new), undecided=undecided)


# -- the file --------------------------------------------------------------------------------------

def check_container(path: Path, lang: str | None = None) -> None:
    """Refuse, by name, a file that is missing, not an xlsx, encrypted, or a zip bomb — before any
    XML of it is parsed."""
    name = str(path)
    if not path.is_file():
        raise ReviewError(t("imp.missing", lang, file=name), file=name)
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head == _OLE2:  # an encrypted OOXML package, or a legacy .xls
        raise ReviewError(t("imp.encrypted", lang, file=name), file=name)
    if not zipfile.is_zipfile(path):
        raise ReviewError(t("imp.not_xlsx", lang, file=name), file=name)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ReviewError(t("imp.unreadable", lang, file=name, reason=exc), file=name) from None
    if len(infos) > MAX_MEMBERS:
        raise ReviewError(t("imp.bomb", lang, file=name, detail=f"{len(infos)} members"), file=name)
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise ReviewError(t("imp.not_xlsx", lang, file=name), file=name)
    if any(i.flag_bits & 0x1 for i in infos):
        raise ReviewError(t("imp.encrypted", lang, file=name), file=name)
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED:
        raise ReviewError(t("imp.bomb", lang, file=name, detail=f"{total:,} bytes"), file=name)
    for i in infos:
        if i.file_size > _RATIO_FLOOR and i.file_size > MAX_RATIO * max(i.compress_size, 1):
            detail = f"{i.filename}: {i.file_size:,} / {i.compress_size:,}"
            raise ReviewError(t("imp.bomb", lang, file=name, detail=detail), file=name)


def _read_workbook(path: Path, by: str | None, lookup, problems: _Problems) -> tuple[list, int]:
    """The decisions of one workbook (with their places) and its undecided row count; its
    problems go to ``problems``."""
    import openpyxl  # late: the CLI starts without it

    name = path.name
    try:
        check_container(path, problems.lang)
    except ReviewError as exc:
        problems.items.append(exc.message)
        return [], 0
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False, keep_links=False)
    except Exception as exc:  # noqa: BLE001 - any failure of a hostile file is "cannot be read"
        problems.add("imp.unreadable", file=name, reason=f"{type(exc).__name__}: {exc}")
        return [], 0
    try:
        sheets = []
        for ws in wb.worksheets:
            try:
                sheets.append((ws.title, list(ws.iter_rows(values_only=True))))
            except Exception as exc:  # noqa: BLE001
                problems.add("imp.unreadable", file=f"{name}!{ws.title}", reason=f"{type(exc).__name__}: {exc}")
                return [], 0
    finally:
        wb.close()
    unit, verifier, reviewer = _cover(sheets)
    if unit is None:
        problems.add("imp.no_cover", file=name, label=form.COVER_UNIT[0])
        return [], 0
    who = by.strip() if by and by.strip() else _who(verifier, reviewer, problems.lang)
    rule_ids = {r.id for r in all_rules()}
    decisions, undecided, any_rule = [], 0, False
    for title, rows in sheets:
        rule_id = _rule_of(rows, rule_ids)
        if rule_id is None:
            continue
        any_rule = True
        got, n = _read_rule_sheet(name, title, rows, rule_id, unit, who, lookup, problems)
        decisions.extend(got)
        undecided += n
    if not any_rule:
        problems.add("imp.no_rules", file=name, headers="、".join(h[0] for h in (form.REF_HEADER,) + form.FORM_COLUMNS))
    if decisions and not who:
        problems.add("imp.no_by", file=name)
    return decisions, undecided


def _text(value) -> str:
    """A cell as text ('' for empty); whole floats without their ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _cover(sheets) -> tuple[str | None, str, str]:
    """(unit code, verifier, reviewer) from the sheet holding the :data:`COVER_UNIT` label."""
    for _, rows in sheets:
        labels = {}
        for row in rows[:_COVER_SEARCH]:
            filled = [i for i, c in enumerate(row) if _text(c) != ""]
            if filled:  # the label, and its value in the cell to its right
                i = filled[0]
                labels.setdefault(_text(row[i]), _text(row[i + 1]) if i + 1 < len(row) else "")
        unit = _label(labels, form.COVER_UNIT)
        if unit is not None and unit != "":
            return unit, _label(labels, form.COVER_VERIFIER) or "", _label(labels, form.COVER_REVIEWER) or ""
    return None, "", ""


def _label(labels: dict, pair) -> str | None:
    for word in pair:
        if word in labels:
            return labels[word]
    return None


def _who(verifier: str, reviewer: str, lang: str | None) -> str:
    if verifier and reviewer:
        return t("imp.reviewed", lang, verifier=verifier, reviewer=reviewer)
    if reviewer:
        return t("imp.reviewer_only", lang, reviewer=reviewer)
    return verifier


def _rule_of(rows, rule_ids: set[str]) -> str | None:
    """The rule id the sheet's first cell begins with (None for any other sheet)."""
    if not rows or not rows[0]:
        return None
    first = _text(rows[0][0]).split()
    return first[0] if first and first[0] in rule_ids else None


def _header_row(rows) -> tuple[int | None, dict]:
    """Index of the header row and {header: column} of the words the importer looks for."""
    wanted = {w: pair for pair in (form.REF_HEADER,) + form.FORM_COLUMNS for w in pair}
    for i, row in enumerate(rows[:_HEADER_SEARCH]):
        found = {}
        for c, value in enumerate(row):
            pair = wanted.get(_text(value))
            if pair is not None and pair not in found:
                found[pair] = c
        if found:
            return i, found
    return None, {}


def _read_rule_sheet(name, title, rows, rule_id, unit, who, lookup, problems) -> tuple[list, int]:
    from openpyxl.utils import get_column_letter

    head, cols = _header_row(rows)
    needed = (form.REF_HEADER,) + form.FORM_COLUMNS
    if head is None:
        if any(_text(v) for row in rows[6:] for v in row):  # rows below the heading: findings
            problems.add("imp.missing_headers", place=f"{name}!{title}",
                         headers="、".join(p[0] for p in needed))
        return [], 0
    missing = [p for p in needed if p not in cols]
    if missing:
        problems.add("imp.missing_headers", place=f"{name}!{title}",
                     headers="、".join(f"{zh}（{en}）" for zh, en in missing))
        return [], 0
    c_ref = cols[form.REF_HEADER]
    c_id, c_status, c_reason, c_amount = (cols[p] for p in form.FORM_COLUMNS)
    out, undecided = [], 0
    words = " / ".join(s.label("zh") for s in Status)
    for r, row in enumerate(rows[head + 1:], start=head + 2):
        def cell(c):
            return row[c] if c < len(row) else None

        def place(c):
            return f"{name}!{title}!{get_column_letter(c + 1)}{r}"

        fid, word = _text(cell(c_id)), _text(cell(c_status))
        raw_reason, raw_amount = cell(c_reason), cell(c_amount)
        if not fid:
            if word or _text(raw_reason) or _text(raw_amount):
                problems.add("imp.no_id", place=place(c_status))
            continue
        ref = _text(cell(c_ref))
        want = finding_id(rule_id, unit, ref)
        if fid != want:
            problems.add("imp.id_mismatch", place=place(c_id), got=fid, want=want)
            continue
        if lookup is not None:
            known = lookup.get(fid) if isinstance(lookup, Mapping) else lookup(fid)
            if known is None:
                problems.add("imp.unknown_id", place=place(c_id), got=fid)
                continue
        reason = "" if raw_reason is None else str(raw_reason).strip()
        if len(reason) > MAX_TEXT:
            problems.add("imp.too_long", place=place(c_reason), n=f"{len(reason):,}", max=MAX_TEXT)
            continue
        status = Status.from_word(word) if word else Status.OPEN
        if status is None:
            problems.add("imp.bad_word", place=place(c_status), word=word[:50], words=words)
            continue
        amount, ok = parse_money(raw_amount)
        if not ok:
            problems.add("imp.bad_amount", place=place(c_amount), value=_text(raw_amount)[:50])
            continue
        if status is Status.OPEN:
            undecided += 1
            continue
        if status is Status.DISMISSED and not reason:
            problems.add("imp.no_reason", place=place(c_reason))
            continue
        out.append((Decision(finding_id=fid, rule_id=rule_id, unit_code=unit, ref=ref, status=status,
                             reason=reason, amount=amount, by=who,
                             source=f"{name}!{title}!{get_column_letter(c_status + 1)}{r}"),
                    place(c_status)))
    return out, undecided


def parse_money(value) -> tuple[Decimal | None, bool]:
    """A 认定金额 cell as exact yuan: ``(amount or None when blank, ok)``.

    Numbers (as Excel stores them) and text with optional thousands separators are accepted;
    at most two decimals, not negative, finite.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, True
    if isinstance(value, bool):
        return None, False
    try:
        if isinstance(value, float):
            amount = Decimal(repr(value))
        elif isinstance(value, (int, Decimal)):
            amount = Decimal(value)
        elif isinstance(value, str):
            text = value.strip().replace("，", ",")
            if not _MONEY_TEXT.match(text):
                return None, False
            amount = Decimal(text.replace(",", ""))
        else:
            return None, False
    except (InvalidOperation, ValueError):
        return None, False
    if not amount.is_finite() or amount < 0 or amount >= _MAX_AMOUNT:
        return None, False
    if amount != amount.quantize(Decimal("0.01")):
        return None, False
    return amount.quantize(Decimal("0.01")), True
