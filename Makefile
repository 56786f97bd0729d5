# fleetdns: `make demo` shows the CLI on zone files; `make test` installs what the tests need and runs them all.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
SYSTEM_PACKAGES := bind9 bind9-dnsutils

.PHONY: demo test lint format unit system-packages venv clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt scripts/dev-link
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt '.[test]'
	scripts/dev-link $(VENV)
	touch $@

demo: venv
	scripts/demo

system-packages:
	scripts/install-system-packages $(SYSTEM_PACKAGES)

lint: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

unit: venv
	$(BIN)/pytest tests/unit

test: system-packages venv lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) build demo tests/output .pytest_cache .ruff_cache
