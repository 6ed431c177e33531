"""Models by name, their weights offline, MLPs, and the errors for missing weights (depthrep/models.py)."""
import socket

import pytest
import torch

import depthrep_utils as du
from conftest import needs_mirror


def test_load_model_names_the_notebooks_models():
    """The notebooks' one loader: each name gives the model its own loader gives, with the same seeded weights;
    an unknown name lists the known ones."""
    assert du.fingerprint(du.load_model("ResNet50", seed=3)) == du.fingerprint(du.load_resnet(50, seed=3))
    assert du.fingerprint(du.load_model("ResNet50", seed=3)) != du.fingerprint(du.load_resnet(50, seed=4))
    assert (du.fingerprint(du.load_model("EfficientNet-Lite0", seed=2))
            == du.fingerprint(du.load_efficientnet_lite0(trained=False, seed=2)))
    vit = du.load_model("ViT", seed=1, size=32, small=True)
    assert du.fingerprint(vit) == du.fingerprint(du.load_beyond_cnn("ViT", seed=1, size=32, small=True))
    assert vit.image_size == 32 and len(vit.encoder.layers) == 4
    with pytest.raises(ValueError, match="EfficientNet-Lite0.*got 'ResNet18'"):
        du.load_model("ResNet18")


def test_untrained_models_are_seeded_frozen_and_in_eval_mode():
    a, b, c = du.load_resnet(18, seed=1), du.load_resnet(18, seed=1), du.load_resnet(18, seed=2)
    assert torch.equal(a.conv1.weight, b.conv1.weight) and not torch.equal(a.conv1.weight, c.conv1.weight)
    for model in (a, du.load_efficientnet_lite0(trained=False), du.make_mlp([12, 20, 30])):
        assert not model.training and not any(p.requires_grad for p in model.parameters())


def test_mlp_widths_bias_activation():
    mlp = du.make_mlp([12, 20, 7], activation=torch.nn.ReLU)
    assert mlp(torch.rand(4, 3, 2, 2)).shape == (4, 7) and (mlp(torch.rand(4, 3, 2, 2)) >= 0).all()
    assert [m.out_features for m in mlp if isinstance(m, torch.nn.Linear)] == [20, 7]
    assert all(m.bias is not None for m in mlp if isinstance(m, torch.nn.Linear))
    with pytest.raises(ValueError, match="widths"):
        du.make_mlp([12])


def test_prefilled_torchvision_cache_loads_without_network(tmp_path, monkeypatch):
    """torchvision's own weights API reads a cached checkpoint; no download is attempted."""
    import torchvision

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    weights = torchvision.models.ResNet18_Weights.IMAGENET1K_V1
    checkpoints = tmp_path / "torch" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    reference = du.load_resnet(18, seed=123)
    torch.save(reference.state_dict(), checkpoints / weights.url.rsplit("/", 1)[1])
    assert du.trained_weights_cached(18)
    loaded = du.load_resnet(18, trained=True)
    assert torch.equal(loaded.fc.weight, reference.fc.weight)
    assert not loaded.training and not any(p.requires_grad for p in loaded.parameters())


def _internet() -> bool:
    try:
        socket.create_connection(("download.pytorch.org", 443), timeout=3).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(_internet(), reason="this machine can download the weights")
def test_missing_weights_offline_raise_a_specific_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    assert not du.trained_weights_cached(50)
    with pytest.raises(du.WeightsUnavailableError, match="copy https://download.pytorch.org"):
        du.load_resnet(50, trained=True)


def test_load_trained_gives_the_model_or_the_stand_in_with_the_reason(capsys):
    """The notebooks' one call for a trained model: the model itself when it loads; otherwise the stand-in (or
    None) with the error's first line as the reason, and one printed line saying what happens instead."""
    model = du.make_mlp([4, 4])
    assert du.load_trained(lambda: model, "X") == (model, "")

    def offline():
        raise du.WeightsUnavailableError("ImageNet weights for X are not available: no network.\nCopy them.")

    stand_in = du.make_mlp([4, 2])
    got, why = du.load_trained(offline, "ImageNet X", stand_in=lambda: stand_in, stand_in_name="Y")
    assert got is stand_in and why == "ImageNet weights for X are not available: no network."
    assert "ImageNet X weights are NOT available here" in capsys.readouterr().out
    assert du.load_trained(offline, "ImageNet X") == (None, why)
    assert "NOT MEASURED" in capsys.readouterr().out


@needs_mirror
def test_efficientnet_lite0_classifies_the_dalmatian():
    import torchvision

    x, source = du.load_image("dalmatian", 224)
    assert source == "dalmatian"
    model = du.load_efficientnet_lite0(trained=True)
    probs = model(du.imagenet_normalize(x)).softmax(1)[0]
    categories = torchvision.models.ResNet50_Weights.IMAGENET1K_V1.meta["categories"]
    assert categories[int(probs.argmax())] == "dalmatian" and probs.max() > 0.5
