"""Mapping profiles: any export (用友, 金蝶, a foreign open-data file) onto one table (CONTRACT §1).

A profile is a YAML file; ``params/mappings/`` ships several, and an audit workspace
may add its own there (``--mapping NAME`` looks in the workspace's first).  It says which table
the files become, which source column feeds each field (with alternatives, since
real headers drift between exports), how dates and money are written, constants
for fields the export lacks, and rows to leave out::

    table: payments
    files: ["expenditure-over-500-*.csv"]   # file names this profile reads (default: all)
    encoding: utf-8                         # CSV encoding (default: detected, UTF-8, GBK or Western)
    # encoding: {"2011-1[12].csv": cp1252, "*": utf-8}   # or per file-name pattern, first match wins
    dates: {format: ["%d/%m/%Y"]}           # tried first; unambiguous ISO forms always work
    money: {decimal_comma: false, currency: ["£"], label: £}   # label: the currency pages should say
    constants: {unit_code: "OCC", payee_is_sme: false}
    fields:
      payment_id: [Trans No, trans_no]        # alternatives: the first header present wins
      amount: Amount
      expense_type: {column: [Expenditure Category], optional: true}   # absent -> empty
      voucher_no: {join: [iyear, iperiod, csign, ino_id], sep: "-"}    # several columns
      counterparty: {first_of: [ccus_id, csup_id]}                      # first non-empty
      debit: {column: FAmount, when: {FDC: ["1", 借]}}                  # else empty
      unit_code: {from_file: '_(\\w+)$'}                                # from the file name
      payment_id: {join: [VendorNum, InvNum, $line]}                    # $line, $file
      counterparty: {column: 辅助项, regex: '客商：(?P<value>[^】]+)'}    # part of a cell
    filters:
      - {column: iflag, not_in: ["1"], optional: true, reason: 作废凭证 void voucher}

A profile only turns each source row into the cells of the table's columns; the
usual parsers of :mod:`auditlib.ingest.values`, reject recording and key checks of
:mod:`auditlib.ingest.rows` then run unchanged.  A cell the profile cannot read (a
date not in the given format) becomes a :class:`BadCell`, which the ingest
records as a reject.  A field naming a column the file lacks is a
:class:`~auditlib.errors.MappingError` naming the column.
"""
from __future__ import annotations

import datetime as _dt
import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple

import yaml

from auditlib.ingest import schema
from auditlib.errors import MappingError
from auditlib.ingest.readers import RawFile
from auditlib.ingest.values import ValueParseError, is_subtotal, parse_date, parse_text
from auditlib.workspace import profiles_dirs

TOP_KEYS = ("name", "description", "table", "files", "encoding", "dates", "money", "constants", "fields", "filters")
FIELD_KEYS = ("column", "optional", "format", "when", "join", "sep", "first_of", "value", "from_file", "map",
              "regex")
FILTER_KEYS = ("column", "in", "not_in", "matches", "optional", "reason")
#: currency signs stripped from money text besides those a profile lists
CURRENCY_SIGNS = ("£", "$", "€", "US$", "GBP", "USD", "EUR", "RMB", "CNY")
_TRAILING_TIME = re.compile(r"\s+\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?$")


class BadCell(NamedTuple):
    """A cell the profile could not read: the ingest records it as a reject with ``reason``."""

    value: str
    reason: str


#: marker the mapped rows carry in place of values for a row a filter leaves out
FILTERED = "__filtered__"


def _err(path, key: str, message: str) -> MappingError:
    return MappingError(f"{path}: 映射配置错误 / bad mapping profile at '{key}': {message}",
                        file=str(path), key=key, line=None, column=None, reason=message)


