# One entry point: `make test`, `make demo` and `make demo-real` set up .venv on first use,
# then run.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.mtlunder-installed
TORCH_VERSION := 2.13.0
MMCV_VERSION  := 2.1.0

.PHONY: test test-slow demo demo-real demo-voc-nyud setup clean-venv

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

# VOC detection + VOC segmentation + NYUD-v2 depth, partially annotated (docs/voc_nyud.md):
# build the demo data from ../shared/data, train the three single-task baselines, record
# them, train AMTL on the mixture (potentials and delta_m from the record), print the table
# and draw AMTL's task weights
VND_WORK := work_dirs/voc_nyud_demo
VND_CFG  := configs/voc_nyud
demo-voc-nyud: $(STAMP)
	test -f data/voc_nyud_demo/README.md || \
	  $(PY) data_tools/build_voc_nyud_demo.py ../shared/data data/voc_nyud_demo
	for t in det seg depth; do \
	  $(PY) tools/train.py $(VND_CFG)/single-$${t}_squad-retinanet_r18_demo_voc-nyud.py \
	    --work-dir $(VND_WORK)/single-$$t || exit 1; done
	$(PY) tools/analysis/record_single_task.py $(VND_WORK)/single-det $(VND_WORK)/single-seg \
	  $(VND_WORK)/single-depth --out $(VND_WORK)/single_task_results.json
	$(PY) tools/train.py $(VND_CFG)/amtl_squad-retinanet_r18_demo_voc-nyud.py \
	  --work-dir $(VND_WORK)/amtl
	$(PY) tools/analysis/compare_single_task.py $(VND_WORK)/amtl \
	  --single-task $(VND_WORK)/single_task_results.json
	$(PY) tools/analysis/plot_task_weights.py $(VND_WORK)/amtl

clean-venv:
	rm -rf $(VENV)
