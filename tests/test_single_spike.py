"""Tests of snnbook.single_spike against independent references.

The parallel single-spike layer must equal the step-by-step loop (spikes exactly, and
gradients, whose loop version uses snnTorch's own fast-sigmoid surrogate); the chunked
filter must equal the recursion and its closed form; the latency encoder must equal
snnbook.data.latency_encode (snnTorch's encoder).
"""

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from snnbook.data import latency_encode
from snnbook.single_spike import (
    LatencyEncoder,
    LeakyReadout,
    MultiSpikeLinear,
    SingleSpikeLinear,
    SpikingClassifier,
    first_spike_lif,
    first_spike_lif_loop,
    first_spike_times,
    leaky_filter,
    leaky_filter_loop,
    plot_single_neuron,
)

ROOT = Path(__file__).resolve().parents[1]


def _currents(steps, batch=3, neurons=6, seed=0, scale=0.5):
    gen = torch.Generator().manual_seed(seed)
    return scale * torch.randn(steps, batch, neurons, generator=gen, dtype=torch.float64)


BETAS = [0.0, 0.5, 0.9, 1.0, "per-neuron"]


def _beta(beta, neurons=6, seed=1):
    if beta == "per-neuron":
        return torch.rand(
            neurons, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
        )
    return beta


@pytest.mark.parametrize("steps", [1, 33, 257])
@pytest.mark.parametrize("beta", BETAS)
def test_filter_equals_recursion(steps, beta):
    x = _currents(steps)
    b = _beta(beta)
    torch.testing.assert_close(leaky_filter(x, b), leaky_filter_loop(x, b), rtol=0, atol=1e-10)


@pytest.mark.parametrize("chunk", [1, 3, 8, 32, 500])
def test_filter_any_chunk_and_closed_form(chunk):
    beta, strength, steps = 0.8, 0.3, 90
    x = torch.full((steps, 1, 1), strength, dtype=torch.float64)
    t = torch.arange(steps, dtype=torch.float64)
    closed = strength * (1 - beta ** (t + 1)) / (1 - beta)
    torch.testing.assert_close(leaky_filter(x, beta, chunk=chunk)[:, 0, 0], closed)


@pytest.mark.parametrize("steps", [1, 33, 257])
@pytest.mark.parametrize("beta", BETAS)
@pytest.mark.parametrize("threshold", [0.5, 2.0])
def test_parallel_equals_loop_spikes_and_gradients(steps, beta, threshold):
    x = _currents(steps, scale=0.8).requires_grad_(True)
    b = _beta(beta)
    fast = first_spike_lif(x, b, threshold)
    slow = first_spike_lif_loop(x, b, threshold)
    assert torch.equal(fast, slow)
    weights = torch.randn_like(fast)
    (g_fast,) = torch.autograd.grad((fast * weights).sum(), x)
    (g_slow,) = torch.autograd.grad((slow * weights).sum(), x)
    # snnTorch's surrogate returns float32 spikes, so its gradients carry float32 rounding
    torch.testing.assert_close(g_fast, g_slow, rtol=1e-6, atol=1e-7)


def test_at_most_one_spike_at_first_crossing():
    x = torch.rand(200, 16, 50) * 0.4  # positive drive: most neurons cross many times
    spikes = first_spike_lif(x, 0.9)
    assert set(spikes.unique().tolist()) <= {0.0, 1.0}
    assert spikes.sum(0).max() == 1
    membrane = leaky_filter(x, 0.9)
    crossed = membrane > 1.0
    expected = torch.where(crossed.any(0), crossed.int().argmax(0), 200)
    assert torch.equal(first_spike_times(spikes), expected)
    assert (membrane > 1.0).sum(0).max() > 1  # without the selection there would be more


def test_float32_large_input_matches_loop():
    x = 0.3 * torch.randn(300, 8, 40, generator=torch.Generator().manual_seed(3))
    assert torch.equal(first_spike_lif(x, 0.95), first_spike_lif_loop(x, 0.95))


