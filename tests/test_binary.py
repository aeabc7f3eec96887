import math

import pytest
import torch
from conftest import assert_refuses, refuse
from torch.nn import functional as F

from snnbook.binary import (
    BinaryConv2d,
    BinaryConvSNN,
    BinaryLinear,
    TemporalCodingNet,
    binarize,
    latency_target,
    plot_temporal_runs,
    plot_temporal_snapshots,
    ramp_target,
    train_temporal,
)


def test_binarize_forward_is_sign_with_zero_mapped_to_plus_one():
    w = torch.tensor([-2.0, -0.1, 0.0, 0.3, 5.0])
    assert binarize(w).tolist() == [-1.0, -1.0, 1.0, 1.0, 1.0]


def test_straight_through_gradient_is_identity():
    w = torch.tensor([-2.0, -0.1, 0.0, 0.3, 5.0], requires_grad=True)
    upstream = torch.tensor([1.0, -2.0, 3.0, 0.5, -1.0])
    (binarize(w) * upstream).sum().backward()
    assert torch.equal(w.grad, upstream)


def test_binary_linear_matches_linear_with_signed_weights_and_ste_gradient():
    torch.manual_seed(0)
    layer = BinaryLinear(6, 4)
    x = torch.randn(3, 6)
    y = layer(x)
    signs = torch.where(layer.weight >= 0, 1.0, -1.0).detach()
    torch.testing.assert_close(y, x @ signs.T)
    y.sum().backward()
    # d(sum y)/dW_b[i, j] = sum_b x[b, j], passed straight through to the latent weights
    torch.testing.assert_close(layer.weight.grad, x.sum(0).expand(4, 6))


def test_binary_conv_matches_conv_with_signed_weights():
    torch.manual_seed(0)
    layer = BinaryConv2d(2, 3, 3, padding=1)
    x = torch.randn(2, 2, 5, 5, requires_grad=True)
    signs = torch.where(layer.weight >= 0, 1.0, -1.0).detach()
    torch.testing.assert_close(layer(x), F.conv2d(x, signs, padding=1))
    g = torch.randn(2, 3, 5, 5)
    (layer(x) * g).sum().backward()
    w = signs.clone().requires_grad_(True)
    (F.conv2d(x.detach(), w, padding=1) * g).sum().backward()
    torch.testing.assert_close(layer.weight.grad, w.grad)


def test_glorot_uniform_bound():
    layer = BinaryLinear(300, 100)
    bound = math.sqrt(1.5 / 400)
    assert layer.weight.abs().max() <= bound
    assert layer.weight.abs().max() > 0.9 * bound
    assert layer.bias is None


def test_networks_shapes_and_errors():
    net = BinaryConvSNN(num_steps=3, thresholds=(1.0, 2.0, 3.0))
    out = net.run(torch.rand(2, 1, 28, 28))
    assert out["spk1"].shape == (3, 2, 16, 12, 12)
    assert out["spk3"].shape == (3, 2, 10)
    assert out["cur3"].shape == (3, 2, 10) and out["cur1"].shape == (2, 16, 12, 12)
    assert [lif.threshold.item() for lif in net.lifs] == [1.0, 2.0, 3.0]
    toy = TemporalCodingNet(hidden=20)
    res = toy.run(torch.ones(5, 1, 100))
    assert res["mem2"].shape == (5, 1) and res["spk1"].shape == (5, 1, 20)


def test_conv_snn_matches_a_step_by_step_simulation():
    """The layer-by-layer scan gives the spikes of the authors' step-by-step loop (``Net.py``)."""
    from snnbook.lif import run_leaky

    torch.manual_seed(0)
    net = BinaryConvSNN(num_steps=4, thresholds=(1.0, 1.5, 8.0)).eval()
    x = torch.rand(3, 1, 28, 28)
    out = net.run(x)
    with torch.no_grad():
        mems = [lif.init_leaky() for lif in net.lifs]
        spk3 = []
        for _ in range(4):
            s1, mems[0] = net.lif1(net.bn1(F.avg_pool2d(net.conv1(x), 2)), mems[0])
            s2, mems[1] = net.lif2(net.bn2(F.avg_pool2d(net.conv2(s1), 2)), mems[1])
            s3, mems[2] = net.lif3(net.fc(s2.flatten(1)), mems[2])
            spk3.append(s3)
    assert torch.equal(out["spk3"], torch.stack(spk3))
    assert torch.equal(run_leaky(net.lif3, out["cur3"]), out["spk3"])


