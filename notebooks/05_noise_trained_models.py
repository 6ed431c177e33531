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
# # 05 · Models trained on noise map inputs to noise (paper sections 5-6: Fig. 10, S4, S5)
#
# A ResNet trained to memorise Gaussian-noise images with random labels reaches training accuracy 1,
# yet represents a natural image worse than an untrained model: its middle layers turn the Tesla
# coil (not an ImageNet class) into something like its training noise. ImageNet training instead
# sharpens the early layers, whose first-layer kernels become Gabor- and wavelet-like; noise
# training does not. How noise-like an image is: the slope of its radially averaged power spectrum
# (white noise about 0, natural images about -2). How Gabor-like a kernel is: the share of its
# spectral energy in its strongest 10% of frequencies.

# %%
# Setup. On Colab, first run `%pip install git+<this repository's URL>` (README: Colab).
import matplotlib.pyplot as plt
import numpy as np
import torch

import depthrep_utils as du

DEVICE = du.setup_notebook()

# %% tags=["parameters"]
PROFILE: str = "quick"  # the profile of these values; make reproduce: cpu, or paper on a GPU
IMAGE: str = "tesla"  # target image, not an ImageNet class; paper: the Tesla coil
IMAGE_SIZE: int = 64  # pixels per side for the representations; paper: 299
DEPTH: int = 18  # ResNet depth of all three models; paper: 50
NOISE_IMAGES: int = 256  # noise training images; paper: 10000
NOISE_SIZE: int = 32  # their pixels per side; paper code: 224
NOISE_MEAN: float = 0.5  # noise mean; paper: 1/2
NOISE_STD: float = 0.3333  # noise sigma; paper text 1/3 (its code 1/4)
NOISE_CLASSES: int = 10  # random labels; paper: 100
EPOCHS: int = 40  # training epochs (quick: 320 optimizer steps); paper: 90
BATCH: int = 32  # batch size; paper: 128
TRAIN_LR: float = 0.001  # Adam learning rate; paper: 1e-4
STEPS: int = 200  # iterations per representation; paper code: 500
SEARCH_STEP_SIZES: list = [0.5, 0.125, 0.031, 0.0079, 0.002, 0.0005]  # paper: about 1/2 to 1/1000
LAYERS: list = ["conv1", "conv2", "conv3", "conv4", "conv5"]  # paper: conv1..conv5
SEED: int = 0  # seeds models, noise set, start images

# %%
NB = "05_noise_trained_models"
target, source = du.load_target(IMAGE, IMAGE_SIZE, SEED, DEVICE)
SIZES = (f"ResNet{DEPTH}; noise set {NOISE_IMAGES} x {NOISE_SIZE} px, {NOISE_CLASSES} classes, "
         f"{EPOCHS} epochs; {IMAGE_SIZE} px, {STEPS} steps")
claims = du.Claims(PROFILE, source, SIZES)  # each claim is recorded under its figure

# %% [markdown]
# ## Train ResNet on noise (checkpointed every epoch; a rerun resumes, a finished model is reused)

# %%
noise_model, train_log = du.train_on_noise(depth=DEPTH, n_images=NOISE_IMAGES, size=NOISE_SIZE,
                                           mean=NOISE_MEAN, std=NOISE_STD, n_classes=NOISE_CLASSES,
                                           epochs=EPOCHS, batch=BATCH, lr=TRAIN_LR, seed=SEED)
