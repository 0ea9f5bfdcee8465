# The two commands: `make run` and `make test`. Everything else is for developers and CI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# The virtualenv is rebuilt only when the locked dependencies change.
STAMP := $(VENV)/.installed-stamp
# Exact versions with hashes, made from pyproject.toml's ranges by `make lock`: the production
# image installs LOCK, developers and CI DEV_LOCK (the same versions plus the dev tools).
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
# The tool that writes the lock files; `make lock` installs it into .venv itself.
UV_VERSION := 0.13.9
UV_COMPILE := $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock" --quiet $(LOCK_ARGS)

.PHONY: install lock run test test-fast lint format bench bench-load screenshots migrate seed clean

$(STAMP): $(DEV_LOCK) pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@# A dependency added to pyproject.toml but not yet locked shows here: run `make lock`.
	$(BIN)/python -m pip check
	touch $(STAMP)

install: $(STAMP)

# Resolves pyproject.toml's ranges for every platform and Python 3.11-3.13, keeping the
# versions already locked where they still fit (so adding a dependency changes only what it
# needs); `make lock LOCK_ARGS=--upgrade` moves everything to the newest versions allowed. The
# production lock is resolved within the dev lock: production runs the versions tests ran.
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV_COMPILE) --extra dev -o $(DEV_LOCK)
	$(UV_COMPILE) --constraint $(DEV_LOCK) -o $(LOCK)

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
	@# honcho gives the worker and beat PORT+100 and PORT+200, so the web port is passed on as
	@# SITE_URL here: the worker's e-mails link to the server that is running.
	SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} DEBUG=$${DEBUG:-true} \
		$(BIN)/honcho start --procfile Procfile.dev --port $(PORT)

# Browser tests need Debian's chromium (`.ci/run` installs it), the FHIR resources' third-party
# validation Node.js and `npm ci --prefix .ci`; without them they skip.
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

# Every bench script in a process of its own, then the table of figures (var/bench/results.json);
# within 15 minutes on 2 cores. DATABASE_URL=postgres://... for the figures of record,
# BENCH_QUICK=1 for a smaller run. See bench/README.md.
bench: install
	$(BIN)/python bench/all.py

# The load test of the whole service (gunicorn, PostgreSQL, Redis, a worker; 5 minutes, or
# BENCH_LOAD_SECONDS): not part of `make bench`, it would not fit in its 15 minutes.
bench-load: install
	$(BIN)/python bench/load.py

# The README's screenshots, from the demo clinic in Debian's chromium (apt-get install chromium).
screenshots: install
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) var
