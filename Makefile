# clearance: the two commands of the README, plus the benchmark.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SAMPLE := examples/peer-generated-sacramento-20k.dat.gz
AS_OF  ?= 2026-11-21

.PHONY: demo test lint bench bench-large bench-scale bench-scale-large bench-web clean

# System packages: Chromium for the browser tests, poppler-utils to render PDF pages,
# LibreOffice (headless Writer) to render the filings' DOCX for the tests, DejaVu fonts (the
# faces the DOCX names), Tesseract to read scanned RAP sheets (OCR), strace to see a run flush
# its files before the swap.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SYSTEM_PACKAGES := chromium poppler-utils time libreoffice-writer-nogui fonts-dejavu-core tesseract-ocr strace

.PHONY: system
system:
	@command -v chromium >/dev/null && command -v pdftoppm >/dev/null && test -x /usr/bin/time \
	  && command -v soffice >/dev/null && test -f /usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf \
	  && command -v tesseract >/dev/null && command -v strace >/dev/null || \
	  ( $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(SYSTEM_PACKAGES) )

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/clearance run $(SAMPLE) --county sacramento --policy examples/demo-policy.yaml \
	  --as-of $(AS_OF) --out demo-output --filings
	$(BIN)/clearance synth --age demo-output --from $(SAMPLE) --out demo-later/newer.dat.gz \
	  --unchanged 0.2 --contradicting 0.03 --gone 0.02 --seed 1
	$(BIN)/clearance reconcile demo-later/newer.dat.gz --run demo-output --as-of 2027-03-01 \
	  --order-date 2026-12-15 --quiet
	$(BIN)/clearance letters --run demo-output --reconciled demo-output/reconcile \
	  --order-date 2026-12-15 --date 2027-03-01
	$(BIN)/clearance verify demo-output
	@echo "Outputs: demo-output/ (convictions.csv, results.csv, people.csv, summary.json, quarantine.csv)"
	@echo "Filings: demo-output/filings/ (motions, orders and notices with public Exhibit A and sealed Exhibit B, challenge notice, review lists, court update file, report.html, review.xlsx; see manifest.json)"
	@echo "After the orders: demo-later/newer.dat.gz (the sample aged: 20% of the relief left undone), demo-output/reconcile/ (reconcile.csv, pending.csv, reconcile.html and .pdf), demo-output/letters/ (one PDF per person, letters.csv)"
	@echo "One person: $(BIN)/clearance explain 10000001 --run demo-output"

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# The store tests also run on the local PostgreSQL (127.0.0.1:5432, database test); start it if
# this machine has one that is stopped.
test: lint
	@[ -d /etc/postgresql ] && pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -1) main start >/dev/null 2>&1 || true
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/run.py --sizes 100000,1000000

bench-large: $(STAMP)
	$(BIN)/python bench/run.py --sizes 10000000

# Spark local[2] against the local engine (1M rows); statewide (10M) and out of core (20M).
bench-scale: $(STAMP)
	$(BIN)/python bench/scale.py --spark 1000000

bench-scale-large: $(STAMP)
	$(BIN)/python bench/scale.py --statewide 10000000 --outofcore 10000000,20000000

# The workspace under load: 20 clients browsing while a run and a filings build execute on a
# 1M-row file (real server process); p50/p95/max per route into bench/RESULTS.md.
bench-web: $(STAMP)
	$(BIN)/python bench/web.py --rows 1000000 --clients 20

clean:
	rm -rf $(VENV) demo-output demo-later bench/cache bench/out
