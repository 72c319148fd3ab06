"""The command line in the user's language (issue 14): Chinese help and errors by default, English
with ``--lang en`` or ``AUDITLIB_LANG=en``; ``scan`` checks units and inspections as ``run`` does;
every parameter error at once, unit keys as written; no kernel TCP warning in a run."""
from __future__ import annotations

import csv
import datetime as dt
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from auditlib.batch.plan import select_inspections
from auditlib.cli import main
from auditlib.errors import ParameterError
from auditlib.i18n import t
from auditlib.rules.params import load_params
from test_rules import make_db, pay

CJK = re.compile(r"[\u4e00-\u9fff]")


def invoke(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env={"AUDITLIB_LANG": None, **(env or {})},
                              prog_name="auditlib")


def commands(group: click.Group, path=()):
    """Every command path of the CLI, groups included."""
    for name, cmd in group.commands.items():
        yield (*path, name)
        if isinstance(cmd, click.Group):
            yield from commands(cmd, (*path, name))


@pytest.fixture
def db(tmp_path):
    payments = [pay("M1", expense_type="会议费", amount=Decimal("10000.00"), paid_on=dt.date(2024, 3, 1)),
                pay("M2", unit_code="0012", expense_type="培训费", amount=Decimal("12000.00"),
                    paid_on=dt.date(2024, 3, 1))]
    return make_db(tmp_path / "s.duckdb", payments=payments)


def test_main_and_run_help_are_chinese():
    for args in ([], ["run"]):
        res = invoke(*args, "--help")
        assert res.exit_code == 0, res.output
        assert res.output.startswith("用法：auditlib") and "选项" in res.output and "显示本帮助并退出" in res.output
        assert "Usage:" not in res.output and "Show this message" not in res.output
    top = invoke("--help").output
    assert "命令" in top and "逐单位运行检查底稿" in top and "财政专项检查" in top
    run = invoke("run", "--help").output
    assert "DuckDB 数据库文件" in run and "[必填]" in run and "[默认：600" in run


@pytest.mark.parametrize("path", list(commands(main)), ids=" ".join)
def test_every_command_and_option_has_help_in_both_languages(path):
    zh = invoke(*path, "--help")
    en = invoke(*path, "--help", "--lang", "en")  # --lang after --help still counts
    assert zh.exit_code == 0 and en.exit_code == 0, (zh.output, en.output)
    assert "help." not in zh.output and "help." not in en.output  # every key found
    assert zh.output.startswith("用法：") and en.output.startswith("Usage:")
    assert "显示本帮助并退出" in zh.output and "Show this message and exit." in en.output
    cmd = main
    for name in path:
        cmd = cmd.commands[name]
    for item in (cmd, *(p for p in cmd.params if isinstance(p, click.Option))):
        assert item.help and item.help.startswith("help."), (path, item.name)  # an i18n key
        zh_text, en_text = t(item.help, "zh"), t(item.help, "en")
        assert CJK.search(zh_text) and zh_text.split("。")[0][:6] in zh.output.replace("\n", ""), (path, item.name)
        assert en_text.split()[0] in en.output, (path, item.name)


def test_english_by_flag_or_environment():
    assert invoke("--lang", "en", "--help").output.startswith("Usage: auditlib")
    res = invoke("run", "--help", env={"AUDITLIB_LANG": "en"})
    assert "Run the inspection notebooks per unit" in res.output and "[required]" in res.output
    assert not CJK.search(res.output.split("--inspections")[0])


def test_missing_database_says_to_ingest(tmp_path):
    nope = tmp_path / "nope.duckdb"
    res = invoke("scan", "--db", nope, "--out", tmp_path / "f.csv")
    assert res.exit_code == 2
    assert f"文件 {nope} 不存在" in res.output and "auditlib ingest" in res.output
    assert "用法：auditlib scan" in res.output and "auditlib scan --help" in res.output
    res = invoke("run", "--db", nope, "--lang", "en")
    assert res.exit_code == 2
    assert "does not exist" in res.output and "run `auditlib ingest DATA_DIR --db" in res.output


@pytest.mark.parametrize("args, zh, en", [
    (["init"], "缺少参数 'FOLDER'", "Missing argument 'FOLDER'"),
    (["scan", "--out", "x.csv"], "缺少选项 '--db'", "Missing option '--db'"),
    (["run", "--bogus"], "没有选项 --bogus", "No such option"),
    (["nothing"], "没有命令 'nothing'", "No such command"),
    (["synth", "x", "--units", "0"], "不在范围", "not in the range"),
    (["review", "set", "a", "--by", "x", "--status", "bad"], "不是可选值之一", "is not one of"),
])
def test_usage_errors_are_translated_and_exit_2(args, zh, en):
    res = invoke(*args)
    assert res.exit_code == 2 and zh in res.output and "错误：" in res.output, res.output
    assert "--help' 查看用法" in res.output
    res = invoke(*args, env={"AUDITLIB_LANG": "en"})
    assert res.exit_code == 2 and en in res.output and "Error:" in res.output, res.output


