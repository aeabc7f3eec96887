import math

import pytest
import torch
from conftest import assert_refuses, refuse
from scipy import stats

from snnbook import fine_line as fl
from snnbook.binary import BinaryConvSNN
from snnbook.lif import lif_response


def test_membrane_gain_is_the_geometric_sum():
    assert fl.membrane_gain(0.9, 6) == pytest.approx(sum(0.9**k for k in range(6)))
    assert fl.membrane_gain(0.9, 6) == pytest.approx(4.68559)
    assert fl.membrane_gain(1.0, 7) == 7.0
    assert fl.membrane_gain(0.0, 5) == 1.0


def test_threshold_12_needs_a_current_above_2_5_sigma():
    # the arithmetic: T = 6, beta = 0.9, unit spread behind batch norm
    assert fl.sigmas_to_fire(12.0, 1.0, 0.9, 6) == pytest.approx(12 / 4.68559, rel=1e-5)
    assert fl.sigmas_to_fire(12.0, 1.0, 0.9, 6) > 2.5


def test_fraction_that_can_fire_matches_scipy_and_a_simulation():
    z = fl.sigmas_to_fire(3.0, 1.0, 0.9, 6)
    assert fl.fraction_that_can_fire(3.0, 1.0, 0.9, 6) == pytest.approx(stats.norm.sf(z))
    # simulate constant N(0, 1) currents through snnTorch for 6 steps
    gen = torch.Generator().manual_seed(0)
    currents = torch.randn(200_000, generator=gen)
    _, spk = lif_response(currents.expand(6, -1), beta=0.9, threshold=3.0)
    fired = (spk.sum(0) > 0).float().mean().item()
    assert fired == pytest.approx(fl.fraction_that_can_fire(3.0, 1.0, 0.9, 6), abs=3e-3)


@pytest.mark.parametrize("factor", [8.0, 7.0])
def test_rescaling_threshold_and_batch_norm_together_leaves_every_spike(factor):
    torch.manual_seed(0)
    net = BinaryConvSNN(num_steps=5, thresholds=(1.0, 1.0, 20.0))
    x = torch.rand(16, 1, 28, 28)
    with torch.no_grad():
        for bn in (net.bn1, net.bn2):  # trained-looking affine parameters
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.3, 0.3)
        net(x)  # one training-mode pass fills the running statistics
    net.eval()
    scaled = fl.rescale_bn_layer(fl.rescale_bn_layer(net, 1, factor), 2, factor)
    assert float(scaled.lif1.threshold) == factor
    with torch.no_grad():
        a, b = net.run(x), scaled.run(x)
    for key in ("spk1", "spk2", "spk3"):
        agree = (a[key] == b[key]).float().mean().item()
        assert agree == 1.0 if factor == 8.0 else agree > 0.9999
    # scaling the threshold alone is not a reparametrisation: it changes the spikes
    alone = fl.rescale_bn_layer(net, 1, factor)
    with torch.no_grad():
        alone.bn1.weight.div_(factor)
        alone.bn1.bias.div_(factor)
        assert not torch.equal(alone.run(x)["spk1"], a["spk1"])


def test_plot_reach_titles_the_calibration():
    import matplotlib.pyplot as plt

    fig = fl.plot_reach(64.0, beta=0.9, num_steps=6, spread=16.0)
    title = fig.axes[0].get_title()
    assert "4.69" in title and f"{64 / (16 * 4.68559):.2f}" in title
    plt.close(fig)


def test_toy_input_has_uniform_per_step_probabilities():
    s = fl.toy_input(0)
    assert s.shape == (100, 1, 100) and set(s.unique().tolist()) <= {0.0, 1.0}
    assert s.mean().item() == pytest.approx(0.5, abs=0.03)
    assert torch.equal(s, fl.toy_input(0)) and not torch.equal(s, fl.toy_input(1))


