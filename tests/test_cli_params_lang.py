"""Small things of issue 16 on the CLI side: commands taking --params follow the parameters' ``lang``
when neither --lang nor AUDITLIB_LANG is given; unit folders of unsafe codes are readable."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from click.testing import CliRunner

from auditlib.batch.plan import unit_folder
from auditlib.cli import main
from test_rules import make_db, pay

CJK = re.compile(r"[\u4e00-\u9fff]")


def _scan(tmp_path, *extra, env=None):
    db = make_db(tmp_path / "s.duckdb", payments=[pay("M1", amount=Decimal("10000.00"), paid_on=dt.date(2024, 3, 1))])
    params = tmp_path / "p.yaml"
    params.write_text('lang: en\nas_of: "2024-12-31"\nfiscal_year: 2024\n', encoding="utf-8")
    return CliRunner().invoke(main, ["scan", "--db", str(db), "--params", str(params), "--out",
                                     str(tmp_path / "f.csv"), *extra], env={"AUDITLIB_LANG": None, **(env or {})})


def test_scan_summary_follows_lang_of_the_parameters(tmp_path):
    res = _scan(tmp_path)
    assert res.exit_code == 0, res.output
    assert not CJK.search(res.output), res.output


def test_lang_option_and_environment_win_over_the_parameters(tmp_path):
    assert CJK.search(_scan(tmp_path, "--lang", "zh").output)
    assert CJK.search(_scan(tmp_path, env={"AUDITLIB_LANG": "zh"}).output)


def test_unit_folders_of_unsafe_codes_are_a_slug_and_a_short_hash():
    assert unit_folder("0012") == "0012"
    folder = unit_folder("Leeds City Council")
    assert re.fullmatch(r"Leeds_City_Council~[0-9a-f]{8}", folder)
    assert unit_folder("../../x").startswith("x~") and "/" not in unit_folder("a/b")
    assert unit_folder("收款单位").startswith("unit~")
    # one slug, two codes: the hash keeps them apart; a raw safe code never holds '~'
    assert unit_folder("a b") != unit_folder("a/b") and unit_folder("a b").split("~")[0] == "a_b"
    assert unit_folder("CON").startswith("CON~")  # a Windows device name is not a folder
