# The +DIG evaluation book. `make book` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
STAMP ?= $(VENV)/.installed
PY := $(VENV)/bin/python
# jupyter-book, run through plusdig.sphinx.build (skips a slow optional import; same arguments).
# The build itself re-executes changed notebooks in parallel: plusdig.sphinx.build in _config.yml.
JB := $(PY) -m plusdig.sphinx.build jb
JBFLAGS := -n -W --keep-going

.PHONY: help book pdf test validate clean vendor system-deps zip

help:
	@echo "make book      build the HTML book (_build/html/index.html)"
	@echo "make test      unit tests, data tests, nbval over book/"
	@echo "make pdf       build the tagged PDF (_build/pdf/plusdig-evaluering.pdf)"
	@echo "make zip       the built site as one file (_build/plusdig-evaluering-<udgave>.zip; EDITION=2027.1)"
	@echo "make validate  load and validate every file in data/"
	@echo "make clean     remove build output and caches"
	@echo "make bench     benchmark builds and scale on a temporary copy (BENCHFLAGS=\"--runs 5\")"
	@echo "make lab       JupyterLab with the book's kernel (the .venv's Python and plusdig)"
	@echo "make preview [PORT=8000]  build, serve on 127.0.0.1, rebuild and reload on every save"
	@echo "make chapter NAME=\"Titel\" [PART=report|annex] [SLUG=...] [AFTER=kapitel]  new chapter"
	@echo "make run NB=book/report/x.ipynb  execute one notebook as the build does, save it stripped"
	@echo "make check     fast checks: validation, fidelity, notebook form, nbval on changed notebooks"
	@echo "make fresh-check  README's set-up and .ci/run on a bare Debian 12 (root, ~30 min)"
	@echo "make release EDITION=2027.1  publish an edition (CONTRIBUTING.md: Udgiv en rettet udgave)"

# The virtual environment, checked before every target that uses it (scripts/ensure-venv.sh):
# created if missing, recreated (saying why) when broken or foreign (no pip, another Python,
# made for another checkout), reinstalled when the pins change.
.PHONY: venv
venv:
	@PYTHON="$(PYTHON)" VENV="$(VENV)" STAMP="$(STAMP)" bash scripts/ensure-venv.sh

# Front-end files the HTML site serves itself (no CDN): pinned in package-lock.json,
# installed with `npm ci`, copied into book/_vendor/ (html_static_path -> _build/html/_static/).
# axe-core (accessibility scan) stays in node_modules/: the browser tests inject it.
VENDOR := book/_vendor
NPM_STAMP := node_modules/.package-lock.json
VENDOR_STAMP := node_modules/.vendored

