# Atelier. `make run` starts the platform on embedded defaults; `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
SAMPLE_DIR ?= ../shared/wikiart/dev_sample
HOST ?= 127.0.0.1
PORT ?= 8000
export HF_HUB_OFFLINE ?= 1

.PHONY: run test lint format migrate drills bench clean-venv lock

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PIP) install -q -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	DJANGO_DEBUG=true LOG_FORMAT=plain $(PY) manage.py bootstrap_demo --sample-dir "$(SAMPLE_DIR)"
	@echo "Atelier: http://$(HOST):$(PORT)/  (sign in with the demo superuser above)"
	DJANGO_DEBUG=true LOG_FORMAT=plain $(PY) manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_SETTINGS_MODULE=config.settings_test $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrate: $(VENV)/.runtime
	DJANGO_DEBUG=true $(PY) manage.py migrate

# requirements.txt stays the source; requirements.lock pins every transitive dependency with hashes for the
# production image (Linux x86_64, Python 3.11): `pip install --require-hashes -r requirements.lock`.
lock: $(VENV)/.dev
	$(VENV)/bin/uv pip compile requirements.txt --generate-hashes --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --no-header --quiet -o requirements.lock

# Failure drills on a throwaway stack (own PostgreSQL cluster and Redis on free ports): load, worker SIGKILL,
# Redis and PostgreSQL restarts, ingest fuzzing. Non-zero exit if anything is lost, duplicated or answered 5xx.
drills: $(VENV)/.dev
	$(PY) bench/drills.py --sample-dir "$(SAMPLE_DIR)" $(DRILL_ARGS)
