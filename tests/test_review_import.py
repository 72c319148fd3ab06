"""Returned evidence workbooks read back into the register (CONTRACT §6): all rows checked first
and nothing recorded on any problem (each named by file, sheet and cell), idempotent, refusing
another database's workbook and hostile files, read by headers whatever the sheets are called."""
from __future__ import annotations

import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from auditlib.errors import ReviewError
from auditlib.ingest.load import ingest
from auditlib.outputs.workbook import write_workbook
from auditlib.review import form
from auditlib.review.importer import import_workbooks, parse_money
from auditlib.review.register import Register
from auditlib.review.statuses import Status
from auditlib.rules.engine import inspect
from auditlib.synth.county import generate

UNIT = "0011"


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    base = tmp_path_factory.mktemp("review-import")
    generate(base / "data", units=8, seed=2024)
    ingest(base / "data", base / "audit.duckdb")
    return inspect(base / "audit.duckdb", "slush_funds")


def _blank(county, path: Path, lang: str = "zh") -> Path:
    f = county.findings[county.findings["unit_code"] == UNIT]
    ev = {k: v[v["unit_code"] == UNIT] for k, v in county.evidence.items()}
    return write_workbook(path, unit_code=UNIT, unit_name="县教育局", inspection="slush_funds", findings=f,
                          evidence=ev, params=county.params, run_id="r1", sources=[], lang=lang)


def _rows(ws):
    """{finding_id: row number}, {header word: column number} of a rule sheet."""
    for row in ws.iter_rows(min_row=1, max_row=20):
        values = [c.value for c in row]
        if all(any(v in pair for v in values) for pair in (form.FINDING_ID, form.CONCLUSION, form.REF_HEADER)):
            head = {v: c.column for c, v in zip(row, values) if v is not None}
            c_id = head.get(form.FINDING_ID[0]) or head[form.FINDING_ID[1]]
            ids = {ws.cell(r, c_id).value: r for r in range(row[0].row + 1, ws.max_row + 1)
                   if ws.cell(r, c_id).value}
            return ids, head
    return {}, {}


def _col(head, pair):
    return head.get(pair[0]) or head[pair[1]]


def _fill(src: Path, out: Path, decisions: dict, verifier="张三", reviewer="王五", edit=None) -> Path:
    """Fill the form cells with openpyxl (a load + save round trip): ``{finding_id: (word, reason,
    amount)}``; the cover's names; ``edit(wb)`` for anything else."""
    wb = openpyxl.load_workbook(src)
    cover = wb.worksheets[0]
    for row in cover.iter_rows():
        if row[0].value in form.COVER_VERIFIER and verifier is not None:
            row[1].value = verifier
        if row[0].value in form.COVER_REVIEWER and reviewer is not None:
            row[1].value = reviewer
    for ws in wb.worksheets:
        ids, head = _rows(ws)
        for fid, (word, reason, amount) in decisions.items():
            if fid in ids:
                r = ids[fid]
                ws.cell(r, _col(head, form.CONCLUSION)).value = word
                cell = ws.cell(r, _col(head, form.EXPLANATION))
                cell.value = reason
                if isinstance(reason, str) and reason.startswith("'"):
                    cell.value = reason[1:]
                    cell.data_type = "s"  # typed as text, not a formula
                ws.cell(r, _col(head, form.CONFIRMED_AMOUNT)).value = amount
    if edit:
        edit(wb)
    wb.save(out)
    return out


def _ids(county, rule=None):
    f = county.findings[county.findings["unit_code"] == UNIT]
    if rule:
        f = f[f["rule_id"] == rule]
    return list(f["finding_id"]), f


def _place_of(path: Path, fid: str, pair) -> str:
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        ids, head = _rows(ws)
        if fid in ids:
            return f"{ws.title}!{openpyxl.utils.get_column_letter(_col(head, pair))}{ids[fid]}"
    raise AssertionError(fid)


