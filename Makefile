# The two commands: `make demo` and `make test`. Both create .venv/ and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint install clean bench bench-pybkt browser

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/vigie demo

# Every rule the code keeps, each pinned in pyproject.toml: lint, format, types, and the import layers.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The report's browser test needs Debian's chromium; install it when missing (CI machines start bare).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium >/dev/null) || echo "chromium unavailable: the browser test will skip"

test: lint browser
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench all

# pyBKT next to Vigie's mastery on the same split, in its own venv (pyBKT needs numpy < 2).
bench-pybkt: $(STAMP)
	bench/pybkt/run.sh

clean:
	-$(BIN)/vigie kafka stop
	rm -rf var test-artifacts
