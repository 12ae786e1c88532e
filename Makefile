# Portico: `make run` (demo server on SQLite) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?= -n 2
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run install install-test test lint format bench clean translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[test]"
	touch $@ $(RUN_STAMP)

install: $(RUN_STAMP)
install-test: $(TEST_STAMP)

run: $(RUN_STAMP)
	$(BIN)/portico demo
	$(BIN)/portico serve --host $(HOST) --port $(PORT)

lint: $(TEST_STAMP)
	$(BIN)/ruff check idp scim tests bench

format: $(TEST_STAMP)
	$(BIN)/ruff format idp scim tests bench
	$(BIN)/ruff check --fix idp scim tests bench

test: $(TEST_STAMP)
	bash .ci/test-deps.sh
	$(BIN)/ruff check idp scim tests bench
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(TEST_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache

# Refresh the message catalogs after changing translatable text, then fill in idp/translations/*/messages.po.
translations: $(TEST_STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k lazy_gettext -k _l -k translate:2 -k N_ -k NP_:1,2 -o /tmp/portico-messages.pot .
	$(BIN)/pybabel update -i /tmp/portico-messages.pot -d idp/translations
	$(BIN)/pybabel compile -d idp/translations
