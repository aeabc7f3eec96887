# Spiking Networks, Trained -- build and test.
#
#   make book     set up (virtual env, pinned packages, data), then build _build/html
#   make test     the same set-up, then lint, unit tests, notebooks, book build, browser test
#   make timings  execute every notebook once, one at a time, and print its run time
#
# Both are idempotent: a second run reuses the environment and the data.

PYTHON    ?= python3
VENV      := .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.installed
EXEC_DIR  := .book-exec
HTML      := _build/html
NB_BUDGET := 180
# Notebooks run one at a time by default so that each one's time is its own;
# NB_WORKERS=2 runs two at once (at most 2 on the book's 2-core machines).
NB_WORKERS ?= 1
XDIST     := $(if $(filter-out 1,$(NB_WORKERS)),-n $(NB_WORKERS),)

# On a busy 2-core machine, OpenMP threads that spin while they wait make
# PyTorch many times slower; letting them sleep changes no result.
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: setup data book test lint unit notebooks html browser timings lock clean

setup: $(STAMP) data

$(STAMP): requirements.lock pyproject.toml scripts/system-deps.sh
	@PYTHON=$(PYTHON) bash scripts/system-deps.sh $(if $(filter test,$(MAKECMDGOALS)),test,book)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet pip==26.3
	@# torch first and explicitly: the CPU build, never a large CUDA build pulled in by a dependency
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

data: $(STAMP)
	$(PY) -m snnbook.data

book: setup
	$(VENV)/bin/jupyter-book build . -W --keep-going

test: setup
	@PYTHON=$(PYTHON) bash scripts/system-deps.sh test
	$(MAKE) --no-print-directory lint unit notebooks html browser

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check lib tests scripts

unit: $(STAMP)
	$(VENV)/bin/pytest -m "not html" -q

# Execute each notebook once (nbmake, on a copy whose _config.yml turns
# execution off), then render the executed copies into _build/html.
notebooks: $(STAMP)
	rm -rf $(EXEC_DIR) && mkdir -p $(EXEC_DIR) _build
	cp -r _config.yml _toc.yml _ext references.bib *.md chapters $(EXEC_DIR)/
	@# the copies get executed here, once; the book build must only render them
	sed -i 's/^  execute_notebooks: auto$$/  execute_notebooks: "off"/' $(EXEC_DIR)/_config.yml
	grep -q '^  execute_notebooks: "off"$$' $(EXEC_DIR)/_config.yml
	$(VENV)/bin/pytest -p no:cacheprovider --nbmake --overwrite $(XDIST) \
	    --nbmake-timeout=$(NB_BUDGET) --durations=0 --junitxml=_build/notebooks.xml \
	    $(EXEC_DIR)/chapters
	$(PY) scripts/notebook_times.py _build/notebooks.xml --budget $(NB_BUDGET) --report-only

html: $(STAMP)
	rm -rf $(HTML)
	$(VENV)/bin/jupyter-book build $(EXEC_DIR) --path-output . -W --keep-going

browser: $(STAMP)
	$(VENV)/bin/pytest -m html -q

timings: setup
	rm -rf $(EXEC_DIR) && mkdir -p $(EXEC_DIR) _build
	cp -r _config.yml _toc.yml _ext references.bib *.md chapters $(EXEC_DIR)/
	$(VENV)/bin/pytest -p no:cacheprovider --nbmake -q --nbmake-timeout=$(NB_BUDGET) \
	    --junitxml=_build/timings.xml $(EXEC_DIR)/chapters || true
	$(PY) scripts/notebook_times.py _build/timings.xml --budget $(NB_BUDGET)

# Re-resolve requirements.in into requirements.lock (needs the network).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet torch==2.13.0 && .lock-venv/bin/pip install --quiet -r requirements.in
	( echo "# Exact versions of every Python package the book installs (Python 3.11, Linux)."; \
	  echo "# Regenerate with \`make lock\` after changing requirements.in."; \
	  .lock-venv/bin/pip freeze --exclude-editable | grep -v -E '^(pip|setuptools|wheel)==' \
	    | sed 's/^torch==2.13.0+cpu/torch==2.13.0/' ) > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf _build $(EXEC_DIR)
