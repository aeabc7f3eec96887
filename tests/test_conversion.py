"""Tests for snnbook.conversion: surrogates, IF neuron, threshold balancing, conversion."""

import functools

import numpy as np
import pytest
import torch
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


def _reference_snn(weights, thresholds, x, steps):
    """Plain NumPy IF simulation, direct input, soft reset; returns accumulated output."""
    mems = [np.zeros((len(x), w.shape[0])) for w in weights[:-1]]
    out = np.zeros((len(x), weights[-1].shape[0]))
    for _ in range(steps):
        h = x
        for k, w in enumerate(weights[:-1]):
            mems[k] += h @ w.T
            s = (mems[k] >= thresholds[k]).astype(float)
            mems[k] -= thresholds[k] * s
            h = s
        out += h @ weights[-1].T
    return out


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
    assert spikes[-1].item() == pytest.approx(snn.spikes_per_image, rel=1e-5)
    assert torch.all(spikes[1:] >= spikes[:-1])


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


# ------------------------------------------------------------------ bad input
def test_refuses_biases():
    ann = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2, bias=False))
    with pytest.raises(ValueError, match="has a bias"):
        cv.convert(ann, torch.rand(4, 4))


@pytest.mark.parametrize(
    "layer", [nn.MaxPool2d(2), nn.BatchNorm2d(4), nn.Sigmoid(), nn.Dropout(0.2)]
)
def test_refuses_unsupported_layers(layer):
    ann = nn.Sequential(
        nn.Conv2d(1, 4, 3, bias=False), layer, nn.ReLU(), nn.Flatten(), nn.Linear(4, 2, bias=False)
    )
    with pytest.raises(TypeError, match="cannot be converted; supported layers"):
        cv.convert(ann, torch.rand(2, 1, 6, 6))


def test_refuses_bad_structure_and_options():
    with pytest.raises(TypeError, match="nn.Sequential"):
        cv.to_spiking(nn.Linear(3, 2, bias=False))
    final_relu = nn.Sequential(
        nn.Linear(3, 4, bias=False), nn.ReLU(), nn.Linear(4, 2, bias=False), nn.ReLU()
    )
    with pytest.raises(ValueError, match="at least one IFNeuron"):
        cv.SpikingNetwork([nn.Linear(3, 2, bias=False)], num_steps=4, input_encoding="direct")
    with pytest.raises(ValueError, match="must not be followed by a ReLU"):
        cv.to_spiking(final_relu)
    ann, x, _ = _trained_mlp()
    with pytest.raises(ValueError, match="surrogate must be one of"):
        cv.to_spiking(ann, surrogate="atan")
    with pytest.raises(ValueError, match="input_encoding"):
        cv.to_spiking(ann, input_encoding="latency")
    with pytest.raises(ValueError, match="num_steps must be a positive int"):
        cv.to_spiking(ann, num_steps=0)
    with pytest.raises(ValueError, match="method must be"):
        cv.convert(ann, x[:8], method="mean")
    with pytest.raises(ValueError, match="percentile must be in"):
        cv.convert(ann, x[:8], method="percentile", percentile=0)
    with pytest.raises(ValueError, match="scale must be a positive"):
        cv.convert(ann, x[:8], scale=-1.0)
    with pytest.raises(ValueError, match="calibration_batches must be a non-empty"):
        cv.convert(ann, [])
    with pytest.raises(ValueError, match="same shape"):
        cv.stdb_spike(torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match="alpha must be a positive"):
        cv.linear_spike(torch.zeros(3), alpha=0.0)
    with pytest.raises(ValueError, match="threshold must be a positive"):
        cv.IFNeuron(-1.0)
