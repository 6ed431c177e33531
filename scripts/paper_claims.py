"""What the paper says for each claim of the record: its section and its own words (quoted from
../shared/paper/paper.txt), and what this reproduction does differently and why. Used by
scripts/update_docs.py to write docs/REPORT.md; a claim of the record missing here is an error there.
"""

PAPER = "Badger, B. L. (2022). Depth and Representation in Vision Models. Technical report."

# claim id: (section, the paper's words, what differs here and why)
CLAIMS: dict[str, tuple[str, str, str]] = {
    "fig1_trained_depth": (
        "Sec. 2, Fig. 1",
        "the representation becomes more abstract the deeper the layer in question, with a near-perfect copy "
        "of the input image in the early layers giving way to a cartoon-like abstraction in the later layers",
        "needs torchvision's ImageNet ResNet50 weights, which cannot be downloaded on the CPU machines; the "
        "EfficientNet-Lite0 rows (offline weights) stand in"),
    "fig1_trained_early_layers_sharper": (
        "Sec. 5 (Fig. 1 vs 2)",
        "training leads to an increase in representation clarity in early layers for a target input that is a "
        "member of a class in the training dataset, regardless of whether Gaussian convolution was used",
        "as fig1_trained_depth: ImageNet ResNet50 weights offline only on the GPU machine"),
    "fig1_trained_early_layers_sharper_no_blur": (
        "Sec. 5, Fig. S3",
        "regardless of whether Gaussian convolution was used in the representation visualization process "
        "(Figure S3)",
        "as fig1_trained_depth"),
    "fig2_untrained_depth": (
        "Sec. 2, Fig. 2",
        "it is clear that the unlearned representations provide less and less information as layer depth "
        "increases",
        "48 px (quick) or 64 px (cpu) instead of 299 px, 150-250 steps; judged over 3 seeds of weights, start "
        "and shift (the paper shows one)"),
    "figS3_untrained_depth_no_blur": (
        "Sec. 2, Fig. S3",
        "The same observations are made when (4) is used, meaning that this decrease in input information "
        "present in the later layers does not result from Gaussian convolution",
        "as fig2_untrained_depth; also judged on scikit-image's photographs besides the dalmatian"),
    "effnet_untrained_depth": (
        "Sec. 7 (other CNNs)",
        "The results presented in this work appear to be general to other convolutional image classification "
        "models (GoogleNet etc.)",
        "EfficientNet-Lite0, the one ImageNet-trained CNN whose weights are available offline; on several images"),
    "effnet_trained_early_layers_sharper": (  # records before 0.15.0; now judged layer by layer (below)
        "Sec. 5 (Fig. 1 vs 2), stand-in",
        "training leads to an increase in representation clarity in early layers",
        "EfficientNet-Lite0 stands in for the ImageNet ResNet50 (weights offline); on several images; the worse "
        "of conv1 and conv2 by m_i (before 0.15.0; replaced by effnet_trained_conv1_sharper and "
        "effnet_trained_conv2_sharper)"),
    "effnet_trained_conv1_sharper": (
        "Sec. 5 (Fig. 1 vs 2), stand-in",
        "training leads to an increase in representation clarity in early layers",
        "EfficientNet-Lite0 stands in for the ImageNet ResNet50 (weights offline); on several images; conv1 alone, "
        "by m_i, the paper's measure"),
    "effnet_trained_conv1_sharper_colour_matched": (
        "Sec. 5 (Fig. 1 vs 2), stand-in",
        "training leads to an increase in representation clarity in early layers",
        "EfficientNet-Lite0 stands in for the ImageNet ResNet50 (weights offline); on several images; conv1 alone, "
        "by m_i after giving each channel of a_g the target's mean and spread (blind to a global colour cast, which m_i penalises)"),
    "effnet_trained_conv2_sharper": (
        "Sec. 5 (Fig. 1 vs 2), stand-in",
        "training leads to an increase in representation clarity in early layers",
        "EfficientNet-Lite0 stands in for the ImageNet ResNet50 (weights offline); on several images; conv2 alone, "
        "by m_i, the paper's measure"),
    "effnet_trained_conv2_sharper_colour_matched": (
        "Sec. 5 (Fig. 1 vs 2), stand-in",
        "training leads to an increase in representation clarity in early layers",
        "EfficientNet-Lite0 stands in for the ImageNet ResNet50 (weights offline); on several images; conv2 alone, "
        "by m_i after giving each channel of a_g the target's mean and spread (blind to a global colour cast, which m_i penalises)"),
    "fig3_m_g_below_m_s": (
        "Sec. 3.1, Fig. 3",
        "each representation visualization exhibits an m_g < m_s regardless of visual quality, and the same is "
        "true for the same layers ResNet152 and for ResNet18",
        "150 (quick) or 250 (cpu) steps instead of the paper's code's 500; a miss at fewer steps is below scale"),
    "fig3_m_g_below_m_s_blur": (
        "Sec. 3.1, Fig. 3",
        "each representation visualization exhibits an m_g < m_s regardless of visual quality",
        "as fig3_m_g_below_m_s, with eq. (5); the paper does not say which update Fig. 3 used"),
    "fig3_deeper_worse": (
        "Sec. 3.1, Fig. 3",
        "Observing the difference in Conv5 representation visual quality between ResNet50 and ResNet152, it is "
        "clear that an increase in depth further reduces the input representation visualization quality "
        "regardless of layer width",
        "3 seeds instead of one draw; at 48-64 px both conv5 runs end near their start distance (quick: "
        "0.90-0.99 of it, saturated; cpu: 0.89-0.99, so its 'holds' rests on two ResNet50 runs just under the "
        "0.9 threshold; at 299 px, paper profile: 0.66-1.07)"),
    "fig4_conv2": (
        "Sec. 3.2, Fig. 4",
        "an exponential decay in the output distance between generated and original embeddings occurs even as "
        "there is an increase in input distance m_i",
        "48-64 px (quick, cpu) and the paper's 299 px (paper profile, on a GPU), 2000 (quick) or 5000 steps (the "
        "paper's curves: thousands); judged over each curve's second half (every run first approaches the target from "
        "its start), one replicate per seed (quick: 1, cpu and paper: 3)"),
    "fig4_conv2_variants": (
        "Sec. 3.1, Fig. 4; appendix",
        "m_g decays exponentially ... even as there is an increase in m_i; the behaviour of these curves does not "
        "change with the step size",
        "the first seed's conv2 curve again at c/4 and 4c, at a constant c, and on the Tesla coil; 500 steps at "
        "quick (below scale), 5000 at cpu and paper"),
    "fig5_conv5": (
        "Sec. 3.2, Fig. 5",
        "for ResNet50 layer Conv5 plotted in Figure 5, there is an inverse correlation between the values of "
        "m_g and m_i as n increases",
        "as fig4_conv2, but 400 (quick) or 500 (cpu) steps at conv5 (5000 would cost about 20 min per seed "
        "of one CPU thread at 48 px): a run whose m_i still falls over its second half is below scale there; "
        "the paper profile (GPU) runs the paper's 5000"),
    "figS1_trained_non_unique": (
        "Sec. 3.2, Fig. S1",
        "Testing this question for ResNet50 layer Conv5, we find in Figure S1 that there is evidence that "
        "training does not remove non-uniqueness of layer representations",
        "needs the ImageNet ResNet50 weights; figS1_effnet stands in"),
    "figS1_effnet": (
        "Sec. 3.2, Fig. S1, stand-in",
        "training does not remove non-uniqueness of layer representations",
        "EfficientNet-Lite0's conv5; non-uniqueness measured per start as a matched a_g (m_g < m_s) at least twice "
        "||a' - a|| from a (before 0.15.0: a_g farther apart than their starts, which any non-invertible layer "
        "fails)"),
    "fig6_width": (
        "Sec. 4.1, Fig. 6",
        "the generated input a_g ... becomes more similar to the target input a as the number of elements in the "
        "first hidden layer surpasses the number of elements in the input",
        "3 x 16 x 16 inputs at the quick profile (widths as multiples of n, as the paper's 1000-5000 of 2523); "
        "3 seeds of weights and start"),
    "fig7_under_vs_over": (
        "Sec. 4.1, Fig. 7",
        "increasing iterations of gradient descent (4) yield better and better output approximations ... but "
        "the input representation distance ||a - a_g|| becomes slightly larger and certainly does not decay "
        "towards the origin",
        "6000 (quick) or 10000 (cpu) steps at n = 768, 50000 at the paper's n = 2523 (paper profile, GPU); "
        "judged over the run's second half, with the null-space floor. A run shorter than the paper profile's "
        "whose undercomplete m_i is far from 0 but still falling toward its floor (or whose m_g has stalled) is "
        "below scale: at quick and cpu m_i still falls (by up to 12% over the second half) or m_g stalls; at "
        "the paper profile m_i has settled within 4% of its value there, 10-12% above the floor; 'does not decay' "
        "is what linear algebra guarantees (m_i cannot go below its null-space floor)"),
    "fig7_undercomplete_m_i_larger": (
        "Sec. 4.1, Fig. 7",
        "the input representation distance ||a - a_g|| becomes slightly larger",
        "the words fig7_under_vs_over leaves out, judged on their own: m_i's relative change over the second half "
        "of the undercomplete (0.8 n) run, at least +1% counted; below scale under the paper profile's 50000 "
        "steps"),
    "fig8_depth": (
        "Sec. 4.2, Fig. 8",
        "an increase in the number of layers ... leads to less accurate representation visualizations ... for a "
        "fixed number of gradient descent iterations. But if the number of gradient descent iterations grows, "
        "deeper models form representations that are capable of approximating the input well",
        "'approximating well' made a number: m_i <= ||a' - a||, reached within the longer budget"),
    "figS2_float64": (
        "Sec. 4.2",
        "a fully connected three-deep model may be inverted accurately using Torch library matrix inversion, but "
        "notably only if double (64-bit floating) precision is used",
        "a solve per layer, never an explicit inverse; 3 seeds"),
    "figS2_conditioning": (
        "Sec. 4.2, Fig. S2",
        "nearly all possible inputs a'' are much farther (more than one million times to be specific) from a "
        "than a'",
        "the paper shows one model; here 20 (quick) or 50 (cpu) random models (float64) at n = 768 and the "
        "paper's 2523 (paper profile: 200), judged on the share of models above 10^6 and its 95% bootstrap interval (one output shift "
        "per model: a model's a'' vary little between shifts)"),
    "relu_p_half": (
        "Sec. 4.3",
        "At the start of training, it may be assumed that half of each layer's neurons are zeroed out if ReLU "
        "is applied",
        "measured per layer on the target, the start image and uniform noise"),
    "relu_constant_loses": (
        "Sec. 4.3",
        "including ReLU activations ... after each layer leads to a substantial drop in representation "
        "visualization accuracy, or more precisely ||a - a_g|| increased for a given output distance",
        "3 x 10 x 10 inputs; judged on the Jacobian rank at the target over 20 (quick) or 50 draws (a local statement); m_i "
        "from one draw beside"),
    "relu_growing_restores": (
        "Sec. 4.3, Fig. 9",
        "for a model with ReLU nonlinearities to be overcomplete this model must have an increasing number of "
        "neurons per layer, and the precise number of neurons required for layer n is m(1/p)^n",
        "as relu_constant_loses"),
    "relu_growth_needed": (
        "Sec. 4.3, Fig. 9",
        "this model must have an increasing number of neurons per layer",
        "controls the paper does not run: constant widths n/p and 2.4 n, over 20-50 draws, the linear constant-width "
        "MLP as the contrast; full Jacobian rank at the target is a local statement, not injectivity over all "
        "inputs; m_i of one draw beside (at quick the 2.4 n family's m_i is above the growing family's from "
        "depth 3)"),
    "noise_training_memorises": (
        "Sec. 5-6",
        "image recognition models such as ResNets are capable of memorizing pure noise ... even if both lead to "
        "training accuracy at unity",
        "ResNet50 on 256 noise images of 48 px (quick, one seed) or 64 px (cpu, three seeds) with 100 labels, 12 "
        "epochs (the paper: 10k images of 224 px, 90 epochs)"),
    "fig10_imagenet_sharper": (
        "Sec. 5, Fig. 10",
        "there is still a marked increase in clarity in the ImageNet-trained model's representation of this "
        "input compared to the untrained model",
        "EfficientNet-Lite0 pair stands in for ResNet50 (weights offline); the Tesla coil at 48 px (quick) or 64 px "
        "(cpu), one replicate per seed (the untrained twin, a_0, a')"),
    "fig10_imagenet_sharper_no_blur": (
        "Sec. 5, Fig. 10 / S4",
        "a marked increase in clarity in the ImageNet-trained model's representation",
        "as fig10_imagenet_sharper, with eq. (4)"),
    "fig10_noise_model_noise_like": (
        "Sec. 5, Fig. 10",
        "layers Conv3 and Conv4 are noticeably less clear than for the same layers either untrained or trained "
        "on ImageNet ... actively transforms natural image representations into those nearly indistinguishable "
        "from the pattern of noise present in the training set",
        "each noise-trained ResNet50 (see noise_training_memorises) against the ResNet50 it started from; "
        "'noise-like' measured on the eq. (4) images as the white-noise sigma of their finest detail, nearer the "
        "training noise's 1/3 than the rival's (a run that stayed at a_0 has 1/20); the spectral slope (0 for "
        "a_0 too) beside"),
    "fig10_resnet_imagenet": (
        "Sec. 5, Fig. 10",
        "Representation visualizations of an object (Tesla Coil) not present in the ImageNet dataset using "
        "ResNet50",
        "needs the ImageNet ResNet weights"),
    "figS4_blur_stalls": (
        "Sec. 5, Fig. S4",
        "||O(a_g, theta) - O(a, theta)|| does not become arbitrarily small as the number of iterations "
        "increases. This is not the case if Gaussian convolution is omitted",
        "one budget: a stall cannot be told from a slow run here (figS4_blur_plateaus adds a second)"),
    "figS4_blur_plateaus": (
        "Sec. 5, Fig. S4",
        "||O(a_g, theta) - O(a, theta)|| does not become arbitrarily small as the number of iterations "
        "increases. This is not the case if Gaussian convolution is omitted",
        "the noise model's most stalled layer rerun with 4x (quick) or 4x and 16x (cpu, paper) the iterations, with "
        "and without blur: how much less the blurred m_g fell between the last two budgets"),
    "figS5_gabor": (
        "Sec. 5-6, Fig. S5",
        "ResNet50's layer Conv1 kernel weights are observed to learn Gabor and other wavelet functions after "
        "training on ImageNet ... the latter [noise-trained] do not contain the wavelet transformations",
        "concentration of the kernels' spectra, each model against its own architecture untrained, with how far "
        "noise training moved conv1 (||W - W_0|| / ||W_0||) beside it"),
    "beyond_googlenet_depth": (
        "Sec. 7",
        "The results presented in this work appear to be general to other convolutional image classification "
        "models (GoogleNet etc.)",
        "untrained GoogLeNet, one draw per seed (quick: 1, cpu and paper: 3)"),
    "beyond_googlenet_trained": ("Sec. 7", "(GoogleNet etc.)", "trained weights unavailable offline"),
    "beyond_vit_depth": (
        "Sec. 7 (open question)",
        "it remains to be seen whether they are also applicable to vision transformers",
        "untrained torchvision ViT, one draw per seed (quick: 1, cpu and paper: 3); the paper makes no claim, "
        "this answers its question"),
    "beyond_vit_trained": ("Sec. 7 (open question)", "vision transformers", "trained weights unavailable offline"),
    "beyond_mixer_depth": (
        "Sec. 7 (open question)",
        "it remains to be seen whether they are also applicable to ... mixers",
        "untrained timm MLP-Mixer, one draw per seed (quick: 1, cpu and paper: 3); the paper makes no claim"),
    "beyond_mixer_trained": ("Sec. 7 (open question)", "mixers", "trained weights unavailable offline"),
    "beyond_non_unique": (  # records before 0.15.0; now one claim per model (below)
        "Sec. 4.4",
        "most deep learning architectures applied to image recognition can be shown to exhibit non-unique "
        "representations",
        "before 0.15.0: a_g from 3 starts farther apart than the starts, which gradient descent on any "
        "non-invertible layer fails too (replaced by beyond_non_unique_<model>)"),
    "beyond_non_unique_resnet50": (
        "Sec. 4.4",
        "most deep learning architectures applied to image recognition can be shown to exhibit non-unique "
        "representations",
        "untrained ResNet50, notebook 06's last depth, 3 starts: a matched a_g at least twice ||a' - a|| from a"),
    "beyond_non_unique_googlenet": (
        "Sec. 4.4",
        "most deep learning architectures applied to image recognition can be shown to exhibit non-unique "
        "representations",
        "untrained GoogLeNet (Kaiming init), notebook 06's last depth, 3 starts: a matched a_g at least twice ||a' - a|| from a"),
    "beyond_non_unique_efficientnetlite0_imagenet": (
        "Sec. 4.4",
        "most deep learning architectures applied to image recognition can be shown to exhibit non-unique "
        "representations",
        "ImageNet-trained EfficientNet-Lite0, notebook 06's last depth, 3 starts: a matched a_g at least twice ||a' - a|| from a"),
    "beyond_non_unique_googlenet_imagenet": (
        "Sec. 4.4",
        "most deep learning architectures applied to image recognition can be shown to exhibit non-unique "
        "representations",
        "ImageNet-trained GoogLeNet (weights online only), notebook 06's last depth, 3 starts: a matched a_g at least twice ||a' - a|| from a"),
    "beyond_non_unique_vit": (
        "Sec. 4.4, 7 (open question)",
        "most deep learning architectures applied to image recognition can be shown to exhibit non-unique "
        "representations",
        "untrained small ViT, notebook 06's last depth, 3 starts: a matched a_g at least twice ||a' - a|| from a"),
    "beyond_non_unique_mixer": (
        "Sec. 4.4, 7 (open question)",
        "most deep learning architectures applied to image recognition can be shown to exhibit non-unique "
        "representations",
        "untrained small MLP-Mixer, notebook 06's last depth, 3 starts: a matched a_g at least twice ||a' - a|| from a"),
    "beyond_non_unique_vit_imagenet": (
        "Sec. 4.4, 7 (open question)",
        "most deep learning architectures applied to image recognition can be shown to exhibit non-unique "
        "representations",
        "ImageNet-trained ViT (weights online only), notebook 06's last depth, 3 starts: a matched a_g at least twice ||a' - a|| from a"),
    "beyond_non_unique_mixer_imagenet": (
        "Sec. 4.4, 7 (open question)",
        "most deep learning architectures applied to image recognition can be shown to exhibit non-unique "
        "representations",
        "ImageNet-trained MLP-Mixer (weights online only), notebook 06's last depth, 3 starts: a matched a_g at least twice ||a' - a|| from a"),
    "beyond_patch_vs_stem": (
        "(this reproduction's question)",
        "not a claim of the paper: a patch embedding is a square linear map per patch, so by section 4.1 it "
        "should be invertible where a strided CNN stem is not",
        "untrained models, one draw per seed (quick: 1, cpu and paper: 3)"),
    "procedure_depth_trend_resnet50": (
        "Sec. 2 (its assumption)",
        "Assuming that the gradient descent procedure is sufficiently powerful to generate arbitrary images, a "
        "better autoencoding signifies more information exists in the layer's embedding",
        "the paper states the assumption and does not test it: the depth trend under four stronger procedures "
        "(Adam, iCNN's momentum with a normalised gradient, the decorrelated Fourier image, and plenoptic 2.1's "
        "Metamer through its own API) from the same a_0; quick: one seed (inconclusive by the rule), cpu: three"),
    "procedure_stronger_closes_gap_resnet50": (
        "Sec. 2 (its assumption)",
        "Assuming that the gradient descent procedure is sufficiently powerful to generate arbitrary images",
        "not a claim of the paper: if a stronger procedure narrows the gap between deep and early layers, part "
        "of the fall with depth is the paper's optimiser, not the layer"),
    "procedure_depth_trend_vit": (
        "Sec. 2 (its assumption), sec. 7",
        "Assuming that the gradient descent procedure is sufficiently powerful to generate arbitrary images",
        "notebook 06's small untrained ViT under the five procedures; cpu profile only"),
    "procedure_stronger_closes_gap_vit": (
        "Sec. 2 (its assumption), sec. 7",
        "Assuming that the gradient descent procedure is sufficiently powerful to generate arbitrary images",
        "as procedure_stronger_closes_gap_resnet50, for the small untrained ViT; cpu profile only"),
    "sec31_conv4_outputs": (
        "Sec. 3.1",
        "layer Conv4 in ResNet50 has over 369,000 output elements, whereas the input it fails to accurately "
        "approximate (Figure 2) has only 3 * 299 * 299 = 268,203 elements",
        "counted on this project's truncated ResNet50 at 299 px (a check of its layer names: conv4 is "
        "torchvision's layer3)"),
    "sec2_spot_pattern_conv4": (
        "Sec. 2, Fig. 2",
        "finer details like the exact spot pattern of the input are only found from layers Conv1 to Conv3 ... "
        "the spot pattern on the Dalmatian's coat disappears in the same layer (Conv4) of the untrained model",
        "the paper judges by eye; here by the correlation of each a_g's fine detail (brightness less its blur at "
        "about a spot's radius, image size / 32) with the dalmatian's, 'found' above 0.5, on the eq. (4) runs "
        "(Fig. S3: 'the same observations'), 3 seeds at cpu; at 48-64 px a spot is narrower than conv3's stride "
        "(8 px), so those profiles are below scale and only record the numbers"),
    "sec2_residual_wider_step_range": (
        "Sec. 2",
        "reasoning that the residual connections in these models would make gradient descent on the input easier "
        "to tune, ie that there would be a wider range of possible epsilon values that yield a sufficiently small "
        "|y^ - y|",
        "the paper states it as its reason and does not measure it; here the untrained ResNet50 against the same "
        "network with every shortcut removed (same weights, depth, widths, strides; the issue's VGG-11 would "
        "change all of them), eq. (4) on one grid of step sizes at ratio 2 (2^-10..1), every run the "
        "full budget: the octaves of step size whose run ends with m_g < m_s, 3 seeds; conv3 at cpu and paper, "
        "conv2 at quick"),
    "sec6_gabor_more_unique": (
        "Sec. 6",
        "We postulate that wavelet functions are learned precisely because they create an output that is more "
        "unique with respect to certain aspects of the input than the naive output, resulting in representations "
        "from these layers to become visually sharper after training on ImageNet",
        "the paper postulates it from Fig. S5's kernels and does not test it; here the untrained ResNet50 whose "
        "conv1 is a fixed bank of Gabor functions and Gaussian blobs (random colours, each kernel at the norm of "
        "the random kernel it replaces) against its random kernels, eq. (4) at conv2, on each seed and photograph"),
    "sec6_class_needs_regularisation": (
        "Sec. 6",
        "our work provides an explanation for the often-observed requirement for specific types of "
        "regularizations such as Gaussian convolution and position invariance when an output class is used to "
        "represent an input ... Mandating the generated images to have some statistical similarity to natural "
        "images is required to prevent non-uniqueness from leading to unrecognizable image generation",
        "the paper cites the requirement and does not run it; here the ImageNet EfficientNet-Lite0 (the offline "
        "trained CNN) and its 'dalmatian' logit, normalised gradient steps from a_0 with and without a 2-px random "
        "shift and a 3x3 blur, at 64 px (quick) or 96 px (cpu); 'unrecognizable' measured as a power spectrum "
        "flatter than every photograph's, with the class reached (p > 0.5)"),
    "appendix_step_sizes": (
        "Appendix",
        "Typically shallow layer visualization were obtained with larger learning rates than deep layer "
        "visualization, with epsilon ranging from approximately 1/2 for Conv1 to 1/1000 for layer Conv5",
        "the step sizes chosen by this project's line search (best final m_g over a grid with ratio 4, every run "
        "full length) for the untrained ResNet50's eq. (5) runs, per seed, at 48-64 px; a step size's value "
        "depends on the loss's scale (the paper's code multiplies its L1 loss by 0.15, this project does not) "
        "and the image, so the fall from conv1 to conv5 is judged (the paper's: 500x), 'approximately' taken "
        "as within a factor of 4, one grid step; the values are recorded beside"),
    **{f"sec43_{a.lower()}_lesser": (
        "Sec. 4.3",
        "including ReLU activations, and to a lesser extent other nonlinear activations, after each layer leads "
        "to a substantial drop in representation visualization accuracy, or more precisely ||a - a_g|| "
        "increased for a given output distance",
        f"the paper names no other activation; {a} (PyTorch's defaults) is one claim of three (GELU, tanh, "
        "LeakyReLU), judged per weight draw: m_i between the linear MLP's and ReLU's, at least 5% from each; the "
        "constant-width (n) MLP at depth 2 with 3 x 10 x 10 inputs (the paper: 3 x 29 x 29), the same budget and "
        "line search as Fig. 9's runs")
       for a in ("GELU", "tanh", "LeakyReLU")},
    "sec41_each_layer_overcomplete": (
        "Sec. 4.1",
        "an arbitrarily 'good' input representation is possible if and only if each transformation between "
        "successive layers is overcomplete",
        "the 'only if' the paper's Fig. 6 does not vary: a 3-layer linear MLP 2 n, 0.8 n, 2 n against 2 n, 2 n, "
        "2 n (Fig. 6's widest), same budget and line search, each seed's weights"),
    "figS2_design_numbers": (
        "Fig. S2 (a)",
        "||O(a, theta) - O(a', theta)||_2 = 0.52, ||a - a'||_2 = 2.84",
        "three square linear layers at n = 2523 with PyTorch's default init, a' = a + N(0, 1/20) (the text's "
        "sigma) judged, 1/18 (the paper's code) beside; within 10% counted"),
    "sec5_noise_model_not_sharper": (
        "Sec. 5",
        "a model trained to recognize images of random noise (and recognize them successfully) does not "
        "noticeably sharpen the input representation in early layers",
        "the noise-trained ResNet50s of noise_training_memorises against the ResNet50 each started from, "
        "conv1-conv2 of Fig. 10's eq. (5) images; a sharpening of m_i by 5% or more counted as noticeable, the "
        "yardstick fig10_imagenet_sharper uses for the opposite statement; at conv1 both models' images are "
        "near-copies (m_i about 1 against a start distance of 50-67), so a relative change there may not be "
        "visible"),
    "sec43_trained_p_not_constant": (
        "Sec. 4.3",
        "It should be noted that for trained model it is rarely seen that there is some constant probability of "
        "ReLU transforming an activation to 0 for different layers",
        "ImageNet ResNet50 weights are not reachable offline: the ImageNet-trained EfficientNet-Lite0 (ReLU6) "
        "against an untrained twin per image, at 224 px, on the dalmatian and four bundled photographs; "
        "'constant' measured as the spread (max - min) of the zero share over the activation layers"),
    "sec4_float_precision": (
        "Sec. 4",
        "changing from 32-bit to 64-bit floating precision did not affect representations for convolutional or "
        "fully connected models",
        "fully connected half (the convolutional half: sec4_float_precision_conv): Fig. 6's undercomplete 0.8 n "
        "linear MLP, eq. (4) again in float64 with the same weights, start, budget and line search; a change of "
        "m_i by 5% or more counted as an effect"),
    "sec4_float_precision_conv": (
        "Sec. 4",
        "changing from 32-bit to 64-bit floating precision did not affect representations for convolutional or "
        "fully connected models",
        "convolutional half: the untrained ResNet50's eq. (4) runs at conv2 and conv3 again in float64 with the "
        "same weights, start, shift, step size and budget, on each seed and photograph, at 48-64 px; a change of "
        "m_i by 5% or more counted as an effect"),
    "sec7_inverted_mlp_overfitting": (
        "Sec. 7",
        "for both CIFAR10 and CIFAR100, MLP-type architectures that with inverted architectures overfit no more "
        "readily than standard architectures",
        "not measurable here: CIFAR-10/100 cannot be downloaded on these machines (package registries only)"),
}