def test_round_trip_records_decisions_with_who_and_where(county, tmp_path):
    ids, f = _ids(county)
    a, b, c, d = ids[:4]
    blank = _blank(county, tmp_path / "blank.xlsx")
    path = _fill(blank, tmp_path / "idle.xlsx", {a: ("属实", "情况属实", "1,234.50"), b: ("排除", "系正常会议支出", None),
                                                 c: ("已整改", "", 88.1), d: ("待核实", "还在查", None)})
    reg = Register(tmp_path / "register.jsonl")
    result = import_workbooks([path], reg)
    got = {x.finding_id: x for x in reg.decisions()}
    assert set(got) == {a, b, c} and len(result.recorded) == 3 and result.unchanged == 0
    assert result.undecided == len(ids) - 3
    assert got[a].status is Status.CONFIRMED and got[a].amount == Decimal("1234.50") and got[a].reason == "情况属实"
    assert got[b].status is Status.DISMISSED and got[b].amount is None
    assert got[c].status is Status.RECTIFIED and got[c].amount == Decimal("88.10")
    row = f.set_index("finding_id").loc[a]
    assert (got[a].rule_id, got[a].unit_code, got[a].ref) == (row["rule_id"], UNIT, row["ref"])
    assert all(x.by == "张三（复核：王五）" for x in got.values())
    assert got[a].source == f"idle.xlsx!{_place_of(path, a, form.CONCLUSION)}"
    assert all(x.at for x in got.values())


def test_importing_twice_records_once(county, tmp_path):
    ids, _ = _ids(county)
    blank = _blank(county, tmp_path / "blank.xlsx")
    path = _fill(blank, tmp_path / "w.xlsx", {ids[0]: ("属实", "", None), ids[1]: ("排除", "正常", None)})
    reg = Register(tmp_path / "register.jsonl")
    assert len(import_workbooks([path], reg).recorded) == 2
    size = reg.path.stat().st_size
    again = import_workbooks([path, path], reg)
    assert again.recorded == () and again.unchanged == 2
    assert reg.path.stat().st_size == size
    # a changed conclusion is a new decision; the older one stays in the register
    changed = _fill(path, tmp_path / "w2.xlsx", {ids[0]: ("已整改", "已退回", None)})
    assert len(import_workbooks([changed], reg).recorded) == 1
    assert len(reg.decisions()) == 3 and reg.latest()[ids[0]].status is Status.RECTIFIED


def test_every_bad_cell_is_named_and_nothing_is_recorded(county, tmp_path):
    ids, _ = _ids(county)
    blank = _blank(county, tmp_path / "blank.xlsx")
    good = _fill(blank, tmp_path / "good.xlsx", {ids[0]: ("属实", "", None)})
    bad = _fill(blank, tmp_path / "bad.xlsx", {ids[1]: ("也许", "", None), ids[2]: ("排除", None, None),
                                              ids[3]: ("属实", "", "abc"), ids[4]: ("属实", "", "1.005"),
                                              ids[5]: ("属实", "", -5)})
    reg = Register(tmp_path / "register.jsonl")
    with pytest.raises(ReviewError) as err:
        import_workbooks([good, bad], reg)
    msg = str(err.value)
    assert len(err.value.problems) == 5
    assert f"bad.xlsx!{_place_of(bad, ids[1], form.CONCLUSION)}" in msg and "也许" in msg
    assert f"bad.xlsx!{_place_of(bad, ids[2], form.EXPLANATION)}" in msg
    for fid in ids[3:6]:
        assert f"bad.xlsx!{_place_of(bad, fid, form.CONFIRMED_AMOUNT)}" in msg
    assert not reg.path.exists()  # the good file's decision was not recorded either
    with pytest.raises(ReviewError, match="dismissed without"):
        import_workbooks([bad], reg, lang="en")


