"""Layers: paper names (conv1..conv5) and node names, and O_l, the model truncated at a layer."""
from __future__ import annotations

import copy
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from depthrep.models import copy_without_hooks, freeze, imagenet_normalize


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


# GoogLeNet at the same strides (1/2 .. 1/32): the stem convolution, then the last module at each stride.
GOOGLENET_LAYERS = {
    "conv1": "conv1.relu",
    "conv2": "conv3.relu",
    "conv3": "inception3b.cat",
    "conv4": "inception4e.cat",
    "conv5": "inception5b.cat",
}

# Transformers and mixers have no strides: "patch" (the patch embedding, a linear map of each patch) and
# "block1" .. "blockL" (the output of each block). Node names for torchvision's ViT and timm's MLP-Mixer.
_BLOCKS = {"VisionTransformer": ("conv_proj", "encoder.layers.encoder_layer_{}"),
           "MlpMixer": ("stem.proj", "blocks.{}")}


def _aliases(model: nn.Module) -> dict[str, str]:
    """Paper-style layer names understood for this model family."""
    name = type(model).__name__
    if name in _BLOCKS:
        patch, block = _BLOCKS[name]
        n = len(model.encoder.layers if name == "VisionTransformer" else model.blocks)
        return {"patch": patch, **{f"block{i + 1}": block.format(i) for i in range(n)}}
    return {"ResNet": RESNET_LAYERS, "EfficientNet": EFFICIENTNET_LAYERS, "GoogLeNet": GOOGLENET_LAYERS}.get(name, {})


def relative_layers(model: nn.Module, n: int = 4) -> list[str]:
    """The stem (a CNN's first convolution, a transformer's or mixer's patch embedding), then ``n`` layers at
    relative depth 1/n .. n/n: conv2..conv5 of a CNN (by stride), block round(k L / n) of L blocks."""
    aliases = _aliases(model)
    if "patch" in aliases:
        blocks = len(aliases) - 1
        return ["patch"] + [f"block{max(1, round(k * blocks / n))}" for k in range(1, n + 1)]
    if "conv5" in aliases and n == 4:
        return ["conv1", "conv2", "conv3", "conv4", "conv5"]
    raise ValueError(f"No relative-depth layers for {type(model).__name__}: pass layer names from layer_names(model).")


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
    pass over the activations fewer per BatchNorm, forward and backward. The original model is untouched;
    hooks registered on it are not carried into the copy (``copy_without_hooks``)."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    graph = copy_without_hooks(torch.fx.GraphModule(graph, copy.deepcopy(graph.graph))).eval()
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