noise_model = noise_model.to(DEVICE)
OPT_STEPS = EPOCHS * -(-NOISE_IMAGES // BATCH)
print(f"training: {train_log['seconds']:.0f} s, {OPT_STEPS} optimizer steps; final training "
      f"accuracy (eval mode, whole set) {train_log['train_accuracy']:.4f}")
fig, ax = plt.subplots(figsize=(6, 2.8))
epochs = np.arange(1, len(train_log["loss"]) + 1)
ax.semilogy(epochs, train_log["loss"], color="C0")
ax.set_xlabel("epoch"), ax.set_ylabel("training loss (cross-entropy)", color="C0")
twin_ax = ax.twinx()
twin_ax.plot(epochs, train_log["running_accuracy"], color="C1")
twin_ax.set_ylabel("running accuracy", color="C1"), twin_ax.set_ylim(0, 1.05)
ax.set_title(f"ResNet{DEPTH} memorising {NOISE_IMAGES} noise images with random labels "
             f"({OPT_STEPS} steps)", fontsize=9)
fig.tight_layout()
du.save_fig(fig, NB, "noise_training_curve")
plt.show()

# %% [markdown]
# ### Claims: the noise model memorised its set

# %%
claims.check("noise_training_memorises",
             text="a ResNet memorises labelled Gaussian noise: training accuracy near 1",
             figure="training", model=f"ResNet{DEPTH} noise-trained",
             numbers={"train accuracy": train_log["train_accuracy"], "epochs": EPOCHS,
                      "optimizer steps": OPT_STEPS,
                      "loss first, last epoch": [train_log["loss"][0], train_log["loss"][-1]],
                      "seconds": train_log["seconds"]}, holds=train_log["train_accuracy"] >= 0.99)


# %% [markdown]
# ## The three models: untrained, ImageNet-trained, noise-trained

# %%
models = {"untrained": (du.load_resnet(DEPTH, seed=SEED).to(DEVICE), False)}
imagenet, IMAGENET_MISSING = du.load_trained(
    lambda: du.load_resnet(DEPTH, trained=True), f"ImageNet ResNet{DEPTH}",
    stand_in=lambda: du.load_efficientnet_lite0(trained=True),
    stand_in_name="EfficientNet-Lite0 (ImageNet-trained, offline weights)")
models["ImageNet"] = (imagenet.to(DEVICE), bool(IMAGENET_MISSING))  # the stand-in normalises
imagenet_name = ("EfficientNet-Lite0 ImageNet (stand-in)" if IMAGENET_MISSING
                 else f"ResNet{DEPTH} ImageNet")
if IMAGENET_MISSING:  # training effects within one architecture: the stand-in against itself
    models["twin"] = (du.load_efficientnet_lite0(trained=False, seed=SEED).to(DEVICE), True)
models["noise-trained"] = (noise_model, False)
names = {"untrained": f"ResNet{DEPTH} untrained", "ImageNet": imagenet_name,
         "twin": "EfficientNet-Lite0 untrained", "noise-trained": f"ResNet{DEPTH} noise-trained"}
TWIN = "twin" if "twin" in models else "untrained"  # the ImageNet model's architecture, untrained


# Eq. (5)'s sigmas remove the shares of this target's contrast that the paper's 2.4 -> 0.4 remove
# from the same image at 299 px (each image is calibrated on itself).
BLUR_SIGMAS = du.paper_blur_sigmas(target, du.load_target(IMAGE, 299, SEED)[0])
print(f"eq. (5) at {IMAGE_SIZE} px: blur sigma {BLUR_SIGMAS[0]:.3g} -> {BLUR_SIGMAS[1]:.3g}")


def visualize(kind: str, blur: bool) -> dict:
    model, normalize = models[kind]
    out = {}
    for layer in LAYERS:
        name = f"{kind}-{layer}-{'blur' if blur else 'plain'}"
        sigmas = dict(blur_sigma=BLUR_SIGMAS[0], blur_sigma_end=BLUR_SIGMAS[1]) if blur else {}
        out[layer] = du.layer_run(NB, name, model, layer, target, STEPS, SEARCH_STEP_SIZES, blur,
                                  decay_to=0.0, seed=SEED, normalize=normalize, **sigmas)
        out[layer]["slope"] = du.spectral_slope(out[layer]["image"])
    return out


fig10 = {kind: visualize(kind, blur=True) for kind in models}
plain = {kind: visualize(kind, blur=False) for kind in models}  # Fig. S4 and its controls
noise_plain = plain["noise-trained"]
train_noise_slope = du.spectral_slope(
    du.noise_images([0], IMAGE_SIZE, NOISE_MEAN, NOISE_STD, SEED)[0])
target_slope = du.spectral_slope(target)
for update, found in (("eq. (5)", fig10), ("eq. (4)", plain)):
    for kind, per_layer in found.items():
        for layer in LAYERS:
            r = per_layer[layer]
            print(f"{kind:14} {update} {layer}: step={r['step_size']:.3g} m_g={r['m_g']:.3g} "
                  f"m_s={r['m_s']:.3g} m_i={r['m_i']:.3g} slope={r['slope']:.2f} "
                  f"({r['runs']} runs, {r['seconds']:.1f} s)")
print(f"spectral slope: target {target_slope:.2f}, training noise {train_noise_slope:.2f}")

# %% [markdown]
# ## Fig. 10 (with blur) and Fig. S4 (noise-trained model without blur)
# Each panel: m_i and the spectral slope s of a_g (training noise: s about 0; the target: s below
# -2).

# %%
labels = {k: names[k].replace(" (", "\n(") for k in models}
rows = {labels[k]: [target] + [fig10[k][l]["image"] for l in LAYERS] for k in models}


def title(kind: str, layer: str) -> str:
    """m_i and the spectral slope s of the image shown (eq. 5) with, in brackets, the slope of
    the eq. (4) image (what fig10_noise_model_noise_like compares); a missed run's warning below."""
    r = fig10[kind][layer]
    first, *rest = du.run_title(r).split("\n")
    return "\n".join([f"{first}", f"s={r['slope']:.2f} (eq. 4: {plain[kind][layer]['slope']:.2f})",
                      *rest])


notes = {labels[k]: ["target"] + [title(k, l) for l in LAYERS] for k in models}
fig = du.image_grid(rows, ["a"] + LAYERS, notes, size=2.0)
fig.suptitle(f"Fig. 10: the Tesla coil at conv1..conv5, eq. (5) ({IMAGE_SIZE} px; shown clipped "
             f"to [0, 1]); s: spectral slope of the image shown, in brackets of the eq. (4) image",
             y=1.03)
du.save_fig(fig, NB, "fig10_three_models")
plt.show()
runs = {f"{labels[k]}\neq. ({5 if blur else 4})": (fig10 if blur else plain)[k]
        for k in models for blur in (False, True)}
fig = du.image_grid({row: [target] + [r[l]["image"] for l in LAYERS] for row, r in runs.items()},
                    ["a"] + LAYERS,
                    {row: ["target"] + [f"m_g={r[l]['m_g']:.3g}\nm_s={r[l]['m_s']:.3g}"
                                        + ("" if du.matched(r[l]) else f"\n{du.NOT_MATCHED}")
                                        for l in LAYERS]
                     for row, r in runs.items()},
                    size=2.0)
fig.suptitle("Fig. S4: the noise-trained model without and with blur, beside the other models "
             "(controls: does blur stall them too?)", y=1.02)
du.save_fig(fig, NB, "figS4_noise_model_blur")
plt.show()

# %% [markdown]
# ### Claims: Fig. 10 and Fig. S4

# %%
def compared(kinds, layers):
    """The generated images a claim compares: inconclusive unless each matched its embedding."""
    return {f"{k} {l}": fig10[k][l] for k in kinds for l in layers}


mi = {k: [fig10[k][l]["m_i"] for l in LAYERS] for k in models}
# Spectral slopes of the eq. (4) images: the blur of eq. (5) steepens every spectrum by itself.
slope = {k: [plain[k][l]["slope"] for l in LAYERS] for k in models}
stand_in = (" (EfficientNet-Lite0 stand-in: ResNet weights unavailable offline)"
            if IMAGENET_MISSING else "")
for blur, found in ((True, fig10), (False, plain)):
    tr, un = [found["ImageNet"][l]["m_i"] for l in LAYERS], [found[TWIN][l]["m_i"] for l in LAYERS]
    claims.check("fig10_imagenet_sharper" + ("" if blur else "_no_blur"),
                 text=f"eq. ({5 if blur else 4}): ImageNet training sharpens early layers "
                      f"(conv1-conv2) even for an unseen input, against the same architecture "
                      f"untrained" + stand_in,
                 figure="Fig. 10", model=f"{imagenet_name} vs {names[TWIN]}",
                 numbers={"m_i ImageNet": tr, "m_i untrained": un},
                 holds=all(t < u for t, u in zip(tr[:2], un[:2])), replicates=1,
                 runs={f"{k} {l}": found[k][l] for k in ("ImageNet", TWIN) for l in LAYERS[:2]})
mid = [LAYERS.index(l) for l in ("conv3", "conv4")]
# Within one architecture: the noise-trained ResNet against the same ResNet untrained (and against
# the ImageNet ResNet when its weights are here; the stand-in is another architecture).
rivals = ["untrained"] + ([] if IMAGENET_MISSING else ["ImageNet"])
claims.check("fig10_noise_model_noise_like",
             text=f"the noise-trained ResNet{DEPTH}'s conv3/conv4 are less clear (larger m_i) and "
                  f"more noise-like (spectral slope of the eq. (4) images closer to the training "
                  f"noise's) than the same ResNet {' and '.join(rivals)}",
             figure="Fig. 10", model=f"ResNet{DEPTH} noise-trained vs " + " and ".join(rivals),
             numbers={"m_i conv3, conv4": {k: [mi[k][i] for i in mid] for k in models},
                      "spectral slope conv3, conv4 (eq. 4)": {k: [slope[k][i] for i in mid]
                                                              for k in models},
                      "slope training noise": train_noise_slope, "slope target": target_slope},
             holds=all(mi["noise-trained"][i] > max(mi[k][i] for k in rivals) for i in mid)
                   and all(slope["noise-trained"][i] > max(slope[k][i] for k in rivals)
                           for i in mid),
             runs=compared(["noise-trained"] + rivals, ["conv3", "conv4"]), replicates=1)
# Fig. S4: blur stalls the noise-trained model, not every model: the layers where its blurred run
# misses m_s while the controls' blurred runs (the other models, eq. 5) match theirs.
good = {(k, blur): [r[l]["m_g"] < r[l]["m_s"] for l in LAYERS]
        for blur, found in ((True, fig10), (False, plain)) for k, r in found.items()}
controls = [k for k in models if k != "noise-trained"]
stalled = [l for i, l in enumerate(LAYERS) if not good[("noise-trained", True)][i]
           and all(good[(k, True)][i] for k in controls)]
claims.check("figS4_blur_stalls",
             text="noise-trained model: without blur m_g < m_s at every layer; with blur m_g "
                  "stays above m_s at some layer where blur does not stall the untrained and "
                  "ImageNet models",
             figure="Fig. S4",
             model=f"ResNet{DEPTH} noise-trained, controls: "
                   + ", ".join(names[k] for k in controls),
             numbers={"m_g < m_s per layer": {f"{k} eq. ({5 if b else 4})": v
                                              for (k, b), v in good.items()},
                      "m_g no blur": [noise_plain[l]["m_g"] for l in LAYERS],
                      "m_g blur": [fig10["noise-trained"][l]["m_g"] for l in LAYERS],
                      "m_s": [noise_plain[l]["m_s"] for l in LAYERS],
                      "stalled by blur only in the noise-trained model": stalled},
             holds=all(good[("noise-trained", False)]) and bool(stalled), replicates=1)


# %% [markdown]
# ## Fig. S5: first-layer kernels
# The ImageNet-trained model's first convolution (ResNet: 7x7; the EfficientNet-Lite0 stand-in: 3x3)
# against the noise-trained and the untrained ResNet's. Each model's number is the mean spectral
# concentration of its kernels. The concentration depends on the kernel size, so each trained model
# is compared only with the untrained model of its own architecture (same kernel size): the ratio
# trained / untrained.

# %%
def first_conv(model):
    return next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d)).weight.detach().cpu()


