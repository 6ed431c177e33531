"""Run one paired notebook headlessly with papermill, or report on the runs (used by `make reproduce`).

    python scripts/run_notebook.py notebooks/01_representation_vs_depth.py --profile quick
    python scripts/run_notebook.py --report 01_representation_vs_depth ...

The executed copy goes to ``results/<name>.ipynb`` (never in place). The paper profile's parameters
come from ``notebooks/profiles.json``; the quick profile is each notebook's own defaults. Each run's
runtime, peak memory (of the kernel) and outcome are appended to ``results/runs.json``; a failing
notebook is logged with its failing cell's error and exits 0 so the other notebooks still run;
``--report`` then fails naming every notebook that did not finish.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def parameters(name: str, profile: str) -> dict:
    """Parameters papermill injects: the profile name, plus the paper profile's values."""
    if profile == "quick":
        return {"PROFILE": "quick"}
    table = json.loads((ROOT / "notebooks" / "profiles.json").read_text())
    if profile not in table:
        raise SystemExit(f"Unknown profile {profile!r}; choose quick or one of {sorted(table)}.")
    return {"PROFILE": profile, **table[profile].get(name, {})}


def run(source: Path, profile: str, results: Path, timeout: int) -> dict:
    """Execute one notebook and return its log entry."""
    import jupytext
    import nbformat
    import papermill

    name = source.stem
    out = results / f"{name}.ipynb"
    results.mkdir(parents=True, exist_ok=True)
    params = parameters(name, profile)
    entry = {"notebook": name, "profile": profile, "parameters": params, "started": time.strftime("%F %T")}

    def on_timeout(signum, frame):
        raise TimeoutError(f"notebook ran past its timeout of {timeout} s")

    signal.signal(signal.SIGALRM, on_timeout)
    signal.alarm(timeout)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        ipynb = Path(tmp) / f"{name}.ipynb"
        nbformat.write(jupytext.read(source), ipynb)
        try:
            papermill.execute_notebook(str(ipynb), str(out), parameters=params, kernel_name="python3",
                                       cwd=str(source.parent), progress_bar=False, log_output=False)
            entry["status"] = "ok"
        except papermill.PapermillExecutionError as err:
            entry.update(status="failed", error=f"cell {err.exec_count}: {err.ename}: {err.evalue}")
        except TimeoutError as err:
            entry.update(status="failed", error=str(err))
        finally:
            signal.alarm(0)
    entry["seconds"] = round(time.perf_counter() - t0, 1)
    entry["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    entry["executed"] = str(out.relative_to(results.parent)) if out.is_relative_to(results.parent) else str(out)
    return entry


def log(results: Path, entry: dict) -> None:
    """Append an entry to results/runs.json (atomic, locked: notebooks may run in parallel)."""
    import depthrep_utils as du

    path = results / "runs.json"
    with du._locked(path):
        entries = json.loads(path.read_text()) if path.is_file() else []
        du.write_text(path, json.dumps(entries + [entry], indent=2) + "\n")


def report(results: Path, names: list[str]) -> int:
    """Print the latest run of each notebook; return 1 if any failed or never ran."""
    path = results / "runs.json"
    entries = json.loads(path.read_text()) if path.is_file() else []
    latest = {e["notebook"]: e for e in entries}
    failed = []
    print(f"{'notebook':34} {'profile':8} {'status':8} {'seconds':>8} {'peak MB':>8}")
    for name in names:
        e = latest.get(name)
        if e is None:
            failed.append(f"{name}: never ran")
            continue
        print(f"{name:34} {e['profile']:8} {e['status']:8} {e['seconds']:8.1f} {e['peak_rss_mb']:8.0f}")
        if e["status"] != "ok":
            failed.append(f"{name}: {e['error']}")
    if failed:
        print("\nFAILED:\n  " + "\n  ".join(failed), file=sys.stderr)
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="+", help="notebook .py sources (or names, with --report)")
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    parser.add_argument("--timeout", type=int, default=36000, help="seconds per notebook")
    parser.add_argument("--report", action="store_true", help="summarise the latest runs instead")
    args = parser.parse_args()
    results = args.results.resolve()
    os.environ.setdefault("DEPTHREP_HEADLESS", "1")
    os.environ["DEPTHREP_RESULTS"] = str(results)
    if args.report:
        return report(results, args.notebooks)
    for nb in args.notebooks:
        entry = run(Path(nb).resolve(), args.profile, results, args.timeout)
        log(results, entry)
        print(f"{entry['notebook']}: {entry['status']} in {entry['seconds']} s, peak {entry['peak_rss_mb']} MB"
              + (f"\n  {entry['error']}" if entry["status"] != "ok" else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
