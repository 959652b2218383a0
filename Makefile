# Profiler: two commands do all the set-up on a fresh machine.
#   make run    the whole stack on embedded PostgreSQL and Redis, http://127.0.0.1:8000
#   make test   the test suite against real PostgreSQL, Redis, Celery, SMTP and Chromium
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test bench install lint messages clean backup restore

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python -m profiler_site.runner

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# A backup of the database, uploads and local key into var/backups/ (see docs/backups.md).
backup: install
	$(BIN)/python -m profiler_site.maintenance backup

# make restore FILE=path/to/profiler-....tar   (into an empty data folder)
restore: install
	@test -n "$(FILE)" || (echo "usage: make restore FILE=path/to/backup.tar" && exit 2)
	$(BIN)/python -m profiler_site.maintenance restore "$(FILE)"

bench: install
	$(BIN)/python -m benchmarks.run_all

lint: install
	$(BIN)/ruff check .

messages: install
	$(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var
	$(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf var test-artifacts
