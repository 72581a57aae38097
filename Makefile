# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Benchmarks run in their own environment: what they compare against stays out of .venv.
BENCH_VENV ?= .venv-bench
BENCH_PY := $(BENCH_VENV)/bin/python
BENCH_STAMP := $(BENCH_VENV)/.installed
BENCH_REDIS := LOCAL_REDIS_DIR=$(CURDIR)/var/redis-bench
HOST ?= 127.0.0.1:8000

TOPOLOGY := $(PY) scripts/topology.py

.PHONY: run worker listen shell test browser test-faults test-cluster test-sentinel bench stop lint format superuser install clean bench-cache

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

$(BENCH_STAMP): requirements.txt requirements-dev.txt requirements-bench.txt
	test -x $(BENCH_PY) || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install --quiet --upgrade pip
	$(BENCH_PY) -m pip install --quiet -r requirements-bench.txt
	touch $(BENCH_STAMP)

install: $(STAMP)

# The app and a worker (background jobs, the periodic flush); one Ctrl-C stops both (the
# shell ignores SIGINT for its background jobs, so its trap passes SIGTERM on, once).
run: $(STAMP)
	DJANGO_DEBUG=1 $(PY) manage.py migrate --noinput
	DJANGO_DEBUG=1 $(PY) manage.py demo_admin
	@DJANGO_DEBUG=1 $(PY) manage.py worker & worker=$$!; \
	  DJANGO_DEBUG=1 $(PY) manage.py runserver $(HOST) & server=$$!; \
	  trap 'kill -TERM $$server $$worker 2>/dev/null' INT TERM; \
	  wait $$server; kill -TERM $$worker 2>/dev/null; wait $$worker

worker: $(STAMP)
	DJANGO_DEBUG=1 $(PY) manage.py worker

# The event listener (pub/sub; `manage.py listen_events --stream --topic users` reads the
# stream) and a Django shell, on the same Redis and database as `make run`.
listen: $(STAMP)
	DJANGO_DEBUG=1 $(PY) manage.py listen_events

shell: $(STAMP)
	DJANGO_DEBUG=1 $(PY) manage.py shell

test: $(STAMP) browser
	$(PY) -m pytest $(PYTEST_ARGS)

# Debian's Chromium and ChromeDriver for the browser tests, installed once (the tests never
# download a browser); where apt cannot run (no root), the browser tests skip and say why.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && export DEBIAN_FRONTEND=noninteractive && \
	  { apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && apt-get install -y -q chromium chromium-driver >/dev/null; }; }; \
	} || echo "browser: chromium and chromium-driver are not installed and cannot be here"

# Redis faults under load (docs/faults.md): its own redis-server, a PostgreSQL database of its
# own next to DATABASE_URL's (default postgres://postgres@127.0.0.1:5432/test), gunicorn -w 4.
# Not part of `make test`: pytest collects the module only when it is named.
test-faults: $(STAMP)
	$(PY) -m pytest -s tests/faults/faults_under_load.py $(PYTEST_ARGS)

# The same suite on a local 3-primary Redis Cluster / a primary + replica + sentinel,
# started here and always stopped, pass or fail.
test-cluster: $(STAMP) browser
	@url=$$($(TOPOLOGY) cluster start) || exit 1; \
	  REDIS_URL=$$url $(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	  $(TOPOLOGY) cluster stop; exit $$status

test-sentinel: $(STAMP) browser
	@url=$$($(TOPOLOGY) sentinel start) || exit 1; \
	  REDIS_URL=$$url $(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	  $(TOPOLOGY) sentinel stop; exit $$status

stop:
	@if test -x $(PY); then $(PY) -m project.redis.local stop; \
	  LOCAL_REDIS_DIR=$(CURDIR)/var/redis-test $(PY) -m project.redis.local stop; \
	  LOCAL_REDIS_DIR=$(CURDIR)/var/redis-bench $(PY) -m project.redis.local stop; fi

# Every scenario, one report: bench/REPORT.md, bench/results.json, bench/charts/.
# wrk (the HTTP load generator) comes from the system's packages when it is missing.
bench: $(BENCH_STAMP)
	@command -v wrk >/dev/null || { command -v apt-get >/dev/null && \
	  (apt-get install -y -q wrk >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q wrk >/dev/null 2>&1)); } || \
	  echo "wrk unavailable: the HTTP scenario will be skipped"
	$(BENCH_PY) bench/report.py $(BENCH_ARGS)
	$(BENCH_REDIS) $(BENCH_PY) -m project.redis.local stop

# Cached reads on SQLite, and on PostgreSQL when one listens on 127.0.0.1:5432.
bench-cache: $(BENCH_STAMP)
	$(BENCH_PY) bench/cache_reads.py --db sqlite
	@if $(BENCH_PY) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 2).close()" 2>/dev/null; \
	  then $(BENCH_PY) bench/cache_reads.py --db postgres; else echo "PostgreSQL: skipped (nothing on 5432)"; fi
	$(BENCH_REDIS) $(BENCH_PY) -m project.redis.local stop

# One scenario on its own: bench-sessions, bench-throttle, bench-events, bench-structures,
# bench-topologies, bench-growth, bench-floor (bench/<name>.py; docs/ quote their output).
bench-%: $(BENCH_STAMP)
	$(BENCH_PY) bench/$*.py
	$(BENCH_REDIS) $(BENCH_PY) -m project.redis.local stop

# mypy's django-stubs plugin imports project.settings and runs django.setup() to learn the
# models, so the settings must load: they refuse to without DJANGO_SECRET_KEY (DEBUG off),
# and without REDIS_URL they find or start the project's redis-server. Both are set for
# mypy alone, so `make lint` needs no environment and starts nothing: settings only parse
# the URL (.invalid never resolves; nothing connects). .pre-commit-config.yaml does the same.
MYPY_ENV := DJANGO_SECRET_KEY=mypy-only REDIS_URL=redis://mypy.invalid:6379/0

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MYPY_ENV) $(VENV)/bin/mypy .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

superuser: $(STAMP)
	DJANGO_DEBUG=1 $(PY) manage.py createsuperuser

clean: stop
	rm -rf $(VENV) $(BENCH_VENV) .venv-py312 var .pytest_cache .ruff_cache .mypy_cache
