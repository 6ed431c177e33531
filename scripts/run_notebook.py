"""Run paired notebooks headlessly with papermill and show their progress (used by `make reproduce`).

    python scripts/run_notebook.py --plan --profile auto notebooks/*.py    # say what will run, how long
    python scripts/run_notebook.py notebooks/01_representation_vs_depth.py --profile quick
    python scripts/run_notebook.py notebooks/01_representation_vs_depth.py -p IMAGE_SIZE=32 -p STEPS=20
    python scripts/run_notebook.py --report 01_representation_vs_depth ...

Profiles: ``quick`` is each notebook's own defaults; the others come from ``notebooks/profiles.json``;
``auto`` is ``paper`` on a GPU, else ``cpu`` when that profile exists, else ``quick``.

The executed copy goes to ``results/<name>.ipynb`` (never in place). While a notebook runs, the terminal
shows which cell of how many is running, its section, the time spent and an estimate of what is left
(from the last successful run of the same notebook and profile), at least every 30 seconds, and the
notebook's own printed lines (inversion and training loops print progress lines in this mode).

Threads: each notebook kernel gets its share of the cores, ``cores // jobs``, where ``jobs`` is make's
``-j`` (read from MAKEFLAGS) or ``--jobs``; two kernels that each use every core fight over them and
run many times slower. ``DEPTHREP_THREADS`` overrides the share. On a GPU, notebooks run one at a time
(a lock), so that two never share its memory.

Each run's runtime, per-cell seconds, peak memory (of the kernel) and outcome are appended to
``results/runs.json``. A failing notebook is logged with its failing cell's error and exits 0 so the
other notebooks still run; ``--report`` then fails naming every notebook that did not finish. Ctrl-C
stops the run, logs it as interrupted and exits 130; rerunning the same command resumes: every result a
notebook cached (``du.cached``, noise-training checkpoints) is loaded, not recomputed.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import re
import resource
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEARTBEAT_S = float(os.environ.get("DEPTHREP_HEARTBEAT_S", 20))  # a status line at least this often
# Paper profile on a 2-core CPU: never measured. The estimate comes from FLOP counts: notebook 05 alone
# trains ResNet50 for 90 epochs on 10,000 images of 224 px, about 2e16 floating-point operations, which is
# about 35 h at the ~175 GFLOP/s a ResNet50 forward and backward pass reaches on this project's 2-core
# machine (`make bench` on a quiet machine: 0.135 s per 24-GFLOP step); notebooks 01-04 come on top.
PAPER_ON_CPU = "more than a day (an estimate from FLOP counts; never measured on a CPU)"


# ------------------------------------------------------------------------------------------------
# Profiles and the machine
# ------------------------------------------------------------------------------------------------


def profiles() -> dict:
    return json.loads((ROOT / "notebooks" / "profiles.json").read_text())


def has_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def choose_profile(requested: str) -> tuple[str, str]:
    """The profile to run and why: ``auto`` becomes paper on a GPU, else cpu (if defined), else quick."""
    known = ["quick", *profiles()]
    if requested != "auto":
        if requested not in known:
            raise SystemExit(f"Unknown profile {requested!r}; choose auto or one of {known}.")
        return requested, "asked for"
    if has_gpu():
        return "paper", "a GPU is present"
    if "cpu" in known:
        return "cpu", "no GPU here; cpu is the largest profile sized for a 2-core CPU"
    return "quick", "no GPU here: the paper profile is sized for a GPU"


def parameters(name: str, profile: str, overrides: dict | None = None) -> dict:
    """Parameters papermill injects: the profile name, the profile's values, then explicit overrides."""
    table = {} if profile == "quick" else profiles()[profile].get(name, {})
    return {"PROFILE": profile, **table, **(overrides or {})}


def parse_override(text: str) -> tuple[str, object]:
    """``NAME=VALUE`` with VALUE a Python literal (``STEPS=20``, ``LAYERS=['conv1']``) or a plain string."""
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value


