"""The benchmark script end to end on a tiny case: its rows are consistent and both loops agree."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
    assert single["forward_gflop"] > 0 and double["forward_gflop"] == single["forward_gflop"]
    for r in rows.values():
        assert r["seconds_per_step"] > 0 and r["peak_mib"] >= 0
        floor = r["batch"] * 2 * r["forward_gflop"] * 1e9 / r["matmul_flops_per_second"]  # FLOPs x 2 / rate
        assert abs(r["floor_seconds"] / floor - 1) < 1e-9
        assert abs(r["ratio_to_floor"] - r["seconds_per_step"] / r["floor_seconds"]) < 1e-9
        assert abs(r["speedup_over_naive"] * r["seconds_per_step"] - r["batch"] * naive["seconds_per_step"]) < 1e-9
    assert single["agreement_with_naive"] < 1e-3  # same update as the paper's loop (no ReLU kink at conv2 here)
    assert [t["target"] for t in report["targets"]] == ["conv2 @ 32 px: batch 2 costs per run <= batch 1"]
