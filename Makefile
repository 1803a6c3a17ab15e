# Uchet: the two commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app run
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run test install setup lint i18n translations bench bench-10m load screens clean

$(STAMP): requirements.txt requirements-dev.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

## Set up the SQLite database: migrate, permissions from the catalogue, demo data if empty
## (`flask db upgrade`, `flask uchet sync`, `flask demo load --if-empty` in one process).
setup: install translations
	$(FLASK) uchet setup

## Everything from a fresh clone to a running app on http://127.0.0.1:8080
run: setup
	$(FLASK) run --host $(HOST) --port $(PORT)

## The whole test suite (SQLite by default; UCHET_TEST_DATABASE_URL picks another database).
test: install translations
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .

## Re-extract the strings and merge them into both catalogues (then fill the new msgstr).
i18n: install
	$(BIN)/pybabel extract -F babel.cfg --no-default-keywords -k _ -k _l -k gettext \
		-k lazy_gettext -k ngettext:1,2 --no-wrap --no-location --sort-output --omit-header --project=Uchet \
		--copyright-holder=Uchet --msgid-bugs-address="" -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-wrap --ignore-pot-creation-date --ignore-obsolete -N

## Compile the ru and en catalogues (.mo files are built, not committed); docs/translations.md.
## Fuzzy (unreviewed) entries are not compiled; -q is an option of pybabel, not of compile.
translations: install
	$(BIN)/pybabel -q compile -d translations

## Benchmarks (print figures and ratios against the best hand-written SQL measured in
## the same rounds; assert nothing). The voucher data set is built once in the
## PostgreSQL database uchet_perf (LINES=10000000: uchet_perf_10m) and reused.
LINES ?= 1000000
bench: install translations
	$(BIN)/python -m bench.orgtree
	$(BIN)/python -m bench.price_import --rows 100000
	$(BIN)/python -m bench.data --lines $(LINES)
	$(BIN)/python -m bench.vouchers --lines $(LINES)
	$(BIN)/python -m bench.cabinet --lines $(LINES)

bench-10m:
	$(MAKE) bench LINES=10000000

## 16 users (registrar, accountant, client head, manager, admin) against gunicorn +
## PostgreSQL + Redis on the bench data set: p50 / p95 / errors per request.
USERS ?= 16
TIME ?= 60s
load: install translations
	$(BIN)/python -m bench.load.run --lines $(LINES) --users $(USERS) --time $(TIME)

## Refresh the screenshots of each role's home and of the documents (docs/screens/*.png),
## by the browser scenarios of tests/browser/test_workplaces.py (needs Chromium).
screens: install translations
	UCHET_SCREENS=docs/screens $(BIN)/python -m pytest -q tests/browser/test_workplaces.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
