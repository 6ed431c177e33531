"""The judging (depthrep/checks.py and the verdict rule in depthrep/claims.py) on synthetic numbers. Every check
in four families: the paper's direction (holds); no effect: flat, tied, shuffled, within noise (never holds);
the reverse (does not hold); no signal, saturation or too short a run (inconclusive, below scale). Also the
boundaries a wrong program would move (an effect of exactly 0, m_g == m_s, the shift's sigma, ...)."""
import dataclasses
import inspect
import itertools
import json

import numpy as np
import pytest
import torch

import depthrep_utils as du
from depthrep import checks

STEPS = np.arange(0, 5001, 25)
M_G = 25.0 * np.exp(-STEPS / 1500)  # exponential decay, 28-fold over the run
APPROACH = 30.0 * np.exp(-STEPS / 50)  # every run's first approach from ||a_0 - a||: fast, then gone


def test_late_trend_sees_m_i_rise_after_the_first_approach():
    rising = 20.0 + APPROACH + 4.0 * STEPS / STEPS[-1]  # Fig. 4 as the paper draws it
    t = du.late_trend(STEPS, rising, M_G)
    assert t["from step"] == 2500
    assert t["m_i relative change"] > 0.05 and t["corr(m_g, m_i)"] < -0.9


def test_late_trend_reversed_m_i_keeps_falling():
    # The measured shape (0.10.0 quick: 51 -> 25 in 50 steps, then a slow fall to 20): the paper reversed.
    falling = 20.0 + APPROACH + 4.0 * (1 - STEPS / STEPS[-1])
    t = du.late_trend(STEPS, falling, M_G)
    assert t["m_i relative change"] < -0.05 and t["corr(m_g, m_i)"] > 0.9


