"""Tests for snnbook.conversion: surrogates, IF neuron, threshold balancing, conversion."""

import functools

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from conftest import assert_refuses, refuse
from torch import nn

from snnbook import conversion as cv


# ------------------------------------------------------------------ surrogates
def test_stdb_forward_is_heaviside_and_gradient_equals_formula():
    g = torch.Generator().manual_seed(0)
    v = torch.randn(200, generator=g, requires_grad=True)
    dt = torch.randint(1, 2000, (200,), generator=g).float()
    w = torch.randn(200, generator=g)
    alpha, beta = 0.3, 0.01
    s = cv.stdb_spike(v, dt, alpha=alpha, beta=beta)
    assert torch.equal(s, (v >= 0).float())
    (s * w).sum().backward()
    expected = w.numpy() * alpha * np.exp(-beta * dt.numpy())
    np.testing.assert_allclose(v.grad.numpy(), expected, rtol=1e-5, atol=1e-12)


def test_stdb_gradient_other_constants_and_no_grad_to_dt():
    v = torch.tensor([-3.0, 0.5, 4.0], requires_grad=True)
    dt = torch.tensor([0.0, 10.0, 100.0], requires_grad=True)
    cv.stdb_spike(v, dt, alpha=1.5, beta=0.2).sum().backward()
    np.testing.assert_allclose(
        v.grad.numpy(), 1.5 * np.exp(-0.2 * np.array([0, 10, 100])), rtol=1e-6
    )
    assert dt.grad is None or torch.all(dt.grad == 0)


