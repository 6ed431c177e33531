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
# # 04 · ReLU needs layers that widen by 1/p (paper section 4.3, Fig. 9)
#
# ReLU sets every negative activation to 0, so a layer keeps information only about the inputs of
# its active units. If a fraction p of units is zeroed (about 1/2 at initialisation), a ReLU MLP can
# copy its input only if layer k has at least n (1/p)^k units. Here we measure p, then compare ReLU
# MLPs of constant width n with ReLU MLPs whose widths grow by 1/p per layer, and the same widths
# without ReLU: how many input directions survive to the output (the rank of the Jacobian at the
# target) and how close eq. (4) gets to the input in a fixed budget (m_i).

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
import torch

import depthrep_utils as du

DEVICE = du.setup_notebook()

# %% tags=["parameters"]
PROFILE: str = "quick"  # the profile of these values; make reproduce: cpu, or paper on a GPU
IMAGE: str = "dalmatian"  # target image; paper: dalmatian
SIDE: int = 10  # the target is 3 x SIDE x SIDE; paper: 29, that is 2523 values
MAX_DEPTH: int = 4  # ReLU layers 1..MAX_DEPTH; paper: a few (Fig. 9 shows the scheme)
P_DEPTH: int = 6  # layers of the constant-width ReLU MLP used to measure p; paper: p about 1/2
STEPS: int = 1000  # iterations of eq. (4) per model; cpu: 4000; paper: fixed budget
SEARCH_STEP_SIZES: list = [0.1, 0.01, 0.001, 0.0001]  # grid extends at its edges; paper: search
SEED: int = 0  # seeds the models and the start image
RANK_SEEDS: int = 20  # weight draws for the full-rank shares; cpu: 50; paper: one model per design
ACT_SEEDS: list = [0, 1, 2]  # weight draws (and starts) per activation (sec. 4.3); paper: one model

# %%
NB = "04_relu_width"
target, source = du.load_target(IMAGE, SIDE, SEED, DEVICE)
N = target.numel()
SIZES = f"3x{SIDE}x{SIDE} (n = {N}), depth 1..{MAX_DEPTH}, eq. (4), {STEPS} steps"
print(f"target: {source}, n = {N}")

# %% [markdown]
# ## p: the fraction of activations ReLU zeroes, per layer, at initialisation

# %%
probe = du.make_mlp([N] + [N] * P_DEPTH, activation=torch.nn.ReLU, seed=SEED).to(DEVICE)
noise = torch.rand(8, *target.shape[1:], generator=torch.Generator().manual_seed(SEED))
inputs = {"target a": target, "start a_0": du.start_image(target.shape, SEED).to(DEVICE),
          "uniform noise": noise.to(DEVICE)}
p_by_input = {}
for name, x in inputs.items():
    zeros, h = [], x.flatten(1)
    for layer in probe:
        h = layer(h)
        if isinstance(layer, torch.nn.ReLU):
            zeros.append(float((h == 0).float().mean()))
    p_by_input[name] = zeros
    print(f"p per layer ({name}): {np.round(zeros, 3)}")
P = float(np.mean(p_by_input["target a"]))
print(f"p = {P:.3f} (mean over layers, target input); "
      f"widths must grow by 1/p = {1 / P:.2f} per layer")

# %% [markdown]
# ## Constant width vs widths growing by 1/p, with and without ReLU

# %%
WIDTHS = {"constant n": lambda k: N, "n (1/p)^k": lambda k: int(round(N * (1 / P) ** k)),
          "constant 2.4 n": lambda k: int(round(2.4 * N))}  # layer k's width (k = 1, 2, ...)
families = {"constant n, ReLU": ("constant n", True), "n (1/p)^k, ReLU": ("n (1/p)^k", True),
            "constant 2.4 n, ReLU": ("constant 2.4 n", True),
            "constant n, linear": ("constant n", False), "n (1/p)^k, linear": ("n (1/p)^k", False)}
ACTIVATIONS = {"linear": None, "ReLU": torch.nn.ReLU, "GELU": torch.nn.GELU,
               "tanh": torch.nn.Tanh, "LeakyReLU": torch.nn.LeakyReLU}  # after each layer


