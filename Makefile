# Two commands on a fresh machine: `make reproduce` (all notebooks, paper profile) and `make test`.
# Both create the virtual environment first when it is missing or older than requirements.txt.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PROFILE ?= paper
RESULTS ?= results
NB_TIMEOUT ?= 36000
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.py))
NAMES := $(notdir $(NOTEBOOKS:.py=))
TEST_RESULTS := $(abspath build/test-results)
# Paper images: upstream by default; a local mirror folder beside the checkout is used when present.
ifneq ($(wildcard ../shared/data/SHA256SUMS),)
export DEPTHREP_MIRROR ?= $(abspath ../shared/data)
endif

.PHONY: setup data reproduce test unit nbval bench sync lab clean $(addprefix reproduce-,$(NAMES))

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

setup: $(VENV)/.installed

data: setup
	$(PY) -c "import depthrep_utils as du; [print(du.fetch_image(n)) for n in du.PAPER_IMAGES]"

# One rule per notebook so `make -j2 reproduce` runs them in parallel. A failing notebook is logged
# (results/runs.json) and the others still run; `reproduce` then fails naming it.
$(addprefix reproduce-,$(NAMES)): reproduce-%: setup
	$(PY) scripts/run_notebook.py notebooks/$*.py --profile $(PROFILE) --results $(RESULTS) --timeout $(NB_TIMEOUT)

reproduce: $(addprefix reproduce-,$(NAMES))
	$(PY) scripts/run_notebook.py --report --results $(RESULTS) $(NAMES)

unit: setup
	$(PY) -m pytest tests

nbval: setup
	rm -rf $(TEST_RESULTS)
	DEPTHREP_RESULTS=$(TEST_RESULTS) DEPTHREP_HEADLESS=1 MPLBACKEND=Agg $(PY) -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider notebooks

test: unit nbval

# Seconds per inversion step: the paper's naive loop vs this project's path vs the FLOP floor, on the
# current device (GPU if there is one) -> results/bench.json; about 7 min on 2 CPU cores. BENCH_ARGS
# passes options, e.g. BENCH_ARGS="--sizes 128 --no-iterations"; see scripts/bench.py --help.
bench: setup
	DEPTHREP_RESULTS=$(abspath $(RESULTS)) $(PY) scripts/bench.py $(BENCH_ARGS)

sync: setup
	$(VENV)/bin/jupytext --sync $(NOTEBOOKS)

lab: setup
	$(PY) -m pip install --quiet jupyterlab==4.6.6 && $(VENV)/bin/jupyter lab notebooks

clean:
	rm -rf results build .pytest_cache
