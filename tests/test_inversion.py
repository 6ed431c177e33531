"""invert (eqs. 3-5): batched runs, the recorded history, the start image and shift, clamp, divergence, schedules."""
import numpy as np
import pytest
import torch

import depthrep_utils as du


def test_overcomplete_linear_model_is_inverted(linear_model):
    target = torch.rand(1, 3, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    model = linear_model(108, 300, orthonormal=True)
    run = du.invert(model, target, steps=3000, step_size=0.01, decay_to=0.0)
    start = du.input_distance(du.start_image(target.shape, 0, dtype=torch.float64), target)[0]
    assert run.m_i[0] < 0.02 * start, (run.m_i, start)


def test_rank_deficient_model_matches_embedding_but_not_input(linear_model):
    target = torch.rand(1, 3, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    model = linear_model(108, 40, orthonormal=False)  # rank 40 < 108 inputs
    run = du.invert(model, target, steps=3000, step_size=0.01, decay_to=0.0)
    d = du.distances(model, target, run.images)
    start = du.input_distance(du.start_image(target.shape, 0, dtype=torch.float64), target)[0]
    assert run.m_g[0] < 0.05 * d["m_s"][0], (run.m_g, d["m_s"])  # embedding matched far better than a'
    assert run.m_i[0] > 0.5 * start, (run.m_i, start)  # ... while the input stays far away


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


def test_bf16_autocast_runs_and_reports_full_precision_distances():
    model = du.truncate(du.load_resnet(18), "conv2")
    target = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    full = du.invert(model, target, 20, 0.01, record_every=5)
    half = du.invert(model, target, 20, 0.01, record_every=5, autocast=torch.bfloat16)
    assert half.m_g.dtype == np.float32 and half.history["m_g"].dtype == np.float32
    assert np.all(np.isfinite(half.history["m_g"]))
    assert abs(half.m_g[0] / full.m_g[0] - 1) < 0.2, (half.m_g, full.m_g)  # bf16 keeps ~3 significant digits
    assert 0 < full.step_seconds <= full.seconds


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
