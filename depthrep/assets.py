"""The paper's images: checksum-verified downloads with a mirror, decoding any image file to RGB."""
from __future__ import annotations

import os
import shutil
import urllib.parse
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from depthrep import ROOT
from depthrep.device import seed_everything


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

# Natural photographs for replicates beyond the paper's two images: scikit-image's bundled data (no download;
# the pinned scikit-image wheel holds the files; their licences are in skimage/data/README.txt). Loaded by
# name like the paper's images, centre-cropped to a square before resizing.
REPLICATE_IMAGES = ("astronaut", "chelsea", "coffee", "rocket")


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


def read_image(path: str | os.PathLike | bytes, size: int, name: str | None = None) -> torch.Tensor:
    """Read any image file (a path, or its bytes, e.g. an upload) into a ``[1, 3, size, size]`` float tensor in
    [0, 1]; ``name`` is what error messages call it (default: the path).

    EXIF orientation is applied; grayscale, palette, RGBA, CMYK and 16-bit files become RGB.
    Unreadable or truncated files raise ``ImageError``.
    """
    import io

    from PIL import Image, ImageOps, UnidentifiedImageError

    if not isinstance(size, int) or size < 8:
        raise ValueError(f"size must be an int >= 8 pixels, got {size!r}.")
    if isinstance(path, (bytes, bytearray, memoryview)):
        path, name = io.BytesIO(bytes(path)), name or "(uploaded bytes)"
    try:
        with Image.open(path) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            rgb = _to_rgb(img)
    except FileNotFoundError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        detail = str(err).replace(repr(path), str(name or path))  # not "<_io.BytesIO object at 0x...>"
        raise ImageError(
            f"Cannot read image {name or path}: {detail}. The file is not an image Pillow can decode or it is "
            f"truncated; re-download it or pass another file."
        ) from err
    return _resized(rgb, size)


def _resized(rgb: np.ndarray, size: int) -> torch.Tensor:
    """An ``[H, W, 3]`` float array in [0, 1] as a ``[1, 3, size, size]`` tensor (antialiased bilinear)."""
    x = torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32)).permute(2, 0, 1)[None]
    x = nn.functional.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return x.clamp_(0.0, 1.0).contiguous()


def replicate_image(name: str, size: int) -> torch.Tensor:
    """One of ``REPLICATE_IMAGES`` (scikit-image's bundled photographs) as ``[1, 3, size, size]``: the largest
    centred square, resized."""
    if name not in REPLICATE_IMAGES:
        raise ValueError(f"Unknown replicate image {name!r}; choose one of {list(REPLICATE_IMAGES)}.")
    if not isinstance(size, int) or size < 8:
        raise ValueError(f"size must be an int >= 8 pixels, got {size!r}.")
    try:
        import skimage.data
    except ImportError as err:
        raise ImportError(f"The replicate image {name!r} comes with scikit-image, which is not installed: "
                          f"pip install scikit-image (requirements.txt pins it).") from err
    rgb = getattr(skimage.data, name)()[..., :3].astype(np.float32) / 255.0
    h, w = rgb.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return _resized(rgb[top:top + side, left:left + side], size)


def load_image(name_or_path: str | os.PathLike, size: int) -> tuple[torch.Tensor, str]:
    """Load a paper image by name ('dalmatian', 'tesla'), a replicate image by name (``REPLICATE_IMAGES``) or any
    image file; return (tensor, source).

    ``source`` says where the pixels came from and goes into every results record. When a paper
    image cannot be fetched, matplotlib's Grace Hopper photo stands in, with a loud warning, and
    ``source`` says so.
    """
    if str(name_or_path) in REPLICATE_IMAGES:
        return replicate_image(str(name_or_path), size), f"{name_or_path} (scikit-image)"
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


def load_target(name_or_path: str | os.PathLike, size: int, seed: int = 0,
                device: torch.device | str | None = None) -> tuple[torch.Tensor, str]:
    """A notebook's target image in one call: seed everything with ``seed``, load the image at ``size``
    (``load_image``) and move it to ``device``. Returns (tensor, source)."""
    seed_everything(seed)
    x, source = load_image(name_or_path, size)
    return x.to(device or "cpu"), source


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
