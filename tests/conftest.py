"""Shared fixtures: the repository root, the shared external data, a scratch folder."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXTERNAL = ROOT.parent / "shared" / "external"


@pytest.fixture
def external():
    """The folder of real public data; tests skip with a reason when it is absent."""
    if not EXTERNAL.is_dir():
        pytest.skip(f"external data not available at {EXTERNAL} (only inside the workplace)")
    return EXTERNAL


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory):
    """The sample county of ``make demo`` (8 units, seed 2024) in a DuckDB file; treat it as read-only."""
    from auditlib.ingest import ingest
    from auditlib.sample import generate

    base = tmp_path_factory.mktemp("sample-county")
    generate(base / "data", units=8, seed=2024)
    ingest(base / "data", base / "audit.duckdb")
    return base / "audit.duckdb"
