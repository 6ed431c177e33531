"""MLP linear algebra: exact inverse, collapsed linear MLPs, Jacobian rank (depthrep/mlp.py)."""
import numpy as np
import pytest
import torch

import depthrep_utils as du


def test_jacobian_rank_keeps_a_direction_at_1e_9_and_drops_one_at_1e_11():
    q, _ = torch.linalg.qr(torch.randn(6, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64))
    for small, rank in ((1e-9, 6), (1e-11, 5)):
        layer = torch.nn.Linear(6, 6, bias=False).double()
        with torch.no_grad():
            layer.weight.copy_(q @ torch.diag(torch.tensor([1.0, 0.8, 0.5, 0.3, 0.1, small], dtype=torch.float64)) @ q.T)
        assert du.jacobian_rank(torch.nn.Sequential(torch.nn.Flatten(0), layer), torch.rand(6)) == rank



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
