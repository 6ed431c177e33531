# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 07 · Is the fall with depth the layer's or the procedure's? (the paper's assumption, sec. 2)
#
# The paper reads a worse copy of the input as less information in the layer, "assuming that the
# gradient descent procedure is sufficiently powerful to generate arbitrary images". It does not
# test that assumption. Here the same layers of the untrained ResNet50 (and, at the cpu profile, the
# small vision transformer of notebook 06) are inverted from the same start a_0 by five procedures:
#
# - **paper**: eq. (4), the gradient step of the paper, its step size from the batched line search;
# - **Adam**: Adam's normalised step (pixel units);
# - **momentum**: iCNN's recipe (Shen et al. 2019): each gradient divided by its mean absolute
#   value, heavy-ball momentum 0.9;
# - **Fourier**: the image optimised through the decorrelated Fourier basis of Olah et al.
#   (Distill 2017, the parameterisation of lucid and lucent), with Adam, starting exactly at a_0;
# - **plenoptic**: plenoptic 2.1's `Metamer` (the maintained library for this synthesis), through
#   its own API: its default optimizer (Adam with AMSGrad, no schedule) and stop rule, the L1 loss,
#   no range penalty, our a_0, on the truncated model `du.truncate` builds (`du.plenoptic_run`).
#
# Every procedure's step size is the best of its own line search (every run full length, falling
# linearly to 0; plenoptic's: the best of a fixed grid of learning rates, constant, as it runs).
# The measure is m_i / ||a_0 - a||: where the run ended between the target (0) and its start (1).
# Two claims: the fall with depth holds under every procedure that matches the embedding; and a
# stronger procedure closes the gap at the deep layers. Either may fail.

# %%
# On Colab: install this project first (elsewhere `make setup` has; README: Colab).
import importlib.util
import sys

REPOSITORY = None  # CITATION.cff's repository-code (update_docs.py)
if "google.colab" in sys.modules and importlib.util.find_spec("depthrep_utils") is None:
    if not REPOSITORY:
        raise RuntimeError(
            "No public address for this project yet (CITATION.cff names no repository-code). "
            "Build its wheel (`make wheel` in a clone), upload dist/depthrep-*.whl in Colab's "
            "Files pane, run `%pip install depthrep-*.whl` in a cell, then run this notebook again."
        )
    get_ipython().run_line_magic("pip", f"install --quiet git+{REPOSITORY}")

# %%
# Setup (the project installed by `make setup`, or on Colab by the cell above).
import matplotlib.pyplot as plt
import numpy as np

import depthrep_utils as du

DEVICE = du.setup_notebook()

# %% tags=["parameters"]
PROFILE: str = "quick"  # the profile of these values; make reproduce: cpu, or paper on a GPU
IMAGE: str = "dalmatian"  # target image (a paper name or any image path); paper: dalmatian
IMAGE_SIZE: int = 48  # pixels per side; paper: 299 (224 with the B/16 transformer)
STEPS: int = 150  # iterations per generated image, every procedure; paper's code: 500
ARCHS: list = ["ResNet50"]  # models, untrained; cpu: also notebook 06's small ViT; paper: ResNet50
SMALL: bool = True  # the ViT: 4 blocks, 8-px patches, width 192; paper profile: ViT-B/16
SEEDS: list = [0]  # replicates: weights, a_0 and shift from one seed; quick: one (inconclusive)
REPLICATE_IMAGES: list = []  # more photographs (scikit-image's) with seed SEEDS[0]; paper: none
PROCEDURES: list = ["paper", "Adam", "momentum", "Fourier", "plenoptic"]  # paper: its own only
RESIDUAL_SEEDS: list = [0, 1, 2]  # ResNet50 with and without its skips (sec. 2), one draw per seed
RESIDUAL_LAYER: str = "conv2"  # where the two are compared; cpu, paper: conv3