def test_binary_bias_starts_at_zero_and_trains():
    layer = BinaryLinear(5, 3, bias=True)
    assert torch.equal(layer.bias, torch.zeros(3))
    layer(torch.ones(2, 5)).sum().backward()
    assert torch.equal(layer.bias.grad, torch.full((3,), 2.0))
    conv = BinaryConv2d(1, 2, 3, bias=True)
    assert torch.equal(conv.bias, torch.zeros(2))


def test_ramp_target_shape():
    r = ramp_target(100, 75, ramp_to=0.8, peak=1.25)
    assert r.shape == (100,)
    assert r[0] == 0.0 and r[74] == pytest.approx(0.8) and r[75] == 1.25
    assert (r[:75] < 1).all() and (r[76:] == 0).all()


def test_latency_target_is_the_authors_ramp():
    # snntorch.spikegen.targets_latency(interpolate=True): peak * t / spike_time, then 0
    r = latency_target(100, 75, peak=55.0)
    expected = torch.zeros(100)
    expected[:76] = 55.0 * torch.arange(76) / 75
    torch.testing.assert_close(r, expected)


def test_train_temporal_lowers_the_loss_of_a_full_precision_net():
    torch.manual_seed(0)
    net = TemporalCodingNet(binary=False, hidden=50, bias=True)
    spikes = (torch.rand(20, 1, 100) < 0.8).float()
    target = latency_target(20, 15, peak=1.05)
    seen = []
    losses = train_temporal(
        net,
        spikes,
        target,
        iterations=30,
        lr=0.01,
        on_forward=lambda i, rec: seen.append((i, rec["mem2"].shape)),
    )
    assert losses[-1] < 0.5 * losses[0]
    assert seen[0] == (0, (20, 1)) and len(seen) == 30
    # the loss is the raw-membrane MSE of the forward pass of that iteration
    torch.manual_seed(0)
    net = TemporalCodingNet(binary=False, hidden=50, bias=True)
    mem = net.run(spikes)["mem2"][:, 0].detach()
    assert losses[0] == pytest.approx(float(((mem - target) ** 2).mean()), rel=1e-6)


def _toy():
    return TemporalCodingNet(hidden=8)


