# reasonlab: `make demo` runs the main job on the embedded model; `make test` runs the tests.
# Both create .venv at the repo root and install everything on first use (llama-cpp-python
# builds from source once, ~7 min on 2 cores; pip's wheel cache makes later installs fast).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSDEPS := $(VENV)/.sysdeps
QUESTION ?= A baker made 24 muffins. She sold 9 in the morning and 7 in the afternoon. How many muffins are left?
PYTEST_ARGS ?=

.PHONY: demo test lint bench install clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

$(SYSDEPS): scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh
	@mkdir -p $(VENV) && touch $(SYSDEPS)

install: $(STAMP) $(SYSDEPS)

demo: install
	$(BIN)/reasonlab ask "$(QUESTION)" --strategy zero-shot-cot --show-prompts
	$(BIN)/reasonlab ask "$(QUESTION)" --strategy self-consistency --samples 8
	$(BIN)/reasonlab eval -d procedural:two-step-arithmetic -n 10 -s direct,zero-shot-cot,pal --out runs/demo
	@echo "report: runs/demo/report.md (plots beside it)"

test: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q -rs $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests benchmarks

bench: install
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
