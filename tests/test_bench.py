"""The benchmark script end to end on a tiny case: its rows are consistent and both loops agree."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_writes_consistent_rows(tmp_path):
    out = tmp_path / "bench.json"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "bench.py"), "--sizes", "32", "--layers", "conv2",
                    "--batches", "1", "2", "--steps", "2", "--repeats", "1", "--no-iterations", "--device", "cpu",
                    "--out", str(out)], check=True, cwd=ROOT, timeout=600)
    report = json.loads(out.read_text())
    rows = {(r["case"], r["batch"]): r for r in report["rows"]}
    assert set(rows) == {("naive", 1), ("project", 1), ("project", 2)}
    naive, single, double = rows["naive", 1], rows["project", 1], rows["project", 2]
    assert report["matmul_flops_per_second"]["float32"] > 1e9
    assert report["best_matmul_flops_per_second"] >= report["matmul_flops_per_second"]["float32"]
    assert len(report["load_average_before"]) == 3 and len(report["load_average_after"]) == 3
    if report["theoretical_peak_flops_per_second"]:  # from what the CPU reports; a peak is not below a measurement
        assert report["theoretical_peak_flops_per_second"] > 0.5 * report["best_matmul_flops_per_second"]
    assert single["forward_gflop"] > 0 and double["forward_gflop"] == single["forward_gflop"]
    for r in rows.values():
        assert r["seconds_per_step"] > 0 and r["peak_mib"] >= 0
        # The floor uses the best float32 rate of the whole run, never the (lower) rate of a slow moment.
        assert r["floor_rate_flops_per_second"] == report["best_matmul_flops_per_second"]
        assert r["floor_rate_flops_per_second"] >= r["matmul_flops_per_second"]
        floor = r["step_gflop"] * 1e9 / report["best_matmul_flops_per_second"]  # the step's own FLOPs / best rate
        assert abs(r["floor_seconds"] / floor - 1) < 1e-9
        assert abs(r["ratio_to_floor"] - r["seconds_per_step"] / r["floor_seconds"]) < 1e-9
        assert abs(r["speedup_over_naive"] * r["seconds_per_step"] - r["batch"] * naive["seconds_per_step"]) < 1e-9
    # The floor counts the graph that runs: the project's frozen graph computes the input gradient only (about
    # one more forward pass; its polyphase stem does a little more), the paper's loop every weight gradient too.
    assert 1.6 < single["step_gflop"] / single["forward_gflop"] < 2.6
    assert abs(double["step_gflop"] / single["step_gflop"] - 2) < 1e-6
    assert naive["step_gflop"] > 1.2 * single["step_gflop"]
    assert single["agreement_with_naive"] < 1e-3  # same update as the paper's loop (no ReLU kink at conv2 here)
    assert [t["target"] for t in report["targets"]] == ["conv2 @ 32 px: batch 2 costs per run <= batch 1"]
    # Where the time goes (--ops, on by default on a CPU): the three phases cover the step, the forward
    # pass's FLOPs are the row's, and convolutions show up in the forward pass and in the input gradient.
    assert [(o["layer"], o["batch"]) for o in report["operators"]] == [("conv2", 1), ("conv2", 2)]
    for o in report["operators"]:
        phases = {p["phase"]: p for p in o["phases"]}
        assert set(phases) == {"forward", "backward", "other"}
        assert abs(sum(p["share"] for p in o["phases"]) - 1) < 1e-9 and o["seconds_per_step"] > 0
        assert phases["forward"]["share"] > 0.1 and phases["backward"]["share"] > 0.1
        assert abs(phases["forward"]["gflop"] - o["batch"] * single["forward_gflop"]) < 1e-6 * phases["forward"]["gflop"]
        assert phases["backward"]["gflop"] > 0 and 0 < phases["forward"]["rate_to_best"] < 2
        convolutions = {r["phase"] for r in o["operators"] if "conv" in r["op"]}
        assert {"forward", "backward"} <= convolutions, o["operators"]


def test_step_flops_count_what_the_step_computes():
    """The floor's FLOP count on a case known by hand: a linear map of a batch costs 2 B in out forward, the same
    again for the input gradient, and once more for a weight gradient when the weight requires one."""
    import torch

    from bench import step_flops

    layer = torch.nn.Linear(300, 200, bias=False)
    x = torch.randn(4, 300)
    assert step_flops(layer, x) == 3 * 2 * 4 * 300 * 200  # forward, input gradient, weight gradient
    layer.requires_grad_(False)
    assert step_flops(layer, x) == 2 * 2 * 4 * 300 * 200  # frozen, as the project's graphs are
    assert layer.weight.grad is None


def test_bench_peers_takes_the_median_of_its_repeats_and_reaches_only_when_most_did():

    from bench_peers import median_rows

    def row(seconds, to_reach):
        return dict(case="x", seconds=seconds, seconds_per_step=seconds / 10, to_reach=to_reach, m_i=1.0)

    (got,) = median_rows([[row(3.0, 1.0)], [row(1.0, None)], [row(2.0, 3.0)]])
    assert got["seconds"] == 2.0 and got["seconds_per_step"] == 0.2 and got["to_reach"] == 2.0
    assert got["seconds_each"] == [3.0, 1.0, 2.0] and got["repeats"] == 3
    (once,) = median_rows([[row(3.0, 1.0)], [row(1.0, None)], [row(2.0, None)]])
    assert once["to_reach"] is None  # one repeat of three reached m_g < m_s: not this row's time
