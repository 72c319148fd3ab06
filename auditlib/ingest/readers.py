"""Reading one CSV or XLSX data file into a header and raw rows.

CSV cells are always strings (nothing is inferred); XLSX cells keep their Python
type (``datetime`` for date cells, ``int``/``float`` for numbers, ``bool``, the text
of an error cell), the same whichever reader ran: python-calamine by default
(:mod:`auditlib.ingest.xlsx_calamine`, about ten times faster), openpyxl for what
only it reads exactly (a whole number of 16 digits or more, an error cell without an
address, a workbook calamine cannot open) or when ``AUDITLIB_XLSX_READER=openpyxl``.
Line numbers are the 1-based physical rows of the file, so the header of a file that
starts with it is line 1.
"""
from __future__ import annotations

import csv
import io
import itertools
import logging
import os
import re
from enum import Enum
from pathlib import Path
from typing import Iterator, NamedTuple

from auditlib.errors import InputError
from auditlib.ingest.encoding import EncodingChoice, choose_encoding

logger = logging.getLogger("auditlib")

#: encodings a CSV file may be in, as reported
CSV_ENCODINGS = ("utf-8-sig", "utf-8", "gbk", "gb18030", "cp1252", "latin-1")


class RawFile(NamedTuple):
    """A file's header cells, its ``(line_no, values)`` rows and its encoding (None for XLSX).

    ``header_line`` is the physical line of the header (the last one of a header spanning rows);
    ``header_alts`` per column the candidate names of a header spanning several rows (XLSX merged
    cells: the texts joined, then the bottom text), else None; ``header`` then holds the texts
    joined with ``/``;
    ``cut_line`` is the line of a last record that the file ends in without a line break (CSV);
    ``notes`` are remarks on how the file was read (e.g. an ``.xlsx`` that is really a CSV);
    ``encoding_choice`` how a CSV file's encoding was chosen (detected, or set by a profile).
    """

    header: list
    rows: Iterator[tuple[int, list]]
    encoding: str | None
    header_line: int | None = None
    header_alts: list | None = None
    cut_line: int | None = None
    notes: tuple = ()
    #: how the encoding of a CSV file was chosen (None for XLSX)
    encoding_choice: EncodingChoice | None = None


def detect_encoding(data: bytes, name: str = "") -> str:
    """The encoding of CSV bytes (see :func:`auditlib.ingest.encoding.choose_encoding`, which also
    says how sure it is): ``utf-8-sig``, ``utf-8``, ``gbk``, ``gb18030``, ``cp1252`` or ``latin-1``.

    Raises :class:`InputError` when several encodings read the bytes differently and none is
    clearly the plausible one.
    """
    return choose_encoding(data, name).encoding


#: Chinese characters and punctuation: what the non-ASCII text of a Chinese export is made of
_PLAUSIBLE_RE = re.compile("[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef¥·—“”‘’…、]")


def plausible_count(text: str) -> tuple[int, int]:
    """(non-ASCII characters, of which Chinese characters or punctuation) of ``text``."""
    wide = len(text) - len(text.encode("ascii", "ignore"))
    return wide, _PLAUSIBLE_RE.subn("", text)[1] if wide else 0


def plausibility(wide: int, good: int) -> float:
    """Share of the non-ASCII characters that are Chinese characters or punctuation
    (1.0 for ASCII text), from :func:`plausible_count`."""
    return 1.0 if not wide else good / wide


