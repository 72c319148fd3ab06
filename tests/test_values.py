"""Tests of auditlib.ingest.values: every accepted and rejected form of CONTRACT §1."""
from __future__ import annotations

import datetime as dt
import pickle
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditlib.ingest import schema
from auditlib.ingest.values import (
    PARSERS,
    SUBTOTAL_RE,
    ValueParseError,
    is_subtotal,
    parse_account_type,
    parse_bool,
    parse_date,
    parse_int,
    parse_money,
    parse_text,
)

D = Decimal


# ----------------------------------------------------------------------- errors


def test_error_has_reason_and_pickles():
    with pytest.raises(ValueParseError) as info:
        parse_date("2024-13-01")
    err = info.value
    assert isinstance(err, ValueError)
    assert err.reason == str(err)
    assert "2024-13-01" in err.reason
    again = pickle.loads(pickle.dumps(err))
    assert again.reason == err.reason


def test_parsers_cover_every_schema_type():
    assert set(PARSERS) == set(schema.TYPES)


# ------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    "raw, expected",
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("\u3000", None),
        ("  abc ", "abc"),
        ("\u30000012\u3000", "0012"),
        ("0012", "0012"),
        (12, "12"),
        (12.0, "12"),
        (12.5, "12.5"),
        (6.22e18, "6220000000000000000"),
        (6222020200001234567, "6222020200001234567"),
        (D("12.00"), "12"),
        (D("12.50"), "12.5"),
        (float("nan"), None),
        (dt.date(2024, 3, 5), "2024-03-05"),
        (dt.datetime(2024, 3, 5), "2024-03-05"),
        (True, "true"),
    ],
)
def test_parse_text(raw, expected):
    assert parse_text(raw) == expected


@pytest.mark.parametrize("raw", [float("inf"), object()])
def test_parse_text_rejects(raw):
    with pytest.raises(ValueParseError):
        parse_text(raw)


# ------------------------------------------------------------------------ money


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("1234.5", D("1234.50")),
        ("1,234.50", D("1234.50")),
        ("￥1,234.50", D("1234.50")),
        ("¥1234.5", D("1234.50")),
        ("¥ 1234.5", D("1234.50")),
        ("1234.50元", D("1234.50")),
        ("-1,234.50", D("-1234.50")),
        ("-¥1,234.50", D("-1234.50")),
        ("¥-1,234.50", D("-1234.50")),
        ("+12", D("12.00")),
        ("(1,234.50)", D("-1234.50")),
        ("（1,234.50）", D("-1234.50")),
        ("(¥1,234.50元)", D("-1234.50")),
        ("１２３４．５０", D("1234.50")),
        ("１，２３４.５", D("1234.50")),
        ("  1234.50  ", D("1234.50")),
        ("\u30001234.50\u3000", D("1234.50")),
        ("1.230", D("1.23")),
        ("1.2300000", D("1.23")),
        ("0", D("0.00")),
        ("0.00", D("0.00")),
        (".5", D("0.50")),
        ("1000000", D("1000000.00")),
        ("1,000,000.00", D("1000000.00")),
        (1234, D("1234.00")),
        (0, D("0.00")),
        (1234.5, D("1234.50")),
        (0.1 + 0.2, D("0.30")),
        (-19.99, D("-19.99")),
        (D("1234.5"), D("1234.50")),
        (D("1234.500"), D("1234.50")),
        (None, None),
        ("", None),
        ("  ", None),
    ],
)
def test_parse_money(raw, expected):
    got = parse_money(raw)
    assert got == expected
    if expected is not None:
        assert isinstance(got, Decimal)
        assert got.as_tuple().exponent == -2


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("1.234", "more than two decimals"),
        ("1,234.567", "more than two decimals"),
        (1.234, "more than two decimals"),
        (D("1.234"), "more than two decimals"),
        ("1,23,4", "thousands"),
        ("12,34.5", "thousands"),
        ("1234,567", "thousands"),
        ("abc", "not a money amount"),
        ("1.2e3", "not a money amount"),
        ("1.2.3", "not a money amount"),
        ("12.", "not a money amount"),
        ("¥", "not a money amount"),
        ("-", "not a money amount"),
        ("()", "not a money amount"),
        ("--12", "not a money amount"),
        ("-(12)", "not a money amount"),
        ("(-12)", "minus sign and parentheses"),
        ("NaN", "not a money amount"),
        ("inf", "not a money amount"),
        (float("nan"), "not a money amount"),
        (float("inf"), "not a money amount"),
        (D("NaN"), "not a money amount"),
        (True, "not a money amount"),
        (False, "not a money amount"),
        ("1e400", "not a money amount"),
        ("10000000000000000", "too large"),
        ("9" * 40, "too large"),
        ("9" * 40 + ".12", "too large"),
        (1e26, "too large"),
        (D("1e40"), "too large"),
        (D("sNaN"), "not a money amount"),
        (dt.date(2024, 3, 5), "not a money amount"),
    ],
)
def test_parse_money_rejects(raw, reason):
    with pytest.raises(ValueParseError) as info:
        parse_money(raw)
    assert reason in info.value.reason


