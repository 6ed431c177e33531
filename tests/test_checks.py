"""The notebooks' curve checks (Fig. 4, 5, 7, 8) on synthetic runs: each passes a curve shaped as the paper
says and fails the same curve with the statement's direction reversed."""
import numpy as np
import pytest

import depthrep_utils as du

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
