"""What the notebooks repeat: one layer's cached visualization keyed by its own arguments (``layer_run``,
``layer_runs``), plenoptic's (``plenoptic_run``), an MLP's (``mlp_run``), the summary line, and Fig. S1's
measurement of non-uniqueness from several starts (``seed_spread``, judged by ``checks.non_unique``)."""
from __future__ import annotations

import hashlib
import inspect
import weakref
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import torch
from torch import nn

from depthrep.inversion import invert, start_image
from depthrep.metrics import distances, input_distance, shifted_input
from depthrep.mlp import collapse_linear, jacobian_rank
from depthrep.models import make_mlp
from depthrep.search import grid_around, search_invert, visualize_layer
from depthrep.peers import plenoptic_layer, plenoptic_version
from depthrep.results import cached, safe_type


_MODEL_PRINTS: "weakref.WeakKeyDictionary[nn.Module, tuple]" = weakref.WeakKeyDictionary()


def fingerprint(tensors: Any) -> str:
    """A hash of a model's parameters and buffers (names, shapes, dtypes, values), or of one tensor: two models
    with the same fingerprint compute the same function (given the same code). A model's is remembered until
    one of its tensors changes in place (their version counters)."""
    if isinstance(tensors, nn.Module):
        state = tensors.state_dict()
        versions = tuple((name, t._version) for name, t in state.items())
        known = _MODEL_PRINTS.get(tensors)
        if known is None or known[0] != versions:
            _MODEL_PRINTS[tensors] = known = (versions, _digest(state.items()))
        return known[1]
    return _digest([("", tensors)])


def _digest(items: Any) -> str:
    digest = hashlib.sha256()
    for name, t in items:
        t = t.detach().cpu().contiguous()
        digest.update(f"{name}{tuple(t.shape)}{t.dtype}".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())  # 0-dim counters too
    return digest.hexdigest()[:16]


def layer_run_config(model: nn.Module, layer: str, target: torch.Tensor, steps: int, step_sizes: Sequence[float],
                     blur: tuple[float, float] | None, **kwargs: Any) -> dict:
    """The cache key of ``layer_run``: every argument of ``visualize_layer``, with defaults filled in, and the
    model and target by fingerprint. An argument added to ``visualize_layer`` joins the key by itself."""
    bound = inspect.signature(visualize_layer).bind(model, layer, target, steps, list(step_sizes), blur, **kwargs)
    bound.apply_defaults()
    config = dict(bound.arguments)
    config.update(config.pop("invert_kwargs", {}))
    config["model"], config["target"] = fingerprint(model), fingerprint(target)
    return config


def layer_run(notebook: str, name: str, model: nn.Module, layer: str, target: torch.Tensor, steps: int,
              step_sizes: Sequence[float], blur: tuple[float, float] | None, **kwargs: Any) -> dict:
    """``visualize_layer(model, layer, target, steps, step_sizes, blur, **kwargs)`` (``blur``: eq. (5)'s sigmas or
    None), cached under
    ``results/<notebook>/cache/<name>-<key>`` with the key from ``layer_run_config`` (and the code): an
    interrupted notebook resumes, and a changed argument, model or target recomputes."""
    config = layer_run_config(model, layer, target, steps, step_sizes, blur, **kwargs)
    return cached(notebook, name, config,
                  lambda: visualize_layer(model, layer, target, steps, list(step_sizes), blur, **kwargs))


def layer_runs(notebook: str, name: str, model: nn.Module, layers: Mapping[str, str] | Sequence[str],
               target: torch.Tensor, steps: int, step_sizes: Sequence[float], blur: tuple[float, float] | None,
               around: Mapping[str, dict] | None = None, label: str = "", **kwargs: Any) -> dict:
    """``layer_run`` at several layers of one model, keyed as given: ``layers`` a list of layer names, or a
    mapping {key: layer} (keys such as relative depths). The run at ``layer`` is cached under
    ``name.format(layer=layer)``. ``around``: runs of a sibling (another seed or image) under the same keys, whose
    chosen step sizes centre a narrower starting grid (``grid_around``) in place of ``step_sizes``; the search
    still extends it at an edge. Prints one line per layer after ``label``."""
    keyed = dict(layers) if isinstance(layers, Mapping) else {layer: layer for layer in layers}
    out = {}
    for key, layer in keyed.items():
        grid = grid_around(around[key]["step_size"]) if around else step_sizes
        out[key] = r = layer_run(notebook, name.format(layer=layer), model, layer, target, steps, grid, blur,
                                 **kwargs)
        print(f"{label}{key if key == layer else f'{key} ({layer})'}: {run_line(r)}")
    return out


def plenoptic_run(notebook: str, name: str, model: nn.Module, layer: str, target: torch.Tensor, steps: int,
                  step_sizes: Sequence[float], seed: int = 0) -> dict:
    """``peers.plenoptic_layer(model, layer, target, steps, step_sizes, seed)``, cached like ``layer_run`` (the
    key adds plenoptic's version)."""
    config = dict(procedure="plenoptic", plenoptic=plenoptic_version(), model=fingerprint(model), layer=layer,
                  target=fingerprint(target), steps=steps, step_sizes=[float(v) for v in step_sizes], seed=seed)
    return cached(notebook, name, config,
                  lambda: plenoptic_layer(model, layer, target, steps, list(step_sizes), seed=seed))