def test_linear_surrogate_gradient_equals_formula():
    v = torch.linspace(-2, 2, 41, requires_grad=True)
    s = cv.linear_spike(v, alpha=0.3)
    assert torch.equal(s, (v >= 0).float())
    s.sum().backward()
    expected = [0.3 * max(0.0, 1 - abs(x)) for x in v.detach().tolist()]
    np.testing.assert_allclose(v.grad.numpy(), expected, rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------------- neuron
def test_soft_reset_conserves_charge():
    g = torch.Generator().manual_seed(1)
    theta, steps = 0.7, 300
    currents = torch.rand(steps, 50, generator=g) * 0.9 - 0.25  # some negative, all < theta
    neuron = cv.IFNeuron(theta)
    state, spikes = None, torch.zeros(50)
    for t in range(steps):
        s, state = neuron(currents[t], state, t)
        spikes += s
    residual = state[0]
    np.testing.assert_allclose(
        currents.sum(0).numpy(), (theta * spikes + residual).numpy(), rtol=1e-4, atol=1e-3
    )
    # inputs below threshold: the residual stays below it too (one spike per step suffices)
    assert residual.max() < theta + 1e-5


def test_neuron_matches_plain_loop_and_tracks_last_spike():
    currents = [0.4, 0.4, 0.4, -0.2, 1.5, 0.0]
    theta = 1.0
    u, last, ref_spikes, ref_last = 0.0, cv.NEVER_FIRED, [], []
    for t, i in enumerate(currents):
        u += i
        s = 1.0 if u >= theta else 0.0
        u -= theta * s
        last = t if s else last
        ref_spikes.append(s)
        ref_last.append(last)
    neuron, state = cv.IFNeuron(theta), None
    for t, i in enumerate(currents):
        s, state = neuron(torch.tensor([i]), state, t)
        assert s.item() == ref_spikes[t]
        assert state[1].item() == ref_last[t]


def test_stdb_gradient_inside_neuron_uses_time_since_last_spike():
    theta, t = 2.0, 7
    neuron = cv.IFNeuron(theta, surrogate="stdb", alpha=0.3, beta=0.01)
    mem = torch.tensor([0.5, 1.0, 0.0])
    last = torch.tensor([3.0, cv.NEVER_FIRED, 6.0])
    current = torch.tensor([0.1, 2.0, -1.0], requires_grad=True)
    s, _ = neuron(current, (mem, last), t)
    s.sum().backward()
    expected = 0.3 * np.exp(-0.01 * (t - last.numpy())) / theta  # dv/dI = 1/theta
    np.testing.assert_allclose(current.grad.numpy(), expected, rtol=1e-5)
    assert current.grad[1] < 1e-5  # never fired: almost no gradient


# -------------------------------------------------------------------- networks
def _blobs(n=600, seed=0):
    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(4, 12, generator=g) * 2
    y = torch.randint(0, 4, (n,), generator=g)
    x = centers[y] + torch.randn(n, 12, generator=g)
    return x, y


@functools.cache
def _trained_mlp_cached():
    torch.manual_seed(0)
    x, y = _blobs()
    ann = nn.Sequential(
        nn.Linear(12, 32, bias=False),
        nn.ReLU(),
        nn.Linear(32, 24, bias=False),
        nn.ReLU(),
        nn.Linear(24, 4, bias=False),
    )
    opt = torch.optim.Adam(ann.parameters(), lr=1e-2)
    for _ in range(150):
        loss = nn.functional.cross_entropy(ann(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return ann, x, y


def _trained_mlp():
    """A small trained bias-free MLP on 4 Gaussian blobs (trained once per session)."""
    return _trained_mlp_cached()


def _reference_snn(weights, thresholds, x, steps, counts=False):
    """Plain NumPy IF simulation, direct input, soft reset; returns accumulated output
    (and, with ``counts``, the total spikes of each layer)."""
    mems = [np.zeros((len(x), w.shape[0])) for w in weights[:-1]]
    out = np.zeros((len(x), weights[-1].shape[0]))
    totals = [0.0] * len(mems)
    for _ in range(steps):
        h = x
        for k, w in enumerate(weights[:-1]):
            mems[k] += h @ w.T
            s = (mems[k] >= thresholds[k]).astype(float)
            mems[k] -= thresholds[k] * s
            totals[k] += s.sum()
            h = s
        out += h @ weights[-1].T
    return (out, totals) if counts else out


def test_spiking_network_matches_numpy_reference():
    ann, x, _ = _trained_mlp()
    snn = cv.to_spiking(ann, num_steps=40)
    for n, th in zip(snn.neurons, [1.3, 0.8], strict=True):
        n.threshold.fill_(th)
    weights = [m.weight.detach().double().numpy() for m in ann if isinstance(m, nn.Linear)]
    ref = _reference_snn(weights, [1.3, 0.8], x[:50].double().numpy(), 40)
    with torch.no_grad():
        out = snn(x[:50])
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-4, atol=1e-3)
    outs, spikes = snn.trace(x[:50], 40)
    np.testing.assert_allclose(outs[-1].numpy(), out.numpy(), rtol=1e-5, atol=1e-5)
    assert spikes[-1].item() == pytest.approx(float(snn.spikes_per_image), rel=1e-5)
    assert torch.all(spikes[1:] >= spikes[:-1])


def test_layer_rates_match_numpy_reference():
    ann, x, _ = _trained_mlp()
    snn = cv.to_spiking(ann, num_steps=25)
    for n, th in zip(snn.neurons, [1.3, 0.8], strict=True):
        n.threshold.fill_(th)
    weights = [m.weight.detach().double().numpy() for m in ann if isinstance(m, nn.Linear)]
    _, totals = _reference_snn(weights, [1.3, 0.8], x[:50].double().numpy(), 25, counts=True)
    expected = [totals[0] / (50 * 32 * 25), totals[1] / (50 * 24 * 25)]
    np.testing.assert_allclose(snn.layer_rates(x[:50]).numpy(), expected, rtol=1e-5)


def test_rescaled_thresholds_compound_across_layers():
    # positive weights and small currents: no rate reaches the ceiling of one spike per step,
    # so scaling every threshold by s multiplies layer l's rate by s ** -l (module docstring)
    g = torch.Generator().manual_seed(5)
    ann = nn.Sequential(
        nn.Linear(6, 8, bias=False), nn.ReLU(), nn.Linear(8, 8, bias=False), nn.ReLU(),
        nn.Linear(8, 8, bias=False), nn.ReLU(), nn.Linear(8, 2, bias=False),
    )  # fmt: skip
    with torch.no_grad():
        for m in ann:
            if isinstance(m, nn.Linear):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) / m.in_features)
    x = torch.rand(20, 6, generator=g) * 0.5 + 0.25
    snn = cv.convert(ann, x, num_steps=4000, calibration_steps=20)
    before = [n.threshold.clone() for n in snn.neurons]
    faster = cv.rescaled(snn, 0.8)
    for n, b in zip(snn.neurons, before, strict=True):
        assert torch.equal(n.threshold, b)  # the original is unchanged
    np.testing.assert_allclose(faster.thresholds, [0.8 * t for t in snn.thresholds], rtol=1e-6)
    rates, rates_fast = snn.layer_rates(x), faster.layer_rates(x)
    assert rates_fast.max() < 1
    np.testing.assert_allclose((rates_fast / rates).numpy(), [0.8**-1, 0.8**-2, 0.8**-3], rtol=0.02)


