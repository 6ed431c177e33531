"""Representation visualization: gradient descent on the input, eqs. (3)-(5), batched; the step-size search."""
from __future__ import annotations

import contextlib
import ctypes
import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn

from depthrep.assets import check_image
from depthrep.device import progress_bar, synchronize
from depthrep.layers import truncate
from depthrep.metrics import PAPER_CODE_SHIFT_SIGMA, distances
from depthrep.results import safe_type


def gaussian_kernel3(sigma: torch.Tensor) -> torch.Tensor:
    """3x3 Gaussian kernels, one per sigma, normalised to sum 1: shape ``[len(sigma), 3, 3]``."""
    t = torch.tensor([-1.0, 0.0, 1.0], dtype=sigma.dtype, device=sigma.device)
    g = torch.exp(-(t[None, :] ** 2) / (2 * sigma[:, None] ** 2))
    k = g[:, :, None] * g[:, None, :]
    return k / k.sum(dim=(1, 2), keepdim=True)


def blur3x3(x: torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
    """The 3x3 Gaussian convolution N_c of eq. (5), per channel, reflect padding; sigma per image or shared."""
    n, c = x.shape[:2]
    s = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(-1).expand(n)
    k = gaussian_kernel3(s).repeat_interleave(c, dim=0)[:, None]  # [n*c, 1, 3, 3]
    y = nn.functional.pad(x.reshape(1, n * c, *x.shape[2:]), (1, 1, 1, 1), mode="reflect")
    return nn.functional.conv2d(y, k, groups=n * c).reshape(x.shape)


# The share of the target's contrast that one blur step of eq. (5) removes, ||N_c(a) - a|| / ||a - mean(a)||,
# at the paper's first and last sigma (2.4 -> 0.4, its code) on its 299-px dalmatian: measured by
# ``blur_share`` (tests/test_inversion.py checks them against the image). At another size or for another
# image, ``sigma_for_share`` finds the sigmas that remove the same shares: eq. (5) then holds the iterate as
# far from the target, relative to the target's own contrast, as the paper's did. A 3x3 kernel of fixed
# sigma removes more of a smaller image (0.097 at 299 px, 0.265 at 64 px for sigma 2.4), and a kernel
# shrunk with the side (its variance times (size/299)^2) far less (0.014 at 64 px): neither means the same.
PAPER_BLUR_SHARES = (0.09724, 0.012928)
PAPER_BLUR_SIGMAS = (2.4, 0.4)  # eq. (5)'s first and last sigma in the paper's code, at 299 px


def blur_share(image: torch.Tensor, sigma: float) -> float:
    """The share of ``image``'s contrast one blur step removes: ||N_c(a) - a|| / ||a - mean(a)||."""
    a = image.double()
    return float((blur3x3(a, sigma) - a).norm() / (a - a.mean()).norm())


def sigma_for_share(image: torch.Tensor, share: float) -> float:
    """The sigma of eq. (5)'s 3x3 Gaussian at which one blur step removes ``share`` of ``image``'s contrast
    (bisection: the share grows with sigma, up to the flat kernel's)."""
    low, high = 0.05, 50.0
    if not blur_share(image, low) <= share <= blur_share(image, high):
        raise ValueError(f"A 3x3 blur removes {blur_share(image, low):.3g} to {blur_share(image, high):.3g} of this "
                         f"image's contrast; {share:.4g} is out of reach. Choose a share in that range (an image "
                         f"with next to no contrast, such as a flat colour, has nothing to blur: turn the blur off).")
    for _ in range(60):
        mid = math.sqrt(low * high)
        low, high = (mid, high) if blur_share(image, mid) < share else (low, mid)
    return math.sqrt(low * high)


def paper_blur_sigmas(target: torch.Tensor, reference: torch.Tensor) -> tuple[float, float]:
    """Eq. (5)'s first and last sigma for ``target``: the sigmas that remove the shares of its contrast that
    the paper's 2.4 -> 0.4 remove from ``reference``, the same image at the paper's 299 px. Images differ in
    how much of their contrast a blur removes (the paper's sigmas take 9.7% -> 1.3% of the dalmatian's,
    12.5% -> 1.7% of the Tesla coil's), so each target is calibrated on its own 299-px image."""
    a, b = (sigma_for_share(target[:1].cpu(), blur_share(reference[:1].cpu(), s)) for s in PAPER_BLUR_SIGMAS)
    return a, b


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
    blur: bool = False,
    blur_sigma: float | None = None,
    blur_sigma_end: float | None = None,
    clamp: bool = False,
    loss_scale: float = 1.0,
    start_mean: float = 0.7,
    start_std: float = 1 / 20,
    record_every: int = 10,
    on_nonfinite: str = "raise",
    optimizer: str = "sgd",
    parameterization: str = "pixel",
    autocast: torch.dtype | None = None,
    progress: bool | None = None,
    on_step: Callable[[int], bool] | None = None,
    device: torch.device | None = None,
) -> Inversion:
    """Generate a_g whose embedding ``model(a_g)`` matches ``model(target)``, by gradient descent on the input.

    From a_0 ~ N(start_mean, start_std), each step takes g = grad of the L1 loss (eq. 3, times
    ``loss_scale``; the paper's code used 0.15 for ResNets, 0.35 for MLPs, which only rescales eps) and
    applies eq. (4) ``a - eps_n g`` or, with ``blur``, eq. (5) ``blur3x3(a - eps_n g)``, the blur sigma
    changing linearly ``blur_sigma -> blur_sigma_end`` (pixels). Left None, they are the sigmas at which one
    blur step removes the same share of the (first) target's contrast as the paper's 2.4 -> 0.4 did from its 299-px
    dalmatian (``PAPER_BLUR_SHARES``, ``sigma_for_share``; at 299 px on that image: 2.4 -> 0.4).
    ``eps_n`` is ``step_size``, or with ``decay_to`` falls linearly to ``decay_to * step_size`` (0.0: the
    paper's c -> 0).
    ``clamp`` keeps pixels in [0, 1] (off in the paper's code).

    ``optimizer="adam"`` replaces the gradient by Adam's normalised step (betas 0.9, 0.999; step sizes
    then are in pixel units, ~1e-3..1e-1, the same for every layer); not the paper's procedure, offered
    because it needs fewer iterations (``make bench``). ``optimizer="momentum"`` is the iCNN recipe (Shen et
    al. 2019; bdpy's ``recon.torch.icnn``): each run's gradient divided by its mean absolute value, then heavy-ball
    momentum 0.9 (``v = 0.9 v + g / mean|g|``, ``a <- a - eps_n v``); its step sizes are in pixel units too.
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
    if optimizer not in UPDATE_RULES:
        raise ValueError(f"optimizer must be one of {UPDATE_RULES} ('sgd': the paper's update), got {optimizer!r}.")
    if parameterization not in ("pixel", "fourier"):
        raise ValueError(f"parameterization must be 'pixel' (the paper's) or 'fourier', got {parameterization!r}.")
    if parameterization == "fourier" and (blur or clamp):
        raise ValueError("The Fourier parameterisation keeps the image in (0, 1) by itself and has no eq. (5): "
                         "use it with blur=False and clamp=False.")
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
             "momentum": lambda: torch.zeros_like(param), "sgd": lambda: None}[optimizer]()
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

    if blur:
        first = a[:1].cpu()
        blur_sigma = sigma_for_share(first, PAPER_BLUR_SHARES[0]) if blur_sigma is None else blur_sigma
        blur_sigma_end = sigma_for_share(first, PAPER_BLUR_SHARES[1]) if blur_sigma_end is None else blur_sigma_end
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
        if optimizer == "adam":
            g = _adam_direction(g, *state, n + 1)
        elif optimizer == "momentum":
            g = _momentum_direction(g, state)
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
            if blur:
                sigma = blur_sigma + frac * (blur_sigma_end - blur_sigma)
                x = blur3x3(x, sigma)
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


def reuse_freed_memory() -> bool:
    """Keep freed memory in this process's heap for the next allocation (glibc on Linux; once per process).

    By default glibc maps every large block afresh from the OS and returns it on free, so each inversion
    step page-faults and zero-fills its activations again, which slows large CPU batches (docs/SPEED.md has
    the measurement). ``invert`` calls this on CPU. The cost: the process's resident memory no longer
    shrinks after a peak. Returns whether the setting is active.
    """
    global _HEAP_REUSE
    if _HEAP_REUSE is None:
        try:
            libc = ctypes.CDLL("libc.so.6")
            m_trim_threshold, m_mmap_max = -1, -4  # mallopt parameters, from glibc's malloc.h
            _HEAP_REUSE = bool(libc.mallopt(m_mmap_max, 0)) and bool(libc.mallopt(m_trim_threshold, 2 ** 30))
        except (OSError, AttributeError):
            _HEAP_REUSE = False
    return _HEAP_REUSE


_HEAP_REUSE: bool | None = None


@torch.no_grad()
def _adam_direction(g: torch.Tensor, m1: torch.Tensor, m2: torch.Tensor, n: int, betas: tuple = (0.9, 0.999),
                    stabiliser: float = 1e-8) -> torch.Tensor:
    """Adam's bias-corrected step direction for step n (1-based); updates the moments m1, m2 in place."""
    m1.mul_(betas[0]).add_(g, alpha=1 - betas[0])
    m2.mul_(betas[1]).addcmul_(g, g, value=1 - betas[1])
    return (m1 / (1 - betas[0] ** n)) / ((m2 / (1 - betas[1] ** n)).sqrt_() + stabiliser)


