import math

import pytest
import snntorch as snn
import torch
from conftest import assert_refuses, refuse
from torch import nn

from snnbook.annealing import (
    ThresholdAnnealer,
    annealed_threshold,
    plot_schedule,
    steps_to_fraction,
)


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


def test_plot_schedule_draws_the_closed_form():
    import matplotlib.pyplot as plt

    fig = plot_schedule(5.0, 50.0, 0.01, steps=100)
    line = fig.axes[0].lines[0]
    assert line.get_ydata()[100] == pytest.approx(annealed_threshold(5.0, 50.0, 0.01, 100))
    plt.close(fig)


def test_steps_to_fraction_matches_the_closed_form():
    for alpha in (0.0368, 0.29687, 0.1048, 5e-3, 0.5):
        n = steps_to_fraction(alpha, 0.95)
        assert 1 - (1 - alpha) ** n >= 0.95 > 1 - (1 - alpha) ** (n - 1)
    # the authors' Fashion-MNIST rates (fmnist/conf.py): 95% within 80, 9 and 28 steps,
    # all inside the first epoch of 469 batches of 128
    assert [steps_to_fraction(a) for a in (0.0368, 0.29687, 0.1048)] == [80, 9, 28]
    assert steps_to_fraction(0.5, 0.75) == 2
    assert steps_to_fraction(1.0) == 1
    assert steps_to_fraction(0.01) == math.ceil(math.log(0.05) / math.log(0.99))


def _two():
    return _layers(1.0, 1.0)


BAD_INPUTS = [
    refuse(lambda: ThresholdAnnealer(_two(), [2.0], [0.1, 0.1]), ValueError, "one entry per layer"),
    refuse(lambda: ThresholdAnnealer(_two(), [2.0, 2.0], [0.1, 0.0]), ValueError, "alphas[1]"),
    refuse(lambda: ThresholdAnnealer(_two(), [2.0, 2.0], [1.5, 0.1]), ValueError, "alphas[0]"),
    refuse(lambda: ThresholdAnnealer(_two(), [2.0, 0.0], [0.1, 0.1]), ValueError, "targets[1]"),
    refuse(lambda: ThresholdAnnealer(_two(), [-5.0, 2.0], [0.1, 0.1]), ValueError, "targets[0]"),
    refuse(
        lambda: ThresholdAnnealer(_two(), [float("nan"), 2.0], [0.1, 0.1]), ValueError, "targets"
    ),
    refuse(lambda: ThresholdAnnealer(_two(), ["5", 2.0], [0.1, 0.1]), TypeError, "targets[0]"),
    refuse(lambda: ThresholdAnnealer(_two(), [2.0, 2.0], [True, 0.1]), TypeError, "alphas[0]"),
    refuse(lambda: ThresholdAnnealer([nn.Linear(2, 2)], [2.0], [0.1]), TypeError, "threshold"),
    refuse(
        lambda: ThresholdAnnealer([snn.Leaky(beta=0.9, threshold=5)], [50.0], [0.1]),
        TypeError,
        "integer threshold",
    ),
    refuse(lambda: ThresholdAnnealer([], [], []), ValueError, "neurons"),
    refuse(lambda: ThresholdAnnealer(_two()[0], [2.0], [0.1]), TypeError, "neurons"),
    refuse(lambda: ThresholdAnnealer(_two(), 2.0, [0.1, 0.1]), TypeError, "targets"),
    refuse(lambda: annealed_threshold(1.0, 2.0, 0.5, -1), ValueError, "steps"),
    refuse(lambda: annealed_threshold(1.0, 2.0, 0.5, 2.5), TypeError, "steps"),
    refuse(lambda: annealed_threshold(0.0, 2.0, 0.5, 1), ValueError, "theta0"),
    refuse(lambda: annealed_threshold(1.0, -2.0, 0.5, 1), ValueError, "target"),
    refuse(lambda: annealed_threshold(1.0, 2.0, 0.0, 1), ValueError, "alpha"),
    refuse(lambda: steps_to_fraction(0.1, 1.0), ValueError, "fraction"),
    refuse(lambda: steps_to_fraction(float("inf")), ValueError, "alpha"),
    refuse(lambda: plot_schedule(5.0, 50.0, 2.0), ValueError, "alpha"),
    refuse(lambda: plot_schedule(5.0, 50.0, 0.1, steps=0), ValueError, "steps"),
]


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)


def test_runs_on_meta_device():
    from snnbook.binary import BinaryConvSNN

    meta = torch.device("meta")
    net = BinaryConvSNN(num_steps=2).to(meta)
    annealer = ThresholdAnnealer(net.lifs, [4.0, 4.0, 40.0], [0.5, 0.5, 0.5])
    out = net(torch.rand(2, 1, 28, 28, device=meta))
    out.sum().backward()
    annealer.step()
    assert all(lif.threshold.device == meta for lif in net.lifs)
    assert annealer.steps == 1
