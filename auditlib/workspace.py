"""Where the workbench finds its files: the defaults shipped in the package, and the
audit workspace the user works in.

An *audit workspace* is a folder holding ``params/default.yaml`` (the parameters to
edit), ``params/mappings/``, ``notebooks/``, ``data/`` and ``outputs/``;
``auditlib init DIR`` creates one, and this checkout is one.  Commands find the
workspace as git finds a repository: ``$AUDITLIB_WORKSPACE`` if set, else the
nearest folder at or above the current directory that holds ``params/default.yaml``.
Outside any workspace the package's shipped defaults are used.

The package carries ``params/`` and ``notebooks/`` of the repository as package
resources (``auditlib._shipped.params`` / ``auditlib._shipped.notebooks``, mapped onto
the top-level folders by ``pyproject.toml``): no second copy is kept in git.
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

#: environment variable naming the workspace (a run sets it for its kernels and workers)
ENV = "AUDITLIB_WORKSPACE"
PARAMS = "params"
NOTEBOOKS = "notebooks"
DEFAULT_PARAMS = "default.yaml"
MAPPINGS = "mappings"


def shipped(name: str) -> Path:
    """The folder ``name`` (``params`` or ``notebooks``) as shipped in the package.

    A wheel holds it in ``auditlib/_shipped/``.  An editable install of the checkout maps
    ``auditlib._shipped.<name>`` onto the checkout's top-level folder, which Python cannot
    import (it has no ``__init__.py``): it is then found through the install's record of
    where its source is (``direct_url.json``, PEP 610).
    """
    folder = resources.files("auditlib._shipped") / name
    if folder.is_dir():
        return Path(str(folder))
    source = _editable_source()
    if source is not None and (source / name).is_dir():
        return source / name
    raise FileNotFoundError(f"auditlib 安装不完整，缺少 {name}/ / incomplete install: no shipped {name}/")


def _editable_source() -> Path | None:
    """The project folder of an editable install of auditlib; None for a normal install."""
    import json
    from importlib import metadata
    from urllib.parse import unquote, urlparse
    from urllib.request import url2pathname

    for dist in metadata.distributions(name="auditlib"):  # a checkout's stale *.egg-info has none
        try:
            info = json.loads(dist.read_text("direct_url.json") or "{}")
        except ValueError:
            continue
        url = urlparse(info.get("url", ""))
        if info.get("dir_info", {}).get("editable") and url.scheme == "file":
            return Path(url2pathname(unquote(url.path)))
    return None


def find_workspace(start: str | os.PathLike | None = None) -> Path | None:
    """The audit workspace: ``$AUDITLIB_WORKSPACE``, else the nearest folder at or above
    ``start`` (default: the current directory) holding ``params/default.yaml``; None if none."""
    env = os.environ.get(ENV)
    if env and start is None:
        return Path(env).resolve()
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PARAMS / DEFAULT_PARAMS).is_file():
            return folder
    return None


def params_dir() -> Path:
    """``params/`` of the workspace, else the shipped one."""
    ws = find_workspace()
    if ws is not None and (ws / PARAMS / DEFAULT_PARAMS).is_file():
        return ws / PARAMS
    return shipped(PARAMS)


def default_params_file() -> Path:
    """The run-wide defaults every parameter file is laid over."""
    return params_dir() / DEFAULT_PARAMS


def profiles_dirs() -> list[Path]:
    """Folders searched for ``--mapping NAME``: the workspace's ``params/mappings/`` first,
    then the shipped profiles."""
    dirs = [params_dir() / MAPPINGS, shipped(PARAMS) / MAPPINGS]
    out: list[Path] = []
    for d in dirs:
        if d.is_dir() and d.resolve() not in [o.resolve() for o in out]:
            out.append(d)
    return out


def notebooks_dir() -> Path:
    """The inspection notebook templates: the workspace's ``notebooks/``, else the shipped ones."""
    ws = find_workspace()
    if ws is not None and (ws / NOTEBOOKS).is_dir():
        return ws / NOTEBOOKS
    return shipped(NOTEBOOKS)


def root() -> Path:
    """The workspace folder, else the current directory (where data/ and outputs/ go)."""
    return find_workspace() or Path(os.getcwd()).resolve()


def default_db() -> Path:
    """``$AUDITLIB_DB`` if set, else ``data/audit.duckdb`` of the workspace."""
    env = os.environ.get("AUDITLIB_DB")
    return Path(env) if env else root() / "data" / "audit.duckdb"


def outputs_dir() -> Path:
    """``outputs/`` of the workspace."""
    return root() / "outputs"


# --------------------------------------------------------------------------- auditlib init

