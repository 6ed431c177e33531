"""`make bench-peers`: one inversion job done by this project and by the tools researchers use for it.

    python scripts/bench_peers.py [--size 80] [--steps 250] [--layers conv2 conv4 conv5] [--repeats 3]
                                  [--out results/bench_peers.json]

The job (issue 28): the untrained ResNet50 (seed 0), the dalmatian at ``--size`` px, match the embedding of one
layer with the L1 loss for ``--steps`` steps, no blur, one process on the current device (the GPU when there is
one: every row runs there, each tool through its own device option; else the CPU threads). Rows:

- **project, paper's update**: `du.visualize_layer` (eq. 4, the step size from its batched line search, every
  run full length, falling linearly to 0): the whole search's seconds;
- **project, Adam**: one `du.invert(..., update="adam")` run, step size 0.01 in pixel units; and one run each
  with the peers' rules as `invert` offers them (`PROJECT_RULES`): momentum with a normalised gradient (iCNN's,
  2/255 -> 0) and the decorrelated Fourier image with Adam 0.05 (lucent's);
- **lucent, pixel** and **lucent, Fourier + decorrelated**: torch-lucent 0.1.8's `render_vis` with an L1
  objective on the hooked layer, its default optimizer (Adam, 0.05) and image parameterisations
  (`param.image(size, fft=..., decorrelate=...)`, its own random start: the API has no way to give it ours),
  its augmentations off (`transforms=[]`: they move the image away from a fixed embedding), no ImageNet
  normalisation (`preprocess=False`, as the project feeds the untrained model raw pixels) and
  `fixed_image_size=size` (else it upsamples to 224 px and matches another input);
- **plenoptic, Adam** and **plenoptic, L-BFGS**: plenoptic 2.1's `Metamer` with its torchvision adapter
  `DeepNetFeatures` at the layer's node, the L1 loss, no range penalty (``penalty_lambda=0``), the project's start
  image, its default optimizer (Adam with AMSGrad, lr 0.01) or torch's L-BFGS (strong Wolfe line search, history
  20, one iteration per step), which its documentation's tips recommend for metamers; its stop rule off;
- **bdpy iCNN**: bdpy 0.26's `recon.torch.icnn.reconstruct` with its defaults (SGD, momentum 0.9, normalised
  gradient, lr 2 -> 0, image decay 0.2 -> 0), the L1 loss, and the project's start image, optimised in bdpy's
  own units (0-255, centred on mid-grey, which its step size and decay are sized for) and shown to the model
  as [0, 1] pixels.

Each row: seconds, seconds per step, m_g / m_s (m_s: the project's shifted input, sigma 1/20), m_i and
m_i / ||a_0 - a|| at the end, and the seconds until m_g < m_s (from a record every 5 steps, at the mean step
cost; for the project's search the whole batched search counts), each the median of ``--repeats`` interleaved
repeats (default 3: every row once, then every row again). The last lines: each peer's time to reach m_g < m_s
over the project's fastest row's. Before a layer's timed rows every row runs once untimed for
``--warmup`` steps (default 10): a tool's first call pays for kernel selection (cuDNN's autotuning on a GPU),
lazy imports and allocator growth, which a job meant to be repeated does not carry.

plenoptic is a dependency of the project (notebook 07). The other peers are optional extras that must not change
the project's pinned torch: `make bench-peers` installs them into build/peers-venv, a virtual environment that sees this project's .venv through a path file, with
torch-lucent and bdpy installed without their dependencies (torch-lucent pins kornia<=0.4.1, which would
downgrade torch) beside a current kornia and bdpy's runtime dependencies, all under a constraint on the
installed torch, torchvision and numpy.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # build/peers-venv sees .venv's packages by a path file, not its editable install
import depthrep_utils as du  # noqa: E402

EVERY = 5  # record m_g every this many steps
DEVICE = du.get_device()


def clock() -> float:
    """perf_counter after the device's queued work has finished (a GPU runs asynchronously)."""
    du.synchronize(DEVICE)
    return time.perf_counter()


def measure(model_l, target, image: torch.Tensor, start: torch.Tensor, m_s: float) -> dict:
    """m_g, m_g / m_s, m_i and m_i / ||a_0 - a|| of a final image against this row's own start."""
    with torch.no_grad():
        m_g = float((model_l(image) - model_l(target)).flatten().norm())
    m_i = float((image - target).flatten().norm())
    return dict(m_g=m_g, m_g_over_m_s=m_g / m_s, m_i=m_i,
                m_i_over_start=m_i / float((start - target).flatten().norm()))


