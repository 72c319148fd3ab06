"""The fast path's cheaper forms give what the plain forms give (issue 17).

- one pattern match per row (cells joined by NUL characters) says "canonical" exactly when the
  per-cell checks it replaced do (regexp per cell, no NUL in text);
- the memory limit of an ingest scales with the machine, within bounds, and the environment
  variable still overrides it.
"""
from __future__ import annotations

import itertools
import random

import duckdb
import pytest

from auditlib.ingest import fast, schema
from auditlib.ingest.load import INGEST_MEMORY_MAX_MB, INGEST_MEMORY_MIN_MB, ingest_memory

# the per-cell definition the row pattern replaced (HEAD of issue 16)
_END = fast._END
_TEXT_RE = f"(?s){_END}(.*{_END})?"


def _cell_definition(table: schema.Table, col: schema.Column, x: str) -> str:
    empty = f"({x} IS NULL OR {x} = '')"
    if col.type == "text":
        ok = f"(regexp_full_match({x}, '{_TEXT_RE}') AND strpos({x}, chr(0)) = 0)"
    elif col.type == "money":
        ok = f"regexp_full_match({x}, '-?[0-9]{{1,16}}(\\.[0-9]{{1,2}})?')"
    elif col.type == "date":
        val = (f"CASE WHEN length({x}) = 8 THEN CAST(try_strptime({x}, '%Y%m%d') AS DATE) "
               f"ELSE TRY_CAST({x} AS DATE) END")
        ok = (f"(regexp_full_match({x}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}|[0-9]{{8}}') "
              f"AND year({val}) BETWEEN 1900 AND 2100)")
    elif col.type == "bool":
        ok = f"{x} IN {fast._sql_list(fast._TRUE_TEXT + fast._FALSE_TEXT)}"
    elif col.type == "int":
        ok = f"regexp_full_match({x}, '-?[0-9]{{1,9}}')"
    else:
        ok = f"{x} IN {fast._sql_list(schema.ACCOUNT_TYPES)}"
    ok = f"(NOT {empty} AND {ok})" if col.required else f"({empty} OR {ok})"
    if col.name in table.subtotal_columns and col.type == "text":
        ok = f"({ok} AND ({x} IS NULL OR strpos({x}, '计') = 0))"
    return ok


#: cells that sit on the edges of the canonical forms
CELLS = [None, '', ' ', 'a', 'ab', ' a', 'a ', '\ta', 'a\n', 'a\nb', '\u3000甲', '甲\u3000', '甲\xa0', '\xa0',
         '甲乙', 'a\x00b', '\x00', 'a\x01b', '\x01', 'a\x01', '\x7f', 'a\u2028', '\u200ba', 'a\u205f', '合计',
         '本月合计', '计', '¥12', '1', '-1', '01', '1.0', '1.5', '1.25', '1.234', '-0.01', '1,234.50', '(3.00)',
         '1e3', '1234567890123456', '12345678901234567', '123456789', '1234567890', '2147483648', '--1', '.5',
         '1.', '2024-01-05', '20240105', '2024-02-30', '2024/1/7', '1899-12-31', '2100-12-31', '21010101',
         '00000000', '2024-1-05', '２０２４-01-05', '是', '否', 'Y', 'yes', 'maybe', '√', '0', 'basic',
         'zero_balance', 'BASIC', '基本户', '"q"', 'a\\b', 'a,b']


def _mapped_cells(table: schema.Table) -> dict[str, int]:
    return {c.name: i for i, c in enumerate(table.columns)}


@pytest.mark.parametrize("name", sorted(schema.TABLES))
def test_the_row_pattern_says_canonical_exactly_when_every_cell_check_does(name):
    table = schema.TABLES[name]
    mapped = _mapped_cells(table)
    n = len(table.columns)
    cols = [f"c{i}" for i in range(n)]
    # a canonical row, then every column given every edge cell, then random mixes
    good = {"text": ["甲", "a b", "x"], "money": ["1.5", "-2", ""], "date": ["2024-01-05", "20240105"],
            "bool": ["是", "N"], "int": ["3", "-12"], "account_type": ["basic"]}
    rng = random.Random(17)

    def base() -> list:
        return [rng.choice(good[c.type]) for c in table.columns]

    rows = [base() for _ in range(50)]
    for i, cell in itertools.product(range(n), CELLS):
        row = base()
        row[i] = cell
        rows.append(row)
    for _ in range(3000):
        row = base()
        for i in rng.sample(range(n), rng.randint(1, min(3, n))):
            row[i] = rng.choice(CELLS)
        rows.append(row)
    row_check, _ = fast._fast_sql(table, mapped, {})
    definition = " AND ".join(_cell_definition(table, c, f"c{mapped[c.name]}") for c in table.columns)
    con = duckdb.connect()
    try:
        lists = ", ".join(f"unnest(${i + 1}::VARCHAR[]) AS {c}" for i, c in enumerate(cols))
        con.execute(f"CREATE TABLE cells AS SELECT {lists}", [[r[i] for r in rows] for i in range(n)])
        got = con.execute(f"SELECT COALESCE(({row_check}), false), COALESCE(({definition}), false), "
                          f"{', '.join(cols)} FROM cells").fetchall()
    finally:
        con.close()
    assert len(got) == len(rows)
    mismatches = [(g[2:], g[0], g[1]) for g in got if g[0] != g[1]]
    assert not mismatches, mismatches[:5]
    assert any(g[1] for g in got) and not all(g[1] for g in got)


def test_the_ingest_memory_limit_scales_with_the_machine_within_bounds(monkeypatch):
    monkeypatch.delenv("AUDITLIB_INGEST_MEMORY", raising=False)
    limit = ingest_memory()
    assert limit.endswith("MB") and INGEST_MEMORY_MIN_MB <= int(limit[:-2]) <= INGEST_MEMORY_MAX_MB <= 1024
    monkeypatch.setenv("AUDITLIB_INGEST_MEMORY", "200MB")
    assert ingest_memory() == "200MB"


def test_a_workbook_loads_at_the_lower_memory_bound_unless_told(monkeypatch):
    # its cells are held in Python while DuckDB loads them: more memory for DuckDB buys no time
    monkeypatch.delenv("AUDITLIB_INGEST_MEMORY", raising=False)
    assert ingest_memory(workbook=True) == f"{INGEST_MEMORY_MIN_MB}MB"
    monkeypatch.setenv("AUDITLIB_INGEST_MEMORY", "300MB")
    assert ingest_memory(workbook=True) == "300MB"
