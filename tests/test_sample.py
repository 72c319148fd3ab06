"""The synthetic county of ``auditlib sample``: deterministic, messy, with every rule planted."""
from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import defaultdict
from decimal import Decimal

import pandas as pd
import pytest

from auditlib.errors import AuditlibError
from auditlib.sample import generate

RULES = ["IF01", "IF02", "IF03", "IF04", "SF01", "SF02", "SF03", "SF04", "SF05", "SF06", "SF07",
         "SF08", "SF09", "DP01", "DP02", "DP03", "DP04", "DP05"]
PREFIX = {"IF01": "budget", "IF02": "accounts", "IF03": "payments", "IF04": "balances",
          "SF01": "accounts", "SF02": "bank_txns", "SF03": "ledger", "SF04": "bank_txns",
          "SF05": "payments", "SF06": "payments", "SF07": "payments", "SF08": "units",
          "SF09": "payments", "DP01": "payments", "DP02": "payments", "DP03": "budget",
          "DP04": "payments", "DP05": "units"}


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
    assert list(truth.columns) == ["rule_id", "unit_code", "ref"]
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


# -- an independent, literal reading of CONTRACT §3 on the generated files ---------------------

def _date(text):
    s = str(text).strip()
    if not s or s.lower() in ("nan", "nat", "none"):
        return None
    m = re.match(r"(\d{4})\D?(\d{1,2})\D?(\d{1,2})", s)
    import datetime as dt
    return dt.date(int(m[1]), int(m[2]), int(m[3]))


