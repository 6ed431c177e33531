"""Linear algebra of MLPs (paper section 4): exact layer-by-layer inverse, Jacobian and its rank."""
from __future__ import annotations

import torch
from torch import nn

from depthrep.models import copy_without_hooks


def linear_layers(mlp: nn.Module) -> list[nn.Linear]:
    """The nn.Linear layers of an MLP, in order."""
    return [m for m in mlp.modules() if isinstance(m, nn.Linear)]


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
