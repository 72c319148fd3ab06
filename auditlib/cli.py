"""The ``auditlib`` command line (CONTRACT §5).

Each command parses its options and calls one library function; the work is
done in the library so notebooks and tests use the same code.  Errors derived
from :class:`~auditlib.errors.AuditlibError` print one clear line and exit 2;
nothing else is caught here.
"""
from __future__ import annotations

import functools
import logging
import sys

import click

from auditlib import __version__
from auditlib.errors import AuditlibError
from auditlib.i18n import default_lang
from auditlib.i18n import register as register_messages

logger = logging.getLogger("auditlib")

LANG_OPTION = click.option(
    "--lang", type=click.Choice(["zh", "en"]), default=None,
    help="Language of messages (default: zh, or AUDITLIB_LANG).",
)


def _handle_errors(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except AuditlibError as exc:
            click.echo(f"错误 / error: {exc}", err=True)
            sys.exit(exc.exit_code)
    return wrapper


@click.group()
@click.version_option(__version__, prog_name="auditlib")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def main(verbose: bool) -> None:
    """auditlib: 财政专项检查审计工作台 (idle funds, slush funds, delayed payments)."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@main.command()
@click.argument("folder", type=click.Path(file_okay=False))
@_handle_errors
def init(folder: str) -> None:
    """Create an audit workspace in FOLDER: params/, notebooks/, data/, outputs/ and a README."""
    from auditlib.workspace import init_workspace

    path = init_workspace(folder)
    click.echo(f"已创建审计工作区 / audit workspace created: {path}\n"
               f"  先修改 / first edit {path / 'params' / 'default.yaml'} (project:)；说明见 / see {path / 'README.md'}")


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--units", "n_units", type=click.IntRange(1, 100000), default=8, show_default=True,
              help="Number of budget units in the synthetic county.")
@click.option("--seed", type=int, default=2024, show_default=True, help="Random seed.")
@LANG_OPTION
@_handle_errors
def synth(out_dir: str, n_units: int, seed: int, lang: str | None) -> None:
    """Write a synthetic county (six tables + truth.csv) to OUT_DIR."""
    from auditlib.synth.county import generate

    summary = generate(out_dir, units=n_units, seed=seed)
    click.echo(summary.describe(lang or default_lang()))


#: ``auditlib sample``: the name ``synth`` had before v2
main.add_command(click.Command("sample", callback=synth.callback, params=synth.params,
                               help="Same as synth (its former name)."))


@main.command()
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--db", required=True, type=click.Path(dir_okay=False), help="DuckDB database file.")
@click.option("--mapping", default=None,
              help="Mapping profile (YAML file, or the name of one in params/mappings/) for exports "
                   "in another layout (用友, 金蝶, open data).")
@LANG_OPTION
@_handle_errors
def ingest(data_dir: str, db: str, mapping: str | None, lang: str | None) -> None:
    """Load and validate the CSV/XLSX files of DATA_DIR into DB."""
    from auditlib.ingest.load import ingest as run_ingest

    report = run_ingest(data_dir, db, mapping=mapping)
    click.echo(report.describe(lang or default_lang()))


@main.command()
@LANG_OPTION
@_handle_errors
def rules(lang: str | None) -> None:
    """Print the rule catalogue with parameters and legal basis."""
    from auditlib.rules.catalogue import render_catalogue

    click.echo(render_catalogue(lang or default_lang()))


def _csv_list(value: str | None) -> list[str] | None:
    """``all`` or empty -> None (everything); ``a,b`` -> ['a', 'b'] (codes stay text)."""
    if value is None or value.strip().lower() in ("", "all"):
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


@main.command()
@click.option("--db", required=True, type=click.Path(exists=True, dir_okay=False), help="DuckDB database file.")
@click.option("--params", "params_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Parameters YAML on top of params/default.yaml.")
@click.option("--units", default=None, help="all, or unit codes separated by commas.")
@click.option("--inspections", default=None, help="all, or inspection names separated by commas.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="findings.csv to write.")
@LANG_OPTION
@_handle_errors
def scan(db, params_file, units, inspections, out, lang) -> None:
    """Run every rule without notebooks and write findings.csv (CONTRACT §4)."""
    from auditlib.batch.scan import scan as run_scan

    result = run_scan(db, params_file=params_file, units=_csv_list(units),
                      inspections=_csv_list(inspections), out=out)
    click.echo(result.describe(lang or default_lang()))


@main.command()
@click.option("--db", required=True, type=click.Path(exists=True, dir_okay=False), help="DuckDB database file.")
@click.option("--params", "params_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Parameters YAML on top of params/default.yaml.")
@click.option("--units", default=None, help="all, or unit codes separated by commas.")
@click.option("--inspections", default=None, help="all, or inspection names separated by commas.")
@click.option("--out", default=None, type=click.Path(file_okay=False),
              help="Folder holding the runs; this run writes OUT/RUN_ID/ (default: the workspace's outputs/).")
@click.option("--run-id", default=None, help="Run id (default: a timestamp). A finished run is never overwritten.")
@click.option("--resume/--no-resume", default=False, help="Finish run --run-id, redoing only tasks not ok.")
@click.option("--workers", type=click.IntRange(1, 256), default=None, help="Local worker processes (default: CPUs).")
@click.option("--scheduler", default=None, help="Dask distributed scheduler address (tcp://host:port).")
@click.option("--notebooks", type=click.Path(exists=True, file_okay=False), default=None,
              help="Folder of notebook templates (default: the workspace's notebooks/).")
@click.option("--kernel", default="auditlib", show_default=True, help="Jupyter kernel the notebooks run on.")
@click.option("--cell-timeout", type=click.IntRange(1, 86400), default=600, show_default=True,
              help="Seconds one notebook cell may run before its task fails.")
@click.option("--reuse-kernels/--fresh-kernels", default=True, show_default=True,
              help="Reuse one warm kernel per worker (reset between notebooks), or start one per notebook.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar over tasks.")
@click.option("--register", "register_file", type=click.Path(dir_okay=False), default=None,
              help="Findings register (疑点登记簿) giving each finding its status "
                   "(default: register.jsonl beside the database, when it exists).")
@click.option("--baseline", type=click.Path(exists=True, file_okay=False), default=None,
              help="An earlier run folder to compare with: new/persisting findings and resolved.csv.")
@LANG_OPTION
@_handle_errors
def run(db, params_file, units, inspections, out, run_id, resume, workers, scheduler, notebooks, kernel,
        cell_timeout, reuse_kernels, progress, register_file, baseline, lang) -> None:
    """Run the inspection notebooks per unit: ipynb, html, xlsx, index.html, manifest.json, findings.csv."""
    from auditlib.batch.run import run as run_batch
    from auditlib.workspace import outputs_dir

    out = out or str(outputs_dir())
    result = run_batch(db, params_file=params_file, units=_csv_list(units), inspections=_csv_list(inspections),
                       out=out, run_id=run_id, resume=resume, workers=workers, scheduler=scheduler,
                       notebooks=notebooks, kernel=kernel, cell_timeout=cell_timeout, progress=progress,
                       lang=lang, reuse_kernels=reuse_kernels, register=register_file, baseline=baseline)
    click.echo(result.describe(lang or default_lang()))
    for task in result.failed:
        click.echo(f"  ✗ {task['unit_code']} {task['inspection']}: {task['error']}", err=True)
    sys.exit(result.exit_code)


@main.command()
@click.argument("run_a", type=click.Path(exists=True, file_okay=False))
@click.argument("run_b", type=click.Path(exists=True, file_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="写入的 CSV 文件 / CSV file to write.")
@LANG_OPTION
@_handle_errors
def diff(run_a, run_b, out, lang) -> None:
    """按疑点编号比较两个批次：新增 / 仍存在 / 已消除 / Compare two runs by finding_id: new,
    persisting, resolved from RUN_A to RUN_B (CONTRACT §6)."""
    from auditlib.batch.compare import write_diff
    from auditlib.review.statuses import Change

    lang = lang or default_lang()
    rows = write_diff(run_a, run_b, out, lang)
    counts = rows["change"].value_counts()
    click.echo(", ".join(f"{c.label(lang)} {int(counts.get(c.value, 0))}" for c in Change) + f" -> {out}")


# -- review: verification decisions in the findings register (CONTRACT §6) ----------------------

_REVIEW_MESSAGES = {
    "cli.review.imported": ("已导入 {n} 条核实结论（{unchanged} 条与登记簿一致，未重复记录；{undecided} 个疑点待核实）→ {register}",
                            "{n} decisions imported ({unchanged} already in the register, not recorded again; "
                            "{undecided} findings still open) -> {register}"),
    "cli.review.set": ("已记录 {n} 条核实结论（{status}）→ {register}", "{n} decisions recorded ({status}) -> {register}"),
    "cli.review.listed": ("{n} 行 → {out}", "{n} rows -> {out}"),
    "cli.review.where": ("必须给出 --db 或 --register", "Give --db or --register"),
    "cli.review.lookup": ("须用 --run 或 --db 查找疑点编号", "Give --run or --db to find the finding ids"),
}
register_messages(_REVIEW_MESSAGES)


def _review_register(db: str | None, register_file: str | None, lang: str | None):
    """--register, else register.jsonl beside --db."""
    from auditlib.errors import ReviewError
    from auditlib.i18n import t
    from auditlib.review.register import Register

    if register_file:
        return Register(register_file)
    if db:
        return Register.beside(db)
    raise ReviewError(t("cli.review.where", lang))


def _finding_lookup(run_dir: str | None, db: str | None, lang: str | None):
    """``finding_id`` -> (rule_id, unit_code, ref): from RUN_DIR/findings.csv, else the rules run on
    --db (run only when needed); and a description of where it looks."""
    from pathlib import Path

    from auditlib.errors import ReviewError
    from auditlib.i18n import t

    if not run_dir and not db:
        raise ReviewError(t("cli.review.lookup", lang))
    known: dict[str, tuple[str, str, str]] = {}
    if run_dir:
        from auditlib.outputs.findings_csv import read_findings_csv

        f = read_findings_csv(Path(run_dir) / "findings.csv")
        known.update(_keys(f))
    state = {"ran": False}

    def lookup(fid: str):
        if fid not in known and db and not state["ran"]:
            from auditlib.rules.engine import inspect

            state["ran"] = True
            for k, v in _keys(inspect(db).findings).items():
                known.setdefault(k, v)
        return known.get(fid)

    where = " + ".join(x for x in (f"{run_dir}/findings.csv" if run_dir else "", db or "") if x)
    return lookup, where


def _keys(findings) -> dict:
    from auditlib.rules.identity import finding_ids

    if not len(findings):
        return {}
    ids = findings["finding_id"] if "finding_id" in findings.columns else finding_ids(findings)
    return {str(i): (str(r), str(u), str(f)) for i, r, u, f in
            zip(ids, findings["rule_id"], findings["unit_code"], findings["ref"])}


@main.group()
def review() -> None:
    """核实结论与疑点登记簿 / Verification decisions in the findings register (疑点登记簿)."""


_DB_OPTION = click.option("--db", default=None, type=click.Path(dir_okay=False),
                          help="数据库；登记簿默认为其旁的 register.jsonl / DuckDB database (register.jsonl beside it).")
_REGISTER_OPTION = click.option("--register", "register_file", default=None, type=click.Path(dir_okay=False),
                                help="登记簿文件 / The findings register file.")


@review.command("import")
@click.argument("workbooks", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_DB_OPTION
@_REGISTER_OPTION
@click.option("--by", default=None, help="核实人（代替封面上的核实人、复核人）/ Who decided (overrides the covers' names).")
@LANG_OPTION
@_handle_errors
def review_import(workbooks, db, register_file, by, lang) -> None:
    """读回已填写的证据工作簿中的核实结论（全部无误才记录）/ Read decisions back from returned workbooks (all or nothing)."""
    from auditlib.i18n import t
    from auditlib.review.importer import import_workbooks

    lang = lang or default_lang()
    reg = _review_register(db, register_file, lang)
    result = import_workbooks(workbooks, reg, by=by, lang=lang)
    click.echo(t("cli.review.imported", lang, n=len(result.recorded), unchanged=result.unchanged,
                 undecided=result.undecided, register=reg.path))


@review.command("set")
@click.argument("finding_ids", nargs=-1, required=True)
@click.option("--status", required=True, type=click.Choice(["open", "confirmed", "dismissed", "rectified"]),
              help="待核实 open / 属实 confirmed / 排除 dismissed / 已整改 rectified.")
@click.option("--by", required=True, help="核实人 / Who decided.")
@click.option("--reason", default="", help="核实说明（排除必填）/ Explanation (required for dismissed).")
@click.option("--amount", default=None, help="认定金额（元）/ Confirmed amount (yuan).")
@_DB_OPTION
@_REGISTER_OPTION
@click.option("--run", "run_dir", default=None, type=click.Path(exists=True, file_okay=False),
              help="在该次运行的 findings.csv 中查找疑点 / Find the ids in this run's findings.csv.")
@LANG_OPTION
@_handle_errors
def review_set(finding_ids, status, by, reason, amount, db, register_file, run_dir, lang) -> None:
    """记录一个或多个疑点的核实结论 / Record a decision about one or more findings."""
    from auditlib.i18n import t
    from auditlib.review.manual import set_status
    from auditlib.review.statuses import Status

    lang = lang or default_lang()
    reg = _review_register(db, register_file, lang)
    lookup, where = _finding_lookup(run_dir, db, lang)
    got = set_status(reg, finding_ids, status, by, lookup, reason=reason, amount=amount, source="cli",
                     where=where, lang=lang)
    click.echo(t("cli.review.set", lang, n=len(got), status=Status(status).label(lang), register=reg.path))


@review.command("list")
@_DB_OPTION
@_REGISTER_OPTION
@click.option("--status", default=None, type=click.Choice(["open", "confirmed", "dismissed", "rectified"]),
              help="只列最新结论为该状态的疑点 / Only findings whose latest decision has this status.")
@click.option("--history", is_flag=True, help="列出每一条结论 / Every decision, not only the latest.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="要写的 CSV 文件 / CSV file to write.")
@LANG_OPTION
@_handle_errors
def review_list(db, register_file, status, history, out, lang) -> None:
    """导出登记簿：每个疑点的最新结论（--history 为全部）/ The register as CSV: each finding's latest decision."""
    from auditlib.i18n import t
    from auditlib.review.listing import select, write_list

    lang = lang or default_lang()
    reg = _review_register(db, register_file, lang)
    rows = select(reg, status, history)
    write_list(rows, out)
    click.echo(t("cli.review.listed", lang, n=len(rows), out=out))


if __name__ == "__main__":  # pragma: no cover
    main()
