"""Eq. (5)'s blur: the 3x3 Gaussian N_c, the share of an image's contrast one blur step removes, and the one recipe
for its sigmas (the shares the paper's 2.4 -> 0.4 remove from its 299-px image)."""
from __future__ import annotations

import math

import torch
from torch import nn


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