def mlp_run(widths: list, activation: str, seed: int = SEED) -> dict:
    """Eq. (4) on the MLP n -> widths with ``activation`` after each layer: the best full-length run
    of the line search (du.mlp_run, cached), with its Jacobian rank at the target."""
    return du.mlp_run(NB, f"{activation}-{'-'.join(map(str, widths))}-seed{seed}", widths, target,
                      STEPS, SEARCH_STEP_SIZES, activation=ACTIVATIONS[activation], seed=seed,
                      rank=True)


results = {}
for family, (design, relu) in families.items():
    for depth in range(1, MAX_DEPTH + 1):
        widths = [WIDTHS[design](k) for k in range(1, depth + 1)]
        results[(family, depth)] = r = mlp_run(widths, "ReLU" if relu else "linear")
        print(f"{family:20} depth {depth}: widths {widths}  rank {r['rank']:4d}/{N}  "
              f"m_g={r['m_g']:.3g}  m_s={r['m_s']:.3g}  m_i={r['m_i']:.3g}")

# %% [markdown]
# ## Must the widths grow? Full Jacobian rank over weight draws, against constant-width controls
# One weight draw decides little: whether a layer keeps every input direction depends on which of
# its units are active. Over RANK_SEEDS draws, the share of models whose Jacobian *at the target*
# has full rank n, for the growing widths and for constant widths n, n/p (the growing design's
# first layer) and about 2.4 n, and the linear constant-width MLP as the contrast. Full rank at the
# target means no direction is lost locally; it is not injectivity over all inputs (random ReLU
# layers need a larger expansion for that). If a constant width did as well as the growing one,
# the rule would not be needed.

# %%
RANK_FAMILIES = {"constant n": (WIDTHS["constant n"], True),
                 "constant n/p": (lambda k: int(round(N / P)), True),
                 "constant 2.4 n": (WIDTHS["constant 2.4 n"], True),
                 "n (1/p)^k": (WIDTHS["n (1/p)^k"], True),
                 "constant n, linear": (WIDTHS["constant n"], False)}


def full_rank_share(widths_of, relu: bool, depth: int) -> dict:
    """Jacobian ranks at the target of RANK_SEEDS MLPs with these widths (cached)."""
    widths = [widths_of(k) for k in range(1, depth + 1)]
    activation = torch.nn.ReLU if relu else None

    def compute():
        ranks = [du.jacobian_rank(du.make_mlp([N] + widths, activation=activation, seed=s)
                                  .to(DEVICE), target) for s in range(RANK_SEEDS)]
        return dict(widths=widths, ranks=ranks, full=float(np.mean([r == N for r in ranks])))
    config = dict(widths=widths, relu=relu, n=N, seeds=RANK_SEEDS, image=source, size=SIDE)
    return du.cached(NB, f"ranks-{'relu' if relu else 'linear'}-{'-'.join(map(str, widths))}",
                     config, compute)


rank_share = {(f, d): full_rank_share(w, relu, d) for f, (w, relu) in RANK_FAMILIES.items()
              for d in range(1, MAX_DEPTH + 1)}
for f in RANK_FAMILIES:
    print(f"{f:15} full-rank share by depth: "
          + ", ".join(f"{rank_share[(f, d)]['full']:.1f}" for d in range(1, MAX_DEPTH + 1))
          + "  mean rank: " + ", ".join(f"{np.mean(rank_share[(f, d)]['ranks']):.0f}"
                                        for d in range(1, MAX_DEPTH + 1)) + f" (of {N})")

# %% [markdown]
# ## Fig. 9, drawn from the measurements
# Left: layer widths of the two designs (bars) against the n (1/p)^k rule. Then input directions
# that survive to the output (Jacobian rank, out of n) and m_i after the fixed budget, for one draw;
# right: the share of weight draws with full rank, growing widths against constant-width controls.

# %%
depths = list(range(1, MAX_DEPTH + 1))
fig, axes = plt.subplots(1, 4, figsize=(16, 3.4))
k = np.arange(0, MAX_DEPTH + 1)
axes[0].bar(k - 0.2, [N] * len(k), 0.4, label="constant width n")
axes[0].bar(k + 0.2, [N * (1 / P) ** i for i in k], 0.4, label=f"n (1/p)^k, p = {P:.2f}")
axes[0].set_yscale("log"), axes[0].set_xlabel("layer k (0 = input)"), axes[0].set_ylabel("units")
axes[0].legend(fontsize=7), axes[0].set_title("layer widths")
for family in families:
    style = "-" if "ReLU" in family else ":"
    by_depth = [results[(family, d)] for d in depths]
    axes[1].plot(depths, [r["rank"] for r in by_depth], style, marker="o", label=family)
    axes[2].semilogy(depths, [r["m_i"] for r in by_depth], style, marker="o", label=family)
