"""The synthetic county of ``auditlib synth``: deterministic, messy, with every rule planted."""
from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import defaultdict
from decimal import Decimal

import pandas as pd
import pytest

from auditlib.rules.catalogue import all_rules
from auditlib.errors import AuditlibError
from auditlib.synth.county import generate

RULES = [rule.id for rule in all_rules()]
PREFIX = {"IF01": "budget", "IF02": "accounts", "IF03": "payments", "IF04": "balances",
          "SF01": "accounts", "SF02": "bank_txns", "SF03": "ledger", "SF04": "bank_txns",
          "SF05": "payments", "SF06": "payments", "SF07": "payments", "SF08": "units",
          "SF09": "payments", "DP01": "payments", "DP02": "payments", "DP03": "budget",
          "DP04": "payments", "DP05": "units",
          "IF05": "accounts", "IF06": "projects", "IF07": "ledger", "DP06": "payments", "DP07": "budget",
          "SF10": "bank_txns", "SF11": "ledger", "SF12": "payments", "SF13": "payments", "SF14": "vouchers"}


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _money(text) -> Decimal:
    s = str(text).strip().replace(",", "").replace("¥", "").replace("￥", "").replace("元", "")
    return Decimal(s) if s and s.lower() != "nan" else Decimal("0")


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    folder = tmp_path_factory.mktemp("county")
    summary = generate(folder, units=8, seed=2024)
    return folder, summary


def test_same_seed_same_bytes_other_seed_differs(tmp_path, county):
    folder, _ = county
    generate(tmp_path / "a", units=8, seed=2024)
    generate(tmp_path / "b", units=8, seed=99)
    assert _digests(tmp_path / "a") == _digests(folder)
    other = _digests(tmp_path / "b")
    assert other.keys() == _digests(folder).keys()
    assert other != _digests(folder)
    assert other["truth.csv"] != _digests(folder)["truth.csv"] or other["bank_txns.csv"] != _digests(folder)["bank_txns.csv"]


def test_truth_covers_every_rule_with_table_refs(county):
    folder, summary = county
    truth = pd.read_csv(folder / "truth.csv", dtype=str, keep_default_na=False)
    assert list(truth.columns) == ["rule_id", "unit_code", "ref", "exposure", "interest"]
    assert truth["exposure"].str.match(r"^-?\d+\.\d\d$").all()  # exact yuan, every case
    assert truth["interest"].str.match(r"^(\d+\.\d\d)?$").all()
    assert summary.planted == len(truth)
    counts = truth["rule_id"].value_counts()
    for rule in RULES:
        assert counts.get(rule, 0) >= 2, rule
    for rule, ref in zip(truth["rule_id"], truth["ref"]):
        assert ref.startswith(PREFIX[rule] + ":"), (rule, ref)
    rows = list(zip(truth["rule_id"], truth["unit_code"], truth["ref"]))
    assert rows == sorted(rows) and len(set(rows)) == len(rows)
    assert not truth["ref"].str.contains("None").any()
    # SF03 refs name voucher and line
    assert truth.loc[truth.rule_id == "SF03", "ref"].str.match(r"^ledger:.+#\d+$").all()
    assert truth.loc[truth.rule_id == "IF04", "ref"].str.match(r"^balances:\d{4}/.+$").all()


def test_refs_point_at_existing_rows(county):
    folder, _ = county
    truth = pd.read_csv(folder / "truth.csv", dtype=str, keep_default_na=False)
    pay = pd.concat([pd.read_excel(folder / "payments.xlsx", dtype=str),
                     pd.read_csv(folder / "支付明细.csv", dtype=str, encoding="utf-8-sig")
                     .rename(columns={"支付凭证号": "payment_id"})])
    ids = set(pay["payment_id"])
    assert len(ids) == len(pay)  # globally unique
    bank = pd.read_csv(folder / "bank_txns.csv", dtype=str, keep_default_na=False)
    assert bank["txn_id"].is_unique
    budget = pd.read_csv(folder / "指标.csv", dtype=str)
    for ref in truth["ref"]:
        table, key = ref.split(":", 1)
        if table == "payments":
            assert key in ids
        elif table == "bank_txns":
            assert key in set(bank["txn_id"])
        elif table == "budget":
            assert key in set(budget["指标编号"])


