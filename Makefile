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

.PHONY: venv demo test lab bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name auditlib --display-name "auditlib (Python 3)"
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	rm -rf $(DATA) $(DB) $(DB).wal
	$(BIN)/auditlib sample $(DATA) --units $(UNITS) --seed $(SEED)
	$(BIN)/auditlib ingest $(DATA) --db $(DB)
	$(BIN)/auditlib scan --db $(DB) --out data/findings.csv

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lab: venv
	$(BIN)/jupyter lab --notebook-dir=notebooks

clean:
	rm -rf data outputs/*/ tests/output .pytest_cache