def test_poisson_spikes_follow_the_reference_code():
    g = torch.Generator().manual_seed(2)
    x = torch.tensor([-1.0, -0.3, 0.0, 0.25, 0.9, 1.0])
    draws = torch.stack([cv.poisson_spikes(x, generator=g) for _ in range(20000)])
    assert set(draws.unique().tolist()) <= {-1.0, 0.0, 1.0}
    assert torch.all(draws * x.sign() >= 0)  # a spike has the sign of its pixel
    np.testing.assert_allclose(draws.mean(0).numpy(), x.numpy(), atol=0.015)


def test_balance_thresholds_max_matches_reference_per_layer():
    ann, x, _ = _trained_mlp()
    snn = cv.to_spiking(ann)
    calib = x[:64]
    thresholds = cv.balance_thresholds(snn, calib, num_steps=30, method="max")
    w1, w2 = ann[0].weight.detach().double().numpy(), ann[2].weight.detach().double().numpy()
    xc = calib.double().numpy()
    assert thresholds[0] == pytest.approx((xc @ w1.T).max(), rel=1e-5)
    # layer 2 sees the spikes of layer 1 firing at its balanced threshold
    mem, best = np.zeros((64, 32)), -np.inf
    for _ in range(30):
        mem += xc @ w1.T
        s = (mem >= thresholds[0]).astype(float)
        mem -= thresholds[0] * s
        best = max(best, (s @ w2.T).max())
    assert thresholds[1] == pytest.approx(best, rel=1e-5)


def test_balance_thresholds_percentile_matches_sorting():
    ann, x, _ = _trained_mlp()
    snn = cv.to_spiking(ann)
    calib = [x[:40], x[40:100]]  # two batches of different sizes
    th = cv.balance_thresholds(snn, calib, num_steps=5, method="percentile", percentile=99.0)
    currents = (torch.cat(calib) @ ann[0].weight.T).flatten().repeat(5)
    k = currents.numel() // 100
    assert th[0] == pytest.approx(currents.sort(descending=True).values[k - 1].item(), rel=1e-6)
    th_max = cv.balance_thresholds(cv.to_spiking(ann), calib, num_steps=5, method="max")
    assert th[0] < th_max[0]


def test_converted_mlp_agrees_with_ann_at_large_T():
    ann, x, _ = _trained_mlp()
    snn = cv.convert(ann, x[:200], num_steps=500, calibration_steps=50)
    with torch.no_grad():
        agree = (snn(x[200:]).argmax(1) == ann(x[200:]).argmax(1)).float().mean().item()
    assert agree >= 0.95


