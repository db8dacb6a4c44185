# One entry point: `make test`, `make demo` and `make demo-real` set up .venv on first use,
# then run.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.mtlunder-installed
TORCH_VERSION := 2.13.0
MMCV_VERSION  := 2.1.0

.PHONY: test test-slow demo demo-real setup clean-venv

setup: $(STAMP)

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow tests

# Every step is in the stamp's recipe; the stamp depends on the requirement files so an
# edit re-runs pip (which skips what is already satisfied).
$(STAMP): setup.py requirements/build.txt requirements/runtime.txt requirements/tests.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install "torch==$(TORCH_VERSION)"
	$(PIP) install -r requirements/build.txt
	$(PY) -c "import mmcv.ops" 2>/dev/null || \
	  MMCV_WITH_OPS=1 MAX_JOBS=$$(nproc) $(PIP) install --no-build-isolation "mmcv==$(MMCV_VERSION)"
	$(PY) -c "import mmcv.ops; print('mmcv', mmcv.__version__, 'with compiled ops')"
	$(PIP) install -r requirements/runtime.txt -r requirements/tests.txt
	$(PIP) install --no-build-isolation --no-deps -e .
	$(PY) -c "import mmcv.ops, mmdet.models, mmseg.models, mtlunder; print('stack ok')"
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q -m "not slow" tests

demo: $(STAMP)
	$(PY) tools/run_demo.py

# real data: the mixed benchmark of ../shared/data (RUIE-UTTS + LSUI + EUVP)
demo-real: $(STAMP)
	$(PY) tools/run_demo.py --real

clean-venv:
	rm -rf $(VENV)
