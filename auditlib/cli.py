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
@LANG_OPTION
@_handle_errors
def run(db, params_file, units, inspections, out, run_id, resume, workers, scheduler, notebooks, kernel,
        cell_timeout, reuse_kernels, progress, lang) -> None:
    """Run the inspection notebooks per unit: ipynb, html, xlsx, index.html, manifest.json, findings.csv."""
    from auditlib.batch.run import run as run_batch
    from auditlib.workspace import outputs_dir

    out = out or str(outputs_dir())
    result = run_batch(db, params_file=params_file, units=_csv_list(units), inspections=_csv_list(inspections),
                       out=out, run_id=run_id, resume=resume, workers=workers, scheduler=scheduler,
                       notebooks=notebooks, kernel=kernel, cell_timeout=cell_timeout, progress=progress,
                       lang=lang, reuse_kernels=reuse_kernels)
    click.echo(result.describe(lang or default_lang()))
    for task in result.failed:
        click.echo(f"  ✗ {task['unit_code']} {task['inspection']}: {task['error']}", err=True)
    sys.exit(result.exit_code)


if __name__ == "__main__":  # pragma: no cover
    main()
