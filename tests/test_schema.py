"""The table catalogue of CONTRACT §1: file names, header normalisation, DDL, errors."""
from __future__ import annotations

import pickle

import duckdb
import pytest
from click.testing import CliRunner

from auditlib.ingest import schema
from auditlib.cli import main
from auditlib.errors import AuditlibError, MissingColumnError, ParameterError


@pytest.mark.parametrize(
    "stem, table",
    [
        ("payments", "payments"),
        ("payments_2024Q1", "payments"),
        ("支付明细", "payments"),
        ("ledger-U001", "ledger"),
        ("凭证", "ledger"),
        ("bank_txns_2024", "bank_txns"),
        ("流水", "bank_txns"),
        ("budget", "budget"),
        ("指标2024", "budget"),
        ("units", "units"),
        ("单位", "units"),
        ("accounts", "accounts"),
        ("账户", "accounts"),
        ("notes", None),
        ("readme", None),
    ],
)
def test_table_for_file(stem, table):
    assert schema.table_for_file(stem) == table


def test_normalize_header_ignores_case_space_and_full_width():
    assert schema.normalize_header(" Unit_Code ") == "unit_code"
    assert schema.normalize_header("ＵＮＩＴ＿ＣＯＤＥ") == "unit_code"
    assert schema.normalize_header("贷方发生额（银行）") == schema.normalize_header("贷方发生额(银行)")
    assert schema.normalize_header("单位　编码") == "单位编码"


def test_aliases_are_unambiguous_within_a_table():
    for table in schema.TABLES.values():
        seen: dict[str, str] = {}
        for col in table.columns:
            for name in (col.name, *col.aliases):
                key = schema.normalize_header(name)
                assert seen.setdefault(key, col.name) == col.name, (table.name, name)


def test_ddl_creates_typed_tables_with_provenance():
    con = duckdb.connect()
    for table in schema.TABLES.values():
        con.execute(schema.ddl(table))
        types = dict(con.execute(f"SELECT column_name, data_type FROM information_schema.columns "
                                 f"WHERE table_name = '{table.name}'").fetchall())
        for col in table.columns:
            if col.type == "money":
                assert types[col.name] == "DECIMAL(18,2)"
            if col.name in ("unit_code", "account_no", "budget_id", "payment_id", "txn_id"):
                assert types[col.name] == "VARCHAR"
        assert types["_file"] == "VARCHAR" and types["_line"] == "INTEGER"


def test_errors_pickle_with_their_fields():
    err = MissingColumnError("payments.csv lacks amount", file="payments.csv", table="payments",
                             column="amount", found=["unit_code"])
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is MissingColumnError and isinstance(back, AuditlibError)
    assert (back.file, back.column, back.found) == ("payments.csv", "amount", ["unit_code"])
    assert str(back) == "payments.csv lacks amount"
    assert pickle.loads(pickle.dumps(ParameterError("bad", file="p.yaml", key="rules.IF01"))).key == "rules.IF01"


def test_cli_help_lists_the_contract_commands():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("synth", "sample", "ingest"):
        assert command in result.output