# ------------------------------------------------------------------------- date


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2024-03-05", dt.date(2024, 3, 5)),
        ("2024-3-5", dt.date(2024, 3, 5)),
        ("2024/3/5", dt.date(2024, 3, 5)),
        ("2024/03/05", dt.date(2024, 3, 5)),
        ("2024.3.5", dt.date(2024, 3, 5)),
        ("20240305", dt.date(2024, 3, 5)),
        ("2024年3月5日", dt.date(2024, 3, 5)),
        ("2024年03月05日", dt.date(2024, 3, 5)),
        ("２０２４－０３－０５", dt.date(2024, 3, 5)),
        ("2024-03-05 14:30:00", dt.date(2024, 3, 5)),
        ("2024-03-05 00:00:00", dt.date(2024, 3, 5)),
        ("2024/3/5 9:05", dt.date(2024, 3, 5)),
        ("2024-03-05T14:30:00", dt.date(2024, 3, 5)),
        ("2024-03-05T14:30:00.123", dt.date(2024, 3, 5)),
        ("  2024-03-05  ", dt.date(2024, 3, 5)),
        ("2024-02-29", dt.date(2024, 2, 29)),
        ("45356", dt.date(2024, 3, 5)),
        ("45356.0", dt.date(2024, 3, 5)),
        ("45356.5", dt.date(2024, 3, 5)),
        (45356, dt.date(2024, 3, 5)),
        (45356.0, dt.date(2024, 3, 5)),
        (45356.75, dt.date(2024, 3, 5)),
        (D("45356"), dt.date(2024, 3, 5)),
        (20240305, dt.date(2024, 3, 5)),
        (dt.datetime(2024, 3, 5, 14, 30), dt.date(2024, 3, 5)),
        (dt.date(2024, 3, 5), dt.date(2024, 3, 5)),
        (None, None),
        ("", None),
        (" ", None),
    ],
)
def test_parse_date(raw, expected):
    got = parse_date(raw)
    assert got == expected
    if expected is not None:
        assert type(got) is dt.date


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("3/5/2024", "ambiguous"),
        ("03/05/2024", "ambiguous"),
        ("00:00:00", "time without a date"),
        ("14:30", "time without a date"),
        (dt.time(0, 0), "time without a date"),
        ("2024-02-30", "not a calendar date"),
        ("2023-02-29", "not a calendar date"),
        ("2024-13-01", "not a calendar date"),
        ("20241301", "not a calendar date"),
        ("2024年2月30日", "not a calendar date"),
        ("1899-12-31", "year outside"),
        ("2101-01-01", "year outside"),
        (dt.date(1800, 1, 1), "year outside"),
        (dt.datetime(2200, 1, 1), "year outside"),
        ("18991231", "year outside"),
        ("19999", "not a date"),
        ("80001", "not a date"),
        ("12", "not a date"),
        ("202403", "not a date"),
        (19999, "not a date"),
        (80001, "not a date"),
        (-1, "not a date"),
        (float("nan"), "not a date"),
        ("2024-03-05 25:00", "time of day"),
        ("2024-03", "not a date"),
        ("yesterday", "not a date"),
        ("2024-03-05x", "not a date"),
        (True, "not a date"),
    ],
)
def test_parse_date_rejects(raw, reason):
    with pytest.raises(ValueParseError) as info:
        parse_date(raw)
    assert reason in info.value.reason


# ------------------------------------------------------------------------- bool


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("是", True),
        ("否", False),
        ("Y", True),
        ("N", False),
        ("y", True),
        ("n", False),
        ("yes", True),
        ("no", False),
        ("YES", True),
        ("No", False),
        ("true", True),
        ("false", False),
        ("TRUE", True),
        ("False", False),
        ("T", True),
        ("F", False),
        ("t", True),
        ("f", False),
        ("1", True),
        ("0", False),
        ("１", True),
        ("√", True),
        ("✓", True),
        ("×", False),
        ("✗", False),
        (" 是 ", True),
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        (None, None),
        ("", None),
        ("\u3000", None),
    ],
)
def test_parse_bool(raw, expected):
    assert parse_bool(raw) is expected


@pytest.mark.parametrize("raw", ["2", "-1", "maybe", "是的", "yess", "x", 2, -1, dt.date(2024, 1, 1)])
def test_parse_bool_rejects(raw):
    with pytest.raises(ValueParseError) as info:
        parse_bool(raw)
    assert "not a yes/no value" in info.value.reason


