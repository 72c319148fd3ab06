"""Run parameters (CONTRACT §2): load, validate and resolve per unit.

``params/default.yaml`` holds the defaults; a run may give another file that
sets only some keys.  Unknown keys, wrong types and out-of-range values raise
:class:`~auditlib.errors.ParameterError` naming the file and the key.  YAML is
read with the safe loader, so Python tags are refused.
"""
from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from auditlib.i18n import set_currency
from auditlib.rules.catalogue import all_rules, get_rule
from auditlib.rules.model import Param
from auditlib.errors import ParameterError

#: ``load_params(default=WORKSPACE_DEFAULTS)``: the workspace's ``params/default.yaml`` (else the
#: shipped one), found when called (:func:`auditlib.workspace.default_params_file`)
WORKSPACE_DEFAULTS = "<workspace>"
TOP_KEYS = ("as_of", "fiscal_year", "lang", "rules", "units", "project", "weights", "currency", "sampling")
#: the v2 ``sampling:`` block (CONTRACT §7): audit-sampling defaults and their checks
SAMPLING_DEFAULTS = {"method": "mus", "confidence": 0.95, "tolerable_rate": 0.05, "expected_rate": 0.0}
#: the display unit of amounts when the parameters set no ``currency`` (the data are yuan)
DEFAULT_CURRENCY = "元"
#: the v2 ``project:`` block (CONTRACT §2): text fields, and ``members`` a list of names
PROJECT_TEXT_KEYS = ("name", "team", "period", "reviewer")
PROJECT_KEYS = (*PROJECT_TEXT_KEYS, "members")


@dataclass(frozen=True)
class Params:
    """Resolved parameters of a run."""

    as_of: dt.date
    fiscal_year: int
    lang: str
    rules: dict[str, dict] = field(default_factory=dict)
    units: dict[str, dict[str, dict]] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    #: the v2 ``project:`` block (name, team, period, members, reviewer); empty when not given
    project: dict = field(default_factory=dict)
    #: the v2 ``weights:`` block: rule id → risk weight (a non-negative Decimal) for ranking units;
    #: every rule has one (1 when no file sets it)
    weights: dict[str, Decimal] = field(default_factory=dict)
    #: the unit pages print after amounts (``currency:``, e.g. ``£`` for a foreign export); only a
    #: label — amounts are never converted
    currency: str = DEFAULT_CURRENCY
    #: the v2 ``sampling:`` block (audit-sampling defaults: method, confidence, tolerable_rate,
    #: expected_rate); not part of :meth:`to_dict`, since it changes no finding of a run
    sampling: dict = field(default_factory=lambda: dict(SAMPLING_DEFAULTS))

    def for_unit(self, unit_code: str) -> dict[str, dict]:
        """Every rule's parameters for one unit, its overrides applied."""
        resolved = copy.deepcopy(self.rules)
        for rule_id, values in self.units.get(str(unit_code), {}).items():
            resolved[rule_id].update(values)
        return resolved

    def to_dict(self) -> dict:
        """Plain data (YAML/JSON friendly): dates as ISO text, money and ratios as text."""
        def plain(v):
            if isinstance(v, tuple):  # words, escaped as a parameter file writes them
                return [escape_word(w) for w in v]
            return str(v) if isinstance(v, Decimal) else v
        return {
            "as_of": self.as_of.isoformat(),
            "fiscal_year": self.fiscal_year,
            "lang": self.lang,
            "rules": {r: {k: plain(v) for k, v in ps.items()} for r, ps in self.rules.items()},
            "units": {u: {"rules": {r: {k: plain(v) for k, v in ps.items()} for r, ps in rs.items()}}
                      for u, rs in self.units.items()},
            "weights": {r: _number(w) for r, w in self.weights.items()},
            "project": {k: list(v) if isinstance(v, (list, tuple)) else v for k, v in self.project.items()},
            # only when set, so that the parameters of earlier runs read the same
            **({"currency": self.currency} if self.currency != DEFAULT_CURRENCY else {}),
        }


def _number(value: Decimal) -> int | float:
    """A weight as a YAML/JSON number (``weights:`` takes numbers, not text)."""
    return int(value) if value == value.to_integral_value() else float(value)


