"""How every figure of ``make bench`` is taken: one command in a fresh measuring process.

Public tools only: wall time from ``time.perf_counter``, peak memory from
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` of a measuring process that runs exactly one
command (so the figure is that command's own peak, the largest of its processes), CPU seconds
from the same call.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

#: runs one command, then reports its wall time and peak RSS (the only child of this process)
_MEASURE = r"""
import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
s = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": s, "maxrss_kb": ru.ru_maxrss, "user": ru.ru_utime, "sys": ru.ru_stime,
                  "rc": p.returncode, "output": p.stdout.decode("utf-8", "replace")}))
"""


def measure(cmd: list, env=None, cwd=None, ok=(0,)) -> dict:
    """Run ``cmd`` in a fresh measuring process.

    Returns ``{"seconds", "maxrss_kb", "peak_mb", "user", "sys", "cpu_s", "rc", "output", "tail"}``
    (``output``: what the command printed, stdout and stderr; ``tail``: its last 3,000 characters); exits
    with the command's output when its exit code is not in ``ok``.
    """
    out = subprocess.run([sys.executable, "-c", _MEASURE, *map(str, cmd)], capture_output=True, text=True,
                         env=env, cwd=cwd, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["tail"] = res["output"][-3000:]
    if res["rc"] not in ok:
        raise SystemExit(f"command failed ({res['rc']}): {' '.join(map(str, cmd))}\n{res['tail']}")
    res["peak_mb"] = res["maxrss_kb"] / 1024
    res["cpu_s"] = res["user"] + res["sys"]
    return res


def machine() -> dict:
    """Cores, CPU model, memory, Python, DuckDB and OS of this machine."""
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    import duckdb

    return {"cores": os.cpu_count(), "usable_cores": affinity, "cpu": model or platform.processor(),
            "memory_gb": round(mem_kb / 1024 / 1024, 1), "python": platform.python_version(),
            "duckdb": duckdb.__version__, "os": platform.platform(), "load_before": load}
