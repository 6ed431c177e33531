"""The step-size search (a batched line search of full-length runs, extended at its edges) and one layer's
visualization on it: ``visualize_layer``, and ``layer_result``, the record every procedure's run becomes."""
from __future__ import annotations

import math
import time
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from depthrep.inversion import Inversion, invert, start_image
from depthrep.layers import truncate
from depthrep.metrics import PAPER_CODE_SHIFT_SIGMA, distances


def search_invert(model: nn.Module, target: torch.Tensor, step_sizes: Sequence[float], steps: int,
                  batch: int = 16, extend: int = 8, relocate: bool = True,
                  **invert_kwargs: Any) -> tuple[Inversion, dict[float, float]]:
    """The batched line search whose best run is the result: every step size in ``step_sizes`` runs the full
    ``steps`` with the caller's schedule (``batch`` at a time, each batch one batched inversion), and the run
    with the smallest final m_g is returned with the table ``{step size: final m_g}``. The step size is thus
    chosen on runs of the result's own length and schedule (the best step size of a short run is not the best
    of a long one), and no second run is needed. Diverged step sizes (NaN, or finite but exploded:
    ``Inversion.diverged``) score ``inf``. A grid far from the scale the first gradient implies is first moved
    there (``relocate_grid``; ``relocate=False``: never).

    When the best step size is the largest (or smallest) tried and strictly better than its neighbour, or every
    one diverged, the grid is extended past that edge (the lower one when all diverged) by its own ratio, two
    values at a time (the best usually lies just past the edge), up to ``extend`` times: the right scale
    differs by orders of magnitude between layers and models. A flat table (an embedding that does not depend
    on the input) is not extended. The paper searched at random; a log grid is reproducible.
    """
    table: dict[float, float] = {}
    best_run: list[Inversion] = []
    if relocate:  # the arguments of invert that set the first gradient and the meaning of a step size
        step_sizes = relocate_grid(model, target, step_sizes, steps,
                                   **{k: v for k, v in invert_kwargs.items() if k in RELOCATE_ARGS})

    def score(values: Sequence[float]) -> None:
        values = [float(v) for v in values if float(v) not in table]
        for i in range(0, len(values), batch):
            chunk = values[i:i + batch]
            run = invert(model, target, steps, chunk, on_nonfinite="mark", **invert_kwargs)
            scores = [float(m) if np.isfinite(m) and not bad else math.inf for m, bad in zip(run.m_g, run.diverged)]
            table.update(zip(chunk, scores))
            k = int(np.argmin(scores))
            if math.isfinite(scores[k]) and (not best_run or scores[k] < table[float(best_run[0].step_size[0])]):
                best_run[:] = [run[k]]

    score(step_sizes)
    grid = sorted(table)
    ratio = (grid[-1] / grid[0]) ** (1 / (len(grid) - 1)) if len(grid) > 1 else 10.0
    for _ in range(extend):
        grid = sorted(table)
        if not best_run:  # every step size diverged: all too large, go below the smallest
            score([grid[0] / ratio ** k for k in range(1, 3)])
            continue
        best = float(best_run[0].step_size[0])
        if best == grid[-1] and len(grid) > 1 and table[best] < table[grid[-2]]:
            score([best * ratio ** k for k in range(1, 3)])
        elif best == grid[0] and len(grid) > 1 and table[best] < table[grid[1]]:
            score([best / ratio ** k for k in range(1, 3)])
        else:
            break
    if not best_run:
        raise FloatingPointError(f"Every step size in {sorted(table)} diverged; search smaller values.")
    return best_run[0], dict(sorted(table.items()))


def grid_around(step_size: float, ratio: float = 4.0) -> list[float]:
    """A three-value search grid centred on a step size found for a sibling run (another seed of the same model
    and layer): ``[step x ratio, step, step / ratio]``. The search still extends it past an edge, so the result
    is the best of full-length runs; only the starting grid is narrower (a third of the batch)."""
    return [step_size * ratio, step_size, step_size / ratio]


SEARCH_TRAVEL = 20.0  # steps x eps x RMS of the first gradient at the best step sizes (their typical value)


RELOCATE_ARGS = ("seed", "loss_scale", "start_mean", "start_std", "update", "parameterization")