def _names(value, path, key) -> tuple[str, ...]:
    """A column name or a list of alternatives as a tuple of names."""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return (str(value),)
    if isinstance(value, list) and value and all(isinstance(v, (str, int)) and not isinstance(v, bool)
                                                 for v in value):
        return tuple(str(v) for v in value)
    raise _err(path, key, "须为列名或列名列表 / must be a column name or a list of alternatives")


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Spec:
    """Where one field's cell comes from (see the module docstring)."""

    kind: str  # column | join | first_of | value | from_file
    key: str
    names: tuple[str, ...] = ()
    parts: tuple["Spec", ...] = ()
    sep: str = "-"
    value: object = None
    optional: bool = False
    formats: tuple[str, ...] = ()
    when: tuple[tuple[tuple[str, ...], frozenset], ...] = ()
    regex: re.Pattern | None = None
    translate: dict | None = None
    #: ``regex:`` of a column: the named group ``value`` (else the first group, else the match)
    #: taken out of the cell; no match -> empty
    extract: re.Pattern | None = None


def _spec(raw, path, key) -> Spec:
    if not isinstance(raw, dict):
        return Spec("column", key, names=_names(raw, path, key))
    unknown = sorted(set(raw) - set(FIELD_KEYS))
    if unknown:
        raise _err(path, f"{key}.{unknown[0]}", f"未知键 / unknown key; 可用 / allowed: {', '.join(FIELD_KEYS)}")
    kinds = [k for k in ("column", "join", "first_of", "value", "from_file") if k in raw]
    if len(kinds) != 1:
        raise _err(path, key, "须恰有 column、join、first_of、value、from_file 之一 / needs exactly one of "
                              "column, join, first_of, value, from_file")
    kind = kinds[0]
    common = {"optional": bool(raw.get("optional", False))}
    if "format" in raw:
        fmts = _as_list(raw["format"])
        if not all(isinstance(f, str) and f for f in fmts):
            raise _err(path, f"{key}.format", "须为 strptime 格式 / must be strptime formats")
        common["formats"] = tuple(fmts)
    if "when" in raw:
        if not isinstance(raw["when"], dict) or not raw["when"]:
            raise _err(path, f"{key}.when", "须为 {列: [值]} / must be {column: [values]}")
        common["when"] = tuple((_names(c, path, f"{key}.when"), frozenset(str(v).strip() for v in _as_list(vals)))
                               for c, vals in raw["when"].items())
    if "regex" in raw:
        try:
            extract = re.compile(str(raw["regex"]))
        except re.error as exc:
            raise _err(path, f"{key}.regex", f"正则表达式错误 / bad regular expression: {exc}") from None
        if "value" not in extract.groupindex and not extract.groups:
            raise _err(path, f"{key}.regex", "须有命名组 (?P<value>...) / needs a named group (?P<value>...)")
        common["extract"] = extract
    if "map" in raw:
        if not isinstance(raw["map"], dict):
            raise _err(path, f"{key}.map", "须为 {源值: 值} / must be {source value: value}")
        common["translate"] = {str(k).strip(): v for k, v in raw["map"].items()}
    if kind == "column":
        return Spec("column", key, names=_names(raw["column"], path, key), **common)
    if kind in ("join", "first_of"):
        items = raw[kind]
        if not isinstance(items, list) or not items:
            raise _err(path, f"{key}.{kind}", "须为非空列表 / must be a non-empty list")
        parts = tuple(_spec(item, path, f"{key}.{kind}[{i}]") for i, item in enumerate(items))
        sep = raw.get("sep", "-")
        if not isinstance(sep, str):
            raise _err(path, f"{key}.sep", "须为文本 / must be text")
        return Spec(kind, key, parts=parts, sep=sep, **common)
    if kind == "value":
        return Spec("value", key, value=raw["value"], **common)
    try:
        regex = re.compile(str(raw["from_file"]))
    except re.error as exc:
        raise _err(path, f"{key}.from_file", f"正则表达式错误 / bad regular expression: {exc}") from None
    return Spec("from_file", key, regex=regex, **common)


@dataclass(frozen=True)
class Filter:
    key: str
    names: tuple[str, ...]
    keep_in: frozenset | None
    drop_in: frozenset | None
    matches: re.Pattern | None
    optional: bool
    reason: str


