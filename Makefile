# One task runner for README, CI and developers.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out

.PHONY: setup system-deps test-system-deps test lint typecheck run report bench clean scenario-results

## system-deps: install Graphviz `dot` with the system package manager when missing
system-deps:
	@bash .ci/install-system-deps

## test-system-deps: also Chromium, for the report page's layout test
test-system-deps:
	@bash .ci/install-system-deps --tests

## setup: virtualenv + package with pinned-range dependencies (+ dev tools)
setup: system-deps
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[dev]'

## lint / typecheck: ruff and mypy, as CI runs them
lint:
	$(BIN)/ruff check supplychain tests benchmarks
typecheck:
	$(BIN)/mypy

## test: the whole suite (unit, doctests, scenarios, notebooks) plus lint and types
test: setup test-system-deps lint typecheck
	$(BIN)/python -m pytest -q

## run: the main job: the bundled scenarios → results + report in $(OUT)/ (report validates every
## file first and writes nothing if one has a problem; `supplychain validate scenarios/` checks alone)
run: setup
	$(BIN)/supplychain report scenarios/ --output $(OUT)
	@echo "Open $(OUT)/index.html in a browser; $(OUT)/summary.md is for pasting into documents; tables in $(OUT)/tables.xlsx and $(OUT)/*.csv*."

bench: setup
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(OUT) build *.egg-info

## scenario-results: regenerate the Results tables and uncertainty figures of scenarios/README.md (minutes)
scenario-results:
	$(BIN)/python -m supplychain.report.scenario_results
