"""Plant known bugs one at a time in a copy of the checkout and show which unit test catches each (the check
that the tests can fail for a wrong program). Prints one line per bug; exits 1 if a bug goes uncaught.

    python scripts/plant_bugs.py [--keep DIR]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# (what, file, text, replacement, the tests to run)
BUGS = [
    ("an effect of exactly 0 counts as the paper's direction", "depthrep/claims.py",
     "agree = sum(v >= floor for v in values)", "agree = sum(v >= 0 for v in values)", "tests/test_checks.py"),
    ("matched accepts m_g == m_s", "depthrep/claims.py", 'run["m_g"] < run["m_s"]', 'run["m_g"] <= run["m_s"]',
     "tests/test_checks.py"),
    ("saturation only when every decisive run is saturated", "depthrep/claims.py",
     '"saturated": [label for label, r in ratios.items() if r > SATURATED]',
     '"saturated": list(ratios) if min(ratios.values()) > SATURATED else []', "tests/test_checks.py"),
    ("the depth trend ranks the stem too", "depthrep/checks.py", "judged = values[first:end]", "judged = values[:end]",
     "tests/test_checks.py"),
    ("ties ranked in order", "depthrep/checks.py", "if len(set(v.tolist())) == n:", "if True:",
     "tests/test_checks.py"),
    ("a short run pointing the paper's way is judged", "depthrep/checks.py", "if steps < needed else", "if False else",
     "tests/test_checks.py"),
    ("spectral slope on amplitude, not power", "depthrep/metrics.py", "torch.fft.fft2(img).abs() ** 2",
     "torch.fft.fft2(img).abs()", "tests/test_checks.py"),
    ("the shift's sigma default moved to 1/18", "depthrep/metrics.py",
     "generated: torch.Tensor, sigma: float = 1 / 20", "generated: torch.Tensor, sigma: float = 1 / 18",
     "tests/test_checks.py"),
    ("seed_spread pairs each seed with itself", "depthrep/experiments.py", "for j in range(i + 1, len(seeds))",
     "for j in range(i, len(seeds))", "tests/test_experiments.py"),
    ("jacobian_rank's tolerance 1000x looser", "depthrep/mlp.py",
     "def jacobian_rank(model: nn.Module, a: torch.Tensor, rtol: float = 1e-10)",
     "def jacobian_rank(model: nn.Module, a: torch.Tensor, rtol: float = 1e-7)", "tests/test_mlp.py"),
    ("noise labels paired with the wrong images of a shuffled batch", "depthrep/noise.py", "y = labels[idx].to(device)",
     "y = labels[i:i + batch].to(device)", "tests/test_training.py"),
    ("no-signal test off", "depthrep/checks.py", "if emb < NO_SIGNAL * inp:", "if False:", "tests/test_checks.py"),
    ("non-uniqueness counts a_g nearer a than a' is", "depthrep/checks.py", "float(np.log2(m / shift))",
     "float(abs(np.log2(m / shift)))", "tests/test_checks.py"),
    ("the share above 10^6 decided on the share alone", "depthrep/checks.py",
     "typical = True if low > 0.5 else False if high < 0.5 else None",
     "typical = above.mean() > 0.5", "tests/test_checks.py"),
    ("the colour-matched distance ignores the spread", "depthrep/metrics.py",
     "(g - mean_g) / std_g.clamp_min(1e-12) * std_a + mean_a", "g - mean_g + mean_a", "tests/test_checks.py"),
    ("the noise sigma without the 3x3 mean removed", "depthrep/metrics.py",
     "detail = img[:, :, 1:-1, 1:-1] - local_mean", "detail = img[:, :, 1:-1, 1:-1] - img.mean()",
     "tests/test_checks.py"),
    ("a status that changes under sigma 1/18 says nothing", "depthrep/claims.py", "if code_status != status:",
     "if False:", "tests/test_checks.py"),
    ("a number above the paper's counts as agreeing", "depthrep/checks.py",
     "return float(1 - abs(np.log(measured / expected)) / np.log(factor))",
     "return float(1 + np.log(measured / expected) / np.log(factor))", "tests/test_checks.py"),
    ("'does not noticeably change' signed the wrong way", "depthrep/checks.py", "return float(noticeable - change)",
     "return float(noticeable + change)", "tests/test_checks.py"),
    ("the floor counts the forward pass only", "scripts/bench.py", "model(x).abs().sum().backward()",
     "model(x).abs().sum()", "tests/test_bench.py"),
    ("the detail correlation keeps the shading", "depthrep/checks.py", "d = (x - blurred).ravel()", "d = x.ravel()",
     "tests/test_checks.py"),
    ("a pattern kept in one layer is enough", "depthrep/checks.py",
     "return float(min(min(values[k] for k in kept) - level, level - max(values[k] for k in lost)))",
     "return float(max(min(values[k] for k in kept) - level, level - max(values[k] for k in lost)))",
     "tests/test_checks.py"),
    ("the step-size window counts grid points, not octaves", "depthrep/checks.py",
     'return {"octaves": float(hit.sum() * np.log2(ratios[0]))', 'return {"octaves": float(hit.sum())',
     "tests/test_checks.py"),
    ("without_skips keeps the identity shortcut", "depthrep/models.py", "return b.relu(b.bn3(b.conv3(out)))",
     "return b.relu(b.bn3(b.conv3(out)) + x)", "tests/test_layers.py"),
    ("eq. (5)'s sigmas calibrated on the image at its own size, not its 299-px copy", "depthrep/blur.py",
     "load_image(image, PAPER_SIZE)[0])", "load_image(image, size)[0])", "tests/test_blur.py"),
    ("eq. (5)'s blur schedule runs from the last sigma to the first", "depthrep/inversion.py",
     "blur3x3(x, blur[0] + frac * (blur[1] - blur[0]))", "blur3x3(x, blur[1] + frac * (blur[0] - blur[1]))",
     "tests/test_blur.py"),
    ("plenoptic starts from its own random image", "depthrep/peers.py",
     "met.setup(start_image(a.shape, seed, start_mean, start_std, a.dtype).to(device),", "met.setup(None,",
     "tests/test_peers.py"),
    ("a float64 run draws its own start", "depthrep/inversion.py",
     "generator=gen, dtype=torch.float32)).to(dtype)", "generator=gen, dtype=dtype)).to(dtype)",
     "tests/test_inversion.py"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="planted-"))
    uncaught = 0
    for what, rel, old, new, tests in BUGS:
        copy = work / "repo"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", "build", "results", ".git", "data"))
        path = copy / rel
        text = path.read_text()
        if text.count(old) != 1:
            print(f"NOT PLANTED ({text.count(old)} matches): {what}")
            uncaught += 1
            continue
        path.write_text(text.replace(old, new))
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", tests],
                              cwd=copy, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(copy)))
        failed = [line.split(" ")[1] for line in proc.stdout.splitlines() if line.startswith("FAILED ")]
        caught = proc.returncode != 0 and failed
        uncaught += not caught
        print(f"{'caught' if caught else 'NOT CAUGHT'}: {what} ({rel}) -> {', '.join(failed) or proc.stdout[-200:]}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if uncaught else 0


if __name__ == "__main__":
    sys.exit(main())
