"""Noise training: memorises, checkpoints, resumes after an interruption, reuses a finished model."""
import pytest
import torch

import depthrep_utils as du

CONFIG = dict(depth=18, n_images=32, size=16, n_classes=4, epochs=3, batch=16, lr=1e-3, seed=0, progress=False)


def test_interrupted_training_resumes_to_the_same_model(results):
    straight, log = du.train_on_noise(**CONFIG)
    assert len(log["loss"]) == 3 and 0 <= log["train_accuracy"] <= 1
    folder = next((results / "models").iterdir())
    assert (folder / "final.pt").is_file() and not (folder / "checkpoint.pt").exists()

    other = results.parent / "other"
    import os
    os.environ["DEPTHREP_RESULTS"] = str(other)
    try:
        du.train_on_noise(**CONFIG, stop_after=1)  # interrupted after one epoch
        checkpoint = next((other / "models").iterdir()) / "checkpoint.pt"
        assert du.load_safely(checkpoint)["epoch"] == 1
        resumed, resumed_log = du.train_on_noise(**CONFIG)  # picks up at epoch 1
    finally:
        os.environ["DEPTHREP_RESULTS"] = str(results)
    assert resumed_log["loss"] == log["loss"]
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b)


def test_finished_model_is_reused_without_training(results):
    du.train_on_noise(**CONFIG)
    model, log = du.train_on_noise(**CONFIG, stop_after=0)  # would stop at once if it trained
    assert "train_accuracy" in log and not model.training


def test_noise_set_is_regenerated_from_its_seed():
    a = du.noise_images([3, 5], 8, 0.5, 1 / 3, seed=1)
    torch.testing.assert_close(a[1:], du.noise_images([5], 8, 0.5, 1 / 3, seed=1))
    assert abs(du.noise_images(range(64), 16, 0.5, 1 / 3, 0).std().item() - 1 / 3) < 0.01
    assert torch.equal(du.noise_labels(50, 10, 2), du.noise_labels(50, 10, 2))


def test_noise_measures():
    assert abs(du.spectral_slope(torch.randn(3, 64, 64, generator=torch.Generator().manual_seed(0)))) < 0.3
    smooth = du.blur3x3(du.blur3x3(torch.randn(1, 3, 64, 64), 2.0), 2.0)
    assert du.spectral_slope(smooth) < -1
    yy, xx = torch.meshgrid(torch.arange(7.0), torch.arange(7.0), indexing="ij")
    gabor = (torch.cos(xx * 1.5) * torch.exp(-((xx - 3) ** 2 + (yy - 3) ** 2) / 8)).expand(1, 3, 7, 7)
    random = torch.randn(64, 3, 7, 7, generator=torch.Generator().manual_seed(0))
    assert du.kernel_concentration(gabor)[0] > du.kernel_concentration(random).mean() + 0.2


def test_noise_model_starts_from_its_untrained_twin(results):
    """Notebook 05 compares each noise model with the untrained ResNet it started from, and measures how far
    training moved conv1 from there: the twin must be the exact initial weights. torchvision draws every
    initial weight after building the classifier, so a twin built with 1000 classes is another draw."""
    start, _ = du.train_on_noise(**CONFIG, stop_after=0)  # stopped before the first epoch
    twin = du.load_resnet(18, seed=0, num_classes=CONFIG["n_classes"])
    for (name, a), b in zip(start.state_dict().items(), twin.state_dict().values()):
        torch.testing.assert_close(a, b, msg=name)
    other_classes = du.load_resnet(18, seed=0)
    assert not torch.equal(other_classes.conv1.weight, twin.conv1.weight)
    trained, _ = du.train_on_noise(**CONFIG)
    moved = (trained.conv1.weight - twin.conv1.weight).norm() / twin.conv1.weight.norm()
    assert 0 < moved < 0.5  # six Adam steps of 1e-3 against weights of about 0.025
    with pytest.raises(ValueError, match="1000 classes"):
        du.load_resnet(18, trained=True, num_classes=4)


def test_stall_effect_tells_a_stall_from_a_run_that_keeps_falling():
    """Fig. S4 over budgets: > 0 only when the first series (blurred m_g) falls less than the second."""
    stalled, falling = [1.8, 1.78, 1.77], [1.2, 0.6, 0.3]
    assert du.stall_effect(stalled, falling) > 1.0
    assert du.stall_effect(falling, stalled) < -1.0  # the paper's direction reversed
    assert abs(du.stall_effect(falling, [2.4, 1.2, 0.6])) < 1e-12  # both fall alike
    with pytest.raises(ValueError, match="two budgets"):
        du.stall_effect([1.0], [1.0, 0.5])


@pytest.mark.slow
def test_noise_model_learns_its_labelled_images(results):
    """Labels follow their images through each shuffled batch: a ResNet18 memorises 16 noise images (labels
    paired with the wrong images would leave it near chance, 1/4)."""
    _, log = du.train_on_noise(depth=18, n_images=16, size=16, n_classes=4, epochs=30, batch=8, lr=1e-3, seed=0,
                               progress=False)
    assert log["train_accuracy"] >= 0.9
