"""Planning a run: validate everything before anything starts, then claim the run folder.

Anything wrong in the parameters, the database, the units, the inspections, the notebooks
(and the parameters they accept) or the run id is an :class:`~auditlib.errors.AuditlibError`
raised by :func:`make_plan`, before any file is written (exit 2).  :func:`open_run` then
claims a fresh run folder (or locks and checks the one to resume) and writes the manifest.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path

from auditlib.batch.compare import RunFindings, read_run
from auditlib.batch.lock import remove_stale_parts, run_lock
from auditlib.batch.manifest import Manifest, task_record
from auditlib.batch.options import RunOptions
from auditlib.common.files import sha256_file
from auditlib.db import connect, ingested_files
from auditlib.errors import ParameterError, RunError
from auditlib.i18n import register, t
from auditlib.review.register import Decision, Register
from auditlib.rules.catalogue import INSPECTIONS
from auditlib.rules.engine import rule_notes, unit_names

#: parameters every inspection notebook must declare in its ``parameters`` cell
NOTEBOOK_PARAMETERS = ("db", "unit", "params_file", "lang", "evidence", "run_id")
OVERVIEW_PARAMETERS = ("db", "params_file", "lang", "run_dir")

register({
    "run.exists": ("批次 {run_id} 已存在于 {path}：已完成的批次不会被覆盖；继续未完成的批次请加 --resume",
                   "run {run_id} already exists at {path}: a run is never overwritten; use --resume to finish it"),
    "run.resume_needs_id": ("--resume 需要 --run-id", "--resume needs --run-id"),
    "run.no_manifest": ("找不到批次 {run_id} 的 manifest.json：{path}", "no manifest.json for run {run_id}: {path}"),
    "run.bad_id": ("批次号只能包含字母、数字、下划线、点和连字符：{run_id!r}",
                   "a run id holds only letters, digits, '_', '.' and '-': {run_id!r}"),
    "run.unknown_unit": ("数据库中没有单位：{units}", "no such unit in the database: {units}"),
    "run.no_units": ("数据库中没有任何单位", "the database holds no units"),
    "run.unknown_inspection": ("未知检查 {name!r}；可选：{choices}", "unknown inspection {name!r}; choose from {choices}"),
    "run.no_notebook": ("找不到检查底稿模板 {path}", "notebook not found: {path}"),
    "run.notebook_params": ("{path} 的 parameters 单元缺少参数：{missing}",
                            "the parameters cell of {path} lacks: {missing}"),
    "run.changed": ("批次 {run_id} 开始后{what}已改变，不能续跑；请另起新批次",
                    "{what} changed since run {run_id} started; start a new run"),
    "run.changed.params": ("参数", "the parameters"),
    "run.changed.inputs": ("数据库中的输入文件", "the database's input files"),
    "run.changed.register": ("疑点登记簿（{path}）", "the findings register ({path})"),
    "run.changed.baseline": ("对比基准批次", "the baseline run"),
    "run.no_register": ("找不到疑点登记簿：{path}", "findings register not found: {path}"),
})

_SAFE_FOLDER = re.compile(r"[0-9A-Za-z_][0-9A-Za-z_.-]{0,63}")
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
_RUN_ID = re.compile(r"[0-9A-Za-z_][0-9A-Za-z_.-]{0,99}")


def unit_folder(code: str) -> str:
    """The folder name of a unit: the code itself when safe everywhere, else a readable slug of
    it, ``~`` and a short hash of the code (``Leeds City Council`` -> ``Leeds_City_Council~1a2b3c4d``).

    Safe means ASCII letters, digits, ``_ . -``, not starting with ``.`` or ``-``, not ending
    with ``.``, and not a Windows device name.  Raw names never hold ``~``, so an encoded name
    cannot collide with a raw one; the hash (SHA-256 of the UTF-8 code, 8 hex digits) keeps two
    codes with the same slug apart.  Runs made before this form (``~`` + the code's UTF-8 hex)
    stay readable: ``manifest.json`` records each task's folder, and readers follow it.
    """
    code = str(code)
    if (_SAFE_FOLDER.fullmatch(code) and not code.endswith(".")
            and code.split(".")[0].upper() not in _RESERVED):
        return code
    slug = re.sub(r"[^0-9A-Za-z]+", "_", code).strip("_")[:40].rstrip("_")
    digest = hashlib.sha256(code.encode("utf-8")).hexdigest()[:8]
    return f"{slug}~{digest}" if slug else f"unit~{digest}"


@dataclass(frozen=True)
class Plan:
    """A validated run, not started: ``options`` resolved (``lang`` set)."""

    options: RunOptions
    params: object
    units: dict[str, str]
    inspections: tuple[str, ...]
    inputs: list[dict]
    run_id: str
    fresh: bool  # the run id is a timestamp: a taken one gets a suffix
    register: dict | None = None  # the register's fingerprint {path, sha256, decisions}, read once
    decisions: dict[str, Decision] | None = None  # finding_id -> its latest decision
    baseline: RunFindings | None = None  # the run compared with (--baseline)

    @property
    def lang(self) -> str:
        return self.options.lang

    @property
    def run_dir(self) -> Path:
        return self.options.out / self.run_id


def make_plan(options: RunOptions) -> Plan:
    """Validate ``options`` against the parameters, the database and the notebooks.

    Raises
    ------
    AuditlibError
        Bad parameters, units, inspections, notebooks or run id; nothing has been written.
    """
    params = options.load_params()
    options = replace(options, lang=options.lang or params.lang)
    lang = options.lang
    names = select_inspections(options.inspections, lang)
    units = select_units(options.db, options.units, lang)
    for name in names:
        check_notebook(options.notebooks / f"{name}.ipynb", NOTEBOOK_PARAMETERS, lang)
    check_notebook(options.notebooks / "overview.ipynb", OVERVIEW_PARAMETERS, lang)
    inputs = ingested_files(options.db)
    fingerprint, decisions = read_register(options.register, lang)
    baseline = read_run(options.baseline, lang) if options.baseline else None

    run_id = options.run_id
    if options.resume and not run_id:
        raise ParameterError(t("run.resume_needs_id", lang), file="", key="run_id", reason="missing")
    if run_id is not None and not _RUN_ID.fullmatch(run_id):
        raise ParameterError(t("run.bad_id", lang, run_id=run_id), file="", key="run_id", reason="unsafe")
    fresh = run_id is None
    if fresh:  # a timestamp; the folder is claimed by open_run with an atomic mkdir
        run_id = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Plan(options=options, params=params, units=units, inspections=tuple(names), inputs=inputs,
                run_id=run_id, fresh=fresh, register=fingerprint, decisions=decisions, baseline=baseline)


def read_register(path: str, lang) -> tuple[dict | None, dict[str, Decision]]:
    """The register at ``path`` read once: its fingerprint and every finding's latest decision.

    ``path`` empty: no register (None, {}).  A register named but missing is a ParameterError.
    The fingerprint is of exactly the decisions returned: a line appended while reading makes
    it read again.
    """
    if not path:
        return None, {}
    reg = Register(path)
    if not reg.path.is_file():
        raise ParameterError(t("run.no_register", lang, path=path), file=path, key="register", reason="missing")
    for _ in range(5):  # one parse; the file hashed before and after (cheap) to see no append in between
        before = sha256_file(reg.path)
        decisions = reg.decisions()  # sets a torn tail aside first
        after = sha256_file(reg.path)
        if before == after:
            break
    fingerprint = {"path": str(reg.path), "sha256": after, "decisions": len(decisions)}
    return fingerprint, {d.finding_id: d for d in decisions}


def open_run(plan: Plan, stack: contextlib.ExitStack) -> tuple[Plan, Manifest]:
    """Claim the run folder (or lock and check the run to resume) and write its manifest.

    The run lock is entered on ``stack``.  Returns the plan as it stands (the run id with its
    suffix; on resume, the units and inspections of the manifest) and the manifest.
    """
    lang = plan.lang
    if plan.options.resume:
        run_dir = plan.run_dir
        stack.enter_context(run_lock(run_dir, plan.run_id, lang))
        manifest_path = run_dir / "manifest.json"
        if not manifest_path.is_file():
            raise RunError(t("run.no_manifest", lang, run_id=plan.run_id, path=manifest_path),
                           reason="no manifest")
        manifest = Manifest.load(run_dir)
        if manifest.data["params"] != plan.params.to_dict():
            raise RunError(t("run.changed", lang, run_id=plan.run_id, what=t("run.changed.params", lang)),
                           reason="params changed")
        if manifest.data["inputs"] != plan.inputs:
            raise RunError(t("run.changed", lang, run_id=plan.run_id, what=t("run.changed.inputs", lang)),
                           reason="inputs changed")
        recorded = manifest.data.get("register")
        if recorded != plan.register:
            path = (recorded or plan.register or {}).get("path", "")
            raise RunError(t("run.changed", lang, run_id=plan.run_id,
                             what=t("run.changed.register", lang, path=path)),
                           reason="register changed", recorded=recorded, now=plan.register)
        if (manifest.data.get("baseline") or {}).get("path", "") != plan.options.baseline:
            raise RunError(t("run.changed", lang, run_id=plan.run_id, what=t("run.changed.baseline", lang)),
                           reason="baseline changed")
        remove_stale_parts(run_dir)
        plan = replace(plan, units={x["unit_code"]: x["unit_name"] for x in manifest.tasks},
                       inspections=tuple(dict.fromkeys(x["inspection"] for x in manifest.tasks)))
        manifest.resumed()
    else:
        run_dir = claim_run_dir(plan.options.out, plan.run_id, numbered=plan.fresh, lang=lang)
        plan = replace(plan, run_id=run_dir.name)
        stack.enter_context(run_lock(run_dir, plan.run_id, lang))
        tasks = [task_record(u, nm, i, unit_folder(u)) for u, nm in plan.units.items() for i in plan.inspections]
        baseline = ({"path": str(plan.baseline.path), "run_id": plan.baseline.run_id}
                    if plan.baseline is not None else None)
        notes = {rule_id: note for inspection in plan.inspections
                 for rule_id, note in rule_notes(plan.options.db, plan.params, inspection).items()}
        manifest = Manifest.new(run_dir, plan.run_id, plan.options, plan.params, plan.inputs, tasks,
                                register=plan.register, baseline=baseline, notes=notes)
    manifest.save()
    return plan, manifest


def check_notebook(path: Path, required, lang) -> None:
    """Refuse a missing notebook, or one whose ``parameters`` cell lacks one of ``required``."""
    if not path.is_file():
        raise RunError(t("run.no_notebook", lang, path=path), reason="missing notebook", notebook=str(path))
    declared = declared_parameters(path)
    missing = [p for p in required if p not in declared]
    if missing:
        raise RunError(t("run.notebook_params", lang, path=path, missing=", ".join(missing)),
                       reason="notebook parameters", notebook=str(path), missing=missing)


def declared_parameters(path: Path) -> set[str]:
    """The names the notebook's ``parameters`` cell (tagged so, as papermill finds it) assigns.

    A Python cell is read with :mod:`ast` (no papermill import in the run's process); anything
    else (another kernel language, a cell that does not parse) is left to papermill's
    ``inspect_notebook``.
    """
    import ast
    import json

    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        language = (nb.get("metadata", {}).get("kernelspec", {}).get("language")
                    or nb.get("metadata", {}).get("language_info", {}).get("name") or "python")
        cells = [c for c in nb.get("cells", []) if "parameters" in (c.get("metadata", {}).get("tags") or [])]
        if language == "python":
            if not cells:
                return set()
            source = cells[0].get("source", "")
            tree = ast.parse(source if isinstance(source, str) else "".join(source))
            names = set()
            for node in tree.body:
                targets = node.targets if isinstance(node, ast.Assign) else (
                    [node.target] if isinstance(node, ast.AnnAssign) else [])
                names.update(x.id for x in targets if isinstance(x, ast.Name))
            return names
    except (ValueError, SyntaxError, AttributeError, TypeError):
        pass
    import papermill as pm

    return set(pm.inspect_notebook(str(path)))


def select_inspections(names, lang) -> tuple[str, ...]:
    """``names`` (all when empty) as inspection keys, in order, once each.

    A name is the key (``slush_funds``) or its Chinese or English name (``小金库``, ``Slush funds``).
    An unknown name is a ParameterError.
    """
    if not names:
        return tuple(INSPECTIONS)
    by_name = {}
    for key, (zh, en) in INSPECTIONS.items():
        by_name.update({key: key, zh: key, en.lower(): key})
    keys = []
    for name in names:
        key = by_name.get(str(name).strip()) or by_name.get(str(name).strip().lower())
        if key is None:
            choices = ", ".join(f"{k} {zh}" for k, (zh, _) in INSPECTIONS.items())
            raise ParameterError(t("run.unknown_inspection", lang, name=name, choices=choices),
                                 file="", key="inspections", reason="unknown inspection")
        keys.append(key)
    return tuple(dict.fromkeys(keys))


def select_units(db, units, lang) -> dict[str, str]:
    """``units`` (all when empty) with their names; an unknown unit is a ParameterError."""
    con = connect(db)
    try:
        all_units = unit_names(con)
    finally:
        con.close()
    if not all_units:
        raise ParameterError(t("run.no_units", lang), file=str(db), key="units", reason="no units")
    if not units:
        return all_units
    unknown = [u for u in units if str(u) not in all_units]
    if unknown:
        raise ParameterError(t("run.unknown_unit", lang, units=", ".join(map(str, unknown))), file="",
                             key="units", reason="unknown unit")
    return {str(u): all_units[str(u)] for u in dict.fromkeys(map(str, units))}


def claim_run_dir(out: Path, run_id: str, numbered: bool, lang) -> Path:
    """Create the run folder ``out/run_id`` atomically; a timestamp id gets ``-2``, ``-3`` … when taken.

    ``mkdir`` either creates the folder or fails, so two runs started in the same second never
    share a folder, and an existing run is never written into.
    """
    out.mkdir(parents=True, exist_ok=True)
    n = 1
    while True:
        candidate = run_id if n == 1 else f"{run_id}-{n}"
        try:
            (out / candidate).mkdir()
            return out / candidate
        except FileExistsError:
            if not numbered:
                raise RunError(t("run.exists", lang, run_id=run_id, path=out / run_id), reason="exists") from None
            n += 1