@dataclass(frozen=True)
class Profile:
    """A loaded, validated mapping profile."""

    path: str
    name: str
    table: str
    files: tuple[str, ...]
    fields: dict[str, Spec]
    date_formats: tuple[str, ...] = ()
    decimal_comma: bool = False
    currency: tuple[str, ...] = ()
    #: the currency the profile suggests for the pages (``money.label``; the parameters' ``currency:``)
    currency_label: str | None = None
    filters: tuple[Filter, ...] = field(default=())
    #: encoding of CSV files: ``((file-name pattern, encoding), ...)`` in order (``*`` for all);
    #: a file no pattern matches has its encoding detected
    encodings: tuple[tuple[str, str], ...] = ()

    @property
    def encoding(self) -> str | None:
        """The one encoding of every file (``encoding: cp1252``), else None."""
        return self.encodings[0][1] if len(self.encodings) == 1 and self.encodings[0][0] == "*" else None

    def encoding_for(self, file_name: str) -> str | None:
        """The encoding the profile sets for ``file_name`` (first matching pattern), None = detect."""
        name = file_name.lower()
        for pattern, encoding in self.encodings:
            if fnmatch.fnmatch(name, pattern.lower()):
                return encoding
        return None

    def matches(self, file_name: str) -> bool:
        """Whether this profile reads the file (its ``files`` patterns, case-insensitive)."""
        name = file_name.lower()
        return any(fnmatch.fnmatch(name, pat.lower()) for pat in self.files)

    def apply(self, raw: RawFile, file_name: str) -> tuple[RawFile, dict[str, str]]:
        """The file's rows as cells of the table's columns, and each field's source label.

        The returned header holds the mapped field names, then the source columns no
        field used (kept as extra columns).  A row left out by a filter has the values
        :data:`FILTERED`.  Raises :class:`MappingError` when a field or filter names a
        column the file lacks.
        """
        header = [_header(h) for h in raw.header]
        index: dict[str, int] = {}
        for i, text in enumerate(header):
            index.setdefault(schema.normalize_header(text), i)
        used: set[int] = set()
        binder = _Binder(self, header, index, used, file_name)
        getters = {name: binder.bind(name, spec, self.table_column(name).type) for name, spec in self.fields.items()}
        filters = [binder.bind_filter(f) for f in self.filters]
        names = list(getters)
        extra = [i for i in range(len(header)) if i not in used]
        out_header = names + [header[i] or f"column_{i + 1}" for i in extra]
        labels = {name: f"{name} ({binder.labels[name]})" for name in names if binder.labels.get(name)}
        width = len(header)

        def rows():
            for line, values in raw.rows:
                values = list(values)
                if len(values) < width:
                    values += [None] * (width - len(values))
                if any(not keep(values) for keep in filters):
                    yield line, FILTERED
                    continue
                mapped = [get(values, line) for get in getters.values()]
                yield line, mapped + [values[i] for i in extra] + values[width:]

        return RawFile(out_header, rows(), raw.encoding), labels

    def table_column(self, name: str) -> schema.Column:
        return schema.TABLES[self.table].column(name)

    def filter_reasons(self) -> list[str]:
        return [f.reason for f in self.filters]


def _header(value) -> str:
    try:
        return parse_text(value) or ""
    except ValueParseError:
        return str(value)


def _text(value) -> str | None:
    try:
        return parse_text(value)
    except ValueParseError:
        return str(value)


