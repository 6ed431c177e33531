"""Representation visualization: gradient descent on the input, eqs. (3)-(5), batched (``invert``), from the start
image a_0; its record ``Inversion``."""
from __future__ import annotations

import contextlib
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn

from depthrep.assets import check_image
from depthrep.blur import blur3x3
from depthrep.device import progress_bar, synchronize
from depthrep.results import safe_type
from depthrep.speed import reuse_freed_memory
from depthrep.updates import UPDATE_RULES, FourierImage, LBFGSDirection, adam_direction, momentum_direction


def start_image(shape: Sequence[int], seed: int, mean: float = 0.7, std: float = 1 / 20,
                dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """a_0 ~ N(mean, std) per pixel, from its own seeded generator (independent of the global seed). Drawn in
    float32 whatever ``dtype`` (torch draws other numbers in float64), so a float64 run starts where its float32
    twin does."""
    gen = torch.Generator().manual_seed(int(seed))
    return (mean + std * torch.randn(*shape, generator=gen, dtype=torch.float32)).to(dtype)


@safe_type
@dataclass
class Inversion:
    """Result of ``invert``: generated images a_g, per-run final distances and the recorded history."""

    images: torch.Tensor  # a_g, [B, 3, H, W], on CPU
    step_size: np.ndarray  # eps_0 per run (the step size; eps in the paper)
    seed: np.ndarray  # start-image seed per run
    m_g: np.ndarray  # final L2 embedding distance per run, eq. (6)
    m_i: np.ndarray  # final L2 input distance per run, eq. (10)
    steps: np.ndarray  # iterations at which history was recorded
    history: dict[str, np.ndarray] = field(default_factory=dict)  # m_g, m_i, loss: [len(steps), B]
    seconds: float = 0.0  # whole call
    step_seconds: float = 0.0  # mean wall time of one step of the batch, after the first (the loop alone)
    diverged: np.ndarray | None = None  # per run: finite but exploded (see ``invert``); None in old caches

    def __getitem__(self, i: int) -> "Inversion":
        """The i-th run alone, as if it had been run by itself."""
        return Inversion(self.images[i:i + 1], self.step_size[i:i + 1], self.seed[i:i + 1], self.m_g[i:i + 1],
                         self.m_i[i:i + 1], self.steps, {k: v[:, i:i + 1] for k, v in self.history.items()},
                         self.seconds, self.step_seconds,
                         None if self.diverged is None else self.diverged[i:i + 1])


def _per_run(value: Any, n: int, what: str) -> list:
    """Broadcast a scalar or a length-1/length-n sequence to a list of n values."""
    values = list(value) if isinstance(value, (list, tuple, np.ndarray, torch.Tensor)) else [value]
    if len(values) == 1:
        values = values * n
    if len(values) != n:
        raise ValueError(f"{what} has {len(values)} values but the batch has {n} runs.")
    return values


def _batch_size(*sizes: int) -> int:
    """Common batch size of broadcastable per-run arguments (each 1 or B)."""
    big = {s for s in sizes if s != 1}
    if len(big) > 1:
        raise ValueError(f"Per-run arguments disagree on the number of runs: {sorted(big)}.")
    return big.pop() if big else 1


def invert(
    model: nn.Module,
    target: torch.Tensor,
    steps: int,
    step_size: float | Sequence[float],
    seed: int | Sequence[int] = 0,
    decay_to: float | None = None,
    blur: tuple[float, float] | None = None,
    clamp: bool = False,
    loss_scale: float = 1.0,
    start_mean: float = 0.7,
    start_std: float = 1 / 20,
    record_every: int = 10,
    on_nonfinite: str = "raise",
    update: str = "sgd",
    parameterization: str = "pixel",
    autocast: torch.dtype | None = None,
    progress: bool | None = None,
    on_step: Callable[[int], bool] | None = None,
    device: torch.device | None = None,
) -> Inversion:
    """Generate a_g whose embedding ``model(a_g)`` matches ``model(target)``, by gradient descent on the input.

    From a_0 ~ N(start_mean, start_std), each step takes g = grad of the L1 loss (eq. 3, times
    ``loss_scale``; the paper's code used 0.15 for ResNets, 0.35 for MLPs, which only rescales eps) and
    applies eq. (4) ``a - eps_n g`` or, with ``blur=(sigma_first, sigma_last)``, eq. (5) ``blur3x3(a - eps_n g)``,
    the blur sigma (pixels) changing linearly from the first to the last (``blur_sigmas(image, size)`` gives the
    paper's for an image at any size: its one recipe).
    ``eps_n`` is ``step_size``, or with ``decay_to`` falls linearly to ``decay_to * step_size`` (0.0: the
    paper's c -> 0).
    ``clamp`` keeps pixels in [0, 1] (off in the paper's code).

    ``update="adam"`` replaces the gradient by Adam's normalised step (betas 0.9, 0.999; step sizes
    then are in pixel units, ~1e-3..1e-1, the same for every layer); not the paper's procedure, offered
    because it needs fewer iterations (``make bench``). ``update="momentum"`` is the iCNN recipe (Shen et
    al. 2019; bdpy's ``recon.torch.icnn``): each run's gradient divided by its mean absolute value, then heavy-ball
    momentum 0.9 (``v = 0.9 v + g / mean|g|``, ``a <- a - eps_n v``); its step sizes are in pixel units too.
    ``update="lbfgs"``: L-BFGS directions per run (``LBFGSDirection``, memory 10, no line search: eps_n scales
    the quasi-Newton step, 1 being the full step; use it with ``decay_to=None``).
    ``parameterization="fourier"`` optimises the image through the decorrelated Fourier basis of Olah et al.
    (Distill 2017, "Feature Visualization"; ``FourierImage``) instead of its pixels: the update acts on the
    spectrum, the image stays in (0, 1) and starts exactly at a_0; with any of the three updates, without blur
    or clamp. Neither is the paper's procedure: notebook 07 uses them to test its assumption that its own
    procedure is powerful enough. ``autocast=torch.bfloat16`` runs the forward and backward passes under
    autocast (fast on GPUs; the final m_g and m_i are computed in full precision).

    Runs that differ in ``step_size``, ``seed`` or target (``target`` of batch 1 or B) go through the model as
    one batch; each gives what it would give alone. m_g, m_i and the L1 loss are recorded every
    ``record_every`` steps. A NaN/Inf raises ``FloatingPointError`` naming the step size
    (``on_nonfinite='mark'`` lets such runs finish as NaN instead, for the line search). A run that stays
    finite but explodes (a pixel beyond ``DIVERGED_PIXEL`` from mid-grey, or a pixel beyond 10 with a final m_g
    above ``DIVERGED_GROWTH`` times its start) is marked in ``Inversion.diverged``: its numbers mean nothing, and
    the line search skips it; with ``on_nonfinite='raise'`` a ``RuntimeWarning`` names its step size.
    ``on_step(k)`` is called after step k (1-based); returning True stops the run there (the explorer's Stop
    button): the result then holds the image and distances after k steps.
    """
    check_image(target, "target")
    bad = [v for v in (step_size if isinstance(step_size, (list, tuple, np.ndarray)) else [step_size])
           if not float(v) > 0]
    if bad:
        raise ValueError(f"step_size must be > 0 (a zero or negative step does not descend), got {bad}.")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}.")
    if on_nonfinite not in ("raise", "mark"):
        raise ValueError("on_nonfinite must be 'raise' or 'mark'.")
    if update not in UPDATE_RULES:
        raise ValueError(f"update must be one of {UPDATE_RULES} ('sgd': the paper's), got {update!r}.")
    if blur is not None and (not isinstance(blur, (tuple, list)) or len(blur) != 2 or not all(float(v) > 0 for v in blur)):
        raise ValueError(f"blur takes eq. (5)'s first and last sigma in pixels, (sigma_first, sigma_last) > 0, or "
                         f"None for eq. (4); got {blur!r}. The paper's for an image: du.blur_sigmas(image, size).")
    if parameterization not in ("pixel", "fourier"):
        raise ValueError(f"parameterization must be 'pixel' (the paper's) or 'fourier', got {parameterization!r}.")
    if parameterization == "fourier" and (blur is not None or clamp):
        raise ValueError("The Fourier parameterisation keeps the image in (0, 1) by itself and has no eq. (5): "
                         "use it with blur=None and clamp=False.")
    device = device or next((p.device for p in model.parameters()), torch.device("cpu"))
    seeds_in = seed if isinstance(seed, (list, tuple, np.ndarray)) else [seed]
    sizes_in = step_size if isinstance(step_size, (list, tuple, np.ndarray)) else [step_size]
    b = _batch_size(len(sizes_in), len(seeds_in), target.shape[0])
    step_sizes = np.asarray(_per_run(sizes_in, b, "step_size"), dtype=np.float64)
    seeds = np.asarray(_per_run(seeds_in, b, "seed"), dtype=np.int64)
    dtype = target.dtype
    a = target.to(device)
    with torch.no_grad():
        y_target = model(a)
    a_b = a.expand(b, *a.shape[1:]) if a.shape[0] == 1 else a
    y_b = y_target.expand(b, *y_target.shape[1:]) if y_target.shape[0] == 1 else y_target
    x = torch.cat([start_image((1, *a.shape[1:]), s, start_mean, start_std, dtype) for s in seeds]).to(device)
    eps_0 = torch.as_tensor(step_sizes, dtype=dtype, device=device).view(-1, 1, 1, 1)
    rec_steps, rec = [], {"m_g": [], "m_i": [], "loss": []}
    image = FourierImage(x) if parameterization == "fourier" else None
    param = image.spectrum if image is not None else x  # what the update acts on
    state = {"adam": lambda: (torch.zeros_like(param), torch.zeros_like(param)),
             "momentum": lambda: torch.zeros_like(param), "lbfgs": LBFGSDirection, "sgd": lambda: None}[update]()
    precision = (torch.autocast(device.type, dtype=autocast) if autocast is not None
                 else contextlib.nullcontext())

    def check(values: torch.Tensor, n: int) -> None:
        bad = ~torch.isfinite(values)
        if on_nonfinite == "raise" and bool(bad.any()):
            bad_sizes = ", ".join(f"{v:g}" for v in step_sizes[bad.cpu().numpy()])
            raise FloatingPointError(
                f"Inversion diverged (NaN/Inf) at step {n} with step size {bad_sizes}. "
                f"Lower the step size (try a tenth) or turn on clamp."
            )

    if device.type == "cpu":
        reuse_freed_memory()
    synchronize(device)
    t0 = time.perf_counter()
    done = 0
    for n in progress_bar(range(steps), steps, f"invert {getattr(model, 'layer', '')}", progress):
        if n == 1:  # steady state starts after the first step (allocations, kernel selection)
            synchronize(device)
            t1 = time.perf_counter()
        frac = n / steps
        param.requires_grad_(True)
        if image is not None:
            x = image(param)
        with precision:
            diff = model(x) - y_b
            loss = diff.abs().sum(dim=tuple(range(1, diff.dim())))  # no flatten: no copy of a channels-last diff
        (g,) = torch.autograd.grad(loss.sum() * loss_scale, param)
        if update == "adam":
            g = adam_direction(g, *state, n + 1)
        elif update == "momentum":
            g = momentum_direction(g, state)
        elif update == "lbfgs":
            g = state(param.detach(), g)
        if n % record_every == 0:
            with torch.no_grad():
                rec_steps.append(n)
                rec["m_g"].append(diff.detach().flatten(1).float().norm(dim=1))
                rec["m_i"].append((x.detach() - a_b).flatten(1).norm(dim=1))
                rec["loss"].append(loss.detach().float())
                check(loss, n)
        with torch.no_grad():
            eps = eps_0 if decay_to is None else eps_0 * (1 - frac * (1 - decay_to))
            param = param.detach() - eps.view(-1, *[1] * (g.dim() - 1)) * g
            x = image(param) if image is not None else param
            if blur is not None:
                x = blur3x3(x, blur[0] + frac * (blur[1] - blur[0]))
            if clamp:
                x.clamp_(0.0, 1.0)
            if image is None:
                param = x
        done = n + 1
        if on_step is not None and on_step(done):
            break
    synchronize(device)
    step_seconds = (time.perf_counter() - t1) / (done - 1) if done > 1 else time.perf_counter() - t0
    with torch.no_grad():
        m_g = (model(x) - y_b).flatten(1).norm(dim=1)
        m_i = (x - a_b).flatten(1).norm(dim=1)
    check(m_g, done)
    history = {k: torch.stack(v).cpu().numpy() for k, v in rec.items()}
    far = (x - 0.5).abs().flatten(1).amax(dim=1).cpu().numpy()
    diverged = (far > DIVERGED_PIXEL) | ((far > 10) & (m_g.cpu().numpy() > DIVERGED_GROWTH * history["m_g"][0]))
    if on_nonfinite == "raise" and diverged.any():  # a direct call: say so ('mark' callers handle it)
        sizes = ", ".join(f"{v:g}" for v in step_sizes[diverged])
        warnings.warn(f"Inversion diverged with step size {sizes}: the image exploded (a pixel "
                      f"{far[diverged].max():.3g} from mid-grey), so its m_g and m_i mean nothing. Lower the "
                      f"step size (try a tenth) or search it (search_invert).", RuntimeWarning, stacklevel=2)
    return Inversion(x.detach().cpu(), step_sizes, seeds, m_g.cpu().numpy(), m_i.cpu().numpy(),
                     np.asarray(rec_steps), history, time.perf_counter() - t0, step_seconds, diverged)


DIVERGED_PIXEL = 1e3  # |pixel - 0.5| beyond this: no image (pixels live in [0, 1])
DIVERGED_GROWTH = 10.0  # ... or final m_g above this times its start with a pixel 10 outside: the wrong way