def test_learnable_beta_gradient_matches_loop():
    x = _currents(60, scale=0.8)
    b1 = torch.full((6,), 0.8, dtype=torch.float64, requires_grad=True)
    b2 = b1.detach().clone().requires_grad_(True)
    w = torch.randn(60, 3, 6, dtype=torch.float64)
    (first_spike_lif(x, b1) * w).sum().backward()
    (first_spike_lif_loop(x, b2) * w).sum().backward()
    assert b1.grad.abs().sum() > 0
    torch.testing.assert_close(b1.grad, b2.grad)


def test_layer_gradients_reach_weights_and_match_loop():
    torch.manual_seed(0)
    fast = SingleSpikeLinear(20, 12, beta=0.9)
    slow = SingleSpikeLinear(20, 12, beta=0.9, method="loop")
    slow.load_state_dict(fast.state_dict())
    x = (torch.rand(40, 5, 20) < 0.2).float()
    w = torch.randn(40, 5, 12)
    (fast(x) * w).sum().backward()
    (slow(x) * w).sum().backward()
    assert fast.fc.weight.grad.abs().sum() > 0
    torch.testing.assert_close(fast.fc.weight.grad, slow.fc.weight.grad, rtol=1e-4, atol=1e-5)


def test_classifier_trains_a_step():
    torch.manual_seed(0)
    model = SpikingClassifier(
        SingleSpikeLinear(16, 8), LeakyReadout(8, 3), encoder=LatencyEncoder(10)
    )
    scores = model(torch.rand(4, 1, 4, 4))
    assert scores.shape == (4, 3)
    torch.nn.functional.cross_entropy(scores, torch.tensor([0, 1, 2, 0])).backward()
    assert model.hidden.fc.weight.grad is not None
    assert model.last_hidden_spikes.shape == (10, 4, 8)


@pytest.mark.parametrize("reduce", ["max", "mean"])
def test_readout_reduces_filtered_membrane(reduce):
    torch.manual_seed(0)
    readout = LeakyReadout(5, 3, beta=0.8, reduce=reduce)
    s = (torch.rand(30, 2, 5) < 0.3).float()
    membrane = leaky_filter_loop(readout.fc(s), 0.8)
    expected = membrane.amax(0) if reduce == "max" else membrane.mean(0)
    torch.testing.assert_close(readout(s), expected)
    with pytest.raises(ValueError, match="reduce must be 'max' or 'mean'"):
        LeakyReadout(5, 3, reduce="sum")


def test_multi_spike_layer_can_fire_repeatedly():
    torch.manual_seed(0)
    layer = MultiSpikeLinear(4, 3)
    with torch.no_grad():
        layer.fc.weight.fill_(1.0)
    spikes = layer(torch.ones(20, 2, 4))
    assert spikes.sum(0).min() > 1


@pytest.mark.parametrize("steps", [2, 25, 64, 100])
def test_latency_encoder_equals_data_latency_encode(steps):
    x = torch.arange(256, dtype=torch.float32).div(255).reshape(4, 64)
    x = torch.cat([x, torch.rand(8, 64)])
    assert torch.equal(LatencyEncoder(steps)(x), latency_encode(x, steps))


def test_first_spike_times_never_fired():
    spikes = torch.zeros(5, 2)
    spikes[3, 0] = 1
    assert first_spike_times(spikes).tolist() == [3, 5]


def test_plot_single_neuron_returns_figure():
    import matplotlib.pyplot as plt

    fig = plot_single_neuron(0.3, 0.9)
    assert fig.axes
    plt.close(fig)


# ------------------------------------------------------------------ bad input
def test_beta_outside_unit_interval():
    x = torch.zeros(5, 2, 3)
    with pytest.raises(ValueError, match=r"beta must lie in \[0, 1\]"):
        first_spike_lif(x, 1.5)
    with pytest.raises(ValueError, match=r"beta must lie in \[0, 1\]"):
        first_spike_lif_loop(x, -0.1)
    with pytest.raises(ValueError, match=r"beta must lie in \[0, 1\]"):
        first_spike_lif(x, torch.tensor([0.5, 1.2, 0.9]))
    with pytest.raises(ValueError, match="one per neuron"):
        first_spike_lif(x, torch.tensor([0.5, 0.9]))
    with pytest.raises(ValueError, match=r"beta must lie in \[0, 1\]"):
        SingleSpikeLinear(3, 2, beta=2.0)


