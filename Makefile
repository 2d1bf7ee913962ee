# The +DIG evaluation book. `make book` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
JB := $(VENV)/bin/jupyter-book
STAMP := $(VENV)/.installed
JBFLAGS := -n -W --keep-going

.PHONY: help book pdf test validate clean

help:
	@echo "make book      build the HTML book (_build/html/index.html)"
	@echo "make test      unit tests, data tests, nbval over book/"
	@echo "make pdf       build the PDF (_build/latex/plusdig-evaluering.pdf)"
	@echo "make validate  load and validate every file in data/"
	@echo "make clean     remove build output and caches"

# The virtual environment: created if missing, reinstalled when the pins change.
$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

validate: $(STAMP)
	$(PY) -m plusdig validate

book: $(STAMP) validate
	$(JB) build . $(JBFLAGS)
	@echo "Bogen er bygget: åbn $(CURDIR)/_build/html/index.html"

pdf: $(STAMP) validate
	$(JB) build . $(JBFLAGS) --builder pdflatex
	@echo "PDF: $(CURDIR)/_build/latex/plusdig-evaluering.pdf"

test: $(STAMP)
	$(PY) -m pytest --nbval-lax tests book

clean:
	rm -rf _build .pytest_cache
