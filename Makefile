# Everything runs from a virtualenv that this Makefile creates: a fresh clone
# needs only Python (3.10 or newer) and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check bench clean

## run: generate overlays/ from specs/
run: $(STAMP)
	$(BIN)/katib-gitops generate --specs specs --out overlays

## test: the whole test suite
test: $(STAMP)
	$(BIN)/python -m pytest

## check: fail if overlays/ is not up to date with specs/
check: $(STAMP)
	$(BIN)/katib-gitops generate --check --specs specs --out overlays

## bench: the benchmark suite, full size (see docs/performance.md)
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run --size full

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) build dist *.egg-info