kernels = {k: first_conv(m) for k, (m, _) in models.items()}
concentration = {k: float(du.kernel_concentration(w).mean()) for k, w in kernels.items()}
gain = {"ImageNet": concentration["ImageNet"] / concentration[TWIN],
        "noise-trained": concentration["noise-trained"] / concentration["untrained"]}
# How far training moved the noise model's first layer from its initialisation (the untrained ResNet
# of the same seed starts from the same conv1: it is built first): a gain of 1.0 with conv1 barely
# moved says nothing about wavelets.
w_0 = kernels["untrained"]
moved = float((kernels["noise-trained"] - w_0).norm() / w_0.norm())
print({k: round(v, 3) for k, v in concentration.items()},
      "trained / untrained of the same architecture:", {k: round(v, 3) for k, v in gain.items()},
      f"noise training moved conv1 by ||W - W_0|| / ||W_0|| = {moved:.3g}")
fig, axes = plt.subplots(1, len(kernels), figsize=(4 * len(kernels), 2.8))
for ax, (kind, w) in zip(axes, kernels.items()):
    w = w[:32]
    low, high = w.amin(dim=(1, 2, 3), keepdim=True), w.amax(dim=(1, 2, 3), keepdim=True)
    w = (w - low) / (high - low + 1e-12)
    k = w.shape[-1]
    grid = torch.ones(3, 4 * (k + 1), 8 * (k + 1))
    for i in range(w.shape[0]):
        r, c = divmod(i, 8)
        grid[:, r * (k + 1):r * (k + 1) + k, c * (k + 1):c * (k + 1) + k] = w[i]
    ax.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest"), ax.set_axis_off()
    ax.set_title(f"{names[kind]}\n{k}x{k} kernels, concentration {concentration[kind]:.3f}",
                 fontsize=8)