UPDATE_RULES = ("sgd", "adam", "momentum")  # the paper's gradient step, and the two stronger peers' rules
ICNN_MOMENTUM = 0.9  # bdpy's icnn default (constant over the run)


@torch.no_grad()
def _momentum_direction(g: torch.Tensor, velocity: torch.Tensor, momentum: float = ICNN_MOMENTUM) -> torch.Tensor:
    """The iCNN step direction: each run's gradient divided by its mean absolute value (a run with a zero gradient
    is left at zero), accumulated with heavy-ball momentum in ``velocity`` (updated in place)."""
    scale = g.abs().flatten(1).mean(dim=1).view(-1, *[1] * (g.dim() - 1))
    normalised = torch.where(scale > 0, g / scale.clamp_min(torch.finfo(g.dtype).tiny), torch.zeros_like(g))
    velocity.mul_(momentum).add_(normalised)
    return velocity


# The square root of ImageNet's colour correlation (Olah et al., Distill 2017; the lucid/lucent constant), columns
# scaled to unit maximum norm: decorrelated channels -> RGB.
COLOR_CORRELATION_SQRT = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]],
                                      dtype=torch.float64)
COLOR_CORRELATION_SQRT = COLOR_CORRELATION_SQRT / COLOR_CORRELATION_SQRT.norm(dim=0).max()
FOURIER_SCALE = 4.0  # the reference implementation's constant: image = irfft(spectrum x 1/f) / 4 before colour


