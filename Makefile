# Everything runs from a virtualenv that this Makefile creates: a fresh clone
# needs only Python (3.10 or newer) and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint bench docs clean

## run: generate overlays/ from specs/
run: $(STAMP)
	$(BIN)/katib-gitops generate --specs specs --out overlays

## test: the whole test suite
test: $(STAMP)
	$(BIN)/python -m pytest

## check: fail if overlays/ is not up to date with specs/
check: $(STAMP)
	$(BIN)/katib-gitops generate --check --specs specs --out overlays

## lint: ruff (rules and format) and mypy --strict, as CI runs them
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy generator

## docs: regenerate docs/rules.md and the rule table of docs/spec.md from the rule registry
docs: $(STAMP)
	$(BIN)/python -m katib_gitops.cli.catalog docs

## bench: the benchmark suite, full size (see docs/performance.md)
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run --size full

# The package's import name is katib_gitops, its folder generator/. mypy names modules
# after their folders, so the virtualenv gets a link katib_gitops -> generator on its
# path: `mypy generator` then resolves every `import katib_gitops...` to these files.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	mkdir -p $(VENV)/typecheck
	ln -sfn $(CURDIR)/generator $(VENV)/typecheck/katib_gitops
	$(BIN)/python -c 'import site, sys; open(site.getsitepackages()[0] + "/katib-gitops-typecheck.pth", "w").write(sys.argv[1] + "\n")' "$(abspath $(VENV))/typecheck"
	touch $(STAMP)

clean:
	rm -rf $(VENV) build dist *.egg-info
