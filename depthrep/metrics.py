"""Distances of eqs. (6)-(10) (m_g, m_s, m_i) and spectral measures of images and kernels."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import nn


SHIFT_STREAM = 1_000_003  # a' draws from seed + this, so that a' - a is independent of a_0 (same seed)
SHIFTS = 4  # m_s is the mean over this many draws of a'


def shifted_input(target: torch.Tensor, sigma: float = 1 / 20, seed: int = 0) -> torch.Tensor:
    """a' = a + N(0, sigma), eq. (7), seeded (the paper's text: 1/20; its code: 1/18); its noise stream is
    not a_0's (``start_image`` with the same seed)."""
    gen = torch.Generator().manual_seed(SHIFT_STREAM + int(seed))
    return target + sigma * torch.randn(target.shape, generator=gen, dtype=target.dtype).to(target.device)


@torch.no_grad()
def embedding_distance(model: nn.Module, a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    """L2 norm of O(a) - O(b) per image (eqs. 6 and 8); ``a`` or ``b`` may have batch 1."""
    return (model(a) - model(b)).flatten(1).norm(dim=1).cpu().numpy()


def input_distance(a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    """m_i = L2 norm of a - b per image, eq. (10)."""
    return (a - b).flatten(1).norm(dim=1).cpu().numpy()


def distances(model: nn.Module, target: torch.Tensor, generated: torch.Tensor, sigma: float = 1 / 20,
              seed: int = 0) -> dict[str, np.ndarray]:
    """m_g, m_s and m_i of generated images against ``target``: m_s is the mean over ``SHIFTS`` seeded draws
    of a' (seeds ``seed``, ``seed + 1``, ...; sigma as given), so that one lucky draw does not set the bar."""
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    target, generated = target.to(device), generated.to(device)
    m_s = np.mean([embedding_distance(model, shifted_input(target, sigma, seed + k), target) for k in range(SHIFTS)],
                  axis=0)
    return {"m_g": embedding_distance(model, generated, target), "m_s": m_s, "m_i": input_distance(generated, target)}


def spectral_slope(x: torch.Tensor) -> float:
    """Slope of log radial power against log spatial frequency of an image ``[3, H, W]`` (or batch 1):
    about 0 for white noise, about -2 for natural images. Measures how noise-like an image is."""
    img = x.detach().cpu().double().reshape(-1, *x.shape[-2:])
    img = img - img.mean(dim=(1, 2), keepdim=True)
    power = (torch.fft.fft2(img).abs() ** 2).mean(0)
    h, w = power.shape
    fy, fx = torch.meshgrid(torch.fft.fftfreq(h, dtype=torch.float64), torch.fft.fftfreq(w, dtype=torch.float64), indexing="ij")
    radius = torch.sqrt(fx ** 2 + fy ** 2)
    bins = torch.linspace(1 / min(h, w), 0.5, 12, dtype=torch.float64)
    centers, values = [], []
    for lo, hi in zip(bins[:-1], bins[1:]):
        ring = (radius >= lo) & (radius < hi)
        if ring.any():
            centers.append(float((lo + hi) / 2))
            values.append(float(power[ring].mean()))
    return float(np.polyfit(np.log(centers), np.log(values), 1)[0])


def kernel_concentration(weight: torch.Tensor, pad: int = 16) -> np.ndarray:
    """Per first-layer kernel ``[out, in, k, k]``: the fraction of its (zero-mean, zero-padded) spectral
    energy in the strongest 10% of frequencies (and their mirror images). Gabor- and wavelet-like
    kernels pack their energy into one orientation and frequency (high); unstructured ones spread it."""
    w = weight.detach().cpu().double()
    w = w - w.mean(dim=(2, 3), keepdim=True)
    power = (torch.fft.fft2(w, s=(pad, pad)).abs() ** 2).sum(1).flatten(1)  # summed over input channels
    top = max(1, int(0.1 * power.shape[1]))
    return (power.sort(dim=1, descending=True).values[:, :top].sum(1) / power.sum(1).clamp_min(1e-30)).numpy()


def depth_rank_correlation(values: Sequence[float]) -> float:
    """Spearman's rank correlation of ``values`` with their position (depth): 1.0 when they grow strictly.
    Computed from integer ranks, 1 - 6 sum(d^2) / (n (n^2 - 1)), as an exact fraction: one adjacent swap among
    five values is exactly 0.9 (a correlation of float ranks gives 0.8999999999999998). Ties rank by order."""
    from fractions import Fraction

    n = len(values)
    if n < 2:
        raise ValueError(f"A rank correlation needs at least 2 values, got {n}.")
    ranks = np.argsort(np.argsort(np.asarray(values, dtype=float), kind="stable"), kind="stable")
    d2 = int(sum((int(r) - i) ** 2 for i, r in enumerate(ranks)))
    return float(1 - Fraction(6 * d2, n * (n * n - 1)))


def iterations_to_reach(steps: Sequence[int], values: Sequence[float], level: float) -> int | None:
    """The first recorded iteration at which ``values`` (a distance over a run) is at or below ``level``;
    None if it never gets there."""
    below = np.flatnonzero(np.asarray(values, dtype=float) <= level)
    return int(np.asarray(steps)[below[0]]) if below.size else None


def stall_effect(stalled: Sequence[float], control: Sequence[float]) -> float:
    """How much less a distance fell over growing budgets in one series than in another, as log ratios of last
    to first: ``log(stalled[-1] / stalled[0]) - log(control[-1] / control[0])``. > 0 when the first stalls
    while the second keeps falling (Fig. S4: blurred against unblurred m_g); 0 when both fall alike."""
    if min(len(stalled), len(control)) < 2:
        raise ValueError("A stall needs at least two budgets in each series.")
    if min(min(stalled), min(control)) <= 0:
        raise ValueError("Distances must be positive to compare their falls in log ratio.")
    return float(np.log(stalled[-1] / stalled[0]) - np.log(control[-1] / control[0]))


def late_trend(steps: Sequence[int], m_i: Sequence[float], m_g: Sequence[float], fraction: float = 0.5) -> dict:
    """How m_i moves while m_g falls over the last ``fraction`` of a run (Fig. 4 and 5): every run first
    approaches the target from ||a_0 - a||, whatever the layer, so the paper's statements ("m_g decays ...
    even as there is an increase in m_i"; "an inverse correlation between m_g and m_i as n increases") are
    judged on the run's second half. Returns m_i's and m_g's values at the window's first and last recorded
    step, m_i's relative change over it (> 0: m_i rises, the paper's direction), and corr(m_g, m_i) there
    (< 0: inversely correlated; 0 when either is constant)."""
    steps, m_i, m_g = (np.asarray(v, dtype=float) for v in (steps, m_i, m_g))
    if not len(steps) == len(m_i) == len(m_g) or len(steps) < 4:
        raise ValueError(f"A trend needs at least 4 recorded steps of m_i and m_g alike, got {len(steps)}, "
                         f"{len(m_i)} and {len(m_g)}.")
    late = np.flatnonzero(steps >= steps[0] + (1 - fraction) * (steps[-1] - steps[0]))
    if len(late) < 3:
        raise ValueError(f"The last {fraction:g} of the run holds {len(late)} recorded steps; record more often.")
    mi, mg = m_i[late], m_g[late]
    constant = np.ptp(mi) == 0 or np.ptp(mg) == 0
    return {"from step": int(steps[late[0]]), "m_i at start, end": [float(mi[0]), float(mi[-1])],
            "m_g at start, end": [float(mg[0]), float(mg[-1])],
            "m_i relative change": float((mi[-1] - mi[0]) / mi[0]),
            "corr(m_g, m_i)": 0.0 if constant else float(np.corrcoef(mg, mi)[0, 1])}


def exponential_decay(steps: Sequence[int], values: Sequence[float], factor: float = 10.0,
                      min_r2: float = 0.8) -> dict:
    """Whether a distance decays about exponentially over a run (Fig. 4's m_g): it falls at least ``factor``
    fold and log(values) against the step has R^2 >= ``min_r2``."""
    n, log_v = np.asarray(steps, dtype=float), np.log(np.asarray(values, dtype=float))
    fit = np.polyfit(n, log_v, 1)
    r2 = float(1 - np.sum((log_v - np.polyval(fit, n)) ** 2) / np.sum((log_v - log_v.mean()) ** 2))
    fold = float(np.exp(log_v[0] - log_v[-1]))
    return {"fold decrease": fold, "R^2 of log vs n": r2, "decays": bool(fold >= factor and r2 >= min_r2)}


def plateau_while_falling(steps: Sequence[int], m_i: Sequence[float], m_g: Sequence[float], min_fall: float = 2.0,
                          max_decay: float = 0.05, floor_share: float = 0.1) -> dict:
    """Fig. 7's undercomplete run over its second half: m_g keeps falling (at least ``min_fall`` fold) while m_i
    "becomes slightly larger and certainly does not decay towards the origin" (falls by less than ``max_decay``
    of itself, and stays above ``floor_share`` of its start ||a_0 - a||). ``holds`` is the three together.
    ``still settling``: m_i is far from 0 but the run has not reached the statement's regime yet (m_g has
    stalled, or m_i is still falling): a longer run can decide, this one cannot contradict the paper."""
    t = late_trend(steps, m_i, m_g)
    (mi_half, mi_end), (mg_half, mg_end) = t["m_i at start, end"], t["m_g at start, end"]
    start = float(np.asarray(m_i, dtype=float)[0])
    parts = {"m_g keeps falling": mg_end * min_fall < mg_half,
             "m_i does not decay": mi_end > (1 - max_decay) * mi_half, "m_i far from 0": mi_end > floor_share * start}
    settling = parts["m_i far from 0"] and not (parts["m_g keeps falling"] and parts["m_i does not decay"])
    return {"m_g at half, last": [mg_half, mg_end], "m_i at half, last": [mi_half, mi_end], "m_i first": start,
            **parts, "still settling": settling, "holds": all(parts.values())}


def depth_needs_more_iterations(depths: Sequence[int], fixed_budget: Sequence[float],
                                reach: Sequence[int | None]) -> dict:
    """Fig. 8 over depths at one width: the deepest model's m_i at a fixed budget is worse than the shallowest's,
    and the iterations each needs to reach a fixed m_i (``iterations_to_reach``; None: not within the run) are
    finite for every depth and do not fall with depth, the deepest needing more than the shallowest."""
    never = [d for d, k in zip(depths, reach) if k is None]
    grows = not never and all(a <= b for a, b in zip(reach, reach[1:])) and reach[-1] > reach[0]
    return {"worse at the fixed budget": bool(fixed_budget[-1] > fixed_budget[0]), "never reached": never,
            "iterations grow with depth": bool(grows),
            "holds": bool(fixed_budget[-1] > fixed_budget[0] and grows)}
