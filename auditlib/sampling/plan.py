"""``auditlib sample``: the sampling plan, the draw, and its record (CONTRACT §7).

:func:`draw_sample` takes the population (:mod:`~auditlib.sampling.population`), sizes the sample
(:mod:`~auditlib.sampling.size`), draws it (:mod:`~auditlib.sampling.draw`) and leaves, in the
output folder, ``plan.json`` (the whole plan and every sampled item) and ``sample.xlsx``
(:mod:`~auditlib.sampling.workbook`); the audit log beside the database records it.

Settings not given on the command line come from the parameters' ``sampling:`` block
(CONTRACT §2, defaults in ``params/default.yaml``): ``method``, ``confidence``, and
``tolerable_rate`` / ``expected_rate`` — the tolerable and expected misstatement as shares of the
book value, used when ``--tolerable`` / ``--expected`` are not given (each then rounded to the cent,
half up).
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from auditlib import auditlog
from auditlib.common.files import write_json
from auditlib.errors import SamplingError
from auditlib.i18n import register, t
from auditlib.sampling.draw import draw_mus, draw_random, new_seed
from auditlib.sampling.population import Filters, Population, from_findings, from_payments
from auditlib.sampling.size import check_confidence, check_money, check_size, mus_size, random_size

register({
    "smp.bad_method": ("抽样方法须为 mus（货币单元抽样）或 random（简单随机抽样）；现为 {value}",
                       "the method must be mus or random; got {value}"),
    "smp.bad_seed": ("随机种子 --seed 须为不小于 0 的整数；现为 {value}", "--seed must be a whole number ≥ 0; got {value}"),
    "smp.drawn": ("已抽取 {items} 个样本项目（{method}，n = {n}，种子 {seed}）→ {out}",
                  "{items} items drawn ({method}, n = {n}, seed {seed}) -> {out}"),
    "smp.method.mus": ("货币单元抽样", "monetary-unit sampling"),
    "smp.method.random": ("简单随机抽样", "simple random sampling"),
})

PLAN_NAME = "plan.json"
WORKBOOK_NAME = "sample.xlsx"
METHODS = ("mus", "random")
POPULATIONS = ("payments", "findings")
_CENT = Decimal("0.01")
PLAN_VERSION = 1


@dataclass(frozen=True)
class SampleSettings:
    """Everything that decides a sample.  ``None`` means "from the parameters' ``sampling:`` block"
    (``seed``: a new one, recorded in the plan)."""

    population: str = "payments"
    method: str | None = None
    filters: Filters = field(default_factory=Filters)
    run_dir: str | None = None
    confidence: float | None = None
    tolerable: Decimal | None = None
    expected: Decimal | None = None
    size: int | None = None
    seed: int | None = None


def money(value) -> Decimal:
    """Yuan to the cent, half up (the one rounding rule of the sampling figures)."""
    return Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP)


def resolve(settings: SampleSettings, defaults: dict, lang: str | None = None) -> dict:
    """The settings checked and completed from ``defaults`` (the ``sampling:`` block)."""
    method = settings.method or defaults.get("method", "mus")
    if method not in METHODS:
        raise SamplingError(t("smp.bad_method", lang, value=method), key="method", reason="unknown")
    if settings.population not in POPULATIONS:
        raise SamplingError(t("smp.bad_population", lang, value=settings.population), key="population",
                            reason="unknown")
    if settings.population == "findings" and not settings.run_dir:
        raise SamplingError(t("smp.need_run", lang), key="run", reason="missing")
    confidence = check_confidence(settings.confidence if settings.confidence is not None
                                  else defaults.get("confidence", 0.95), lang)
    seed = settings.seed if settings.seed is not None else new_seed()
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SamplingError(t("smp.bad_seed", lang, value=seed), key="seed", reason="not a whole number")
    out = {"method": method, "confidence": confidence, "seed": seed, "size": None,
           "tolerable": None, "expected": None}
    if settings.tolerable is not None:
        out["tolerable"] = check_money(settings.tolerable, "tolerable", True, lang)
    if settings.expected is not None:
        out["expected"] = check_money(settings.expected, "expected", False, lang)
    if settings.size is not None:
        out["size"] = check_size(settings.size, lang)
    return out


def _population(db, settings: SampleSettings, lang) -> Population:
    if settings.population == "findings":
        return from_findings(settings.run_dir, settings.filters, db=db, lang=lang)
    return from_payments(db, settings.filters, lang=lang)


def build_plan(db: str | os.PathLike, settings: SampleSettings, defaults: dict | None = None,
               lang: str | None = None, population: Population | None = None) -> dict:
    """The plan (what ``plan.json`` holds) for ``settings`` on ``db``: nothing is written.

    Raises
    ------
    SamplingError
        A bad setting or an empty population, naming the option.
    """
    defaults = defaults or {}
    r = resolve(settings, defaults, lang)
    pop = population if population is not None else _population(db, settings, lang)
    book = pop.book_value
    tolerable = r["tolerable"] if r["tolerable"] is not None else money(
        book * Decimal(str(defaults.get("tolerable_rate", "0.05"))))
    expected = r["expected"] if r["expected"] is not None else money(
        book * Decimal(str(defaults.get("expected_rate", "0"))))
    if r["size"] is None:  # only a computed size needs a tolerable misstatement that makes sense
        check_money(tolerable, "tolerable", True, lang)
    method, seed, confidence = r["method"], r["seed"], r["confidence"]
    items = pop.items
    if method == "mus":
        sized = (mus_size(book, tolerable, expected, confidence, lang) if r["size"] is None else None)
        n = r["size"] if r["size"] is not None else sized.n
        drawn = draw_mus(list(items["amount"]), n, seed)
        chosen = [(i, h) for i, h in enumerate(drawn.hits) if h]
        interval = drawn.interval
        start = Decimal(drawn.start_cents) / 100
    else:
        sized = (random_size(book, tolerable, expected, confidence, pop.count, lang) if r["size"] is None else None)
        n = min(r["size"] if r["size"] is not None else sized.n, pop.count)
        chosen = [(i, 1) for i in draw_random(pop.count, n, seed)]
        interval, start = None, None
    # the top stratum (an item of at least the interval: amount × n ≥ B, exactly) first, each part in
    # population order
    marked = [(i, hits, interval is not None and Decimal(items.iloc[i]["amount"]) * n >= book) for i, hits in chosen]
    marked.sort(key=lambda x: (not x[2], x[0]))
    sample = []
    for seq, (i, hits, top) in enumerate(marked, start=1):
        row = items.iloc[i]
        amount = Decimal(row["amount"])
        sample.append({"seq": seq, "key": str(row["key"]), "unit_code": str(row["unit_code"]),
                       "date": row["date"].isoformat() if row["date"] is not None else None,
                       "party": _text(row["party"]), "category": _text(row["category"]), "memo": _text(row["memo"]),
                       "amount": str(amount), "hits": hits, "top_stratum": bool(top),
                       "source_file": _text(row["source_file"]), "source_line": int(row["source_line"] or 0)})
    top = [s for s in sample if s["top_stratum"]]
    apart_amount = sum((Decimal(a) for a in pop.apart["amount"] if a is not None), Decimal("0"))
    return {
        "version": PLAN_VERSION,
        "created": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "db": str(Path(db).resolve()) if db else None,
        "run": str(Path(settings.run_dir).resolve()) if settings.run_dir else None,
        "population": {"kind": pop.kind, "filters": pop.filters.to_dict(), "book_value": str(book),
                       "count": pop.count, "apart": {"count": len(pop.apart), "amount": str(apart_amount)}},
        "method": method, "seed": seed, "confidence": confidence,
        "tolerable": str(tolerable), "expected": str(expected),
        "size_rule": "fixed" if sized is None else sized.rule,
        "factor": None if sized is None else sized.factor,
        "n": n,
        "interval": str(money(interval)) if interval is not None else None,
        "interval_exact": str(interval) if interval is not None else None,
        "random_start": str(start) if start is not None else None,
        "top_stratum": {"count": len(top), "amount": str(sum((Decimal(s["amount"]) for s in top), Decimal("0")))},
        "sample_count": len(sample),
        "sample_amount": str(sum((Decimal(s["amount"]) for s in sample), Decimal("0"))),
        "inputs": list(pop.inputs),
        "rng": "numpy.random.Generator(PCG64(seed)), raw 64-bit words, rejection sampling",
        "sample": sample,
    }


def _text(value) -> str:
    if value is None:
        return ""
    try:
        import pandas as pd

        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def draw_sample(db: str | os.PathLike, settings: SampleSettings, out: str | os.PathLike,
                params_file: str | None = None, lang: str | None = None) -> dict:
    """Draw the sample and write ``plan.json`` and ``sample.xlsx`` into ``out``; log it.

    Returns the plan (with ``paths``).
    """
    from auditlib.rules.params import load_params
    from auditlib.sampling.workbook import write_workbook

    params = load_params(params_file)
    lang = lang or params.lang
    plan = build_plan(db, settings, getattr(params, "sampling", {}) or {}, lang)
    plan["params"] = list(params.sources)
    plan["lang"] = lang
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    workbook = write_workbook(plan, out / WORKBOOK_NAME, lang)
    write_json(out / PLAN_NAME, plan)
    auditlog.append(db, "sample", [db] + ([params_file] if params_file else []) + (
        [Path(settings.run_dir) / "findings.csv"] if settings.run_dir else []), {
        "out": str(out.resolve()), "method": plan["method"], "seed": plan["seed"], "n": plan["n"],
        "items": plan["sample_count"], "book_value": plan["population"]["book_value"],
        "population": plan["population"]["kind"], "filters": plan["population"]["filters"]})
    plan["paths"] = {"plan": str(out / PLAN_NAME), "workbook": str(workbook)}
    return plan


def describe(plan: dict, lang: str | None = None) -> str:
    """The one line the command prints."""
    return t("smp.drawn", lang, items=plan["sample_count"], method=t(f"smp.method.{plan['method']}", lang),
             n=plan["n"], seed=plan["seed"], out=plan.get("paths", {}).get("workbook", ""))

