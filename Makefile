# Spiking Networks, Trained -- build and test.
#
#   make book     set up (virtual env, pinned packages, data), then build _build/html
#   make test     the same set-up, then lint, unit tests, notebooks, book build, browser test
#   make timings  execute every notebook once, one at a time, and print its run time
#
# Both are idempotent: a second run reuses the environment and the data.

# Python 3.11, 3.12 or 3.13; e.g. make setup PYTHON=python3.12 (in a fresh checkout or
# after rm -rf .venv: an existing .venv keeps the Python it was made with).
PYTHON    ?= python3
VENV      := .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.installed
EXEC_DIR  := .book-exec
HTML      := _build/html
NB_BUDGET := 180
# The torch version pinned in the lock; scripts/install-torch.sh picks its build.
TORCH_VERSION := $(shell sed -n 's/^torch==\([^ ;]*\).*/\1/p' requirements.lock)
# Notebooks run one at a time by default so that each one's time is its own;
# NB_WORKERS=2 runs two at once (at most 2 on the book's 2-core machines).
NB_WORKERS ?= 1
XDIST     := $(if $(filter-out 1,$(NB_WORKERS)),-n $(NB_WORKERS),)

# On a busy 2-core machine, OpenMP threads that spin while they wait make
# PyTorch many times slower; letting them sleep changes no result.
export OMP_WAIT_POLICY ?= PASSIVE
# A test that skips fails the run instead (tests/conftest.py): `make test` and CI
# never pass with a check left out (no browser, no data, a missing package).
export SNNBOOK_NO_SKIP ?= 1

.PHONY: setup check-python data book test lint unit notebooks html browser timings lock clean

setup: check-python $(STAMP) data

$(STAMP): requirements.lock pyproject.toml scripts/system-deps.sh scripts/install-torch.sh
	@PYTHON=$(PYTHON) bash scripts/system-deps.sh $(if $(filter test,$(MAKECMDGOALS)),test,book)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet pip==26.3
	@# torch first, alone: the build that fits this machine (CPU unless an NVIDIA GPU is there)
	bash scripts/install-torch.sh $(PY) $(TORCH_VERSION)
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# An existing .venv made with another Python than the PYTHON asked for is not
# silently reused: say so, and how to switch.
check-python:
	@if [ -x $(PY) ] && [ "$(origin PYTHON)" != default ] && [ "$(origin PYTHON)" != file ]; then \
	  want=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); \
	  have=$$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	  if [ -n "$$want" ] && [ "$$want" != "$$have" ]; then \
	    echo "$(VENV) was made with Python $$have, not $$want ($(PYTHON)): run  rm -rf $(VENV)  first to switch" >&2; \
	    exit 1; fi; fi

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

# Re-resolve requirements.in into requirements.lock (needs the network). Resolve with
# the oldest supported Python (3.11) and a CPU build of torch; then check that the
# lock installs on 3.12 and 3.13 too (README, "Changing the pinned packages").
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	bash scripts/install-torch.sh .lock-venv/bin/python $$(sed -n 's/^torch==//p' requirements.in)
	.lock-venv/bin/pip install --quiet -r requirements.in setuptools
	( echo "# Exact versions of every Python package the book installs, for Python 3.11-3.13"; \
	  echo "# on Linux and macOS, with the CPU build of torch (the CUDA build adds its own"; \
	  echo "# NVIDIA packages, pinned by torch). Regenerate with \`make lock\` after changing"; \
	  echo "# requirements.in."; \
	  .lock-venv/bin/pip freeze --all --exclude-editable | grep -v -E '^(pip|wheel)==' \
	    | sed -e 's/^\(torch==[^+]*\)+cpu/\1/' \
	          -e 's/^\(setuptools==.*\)/\1 ; python_version >= "3.12"/' ) > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf _build $(EXEC_DIR)
