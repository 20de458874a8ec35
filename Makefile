# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev
DEMO_DB ?= demo/funnel.duckdb
DEMO_LEADS ?= 50000

.PHONY: demo test test-fast lint bench lock serve browser postgres clean

$(BIN)/uv:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip uv

$(STAMP): requirements.lock pyproject.toml | $(BIN)/uv
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $@

$(DEVSTAMP): requirements-dev.lock pyproject.toml | $(BIN)/uv
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements-dev.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $@ $(STAMP)

demo: $(STAMP)
	$(BIN)/funnelmetrics demo --db $(DEMO_DB) --leads $(DEMO_LEADS)

# Chromium for the browser tests (and PDF reviews) comes from Debian (no browser downloads
# here); poppler-utils' pdftoppm opens a PDF review's first page in the tests.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: apt-get install chromium"; fi; }
	@command -v pdftoppm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq poppler-utils >/dev/null; \
	  else echo "pdftoppm missing: apt-get install poppler-utils"; fi; }

# The PostgreSQL server for the parity suite comes from Debian too (the tests start their own,
# on loopback, in a temporary data directory; nothing is configured system-wide).
postgres:
	@command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; \
	  else echo "postgresql missing: apt-get install postgresql"; fi; }

lint: $(DEVSTAMP)
	$(BIN)/ruff check .

# The whole suite (PySpark, PostgreSQL and the browser included) on every core up to four: a
# test module stays on one worker (loadfile); each worker starts its own Spark and PostgreSQL.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)
test: $(DEVSTAMP) browser postgres
	$(BIN)/ruff check .
	PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$(CURDIR)/$(VENV)/pycache \
	  $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

# The inner loop: the whole suite less the PySpark cases, the browser and PostgreSQL, on every
# core (a test module stays on one worker: its module-scoped workspace and its order hold).
FAST := not spark and not browser and not postgres
# Compiled bytecode is kept under .venv even where PYTHONDONTWRITEBYTECODE is set: each worker
# would otherwise compile pandas, Ibis and the rest again at every run.
test-fast: $(DEVSTAMP)
	$(BIN)/ruff check .
	PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$(CURDIR)/$(VENV)/pycache \
	  $(BIN)/python -m pytest -q -m "$(FAST)" -n auto --dist loadfile

bench: $(DEVSTAMP)
	$(BIN)/python benchmarks/run.py

serve: $(STAMP)
	$(BIN)/funnelmetrics serve --db $(DEMO_DB) --no-auth

lock: | $(BIN)/uv
	$(BIN)/uv pip compile -q pyproject.toml -o requirements.lock
	$(BIN)/uv pip compile -q pyproject.toml --extra dev -o requirements-dev.lock

clean:
	rm -rf $(VENV) demo/funnel.duckdb demo/data