class _Binder:
    """Binds specs to the column positions of one file."""

    def __init__(self, profile: Profile, header: list[str], index: dict[str, int], used: set[int], file: str):
        self.profile, self.header, self.index, self.used, self.file = profile, header, index, used, file
        self.labels: dict[str, str] = {}

    def find(self, names: tuple[str, ...], key: str, optional: bool) -> int | str | None:
        for name in names:
            if name in ("$line", "$file"):
                return name
            i = self.index.get(schema.normalize_header(name))
            if i is not None:
                self.used.add(i)
                return i
        if optional:
            return None
        shown = " / ".join(f"'{n}'" for n in names)
        found = ", ".join(self.header) if self.header else "(none)"
        raise MappingError(
            f"{self.file}: 映射配置 {self.profile.name} 的 {key} 所指列不存在 / mapping profile "
            f"{self.profile.name}: {key} names column {shown} which the file lacks; "
            f"找到的列 / columns found: {found}",
            file=self.file, key=key, line=None, column=names[0], reason="missing column", found=self.header)

    def raw_getter(self, spec: Spec) -> Callable:
        """A function (values, line) -> raw cell, before type handling."""
        if spec.kind == "value":
            value = spec.value
            return lambda values, line: value
        if spec.kind == "from_file":
            stem = Path(self.file).stem
            m = spec.regex.search(stem)
            value = None
            if m is not None:
                value = m.group("value") if "value" in m.re.groupindex else (m.group(1) if m.re.groups else m.group(0))
            if not value:
                raise MappingError(
                    f"{self.file}: 文件名不含 {spec.key} / the file name does not give {spec.key} "
                    f"(pattern {spec.regex.pattern!r} of profile {self.profile.name})",
                    file=self.file, key=spec.key, line=None, column=None, reason="file name")
            return lambda values, line: value
        if spec.kind in ("join", "first_of"):
            parts = [self.raw_getter(p) for p in spec.parts]
            if spec.kind == "first_of":
                def first(values, line):
                    for get in parts:
                        text = _text(get(values, line))
                        if text:
                            return text
                    return None
                return first
            sep = spec.sep

            def join(values, line):
                texts = [_text(get(values, line)) for get in parts]
                texts = [t for t in texts if t]
                return sep.join(texts) if texts else None
            return join
        where = self.find(spec.names, spec.key, spec.optional)
        if where is None:
            return lambda values, line: None
        if where == "$line":
            return lambda values, line: str(line)
        if where == "$file":
            name = self.file
            return lambda values, line: name
        return lambda values, line: values[where]

    def label(self, spec: Spec) -> str:
        if spec.kind == "column":
            for name in spec.names:
                if name.startswith("$") or schema.normalize_header(name) in self.index:
                    return name
            return ""
        if spec.kind in ("join", "first_of"):
            return "+".join(filter(None, (self.label(p) for p in spec.parts)))
        return ""

    def bind(self, name: str, spec: Spec, col_type: str) -> Callable:
        get = self.raw_getter(spec)
        self.labels[name] = self.label(spec)
        conds = [(self.find(names, f"{spec.key}.when", False), allowed) for names, allowed in spec.when]
        translate = spec.translate
        extract = spec.extract
        if col_type == "date":
            convert = _date_converter(spec.formats or self.profile.date_formats)
        elif col_type == "money":
            convert = _money_converter(self.profile.decimal_comma, self.profile.currency)
        else:
            convert = None

        def cell(values, line):
            for where, allowed in conds:
                if (_text(values[where]) or "") not in allowed:
                    return None
            value = get(values, line)
            if extract is not None:
                text = _text(value)
                m = extract.search(text) if text else None
                value = (m.group("value") if "value" in extract.groupindex else
                         m.group(1) if extract.groups else m.group(0)) if m else None
            if translate is not None:
                text = _text(value)
                if text in translate:
                    value = translate[text]
            if convert is not None and isinstance(value, str):
                value = convert(value)
            return value
        return cell

    def bind_filter(self, flt: Filter) -> Callable:
        where = self.find(flt.names, flt.key, flt.optional)
        if where is None:
            return lambda values: True

        def keep(values):
            text = _text(values[where]) or ""
            if flt.keep_in is not None and text not in flt.keep_in:
                return False
            if flt.drop_in is not None and text in flt.drop_in:
                return False
            if flt.matches is not None and not flt.matches.fullmatch(text):
                return False
            return True
        return keep


def _date_converter(formats: tuple[str, ...]) -> Callable[[str], object]:
    """Text -> date by the profile's formats, then by the standard unambiguous forms."""
    def convert(text: str):
        stripped = text.strip()
        if not stripped or is_subtotal(stripped):
            return text
        for candidate in dict.fromkeys((stripped, _TRAILING_TIME.sub("", stripped))):
            for fmt in formats:
                try:
                    day = _dt.datetime.strptime(candidate, fmt).date()
                except ValueError:
                    continue
                try:
                    return parse_date(day)
                except ValueParseError as exc:
                    return BadCell(text, exc.reason)
        try:
            return parse_date(stripped)
        except ValueParseError as exc:
            if formats and not exc.reason.startswith(("time without", "year outside")):
                return BadCell(text, f"not a date in the format {' or '.join(formats)}: {text!r}")
            return BadCell(text, exc.reason)
    return convert


