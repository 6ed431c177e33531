"""The update rules of gradient descent on the input besides the paper's step: Adam, iCNN's momentum with a normalised
gradient, L-BFGS, the decorrelated Fourier image; and ``PROCEDURES``, the one table of them notebook 07 and the
explorer read."""
from __future__ import annotations

import torch


@torch.no_grad()
def adam_direction(g: torch.Tensor, m1: torch.Tensor, m2: torch.Tensor, n: int, betas: tuple = (0.9, 0.999),
                   stabiliser: float = 1e-8) -> torch.Tensor:
    """Adam's bias-corrected step direction for step n (1-based); updates the moments m1, m2 in place."""
    m1.mul_(betas[0]).add_(g, alpha=1 - betas[0])
    m2.mul_(betas[1]).addcmul_(g, g, value=1 - betas[1])
    return (m1 / (1 - betas[0] ** n)) / ((m2 / (1 - betas[1] ** n)).sqrt_() + stabiliser)


UPDATE_RULES = ("sgd", "adam", "momentum", "lbfgs")  # the paper's gradient step, the peers' rules, L-BFGS
ICNN_MOMENTUM = 0.9  # bdpy's icnn default (constant over the run)


@torch.no_grad()
def momentum_direction(g: torch.Tensor, velocity: torch.Tensor, momentum: float = ICNN_MOMENTUM) -> torch.Tensor:
    """The iCNN step direction: each run's gradient divided by its mean absolute value (a run with a zero gradient
    is left at zero), accumulated with heavy-ball momentum in ``velocity`` (updated in place)."""
    scale = g.abs().flatten(1).mean(dim=1).view(-1, *[1] * (g.dim() - 1))
    normalised = torch.where(scale > 0, g / scale.clamp_min(torch.finfo(g.dtype).tiny), torch.zeros_like(g))
    velocity.mul_(momentum).add_(normalised)
    return velocity


class LBFGSDirection:
    """Per-run L-BFGS directions for a batch of runs (the two-loop recursion, Nocedal and Wright, Numerical
    Optimization, Algorithm 7.4), without a line search: ``invert``'s step size scales the direction (1: the
    quasi-Newton step; the batched search picks it as for any rule). Each run keeps its last ``memory`` pairs
    s = x_k+1 - x_k, y = g_k+1 - g_k; a pair whose curvature s.y is not positive counts for nothing in that run
    (rho = 0), and the initial inverse Hessian is gamma = s.y / y.y of the run's latest good pair. Before any
    pair the direction is the gradient scaled to ``first`` RMS per run (a pixel-unit step, like Adam's first)."""

    def __init__(self, memory: int = 10, first: float = 0.01) -> None:
        self.memory, self.first = memory, first
        self.pairs: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
        self.x: torch.Tensor | None = None
        self.g: torch.Tensor | None = None
        self.gamma: torch.Tensor | None = None

    @torch.no_grad()
    def __call__(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        dims = tuple(range(1, g.dim()))

        def dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            return (a * b).sum(dim=dims, keepdim=True)

        tiny = torch.finfo(g.dtype).tiny
        if self.x is None:
            self.gamma = self.first / g.pow(2).mean(dim=dims, keepdim=True).sqrt().clamp_min(tiny)
        else:
            s, y = x - self.x, g - self.g
            sy, yy = dot(s, y), dot(y, y)
            good = (sy > 0) & (yy > 0)
            self.pairs = (self.pairs + [(s, y, torch.where(good, 1 / sy.clamp_min(tiny), 0.0))])[-self.memory:]
            self.gamma = torch.where(good, sy / yy.clamp_min(tiny), self.gamma)
        self.x, self.g = x.detach().clone(), g.detach().clone()
        q, alphas = g.clone(), []
        for s, y, rho in reversed(self.pairs):
            alphas.append(rho * dot(s, q))
            q -= alphas[-1] * y
        r = self.gamma * q
        for (s, y, rho), alpha in zip(self.pairs, reversed(alphas)):
            r += s * (alpha - rho * dot(y, r))
        return r


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


# The procedures by name: what each asks of ``invert`` (notebook 07 compares them; the explorer offers them).
PROCEDURES = {
    "paper": dict(update="sgd"),  # eq. (4)/(5): the paper's gradient step
    "Adam": dict(update="adam"),  # Adam's normalised step, in pixel units
    "momentum": dict(update="momentum"),  # iCNN's: normalised gradient, heavy-ball momentum
    "Fourier": dict(update="adam", parameterization="fourier"),  # lucid/lucent's image, with Adam
    "L-BFGS": dict(update="lbfgs", decay_to=None),  # quasi-Newton directions, a constant step size
}
