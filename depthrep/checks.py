"""The judging: each claim's effect, the smallest effect it counts, and when a run cannot decide (below scale,
no signal), as functions of measured numbers; ``claims.py`` turns the effects into a status.

A presentation module (``results.PRESENTATION_MODULES``): it computes no inversion, so a changed threshold
recomputes nothing. Each check is tested in tests/test_checks.py on synthetic numbers in four families: the
paper's direction (holds), no effect (flat, tied, shuffled, within noise: never holds), the reverse (does not
hold) and no signal or saturation (inconclusive).
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any, Mapping, Sequence

import numpy as np

MIN_RHO = 0.8  # a depth trend counts when Spearman's rho over the judged layers is at least this (4 layers:
# 1.0, or 0.8 = one adjacent pair swapped) ...
MIN_RISE = 0.05  # ... and m_i grows by at least this share from the first judged layer to the last (between
# seeds the m_i of one layer differs by 2-4%: a smaller rise is within the measure's noise)
SATURATED = 0.9  # m_i / ||a_0 - a|| above this: the run ended near its start (it wandered, did not approach)
NON_UNIQUE_FLOOR = 1.0  # log2(m_i / ||a' - a||): a matched a_g at least twice as far from a as a' is
NO_SIGNAL = 1e-6  # a layer whose shift m_s is below this share of its embedding's norm (the embedding does not
# depend on the input), or whose embedding's norm is below this share of the input's (nothing reaches it)


def depth_rank_correlation(values: Sequence[float]) -> float:
    """Spearman's rank correlation of ``values`` with their position (depth), ties given their average rank:
    1.0 when they grow strictly, 0.0 when all are tied (no order). Without ties it is computed from integer ranks
    as an exact fraction, 1 - 6 sum(d^2) / (n (n^2 - 1)): one adjacent swap among five values is exactly 0.9."""
    v = np.asarray(values, dtype=float)
    n = len(v)
    if n < 2:
        raise ValueError(f"A rank correlation needs at least 2 values, got {n}.")
    if len(set(v.tolist())) == n:
        ranks = np.argsort(np.argsort(v, kind="stable"), kind="stable")
        d2 = int(sum((int(r) - i) ** 2 for i, r in enumerate(ranks)))
        return float(1 - Fraction(6 * d2, n * (n * n - 1)))
    ranks = np.array([np.mean(np.flatnonzero(np.sort(v) == x)) for x in v])  # average ranks of ties
    if np.ptp(ranks) == 0:
        return 0.0
    return float(np.corrcoef(ranks, np.arange(n))[0, 1])


def depth_trend(m_i: Sequence[float], start_ratios: Sequence[float | None] | None = None, first: int = 1,
                min_rise: float = MIN_RISE) -> dict:
    """Whether m_i grows with depth, judged on the layers from index ``first`` on (conv2..conv5, or 1/4..4/4):
    the stem (index 0) inverts almost exactly in every CNN, so with it in the ranking any order of the deeper
    layers but the exact reverse would look like growth; it is reported beside. ``start_ratios`` (each layer's
    m_i / ||a_0 - a||) end the judged layers at the first one above ``SATURATED``: that run stayed near its
    start, so its comparison with a deeper one measures how far each wandered from a_0 (it still counts as the
    worse side against the shallower layers). ``effect`` is Spearman's rho over the judged layers (average ranks
    for ties), set to 0 (no effect) when m_i moves by less than ``min_rise`` of itself from the first judged
    layer to the last; the rule counts it at ``MIN_RHO``. ``judged``: how many layers were judged (the runs of
    all but the last of them are the decisive side)."""
    values = [float(v) for v in m_i]
    if len(values) - first < 3:
        raise ValueError(f"A depth trend needs at least 3 layers after the stem, got {len(values) - first}.")
    end = len(values)
    for k in range(first, len(values)):
        if start_ratios is not None and start_ratios[k] is not None and start_ratios[k] > SATURATED:
            end = k + 1
            break
    judged = values[first:end]
    rho = depth_rank_correlation(judged) if len(judged) > 1 else 0.0
    rise = (judged[-1] - judged[0]) / judged[0] if judged[0] > 0 else float("inf")
    return {"stem m_i": values[:first], "judged": len(judged), "rho over the judged layers": rho,
            "relative rise, first to last judged": rise,
            "effect": rho if abs(rise) >= min_rise and len(judged) > 1 else 0.0}


def start_distance_ratio(run: Mapping) -> float | None:
    """m_i / ||a_0 - a||: where the run ended between the target (0) and its start (1); None without history."""
    history = run.get("history") or {}
    start = history.get("m_i")
    if start is None or len(start) == 0 or not float(start[0]) > 0:
        return None
    return float(run["m_i"]) / float(start[0])


def depth_trends(replicates: Mapping[str, Mapping[str, Mapping]], layers: Sequence[str], first: int = 1) -> dict:
    """A depth claim's inputs from its runs (replicate -> layer -> run with m_i and history): each replicate's
    ``depth_trend`` (``trends``), its ``effects`` and the ``decisive`` runs (label "<replicate> <layer>"): the
    judged layers but the last, or the first judged layer alone when it is already saturated."""
    trends, decisive = {}, {}
    for rep, runs in replicates.items():
        t = trends[rep] = depth_trend([runs[l]["m_i"] for l in layers],
                                      [start_distance_ratio(runs[l]) for l in layers], first)
        for layer in layers[first:first + t["judged"] - 1] or layers[first:first + 1]:
            decisive[f"{rep} {layer}"] = runs[layer]
    return {"trends": trends, "effects": {k: t["effect"] for k, t in trends.items()}, "decisive": decisive}


def relative_gap(better: float, worse: float) -> float:
    """``(worse - better) / worse``: > 0 when ``better`` is smaller (closer to the target)."""
    return (worse - better) / worse


def spread_floor(values: Sequence[float], minimum: float) -> float:
    """The smallest relative effect worth counting for a measure drawn several times: half the range of
    ``values`` (one quantity over independent seeds) over their mean, or ``minimum`` if larger."""
    v = np.asarray(values, dtype=float)
    return max(float(minimum), float(np.ptp(v) / 2 / abs(v.mean()))) if len(v) > 1 else float(minimum)


def no_signal(run: Mapping) -> str:
    """Why a run's layer carries no signal, or "" when it does: its embedding does not depend on the input (m_s
    below ``NO_SIGNAL`` of ||O_l(a)||), or nothing reaches it (||O_l(a)|| below ``NO_SIGNAL`` of ||a||). Such a
    run "matches" (m_g < m_s) whatever it is, so its m_i says nothing about the layer. Runs without the norms
    (recorded before they were) are not judged here."""
    emb, inp = run.get("embedding_norm"), run.get("input_norm")
    if emb is None or inp is None:
        return ""
    if emb < NO_SIGNAL * inp:
        return f"||O(a)|| {emb:.2g} < {NO_SIGNAL:g} ||a|| ({inp:.3g})"
    if run["m_s"] < NO_SIGNAL * emb:
        return f"m_s {run['m_s']:.2g} < {NO_SIGNAL:g} ||O(a)|| ({emb:.3g})"
    return ""


def too_short(steps: int, needed: int, what: str) -> str:
    """The below-scale reason of a run shorter than its statement needs, whatever its direction ("" if long
    enough): a short run that happens to point the paper's way is no more evidence than one that does not."""
    return (f"{what}: {steps} steps, fewer than the {needed} the statement needs (the paper profile's)"
            if steps < needed else "")


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
    stalled, or m_i is still falling)."""
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


def non_unique_effects(spread: Any) -> dict[str, float]:
    """Non-uniqueness at one layer (Fig. S1) on a ``seed_spread`` (an ``experiments.Spread``), per start: log2(m_i / ||a' - a||) of its
    generated image. A run that matched the embedding (m_g < m_s: O_l(a_g) is closer to O_l(a) than O_l(a') is)
    and still ends far farther from a than a' does is an input the layer tells apart from a less than it tells a'
    apart from a: the layer is not invertible at the shift's scale. Counted from ``NON_UNIQUE_FLOOR`` (twice
    ||a' - a||). A distance-preserving map cannot pass (there m_g < m_s means m_i < ||a' - a||, an effect below
    0); an undercomplete linear map passes (a_g keeps the part of a_0 - a in its null space). Matching is the
    verdict rule's part (the runs m_g, m_s), not this number's.

    The criterion before 0.15.0 (a_g pairs farther apart than their starts) failed every non-invertible map
    too: gradient descent from two starts removes the part of their difference that the layer sees, so a_g
    pairs end closer than their starts whether or not the layer is invertible."""
    shift = spread.shift_distance
    if not shift > 0:
        raise ValueError(f"||a - a'|| is {shift}: the shift is empty, nothing to compare m_i with.")
    return {f"seed {s}": float(np.log2(m / shift)) for s, m in zip(spread.seeds, spread.m_i)}


def non_unique(spread: Any) -> bool:
    """Fig. S1's verdict on one ``seed_spread`` (for printing; claims use ``non_unique_effects`` with the
    verdict rule): every start matched the embedding and ended at least twice ||a' - a|| from a."""
    return (all(m < spread.m_s for m in spread.m_g)
            and min(non_unique_effects(spread).values()) >= NON_UNIQUE_FLOOR)


def share_above(values: Sequence[float], threshold: float, level: float = 0.95, resamples: int = 10_000,
                seed: int = 0) -> dict:
    """The share of ``values`` above ``threshold`` over independent draws (models), with its bootstrap interval
    at ``level`` (percentile, ``resamples`` resamples, seeded) and the quartiles of the values. ``typical``: True
    when the whole interval lies above one half (a typical draw is above the threshold), False when below,
    None when the interval holds one half (more draws would decide)."""
    v = np.asarray(values, dtype=float)
    if v.size < 2 or not np.isfinite(v).all():
        raise ValueError(f"share_above needs at least 2 finite values, got {v.tolist()}.")
    above = v > threshold
    rng = np.random.default_rng(seed)
    shares = above[rng.integers(0, v.size, (resamples, v.size))].mean(axis=1)
    low, high = np.quantile(shares, [(1 - level) / 2, (1 + level) / 2])
    typical = True if low > 0.5 else False if high < 0.5 else None
    return {"share above": float(above.mean()), f"{level:.0%} bootstrap interval": [float(low), float(high)],
            "quartiles (25, 50, 75%)": np.quantile(v, [0.25, 0.5, 0.75]).tolist(), "draws": int(v.size),
            "typical": typical}


def within_factor(measured: float, expected: float, factor: float) -> float:
    """How closely ``measured`` gives a number the paper states (``expected``), to within ``factor`` (> 1):
    ``1 - |log(measured / expected)| / log(factor)``. 1 on the paper's number, > 0 inside the factor (the
    paper's direction), 0 on its edge (no effect), < 0 outside (this setup does not give the paper's number).
    A measured value that is not positive and finite has no ratio to the paper's (no signal): ValueError."""
    if not factor > 1:
        raise ValueError(f"within_factor needs a factor above 1, got {factor!r}.")
    if not (np.isfinite(measured) and measured > 0 and np.isfinite(expected) and expected > 0):
        raise ValueError(f"No signal: {measured!r} against the paper's {expected!r}: a ratio needs two positive "
                         f"finite numbers.")
    return float(1 - abs(np.log(measured / expected)) / np.log(factor))


def absent_change(change: float, noticeable: float) -> float:
    """The effect of a statement that a change is absent ("does not noticeably sharpen"): ``noticeable - change``,
    ``change`` signed as the change the paper says does not happen (e.g. the relative drop of m_i). > 0: below
    what counts as noticeable (the paper's statement); < 0: a noticeable change (the statement is false); the
    verdict rule's floor makes a change near ``noticeable`` no effect (undecided)."""
    if not (np.isfinite(change) and noticeable > 0):
        raise ValueError(f"absent_change needs a finite change and a positive threshold, got {change!r}, "
                         f"{noticeable!r}.")
    return float(noticeable - change)


def detail_correlation(image: np.ndarray, target: np.ndarray, sigma: float) -> float:
    """How much of the target's fine pattern (the dalmatian's spots) an image reproduces where the target has it:
    Pearson's correlation of the two images' detail, each image's brightness (the mean over its channels) less
    its Gaussian blur of ``sigma`` pixels. 1 for the target's own pattern (at any contrast or brightness), about
    0 for unrelated detail or none. Images as arrays or CPU tensors, (..., H, W)."""
    def detail(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        x = x.reshape(-1, *x.shape[-2:]).mean(0)
        r = max(1, int(np.ceil(3 * sigma)))
        if not (sigma > 0 and r < min(x.shape)):
            raise ValueError(f"detail_correlation needs 0 < 3 sigma < the image's side, got sigma {sigma!r} for "
                             f"{x.shape[0]}x{x.shape[1]} px.")
        k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
        k /= k.sum()
        blurred = np.pad(x, r, mode="reflect")
        for axis in (0, 1):
            blurred = np.apply_along_axis(np.convolve, axis, blurred, k, mode="valid")
        d = (x - blurred).ravel()
        return d - d.mean()

    d, t = detail(image), detail(target)
    norm = np.linalg.norm(d) * np.linalg.norm(t)
    return float(d @ t / norm) if norm > 0 else 0.0


def kept_then_lost(values: Mapping[str, float], kept: Sequence[str], lost: Sequence[str], level: float) -> float:
    """A pattern "found in" the ``kept`` layers and "noticeably different" in the ``lost`` ones, as one effect:
    the smaller of how far every kept layer's value (e.g. ``detail_correlation``) lies above ``level`` and how
    far every lost layer's lies below it. > 0: the paper's direction; < 0: a kept layer lost the pattern (it
    disappears earlier), a lost layer kept it (later, or never), or no layer has it."""
    if not (kept and lost):
        raise ValueError("kept_then_lost needs at least one kept and one lost layer.")
    return float(min(min(values[k] for k in kept) - level, level - max(values[k] for k in lost)))


def matched_window(step_sizes: Sequence[float], m_g: Sequence[float], m_s: float) -> dict:
    """How wide a range of step sizes reaches the embedding (final m_g < ``m_s``) on a log grid of one ratio:
    the matched step sizes' count times log2 of the ratio (``octaves``: 2 for two neighbours at ratio 2), the
    ``matched`` step sizes, and ``censored`` when a matched value lies on the grid's edge (the range may go on
    past it: its width is not measured). No matched value: width 0."""
    s = np.asarray(step_sizes, dtype=np.float64)
    order = np.argsort(s)
    s, g = s[order], np.asarray(m_g, dtype=np.float64)[order]
    ratios = s[1:] / s[:-1]
    if len(s) < 3 or not np.allclose(ratios, ratios[0], rtol=1e-6) or not ratios[0] > 1:
        raise ValueError(f"matched_window needs a log grid of at least 3 distinct step sizes, got {list(s)}.")
    hit = np.isfinite(g) & (g < m_s)
    return {"octaves": float(hit.sum() * np.log2(ratios[0])), "censored": bool(hit[0] or hit[-1]),
            "matched": [float(v) for v in s[hit]]}