def test_toy_arms_follow_the_authors_notebook():
    arms = fl.TOY_ARMS
    assert arms["full precision, θ = 1"].beta == 0.6 and not arms["full precision, θ = 1"].binary
    assert arms["binarized, θ = 50"].peak == pytest.approx(1.1 * 50)
    tha = arms["binarized, θ: 5 → 50"]
    assert (tha.thresholds, tha.anneal_to, tha.alpha, tha.beta) == ((5.0, 5.0), 50.0, 5e-3, 0.15)


def test_run_toy_arm_is_reproducible_and_anneals():
    arm = fl.TOY_ARMS["binarized, θ: 5 → 50"]
    a = fl.run_toy_arm(arm, 0, iterations=4, snapshots=(0, 3))
    b = fl.run_toy_arm(arm, 0, iterations=4, snapshots=(0, 3))
    assert a["losses"] == b["losses"] and sorted(a["snapshots"]) == [0, 3]
    assert a["snapshots"][0]["threshold"] == 5.0
    assert a["threshold"] == pytest.approx(50 + (5 - 50) * (1 - 5e-3) ** 4, rel=1e-6)
    assert len(a["snapshots"][3]["mem"]) == 100 and a["relative_loss"] > 0


def test_train_conv_logs_and_anneals_only_the_chosen_layer():
    from snnbook.data import load_fashion_mnist

    x, y = load_fashion_mnist("train", n=128)
    arm = fl.ConvArm(
        thresholds=(1.0, 1.0, 1.0), targets=(None, None, 9.0), alphas=(None, None, 0.5)
    )
    setup = fl.ConvSetup(steps=4, batch_size=32, num_steps=3, log_every=2)
    r = fl.train_conv(arm, 0, (x, y), (x[:64], y[:64]), setup=setup)
    assert r["log"]["step"] == [2, 4] and len(r["first_losses"]) == 3
    assert r["final_thresholds"][:2] == [1.0, 1.0]
    assert r["final_thresholds"][2] == pytest.approx(9 - 8 * 0.5**4)
    assert set(r["rates"]) == set(fl.LAYERS) and 0 <= r["test_acc"] <= 1
    again = fl.train_conv(arm, 0, (x, y), setup=setup)
    assert again["first_losses"] == r["first_losses"]


def test_seed_statistics():
    s = fl.seed_summary([1.0, 2.0, 3.0])
    assert (s["mean"], s["std"], s["k"]) == (2.0, 1.0, 3)
    assert s["sem"] == pytest.approx(1 / math.sqrt(3))
    assert fl.seed_compare([1.0, 1.1, 0.9], [5.0, 5.1, 4.9])["tie"] is False
    assert fl.seed_compare([1.0, 3.0, 2.0], [2.5, 1.5, 2.0])["tie"] is True