class FourierImage:
    """The decorrelated Fourier parameterisation of an image batch (Olah et al., Distill 2017): the image is
    ``sigmoid(C irfft2(s * w) / 4)`` for spectrum ``s`` (real and imaginary parts, per channel), frequency weights
    ``w = 1 / max(|f|, 1 / max(H, W))`` (a 1/f spectrum is flat in these units), and ``C`` the square root of
    ImageNet's colour correlation. Built from a start image in (0, 1), whose spectrum it inverts exactly (logit,
    C^-1, rfft2), so a Fourier run starts from the same a_0 as a pixel run. ``image(s)`` maps a spectrum to the
    image, differentiably."""

    def __init__(self, start: torch.Tensor):
        if not bool(((start > 0) & (start < 1)).all()):
            raise ValueError("The Fourier parameterisation needs a start image strictly inside (0, 1) (its sigmoid "
                             "cannot reach 0 or 1); lower start_std or move start_mean.")
        h, w = start.shape[-2:]
        fy, fx = torch.fft.fftfreq(h, dtype=torch.float64)[:, None], torch.fft.rfftfreq(w, dtype=torch.float64)[None]
        weight = 1.0 / torch.maximum((fy ** 2 + fx ** 2).sqrt(), torch.tensor(1.0 / max(h, w), dtype=torch.float64))
        self.shape = (h, w)
        self.weight = weight.to(start.device, start.dtype)[..., None]  # [H, W//2+1, 1]: real and imaginary
        self.color = COLOR_CORRELATION_SQRT.to(start.device, start.dtype)
        z = torch.einsum("ij,bjhw->bihw", torch.linalg.inv(self.color), torch.logit(start)) * FOURIER_SCALE
        self.spectrum = torch.view_as_real(torch.fft.rfft2(z, norm="ortho")) / self.weight

    def __call__(self, spectrum: torch.Tensor) -> torch.Tensor:
        z = torch.fft.irfft2(torch.view_as_complex((spectrum * self.weight).contiguous()), s=self.shape,
                             norm="ortho") / FOURIER_SCALE
        return torch.sigmoid(torch.einsum("ij,bjhw->bihw", self.color, z))


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
    if relocate:
        step_sizes = relocate_grid(model, target, step_sizes, steps, **invert_kwargs)

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


