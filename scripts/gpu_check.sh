#!/usr/bin/env bash
# The GPU numbers of the README and docs/gpu: notebooks at the paper profile on one GPU, several at a time
# (one process each: a single notebook's batches of 12 step sizes keep an H200 far from busy, so the
# processes fill each other's gaps), each in its own results folder, all stopped at one deadline (Ctrl-C,
# as a user would: the runner logs the run as interrupted and keeps every claim recorded before), then
# packed one tarball per notebook. Optionally `make bench` at 299 px first, on the quiet GPU.
# Run from the repository root:
#   OUT=build/gpu DEADLINE_S=520 SLOTS=4 scripts/gpu_check.sh 02_non_uniqueness 03_mlp_invertibility ...
# Needs python3 with torch (CUDA) and the packages of requirements.txt (a bare GPU machine: pass the wheels
# folder as WHEELS=dir; they are installed into a private folder, nothing system-wide). BENCH_S=240 adds the
# benchmark. Notebooks start in the order given, at most SLOTS at a time.
set -u
OUT=${OUT:-build/gpu}
RES=${RESULTS:-results-gpu}
SLOTS=${SLOTS:-4}
LOGS=$(mktemp -d)  # logs travel in one tarball (the device tool returns at most 8 files)
mkdir -p "$OUT" "$RES"
T0=$(date +%s)
DEADLINE=$(( T0 + ${DEADLINE_S:-520} ))
if [ -n "${WHEELS:-}" ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site "$WHEELS"/*.whl \
        || exit 1
    export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg DEPTHREP_PROGRESS=log DEPTHREP_THREADS=${DEPTHREP_THREADS:-3}
{
    nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv
    python3 -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', \
torchvision.__version__, torch.cuda.get_device_name())"
} | tee "$LOGS/gpu.txt"
if [ -n "${BENCH_S:-}" ]; then
    timeout "$BENCH_S" python3 scripts/bench.py --sizes 299 --steps 10 --repeats 5 --out "$LOGS/bench.json" \
        > "$LOGS/bench.log" 2>&1
    echo "bench: $(( $(date +%s) - T0 )) s"
fi

nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv -l 15 > "$LOGS/utilization.csv" 2>&1 &
UTIL=$!
running() { jobs -rp | grep -vcx "$UTIL"; }  # notebooks still running
run_one() {  # one notebook, in its own results folder, until the deadline
    local name=$1 left=$(( DEADLINE - $(date +%s) ))
    [ "$left" -gt 30 ] || { echo "$name: not started (deadline)"; return; }
    local start=$(date +%s)
    timeout -s INT -k 20 "$left" python3 scripts/run_notebook.py "notebooks/$name.py" --profile paper \
        --results "$RES/$name" > "$LOGS/$name.log" 2>&1
    echo "$name: rc $? after $(( $(date +%s) - start )) s (started at +$(( start - T0 )) s)" | tee -a "$LOGS/summary.txt"
}
for name in "$@"; do
    while [ "$(running)" -ge "$SLOTS" ]; do sleep 2; done
    run_one "$name" &
    sleep 5  # let each kernel claim its GPU context before the next starts
done
while [ "$(running)" -gt 0 ]; do sleep 2; done
kill "$UTIL" 2>/dev/null
nvidia-smi --query-gpu=memory.used --format=csv | tail -1 | sed 's/^/memory in use at the end: /'
# What comes back: per notebook its results folder (claims, runs, figures, executed notebook, and the
# cache when the whole stays under 15 MB). The cache resumes an interrupted run only under the same Python
# (its keys hash the notebook's bytecode): carried back to the GPU machine, not on another interpreter.
for name in "$@"; do
    [ -d "$RES/$name" ] || continue
    tar czf "$OUT/$name.tgz" -C "$RES" "$name"
    if [ "$(stat -c %s "$OUT/$name.tgz")" -gt 15000000 ]; then
        tar czf "$OUT/$name.tgz" -C "$RES" --exclude=cache "$name"
    fi
done
tar czf "$OUT/logs.tgz" -C "$LOGS" .
ls -la "$OUT"
