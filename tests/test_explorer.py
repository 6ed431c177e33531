"""The explorer's widgets, run, search, stop, image control and errors (depthrep/explorer.py)."""
import time

import numpy as np
import pytest
import torch

import depthrep_utils as du


def resnet18_at(layer, weights="untrained"):
    return du.truncate(du.load_resnet(18, weights == "ImageNet"), layer), f"ResNet18, {weights}, {layer}"



def _png(array: np.ndarray) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()



def test_explorer_runs_from_its_widgets():
    target = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    explorer = du.Explorer(target, resnet18_at, {"layer": ["conv1", "conv2", "conv3", "conv4"]}, step_size=0.1,
                           image="dalmatian",
                           steps=20)
    assert type(explorer.controls["layer"]).__name__ == "SelectionSlider"
    explorer.controls["layer"].value, explorer.blur.value = "conv2", False
    first = explorer.run()
    assert first["layer"] == "conv2" and first["steps"] == first["steps_run"] == 20 and not first["blur"]
    model_l = du.truncate(du.load_resnet(18), "conv2")
    d = du.distances(model_l, target, first["image"][None])
    assert first["m_g"] == pytest.approx(d["m_g"][0], rel=1e-4) and first["m_i"] == pytest.approx(d["m_i"][0], rel=1e-5)
    assert "m_g = " in explorer.readout.value and explorer.bar.value == 20 and not explorer.button.disabled
    np.testing.assert_allclose(explorer.figure.axes[1].images[0].get_array(), du.to_numpy_image(first["image"]))
    assert "ResNet18, untrained, conv2" in explorer.figure.texts[0].get_text()
    assert "step size 0.1" in explorer.figure.texts[0].get_text()
    not_matched = "NOT matched" in explorer.figure.axes[1].get_title()
    assert not_matched == (first["m_g"] >= first["m_s"])  # a run that missed the embedding says so
    explorer.step_size.value, explorer.steps.value = 0.01, 40
    explorer.button.click()  # the Run button: the same path, in a background thread
    second = explorer.wait()
    assert second["steps"] == 40 and second["step_size"] == pytest.approx(0.01)
    assert not torch.equal(first["image"], second["image"]) and second["m_g"] != first["m_g"]
    assert f"{second['m_i']:.4g}" in explorer.readout.value
    explorer.update.value = "Adam"  # Adam's first step moves every pixel by the step size
    explorer.steps.value = 10
    third = explorer.run()
    assert third["update"] == "Adam" and second["update"] == "paper"
    direct = du.invert(model_l, target, 10, 0.01, decay_to=0.0, update="adam", record_every=1)
    torch.testing.assert_close(third["image"], direct.images[0])
    explorer.blur.value = True  # eq. (5) with the recipe's sigmas: the target's against the dalmatian at 299 px
    blurred = explorer.run()
    sigmas = du.paper_blur_sigmas(target, du.load_image("dalmatian", 299)[0])
    direct = du.invert(model_l, target, 10, 0.01, decay_to=0.0, update="adam", blur=sigmas, record_every=1)
    torch.testing.assert_close(blurred["image"], direct.images[0])
    explorer.update.value = "Fourier"  # the Fourier image with Adam
    assert explorer.run() is None and "Fourier" in explorer.readout.value  # no eq. (5) for it: said, not run
    explorer.blur.value = False
    fourth = explorer.run()
    direct = du.invert(model_l, target, 10, 0.01, decay_to=0.0, update="adam", parameterization="fourier")
    torch.testing.assert_close(fourth["image"], direct.images[0])