# %%
NB = "07_procedure"
target, source = du.load_target(IMAGE, IMAGE_SIZE, SEEDS[0], DEVICE)
SIZES = (f"{IMAGE_SIZE} px, {STEPS} steps, each procedure the best of its own line search, "
         f"{len(SEEDS)} seed(s) + {len(REPLICATE_IMAGES)} photograph(s)")
# Each procedure's line search starts from a grid (the search extends it past an edge; the paper's
# moves to the scale the first gradient implies); what each asks of du.invert is du.PROCEDURES.
# Adam's and momentum's steps are in pixel units; Fourier's in units of its spectrum; plenoptic's
# learning rates (Adam's) in pixel units, a fixed grid.
GRIDS = {  # centred where the quick profile's searches ended (first release of 07)
    "paper": [0.031, 0.0079, 0.002, 0.0005],
    "Adam": [0.3, 0.095, 0.03],
    "momentum": [0.03, 0.0079, 0.002],
    "Fourier": [1.5, 0.47, 0.15],
    "plenoptic": [0.1, 0.03, 0.01],
}
DEPTHS = ["stem", "1/4", "2/4", "3/4", "4/4"]  # relative depth, as in notebook 06


def replicates() -> list:
    """(label, model seed, image name): the seeds on the target, then the photographs."""
    return ([(f"{IMAGE} seed {s}", s, IMAGE) for s in SEEDS]
            + [(f"{name} seed {SEEDS[0]}", SEEDS[0], name) for name in REPLICATE_IMAGES])


# %% [markdown]
# ## Every procedure at every depth, from the same start

# %%
results = {}  # (arch, replicate, procedure) -> {depth: run}
for arch in ARCHS:
    for rep, seed, image in replicates():
        model = du.load_model(arch, seed=seed, size=IMAGE_SIZE, small=SMALL).to(DEVICE)
        a = target if image == IMAGE else du.load_target(image, IMAGE_SIZE, seed, DEVICE)[0]
        for procedure in PROCEDURES:
            out = results[(arch, rep, procedure)] = {}
            for depth, layer in zip(DEPTHS, du.relative_layers(model)):
                name = (f"{arch}-{procedure}-{layer}-seed{seed}"
                        + ("" if image == IMAGE else f"-{image}"))
                if procedure == "plenoptic":
                    r = du.plenoptic_run(NB, name, model, layer, a, STEPS, GRIDS[procedure], seed)
                else:
                    r = du.layer_run(NB, name, model, layer, a, STEPS, GRIDS[procedure], blur=None,
                                     decay_to=0.0, seed=seed, **du.PROCEDURES[procedure])
                out[depth] = r
                r["ratio"] = du.start_distance_ratio(r)
                print(f"{arch:8} {rep:18} {procedure:9} {depth:4} ({layer:6}): {du.run_line(r)}  "
                      f"m_i/start={r['ratio']:.3f}" + ("  (best at the grid's edge)"
                                                       if r.get("edge") else ""))

# %% [markdown]
# ## m_i / ||a_0 - a|| by depth under each procedure
# One line per procedure: the mean over replicates, bars from the lowest to the highest; a red ring
# marks a depth where a run missed its embedding (m_g >= m_s). Below: the generated images of the
# first replicate, one row per procedure. The Fourier image passes through a sigmoid, so target
# pixels at exactly 0 or 1 (the dalmatian's white) are out of its reach: its copy at the stem is
# worse than the others' for that reason alone, which also narrows its gap from the top.

