"""The ingest report: what happened to every file and every rejected row (CONTRACT §1).

Every file is accounted for: rows read = rows loaded + subtotal rows dropped + rows
rejected (+ rows a mapping profile filtered out).  :class:`IngestReport` holds one
:class:`FileReport` per file and the :class:`Reject` of every cell or row refused;
:func:`write_report` and :func:`write_rejects` write them beside the database as
``ingest_report.json`` and ``rejects.csv``.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

from auditlib.common.csvfile import write_csv
from auditlib.common.files import atomic_write
from auditlib.i18n import register, t

REPORT_NAME = "ingest_report.json"
REJECTS_NAME = "rejects.csv"

register({
    "ingest.file": ("文件", "file"),
    "ingest.table": ("表", "table"),
    "ingest.status": ("状态", "status"),
    "ingest.read": ("读取", "read"),
    "ingest.loaded": ("载入", "loaded"),
    "ingest.subtotal": ("合计行", "subtotal"),
    "ingest.rejected": ("拒收", "rejected"),
    "ingest.status.loaded": ("已载入", "loaded"),
    "ingest.status.already": ("已载入过，跳过", "already loaded"),
    "ingest.status.skipped": ("跳过（文件名不对应任何表）", "skipped (no table matches the file name)"),
    "ingest.warnings": ("完整性警告 {n} 条：", "{n} completeness warning(s):"),
    "ingest.file_warnings": ("文件警告 {n} 条（也记在 ingest_report.json）：",
                             "{n} file warning(s) (also in ingest_report.json):"),
    "ingest.rejects": ("拒收行明细见 {path}", "rejected rows are listed in {path}"),
    "ingest.filtered": ("映射配置 {profile}，过滤 {n} 行", "profile {profile}, {n} row(s) filtered out"),
    "ingest.mapped": ("映射配置 {profile}", "profile {profile}"),
    "ingest.filtered_total": ("读取的行中有 {n} 行被映射配置的过滤条件排除",
                              "of the rows read, {n} were left out by the mapping profile's filters"),
    "ingest.share": ("拒收率", "rejected %"),
    "ingest.top_reasons": ("{file}：拒收 {n} 行（{share}），最常见原因：{reasons}",
                           "{file}: {n} row(s) rejected ({share}), most common reasons: {reasons}"),
    "ingest.currency_hint": ("映射配置 {profile} 的金额单位是 {label}：在参数文件中写 currency: {label}，"
                             "报告、底稿和清单中的金额即标为 {label}（只改单位名称，不换算）。",
                             "Mapping profile {profile} says the amounts are in {label}: put currency: {label} "
                             "in the parameters file and the reports, workbooks and lists label them so "
                             "(a label only, never a conversion)."),
    "ingest.over_share": ("{file} 拒收 {share} 的行，超过 --max-reject-share {limit}；请检查映射配置（日期格式等）"
                          "和 rejects.csv",
                          "{file}: {share} of its rows rejected, more than --max-reject-share {limit}; check the "
                          "mapping profile (date formats ...) and rejects.csv"),
    "ingest.replaced": ("{file}：已替换，删除旧数据 {n} 行（{why}）", "{file}: replaced, {n} old row(s) deleted ({why})"),
    "ingest.completeness_file": ("完整性警告全部列于 {path}", "every completeness warning is listed in {path}"),
    "ingest.total": ("合计：读取 {read}，载入 {loaded}，合计行 {subtotal}，拒收 {rejected}",
                     "total: read {read}, loaded {loaded}, subtotal {subtotal}, rejected {rejected}"),
})


class RejectReason(StrEnum):
    """Why a row was rejected (modelled on pandera's reason codes).

    The value is the ``reason`` text of ``rejects.csv`` for the reasons that carry no detail;
    :attr:`BAD_VALUE` and :attr:`SHORT_ROW` rejects carry their own text (the parser's
    ``not a date: '2024-13-01'``, ``row has 3 of 5 columns``), and their code says which kind
    the text is.
    """

    #: the row's key is already in the table, or on an earlier line of the same file
    DUPLICATE_KEY = "duplicate key"
    #: a required column's cell is empty
    MISSING_VALUE = "missing required value"
    #: a cell does not parse as its column's type (the reason text is the parser's)
    BAD_VALUE = "bad value"
    #: a CSV row has fewer cells than the header (a line cut off, a broken line)
    SHORT_ROW = "short row"


@dataclass
class Reject:
    """One refused cell (or row): a line of ``rejects.csv``.

    ``reason`` is the text written; give a :class:`RejectReason` for a reason without detail
    (its value becomes the text), or the detail text and its ``code``.
    """

    file: str
    line: int | None
    column: str
    value: str
    reason: str
    code: RejectReason = RejectReason.BAD_VALUE

    def __post_init__(self) -> None:
        if isinstance(self.reason, RejectReason):
            self.code, self.reason = self.reason, self.reason.value


class FileStatus(StrEnum):
    """What the ingest did with a file (the ``status`` of ``ingest_report.json``)."""

    LOADED = "loaded"
    ALREADY_LOADED = "already loaded"
    SKIPPED = "skipped"


@dataclass
class FileReport:
    file: str
    table: str | None
    sha256: str
    encoding: str | None = None
    #: how sure the encoding choice is (1.0: only one reading; see auditlib.ingest.encoding)
    encoding_confidence: float | None = None
    #: how the encoding was chosen (byte-order mark, strict UTF-8, plausibility, set by the profile ...)
    encoding_evidence: str | None = None
    #: each encoding that decoded the file -> the plausible share of its reading
    encoding_candidates: dict = field(default_factory=dict)
    rows_read: int = 0
    rows_loaded: int = 0
    rows_subtotal: int = 0
    rows_rejected: int = 0
    #: rows a mapping profile's filters left out (0 without a profile)
    rows_filtered: int = 0
    #: the mapping profile that read the file, if any
    mapping: str | None = None
    #: see :class:`FileStatus`
    status: str = FileStatus.LOADED
    reason: str | None = None
    #: remarks on this file: title rows skipped, another delimiter, dates far outside the fiscal year ...
    warnings: list = field(default_factory=list)
    #: completeness warnings about this file's rows, counted by kind (the list: completeness.csv)
    completeness: dict = field(default_factory=dict)
    #: SHA-256 of the mapping profile that read the file (None without a profile)
    profile_sha256: str | None = None
    #: when this load replaced an earlier one (``ingest --replace``): why, and the rows deleted
    replaced: dict | None = None

    @property
    def rejected_share(self) -> float:
        """Rejected rows / rows read (0 for a file without rows)."""
        return self.rows_rejected / self.rows_read if self.rows_read else 0.0

    def set_encoding(self, raw) -> None:
        """The encoding of ``raw`` (a :class:`~auditlib.ingest.readers.RawFile`) and how it was chosen."""
        self.encoding = raw.encoding
        choice = getattr(raw, "encoding_choice", None)
        if choice is not None:
            self.encoding_confidence = round(choice.confidence, 3)
            self.encoding_evidence = choice.evidence
            self.encoding_candidates = {k: round(v, 3) for k, v in choice.candidates.items()}

    def check(self) -> None:
        assert self.rows_read == (self.rows_loaded + self.rows_subtotal + self.rows_rejected
                                  + self.rows_filtered), self


_STATUS_KEYS = {FileStatus.LOADED: "ingest.status.loaded", FileStatus.ALREADY_LOADED: "ingest.status.already",
                FileStatus.SKIPPED: "ingest.status.skipped"}


def _reason_kind(r: Reject) -> str:
    """A reject's column and reason with the quoted values left out, so rejects of one kind count
    together (``Date paid: not a date in the format %d/%m/%Y: '…'``)."""
    return f"{r.column}: " + re.sub(r"'[^']*'", "'…'", r.reason)


def top_reasons(rejects: list[Reject], file: str, n: int = 3) -> list[tuple[str, int]]:
    """The ``n`` most common reject reasons (by :func:`_reason_kind`) of one file."""
    return Counter(_reason_kind(r) for r in rejects if r.file == file).most_common(n)


def _pct(share: float) -> str:
    return f"{share:.1%}" if share else "0%"


@dataclass
class IngestReport:
    files: list[FileReport] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    #: every completeness warning's message
    warnings: list[str] = field(default_factory=list)
    #: the same warnings as :class:`~auditlib.ingest.completeness.Issue` objects (kind, file, line)
    issues: list = field(default_factory=list)
    rejects_path: str | None = None
    #: the mapping profile's name and the currency it suggests for the pages (``money.label``)
    profile: str | None = None
    currency_label: str | None = None
    report_path: str | None = None
    completeness_path: str | None = None

    def over_share(self, limit: float) -> list[FileReport]:
        """The files with more than ``limit`` (a share, 0.01 = 1%) of their rows rejected."""
        return [f for f in self.files if f.rejected_share > limit]

    def describe(self, lang: str = "zh") -> str:
        """A per-file summary table, then totals and warnings, in ``lang``."""
        head = [t(k, lang) for k in ("ingest.file", "ingest.table", "ingest.status", "ingest.read",
                                      "ingest.loaded", "ingest.subtotal", "ingest.rejected", "ingest.share")]
        body = []
        for f in self.files:
            status = t(_STATUS_KEYS.get(f.status, f.status), lang)
            if f.reason and f.status != FileStatus.SKIPPED:
                status += f" ({f.reason})"
            if f.mapping and f.status == FileStatus.LOADED:
                status += " (" + (t("ingest.filtered", lang, profile=f.mapping, n=f.rows_filtered) if f.rows_filtered
                                  else t("ingest.mapped", lang, profile=f.mapping)) + ")"
            body.append([f.file, f.table or "-", status, str(f.rows_read), str(f.rows_loaded),
                         str(f.rows_subtotal), str(f.rows_rejected),
                         _pct(f.rejected_share) if f.status == FileStatus.LOADED else "-"])

        def width(s: str) -> int:  # CJK characters take two columns in a terminal
            return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)

        widths = [max(width(r[i]) for r in [head] + body) for i in range(len(head))]

        def fmt(row):
            return "  ".join(c + " " * (w - width(c)) for c, w in zip(row, widths)).rstrip()

        lines = [fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in body]
        lines.append(t("ingest.total", lang,
                       read=sum(f.rows_read for f in self.files),
                       loaded=sum(f.rows_loaded for f in self.files),
                       subtotal=sum(f.rows_subtotal for f in self.files),
                       rejected=sum(f.rows_rejected for f in self.files)))
        filtered = sum(f.rows_filtered for f in self.files)
        if filtered:
            lines.append(t("ingest.filtered_total", lang, n=filtered))
        for f in self.files:
            if f.replaced:
                lines.append(t("ingest.replaced", lang, file=f.file, n=f.replaced.get("rows_deleted", 0),
                               why=f.replaced.get("why", "")))
        for f in self.files:
            if f.rows_rejected:
                reasons = "; ".join(f"{why} ×{n}" for why, n in top_reasons(self.rejects, f.file))
                lines.append(t("ingest.top_reasons", lang, file=f.file, n=f.rows_rejected,
                               share=_pct(f.rejected_share), reasons=reasons))
        if self.rejects and self.rejects_path:
            lines.append(t("ingest.rejects", lang, path=self.rejects_path))
        file_warnings = [w for f in self.files for w in f.warnings]
        if file_warnings:
            lines.append(t("ingest.file_warnings", lang, n=len(file_warnings)))
            lines.extend(f"  {w}" for w in file_warnings)
        if self.warnings:
            from auditlib.ingest.completeness import summary_lines

            lines.append(t("ingest.warnings", lang, n=len(self.warnings)))
            if self.issues:
                lines.extend(f"  {w}" for w in summary_lines(self.issues, lang, self.completeness_path))
            else:
                lines.extend(f"  {w}" for w in self.warnings[:5])
            if self.completeness_path:
                lines.append("  " + t("ingest.completeness_file", lang, path=self.completeness_path))
        return "\n".join(lines)

    def totals(self) -> dict:
        """The row counts of all files (``rows_read``, ``rows_loaded`` ...) for the audit log."""
        return {key: sum(getattr(f, key) for f in self.files)
                for key in ("rows_read", "rows_loaded", "rows_subtotal", "rows_rejected", "rows_filtered")}


def _shown(value):
    """A rejects.csv cell: NUL bytes shown as ``\\x00`` (the writer neutralises formula-like text)."""
    return None if value is None else str(value).replace("\x00", "\\x00")


def write_rejects(path: Path, rejects: list[Reject]) -> None:
    """Write ``rejects.csv`` (UTF-8 with BOM), formula-like cells prefixed with ``'``."""
    write_csv(path, ["file", "line", "column", "value", "reason"],
              ([_shown(r.file), "" if r.line is None else r.line, _shown(r.column), _shown(r.value), _shown(r.reason)]
               for r in rejects))


def write_report(path: Path, files: list[FileReport]) -> None:
    """Write ``ingest_report.json``: one record per file."""
    records = [{**asdict(f), "rejected_share": round(f.rejected_share, 6)} for f in files]
    with atomic_write(path, "w", encoding="utf-8") as fh:
        json.dump(records, fh, ensure_ascii=False, indent=2)
