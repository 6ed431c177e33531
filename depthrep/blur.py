"""Eq. (5)'s blur: the 3x3 Gaussian N_c, the share of an image's contrast one blur step removes, and the one recipe
for its sigmas at any size (``paper_blur_sigmas``; ``blur_sigmas`` loads an image's two copies for it)."""
from __future__ import annotations

import math

import torch
from torch import nn

from depthrep.assets import load_image


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


# Eq. (5) in the paper's code: sigma 2.4 -> 0.4 pixels at 299 px. A 3x3 kernel of fixed sigma removes more of
# a smaller image (0.097 of the dalmatian's contrast per step at 299 px, 0.265 at 64 px for sigma 2.4), and a
# kernel shrunk with the side (its variance times (size/299)^2) far less (0.014 at 64 px): neither means the
# same. So the one recipe (``paper_blur_sigmas``): at any size, the sigmas that remove the share of the
# image's contrast that 2.4 -> 0.4 remove from the same image at 299 px (at 299 px: 2.4 -> 0.4 exactly).
PAPER_BLUR_SIGMAS = (2.4, 0.4)  # eq. (5)'s first and last sigma in the paper's code, at 299 px
PAPER_SIZE = 299  # the side of the paper's images


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


def blur_sigmas(image: str, size: int) -> tuple[float, float]:
    """Eq. (5)'s sigmas for ``image`` (a paper name, a replicate photograph or a file) at ``size`` px:
    ``paper_blur_sigmas`` of its ``size``-px and its 299-px copies. What every notebook, the explorer and the
    bench pass as ``invert(..., blur=...)``."""
    return paper_blur_sigmas(load_image(image, size)[0], load_image(image, PAPER_SIZE)[0])
