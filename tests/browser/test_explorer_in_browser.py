"""The explorer as a researcher uses it: JupyterLab in headless Chromium (`make test-browser`).

Starts JupyterLab on 127.0.0.1 with a random token on a copy of notebook 01 at a tiny profile, runs every
cell from the Run menu, moves the layer and step-size sliders with the keyboard, clicks Run, and checks that
the readout and the figure appear with m_g, m_s and m_i equal to a direct ``du.invert`` call with the values
the sliders show; uploads an image file through the image control's upload button and checks the same on it, and
that a file that is not an image gets the loader's message. Then saves, reloads the page and checks that no "Error displaying widget" is left.
Screenshots go to build/browser/. Skipped unless DEPTHREP_BROWSER=1 (the Makefile target sets it, after
installing Chromium and the pinned driver library); every process it starts is stopped.
"""
from __future__ import annotations

import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "browser"
TINY = dict(IMAGE_SIZE=32, STEPS=40, SEARCH_STEP_SIZES=[0.5, 0.03, 0.002], DEPTH_SEEDS=[0], REPLICATE_IMAGES=[],
            LAYERS=["conv1", "conv2", "conv3", "conv4", "conv5"])
CHROMIUM = os.environ.get("DEPTHREP_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")

pytestmark = pytest.mark.skipif(os.environ.get("DEPTHREP_BROWSER") != "1",
                                reason="browser test: run `make test-browser`")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def lab(tmp_path):
    """JupyterLab serving a tiny-profile copy of notebook 01; yields (base URL, token, notebook name)."""
    import papermill

    root = tmp_path / "lab"
    root.mkdir()
    papermill.execute_notebook(str(ROOT / "notebooks" / "01_representation_vs_depth.ipynb"),
                               str(root / "tiny01.ipynb"), parameters=dict(TINY, PROFILE="tiny"),
                               prepare_only=True, kernel_name="python3")
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k not in ("DEPTHREP_HEADLESS", "MPLBACKEND", "DEPTHREP_PROGRESS")}
    env.update(DEPTHREP_RESULTS=str(tmp_path / "results"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_DATA_DIR=str(tmp_path / "data"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               OMP_NUM_THREADS="2")
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--ServerApp.open_browser=False", "--LabApp.news_url=", "--LabApp.check_for_updates_class="
           "jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp_path / "lab.log", "w")
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                assert server.poll() is None, (tmp_path / "lab.log").read_text()
                time.sleep(0.5)
        yield base, token, "tiny01.ipynb"
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server, its kernels and anything they started
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()


def _slider(page, label: str):
    """The slider widget whose description is ``label``."""
    return page.locator(".widget-slider", has=page.locator(".widget-label", has_text=re.compile(f"^{label}$")))


def _readout(page, label: str) -> str:
    return _slider(page, label).locator(".widget-readout").inner_text().strip()


def _dismiss_news(page) -> None:
    """JupyterLab asks once whether to fetch news; say no (it would cover part of the screenshots)."""
    no = page.get_by_role("button", name="No", exact=True).first
    try:
        no.click(timeout=3000)
    except Exception:  # not asked
        pass


_shots = iter(range(1, 1000))


def _stuck(page, what: str, waited: float) -> AssertionError:
    """The failure a stalled wait reports: what it waited for, how long, the open dialogs' text, the kernel's
    status, the cell prompts, and a screenshot's path."""
    shot = SHOTS / f"failure_{next(_shots)}.png"
    try:
        page.screenshot(path=str(shot))
    except Exception as err:  # the page itself is gone
        shot = f"(no screenshot: {err})"
    dialogs = [d.inner_text().strip().replace("\n", " | ") for d in page.locator(".jp-Dialog").all()]
    status = page.locator(".jp-Notebook-ExecutionIndicator").first
    kernel = status.get_attribute("data-status") if status.count() else "no indicator"
    toolbar = page.locator(".jp-KernelName, .jp-Toolbar-kernelName").first
    name = toolbar.inner_text().strip() if toolbar.count() else "?"
    return AssertionError(f"{what}: nothing after {waited:.0f} s. Open dialogs: {dialogs or 'none'}; kernel "
                          f"{name!r} {kernel}; cell prompts {_prompts(page)}; screenshot {shot}")


def _wait_kernel_idle(page, limit: float, settle: float) -> None:
    """Wait until the notebook's kernel has been idle, by name, for ``settle`` seconds in a row."""
    idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    named = page.locator(".jp-KernelName, .jp-Toolbar-kernelName", has_text="Python 3")
    since = [None]

    def settled() -> bool:
        now = time.monotonic()
        if idle.count() and named.count():
            since[0] = since[0] or now
            return now - since[0] >= settle
        since[0] = None
        return False
    _wait(page, "kernel start", settled, limit=limit)


def _prompts(page) -> list[str]:
    """The code cells' input prompts as shown: ' ' (not run), '*' (queued or running) or the count."""
    return [re.sub(r"[\[\]:\s]", "", t) or " " for t in
            page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()]


def _wait(page, what: str, done, limit: float, idle_limit: float | None = None) -> None:
    """Poll ``done()`` every half second until it is true. Fails at once when a dialog opens or a cell shows a
    traceback, after ``limit`` seconds in all, and after ``idle_limit`` seconds in which nothing on the page
    changed (no prompt, no output)."""
    start = last_change = time.monotonic()
    seen = None
    while not done():
        now = time.monotonic()
        if page.locator(".jp-Dialog").count():
            raise _stuck(page, f"{what}: a dialog is open", now - start)
        if page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
                        has_text="Traceback").count() or page.locator(".jp-RenderedText",
                                                                      has_text="Traceback (most recent").count():
            raise _stuck(page, f"{what}: a cell raised", now - start)
        shown = (_prompts(page), len(page.locator(".jp-Notebook").inner_text()))  # prompts, outputs
        if shown != seen:
            seen, last_change = shown, now
        if now - start > limit or (idle_limit and now - last_change > idle_limit):
            raise _stuck(page, what, now - start)
        page.wait_for_timeout(500)


def test_explorer_runs_in_jupyterlab_and_matches_invert(lab):
    from playwright.sync_api import sync_playwright

    import depthrep_utils as du

    base, token, name = lab
    SHOTS.mkdir(parents=True, exist_ok=True)
    args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.goto(f"{base}/lab/tree/{name}?token={token}")
            page.locator(".jp-Notebook").wait_for(timeout=60_000)
            # The notebook's own kernel, started and idle for a while: "Run All Cells" before that (the
            # toolbar still says "No Kernel", or the session is still connecting) runs nothing, or opens
            # JupyterLab's "Select Kernel" dialog.
            _wait_kernel_idle(page, limit=90, settle=3.0)
            _dismiss_news(page)
            started = lambda: any(p != " " for p in _prompts(page))  # noqa: E731
            for attempt in (1, 2):  # as a user would: if nothing happens, Run All once more
                page.keyboard.press("Escape")  # a menu left open by the first attempt
                page.get_by_role("menuitem", name="Run", exact=True).click()
                page.get_by_role("menuitem", name=re.compile("^Run All Cells")).click()
                try:
                    _wait(page, f"Run All Cells (attempt {attempt}): first cell", started,
                          limit=20 if attempt == 1 else 60)
                    break
                except AssertionError as err:
                    if attempt == 2 or "Open dialogs: none" not in str(err):  # a dialog: say so now
                        raise
                    print(f"nothing ran after the first Run All Cells, trying once more: {err}")
            # Then every cell up to the explorer runs (the slowest, at this tiny profile, takes well
            # under two minutes on 2 idle cores; with two other test suites running beside it, a cell
            # showed nothing for over 180 s).
            run = page.locator("button.widget-button", has_text=re.compile(r"^\s*Run\s*$"))
            _wait(page, "Run All Cells: cells up to the explorer", lambda: run.count() > 0, limit=900,
                  idle_limit=420)
            run.scroll_into_view_if_needed()
            page.screenshot(path=str(SHOTS / "1_explorer_after_run_all.png"))
            text = page.locator(".jp-Notebook").inner_text()
            assert "Error displaying widget" not in text and "Traceback" not in text

            # Move the layer slider one notch right, the step-size slider three notches left.
            layer_before = _readout(page, "layer")
            _slider(page, "layer").locator(".noUi-handle").focus()
            page.keyboard.press("ArrowRight")
            step_before = _readout(page, "step size")
            _slider(page, "step size").locator(".noUi-handle").focus()
            for _ in range(3):
                page.keyboard.press("ArrowLeft")
            page.wait_for_timeout(500)
            layer, step_text = _readout(page, "layer"), _readout(page, "step size")
            steps = int(_readout(page, "iterations"))
            assert layer != layer_before and step_text != step_before, (layer, step_text)
            page.screenshot(path=str(SHOTS / "2_sliders_moved.png"))

            run.click()
            readout = page.locator(".widget-html-content", has_text="m_g =")
            _wait(page, "explorer Run: readout", lambda: readout.count() > 0, limit=240)
            figure = page.locator(".widget-output img").last  # the explorer's own figure
            figure.wait_for(timeout=30_000)
            figure.scroll_into_view_if_needed()
            page.screenshot(path=str(SHOTS / "3_after_run.png"))
            got = {k: float(v) for k, v in re.findall(r"(m_[gsi]) = ([0-9.eE+-]+)", readout.inner_text())}
            assert set(got) == {"m_g", "m_s", "m_i"}, readout.inner_text()
            assert figure.evaluate("img => img.naturalWidth") > 300

            # The same inversion, directly: the slider's value is 10^(k * 0.05), shown to 3 digits.
            step_size = 10 ** (round(math.log10(float(step_text)) / 0.05) * 0.05)
            target, _ = du.load_target("dalmatian", TINY["IMAGE_SIZE"], 0, "cpu")
            model = du.truncate(du.load_resnet(50, trained=False, seed=0), layer)
            direct = du.invert(model, target, steps, step_size, decay_to=0.0,
                               blur=du.blur_sigmas("dalmatian", TINY["IMAGE_SIZE"]),
                               record_every=max(1, steps // 100))
            want = {k: float(v[0]) for k, v in du.distances(model, target, direct.images).items()}
            for k in want:  # same arithmetic; the kernel and this process may split threads differently
                assert got[k] == pytest.approx(want[k], rel=2e-3), (k, got, want, layer, step_size)

            # Your own image: upload a file through the widget's file input, run, compare; then a file that is
            # not an image: the loader's message in the readout, the uploaded image stays the target.
            import io

            from PIL import Image

            png = io.BytesIO()
            import numpy as np

            pixels = np.random.default_rng(0).integers(0, 256, (36, 48, 4), dtype=np.uint8)  # RGBA, textured
            Image.fromarray(pixels).save(png, format="PNG")
            button = page.locator(".widget-upload", has_text="your image").first

            def upload(name: str, mime: str, content: bytes) -> None:
                """Click the upload button and pick the file in the chooser it opens, as a user does."""
                with page.expect_file_chooser(timeout=15_000) as chooser:
                    button.click()
                chooser.value.set_files(files=[{"name": name, "mimeType": mime, "buffer": content}])

            upload("my_photo.png", "image/png", png.getvalue())
            loaded = page.locator(".widget-html-content", has_text="my_photo.png (uploaded)")
            _wait(page, "upload: readout names the file", lambda: loaded.count() > 0, limit=30)
            run.click()
            _wait(page, "explorer Run on the upload: readout",
                  lambda: page.locator(".widget-html-content", has_text="m_g =").count() > 0, limit=240)
            page.screenshot(path=str(SHOTS / "3b_after_upload_run.png"))
            got = {k: float(v) for k, v in re.findall(r"(m_[gsi]) = ([0-9.eE+-]+)",
                                                      page.locator(".widget-html-content",
                                                                   has_text="m_g =").inner_text())}
            mine = du.read_image(png.getvalue(), TINY["IMAGE_SIZE"])
            direct = du.invert(model, mine, steps, step_size, decay_to=0.0,  # eq. (5) on its own 299-px copy
                               blur=du.paper_blur_sigmas(mine, du.read_image(png.getvalue(), du.PAPER_SIZE)),
                               record_every=max(1, steps // 100))
            want = {k: float(v[0]) for k, v in du.distances(model, mine, direct.images).items()}
            for k in want:
                assert got[k] == pytest.approx(want[k], rel=2e-3), (k, got, want)
            upload("notes.txt", "text/plain", b"no image")
            refused = page.locator(".widget-html-content", has_text="Cannot read image notes.txt")
            _wait(page, "a file that is not an image: the loader's message", lambda: refused.count() > 0, limit=30)
            page.screenshot(path=str(SHOTS / "3c_upload_refused.png"))

            # Save, reload: nothing broken is left where widgets were.
            page.keyboard.press("Control+s")
            page.wait_for_timeout(1500)
            page.reload()
            page.locator(".jp-Notebook").wait_for(timeout=60_000)
            _dismiss_news(page)
            page.wait_for_timeout(3000)
            cells = page.locator(".jp-Notebook .jp-Cell")
            seen = []
            for i in range(cells.count()):  # the notebook renders cells as they come into view
                cells.nth(i).scroll_into_view_if_needed()
                seen.append(cells.nth(i).inner_text())
            page.wait_for_timeout(1000)
            page.screenshot(path=str(SHOTS / "4_after_reload.png"))
            text = "\n".join(seen)
            assert "m_g = " in text or "Explorer" in text  # the last cells were really read
            assert "Error displaying widget" not in text and "model not found" not in text
        finally:
            browser.close()