def load_params(path: str | Path | None = None, default: str | Path | None = WORKSPACE_DEFAULTS) -> Params:
    """Defaults (from ``default`` or, without it, the catalogue), then ``path`` on top.

    Raises
    ------
    ParameterError
        Every problem of every file at once (``problems``: one ``{file, key, reason}`` each);
        ``file``, ``key`` and ``reason`` are those of the first.
    """
    if default == WORKSPACE_DEFAULTS:
        from auditlib.workspace import default_params_file

        default = default_params_file()
    settings = {"as_of": dt.date(2024, 12, 31), "fiscal_year": 2024, "lang": "zh",
                "rules": {rule.id: rule.defaults() for rule in all_rules()}, "units": {},
                "weights": {rule.id: Decimal("1") for rule in all_rules()}, "sampling": dict(SAMPLING_DEFAULTS)}
    sources = []
    problems = Problems()
    for source in (default, path):
        if source is None or (source is default and not Path(source).exists()):
            continue
        data = _read(source, problems.at(str(source)))
        if data is not None:
            _apply(settings, data, problems.at(str(source)))
        sources.append(str(source))
    problems.raise_any()
    params = Params(sources=tuple(sources), **settings)
    set_currency(params.currency)  # pages label amounts in it (auditlib.i18n)
    return params


@dataclass
class Problems:
    """The problems found in parameter files, raised together as one :class:`ParameterError`."""

    found: list[dict] = field(default_factory=list)

    def at(self, path: str) -> "_FileProblems":
        return _FileProblems(self, path)

    def raise_any(self) -> None:
        if not self.found:
            return
        lines = [f"{p['file']}: {p['key'] or '(top)'}: {p['reason']}" for p in self.found]
        first = self.found[0]
        message = lines[0] if len(lines) == 1 else (
            f"参数文件有 {len(lines)} 处错误 / {len(lines)} parameter errors:\n" + "\n".join(f"  {x}" for x in lines))
        raise ParameterError(message, file=first["file"], key=first["key"], reason=first["reason"],
                             problems=list(self.found))


@dataclass(frozen=True)
class _FileProblems:
    """The problems of one file: ``add(key, reason)``."""

    problems: Problems
    path: str

    def add(self, key: str, reason: str) -> None:
        self.problems.found.append({"file": self.path, "key": key, "reason": reason})


class _TextUnitsLoader(yaml.SafeLoader):
    """The safe loader, reading the codes under ``units:`` as written: an unquoted ``0011`` stays the
    text ``0011`` (and is remembered in ``unquoted``) rather than becoming the number 9."""

    def __init__(self, stream):
        super().__init__(stream)
        self.unquoted: set[str] = set()

    def construct_mapping(self, node, deep=False):
        for key_node, value_node in node.value:
            if (isinstance(key_node, yaml.ScalarNode) and key_node.value == "units"
                    and isinstance(value_node, yaml.MappingNode)):
                for code, _ in value_node.value:
                    if isinstance(code, yaml.ScalarNode) and code.tag != "tag:yaml.org,2002:str":
                        code.tag = "tag:yaml.org,2002:str"
                        self.unquoted.add(code.value)
        return super().construct_mapping(node, deep)


