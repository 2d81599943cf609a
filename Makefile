# Everyday commands. `make run` starts the demo site, `make test` runs the test suite
# (DATABASE_URL=postgres://... make test runs it on PostgreSQL).

# Python 3.11 when present, else whatever python3 is.
PYTHON ?= $(shell python3.11 -c "" >/dev/null 2>&1 && echo python3.11 || echo python3)
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
STAMP := $(VENV)/.installed
# The port of `make run`: `make run PORT=8001` when 8000 is taken.
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help venv install run test acceptance lint messages clean bench bench-national load

help:
	@echo "make run       install if needed, migrate, seed the demo data, serve http://127.0.0.1:8000/"
	@echo "              with a background worker beside it (manage.py db_worker), stopped with the server"
	@echo "              (make run PORT=8001 if port 8000 is taken)"
	@echo "make test      run the test suite (.ci/pytest; DATABASE_URL=postgres://... selects PostgreSQL,"
	@echo "              ARGS='-k name -x' passes options to pytest)"
	@echo "make acceptance  the whole year on the demo city through HTTP, each step by its role (minutes;"
	@echo "              DATABASE_URL=postgres://... on PostgreSQL)"
	@echo "make lint      ruff check . and lint-imports (each app imports only the apps below it)"
	@echo "make bench     build a city and a province in a throwaway database and measure (bench/results.json)"
	@echo "make bench-national  a country of 5.6 million members in a throwaway PostgreSQL database, built with"
	@echo "              COPY, then opening, screens and size measured (DATABASE_URL=postgres://... required;"
	@echo "              ARGS='--members 300000 --provinces 4' for a smaller one; bench/national.json)"
	@echo "make load      50 users against gunicorn on PostgreSQL (DATABASE_URL=postgres://... required)"
	@echo "make messages  update and compile the vi and en translations"
	@echo "make install   create .venv and install requirements.txt (only when it changed)"
	@echo "make venv      create .venv only"
	@echo "make clean     remove caches, collected static files and test artefacts (keeps .venv and db.sqlite3)"

$(PY):
	$(PYTHON) -m venv $(VENV)

venv: $(PY)

# Reinstalls only when requirements.txt is newer than the stamp of the last install.
$(STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(MANAGE) migrate
	@if ! command -v msgfmt >/dev/null 2>&1; then \
		echo "msgfmt not found (Debian package gettext): using the committed .mo files"; \
	elif [ -z "$$(find . -path ./$(VENV) -prune -o -name '*.po' -print -quit)" ]; then \
		echo "no .po files yet: nothing to compile"; \
	else \
		echo "$(MANAGE) compilemessages"; \
		$(MANAGE) compilemessages --ignore=$(VENV) --ignore=staticfiles; \
	fi
	$(MANAGE) seed_demo
	PY=$(PY) PORT=$(PORT) bash bin/run-with-worker

test: $(STAMP)
	bash .ci/pytest $(ARGS)

# The whole year on the demo city (7,300 members) through HTTP, each step by its role: minutes, one process.
acceptance: $(STAMP)
	PYTEST_WORKERS=0 bash .ci/pytest -m acceptance tests/acceptance -s $(ARGS)

bench: $(STAMP)
	$(PY) bench/run.py $(ARGS)

bench-national: $(STAMP)
	$(PY) bench/national.py $(ARGS)

load: $(STAMP)
	bash bench/load.sh $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

messages: $(STAMP)
	mkdir -p locale
	$(MANAGE) makemessages -l vi -l en --ignore=$(VENV) --ignore=staticfiles --ignore=static/vendor --ignore=tests --no-location --no-obsolete
	$(MANAGE) compilemessages --ignore=$(VENV) --ignore=staticfiles

clean:
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
	find . -path ./$(VENV) -prune -o -name '*.pyc' -type f -exec rm -f {} +
	rm -rf staticfiles test-results .pytest_cache .ruff_cache .import_linter_cache