def test_a_workbook_from_another_databases_data_is_refused(county, tmp_path):
    ids, f = _ids(county)
    blank = _blank(county, tmp_path / "blank.xlsx")

    def other_ref(wb):
        for ws in wb.worksheets:
            rows, head = _rows(ws)
            if ids[0] in rows:
                ws.cell(rows[ids[0]], _col(head, form.REF_HEADER)).value = "payments:ELSEWHERE"

    path = _fill(blank, tmp_path / "w.xlsx", {ids[0]: ("属实", "", None)}, edit=other_ref)
    reg = Register(tmp_path / "register.jsonl")
    with pytest.raises(ReviewError) as err:
        import_workbooks([path], reg)
    assert _place_of(path, ids[0], form.FINDING_ID) in str(err.value) and "另一数据库" in str(err.value)

    def other_unit(wb):
        for row in wb.worksheets[0].iter_rows():
            if row[0].value in form.COVER_UNIT:
                row[1].value = "0012"

    path = _fill(blank, tmp_path / "w2.xlsx", {}, edit=other_unit)
    with pytest.raises(ReviewError) as err:
        import_workbooks([path], reg)
    assert len(err.value.problems) == len(ids)  # every row, decided or not
    assert not reg.path.exists()


def test_findings_lookup_refuses_unknown_ids(county, tmp_path):
    ids, _ = _ids(county)
    path = _fill(_blank(county, tmp_path / "b.xlsx"), tmp_path / "w.xlsx", {ids[0]: ("属实", "", None)})
    with pytest.raises(ReviewError, match="不在本次数据"):
        import_workbooks([path], Register(tmp_path / "r.jsonl"), findings_lookup={})
    res = import_workbooks([path], Register(tmp_path / "r.jsonl"), findings_lookup=lambda i: i in ids or None)
    assert len(res.recorded) == 1


def test_who_decided(county, tmp_path):
    ids, _ = _ids(county)
    blank = _blank(county, tmp_path / "blank.xlsx")
    nobody = _fill(blank, tmp_path / "w.xlsx", {ids[0]: ("属实", "", None)}, verifier=None, reviewer=None)
    reg = Register(tmp_path / "r.jsonl")
    with pytest.raises(ReviewError, match="--by"):
        import_workbooks([nobody], reg)
    assert import_workbooks([nobody], reg, by="李四").recorded[0].by == "李四"
    only = _fill(blank, tmp_path / "w2.xlsx", {ids[1]: ("属实", "", None)}, verifier="赵六", reviewer=None)
    assert import_workbooks([only], reg).recorded[0].by == "赵六"
    # nothing decided: no name needed
    empty = _fill(blank, tmp_path / "w3.xlsx", {}, verifier=None, reviewer=None)
    assert import_workbooks([empty], reg).recorded == ()


def test_conflicting_files_are_refused(county, tmp_path):
    ids, _ = _ids(county)
    blank = _blank(county, tmp_path / "blank.xlsx")
    one = _fill(blank, tmp_path / "a.xlsx", {ids[0]: ("属实", "", None)})
    two = _fill(blank, tmp_path / "b.xlsx", {ids[0]: ("排除", "正常", None)})
    with pytest.raises(ReviewError, match="不一致"):
        import_workbooks([one, two], Register(tmp_path / "r.jsonl"))


def test_renamed_and_reordered_sheets_are_read_by_headers(county, tmp_path):
    ids, f = _ids(county, "SF06") if len(_ids(county, "SF06")[0]) else _ids(county)
    fid = ids[0]

    def shuffle(wb):
        for ws in wb.worksheets:
            rows, _ = _rows(ws)
            if fid in rows:
                ws.title = "我的表"
                wb.move_sheet(ws, offset=-wb.index(ws))
        wb.worksheets[1].title = "首页"  # the cover, now second
        wb.move_sheet(wb.worksheets[-1], offset=-(len(wb.worksheets) - 2))

    path = _fill(_blank(county, tmp_path / "b.xlsx"), tmp_path / "w.xlsx", {fid: ("属实", "", None)}, edit=shuffle)
    got = import_workbooks([path], Register(tmp_path / "r.jsonl")).recorded
    assert len(got) == 1 and got[0].source.startswith("w.xlsx!我的表!")