def test_converted_convnet_agrees_with_ann_at_large_T():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(3)
    x = torch.rand(300, 1, 8, 8, generator=g)
    y = (x[:, 0, :4].mean((1, 2)) > x[:, 0, 4:].mean((1, 2))).long()  # top half brighter?
    ann = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, bias=False),
        nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(64, 16, bias=False),
        nn.ReLU(),
        nn.Linear(16, 2, bias=False),
    )
    opt = torch.optim.Adam(ann.parameters(), lr=1e-2)
    for _ in range(100):
        loss = nn.functional.cross_entropy(ann(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    snn = cv.convert(ann, x[:100], num_steps=400, calibration_steps=40, method="percentile")
    with torch.no_grad():
        agree = (snn(x[100:]).argmax(1) == ann(x[100:]).argmax(1)).float().mean().item()
    assert agree >= 0.95


def test_convert_does_not_modify_ann_and_scales_thresholds():
    ann, x, _ = _trained_mlp()
    before = [p.clone() for p in ann.parameters()]
    full = cv.convert(ann, x[:64], calibration_steps=10)
    scaled = cv.convert(ann, x[:64], calibration_steps=10, scale=0.7)
    np.testing.assert_allclose(scaled.thresholds[0], 0.7 * full.thresholds[0], rtol=1e-6)
    with torch.no_grad():
        for p in scaled.parameters():
            p.add_(1.0)
    for p, q in zip(ann.parameters(), before, strict=True):
        assert torch.equal(p, q)


def test_hybrid_training_step_gives_gradients_to_all_weights():
    ann, x, y = _trained_mlp()
    for surrogate in ("stdb", "linear"):
        snn = cv.convert(ann, x[:64], num_steps=16, calibration_steps=16, scale=0.7)
        snn.set_surrogate(surrogate)
        nn.functional.cross_entropy(snn(x[:32]), y[:32]).backward()
        for p in snn.parameters():
            assert p.grad is not None and p.grad.abs().sum() > 0


def test_rate_encoding_runs_and_is_random():
    ann, x, _ = _trained_mlp()
    snn = cv.to_spiking(ann, num_steps=8, input_encoding="rate")
    xs = torch.rand(10, 12)
    torch.manual_seed(0)
    a = snn(xs)
    torch.manual_seed(1)
    b = snn(xs)
    assert a.shape == (10, 4) and not torch.equal(a, b)


def test_float64_ann_gives_a_float64_network():
    ann, x, _ = _trained_mlp()
    snn = cv.to_spiking(copy_double(ann), num_steps=4)
    assert snn.neurons[0].threshold.dtype == torch.float64
    assert snn(x[:3].double()).dtype == torch.float64


def copy_double(ann):
    import copy

    return copy.deepcopy(ann).double()


def test_plot_tradeoff_accepts_tensors_that_require_grad():
    steps = torch.arange(1, 9)
    acc = {"a": torch.linspace(0.1, 0.8, 8, requires_grad=True)}
    spk = {"a": torch.linspace(10, 80, 8)}
    fig = cv.plot_tradeoff(steps, acc, spk, marker=4, ann_accuracy=0.9)
    assert len(fig.axes) == 2
    plt.close(fig)


# ------------------------------------------------------------------ bad input
def _mlp():
    return _trained_mlp()[0]


def _snn(**kwargs):
    return cv.to_spiking(_mlp(), num_steps=4, **kwargs)


def _ann(*layers):
    return nn.Sequential(*layers)


_Z = torch.zeros(3)
_X = torch.rand(4, 12)
_OK_ACC, _OK_SPK = {"a": [0.1, 0.2]}, {"a": [1.0, 2.0]}

BAD_INPUTS = [
    # surrogates and Poisson input
    refuse(lambda: cv.stdb_spike([0.0], _Z), TypeError, "v", id="stdb-v-list"),
    refuse(lambda: cv.stdb_spike(torch.zeros(3, dtype=torch.long), _Z), TypeError, "v",
           id="stdb-v-int"),
    refuse(lambda: cv.stdb_spike(_Z, [1.0, 2.0, 3.0]), TypeError, "dt", id="stdb-dt-list"),
    refuse(lambda: cv.stdb_spike(_Z, torch.zeros(4)), ValueError, "same shape", id="stdb-shape"),
    refuse(lambda: cv.stdb_spike(torch.zeros(0), torch.zeros(0)), ValueError, "v",
           id="stdb-empty"),
    refuse(lambda: cv.stdb_spike(_Z, _Z, alpha=0.0), ValueError, "alpha", id="stdb-alpha-0"),
    refuse(lambda: cv.stdb_spike(_Z, _Z, alpha=float("nan")), ValueError, "alpha",
           id="stdb-alpha-nan"),
    refuse(lambda: cv.stdb_spike(_Z, _Z, alpha="0.3"), TypeError, "alpha", id="stdb-alpha-str"),
    refuse(lambda: cv.stdb_spike(_Z, _Z, beta=-0.01), ValueError, "beta", id="stdb-beta-neg"),
    refuse(lambda: cv.stdb_spike(_Z, _Z, beta=float("inf")), ValueError, "beta",
           id="stdb-beta-inf"),
    refuse(lambda: cv.linear_spike(np.zeros(3)), TypeError, "v", id="linear-numpy"),
    refuse(lambda: cv.linear_spike(_Z, alpha=-1.0), ValueError, "alpha", id="linear-alpha-neg"),
    refuse(lambda: cv.linear_spike(_Z, alpha=True), TypeError, "alpha", id="linear-alpha-bool"),
    refuse(lambda: cv.poisson_spikes([0.5]), TypeError, "x", id="poisson-list"),
    refuse(lambda: cv.poisson_spikes(torch.ones(3, dtype=torch.uint8)), TypeError, "x",
           id="poisson-int"),
    # the neuron
    refuse(lambda: cv.IFNeuron(0.0), ValueError, "threshold", id="neuron-threshold-0"),
    refuse(lambda: cv.IFNeuron(-1.0), ValueError, "threshold", id="neuron-threshold-neg"),
    refuse(lambda: cv.IFNeuron(float("nan")), ValueError, "threshold", id="neuron-threshold-nan"),
    refuse(lambda: cv.IFNeuron("1"), TypeError, "threshold", id="neuron-threshold-str"),
    refuse(lambda: cv.IFNeuron(surrogate="atan"), ValueError, "surrogate", id="neuron-surrogate"),
    refuse(lambda: cv.IFNeuron(alpha=float("inf")), ValueError, "alpha", id="neuron-alpha-inf"),
    refuse(lambda: cv.IFNeuron(beta=-0.1), ValueError, "beta", id="neuron-beta-neg"),
    refuse(lambda: cv.IFNeuron()(torch.zeros(3, dtype=torch.long), None, 0), TypeError,
           "current", id="neuron-current-int"),
    refuse(lambda: cv.IFNeuron()(_Z, None, -1), ValueError, "t", id="neuron-t-neg"),
    refuse(lambda: cv.IFNeuron()(_Z, None, 1.5), TypeError, "t", id="neuron-t-float"),
    refuse(lambda: cv.IFNeuron()(_Z, _Z, 1), TypeError, "state", id="neuron-state-tensor"),
    refuse(lambda: cv.IFNeuron()(_Z, (torch.zeros(4), None), 1), ValueError, "state[0]",
           id="neuron-state-shape"),
    # the network
    refuse(lambda: cv.SpikingNetwork(nn.Linear(3, 2), num_steps=4, input_encoding="direct"),
           TypeError, "layers", id="net-layers-module"),
    refuse(lambda: cv.SpikingNetwork(["relu"], num_steps=4, input_encoding="direct"),
           TypeError, "layers[0]", id="net-layers-str"),
    refuse(lambda: cv.SpikingNetwork([nn.Linear(3, 2, bias=False)], num_steps=4,
                                     input_encoding="direct"),
           ValueError, "IFNeuron", id="net-no-neuron"),
    refuse(lambda: cv.SpikingNetwork([cv.IFNeuron()], num_steps=0, input_encoding="direct"),
           ValueError, "num_steps", id="net-steps-0"),
    refuse(lambda: cv.SpikingNetwork([cv.IFNeuron()], num_steps=2.0, input_encoding="direct"),
           TypeError, "num_steps", id="net-steps-float"),
    refuse(lambda: cv.SpikingNetwork([cv.IFNeuron()], num_steps=2, input_encoding="latency"),
           ValueError, "input_encoding", id="net-encoding"),
    refuse(lambda: _snn()(torch.zeros(12)), ValueError, "x", id="forward-1d"),
    refuse(lambda: _snn()(torch.zeros(4, 12, dtype=torch.long)), TypeError, "x",
           id="forward-int"),
    refuse(lambda: _snn()(np.zeros((4, 12))), TypeError, "x", id="forward-numpy"),
    refuse(lambda: _snn().trace(_X, 0), ValueError, "num_steps", id="trace-steps-0"),
    refuse(lambda: _snn().trace(torch.full((2, 12), float("nan")), 4), ValueError, "x",
           id="trace-nan"),
    refuse(lambda: _snn(input_encoding="rate").trace(_X + 1.5, 4), ValueError, "x",
           id="trace-rate-above-1"),
    refuse(lambda: _snn().layer_rates(_X, -1), ValueError, "num_steps", id="rates-steps-neg"),
    refuse(lambda: _snn().layer_rates(torch.full((2, 12), float("inf"))), ValueError, "x",
           id="rates-inf"),
    refuse(lambda: _snn().set_surrogate("atan"), ValueError, "surrogate", id="set-surrogate"),
    refuse(lambda: _snn().set_surrogate("stdb", alpha=0), ValueError, "alpha",
           id="set-surrogate-alpha"),
    refuse(lambda: _snn().set_surrogate("stdb", beta=-1), ValueError, "beta",
           id="set-surrogate-beta"),
    # conversion
    refuse(lambda: cv.to_spiking(nn.Linear(3, 2, bias=False)), TypeError, "nn.Sequential",
           id="to-spiking-not-sequential"),
    refuse(lambda: cv.to_spiking(_ann(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2, bias=False))),
           ValueError, "has a bias", id="to-spiking-bias"),
    refuse(lambda: cv.to_spiking(_ann(nn.Linear(4, 8, bias=False), nn.ReLU(),
                                      nn.Linear(8, 2, bias=False), nn.ReLU())),
           ValueError, "must not be followed by a ReLU", id="to-spiking-final-relu"),
    refuse(lambda: cv.to_spiking(_ann(nn.ReLU(), nn.Linear(4, 8, bias=False), nn.ReLU(),
                                      nn.Linear(8, 2, bias=False))),
           ValueError, "before its first", id="to-spiking-relu-first"),
    refuse(lambda: cv.to_spiking(_ann(nn.Linear(4, 2, bias=False))), ValueError,
           "followed by a ReLU", id="to-spiking-no-relu"),
    refuse(lambda: cv.to_spiking(_mlp(), num_steps=0), ValueError, "num_steps",
           id="to-spiking-steps"),
    refuse(lambda: cv.to_spiking(_mlp(), threshold=-1.0), ValueError, "threshold",
           id="to-spiking-threshold"),
    refuse(lambda: cv.to_spiking(_mlp(), surrogate="atan"), ValueError, "surrogate",
           id="to-spiking-surrogate"),
    refuse(lambda: cv.to_spiking(_mlp(), input_encoding="latency"), ValueError,
           "input_encoding", id="to-spiking-encoding"),
    refuse(lambda: cv.to_spiking(_mlp(), alpha=0.0), ValueError, "alpha", id="to-spiking-alpha"),
    refuse(lambda: cv.balance_thresholds(_mlp(), _X), TypeError, "snn", id="balance-snn"),
    refuse(lambda: cv.balance_thresholds(_snn(), []), ValueError, "calibration_batches",
           id="balance-empty"),
    refuse(lambda: cv.balance_thresholds(_snn(), "images"), TypeError, "calibration_batches",
           id="balance-str"),
    refuse(lambda: cv.balance_thresholds(_snn(), torch.zeros(0, 12)), ValueError,
           "calibration_batches[0]", id="balance-no-images"),
    refuse(lambda: cv.balance_thresholds(_snn(), torch.full((4, 12), float("nan"))),
           ValueError, "calibration_batches[0]", id="balance-nan"),
    refuse(lambda: cv.balance_thresholds(_snn(), torch.ones(4, 12, dtype=torch.long)),
           TypeError, "calibration_batches[0]", id="balance-int"),
    refuse(lambda: cv.balance_thresholds(_snn(), _X, method="mean"), ValueError, "method",
           id="balance-method"),
    refuse(lambda: cv.balance_thresholds(_snn(), _X, method="percentile", percentile=0),
           ValueError, "percentile", id="balance-percentile-0"),
    refuse(lambda: cv.balance_thresholds(_snn(), _X, method="percentile", percentile=101),
           ValueError, "percentile", id="balance-percentile-101"),
    refuse(lambda: cv.balance_thresholds(_snn(), _X, num_steps=0), ValueError, "num_steps",
           id="balance-steps"),
    refuse(lambda: cv.balance_thresholds(_snn(), torch.zeros(4, 12)), ValueError, "no positive current",
           id="balance-dead"),
    refuse(lambda: cv.convert(_mlp(), _X, scale=-1.0), ValueError, "scale", id="convert-scale"),
    refuse(lambda: cv.convert(_mlp(), _X, scale=float("nan")), ValueError, "scale",
           id="convert-scale-nan"),
    refuse(lambda: cv.convert(_mlp(), _X, calibration_steps=0), ValueError, "num_steps",
           id="convert-calibration-steps"),
    refuse(lambda: cv.convert(_mlp(), _X, method="mean"), ValueError, "method",
           id="convert-method"),
    refuse(lambda: cv.rescaled(_mlp(), 0.7), TypeError, "snn", id="rescaled-snn"),
    refuse(lambda: cv.rescaled(_snn(), 0.0), ValueError, "scale", id="rescaled-scale"),
    # plotting
    refuse(lambda: cv.plot_tradeoff([], {"a": []}, {"a": []}), ValueError, "steps",
           id="plot-empty"),
    refuse(lambda: cv.plot_tradeoff([1, float("nan")], _OK_ACC, _OK_SPK), ValueError, "steps",
           id="plot-steps-nan"),
    refuse(lambda: cv.plot_tradeoff([0, 1], _OK_ACC, _OK_SPK), ValueError, "steps",
           id="plot-steps-0"),
    refuse(lambda: cv.plot_tradeoff([1, 2], [0.1, 0.2], _OK_SPK), TypeError, "accuracy",
           id="plot-accuracy-list"),
    refuse(lambda: cv.plot_tradeoff([1, 2], _OK_ACC, {"b": [1.0, 2.0]}), ValueError,
           "same networks", id="plot-keys"),
    refuse(lambda: cv.plot_tradeoff([1, 2, 3], _OK_ACC, _OK_SPK), ValueError, "same length",
           id="plot-length"),
    refuse(lambda: cv.plot_tradeoff([1, 2], {"a": ["x", "y"]}, _OK_SPK), TypeError,
           "accuracy", id="plot-accuracy-str"),
    refuse(lambda: cv.plot_tradeoff([1, 2], _OK_ACC, _OK_SPK, marker=0), ValueError, "marker",
           id="plot-marker"),
    refuse(lambda: cv.plot_tradeoff([1, 2], _OK_ACC, _OK_SPK, ann_accuracy=1.5), ValueError,
           "ann_accuracy", id="plot-ann-accuracy"),
]  # fmt: skip


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)