def reach(m_g_by_step: list[tuple[int, float]], m_s: float, seconds_per_step: float) -> float | None:
    """Seconds until m_g < m_s, at the mean step cost; None if never."""
    for step, m_g in m_g_by_step:
        if m_g < m_s:
            return step * seconds_per_step
    return None


def project_rows(model, layer, target, steps, m_s) -> list[dict]:
    model_l = du.truncate(model, layer)
    start = du.start_image(target.shape, 0).to(DEVICE)
    t0 = clock()
    r = du.visualize_layer(model, layer, target, steps, [0.125, 0.031, 0.0079, 0.002], blur=None,
                           decay_to=0.0, seed=0, record_every=EVERY)
    seconds = clock() - t0
    history = list(zip(r["steps"].tolist(), r["history"]["m_g"].tolist()))
    rows = [dict(case="project, paper's update (best of its line search)", seconds=seconds,
                 runs=r["runs"], seconds_per_step=seconds / steps,
                 to_reach=reach(history, m_s, seconds / steps),
                 **measure(model_l, target, r["image"][None].to(DEVICE), start, m_s))]
    for case, kw in PROJECT_RULES.items():
        t0 = clock()
        run = du.invert(model_l, target, steps, seed=0, record_every=EVERY, **kw)
        seconds = clock() - t0
        history = list(zip(run.steps.tolist(), run.history["m_g"][:, 0].tolist()))
        rows.append(dict(case=case, seconds=seconds, runs=1, seconds_per_step=seconds / steps,
                         to_reach=reach(history, m_s, seconds / steps),
                         **measure(model_l, target, run.images.to(DEVICE), start, m_s)))
    return rows


# The project's single runs with the other update rules `invert` offers, each at the peer's own defaults where it
# has one: iCNN's lr 2 -> 0 in 0-255 units is 2/255 -> 0 in pixels; lucent's Adam 0.05, constant; L-BFGS at 1.5
# times its quasi-Newton step (1.4-2 reached m_g < m_s soonest at conv4 and conv5, 80 px; 4 diverged).
PROJECT_RULES = {
    "project, Adam 0.01 (one run)": dict(step_size=0.01, update="adam"),
    "project, momentum + normalised gradient, 2/255 -> 0 (one run)": dict(step_size=2 / 255, update="momentum",
                                                                           decay_to=0.0),
    "project, Fourier + decorrelated, Adam 0.05 (one run)": dict(step_size=0.05, update="adam",
                                                                  parameterization="fourier"),
    "project, L-BFGS 1.5, constant (one run)": dict(step_size=1.5, update="lbfgs"),
}


def lucent_row(layer, target, steps, m_s, fft: bool) -> dict:
    from lucent.optvis import objectives, param, render

    model = du.load_resnet(50, seed=0).to(DEVICE)  # a fresh model: render_vis leaves its hooks on
    model_l = du.truncate(model, layer)
    name = du.RESNET_LAYERS[layer]
    with torch.no_grad():
        goal = model_l(target)
    objective = objectives.Objective(lambda hook: (hook(name) - goal).abs().sum())
    size = target.shape[-1]
    torch.manual_seed(0)
    params, image_f = param.image(size, fft=fft, decorrelate=fft)  # lucent: on the GPU when there is one
    with torch.no_grad():
        start = image_f().detach().clone()
    thresholds = tuple(range(EVERY, steps + 1, EVERY))
    t0 = clock()
    images = render.render_vis(model, objective, lambda: (params, image_f), transforms=[], thresholds=thresholds,
                               preprocess=False, progress=False, show_image=False, fixed_image_size=size)
    seconds = clock() - t0
    as_tensor = [torch.from_numpy(np.ascontiguousarray(i.transpose(0, 3, 1, 2))).to(DEVICE) for i in images]
    with torch.no_grad():
        history = [(k, float((model_l(x) - goal).flatten().norm())) for k, x in zip(thresholds, as_tensor)]
    return dict(case=f"torch-lucent 0.1.8 render_vis, {'Fourier + decorrelated' if fft else 'pixel'} image, "
                     f"Adam 0.05", seconds=seconds, runs=1, seconds_per_step=seconds / steps,
                to_reach=reach(history, m_s, seconds / steps), **measure(model_l, target, as_tensor[-1], start, m_s))