def cores() -> int:
    """CPU cores this process may use (its affinity mask, which containers and taskset restrict)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def make_jobs(makeflags: str | None = None) -> int:
    """The number of jobs make runs at once, from MAKEFLAGS (GNU make 4.2+ writes ``-jN``); 1 if none.
    A bare ``-j`` (no limit) counts as one job per core."""
    flags = os.environ.get("MAKEFLAGS", "") if makeflags is None else makeflags
    jobs = 1
    for word in flags.split():
        m = re.fullmatch(r"-j(\d*)|--jobs(?:=(\d+))?", word)
        if m:
            n = m.group(1) or m.group(2)
            jobs = int(n) if n else cores()
    return max(1, jobs)


def thread_share(jobs: int, n_cores: int | None = None) -> int:
    """Threads for one of ``jobs`` notebook kernels: an equal share of the cores, at least 1."""
    override = os.environ.get("DEPTHREP_THREADS", "").strip()
    if override:
        return max(1, int(override))
    return max(1, (n_cores or cores()) // max(1, jobs))


def fmt_seconds(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600} h {s % 3600 // 60:02d} min" if s >= 3600 else f"{s // 60} min {s % 60:02d} s"


# ------------------------------------------------------------------------------------------------
# The run log
# ------------------------------------------------------------------------------------------------


def read_runs(results: Path) -> list[dict]:
    path = results / "runs.json"
    return json.loads(path.read_text()) if path.is_file() else []


def last_good_run(results: Path, name: str, profile: str) -> dict | None:
    """The latest finished run of this notebook and profile, for time estimates."""
    runs = [e for e in read_runs(results) if e["notebook"] == name and e["profile"] == profile
            and e["status"] == "ok" and not e.get("overrides")]
    return runs[-1] if runs else None


def log(results: Path, entry: dict) -> None:
    """Append an entry to results/runs.json (atomic, locked: notebooks may run in parallel)."""
    import depthrep_utils as du

    path = results / "runs.json"
    with du.locked(path):
        du.write_text(path, json.dumps(read_runs(results) + [entry], indent=2) + "\n")


# ------------------------------------------------------------------------------------------------
# Progress while a notebook runs
# ------------------------------------------------------------------------------------------------


class Progress:
    """nbclient hooks plus a heartbeat thread: prints ``[name] cell k/n · section · spent · left``."""

    def __init__(self, name: str, nb, previous: dict | None, out=sys.stdout) -> None:
        self.name, self.out = name, out
        self.n_code = sum(c.cell_type == "code" for c in nb.cells)
        self.previous = (previous or {}).get("cells")  # seconds per code cell in the last good run
        self.k, self.section, self.label, self.cell_start = 0, "setup", "setup", None
        self.t0 = time.perf_counter()
        self.cells: list[float] = []
        self.last_print = 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def say(self, text: str) -> None:
        with self._lock:
            print(f"[{self.name}] {text}", file=self.out, flush=True)
            self.last_print = time.perf_counter()

    def left(self) -> float | None:
        """Seconds left by the last good run's per-cell times (None without one)."""
        if not self.previous or len(self.previous) != self.n_code or not self.k:
            return None
        in_cell = time.perf_counter() - self.cell_start if self.cell_start else 0.0
        return max(0.0, self.previous[self.k - 1] - in_cell) + sum(self.previous[self.k:])

    def status(self) -> str:
        spent = fmt_seconds(time.perf_counter() - self.t0)
        left = self.left()
        estimate = f"about {fmt_seconds(left)} left" if left is not None else "no earlier run to estimate from"
        return f"cell {self.k}/{self.n_code} · {self.label} · {spent} spent · {estimate}"

    # nbclient hooks (called with keyword arguments)
    def on_cell_start(self, cell, cell_index, **_) -> None:
        if cell.cell_type == "markdown":
            heading = next((ln.lstrip("#").strip() for ln in cell.source.splitlines() if ln.startswith("#")), "")
            self.section = heading[:70] or self.section
            return
        if cell.cell_type != "code":
            return
        self._finish_cell()
        self.k += 1
        injected = "injected-parameters" in cell.metadata.get("tags", [])
        self.label = "parameters (injected)" if injected else self.section
        self.cell_start = time.perf_counter()
        self.say(self.status())

    def _finish_cell(self) -> None:
        if self.cell_start is not None:
            self.cells.append(round(time.perf_counter() - self.cell_start, 2))
            self.cell_start = None

    def _beat(self) -> None:
        while not self._stop.wait(1.0):
            if time.perf_counter() - self.last_print >= HEARTBEAT_S:
                self.say(self.status())

    def __enter__(self) -> "Progress":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._finish_cell()
        self._stop.set()
        self._thread.join()


class _Prefixed:
    """A file-like stream that writes the kernel's printed lines to the terminal under the notebook name."""

    def __init__(self, progress: Progress) -> None:
        self.progress, self.buffer = progress, ""

    def write(self, text: str) -> None:
        self.buffer += text
        *lines, self.buffer = self.buffer.split("\n")
        for line in lines:
            if line.strip():
                self.progress.say("  " + line.rstrip()[-200:])

    def flush(self) -> None:
        pass


