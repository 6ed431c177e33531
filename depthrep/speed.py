"""CPU speed code, the same functions up to float rounding: O_l's graph with BatchNorm folded into its convolutions
and the stem's input gradient in polyphase form (``truncate`` uses both), and the allocator setting ``invert`` uses."""
from __future__ import annotations

import copy
import ctypes

import torch
import torch.nn.functional as F
from torch import nn

from depthrep.models import copy_without_hooks


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


def reuse_freed_memory() -> bool:
    """Keep freed memory in this process's heap for the next allocation (glibc on Linux; once per process).

    By default glibc maps every large block afresh from the OS and returns it on free, so each inversion
    step page-faults and zero-fills its activations again, which slows large CPU batches (docs/SPEED.md has
    the measurement). ``invert`` calls this on CPU. The cost: the process's resident memory no longer
    shrinks after a peak. Returns whether the setting is active.
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
