"""Truncation at a paper layer or any node, the skip-free and Gabor variants (depthrep/layers.py)."""
import pytest
import torch

import depthrep_utils as du


def test_truncated_model_equals_intermediate_activation_and_stops_there():
    model = du.load_resnet(18)
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    seen = {}
    model.layer3.register_forward_hook(lambda m, i, o: seen.setdefault("conv4", o))
    model.maxpool.register_forward_hook(lambda m, i, o: seen.setdefault("conv1_pool", o))
    model(x)
    for layer in ("conv4", "conv1_pool"):
        torch.testing.assert_close(du.truncate(model, layer, fast=False)(x), seen[layer], rtol=0, atol=0)
        fast = du.truncate(model, layer)  # BatchNorm folded into the convolutions, channels-last
        assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.modules())
        torch.testing.assert_close(fast(x), seen[layer], rtol=1e-4, atol=1e-5 * seen[layer].abs().max().item())
    assert model.bn1.training is False and isinstance(model.layer1[0].bn1, torch.nn.BatchNorm2d)  # untouched
    kept = {name for name, _ in du.truncate(model, "conv4").graph.named_modules()}
    assert not any(k.startswith(("layer4", "fc", "avgpool")) for k in kept), kept
    assert any(k.startswith("layer3") for k in kept)



@pytest.mark.parametrize("depth", [18, 50])
def test_without_skips_drops_every_shortcut_and_nothing_else(depth):
    model = du.load_resnet(depth)
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    block = model.layer1[1]  # an identity block: residual relu(z + x), plain relu(z)
    last_bn = block.bn3 if depth == 50 else block.bn2
    with torch.no_grad():
        last_bn.weight.zero_(), last_bn.bias.zero_()  # z = 0: the residual block passes x, the plain one 0
        h = torch.relu(torch.randn(1, block.conv1.in_channels, 8, 8))
        torch.testing.assert_close(block(h), h)
        plain = du.without_skips(model)
        assert plain.layer1[1](h).abs().max() == 0
        assert isinstance(plain.layer3[0], du.NoSkip) and not isinstance(model.layer3[0], du.NoSkip)
        for layer in ("conv1", "conv3"):  # same shapes; conv1 has no block, so the same values
            fast, residual = du.truncate(plain, layer)(x), du.truncate(model, layer)(x)
            assert fast.shape == residual.shape
            torch.testing.assert_close(fast, du.truncate(plain, layer, fast=False)(x), rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(du.truncate(plain, "conv1")(x), du.truncate(model, "conv1")(x))
    assert du.fingerprint(plain) != du.fingerprint(model)  # a cache cannot serve one for the other



def test_gabor_conv1_keeps_each_kernels_norm_and_is_a_gabor_bank():
    model = du.load_resnet(18, seed=1)
    gabor = du.with_gabor_conv1(model, seed=1)
    w, w0 = gabor.conv1.weight, model.conv1.weight
    torch.testing.assert_close(w.flatten(1).norm(dim=1), w0.flatten(1).norm(dim=1))
    assert not torch.allclose(w, w0) and du.fingerprint(gabor) != du.fingerprint(model)
    bank = du.gabor_bank(64, 7, seed=1)
    assert bank.shape == (64, 3, 7, 7)
    # each kernel is one colour times one spatial pattern (rank 1); a quarter of the patterns are blobs
    # (one sign), the rest Gabor functions, which change sign along their wave
    patterns = []
    for k in bank:
        _, values, vh = torch.linalg.svd(k.reshape(3, -1).double())
        assert values[1] < 1e-6 * values[0]
        patterns.append(vh[0])
    assert sum(bool((p > 0).any() and (p < 0).any()) for p in patterns) == 48
    with pytest.raises(ValueError, match="multiple of 4"):
        du.gabor_bank(10, 7)



def test_node_names_work_for_any_model():
    model = du.load_efficientnet_lite0(trained=False)
    out = du.truncate(model, "_blocks.4.add")(torch.rand(1, 3, 64, 64))
    assert out.shape[1:] == (40, 8, 8)
    assert du.truncate(model, "conv3")(torch.rand(1, 3, 64, 64)).shape == out.shape



def test_truncate_works_on_a_model_another_tool_has_hooked():
    """A forward hook that keeps its module's output (a tensor inside an autograd graph) must not stop
    truncate's private copy, and the copy does not call it; the original keeps its hook."""
    model = du.load_resnet(18)
    kept = []
    model.conv1.register_forward_hook(lambda mod, inputs, out: kept.append(out))
    model(torch.rand(1, 3, 32, 32, requires_grad=True))
    assert kept[-1].grad_fn is not None
    model_l = du.truncate(model, "conv2")
    model_l(torch.rand(1, 3, 32, 32))
    assert len(kept) == 1, "the truncated copy called the original's hook"
    model(torch.rand(1, 3, 32, 32))
    assert len(kept) == 2
    mlp = du.make_mlp([12, 12])  # jacobian's private double-precision copy too
    mlp[1].register_forward_hook(lambda mod, inputs, out: kept.append(out))
    mlp(torch.rand(1, 3, 2, 2, requires_grad=True))
    assert du.jacobian(mlp, torch.rand(1, 3, 2, 2)).shape == (12, 12)


def test_unknown_layer_lists_valid_names():
    model = du.load_resnet(18)
    with pytest.raises(ValueError) as err:
        du.truncate(model, "conv6")
    message = str(err.value)
    assert "conv6" in message and "conv5" in message and "layer3.1.relu_1" in message