def plenoptic_row(layer, target, steps, m_s, lbfgs: bool) -> dict:
    """plenoptic 2.1's `Metamer` on its own torchvision adapter (`DeepNetFeatures` at the layer's node), the L1
    loss, no range penalty, the project's start image; its default optimizer (Adam with AMSGrad, lr 0.01) or the
    L-BFGS its documentation's tips recommend (torch's, strong Wolfe line search, one iteration per step)."""
    import plenoptic as po

    model = du.load_resnet(50, seed=0).to(DEVICE)
    model_l = du.truncate(model, layer)
    features = po.models.DeepNetFeatures(model, du.RESNET_LAYERS[layer]).eval()
    start = du.start_image(target.shape, 0).to(DEVICE)
    met = po.Metamer(target, features, loss_function=lambda x, y: (x - y).abs().sum(), penalty_lambda=0.0)
    if lbfgs:
        met.setup(start, optimizer=torch.optim.LBFGS,
                  optimizer_kwargs=dict(lr=1.0, max_iter=1, history_size=20, line_search_fn="strong_wolfe"))
    else:
        met.setup(start, optimizer_kwargs=dict(lr=0.01, amsgrad=True))
    t0 = clock()
    with du.quiet_plenoptic():
        met.synthesize(max_iter=steps, store_progress=EVERY, stop_criterion=0.0)
    seconds = clock() - t0
    ran = len(met.losses) - 1
    with torch.no_grad():
        goal = model_l(target)
        history = [(k * EVERY, float((model_l(x.to(DEVICE)) - goal).flatten().norm()))
                   for k, x in enumerate(met.saved_metamer)]
    rule = "L-BFGS (strong Wolfe, history 20)" if lbfgs else "Adam + AMSGrad 0.01 (its default)"
    return dict(case=f"plenoptic {po.__version__} Metamer + DeepNetFeatures, {rule}", seconds=seconds, runs=1,
                steps=ran, seconds_per_step=seconds / max(ran, 1), to_reach=reach(history, m_s, seconds / max(ran, 1)),
                **measure(model_l, target, met.metamer.detach(), start, m_s))


class Pixels(torch.nn.Module):
    """bdpy's image units (0-255 around mid-grey) to the [0, 1] pixels the model reads (its `encoder_preproc`
    replaces the optimised tensor by a non-leaf, whose gradient is then missing)."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x + 127.5) / 255.0)


def bdpy_row(layer, target, steps, m_s) -> dict:
    from bdpy.recon.torch.icnn import reconstruct

    model = du.load_resnet(50, seed=0).to(DEVICE)
    model_l = du.truncate(model, layer)
    with torch.no_grad():
        goal = model_l(target)
    start = du.start_image(target.shape, 0)
    history: list[tuple[int, float]] = []

    def record(x, y, layer):  # bdpy calls this once per iteration, before its update: (updates so far, m_g)
        history.append((len(history), float((x.detach() - y).flatten().norm())))
        return 0.0

    size = target.shape[-1]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = clock()
        image, _ = reconstruct({layer: goal.cpu().numpy()}, Pixels(model), device=str(DEVICE),
                               layer_mapping={layer: "net." + du.RESNET_LAYERS[layer]},
                               n_iter=steps, loss_func=torch.nn.L1Loss(reduction="sum"),
                               custom_layer_loss_func=record, image_size=(size, size, 3),
                               initial_image=start[0].permute(1, 2, 0).numpy() * 255,
                               # bdpy's images live in 0-255 units around their mean (its lr and image decay
                               # are sized for that); the untrained model reads [0, 1] pixels
                               preproc=lambda x: x.transpose(2, 0, 1) - 127.5,
                               postproc=lambda x: x.transpose(1, 2, 0) + 127.5,
                               return_loss=True, output_dir=tmp, save_snapshot=False, disp_interval=10 ** 9)
        seconds = clock() - t0
    final = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1) / 255.0, dtype=np.float32))[None]
    final, start = final.to(DEVICE), start.to(DEVICE)
    return dict(case="bdpy 0.26 iCNN reconstruct (SGD momentum 0.9, normalised gradient, lr 2 -> 0)",
                seconds=seconds, runs=1, seconds_per_step=seconds / steps,
                to_reach=reach(history, m_s, seconds / steps), **measure(model_l, target, final, start, m_s))


def peer_ratios(rows: list[dict]) -> tuple[dict | None, list[tuple[dict, float | None]]]:
    """The project's fastest row to m_g < m_s (every row whose case starts with "project" is the project's), and
    each peer row with its time to m_g < m_s over that one (None where either never got there)."""
    ours = [r for r in rows if r["case"].startswith("project")]
    fastest = min((r for r in ours if r["to_reach"] is not None), key=lambda r: r["to_reach"], default=None)
    peers = [r for r in rows if not r["case"].startswith("project")]
    return fastest, [(r, None if fastest is None or r["to_reach"] is None else r["to_reach"] / fastest["to_reach"])
                     for r in peers]


def median_rows(repeats: list[list[dict]]) -> list[dict]:
    """Each case's row from its repeats (every repeat runs every row once, in turn, so the tools interleave): the
    median of each timing, ``to_reach`` the median of the repeats that reached m_g < m_s (None unless most did),
    the distances of the first repeat (the runs are deterministic), and each repeat's seconds beside."""
    rows = []
    for same in zip(*repeats):
        row = dict(same[0], repeats=len(same), seconds_each=[r["seconds"] for r in same])
        for key in ("seconds", "seconds_per_step"):
            row[key] = float(np.median([r[key] for r in same]))
        reached = [r["to_reach"] for r in same if r["to_reach"] is not None]
        row["to_reach"] = float(np.median(reached)) if 2 * len(reached) > len(same) else None
        rows.append(row)
    return rows


