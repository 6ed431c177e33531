#!/usr/bin/env bash
# The GPU numbers of the README: `make bench` at 299 px and notebook 01 at the paper profile, on one GPU,
# each under its own time limit so that what finished is kept. Run from the repository root:
#   OUT=build/gpu scripts/gpu_check.sh
# Needs python3 with torch (CUDA) and the packages of requirements.txt (a bare GPU machine: pass the wheels
# folder as WHEELS=dir; they are installed into a private folder, nothing system-wide).
set -u
OUT=${OUT:-build/gpu}
mkdir -p "$OUT"
if [ -n "${WHEELS:-}" ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site "$WHEELS"/*.whl \
        || exit 1
    export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg DEPTHREP_PROGRESS=log
RES=${RESULTS:-results-gpu}
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__, \
torch.cuda.get_device_name())" | tee -a "$OUT/gpu.txt"
start=$(date +%s)
timeout "${BENCH_S:-240}" python3 scripts/bench.py --sizes 299 --steps 10 --repeats 5 --out "$OUT/bench.json" \
    2>&1 | tee "$OUT/bench.log"
echo "bench: $(( $(date +%s) - start )) s"
start=$(date +%s)
timeout "${NB_S:-300}" python3 scripts/run_notebook.py notebooks/01_representation_vs_depth.py --profile paper \
    --results "$RES" 2>&1 | tee "$OUT/nb01.log"
echo "notebook 01 (paper): $(( $(date +%s) - start )) s"
# What comes back: the run log, claims, figures and the executed notebook (not the image caches).
tar czf "$OUT/results.tgz" --exclude='*.pt' "$RES" 2>/dev/null
ls -la "$OUT"