# %%
reps = [r for r, _, _ in replicates()]
fig, axes = plt.subplots(1, len(ARCHS), figsize=(5.5 * len(ARCHS), 3.6), squeeze=False)
for ax, arch in zip(axes[0], ARCHS):
    for i, procedure in enumerate(PROCEDURES):
        ratios = np.array([[results[(arch, r, procedure)][d]["ratio"] for d in DEPTHS]
                           for r in reps])
        mid = ratios.mean(axis=0)
        x = np.arange(len(DEPTHS)) + 0.06 * (i - (len(PROCEDURES) - 1) / 2)
        ax.errorbar(x, mid, yerr=[mid - ratios.min(axis=0), ratios.max(axis=0) - mid], marker="o",
                    capsize=3, label=procedure)
        missed = [j for j, d in enumerate(DEPTHS)
                  if not all(du.matched(results[(arch, r, procedure)][d]) for r in reps)]
        ax.scatter(x[missed], mid[missed], s=140, facecolors="none", edgecolors="red", zorder=3)
    top = max(results[(arch, r, p)][d]["ratio"] for r in reps for p in PROCEDURES for d in DEPTHS)
    ax.set_xticks(range(len(DEPTHS)), DEPTHS), ax.set_ylim(0, max(1.05, top + 0.05))
    ax.axhline(1.0, color="gray", lw=0.6, ls=":")  # above: the run ended farther away than it began
    ax.set_xlabel("relative depth")
    ax.set_ylabel("m_i / ||a_0 - a|| (0: the target, 1: the start)")
    ax.set_title(f"untrained {arch}, {len(reps)} replicate(s)", fontsize=9)
    ax.legend(fontsize=7)
fig.suptitle(f"The same layers, {len(PROCEDURES)} procedures ({IMAGE_SIZE} px, {STEPS} steps; "
             f"red ring: missed the embedding)", y=1.02)
fig.tight_layout()
du.save_fig(fig, NB, "m_i_ratio_by_procedure")
plt.show()
for arch in ARCHS:
    rows = {p: [target] + [results[(arch, reps[0], p)][d]["image"] for d in DEPTHS]
            for p in PROCEDURES}
    notes = {p: ["target"] + [du.run_title(results[(arch, reps[0], p)][d]) for d in DEPTHS]
             for p in PROCEDURES}
    fig = du.image_grid(rows, ["a"] + DEPTHS, notes, size=1.9)
    fig.suptitle(f"untrained {arch}, {reps[0]}: generated images by procedure (shown clipped to "
                 f"[0, 1])", y=1.02)
    du.save_fig(fig, NB, f"images_{arch.lower()}")
    plt.show()

# %% [markdown]
# ### Claims
# For each model: (1) m_i grows with depth (Spearman correlation with depth > 0) under every
# procedure whose runs matched the embedding at every depth, in each replicate (the effect: the
# smallest correlation over those procedures); (2) a procedure stronger than the paper's closes
# the gap between the deepest and the first layer (effect: the paper's (m_i at 4/4 - m_i at the
# stem) / ||a_0 - a|| minus the smallest such gap among the other matched procedures; > 0: some
# procedure narrowed it). A procedure that missed its embedding anywhere is left out and named.

