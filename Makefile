# One command each: `make demo` runs the main job on generated demo data, `make test` runs the
# tests. Both create the virtual environment and install what they need on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install system-deps demo lint test bench clean

# Debian packages the briefing (fonts, PDF → PNG), the dashboard tests (Chromium) and the Spark
# engine (a Java runtime) need; installed only when missing, and only where apt-get can run (root).
SYSTEM_BINARIES := /usr/bin/chromium /usr/bin/pdftoppm /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
system-deps:
	@missing=0; for f in $(SYSTEM_BINARIES); do [ -e $$f ] || missing=1; done; \
	if [ $$missing = 1 ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      chromium poppler-utils fonts-noto-cjk fonts-dejavu-core libpango-1.0-0 \
	      libpangoft2-1.0-0 >/dev/null; \
	  else echo "install as root: apt-get install chromium poppler-utils fonts-noto-cjk" >&2; fi; \
	fi
	@# Java for the Spark engine (PySpark 4 runs on Java 17 or 21): only when none is on PATH;
	@# man1 must exist for the JRE's postinst on slim images
	@if ! command -v java >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    mkdir -p /usr/share/man/man1 && apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	  else echo "install as root: apt-get install openjdk-17-jre-headless" >&2; fi; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP) system-deps
	$(VENV)/bin/hybridwatch demo --out demo-output --db demo-output/hybridwatch.duckdb

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks scripts

test: $(STAMP) system-deps lint
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/bench_ingest_gdelt.py

clean:
	rm -rf $(VENV) demo-output .pytest_cache
