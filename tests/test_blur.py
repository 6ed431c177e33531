"""Eq. (5)'s blur and its one recipe for the sigmas (depthrep/blur.py)."""
import pytest
import torch

import depthrep_utils as du


def run_gradient(model, target, x=None):
    """The L1 loss's input gradient at ``x`` (the start image when None): one step of eq. (4) by hand."""
    x = (du.start_image(target.shape, 0) if x is None else x).clone().requires_grad_(True)
    with torch.no_grad():
        y = model(target)
    (g,) = torch.autograd.grad((model(x) - y).abs().sum(), x)
    return g



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