# %%
claims = du.Claims(PROFILE, source, SIZES)
for arch in ARCHS:
    key = arch.lower()
    matched = {r: [p for p in PROCEDURES
                   if all(du.matched(results[(arch, r, p)][d]) for d in DEPTHS)] for r in reps}
    left_out = {r: [p for p in PROCEDURES if p not in ok] for r, ok in matched.items()}
    m_i = {f"{r}, {p}": [results[(arch, r, p)][d]["m_i"] for d in DEPTHS]
           for r in reps for p in PROCEDURES}
    trends = {p: du.depth_trends({r: results[(arch, r, p)] for r in reps if p in matched[r]},
                                 DEPTHS) for p in PROCEDURES}
    corr = {r: {p: trends[p]["effects"][r] for p in matched[r]} for r in reps}
    claims.check(f"procedure_depth_trend_{key}",
                 text=f"untrained {arch}: m_i grows with depth under every procedure that matches "
                      f"the embedding ({', '.join(PROCEDURES)})",
                 figure="sec. 2 (assumption)", model=f"{arch} untrained",
                 numbers={"m_i stem..4/4 per replicate and procedure": m_i,
                          "depth trend effect (rho over 1/4..4/4) per replicate and matched "
                          "procedure": corr,
                          "procedures left out (missed the embedding)": left_out},
                 effects={r: min(c.values()) for r, c in corr.items() if c}, floor=du.MIN_RHO,
                 effect="the smallest depth-trend effect over the matched procedures (Spearman's "
                        "rho over 1/4..4/4 up to the first saturated run, 0 when m_i rises by "
                        "under "
                        f"{du.MIN_RISE:.0%}; at least {du.MIN_RHO} counted)",
                 runs={f"{r} {p} {d}": results[(arch, r, p)][d]
                       for r in reps for p in matched[r] for d in DEPTHS},
                 decisive={f"{p} {k}": run for p, t in trends.items()
                           for k, run in t["decisive"].items()})
    gap = {r: {p: results[(arch, r, p)]["4/4"]["ratio"] - results[(arch, r, p)]["stem"]["ratio"]
               for p in PROCEDURES} for r in reps}
    stronger = {r: [p for p in matched[r] if p != "paper"] for r in reps}
    if "paper" in PROCEDURES and len(PROCEDURES) > 1:
        claims.check(f"procedure_stronger_closes_gap_{key}",
                     text=f"untrained {arch}: a procedure stronger than the paper's closes the gap "
                          f"between the deepest layer and the first (smaller (m_i at 4/4 - m_i at "
                          f"the stem) / ||a_0 - a||)",
                     figure="sec. 2 (assumption)", model=f"{arch} untrained",
                     numbers={"gap (m_i 4/4 - m_i stem) / ||a_0 - a|| per replicate": gap,
                              "procedures left out (missed the embedding)": left_out},
                     effects={r: gap[r]["paper"] - min(gap[r][p] for p in stronger[r])
                              for r in reps if stronger[r]}, floor=0.02,
                     effect="the paper's gap minus the smallest gap among the other matched "
                            "procedures (> 0: one of them closed part of it; at least 0.02 of "
                            "||a_0 - a|| counted)",
                     runs={f"{r} {p} {d}": results[(arch, r, p)][d] for r in reps
                           for p in ["paper"] + stronger[r] for d in ("stem", "4/4")})
du.save_json(dict(profile=PROFILE, image=source, sizes=SIZES,
                  rows={f"{a} | {r} | {p}": {d: {m: v[d][m] for m in
                                                 ("step_size", "m_g", "m_s", "m_i", "ratio")}
                                             for d in DEPTHS}
                        for (a, r, p), v in results.items()}), NB, "distances")

# %%
# Asserted at the quick scale (one replicate: every claim is inconclusive by the rule, so its
# direction is asserted; other profiles only record): ResNet50's m_i grows from 1/4 to the
# deepest unsaturated layer under every matched procedure.
if PROFILE == "quick" and "ResNet50" in ARCHS:
    assert min(claims.effects("procedure_depth_trend_resnet50")) >= du.MIN_RHO, \
        "ResNet50: m_i should grow with depth under every matched procedure"

# %% [markdown]
# ## Why ResNets: the range of step sizes that reaches the embedding (sec. 2)
# The paper chose ResNets "reasoning that the residual connections in these models would make
# gradient descent on the input easier to tune, ie that there would be a wider range of possible
# epsilon values that yield a sufficiently small" m_g. The untrained ResNet50 against the same
# network with every shortcut removed (`du.without_skips`: the same weights, depth, widths and
# strides), eq. (4) on one grid of step sizes at ratio 2, every run the full budget: the width of
# the matched window (m_g < m_s), in octaves. A window on the grid's edge is not measured.

# %%
RESIDUAL_GRID = [2.0 ** k for k in range(-10, 1)]  # 1/1024 .. 1: both models' windows at 48-64 px
RESIDUAL_TEXT = ("residual connections give a wider range of step sizes that reach the embedding "
                 "(m_g < m_s) than the same network without them (untrained ResNet50, eq. (4), at "
                 "one layer, named in each record's numbers)")
