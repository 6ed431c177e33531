"""The trained-ResNet branches of notebooks 01, 02 and 05 run here, not only their offline error path.

A torch cache in a temporary folder holds checkpoint files under torchvision's IMAGENET1K_V1 file names
(untrained weights of the right shapes: torch loads a cached file without checking its hash, as it does
a real one), and each notebook runs through the runner at a tiny size with TORCH_HOME pointing there. The
results go to a temporary folder, never to results/ or the README: these numbers mean nothing, only that
the code a user with internet runs is executed.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
import torch
import torchvision

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # runs notebooks or builds a fresh virtual environment
TINY = {
    "01_representation_vs_depth": dict(IMAGE_SIZE=32, STEPS=10, SEARCH_STEP_SIZES=[0.03, 0.002],
                                       LAYERS=["conv1", "conv2", "conv3", "conv4"], DEPTH_SEEDS=[0],
                                       REPLICATE_IMAGES=[]),
    "02_non_uniqueness": dict(IMAGE_SIZE=32, DEPTHS=[18, 50], STEPS=10, FIG3_BLUR=False,
                              SEARCH_STEP_SIZES=[0.03, 0.002], CURVE_STEPS=10, FIG4_STEPS=10, RECORD_EVERY=1,
                              SEEDS=[0, 1]),
    "05_noise_trained_models": dict(IMAGE_SIZE=32, NOISE_IMAGES=16, NOISE_SIZE=32, EPOCHS=1, BATCH=8, STEPS=10,
                                    SEARCH_STEP_SIZES=[0.03, 0.002],
                                    LAYERS=["conv1", "conv2", "conv3", "conv4"]),
}
# The claims that only the trained branch records as measured.
TRAINED_CLAIMS = {
    "01_representation_vs_depth": ["fig1_trained_depth", "fig1_trained_early_layers_sharper"],
    "02_non_uniqueness": ["figS1_trained_non_unique"],
    "05_noise_trained_models": ["fig10_imagenet_sharper"],
}


@pytest.fixture(scope="module")
def torch_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("torch_home")
    folder = home / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    for depth in (18, 50):
        weights = torchvision.models.get_weight(f"ResNet{depth}_Weights.IMAGENET1K_V1")
        name = Path(urllib.parse.urlparse(weights.url).path).name
        torch.save(getattr(torchvision.models, f"resnet{depth}")(weights=None).state_dict(), folder / name)
    return home


@pytest.mark.parametrize("notebook", sorted(TINY))
def test_trained_resnet_branch_runs(notebook, torch_home, tmp_path):
    results = tmp_path / "results"
    env = dict(os.environ, TORCH_HOME=str(torch_home), DEPTHREP_HEADLESS="1", MPLBACKEND="Agg")
    overrides = [arg for k, v in TINY[notebook].items() for arg in ("-p", f"{k}={json.dumps(v)}")]
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "run_notebook.py"),
                           str(ROOT / "notebooks" / f"{notebook}.py"), "--profile", "quick", "--results",
                           str(results), "-p", "PROFILE=tiny", *overrides],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=1800)  # 01 took 664 s on a busy machine
    assert proc.returncode == 0 and f"[{notebook}] ok in" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "NOT available" not in proc.stdout and "NOT MEASURED" not in proc.stdout
    status = {c["claim"]: c["status"] for c in json.loads((results / "claims.json").read_text())}
    for claim in TRAINED_CLAIMS[notebook]:
        assert status[claim] != "not measured", (claim, status)  # the trained branch ran and was judged
    assert not (ROOT / "results" / "claims.json").exists() or \
        "tiny" not in (ROOT / "results" / "claims.json").read_text()  # nothing went into the repository's results
