# The two commands of the README: `make run` and `make test`. Everything they need is
# installed by these rules (a virtual environment, Python packages, Debian packages).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export PATRIMOINE_DATA_DIR ?= $(CURDIR)/var
# Tests run on every core (a few start real processes: a server, a browser, the command).
# A file's tests go to one worker, which builds the file's shared fixtures once; files in
# collection order, so the quick unit tests come last and keep both cores busy to the end.
PYTEST := $(BIN)/python -m pytest -q -n auto --dist loadfile --no-loadscope-reorder
# $(call timed,LABEL,COMMAND): runs COMMAND, prints how long it took, keeps its exit status.
timed = s=$$(date +%s); $(2); rc=$$?; echo "$(1) : $$(($$(date +%s) - s)) s"; exit $$rc

.PHONY: run test check test-sqlite test-postgresql interop install install-dev system-deps screenshots bench bench-load bench-real-files clean

run: $(VENV)/.runtime
	@scripts/system-deps.sh runtime
	$(BIN)/patrimoine db upgrade
	$(BIN)/patrimoine demo --if-empty
	$(BIN)/patrimoine serve

# Target: both runs under 5 minutes on a quiet 2-core machine.
test: $(VENV)/.dev check system-deps
	@start=$$(date +%s); \
	($(call timed,Tests SQLite,$(PYTEST))) && \
	($(call timed,Tests PostgreSQL,PATRIMOINE_TEST_DB=postgresql $(PYTEST))); rc=$$?; \
	echo "make test : $$(($$(date +%s) - start)) s en tout"; exit $$rc

# The gates before any test: the tiers' import contract (.importlinter), the linter (rules in
# pyproject.toml) and the type checker on the whole package, each with zero findings.
check: $(VENV)/.dev
	PYTHONPATH=$(CURDIR)/src $(BIN)/lint-imports
	$(BIN)/ruff check src tests
	$(BIN)/mypy

test-sqlite: $(VENV)/.dev system-deps
	@$(call timed,Tests SQLite,$(PYTEST))

test-postgresql: $(VENV)/.dev system-deps
	@$(call timed,Tests PostgreSQL,PATRIMOINE_TEST_DB=postgresql $(PYTEST))

# data.gouv.fr's own harvesters (udata's DCAT and CKAN backends) against a live Patrimoine over
# the demo (tests/interop): udata in its own environment, pinned in tests/interop/requirements.txt
# (its dependencies clash with ours), MongoDB played by mongomock.
interop: $(VENV)/.runtime .venv-interop/.ok
	@$(call timed,Tests interop (udata),PATRIMOINE_CLI=$(CURDIR)/$(BIN)/patrimoine \
	  .venv-interop/bin/python -m pytest -c tests/interop/pytest.ini -q tests/interop)

.venv-interop/.ok: tests/interop/requirements.txt
	test -x .venv-interop/bin/python || $(PYTHON) -m venv .venv-interop
	.venv-interop/bin/python -m pip install -q -r tests/interop/requirements.txt
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

$(VENV)/.runtime: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.dev: pyproject.toml $(VENV)/.runtime
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

# Debian's chromium (browser tests) and postgresql (the second test run); axe-core from npm
# (accessibility checks of the browser tests).
system-deps:
	@scripts/system-deps.sh
	@scripts/fetch-axe.sh

screenshots: $(VENV)/.dev system-deps
	$(BIN)/python -m pytest -q tests/e2e -k screenshots --screenshots

# Speed against the tools a city would otherwise pick (Datasette in its own environment).
bench: $(VENV)/.dev .venv-bench/.ok system-deps
	# Byte-compiled first, so that no measured command start-up compiles a module.
	$(BIN)/python -m compileall -q src
	$(BIN)/python benchmarks/datastore.py

# Many visitors at once (benchmarks/load.py): about 12 minutes with the default 60 s runs.
bench-load: $(VENV)/.dev .venv-bench/.ok system-deps
	$(BIN)/python -m compileall -q src
	$(BIN)/python benchmarks/load.py

# Real files (benchmarks/real_files.py): Patrimoine and csv-detective + DuckDB over tests/corpus.
bench-real-files: $(VENV)/.dev .venv-bench/.ok
	$(BIN)/python benchmarks/real_files.py
	$(BIN)/python benchmarks/real_files.py --holdout

.venv-bench/.ok:
	test -x .venv-bench/bin/python || $(PYTHON) -m venv .venv-bench
	.venv-bench/bin/python -m pip install -q 'datasette>=0.65' 'sqlite-utils>=3.38' 'csv-detective==0.13.0' duckdb
	touch $@

clean:
	rm -rf $(VENV) .venv-bench .venv-interop .pytest_cache