def mlp_run(notebook: str, name: str, widths: Sequence[int], target: torch.Tensor, steps: int,
            step_sizes: Sequence[float], activation: type[nn.Module] | None = None, seed: int = 0,
            decay_to: float | None = 0.0, record_every: int | None = None, sigma: float = 1 / 20,
            double: bool = False, rank: bool = False) -> dict:
    """Eq. (4) on section 4's MLP n -> ``widths`` (``make_mlp``: weights from ``seed``, ``activation`` after each
    layer): the best run of a line search whose runs are all ``steps`` long, with its step size, image, m_g, m_s
    (shift ``sigma``), m_i and history (every ``record_every`` steps; None: the end only), cached like
    ``layer_run``. The step size falls linearly to ``decay_to`` x its start (None: constant). A linear MLP runs as
    the one affine map it composes (``collapse_linear``: the same function and input gradient at one layer's
    cost). ``double``: model, target and run in float64. ``rank``: adds the Jacobian's rank at the target."""
    widths = [int(w) for w in widths]

    def compute():
        dtype = torch.float64 if double else torch.float32
        model = make_mlp([target.numel()] + widths, activation=activation, seed=seed).to(target.device, dtype)
        a = target.to(dtype)
        run, _ = search_invert(collapse_linear(model) if activation is None else model, a, list(step_sizes), steps,
                               decay_to=decay_to, seed=seed, record_every=record_every or steps)
        d = distances(model, a, run.images.to(a.device), sigma=sigma, seed=seed)
        out = dict(widths=widths, step_size=float(run.step_size[0]), image=run.images[0],
                   steps=run.steps, history={k: v[:, 0] for k, v in run.history.items()},
                   **{k: float(v[0]) for k, v in d.items()})
        return dict(out, rank=jacobian_rank(model, a)) if rank else out

    config = dict(widths=widths, activation=activation.__name__ if activation else "linear",
                  target=fingerprint(target), steps=steps, step_sizes=[float(v) for v in step_sizes], seed=seed,
                  decay_to=decay_to, record_every=record_every, sigma=sigma, double=double, rank=rank)
    return cached(notebook, name, config, compute)


def run_line(r: dict) -> str:
    """The one summary line of a layer run: chosen step size, m_g, m_s, m_i, runs and seconds of the search."""
    return (f"step={r['step_size']:.3g}  m_g={r['m_g']:.3g}  m_s={r['m_s']:.3g}  m_i={r['m_i']:.3g}  "
            f"({r['runs']} runs, {r['seconds']:.1f} s)")


@safe_type
@dataclass
class Spread:
    """Fig. S1's measurement at one layer (``seed_spread``): per start seed the generated image's m_g and m_i, per
    pair of starts the distance of their generated images, of their embeddings and of the starts themselves, and
    m_s and ||a' - a|| of the shift (judged by ``checks.non_unique_effects``)."""
    seeds: list[int]
    step_size: float
    m_g: list[float]
    m_i: list[float]
    input_distances: list[float]  # ||a_g,i - a_g,j|| for each pair of starts i < j
    embedding_distances: list[float]  # ||O(a_g,i) - O(a_g,j)||
    start_distances: list[float]  # ||a_0,i - a_0,j||
    shift_distance: float  # ||a' - a||
    m_s: float
    images: torch.Tensor | None = None


def seed_spread(model_l: nn.Module, target: torch.Tensor, steps: int, step_size: float, seeds: Sequence[int],
                shift_sigma: float = 1 / 20, shift_seed: int = 0, **invert_kwargs: Any) -> Spread:
    """Fig. S1's measurement of non-uniqueness at one layer: one batched inversion from each start seed at one
    step size, then the pairwise distances of the generated images, of their embeddings and of the start
    images, beside m_s and ||a' - a|| (the shift with ``shift_sigma``, ``shift_seed``), and each run's m_g and m_i."""
    run = invert(model_l, target, steps, step_size, seed=list(seeds), **invert_kwargs)
    device = next((p.device for p in model_l.parameters()), torch.device("cpu"))
    gen = run.images.to(device)
    with torch.no_grad():
        emb = model_l(gen).flatten(1)
    pairs = [(i, j) for i in range(len(seeds)) for j in range(i + 1, len(seeds))]
    starts = [start_image(target.shape, s) for s in seeds]
    shifted = shifted_input(target, shift_sigma, shift_seed)
    return Spread(seeds=[int(s) for s in seeds], step_size=float(step_size),
                  m_g=[float(m) for m in run.m_g], m_i=[float(m) for m in run.m_i],
                  input_distances=[float((gen[i] - gen[j]).norm()) for i, j in pairs],
                  embedding_distances=[float((emb[i] - emb[j]).norm()) for i, j in pairs],
                  start_distances=[float((starts[i] - starts[j]).norm()) for i, j in pairs],
                  shift_distance=float(input_distance(shifted, target)[0]),
                  m_s=float(distances(model_l, target, gen[:1], sigma=shift_sigma, seed=shift_seed)["m_s"][0]),
                  images=run.images)


def spread_numbers(spread: Spread) -> dict:
    """A ``Spread``'s numbers as a claim record shows them (notebooks 02 and 06)."""
    return {"seeds": spread.seeds, "m_g per start": spread.m_g, "m_i per start": spread.m_i,
            "||a' - a||": spread.shift_distance, "m_s": spread.m_s, "pairwise a_g distance": spread.input_distances,
            "pairwise start distance": spread.start_distances,
            "pairwise embedding distance": spread.embedding_distances}