# ------------------------------------------------------------------------------------------------
# Running one notebook
# ------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def gpu_turn(results: Path, progress: Progress, on_gpu: bool):
    """On a GPU, hold a lock for the whole notebook: notebooks never share its memory."""
    if not on_gpu:
        yield
        return
    import depthrep_utils as du

    progress.say("waiting for the GPU (one notebook at a time on it)")
    with du.locked(results / "gpu"):
        yield


def run(source: Path, profile: str, results: Path, timeout: int, threads: int, overrides: dict | None = None,
        on_gpu: bool = False) -> dict:
    """Execute one notebook and return its log entry."""
    import jupytext
    import nbformat
    import papermill

    name = source.stem
    out = results / f"{name}.ipynb"
    results.mkdir(parents=True, exist_ok=True)
    params = parameters(name, profile, overrides)
    entry = {"notebook": name, "profile": profile, "parameters": params, "threads": threads,
             "started": time.strftime("%F %T")}
    if overrides:
        entry["overrides"] = overrides
    nb = jupytext.read(source)
    progress = Progress(name, nb, last_good_run(results, name, profile) if not overrides else None)
    progress.n_code += 1  # papermill injects one parameters cell

    def on_timeout(signum, frame):
        raise TimeoutError(f"notebook ran past its timeout of {timeout} s")

    signal.signal(signal.SIGALRM, on_timeout)
    # Ctrl-C: interrupt the kernel (its own process group, so the terminal's signal does not reach it)
    # and let the cell stop cleanly; a second Ctrl-C stops the runner at once.
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="python3")
    interrupted = []

    def on_sigint(signum, frame):
        if interrupted or not km.has_kernel:
            raise KeyboardInterrupt
        interrupted.append(time.time())
        progress.say("Ctrl-C: stopping the notebook (again to stop at once)")
        km.interrupt_kernel()

    previous_sigint = signal.signal(signal.SIGINT, on_sigint)
    stream = _Prefixed(progress)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, progress, gpu_turn(results, progress, on_gpu):
        ipynb = Path(tmp) / f"{name}.ipynb"
        nbformat.write(nb, ipynb)
        signal.alarm(timeout)
        try:
            papermill.execute_notebook(str(ipynb), str(out), parameters=params, kernel_name="python3",
                                       language="python", cwd=str(source.parent), progress_bar=False, log_output=False,
                                       stdout_file=stream, stderr_file=stream,
                                       on_cell_start=progress.on_cell_start, km=km)
            entry["status"] = "ok"
        except papermill.PapermillExecutionError as err:
            entry.update(status="failed", error=f"cell {err.exec_count}: {err.ename}: {err.evalue}")
            if interrupted:
                entry.update(status="interrupted", error=f"interrupted (Ctrl-C) in cell {err.exec_count}")
        except TimeoutError as err:
            entry.update(status="failed", error=str(err))
        except KeyboardInterrupt:
            entry.update(status="interrupted", error="interrupted (Ctrl-C); rerun to resume from the cache")
        except Exception as err:  # the kernel died, the notebook could not be read ...
            entry.update(status="failed", error=f"{type(err).__name__}: {err}")
        finally:
            signal.alarm(0)
            if km.has_kernel:  # our kernel manager: nbclient leaves its shutdown to us
                km.shutdown_kernel(now=bool(interrupted))
            signal.signal(signal.SIGINT, previous_sigint)
    entry["seconds"] = round(time.perf_counter() - t0, 1)
    entry["cells"] = progress.cells
    entry["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    entry["executed"] = str(out.relative_to(results.parent)) if out.is_relative_to(results.parent) else str(out)
    return entry


# ------------------------------------------------------------------------------------------------
# Plan and report
# ------------------------------------------------------------------------------------------------


def makespan(seconds: list[float], jobs: int) -> float:
    """The wall time of running notebooks of these durations ``jobs`` at a time, longest first, each started
    when a job is free (as `make reproduce` hands them out)."""
    loads = [0.0] * max(1, jobs)
    for t in sorted(seconds, reverse=True):
        loads[loads.index(min(loads))] += t
    return max(loads)


def plan(requested: str, results: Path, names: list[str], jobs: int) -> int:
    """First lines of `make reproduce`: the profile, why, how to ask for another, and the expected time.
    Asking for paper on a CPU asks for confirmation when a person is at the terminal."""
    profile, why = choose_profile(requested)
    others = [p for p in ["quick", *profiles()] if p != profile]
    print(f"make reproduce: profile {profile} ({why}); another: "
          + ", ".join(f"`make reproduce PROFILE={p}`" for p in others), flush=True)
    times = [last_good_run(results, n, profile) for n in names]
    share = thread_share(jobs)
    if all(times):
        seconds = [t["seconds"] for t in times]
        print(f"  {len(names)} notebooks, {jobs} at a time, {share} thread(s) each; the last runs here took "
              f"{fmt_seconds(sum(seconds))} summed over the notebooks, about {fmt_seconds(makespan(seconds, jobs))}"
              f" with {jobs} at a time; cached results are reused, so a rerun is faster.")
    else:
        print(f"  {len(names)} notebooks, {jobs} at a time, {share} thread(s) each; no earlier {profile} run "
              f"of every notebook in {results}, so no estimate from this machine (README: runtime table).")
    if profile == "paper" and not has_gpu():
        print(f"  WARNING: the paper profile on this CPU (no GPU found) takes {PAPER_ON_CPU}.\n"
              f"  The notebooks cache every finished step, so Ctrl-C and a rerun resume.", flush=True)
        if sys.stdin.isatty():
            answer = input("  Run the paper profile on the CPU anyway? [y/N] ").strip().lower()
            if answer not in ("y", "yes"):
                print("Stopped. `make reproduce` (no PROFILE) picks the profile that fits this machine.")
                return 1
    return 0


def report(results: Path, names: list[str]) -> int:
    """Print the latest run of each notebook; return 1 if any failed or never ran."""
    latest = {e["notebook"]: e for e in read_runs(results)}
    failed = []
    print(f"{'notebook':34} {'profile':8} {'status':11} {'seconds':>8} {'threads':>7} {'peak MB':>8}")
    for name in names:
        e = latest.get(name)
        if e is None:
            failed.append(f"{name}: never ran")
            continue
        print(f"{name:34} {e['profile']:8} {e['status']:11} {e['seconds']:8.1f} {e.get('threads', ''):>7} "
              f"{e['peak_rss_mb']:8.0f}")
        if e["status"] != "ok":
            failed.append(f"{name}: {e['error']}")
    if failed:
        print("\nFAILED:\n  " + "\n  ".join(failed), file=sys.stderr)
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="+", help="notebook .py sources (or names, with --report)")
    parser.add_argument("--profile", default="auto", help="auto (default), quick, or a profiles.json profile")
    parser.add_argument("-p", "--param", action="append", type=parse_override, default=[],
                        metavar="NAME=VALUE", help="override one parameter (results marked as overridden)")
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    parser.add_argument("--timeout", type=int, default=36000, help="seconds per notebook")
    parser.add_argument("--jobs", type=int, default=None, help="notebooks running at once (default: make's -j)")
    parser.add_argument("--plan", action="store_true", help="say what `make reproduce` will run, then exit")
    parser.add_argument("--report", action="store_true", help="summarise the latest runs instead")
    args = parser.parse_args()
    results = args.results.resolve()
    jobs = args.jobs or make_jobs()
    if args.report:
        return report(results, args.notebooks)
    if args.plan:
        return plan(args.profile, results, [Path(nb).stem for nb in args.notebooks], jobs)
    profile, _ = choose_profile(args.profile)
    threads = thread_share(jobs)
    # Set before the kernel starts: torch sizes its thread pools from these when it is imported.
    os.environ.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
                      OPENBLAS_NUM_THREADS=str(threads), DEPTHREP_THREADS=str(threads))
    os.environ.setdefault("DEPTHREP_HEADLESS", "1")
    os.environ["DEPTHREP_PROGRESS"] = "log"
    os.environ["DEPTHREP_RESULTS"] = str(results)
    on_gpu = has_gpu()
    for nb in args.notebooks:
        name = Path(nb).stem
        print(f"[{name}] start: profile {profile}, {threads} thread(s) ({cores()} cores / {jobs} job(s))"
              + (", GPU" if on_gpu else ""), flush=True)
        entry = run(Path(nb).resolve(), profile, results, args.timeout, threads, dict(args.param), on_gpu)
        log(results, entry)
        print(f"[{name}] {entry['status']} in {fmt_seconds(entry['seconds'])}, peak {entry['peak_rss_mb']:.0f} MB"
              + (f"\n  {entry['error']}" if entry["status"] != "ok" else ""), flush=True)
        if entry["status"] == "interrupted":
            print(f"[{name}] interrupted: rerun the same command to resume; finished results are cached in "
                  f"{results / name / 'cache'}", flush=True)
            return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
