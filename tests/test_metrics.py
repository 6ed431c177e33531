"""The distances m_g, m_s, m_i (depthrep/metrics.py)."""
import numpy as np
import pytest
import torch

import depthrep_utils as du


def test_m_s_is_the_mean_over_several_shifts():
    model = du.make_mlp([12, 7], seed=0)
    a = torch.rand(1, 3, 2, 2, generator=torch.Generator().manual_seed(0))
    each = [du.embedding_distance(model, du.shifted_input(a, 0.05, seed=k), a)[0] for k in range(du.SHIFTS)]
    assert du.SHIFTS >= 4 and len(set(each)) == du.SHIFTS
    assert du.distances(model, a, a, sigma=0.05, seed=0)["m_s"][0] == pytest.approx(np.mean(each), rel=1e-6)



def test_metrics_by_hand():
    model = du.make_mlp([12, 5], seed=0)
    a, b = torch.rand(1, 3, 2, 2), torch.rand(1, 3, 2, 2)
    expected = torch.sqrt(((model(a) - model(b)) ** 2).sum()).item()
    assert du.embedding_distance(model, a, b)[0] == pytest.approx(expected, rel=1e-5)
    assert du.input_distance(a, b)[0] == pytest.approx(torch.sqrt(((a - b) ** 2).sum()).item(), rel=1e-6)
