# Two commands on a fresh machine: `make reproduce` (all notebooks, the profile that fits this machine:
# paper on a GPU, else cpu, sized for 2 cores and an hour; PROFILE=quick|cpu|paper asks for one) and `make test`.
# Both create the virtual environment first when it is missing or older than requirements.txt or
# pyproject.toml, and install this project into it (editable), so `import depthrep_utils` works anywhere.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PROFILE ?= auto
RESULTS ?= results
NB_TIMEOUT ?= 36000
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.py))
NAMES := $(notdir $(NOTEBOOKS:.py=))
# The notebook names in a given order of their numbers (e.g. 05 07 02), any not named last: the longest first.
in_order = $(foreach n,$(1),$(filter $(n)_%,$(NAMES))) $(filter-out $(foreach n,$(1),$(n)_%),$(NAMES))
TEST_RESULTS := $(abspath build/test-results)
# Paper images: upstream by default; a local mirror folder beside the checkout is used when present.
ifneq ($(wildcard ../shared/data/SHA256SUMS),)
export DEPTHREP_MIRROR ?= $(abspath ../shared/data)
endif

.PHONY: setup data reproduce reproduce-plan test unit unit-fast nbval test-browser bench bench-peers sync lab wheel clean \
	$(addprefix reproduce-,$(NAMES))
BROWSER_PKGS := playwright==1.65.2 jupyterlab==4.6.6
SUDO := $(if $(filter 0,$(shell id -u)),,sudo )

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	-git config filter.strip-notebook.clean "python3 scripts/strip_notebook.py" 2>/dev/null
	touch $@

setup: $(VENV)/.installed

data: setup
	$(PY) -c "import depthrep_utils as du; [print(du.fetch_image(n)) for n in du.PAPER_IMAGES]"

# First the plan: which profile, why, how long (asks before the paper profile on a CPU). Then one rule
# per notebook, run JOBS at a time (default 2, each kernel with its share of the cores: two one-thread
# kernels invert as fast as one two-thread kernel, docs/SPEED.md, and keep both cores busy through each
# notebook's one-thread parts), longest first (REPRODUCE_ORDER: the cpu profile's minutes per notebook,
# docs/cpu), so neither job is left alone at the end. A failing notebook is logged (results/runs.json) and
# the others still run; `reproduce` then fails naming it. Ctrl-C stops; the same command again resumes
# from the cache. `make reproduce-NAME` runs one notebook.
JOBS ?= 2
REPRODUCE_ORDER := 07 02 01 05 06 04 03
REPRODUCE_NAMES := $(call in_order,$(REPRODUCE_ORDER))
reproduce-plan: setup
	@$(PY) scripts/run_notebook.py --plan --jobs $(JOBS) --profile $(PROFILE) --results $(RESULTS) $(NOTEBOOKS)

$(addprefix reproduce-,$(NAMES)): reproduce-%: $(if $(PLANNED),setup,reproduce-plan)
	@$(PY) scripts/run_notebook.py notebooks/$*.py --profile $(PROFILE) --results $(RESULTS) --timeout $(NB_TIMEOUT)

reproduce: reproduce-plan
	@$(MAKE) --no-print-directory -j$(JOBS) PLANNED=1 $(addprefix reproduce-,$(REPRODUCE_NAMES))
	@$(PY) scripts/run_notebook.py --report --results $(RESULTS) $(NAMES)

unit: setup
	$(PY) -m pytest tests

# The edit loop: the unit tests without those marked slow (notebook runs, trainings, fresh venvs): about a minute.
unit-fast: setup
	$(PY) -m pytest -m "not slow" -q tests

