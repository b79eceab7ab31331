# The two commands a newcomer needs: `make report` and `make test`.
# Each sets up .venv from pyproject.toml first (once; again when pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: report test sample clean chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[report]"
	touch $(STAMP)

# The test tools (pytest, playwright, pyspark for the engine tests, ...) only for `make test`.
$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(TEST_STAMP)

report: $(STAMP)  ## the HTML report of the sample data, in reports/
	$(BIN)/senderscore report data/sample_enrollments.csv --output-dir reports

# The browser tests drive Debian's chromium (never a downloaded browser) and read printed
# reports with poppler's pdftotext.
chromium:
	@{ command -v chromium && command -v pdftotext; } >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium poppler-utils; }

test: $(TEST_STAMP) chromium  ## lint, then the whole test suite
	$(BIN)/ruff check .
	$(BIN)/pytest

sample: $(STAMP)  ## regenerate the checked-in sample (seeded: the same bytes every time)
	$(BIN)/senderscore sample --rows 8024 --seed 42 --output data/sample_enrollments.csv --force

clean:
	rm -rf $(VENV) reports .pytest_cache test-output
