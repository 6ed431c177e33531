"""Test set-up: import the module from the repository root, use the asset mirror, stay headless."""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DEPTHREP_HEADLESS", "1")
SHARED_DATA = ROOT.parent / "shared" / "data"
if SHARED_DATA.is_dir():
    os.environ.setdefault("DEPTHREP_MIRROR", str(SHARED_DATA))


@pytest.fixture
def results(tmp_path, monkeypatch):
    """A private results folder for one test."""
    monkeypatch.setenv("DEPTHREP_RESULTS", str(tmp_path / "results"))
    return tmp_path / "results"


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: runs a notebook, a training or a fresh virtual environment (seconds to "
                                       "minutes); `make unit-fast` leaves these out")