# The notebooks (quick profile) under nbval, NBVAL_JOBS at a time (pytest-xdist, one notebook per worker), each
# kernel with its share of the cores: two one-thread kernels invert as fast as one two-thread kernel (docs/SPEED.md)
# and also keep both cores busy through each notebook's one-thread parts (training, figures, Jacobians). The
# images are fetched once first. The notebooks are handed out longest first (docs/SPEED.md has the minutes per
# notebook), so neither worker is left alone at the end.
NBVAL_JOBS ?= 2
NBVAL_ORDER := 02 01 05 03 06 07 04
NBVAL_NOTEBOOKS := $(addprefix notebooks/,$(addsuffix .ipynb,$(call in_order,$(NBVAL_ORDER))))
NBVAL_THREADS := $(shell n=$$(($$(nproc) / $(NBVAL_JOBS))); echo $$(( n > 0 ? n : 1 )))
nbval: data
	rm -rf $(TEST_RESULTS)
	DEPTHREP_RESULTS=$(TEST_RESULTS) DEPTHREP_HEADLESS=1 MPLBACKEND=Agg OMP_NUM_THREADS=$(NBVAL_THREADS) \
		MKL_NUM_THREADS=$(NBVAL_THREADS) DEPTHREP_THREADS=$(NBVAL_THREADS) \
		$(PY) -m pytest -n $(NBVAL_JOBS) --dist loadfile --no-loadscope-reorder --nbval-lax --nbval-current-env \
		-p no:cacheprovider $(NBVAL_NOTEBOOKS)

test: unit nbval

# The explorer in a real browser: JupyterLab on 127.0.0.1 driven by headless Chromium (Debian's package,
# installed when missing) through the pinned Playwright library; screenshots in build/browser/.
test-browser: setup
	command -v chromium >/dev/null || { $(SUDO)apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO)apt-get install -y -qq chromium >/dev/null; }
	$(PY) -m pip install --quiet $(BROWSER_PKGS)
	DEPTHREP_BROWSER=1 $(PY) -m pytest -p no:cacheprovider -v tests/browser

# Seconds per inversion step: the paper's naive loop vs this project's path vs the FLOP floor, on the
# current device (GPU if there is one) -> results/bench.json; about 7 min on 2 CPU cores. BENCH_ARGS
# passes options, e.g. BENCH_ARGS="--sizes 128 --no-iterations"; see scripts/bench.py --help.
bench: setup
	DEPTHREP_RESULTS=$(abspath $(RESULTS)) $(PY) scripts/bench.py $(BENCH_ARGS)

# The same inversion job with plenoptic (a dependency of the project: notebook 07), torch-lucent and bdpy
# (scripts/bench_peers.py). The latter two live in their own virtual
# environment, which sees .venv through a path file; both install without their dependencies (torch-lucent
# pins kornia<=0.4.1, which would downgrade torch), their runtime needs beside them, all constrained to the
# installed torch, torchvision and numpy, so the project's pins never move.
PEERS := build/peers-venv
PEERS_PKGS := torch-lucent==0.1.8 bdpy==0.26
PEERS_DEPS := kornia==0.9.0 decorator==5.3.1 future==1.0.0 h5py==3.16.0 hdf5storage==0.2.2 pandas==3.1.1 \
	pyyaml==6.0.4 scikit-learn==1.9.1
$(PEERS)/.installed: $(VENV)/.installed
	rm -rf $(PEERS) && $(PYTHON) -m venv $(PEERS)
	$(PY) -c "import site; print(site.getsitepackages()[0])" > \
		$$($(PEERS)/bin/python -c "import site; print(site.getsitepackages()[0])")/project-venv.pth
	$(PY) -m pip freeze | grep -i -E '^(torch|torchvision|numpy)==' > $(PEERS)/constraints.txt
	$(PEERS)/bin/python -m pip install --quiet -c $(PEERS)/constraints.txt --no-deps $(PEERS_PKGS)
	$(PEERS)/bin/python -m pip install --quiet -c $(PEERS)/constraints.txt $(PEERS_DEPS)
	touch $@

bench-peers: $(PEERS)/.installed
	$(PEERS)/bin/python scripts/bench_peers.py --out $(abspath $(RESULTS))/bench_peers.json $(BENCH_ARGS)

sync: setup
	$(VENV)/bin/jupytext --sync $(NOTEBOOKS)

# JupyterLab on the notebooks; as root (containers, Colab-like machines) it needs --allow-root.
lab: setup
	$(PY) -m pip install --quiet $(filter jupyterlab%,$(BROWSER_PKGS))
	$(VENV)/bin/jupyter lab notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

# The installable package (depthrep + depthrep_utils) as dist/depthrep-*.whl: for Colab while the repository
# has no public address (upload it, then `%pip install depthrep-*.whl`).
wheel: setup
	$(PY) -m pip wheel --no-deps --quiet -w dist .
	@ls dist/depthrep-*.whl

clean:
	rm -rf results build dist .pytest_cache