def test_a_missing_form_column_is_named(county, tmp_path):
    ids, _ = _ids(county)

    def drop(wb):
        for ws in wb.worksheets:
            rows, head = _rows(ws)
            if ids[0] in rows:
                ws.delete_cols(_col(head, form.CONFIRMED_AMOUNT))
                self_title.append(ws.title)

    self_title = []
    path = _fill(_blank(county, tmp_path / "b.xlsx"), tmp_path / "w.xlsx", {ids[0]: ("属实", "", None)}, edit=drop)
    with pytest.raises(ReviewError) as err:
        import_workbooks([path], Register(tmp_path / "r.jsonl"))
    assert "认定金额" in str(err.value) and f"w.xlsx!{self_title[0]}" in str(err.value)


def test_english_workbook(county, tmp_path):
    ids, _ = _ids(county)
    path = _fill(_blank(county, tmp_path / "b.xlsx", lang="en"), tmp_path / "w.xlsx",
                 {ids[0]: ("dismissed", "normal", None), ids[1]: ("Confirmed", "", 5)})
    got = {d.finding_id: d for d in import_workbooks([path], Register(tmp_path / "r.jsonl")).recorded}
    assert got[ids[0]].status is Status.DISMISSED and got[ids[1]].amount == Decimal("5.00")
    assert got[ids[0]].by == "张三 (reviewed: 王五)" or got[ids[0]].by == "张三（复核：王五）"


# -- untrusted input ---------------------------------------------------------------------------

def test_hostile_text_stays_plain_text(county, tmp_path):
    ids, _ = _ids(county)
    hyper = '=HYPERLINK("http://evil.example","点我")'
    path = _fill(_blank(county, tmp_path / "b.xlsx"), tmp_path / "w.xlsx",
                 {ids[0]: ("排除", "'" + hyper, None),            # typed as text
                  ids[1]: ("排除", hyper, None),                   # a formula: read as its text, never run
                  ids[2]: ("排除", "<script>alert(1)</script>", None)})
    reg = Register(tmp_path / "r.jsonl")
    import_workbooks([path], reg)
    latest = reg.latest()
    assert latest[ids[0]].reason == hyper and latest[ids[1]].reason == hyper
    assert latest[ids[2]].reason == "<script>alert(1)</script>"


def _swap_string(path: Path, old: str, new: str) -> None:
    """Replace a cell's text inside the saved package (openpyxl caps text at Excel's 32,767)."""
    data = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            data[info.filename] = zf.read(info)
    # openpyxl writes non-ASCII text as UTF-8, or as character references (&#21344;) when it
    # serialises with lxml; look for either
    forms = (old.encode(), old.encode("ascii", "xmlcharrefreplace"))
    holders = [(k, f) for k, v in data.items() if k.startswith("xl/") for f in forms if f in v]
    assert holders
    for key, form in holders:
        data[key] = data[key].replace(form, new.encode())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in data.items():
            zf.writestr(name, content)


def test_a_5mb_explanation_is_refused_clearly(county, tmp_path):
    import random
    ids, _ = _ids(county)
    marker = "占位说明" * 10
    path = _fill(_blank(county, tmp_path / "b.xlsx"), tmp_path / "w.xlsx", {ids[0]: ("排除", marker, None)})
    rnd = random.Random(1)
    _swap_string(path, marker, "".join(chr(rnd.randrange(0x4E00, 0x9FA5)) for _ in range(5_000_000)))
    reg = Register(tmp_path / "r.jsonl")
    with pytest.raises(ReviewError) as err:
        import_workbooks([path], reg)
    assert "过长" in str(err.value) and "5,000,000" in str(err.value) and len(str(err.value)) < 1000
    assert not reg.path.exists()
    # Excel's own longest cell (32,767 characters, what openpyxl writes at most) is refused too
    path = _fill(_blank(county, tmp_path / "b.xlsx"), tmp_path / "w2.xlsx", {ids[0]: ("排除", "长" * 40_000, None)})
    with pytest.raises(ReviewError, match="过长"):
        import_workbooks([path], reg)


