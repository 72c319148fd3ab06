"""JupyterLab in a real browser: explore.ipynb runs and its widget panel renders.

The test starts JupyterLab on loopback with a token (settings, workspaces and runtime
files in a temporary folder), opens a copy of ``explore.ipynb`` in headless Chromium
(Debian's ``/usr/bin/chromium`` driven by Playwright), runs all cells and checks that the
widgets are drawn — not "Error displaying widget: model not found".  Requests to any
host other than the local server are blocked and recorded.  The screenshot is kept in
``tests/output/browser/``.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from auditlib.workspace import notebooks_dir

NOTEBOOKS = notebooks_dir()

pytestmark = pytest.mark.batch
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent / "output" / "browser"
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(sample_db, tmp_path):
    root = tmp_path / "lab"
    root.mkdir()
    shutil.copy(NOTEBOOKS / "explore.ipynb", root / "explore.ipynb")
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "AUDITLIB_DB": str(sample_db), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws")}
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen([str(BIN / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
                             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
                             "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=",
                             *(["--allow-root"] if os.geteuid() == 0 else [])],
                            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    log.flush()
                    pytest.fail("JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()[-3000:])
                time.sleep(0.5)
        yield base, token, root
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_explore_panel_renders_in_jupyterlab(lab):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium missing at {CHROMIUM}: run `make browser` (the test target does)")
    from playwright.sync_api import sync_playwright

    base, token, root = lab
    SHOTS.mkdir(parents=True, exist_ok=True)
    foreign = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")

            def guard(route):
                if route.request.url.startswith(base) or route.request.url.startswith(("data:", "blob:")):
                    return route.continue_()
                foreign.append(route.request.url)
                return route.abort()

            context.route("**/*", guard)
            page = context.new_page()
            page.goto(f"{base}/lab/tree/explore.ipynb?token={token}")
            page.wait_for_function("window.jupyterapp && document.querySelector('.jp-NotebookPanel')",
                                   timeout=90_000)
            # the kernel comes from the notebook's kernelspec; accept JupyterLab's kernel dialog if it asks
            for _ in range(180):
                if page.locator(".jp-Dialog .jp-mod-accept").count():
                    page.locator(".jp-Dialog .jp-mod-accept").first.click()
                if page.get_by_text("auditlib (Python 3) | Idle").count():
                    break
                page.wait_for_timeout(500)
            else:
                pytest.fail("the auditlib kernel never became idle in JupyterLab")
            # not awaited: the command's promise is not what tells us the panel is drawn
            page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
            try:
                page.wait_for_selector(".jp-OutputArea-output .widget-dropdown", timeout=90_000)
            except Exception:
                page.screenshot(path=str(SHOTS / "lab_explore_failure.png"), full_page=True)
                raise
            page.wait_for_selector("text=发现疑点", timeout=60_000)
            text = page.locator(".jp-OutputArea-output").last.inner_text()
            assert "model not found" not in text and "Error displaying widget" not in text
            assert page.locator(".jp-OutputArea-output .widget-dropdown select").count() >= 4  # unit, inspection, rule, finding
            assert "被检查单位" in text and "导出取证工作底稿" in text and "保存为参数文件" in text
            assert page.locator(".jp-OutputArea-output .widget-datepicker input").count() == 1
            page.screenshot(path=str(SHOTS / "lab_explore.png"), full_page=True)
            # a control change in the browser recounts on the kernel
            before = page.locator(".jp-OutputArea-output .widget-html-content b").first.inner_text()
            page.locator(".jp-OutputArea-output .widget-dropdown select").nth(1).select_option(index=1)
            page.wait_for_function(
                "b => document.querySelector('.jp-OutputArea-output .widget-html-content b').innerText !== b",
                arg=before, timeout=30_000)
            assert "小金库" in page.locator(".jp-OutputArea-output .widget-html-content b").first.inner_text()
            page.screenshot(path=str(SHOTS / "lab_explore_slush_funds.png"), full_page=True)
        finally:
            browser.close()
    assert foreign == []
