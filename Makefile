# reasonlab: `make demo` runs the main job on the embedded model; `make test` runs the tests.
# Both create .venv at the repo root and install everything on first use (llama-cpp-python
# builds from source once, ~7 min on 2 cores; pip's wheel cache makes later installs fast).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSDEPS := $(VENV)/.sysdeps
# The demo measures `direct` against the strategy that measurably helps the embedded model: PAL
# (direct 0/20, PAL 8/20 = 40% [22-61] on the first 20 generated two-step problems; docs/BENCHMARKS.md).
# DEMO_ITEM picks the first of those problems PAL got right and direct did not (`reasonlab show DIR win:pal`).
DEMO_N ?= 20
DEMO_ITEM ?= win:pal
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
	@mkdir -p runs/demo
	@echo "== 1. Measuring direct and PAL on $(DEMO_N) generated two-step problems (embedded SmolLM2-135M) =="
	$(BIN)/reasonlab eval -d procedural:two-step-arithmetic -n $(DEMO_N) -s direct,pal --out runs/demo > runs/demo/eval.log
	@echo
	@echo "== 2. One of these problems, through both strategies: direct answers at once; PAL writes a program the sandbox runs =="
	$(BIN)/reasonlab show runs/demo $(DEMO_ITEM)
	@echo
	@echo "== 3. What the strategy gains, measured over all $(DEMO_N) problems =="
	$(BIN)/reasonlab report runs/demo

test: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q -rs $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests benchmarks

bench: install
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