fig.suptitle("Fig. S5: first-layer kernels (first 32, each scaled to its own range)", y=1.08)
du.save_fig(fig, NB, "figS5_kernels")
plt.show()

# %% [markdown]
# ### Claims: Fig. S5 (and the ImageNet ResNet's panels)

# %%
claims.check("figS5_gabor",
             text="first-layer kernels become concentrated (Gabor/wavelet-like) with ImageNet "
                  "training, not with noise training (each against its own architecture untrained: "
                  "same kernel size)" + stand_in, figure="Fig. S5",
             model=f"{imagenet_name}, ResNet{DEPTH} noise-trained and untrained",
             numbers={"concentration": concentration,
                      "trained / untrained, same architecture": gain,
                      "noise-trained conv1 ||W - W_0|| / ||W_0||": moved},
             holds=gain["ImageNet"] > 1.1 and gain["noise-trained"] < gain["ImageNet"]
                   and abs(gain["noise-trained"] - 1) < 0.5 * (gain["ImageNet"] - 1), replicates=1)
if IMAGENET_MISSING:
    claims.not_measured("fig10_resnet_imagenet",
                        text=f"ImageNet-trained ResNet{DEPTH} panels of Fig. 10 and S5",
                        figure="Fig. 10, S5", model=f"ResNet{DEPTH} ImageNet",
                        why=f"weights unavailable offline ({IMAGENET_MISSING[:80]}); "
                            f"EfficientNet-Lite0 stands in")


