"""``auditlib sample evaluate``: the misstatement projected from the verified sample (CONTRACT §7).

Monetary-unit sampling — the Poisson (Stringer) bound of the AICPA Audit Guide *Audit Sampling*,
interval J = B ÷ n, confidence c, factors ``RF(k)`` = :func:`~auditlib.sampling.factors.poisson_factor`:

* a top-stratum item (book amount ≥ J) counts with its actual misstatement;
* any other item with misstatement d and book amount b has the tainting τ = d ÷ b and projects τ × J;
* basic precision BP = RF(0) × J; projected misstatement PM = Σ τ × J + Σ top-stratum misstatements;
  incremental allowance IA = Σᵢ (RF(i) − RF(i−1) − 1) × τ₍ᵢ₎ × J over the taintings in descending
  order; upper misstatement limit UML = BP + PM + IA.  With no misstatement UML = BP =
  B × ln(1 ÷ (1 − c)) ÷ n.

Simple random sampling — N eligible items of book value B, n sampled, misstatement eᵢ on book bᵢ,
finite-population factor f = n ÷ N, z the two-sided normal quantile at c:

* ratio estimate: R = Σe ÷ Σb, Ê = R × B, SE = N × √((1 − f) ÷ n) × s(e − R b);
* difference estimate: Ê = N × ē, SE = N × √((1 − f) ÷ n) × s(e);
* interval Ê ± z × SE (none with n < 2); the upper limit reported is the ratio estimate's.

An item that cannot be verified (无法核实) counts as misstated in full (taint 1), the conservative
reading.  Rounding: each figure is computed in floating point from exact cents and rounded to the
cent, half up; UML is the sum of the three rounded parts, so the figures shown add up.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import os
from decimal import Decimal
from pathlib import Path

from auditlib import auditlog
from auditlib.common.files import write_json
from auditlib.errors import SamplingError
from auditlib.i18n import register, t
from auditlib.sampling.factors import normal_quantile, poisson_factor
from auditlib.sampling.plan import PLAN_NAME, WORKBOOK_NAME, money
from auditlib.sampling.readback import read_filled
from auditlib.sampling.words import Conclusion

register({
    "smp.ev.no_plan": ("{path} 旁没有 plan.json（抽样方案），无法评价", "no plan.json (the sampling plan) beside {path}"),
    "smp.ev.bad_plan": ("{path} 不是 auditlib 的抽样方案：{reason}", "{path} is not an auditlib sampling plan: {reason}"),
    "smp.ev.errors": ("有差错项目数", "Items misstated"),
    "smp.ev.unverifiable": ("无法核实项目数（按全额计为差错）", "Items not verifiable (counted in full)"),
    "smp.ev.sample_error": ("样本差错金额合计（元）", "Misstatement found in the sample (yuan)"),
    "smp.ev.basic": ("基本精确度（元）", "Basic precision (yuan)"),
    "smp.ev.projected": ("推断错报（元）", "Projected misstatement (yuan)"),
    "smp.ev.incremental": ("增量允许误差（元）", "Incremental allowance (yuan)"),
    "smp.ev.uml": ("错报上限（元）", "Upper misstatement limit (yuan)"),
    "smp.ev.ratio": ("比率估计推断错报（元）", "Ratio estimate of misstatement (yuan)"),
    "smp.ev.difference": ("差额估计推断错报（元）", "Difference estimate of misstatement (yuan)"),
    "smp.ev.ratio_ci": ("比率估计的置信区间（元）", "Confidence interval, ratio estimate (yuan)"),
    "smp.ev.difference_ci": ("差额估计的置信区间（元）", "Confidence interval, difference estimate (yuan)"),
    "smp.ev.tolerable": ("可容忍错报（元）", "Tolerable misstatement (yuan)"),
    "smp.ev.conclusion": ("结论", "Conclusion"),
    "smp.ev.conclusion.within": ("在 {confidence} 可信赖程度下，错报上限不超过可容忍错报：总体可以接受",
                                 "at {confidence} confidence the upper limit is within the tolerable misstatement"),
    "smp.ev.conclusion.exceeds": ("在 {confidence} 可信赖程度下，错报上限超过可容忍错报：总体可能存在重大错报，应扩大检查或提请被检查单位调整",
                                  "at {confidence} confidence the upper limit exceeds the tolerable misstatement: "
                                  "extend the work or ask for adjustment"),
    "smp.ev.rule": ("计算方法", "Method"),
    "smp.ev.rule.mus": ("泊松法 / Stringer 界（AICPA《审计抽样指南》）；无法核实按全额计；各项四舍五入到分",
                        "Poisson / Stringer bound (AICPA Audit Sampling guide); unverifiable items in full; "
                        "each figure rounded to the cent, half up"),
    "smp.ev.rule.random": ("比率估计与差额估计，正态近似双侧置信区间（含有限总体校正）；无法核实按全额计；四舍五入到分",
                           "ratio and difference estimates, two-sided normal intervals with the finite-population "
                           "correction; unverifiable items in full; rounded to the cent, half up"),
    "smp.ev.done": ("评价结果已写入 {workbook} 的抽样方案表和 {json}", "Evaluation written to {workbook}'s plan sheet and {json}"),
})

EVALUATION_NAME = "evaluation.json"


def _m(value: float | Decimal | None) -> str | None:
    return None if value is None else str(money(value))


def evaluate_mus(book_value: Decimal, n: int, confidence: float, items: list[tuple[Decimal, Decimal]]) -> dict:
    """The Poisson/Stringer evaluation of a monetary-unit sample.

    Parameters
    ----------
    book_value : Decimal
        B.
    n : int
        Selections (the interval is B ÷ n).
    confidence : float
        c in (0, 1).
    items : list of (book amount, misstatement)
        Every sampled item, misstatement 0 when none.
    """
    interval = float(book_value) / n
    rf = [poisson_factor(0, confidence)]
    taints, top_error = [], Decimal("0")
    for book, error in items:
        if error == 0:
            continue
        if book * n >= book_value:  # top stratum, exactly
            top_error += error
        else:
            taints.append(float(error) / float(book))
    taints.sort(reverse=True)
    for k in range(1, len(taints) + 1):
        rf.append(poisson_factor(k, confidence))
    basic = money(rf[0] * interval)
    projected = money(Decimal(repr(sum(tau * interval for tau in taints))) + top_error)
    incremental = money(sum((rf[i] - rf[i - 1] - 1) * tau * interval for i, tau in enumerate(taints, start=1)))
    return {"method": "mus", "interval": interval, "factors": rf, "taintings": taints,
            "top_stratum_misstatement": str(top_error), "basic_precision": str(basic),
            "projected_misstatement": str(projected), "incremental_allowance": str(incremental),
            "upper_misstatement_limit": str(basic + projected + incremental)}


def evaluate_random(book_value: Decimal, count: int, confidence: float,
                    items: list[tuple[Decimal, Decimal]]) -> dict:
    """Ratio and difference estimates of a simple random sample of ``count`` eligible items."""
    n = len(items)
    b = [float(x) for x, _ in items]
    e = [float(y) for _, y in items]
    z = normal_quantile((1 + confidence) / 2)
    fpc = max(0.0, 1 - n / count)
    ratio = sum(e) / sum(b) if sum(b) else 0.0

    def sd(values):
        if len(values) < 2:
            return None
        mean = sum(values) / len(values)
        return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))

    def estimate(point, spread):
        se = None if spread is None else count * math.sqrt(fpc / n) * spread
        return {"estimate": _m(point), "standard_error": None if se is None else round(se, 6),
                "low": None if se is None else _m(point - z * se), "high": None if se is None else _m(point + z * se)}

    ratio_est = estimate(ratio * float(book_value), sd([ei - ratio * bi for bi, ei in zip(b, e)]))
    diff_est = estimate(count * (sum(e) / n), sd(e))
    upper = ratio_est["high"] if ratio_est["high"] is not None else ratio_est["estimate"]
    return {"method": "random", "z": z, "ratio_value": ratio, "ratio": ratio_est, "difference": diff_est,
            "basic_precision": None, "projected_misstatement": ratio_est["estimate"],
            "incremental_allowance": None, "upper_misstatement_limit": upper}


def locate(path: str | os.PathLike) -> tuple[Path, Path]:
    """(workbook, plan.json) for a folder or a workbook path."""
    path = Path(path)
    workbook = path / WORKBOOK_NAME if path.is_dir() else path
    return workbook, workbook.parent / PLAN_NAME


def load_plan(plan_path: Path, lang: str | None = None) -> dict:
    if not plan_path.is_file():
        raise SamplingError(t("smp.ev.no_plan", lang, path=plan_path.parent), file=str(plan_path), reason="missing")
    try:
        plan = json.loads(plan_path.read_text(encoding="utf-8"))
        for key in ("method", "n", "sample", "population", "confidence", "tolerable"):
            plan[key]  # noqa: B018 - presence check
    except (ValueError, KeyError, TypeError) as exc:
        raise SamplingError(t("smp.ev.bad_plan", lang, path=plan_path, reason=exc), file=str(plan_path),
                            reason=str(exc)) from None
    return plan


def evaluate(path: str | os.PathLike, lang: str | None = None) -> dict:
    """Read the filled sample back, evaluate it, write ``evaluation.json`` and the plan sheet.

    Raises
    ------
    SamplingError
        No plan, or the workbook refused (every problem named; nothing written).
    """
    from auditlib.sampling.workbook import write_workbook

    workbook, plan_path = locate(path)
    plan = load_plan(plan_path, lang)
    lang = lang or plan.get("lang") or "zh"
    results = read_filled(workbook, plan, lang)
    items = [(Decimal(s["amount"]), results[s["seq"]].misstatement) for s in plan["sample"]]
    book = Decimal(plan["population"]["book_value"])
    confidence = float(plan["confidence"])
    if plan["method"] == "mus":
        ev = evaluate_mus(book, int(plan["n"]), confidence, items)
    else:
        ev = evaluate_random(book, int(plan["population"]["count"]), confidence, items)
    tolerable = Decimal(plan["tolerable"])
    ev.update({
        "confidence": confidence, "tolerable": str(tolerable),
        "errors": sum(1 for r in results.values() if r.misstatement != 0),
        "unverifiable": sum(1 for r in results.values() if r.conclusion is Conclusion.UNVERIFIABLE),
        "sample_misstatement": str(sum((r.misstatement for r in results.values()), Decimal("0"))),
        "items": len(results),
        "conclusion": "within" if Decimal(ev["upper_misstatement_limit"]) <= tolerable else "exceeds",
        "evaluated": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "workbook": str(workbook),
    })
    filled = {seq: (r.conclusion.label(lang), r.raw_error, r.note) for seq, r in results.items()}
    write_workbook(plan, workbook, lang, filled=filled, evaluation=ev)
    out = workbook.parent / EVALUATION_NAME
    write_json(out, ev)
    db = plan.get("db")
    if db and Path(db).parent.is_dir():
        auditlog.append(db, "sample evaluate", [workbook, plan_path], {
            "workbook": str(workbook), "method": ev["method"], "errors": ev["errors"],
            "upper_misstatement_limit": ev["upper_misstatement_limit"], "conclusion": ev["conclusion"]})
    ev["paths"] = {"workbook": str(workbook), "evaluation": str(out)}
    ev["lang"] = lang
    return ev


def describe(ev: dict, lang: str | None = None) -> str:
    """The evaluation as printed lines."""
    from auditlib.sampling.workbook import evaluation_rows

    lines = []
    for label, value in evaluation_rows(ev, lang or "zh"):
        text = f"{value:,.2f}" if isinstance(value, Decimal) else ("" if value is None else str(value))
        lines.append(f"{label}：{text}" if (lang or "zh") == "zh" else f"{label}: {text}")
    lines.append(t("smp.ev.done", lang, workbook=ev["paths"]["workbook"], json=ev["paths"]["evaluation"]))
    return "\n".join(lines)
