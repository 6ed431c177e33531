"""Device, seeds, and progress reporting (tqdm bars interactively, log lines under make reproduce)."""
from __future__ import annotations

import os
import random
import sys
import time
from typing import Any, Iterator

import numpy as np
import torch


def get_device() -> torch.device:
    """CUDA if present, then Apple MPS, else CPU; the only place that picks a device."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def synchronize(device: torch.device | str) -> None:
    """Wait for queued GPU work (timings of CUDA code are meaningless without it); no-op on CPU."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and all GPUs) in one call."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def is_interactive() -> bool:
    """True inside a Jupyter kernel a person drives; False under papermill/nbval (DEPTHREP_HEADLESS=1)."""
    if os.environ.get("DEPTHREP_HEADLESS", "") not in ("", "0"):
        return False
    return "ipykernel" in sys.modules


def progress_bar(iterable: Any, total: int, desc: str, show: bool | None) -> Any:
    """Wrap in a tqdm bar when interactive (or on a terminal); under ``make reproduce``
    (``DEPTHREP_PROGRESS=log``) print a progress line every 15 s instead; else return the iterable."""
    if show is None and os.environ.get("DEPTHREP_PROGRESS") == "log":
        return _logged(iterable, total, desc)
    if show is None:
        show = is_interactive() or sys.stderr.isatty()
    if not show:
        return iterable
    from tqdm import tqdm  # a text bar: a widget bar saved in a notebook shows "model not found" on reopening

    return tqdm(iterable, total=total, desc=desc, leave=False,
                file=sys.stdout if is_interactive() else sys.stderr)


def _logged(iterable: Any, total: int, desc: str, every: float = 15.0) -> Iterator[Any]:
    """Yield from ``iterable``, printing ``desc: i/total (s)`` when ``every`` seconds have passed."""
    t0 = last = time.perf_counter()
    for i, item in enumerate(iterable):
        now = time.perf_counter()
        if now - last >= every:
            print(f"{desc}: {i}/{total} ({now - t0:.0f} s)", flush=True)
            last = now
        yield item


def setup_notebook(dpi: int = 100, font_size: int = 9) -> torch.device:
    """A notebook's setup in one call: pick the device, set the figure style, print what runs where."""
    import matplotlib.pyplot as plt

    device = get_device()
    plt.rcParams.update({"figure.dpi": dpi, "font.size": font_size})
    print(f"device: {device}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    return device