def is_blank(values) -> bool:
    """A record whose every cell is empty or white space (skipped wherever rows are read)."""
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _check_not_binary(data: bytes, name: str) -> None:
    """UTF-16 text or a binary file read as CSV: an :class:`InputError` instead of garbage cells."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{name}: 文件为 UTF-16 编码，请另存为 UTF-8 或 GBK 的 CSV / the file is UTF-16 text; "
                         f"save it as a UTF-8 or GBK CSV", file=name, line=None, column=None, reason="UTF-16")
    head = data[:65536]
    if head and head.count(b"\x00") * 10 > len(head):
        raise InputError(f"{name}: 文件含大量 NUL 字节，不是 UTF-8/GBK 文本（可能为 UTF-16 或二进制文件）/ the file "
                         f"is full of NUL bytes: not UTF-8/GBK text (UTF-16 or a binary file?)",
                         file=name, line=None, column=None, reason="NUL bytes")


#: the check of :func:`read_csv`, for the fast path's transcoding (:mod:`auditlib.ingest.fast`)
check_not_binary = _check_not_binary


def _lines_kept(text: str, kept: list):
    """The lines of ``text`` as csv.reader splits them, each also appended to ``kept``."""
    for line in io.StringIO(text, newline=""):
        kept.append(line)
        yield line


def read_csv(path: str | Path, encoding: str | None = None, delimiter: str = ",") -> RawFile:
    """Read a CSV file: every cell a string, encoding detected (or ``encoding``, checked strictly).

    A file that ends inside a quoted field (cut off, or a quote never closed) is an
    :class:`InputError` naming the line and column where the field starts.
    """
    path = Path(path)
    with open(path, "rb") as fh:
        data = fh.read()
    _check_not_binary(data, path.name)
    if encoding is None:
        choice = choose_encoding(data, path.name)
        encoding = choice.encoding
    else:
        choice = EncodingChoice(encoding, 1.0, "set by the mapping profile", {encoding: 1.0})
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise InputError(f"{path.name}: 不是 {encoding} 编码 / not in the encoding {encoding}: {exc}",
                         file=path.name, line=None, column=None, reason=str(exc)) from exc
    del data
    kept: list[str] = []
    reader = csv.reader(_lines_kept(text, kept), delimiter=delimiter)
    header: list | None = None
    header_line = None
    rows: list[tuple[int, list]] = []
    prev_end = 0
    last_start, last_record, last_lines = None, None, []
    try:
        for record in reader:
            start = prev_end + 1
            prev_end = reader.line_num
            last_start, last_record, last_lines = start, record, kept[:]
            kept.clear()
            if is_blank(record):
                continue
            if header is None:
                header = list(record)
                header_line = reader.line_num
                continue
            rows.append((start, list(record)))
    except csv.Error as exc:
        raise InputError(
            f"{path.name}: 第 {reader.line_num} 行 CSV 格式错误 / bad CSV at line {reader.line_num}: {exc}",
            file=path.name, line=reader.line_num, column=None, reason=str(exc),
        ) from exc
    cut_line = None
    if last_lines:
        try:  # the last record again, strictly: an open quote at the end of the file is an error
            list(csv.reader(io.StringIO("".join(last_lines), newline=""), delimiter=delimiter, strict=True))
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                index = max(len(last_record) - 1, 0)
                col = str(header[index]).strip() if header and index < len(header) else f"column_{index + 1}"
                raise InputError(
                    f"{path.name}: 第 {last_start} 行第 {index + 1} 列（{col}）的引号没有闭合，文件可能被截断 / "
                    f"line {last_start}, column {index + 1} ({col}): a quoted field never ends; "
                    f"the file is cut off or damaged",
                    file=path.name, line=last_start, column=col, reason="unterminated quote") from None
        if not last_lines[-1].endswith(("\n", "\r")):
            cut_line = last_start
    return RawFile(header or [], iter(rows), encoding, header_line=header_line, cut_line=cut_line,
                   encoding_choice=choice)


#: first bytes of an OLE2 compound file (an encrypted OOXML workbook, or an old .xls)
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"


def _merged_ranges(path: Path, ws) -> list[tuple[int, int, int, int]]:
    """``(min_col, min_row, max_col, max_row)`` of the merged cells of a read-only worksheet
    (openpyxl's read-only mode does not read them): the sheet's XML is scanned in chunks."""
    import re
    import zipfile

    from openpyxl.utils.cell import range_boundaries

    member = getattr(ws, "_worksheet_path", None)
    if not member:
        return []
    out = []
    pattern = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"')
    try:
        with zipfile.ZipFile(path) as zf, zf.open(member.lstrip("/")) as fh:
            tail = b""
            while True:
                chunk = fh.read(1 << 20)
                if not chunk:
                    break
                buf = tail + chunk
                if b"mergeCell" in buf:
                    out.extend(range_boundaries(m.group(1).decode()) for m in pattern.finditer(buf))
                    cut = buf.rfind(b"<")
                    tail = buf[cut:] if cut >= 0 else b""  # a tag cut in two is found with the next chunk
                else:
                    tail = buf[-64:]
    except (KeyError, zipfile.BadZipFile, ValueError):  # pragma: no cover - openpyxl read it already
        return []
    return sorted(set(out))


def _header_text_of(value) -> str:
    if value is None:
        return ""
    return str(value).strip()


class XlsxReader(Enum):
    """Which library reads the cells of an XLSX workbook."""

    #: python-calamine (Rust): the default, about ten times faster
    CALAMINE = "calamine"
    #: openpyxl in read-only mode: the reference, and the fallback where calamine cannot read a file
    OPENPYXL = "openpyxl"


#: the reader of XLSX workbooks; the environment variable ``AUDITLIB_XLSX_READER=openpyxl`` picks the other
DEFAULT_XLSX_READER = XlsxReader.CALAMINE


def xlsx_reader() -> XlsxReader:
    """The XLSX reader in use: ``AUDITLIB_XLSX_READER`` if set, else :data:`DEFAULT_XLSX_READER`."""
    name = os.environ.get("AUDITLIB_XLSX_READER", "").strip().lower()
    return XlsxReader(name) if name in {r.value for r in XlsxReader} else DEFAULT_XLSX_READER


def _check_zip_workbook(path: Path) -> None:
    """An OLE2 container instead of a zip: an encrypted workbook or an old ``.xls``, each a clear error."""
    with open(path, "rb") as fh:
        magic = fh.read(8)
    if magic == OLE2_MAGIC:
        with open(path, "rb") as fh:
            blob = fh.read(1 << 22)
        if "EncryptionInfo".encode("utf-16-le") in blob or "EncryptedPackage".encode("utf-16-le") in blob:
            raise InputError(
                f"{path.name}: 工作簿有密码保护（已加密），无法读取；请在 Excel 中取消密码后另存为 .xlsx / the "
                f"workbook is password-protected (encrypted) and cannot be read; remove the password in Excel "
                f"and save it again as .xlsx", file=path.name, line=None, column=None, reason="encrypted workbook")
        raise InputError(
            f"{path.name}: 这是旧版 Excel（.xls）文件，请另存为 .xlsx / this is an old Excel (.xls) file; save it "
            f"as .xlsx", file=path.name, line=None, column=None, reason="old .xls format")


def _openpyxl_rows(path: Path) -> tuple[list[tuple[int, list]], list]:
    """Every non-blank row ``(line, values)`` of the first worksheet read by openpyxl (read-only), and
    the sheet's merged ranges."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException ...
        raise InputError(
            f"{path.name}: 无法读取 XLSX / cannot read XLSX: {exc}",
            file=path.name, line=None, column=None, reason=str(exc),
        ) from exc
    try:
        ws = wb.worksheets[0]
        rows: list[tuple[int, list]] = []
        for row in ws.iter_rows():
            cells = [c for c in row]
            line = next((getattr(c, "row", None) for c in cells if getattr(c, "row", None)), None)
            values = [getattr(c, "value", None) for c in cells]
            if line is None or is_blank(values):
                continue
            rows.append((line, values))
        merges = _merged_ranges(path, ws) if rows else []
    finally:
        wb.close()
    return rows, merges


def _calamine_rows(path: Path) -> tuple[Iterator[tuple[int, list]], list] | None:
    """Every non-blank row of the first worksheet read by python-calamine (lazily, a
    :class:`~auditlib.ingest.xlsx_calamine.CalamineRows`), and the merged ranges; None when
    calamine cannot read the file exactly (openpyxl then reads it, or says why not)."""
    from auditlib.ingest import xlsx_calamine

    try:
        sheet = xlsx_calamine.read_sheet(path)
    except Exception as exc:  # noqa: BLE001 - not installed, an odd workbook: openpyxl decides
        logger.debug("%s: python-calamine cannot read it (%s); reading with openpyxl", path.name, exc)
        return None
    return sheet.rows, sheet.merges


def read_rows(path: Path, reader: XlsxReader | None = None) -> tuple[Iterator[tuple[int, list]], list]:
    """The non-blank rows ``(line, values)`` of the first worksheet of ``path`` and its merged
    ranges, read by ``reader`` (default :func:`xlsx_reader`); python-calamine falls back to openpyxl
    where it cannot read the workbook exactly."""
    _check_zip_workbook(path)
    reader = reader or xlsx_reader()
    got = _calamine_rows(path) if reader is XlsxReader.CALAMINE else None
    return got if got is not None else _openpyxl_rows(path)


def read_xlsx(path: str | Path, reader: XlsxReader | None = None) -> RawFile:
    """Read the first worksheet of an XLSX file; cells keep their Python types.

    ``reader`` (default :data:`DEFAULT_XLSX_READER`): python-calamine, or openpyxl, which also reads
    what calamine cannot; both give the same cells (``datetime`` for date cells, ``int`` for
    whole numbers, ``float``, ``bool``, ``str``, the text of error cells, ``None`` when empty).

    A header whose merged cells span several rows (a group title over sub-headers) is read as
    one header: per column the candidate names (see :class:`RawFile`), data below it.
    """
    path = Path(path)
    rows, merges = read_rows(path, reader)
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return RawFile([], iter(()), None)
    header_line, header = first
    return _spanning_header(header, header_line, rows, merges)


def _spanning_header(header: list, header_line: int, rows: Iterator, merges: list) -> RawFile:
    """The file with its header; merged cells that start on the header row and reach below it make
    the header span rows (the rows under it up to the merges' bottom are taken into it)."""
    header_alts = None
    bottom = max((r[3] for r in merges if r[1] == header_line and r[3] > header_line), default=None)
    if bottom is None:
        return RawFile(header, rows, None, header_line=header_line)
    sub = []
    for ln, vals in rows:
        if ln > bottom:
            if hasattr(rows, "push_back"):  # calamine's rows: the fast path may take them raw
                rows.push_back()
            else:
                rows = itertools.chain([(ln, vals)], rows)
            break
        sub.append((ln, vals))
    width = max([len(header)] + [len(v) for _, v in sub])
    grid = [list(header) + [None] * (width - len(header))]
    grid += [list(v) + [None] * (width - len(v)) for _, v in sub]
    top_line = header_line
    for min_col, min_row, max_col, max_row in merges:  # a merged range's text fills all its cells
        if min_row < top_line or min_row > bottom:
            continue
        text = grid[min_row - top_line][min_col - 1] if min_col - 1 < width else None
        for r in range(min_row, min(max_row, bottom) + 1):
            for c in range(min_col, min(max_col, width) + 1):
                if (r, c) != (min_row, min_col) and r - top_line < len(grid):
                    grid[r - top_line][c - 1] = text if r == min_row else None
    header, header_alts = [], []
    for c in range(width):
        texts = []
        for r in range(len(grid)):
            t = _header_text_of(grid[r][c])
            if t and t not in texts:
                texts.append(t)
        # a group title over a sub-header: the joined texts (借方 + 金额), else the sub-header
        alts = ["".join(texts), texts[-1]] if len(texts) > 1 else texts
        header.append("/".join(texts) if texts else None)  # an extra column: 借方/数量
        header_alts.append(alts)
    return RawFile(header, rows, None, header_line=bottom, header_alts=header_alts)


def _looks_like_text(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if not head or b"\x00" in head:
        return False
    for enc in ("utf-8", "gb18030"):
        try:
            head.decode(enc)
            return True
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4:  # a character cut by the 64 KiB window
                return True
    return False


def read_file(path: str | Path, encoding: str | None = None, delimiter: str = ",") -> RawFile:
    """Read a ``.csv`` or ``.xlsx`` file (``encoding`` of a CSV file: detected when None).

    An ``.xlsx`` file that is really CSV text (an export renamed) is read as CSV, with a note.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path, encoding, delimiter)
    if suffix == ".xlsx":
        with open(path, "rb") as fh:
            magic = fh.read(8)
        if magic and not magic.startswith(ZIP_MAGIC) and magic != OLE2_MAGIC and _looks_like_text(path):
            raw = read_csv(path, encoding, delimiter)
            note = (f"{path.name}: 扩展名为 .xlsx，实为 CSV 文本，已按 CSV（{raw.encoding}）读取 / named .xlsx but "
                    f"is CSV text; read as CSV ({raw.encoding})")
            return raw._replace(notes=raw.notes + (note,))
        return read_xlsx(path)
    raise InputError(
        f"{path.name}: 不支持的文件类型 / unsupported file type {suffix}",
        file=path.name, line=None, column=None, reason="unsupported file type",
    )
