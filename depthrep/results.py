"""Results files: atomic writes, JSON, figures, the code-keyed cache, safe loading, file locks."""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from depthrep import ROOT


def results_root() -> Path:
    """Where results go (``DEPTHREP_RESULTS``, default ``results/``)."""
    return Path(os.environ.get("DEPTHREP_RESULTS", ROOT / "results"))


def results_dir(notebook: str) -> Path:
    """``results/<notebook>/``, created on demand."""
    path = results_root() / notebook
    path.mkdir(parents=True, exist_ok=True)
    return path


def jsonable(obj: Any) -> Any:
    """NumPy/torch scalars and arrays to plain JSON types; non-finite floats to None."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, torch.Tensor):
        obj = obj.detach().cpu().numpy()
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


@contextlib.contextmanager
def _atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: Path, text: str) -> None:
    """Write a text file atomically (an interrupted write leaves the old file intact)."""
    with _atomic_path(Path(path)) as tmp:
        tmp.write_text(text)


def write_json(path: Path, obj: Any) -> Path:
    """Write ``obj`` as JSON atomically (NumPy/torch values converted, non-finite floats as null)."""
    write_text(Path(path), json.dumps(jsonable(obj), indent=2, allow_nan=False) + "\n")
    return Path(path)


def save_json(obj: Any, notebook: str, name: str) -> Path:
    """Write ``results/<notebook>/<name>.json`` atomically and return its path."""
    return write_json(results_dir(notebook) / f"{name}.json", obj)


def save_fig(fig: Any, notebook: str, name: str, dpi: int = 110) -> Path:
    """Save a matplotlib figure as ``results/<notebook>/<name>.png`` atomically and return its path."""
    path = results_dir(notebook) / f"{name}.png"
    with _atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    return path


# Modules that only judge, draw or display what was computed: left out of ``code_version``, so that a changed
# claim rule or figure does not recompute an hour of inversions. No other module imports them
# (tests/test_results.py checks it), so no cached computation can run their code.
PRESENTATION_MODULES = ("checks.py", "claims.py", "explorer.py", "plots.py")


@functools.lru_cache(maxsize=None)
def code_version() -> str:
    """Hash of the package's computing source (every module but ``PRESENTATION_MODULES``; computed once per
    process): part of every cache key, so a changed library never gets results that the old code computed."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        if path.name not in PRESENTATION_MODULES:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _code_hash(fn: Callable, digest: Any = None, seen: set | None = None) -> str:
    """Hash of a function's bytecode, constants and names, and of the functions it names that were defined
    in a notebook or script (``__main__``), recursively: the code a cached value came from."""
    digest = digest or hashlib.sha256()
    seen = set() if seen is None else seen
    code = getattr(fn, "__code__", None)
    if code is None or code in seen:
        return digest.hexdigest()[:16]
    seen.add(code)
    stack = [code]
    while stack:
        c = stack.pop()
        digest.update(c.co_code + repr(c.co_names).encode())
        for const in c.co_consts:
            if hasattr(const, "co_code"):
                stack.append(const)
            elif isinstance(const, frozenset):  # its repr's order changes with the hash seed
                digest.update(repr(sorted(map(repr, const))).encode())
            else:
                digest.update(repr(const).encode())
    scope = {**getattr(fn, "__globals__", {}),
             **{n: cell.cell_contents for n, cell in zip(code.co_freevars, fn.__closure__ or ())
                if _cell_full(cell)}}
    for name in sorted(set(code.co_names) | set(code.co_freevars)):
        obj = scope.get(name)
        if callable(obj) and getattr(obj, "__module__", None) == "__main__":
            _code_hash(obj, digest, seen)
    return digest.hexdigest()[:16]


def _cell_full(cell: Any) -> bool:
    try:
        cell.cell_contents
        return True
    except ValueError:
        return False


# Types a cache file or checkpoint may hold besides tensors and plain Python values (torch.load with
# weights_only=True refuses everything else: a results file from someone else never runs code). Modules
# above this one add their plain dataclasses of arrays with ``safe_type`` (their fields are restored, no
# code of the file runs).
_SAFE_TYPES: list = []


def safe_type(cls: type) -> type:
    """Class decorator: instances of ``cls`` (a plain dataclass of arrays) may be stored in cache files."""
    _SAFE_TYPES.append(cls)
    return cls


def _safe_globals() -> list:
    from numpy import dtypes

    reconstruct = getattr(np, "_core", getattr(np, "core", None)).multiarray._reconstruct
    return [reconstruct, np.ndarray, np.dtype, *[getattr(dtypes, n) for n in dir(dtypes) if n.endswith("DType")],
            *_SAFE_TYPES]


def load_safely(path: Path, map_location: Any = None) -> Any:
    """``torch.load`` without unpickling code (weights_only=True), NumPy arrays allowed."""
    with torch.serialization.safe_globals(_safe_globals()):
        return torch.load(path, map_location=map_location, weights_only=True)


def cached(notebook: str, name: str, config: dict, compute: Callable[[], Any]) -> Any:
    """Return ``compute()``, saved under ``results/<notebook>/cache/`` keyed by ``config`` and the code.

    A rerun with the same configuration and the same code loads the saved value instead of recomputing,
    so an interrupted notebook resumes where it stopped. The key covers the configuration, the library's
    source (``code_version``) and the bytecode of ``compute`` and of the notebook functions it calls, so a
    change to any of them recomputes. The configuration and the code hashes are saved beside the value.
    """
    meta = dict(config=jsonable(config), library=code_version(), compute=_code_hash(compute))
    key = hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()[:16]
    folder = results_dir(notebook) / "cache"
    path = folder / f"{name}-{key}.pt"
    if path.is_file():
        return load_safely(path)
    value = compute()
    save_atomic(value, path)
    write_text(folder / f"{name}-{key}.json", json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return value


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path``.lock while the block runs (notebooks may run in parallel under
    make -j). POSIX ``flock``; on Windows ``msvcrt.locking``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a+") as lock:
        if sys.platform == "win32":
            import msvcrt

            lock.seek(0)
            msvcrt.locking(lock.fileno(), msvcrt.LK_LOCK, 1)
            try:
                yield
            finally:
                lock.seek(0)
                msvcrt.locking(lock.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def save_atomic(obj: Any, path: Path) -> None:
    """torch.save through a temporary file, so an interruption never leaves a half-written checkpoint."""
    with _atomic_path(path) as tmp:
        torch.save(obj, tmp)
