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
