# The two commands: `make run` and `make test`. Everything else is for developers and CI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# The virtualenv is rebuilt only when the dependencies change.
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test test-fast lint format bench screenshots migrate seed clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py load_protocols
	$(BIN)/python manage.py seed_demo

# Web + Celery worker + beat on the embedded defaults (SQLite and the filesystem broker under
# var/). Ctrl-C stops all three.
run: seed
	@echo
	@echo "  Retrowalk is starting on http://127.0.0.1:$(PORT)/"
	@echo "    clinicians: http://127.0.0.1:$(PORT)/clinic/   patients: http://127.0.0.1:$(PORT)/portal/"
	@echo "    API docs:   http://127.0.0.1:$(PORT)/api/v1/docs/   admin: http://127.0.0.1:$(PORT)/admin/"
	@echo "  Demo logins are listed above. Ctrl-C stops the web server, the worker and beat."
	@echo
	DEBUG=$${DEBUG:-true} $(BIN)/honcho start --procfile Procfile.dev --port $(PORT)

# Browser tests need Debian's chromium (`.ci/run` installs it); without it they skip.
test: install
	$(BIN)/pytest -n auto $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python bench/run.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/jobs.py
	$(BIN)/python bench/dashboard.py

# The README's screenshots, from the demo clinic in Debian's chromium (apt-get install chromium).
screenshots: install
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) var
