"""``index.html``: a run at a glance for reviewers, built from its manifest.

Units × inspections with status, finding counts, amounts and links to each report,
workbook and notebook; per task the findings by verification status (待核实 / 属实 / 已整改 / 排除)
and, when the run compared with a baseline, per unit the new / persisting / resolved counts
(CONTRACT §6), from the task records' optional ``statuses`` and ``changes``; the failures with
their error; the inputs with SHA-256.
Every value is escaped (Jinja2 autoescape) and every link is relative and
percent-encoded, so the page opens from disk, offline, wherever the run folder is copied.
"""
from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import auditlib.rules.coverage  # noqa: F401  (registers the 未检查 texts the cells use)
from auditlib.rules.catalogue import INSPECTIONS
from auditlib.i18n import register, t
from auditlib.common.files import write_text
from auditlib.outputs.county_data import FINDINGS_XLSX, REPORT_DOCX
from auditlib.outputs.formats import local_time, money, table_label
from auditlib.outputs.totals import dedup_exposure, interest_total
from auditlib.review.statuses import Status

TEMPLATE = Path(__file__).resolve().parent / "templates" / "index.html.j2"
PAGE_LANG = {"zh": "zh-CN", "en": "en"}

register({
    "idx.title": ("专项检查批量运行", "Inspection run"),
    "idx.as_of": ("检查截止日", "Cut-off"),
    "idx.started": ("开始时间", "Started"),
    "idx.finished": ("结束时间", "Finished"),
    "idx.status": ("任务状态", "Tasks"),
    "idx.tally": ("共 {n} 项：成功 {ok}，失败 {failed}，未完成 {other}",
                  "{n} tasks: {ok} ok, {failed} failed, {other} not done"),
    "idx.total": ("发现疑点合计", "Leads in all"),
    "idx.total_value": ("{n} 条，涉及金额 {amount} 元", "{n}, amount {amount} yuan"),
    "idx.total_extra": ("；涉及资金（去重） {dedup} 元；逾期利息 {interest} 元（另计，不计入合计）",
                        "; de-duplicated {dedup} yuan; late-payment interest {interest} yuan (apart, in no total)"),
    "idx.unit_total": ("单位合计", "Unit total"),
    "idx.unit_total_value": ("涉及金额 {amount} 元；涉及资金（去重） {dedup} 元",
                             "amount {amount} yuan; de-duplicated {dedup} yuan"),
    "idx.overview": ("总览", "Overview"),
    "idx.county_report": ("检查情况报告（草稿）", "Inspection report (draft)"),
    "idx.county_findings": ("问题清单", "List of findings"),
    "idx.matrix": ("单位 × 检查事项", "Units × inspections"),
    "idx.unit_code": ("单位编码", "Unit code"),
    "idx.unit_name": ("单位名称", "Unit"),
    "idx.inspection": ("检查事项", "Inspection"),
    "idx.n_items": ("条", "findings"),
    "idx.yuan": ("元", "yuan"),
    "idx.report": ("报告", "report"),
    "idx.workbook": ("工作底稿", "workbook"),
    "idx.failures": ("失败的任务", "Failed tasks"),
    "idx.error": ("错误", "Error"),
    "idx.inputs": ("数据来源", "Data sources"),
    "idx.file": ("文件", "File"),
    "idx.table": ("表", "Table"),
    "idx.rows": ("行数", "Rows"),
    "idx.software": ("软件版本", "Software"),
    "idx.st.ok": ("完成", "ok"),
    "idx.st.failed": ("失败", "failed"),
    "idx.st.pending": ("未运行", "pending"),
    "idx.st.skipped": ("跳过", "skipped"),
    "idx.verify": ("核实情况", "Verification"),
    "idx.changes": ("对比上次", "Against baseline"),
    "idx.baseline": ("对比批次", "Baseline run"),
    "idx.ch.new": ("新增", "new"),
    "idx.ch.persisting": ("仍存在", "persisting"),
    "idx.ch.resolved": ("已消除", "resolved"),
    "idx.ch.unrectified": ("上次已确认、本次仍存在（未整改）", "confirmed last time, still there"),
    "idx.register": ("疑点登记簿", "Findings register"),
    "idx.register_value": ("{decisions} 条核实记录", "{decisions} decisions"),
})

#: statuses in the order the page shows them
_STATUS_ORDER = (Status.OPEN, Status.CONFIRMED, Status.RECTIFIED, Status.DISMISSED)
#: change counts in the order the page shows them
_CHANGE_KEYS = ("new", "persisting", "resolved", "unrectified")


