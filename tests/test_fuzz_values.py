"""Fuzzing the value parsers (issue 8 item 5): every input to every parser of auditlib.ingest.values either
parses to its type or is rejected with a ValueParseError carrying a reason, never another exception;
money is an exact two-place Decimal and round-trips, dates round-trip ISO, codes stay text."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditlib.ingest.values import (
    PARSERS,
    ValueParseError,
    parse_account_type,
    parse_bool,
    parse_date,
    parse_int,
    parse_money,
    parse_text,
)

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_TYPES = {"text": str, "money": Decimal, "date": dt.date, "bool": bool, "int": int, "account_type": str}

# anything a CSV cell or an openpyxl cell may hold, and a few things neither should
_CELLS = st.one_of(
    st.none(),
    st.text(),
    st.text(alphabet="0123456789,.-+()（）¥￥元 \u3000\x00\t年月日/:T１２３是否yYnN√×eE%$£", max_size=24),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10 ** 30), max_value=10 ** 30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.binary(max_size=8),
    st.lists(st.integers(), max_size=2),
)


def _check(name, value):
    parser = PARSERS[name]
    try:
        got = parser(value)
    except ValueParseError as err:  # the documented rejection, with a reason
        assert isinstance(err.reason, str) and err.reason.strip()
        return None
    assert got is None or isinstance(got, _TYPES[name]), (name, value, got)
    assert not isinstance(got, float)
    if name == "date" and got is not None:
        assert type(got) is dt.date  # never a datetime
    if name == "bool":
        assert got in (True, False, None)
    return got


@FUZZ
@given(value=_CELLS)
def test_every_parser_parses_or_rejects_with_a_reason(value):
    for name in PARSERS:
        _check(name, value)


@FUZZ
@given(value=_CELLS)
def test_parsed_money_is_exact_with_at_most_two_decimals(value):
    got = _check("money", value)
    if got is not None:
        assert got.is_finite() and got.as_tuple().exponent == -2  # quantized to cents, never a float
        assert abs(got) < Decimal(10) ** 16
        # canonical text of the amount reads back as the same amount
        assert parse_money(format(got, "f")) == got


_AMOUNT = st.decimals(min_value=Decimal("-9999999999999999.99"), max_value=Decimal("9999999999999999.99"),
                      places=2, allow_nan=False, allow_infinity=False)


@FUZZ
@given(amount=_AMOUNT)
def test_money_round_trips_canonical_and_export_text(amount):
    assert parse_money(format(amount, "f")) == amount
    assert parse_money(f"{amount:,.2f}") == amount
    assert parse_money(f"￥{amount:,.2f}") == amount
    assert str(parse_money(format(amount, "f"))) == format(amount, "f")


@FUZZ
@given(amount=_AMOUNT, extra=st.integers(min_value=1, max_value=9), more=st.integers(min_value=0, max_value=5))
def test_more_than_two_decimals_is_rejected_never_rounded(amount, extra, more):
    text = format(amount, "f") + str(extra) + "0" * more  # a third non-zero decimal
    try:
        parse_money(text)
    except ValueParseError as err:
        assert "more than two decimals" in err.reason
    else:  # pragma: no cover - would be silent rounding
        raise AssertionError(f"{text!r} was accepted")


@FUZZ
@given(day=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_dates_round_trip_iso(day):
    assert parse_date(day.isoformat()) == day
    assert parse_date(dt.datetime.combine(day, dt.time(13, 45))) == day
    assert parse_date(f"{day.isoformat()} 13:45:00") == day


@FUZZ
@given(day=st.dates())
def test_dates_outside_the_accepted_years_are_rejected(day):
    try:
        got = parse_date(day.isoformat() if day.year >= 1000 else day)
    except ValueParseError as err:
        assert not 1900 <= day.year <= 2100 and err.reason
    else:
        assert got == day and 1900 <= day.year <= 2100


_CODE = st.text(alphabet="0123456789ABCXYZ-_/.记甲乙", min_size=1, max_size=20).filter(lambda s: s.strip())


@FUZZ
@given(code=_CODE, pad=st.sampled_from(["", " ", "\u3000", "\t"]))
def test_codes_stay_text_with_leading_zeros(code, pad):
    assert parse_text(pad + code + pad) == code.strip()
    assert parse_text("00" + code) == ("00" + code).strip()


@FUZZ
@given(digits=st.text(alphabet="0123456789", min_size=1, max_size=25))
def test_digit_codes_are_never_numbers(digits):
    got = parse_text(digits)
    assert got == digits and isinstance(got, str)  # 0012 stays 0012, 19 digits are not 6.2e18


@FUZZ
@given(n=st.integers(min_value=-(2 ** 31), max_value=2 ** 31 - 1))
def test_int_round_trips(n):
    assert parse_int(str(n)) == n
    assert parse_int(f"{n}.0") == n
    assert parse_int(n) == n


@FUZZ
@given(n=st.integers().filter(lambda n: not -(2 ** 31) <= n <= 2 ** 31 - 1))
def test_int_out_of_range_is_rejected(n):
    for value in (n, str(n)):
        try:
            parse_int(value)
        except ValueParseError as err:
            assert "out of range" in err.reason
        else:  # pragma: no cover
            raise AssertionError(value)


@FUZZ
@given(text=st.text(max_size=12))
def test_bool_and_account_type_accept_only_their_words(text):
    for parser in (parse_bool, parse_account_type):
        try:
            got = parser(text)
        except ValueParseError as err:
            assert err.reason
            continue
        if got is None:
            assert not text.strip()
        elif parser is parse_bool:
            assert isinstance(got, bool)
        else:
            assert got in ("zero_balance", "basic", "special", "other")


@FUZZ
@given(text=st.text(min_size=1, max_size=12), pos=st.integers(min_value=0, max_value=12))
def test_text_with_a_nul_byte_is_rejected(text, pos):
    value = text[:pos] + "\x00" + text[pos:]
    try:
        parse_text(value)
    except ValueParseError as err:
        assert "NUL" in err.reason
    else:  # pragma: no cover
        raise AssertionError(repr(value))
