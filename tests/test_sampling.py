"""``auditlib sample`` and ``auditlib sample evaluate`` (CONTRACT §7): the population, the draw, its
reproducibility, the workbook round trip, the record, and every bad input refused by name."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest
from click.testing import CliRunner

from auditlib.cli import main
from auditlib.errors import ParameterError, SamplingError
from auditlib.sampling.evaluate import evaluate
from auditlib.sampling.plan import SampleSettings, build_plan, draw_sample
from auditlib.sampling.population import Filters

HOSTILE = '=HYPERLINK("http://evil.example","点我")'


def _payments():
    """60 payments of two units: small ones, four large ones (≥ any interval below), one unpaid,
    one reversal, and one with a hostile payee."""
    rows = []
    for i in range(1, 56):
        unit = "0011" if i % 2 else "002"
        amount = Decimal(1000 + (i * 7919) % 20000) + Decimal(i % 100) / 100
        kind = "会议费" if i % 3 == 0 else ("劳务费" if i % 3 == 1 else "办公费")
        rows.append((unit, f"P{i:04d}", f"供应商{i}", kind, amount, f"2024-{1 + i % 12:02d}-15", "payments.csv", i + 1))
    rows += [("0011", "P0901", "大额工程款甲", "工程款", Decimal("400000.00"), "2024-06-30", "payments.csv", 901),
             ("002", "P0902", "大额工程款乙", "工程款", Decimal("350000.55"), "2024-07-31", "payments.csv", 902),
             ("0011", "P0903", "大额设备款", "设备购置", Decimal("300000.00"), "2024-08-31", "payments.csv", 903),
             ("002", "P0904", HOSTILE, "会议费", Decimal("250000.00"), "2024-09-30", "payments.csv", 904),
             ("002", "P0905", "未支付", "会议费", Decimal("9000.00"), None, "payments.csv", 905),
             ("0011", "P0906", "冲销", "会议费", Decimal("-500.00"), "2024-10-10", "payments.csv", 906)]
    return rows


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "audit.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE payments (unit_code VARCHAR, payment_id VARCHAR, payee_name VARCHAR, expense_type VARCHAR, "
                "amount DECIMAL(18,2), paid_on DATE, memo VARCHAR, _file VARCHAR, _line INTEGER)")
    for unit, pid, payee, kind, amount, paid, file, line in _payments():
        con.execute("INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [unit, pid, payee, kind, amount, paid, "支付" + pid, file, line])
    con.close()
    return path


def _book(units=None):
    return sum(a for u, _, _, _, a, paid, _, _ in _payments() if paid and a > 0 and (units is None or u in units))


def _fill(path: Path, conclusions: dict | None = None, default="无差错", drop_seq=None):
    """Fill the sample sheet like an auditor: ``conclusions`` seq -> (word, amount, note)."""
    wb = openpyxl.load_workbook(path)
    ws = next(s for s in wb.worksheets if s.title in ("样本", "Sample"))
    heads = [c.value for c in ws[3]]
    col = {h: i + 1 for i, h in enumerate(heads)}
    for r in range(4, ws.max_row + 1):
        seq = ws.cell(r, 1).value
        if seq is None:
            continue
        word, amount, note = (conclusions or {}).get(seq, (default, None, None))
        ws.cell(r, col["核实结论"]).value = word
        ws.cell(r, col["差错金额"]).value = amount
        ws.cell(r, col["说明"]).value = note
    if drop_seq is not None:
        r = next(r for r in range(4, ws.max_row + 1) if ws.cell(r, 1).value == drop_seq)
        ws.delete_rows(r)
    wb.save(path)


# -- population and plan ----------------------------------------------------------------------------

def test_mus_zero_errors_known_answers(db, tmp_path):
    """n = ⌈B ln(1/(1−c)) ÷ T⌉; every item ≥ B/n is taken; with no misstatement the upper limit is
    the basic precision B ln(1/(1−c)) ÷ n."""
    out = tmp_path / "s"
    plan = draw_sample(db, SampleSettings(method="mus", confidence=0.95, tolerable=Decimal("100000"), seed=5), out)
    book = _book()
    assert Decimal(plan["population"]["book_value"]) == book
    assert plan["population"]["count"] == 59 and plan["population"]["apart"] == {"count": 2, "amount": "8500.00"}
    n = math.ceil(float(book) * math.log(20) / 100000)
    assert plan["n"] == n
    interval = book / n
    big = {pid for _, pid, _, _, a, paid, _, _ in _payments() if paid and a >= interval}
    assert big and big <= {s["key"] for s in plan["sample"] if s["top_stratum"]}
    assert sum(s["hits"] for s in plan["sample"]) == n  # n selections, the top stratum may take several
    assert [s["top_stratum"] for s in plan["sample"]] == sorted((s["top_stratum"] for s in plan["sample"]), reverse=True)
    _fill(out / "sample.xlsx")
    ev = evaluate(out)
    want = Decimal(repr(float(book) * math.log(20) / n)).quantize(Decimal("0.01"))
    assert Decimal(ev["upper_misstatement_limit"]) == Decimal(ev["basic_precision"]) == want
    assert ev["errors"] == 0 and ev["conclusion"] == "within"
    saved = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    for key in ("basic_precision", "projected_misstatement", "upper_misstatement_limit", "confidence", "errors"):
        assert saved[key] == ev[key]


def test_filters_and_plan_json(db, tmp_path):
    settings = SampleSettings(method="random", size=5, seed=1,
                              filters=Filters(units=("002",), expense_types=("会议费", "工程款"),
                                              min_amount=Decimal("1000")))
    plan = draw_sample(db, settings, tmp_path / "s")
    keys = {s["key"] for s in plan["sample"]}
    allowed = {pid for u, pid, _, k, a, paid, _, _ in _payments()
               if u == "002" and k in ("会议费", "工程款") and a >= 1000 and paid}
    assert keys <= allowed and len(keys) == 5
    saved = json.loads((tmp_path / "s" / "plan.json").read_text(encoding="utf-8"))
    for key in ("population", "method", "seed", "n", "interval", "random_start", "inputs", "sample", "confidence"):
        assert key in saved
    assert saved["population"]["filters"]["expense_types"] == ["会议费", "工程款"]
    assert saved["population"]["apart"]["count"] == 1  # the unpaid 会议费
    assert all(s["source_file"] == "payments.csv" and s["source_line"] > 1 for s in saved["sample"])


def test_mus_interval_and_start_recorded_and_exact(db, tmp_path):
    plan = build_plan(db, SampleSettings(method="mus", size=10, seed=3))
    book = Decimal(plan["population"]["book_value"])
    assert Decimal(plan["interval"]) == (book / 10).quantize(Decimal("0.01"))
    assert Decimal("0") <= Decimal(plan["random_start"]) < book / 10


# -- reproducibility -------------------------------------------------------------------------------

_CHILD = ("import json,sys; from auditlib.sampling.plan import SampleSettings, build_plan; "
          "p = build_plan(sys.argv[1], SampleSettings(method=sys.argv[2], size=12, seed=int(sys.argv[3]))); "
          "print(json.dumps([(s['key'], s['hits']) for s in p['sample']]))")


@pytest.mark.parametrize("method", ["mus", "random"])
def test_same_seed_same_sample_in_fresh_processes(db, method):
    def child(seed):
        out = subprocess.run([sys.executable, "-c", _CHILD, str(db), method, str(seed)], capture_output=True,
                             text=True, check=True)
        return json.loads(out.stdout)

    first, again, other = child(20241231), child(20241231), child(7)
    assert first == again
    assert first != other
    in_process = build_plan(db, SampleSettings(method=method, size=12, seed=20241231))
    assert [[s["key"], s["hits"]] for s in in_process["sample"]] == first


def test_no_seed_gets_one_recorded_that_repeats_the_draw(db):
    plan = build_plan(db, SampleSettings(method="random", size=8))
    again = build_plan(db, SampleSettings(method="random", size=8, seed=plan["seed"]))
    assert [s["key"] for s in plan["sample"]] == [s["key"] for s in again["sample"]]


# -- the workbook ------------------------------------------------------------------------------------

def test_workbook_form_validation_hostile_text_and_audit_log(db, tmp_path):
    out = tmp_path / "s"
    draw_sample(db, SampleSettings(method="mus", tolerable=Decimal("100000"), seed=5), out)
    wb = openpyxl.load_workbook(out / "sample.xlsx")
    assert wb.sheetnames == ["抽样方案", "样本"]
    ws = wb["样本"]
    rules = ws.data_validations.dataValidation
    lists = [dv for dv in rules if dv.type == "list"]
    assert lists and all(w in lists[0].formula1 for w in ("无差错", "有差错", "无法核实"))
    cells = [c for row in ws.iter_rows() for c in row if c.value == HOSTILE]
    assert cells and all(c.data_type == "s" for c in cells)  # the payee stays inert text
    heads = [c.value for c in ws[3]]
    assert {"来源文件", "行号", "核实结论", "差错金额", "说明"} <= set(heads)
    c_conc = heads.index("核实结论") + 1
    assert ws.protection.sheet and ws.cell(4, c_conc).protection.locked is False
    assert ws.cell(4, 1).protection.locked is not False
    log = [json.loads(line) for line in (tmp_path / "audit-log.jsonl").read_text(encoding="utf-8").splitlines()]
    assert log[-1]["command"] == "sample" and log[-1]["outcome"]["seed"] == 5


def test_evaluation_with_errors_writes_the_plan_sheet_and_keeps_the_inputs(db, tmp_path):
    out = tmp_path / "s"
    plan = draw_sample(db, SampleSettings(method="mus", tolerable=Decimal("100000"), seed=5), out)
    small = next(s for s in plan["sample"] if not s["top_stratum"])
    top = next(s for s in plan["sample"] if s["top_stratum"])
    half = (Decimal(small["amount"]) / 2).quantize(Decimal("0.01"))
    _fill(out / "sample.xlsx", {small["seq"]: ("有差错", float(half), "发票金额不符"),
                                top["seq"]: ("有差错", 1000, "多付")})
    ev = evaluate(out / "sample.xlsx")
    assert ev["errors"] == 2 and ev["top_stratum_misstatement"] == "1000.00"
    interval = float(Decimal(plan["population"]["book_value"])) / plan["n"]
    taint = float(half) / float(Decimal(small["amount"]))
    assert Decimal(ev["projected_misstatement"]) == (Decimal(repr(taint * interval)) + 1000).quantize(Decimal("0.01"))
    wb = openpyxl.load_workbook(out / "sample.xlsx")
    texts = [str(c.value) for row in wb["抽样方案"].iter_rows() for c in row if c.value is not None]
    assert "错报上限（元）" in texts and "抽样结果评价" in texts
    row = next(r for r in wb["样本"].iter_rows(min_row=4, values_only=True) if r[0] == small["seq"])
    assert "有差错" in row and "发票金额不符" in row
    assert evaluate(out)["upper_misstatement_limit"] == ev["upper_misstatement_limit"]  # evaluating again: same


def test_random_evaluation_gives_both_estimates(db, tmp_path):
    out = tmp_path / "s"
    plan = draw_sample(db, SampleSettings(method="random", size=10, seed=2), out)
    first = plan["sample"][0]
    _fill(out / "sample.xlsx", {first["seq"]: ("无法核实", None, "凭证缺失")})
    ev = evaluate(out)
    assert ev["errors"] == 1 and ev["unverifiable"] == 1
    assert ev["sample_misstatement"] == first["amount"]  # counted in full
    for kind in ("ratio", "difference"):
        assert Decimal(ev[kind]["low"]) <= Decimal(ev[kind]["estimate"]) <= Decimal(ev[kind]["high"])


def _bytes(path):
    return Path(path).read_bytes()


@pytest.mark.parametrize("case", ["text_amount", "row_removed", "no_conclusion", "bad_word", "too_big", "key_changed"])
def test_bad_filled_workbook_is_refused_naming_the_cell_and_nothing_is_written(db, tmp_path, case):
    out = tmp_path / "s"
    plan = draw_sample(db, SampleSettings(method="mus", tolerable=Decimal("100000"), seed=5), out)
    s2 = plan["sample"][1]
    fills = {"text_amount": ({2: ("有差错", "一千元", None)}, None),
             "row_removed": ({}, 2),
             "no_conclusion": ({2: (None, None, None)}, None),
             "bad_word": ({2: ("属实", None, None)}, None),
             "too_big": ({2: ("有差错", float(Decimal(s2["amount"]) + 1), None)}, None),
             "key_changed": ({}, None)}[case]
    _fill(out / "sample.xlsx", fills[0], drop_seq=fills[1])
    if case == "key_changed":
        wb = openpyxl.load_workbook(out / "sample.xlsx")
        wb["样本"].cell(5, 4).value = "P9999"
        wb.save(out / "sample.xlsx")
    before = _bytes(out / "sample.xlsx")
    with pytest.raises(SamplingError) as err:
        evaluate(out)
    message = str(err.value)
    expect = {"text_amount": ["sample.xlsx!样本!N5", "一千元"], "row_removed": ["第 2 号样本", s2["key"], "缺失"],
              "no_conclusion": ["样本!M5", "未填写核实结论"], "bad_word": ["样本!M5", "属实"],
              "too_big": ["样本!N5", "超过账面金额"], "key_changed": ["样本!D5", "P9999"]}[case]
    if case == "row_removed":
        expect = ["第 2 号样本", s2["key"], "不在工作簿中"]
    for part in expect:
        assert part in message, message
    assert not (out / "evaluation.json").exists()
    assert _bytes(out / "sample.xlsx") == before


def test_not_a_workbook_and_no_plan_are_refused(db, tmp_path):
    out = tmp_path / "s"
    draw_sample(db, SampleSettings(method="random", size=3, seed=2), out)
    (out / "sample.xlsx").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(SamplingError, match="不是 xlsx"):
        evaluate(out)
    (out / "plan.json").unlink()
    with pytest.raises(SamplingError, match="plan.json"):
        evaluate(out)


# -- bad settings ------------------------------------------------------------------------------------

@pytest.mark.parametrize("args,words", [
    (["--tolerable", "0"], ["--tolerable", "0"]),
    (["--tolerable", "-5000"], ["--tolerable", "-5000"]),
    (["--confidence", "0"], ["--confidence"]),
    (["--confidence", "1"], ["--confidence"]),
    (["--confidence", "1.5"], ["--confidence"]),
    (["--units", "9999"], ["抽样总体为空", "9999"]),
    (["--expense-types", "不存在的类型"], ["抽样总体为空"]),
    (["--size", "0"], ["--size"]),
    (["--seed", "-1"], ["--seed"]),
    (["--from", "2024-12-01", "--to", "2024-01-01"], ["--from"]),
    (["--population", "findings"], ["--run"]),
    (["--min-amount", "abc"], ["--min-amount"]),
])
def test_cli_refuses_bad_settings_by_name(db, tmp_path, args, words):
    result = CliRunner().invoke(main, ["sample", "--db", str(db), "--out", str(tmp_path / "s"), *args])
    assert result.exit_code == 2, result.output
    for w in words:
        assert w in result.output
    assert not (tmp_path / "s" / "plan.json").exists()


def test_cli_draws_evaluates_and_speaks_english(db, tmp_path):
    out = tmp_path / "s"
    result = CliRunner().invoke(main, ["sample", "--db", str(db), "--out", str(out), "--method", "mus",
                                       "--tolerable", "100000", "--expected", "5000", "--seed", "9", "--units", "0011,002"])
    assert result.exit_code == 0, result.output
    assert "货币单元抽样" in result.output and "种子 9" in result.output
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert plan["expected"] == "5000.00" and plan["size_rule"] == "poisson"
    _fill(out / "sample.xlsx")
    result = CliRunner().invoke(main, ["sample", "evaluate", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "Upper misstatement limit (yuan)" in result.output
    result = CliRunner().invoke(main, ["sample", "evaluate", str(out)])
    assert "错报上限（元）" in result.output


def test_findings_population_of_a_run(db, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "findings.csv").write_text(
        "\ufeffrun_id,inspection,rule_id,unit_code,ref,amount,severity,title,detail,finding_id\n"
        "r,slush_funds,SF06,0011,payments:P1,5000.00,high,同额重复支付,d,aaaaaaaaaaa1\n"
        "r,slush_funds,SF07,0011,payments:P2,12000.00,mid,整数金额,d,aaaaaaaaaaa2\n"
        "r,idle_funds,IF01,002,budget:B1,300000.00,high,指标长期未支出,d,aaaaaaaaaaa3\n"
        "r,slush_funds,SF08,002,units:002,0,low,首位数字,d,aaaaaaaaaaa4\n", encoding="utf-8")
    plan = build_plan(db, SampleSettings(population="findings", run_dir=str(run), method="random", size=5, seed=1,
                                         filters=Filters(rules=("SF06", "SF07", "SF08"))))
    assert plan["population"]["count"] == 2 and plan["population"]["apart"]["count"] == 1
    assert {s["key"] for s in plan["sample"]} == {"aaaaaaaaaaa1", "aaaaaaaaaaa2"}
    assert {s["source_line"] for s in plan["sample"]} == {2, 3}


# -- parameters --------------------------------------------------------------------------------------

def test_sampling_block_sets_defaults_and_is_validated(db, tmp_path):
    from auditlib.rules.params import load_params

    good = tmp_path / "p.yaml"
    good.write_text("sampling: {method: random, confidence: 0.9, tolerable_rate: 0.1}\n", encoding="utf-8")
    params = load_params(good)
    assert params.sampling["method"] == "random" and params.sampling["confidence"] == 0.9
    plan = draw_sample(db, SampleSettings(seed=1), tmp_path / "s", params_file=str(good))
    assert plan["method"] == "random" and plan["confidence"] == 0.9
    assert Decimal(plan["tolerable"]) == (_book() * Decimal("0.1")).quantize(Decimal("0.01"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("sampling: {method: stratified, confidence: 1.2, tolerable_rate: 0, extra: 1}\n", encoding="utf-8")
    with pytest.raises(ParameterError) as err:
        load_params(bad)
    keys = {p["key"] for p in err.value.problems}
    assert keys == {"sampling.method", "sampling.confidence", "sampling.tolerable_rate", "sampling.extra"}


# -- the explore panel -------------------------------------------------------------------------------

def test_explore_panel_draws_a_sample_of_the_unit_on_screen(sample_db, tmp_path):
    import shutil

    from auditlib.views.explore import Explorer

    db = tmp_path / "audit.duckdb"
    shutil.copy(sample_db, db)
    ex = Explorer(db, lang="zh", out_dir=tmp_path / "explore", register=tmp_path / "register.jsonl")
    ex.unit.value = "0011"
    ex.sample_seed.value = 2024
    ex.sample_button.click()
    assert "已抽样" in ex.message.value, ex.message.value
    plans = list((tmp_path / "explore").glob("sample-*/plan.json"))
    assert len(plans) == 1
    plan = json.loads(plans[0].read_text(encoding="utf-8"))
    assert plan["population"]["filters"]["units"] == ["0011"] and plan["seed"] == 2024
    assert {s["unit_code"] for s in plan["sample"]} == {"0011"}
    assert (plans[0].parent / "sample.xlsx").is_file()