#: labels the template shows as they are (``idx.<key>``)
_LABELS = ("title", "county_report", "county_findings", "as_of", "started", "finished", "status", "total", "overview", "matrix", "unit_code",
           "unit_name", "inspection", "n_items", "yuan", "report", "workbook", "failures", "error", "inputs",
           "file", "table", "rows", "software", "verify", "changes", "baseline", "register", "unit_total")


def _run_findings(run_dir: Path):
    """The run's ``findings.csv`` (the tasks that are ok), None when it is not there (yet)."""
    from auditlib.outputs.findings_csv import read_findings_csv

    path = run_dir / "findings.csv"
    return read_findings_csv(path) if path.is_file() else None


def _link(run_dir: Path, rel: str | None) -> str | None:
    """A relative, percent-encoded link to ``rel`` when that file exists."""
    if not rel or not (run_dir / rel).is_file():
        return None
    return "/".join(quote(part, safe="") for part in Path(rel).parts)


def _money(text) -> str:
    """A manifest amount (exact text) as ``1,234.50``; a dash when there is none."""
    return money(Decimal(str(text))) if text not in (None, "") else "—"


def _status_counts(statuses, lang: str) -> list[dict]:
    """A task record's ``statuses`` ({status value: count}) as the page lists them (zeros left out)."""
    if not isinstance(statuses, dict):
        return []
    out = []
    for status in _STATUS_ORDER:
        n = statuses.get(status.value)
        if isinstance(n, int) and n:
            out.append({"status": status.value, "label": status.label(lang), "n": n})
    return out


def _change_counts(records: list[dict], lang: str) -> list[dict] | None:
    """The summed ``changes`` of a unit's task records; None when no record has any."""
    found = [x["changes"] for x in records if isinstance(x.get("changes"), dict)]
    if not found:
        return None
    out = []
    for key in _CHANGE_KEYS:
        values = [c[key] for c in found if isinstance(c.get(key), int)]
        if values:
            out.append({"key": key, "label": t(f"idx.ch.{key}", lang), "n": sum(values)})
    return out


def _untested_cell(untested, lang: str) -> dict:
    """A task's rules not tested (CONTRACT §3 未检查): ``untested`` "N 条规则未检查" and
    ``untested_list`` "DP01 缺少 accepted_on；…"; both empty when every rule ran."""
    if not isinstance(untested, list) or not untested:
        return {"untested": "", "untested_list": ""}
    key = "reason_zh" if lang == "zh" else "reason_en"
    items = [f"{x.get('rule_id', '')} {x.get(key, '')}" for x in untested if isinstance(x, dict)]
    return {"untested": t("cov.untested_n", lang, n=len(items)), "untested_list": ("；" if lang == "zh" else "; ").join(items)}


