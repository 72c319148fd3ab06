"""Example decisions (核实结论) for the synthetic county of ``make demo`` (8 units, seed 2024).

``make demo`` runs the batch, records these decisions in the findings register (疑点登记簿)
beside the database, and runs again with ``--register``, so its index already shows 属实 /
排除 / 已整改 beside the 待核实 findings.  Each decision names its finding by rule, unit and
evidence key, so its ``finding_id`` is recomputed (CONTRACT §6), and :func:`record` refuses a
decision whose finding the run did not give (another county, another seed).

Command line (what ``make demo`` calls)::

    python -m auditlib.synth.decisions --db data/audit.duckdb --run outputs/<run_id>
"""
from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from pathlib import Path

from auditlib.review.register import Decision, Register
from auditlib.review.statuses import Status
from auditlib.rules.identity import finding_id

#: who decided, in the demo
DEMO_BY = "演示审计员"

#: (rule_id, unit_code, ref, status, 核实说明, 认定金额 or None)
EXAMPLES = (
    ("SF04", "001", "bank_txns:LS202404120000006", Status.CONFIRMED,
     "提取现金 50000 元用于发放劳务费，无发放签收单", Decimal("50000.00")),
    ("SF02", "006", "bank_txns:LS202406030000132", Status.CONFIRMED,
     "收入 8765.43 元未入账，系账外收取的场地租金", None),
    ("SF06", "001", "payments:ZF20240000019", Status.CONFIRMED,
     "同一发票重复支付，认定重复部分", Decimal("36800.00")),
    ("DP01", "001", "payments:ZF20240000043", Status.CONFIRMED, "验收后 31 天支付，超过 30 日约定", None),
    ("SF08", "002", "units:002", Status.DISMISSED,
     "首位数字偏离系单位支付集中于定额补助所致，抽查凭证未见异常", None),
    ("IF03", "006", "payments:ZF20240001691", Status.DISMISSED,
     "资金划入本单位基本户系按文件规定归垫前期垫付款，附批复", None),
    ("IF04", "001", "balances:1218/同创印刷有限公司", Status.RECTIFIED,
     "往来款已于检查期间清理，附收款凭证", None),
)


def demo_decisions(by: str = DEMO_BY) -> list[Decision]:
    """The example decisions, their ``finding_id`` computed, ``source`` ``cli``."""
    return [Decision(finding_id=finding_id(rule, unit, ref), rule_id=rule, unit_code=unit, ref=ref, status=status,
                     reason=reason, amount=amount, by=by, source="cli")
            for rule, unit, ref, status, reason, amount in EXAMPLES]


def record(register: Register, run_dir=None, by: str = DEMO_BY) -> int:
    """Record the example decisions in ``register``; the number recorded.

    With ``run_dir``, every decision's finding must be in that run's ``findings.csv``
    (ValueError otherwise, nothing recorded).  A decision the register already holds as the
    finding's latest is not recorded again, so the demo can run twice.
    """
    decisions = demo_decisions(by)
    if run_dir is not None:
        from auditlib.outputs.findings_csv import read_findings_csv

        found = set(read_findings_csv(Path(run_dir) / "findings.csv")["finding_id"])
        missing = [f"{d.rule_id} {d.unit_code} {d.ref}" for d in decisions if d.finding_id not in found]
        if missing:
            raise ValueError(f"{run_dir}: not findings of this run (another county?): {'; '.join(missing)}")
    latest = register.latest()
    return register.append([d for d in decisions if not d.same_decision(latest.get(d.finding_id))])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Record make demo's example decisions in the findings register.")
    ap.add_argument("--db", required=True, help="the database; the register is register.jsonl beside it")
    ap.add_argument("--register", default=None, help="another register file")
    ap.add_argument("--run", default=None, help="a run of the demo county whose findings.csv holds every finding")
    a = ap.parse_args(argv)
    register = Register(a.register) if a.register else Register.beside(a.db)
    n = record(register, a.run)
    print(f"示例核实结论已登记 {n} 条 / example decisions recorded: {n} -> {register.path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
