# The two commands a newcomer needs: `make report` and `make test`.
# Each sets up .venv from pyproject.toml first (once; again when pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: report test lint sample clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

report: $(STAMP)  ## score the sample data
	$(BIN)/senderscore score data/sample_enrollments.csv --by user

test: $(STAMP)  ## lint, then the whole test suite
	$(BIN)/ruff check .
	$(BIN)/pytest

sample: $(STAMP)  ## regenerate the checked-in sample (seeded: the same bytes every time)
	$(BIN)/senderscore sample --rows 8000 --seed 42 --output data/sample_enrollments.csv

clean:
	rm -rf $(VENV) reports .pytest_cache