def test_explorer_image_control_and_upload():
    """The image control swaps the target for a photograph or an uploaded file, through the loader and its errors."""
    from datetime import datetime, timezone

    target = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    explorer = du.Explorer(target, resnet18_at, {"layer": ["conv1", "conv2"]}, step_size=0.1, steps=5, blur=False)
    explorer.blur.value = True  # the notebook's target without its source: no sigmas to calibrate, said
    assert explorer.run() is None and "image=" in explorer.readout.value
    explorer.blur.value = False
    assert explorer.image.value == "the notebook's target" and "dalmatian" in explorer.image.options
    explorer.image.value = "astronaut"
    astronaut, _ = du.load_image("astronaut", 32)
    assert torch.equal(explorer.target, astronaut) and "astronaut (scikit-image), 32 px" in explorer.readout.value
    run = explorer.run()
    model = du.truncate(du.load_resnet(18), "conv1")
    assert run["target"] == "astronaut"
    assert run["m_i"] == pytest.approx(du.distances(model, astronaut, run["image"][None])["m_i"][0], rel=1e-5)

    rgba = np.random.default_rng(0).integers(0, 256, (20, 30, 4), dtype=np.uint8)  # RGBA, not square
    data = _png(rgba)
    upload = lambda name, content: ({"name": name, "type": "image/png", "size": len(content),  # noqa: E731
                                     "content": memoryview(content), "last_modified": datetime.now(timezone.utc)},)
    explorer.upload.value = upload("mine.png", data)
    assert explorer.image.value == "upload: mine.png" and "mine.png (uploaded)" in explorer.readout.value
    assert torch.equal(explorer.target, du.read_image(data, 32))
    mine = explorer.target
    explorer.upload.value = upload("notes.txt", b"not an image")  # the loader's message, not a traceback
    assert "ImageError" in explorer.readout.value and "Cannot read image notes.txt" in explorer.readout.value
    assert "BytesIO" not in explorer.readout.value
    assert explorer.target is mine and explorer.image.value == "upload: mine.png"
    explorer.image.value = "the notebook's target"
    assert explorer.target is target
    assert du.uploaded_files({"a.png": {"metadata": {"name": "a.png"}, "content": b"xy"}}) == [("a.png", b"xy")]
    assert "image" not in [getattr(c, "description", "") for c in
                           du.Explorer(target, resnet18_at, {"layer": ["conv1"]}, images=False).widget.children]



def test_explorer_stop_search_and_remembered_step_sizes():
    target = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    chosen = {"conv1": 0.5, "conv3": 0.002}
    explorer = du.Explorer(target, resnet18_at, {"layer": ["conv1", "conv2", "conv3"]}, steps=200,
                           chosen=lambda v: chosen.get(v["layer"]))
    assert explorer.step_size.value == pytest.approx(0.5)  # the notebook's choice for conv1
    explorer.controls["layer"].value = "conv3"
    assert explorer.step_size.value == pytest.approx(0.002)
    explorer.controls["layer"].value = "conv2"  # nothing remembered: the slider stays
    assert explorer.step_size.value == pytest.approx(0.002)
    explorer.steps.value = 30
    found = explorer.search_step_size()  # the batched full-length search: its best run is the result
    best = found["step_size"]
    assert explorer.step_size.value == pytest.approx(best) and best in found["search"]
    assert found["m_g"] == pytest.approx(min(found["search"].values()), rel=1e-4)
    assert found["steps_run"] == 30 and len(found["search"]) >= len(explorer.search_step_sizes)
    assert "best of the search" in explorer.readout.value
    stopped = du.invert(explorer._model()[0], target, 200, best, on_step=lambda k: k == 7)  # stops after step 7
    assert stopped.steps.tolist() == [0] and torch.isfinite(stopped.images).all()
    explorer.steps.value = 3000
    explorer.start()
    deadline = time.time() + 60
    while explorer.bar.value < 30 and time.time() < deadline:  # the run is under way
        time.sleep(0.01)
    assert explorer.bar.value >= 30, f"the run showed {explorer.bar.value} of 3000 steps after 60 s"
    assert explorer.button.disabled and not explorer.stop.disabled  # no second run while one goes
    explorer.stop.click()
    last = explorer.wait()
    assert last["steps_run"] < 3000 and "stopped after" in explorer.readout.value
    assert not explorer.button.disabled and explorer.stop.disabled



def test_explorer_reports_unavailable_weights_and_clears_the_figure():
    def build(weights):
        if weights == "ImageNet":
            raise du.WeightsUnavailableError("no weights offline")
        return du.truncate(du.load_resnet(18), "conv1"), "ResNet18 conv1"

    explorer = du.Explorer(torch.rand(1, 3, 32, 32), build, {"weights": ["untrained", "ImageNet"]}, steps=10)
    assert explorer.run() is not None and explorer.figure is not None
    explorer.controls["weights"].value = "ImageNet"
    assert explorer.run() is None and "no weights offline" in explorer.readout.value
    assert explorer.figure is None and not explorer.out.outputs
