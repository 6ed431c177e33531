"""Images (downloads, mirror, formats) and the errors bad input gets, seeds and the device (depthrep/assets.py,
depthrep/device.py)."""
import functools
import hashlib
import http.server
import threading

import numpy as np
import pytest
import torch
from PIL import Image

import depthrep.assets
import depthrep_utils as du
from conftest import SHARED_DATA, needs_mirror


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


def test_device_and_seeds():
    assert du.get_device().type in ("cuda", "mps", "cpu")
    du.seed_everything(5)
    a = (np.random.rand(), torch.rand(1).item())
    du.seed_everything(5)
    assert a == (np.random.rand(), torch.rand(1).item())
