"""The install a Colab user makes: the project's wheel in a fresh virtual environment, one notebook from
a working directory outside the checkout (as `%pip install git+<repository URL>`, then opening a notebook).

The fresh environment sees the dependencies of this one (torch alone is gigabytes) through a path file that
lists its site-packages folder: a plain path line, so the editable install's own path hook there stays
inactive and the checkout is not importable. The project itself comes only from the wheel.
"""
import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # runs notebooks or builds a fresh virtual environment
TINY_04 = dict(PROFILE="tiny", SIDE=8, MAX_DEPTH=2, P_DEPTH=2, STEPS=60, SEARCH_STEP_SIZES=[0.1, 0.01])


def _run(cmd: list, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.mark.skipif(sys.platform == "win32", reason="venv layout of POSIX")
def test_wheel_in_a_fresh_venv_runs_a_notebook_outside_the_checkout(tmp_path):
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(ROOT)])
    wheels = list(dist.glob("depthrep-*.whl"))
    assert len(wheels) == 1, wheels

    env_dir = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip())
    (site / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    work = tmp_path / "work"  # the user's working directory: no checkout, no data, no results
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DEPTHREP_RESULTS", "VIRTUAL_ENV")}
    env.update(JUPYTER_DATA_DIR=str(tmp_path / "jupyter"), JUPYTER_PATH="", MPLBACKEND="Agg",
               DEPTHREP_HEADLESS="1", PATH=f"{env_dir / 'bin'}:{env.get('PATH', '')}")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--quiet", str(wheels[0])],
         env=env, cwd=work)
    where = _run([str(python), "-c", "import depthrep, depthrep_utils as du; print(depthrep.__file__); "
                  "print(du.ROOT)"], env=env, cwd=work).stdout.split()
    assert Path(where[0]).is_relative_to(site), f"depthrep came from {where[0]}, not from the wheel in {site}"
    assert Path(where[1]) == work, f"results and data would go to {where[1]}, not the working directory"
    _run([str(python), "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"], env=env, cwd=work)

    notebook = ROOT / "notebooks" / "04_relu_width.ipynb"  # a Colab user opens the notebook file itself
    _run([str(python), "-m", "papermill", str(notebook), str(work / "ran.ipynb"), "-k", "python3",
          "-y", json.dumps(TINY_04)], env=env, cwd=work)
    assert list((work / "data").glob("dalmatian*")), "the image was not fetched into ./data"
    figures = list((work / "results" / "04_relu_width").glob("*.png"))
    assert figures, f"no figures under ./results: {sorted(p.name for p in work.rglob('*'))[:20]}"
    record = json.loads((work / "results" / "claims.json").read_text())
    assert {r["profile"] for r in record} == {"tiny"} and len(record) >= 2