# -------------------------------------------------------------------------- int


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("12", 12),
        (" 12 ", 12),
        ("12.0", 12),
        ("12.00", 12),
        ("-3", -3),
        ("+3", 3),
        ("１２", 12),
        ("1,234", 1234),
        (12, 12),
        (12.0, 12),
        (D("12.0"), 12),
        (None, None),
        ("", None),
    ],
)
def test_parse_int(raw, expected):
    got = parse_int(raw)
    assert got == expected
    if expected is not None:
        assert type(got) is int


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("12.5", "not a whole number"),
        (12.5, "not a whole number"),
        (D("12.5"), "not a whole number"),
        ("abc", "not a whole number"),
        ("1,23", "not a whole number"),
        ("1e3", "not a whole number"),
        (True, "not a whole number"),
        (float("nan"), "not a whole number"),
        (float("inf"), "not a whole number"),
        ("99999999999", "out of range"),
    ],
)
def test_parse_int_rejects(raw, reason):
    with pytest.raises(ValueParseError) as info:
        parse_int(raw)
    assert reason in info.value.reason


# ----------------------------------------------------------------- account type


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("zero_balance", "zero_balance"),
        ("Zero_Balance", "zero_balance"),
        ("basic", "basic"),
        ("BASIC", "basic"),
        ("special", "special"),
        ("other", "other"),
        ("零余额账户", "zero_balance"),
        ("零余额", "zero_balance"),
        ("基本存款账户", "basic"),
        ("基本户", "basic"),
        ("专用存款账户", "special"),
        ("专用户", "special"),
        ("其他", "other"),
        ("其他账户", "other"),
        (" 基本户\u3000", "basic"),
        (None, None),
        ("", None),
    ],
)
def test_parse_account_type(raw, expected):
    assert parse_account_type(raw) == expected


def test_account_type_chinese_names_of_schema():
    for code, zh in schema.ACCOUNT_TYPES.items():
        assert parse_account_type(zh) == code
        assert parse_account_type(code) == code


@pytest.mark.parametrize("raw", ["一般户", "saving", 1, "零"])
def test_parse_account_type_rejects(raw):
    with pytest.raises(ValueParseError) as info:
        parse_account_type(raw)
    assert "not an account type" in info.value.reason


# -------------------------------------------------------------------- subtotals


@pytest.mark.parametrize(
    "raw", ["合计", "本月合计", "本年累计", "本期合计", "小计", "总计", " 合计 ", "\u3000本月合计\u3000", "合 计"]
)
def test_is_subtotal(raw):
    assert is_subtotal(raw)


@pytest.mark.parametrize("raw", ["合计金额", "会议费合计", "", None, 0, "2024-03-05", "计"])
def test_is_not_subtotal(raw):
    assert not is_subtotal(raw)


def test_subtotal_re_matches_whole_cell():
    assert SUBTOTAL_RE.match("合计")
    assert not SUBTOTAL_RE.match("合计x")
    assert not SUBTOTAL_RE.match("x合计")


# ------------------------------------------------------------------- properties

_RESULT_TYPES = {
    "text": str,
    "money": Decimal,
    "date": dt.date,
    "bool": bool,
    "int": int,
    "account_type": str,
}


@settings(max_examples=300)
@given(text=st.text())
def test_every_parser_returns_its_type_or_raises_value_parse_error(text):
    for name, parser in PARSERS.items():
        try:
            got = parser(text)
        except ValueParseError as err:
            assert err.reason
            continue
        assert got is None or isinstance(got, _RESULT_TYPES[name]), (name, got)
        assert not isinstance(got, float)


@settings(max_examples=300)
@given(
    text=st.text(alphabet="0123456789,.-+()（）¥￥元 \u3000年月日/:T１２３是否yYnN√×eE", max_size=20)
)
def test_parsers_on_money_and_date_like_text(text):
    test_every_parser_returns_its_type_or_raises_value_parse_error.hypothesis.inner_test(text)


@settings(max_examples=200)
@given(
    value=st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.decimals(allow_nan=True, allow_infinity=True),
        st.dates(),
        st.datetimes(),
    )
)
def test_every_parser_on_xlsx_objects(value):
    for name, parser in PARSERS.items():
        try:
            got = parser(value)
        except ValueParseError:
            continue
        assert got is None or isinstance(got, _RESULT_TYPES[name]), (name, value, got)
        assert not isinstance(got, float)


_AMOUNTS = st.decimals(
    min_value=Decimal("-99999999999999.99"),
    max_value=Decimal("99999999999999.99"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)


@given(amount=_AMOUNTS)
def test_money_round_trips_formatted(amount):
    plain = "{:,.2f}".format(amount)
    assert parse_money(plain) == amount
    assert parse_money(str(amount)) == amount
    assert parse_money(f"¥{plain}") == amount
    assert parse_money(f"￥{plain}") == amount
    assert parse_money(f"{plain}元") == amount
    if amount < 0:
        bracketed = "({:,.2f})".format(-amount)
        assert parse_money(bracketed) == amount
        assert parse_money(f"（{-amount:,.2f}）") == amount


@given(day=st.dates(min_value=dt.date(1955, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_dates_round_trip(day):
    assert parse_date(day.isoformat()) == day
    assert parse_date(day.strftime("%Y%m%d")) == day
    assert parse_date(f"{day.year}/{day.month}/{day.day}") == day
    assert parse_date(f"{day.year}年{day.month}月{day.day}日") == day
    serial = (day - dt.date(1899, 12, 30)).days
    assert parse_date(serial) == day
    assert parse_date(str(serial)) == day
