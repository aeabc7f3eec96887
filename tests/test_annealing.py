import pytest
import snntorch as snn
import torch
from torch import nn

from snnbook.annealing import ThresholdAnnealer, annealed_threshold


def _layers(*thresholds):
    return [snn.Leaky(beta=0.9, threshold=float(t)) for t in thresholds]


def test_step_matches_closed_form():
    layers = _layers(5.0, 1.0, 30.0)
    targets, alphas = [50.0, 4.0, 10.0], [0.05, 0.3, 1.0]
    annealer = ThresholdAnnealer(layers, targets, alphas)
    for _ in range(37):
        annealer.step()
    for layer, theta0, target, alpha in zip(layers, [5.0, 1.0, 30.0], targets, alphas, strict=True):
        expected = target + (theta0 - target) * (1 - alpha) ** 37
        assert layer.threshold.item() == pytest.approx(expected, rel=1e-5)
    assert annealer.steps == 37


def test_closed_form_function_by_hand():
    # 5 -> 50 with alpha 0.1: after one step 5 + 0.1 * 45 = 9.5, after two 9.5 + 4.05 = 13.55
    assert annealed_threshold(5.0, 50.0, 0.1, 0) == 5.0
    assert annealed_threshold(5.0, 50.0, 0.1, 1) == pytest.approx(9.5)
    assert annealed_threshold(5.0, 50.0, 0.1, 2) == pytest.approx(13.55)
    assert annealed_threshold(5.0, 50.0, 1.0, 1) == 50.0


def test_first_step_by_hand_and_target_is_absolute():
    # the reference code's trap: a target of 7.15 is an absolute value here, not an offset
    (layer,) = _layers(6.9)
    ThresholdAnnealer([layer], [7.15], [0.5]).step()
    assert layer.threshold.item() == pytest.approx(6.9 + 0.5 * 0.25)


def test_updates_the_buffer_in_place_and_the_forward_pass_sees_it():
    (layer,) = _layers(1.0)
    buffer = layer.threshold
    annealer = ThresholdAnnealer([layer], [3.0], [1.0])
    annealer.step()
    assert layer.threshold is buffer
    assert layer.state_dict()["threshold"].item() == 3.0
    spk, _ = layer(torch.tensor([2.5]), layer.init_leaky())
    assert spk.item() == 0.0  # 2.5 < 3 now; it would have fired at threshold 1
    assert annealer.thresholds() == [3.0]


def test_learnable_threshold_is_annealed_without_autograd_error():
    layer = snn.Leaky(beta=0.9, threshold=2.0, learn_threshold=True)
    ThresholdAnnealer([layer], [4.0], [0.5]).step()
    assert isinstance(layer.threshold, nn.Parameter)
    assert layer.threshold.item() == pytest.approx(3.0)


def test_bad_inputs():
    layers = _layers(1.0, 1.0)
    with pytest.raises(ValueError, match="one entry per layer"):
        ThresholdAnnealer(layers, [2.0], [0.1, 0.1])
    with pytest.raises(ValueError, match=r"alphas\[1\] must be a number in \(0, 1\]"):
        ThresholdAnnealer(layers, [2.0, 2.0], [0.1, 0.0])
    with pytest.raises(ValueError, match=r"in \(0, 1\]"):
        ThresholdAnnealer(layers, [2.0, 2.0], [1.5, 0.1])
    with pytest.raises(TypeError, match="no `threshold` tensor"):
        ThresholdAnnealer([nn.Linear(2, 2)], [2.0], [0.1])
    with pytest.raises(TypeError, match="integer threshold"):
        ThresholdAnnealer([snn.Leaky(beta=0.9, threshold=5)], [50.0], [0.1])
    with pytest.raises(ValueError, match="at least one"):
        ThresholdAnnealer([], [], [])
    with pytest.raises(ValueError, match="steps must be >= 0"):
        annealed_threshold(1.0, 2.0, 0.5, -1)


def test_plot_schedule_draws_the_closed_form():
    import matplotlib.pyplot as plt

    from snnbook.annealing import plot_schedule

    fig = plot_schedule(5.0, 50.0, 0.01, steps=100)
    line = fig.axes[0].lines[0]
    assert line.get_ydata()[100] == pytest.approx(annealed_threshold(5.0, 50.0, 0.01, 100))
    plt.close(fig)
    with pytest.raises(ValueError, match=r"in \(0, 1\]"):
        plot_schedule(5.0, 50.0, 2.0)