def _load(folder):
    units = pd.read_csv(folder / "units.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    acc = pd.read_csv(folder / "accounts.csv", dtype=str, keep_default_na=False, encoding="gbk")
    acc.columns = ["unit_code", "account_no", "account_name", "bank_name", "account_type", "opened_on", "closed_on"]
    bud = pd.read_csv(folder / "指标.csv", dtype=str, keep_default_na=False)
    bud.columns = ["unit_code", "budget_id", "project_code", "project_name", "fund_type", "is_special",
                   "amount", "issued_on", "fiscal_year"]
    p1 = pd.read_excel(folder / "payments.xlsx", dtype=str, keep_default_na=False)
    p2 = pd.read_csv(folder / "支付明细.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    p2.columns = list(p1.columns)
    pay = pd.concat([p1, p2], ignore_index=True)
    l1 = pd.read_csv(folder / "ledger.csv", dtype=str, keep_default_na=False)
    l2 = pd.read_csv(folder / "凭证.csv", dtype=str, keep_default_na=False, encoding="gbk")
    l2.columns = list(l1.columns)
    led = pd.concat([l1, l2], ignore_index=True)
    led = led[~led.summary.isin(["合计", "本年累计"])]
    bank = pd.read_csv(folder / "bank_txns.csv", dtype=str, keep_default_na=False)
    return units, acc, bud, pay, led, bank


def _fired(folder):
    import datetime as dt
    import math
    as_of, fy = dt.date(2024, 12, 31), 2024
    units, acc, bud, pay, led, bank = _load(folder)
    out = set()
    P = [dict(r, amount=_money(r["amount"]), paid_on=_date(r["paid_on"]), accepted_on=_date(r["accepted_on"]),
              requested_on=_date(r["requested_on"]), sme=r["payee_is_sme"] in ("Y", "是"),
              term=int(float(r["term_days"])) if r["term_days"] else None) for r in pay.to_dict("records")]
    name = dict(zip(units.unit_code, units.unit_name))
    own = defaultdict(set)
    for u, a in zip(acc.unit_code, acc.account_no):
        own[u].add(a)
    paid_by_budget = defaultdict(Decimal)
    for p in P:
        if p["paid_on"] and p["paid_on"] <= as_of and p["budget_id"]:
            paid_by_budget[p["budget_id"]] += p["amount"]
    for b in bud.to_dict("records"):
        amt, issued = _money(b["amount"]), _date(b["issued_on"])
        if amt - paid_by_budget[b["budget_id"]] >= 10000 and (as_of - issued).days > 365:
            out.add(("IF01", b["unit_code"], f"budget:{b['budget_id']}"))
        if int(b["fiscal_year"]) == fy and amt >= 50000 and paid_by_budget[b["budget_id"]] / amt < Decimal("0.8"):
            out.add(("DP03", b["unit_code"], f"budget:{b['budget_id']}"))
    B = [dict(r, d=_date(r["txn_date"]), i=_money(r["inflow"]), o=_money(r["outflow"]), bal=_money(r["balance"]))
         for r in bank.to_dict("records")]
    reg = {a: r for a, r in zip(acc.account_no, acc.to_dict("records"))}
    for a, r in reg.items():
        if r["account_type"] == "零余额账户":
            continue
        lines = [b for b in B if b["account_no"] == a and b["d"] <= as_of]
        if lines and lines[-1]["bal"] >= 100000 and not any(
                b["o"] and (as_of - b["d"]).days <= 365 for b in lines):
            out.add(("IF02", r["unit_code"], f"accounts:{a}"))
    for b in B:
        r = reg.get(b["account_no"])
        if r is None or r["unit_code"] != b["unit_code"] or (r["closed_on"] and b["d"] > _date(r["closed_on"])):
            out.add(("SF01", b["unit_code"], f"accounts:{b['account_no']}"))
        if b["o"] >= 50000 and re.search("现金|取现|提现|备用金", b["memo"]):
            out.add(("SF04", b["unit_code"], f"bank_txns:{b['txn_id']}"))
    L = [dict(r, d=_date(r["voucher_date"]), dr=_money(r["debit"]), cr=_money(r["credit"]))
         for r in led.to_dict("records")]
    cands = defaultdict(list)
    for i, l in enumerate(L):
        if l["account_code"][:4] in ("1002", "1011"):
            cands[(l["unit_code"], "i" if l["dr"] else "o", l["dr"] or l["cr"])].append(i)
    pairs = []
    for j, b in enumerate(B):
        key = (b["unit_code"], "i" if b["i"] else "o", b["i"] or b["o"])
        for i in cands.get(key, []):
            gap = abs((L[i]["d"] - b["d"]).days)
            if gap <= 10:
                pairs.append((gap, j, i))
    used_b, used_l = set(), set()
    for gap, j, i in sorted(pairs):
        if j not in used_b and i not in used_l:
            used_b.add(j)
            used_l.add(i)
    for j, b in enumerate(B):
        if j not in used_b:
            out.add(("SF02", b["unit_code"], f"bank_txns:{b['txn_id']}"))
    words = "租金 房租 出租 罚款 罚没 处置 变卖 拍卖 废品 回扣 返利 返还 赞助 管理费 利息".split()
    bal, last = defaultdict(Decimal), {}
    for l in L:
        a4 = l["account_code"][:4]
        if a4 in ("2305", "2307") and l["cr"] >= 10000 and any(w in l["summary"] for w in words):
            out.add(("SF03", l["unit_code"], f"ledger:{l['voucher_no']}#{l['line_no']}"))
        if a4 in ("1214", "1218", "2307"):
            k = (l["unit_code"], a4, l["counterparty"])
            bal[k] += (l["dr"] - l["cr"]) if a4.startswith("12") else (l["cr"] - l["dr"])
            last[k] = max(last.get(k, l["d"]), l["d"])
    for k, v in bal.items():
        if v >= 10000 and (as_of - last[k]).days > 730:
            out.add(("IF04", k[0], f"balances:{k[1]}/{k[2]}"))
    names = {v: k for k, v in name.items()}
    owner = {a: u for u, s in own.items() for a in s}
    by_unit = defaultdict(list)
    for p in P:
        by_unit[p["unit_code"]].append(p)
        ref = ("payments:" + p["payment_id"])
        u = p["unit_code"]
        if p["payee_account"] in own[u] or p["payee_name"] == name[u]:
            out.add(("IF03", u, ref))
        if (names.get(p["payee_name"], u) != u) or (owner.get(p["payee_account"], u) != u):
            out.add(("SF09", u, ref))
        if re.search("会议|培训|劳务|咨询", p["expense_type"] + p["memo"]) and p["amount"] >= 10000 \
                and p["amount"] % 1000 == 0:
            out.add(("SF07", u, ref))
        limit = min(p["term"], 60) if p["term"] else 30
        if p["sme"] and p["accepted_on"] and p["paid_on"] and (p["paid_on"] - p["accepted_on"]).days - limit > 0:
            out.add(("DP01", u, ref))
        if p["sme"] and p["accepted_on"] and p["accepted_on"] <= as_of and not p["paid_on"] \
                and (as_of - p["accepted_on"]).days > limit:
            out.add(("DP02", u, ref))
        if p["paid_on"] and p["requested_on"] and (p["paid_on"] - p["requested_on"]).days > 10:
            out.add(("DP04", u, ref))
    expected = [math.log10(1 + 1 / d) for d in range(1, 10)]
    for u, ps in by_unit.items():
        paid = sorted((p for p in ps if p["paid_on"]), key=lambda p: p["paid_on"])
        groups = defaultdict(list)
        for p in paid:
            groups[p["payee_name"].strip()].append(p)
        for g in groups.values():
            small = [p for p in g if p["amount"] < 50000]
            for s in small:
                win = [q for q in small if 0 <= (q["paid_on"] - s["paid_on"]).days <= 7]
                if len(win) >= 2 and sum(q["amount"] for q in win) >= 50000:
                    out.update(("SF05", u, "payments:" + q["payment_id"]) for q in win)
            for a in g:
                for b in g:
                    if a is not b and a["amount"] == b["amount"] and abs((a["paid_on"] - b["paid_on"]).days) <= 30:
                        out.add(("SF06", u, "payments:" + a["payment_id"]))
        amts = [p["amount"] for p in ps if p["amount"] >= 10]
        if len(amts) >= 300:
            first = [int(str(a).lstrip("0.")[0]) for a in amts]
            mad = sum(abs(first.count(d) / len(first) - expected[d - 1]) for d in range(1, 10)) / 9
            if mad > 0.015:
                out.add(("SF08", u, f"units:{u}"))
        fyp = [p for p in paid if p["paid_on"].year == fy]
        total = sum(p["amount"] for p in fyp)
        dec = sum(p["amount"] for p in fyp if p["paid_on"].month == 12)
        if total and dec / total > Decimal("0.3"):
            out.add(("DP05", u, f"units:{u}"))
    return out


@pytest.mark.parametrize("units,seed", [(8, 2024), (12, 7)])
def test_only_planted_cases_fire(tmp_path, units, seed):
    generate(tmp_path, units=units, seed=seed)
    truth = pd.read_csv(tmp_path / "truth.csv", dtype=str, keep_default_na=False)
    planted = set(zip(truth.rule_id, truth.unit_code, truth.ref))
    fired = _fired(tmp_path)
    assert sorted(fired - planted) == [] and sorted(planted - fired) == []