def test_gbk_file_and_chinese_headers(county):
    folder, _ = county
    raw = (folder / "accounts.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gbk")
    assert text.startswith("单位编码,账号")
    assert "零余额账户" in text
    (folder / "凭证.csv").read_bytes().decode("gbk")
    assert "指标金额" in (folder / "指标.csv").read_text(encoding="utf-8")
    assert re.search(r"¥\d", (folder / "支付明细.csv").read_text(encoding="utf-8-sig"))
    assert re.search(r'"\d{1,3}(,\d{3})+\.\d\d"', (folder / "指标.csv").read_text(encoding="utf-8"))


def test_xlsx_has_date_cells_and_text_codes(county):
    folder, _ = county
    openpyxl = pytest.importorskip("openpyxl")
    ws = openpyxl.load_workbook(folder / "payments.xlsx").active
    header = [c.value for c in ws[1]]
    row = [c for c in ws[2]]
    assert isinstance(row[header.index("unit_code")].value, str)
    assert isinstance(row[header.index("payee_account")].value, str)
    assert row[header.index("paid_on")].is_date


def test_ledger_vouchers_balance_and_subtotal_rows(county):
    folder, _ = county
    frames = [pd.read_csv(folder / "ledger.csv", dtype=str, keep_default_na=False),
              pd.read_csv(folder / "凭证.csv", dtype=str, keep_default_na=False, encoding="gbk")
              .rename(columns={"单位编码": "unit_code", "凭证号": "voucher_no", "摘要": "summary",
                               "借方金额": "debit", "贷方金额": "credit"})]
    subtotals = 0
    for df in frames:
        sums = defaultdict(Decimal)
        for unit, vno, summary, dr, cr in zip(df.unit_code, df.voucher_no, df.summary, df.debit, df.credit):
            if summary in ("合计", "本月合计", "本年累计"):
                subtotals += 1
                continue
            sums[(unit, vno)] += _money(dr) - _money(cr)
        assert sums and all(v == 0 for v in sums.values())
    assert subtotals >= 1


def test_bank_running_balances(county):
    folder, _ = county
    bank = pd.read_csv(folder / "bank_txns.csv", dtype=str, keep_default_na=False)
    last = {}
    for acct, i, o, bal in zip(bank.account_no, bank.inflow, bank.outflow, bank.balance):
        prev = last.get(acct, Decimal("0"))
        assert prev + _money(i) - _money(o) == _money(bal)
        last[acct] = _money(bal)


def test_codes_keep_leading_zeros(county):
    folder, _ = county
    text = (folder / "units.csv").read_text(encoding="utf-8-sig")
    codes = [line.split(",")[0] for line in text.splitlines()[1:]]
    assert "001" in codes and any(len(c) == 4 and c.startswith("00") for c in codes)
    accounts = (folder / "accounts.csv").read_bytes().decode("gbk")
    assert all(len(row[1]) == 19 for row in list(csv.reader(io.StringIO(accounts)))[1:])


def test_two_hundred_units(tmp_path):
    summary = generate(tmp_path / "big", units=200, seed=5)
    assert summary.counts["units"] == 200
    units = pd.read_csv(tmp_path / "big" / "units.csv", dtype=str, encoding="utf-8-sig")
    assert units["unit_code"].is_unique and units["unit_name"].is_unique
    assert "200" in summary.describe("en") and "单位" in summary.describe("zh")


def test_too_few_units_is_a_clear_error(tmp_path):
    with pytest.raises(AuditlibError):
        generate(tmp_path / "x", units=3)

# That only the planted cases fire is checked through the real ingest and rule engine in
# tests/test_truth.py, so the rules are written once.
