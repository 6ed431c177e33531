"""A peer's procedure on this project's layers, through the peer's own API: plenoptic 2.1's ``Metamer`` (the
maintained library for this synthesis). Notebook 07 runs it beside the project's procedures; `make bench-peers`
times it with plenoptic's own model adapter."""
from __future__ import annotations

import contextlib
import functools
import time
from typing import Any, Iterator, Sequence

import torch
from torch import nn

from depthrep.inversion import start_image
from depthrep.search import layer_result
from depthrep.layers import truncate
from depthrep.metrics import input_distance


def plenoptic_version() -> str:
    """The installed plenoptic's version (part of the cache key of its runs); a clear error when it is missing."""
    try:
        import plenoptic
    except ImportError as err:
        raise ImportError("plenoptic is not installed: `make setup` installs it (requirements.txt), or "
                          "`pip install plenoptic==2.1.1`.") from err
    return plenoptic.__version__


@contextlib.contextmanager
def quiet_plenoptic() -> Iterator[None]:
    """plenoptic draws a tqdm bar per synthesis (a widget per run in a notebook) and has no switch for it: its
    module's ``tqdm`` is swapped for a disabled one while the block runs."""
    from plenoptic._synthesize import metamer as module
    from tqdm import tqdm

    saved = module.tqdm
    module.tqdm = functools.partial(tqdm, disable=True)
    try:
        yield
    finally:
        module.tqdm = saved


def plenoptic_metamer(model_l: nn.Module, target: torch.Tensor, steps: int, step_size: float, seed: int = 0,
                      start_mean: float = 0.7, start_std: float = 1 / 20) -> tuple[torch.Tensor, int]:
    """One plenoptic ``Metamer`` synthesis of ``target``'s embedding under ``model_l`` (any module from images to
    a tensor): plenoptic's default optimizer (Adam with AMSGrad) at learning rate ``step_size``, no scheduler,
    its own stop criterion, the L1 loss (the sum of absolute differences, as this project's), no range penalty
    (``penalty_lambda=0``: the project's procedures have none), from this project's start image a_0 (``seed``).
    Returns the generated image (C, H, W) and the number of steps it ran."""
    plenoptic_version()
    import plenoptic as po

    device = next((p.device for p in model_l.parameters()), torch.device("cpu"))
    a = target[:1].to(device)
    model = nn.Sequential(model_l, nn.Flatten()).eval()
    met = po.Metamer(a, model, loss_function=lambda x, y: (x - y).abs().sum(), penalty_lambda=0.0)
    met.setup(start_image(a.shape, seed, start_mean, start_std, a.dtype).to(device),
              optimizer_kwargs={"lr": float(step_size), "amsgrad": True})
    with quiet_plenoptic():
        met.synthesize(max_iter=steps)
    return met.metamer.detach()[0].cpu(), len(met.losses) - 1


def plenoptic_layer(model: nn.Module, layer: str, target: torch.Tensor, steps: int, step_sizes: Sequence[float],
                    seed: int = 0, shift_sigma: float = 1 / 20) -> dict:
    """plenoptic at one layer (``truncate(model, layer)``, the graph every procedure of notebook 07 inverts), one
    synthesis per learning rate in ``step_sizes``, the one with the smallest final m_g the result (a fixed grid:
    ``edge`` says when the best was its largest or smallest value). The record has ``visualize_layer``'s keys;
    its history holds m_i at the start and at the end."""
    model_l = truncate(model, layer)
    t0 = time.perf_counter()
    table: dict[float, float] = {}
    best: dict[str, Any] = {}
    for lr in sorted(float(v) for v in step_sizes):
        try:
            image, ran = plenoptic_metamer(model_l, target, steps, lr, seed)
        except ValueError as err:  # plenoptic stops a synthesis that found a NaN
            if "nan" not in str(err).lower():
                raise
            table[lr] = float("inf")
            continue
        r = layer_result(model_l, layer, target, image, seed, shift_sigma, step_size=lr, steps=ran)
        table[lr] = r["m_g"] if torch.isfinite(image).all() else float("inf")
        if table[lr] < best.get("m_g", float("inf")):
            best = r
    if not best:
        raise FloatingPointError(f"plenoptic diverged at every learning rate in {sorted(table)}; try smaller ones.")
    start = input_distance(start_image(target[:1].shape, seed, dtype=target.dtype), target[:1].cpu())[0]
    grid = sorted(table)
    return dict(best, search=table, edge=len(grid) > 1 and best["step_size"] in (grid[0], grid[-1]),
                diverged=False, history={"m_i": torch.tensor([float(start), best["m_i"]])},
                seconds=time.perf_counter() - t0, runs=len(table))
