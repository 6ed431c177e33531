"""Figures: image grids and tensors as images."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch


def to_numpy_image(x: torch.Tensor) -> np.ndarray:
    """``[3, H, W]`` or ``[1, 3, H, W]`` tensor to an ``[H, W, 3]`` array clipped to [0, 1] for imshow."""
    x = x.detach().cpu().float()
    return (x[0] if x.dim() == 4 else x).permute(1, 2, 0).clamp(0, 1).numpy()


def run_title(run: dict) -> str:
    """A panel's title: its m_i, and a warning when the run missed its embedding (m_g >= m_s)."""
    if run.get("diverged"):
        return f"m_i={run['m_i']:.3g}\n{NOT_MATCHED}: diverged"
    return f"m_i={run['m_i']:.3g}" + ("" if run["m_g"] < run["m_s"] else f"\n{NOT_MATCHED}")


NOT_MATCHED = "NOT matched (m_g>=m_s)"


def image_grid(rows: dict[str, Sequence[torch.Tensor | None]], col_titles: Sequence[str],
               cell_titles: dict[str, Sequence[str]] | None = None, size: float = 1.9) -> Any:
    """A figure of images: one row per entry of ``rows`` (label -> images; None leaves a cell empty). A cell
    whose title says the run missed its embedding (``run_title``) gets a red title and frame."""
    import matplotlib.pyplot as plt

    n_rows, n_cols = len(rows), len(col_titles)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(size * n_cols, (size + 0.5) * n_rows + 0.3), squeeze=False)
    for r, (label, images) in enumerate(rows.items()):
        for c in range(n_cols):
            ax = axes[r, c]
            ax.set_xticks([]), ax.set_yticks([])
            img = images[c] if c < len(images) else None
            if img is None:
                ax.set_axis_off()
                ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes, fontsize=8)
            else:
                ax.imshow(to_numpy_image(img), interpolation="nearest")
            title = col_titles[c] if r == 0 else ""
            extra = (cell_titles or {}).get(label, [])
            if c < len(extra) and extra[c]:
                title = f"{title}\n{extra[c]}" if title else extra[c]
            missed = NOT_MATCHED in title
            ax.set_title(title, fontsize=8, color="red" if missed else "black")
            if missed:
                for spine in ax.spines.values():
                    spine.set_color("red"), spine.set_linewidth(2)
        axes[r, 0].set_ylabel(label, fontsize=8)
    fig.tight_layout()
    return fig