SHARE_STYLE = {"constant n": ("C0", "-"), "n (1/p)^k": ("C1", "-"), "constant n/p": ("C5", "--"),
               "constant 2.4 n": ("C2", "-"), "constant n, linear": ("C3", ":")}  # as in the middle
for family in RANK_FAMILIES:  # over RANK_SEEDS weight draws
    color, style = SHARE_STYLE[family]
    axes[3].plot(depths, [rank_share[(family, d)]["full"] for d in depths], style, color=color,
                 marker="o", label=family)
axes[1].axhline(N, color="gray", ls="--", lw=0.8)
axes[1].set_ylabel(f"Jacobian rank (of n = {N}), seed {SEED}")
axes[2].set_ylabel(f"m_i after {STEPS} steps, seed {SEED}")
axes[3].set_ylabel(f"share of {RANK_SEEDS} draws with full\nJacobian rank at the target")
axes[3].set_ylim(-0.05, 1.05)
for ax in axes[1:]:
    ax.set_xlabel("depth (ReLU layers)"), ax.set_xticks(depths), ax.legend(fontsize=7)
axes[3].legend(fontsize=7, loc="lower left", bbox_to_anchor=(0.0, 0.08))  # below the lines at 0.6-1
fig.suptitle("Fig. 9: the paper's rule (widths growing by 1/p per layer) against constant widths",
             y=1.03)
fig.tight_layout()
du.save_fig(fig, NB, "fig9_relu_width")
plt.show()
rows = {f: [target] + [results[(f, d)]["image"].reshape(target.shape[1:]) for d in depths]
        for f in families}
notes = {f: ["target"] + [f"rank {results[(f, d)]['rank']}, m_i={results[(f, d)]['m_i']:.2g}"
                          for d in depths] for f in families}
fig = du.image_grid(rows, ["a"] + [f"depth {d}" for d in depths], notes, size=1.9)
du.save_fig(fig, NB, "generated_images")
plt.show()

# %% [markdown]
# ### Claims: Fig. 9 and section 4.3 (under the figure they judge)

# %%
claims = du.Claims(PROFILE, source, SIZES)
FIGURE, MODEL = "Fig. 9, sec. 4.3", "MLP, ReLU vs linear, untrained"
claims.check("relu_p_half",
             text="ReLU zeroes about half of the activations at initialisation (p about 1/2)",
             figure=FIGURE, model=MODEL,
             numbers={"p per layer (target)": p_by_input["target a"], "p mean": P},
             holds=abs(P - 0.5) < 0.1)



def zero_shares(model: torch.nn.Module, image: torch.Tensor) -> list:
    """The share of each ReLU6 call's outputs that are exactly 0, in forward order, one image."""
    shares = []

    def record(module, inputs, output):
        shares.append(float((output == 0).float().mean()))
    hooks = [m.register_forward_hook(record) for m in model.modules()
             if isinstance(m, torch.nn.ReLU6)]
    try:
        with torch.no_grad():
            model(du.imagenet_normalize(image))
    finally:
        for h in hooks:
            h.remove()
    return shares


# "For trained model it is rarely seen that there is some constant probability of ReLU transforming
# an activation to 0 for different layers": the ImageNet-trained EfficientNet-Lite0 (ReLU6, offline
# weights) against an untrained twin per image (its own seed), at 224 px, on the paper's image and
# the bundled photographs. The spread of p over the layers: max - min of the zero shares.
ZERO_IMAGES = [IMAGE] + [n for n in du.REPLICATE_IMAGES if n != IMAGE]
effnet = du.load_efficientnet_lite0(trained=True)
p_spread = {}  # image -> weights -> [min, mean, max] of the zero share over the ReLU6 calls
for k, name in enumerate(ZERO_IMAGES):
    image = du.load_target(name, 224, SEED, "cpu")[0]
    twin = du.load_efficientnet_lite0(trained=False, seed=SEED + k)
    for weights, model in (("ImageNet", effnet), ("untrained", twin)):
        s = zero_shares(model, image)
        p_spread.setdefault(name, {})[weights] = [min(s), float(np.mean(s)), max(s)]
    print(f"{name:10} zero share over {len(s)} ReLU6 calls (min, mean, max): " + "  ".join(
        f"{w} " + ", ".join(f"{v:.2f}" for v in s) for w, s in p_spread[name].items()))