def _read(path, problems: _FileProblems) -> dict | None:
    """The YAML of ``path`` (``{}`` when empty); None, with the problem added, when it cannot be read."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        problems.add("", f"无法读取参数文件 / cannot read: {exc}")
        return None
    loader = _TextUnitsLoader(text)
    try:
        data = loader.get_single_data()
    except (yaml.YAMLError, ValueError) as exc:
        problems.add("", f"YAML 格式错误 / invalid YAML: {exc}")
        return None
    finally:
        loader.dispose()
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.add("", "顶层必须是映射 / top level must be a mapping")
        return None
    for code in sorted(loader.unquoted):  # reported as written, and set aside
        problems.add(f'units."{code}"', f'单位编码须加引号，写作 "{code}" / unit codes must be quoted: "{code}"')
        data["units"].pop(code, None)
    return data


def _apply(settings: dict, data: dict, problems: _FileProblems) -> None:
    for key in data:
        if key not in TOP_KEYS:
            problems.add(str(key), "未知参数 / unknown key")
    if "as_of" in data:
        settings["as_of"] = _date(data["as_of"], problems, "as_of", settings["as_of"])
    if "fiscal_year" in data:
        year = data["fiscal_year"]
        if isinstance(year, bool) or not isinstance(year, int) or not 1990 <= year <= 2100:
            problems.add("fiscal_year", f"须为 1990–2100 的整数 / must be an integer 1990–2100, got {year!r}")
        else:
            settings["fiscal_year"] = year
    if "lang" in data:
        if data["lang"] not in ("zh", "en"):
            problems.add("lang", f"须为 zh 或 en / must be zh or en, got {data['lang']!r}")
        else:
            settings["lang"] = data["lang"]
    if "project" in data:
        settings["project"] = {**settings.get("project", {}), **_project(data["project"], problems)}
    if "sampling" in data:
        settings["sampling"].update(_sampling(data["sampling"], problems))
    if "currency" in data:
        cur = data["currency"]
        if not isinstance(cur, str) or not cur.strip() or len(cur.strip()) > 8 or not cur.strip().isprintable():
            problems.add("currency", f"须为 1–8 个字符的货币单位，如 元 或 £ / must be a currency label of 1–8 "
                                     f"characters such as 元 or £, got {cur!r}")
        else:
            settings["currency"] = cur.strip()
    settings["weights"].update(_weights(data.get("weights"), problems))
    for rule_id, values in _mapping(data.get("rules"), problems, "rules").items():
        got = _rule_values(rule_id, values, problems, f"rules.{rule_id}")
        if got is not None:
            settings["rules"].setdefault(rule_id, {}).update(got)
    for unit, body in _mapping(data.get("units"), problems, "units").items():
        body = _mapping(body, problems, f"units.{unit}")
        for key in body:
            if key != "rules":
                problems.add(f"units.{unit}.{key}", "未知参数 / unknown key (only 'rules' may be set per unit)")
        for rule_id, values in _mapping(body.get("rules"), problems, f"units.{unit}.rules").items():
            got = _rule_values(rule_id, values, problems, f"units.{unit}.rules.{rule_id}")
            if got is not None:
                settings["units"].setdefault(unit, {}).setdefault(rule_id, {}).update(got)


def _project(value, problems: _FileProblems) -> dict:
    """The ``project:`` block checked: known keys, text values, ``members`` a list of names."""
    out = {}
    for key, item in _mapping(value, problems, "project").items():
        if key not in PROJECT_KEYS:
            problems.add(f"project.{key}", "未知参数 / unknown key")
        elif key == "members":
            if not isinstance(item, list) or not all(isinstance(m, str) for m in item):
                problems.add("project.members", f"须为姓名列表 / must be a list of names, got {item!r}")
            else:
                out[key] = list(item)
        elif not isinstance(item, str):
            problems.add(f"project.{key}", f"须为文字（加引号）/ must be text (quoted), got {item!r}")
        else:
            out[key] = item
    return out


def _sampling(value, problems: _FileProblems) -> dict:
    """The ``sampling:`` block checked: ``method`` mus|random, ``confidence`` in (0, 1), the
    tolerable rate in (0, 1] and the expected rate in [0, 1) as shares of the book value."""
    out = {}
    for key, item in _mapping(value, problems, "sampling").items():
        where = f"sampling.{key}"
        if key not in SAMPLING_DEFAULTS:
            problems.add(where, "未知参数 / unknown key")
        elif key == "method":
            if item not in ("mus", "random"):
                problems.add(where, f"须为 mus 或 random / must be mus or random, got {item!r}")
            else:
                out[key] = item
        elif isinstance(item, bool) or not isinstance(item, (int, float)) or item != item:
            problems.add(where, f"须为数值 / must be a number, got {item!r}")
        elif key == "confidence" and not 0 < item < 1:
            problems.add(where, f"须在 0 与 1 之间（不含两端）/ must lie strictly between 0 and 1, got {item!r}")
        elif key == "tolerable_rate" and not 0 < item <= 1:
            problems.add(where, f"须大于 0 且不超过 1 / must be in (0, 1], got {item!r}")
        elif key == "expected_rate" and not 0 <= item < 1:
            problems.add(where, f"须不小于 0 且小于 1 / must be in [0, 1), got {item!r}")
        else:
            out[key] = float(item)
    return out


def _weights(value, problems: _FileProblems) -> dict[str, Decimal]:
    """The ``weights:`` block checked: known rule ids, each a finite non-negative number."""
    out = {}
    for rule_id, weight in _mapping(value, problems, "weights").items():
        key = f"weights.{rule_id}"
        try:
            get_rule(str(rule_id))
        except KeyError:
            problems.add(key, "未知规则 / unknown rule")
            continue
        if isinstance(weight, bool) or not isinstance(weight, (int, float)):
            problems.add(key, f"须为非负数值 / must be a non-negative number, got {weight!r}")
            continue
        number = Decimal(str(weight))
        if not number.is_finite() or number < 0:
            problems.add(key, f"须为非负有限数值 / must be a finite non-negative number, got {weight!r}")
            continue
        out[str(rule_id)] = number
    return out


def _mapping(value, problems: _FileProblems, key) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.add(key, "须为映射 / must be a mapping")
        return {}
    return value


def _rule_values(rule_id, values, problems: _FileProblems, key) -> dict | None:
    """The checked values of one rule; None when the rule is unknown."""
    try:
        rule = get_rule(rule_id)
    except KeyError:
        problems.add(key, "未知规则 / unknown rule")
        return None
    out = {}
    for name, value in _mapping(values, problems, key).items():
        try:
            param = rule.param(name)
        except KeyError:
            problems.add(f"{key}.{name}", "未知参数 / unknown parameter")
            continue
        reason = _value_problem(param, value)
        if reason:
            problems.add(f"{key}.{name}", reason)
        else:
            out[name] = _parse(param, value)
    return out


#: characters that mean something in a regular expression: in a ``words`` parameter they are
#: literal only when escaped with a backslash (``维修\(护\)费``), so that a pattern such as
#: ``租金|房租`` written in the hope of a regex is refused instead of matching nothing
REGEX_METACHARACTERS = frozenset(".*+?[](){}|^$\\")


def parse_word(text: str) -> tuple[str, str | None]:
    """One word of a ``words`` parameter as written → ``(literal word, problem)``.

    Words are literal (CONTRACT §2): a backslash escapes the regex metacharacter after it (``\\(``
    is ``(``); an unescaped metacharacter, a backslash before anything else and an empty word are
    problems (``problem`` names which; None when the word is valid).
    """
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            nxt = text[i + 1] if i + 1 < len(text) else ""
            if nxt not in REGEX_METACHARACTERS:
                return "", (f"“{text}”: 反斜杠只能用于转义 {''.join(sorted(REGEX_METACHARACTERS))} / a backslash "
                            f"may only escape one of {''.join(sorted(REGEX_METACHARACTERS))}")
            out.append(nxt)
            i += 2
            continue
        if ch in REGEX_METACHARACTERS:
            return "", (f"“{text}”: 含正则元字符 {ch!r}；词语按字面匹配，如需匹配该字符请写作 \\{ch} / holds the "
                        f"regex metacharacter {ch!r}; words are literal, write \\{ch} to match it")
        out.append(ch)
        i += 1
    word = "".join(out)
    if not word.strip():
        return "", "空词语 / an empty word"
    return word.strip(), None


def escape_word(word: str) -> str:
    """A literal word as a parameter file writes it: its metacharacters escaped (the inverse of
    :func:`parse_word`, so resolved parameters written out read back the same)."""
    return "".join("\\" + ch if ch in REGEX_METACHARACTERS else ch for ch in word)


def _words_problem(param: Param, value) -> str | None:
    """Why ``value`` is not a valid word list for ``param``; None when it is."""
    if not isinstance(value, (list, tuple)):
        return f"须为词语列表，如 [租金, 房租] / must be a list of words such as [rent, fee], got {value!r}"
    bad = [f"{item!r}: 须为文字 / must be text" for item in value if not isinstance(item, str)]
    bad += [problem for item in value if isinstance(item, str) for problem in [parse_word(item)[1]] if problem]
    if bad:
        return "；".join(bad)
    if not param.min <= len(value) <= param.max:
        if not value:
            return "词语列表不能为空 / the word list must not be empty"
        return f"词语个数须为 {param.min}–{param.max} / must hold {param.min}–{param.max} words, got {len(value)}"
    return None


def _value_problem(param: Param, value) -> str | None:
    """Why ``value`` is not a valid value of ``param``; None when it is."""
    if param.type == "words":
        return _words_problem(param, value)
    if isinstance(value, bool):
        return f"类型错误 / wrong type: {value!r}"
    if param.type in ("days", "count"):
        if not isinstance(value, int):
            return f"须为整数 / must be an integer, got {value!r}"
    else:
        if not isinstance(value, (int, float, str)):
            return f"须为数值 / must be a number, got {value!r}"
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return f"须为数值 / must be a number, got {value!r}"
        if not number.is_finite():
            return f"须为有限数值 / must be finite, got {value!r}"
    if not param.min <= _parse(param, value) <= param.max:
        return f"超出范围 / out of range {param.min}–{param.max}: {value!r}"
    return None


def _parse(param: Param, value):
    """A valid value as its type: an int for days and counts, a tuple of literal words (each once,
    in the order written) for words, else an exact Decimal."""
    if param.type == "words":
        return tuple(dict.fromkeys(parse_word(item)[0] for item in value))
    return value if param.type in ("days", "count") else Decimal(str(value))


def _date(value, problems: _FileProblems, key, fallback: dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        problems.add(key, f"须为日期 YYYY-MM-DD / must be a date YYYY-MM-DD, got {value!r}")
        return fallback