@pytest.mark.parametrize("lang, word", [("zh", "数据库中没有单位：9999"), ("en", "no such unit in the database: 9999")])
def test_scan_refuses_unknown_units(db, tmp_path, lang, word):
    out = tmp_path / "f.csv"
    res = invoke("scan", "--db", db, "--out", out, "--units", "0012,9999", "--lang", lang)
    assert res.exit_code == 2 and word in res.output, res.output
    assert not out.exists()


def test_inspections_by_chinese_name(db, tmp_path):
    by_key, by_name = tmp_path / "k.csv", tmp_path / "n.csv"
    assert invoke("scan", "--db", db, "--out", by_key, "--inspections", "slush_funds").exit_code == 0
    res = invoke("scan", "--db", db, "--out", by_name, "--inspections", "小金库")
    assert res.exit_code == 0, res.output
    rows = lambda p: sorted(tuple(r[k] for k in r if k != "run_id") for r in csv.DictReader(p.open(encoding="utf-8-sig")))
    assert rows(by_key) == rows(by_name) and rows(by_key)
    assert select_inspections(["沉淀资金", "小金库", "支付不及时"], "zh") == ("idle_funds", "slush_funds",
                                                                       "delayed_payments")
    assert select_inspections(["slush_funds", "小金库", "Slush funds"], "zh") == ("slush_funds",)
    assert select_inspections(None, "zh") == ("idle_funds", "slush_funds", "delayed_payments")
    res = invoke("scan", "--db", db, "--out", by_name, "--inspections", "金库")
    assert res.exit_code == 2 and "未知检查 '金库'" in res.output and "小金库" in res.output


def test_every_parameter_error_at_once_with_keys_as_written(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("colour: red\nrules:\n  IF01: {min_amount: -1, carry_days: 36.5}\n  XX99: {a: 1}\n"
                 "units:\n  0011: {rules: {SF04: {min_amount: 1}}}\n"
                 '  "0012": {rules: {SF04: {min_amount: 20000, bogus: 1}}}\n', encoding="utf-8")
    with pytest.raises(ParameterError) as info:
        load_params(f)
    keys = [p["key"] for p in info.value.problems]
    assert sorted(keys) == sorted(['units."0011"', "colour", "rules.IF01.min_amount", "rules.IF01.carry_days",
                                   "rules.XX99", "units.0012.rules.SF04.bogus"])
    assert all(p["file"] == str(f) for p in info.value.problems)
    assert all(k in str(info.value) for k in keys) and "units.9" not in str(info.value)
    assert info.value.key == keys[0] and info.value.file == str(f)
    res = invoke("scan", "--db", f, "--params", f, "--out", tmp_path / "x.csv")  # the CLI prints them all
    assert res.exit_code == 2 and all(k in res.output for k in keys) and "6 处错误" in res.output


def test_unit_keys_are_read_as_text(tmp_path):
    f = tmp_path / "ok.yaml"
    f.write_text('units:\n  "0011": {rules: {SF04: {min_amount: 20000}}}\n  "9": {rules: {SF04: {min_amount: 30000}}}\n',
                 encoding="utf-8")
    params = load_params(f)
    assert params.for_unit("0011")["SF04"]["min_amount"] == Decimal(20000)
    assert params.for_unit("9")["SF04"]["min_amount"] == Decimal(30000)


@pytest.mark.batch
@pytest.mark.parametrize("kernels", ["--reuse-kernels", "--fresh-kernels"])
def test_run_prints_no_kernel_tcp_warning(sample_db, tmp_path, kernels):
    exe = Path(sys.executable).parent / "auditlib"
    proc = subprocess.run([str(exe), "run", "--db", str(sample_db), "--out", str(tmp_path / "out"), "--units", "001,002",
                           "--inspections", "小金库", "--workers", "1", "--no-progress", kernels],
                          capture_output=True, text=True, timeout=600, env={**os.environ, "AUDITLIB_LANG": "zh"})
    assert proc.returncode == 0, proc.stderr
    assert "without encryption" not in proc.stderr and "TCP" not in proc.stderr, proc.stderr
    assert len(list((tmp_path / "out").rglob("slush_funds.html"))) == 2