def test_not_an_xlsx(tmp_path):
    reg = Register(tmp_path / "r.jsonl")
    text = tmp_path / "notes.xlsx"
    text.write_text("核实说明\n", encoding="utf-8")
    with pytest.raises(ReviewError, match="notes.xlsx.*不是 xlsx"):
        import_workbooks([text], reg)
    other_zip = tmp_path / "other.xlsx"
    with zipfile.ZipFile(other_zip, "w") as zf:
        zf.writestr("readme.txt", "hi")
    with pytest.raises(ReviewError, match="other.xlsx.*不是 xlsx"):
        import_workbooks([other_zip], reg)
    ole = tmp_path / "locked.xlsx"
    ole.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    with pytest.raises(ReviewError, match="locked.xlsx.*加密"):
        import_workbooks([ole], reg)
    with pytest.raises(ReviewError, match="No such file"):
        import_workbooks([tmp_path / "gone.xlsx"], reg, lang="en")


def test_a_truncated_workbook(county, tmp_path):
    path = _blank(county, tmp_path / "b.xlsx")
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ReviewError, match="cut.xlsx"):
        import_workbooks([cut], Register(tmp_path / "r.jsonl"))


def _bomb(path: Path, member_bytes: int):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            chunk = b" " * (1 << 20)
            for _ in range(member_bytes >> 20):
                fh.write(chunk)
    return path


def test_zip_bombs_are_refused_before_parsing(tmp_path):
    reg = Register(tmp_path / "r.jsonl")
    with pytest.raises(ReviewError, match="ratio.xlsx.*压缩比"):
        import_workbooks([_bomb(tmp_path / "ratio.xlsx", 8 << 20)], reg)
    with pytest.raises(ReviewError, match="big.xlsx.*过大"):
        import_workbooks([_bomb(tmp_path / "big.xlsx", 210 << 20)], reg)
    assert not reg.path.exists()


# -- round trips through other spreadsheet programs ------------------------------------------

def test_libreoffice_round_trip(county, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.skip("LibreOffice (soffice) is not installed: `make browser` installs libreoffice-calc-nogui")
    ids, _ = _ids(county)
    filled = _fill(_blank(county, tmp_path / "b.xlsx"), tmp_path / "w.xlsx",
                   {ids[0]: ("属实", "核实属实", "1,000.00"), ids[1]: ("排除", "正常支出", None),
                    ids[2]: ("已整改", "", 12.5)})
    out = tmp_path / "lo"
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--convert-to", "xlsx", "--outdir", str(out), str(filled)],
                   check=True, capture_output=True, timeout=180)
    back = out / "w.xlsx"
    assert back.exists()
    reg = Register(tmp_path / "r.jsonl")
    got = {d.finding_id: d for d in import_workbooks([back], reg).recorded}
    assert got[ids[0]].status is Status.CONFIRMED and got[ids[0]].amount == Decimal("1000.00")
    assert got[ids[1]].reason == "正常支出" and got[ids[2]].amount == Decimal("12.50")
    # the same decisions as the openpyxl-saved file: importing that one too records nothing
    assert import_workbooks([filled], reg).recorded == ()


@pytest.mark.parametrize("value, expected", [
    (None, (None, True)), ("", (None, True)), ("  ", (None, True)), (1234.5, (Decimal("1234.50"), True)),
    (0.1, (Decimal("0.10"), True)), (7, (Decimal("7.00"), True)), ("1,234,567.89", (Decimal("1234567.89"), True)),
    ("1234", (Decimal("1234.00"), True)), ("1，234.5", (Decimal("1234.50"), True)),
    ("1.005", (None, False)), (1.005, (None, False)), ("12,34", (None, False)), ("abc", (None, False)),
    ("-1", (None, False)), (-1, (None, False)), (True, (None, False)), ("NaN", (None, False)),
    (float("inf"), (None, False)), ("=1+1", (None, False)), ("1e3", (None, False)),
])
def test_parse_money(value, expected):
    assert parse_money(value) == expected