BAD_INPUTS = [
    refuse(lambda: binarize([1.0, -1.0]), TypeError, "w", id="binarize-list"),
    refuse(lambda: binarize(torch.ones(3, dtype=torch.long)), TypeError, "w", id="binarize-int"),
    refuse(lambda: binarize(torch.ones(0)), ValueError, "empty"),
    refuse(lambda: BinaryLinear(0, 3), ValueError, "in_features"),
    refuse(lambda: BinaryLinear(3, 2.0), TypeError, "out_features"),
    refuse(lambda: BinaryLinear(3, 2, bias=1), TypeError, "bias"),
    refuse(lambda: BinaryLinear(3, 2)(torch.ones(4, 5)), ValueError, "3 features"),
    refuse(lambda: BinaryConv2d(1, 0, 3), ValueError, "out_channels"),
    refuse(lambda: BinaryConv2d(1, 2, 0), ValueError, "kernel_size"),
    refuse(lambda: BinaryConv2d(1, 2, 3, padding=-1), ValueError, "padding"),
    refuse(lambda: BinaryConv2d(1, 2, 3)(torch.ones(5, 5)), ValueError, "x"),
    refuse(lambda: BinaryConvSNN(thresholds=(1.0, 1.0)), ValueError, "one threshold"),
    refuse(lambda: BinaryConvSNN(thresholds=(1.0, 0.0, 1.0)), ValueError, "thresholds[1]"),
    refuse(lambda: BinaryConvSNN(thresholds=5.0), TypeError, "thresholds"),
    refuse(lambda: BinaryConvSNN(num_steps=0), ValueError, "num_steps"),
    refuse(lambda: BinaryConvSNN(beta=1.1), ValueError, "beta"),
    refuse(lambda: BinaryConvSNN(slope=0), ValueError, "slope"),
    refuse(lambda: BinaryConvSNN(binary="yes"), TypeError, "binary"),
    refuse(lambda: BinaryConvSNN()(torch.rand(2, 784)), ValueError, "(*, 1, 28, 28)"),
    refuse(lambda: TemporalCodingNet(thresholds=(1.0,)), ValueError, "one threshold"),
    refuse(lambda: TemporalCodingNet(hidden=-5), ValueError, "hidden"),
    refuse(lambda: TemporalCodingNet(beta=float("nan")), ValueError, "beta"),
    refuse(lambda: TemporalCodingNet(bias=None), TypeError, "bias"),
    refuse(lambda: _toy().run(torch.ones(5, 100)), ValueError, "spikes_in"),
    refuse(lambda: _toy().run(torch.ones(5, 1, 99)), ValueError, "spikes_in"),
    refuse(lambda: ramp_target(100, 100), ValueError, "spike_time"),
    refuse(lambda: ramp_target(100, 75, peak=0.9), ValueError, "peak"),
    refuse(lambda: ramp_target(100, 75, ramp_to=1.2), ValueError, "ramp_to"),
    refuse(lambda: latency_target(100, 0), ValueError, "spike_time"),
    refuse(lambda: latency_target(100, 75, peak=-1.0), ValueError, "peak"),
    refuse(lambda: latency_target(10.5, 5), TypeError, "num_steps"),
    refuse(
        lambda: train_temporal(
            torch.nn.Linear(2, 2), torch.ones(5, 1, 100), torch.ones(5), iterations=1
        ),
        TypeError,
        "TemporalCodingNet",
    ),
    refuse(
        lambda: train_temporal(_toy(), torch.ones(5, 1, 100), torch.ones(6), iterations=1),
        ValueError,
        "same length",
    ),
    refuse(
        lambda: train_temporal(_toy(), torch.ones(5, 1, 100), torch.ones(5), iterations=0),
        ValueError,
        "iterations",
    ),
    refuse(
        lambda: train_temporal(_toy(), torch.ones(5, 1, 100), torch.ones(5), iterations=1, lr=0),
        ValueError,
        "lr",
    ),
    refuse(
        lambda: train_temporal(
            _toy(), torch.ones(5, 1, 100), torch.full((5,), float("nan")), iterations=1
        ),
        ValueError,
        "target",
    ),
    refuse(
        lambda: train_temporal(
            _toy(), torch.ones(5, 1, 100), torch.ones(5), iterations=1, momentum=1.0
        ),
        ValueError,
        "momentum",
    ),
    refuse(
        lambda: train_temporal(
            _toy(), torch.ones(5, 1, 100), torch.ones(5), iterations=1, on_forward=1
        ),
        TypeError,
        "on_forward",
    ),
    refuse(lambda: plot_temporal_runs({}, torch.zeros(5)), ValueError, "runs"),
    refuse(lambda: plot_temporal_snapshots({}, {}), ValueError, "snapshots"),
    refuse(
        lambda: plot_temporal_snapshots(
            {"a": {0: {"mem": [0.0], "spikes": [], "threshold": 1.0}}}, {}
        ),
        ValueError,
        "targets",
    ),
]


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)


def test_runs_on_meta_device():
    meta = torch.device("meta")
    net = BinaryConvSNN(num_steps=2, thresholds=(1.0, 1.0, 4.0)).to(meta)
    out = net(torch.rand(2, 1, 28, 28, device=meta))
    assert out.device == meta
    out.sum().backward()
    assert net.conv1.weight.grad.device == meta
    toy = TemporalCodingNet(hidden=8, bias=True).to(meta)
    rec = toy.run(torch.ones(5, 1, 100, device=meta))
    (rec["mem2"].sum() + rec["spk1"].sum()).backward()
    assert toy.fc1.bias.grad.device == meta
    for layer, x in (
        (BinaryLinear(4, 3), torch.ones(2, 4)),
        (BinaryConv2d(1, 2, 3), torch.ones(1, 1, 5, 5)),
    ):
        layer = layer.to(meta)
        layer(x.to(meta)).sum().backward()
        assert layer.weight.grad.device == meta


def test_plots_accept_tensors_that_require_grad():
    import matplotlib.pyplot as plt

    toy = TemporalCodingNet(hidden=8)
    rec = toy.run(torch.ones(10, 1, 100))
    assert rec["mem2"].requires_grad
    fig = plot_temporal_runs({"a": rec | {"threshold": 1.0}}, torch.zeros(10))
    plt.close(fig)
    snap = {"mem": rec["mem2"][:, 0].tolist(), "spikes": [3], "threshold": 1.0}
    fig = plot_temporal_snapshots({"a": {0: snap, 5: snap}}, {"a": [0.0] * 10})
    assert len(fig.axes) == 2
    plt.close(fig)
