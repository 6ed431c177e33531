"""The batched line search, its extension and grid relocation (depthrep/search.py)."""
import math

import pytest
import torch

import depthrep_utils as du


def test_line_search_picks_smallest_final_m_g_and_survives_divergence():
    model = du.truncate(du.load_resnet(18), "conv2")
    target = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    # Steps small enough that the L1 signs do not amplify rounding (batch and thread count change it).
    best, table = du.line_search(model, target, [1e30, 0.03, 0.003, 0.0003], steps=20, batch=3, decay_to=0.0)
    assert table[1e30] == float("inf")
    assert best == min(table, key=table.get) and best != 1e30
    alone = du.invert(model, target, 20, best, decay_to=0.0)
    assert alone.m_g[0] == pytest.approx(table[best], rel=1e-3)



def test_line_search_goes_below_a_grid_where_every_step_size_diverged():
    model = du.make_mlp([48, 48], seed=0)
    target = torch.rand(1, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    best, table = du.line_search(model, target, [1e6, 1e5], steps=20, decay_to=0.0, relocate=False)
    assert table[1e6] == table[1e5] == float("inf") and best < 1e5 and math.isfinite(table[best])



def test_line_search_extends_past_the_edge_of_the_grid():
    model = du.truncate(du.load_resnet(18), "conv2")
    target = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    best, table = du.line_search(model, target, [1e-6, 1e-5], steps=20, decay_to=0.0, relocate=False)
    assert best > 1e-5 and len(table) > 2  # the grid was too small; the search went up to find the scale
    assert table[best] == min(table.values()) and table[best] < table[1e-5]



def test_search_invert_returns_its_best_full_length_run_as_the_result(linear_model):
    # Every step size runs the result's own length and schedule; the best run is the result, equal to the same
    # run made alone (float64: no rounding for the L1 signs to amplify), and visualize_layer reports exactly it.
    target = torch.rand(1, 3, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    model = linear_model(108, 300, orthonormal=True)
    grid = [1.0, 0.1, 0.01, 0.001]
    run, table = du.search_invert(model, target, grid, steps=200, decay_to=0.0, seed=1)
    best = float(run.step_size[0])
    assert run.m_g[0] == table[best] == min(table.values()) and sorted(table) == sorted(grid)
    alone = du.invert(model, target, 200, best, decay_to=0.0, seed=1)
    torch.testing.assert_close(run.images, alone.images)
    resnet, image = du.load_resnet(18), torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    run, table = du.search_invert(du.truncate(resnet, "conv2"), image, [3.0, 0.3, 0.03], 20, decay_to=0.0)
    r = du.visualize_layer(resnet, "conv2", image, 20, [3.0, 0.3, 0.03], blur=None, seed=0)
    assert r["step_size"] == float(run.step_size[0]) and r["search"] == table and r["runs"] == len(table)
    torch.testing.assert_close(r["image"], run.images[0])
    assert r["m_g"] == pytest.approx(run.m_g[0], rel=1e-4) and r["seconds"] > 0



def test_search_does_not_extend_a_flat_table():
    # An embedding that ignores the input gives the same m_g at every step size: nothing to find past the edge.
    class Constant(torch.nn.Module):
        def forward(self, x):
            return 0 * x[:, :1] + 1.0

    target = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    _, table = du.search_invert(Constant(), target, [1.0, 0.1, 0.01], steps=5, decay_to=0.0)
    assert sorted(table) == [0.01, 0.1, 1.0]



def test_a_grid_far_from_the_gradients_scale_is_moved_there_first(linear_model):
    # A linear model with weights 1e8 times larger needs step sizes 1e8 times smaller: the search moves the grid
    # there from the first gradient (no extension rounds) and finds the same relative optimum.
    target = torch.rand(1, 3, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    model = linear_model(108, 300, orthonormal=True)
    grid = [1.0, 0.1, 0.01, 0.001]
    best, table = du.line_search(model, target, grid, steps=200, decay_to=0.0)
    assert sorted(table) == sorted(grid)  # a grid that covers the first gradient's scale stays as it is
    with torch.no_grad():
        model[1].weight.mul_(1e8)
    moved = du.relocate_grid(model, target, grid, 200)
    assert all(m / g == pytest.approx(moved[0] / grid[0]) for m, g in zip(moved, grid)) and max(moved) < 1e-6
    big_best, big_table = du.line_search(model, target, grid, steps=200, decay_to=0.0)
    assert big_best == pytest.approx(best * moved[0] / grid[0]) and len(big_table) == len(grid)
    assert du.relocate_grid(model, target, grid, 200, update="adam") == grid  # Adam's steps are pixels


def test_relocation_takes_by_name_what_it_reads_of_invert():
    """The search hands the relocation exactly the arguments of invert that it reads (named in RELOCATE_ARGS),
    nothing swallowed: an argument relocate_grid gains must be named there and be one of invert's."""
    import inspect

    from depthrep.search import RELOCATE_ARGS

    relocate = list(inspect.signature(du.relocate_grid).parameters)[4:]
    assert sorted(relocate) == sorted(RELOCATE_ARGS)
    assert set(RELOCATE_ARGS) <= set(inspect.signature(du.invert).parameters)
    with pytest.raises(TypeError):
        du.relocate_grid(du.make_mlp([12, 6]), torch.rand(1, 3, 2, 2), [0.1, 0.01], 10, blur=(1.0, 0.5))
