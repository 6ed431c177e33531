"""The fast graph: folded BatchNorm, the polyphase stem, heap reuse (depthrep/speed.py)."""
import sys

import pytest
import torch

import depthrep_utils as du


def like_trained(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Give every BatchNorm the statistics and affine parameters a trained model has (an untrained one's fold
    into a zero bias, which would hide a folding that drops the bias)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for bn in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)):
            c = bn.num_features
            bn.running_mean.copy_(0.3 * torch.randn(c, generator=gen))
            bn.running_var.copy_(0.5 + torch.rand(c, generator=gen))
            bn.weight.copy_(0.5 + torch.rand(c, generator=gen))
            bn.bias.copy_(0.2 * torch.randn(c, generator=gen))
    return model



def test_fast_truncation_computes_the_same_function_and_input_gradient():
    """BatchNorm folding and channels-last change only rounding: in float64 the embedding and the input
    gradient of the L1 loss equal the plain graph's to 1e-10 (in float32 a ReLU unit at its kink may flip).
    The BatchNorms carry trained-like statistics, so the folded biases are not zero."""
    model = like_trained(du.load_resnet(18)).double()
    target, start = (torch.rand(1, 3, 48, 48, dtype=torch.float64, generator=torch.Generator().manual_seed(s))
                     for s in (0, 1))
    grads, embeddings = [], []
    for fast in (False, True):
        model_l = du.truncate(model, "conv4", fast=fast)
        x = start.clone().requires_grad_(True)
        embeddings.append(model_l(x))
        loss = (embeddings[-1] - model_l(target)).abs().sum()
        grads.append(torch.autograd.grad(loss, x)[0])
    assert grads[0].abs().max() > 0
    torch.testing.assert_close(embeddings[1], embeddings[0], rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-10, atol=1e-10 * grads[0].abs().max().item())



@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_heap_reuse_is_active_after_an_inversion_on_cpu():
    model = du.truncate(du.load_resnet(18), "conv1")
    du.invert(model, torch.rand(1, 3, 16, 16), 1, 0.01)
    assert du.reuse_freed_memory() is True



@pytest.mark.parametrize("kernel, padding, size", [(7, 3, 299), (7, 3, 48), (3, 1, 33), (3, 0, 20), (5, 2, 17)])
def test_polyphase_input_gradient_equals_the_convolutions(kernel, padding, size):
    """InputConv2d (the stem's input gradient as one stride-1 convolution + pixel shuffle) gives the same
    input gradient as torch's own backward of the stride-2 convolution, at odd and even sizes (float64)."""
    torch.manual_seed(0)
    plain = torch.nn.Conv2d(3, 16, kernel, stride=2, padding=padding).double().requires_grad_(False)
    fast = du.InputConv2d.of(plain)  # frozen like its original
    assert not fast.weight.requires_grad
    x = torch.rand(2, 3, size, size, dtype=torch.float64)
    grads = []
    for conv in (plain, fast):
        xx = x.clone().requires_grad_(True)
        y = conv(xx)
        grads.append(torch.autograd.grad((y * torch.linspace(-1, 1, y.numel(), dtype=y.dtype).view_as(y)).sum(), xx)[0])
    assert grads[1].shape == x.shape
    assert getattr(fast, "_poly_key", None) is not None, "the polyphase path ran (its kernel was built)"
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-12, atol=1e-12)
    fast.weight.requires_grad_(True)  # trainable weights: a plain convolution again, with its weight gradient
    fast(x.clone().requires_grad_(True)).sum().backward()
    assert fast.weight.grad is not None



def test_folded_batchnorm_keeps_its_bias():
    """Folding a BatchNorm into its convolution: w' = w gamma / sqrt(var + eps), b' = beta + (b - mean) gamma /
    sqrt(var + eps), checked on one conv-BN pair by hand."""
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, bias=False), torch.nn.BatchNorm2d(4)).double()
    like_trained(net, seed=3).eval()
    folded = du.fold_batchnorm(torch.fx.symbolic_trace(net))
    (conv,) = [m for m in folded.modules() if isinstance(m, torch.nn.Conv2d)]
    assert not [m for m in folded.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    bn = net[1]
    scale = bn.weight / (bn.running_var + bn.eps).sqrt()
    torch.testing.assert_close(conv.weight, net[0].weight * scale[:, None, None, None])
    torch.testing.assert_close(conv.bias, bn.bias - bn.running_mean * scale)
    x = torch.rand(2, 3, 8, 8, dtype=torch.float64)
    torch.testing.assert_close(folded(x), net(x))
