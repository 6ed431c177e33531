"""The one import of the notebooks (``import depthrep_utils as du``): a thin face over ``depthrep/``.

Where each thing is computed, one file per concern:

    depthrep/device.py     device choice, seeds, progress (bars interactively, log lines under make)
    depthrep/assets.py     the paper's images: verified downloads with a mirror, any image file to RGB
    depthrep/models.py     ResNets, EfficientNet-Lite0 (offline weights), GoogLeNet / ViT / Mixer by name, MLPs
    depthrep/layers.py     layer names (conv1..conv5, node names) and O_l, a model truncated at a layer
    depthrep/speed.py      CPU speed code: BatchNorm folded, the polyphase stem, the allocator setting
    depthrep/inversion.py  representation visualization: eqs. (3)-(5), batched, from the start image a_0
    depthrep/blur.py       eq. (5)'s blur and the one recipe for its sigmas
    depthrep/updates.py    Adam, momentum, the Fourier image; PROCEDURES, the update rules by name
    depthrep/search.py     the step-size line search and one layer's visualization on it
    depthrep/metrics.py    m_g, m_s, m_i (eqs. 6-10); spectral measures of images and kernels
    depthrep/plots.py      image grids (runs that missed their embedding marked in red)
    depthrep/results.py    results files, the code-keyed cache, safe loading, file locks
    depthrep/checks.py     the judging: each claim's effect, its floor, below scale and no signal
    depthrep/claims.py     the claims record (results/claims.json, claims.md) and the verdict rule
    depthrep/explorer.py   the interactive explorer widget
    depthrep/experiments.py  what notebooks repeat: a layer's or an MLP's cached run keyed by its arguments
    depthrep/mlp.py        MLP linear algebra: exact inverse, Jacobian rank (section 4)
    depthrep/noise.py      training on noise with checkpoints and resume (section 5)
    depthrep/peers.py      a peer's procedure through its own API: plenoptic's Metamer (notebook 07)
"""
from depthrep import ROOT
from depthrep.assets import (FALLBACK_IMAGE, PAPER_IMAGES, REPLICATE_IMAGES, UPSTREAM, ImageError,
                             ImageUnavailableWarning, check_image, data_dir, fetch_image, load_image, load_target,
                             read_image, replicate_image)
from depthrep.blur import (PAPER_BLUR_SIGMAS, PAPER_SIZE, blur3x3, blur_share, blur_sigmas, gaussian_kernel3,
                           paper_blur_sigmas, sigma_for_share)
from depthrep.checks import (MIN_RHO, MIN_RISE, NO_SIGNAL, NON_UNIQUE_FLOOR, SATURATED, absent_change,
                             depth_needs_more_iterations, depth_rank_correlation, depth_trend, depth_trends,
                             detail_correlation, exponential_decay, iterations_to_reach, kept_then_lost,
                             late_trend, matched_window, no_signal, non_unique, non_unique_effects,
                             plateau_while_falling, relative_gap, share_above, spread_floor, stall_effect,
                             start_distance_ratio, too_short, within_factor)
from depthrep.claims import (CLAIM_STATUSES, MIN_REPLICATES, VERDICT_RULE, Claims, check_claim,
                             claims_table, matched, record_claim, render_claims, replicate_verdict, saturation,
                             unmatched_runs)
from depthrep.device import get_device, is_interactive, seed_everything, setup_notebook, synchronize
from depthrep.experiments import (Spread, fingerprint, layer_run, layer_run_config, layer_runs, mlp_run,
                                  plenoptic_run, run_line, seed_spread, spread_numbers)
from depthrep.explorer import Explorer, uploaded_files
from depthrep.inversion import Inversion, invert, start_image
from depthrep.layers import (EFFICIENTNET_LAYERS, GOOGLENET_LAYERS, RESNET_LAYERS, Truncated, layer_names,
                             relative_layers, truncate)
from depthrep.metrics import (PAPER_CODE_SHIFT_SIGMA, SHIFTS, colour_matched_distance, distances, embedding_distance, input_distance,
                              kernel_concentration, shifted_input, spectral_slope, white_noise_sigma)
from depthrep.mlp import collapse_linear, exact_inverse, jacobian, jacobian_rank, linear_layers, null_space_floor
from depthrep.models import (BEYOND_CNN, MODELS, RESNET_DEPTHS, NoSkip, WeightsUnavailableError, freeze, imagenet_normalize,
                             gabor_bank, kaiming_init, load_beyond_cnn, load_efficientnet_lite0, load_model, load_resnet,
                             load_trained, make_mlp, trained_weights_cached, with_gabor_conv1, without_skips)
from depthrep.noise import noise_images, noise_labels, recalibrate_batchnorm, train_on_noise
from depthrep.peers import plenoptic_layer, plenoptic_metamer, plenoptic_version, quiet_plenoptic
from depthrep.plots import NOT_MATCHED, image_grid, run_title, to_numpy_image
from depthrep.results import (cached, code_version, load_safely, locked, results_dir, results_root, save_fig,
                              save_json, write_json, write_text)
from depthrep.search import grid_around, layer_result, line_search, relocate_grid, search_invert, visualize_layer
from depthrep.speed import InputConv2d, fold_batchnorm, reuse_freed_memory
from depthrep.updates import PROCEDURES, UPDATE_RULES, FourierImage, LBFGSDirection

__all__ = [name for name in dir() if not name.startswith("_")]
