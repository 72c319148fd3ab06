"""Audit workspaces: ``auditlib init``, finding the workspace, the shipped defaults, the kernel."""
from __future__ import annotations

import sys

import pytest
import yaml
from click.testing import CliRunner

from auditlib import workspace
from auditlib.cli import main
from auditlib.errors import ParameterError
from auditlib.rules.params import load_params


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.delenv(workspace.ENV, raising=False)
    result = CliRunner().invoke(main, ["init", str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    return tmp_path / "ws"


def test_shipped_defaults_are_found():
    params = workspace.shipped("params")
    assert (params / "default.yaml").is_file() and list((params / "mappings").glob("*.yaml"))
    assert sorted(p.name for p in workspace.shipped("notebooks").glob("*.ipynb")) == [
        "delayed_payments.ipynb", "explore.ipynb", "idle_funds.ipynb", "overview.ipynb", "sampling.ipynb",
        "slush_funds.ipynb"]


def test_init_creates_the_workspace(ws):
    assert {p.name for p in ws.iterdir()} == {"params", "notebooks", "data", "outputs", "README.md"}
    shipped = workspace.shipped("params")
    assert sorted(p.name for p in (ws / "params" / "mappings").iterdir()) == sorted(
        p.name for p in (shipped / "mappings").glob("*.yaml"))
    assert sorted(p.name for p in (ws / "notebooks").iterdir()) == sorted(
        p.name for p in workspace.shipped("notebooks").glob("*.ipynb"))
    readme = (ws / "README.md").read_text(encoding="utf-8")
    for word in ("params/", "notebooks/", "data/", "outputs/", "auditlib ingest", "auditlib run", "工作区"):
        assert word in readme
    data = yaml.safe_load((ws / "params" / "default.yaml").read_text(encoding="utf-8"))
    assert set(data["project"]) == {"name", "team", "period", "members", "reviewer"}
    assert isinstance(data["project"]["members"], list)


def test_init_params_load_and_validate(ws):
    params = load_params(default=ws / "params" / "default.yaml")
    assert params.project["name"] and params.project["members"]
    shipped = load_params(default=workspace.shipped("params") / "default.yaml")
    assert params.rules == shipped.rules and params.as_of == shipped.as_of and shipped.project == {}


def test_project_block_types_are_checked(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text('project: {name: "检查", members: ["张三", "李四"], reviewer: "王五"}\n', encoding="utf-8")
    assert load_params(f).project == {"name": "检查", "members": ["张三", "李四"], "reviewer": "王五"}
    for text, key in (("project: {name: 2024}\n", "project.name"), ("project: {members: 张三}\n", "project.members"),
                      ("project: {members: [1]}\n", "project.members"), ("project: {leader: x}\n", "project.leader"),
                      ("project: [a]\n", "project")):
        f.write_text(text, encoding="utf-8")
        with pytest.raises(ParameterError) as err:
            load_params(f)
        assert err.value.key == key


def test_init_refuses_a_non_empty_folder(ws):
    before = (ws / "params" / "default.yaml").read_bytes()
    result = CliRunner().invoke(main, ["init", str(ws)])
    assert result.exit_code == 2
    assert "不为空" in result.output and "not empty" in result.output
    assert (ws / "params" / "default.yaml").read_bytes() == before
    (ws.parent / "empty").mkdir()
    assert CliRunner().invoke(main, ["init", str(ws.parent / "empty")]).exit_code == 0


def test_workspace_is_found_from_inside(ws, monkeypatch, tmp_path):
    monkeypatch.chdir(ws / "data")
    assert workspace.find_workspace() == ws.resolve()
    assert workspace.default_params_file() == ws.resolve() / "params" / "default.yaml"
    assert workspace.notebooks_dir() == ws.resolve() / "notebooks"
    assert workspace.profiles_dirs()[0] == ws.resolve() / "params" / "mappings"
    assert workspace.outputs_dir() == ws.resolve() / "outputs"
    monkeypatch.delenv("AUDITLIB_DB", raising=False)
    assert workspace.default_db() == ws.resolve() / "data" / "audit.duckdb"
    assert load_params().sources == (str(ws.resolve() / "params" / "default.yaml"),)
    monkeypatch.setenv(workspace.ENV, str(tmp_path))
    assert workspace.find_workspace() == tmp_path.resolve()


def test_outside_any_workspace_the_shipped_defaults_are_used(tmp_path, monkeypatch):
    monkeypatch.delenv(workspace.ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert workspace.find_workspace() is None
    assert workspace.default_params_file() == workspace.shipped("params") / "default.yaml"
    assert workspace.notebooks_dir() == workspace.shipped("notebooks")


def test_synth_writes_the_county_and_sample_no_longer_does(tmp_path):
    result = CliRunner().invoke(main, ["synth", str(tmp_path / "synth"), "--units", "8", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "synth" / "truth.csv").is_file()
    # `auditlib sample` is audit sampling now (CONTRACT §7): the old form is a usage error, no county
    result = CliRunner().invoke(main, ["sample", str(tmp_path / "sample"), "--units", "8", "--seed", "3"])
    assert result.exit_code == 2
    assert not (tmp_path / "sample").exists()


def test_kernel_for_run_is_of_this_interpreter(tmp_path, monkeypatch):
    from jupyter_client.kernelspec import KernelSpecManager

    from auditlib.batch.kernels import PROJECT_KERNEL, _runs_this_python, kernel_for_run

    assert kernel_for_run("no-such-kernel") == "no-such-kernel"  # a kernel asked for by name is kept
    name = kernel_for_run()
    assert _runs_this_python(name)
    argv = KernelSpecManager().get_kernel_spec(name).argv
    assert argv[0] in ("python", "python3") or argv[0] == sys.executable
    assert name == PROJECT_KERNEL  # make venv installs it for this interpreter