# Claims that test this reproduction's questions rather than a statement of the paper: section 7's open question
# (transformers and mixers, where the paper makes no claim; its GoogLeNet remark is a claim and stays out of this
# set) and the assumption of section 2 (notebook 07). A "holds" or "does not hold" among them neither reproduces
# nor contradicts the paper; docs/REPORT.md lists them apart.
BEYOND = {claim for claim in CLAIMS
          if claim.startswith(("beyond_vit", "beyond_mixer", "procedure_"))
          or claim.startswith(("beyond_non_unique_vit", "beyond_non_unique_mixer"))
          or claim in ("beyond_non_unique", "beyond_patch_vs_stem")}

# Published results on the same questions, beside this record's verdicts in docs/REPORT.md: claim id -> entries of
# (reference, what it measured, in the source's own numbers where it gives them, and whether that supports the
# paper's statement). Only what the source states; the verdict beside it comes from the records.
LITERATURE: dict[str, list[tuple[str, str, str]]] = {
    "fig1_trained_early_layers_sharper": [(
        "He, Wang and Hopcroft, A Powerful Generative Model Using Random Weights for the Deep Image Representation, "
        "NeurIPS 2016",
        "images reconstructed from white noise by inverting a random-weight VGG's feature maps are of "
        "\"statistically higher\" quality than by the same method on the trained network of the same architecture",
        "against the paper (training does not make the representation more exact)")],
    "effnet_trained_conv1_sharper": [(
        "He, Wang and Hopcroft, NeurIPS 2016", "as for fig1_trained_early_layers_sharper (random-weight VGG)",
        "against the paper")],
    "fig1_trained_depth": [(
        "Feather, Leclerc, Madry and McDermott, Model metamers reveal divergent invariances between biological "
        "and artificial neural networks, Nature Neuroscience 26 (2023)",
        "inputs whose activations at a model stage match a natural image's (model metamers), generated for "
        "supervised and unsupervised vision models, were \"often completely unrecognizable to humans when "
        "generated from late model stages\"",
        "supports the paper (trained models represent the input worse at depth)")],
    "relu_growth_needed": [(
        "Puthawala, Kothari, Lassas, Dokmanic and de Hoop, Globally Injective ReLU Networks, JMLR (2022); "
        "arXiv:2006.08464",
        "a ReLU layer needs an expansivity factor of two to be injective (necessary, and sufficient for suitable "
        "weights); with iid Gaussian weights global injectivity needs an expansivity between 3.4 and 10.5; for a "
        "deep network an end-to-end (not layerwise) doubling of the dimension suffices",
        "mixed: a factor of 2 per layer is needed for each layer to be injective (the paper's 1/p = 2), but a "
        "network need not grow layer by layer; this record's rank at the target is a local statement")],
    "figS1_trained_non_unique": [(
        "Mahendran and Vedaldi, Understanding Deep Image Representations by Inverting Them, CVPR 2015",
        "inverting a trained AlexNet with a natural-image prior, \"several layers in CNNs retain photographically "
        "accurate information about the image, with different degrees of geometric and photometric invariance\"",
        "supports the paper (deep codes are shared by different images)")],
}
