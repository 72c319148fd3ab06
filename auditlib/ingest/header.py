"""Finding a file's header and mapping its columns onto a table (CONTRACT §1).

A header cell names a column of the table by the column's name or one of its aliases
(compared after :func:`~auditlib.ingest.schema.normalize_header`); other cells are extra
columns, kept as JSON.  Exports are forgiving about where the header is, so
:func:`read_with_header` also finds it below title rows (``某某单位序时账 2024年``),
with another delimiter (tab, semicolon, bar), and across merged XLSX header cells.
"""
from __future__ import annotations

from pathlib import Path

from auditlib.errors import InputError, MappingError, MissingColumnError
from auditlib.ingest import schema
from auditlib.ingest.readers import RawFile, read_file
from auditlib.ingest.values import cell_text

#: delimiters tried, in order, when a CSV file's header is not found with commas
DELIMITERS = (",", "\t", ";", "|")
#: how many non-blank records may stand above the header (report titles, units, dates ...)
MAX_TITLE_ROWS = 30


def alias_map(table: schema.Table) -> dict[str, str]:
    """Normalised header text -> column name, for every name and alias of ``table``'s columns."""
    out: dict[str, str] = {}
    for col in table.columns:
        for name in (col.name,) + col.aliases:
            out.setdefault(schema.normalize_header(name), col.name)
    return out


def map_header(table: schema.Table, header: list, file: str) -> tuple[dict[str, int], dict[str, int]]:
    """Column name -> index for known columns, and header -> index for extra columns.

    Raises :class:`MissingColumnError` when a required column is absent.
    """
    aliases = alias_map(table)
    found = [cell_text(h) for h in header]
    mapped: dict[str, int] = {}
    extra: dict[str, int] = {}
    for i, text in enumerate(found):
        name = aliases.get(schema.normalize_header(text))
        if name is not None and name not in mapped:
            mapped[name] = i
        else:
            key = text or f"column_{i + 1}"
            while key in extra or key in mapped:
                key += "_"
            extra[key] = i
    for col in table.required:
        if col not in mapped:
            zh_names = "/".join(table.column(col).aliases)
            shown = ", ".join(found) if found else "(none)"
            raise MissingColumnError(
                f"{file}: 缺少必需列 / missing required column '{col}'"
                + (f" ({zh_names})" if zh_names else "")
                + f" for table {table.name}; 找到的列 / columns found: {shown}",
                file=file, table=table.name, column=col, found=found,
            )
    return mapped, extra


def check_duplicate_headers(table: schema.Table, header: list, file: str, line: int | None) -> None:
    """Two header cells with the same name (after normalising) for a column of ``table``:
    an :class:`InputError` naming the file, the header line and both columns."""
    aliases = alias_map(table)
    first: dict[str, int] = {}
    for i, h in enumerate(header):
        norm = schema.normalize_header(cell_text(h))
        if not norm or aliases.get(norm) is None:
            continue
        if norm in first:
            j, text = first[norm], cell_text(h)
            raise InputError(
                f"{file}: 第 {line} 行表头第 {j + 1} 列和第 {i + 1} 列同名（{text}），无法确定用哪一列作 "
                f"{aliases[norm]} / header line {line}: columns {j + 1} and {i + 1} are both named '{text}'; "
                f"which one is {aliases[norm]} is ambiguous",
                file=file, line=line, column=text, reason="duplicate header")
        first[norm] = i


def _pick_header(table: schema.Table, raw: RawFile) -> list:
    """The header of ``raw``; for a header spanning rows (merged cells) per column the first
    candidate name that is a column of ``table`` not taken yet."""
    if not raw.header_alts:
        return list(raw.header)
    aliases = alias_map(table)
    taken: set[str] = set()
    header = []
    for i, alts in enumerate(raw.header_alts):
        chosen = raw.header[i] if i < len(raw.header) else None
        for alt in alts:
            name = aliases.get(schema.normalize_header(alt))
            if name is not None and name not in taken:
                chosen = alt
                break
        name = aliases.get(schema.normalize_header(cell_text(chosen)))
        if name is not None:
            taken.add(name)
        header.append(chosen)
    return header


def _required_found(table: schema.Table, header: list) -> int:
    aliases = alias_map(table)
    names = {aliases.get(schema.normalize_header(cell_text(h))) for h in header}
    return sum(1 for col in table.required if col in names)


def find_header(table: schema.Table, raw: RawFile, file: str) -> tuple[RawFile, dict, dict, list[str]]:
    """The header row of ``raw`` with its mapped and extra columns, and notes.

    The first non-blank row is the header when it names every required column (as always);
    otherwise title rows above the header (``某某单位序时账 2024年``) are skipped: the first of the
    next rows that names them all is the header.  When none does, the error of the first row.
    """
    header = _pick_header(table, raw)
    try:
        mapped, extra = map_header(table, header, file)
        check_duplicate_headers(table, header, file, raw.header_line)
        return raw._replace(header=header), mapped, extra, []
    except MissingColumnError as exc:
        best_error, best_score = exc, _required_found(table, header)
    rows = iter(raw.rows)
    peeked: list[tuple[int, list]] = []
    for line, values in rows:
        peeked.append((line, values))
        try:
            mapped, extra = map_header(table, values, file)
        except MissingColumnError as exc:
            score = _required_found(table, values)
            if score > best_score:  # the row most like a header names what is missing
                best_error, best_score = exc, score
            if len(peeked) >= MAX_TITLE_ROWS:
                break
            continue
        check_duplicate_headers(table, values, file, line)
        titles = [" ".join(cell_text(v) for v in raw.header if cell_text(v))]
        titles += [" ".join(cell_text(v) for v in vals if cell_text(v)) for _, vals in peeked[:-1]]
        shown = " | ".join(titles)
        note = (f"{file}: 表头在第 {line} 行，其上 {len(titles)} 行标题已跳过（{shown}）/ header on line {line}; "
                f"{len(titles)} title line(s) above it skipped: {shown}")
        return raw._replace(header=list(values), rows=rows, header_line=line, header_alts=None), mapped, extra, [note]
    raise best_error


def check_not_empty(raw: RawFile, file: str) -> None:
    """A file without a header line: an :class:`InputError`."""
    if not raw.header or all(cell_text(h) == "" for h in raw.header):
        raise InputError(f"{file}: 文件为空（没有表头行）/ the file is empty (no header line)",
                         file=file, line=1, column=None, reason="empty file")


def read_with_header(path: Path, table: schema.Table) -> tuple[RawFile, dict, dict, list[str]]:
    """Read a data file (no mapping profile) and find its header; a CSV file whose header is not
    found with commas is tried with tabs, semicolons and bars (the first that finds it wins).

    Returns the file (its ``header`` the header found), the mapped and extra columns
    (see :func:`map_header`) and notes on how the header was found.
    """
    raw = read_file(path)
    check_not_empty(raw, path.name)
    try:
        return find_header(table, raw, path.name)
    except InputError as exc:
        if raw.encoding is None or isinstance(exc, MappingError):
            raise
        first_error = exc
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    for delim in DELIMITERS[1:]:
        if delim.encode() not in head:
            continue
        try:
            raw2 = read_file(path, delimiter=delim)
            found = find_header(table, raw2, path.name)
        except InputError:
            continue
        shown = {"\t": "tab", ";": ";", "|": "|"}[delim]
        note = (f"{path.name}: 分隔符为 {shown}（不是逗号）/ the delimiter is {shown}, not a comma")
        return found[0], found[1], found[2], [note] + found[3]
    raise first_error