class InputConv2d(nn.Conv2d):
    """A stride-2 convolution applied to the input image, whose input gradient (the one thing inversion
    needs) is computed in polyphase form: one stride-1 convolution with 4x the input's channels, then a
    pixel shuffle. oneDNN's own backward-data for ResNet's 7x7 stem (64 -> 3 channels, a poor matrix shape)
    is slow on a CPU; this form is faster (`make bench` profiles it; the CHANGELOG of 0.6.0 has the numbers).
    The same function and, up to rounding, the same gradient (`tests/test_inversion.py`). Only on a CPU
    (where it was measured; a GPU keeps cuDNN's own backward) and while the weights are frozen (no weight
    gradient is computed); otherwise it is a plain ``nn.Conv2d``."""

    @classmethod
    def applies(cls, conv: nn.Module) -> bool:
        return (type(conv) is nn.Conv2d and conv.stride == (2, 2) and conv.dilation == (1, 1) and conv.groups == 1
                and conv.padding_mode == "zeros" and isinstance(conv.padding, tuple))

    @classmethod
    def of(cls, conv: nn.Conv2d) -> "InputConv2d":
        new = cls(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                  bias=conv.bias is not None, device=conv.weight.device, dtype=conv.weight.dtype)
        new.load_state_dict(conv.state_dict())
        return new.requires_grad_(conv.weight.requires_grad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        plain = self.weight.requires_grad or not (torch.is_grad_enabled() and x.requires_grad)
        if plain or x.device.type != "cpu":
            return super().forward(x)
        return _PolyphaseInputGradient.apply(x, self.weight, self.bias, self)

    def polyphase(self, dtype: torch.dtype) -> tuple[torch.Tensor, tuple[int, int], tuple[int, int]]:
        """The input gradient's kernel (4 C, O, T_h, T_w) and its left paddings, per axis: for output
        pixel 2a + p, gx[2a + p] = sum_t K_p[t] gy[a + t - D], K_p[t] = w[2 (D - t) + p + P]."""
        key = (self.weight.data_ptr(), self.weight._version, dtype)
        if getattr(self, "_poly_key", None) != key:
            taps, lefts = [], []
            for k, pad in zip(self.kernel_size, self.padding):
                d = [(u - p - pad) // 2 for p in (0, 1) for u in range(k) if (u - p - pad) % 2 == 0]
                lefts.append(max(d))
                taps.append(max(d) - min(d) + 1)
            (th, tw), (dh, dw) = taps, lefts
            out, c = self.out_channels, self.in_channels
            kernel = self.weight.new_zeros(c, 2, 2, out, th, tw)
            for p in (0, 1):
                for t in range(th):
                    u = 2 * (dh - t) + p + self.padding[0]
                    if not 0 <= u < self.kernel_size[0]:
                        continue
                    for q in (0, 1):
                        for r in range(tw):
                            v = 2 * (dw - r) + q + self.padding[1]
                            if 0 <= v < self.kernel_size[1]:
                                kernel[:, p, q, :, t, r] = self.weight[:, :, u, v].t()
            kernel = kernel.reshape(4 * c, out, th, tw).to(dtype).contiguous(memory_format=torch.channels_last)
            self._poly, self._poly_key = (kernel.detach(), (th, tw), (dh, dw)), key
        return self._poly

    def input_gradient(self, g: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        kernel, (th, tw), (dh, dw) = self.polyphase(g.dtype)
        h, w = (size[0] + 1) // 2, (size[1] + 1) // 2  # rows and columns of each phase
        right = (max(0, h - g.shape[-2] - dh + th - 1), max(0, w - g.shape[-1] - dw + tw - 1))
        phases = F.conv2d(F.pad(g, (dw, right[1], dh, right[0])), kernel)
        return F.pixel_shuffle(phases[..., :h, :w], 2)[..., :size[0], :size[1]]


class _PolyphaseInputGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, conv):
        ctx.conv, ctx.size = conv, tuple(x.shape[-2:])
        return F.conv2d(x, weight, bias, conv.stride, conv.padding)

    @staticmethod
    def backward(ctx, g):
        return ctx.conv.input_gradient(g, ctx.size), None, None, None


def polyphase_input_convs(graph: torch.fx.GraphModule) -> torch.fx.GraphModule:
    """Every stride-2 convolution applied directly to the graph's input becomes an ``InputConv2d``."""
    modules = dict(graph.named_modules())
    for node in graph.graph.nodes:
        if (node.op == "call_module" and InputConv2d.applies(modules[node.target]) and node.args
                and isinstance(node.args[0], torch.fx.Node) and node.args[0].op == "placeholder"):
            graph.set_submodule(node.target, InputConv2d.of(modules[node.target]))
    return graph


def truncate(model: nn.Module, layer: str, normalize: bool = False, fast: bool = True,
             compile: bool | str = False) -> Truncated:
    """Return ``O_l`` for a paper layer name (conv1..conv5, conv1_pool), a node or a module name.

    Built with ``torchvision.models.feature_extraction``, which keeps only the nodes the layer depends
    on. ``normalize=True`` applies ImageNet mean/std to the input first (the paper's code does not).
    Unknown names raise ``ValueError`` listing the valid ones.

    ``fast`` (default) folds BatchNorm into the convolutions (``fold_batchnorm``), keeps activations
    channels-last and computes the stem's input gradient in polyphase form (``InputConv2d``): faster inversion
    steps than the plain graph, the same function up to float32 rounding (a private copy of the weights,
    without the hooks other tools registered on ``model``; ``fast=False`` shares the modules, hooks included).
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
        graph = polyphase_input_convs(fold_batchnorm(graph)).to(memory_format=torch.channels_last)
    if compile:
        graph = torch.compile(graph, mode=None if compile is True else compile)
    return freeze(Truncated(graph, node, layer, normalize, channels_last=fast))
