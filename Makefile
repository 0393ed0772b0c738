# Two commands for a fresh clone: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test lint format messages bench clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver_with_beat 127.0.0.1:8000

test: $(VENV)/.installed
	$(PY) -m pytest

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The benchmark (issue 8): data at scale, gunicorn driven by wrk, bench/results/latest.md.
# BENCH_ARGS="--reminders-100k" adds the reminder job over 100,000 users.
bench: $(VENV)/.installed
	@command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk"; exit 1; }
	$(PY) bench/run.py $(BENCH_ARGS)

# Extract new strings and compile the catalogues (needs gettext; the .mo files are committed).
messages: $(VENV)/.installed
	$(PY) manage.py makemessages -l de -l es --no-obsolete --ignore=.venv --ignore=staticfiles --ignore=var --ignore=bench
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
