"""Images (downloads, mirror, formats), models and weights, and the errors bad input gets."""
import functools
import hashlib
import http.server
import socket
import threading

import numpy as np
import pytest
import torch
from PIL import Image

import depthrep.assets
import depthrep_utils as du
from conftest import SHARED_DATA

needs_mirror = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data mirror not present")


@pytest.fixture
def fresh_data(tmp_path, monkeypatch):
    """An empty data folder and an unreachable upstream (a closed port on this machine)."""
    monkeypatch.setenv("DEPTHREP_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(depthrep.assets, "UPSTREAM", "http://127.0.0.1:9/")
    return tmp_path / "data"


@pytest.fixture
def http_mirror():
    """``../shared/data`` served over HTTP on 127.0.0.1 for the duration of a test."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SHARED_DATA))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@needs_mirror
def test_folder_mirror_fetches_verifies_and_caches(fresh_data, monkeypatch):
    monkeypatch.setenv("DEPTHREP_MIRROR", str(SHARED_DATA))
    path = du.fetch_image("dalmatian")
    assert path.is_file() and path.name == "Dalmatian.jpg" and path.is_relative_to(fresh_data)
    monkeypatch.setenv("DEPTHREP_MIRROR", str(fresh_data / "nowhere"))  # second call needs no source
    assert du.fetch_image("dalmatian") == path
    x, source = du.load_image("dalmatian", 48)
    assert x.shape == (1, 3, 48, 48) and source == "dalmatian"


@needs_mirror
def test_http_mirror_on_localhost(fresh_data, monkeypatch, http_mirror):
    monkeypatch.setenv("DEPTHREP_MIRROR", http_mirror)
    path = du.fetch_image("tesla")
    assert path.name == "tesla_3.jpg"
    assert hashlib.sha256((fresh_data / "tesla.zip").read_bytes()).hexdigest() == du.PAPER_IMAGES["tesla"][1]


@needs_mirror
def test_corrupted_download_is_rejected(fresh_data, tmp_path, monkeypatch):
    bad = tmp_path / "bad_mirror"
    bad.mkdir()
    data = bytearray((SHARED_DATA / "dalmatian.zip").read_bytes())
    data[1000] ^= 0xFF
    (bad / "dalmatian.zip").write_bytes(bytes(data))
    monkeypatch.setenv("DEPTHREP_MIRROR", str(bad))
    with pytest.raises(ValueError, match="sha256"):
        du.fetch_image("dalmatian")
    assert not (fresh_data / "dalmatian.zip.unzip").exists()


def test_unreachable_sources_substitute_loudly(fresh_data, tmp_path, monkeypatch):
    monkeypatch.setenv("DEPTHREP_MIRROR", str(tmp_path / "empty"))
    with pytest.warns(du.ImageUnavailableWarning, match="SUBSTITUTING"):
        x, source = du.load_image("dalmatian", 32)
    assert x.shape == (1, 3, 32, 32) and "SUBSTITUTE" in source and "grace_hopper" in source


def test_unknown_paper_image_name():
    with pytest.raises(ValueError, match="dalmatian"):
        du.fetch_image("zebra")


def test_replicate_images_load_by_name_as_square_rgb():
    """scikit-image's bundled photographs load offline by name, centre-cropped (not stretched) to the size."""
    import skimage.data

    x, source = du.load_image("chelsea", 32)
    assert x.shape == (1, 3, 32, 32) and 0 <= float(x.min()) and float(x.max()) <= 1
    assert "chelsea" in source and "scikit-image" in source
    raw = torch.from_numpy(skimage.data.chelsea().astype(np.float32) / 255).permute(2, 0, 1)
    h, w = raw.shape[1:]
    left = (w - h) // 2
    square = torch.nn.functional.interpolate(raw[None, :, :, left:left + h], size=(32, 32), mode="bilinear",
                                             antialias=True, align_corners=False)
    torch.testing.assert_close(x, square.clamp(0, 1))
    assert len({du.fingerprint(du.load_image(n, 16)[0]) for n in du.REPLICATE_IMAGES}) == 4
    with pytest.raises(ValueError, match="astronaut"):
        du.replicate_image("lena", 16)


def save(img: Image.Image, path, **kw):
    img.save(path, **kw)
    return path


@pytest.mark.parametrize("mode", ["L", "LA", "RGBA", "P", "CMYK", "I;16"])
def test_every_image_mode_becomes_rgb_in_unit_range(tmp_path, mode):
    rgb = Image.fromarray((np.arange(32 * 32 * 3) % 251).astype(np.uint8).reshape(32, 32, 3))
    if mode == "I;16":
        img = Image.fromarray((np.arange(32 * 32).reshape(32, 32) * 60).astype(np.uint16))
    else:
        img = rgb.convert(mode)
    path = save(img, tmp_path / ("x.tiff" if mode in ("CMYK", "I;16") else "x.png"))
    x = du.read_image(path, 16)
    assert x.shape == (1, 3, 16, 16) and x.dtype == torch.float32
    assert 0 <= x.min() and x.max() <= 1 and x.max() > 0.3  # 16-bit scaled, not clipped or crushed


def test_transparent_pixels_become_white(tmp_path):
    img = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    assert du.read_image(save(img, tmp_path / "t.png"), 10).min() == 1.0


def test_exif_rotation_is_applied(tmp_path):
    arr = np.zeros((10, 20, 3), np.uint8)
    arr[:, :10] = 255  # left half white, landscape
    img = Image.fromarray(arr)
    exif = img.getexif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    path = save(img, tmp_path / "r.jpg", exif=exif, quality=100)
    x = du.read_image(path, 20)
    # displayed upright the image is portrait with the white half on top
    assert x[0, :, :8].mean() > 0.9 and x[0, :, 12:].mean() < 0.1


def test_unreadable_and_truncated_files(tmp_path):
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not an image at all")
    with pytest.raises(du.ImageError, match="Cannot read image"):
        du.read_image(junk, 32)
    good = save(Image.new("RGB", (64, 64), (10, 200, 30)), tmp_path / "g.jpg")
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    with pytest.raises(du.ImageError, match="truncated"):
        du.read_image(cut, 32)
    with pytest.raises(FileNotFoundError):
        du.read_image(tmp_path / "missing.png", 32)


def test_bad_tensors_and_sizes_get_clear_errors(tmp_path):
    model = du.truncate(du.load_resnet(18), "conv1")
    with pytest.raises(ValueError, match="grayscale"):
        du.invert(model, torch.rand(1, 1, 32, 32), 1, 0.1)
    with pytest.raises(ValueError, match="RGBA"):
        du.invert(model, torch.rand(1, 4, 32, 32), 1, 0.1)
    with pytest.raises(ValueError, match=r"\[N, 3, H, W\]"):
        du.invert(model, torch.rand(3, 32, 32), 1, 0.1)
    with pytest.raises(TypeError, match="255"):
        du.invert(model, torch.zeros(1, 3, 32, 32, dtype=torch.uint8), 1, 0.1)
    with pytest.raises(ValueError, match="runs"):
        du.invert(model, torch.rand(2, 3, 32, 32), 1, [0.1, 0.2, 0.3])
    path = save(Image.new("RGB", (8, 8)), tmp_path / "s.png")
    with pytest.raises(ValueError, match="size must be"):
        du.read_image(path, 2)
    with pytest.raises(ValueError, match="size must be"):
        du.read_image(path, 64.5)


def test_unknown_layer_lists_valid_names():
    model = du.load_resnet(18)
    with pytest.raises(ValueError) as err:
        du.truncate(model, "conv6")
    message = str(err.value)
    assert "conv6" in message and "conv5" in message and "layer3.1.relu_1" in message


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


def test_device_and_seeds():
    assert du.get_device().type in ("cuda", "mps", "cpu")
    du.seed_everything(5)
    a = (np.random.rand(), torch.rand(1).item())
    du.seed_everything(5)
    assert a == (np.random.rand(), torch.rand(1).item())
