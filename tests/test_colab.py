"""The install a Colab user makes, on Colab's own package versions (tests/colab/constraints.txt: ipywidgets 7.7.1,
ipython 7.34, ipykernel 6.17.1, numpy 2.1.3, matplotlib 3.10 ...): the project's wheel goes into a fresh virtual
environment holding those versions, must not move any of them, runs a notebook from an empty working directory
and drives the explorer through its widgets (Run, Search, Stop, the layer and image controls, an upload as Colab's
front end sends it). Colab's front end renders ipywidgets 7 only, so a dependency that upgrades them
(``ipywidgets>=8``) leaves the explorer invisible there: this test fails on it.

The fresh environment sees this one's packages (torch alone is gigabytes) through a path file after its own
site-packages, so the Colab versions installed into it come first. Needs the package registry (as `make setup`).
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
CONSTRAINTS = ROOT / "tests" / "colab" / "constraints.txt"
TINY_04 = dict(PROFILE="tiny", SIDE=8, MAX_DEPTH=2, P_DEPTH=2, STEPS=60, SEARCH_STEP_SIZES=[0.1, 0.01])
DRIVE = """
import threading, time
import torch, ipywidgets
import depthrep_utils as du

def build(layer):
    return du.truncate(du.load_resnet(18), layer), f"ResNet18, untrained, {layer}"

target = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
e = du.Explorer(target, build, {"layer": ["conv1", "conv2", "conv3"]}, step_size=0.1, steps=10)
display(e.widget)
e.controls["layer"].value = "conv2"
e.button.click()                      # Run
run = e.wait()
assert run["layer"] == "conv2" and run["steps_run"] == 10 and "m_g = " in e.readout.value
e.search.click()                      # Search step size
searched = e.wait()
assert searched["steps_run"] == 10 and "best of the search" in e.readout.value
e.steps.value = 5000                  # a long run, then Stop
e.button.click()
deadline = time.time() + 60
while e.bar.value < 5 and time.time() < deadline:
    time.sleep(0.05)
assert e.bar.value >= 5, f"the run showed {e.bar.value} of 5000 steps after 60 s"
e.stop.click()
stopped = e.wait()
assert 0 < stopped["steps_run"] < 5000 and "stopped after" in e.readout.value, stopped["steps_run"]
def upload(name, content):             # what Colab's front end sends under ipywidgets 7
    e.upload.metadata = [{"name": name, "type": "image/png", "size": len(content), "lastModified": 0}]
    e.upload.data = [content]
    e.upload._counter += 1

import io
from PIL import Image
png = io.BytesIO()
Image.new("RGBA", (40, 30), (200, 30, 30, 128)).save(png, format="PNG")
upload("mine.png", png.getvalue())
assert e.image.value == "upload: mine.png" and tuple(e.target.shape) == (1, 3, 32, 32), e.readout.value
upload("notes.txt", b"not an image")
assert "Cannot read image notes.txt" in e.readout.value and e.image.value == "upload: mine.png"
e.image.value = "chelsea"
assert "chelsea (scikit-image)" in e.readout.value
e.steps.value = 10
assert e.run()["target"] == "chelsea"
print("explorer ok under ipywidgets", ipywidgets.__version__)
"""


def _run(cmd: list, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def pinned() -> dict[str, str]:
    return dict(line.split("==") for line in CONSTRAINTS.read_text().splitlines()
                if line.strip() and not line.startswith("#"))


@pytest.mark.skipif(sys.platform == "win32", reason="venv layout of POSIX")
def test_wheel_on_colabs_versions_runs_a_notebook_and_the_explorer(tmp_path):
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(ROOT)])
    wheel = next(dist.glob("depthrep-*.whl"))
    env_dir = tmp_path / "colab"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip())
    (site / "zz-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DEPTHREP_RESULTS", "VIRTUAL_ENV")}
    env.update(JUPYTER_DATA_DIR=str(tmp_path / "jupyter"), JUPYTER_PATH="", MPLBACKEND="Agg", DEPTHREP_HEADLESS="1",
               PATH=f"{env_dir / 'bin'}:{env.get('PATH', '')}")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "-c", str(CONSTRAINTS)]
    _run(pip + [f"{k}=={v}" for k, v in pinned().items()], env=env, cwd=work)  # Colab's runtime
    _run(pip + [str(wheel)], env=env, cwd=work)  # the user's %pip install: must not move Colab's versions
    got = json.loads(_run([str(python), "-c", "import json, importlib.metadata as m; print(json.dumps("
                           f"{{k: m.version(k) for k in {sorted(pinned())!r}}}))"], env=env, cwd=work).stdout)
    assert got == pinned(), f"the install moved Colab's versions: {got}"
    where = _run([str(python), "-c", "import depthrep; print(depthrep.__file__)"], env=env, cwd=work).stdout.strip()
    assert Path(where).is_relative_to(site), f"depthrep came from {where}, not from the wheel"

    _run([str(python), "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"], env=env, cwd=work)
    notebook = ROOT / "notebooks" / "04_relu_width.ipynb"
    _run([str(python), "-m", "papermill", str(notebook), str(work / "ran.ipynb"), "-k", "python3",
          "-y", json.dumps(TINY_04)], env=env, cwd=work)
    assert list((work / "results" / "04_relu_width").glob("*.png")), "no figures under ./results"

    drive = work / "drive.py"
    drive.write_text("from IPython.display import display\n" + DRIVE)
    out = _run([str(python), str(drive)], env=env, cwd=work, timeout=600).stdout
    assert "explorer ok under ipywidgets 7.7.1" in out, out
