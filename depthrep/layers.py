"""Layers: paper names (conv1..conv5) and node names, and O_l, the model truncated at a layer."""
from __future__ import annotations

import warnings

import torch
from torch import nn

from depthrep.models import freeze, imagenet_normalize
from depthrep.speed import fold_batchnorm, polyphase_input_convs


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