# %% [markdown]
# ## The numbers behind the figures; what the quick profile asserts

# %%
KEYS = ("step_size", "m_g", "m_s", "m_i", "slope")
du.save_json(dict(profile=PROFILE, image=source, sizes=SIZES, training=train_log,
                  fig10={k: {l: {m: v[l][m] for m in KEYS} for l in LAYERS}
                         for k, v in fig10.items()},
                  no_blur={k: {l: {m: v[l][m] for m in KEYS} for l in LAYERS}
                           for k, v in plain.items()},
                  figS5=concentration), NB, "numbers")

# %%
# Asserted at the quick scale (robust there); the others are recorded above; other profiles only
# record.
if PROFILE == "quick":
    assert claims["noise_training_memorises"], \
        "the noise-trained model should memorise its training set"

# %% [markdown]
# ## Explorer: the three models side by side
# Pick the model (untrained, ImageNet-trained or its offline stand-in, noise-trained), the layer,
# the step size (it moves to the value this notebook's search chose; **Search step size** runs the
# batched search) and blur, then **Run**. Built only in an interactive session.

# %%
# NBVAL_IGNORE_OUTPUT
if du.is_interactive():
    def build(model, layer):
        net, normalize = models[model]
        return du.truncate(net, layer, normalize=normalize), f"{names[model]}, {layer}"

    def chosen(v):
        found = (fig10 if v["blur"] else plain).get(v["model"], {})
        return found.get(v["layer"], {}).get("step_size")

    explorer = du.Explorer(target, build, {"model": list(models), "layer": LAYERS},
                           values={"model": "noise-trained"}, steps=STEPS, chosen=chosen)
    display(explorer.widget)
else:
    print("Explorer skipped: not an interactive session (DEPTHREP_HEADLESS is set).")