def _money_converter(decimal_comma: bool, currency: tuple[str, ...]) -> Callable[[str], str]:
    """Money text with the profile's currency signs removed and, for a decimal comma,
    ``1.234,56`` turned into ``1234.56``; the standard money parser reads the rest."""
    signs = sorted(set(currency) | set(CURRENCY_SIGNS), key=len, reverse=True)

    def convert(text: str) -> str:
        out = text.strip()
        for sign in signs:
            if sign in out:
                out = out.replace(sign, "").strip()
        if decimal_comma:
            out = out.replace("\u00a0", "").replace(" ", "").replace(".", "").replace("'", "").replace(",", ".")
        return out
    return convert


def _filter(raw, path, i) -> Filter:
    key = f"filters[{i}]"
    if not isinstance(raw, dict) or "column" not in raw:
        raise _err(path, key, "须为 {column: ..., in/not_in/matches: ...} / must be a mapping with a column")
    unknown = sorted(set(raw) - set(FILTER_KEYS))
    if unknown:
        raise _err(path, f"{key}.{unknown[0]}", f"未知键 / unknown key; 可用 / allowed: {', '.join(FILTER_KEYS)}")
    if not any(k in raw for k in ("in", "not_in", "matches")):
        raise _err(path, key, "须有 in、not_in 或 matches / needs in, not_in or matches")
    try:
        matches = re.compile(str(raw["matches"])) if "matches" in raw else None
    except re.error as exc:
        raise _err(path, f"{key}.matches", f"正则表达式错误 / bad regular expression: {exc}") from None
    names = _names(raw["column"], path, f"{key}.column")
    keep_in = frozenset(str(v).strip() for v in _as_list(raw["in"])) if "in" in raw else None
    drop_in = frozenset(str(v).strip() for v in _as_list(raw["not_in"])) if "not_in" in raw else None
    reason = str(raw.get("reason") or f"filter on {names[0]}")
    return Filter(key, names, keep_in, drop_in, matches, bool(raw.get("optional", False)), reason)


def _encodings(raw, path) -> tuple[tuple[str, str], ...]:
    """``encoding:`` as ``((pattern, encoding), ...)``: one name for every file, or a mapping from
    file-name patterns to encodings (``{"2011-1[12].csv": cp1252, "*": utf-8}``), tried in order."""
    import codecs

    if raw is None:
        return ()
    items = raw.items() if isinstance(raw, dict) else [("*", raw)]
    if isinstance(raw, dict) and not raw:
        raise _err(path, "encoding", "须为编码名或 {文件名模式: 编码} / must be an encoding or {file pattern: encoding}")
    out = []
    for pattern, name in items:
        key = "encoding" if not isinstance(raw, dict) else f"encoding.{pattern}"
        if not isinstance(name, str) or not name:
            raise _err(path, key, "须为编码名 / must be an encoding name")
        try:
            out.append((str(pattern), codecs.lookup(name).name))
        except LookupError:
            raise _err(path, key, f"未知编码 / unknown encoding {name!r}") from None
    return tuple(out)


def resolve(mapping) -> Path:
    """The profile file: ``mapping`` as a path, or the name of a profile in
    :func:`auditlib.workspace.profiles_dirs` (the workspace's ``params/mappings/`` first,
    then the shipped profiles)."""
    path = Path(mapping)
    if path.is_file():
        return path
    dirs = profiles_dirs()
    name = f"{path.stem if path.suffix in ('.yaml', '.yml') else path.name}.yaml"
    if not path.suffix:
        for folder in dirs:
            if (folder / name).is_file():
                return folder / name
    available = ", ".join(sorted({p.stem for folder in dirs for p in folder.glob("*.yaml")}))
    raise MappingError(f"{mapping}: 映射配置不存在 / mapping profile not found"
                       + (f"; 内置 / shipped: {available}" if available else ""),
                       file=str(mapping), key="", line=None, column=None, reason="not found")