@pytest.mark.parametrize("shape", [(5, 3), (5,), (5, 2, 3, 4)])
def test_wrong_rank(shape):
    with pytest.raises(ValueError, match=r"time-major with shape \(T, batch, neurons\)"):
        first_spike_lif(torch.zeros(shape), 0.9)
    with pytest.raises(ValueError, match=r"time-major with shape \(T, batch, neurons\)"):
        first_spike_lif_loop(torch.zeros(shape), 0.9)


def test_other_bad_arguments():
    x = torch.zeros(5, 2, 3)
    with pytest.raises(TypeError, match="floating-point"):
        first_spike_lif(torch.zeros(5, 2, 3, dtype=torch.long), 0.9)
    with pytest.raises(ValueError, match="no time steps"):
        first_spike_lif(torch.zeros(0, 2, 3), 0.9)
    with pytest.raises(ValueError, match="threshold must be a positive"):
        first_spike_lif(x, 0.9, threshold=0.0)
    with pytest.raises(ValueError, match="chunk must be a positive int"):
        leaky_filter(x, 0.9, chunk=0)
    with pytest.raises(ValueError, match="slope must be positive"):
        first_spike_lif(x, 0.9, slope=-1.0)
    with pytest.raises(ValueError, match="method must be 'parallel' or 'loop'"):
        SingleSpikeLinear(3, 2, method="fft")
    with pytest.raises(ValueError, match=r"input must be \(T, batch, features\)"):
        SingleSpikeLinear(3, 2)(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        LatencyEncoder(10)(torch.full((2, 4), 2.0))


# ------------------------------------------------------------------ the speed script
def test_speed_script_short_prefix(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "single_spike_speed", ROOT / "scripts" / "single_spike_speed.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / "speed.json"
    record = script.main(
        ["--steps", "25", "40", "--widths", "4x10", "--repeats", "1", "--out", str(out)]
    )
    saved = json.loads(out.read_text())
    assert saved["rows"] == record["rows"]
    assert [r["T"] for r in saved["rows"]] == [25, 40]
    for key in ("command", "seed", "versions", "date_utc", "wall_seconds"):
        assert key in saved
    assert all(r["parallel_ms"] > 0 and r["speedup_vs_loop"] > 0 for r in saved["rows"])
    committed = ROOT / "results" / "single_spike_speed.json"
    if committed.exists():  # the committed sweep has the same structure
        full = json.loads(committed.read_text())
        assert {r["T"] for r in full["rows"]} >= {25, 1024}


# ------------------------------------------------------------------ the timing task
def test_spike_timing_task_only_timing_differs():
    from snnbook.data import spike_timing_task

    x, y = spike_timing_task(64, n_inputs=10, n_classes=4, num_steps=30, jitter=0.0, seed=5)
    assert x.shape == (64, 30, 10) and y.shape == (64,)
    assert torch.equal(x.sum(1), torch.ones(64, 10))  # every input fires exactly once
    assert torch.bincount(y).tolist() == [16] * 4
    times = x.argmax(1)
    # without jitter every class has one pattern, and all classes use the same set of times
    for k in range(4):
        assert (times[y == k] == times[y == k][0]).all()
    assert torch.equal(times[y == 0][0].sort().values, times[y == 1][0].sort().values)
    x2, y2 = spike_timing_task(64, n_inputs=10, n_classes=4, num_steps=30, jitter=0.0, seed=5)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    with pytest.raises(ValueError, match="jitter must be >= 0"):
        spike_timing_task(10, jitter=-1.0)
    with pytest.raises(ValueError, match="n_classes >= 2"):
        spike_timing_task(10, n_classes=1)