def test_late_trend_ignores_the_first_approach_and_constant_curves():
    # A run whose only move is the first approach has no late trend: m_i flat, correlation 0 (no direction).
    flat = 20.0 + 30.0 * (STEPS == 0)
    t = du.late_trend(STEPS, flat, M_G)
    assert t["m_i relative change"] == 0 and t["corr(m_g, m_i)"] == 0
    with pytest.raises(ValueError, match="at least 4"):
        du.late_trend([0, 1], [1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="record more often"):
        du.late_trend([0, 1, 2, 100], [4.0, 3.0, 2.0, 1.0], [4.0, 3.0, 2.0, 1.0])


def test_exponential_decay_tells_decay_from_a_stall():
    assert du.exponential_decay(STEPS, M_G)["decays"]
    stalled = 25.0 * (0.2 + 0.8 * np.exp(-STEPS / 100))  # falls 5-fold, then flat: not exponential
    d = du.exponential_decay(STEPS, stalled)
    assert not d["decays"] and d["fold decrease"] == pytest.approx(5.0, rel=1e-3)
    rising = M_G[::-1]  # the reversed direction
    assert not du.exponential_decay(STEPS, rising)["decays"]


def test_fig7_plateau_while_m_g_falls_and_its_reversals():
    floor = 6.0 + APPROACH * 0.2
    p = du.plateau_while_falling(STEPS, floor + 0.1 * STEPS / STEPS[-1], M_G)  # m_i slightly larger: the paper
    assert p["holds"] and not p["still settling"]
    decaying = 12.0 * np.exp(-STEPS / 1000)  # m_i decays towards the origin (the overcomplete case)
    p = du.plateau_while_falling(STEPS, decaying, M_G)
    assert not p["holds"] and not p["m_i does not decay"] and not p["m_i far from 0"]
    assert not p["still settling"]  # a run this long already contradicts the paper: no longer run can mend it
    m_g_stalled = np.full_like(M_G, 0.5)
    p = du.plateau_while_falling(STEPS, floor, m_g_stalled)
    assert not p["holds"] and not p["m_g keeps falling"] and p["m_i does not decay"] and p["still settling"]
    approaching = 6.0 + 6.0 * np.exp(-STEPS / 3000)  # still on its way down to a floor far from 0
    p = du.plateau_while_falling(STEPS, approaching, M_G)
    assert not p["holds"] and not p["m_i does not decay"] and p["m_i far from 0"] and p["still settling"]


def test_fig8_more_iterations_with_depth_and_its_reversals():
    depths = [1, 2, 4, 8]
    worse = [0.005, 0.03, 1.2, 5.5]  # m_i at the fixed budget, growing with depth
    assert du.depth_needs_more_iterations(depths, worse, [800, 1900, 2500, 4000])["holds"]
    reversed_ = du.depth_needs_more_iterations(depths, worse[::-1], [4000, 2500, 1900, 800])
    assert not reversed_["holds"] and not reversed_["worse at the fixed budget"]
    assert not reversed_["iterations grow with depth"]
    never = du.depth_needs_more_iterations(depths, worse, [800, 1900, 2500, None])
    assert not never["holds"] and never["never reached"] == [8]
    flat = du.depth_needs_more_iterations(depths, worse, [800, 800, 800, 800])  # deeper needs no more
    assert not flat["holds"]


# ---- the verdict rule: floors, boundaries, saturation on the decisive side, no signal, budgets ----

KW = dict(text="t", figure="f", profile="quick", model="m", image="i", sizes="s", numbers={})


def status(results, claim):
    return {r["claim"]: r for r in json.loads((results / "claims.json").read_text())}[claim]


def judge(results, effects, floor, **extra):
    du.check_claim("c", effects=effects, floor=floor, **KW, **extra)
    return status(results, "c")


def run(m_i=10.0, start=50.0, m_g=1.0, m_s=2.0, **extra):
    return dict(m_g=m_g, m_s=m_s, m_i=m_i, history={"m_i": [start]}, **extra)


def test_rule_four_families_and_its_boundaries(results):
    three = lambda v: {f"seed {k}": x for k, x in enumerate(v)}  # noqa: E731
    assert judge(results, three([3.1, 2.9, 0.4]), 0.1)["status"] == "holds"
    row = status(results, "c")
    assert row["numbers"]["effect min, median, max"] == [0.4, 2.9, 3.1]
    assert row["numbers"]["replicates in the paper's direction, reversed, no effect"] == "3, 0, 0 of 3"
    assert judge(results, three([-3.1, -2.9, -0.4]), 0.1)["status"] == "does not hold"  # reverse
    assert judge(results, three([0.0, 0.0, 0.0]), 0.1)["status"] == "does not hold"  # no effect: flat
    assert judge(results, three([0.05, -0.05, 0.09]), 0.1)["status"] == "does not hold"  # within the floor
    assert judge(results, three([1.0, 1.0, -1.0]), 0.1)["status"] == "inconclusive"  # disagree
    assert judge(results, three([1.0, 1.0]), 0.1)["status"] == "inconclusive"  # too few
    # Boundaries: the floor itself counts, an effect of exactly 0 never does, and a floor of 0 is refused.
    assert judge(results, three([0.1, 0.1, 0.1]), 0.1)["status"] == "holds"
    assert judge(results, three([0.1, 0.1, 0.0999]), 0.1)["status"] == "inconclusive"
    assert judge(results, three([1e-12, 1e-12, 1e-12]), 1e-9)["status"] == "does not hold"
    with pytest.raises(ValueError, match="> 0"):
        du.check_claim("c", effects=three([1.0, 1.0, 1.0]), floor=0.0, **KW)
    with pytest.raises(ValueError, match="floor"):
        du.check_claim("c", effects=three([1.0, 1.0, 1.0]), **KW)
    for holds in (True, False):  # a boolean on one random draw is inconclusive whatever it says
        du.check_claim("one", holds=holds, replicates=1, **KW)
        assert status(results, "one")["status"] == "inconclusive"
    with pytest.raises(ValueError, match="either"):
        du.check_claim("both", holds=True, effects=three([1, 1, 1]), floor=0.1, **KW)


def test_matched_needs_m_g_strictly_below_m_s():
    assert du.matched(dict(m_g=1.0, m_s=2.0)) and not du.matched(dict(m_g=2.0, m_s=2.0))
    assert not du.matched(dict(m_g=1.0, m_s=2.0, diverged=True))


def test_saturation_on_the_decisive_side_is_enough(results):
    """One run on the decisive side (the side the paper says is closer) ending near its start makes the
    comparison measure wandering, even when other runs (a stem at 0.001 of its start) ended close."""
    effects = {"a": 1.0, "b": 1.0, "c": 1.0}
    stem, near = run(m_i=0.05), run(m_i=47.0)  # ratios 0.001 and 0.94
    row = judge(results, effects, 0.5, runs={"stem": stem, "conv4": near}, decisive={"stem": stem, "conv4": near})
    assert row["status"] == "inconclusive" and row["why"].startswith("saturated") and "conv4 0.94" in row["why"]
    assert row["numbers"]["m_i / ||a_0 - a|| per decisive run"] == {"stem": 0.001, "conv4": 0.94}
    assert judge(results, effects, 0.5, runs={"conv5": near}, decisive={"conv4": run(m_i=30.0)})["status"] == "holds"
    edge = run(m_i=45.0)  # exactly 0.9: not above
    assert judge(results, effects, 0.5, decisive={"x": edge})["status"] == "holds"


def test_a_layer_without_signal_is_inconclusive(results):
    """GoogLeNet's untrained last block under torchvision's init: ||O(a)|| ~ 1e-11 for ||a|| ~ 40; any image
    "matches" it. Also an embedding that does not depend on the input (m_s ~ 0 beside a large ||O(a)||)."""
    effects = {"a": 1.0, "b": 1.0, "c": 1.0}
    vanished = run(m_g=1e-12, m_s=3.9e-12, embedding_norm=1e-11, input_norm=40.0)
    constant = run(m_g=0.0, m_s=1e-9, embedding_norm=50.0, input_norm=40.0)
    alive = run(embedding_norm=50.0, input_norm=40.0)
    assert checks.no_signal(vanished).startswith("||O(a)||") and checks.no_signal(constant).startswith("m_s")
    assert checks.no_signal(alive) == "" and checks.no_signal(dict(m_s=1.0)) == ""
    for dead in (vanished, constant):
        row = judge(results, effects, 0.5, runs={"4/4": dead, "1/4": alive})
        assert row["status"] == "inconclusive" and row["why"].startswith("no signal")
    assert judge(results, effects, 0.5, runs={"1/4": alive})["status"] == "holds"


def test_a_short_run_is_below_scale_whichever_way_it_points(results):
    short = checks.too_short(400, 5000, "the conv5 curves")
    assert "400 steps" in short and "5000" in short and checks.too_short(5000, 5000, "x") == ""
    for sign in (1, -1):
        row = judge(results, {"a": sign, "b": sign, "c": sign}, 0.5, below_scale=short)
        assert row["status"] == "below scale"
    assert judge(results, {"a": 1, "b": 1, "c": 1}, 0.5, below_scale="")["status"] == "holds"


# ---- depth trends ----

def trend_status(results, profiles):
    effects = {f"r{k}": checks.depth_trend(p)["effect"] for k, p in enumerate(profiles)}
    return judge(results, effects, checks.MIN_RHO)["status"]


def test_depth_trend_four_families(results):
    grows = [[0.04, 20, 30, 40, 50], [0.05, 22, 29, 41, 48], [0.03, 18, 31, 39, 52]]
    assert trend_status(results, grows) == "holds"
    assert trend_status(results, [[0.04, 40, 40, 40, 40]] * 3) == "does not hold"  # flat after the stem
    assert trend_status(results, [[0.04, 40, 38, 41, 39]] * 3) == "does not hold"  # shuffled
    assert trend_status(results, [[0.04, 40, 40.5, 40.8, 41.0]] * 3) == "does not hold"  # a 2.5% rise: noise
    assert trend_status(results, [p[:1] + p[1:][::-1] for p in grows]) == "does not hold"  # reversed
    t = checks.depth_trend([0.04, 40, 40, 40, 40])
    assert t["rho over the judged layers"] == 0.0 and t["effect"] == 0.0 and t["stem m_i"] == [0.04]
    with pytest.raises(ValueError, match="3 layers"):
        checks.depth_trend([1.0, 2.0, 3.0])


def test_depth_trend_stops_at_the_first_saturated_layer(results):
    """conv4's run ended at 0.95 of its start: conv2 < conv3 < conv4 is judged, conv4 vs conv5 is not (both
    wandered); with conv2 itself saturated nothing can be judged and the claim is inconclusive."""
    def layer_runs(m_i, ratios):
        return {l: run(m_i=m, start=m / r) for l, m, r in zip(("conv1", "conv2", "conv3", "conv4", "conv5"), m_i,
                                                              ratios)}
    layers = ["conv1", "conv2", "conv3", "conv4", "conv5"]
    late = layer_runs([0.04, 20, 30, 47.5, 47.0], [0.001, 0.4, 0.6, 0.95, 0.94])  # conv5 below conv4: wander
    d = checks.depth_trends({f"r{k}": late for k in range(3)}, layers)
    assert d["trends"]["r0"]["judged"] == 3 and d["effects"]["r0"] == 1.0
    assert set(d["decisive"]) == {f"r{k} {l}" for k in range(3) for l in ("conv2", "conv3")}
    assert judge(results, d["effects"], checks.MIN_RHO, decisive=d["decisive"])["status"] == "holds"
    early = layer_runs([0.04, 47, 48, 49, 50], [0.001, 0.94, 0.96, 0.98, 0.99])
    d = checks.depth_trends({f"r{k}": early for k in range(3)}, layers)
    assert d["trends"]["r0"]["judged"] == 1 and d["effects"]["r0"] == 0.0 and "r0 conv2" in d["decisive"]
    row = judge(results, d["effects"], checks.MIN_RHO, decisive=d["decisive"])
    assert row["status"] == "inconclusive" and row["why"].startswith("saturated")


def test_depth_trend_admits_one_adjacent_swap_and_nothing_looser():
    """Of the 24 orders of four deeper layers (a 50% rise), the check counts the growing one and the three with
    one adjacent pair swapped; any other order, and the stem alone being smallest, is not growth."""
    values = [20.0, 25.0, 27.0, 30.0]
    admitted = [p for p in itertools.permutations(values)
                if checks.depth_trend([0.04, *p])["effect"] >= checks.MIN_RHO]
    assert len(admitted) == 4 and tuple(values) in admitted


def test_rank_correlation_ties_get_average_ranks():
    assert du.depth_rank_correlation([1, 2, 3, 4, 5]) == 1.0 and du.depth_rank_correlation([5, 4, 3, 2, 1]) == -1.0
    assert du.depth_rank_correlation([1, 2, 3, 5, 4]) == 0.9  # exact without ties
    assert du.depth_rank_correlation([3, 3, 3, 3]) == 0.0
    assert du.depth_rank_correlation([1, 2, 2, 3]) == pytest.approx(0.9486832980505138)  # scipy's spearmanr
    assert du.depth_rank_correlation([40, 40, 40, 40, 0.04][::-1]) < 1.0  # the old ordered-ties bug scored 1.0


def test_spread_floor_and_relative_gap():
    assert checks.relative_gap(46.0, 50.0) == pytest.approx(0.08) and checks.relative_gap(50.0, 46.0) < 0
    assert checks.spread_floor([46.1, 47.9, 45.9], 0.02) == pytest.approx(1.0 / 46.633, rel=1e-3)
    assert checks.spread_floor([40.0, 40.1, 40.0], 0.02) == 0.02 and checks.spread_floor([40.0], 0.05) == 0.05


# ---- measures whose constants a wrong program would move ----

def test_shift_sigma_defaults_are_the_papers_text():
    for fn, name in ((du.distances, "sigma"), (du.shifted_input, "sigma"), (du.visualize_layer, "shift_sigma"),
                     (du.seed_spread, "shift_sigma")):
        assert inspect.signature(fn).parameters[name].default == 1 / 20, fn.__name__


def test_spectral_slope_of_a_power_law_image():
    """An image with power ~ 1/f^2 (natural images) has slope -2; white noise 0."""
    gen = torch.Generator().manual_seed(0)
    n = 128
    f = torch.sqrt(torch.fft.fftfreq(n)[:, None] ** 2 + torch.fft.fftfreq(n)[None, :] ** 2)
    f[0, 0] = 1.0
    phase = torch.exp(2j * torch.pi * torch.rand(3, n, n, generator=gen))
    img = torch.fft.ifft2(phase / f).real  # amplitude 1/f: power 1/f^2
    assert du.spectral_slope(img) == pytest.approx(-2.0, abs=0.3)
    assert du.spectral_slope(torch.randn(3, n, n, generator=gen)) == pytest.approx(0.0, abs=0.3)


def _linear_spread(n_out: int, orthonormal: bool) -> du.Spread:
    """Fig. S1's measurement (``seed_spread``, three starts) on a bias-free linear map of a 3x6x6 image, float64."""
    model = du.make_mlp([108, n_out], bias=False).double()
    if orthonormal:
        q, _ = torch.linalg.qr(torch.randn(108, 108, dtype=torch.float64, generator=torch.Generator().manual_seed(1)))
        model[1].weight.data.copy_(q)
    target = torch.rand(1, 3, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    return du.seed_spread(model, target, 3000, 0.01, [0, 1, 2], decay_to=0.0)


def test_non_uniqueness_separates_an_undercomplete_map_from_an_orthogonal_one():
    """Real inversions: the undercomplete map (40 of 108 directions seen) is non-unique, the orthogonal map is not;
    both match their embeddings. The criterion before 0.15.0 (a_g pairs farther apart than their starts) called
    the undercomplete map unique too."""
    under, ortho = _linear_spread(40, False), _linear_spread(108, True)
    for spread in (under, ortho):
        assert max(spread.m_g) < spread.m_s, "both must match: the test is about what matching means"
    assert min(du.non_unique_effects(under).values()) >= du.NON_UNIQUE_FLOOR and du.non_unique(under)
    assert max(du.non_unique_effects(ortho).values()) < 0 and not du.non_unique(ortho)  # m_i < ||a' - a||
    assert min(under.input_distances) < max(under.start_distances)  # the old test failed it
    verdict = lambda spread: du.replicate_verdict(du.non_unique_effects(spread), du.NON_UNIQUE_FLOOR)[0]  # noqa: E731
    assert verdict(under) is True and verdict(ortho) is False
    with pytest.raises(ValueError, match="shift is empty"):
        du.non_unique_effects(dataclasses.replace(under, shift_distance=0.0))


def test_share_above_four_families():
    """Fig. S2's share of models above 10^6: typical above (holds), below (does not hold), around one half and a
    few draws (undecided), and no data (refused)."""
    rng = np.random.default_rng(0)
    above = du.share_above(10 ** rng.uniform(6.2, 8, 50), 1e6)
    assert above["typical"] is True and above["share above"] == 1.0
    below = du.share_above(10 ** rng.uniform(3, 5.8, 50), 1e6)
    assert below["typical"] is False and below["share above"] == 0.0
    measured = du.share_above(10 ** np.linspace(3.8, 6.4, 50), 1e6)  # about the spread measured at n = 2523
    assert measured["typical"] is False and 0 < measured["share above"] < 0.3
    half = du.share_above([1e7, 1e5] * 25, 1e6)  # exactly half above: the interval holds one half
    assert half["typical"] is None and half["95% bootstrap interval"][0] < 0.5 < half["95% bootstrap interval"][1]
    few = du.share_above([1e7, 1e7, 1e5], 1e6)  # 2 of 3 above: too few draws to say
    assert few["typical"] is None
    assert du.share_above([1e7] * 2 + [1e6] * 48, 1e6)["share above"] == 0.04  # at the threshold: not above
    with pytest.raises(ValueError, match="at least 2 finite"):
        du.share_above([float("nan"), 1.0], 1e6)


def test_colour_matched_distance_ignores_a_cast_and_sees_shapes():
    """A uniform tint and contrast change cost nothing; a moved spot costs as in m_i; a flat image is handled."""
    gen = torch.Generator().manual_seed(0)
    a = torch.rand(1, 3, 16, 16, generator=gen, dtype=torch.float64)
    cast = 0.6 * a + torch.tensor([0.3, 0.1, -0.2], dtype=torch.float64).view(1, 3, 1, 1)  # blue-ish, flatter
    assert du.input_distance(cast, a)[0] > 1.0 and du.colour_matched_distance(cast, a)[0] < 1e-9
    moved = torch.roll(a, 3, dims=3)  # same colours, other places
    assert du.colour_matched_distance(moved, a)[0] == pytest.approx(du.input_distance(moved, a)[0], rel=1e-6)
    flat = torch.full_like(a, 0.5)
    want = float((a.mean(dim=(2, 3), keepdim=True) - a).flatten().norm())
    assert du.colour_matched_distance(flat, a)[0] == pytest.approx(want)


def test_a_status_that_depends_on_the_shifts_sigma_says_so(results):
    """The text's a' = a + N(0, 1/20) decides; the paper code's 1/18 (a larger m_s) is judged beside it, and a
    status that changes between the two says so in its reason. One that does not change says nothing."""
    effects = {"seed 0": 1.0, "seed 1": 1.0, "seed 2": 1.0}
    between = {f"seed {s}": run(m_g=2.1, m_s=2.0, m_s_code_sigma=2.2) for s in range(3)}  # missed at 1/20 only
    row = judge(results, effects, 0.5, runs=between)
    assert row["status"] == "inconclusive" and "1/18" in row["why"] and "'holds'" in row["why"]
    assert row["numbers"]["runs matched with a' at sigma 1/20 (text), 1/18 (code)"] == "0, 3 of 3"
    clear = {f"seed {s}": run(m_g=1.0, m_s=2.0, m_s_code_sigma=2.2) for s in range(3)}
    row = judge(results, effects, 0.5, runs=clear)
    assert row["status"] == "holds" and "1/18" not in row["why"]
    assert row["numbers"]["runs matched with a' at sigma 1/20 (text), 1/18 (code)"] == "3, 3 of 3"


def test_white_noise_sigma_tells_a_0_from_the_training_noise():
    """"Still at a_0" (white, sigma 1/20) and "like the training noise" (white, sigma 1/3) have the same spectral
    slope (about 0) but not the same measure; a photograph has little fine detail."""
    a_0 = du.start_image((1, 3, 48, 48), 0)
    noise = du.noise_images([0], 48, 0.5, 1 / 3, 0)
    photo, _ = du.load_image("astronaut", 48)
    assert abs(du.spectral_slope(a_0) - du.spectral_slope(noise)) < 0.3  # the slope cannot tell them apart
    assert du.white_noise_sigma(a_0) == pytest.approx(1 / 20, rel=0.1)
    assert du.white_noise_sigma(noise) == pytest.approx(1 / 3, rel=0.1)
    assert du.white_noise_sigma(photo) < 0.5 * float(photo.std())
    assert du.white_noise_sigma(torch.full((1, 3, 16, 16), 0.3)) == 0.0


def test_within_factor_four_families(results):
    """A number the paper states (e.g. 'over 369,000', '2.84'): on it or inside the factor holds, on the edge is
    no effect, outside in either direction does not hold, and a measure without signal is refused."""
    three = lambda v: {f"seed {k}": du.within_factor(x, 2.84, 1.1) for k, x in enumerate(v)}  # noqa: E731
    assert du.within_factor(2.84, 2.84, 1.1) == 1.0
    assert judge(results, three([2.84, 2.79, 2.95]), 0.05)["status"] == "holds"
    assert judge(results, three([2.51, 2.50, 2.52]), 0.05)["status"] == "does not hold"  # below: sigma 1/20's
    assert judge(results, three([3.5, 3.6, 3.4]), 0.05)["status"] == "does not hold"  # above
    edge = [2.84 * 1.1, 2.84 / 1.1, 2.84 * 1.1]  # on the factor's edge: no effect
    assert all(abs(e) < 1e-12 for e in three(edge).values())
    assert judge(results, three(edge), 0.05)["status"] == "does not hold"
    assert judge(results, three([2.84, 2.84, 3.5]), 0.05)["status"] == "inconclusive"  # replicates disagree
    assert du.within_factor(5.68, 2.84, 2.0) == pytest.approx(0.0) and du.within_factor(1.42, 2.84, 2.0) == \
        pytest.approx(0.0)  # symmetric in the ratio
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="No signal"):
            du.within_factor(bad, 2.84, 1.1)
    with pytest.raises(ValueError, match="factor above 1"):
        du.within_factor(2.84, 2.84, 1.0)


def test_absent_change_four_families(results):
    """'Does not noticeably sharpen': no change or a worse image holds, a change near the noticeable threshold is
    undecided, a clear sharpening does not hold, and no number is refused."""
    three = lambda v: {f"seed {k}": du.absent_change(x, 0.05) for k, x in enumerate(v)}  # noqa: E731
    assert judge(results, three([0.0, -0.01, 0.005]), 0.01)["status"] == "holds"  # flat: the paper's statement
    assert judge(results, three([-0.2, -0.3, -0.1]), 0.01)["status"] == "holds"  # blurrier: no sharpening either
    assert judge(results, three([0.2, 0.15, 0.3]), 0.01)["status"] == "does not hold"  # it sharpens
    assert judge(results, three([0.05, 0.045, 0.055]), 0.01)["status"] == "does not hold"  # at the threshold
    assert judge(results, three([0.0, 0.0, 0.3]), 0.01)["status"] == "inconclusive"
    with pytest.raises(ValueError, match="finite"):
        du.absent_change(float("nan"), 0.05)


def spots(size=64, seed=0):
    """A dalmatian-like pattern: dark discs of about 3 px on a light field, with a smooth brightness ramp."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    image = 0.5 + 0.4 * yy / size  # shading: no detail at the spots' scale
    for cy, cx in rng.uniform(0, size, (40, 2)):
        image[(yy - cy) ** 2 + (xx - cx) ** 2 < 2.5] = 0.1
    return np.stack([image] * 3)


def test_detail_correlation_sees_the_pattern_not_its_colour_or_blur():
    a, sigma = spots(), 2.0
    assert du.detail_correlation(a, a, sigma) == pytest.approx(1.0)
    assert du.detail_correlation(0.5 * a[::-1] + 0.2, a, sigma) == pytest.approx(1.0)  # contrast, brightness
    assert du.detail_correlation(a + np.random.default_rng(1).normal(0, 0.05, a.shape), a, sigma) > 0.8
    assert abs(du.detail_correlation(spots(seed=2), a, sigma)) < 0.2  # another dalmatian's spots
    smooth = np.broadcast_to(np.linspace(0, 1, 64), (3, 64, 64))  # a ramp with no spots: nothing shared
    assert abs(du.detail_correlation(smooth, a, sigma)) < 0.1
    shading = np.stack([0.5 + 0.4 * np.mgrid[:64, :64][0] / 64] * 3)  # the target without its spots
    assert abs(du.detail_correlation(shading, a, sigma)) < 0.2
    assert du.detail_correlation(np.zeros_like(a), a, sigma) == 0.0  # no detail at all
    assert du.detail_correlation(torch.from_numpy(a[None]), a, sigma) == pytest.approx(1.0)  # (1, C, H, W)
    with pytest.raises(ValueError, match="side"):
        du.detail_correlation(a, a, 30.0)


def test_kept_then_lost_four_families(results):
    """'Found from Conv1 to Conv3 ... a noticeably different pattern in Conv4 and Conv5': the pattern kept to
    conv3 and lost from conv4 holds; lost one layer early, kept throughout, or never present does not; the
    replicates split is undecided."""
    layers = ["conv1", "conv2", "conv3", "conv4", "conv5"]
    effect = lambda v: du.kept_then_lost(dict(zip(layers, v)), layers[:3], layers[3:], 0.5)  # noqa: E731
    three = lambda *vs: {f"seed {k}": effect(v) for k, v in enumerate(vs)}  # noqa: E731
    paper = [1.0, 0.8, 0.7, 0.1, 0.05]
    assert judge(results, three(paper, paper, [0.99, 0.7, 0.6, 0.2, 0.1]), 0.05)["status"] == "holds"
    early = [1.0, 0.6, 0.05, 0.03, 0.03]  # measured at 64 px: the spots are gone at conv3 already
    assert judge(results, three(early, early, early), 0.05)["status"] == "does not hold"
    flat = [0.5] * 5  # no effect
    assert judge(results, three(flat, flat, flat), 0.05)["status"] == "does not hold"
    kept = [1.0, 0.9, 0.9, 0.85, 0.8]  # reverse: the pattern survives to conv5
    assert judge(results, three(kept, kept, kept), 0.05)["status"] == "does not hold"
    none = [0.02] * 5  # not even conv1 has it: its run missed the embedding (no signal), so undecided
    missed = {f"seed {k} conv1": run(m_g=3.0, m_s=2.0) for k in range(3)}
    assert judge(results, three(none, none, none), 0.05, runs=missed)["status"] == "inconclusive"
    assert judge(results, three(paper, early, kept), 0.05)["status"] == "inconclusive"
    with pytest.raises(ValueError, match="kept and one lost"):
        du.kept_then_lost({"conv1": 1.0}, ["conv1"], [], 0.5)


def test_matched_window_four_families(results):
    """'A wider range of possible step sizes that yield a sufficiently small m_g' (residual over plain): a
    wider matched window holds; equal widths (the grid shifted between models) and a narrower one do not; no
    step size matched on either side is undecided (the best runs missed), and a window on the grid's edge is
    censored."""
    grid = [2.0 ** k for k in range(-11, 2)]
    window = lambda lo, hi, m_s=1.0: du.matched_window(  # noqa: E731
        grid, [0.5 if lo <= k <= hi else 2.0 for k in range(-11, 2)], m_s)
    assert window(-6, -4) == {"octaves": 3.0, "censored": False, "matched": [2.0 ** -6, 2.0 ** -5, 2.0 ** -4]}
    assert window(-11, -9)["censored"] and window(0, 1)["censored"]
    assert du.matched_window(grid[::2], [0.5 if k in (-7, -5) else 2.0 for k in range(-11, 2, 2)], 1.0)[
        "octaves"] == 4.0  # two neighbours at ratio 4 span 4 octaves
    assert window(-6, -4, m_s=0.1)["octaves"] == 0.0  # nothing reached
    gap = lambda res, plain: res["octaves"] - plain["octaves"]  # noqa: E731
    three = lambda *pairs: {f"seed {k}": gap(*p) for k, p in enumerate(pairs)}  # noqa: E731
    wide, narrow, shifted = window(-8, -3), window(-5, -4), window(-3, -2)
    assert judge(results, three((wide, narrow), (wide, narrow), (wide, shifted)), 1.0)["status"] == "holds"
    assert judge(results, three((narrow, shifted), (narrow, shifted), (shifted, narrow)), 1.0)["status"] == \
        "does not hold"  # same width, elsewhere on the grid
    assert judge(results, three((narrow, wide), (narrow, wide), (narrow, wide)), 1.0)["status"] == \
        "does not hold"
    missed = {f"seed {k} {m}": run(m_g=2.0, m_s=1.0) for k in range(3) for m in ("residual", "plain")}
    none = window(-6, -4, m_s=0.1)
    assert judge(results, three((none, none), (none, none), (none, none)), 1.0, runs=missed)["status"] == \
        "inconclusive"
    with pytest.raises(ValueError, match="log grid"):
        du.matched_window([1.0, 2.0, 5.0], [0.5, 0.5, 0.5], 1.0)


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
