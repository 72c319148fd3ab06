"""Shared fixtures: the repository root, the shared external data, a scratch folder."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from auditlib.i18n import set_currency


@pytest.fixture(autouse=True)
def _yuan_after_each_test():
    """Loading parameters sets the display currency for the process (auditlib.i18n): a test that
    loads ``currency: £`` must not leave later tests labelled in pounds."""
    yield
    set_currency(None)

ROOT = Path(__file__).resolve().parents[1]
EXTERNAL = ROOT.parent / "shared" / "external"
#: Debian's Chromium (``make browser`` installs it); Playwright drives it and never downloads one
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def external():
    """The folder of real public data; tests skip with a reason when it is absent."""
    if not EXTERNAL.is_dir():
        pytest.skip(f"external data not available at {EXTERNAL} (only inside the workplace)")
    return EXTERNAL


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory):
    """The sample county of ``make demo`` (8 units, seed 2024) in a DuckDB file; treat it as read-only."""
    from auditlib.ingest.load import ingest
    from auditlib.synth.county import generate

    base = tmp_path_factory.mktemp("sample-county")
    generate(base / "data", units=8, seed=2024)
    ingest(base / "data", base / "audit.duckdb")
    return base / "audit.duckdb"


@pytest.fixture(scope="module")
def offline_page():
    """A page of headless Chromium with the network off; it records requests and dialogs.

    ``page.requests`` lists every URL the page asked for, ``page.dialogs`` every alert,
    confirm or prompt (each dismissed).
    """
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium missing at {CHROMIUM}: run `make browser` (the test target does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.requests, page.dialogs = [], []
        page.on("request", lambda req: page.requests.append(req.url))
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        yield page
        browser.close()


@pytest.fixture
def to_pdf(tmp_path):
    """``to_pdf(path) -> Path``: the file (xlsx, docx) rendered to PDF by headless LibreOffice.

    Read the result with :mod:`pdfplumber` (text, each character's size, page count).  Skips
    when LibreOffice is absent (``make browser`` installs Calc and Writer).
    """
    import subprocess

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.skip("LibreOffice (soffice) is not installed: `make browser` installs it")

    def convert(path: Path) -> Path:
        out = tmp_path / "pdf"
        subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo-profile",
                        "--convert-to", "pdf", "--outdir", str(out), str(path)],
                       check=True, capture_output=True, timeout=300)
        pdf = out / (Path(path).stem + ".pdf")
        assert pdf.exists(), f"LibreOffice did not render {path}"
        return pdf

    return convert
