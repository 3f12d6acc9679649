# prognos: `make demo` runs the platform on a demo fleet, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint format bench messages system-deps clean

# constraints.txt pins every package (pip freeze of a working venv): an upstream release, or a
# new deprecation warning under filterwarnings = error, cannot break a build until the pins move
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

system-deps:
	@bash scripts/system-deps.sh

demo: $(STAMP)
	$(BIN)/prognos demo

test: $(STAMP) system-deps
	$(BIN)/ruff check src tests
	$(BIN)/lint-imports
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

# The panel's words: extract the English ids, merge them into the Chinese catalogue (then
# translate what is new; tests/web/test_i18n.py fails on any id without Chinese).
LOCALE := src/prognos/web/locale
messages: $(STAMP)
	$(BIN)/pybabel extract -F src/prognos/web/babel.cfg --no-location --sort-output -o $(LOCALE)/messages.pot src/prognos/web
	$(BIN)/pybabel update -i $(LOCALE)/messages.pot -d $(LOCALE) -l zh_CN -w 100 --ignore-obsolete --no-fuzzy-matching

bench: $(STAMP) system-deps
	$(BIN)/prognos bench ingest --json
	$(BIN)/prognos bench ingest --http --json
	$(BIN)/prognos bench rul --subset FD001 --json
	$(BIN)/prognos bench rul --subset FD003 --json
	$(BIN)/prognos bench plan --json
	$(BIN)/prognos bench plan --scale --json
	$(BIN)/prognos bench opcua --json
	$(BIN)/prognos bench web --json
	$(BIN)/prognos bench forecast --json --dask-workers 2

clean:
	rm -rf $(VENV) var artifacts .pytest_cache .ruff_cache
