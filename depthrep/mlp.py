"""Linear algebra of MLPs (paper section 4): exact layer-by-layer inverse, Jacobian and its rank, the null-space
floor of a linear MLP's input distance."""
from __future__ import annotations

import torch
from torch import nn

from depthrep.models import copy_without_hooks, freeze


def linear_layers(mlp: nn.Module) -> list[nn.Linear]:
    """The nn.Linear layers of an MLP, in order."""
    return [m for m in mlp.modules() if isinstance(m, nn.Linear)]


@torch.no_grad()
def _affine(layers: list[nn.Linear]) -> tuple[torch.Tensor, torch.Tensor]:
    """The float64 product P of the layers' weights and the bias c carried through: x -> P x + c."""
    weight = layers[0].weight.detach().double()
    product = torch.eye(weight.shape[1], dtype=torch.float64, device=weight.device)
    bias = torch.zeros(weight.shape[1], dtype=torch.float64, device=weight.device)
    for layer in layers:
        w = layer.weight.detach().double()
        product, bias = w @ product, w @ bias + (layer.bias.detach().double() if layer.bias is not None else 0)
    return product, bias


@torch.no_grad()
def collapse_linear(mlp: nn.Sequential) -> nn.Sequential:
    """A linear MLP (``Flatten`` and ``Linear`` layers only, as ``make_mlp`` without activation) as the one
    affine map it computes, x -> P x + c, with P the product of its weights and c its biases carried through
    (both formed in float64, stored in the MLP's dtype). The same function, and so the same input gradient
    for eqs. (3)-(4) (P^T times the loss's output gradient, however many layers), up to float rounding, at
    the cost of one layer: what makes Fig. 8's deep MLPs cheap to invert. Depth still acts, through P's
    conditioning. An MLP with any other module raises ``ValueError``."""
    other = [type(m).__name__ for m in mlp.children() if not isinstance(m, (nn.Flatten, nn.Linear))]
    if other:
        raise ValueError(f"collapse_linear needs an MLP of Flatten and Linear layers only; this one has {other} "
                         f"(an activation cannot be collapsed: invert the MLP itself).")
    layers = linear_layers(mlp)
    product, bias = _affine(layers)
    affine = nn.Linear(product.shape[1], product.shape[0], device=product.device, dtype=layers[0].weight.dtype)
    affine.weight.copy_(product)
    affine.bias.copy_(bias)
    return freeze(nn.Sequential(nn.Flatten(), affine))


@torch.no_grad()
def exact_inverse(mlp: nn.Module, output: torch.Tensor, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Invert a bias-carrying MLP of square Linear layers (no activation) layer by layer, eq. (11):
    x = solve(W, o - b), last layer first, in ``dtype`` (a solve, never an explicit inverse)."""
    x = output.reshape(output.shape[0], -1).to(dtype)
    for layer in reversed(linear_layers(mlp)):
        w = layer.weight.to(dtype)
        if w.shape[0] != w.shape[1]:
            raise ValueError(f"exact_inverse needs square layers, got a {tuple(w.shape)} weight.")
        b = layer.bias.to(dtype) if layer.bias is not None else 0
        x = torch.linalg.solve(w, (x - b).T).T
    return x


def jacobian(model: nn.Module, a: torch.Tensor) -> torch.Tensor:
    """Jacobian of the flattened output with respect to the flattened input at ``a`` (batch 1), float64,
    by forward-mode autodiff (one pass per input direction); ``model`` itself is left unchanged."""
    model = copy_without_hooks(model).double()
    device = next(model.parameters()).device
    x = a.detach().to(device, torch.float64)  # on the model's device (a CPU target with a GPU model works)
    return torch.func.jacfwd(lambda v: model(v.reshape(x.shape)).flatten())(x.flatten())


def jacobian_rank(model: nn.Module, a: torch.Tensor, rtol: float = 1e-10) -> int:
    """Number of input directions that survive to the output at ``a``: the numerical rank of the Jacobian."""
    return int(torch.linalg.matrix_rank(jacobian(model, a), rtol=rtol))


@torch.no_grad()
def null_space_floor(mlp: nn.Module, start: torch.Tensor, target: torch.Tensor, rtol: float = 1e-10) -> float:
    """||P_null (a_0 - a)|| for a linear MLP (no activation): the part of the start's error in the null space of
    the product of its weights. A gradient step of eqs. (4) moves the input only within the product's row
    space, so no run from ``start`` gets closer to ``target`` than this, and a run whose m_g -> 0 reaches it:
    the exact floor of m_i (0 for a full-rank model). Float64 SVD; rank at ``rtol`` of the largest singular
    value."""
    product = _affine(linear_layers(mlp))[0].cpu()
    _, sv, vh = torch.linalg.svd(product, full_matrices=True)
    rank = int((sv > sv.max() * rtol).sum())
    error = (start.detach().double().cpu() - target.detach().double().cpu()).flatten()
    return float((vh[rank:] @ error).norm())