#: the v2 ``project:`` block (CONTRACT §2) a new workspace's default.yaml gets, to fill in
PROJECT_BLOCK = """\
project:                   # 印在底稿封面、报告、索引页和全县报告上，请按实际填写
  name: "（审计/检查项目名称，如：2024年度财政资金专项检查）"
  team: "（检查组，如：县财政局监督检查组）"
  period: "（检查期间，如：2024-01-01 至 2024-12-31）"
  members: ["（检查人员1）", "（检查人员2）"]
  reviewer: "（复核人）"
"""

README = """\
# 审计工作区

本文件夹由 `auditlib init` 创建，是一次专项检查的工作区：在本文件夹（或其子文件夹）里运行的
`auditlib` 命令都使用这里的参数、笔记本、数据和输出。

| 文件夹 | 用途 |
| --- | --- |
| `params/` | 检查参数。`default.yaml` 是本次检查的参数（检查截止日、预算年度、各规则阈值、`project:` 项目信息），请按实际修改；`mappings/` 是其他软件导出格式（用友、金蝶等）的映射方案，可增改。 |
| `notebooks/` | 各检查事项的笔记本模板（沉淀资金、小金库、支付不及时、全县总览、交互探查），批量运行时逐单位执行。 |
| `data/` | 被检查单位的数据文件（CSV/XLSX）和审计数据库 `data/audit.duckdb`。 |
| `outputs/` | 每次批量运行的结果：`outputs/<批次号>/index.html`（总览页）、各单位报告（html）、工作底稿（xlsx）、`findings.csv`。 |

## 常用命令

```bash
auditlib synth data                              # 可选：生成一个模拟县的数据练手
auditlib ingest data --db data/audit.duckdb      # 载入并校验 data/ 下的数据（其他格式加 --mapping 方案名）
auditlib run --db data/audit.duckdb              # 全部单位、全部检查事项批量运行，结果在 outputs/
auditlib run --db data/audit.duckdb --units 0012,0013   # 只查部分单位
auditlib scan --db data/audit.duckdb --out outputs/findings.csv   # 不生成报告，只输出疑点清单
auditlib rules                                   # 查看规则目录、参数和依据
auditlib sample --db data/audit.duckdb --units 0012 --expense-types 会议费,劳务费 --seed 1 --out outputs/抽样
                                                 # 审计抽样：货币单元抽样，写出 sample.xlsx 与 plan.json
auditlib sample evaluate outputs/抽样            # 核实并填写 sample.xlsx 后：推断错报与错报上限
jupyter lab --notebook-dir=notebooks             # 交互查看（explore.ipynb 是交互探查面板）
```

所有发现均为疑点，须经核实并取得被检查单位确认后方可定性。
"""


def init_workspace(folder: str | os.PathLike) -> Path:
    """Create an audit workspace in ``folder`` (which must be missing or empty).

    It gets ``params/default.yaml`` (the shipped defaults with a ``project:`` block to fill
    in), ``params/mappings/``, ``notebooks/``, ``data/``, ``outputs/`` and a README in Chinese.

    Raises
    ------
    WorkspaceError
        When ``folder`` is a file or a folder that is not empty.
    """
    import shutil

    from auditlib.errors import WorkspaceError

    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise WorkspaceError(
            f"{folder}: 已存在且不为空，不会覆盖；请换一个新文件夹 / "
            f"exists and is not empty; it is not overwritten: give a new folder",
            folder=str(folder), reason="not empty")
    source = shipped(PARAMS)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / PARAMS / MAPPINGS).mkdir(parents=True)
    defaults = (source / DEFAULT_PARAMS).read_text(encoding="utf-8")
    (folder / PARAMS / DEFAULT_PARAMS).write_text(_with_project(defaults), encoding="utf-8")
    for profile in sorted((source / MAPPINGS).glob("*.yaml")):
        shutil.copyfile(profile, folder / PARAMS / MAPPINGS / profile.name)
    (folder / NOTEBOOKS).mkdir()
    for notebook in sorted(shipped(NOTEBOOKS).glob("*.ipynb")):
        shutil.copyfile(notebook, folder / NOTEBOOKS / notebook.name)
    for sub in ("data", "outputs"):
        (folder / sub).mkdir()
    (folder / "README.md").write_text(README, encoding="utf-8")
    return folder


def _with_project(defaults: str) -> str:
    """The defaults' text with :data:`PROJECT_BLOCK` after the ``lang:`` line (else at the end)."""
    lines = defaults.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("lang:"):
            return "".join(lines[:i + 1]) + PROJECT_BLOCK + "".join(lines[i + 1:])
    return defaults.rstrip("\n") + "\n" + PROJECT_BLOCK