BAD_INPUTS = [
    refuse(lambda: fl.membrane_gain(1.5, 6), ValueError, "beta"),
    refuse(lambda: fl.membrane_gain(0.9, 0), ValueError, "num_steps"),
    refuse(lambda: fl.sigmas_to_fire(0.0, 1.0, 0.9, 6), ValueError, "threshold"),
    refuse(lambda: fl.sigmas_to_fire(1.0, -1.0, 0.9, 6), ValueError, "spread"),
    refuse(lambda: fl.fraction_that_can_fire(1.0, float("nan"), 0.9, 6), ValueError, "spread"),
    refuse(lambda: fl.rescale_bn_layer("net", 1, 2.0), TypeError, "BinaryConvSNN"),
    refuse(lambda: fl.rescale_bn_layer(BinaryConvSNN(), 3, 2.0), ValueError, "layer"),
    refuse(lambda: fl.rescale_bn_layer(BinaryConvSNN(), 1, 0.0), ValueError, "factor"),
    refuse(lambda: fl.toy_input(-1), ValueError, "seed"),
    refuse(lambda: fl.plot_reach(0.0), ValueError, "threshold", id="plot_reach-0"),
    refuse(lambda: fl.plot_reach(8.0, beta=1.5), ValueError, "beta", id="plot_reach-beta"),
    refuse(lambda: fl.plot_reach(8.0, num_steps=0), ValueError, "num_steps", id="plot_reach-T"),
    refuse(lambda: fl.toy_input(0, num_steps=0), ValueError, "num_steps"),
    refuse(lambda: fl.run_toy_arm("θ = 50", 0), TypeError, "ToyArm"),
    refuse(
        lambda: fl.run_toy_arm(fl.TOY_ARMS["binarized, θ = 1"], 0, iterations=5, snapshots=(9,)),
        ValueError,
        "snapshot",
    ),
    refuse(
        lambda: fl.run_toy_arm(fl.TOY_ARMS["binarized, θ = 1"], 0, iterations=0),
        ValueError,
        "iterations",
    ),
    refuse(
        lambda: fl.train_conv("arm", 0, (torch.rand(2, 1, 28, 28), torch.zeros(2).long())),
        TypeError,
        "ConvArm",
    ),
    refuse(
        lambda: fl.train_conv(fl.ConvArm(), 0, (torch.rand(2, 784), torch.zeros(2).long())),
        ValueError,
        "train images",
    ),
    refuse(
        lambda: fl.train_conv(fl.ConvArm(), 0, (torch.rand(2, 1, 28, 28), torch.full((2,), 12))),
        ValueError,
        "train labels",
    ),
    refuse(
        lambda: fl.train_conv(
            fl.ConvArm(),
            0,
            (torch.rand(2, 1, 28, 28), torch.zeros(2).long()),
            setup=fl.ConvSetup(steps=0),
        ),
        ValueError,
        "steps",
    ),
    refuse(lambda: fl.conv_loss("mse"), ValueError, "loss"),
    refuse(
        lambda: fl.conv_test(BinaryConvSNN(), torch.rand(2, 1, 28, 28), torch.zeros(2)),
        TypeError,
        "y",
    ),
    refuse(lambda: fl.seed_summary([]), ValueError, "values"),
    refuse(lambda: fl.seed_summary([0.5, float("nan")]), ValueError, "value"),
    refuse(lambda: fl.seed_compare([1.0], ["a"]), TypeError, "value"),
]


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)


def test_runs_on_meta_device():
    meta = torch.device("meta")
    net = BinaryConvSNN(num_steps=2).to(meta)
    scaled = fl.rescale_bn_layer(net, 2, 4.0)
    out = scaled(torch.rand(2, 1, 28, 28, device=meta))
    out.sum().backward()
    assert scaled.bn2.weight.grad.device == meta


# ------------------------------------------------------------ committed runs
def _script(name):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_spike_timing_script_prefix_reproduces_the_recorded_losses():
    from snnbook import records

    record = records.load("spike_timing")
    script = _script("spike_timing")
    assert record["provenance"]["seeds"] == list(script.SEEDS)
    for name in fl.TOY_ARMS:
        stored = record["settings"][name]["seeds"]["0"]
        r = script.trial(name, 0, iterations=3)
        assert r["losses"] == pytest.approx(stored["first_losses"], rel=1e-5)
        assert len(stored["losses_every_10"]) == script.ITERATIONS // 10


def test_fine_line_script_prefix_reproduces_the_recorded_losses():
    import dataclasses
    import json

    from snnbook import records

    record = records.load("fine_line")
    script = _script("fine_line")
    train, _ = script.data()
    plan = script.arms()
    assert set(plan) == set(record["arms"])
    for name in (next(iter(plan)), "fixed θ = 1", "full precision, θ = 1"):
        arm, seeds, loss = plan[name]
        stored = record["arms"][name]["seeds"][str(seeds[0])]
        assert record["arms"][name]["loss"] == loss
        # the first two losses do not depend on the length of the cosine schedule
        setup = dataclasses.replace(script.SETUP, steps=2)
        r = script.trial(arm, seeds[0], train, None, loss=loss, setup=setup)
        assert r["first_losses"][:2] == pytest.approx(stored["first_losses"][:2], rel=1e-5)
        assert record["arms"][name]["arm"] == json.loads(json.dumps(dataclasses.asdict(arm)))
