"""What the notebooks repeat: cached layer runs keyed by their arguments, Fig. S1's spread (depthrep/experiments.py)."""
import pytest
import torch

import depthrep_utils as du


def test_seed_spread_pairs_distinct_seeds():
    model = du.make_mlp([12, 24], seed=0)
    target = torch.rand(1, 3, 2, 2, generator=torch.Generator().manual_seed(0))
    sp = du.seed_spread(model, target, 5, 0.01, [0, 1, 2])
    starts = [du.start_image(target.shape, s) for s in (0, 1, 2)]
    expected = [float((starts[i] - starts[j]).norm()) for i, j in ((0, 1), (0, 2), (1, 2))]
    assert sp.start_distances == pytest.approx(expected) and min(expected) > 0
    assert len(sp.input_distances) == 3 and min(sp.input_distances) > 0
    assert len(sp.m_g) == 3 and sp.step_size == 0.01 and sp.images.shape == (3, 3, 2, 2)
    numbers = du.spread_numbers(sp)  # what a claim record shows
    assert numbers["pairwise a_g distance"] == sp.input_distances and numbers["m_i per start"] == sp.m_i



def test_layer_run_key_holds_every_argument_of_the_run():
    """The key of a cached layer run is built from visualize_layer's own signature: no argument can be left out
    (blur, normalize, the shift sigma, ...), and each one changes the key, as do the weights and the target."""
    import inspect

    import torch

    model = du.make_mlp([48, 48], seed=0)
    target = torch.rand(1, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    base = du.layer_run_config(model, "1", target, 20, [0.1, 0.01], blur=None)
    params = set(inspect.signature(du.visualize_layer).parameters) - {"invert_kwargs"}
    assert set(base) == params, set(base) ^ params
    changed = dict(layer="2", steps=21, step_sizes=[0.1], blur=(1.0, 0.5), decay_to=None, seed=1, shift_sigma=0.1,
                   normalize=True)
    assert set(changed) | {"model", "target"} == params
    for name, value in changed.items():
        args = dict(layer="1", steps=20, step_sizes=[0.1, 0.01], blur=None) | {name: value}
        other = du.layer_run_config(model, args.pop("layer"), target, args.pop("steps"), args.pop("step_sizes"),
                                    args.pop("blur"), **args)
        assert other != base and other[name] != base[name], name
    assert du.layer_run_config(model, "1", target, 20, [0.1, 0.01], None, clamp=True)["clamp"] is True
    assert du.layer_run_config(model, "1", target, 20, [0.1, 0.01], (1.0, 0.5)) != du.layer_run_config(
        model, "1", target, 20, [0.1, 0.01], (1.0, 0.4))  # the sigmas themselves are in the key
    assert du.layer_run_config(du.make_mlp([48, 48], seed=1), "1", target, 20, [0.1, 0.01], None) != base
    resnet = du.load_resnet(18)  # BatchNorm's 0-dim counters are part of the fingerprint too
    assert du.fingerprint(resnet) == du.fingerprint(du.load_resnet(18)) != du.fingerprint(du.load_resnet(18, seed=1))
    assert du.layer_run_config(model, "1", target + 0.01, 20, [0.1, 0.01], None) != base
    with torch.no_grad():
        model[1].bias.add_(1.0)  # weights changed in place: a new fingerprint
    assert du.layer_run_config(model, "1", target, 20, [0.1, 0.01], None) != base



def test_layer_run_caches_and_separates_blur(results):
    import torch

    model = du.make_mlp([48, 48], seed=0)
    target = torch.rand(1, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    plain = du.layer_run("nb", "run", model, "1", target, 30, [0.1, 0.01], blur=None)
    again = du.layer_run("nb", "run", model, "1", target, 30, [0.1, 0.01], blur=None)
    blurred = du.layer_run("nb", "run", model, "1", target, 30, [0.1, 0.01], blur=(0.5, 0.3))
    assert again["seconds"] == plain["seconds"]  # loaded, not recomputed
    assert blurred["m_i"] != plain["m_i"]
    assert len(list((results / "nb" / "cache").glob("run-*.pt"))) == 2
    assert "m_g=" in du.run_line(plain) and f"{plain['runs']} runs" in du.run_line(plain)


def test_mlp_run_records_its_best_run_its_rank_and_caches(results):
    """Section 4's MLP run: the record's step size is the line search's best, its distances are those of its own
    image on the uncollapsed MLP, the rank is the Jacobian's at the target, float64 when asked, loaded the second
    time; an activation makes another model and another record."""
    target = torch.rand(1, 3, 2, 2, generator=torch.Generator().manual_seed(0))  # n = 12
    r = du.mlp_run("nb", "lin", [6], target, 40, [0.1, 0.01], seed=0, rank=True)
    model = du.make_mlp([12, 6], seed=0)
    d = du.distances(model, target, r["image"][None], seed=0)
    assert r["m_g"] == pytest.approx(float(d["m_g"][0])) and r["m_i"] == pytest.approx(float(d["m_i"][0]))
    assert r["rank"] == 6 and r["widths"] == [6]
    _, table = du.search_invert(du.collapse_linear(model), target, [0.1, 0.01], 40, decay_to=0.0, seed=0)
    assert r["step_size"] == pytest.approx(min(table, key=table.get))
    assert du.mlp_run("nb", "lin", [6], target, 40, [0.1, 0.01], seed=0, rank=True)["image"].equal(r["image"])
    assert len(list((results / "nb" / "cache").glob("lin-*.pt"))) == 1
    relu = du.mlp_run("nb", "relu", [24], target, 40, [0.1, 0.01], activation=torch.nn.ReLU, seed=0, rank=True)
    relu_model = du.make_mlp([12, 24], activation=torch.nn.ReLU, seed=0)
    assert relu["rank"] == du.jacobian_rank(relu_model, target) and relu["widths"] == [24]
    assert relu["m_g"] == pytest.approx(float(du.distances(relu_model, target, relu["image"][None])["m_g"][0]))
    assert du.mlp_run("nb", "f64", [6], target, 20, [0.1], seed=0, double=True)["image"].dtype == torch.float64
