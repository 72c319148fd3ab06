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

venv: $(STAMP)

# the sample county, loaded, then the whole batch; the last line printed is the run's index.html
demo: venv
	rm -rf $(DATA) $(DB) $(DB).wal
	$(BIN)/auditlib synth $(DATA) --units $(UNITS) --seed $(SEED)
	$(BIN)/auditlib ingest $(DATA) --db $(DB)
	$(BIN)/auditlib run --db $(DB) --out outputs --run-id demo-$$(date +%Y%m%d-%H%M%S)

# headless Chromium and a CJK font for the browser tests (Debian packages; needs root or sudo)
browser:
	@if ! command -v chromium >/dev/null || [ -z "$$(fc-list :lang=zh 2>/dev/null)" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null; \
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
