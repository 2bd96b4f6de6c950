# Every target creates .venv (and installs the package into it) if missing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
ARGS   ?=
# pytest-xdist workers for `make test` / `make test-fast` (one per core; 0 runs the suite in this process)
TEST_WORKERS ?= 2

.PHONY: install train test test-fast lint format clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

## Main job: train the default classifier on the embedded digits dataset, print test accuracy.
train: $(STAMP)
	$(BIN)/compresslab-train $(ARGS)

## Whole suite, slow tests (DDP, sweeps, resume) included. CI runs exactly this.
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(ARGS)

## Inner loop: everything but the slow tests.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal -m "not slow" $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/ruff format --check src tests scripts benchmarks

format: $(STAMP)
	$(BIN)/ruff format src tests scripts benchmarks
	$(BIN)/ruff check --fix src tests scripts benchmarks

clean:
	rm -rf $(VENV) logs .pytest_cache
