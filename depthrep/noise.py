"""Models trained on noise (paper section 5): the noise set, training with checkpoints, BatchNorm recalibration."""
from __future__ import annotations

import hashlib
import json
import time
from typing import Callable, Sequence

import torch
from torch import nn

from depthrep.device import get_device, progress_bar
from depthrep.models import freeze, load_resnet
from depthrep.results import load_safely, results_root, save_atomic, write_text


def noise_images(indices: Sequence[int] | torch.Tensor, size: int, mean: float, std: float, seed: int) -> torch.Tensor:
    """Images ``indices`` of the noise training set: image i is N(mean, std) per pixel from its own seed,
    so the set is regenerated from ``seed``, never stored."""
    out = torch.empty(len(indices), 3, size, size)
    for row, i in enumerate(indices):
        gen = torch.Generator().manual_seed(int(seed) * 1_000_003 + int(i))
        out[row] = mean + std * torch.randn(3, size, size, generator=gen)
    return out


def noise_labels(n_images: int, n_classes: int, seed: int) -> torch.Tensor:
    """The random class of every noise image, from ``seed``."""
    return torch.randint(n_classes, (n_images,), generator=torch.Generator().manual_seed(int(seed) + 7))


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, batch_of: Callable[[int], torch.Tensor], starts: Sequence[int]) -> None:
    """Replace BatchNorm running statistics by their exact average over the training set (one pass in
    train mode, no gradients), so that the eval-mode model, which inversion uses, is the one that was
    trained; the running averages left by a short training can be far off."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    model.train()
    for i in starts:
        model(batch_of(i))
    for m in norms:
        m.momentum = 0.1


def train_on_noise(depth: int = 50, n_images: int = 10_000, size: int = 224, mean: float = 0.5, std: float = 1 / 3,
                   n_classes: int = 100, epochs: int = 90, batch: int = 128, lr: float = 1e-4, seed: int = 0,
                   stop_after: int | None = None, progress: bool | None = None) -> tuple[nn.Module, dict]:
    """Train ResNet{depth} to memorise ``n_images`` Gaussian-noise images with random labels (Adam).

    Checkpoints after every epoch under ``results/models/noise-<key>/`` (the key hashes the configuration,
    saved beside it as config.json), resumes from the last checkpoint when rerun, and returns the cached
    finished model without training when it exists. ``stop_after`` ends this call after that many
    epochs (as an interruption would). The model starts from ``load_resnet(depth, seed=seed,
    num_classes=n_classes)``, its untrained twin. Returns the frozen model and the log (loss and running
    accuracy per epoch, final training accuracy measured in eval mode after BatchNorm recalibration, seconds).
    """
    import inspect

    training_code = "".join(inspect.getsource(f) for f in (train_on_noise, load_resnet, noise_images, noise_labels,
                                                           recalibrate_batchnorm))
    config = dict(depth=depth, n_images=n_images, size=size, mean=mean, std=std, n_classes=n_classes,
                  epochs=epochs, batch=batch, lr=lr, seed=seed, bn_recalibrated=True,
                  code=hashlib.sha256(training_code.encode()).hexdigest()[:16])
    key = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:12]
    folder = results_root() / "models" / f"noise-resnet{depth}-{key}"
    folder.mkdir(parents=True, exist_ok=True)
    write_text(folder / "config.json", json.dumps(config, indent=2) + "\n")
    device = get_device()
    model = load_resnet(depth, seed=seed, num_classes=n_classes).requires_grad_(True).to(device)
    final, checkpoint = folder / "final.pt", folder / "checkpoint.pt"
    if final.is_file():
        state = load_safely(final, map_location=device)
        model.load_state_dict(state["model"])
        return freeze(model), state["log"]
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    log: dict = dict(config=config, loss=[], running_accuracy=[], seconds=0.0)
    start = 0
    if checkpoint.is_file():
        state = load_safely(checkpoint, map_location=device)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        log, start = state["log"], state["epoch"]
        print(f"resuming noise training from epoch {start} of {epochs} ({checkpoint})")
    labels = noise_labels(n_images, n_classes, seed)
    epochs_run = 0
    for epoch in progress_bar(range(start, epochs), epochs - start, "train on noise", progress):
        if stop_after is not None and epochs_run >= stop_after:
            return model.eval(), log
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(n_images, generator=torch.Generator().manual_seed(seed * 7919 + epoch))
        total_loss, correct = 0.0, 0
        for i in range(0, n_images, batch):
            idx = order[i:i + batch]
            x = noise_images(idx, size, mean, std, seed).to(device)
            y = labels[idx].to(device)
            out = model(x)
            loss = nn.functional.cross_entropy(out, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(idx)
            correct += int((out.argmax(1) == y).sum())
        log["loss"].append(total_loss / n_images)
        log["running_accuracy"].append(correct / n_images)
        log["seconds"] += time.perf_counter() - t0
        epochs_run += 1
        save_atomic(dict(model=model.state_dict(), optimizer=optimizer.state_dict(), log=log, epoch=epoch + 1), checkpoint)
    recalibrate_batchnorm(model, lambda i: noise_images(range(i, min(i + batch, n_images)), size, mean, std, seed)
                          .to(device), range(0, n_images, batch))
    model.eval()
    with torch.no_grad():
        correct = sum(int((model(noise_images(range(i, min(i + batch, n_images)), size, mean, std, seed).to(device))
                           .argmax(1).cpu() == labels[i:i + batch]).sum()) for i in range(0, n_images, batch))
    log["train_accuracy"] = correct / n_images
    save_atomic(dict(model=model.state_dict(), log=log), final)
    checkpoint.unlink(missing_ok=True)
    return freeze(model), log
