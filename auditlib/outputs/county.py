"""Writing a run's county deliverables (CONTRACT §4): ``county-findings.xlsx`` and ``county-report.docx``.

:func:`write_county` builds the :class:`~auditlib.outputs.county_data.CountyInput` once from the run
folder and writes each file on its own: a file that fails is logged and named in the record it
returns (the batch puts that record in the manifest and exits 1), and never costs the other file
or any earlier output of the run.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from auditlib.i18n import register, t
from auditlib.outputs.county_data import FINDINGS_XLSX, REPORT_DOCX, load_county_input

logger = logging.getLogger("auditlib")

register({
    "county.failed": ("未能生成 {file}：{error}（其他输出不受影响）", "could not write {file}: {error} (the other outputs are kept)"),
})


def write_county(run_dir: str | os.PathLike, params=None, decisions: dict | None = None,
                 county_units: int | None = None, lang: str | None = None, manifest: dict | None = None) -> dict:
    """Write both county deliverables into ``run_dir``.

    Parameters
    ----------
    run_dir : path
        A run folder holding ``manifest.json`` and ``findings.csv``.
    params, decisions, county_units
        As for :func:`~auditlib.outputs.county_data.load_county_input` (read from the run when None).
    lang : str, optional
        Language of the messages logged (the files follow the run's language).
    manifest : dict, optional
        The run's manifest as it will read at the end (the batch writes the deliverables while its
        tasks run, as they read when every task ends ok); ``manifest.json`` when None.

    Returns
    -------
    dict
        ``{"xlsx": name or None, "docx": name or None, "errors": [{"file", "error"}]}``: a file is
        named when it was written; ``errors`` is empty when both were.
    """
    from auditlib.outputs.county_findings import write_county_findings
    from auditlib.outputs.county_report import write_county_report

    run_dir = Path(run_dir)
    record: dict = {"xlsx": None, "docx": None, "errors": []}
    try:
        inp = load_county_input(run_dir, params=params, decisions=decisions, county_units=county_units,
                                manifest=manifest)
    except Exception as exc:  # noqa: BLE001 - reported, never fatal to the run's other outputs
        for name in (FINDINGS_XLSX, REPORT_DOCX):
            _failed(record, name, exc, lang)
        return record
    for key, name, writer in (("xlsx", FINDINGS_XLSX, write_county_findings),
                              ("docx", REPORT_DOCX, write_county_report)):
        try:
            writer(inp, run_dir / name)
        except Exception as exc:  # noqa: BLE001 - reported, never fatal to the run's other outputs
            _failed(record, name, exc, lang)
        else:
            record[key] = name
    return record


def _failed(record: dict, name: str, exc: BaseException, lang: str | None) -> None:
    error = f"{type(exc).__name__}: {exc}"
    logger.error(t("county.failed", lang, file=name, error=error))
    logger.debug("county deliverable %s", name, exc_info=exc)  # the traceback with --verbose
    record["errors"].append({"file": name, "error": error})


__all__ = ["write_county"]