def all_rows(model, layer, target, steps, m_s) -> list[dict]:
    """Every row of one layer: the project's, plenoptic's two, lucent's two and bdpy's."""
    rows = project_rows(model, layer, target, steps, m_s)
    rows += [plenoptic_row(layer, target, steps, m_s, lbfgs) for lbfgs in (False, True)]
    rows += [lucent_row(layer, target, steps, m_s, fft) for fft in (False, True)]
    return rows + [bdpy_row(layer, target, steps, m_s)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=80)
    parser.add_argument("--steps", type=int, default=250)
    parser.add_argument("--layers", nargs="+", default=["conv2", "conv4", "conv5"])
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats of every row; the median counts")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps of every row first (0: none)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench_peers.json")
    args = parser.parse_args()
    target, _ = du.load_target("dalmatian", args.size, 0, DEVICE)
    model = du.load_resnet(50, seed=0).to(DEVICE)
    out = dict(size=args.size, steps=args.steps, threads=torch.get_num_threads(), torch=torch.__version__,
               device=torch.cuda.get_device_name() if DEVICE.type == "cuda" else "cpu", warmup_steps=args.warmup,
               repeats=args.repeats,
               layers={})
    for layer in args.layers:
        m_s = float(du.distances(du.truncate(model, layer), target, target, sigma=1 / 20, seed=0)["m_s"][0])
        if args.warmup:
            all_rows(model, layer, target, args.warmup, m_s)  # untimed: first calls' costs
        rows = median_rows([all_rows(model, layer, target, args.steps, m_s) for _ in range(args.repeats)])
        out["layers"][layer] = dict(m_s=m_s, rows=rows)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=2) + "\n")  # after each layer: a stopped run keeps what finished
        print(f"\n{layer}, {args.size} px, {args.steps} steps, m_s = {m_s:.4g}")
        print(f"{'case':92} {'s':>7} {'s/step':>8} {'m_g/m_s':>8} {'m_i':>7} {'m_i/start':>9} {'s to m_g<m_s':>12}")
        for r in rows:
            got = "never" if r["to_reach"] is None else f"{r['to_reach']:.2f}"
            print(f"{r['case']:92} {r['seconds']:7.2f} {r['seconds_per_step']:8.4f} {r['m_g_over_m_s']:8.3f} "
                  f"{r['m_i']:7.2f} {r['m_i_over_start']:9.3f} {got:>12}")
        fastest, peers = peer_ratios(rows)
        for r, ratio in peers:
            label = r["case"].split(" (")[0]
            if ratio is None:
                print(f"  {label}: no ratio (a row never reached m_g < m_s)")
            else:
                print(f"  {label}: {ratio:.1f}x the project's time to m_g < m_s ({fastest['case']})")
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
