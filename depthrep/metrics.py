"""Distances of eqs. (6)-(10) (m_g, m_s, m_i) and spectral measures of images and kernels."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn


SHIFT_STREAM = 1_000_003  # a' draws from seed + this, so that a' - a is independent of a_0 (same seed)
SHIFTS = 4  # m_s is the mean over this many draws of a'
PAPER_CODE_SHIFT_SIGMA = 1 / 18  # a' = a + N(0, sigma): the paper's text says 1/20 (the default), its code 1/18


def shifted_input(target: torch.Tensor, sigma: float = 1 / 20, seed: int = 0) -> torch.Tensor:
    """a' = a + N(0, sigma), eq. (7), seeded (the paper's text: 1/20; its code: 1/18); its noise stream is
    not a_0's (``start_image`` with the same seed). Drawn in float32 whatever the target's dtype, as a_0 is."""
    gen = torch.Generator().manual_seed(SHIFT_STREAM + int(seed))
    noise = torch.randn(target.shape, generator=gen, dtype=torch.float32)
    return target + sigma * noise.to(target.device, target.dtype)


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


def colour_matched_distance(generated: torch.Tensor, target: torch.Tensor) -> np.ndarray:
    """m_i blind to a global colour cast, per image: ||c(a_g) - a|| where c gives each channel of a_g the mean
    and standard deviation of the target's channel. A uniform tint or contrast change costs nothing; shapes,
    edges and spots count as in m_i. A flat channel of a_g takes the target channel's mean."""
    g, a = generated.double(), target.double()
    mean_g, std_g = g.mean(dim=(2, 3), keepdim=True), g.std(dim=(2, 3), keepdim=True)
    mean_a, std_a = a.mean(dim=(2, 3), keepdim=True), a.std(dim=(2, 3), keepdim=True)
    matched = (g - mean_g) / std_g.clamp_min(1e-12) * std_a + mean_a
    return (matched - a).flatten(1).norm(dim=1).cpu().numpy()


def white_noise_sigma(x: torch.Tensor) -> float:
    """The per-pixel sigma of white noise that would give ``x``'s finest-scale detail: the RMS of x minus its 3x3
    mean (interior pixels, every channel), over sqrt(8/9), that RMS for unit white noise. A white-noise image of
    sigma s gives about s whatever its mean; a natural photograph, whose power sits at low frequencies, much
    less than its own contrast. Tells "still at a_0" (1/20) from "like the training noise" (1/3), which a
    spectral slope (0 for both) cannot."""
    img = x.detach().cpu().double().reshape(-1, 1, *x.shape[-2:])
    local_mean = torch.nn.functional.avg_pool2d(img, 3, stride=1)
    detail = img[:, :, 1:-1, 1:-1] - local_mean
    return float(detail.pow(2).mean().sqrt() / np.sqrt(8 / 9))


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
