"""plenoptic as a procedure (depthrep/peers.py): our start, its update, the record every notebook reads."""
import pytest
import torch
from torch import nn

import depthrep_utils as du

pytest.importorskip("plenoptic")


class Conv(nn.Module):
    """A fixed strided convolution: an input-independent, undercomplete O_l."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 4, 3, stride=2)
        self.conv.requires_grad_(False)

    def forward(self, x):
        return self.conv(x)


def test_plenoptic_metamer_starts_at_our_start_and_descends():
    model = Conv().eval()
    target = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    start = du.start_image(target.shape, 3)[0]
    still, ran = du.plenoptic_metamer(model, target, 1, 1e-12, seed=3)
    assert ran == 1 and torch.allclose(still, start, atol=1e-6), "the synthesis must begin at a_0 of the seed"
    moved, ran = du.plenoptic_metamer(model, target, 200, 0.01, seed=3)
    with torch.no_grad():
        before = (model(start[None]) - model(target)).abs().sum()
        after = (model(moved[None]) - model(target)).abs().sum()
    assert ran <= 200 and after < 0.5 * before, (before, after)


def test_plenoptic_layer_keeps_the_best_learning_rate_and_the_record_keys():
    model = du.load_resnet(18, trained=False, seed=0)
    target, _ = du.load_target("dalmatian", 32, 0, torch.device("cpu"))
    grid = [1e-6, 0.01]
    r = du.plenoptic_layer(model, "conv1", target, 30, grid, seed=0)
    assert set(r["search"]) == set(grid) and r["runs"] == 2
    assert r["m_g"] == min(r["search"].values()) and r["step_size"] == 0.01
    assert r["edge"] is True  # the best is the grid's largest value
    start = float((du.start_image(target.shape, 0) - target).flatten().norm())
    assert float(r["history"]["m_i"][0]) == pytest.approx(start, rel=1e-5)
    assert 0 < du.start_distance_ratio(r) < 1
    for key in ("image", "m_s", "m_i", "m_s_code_sigma", "embedding_norm", "input_norm", "seconds", "steps"):
        assert key in r


def test_plenoptic_run_is_cached_by_its_arguments(tmp_path, monkeypatch):
    monkeypatch.setenv("DEPTHREP_RESULTS", str(tmp_path))
    model = du.load_resnet(18, trained=False, seed=0)
    target, _ = du.load_target("dalmatian", 32, 0, torch.device("cpu"))
    first = du.plenoptic_run("nb", "r", model, "conv1", target, 5, [0.01])
    again = du.plenoptic_run("nb", "r", model, "conv1", target, 5, [0.01])
    other = du.plenoptic_run("nb", "r", model, "conv1", target, 6, [0.01])
    assert again["seconds"] == first["seconds"] and other["steps"] == 6
    assert len(list((tmp_path / "nb" / "cache").glob("r-*.pt"))) == 2


def test_plenoptic_layer_scores_a_synthesis_that_found_a_nan_as_diverged(monkeypatch):
    from depthrep import peers

    real = peers.plenoptic_metamer

    def nan_above_one(model_l, target, steps, lr, seed):  # plenoptic's own stop, as it words it
        if lr > 1:
            raise ValueError("Found a NaN in loss during optimization.")
        return real(model_l, target, steps, lr, seed)

    monkeypatch.setattr(peers, "plenoptic_metamer", nan_above_one)
    model = du.load_resnet(18, trained=False, seed=0)
    target, _ = du.load_target("dalmatian", 32, 0, torch.device("cpu"))
    r = du.plenoptic_layer(model, "conv1", target, 5, [10.0, 0.01])
    assert r["search"][10.0] == float("inf") and r["step_size"] == 0.01
    with pytest.raises(FloatingPointError, match="diverged at every learning rate"):
        du.plenoptic_layer(model, "conv1", target, 5, [10.0, 100.0])