def page_context(run_dir: Path, manifest: dict, lang: str) -> dict:
    """Everything the template shows, as plain data (tests read it too)."""
    tasks = manifest.get("tasks", [])
    names = list(dict.fromkeys(x["inspection"] for x in tasks))
    inspections = [{"name": n, "label": INSPECTIONS.get(n, (n, n))[0 if lang == "zh" else 1]} for n in names]
    rows: dict[str, dict] = {}
    for x in tasks:
        row = rows.setdefault(x["unit_code"], {"unit_code": x["unit_code"], "unit_name": x.get("unit_name") or "",
                                               "cells": {n: None for n in names}})
        row["cells"][x["inspection"]] = {
            "status": x["status"], "status_label": t(f"idx.st.{x['status']}", lang),
            "findings": x.get("findings"), "amount": _money(x.get("amount")),
            "html": _link(run_dir, x.get("html")), "xlsx": _link(run_dir, x.get("xlsx")),
            "notebook": _link(run_dir, x.get("notebook")),
            "statuses": _status_counts(x.get("statuses"), lang),
            **_untested_cell(x.get("untested"), lang),
        }
    compared = bool(manifest.get("baseline")) or any(isinstance(x.get("changes"), dict) for x in tasks)
    found = _run_findings(run_dir)
    for code, row in rows.items():
        ok_amounts = [Decimal(str(x["amount"])) for x in tasks
                      if x["unit_code"] == code and x["status"] == "ok" and x.get("amount")]
        mine = found[found["unit_code"] == code] if found is not None else None
        row["total"] = (t("idx.unit_total_value", lang, amount=_money(sum(ok_amounts, Decimal(0))),
                          dedup=_money(dedup_exposure(mine))) if mine is not None else _money(sum(ok_amounts, Decimal(0))))
        row["cells"] = [row["cells"][n] for n in names]
        row["changes"] = _change_counts([x for x in tasks if x["unit_code"] == code], lang) if compared else None
    label = {i["name"]: i["label"] for i in inspections}
    failures = [{"unit_code": x["unit_code"], "unit_name": x.get("unit_name") or "",
                 "inspection": label.get(x["inspection"], x["inspection"]), "error": x.get("error") or "",
                 "html": _link(run_dir, x.get("html"))}
                for x in tasks if x["status"] == "failed"]
    ok = sum(x["status"] == "ok" for x in tasks)
    n_failed = len(failures)
    total_n = sum(int(x.get("findings") or 0) for x in tasks if x["status"] == "ok")
    total_amount = sum((Decimal(str(x["amount"])) for x in tasks if x["status"] == "ok" and x.get("amount")),
                       Decimal(0))
    overview = manifest.get("overview") or {}
    T = {k: t(f"idx.{k}", lang) for k in _LABELS}
    T["tally"] = t("idx.tally", lang, n=len(tasks), ok=ok, failed=n_failed, other=len(tasks) - ok - n_failed)
    T["total_value"] = t("idx.total_value", lang, n=total_n, amount=_money(total_amount))
    if found is not None:  # beside the plain total, never added in (CONTRACT §3 "Amounts")
        T["total_value"] += t("idx.total_extra", lang, dedup=_money(dedup_exposure(found)),
                              interest=_money(interest_total(found)))
    all_statuses: dict[str, int] = {}
    for x in tasks:
        if x["status"] == "ok" and isinstance(x.get("statuses"), dict):
            for k, v in x["statuses"].items():
                if isinstance(v, int):
                    all_statuses[k] = all_statuses.get(k, 0) + v
    register_info = manifest.get("register") if isinstance(manifest.get("register"), dict) else None
    baseline = manifest.get("baseline")
    baseline_text = (baseline.get("run_id") or baseline.get("path") or "") if isinstance(baseline, dict) \
        else (str(baseline) if baseline else "")
    if register_info is not None:
        T["register_value"] = t("idx.register_value", lang, decisions=register_info.get("decisions", 0))
    if overview.get("html"):
        T["overview"] = _page_title(run_dir / overview["html"]) or T["overview"]
    times = {k: local_time(manifest.get(k)) for k in ("started", "finished")}
    inputs = [{**x, "table_label": table_label(x.get("table"), lang)} for x in manifest.get("inputs") or []]
    warnings = [w.get(lang if lang in ("zh", "en") else "zh", "") for w in manifest.get("coverage_warnings") or []
                if isinstance(w, dict)]
    return {"coverage_warnings": warnings, "m": manifest, "T": T, "times": times, "inputs": inputs, "page_lang": PAGE_LANG.get(lang, "zh-CN"), "inspections": inspections,
            "rows": list(rows.values()), "failures": failures, "n_failed": n_failed,
            "overview_link": _link(run_dir, overview.get("html")), "software": manifest.get("software") or {},
            "statuses": _status_counts(all_statuses, lang), "compared": compared, "baseline": baseline_text,
            "register": register_info, "resolved_link": _link(run_dir, "resolved.csv"),
            "county_report_link": _link(run_dir, REPORT_DOCX), "county_findings_link": _link(run_dir, FINDINGS_XLSX)}


def _page_title(page: Path) -> str | None:
    """The ``<title>`` of a page of the run (the overview names itself 全县总览 or 本批次总览)."""
    import html
    import re

    try:
        text = page.read_text(encoding="utf-8")
    except OSError:
        return None
    found = re.search(r"<title>(.*?)</title>", text, flags=re.S)
    return html.unescape(found.group(1)).strip() or None if found else None


def render_index(run_dir: str | os.PathLike, manifest: dict, lang: str = "zh") -> str:
    """The page as text."""
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(TEMPLATE.read_text(encoding="utf-8"))
    return template.render(**page_context(Path(run_dir), manifest, lang))


def write_index(run_dir: str | os.PathLike, manifest: dict, lang: str = "zh") -> Path:
    """Write ``run_dir/index.html`` (whole or not at all) and return its path."""
    run_dir = Path(run_dir)
    return write_text(run_dir / "index.html", render_index(run_dir, manifest, lang))
