"""The notebook runner of `make reproduce`: profile choice, thread share, progress, interrupt and resume."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
import run_notebook as runner  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "resumable.py"


@pytest.mark.parametrize("flags, jobs", [("", 1), (" -j2 --jobserver-auth=3,4", 2), ("ks -j3 -- X=1", 3),
                                         ("--jobs=4", 4), ("-j1", 1)])
def test_make_jobs_read_from_makeflags(flags, jobs):
    assert runner.make_jobs(flags) == jobs


def test_bare_j_is_one_job_per_core():
    assert runner.make_jobs(" -j") == runner.cores()


def test_thread_share(monkeypatch):
    monkeypatch.delenv("DEPTHREP_THREADS", raising=False)
    assert runner.thread_share(1, 2) == 2
    assert runner.thread_share(2, 2) == 1
    assert runner.thread_share(8, 2) == 1
    assert runner.thread_share(2, 16) == 8
    monkeypatch.setenv("DEPTHREP_THREADS", "3")
    assert runner.thread_share(2, 2) == 3


def test_makespan_hands_out_longest_first():
    # the cpu profile's notebook seconds of 0.13.0, whose run took 2545 s with two at a time
    cpu = [1341, 937, 967, 787, 440, 211, 197]
    assert runner.makespan(cpu, 2) == 2536
    assert runner.makespan(cpu, 1) == sum(cpu)
    assert runner.makespan(cpu, 7) == max(cpu) == runner.makespan(cpu, 20)
    assert runner.makespan([3, 3, 2, 2, 2], 2) == 7  # longest first: {3, 2, 2} and {3, 2}


def test_auto_profile_fits_the_machine(results, capsys):
    profile, why = runner.choose_profile("auto")
    assert profile == ("paper" if runner.has_gpu() else "cpu" if "cpu" in runner.profiles() else "quick")
    assert runner.choose_profile("quick") == ("quick", "asked for")
    with pytest.raises(SystemExit, match="Unknown profile"):
        runner.choose_profile("huge")
    assert runner.plan("auto", results, ["01_representation_vs_depth"], 1) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"make reproduce: profile {profile} ({why})") and "PROFILE=paper" in first


@pytest.mark.skipif(runner.has_gpu(), reason="the paper profile fits a GPU: nothing to warn about")
def test_paper_on_a_cpu_warns_and_runs_without_a_terminal(results, capsys, monkeypatch):
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    assert runner.plan("paper", results, ["05_noise_trained_models"], 1) == 0
    assert "WARNING: the paper profile on this CPU" in capsys.readouterr().out


def start(results: Path, *params: str, makeflags: str = "") -> subprocess.Popen:
    env = {**os.environ, "MAKEFLAGS": makeflags, "DEPTHREP_HEARTBEAT_S": "1"}
    env.pop("DEPTHREP_THREADS", None)
    cmd = [sys.executable, str(ROOT / "scripts" / "run_notebook.py"), str(FIXTURE), "--profile", "quick",
           "--results", str(results), *[f"-p{p}" for p in params]]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=900)  # a loaded machine (two suites at once) needed more than 300 s
    return proc.returncode, out


def last_run(results: Path) -> dict:
    return json.loads((results / "runs.json").read_text())[-1]


PARAMS = ("STEPS=300", "SLEEP=2.5")


@pytest.mark.slow
def test_kernel_gets_its_thread_share_and_shows_progress(tmp_path):
    """With make -j2 on this machine, the kernel may use cores // 2 threads, never torch's default (all)."""
    rc, out = finish(start(tmp_path, *PARAMS, makeflags=" -j2 --jobserver-auth=3,4"))
    assert rc == 0, out
    share = max(1, runner.cores() // 2)
    threads = json.loads((tmp_path / "resumable" / "threads.json").read_text())
    assert threads == {"threads": share, "omp": str(share)}
    assert f"{share} thread(s) ({runner.cores()} cores / 2 job(s))" in out
    assert "cell 5/6 · Cached inversions" in out and "computed: ['conv1', 'conv2', 'conv3']" in out
    slow = [line for line in out.splitlines() if "cell 6/6 · A slow cell" in line]
    assert len(slow) >= 2, out  # the heartbeat speaks while a cell runs
    assert last_run(tmp_path)["threads"] == share


@pytest.mark.slow
def test_interrupted_run_resumes_from_the_cache(tmp_path):
    """Ctrl-C mid-notebook, rerun: nothing finished is recomputed (the layers computed, the cache files
    untouched) and the results equal an uninterrupted run's."""
    params = ("STEPS=600", "SIZE=64")
    rc, out = finish(start(tmp_path / "whole", *params))
    assert rc == 0, out
    whole = json.loads((tmp_path / "whole" / "resumable" / "numbers.json").read_text())
    whole_cells = last_run(tmp_path / "whole")["cells"]

    results = tmp_path / "resumed"
    proc = start(results, *params)
    cache = results / "resumable" / "cache"
    wait = 600  # conv2 comes after about 10 s alone; a loaded machine took over 120 s (two suites at once)
    deadline = time.time() + wait
    while not list(cache.glob("conv2-*.pt")) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None and list(cache.glob("conv2-*.pt")), \
        f"to interrupt: the run still going with conv2 cached; after {time.time() - deadline + wait:.0f} s " \
        f"it has {'ended' if proc.poll() is not None else 'not ended'}, cache {sorted(p.name for p in cache.glob('*'))}"
    proc.send_signal(signal.SIGINT)
    rc, out = finish(proc)
    assert rc == 130, out
    assert last_run(results)["status"] == "interrupted"
    kept = {p.name: p.stat().st_mtime_ns for p in cache.glob("*.pt")}
    assert any(name.startswith("conv2-") for name in kept) and not (results / "resumable" / "numbers.json").exists()

    rc, out = finish(start(results, *params))
    assert rc == 0, out
    resumed = json.loads((results / "resumable" / "numbers.json").read_text())
    assert resumed["numbers"] == whole["numbers"]
    assert "conv1" not in resumed["computed"] and "conv2" not in resumed["computed"]
    assert {p.name: p.stat().st_mtime_ns for p in cache.glob("*.pt") if p.name in kept} == kept
    # "Not recomputed" is shown by what was computed and by the cache files' times above, not by a cell's
    # seconds: a busy machine makes any timing comparison fail for no bug.
    assert len(last_run(results)["cells"]) == len(whole_cells)


def make_dry_run(*args: str) -> list[str]:
    """`make -n ARGS` in the checkout: the commands make would run (the recursive make runs, dry too)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    out = subprocess.run(["make", "-n", "--no-print-directory", *args], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_make_reproduce_runs_every_notebook_once_two_at_a_time_longest_first(tmp_path):
    lines = make_dry_run("reproduce", "PROFILE=quick", f"RESULTS={tmp_path}")
    sub = next(line for line in lines if "PLANNED=1" in line)
    assert " -j2 " in sub, sub  # JOBS defaults to 2
    runs = [line.split()[2] for line in lines
            if "run_notebook.py notebooks/" in line and "--plan" not in line]
    names = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9]*.py"))
    assert sorted(Path(r).name for r in runs) == names  # each notebook once, none forgotten
    # the two longest at the cpu profile (its record, docs/cpu/runs.json) start first
    from update_docs import _latest_runs

    seconds = {n[:2]: r["seconds"] for n, r in _latest_runs(ROOT / "docs" / "cpu" / "runs.json", "cpu").items()}
    assert [Path(r).name[:2] for r in runs[:2]] == sorted(seconds, key=seconds.get, reverse=True)[:2]
    assert sum("--plan" in line for line in lines) == 1 and "--report" in lines[-1]
    one = make_dry_run("reproduce-03_mlp_invertibility", "PROFILE=quick", f"RESULTS={tmp_path}")
    assert "--plan" in one[-2] and "notebooks/03_mlp_invertibility.py" in one[-1]
