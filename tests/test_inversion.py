"""Inversion (eqs. 3-5), layers, metrics and the line search."""
import dataclasses
import math
import sys
import time

import numpy as np
import pytest
import torch

import depthrep_utils as du


def linear_model(n_in: int, n_out: int, orthonormal: bool) -> torch.nn.Module:
    """A bias-free linear map R^n_in -> R^n_out in float64; orthonormal columns when n_out >= n_in."""
    model = du.make_mlp([n_in, n_out], bias=False).double()
    if orthonormal:
        q, _ = torch.linalg.qr(torch.randn(n_out, n_in, dtype=torch.float64, generator=torch.Generator().manual_seed(1)))
        model[1].weight.copy_(q)
    return model


def test_overcomplete_linear_model_is_inverted():
    target = torch.rand(1, 3, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    model = linear_model(108, 300, orthonormal=True)
    run = du.invert(model, target, steps=3000, step_size=0.01, decay_to=0.0)
    start = du.input_distance(du.start_image(target.shape, 0, dtype=torch.float64), target)[0]
    assert run.m_i[0] < 0.02 * start, (run.m_i, start)


def test_rank_deficient_model_matches_embedding_but_not_input():
    target = torch.rand(1, 3, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    model = linear_model(108, 40, orthonormal=False)  # rank 40 < 108 inputs
    run = du.invert(model, target, steps=3000, step_size=0.01, decay_to=0.0)
    d = du.distances(model, target, run.images)
    start = du.input_distance(du.start_image(target.shape, 0, dtype=torch.float64), target)[0]
    assert run.m_g[0] < 0.05 * d["m_s"][0], (run.m_g, d["m_s"])  # embedding matched far better than a'
    assert run.m_i[0] > 0.5 * start, (run.m_i, start)  # ... while the input stays far away


def test_truncated_model_equals_intermediate_activation_and_stops_there():
    model = du.load_resnet(18)
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    seen = {}
    model.layer3.register_forward_hook(lambda m, i, o: seen.setdefault("conv4", o))
    model.maxpool.register_forward_hook(lambda m, i, o: seen.setdefault("conv1_pool", o))
    model(x)
    for layer in ("conv4", "conv1_pool"):
        torch.testing.assert_close(du.truncate(model, layer, fast=False)(x), seen[layer], rtol=0, atol=0)
        fast = du.truncate(model, layer)  # BatchNorm folded into the convolutions, channels-last
        assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.modules())
        torch.testing.assert_close(fast(x), seen[layer], rtol=1e-4, atol=1e-5 * seen[layer].abs().max().item())
    assert model.bn1.training is False and isinstance(model.layer1[0].bn1, torch.nn.BatchNorm2d)  # untouched
    kept = {name for name, _ in du.truncate(model, "conv4").graph.named_modules()}
    assert not any(k.startswith(("layer4", "fc", "avgpool")) for k in kept), kept
    assert any(k.startswith("layer3") for k in kept)


@pytest.mark.parametrize("depth", [18, 50])
def test_without_skips_drops_every_shortcut_and_nothing_else(depth):
    model = du.load_resnet(depth)
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    block = model.layer1[1]  # an identity block: residual relu(z + x), plain relu(z)
    last_bn = block.bn3 if depth == 50 else block.bn2
    with torch.no_grad():
        last_bn.weight.zero_(), last_bn.bias.zero_()  # z = 0: the residual block passes x, the plain one 0
        h = torch.relu(torch.randn(1, block.conv1.in_channels, 8, 8))
        torch.testing.assert_close(block(h), h)
        plain = du.without_skips(model)
        assert plain.layer1[1](h).abs().max() == 0
        assert isinstance(plain.layer3[0], du.NoSkip) and not isinstance(model.layer3[0], du.NoSkip)
        for layer in ("conv1", "conv3"):  # same shapes; conv1 has no block, so the same values
            fast, residual = du.truncate(plain, layer)(x), du.truncate(model, layer)(x)
            assert fast.shape == residual.shape
            torch.testing.assert_close(fast, du.truncate(plain, layer, fast=False)(x), rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(du.truncate(plain, "conv1")(x), du.truncate(model, "conv1")(x))
    assert du.fingerprint(plain) != du.fingerprint(model)  # a cache cannot serve one for the other


def test_gabor_conv1_keeps_each_kernels_norm_and_is_a_gabor_bank():
    model = du.load_resnet(18, seed=1)
    gabor = du.with_gabor_conv1(model, seed=1)
    w, w0 = gabor.conv1.weight, model.conv1.weight
    torch.testing.assert_close(w.flatten(1).norm(dim=1), w0.flatten(1).norm(dim=1))
    assert not torch.allclose(w, w0) and du.fingerprint(gabor) != du.fingerprint(model)
    bank = du.gabor_bank(64, 7, seed=1)
    assert bank.shape == (64, 3, 7, 7)
    # each kernel is one colour times one spatial pattern (rank 1); a quarter of the patterns are blobs
    # (one sign), the rest Gabor functions, which change sign along their wave
    patterns = []
    for k in bank:
        _, values, vh = torch.linalg.svd(k.reshape(3, -1).double())
        assert values[1] < 1e-6 * values[0]
        patterns.append(vh[0])
    assert sum(bool((p > 0).any() and (p < 0).any()) for p in patterns) == 48
    with pytest.raises(ValueError, match="multiple of 4"):
        du.gabor_bank(10, 7)


def test_node_names_work_for_any_model():
    model = du.load_efficientnet_lite0(trained=False)
    out = du.truncate(model, "_blocks.4.add")(torch.rand(1, 3, 64, 64))
    assert out.shape[1:] == (40, 8, 8)
    assert du.truncate(model, "conv3")(torch.rand(1, 3, 64, 64)).shape == out.shape


@pytest.mark.parametrize("blur", [False, True])
def test_batched_runs_equal_separate_runs(blur):
    model = du.truncate(du.load_resnet(18), "conv3")
    targets = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    # The paper's sigmas in pixels: the strong blur damps rounding. With a near-identity 3x3 blur, a batch's
    # different float rounding flips L1 signs within a few steps (chaos at a kink, not a batching bug: the
    # unblurred case below checks batching without any damping).
    kw = dict(steps=12, decay_to=0.0, blur=du.PAPER_BLUR_SIGMAS if blur else None, record_every=4)
    batched = du.invert(model, targets, step_size=[0.05, 0.01], seed=[1, 2], **kw)
    for i, (step_size, seed) in enumerate([(0.05, 1), (0.01, 2)]):
        alone = du.invert(model, targets[i:i + 1], step_size=step_size, seed=seed, **kw)
        torch.testing.assert_close(batched.images[i:i + 1], alone.images, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(batched[i].history["m_g"], alone.history["m_g"], rtol=1e-4)
    assert batched.history["m_g"].shape == (3, 2) and list(batched.steps) == [0, 4, 8]


def test_history_records_distances_of_the_iterates():
    model = du.truncate(du.load_resnet(18), "conv2")
    target = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    run = du.invert(model, target, steps=5, step_size=0.1, record_every=1)
    x0 = du.start_image(target.shape, 0)
    assert run.history["m_i"][0, 0] == pytest.approx(du.input_distance(x0, target)[0], rel=1e-5)
    assert run.history["m_g"][0, 0] == pytest.approx(du.embedding_distance(model, x0, target)[0], rel=1e-4)
    assert run.history["loss"][0, 0] == pytest.approx(float((model(x0) - model(target)).abs().sum()), rel=1e-4)
    d = du.distances(model, target, run.images)
    assert run.m_g[0] == pytest.approx(d["m_g"][0], rel=1e-4) and run.m_i[0] == pytest.approx(d["m_i"][0], rel=1e-5)


def test_start_image_and_shift_follow_the_paper():
    a0 = du.start_image((1, 3, 200, 200), seed=0)
    assert abs(a0.mean().item() - 0.7) < 0.002 and abs(a0.std().item() - 0.05) < 0.002
    a = torch.zeros(1, 3, 200, 200)
    assert abs(du.shifted_input(a, 1 / 20, seed=1).std().item() - 0.05) < 0.002
    torch.testing.assert_close(du.shifted_input(a, seed=1), du.shifted_input(a, seed=1))
    # a' - a and a_0 - 0.7 come from different noise for the same seed (they were once the same draw).
    shift = du.shifted_input(a, 1 / 20, seed=0).flatten()
    assert abs(float(torch.corrcoef(torch.stack([shift, (a0 - 0.7).flatten()]))[0, 1])) < 0.01

    # A float64 run starts and is shifted where its float32 twin is (torch's float64 draws are other numbers):
    # otherwise a precision comparison would compare two starts.
    torch.testing.assert_close(du.start_image((1, 3, 40, 40), 3, dtype=torch.float64),
                               du.start_image((1, 3, 40, 40), 3).double())
    a64 = torch.full((1, 3, 40, 40), 0.5, dtype=torch.float64)
    torch.testing.assert_close(du.shifted_input(a64, seed=2), du.shifted_input(a64.float(), seed=2).double())


def test_m_s_is_the_mean_over_several_shifts():
    model = du.make_mlp([12, 7], seed=0)
    a = torch.rand(1, 3, 2, 2, generator=torch.Generator().manual_seed(0))
    each = [du.embedding_distance(model, du.shifted_input(a, 0.05, seed=k), a)[0] for k in range(du.SHIFTS)]
    assert du.SHIFTS >= 4 and len(set(each)) == du.SHIFTS
    assert du.distances(model, a, a, sigma=0.05, seed=0)["m_s"][0] == pytest.approx(np.mean(each), rel=1e-6)


def test_blur_removes_the_papers_share_of_the_target_at_every_size():
    # The paper's sigmas 2.4 -> 0.4 remove 9.7% -> 1.3% of its 299-px dalmatian's contrast per step ...
    dalmatian, _ = du.load_target("dalmatian", 299, 0, torch.device("cpu"))
    shares = [du.blur_share(dalmatian, sigma) for sigma in du.PAPER_BLUR_SIGMAS]
    assert shares == pytest.approx([0.09724, 0.012928], rel=2e-3)
    # ... and at 64 px the same sigma removes far more; sigma_for_share finds the one that removes as much.
    small, _ = du.load_target("dalmatian", 64, 0, torch.device("cpu"))
    assert du.blur_share(small, 2.4) > 2 * shares[0]
    for share in shares:
        assert du.blur_share(small, du.sigma_for_share(small, share)) == pytest.approx(share, rel=1e-6)
    with pytest.raises(ValueError, match="out of reach"):
        du.sigma_for_share(small, 0.99)
    # blur_sigmas is that recipe for a named image; at 299 px it gives the paper's sigmas back.
    sigmas = du.blur_sigmas("dalmatian", 64)
    assert sigmas == pytest.approx([du.sigma_for_share(small, s) for s in shares], rel=1e-6) and sigmas[0] < 1
    assert du.blur_sigmas("dalmatian", 299) == pytest.approx(du.PAPER_BLUR_SIGMAS, rel=1e-6)
    # invert takes the sigmas themselves: no hidden default, and a bare flag is refused with the way out.
    model = du.make_mlp([3 * 64 * 64, 20])
    run = du.invert(model, small, 2, 0.01, blur=sigmas, record_every=1)
    x1 = du.blur3x3(du.start_image(small.shape, 0) - 0.01 * run_gradient(model, small), sigmas[0])
    torch.testing.assert_close(run.images, du.blur3x3(x1 - 0.01 * run_gradient(model, small, x1),
                                                      sigmas[0] + 0.5 * (sigmas[1] - sigmas[0])))
    for bad in (True, (1.0,), (1.0, -0.5)):
        with pytest.raises(ValueError, match="blur_sigmas"):
            du.invert(model, small, 1, 0.01, blur=bad)


def run_gradient(model, target, x=None):
    """The L1 loss's input gradient at ``x`` (the start image when None): one step of eq. (4) by hand."""
    x = (du.start_image(target.shape, 0) if x is None else x).clone().requires_grad_(True)
    with torch.no_grad():
        y = model(target)
    (g,) = torch.autograd.grad((model(x) - y).abs().sum(), x)
    return g


def test_each_target_is_blurred_by_its_own_299_px_share():
    """The paper's 2.4 -> 0.4 remove different shares of the Tesla coil's contrast than of the dalmatian's;
    paper_blur_sigmas gives the sigmas that remove the Tesla's own shares at a smaller size."""
    tesla, _ = du.load_target("tesla", 299, 0, torch.device("cpu"))
    small, _ = du.load_target("tesla", 64, 0, torch.device("cpu"))
    shares = [du.blur_share(tesla, s) for s in du.PAPER_BLUR_SIGMAS]
    assert abs(shares[0] - 0.09724) > 0.01  # not the dalmatian's
    sigmas = du.paper_blur_sigmas(small, tesla)
    for sigma, share in zip(sigmas, shares):
        assert du.blur_share(small, sigma) == pytest.approx(share, rel=1e-6)
    assert du.paper_blur_sigmas(tesla, tesla) == pytest.approx(du.PAPER_BLUR_SIGMAS, rel=1e-2)
    assert du.blur_sigmas("tesla", 64) == pytest.approx(sigmas, rel=1e-9)  # the recipe by name


def test_blur_is_a_normalised_gaussian():
    x = torch.rand(2, 3, 16, 16)
    y = du.blur3x3(x, 1.0)
    assert y.shape == x.shape and abs(y.mean().item() - x.mean().item()) < 0.01
    assert y.std() < x.std()  # smoother
    k = du.gaussian_kernel3(torch.tensor([0.4, 2.4]))
    assert torch.allclose(k.sum((1, 2)), torch.ones(2)) and k[0, 1, 1] > k[1, 1, 1]


def test_clamp_keeps_pixels_in_unit_range():
    model = du.truncate(du.load_resnet(18), "conv1")
    target = torch.rand(1, 3, 32, 32)
    run = du.invert(model, target, steps=5, step_size=1.0, clamp=True)
    assert run.images.min() >= 0 and run.images.max() <= 1


def test_nan_from_too_large_step_size_names_it():
    model = du.truncate(du.load_resnet(18), "conv5")
    target = torch.rand(1, 3, 32, 32)
    with pytest.raises(FloatingPointError, match=r"step size 1e\+30"):
        du.invert(model, target, steps=30, step_size=1e30, record_every=1)


def test_zero_or_negative_step_size_is_refused():
    model = du.make_mlp([12, 12])
    for bad in (0.0, -0.1, [0.1, 0.0]):
        with pytest.raises(ValueError, match="step_size must be > 0"):
            du.invert(model, torch.rand(1, 3, 2, 2), steps=2, step_size=bad)


def test_finite_explosion_is_marked_diverged_and_skipped_by_the_line_search():
    # A linear model's L1 gradient has a fixed size, so a huge step flings the image far from any image (pixels
    # ~1e5) while every number stays finite: no NaN to catch, but the run means nothing.
    model = du.make_mlp([48, 48], seed=0)
    target = torch.rand(1, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    with pytest.warns(RuntimeWarning, match=r"diverged with step size 100000: the image exploded"):
        run = du.invert(model, target, steps=20, step_size=[1e5, 0.01], decay_to=0.0)
    assert np.isfinite(run.m_g).all() and run.diverged.tolist() == [True, False]
    best, table = du.line_search(model, target, [1e5, 0.01, 0.001], steps=20, decay_to=0.0)
    assert table[1e5] == float("inf") and best != 1e5
    assert not du.matched(dict(m_g=0.0, m_s=1.0, diverged=True))  # a diverged run never counts as matched


def test_line_search_picks_smallest_final_m_g_and_survives_divergence():
    model = du.truncate(du.load_resnet(18), "conv2")
    target = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    # Steps small enough that the L1 signs do not amplify rounding (batch and thread count change it).
    best, table = du.line_search(model, target, [1e30, 0.03, 0.003, 0.0003], steps=20, batch=3, decay_to=0.0)
    assert table[1e30] == float("inf")
    assert best == min(table, key=table.get) and best != 1e30
    alone = du.invert(model, target, 20, best, decay_to=0.0)
    assert alone.m_g[0] == pytest.approx(table[best], rel=1e-3)


def test_metrics_by_hand():
    model = du.make_mlp([12, 5], seed=0)
    a, b = torch.rand(1, 3, 2, 2), torch.rand(1, 3, 2, 2)
    expected = torch.sqrt(((model(a) - model(b)) ** 2).sum()).item()
    assert du.embedding_distance(model, a, b)[0] == pytest.approx(expected, rel=1e-5)
    assert du.input_distance(a, b)[0] == pytest.approx(torch.sqrt(((a - b) ** 2).sum()).item(), rel=1e-6)


def resnet18_at(layer, weights="untrained"):
    return du.truncate(du.load_resnet(18, weights == "ImageNet"), layer), f"ResNet18, {weights}, {layer}"


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


def _png(array: np.ndarray) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


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


def test_line_search_goes_below_a_grid_where_every_step_size_diverged():
    model = du.make_mlp([48, 48], seed=0)
    target = torch.rand(1, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    best, table = du.line_search(model, target, [1e6, 1e5], steps=20, decay_to=0.0, relocate=False)
    assert table[1e6] == table[1e5] == float("inf") and best < 1e5 and math.isfinite(table[best])


def test_line_search_extends_past_the_edge_of_the_grid():
    model = du.truncate(du.load_resnet(18), "conv2")
    target = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    best, table = du.line_search(model, target, [1e-6, 1e-5], steps=20, decay_to=0.0, relocate=False)
    assert best > 1e-5 and len(table) > 2  # the grid was too small; the search went up to find the scale
    assert table[best] == min(table.values()) and table[best] < table[1e-5]


def test_exact_inverse_and_jacobian_rank():
    a = torch.rand(1, 3, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    square = du.make_mlp([48, 48, 48]).double()
    torch.testing.assert_close(du.exact_inverse(square, square(a)).reshape(a.shape), a)
    assert du.jacobian_rank(square, a) == 48
    assert du.jacobian_rank(du.make_mlp([48, 20, 60]), a) == 20  # a narrow layer caps the rank
    relu = du.make_mlp([48, 48], activation=torch.nn.ReLU)
    active = int((relu(a.float()) > 0).sum())
    assert du.jacobian_rank(relu, a) == active  # each zeroed unit removes one direction
    with pytest.raises(ValueError, match="square"):
        du.exact_inverse(du.make_mlp([48, 60]), torch.rand(1, 60))


def test_collapsed_linear_mlp_has_the_same_output_and_input_gradient():
    """Eight linear layers as one affine map: the same outputs and L1 input gradients (float64 exactly, float32
    to rounding), so eq. (4) takes the same steps; a ReLU MLP is refused."""
    deep = du.make_mlp([48] + [96] * 8, seed=4)
    a = torch.rand(2, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    y = torch.randn(2, 96, generator=torch.Generator().manual_seed(1)) * deep(a).std()
    for dtype, tol in ((torch.float64, 1e-10), (torch.float32, 2e-5)):
        model = du.make_mlp([48] + [96] * 8, seed=4).to(dtype)
        flat = du.collapse_linear(model)
        assert len(du.linear_layers(flat)) == 1 and flat[1].weight.dtype == dtype
        x = a.to(dtype).requires_grad_(True)
        grads = [torch.autograd.grad((m(x) - y.to(dtype)).abs().sum(), x)[0] for m in (model, flat)]
        torch.testing.assert_close(flat(a.to(dtype)), model(a.to(dtype)), rtol=tol, atol=tol * float(y.abs().max()))
        torch.testing.assert_close(grads[1], grads[0], rtol=tol, atol=tol * float(grads[0].abs().max()))
    with pytest.raises(ValueError, match="ReLU"):
        du.collapse_linear(du.make_mlp([48, 48], activation=torch.nn.ReLU))


def test_null_space_floor_is_where_gradient_descent_ends_on_a_linear_mlp():
    """The floor equals the distance from a of a_0 moved onto the inputs with a's output along the row space
    (a_0 + pinv(P) (P a - P a_0), P the weights' product); it is 0 for a full-rank model."""
    gen = torch.Generator().manual_seed(3)
    a, a0 = torch.rand(1, 3, 4, 4, generator=gen), torch.rand(1, 3, 4, 4, generator=gen)
    narrow = du.make_mlp([48, 20, 30], seed=2)
    p = (narrow[2].weight.double() @ narrow[1].weight.double()).detach().numpy()  # [0] is a Flatten
    x = a0.double().flatten().numpy()
    end = x + np.linalg.pinv(p) @ (p @ a.double().flatten().numpy() - p @ x)
    expected = float(np.linalg.norm(end - a.double().flatten().numpy()))
    assert expected > 0.5
    assert du.null_space_floor(narrow, a0, a) == pytest.approx(expected, rel=1e-9)
    assert du.null_space_floor(du.make_mlp([48, 60, 60], seed=2), a0, a) < 1e-9


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU (a CPU target with a GPU model)")
def test_jacobian_rank_of_a_gpu_model_at_a_cpu_point():
    # Notebook 04 at the paper profile on a GPU failed here once (mat1 on cpu, weights on cuda:0).
    a = torch.rand(1, 48, generator=torch.Generator().manual_seed(0))
    assert du.jacobian_rank(du.make_mlp([48, 20, 60]).cuda(), a) == 20


def like_trained(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Give every BatchNorm the statistics and affine parameters a trained model has (an untrained one's fold
    into a zero bias, which would hide a folding that drops the bias)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for bn in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)):
            c = bn.num_features
            bn.running_mean.copy_(0.3 * torch.randn(c, generator=gen))
            bn.running_var.copy_(0.5 + torch.rand(c, generator=gen))
            bn.weight.copy_(0.5 + torch.rand(c, generator=gen))
            bn.bias.copy_(0.2 * torch.randn(c, generator=gen))
    return model


def test_fast_truncation_computes_the_same_function_and_input_gradient():
    """BatchNorm folding and channels-last change only rounding: in float64 the embedding and the input
    gradient of the L1 loss equal the plain graph's to 1e-10 (in float32 a ReLU unit at its kink may flip).
    The BatchNorms carry trained-like statistics, so the folded biases are not zero."""
    model = like_trained(du.load_resnet(18)).double()
    target, start = (torch.rand(1, 3, 48, 48, dtype=torch.float64, generator=torch.Generator().manual_seed(s))
                     for s in (0, 1))
    grads, embeddings = [], []
    for fast in (False, True):
        model_l = du.truncate(model, "conv4", fast=fast)
        x = start.clone().requires_grad_(True)
        embeddings.append(model_l(x))
        loss = (embeddings[-1] - model_l(target)).abs().sum()
        grads.append(torch.autograd.grad(loss, x)[0])
    assert grads[0].abs().max() > 0
    torch.testing.assert_close(embeddings[1], embeddings[0], rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-10, atol=1e-10 * grads[0].abs().max().item())


def test_adam_takes_steps_of_the_step_size_in_pixel_units():
    model = du.truncate(du.load_resnet(18), "conv2")
    target = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    start = du.start_image(target.shape, 0)
    one = du.invert(model, target, 1, [0.01, 0.001], update="adam")
    moved = (one.images - start).abs().flatten(1).amax(1)  # Adam's first step is eps * sign(g)
    np.testing.assert_allclose(moved.numpy(), [0.01, 0.001], rtol=1e-3)
    run = du.invert(model, target, 60, 0.01, update="adam", decay_to=0.0, record_every=59)
    assert run.history["m_g"][-1, 0] < 0.5 * run.history["m_g"][0, 0]
    with pytest.raises(ValueError, match="update"):
        du.invert(model, target, 1, 0.01, update="newton")


def test_bf16_autocast_runs_and_reports_full_precision_distances():
    model = du.truncate(du.load_resnet(18), "conv2")
    target = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    full = du.invert(model, target, 20, 0.01, record_every=5)
    half = du.invert(model, target, 20, 0.01, record_every=5, autocast=torch.bfloat16)
    assert half.m_g.dtype == np.float32 and half.history["m_g"].dtype == np.float32
    assert np.all(np.isfinite(half.history["m_g"]))
    assert abs(half.m_g[0] / full.m_g[0] - 1) < 0.2, (half.m_g, full.m_g)  # bf16 keeps ~3 significant digits
    assert 0 < full.step_seconds <= full.seconds


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_heap_reuse_is_active_after_an_inversion_on_cpu():
    model = du.truncate(du.load_resnet(18), "conv1")
    du.invert(model, torch.rand(1, 3, 16, 16), 1, 0.01)
    assert du.reuse_freed_memory() is True


def test_search_invert_returns_its_best_full_length_run_as_the_result():
    # Every step size runs the result's own length and schedule; the best run is the result, equal to the same
    # run made alone (float64: no rounding for the L1 signs to amplify), and visualize_layer reports exactly it.
    target = torch.rand(1, 3, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    model = linear_model(108, 300, orthonormal=True)
    grid = [1.0, 0.1, 0.01, 0.001]
    run, table = du.search_invert(model, target, grid, steps=200, decay_to=0.0, seed=1)
    best = float(run.step_size[0])
    assert run.m_g[0] == table[best] == min(table.values()) and sorted(table) == sorted(grid)
    alone = du.invert(model, target, 200, best, decay_to=0.0, seed=1)
    torch.testing.assert_close(run.images, alone.images)
    resnet, image = du.load_resnet(18), torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    run, table = du.search_invert(du.truncate(resnet, "conv2"), image, [3.0, 0.3, 0.03], 20, decay_to=0.0)
    r = du.visualize_layer(resnet, "conv2", image, 20, [3.0, 0.3, 0.03], blur=None, seed=0)
    assert r["step_size"] == float(run.step_size[0]) and r["search"] == table and r["runs"] == len(table)
    torch.testing.assert_close(r["image"], run.images[0])
    assert r["m_g"] == pytest.approx(run.m_g[0], rel=1e-4) and r["seconds"] > 0


def test_search_does_not_extend_a_flat_table():
    # An embedding that ignores the input gives the same m_g at every step size: nothing to find past the edge.
    class Constant(torch.nn.Module):
        def forward(self, x):
            return 0 * x[:, :1] + 1.0

    target = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    _, table = du.search_invert(Constant(), target, [1.0, 0.1, 0.01], steps=5, decay_to=0.0)
    assert sorted(table) == [0.01, 0.1, 1.0]


def test_a_grid_far_from_the_gradients_scale_is_moved_there_first():
    # A linear model with weights 1e8 times larger needs step sizes 1e8 times smaller: the search moves the grid
    # there from the first gradient (no extension rounds) and finds the same relative optimum.
    target = torch.rand(1, 3, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    model = linear_model(108, 300, orthonormal=True)
    grid = [1.0, 0.1, 0.01, 0.001]
    best, table = du.line_search(model, target, grid, steps=200, decay_to=0.0)
    assert sorted(table) == sorted(grid)  # a grid that covers the first gradient's scale stays as it is
    with torch.no_grad():
        model[1].weight.mul_(1e8)
    moved = du.relocate_grid(model, target, grid, 200)
    assert all(m / g == pytest.approx(moved[0] / grid[0]) for m, g in zip(moved, grid)) and max(moved) < 1e-6
    big_best, big_table = du.line_search(model, target, grid, steps=200, decay_to=0.0)
    assert big_best == pytest.approx(best * moved[0] / grid[0]) and len(big_table) == len(grid)
    assert du.relocate_grid(model, target, grid, 200, update="adam") == grid  # Adam's steps are pixels


@pytest.mark.parametrize("kernel, padding, size", [(7, 3, 299), (7, 3, 48), (3, 1, 33), (3, 0, 20), (5, 2, 17)])
def test_polyphase_input_gradient_equals_the_convolutions(kernel, padding, size):
    """InputConv2d (the stem's input gradient as one stride-1 convolution + pixel shuffle) gives the same
    input gradient as torch's own backward of the stride-2 convolution, at odd and even sizes (float64)."""
    torch.manual_seed(0)
    plain = torch.nn.Conv2d(3, 16, kernel, stride=2, padding=padding).double().requires_grad_(False)
    fast = du.InputConv2d.of(plain)  # frozen like its original
    assert not fast.weight.requires_grad
    x = torch.rand(2, 3, size, size, dtype=torch.float64)
    grads = []
    for conv in (plain, fast):
        xx = x.clone().requires_grad_(True)
        y = conv(xx)
        grads.append(torch.autograd.grad((y * torch.linspace(-1, 1, y.numel(), dtype=y.dtype).view_as(y)).sum(), xx)[0])
    assert grads[1].shape == x.shape
    assert getattr(fast, "_poly_key", None) is not None, "the polyphase path ran (its kernel was built)"
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-12, atol=1e-12)
    fast.weight.requires_grad_(True)  # trainable weights: a plain convolution again, with its weight gradient
    fast(x.clone().requires_grad_(True)).sum().backward()
    assert fast.weight.grad is not None


def test_folded_batchnorm_keeps_its_bias():
    """Folding a BatchNorm into its convolution: w' = w gamma / sqrt(var + eps), b' = beta + (b - mean) gamma /
    sqrt(var + eps), checked on one conv-BN pair by hand."""
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, bias=False), torch.nn.BatchNorm2d(4)).double()
    like_trained(net, seed=3).eval()
    folded = du.fold_batchnorm(torch.fx.symbolic_trace(net))
    (conv,) = [m for m in folded.modules() if isinstance(m, torch.nn.Conv2d)]
    assert not [m for m in folded.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    bn = net[1]
    scale = bn.weight / (bn.running_var + bn.eps).sqrt()
    torch.testing.assert_close(conv.weight, net[0].weight * scale[:, None, None, None])
    torch.testing.assert_close(conv.bias, bn.bias - bn.running_mean * scale)
    x = torch.rand(2, 3, 8, 8, dtype=torch.float64)
    torch.testing.assert_close(folded(x), net(x))


@pytest.mark.parametrize("decay_to", [None, 0.0, 0.5])
def test_step_size_falls_linearly_to_decay_to(decay_to):
    """eps_n = eps_0 (1 - (n / steps)(1 - decay_to)), n = 0 .. steps - 1 (constant without decay_to). An
    identity model with the target far above the start has the L1 gradient -1 in every pixel at every step,
    so after k steps each pixel has moved by exactly the partial sum of the schedule."""
    steps, eps_0, start = 40, 0.1, -30.0
    target = torch.rand(1, 3, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    a_0 = du.start_image(target.shape, 0, start, 1 / 20, torch.float64)
    for k in (10, 20, 40):
        run = du.invert(torch.nn.Identity(), target, steps, eps_0, decay_to=decay_to, start_mean=start,
                        on_step=lambda done: done == k)
        n = np.arange(k)
        want = eps_0 * (np.ones(k) if decay_to is None else 1 - (n / steps) * (1 - decay_to)).sum()
        moved = (run.images - a_0).double()
        torch.testing.assert_close(moved, torch.full_like(moved, want), rtol=1e-12, atol=1e-12)


def test_truncate_works_on_a_model_another_tool_has_hooked():
    """A forward hook that keeps its module's output (a tensor inside an autograd graph) must not stop
    truncate's private copy, and the copy does not call it; the original keeps its hook."""
    model = du.load_resnet(18)
    kept = []
    model.conv1.register_forward_hook(lambda mod, inputs, out: kept.append(out))
    model(torch.rand(1, 3, 32, 32, requires_grad=True))
    assert kept[-1].grad_fn is not None
    model_l = du.truncate(model, "conv2")
    model_l(torch.rand(1, 3, 32, 32))
    assert len(kept) == 1, "the truncated copy called the original's hook"
    model(torch.rand(1, 3, 32, 32))
    assert len(kept) == 2
    mlp = du.make_mlp([12, 12])  # jacobian's private double-precision copy too
    mlp[1].register_forward_hook(lambda mod, inputs, out: kept.append(out))
    mlp(torch.rand(1, 3, 2, 2, requires_grad=True))
    assert du.jacobian(mlp, torch.rand(1, 3, 2, 2)).shape == (12, 12)


def test_depth_rank_correlation_is_exact_at_its_thresholds():
    assert du.depth_rank_correlation([1, 2, 3, 4, 5]) == 1.0
    assert du.depth_rank_correlation([5, 4, 3, 2, 1]) == -1.0
    swapped = [0.07, 26.9, 38.0, 52.0, 51.6]  # one adjacent swap among five (GoogLeNet's m_i by depth)
    assert du.depth_rank_correlation(swapped) == 0.9 and du.depth_rank_correlation(swapped) >= 0.9
    assert du.depth_rank_correlation([1, 3, 2, 5, 4]) < 0.9  # two swaps
    with pytest.raises(ValueError, match="at least 2"):
        du.depth_rank_correlation([1.0])


def test_iterations_to_reach_a_level():
    steps, values = [0, 10, 20, 30], [5.0, 3.0, 1.0, 0.5]
    assert du.iterations_to_reach(steps, values, 3.0) == 10 and du.iterations_to_reach(steps, values, 0.9) == 30
    assert du.iterations_to_reach(steps, values, 0.1) is None


def test_non_unique_four_families():
    """du.non_unique_effects: log2(m_i / ||a' - a||) per start. Matched runs far from a (holds); as far as a' (no
    effect); nearer than a' (reverse: an invertible layer); missed runs never count as non-unique."""
    spread = du.Spread(seeds=[0, 1, 2], step_size=0.01, m_g=[0.2, 0.3, 0.25], m_i=[30.0, 32.0, 31.0],
                       input_distances=[], embedding_distances=[], start_distances=[], shift_distance=5.0, m_s=1.0)
    assert du.non_unique(spread) and min(du.non_unique_effects(spread).values()) > 2.5
    verdict = lambda sp: du.replicate_verdict(du.non_unique_effects(sp), du.NON_UNIQUE_FLOOR)[0]  # noqa: E731
    assert verdict(spread) is True
    flat = dataclasses.replace(spread, m_i=[5.2, 4.9, 6.0])  # within noise of ||a' - a||
    assert not du.non_unique(flat) and verdict(flat) is False
    reverse = dataclasses.replace(spread, m_i=[0.4, 0.5, 0.3])  # the invertible case
    assert verdict(reverse) is False and max(du.non_unique_effects(reverse).values()) < -du.NON_UNIQUE_FLOOR
    assert verdict(dataclasses.replace(spread, m_i=[30.0, 4.0, 31.0])) is None  # starts disagree
    assert not du.non_unique(dataclasses.replace(spread, m_g=[0.2, 1.5, 0.25]))  # one start missed
    assert du.non_unique(dataclasses.replace(spread, m_i=[10.0, 10.0, 10.0]))  # exactly twice: counted


def test_momentum_update_is_the_icnn_recipe():
    """update='momentum': v = 0.9 v + g / mean|g|, a <- a - eps v. An identity model with the target far above
    the start has the L1 gradient -1 in every pixel (mean |g| = 1), so after k steps at a constant step size each
    pixel has moved by eps * sum_{i=1..k} (1 - 0.9^i) / (1 - 0.9); the gradient's own size does not matter."""
    eps_0, start = 0.01, -30.0
    target = torch.rand(1, 3, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    a_0 = du.start_image(target.shape, 0, start, 1 / 20, torch.float64)
    for scale in (1.0, 1e6):
        for k in (1, 5, 12):
            run = du.invert(torch.nn.Identity(), target, 40, eps_0, update="momentum", start_mean=start,
                            loss_scale=scale, on_step=lambda done: done == k)
            i = np.arange(1, k + 1)
            want = eps_0 * ((1 - 0.9 ** i) / (1 - 0.9)).sum()
            moved = (run.images - a_0).double()
            torch.testing.assert_close(moved, torch.full_like(moved, want), rtol=1e-10, atol=1e-10)

    class Diagonal(torch.nn.Module):  # pixel i weighted by w_i: |g_i| = w_i, so the first step is eps w / mean(w)
        def forward(self, x):
            return x * weights

    weights = torch.linspace(0.5, 4.0, 48, dtype=torch.float64).reshape(1, 3, 4, 4)
    run = du.invert(Diagonal(), target, 40, eps_0, update="momentum", start_mean=start,
                    on_step=lambda done: done == 1)
    moved = (run.images - a_0).double()
    torch.testing.assert_close(moved, eps_0 * weights / weights.mean(), rtol=1e-10, atol=1e-12)


def test_fourier_image_starts_exactly_at_the_start_image_and_stays_in_range():
    for h, w in [(8, 8), (9, 7), (32, 32)]:
        a_0 = du.start_image((2, 3, h, w), 3)
        image = du.FourierImage(a_0)
        torch.testing.assert_close(image(image.spectrum), a_0, rtol=1e-5, atol=1e-5)
        far = image(image.spectrum + 50 * torch.randn_like(image.spectrum))
        assert far.shape == a_0.shape and bool(((far >= 0) & (far <= 1)).all())
    with pytest.raises(ValueError, match="inside"):
        du.FourierImage(torch.ones(1, 3, 4, 4))
    # The basis: a unit spectral coefficient at frequency f (cycles per pixel) makes a wave of amplitude
    # proportional to 1 / max(f, 1 / side) in the decorrelated channel, which C maps to RGB (columns of unit
    # maximum norm), before the sigmoid.
    image = du.FourierImage(torch.full((1, 3, 8, 8), 0.5, dtype=torch.float64))  # logit 0: spectrum 0
    assert float(image.spectrum.abs().max()) < 1e-12

    def wave(row, col, channel=0):
        s = torch.zeros_like(image.spectrum)
        s[0, channel, row, col, 0] = 1.0
        rgb_logit = torch.logit(image(s))
        return torch.einsum("ij,bjhw->bihw", torch.linalg.inv(image.color), rgb_logit), rgb_logit

    z_dc, rgb_dc = wave(0, 0)
    z_low, _ = wave(0, 1)  # f = 1/8: weight 8, as the DC term's 1 / (1/8)
    z_high, _ = wave(0, 2)  # f = 1/4: weight 4 (both away from the Nyquist column, which has no mirror)
    torch.testing.assert_close(z_dc[0, 0], torch.full((8, 8), 8 / 8 / 4, dtype=torch.float64))  # ortho: / sqrt(64)
    assert float(z_dc[0, 1:].abs().max()) < 1e-12
    assert float(z_low[0, 0].abs().max() / z_high[0, 0].abs().max()) == pytest.approx(2.0, rel=1e-9)
    torch.testing.assert_close(rgb_dc[0, :, 0, 0], image.color[:, 0] * 0.25)
    assert float(image.color.norm(dim=0).max()) == pytest.approx(1.0)


def test_fourier_and_momentum_runs_descend_batch_and_start_at_a0():
    model = du.truncate(du.load_resnet(18), "conv2")
    targets = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    for kw in (dict(update="momentum"), dict(update="adam", parameterization="fourier"),
               dict(update="sgd", parameterization="fourier")):
        step = {"momentum": 0.004, "adam": 0.05, "sgd": 1.0}[kw["update"]]
        run = du.invert(model, targets, 30, [step, step / 2], seed=[1, 2], decay_to=0.0, record_every=29, **kw)
        pixel = du.invert(model, targets, 1, [step, step / 2], seed=[1, 2], record_every=1)
        np.testing.assert_allclose(run.history["m_i"][0], pixel.history["m_i"][0], rtol=1e-4)  # the same a_0
        assert np.all(run.history["m_g"][-1] < 0.8 * run.history["m_g"][0]), (kw, run.history["m_g"])
        # Each run of a batch is what it would be alone (8 steps: longer, float rounding flips L1 signs at
        # the kink and the runs part chaotically, batched or not; see test_batched_runs_equal_separate_runs).
        short = du.invert(model, targets, 8, [step, step / 2], seed=[1, 2], decay_to=0.0, **kw)
        for i in range(2):
            alone = du.invert(model, targets[i:i + 1], 8, [step, step / 2][i], seed=[1, 2][i], decay_to=0.0, **kw)
            torch.testing.assert_close(short.images[i:i + 1], alone.images, rtol=1e-4, atol=1e-5)
        if kw.get("parameterization") == "fourier":
            assert bool(((run.images > 0) & (run.images < 1)).all())
    with pytest.raises(ValueError, match="blur"):
        du.invert(model, targets[:1], 1, 0.05, parameterization="fourier", blur=(1.0, 0.5))
    with pytest.raises(ValueError, match="parameterization"):
        du.invert(model, targets[:1], 1, 0.05, parameterization="wavelet")
    assert du.relocate_grid(model, targets[:1], [1.0, 0.1], 30, parameterization="fourier") == [1.0, 0.1]


def test_lbfgs_direction_solves_an_ill_conditioned_quadratic_per_run():
    """Two runs of f(x) = x.A.x / 2 (condition 100), each with its own history: L-BFGS at the full step reaches
    1e-6 of the start in 40 steps, gradient descent at its best constant step stays above 1e-3; the first
    direction is the gradient at ``first`` RMS; a pair of negative curvature counts for nothing."""
    a = torch.linspace(1.0, 100.0, 20, dtype=torch.float64)
    start = torch.randn(2, 20, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * torch.tensor(
        [[1.0], [10.0]], dtype=torch.float64)
    rule = du.LBFGSDirection(memory=10, first=0.01)
    first = rule(start, start * a)
    assert torch.allclose(first.pow(2).mean(dim=1).sqrt(), torch.full((2,), 0.01, dtype=torch.float64))
    x = start - first
    for _ in range(39):
        x = x - rule(x, x * a)
    assert (x.norm(dim=1) / start.norm(dim=1)).max() < 1e-6
    gd = start.clone()
    for _ in range(40):
        gd = gd - 2 / (1 + 100) * gd * a
    assert (gd.norm(dim=1) / start.norm(dim=1)).min() > 1e-3
    bent = du.LBFGSDirection()
    bent(torch.zeros(1, 3), torch.ones(1, 3))
    d = bent(torch.ones(1, 3), torch.zeros(1, 3))  # s.y = -3 < 0: no curvature information
    assert torch.isfinite(d).all() and float(bent.pairs[0][2]) == 0.0
