"""Encodings never corrupt silently (issue 16, item 1): per-file detection between UTF-8, GBK/GB18030
and Windows-1252/Latin-1, the choice and its confidence in ingest_report.json, exit 2 naming the
candidates when the evidence is unclear, and ``encoding:`` per file-name pattern in a profile."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from auditlib.cli import main
from auditlib.errors import InputError, MappingError
from auditlib.ingest.encoding import choose_encoding
from auditlib.ingest.load import ingest
from auditlib.ingest.profiles import load_profile

HEADER = "unit_code,payment_id,payee_name,amount\n"


def _payees(db) -> list[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [r[0] for r in con.execute("SELECT payee_name FROM payments ORDER BY payment_id").fetchall()]
    finally:
        con.close()


def _report(db) -> dict:
    return {r["file"]: r for r in json.loads((Path(db).parent / "ingest_report.json").read_text("utf-8"))}


# ------------------------------------------------------------------ the decision on bytes

def test_latin1_names_that_are_valid_gbk_read_as_western():
    """Built like Leeds 2011-12: ASCII but for one Latin-1 name, and the bytes are valid GBK."""
    data = (HEADER + "L,1,A & A Electrical Ltd,524.54\n" + "L,2,Pavel Büchler,2000.00\n").encode("cp1252")
    assert data.decode("gbk")  # the trap: valid GBK, reading 'B點hler'
    choice = choose_encoding(data, "2011-12.csv")
    assert choice.encoding == "cp1252"
    assert choice.evidence.startswith("plausibility")
    assert set(choice.candidates) == {"gbk", "cp1252"} and choice.candidates["gbk"] < 0.5
    assert choice.confidence >= 0.9


@pytest.mark.parametrize("name", ["Müller", "Façade Ltd", "Renée Smith", "Straße 5", "Cafés"])
def test_accented_western_words_that_decode_as_gbk_are_not_mis_read(name):
    data = (HEADER + f"L,1,{name},1\n").encode("cp1252")
    try:
        data.decode("gbk")
    except UnicodeDecodeError:
        pass
    assert choose_encoding(data, "x.csv").encoding == "cp1252"


def test_chinese_gbk_text_that_is_valid_latin1_reads_as_gbk():
    data = (HEADER + "0012,P1,北京某某科技有限公司,100\n0012,P2,县人民医院,200\n").encode("gbk")
    assert data.decode("latin-1")  # the trap the other way: any bytes are Latin-1
    choice = choose_encoding(data, "支付.csv")
    assert choice.encoding == "gbk" and choice.confidence >= 0.9


@pytest.mark.parametrize("text, encoding", [
    ("摘要", "gbk"),            # short GBK that is also valid UTF-8 ('ժҪ') and Latin-1
    ("张三", "gbk"),
    ("Zoë", "cp1252"),          # not GBK at all
    ("£500", "cp1252"),
    ("单位", "utf-8"),
])
def test_short_files(text, encoding):
    assert choose_encoding(text.encode(encoding), "short.csv").encoding == encoding


def test_utf8_with_western_and_chinese_text_stays_utf8():
    data = "单位,Müller GmbH,北京\n".encode("utf-8")
    assert choose_encoding(data, "x.csv").encoding == "utf-8"


def test_a_file_mixing_gbk_chinese_and_latin1_names_is_exit_2_naming_the_candidates(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "payments.csv").write_bytes(HEADER.encode() + "0012,P1,办公用品公司,1\n".encode("gbk")
                                        + "0012,P2,Pavel Büchler,2\n".encode("latin-1"))
    with pytest.raises(InputError) as exc:
        ingest(data, tmp_path / "a.duckdb")
    assert exc.value.reason == "ambiguous encoding" and set(exc.value.candidates) == {"gbk", "cp1252"}
    assert "payments.csv" in str(exc.value) and "B點h" in str(exc.value) and "Büchler" in str(exc.value)
    res = CliRunner().invoke(main, ["ingest", str(data), "--db", str(tmp_path / "b.duckdb")])
    assert res.exit_code == 2 and "gbk" in res.output and "cp1252" in res.output and "encoding" in res.output
    # nothing loaded: the transaction was rolled back (not even the tables were made)
    con = duckdb.connect(str(tmp_path / "b.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'payments'").fetchone() \
        == (0,)
    con.close()


# ------------------------------------------------------------------ through the ingest

def test_the_choice_and_its_confidence_are_in_the_report(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "payments_a.csv").write_bytes((HEADER + "L,1,Pavel Büchler,2000.00\n").encode("cp1252"))
    (data / "payments_b.csv").write_bytes((HEADER + "0012,2,县人民医院,1\n").encode("gbk"))
    (data / "payments_c.csv").write_bytes((HEADER + "0012,3,plain,1\n").encode("ascii"))
    db = tmp_path / "a.duckdb"
    ingest(data, db)
    assert _payees(db) == ["Pavel Büchler", "县人民医院", "plain"]
    rep = _report(db)
    assert (rep["payments_a.csv"]["encoding"], rep["payments_b.csv"]["encoding"],
            rep["payments_c.csv"]["encoding"]) == ("cp1252", "gbk", "utf-8")
    for r in rep.values():
        assert 0 < r["encoding_confidence"] <= 1 and r["encoding_evidence"] and r["encoding_candidates"]
    assert rep["payments_a.csv"]["encoding_candidates"]["gbk"] == 0.0


PROFILE = """
table: payments
files: ["*.csv"]
encoding: {{{patterns}}}
fields: {{unit_code: unit_code, payment_id: payment_id, payee_name: payee_name, amount: amount}}
"""


def test_profile_encoding_by_file_name_pattern(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "old-1.csv").write_bytes((HEADER + "L,1,Pavel Büchler,1\n").encode("cp1252"))
    (data / "new-1.csv").write_bytes((HEADER + "L,2,Pavel Büchler,1\n").encode("utf-8"))
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE.format(patterns='"old-*.csv": cp1252, "*": utf-8'), encoding="utf-8")
    assert load_profile(profile).encoding_for("OLD-1.csv") == "cp1252"
    assert load_profile(profile).encoding_for("new-1.csv") == "utf-8"
    db = tmp_path / "a.duckdb"
    ingest(data, db, mapping=profile)
    assert _payees(db) == ["Pavel Büchler", "Pavel Büchler"]
    rep = _report(db)
    assert rep["old-1.csv"]["encoding"] == "cp1252" and rep["new-1.csv"]["encoding"] == "utf-8"
    assert rep["old-1.csv"]["encoding_evidence"] == "set by the mapping profile"


def test_profile_encoding_pattern_that_matches_nothing_leaves_detection(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "x.csv").write_bytes((HEADER + "L,1,Pavel Büchler,1\n").encode("cp1252"))
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE.format(patterns='"other-*.csv": gbk'), encoding="utf-8")
    db = tmp_path / "a.duckdb"
    ingest(data, db, mapping=profile)
    assert _payees(db) == ["Pavel Büchler"] and _report(db)["x.csv"]["encoding"] == "cp1252"


@pytest.mark.parametrize("patterns", ['"*": no-such-codec', '"*": 12'])
def test_bad_encoding_patterns_name_the_key(tmp_path, patterns):
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE.format(patterns=patterns), encoding="utf-8")
    with pytest.raises(MappingError) as exc:
        load_profile(profile)
    assert exc.value.key == "encoding.*"