def relocate_grid(model: nn.Module, target: torch.Tensor, step_sizes: Sequence[float], steps: int,
                  seed: int | Sequence[int] = 0, loss_scale: float = 1.0, start_mean: float = 0.7,
                  start_std: float = 1 / 20, update: str = "sgd", parameterization: str = "pixel") -> list[float]:
    """The search grid, moved by whole powers of its own ratio when the first gradient says that the right
    scale lies far outside it: a guess ``SEARCH_TRAVEL / (steps x RMS of the first gradient)`` (for the paper's
    untrained ResNet50 it lies some tens of times below the best step size, which SEARCH_TRAVEL absorbs) more
    than one ratio beyond either edge. The gradient's scale differs by 10^15 between layers and models (ResNet152's
    untrained conv5: RMS 1e7 at 64 px; an untrained EfficientNet-Lite0's conv5: 6e-8), and walking there edge by
    edge costs a full-length batch per two values. A grid that covers the guess is returned unchanged (the
    search still extends it at an edge); so is an Adam or momentum search (their steps are in pixel units) and a
    Fourier one (its gradient is the spectrum's)."""
    grid = sorted(float(v) for v in step_sizes)
    if update != "sgd" or parameterization != "pixel" or len(grid) < 2:
        return list(step_sizes)
    first_seed = int(seed[0] if isinstance(seed, (list, tuple, np.ndarray)) else seed)
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    a = target[:1].to(device)
    x = start_image(a.shape, first_seed, start_mean, start_std, a.dtype).to(device).requires_grad_(True)
    with torch.no_grad():
        y = model(a)
    (g,) = torch.autograd.grad((model(x) - y).abs().sum() * loss_scale, x)
    rms = float(g.double().pow(2).mean().sqrt())
    if not math.isfinite(rms) or rms == 0:
        return list(step_sizes)
    guess = SEARCH_TRAVEL / (steps * rms)
    ratio = (grid[-1] / grid[0]) ** (1 / (len(grid) - 1))
    if grid[0] / ratio <= guess <= grid[-1] * ratio:
        return list(step_sizes)
    centre = math.sqrt(grid[0] * grid[-1])
    shift = ratio ** round(math.log(guess / centre) / math.log(ratio))
    return [float(v) * shift for v in step_sizes]


def line_search(model: nn.Module, target: torch.Tensor, step_sizes: Sequence[float], steps: int,
                batch: int = 16, extend: int = 8, relocate: bool = True,
                **invert_kwargs: Any) -> tuple[float, dict[float, float]]:
    """``search_invert`` for its step size alone: ``(best step size, {step size: final m_g})``."""
    run, table = search_invert(model, target, step_sizes, steps, batch, extend, relocate, **invert_kwargs)
    return float(run.step_size[0]), table


def visualize_layer(model: nn.Module, layer: str, target: torch.Tensor, steps: int, step_sizes: Sequence[float],
                    blur: tuple[float, float] | None, decay_to: float | None = 0.0, seed: int = 0, shift_sigma: float = 1 / 20,
                    normalize: bool = False, **invert_kwargs: Any) -> dict:
    """Representation visualization at one layer: ``search_invert`` over ``step_sizes``, every run ``steps``
    long, the best run being the result; ``blur``: eq. (5)'s sigmas (``blur_sigmas``) or None for eq. (4). Returns the generated image, its m_g, m_s, m_i, m_s with the paper
    code's a' = a + N(0, 1/18) (``m_s_code_sigma``: the text says 1/20), ||O_l(a)|| and ||a||
    (``embedding_norm``, ``input_norm``: whether the layer carries a signal, ``checks.no_signal``), the chosen step size,
    the search table, the recorded history, the wall time of the whole search and its number of runs."""
    model_l = truncate(model, layer, normalize=normalize)
    t0 = time.perf_counter()
    run, table = search_invert(model_l, target, step_sizes, steps, blur=blur, decay_to=decay_to, seed=seed,
                               **invert_kwargs)
    return layer_result(model_l, layer, target, run.images[0], seed, shift_sigma,
                        step_size=float(run.step_size[0]), search=table, diverged=bool(run.diverged[0]),
                        steps=run.steps, history={k: v[:, 0] for k, v in run.history.items()},
                        seconds=time.perf_counter() - t0, runs=len(table))


def layer_result(model_l: nn.Module, layer: str, target: torch.Tensor, image: torch.Tensor, seed: int = 0,
                 shift_sigma: float = 1 / 20, **run: Any) -> dict:
    """One layer run's record from its generated ``image`` (whatever procedure made it): the layer, the image, its
    m_g, m_s, m_i, m_s with the paper code's a' = a + N(0, 1/18) (``m_s_code_sigma``: the text says 1/20),
    ||O_l(a)|| and ||a|| (``embedding_norm``, ``input_norm``), and the procedure's own entries in ``run``."""
    d = distances(model_l, target, image[None], sigma=shift_sigma, seed=seed)
    m_s_code = distances(model_l, target, image[None], sigma=PAPER_CODE_SHIFT_SIGMA, seed=seed)["m_s"]
    with torch.no_grad():
        device = next((p.device for p in model_l.parameters()), torch.device("cpu"))
        embedding_norm = float(model_l(target.to(device)).double().norm())
    return dict(layer=layer, image=image, m_g=float(d["m_g"][0]), m_s=float(d["m_s"][0]), m_i=float(d["m_i"][0]),
                m_s_code_sigma=float(m_s_code[0]), embedding_norm=embedding_norm,
                input_norm=float(target.double().norm()), **run)
