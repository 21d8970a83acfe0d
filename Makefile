# The project's vocabulary. `make run` and `make test` work from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint unit integration e2e proto bench image k8s clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(BIN)/findsvc db seed --demo
	@echo
	@echo "findsvc is starting on 127.0.0.1:50051 with the embedded demo data. Try, in another shell:"
	@echo "  $(BIN)/findsvc find KrishnaMohan"
	@echo "  $(BIN)/grpcurl -plaintext -d '{\"name\": \"KrishnaMohan\"}' 127.0.0.1:50051 glarimy.ums.find.v1.FindService/FindUser"
	@echo
	FINDSVC_HOST=127.0.0.1 $(BIN)/findsvc serve

proto: $(STAMP)
	$(BIN)/python protos/generate.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/buf lint

unit: $(STAMP)
	$(BIN)/pytest tests/unit

test: lint
	$(BIN)/python tests/support/ensure_test_tools.py
	$(BIN)/pytest

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
