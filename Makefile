# auditlib — every set-up step lives here so a bare machine with Python 3.11 needs nothing else.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= data/sample
DB     ?= data/audit.duckdb
UNITS  ?= 8
SEED   ?= 2024
PYTEST_ARGS ?=

.PHONY: venv demo test lab bench clean browser record-notebooks

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name auditlib --display-name "auditlib (Python 3)"
	touch $(STAMP)

# auditlib's own modules compiled once: every batch process (the run, its kernels) imports them, and
# where bytecode is never written (PYTHONDONTWRITEBYTECODE) each would compile them again
venv: $(STAMP)
	@$(BIN)/python -m compileall -q auditlib

# the sample county, loaded, then the whole batch; example decisions (核实结论) recorded in the
# findings register beside the database, and the batch again with --register (and, from the second
# demo on, --baseline the previous demo run); the last line printed is the run's index.html
REGISTER := $(dir $(DB))register.jsonl
demo: venv
	rm -rf $(DATA) $(DB) $(DB).wal $(REGISTER) $(REGISTER).lock $(REGISTER).rejected
	$(BIN)/auditlib synth $(DATA) --units $(UNITS) --seed $(SEED)
	$(BIN)/auditlib ingest $(DATA) --db $(DB)
	@stamp=$$(date +%Y%m%d-%H%M%S); \
	prev=$$(ls outputs/demo-*/findings.csv 2>/dev/null | grep -v -- '-first/' | sort | tail -n 1); \
	prev=$${prev%/findings.csv}; \
	set -ex; \
	$(BIN)/auditlib run --db $(DB) --out outputs --run-id demo-$$stamp-first --no-progress; \
	$(BIN)/python -m auditlib.synth.decisions --db $(DB) --run outputs/demo-$$stamp-first; \
	$(BIN)/auditlib run --db $(DB) --out outputs --run-id demo-$$stamp --register $(REGISTER) \
	  $${prev:+--baseline $$prev}

# headless Chromium and a CJK font for the browser tests, LibreOffice Calc and Writer for the
# workbook and county-report render tests (Debian packages; needs root or sudo)
browser:
	@if ! command -v chromium >/dev/null || ! command -v soffice >/dev/null || [ -z "$$(fc-list :lang=zh 2>/dev/null)" ] \
	    || ! dpkg -s libreoffice-writer-nogui >/dev/null 2>&1; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk libreoffice-calc-nogui libreoffice-writer-nogui >/dev/null; \
	fi
	@chromium --version

test: venv browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# re-record the summaries nbval checks, on the sample county of make demo
record-notebooks: venv
	test -f $(DB) || $(MAKE) demo
	$(BIN)/python -m auditlib.devtools.nbrecord $(DB)

# the batch against the naive papermill loop, ingest and rules at 100k/1M/10M voucher lines -> bench/RESULTS.md
bench: venv
	$(BIN)/python bench/run_bench.py $(BENCH_ARGS)

# JupyterLab on the notebooks with the project's kernel; explore.ipynb is the interactive panel
lab: venv
	test -f $(DB) || $(MAKE) demo
	$(BIN)/jupyter lab --notebook-dir=notebooks $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

clean:
	rm -rf data outputs/*/ tests/output .pytest_cache
