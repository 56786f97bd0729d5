# fleetdns: `make demo` shows the CLI on zone files; `make test` installs what the tests need and runs them all.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON312 ?= $(shell scripts/find-python 3.12)
VENV312 ?= .venv-py312

.PHONY: demo test lint format unit system-packages venv clean
.PHONY: venv-py312 sanity units sanity-py311 sanity-py312 units-py311 units-py312

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt scripts/dev-link
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt '.[controller,test]'
	scripts/dev-link $(VENV)
	touch $@

# The newest ansible-core runs on Python 3.12; this venv only hosts its ansible-test.
venv-py312: $(VENV312)/.installed

$(VENV312)/.installed: constraints.txt scripts/find-python
	$(PYTHON312) -m venv $(VENV312)
	$(VENV312)/bin/pip install -q --disable-pip-version-check -c constraints.txt ansible-core
	touch $@

# ansible-test sanity and units on ansible-core 2.19/Python 3.11 and the newest/Python 3.12
# (scripts/ansible-test explains the copy it works on). With two or more cores the two interpreters'
# runs go side by side (a run leaves cores idle much of the time: on 2 cores `make sanity units` took
# 82 s warm / 143 s cold instead of 161 s / 351 s one after the other); --output-sync prints each
# run's output whole when it ends.
SIDE_BY_SIDE := $(shell [ "$$(nproc 2>/dev/null || echo 1)" -ge 2 ] && echo -j2 --output-sync=target)
sanity:
	$(MAKE) $(SIDE_BY_SIDE) sanity-py311 sanity-py312
units:
	$(MAKE) $(SIDE_BY_SIDE) units-py311 units-py312
sanity-py311: venv
	scripts/ansible-test $(VENV) 3.11 sanity
sanity-py312: venv-py312
	scripts/ansible-test $(VENV312) 3.12 sanity
units-py311: venv
	scripts/ansible-test $(VENV) 3.11 units
units-py312: venv-py312
	scripts/ansible-test $(VENV312) 3.12 units

# What Galaxy and Automation Controller users check on the built collection: lean tarball,
# galaxy-importer, ansible-lint (production), antsibull-docs, changelog, execution-environment metadata.
# Their tools live in a venv of their own: ansible-lint and galaxy-importer pull in much the test
# venv does not need.
VENV_COLLECTION ?= .venv-collection
.PHONY: venv-collection collection-checks
venv-collection: $(VENV_COLLECTION)/.installed

$(VENV_COLLECTION)/.installed: scripts/collection-requirements.txt constraints.txt
	$(PYTHON) -m venv $(VENV_COLLECTION)
	$(VENV_COLLECTION)/bin/pip install -q --disable-pip-version-check -c constraints.txt -r scripts/collection-requirements.txt
	touch $@

collection-checks: venv-collection
	scripts/collection-checks $(VENV_COLLECTION)

# Molecule (podman) scenarios of every role; installs podman, builds the local test image and the
# Molecule venv first when they are missing (scripts/molecule-setup). ROLES=/SCENARIOS= narrow it.
.PHONY: molecule
molecule:
	scripts/molecule-test

demo: venv
	scripts/demo

# The one-file agent for devices: build/fleetdns-agent.pyz, run with the system python3 next to
# dnspython and requests (docs/agent.md, "The one-file agent").
.PHONY: agent-zipapp
agent-zipapp:
	scripts/build-agent-zipapp build/fleetdns-agent.pyz

system-packages:
	scripts/install-system-packages

lint: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

unit: venv
	$(BIN)/pytest tests/unit

# Everything CI checks: style, the pytest suite (real BIND, ddclient, ansible-playbook, emulators),
# ansible-test sanity and units on both ansible-core versions, the collection checks (Galaxy,
# ansible-lint, docs, changelog, execution environment), and the roles' Molecule scenarios.
# MOLECULE=0 leaves out Molecule (only for `make fresh-check`'s container, which cannot run podman).
MOLECULE ?= 1
test: system-packages venv lint
	$(BIN)/pytest
	$(MAKE) sanity units
	$(MAKE) collection-checks
	$(if $(filter 0,$(MOLECULE)),@echo "molecule: left out (MOLECULE=0)",$(MAKE) molecule)

# The README's two commands (`make demo`, `make test MOLECULE=0`) on a bare Debian 12 container built
# from this machine's apt mirror (scripts/fresh-check says what it takes from the host).
.PHONY: fresh-check
fresh-check:
	scripts/fresh-check

clean:
	rm -rf $(VENV) $(VENV312) .venv-collection build demo tests/output .pytest_cache .ruff_cache
