"""Test set-up: the scripts importable, the asset mirror, headless; fixtures shared by several test files."""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))  # the scripts tests import (the package is installed)
os.environ.setdefault("DEPTHREP_HEADLESS", "1")
SHARED_DATA = ROOT.parent / "shared" / "data"
if SHARED_DATA.is_dir():
    os.environ.setdefault("DEPTHREP_MIRROR", str(SHARED_DATA))
needs_mirror = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data mirror not present")


@pytest.fixture
def linear_model():
    """A factory of bias-free linear maps R^n_in -> R^n_out in float64: ``linear_model(n_in, n_out, orthonormal)``,
    with orthonormal columns when asked (n_out >= n_in), else PyTorch's default init."""
    import torch

    import depthrep_utils as du

    def make(n_in: int, n_out: int, orthonormal: bool) -> torch.nn.Module:
        model = du.make_mlp([n_in, n_out], bias=False).double()
        if orthonormal:
            generator = torch.Generator().manual_seed(1)
            q, _ = torch.linalg.qr(torch.randn(n_out, n_in, dtype=torch.float64, generator=generator))
            model[1].weight.copy_(q)
        return model

    return make


@pytest.fixture
def results(tmp_path, monkeypatch):
    """A private results folder for one test."""
    monkeypatch.setenv("DEPTHREP_RESULTS", str(tmp_path / "results"))
    return tmp_path / "results"


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: runs a notebook, a training or a fresh virtual environment (seconds to "
                                       "minutes); `make unit-fast` leaves these out")