claims.check("sec43_trained_p_not_constant",
             text="trained models rarely show a constant probability p of ReLU zeroing an "
                  "activation across layers: the ImageNet-trained EfficientNet-Lite0's zero share "
                  "spreads more over its layers than its untrained twin's (on each image)",
             figure="Sec. 4.3", model="EfficientNet-Lite0 ImageNet vs untrained (ReLU6)",
             numbers={"zero share min, mean, max over layers": p_spread},
             effects={name: (s["ImageNet"][2] - s["ImageNet"][0])
                      - (s["untrained"][2] - s["untrained"][0]) for name, s in p_spread.items()},
             floor=0.1, effect="spread (max - min) of the zero share over layers, trained minus "
                               "untrained (> 0: trained less constant; at least 0.1 counted)")
const = [results[("constant n, ReLU", d)] for d in depths]
grow = [results[("n (1/p)^k, ReLU", d)] for d in depths]

def by_depth(runs: list, other: list, other_name: str) -> dict:
    """The numbers behind a ReLU-width claim: rank and m_i by depth, and the other design's m_i."""
    return {"rank by depth": [r["rank"] for r in runs], "m_i by depth": [r["m_i"] for r in runs],
            f"m_i {other_name}": [r["m_i"] for r in other]}


depth_range = range(1, MAX_DEPTH + 1)
mean_rank = {f: [float(np.mean(rank_share[(f, d)]["ranks"])) for d in depth_range]
             for f in RANK_FAMILIES}
share = {f: [rank_share[(f, d)]["full"] for d in depth_range] for f in RANK_FAMILIES}
claims.check("relu_constant_loses",
             text=f"constant-width ReLU MLPs lose input information with depth: no model among "
                  f"{RANK_SEEDS} draws has full Jacobian rank at the target, the mean rank falls "
                  f"with depth (judged on the draws; m_i of seed {SEED} beside)", figure=FIGURE,
             model=MODEL,
             numbers=dict(by_depth(const, grow, "growing-width ReLU"),
                          **{"mean rank by depth, constant n": mean_rank["constant n"]}),
             holds=max(share["constant n"]) == 0
                   and mean_rank["constant n"][-1] < mean_rank["constant n"][0],
             replicates=RANK_SEEDS)
claims.check("relu_growing_restores",
             text=f"widths n (1/p)^k restore accurate inversion with ReLU: at least half of "
                  f"{RANK_SEEDS} draws have full Jacobian rank at the target at every depth "
                  f"(judged on the draws; m_i of seed {SEED} beside)",
             figure=FIGURE, model=MODEL, numbers=dict(by_depth(grow, const, "constant-width ReLU"),
                                         **{"full-rank share by depth": share["n (1/p)^k"]}),
             holds=min(share["n (1/p)^k"]) >= 0.5, replicates=RANK_SEEDS)
controls = ["constant n/p", "constant 2.4 n"]  # ReLU, as wide as the growing design's first layer
claims.check("relu_growth_needed",
             text=f"the widths must grow: constant widths n/p and 2.4 n keep full Jacobian rank "
                  f"at the target less often than n (1/p)^k at the deepest layer (share of "
                  f"{RANK_SEEDS} draws; the linear constant-width MLP as the contrast)",
             figure=FIGURE, model=MODEL,
             numbers={"full-rank share by depth": share, "mean rank by depth": mean_rank,
                      f"m_i by depth (seed {SEED}), constant 2.4 n vs n (1/p)^k": [
                          [results[("constant 2.4 n, ReLU", d)]["m_i"] for d in depths],
                          [r["m_i"] for r in grow]]},
             holds=all(share[f][-1] < share["n (1/p)^k"][-1] for f in controls),
             replicates=RANK_SEEDS)
models = {f"{f} depth {d}": {k: v for k, v in r.items() if k != "image"}
          for (f, d), r in results.items()}
du.save_json(dict(profile=PROFILE, image=source, sizes=SIZES, p=p_by_input, models=models,
                  ranks={f"{f} depth {d}": r for (f, d), r in rank_share.items()}),
             NB, "numbers")

