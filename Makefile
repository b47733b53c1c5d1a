# Two commands matter: `make run` and `make test`. Everything else is a convenience.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export TRUYXUAT_DATABASE_URL ?= sqlite:///var/truyxuat.db
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test test-sqlite test-postgres bench lint format install install-test browser clean i18n

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test browser

# Debian's Chromium, poppler (PDF to PNG for stamp decoding) and DejaVu (Vietnamese glyphs on
# printed stamps); never `playwright install` (it downloads a browser and fails here).
browser:
	@if [ ! -x /usr/bin/chromium ] || ! command -v pdftoppm >/dev/null || [ ! -d /usr/share/fonts/truetype/dejavu ]; then \
	  if [ "$$(id -u)" = "0" ]; then apt-get update -qq && apt-get install -y -qq chromium poppler-utils fonts-dejavu-core >/dev/null; \
	  else echo "install as root: apt-get install -y chromium poppler-utils fonts-dejavu-core"; fi; \
	fi

# The GS1 EPCIS schemas are not ours to ship; when the shared test data sits beside the checkout,
# the demo server validates captures with them (see docs/configuration.md otherwise).
SHARED_EPCIS_SCHEMA := $(abspath $(wildcard ../shared/data/epcis/EPCIS-JSON-Schema-2.0.1.json))
ifneq ($(SHARED_EPCIS_SCHEMA),)
run: export TRUYXUAT_EPCIS_SCHEMA ?= $(SHARED_EPCIS_SCHEMA)
endif

run: install
	mkdir -p var
	$(BIN)/truyxuat db upgrade
	$(BIN)/truyxuat demo load --if-empty
	$(BIN)/truyxuat demo history --if-empty
	$(BIN)/truyxuat oversight alerts run
	$(BIN)/truyxuat serve --host 127.0.0.1 --port 8000

# Every database test runs on the embedded SQLite and on PostgreSQL (one fixture parameter).
# With TRUYXUAT_TEST_POSTGRES=required a missing PostgreSQL fails instead of skipping.
test: install-test
	$(BIN)/ruff check truyxuat tests bench migrations
	$(BIN)/mypy truyxuat
	TRUYXUAT_TEST_POSTGRES_URL=$(PG_TEST_URL) $(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile --durations=15

bench: install-test
	$(BIN)/python -m bench

lint: install-test
	$(BIN)/ruff check truyxuat tests bench migrations
	$(BIN)/ruff format --check truyxuat tests bench migrations
	$(BIN)/mypy truyxuat

format: install-test
	$(BIN)/ruff format truyxuat tests bench migrations
	$(BIN)/ruff check --fix truyxuat tests bench migrations

i18n: install
	$(BIN)/pybabel extract -F babel.cfg -o truyxuat/web/locale/messages.pot .
	$(BIN)/pybabel update -i truyxuat/web/locale/messages.pot -d truyxuat/web/locale

clean:
	rm -rf $(VENV) var/*.db
