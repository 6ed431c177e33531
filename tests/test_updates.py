"""The update rules beside the paper's: Adam, momentum, L-BFGS, the Fourier image (depthrep/updates.py)."""
import numpy as np
import pytest
import torch

import depthrep_utils as du


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