@pytest.mark.parametrize(
    "layer", [nn.MaxPool2d(2), nn.BatchNorm2d(4), nn.Sigmoid(), nn.Dropout(0.2)]
)
def test_refuses_unsupported_layers(layer):
    ann = nn.Sequential(
        nn.Conv2d(1, 4, 3, bias=False), layer, nn.ReLU(), nn.Flatten(), nn.Linear(4, 2, bias=False)
    )
    with pytest.raises(TypeError, match="cannot be converted; supported layers"):
        cv.convert(ann, torch.rand(2, 1, 6, 6))


# ------------------------------------------------------------------ any device
@pytest.mark.parametrize("encoding", ["direct", "rate"])
@pytest.mark.parametrize("surrogate", ["stdb", "linear"])
def test_runs_on_meta_device(encoding, surrogate):
    """Forward and backward on PyTorch's meta device: catches tensors pinned to the CPU and
    host read-backs (.item(), bool(tensor)) in the model path without a GPU."""
    meta = torch.device("meta")
    with meta:
        ann = nn.Sequential(
            nn.AvgPool2d(2), nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.ReLU(),
            nn.AvgPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 8, bias=False), nn.ReLU(),
            nn.Linear(8, 3, bias=False),
        )  # fmt: skip
    snn = cv.to_spiking(ann, num_steps=3, surrogate=surrogate, input_encoding=encoding)
    assert all(b.device == meta for b in snn.buffers())
    x = torch.rand(2, 1, 16, 16, device=meta)
    out = snn(x)
    assert out.device == meta and out.shape == (2, 3)
    assert snn.spikes_per_image.device == meta
    out.sum().backward()
    assert all(p.grad is not None and p.grad.device == meta for p in snn.parameters())
    faster = cv.rescaled(snn, 0.7)
    assert faster.layer_rates(x).shape == (2,)
    outs, spikes = faster.trace(x, 2)
    assert outs.shape == (2, 2, 3) and spikes.device == meta
    v = torch.zeros(5, device=meta, requires_grad=True)
    cv.stdb_spike(v, torch.ones(5, device=meta)).sum().backward()
    cv.linear_spike(v).sum().backward()
    assert cv.poisson_spikes(v.detach()).device == meta
