# schedlab: `make demo` runs the main job end to end; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install redis lint test test-fast demo openapi client bench fuzz clean

# A fresh machine: the venv with the CPU build of torch (pip finds it on disk), the worker and dev extras, the
# generated API client, and Debian's docker-compose for the compose check.
$(STAMP): pyproject.toml openapi/schedlab-client/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[worker,dev]" -e openapi/schedlab-client
	command -v docker-compose >/dev/null && test -x /usr/bin/chromium || scripts/install-system-deps.sh
	touch $@

install: $(STAMP)

redis:
	@scripts/ensure-redis.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy service
	scripts/lint-docker.sh

test: install redis lint
	$(BIN)/python -m pytest -p no:cacheprovider

test-fast: install redis
	$(BIN)/python -m pytest -p no:cacheprovider -m "not e2e"

demo: install redis
	PATH="$(CURDIR)/$(BIN):$$PATH" scripts/demo.sh

# Regenerate openapi/openapi.json from the app, then the Python client from it.
openapi: install
	$(BIN)/schedlab openapi --output openapi/openapi.json
	$(BIN)/openapi-python-client generate --path openapi/openapi.json --output-path openapi/schedlab-client \
		--config openapi/client-config.yaml --meta setup --overwrite
client: openapi

bench: install redis
	$(BIN)/python benchmarks/engine_vs_notebook.py
	$(BIN)/python benchmarks/batched_vs_sequential.py
	$(BIN)/python benchmarks/service_vs_notebook.py
	$(BIN)/python benchmarks/status_poll_load.py
	$(BIN)/python benchmarks/submit_load.py

fuzz: install redis
	SCHEDLAB_FUZZ_EXAMPLES=300 $(BIN)/python -m pytest -p no:cacheprovider tests/e2e/test_fuzz.py

clean:
	rm -rf $(VENV) var demo-output .mypy_cache .ruff_cache
