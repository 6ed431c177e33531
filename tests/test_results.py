"""Results files, the cache that makes reruns resume (its key covers the code), safe loading, setup consistency."""
import json
import os
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import depthrep.results  # noqa: E402
import depthrep_utils as du  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def test_save_json_and_fig(results):
    path = du.save_json({"a": float("nan"), "b": [1, 2]}, "nb", "numbers")
    assert json.loads(path.read_text()) == {"a": None, "b": [1, 2]}
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    png = du.save_fig(fig, "nb", "plot")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_atomic_write_keeps_old_file_on_failure(results):
    path = du.save_json({"v": 1}, "nb", "keep")
    with pytest.raises(TypeError):
        du.save_json({"v": object()}, "nb", "keep")
    assert json.loads(path.read_text()) == {"v": 1}


def test_cache_resumes_without_recomputing(results):
    calls = []

    def compute():
        calls.append(1)
        return {"x": 3}

    assert du.cached("nb", "thing", {"k": 1}, compute) == {"x": 3}
    assert du.cached("nb", "thing", {"k": 1}, compute) == {"x": 3}
    assert len(calls) == 1
    du.cached("nb", "thing", {"k": 2}, compute)
    assert len(calls) == 2
    assert len(list((results / "nb" / "cache").glob("thing-*.json"))) == 2


def test_cache_key_covers_the_code(results, monkeypatch):
    """A value computed by other code is never served: a changed compute function or library recomputes."""
    first = du.cached("nb", "v", {"k": 1}, lambda: {"x": 1.0})
    assert du.cached("nb", "v", {"k": 1}, lambda: {"x": 1.0}) == first  # same code: served from the cache
    assert du.cached("nb", "v", {"k": 1}, lambda: {"x": 2.0}) == {"x": 2.0}  # other code: recomputed
    monkeypatch.setattr(depthrep.results, "code_version", lambda: "another library")
    assert du.cached("nb", "v", {"k": 1}, lambda: {"x": 1.0, "new": True}) == {"x": 1.0, "new": True}
    assert len(list((results / "nb" / "cache").glob("v-*.pt"))) == 3


def test_code_version_covers_every_module_that_computes():
    """The cache key leaves out only the presentation modules, and no computing module imports them (so no
    cached computation runs code the key does not cover); any other module's source is in the key."""
    import ast

    package = ROOT / "depthrep"
    left_out = {m.removesuffix(".py") for m in depthrep.results.PRESENTATION_MODULES}
    for path in package.glob("*.py"):
        if path.name in depthrep.results.PRESENTATION_MODULES:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [f"{node.module}.{a.name}" for a in node.names] if isinstance(node, ast.ImportFrom)
                     and node.module else [])
            hit = [n for n in names if set(n.split(".")[1:2]) & left_out and n.startswith("depthrep")]
            assert not hit, f"{path.name} imports {hit}: a computing module must not use presentation code"
    computing = sorted(p.name for p in package.glob("*.py") if p.name not in depthrep.results.PRESENTATION_MODULES)
    assert {"inversion.py", "blur.py", "updates.py", "search.py", "speed.py", "peers.py", "metrics.py", "models.py",
            "layers.py", "experiments.py"} <= set(computing)


def test_cache_files_are_loaded_without_running_their_code(results, tmp_path):
    """A results cache from someone else cannot execute code when it is read (weights_only=True)."""
    import torch

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    value = {"inversion": du.Inversion(torch.zeros(1, 3, 2, 2), *[np.zeros(1)] * 5), "arr": np.arange(3)}
    calls = []

    def compute():
        calls.append(1)
        return value

    du.cached("nb", "ok", {}, compute)
    loaded = du.cached("nb", "ok", {}, compute)
    assert calls == [1]
    assert isinstance(loaded["inversion"], du.Inversion) and loaded["arr"].tolist() == [0, 1, 2]
    bad = tmp_path / "bad.pt"
    torch.save({"x": Payload()}, bad)
    with pytest.raises(Exception, match="Weights only load failed"):
        du.load_safely(bad)
    assert not (tmp_path / "pwned").exists()


def test_requirements_and_environment_name_the_same_packages():
    pip = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pip[name.strip().lower()] = version.strip()
    conda = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"\s*-\s+([A-Za-z0-9_.-]+)\s*(==|=)\s*([0-9][0-9.]*)", line)
        if m and m.group(1) != "python":
            conda[{"pytorch": "torch"}.get(m.group(1), m.group(1)).lower()] = m.group(3)
    assert set(conda) == set(pip)
    for name, version in conda.items():
        assert pip[name].startswith(version), (name, version, pip[name])


def status_of(results, claim):
    return {r["claim"]: r for r in json.loads((results / "claims.json").read_text())}[claim]