def relocate_grid(model: nn.Module, target: torch.Tensor, step_sizes: Sequence[float], steps: int,
                  seed: int | Sequence[int] = 0, loss_scale: float = 1.0, start_mean: float = 0.7,
                  start_std: float = 1 / 20, optimizer: str = "sgd", parameterization: str = "pixel",
                  **_: Any) -> list[float]:
    """The search grid, moved by whole powers of its own ratio when the first gradient says that the right
    scale lies far outside it: a guess ``SEARCH_TRAVEL / (steps x RMS of the first gradient)`` (for the paper's
    untrained ResNet50 it lies some tens of times below the best step size, which SEARCH_TRAVEL absorbs) more
    than one ratio beyond either edge. The gradient's scale differs by 10^15 between layers and models (ResNet152's
    untrained conv5: RMS 1e7 at 64 px; an untrained EfficientNet-Lite0's conv5: 6e-8), and walking there edge by
    edge costs a full-length batch per two values. A grid that covers the guess is returned unchanged (the
    search still extends it at an edge); so is an Adam or momentum search (their steps are in pixel units) and a
    Fourier one (its gradient is the spectrum's)."""
    grid = sorted(float(v) for v in step_sizes)
    if optimizer != "sgd" or parameterization != "pixel" or len(grid) < 2:
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
                    blur: bool, decay_to: float | None = 0.0, seed: int = 0, shift_sigma: float = 1 / 20,
                    normalize: bool = False, **invert_kwargs: Any) -> dict:
    """Representation visualization at one layer: ``search_invert`` over ``step_sizes``, every run ``steps``
    long, the best run being the result. Returns the generated image, its m_g, m_s, m_i, m_s with the paper
    code's a' = a + N(0, 1/18) (``m_s_code_sigma``: the text says 1/20), ||O_l(a)|| and ||a||
    (``embedding_norm``, ``input_norm``: whether the layer carries a signal, ``checks.no_signal``), the chosen step size,
    the search table, the recorded history, the wall time of the whole search and its number of runs."""
    model_l = truncate(model, layer, normalize=normalize)
    t0 = time.perf_counter()
    run, table = search_invert(model_l, target, step_sizes, steps, blur=blur, decay_to=decay_to, seed=seed,
                               **invert_kwargs)
    d = distances(model_l, target, run.images, sigma=shift_sigma, seed=seed)
    m_s_code = distances(model_l, target, run.images[:1], sigma=PAPER_CODE_SHIFT_SIGMA, seed=seed)["m_s"]
    with torch.no_grad():
        device = next((p.device for p in model_l.parameters()), torch.device("cpu"))
        embedding_norm = float(model_l(target.to(device)).double().norm())
    return dict(layer=layer, step_size=float(run.step_size[0]), search=table, image=run.images[0],
                m_g=float(d["m_g"][0]), m_s=float(d["m_s"][0]), m_i=float(d["m_i"][0]),
                m_s_code_sigma=float(m_s_code[0]),
                embedding_norm=embedding_norm, input_norm=float(target.double().norm()),
                diverged=bool(run.diverged[0]), steps=run.steps, history={k: v[:, 0] for k, v in run.history.items()},
                seconds=time.perf_counter() - t0, runs=len(table))