$(NPM_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm mangler: installér Node.js og npm (Debian/Ubuntu: apt-get install nodejs npm)" >&2; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund
	touch $(NPM_STAMP)

$(VENDOR_STAMP): $(NPM_STAMP)
	rm -rf $(VENDOR)
	mkdir -p $(VENDOR)/requirejs $(VENDOR)/html-manager
	cp node_modules/requirejs/require.js $(VENDOR)/requirejs/
	cp node_modules/@jupyter-widgets/html-manager/dist/embed-amd.js \
	   node_modules/@jupyter-widgets/html-manager/dist/*.{woff,woff2,ttf,eot,svg} $(VENDOR)/html-manager/
	mkdir -p $(VENDOR)/mathjax
	cp -r node_modules/mathjax/es5/{tex-chtml.js,a11y,adaptors,input,output,sre,ui} $(VENDOR)/mathjax/
	touch $(VENDOR_STAMP)

vendor: $(VENDOR_STAMP)

validate: venv
	$(PY) -m plusdig validate

# `make validate`'s validation and the build in one process (python -m plusdig build: same
# messages; a failing validation stops it before anything is built).
book: venv vendor
	$(PY) -m plusdig build . $(JBFLAGS)
	touch _build/html/.plusdig-built
	@echo "Bogen er bygget: åbn $(CURDIR)/_build/html/index.html"

# The site as one file that works from disk (file://, no server): plusdig.publish.sitezip.
zip: book
	$(PY) -m plusdig.publish.sitezip --html _build/html --out _build $(if $(EDITION),--edition "$(EDITION)")

# Debian packages for the PDF (WeasyPrint's Pango, fonts) and the browser tests, installed if missing (scripts/system-deps.sh).
system-deps:
	bash scripts/system-deps.sh

# The PDF (tagged PDF/UA-1): Sphinx's singlehtml build (same doctrees as the site, widgets as
# their PNG fallback) printed by WeasyPrint with a print stylesheet (plusdig.publish.pdf, docs/pdf.md).
pdf: venv system-deps validate vendor
	$(JB) build . $(JBFLAGS) --builder singlehtml
	$(PY) -m plusdig.publish.pdf --html _build/singlehtml --out _build/pdf/plusdig-evaluering.pdf
	touch _build/pdf/.plusdig-built
	if [ -d _build/html ]; then cp _build/pdf/plusdig-evaluering.pdf _build/html/ && \
	  $(PY) -m plusdig.sphinx.pdfstatus --site _build/html; fi
	@echo "PDF: $(CURDIR)/_build/pdf/plusdig-evaluering.pdf"

# Tests of the published book build it first if it is missing or stale (tests/conftest.py).
# In parallel processes, one per core (pytest-xdist); a file's tests stay in one process, in
# order (nbval's cells of a notebook, a module's shared build). TESTFLAGS= runs them in one.
TESTFLAGS ?= -n auto --dist loadfile
test: venv system-deps vendor
	$(PY) -m pytest $(TESTFLAGS) --nbval-lax tests book

clean:
	rm -rf _build .pytest_cache

# Build benchmark (scripts/bench.py): clean/no-change/edit/data-change rebuilds, PDF, make test,
# survey and annex scale; runs on a temporary copy, prints a table, writes _build/bench.json.
.PHONY: bench
BENCHFLAGS ?=
bench: venv vendor
	$(PY) scripts/bench.py $(BENCHFLAGS)

# Authoring (CONTRIBUTING.md). `lab` runs the venv's JupyterLab from the repository root; its
# python3 kernel is the venv's Python (the one the build executes notebooks with), and
# JUPYTER_PREFER_ENV_PATH makes the venv's kernels win over any user-level ones.
.PHONY: lab chapter
PART ?= report
lab: venv
	JUPYTER_PREFER_ENV_PATH=1 $(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)" \
	  $(if $(filter 0,$(shell id -u)),--allow-root)

# Live preview (CONTRIBUTING.md): the book built as `make book` does, served on
# 127.0.0.1:$(PORT), rebuilt when book/, data/, lib/, the configuration or $$PLUSDIG_SURVEY
# changes; the open page reloads itself; Ctrl-C stops it (plusdig.authoring.preview).
.PHONY: preview
PORT ?= 8000
preview: venv validate vendor
	$(PY) -m plusdig.authoring.preview --port "$(PORT)"

# One notebook executed as the build does and saved stripped: make run NB=book/report/x.ipynb
.PHONY: run check
run: venv
	@test -n "$(NB)" || { echo 'Angiv en notebook: make run NB=book/report/aktiviteterne.ipynb'; exit 2; }
	$(PY) -m plusdig.authoring.chapter run "$(NB)"

# The fast checks, before a commit: data validation, fidelity to the source, committed
# notebooks' form, and nbval on the notebooks changed since main (BASE=...).
BASE ?= main
check: venv
	$(PY) -m plusdig validate
	$(PY) -m pytest -q -p no:cacheprovider tests/test_fidelity.py tests/test_coding.py \
	  tests/test_notebooks_committed.py
	@changed=$$( { git diff --name-only $(BASE) -- 'book/*.ipynb' 'book/**/*.ipynb'; \
	  git ls-files --others --exclude-standard -- 'book/*.ipynb' 'book/**/*.ipynb'; } | sort -u | \
	  while read -r f; do [ -f "$$f" ] && echo "$$f"; done); \
	if [ -n "$$changed" ]; then echo "nbval: $$changed"; \
	  $(PY) -m pytest -q -p no:cacheprovider --nbval-lax $$changed; \
	else echo "nbval: ingen notebooks ændret siden $(BASE)"; fi

chapter: venv
	@test -n "$(NAME)" || { echo 'Angiv en titel: make chapter NAME="Kapitlets titel" [PART=annex] [AFTER=kapitel] [SLUG=filnavn]'; exit 2; }
	$(PY) -m plusdig.authoring.chapter new --title "$(NAME)" --part "$(PART)" $(if $(SLUG),--slug "$(SLUG)") $(if $(AFTER),--after "$(AFTER)")

# The README's set-up on a bare Debian 12 (debootstrap), and .ci/run on another: root, about
# half an hour, not part of `make test`; run before each release (docs/fresh-machine.md).
.PHONY: fresh-check
fresh-check:
	bash scripts/fresh-machine.sh $(FRESHFLAGS)

# An edition (CONTRIBUTING.md): checks the tree is clean, records the edition, builds the site
# and the PDF, tags the built commit, stores editions/<edition>.json (plusdig.publish.editions).
.PHONY: release
release: venv
	@test -n "$(EDITION)" || { echo 'Angiv udgaven som år.nummer: make release EDITION=2027.1' >&2; exit 2; }
	$(PY) -m plusdig.publish.editions release "$(EDITION)" --build "make book pdf zip"