windows, residual_runs = {}, {}
for sd in RESIDUAL_SEEDS:
    residual = du.load_resnet(50, trained=False, seed=sd).to(DEVICE)
    for kind, model in (("residual", residual), ("plain", du.without_skips(residual))):
        r = residual_runs[(kind, sd)] = du.layer_run(
            NB, f"ResNet50-{kind}-{RESIDUAL_LAYER}-seed{sd}", model, RESIDUAL_LAYER, target, STEPS,
            RESIDUAL_GRID, blur=None, decay_to=0.0, seed=sd, relocate=False, extend=0)
        windows[(kind, sd)] = w = du.matched_window(list(r["search"]), list(r["search"].values()),
                                                    r["m_s"])
        print(f"seed {sd} {kind:8}: matched {w['octaves']:.0f} octave(s) "
              f"{[f'{v:.2g}' for v in w['matched']]}" + (" (censored)" if w["censored"] else ""))
fig, ax = plt.subplots(figsize=(6.5, 3.2))
for (kind, sd), r in residual_runs.items():
    ax.plot(list(r["search"]), [min(v, 1e3) / r["m_s"] for v in r["search"].values()],
            marker="o", ms=3, ls="-" if kind == "residual" else "--",
            color=f"C{RESIDUAL_SEEDS.index(sd)}", label=f"seed {sd}, {kind}")
ax.axhline(1.0, color="0.5", lw=0.8, ls=":", label="m_g = m_s")
ax.set(xscale="log", yscale="log", xlabel="step size", ylabel="final m_g / m_s")
ax.set_title(f"ResNet50 with and without skips, {RESIDUAL_LAYER}, {IMAGE_SIZE} px, {STEPS} steps",
             fontsize=9)
ax.legend(fontsize=6, ncol=2)
du.save_fig(fig, NB, "residual_step_window")
plt.show()
censored = [f"seed {sd} {kind}" for (kind, sd), w in windows.items() if w["censored"]]
claims.check(
    "sec2_residual_wider_step_range", text=RESIDUAL_TEXT, figure="Sec. 2",
    model="ResNet50 untrained",
    numbers={"layer": RESIDUAL_LAYER,
             "matched step sizes": {f"seed {sd} {kind}": w["matched"]
                                    for (kind, sd), w in windows.items()},
             "grid": "2^-10 .. 2^0, ratio 2"},
    effects={f"seed {sd}": windows[("residual", sd)]["octaves"] - windows[("plain", sd)]["octaves"]
             for sd in RESIDUAL_SEEDS},
    floor=1.0, effect="octaves of step size that reach the embedding, with skips minus without "
                      "(> 0: wider with; one grid step = 1 octave)",
    # undecided only where neither network reaches the embedding at any step size (too short a run)
    runs={f"seed {sd} {kind}": residual_runs[(kind, sd)] for sd in RESIDUAL_SEEDS
          for kind in [max(("residual", "plain"), key=lambda k: windows[(k, sd)]["octaves"])]},
    below_scale=(f"the matched window reaches the grid's edge ({', '.join(censored)}): its "
                 "width is not measured" if censored else ""))

# %% [markdown]
# ## Explorer
# Pick the model, the relative depth and the update (the paper's, Adam, momentum with a normalised
# gradient, the Fourier image with Adam, or L-BFGS), the step size and the iterations, then **Run**.
# Built only in an interactive session.

# %%
# NBVAL_IGNORE_OUTPUT
if du.is_interactive():
    def build(model, depth):
        net = du.load_model(model, seed=SEEDS[0], size=IMAGE_SIZE, small=SMALL).to(DEVICE)
        layer = du.relative_layers(net)[DEPTHS.index(depth)]
        return du.truncate(net, layer), f"{model}, untrained, depth {depth} ({layer})"

    explorer = du.Explorer(target, build, {"model": ARCHS, "depth": DEPTHS}, steps=STEPS,
                           blur=False, step_size=0.01, image=IMAGE)
    display(explorer.widget)
else:
    print("Explorer skipped: not an interactive session (DEPTHREP_HEADLESS is set).")
