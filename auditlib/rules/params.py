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

from auditlib.rules.catalogue import all_rules, get_rule
from auditlib.rules.model import Param
from auditlib.errors import ParameterError

#: ``load_params(default=WORKSPACE_DEFAULTS)``: the workspace's ``params/default.yaml`` (else the
#: shipped one), found when called (:func:`auditlib.workspace.default_params_file`)
WORKSPACE_DEFAULTS = "<workspace>"
TOP_KEYS = ("as_of", "fiscal_year", "lang", "rules", "units", "project")
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

    def for_unit(self, unit_code: str) -> dict[str, dict]:
        """Every rule's parameters for one unit, its overrides applied."""
        resolved = copy.deepcopy(self.rules)
        for rule_id, values in self.units.get(str(unit_code), {}).items():
            resolved[rule_id].update(values)
        return resolved

    def to_dict(self) -> dict:
        """Plain data (YAML/JSON friendly): dates as ISO text, money and ratios as text."""
        def plain(v):
            return str(v) if isinstance(v, Decimal) else v
        return {
            "as_of": self.as_of.isoformat(),
            "fiscal_year": self.fiscal_year,
            "lang": self.lang,
            "rules": {r: {k: plain(v) for k, v in ps.items()} for r, ps in self.rules.items()},
            "units": {u: {"rules": {r: {k: plain(v) for k, v in ps.items()} for r, ps in rs.items()}}
                      for u, rs in self.units.items()},
        }


def load_params(path: str | Path | None = None, default: str | Path | None = WORKSPACE_DEFAULTS) -> Params:
    """Defaults (from ``default`` or, without it, the catalogue), then ``path`` on top."""
    if default == WORKSPACE_DEFAULTS:
        from auditlib.workspace import default_params_file

        default = default_params_file()
    settings = {"as_of": dt.date(2024, 12, 31), "fiscal_year": 2024, "lang": "zh",
                "rules": {rule.id: rule.defaults() for rule in all_rules()}, "units": {}}
    sources = []
    for source in (default, path):
        if source is None or (source is default and not Path(source).exists()):
            continue
        _apply(settings, _read(source), str(source))
        sources.append(str(source))
    return Params(sources=tuple(sources), **settings)


def _read(path) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ParameterError(f"{path}: 无法读取参数文件 / cannot read: {exc}", file=str(path), key="", reason=str(exc))
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError) as exc:
        raise ParameterError(f"{path}: YAML 格式错误 / invalid YAML: {exc}", file=str(path), key="", reason=str(exc))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _err(path, "", "顶层必须是映射 / top level must be a mapping")
    return data


def _err(path, key, reason) -> ParameterError:
    return ParameterError(f"{path}: {key or '(top)'}: {reason}", file=str(path), key=key, reason=reason)


def _apply(settings: dict, data: dict, path: str) -> None:
    for key, value in data.items():
        if key not in TOP_KEYS:
            raise _err(path, str(key), "未知参数 / unknown key")
    if "as_of" in data:
        settings["as_of"] = _date(data["as_of"], path, "as_of")
    if "fiscal_year" in data:
        year = data["fiscal_year"]
        if isinstance(year, bool) or not isinstance(year, int) or not 1990 <= year <= 2100:
            raise _err(path, "fiscal_year", f"须为 1990–2100 的整数 / must be an integer 1990–2100, got {year!r}")
        settings["fiscal_year"] = year
    if "lang" in data:
        if data["lang"] not in ("zh", "en"):
            raise _err(path, "lang", f"须为 zh 或 en / must be zh or en, got {data['lang']!r}")
        settings["lang"] = data["lang"]
    if "project" in data:
        settings["project"] = {**settings.get("project", {}), **_project(data["project"], path)}
    for rule_id, values in _mapping(data.get("rules"), path, "rules").items():
        settings["rules"].setdefault(rule_id, {}).update(_rule_values(rule_id, values, path, f"rules.{rule_id}"))
    for unit, body in _mapping(data.get("units"), path, "units").items():
        if not isinstance(unit, str):
            raise _err(path, f"units.{unit}", "单位编码须加引号 / unit codes must be quoted strings (YAML reads 0012 as a number)")
        body = _mapping(body, path, f"units.{unit}")
        for key in body:
            if key != "rules":
                raise _err(path, f"units.{unit}.{key}", "未知参数 / unknown key (only 'rules' may be set per unit)")
        overrides = settings["units"].setdefault(unit, {})
        for rule_id, values in _mapping(body.get("rules"), path, f"units.{unit}.rules").items():
            overrides.setdefault(rule_id, {}).update(
                _rule_values(rule_id, values, path, f"units.{unit}.rules.{rule_id}"))


def _project(value, path) -> dict:
    """The ``project:`` block checked: known keys, text values, ``members`` a list of names."""
    block = _mapping(value, path, "project")
    for key, item in block.items():
        if key not in PROJECT_KEYS:
            raise _err(path, f"project.{key}", "未知参数 / unknown key")
        if key == "members":
            if not isinstance(item, list) or not all(isinstance(m, str) for m in item):
                raise _err(path, "project.members", f"须为姓名列表 / must be a list of names, got {item!r}")
        elif not isinstance(item, str):
            raise _err(path, f"project.{key}", f"须为文字（加引号）/ must be text (quoted), got {item!r}")
    return {k: list(v) if k == "members" else v for k, v in block.items()}


def _mapping(value, path, key) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _err(path, key, "须为映射 / must be a mapping")
    return value


def _rule_values(rule_id, values, path, key) -> dict:
    try:
        rule = get_rule(rule_id)
    except KeyError:
        raise _err(path, key, "未知规则 / unknown rule") from None
    out = {}
    for name, value in _mapping(values, path, key).items():
        try:
            param = rule.param(name)
        except KeyError:
            raise _err(path, f"{key}.{name}", "未知参数 / unknown parameter") from None
        out[name] = _value(param, value, path, f"{key}.{name}")
    return out


def _value(param: Param, value, path, key):
    if isinstance(value, bool):
        raise _err(path, key, f"类型错误 / wrong type: {value!r}")
    if param.type in ("days", "count"):
        if not isinstance(value, int):
            raise _err(path, key, f"须为整数 / must be an integer, got {value!r}")
        parsed = value
    else:
        if not isinstance(value, (int, float, str)):
            raise _err(path, key, f"须为数值 / must be a number, got {value!r}")
        try:
            parsed = Decimal(str(value))
        except InvalidOperation:
            raise _err(path, key, f"须为数值 / must be a number, got {value!r}") from None
        if not parsed.is_finite():
            raise _err(path, key, f"须为有限数值 / must be finite, got {value!r}")
    if not param.min <= parsed <= param.max:
        raise _err(path, key, f"超出范围 / out of range {param.min}–{param.max}: {value!r}")
    return parsed


def _date(value, path, key) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _err(path, key, f"须为日期 YYYY-MM-DD / must be a date YYYY-MM-DD, got {value!r}") from None