# %%
# Asserted at the quick scale (robust there): rank is exact arithmetic on the measured activation
# pattern. Other profiles record what they measure above.
if PROFILE == "quick":
    assert claims["relu_p_half"], "p should be about 1/2 at initialisation"
    assert all(r["rank"] < N for r in const), \
        "constant-width ReLU MLPs should lose input directions"
    assert min(share["n (1/p)^k"]) >= 0.5, "widths n (1/p)^k should mostly keep every direction"

# %% [markdown]
# ## "And to a lesser extent other nonlinear activations" (sec. 4.3)
# The constant-width MLP (n units per layer, `ACT_DEPTH` layers) with GELU, tanh or LeakyReLU
# (PyTorch's slope 0.01) after each layer, beside ReLU and no activation, on `ACT_SEEDS` weight
# draws: m_i of eq. (4) (same budget and line search as above) and the Jacobian rank at the target.
# The paper's statement, per draw and per activation (it names none): the activation's m_i lies
# between the linear MLP's and ReLU's, at least 5% from each (a drop in accuracy, but a lesser one).

# %%
ACT_DEPTH = 2  # layers; Fig. 9's constant-width design
OTHERS = ["GELU", "tanh", "LeakyReLU"]
act = {(a, sd): mlp_run([N] * ACT_DEPTH, a, sd) for sd in ACT_SEEDS for a in ACTIVATIONS}
for a in ACTIVATIONS:
    print(f"{a:10} m_i " + ", ".join(f"{act[(a, sd)]['m_i']:.3g}" for sd in ACT_SEEDS)
          + "  rank " + ", ".join(f"{act[(a, sd)]['rank']}" for sd in ACT_SEEDS) + f" of {N}")
for a in OTHERS:  # one claim each: the sentence names none, and they need not agree
    claims.check(
        f"sec43_{a.lower()}_lesser",
        text=f"{a} after each layer also raises m_i, to a lesser extent than ReLU: its m_i lies "
             f"between the linear MLP's and ReLU's, at least 5% from each (constant width n, depth "
             f"{ACT_DEPTH}, each of {len(ACT_SEEDS)} weight draws)",
        figure="Sec. 4.3", model="MLP, constant width n, untrained",
        numbers={"m_i per draw": {b: [act[(b, sd)]["m_i"] for sd in ACT_SEEDS]
                                  for b in ("linear", a, "ReLU")},
                 "Jacobian rank at the target per draw": {
                     b: [act[(b, sd)]["rank"] for sd in ACT_SEEDS] for b in ("linear", a, "ReLU")},
                 "n": N},
        effects={f"seed {sd}": min(du.relative_gap(act[("linear", sd)]["m_i"], act[(a, sd)]["m_i"]),
                                   du.relative_gap(act[(a, sd)]["m_i"], act[("ReLU", sd)]["m_i"]))
                 for sd in ACT_SEEDS},
        floor=0.05, effect=f"the smaller relative gap of {a}'s m_i above the linear MLP's and "
                           "below ReLU's (> 0: between the two)",
        runs={f"seed {sd} {b}": act[(b, sd)] for sd in ACT_SEEDS for b in ("linear", a, "ReLU")})

# %% [markdown]
# ## Explorer: ReLU width
# Choose the depth, the growth factor per layer (1 = constant width, 1/p = the rule) and ReLU
# on/off; the title gives the widths and the Jacobian rank (input directions that reach the output).

# %%
# NBVAL_IGNORE_OUTPUT
if du.is_interactive():
    def build(depth, growth, relu):
        widths = [int(round(N * growth ** k)) for k in range(1, depth + 1)]
        activation = torch.nn.ReLU if relu else None
        model = du.make_mlp([N] + widths, activation=activation, seed=SEED).to(DEVICE)
        rank = du.jacobian_rank(model, target)
        kind = "ReLU" if relu else "linear"
        return model, f"{kind} MLP, widths {widths}: Jacobian rank {rank} of n = {N}"

    controls = {"depth": (1, 6), "growth": (1.0, 3.0, 0.1), "relu": True}
    # no image control: the title's Jacobian rank is taken at the notebook's target
    explorer = du.Explorer(target, build, controls, values={"depth": 3, "growth": 2.0},
                           step_size=0.01, steps=STEPS, blur=None, images=False)
    display(explorer.widget)
else:
    print("Explorer skipped: not an interactive session (DEPTHREP_HEADLESS is set).")