def load_profile(mapping) -> Profile:
    """Read and check a profile (a path, or the name of one in ``params/mappings/``, see :func:`resolve`)."""
    path = resolve(mapping)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _err(path, "", f"无法读取 / cannot read: {exc}") from None
    except (yaml.YAMLError, ValueError) as exc:
        raise _err(path, "", f"YAML 格式错误 / invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise _err(path, "", "顶层必须是映射 / top level must be a mapping")
    unknown = sorted(set(data) - set(TOP_KEYS))
    if unknown:
        raise _err(path, unknown[0], f"未知键 / unknown key; 可用 / allowed: {', '.join(TOP_KEYS)}")
    table_name = data.get("table")
    if table_name not in schema.TABLES:
        raise _err(path, "table", f"须为 / must be one of {', '.join(schema.TABLES)}, not {table_name!r}")
    table = schema.TABLES[table_name]
    columns = {c.name for c in table.columns}
    files = tuple(str(f) for f in _as_list(data.get("files", ["*.csv", "*.xlsx"])))

    fields: dict[str, Spec] = {}
    raw_fields = data.get("fields") or {}
    if not isinstance(raw_fields, dict):
        raise _err(path, "fields", "须为 {字段: 来源列} / must be {field: source}")
    constants = data.get("constants") or {}
    if not isinstance(constants, dict):
        raise _err(path, "constants", "须为 {字段: 值} / must be {field: value}")
    for section, items in (("fields", raw_fields), ("constants", constants)):
        for name, raw in items.items():
            key = f"{section}.{name}"
            if name not in columns:
                raise _err(path, key, f"表 {table_name} 无此字段 / table {table_name} has no such field; "
                                      f"字段 / fields: {', '.join(c.name for c in table.columns)}")
            if name in fields:
                raise _err(path, key, "字段重复 / field given twice")
            fields[name] = _spec(raw, path, key) if section == "fields" else Spec("value", key, value=raw)
    missing = [c for c in table.required if c not in fields]
    if missing:
        raise _err(path, "fields", f"缺少必需字段 / required field(s) not mapped: {', '.join(missing)}")
    for name, spec in fields.items():
        if spec.formats and table.column(name).type != "date":
            raise _err(path, f"fields.{name}.format", "只用于日期字段 / only for date fields")

    dates = data.get("dates") or {}
    money = data.get("money") or {}
    if not isinstance(dates, dict) or set(dates) - {"format"}:
        raise _err(path, "dates", "只可有 format / only 'format' is allowed")
    if not isinstance(money, dict) or set(money) - {"decimal_comma", "currency", "label"}:
        raise _err(path, "money", "只可有 decimal_comma、currency、label / only decimal_comma, currency and label "
                                  "are allowed")
    label = money.get("label")
    if label is not None and not (isinstance(label, str) and 0 < len(label.strip()) <= 8):
        raise _err(path, "money.label", "须为 1–8 个字符的货币单位，如 £ / must be a currency label of 1-8 characters")
    date_formats = tuple(str(f) for f in _as_list(dates["format"])) if "format" in dates else ()
    if not isinstance(money.get("decimal_comma", False), bool):
        raise _err(path, "money.decimal_comma", "须为 true/false / must be true or false")
    currency = tuple(str(c) for c in _as_list(money.get("currency", [])))
    encodings = _encodings(data.get("encoding"), path)
    raw_filters = data.get("filters") or []
    if not isinstance(raw_filters, list):
        raise _err(path, "filters", "须为列表 / must be a list")
    filters = tuple(_filter(f, path, i) for i, f in enumerate(raw_filters))
    return Profile(path=str(path), name=str(data.get("name") or path.stem), table=table_name, files=files,
                   fields=fields, date_formats=date_formats, decimal_comma=bool(money.get("decimal_comma", False)),
                   currency=currency, currency_label=label.strip() if label else None, filters=filters,
                   encodings=encodings)
