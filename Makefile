# Ho Chi Minh City digital-transformation targets: data -> models -> reports.
# `make help` lists the targets. Everything installs itself into .venv on first use.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
KERNEL := hcmc-dx
JOBS ?= 2
# test workers: one more than the cores, since a fifth of the suite's time is spent waiting (sleeps, time limits,
# locks, a scheduler losing its workers) and a third worker fills it (2 cores: 3 min 53 s, against 4 min 22 s with 2)
TEST_JOBS ?= 3
# seconds `make report` waits for a run that still holds the lock (the nightly cron relies on it)
WAIT ?= 600

.DEFAULT_GOAL := help

## help: list the targets
help:
	@awk '/^## /{sub(/^## /,""); name=$$0; sub(/:.*/,"",name); text=$$0; sub(/^[^:]*: /,"",text); printf "  %-10s %s\n", name, text}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml requirements.lock scripts/setup-system.sh
	bash scripts/setup-system.sh
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (hcmc-dx)"
	touch $(STAMP)

## setup: create .venv, install the pinned packages (requirements.lock), the package and its Jupyter kernel
setup: $(STAMP)

## lock: re-pin every dependency of pyproject.toml, with hashes, into requirements.lock (then commit it)
lock: $(STAMP)
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --extra lint --generate-hashes --universal \
		--python-version 3.11 --quiet -o requirements.lock

## lint: ruff (lint rules and formatting) on the package, the tests and the notebooks
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests notebooks
	$(VENV)/bin/ruff format --check src tests notebooks

## data: clean raw data into data/processed (indicators, targets, conflicts, exclusions, sources)
data: $(STAMP)
	$(PY) -m analysis clean

## validate: check every raw file (file:row:column for each problem)
validate: $(STAMP)
	$(PY) -m analysis validate

## assess: fit trend models and progress rules -> data/processed/forecasts.csv, assessments.csv
assess: data
	$(PY) -m analysis assess

## report: set up, then produce every report (HTML + PDF, Vietnamese and English) under reports/
report: $(STAMP)
	$(PY) -m analysis run --jobs $(JOBS) --wait $(WAIT)

## test: set up, then run the test suite (on TEST_JOBS workers, a test module to a worker, the longest first)
test: $(STAMP)
	$(PY) -m pytest -n $(TEST_JOBS) --dist loadfile --no-loadscope-reorder

## test-fast: the tests that run no batch, notebook or PDF (`-m "not slow"`), for a quick check while working
test-fast: $(STAMP)
	$(PY) -m pytest -n $(TEST_JOBS) --dist loadfile --no-loadscope-reorder -m "not slow"

## bench: forecast accuracy on M3 yearly series and batch timings (figures in the README)
bench: $(STAMP)
	$(PY) -m analysis benchmark --window full 6 5 4 3 --out data/processed/benchmark.json
	$(PY) -m analysis batch-timings --out reports/batch-timings.json

## lab: open JupyterLab with the package's kernel (also when run as root, as on the set-up machine)
lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root,)

## clean: remove generated tables and reports; keep the run history (reports/_runs) and the editions
clean:
	rm -rf data/processed/*.csv data/processed/*.json data/processed/*.meta.yml data/processed/.cache
	rm -rf reports/vi reports/en reports/_failed reports/.staging-* reports/*.html reports/.state.json
	find . -name __pycache__ -prune -exec rm -rf {} +

## distclean: clean, and also remove the run history, the editions and .venv
distclean: clean
	rm -rf reports/_runs reports/editions $(VENV)

.PHONY: help setup lock lint data validate assess report test test-fast bench lab clean distclean
