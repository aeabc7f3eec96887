"""Tests of snnbook.single_spike against independent references.

The parallel single-spike layer must equal the step-by-step loop (spikes exactly, and
gradients, whose loop version uses snnTorch's own fast-sigmoid surrogate); both selection
gradients must equal a plain-autograd version written with torch.cumsum as the papers write
it; the chunked filter must equal the recursion and its closed form; the sparse input product
must equal the dense one; the latency encoder must equal snnbook.data.latency_encode
(snnTorch's encoder). Every public function refuses careless input, and every model runs
forward and backward on PyTorch's meta device.
"""

import math

import pytest
import torch
from conftest import assert_refuses, refuse

from snnbook.data import latency_encode
from snnbook.single_spike import (
    LatencyEncoder,
    LeakyReadout,
    MultiSpikeLinear,
    SingleSpikeLinear,
    SpikingClassifier,
    chunk_length,
    first_spike_lif,
    first_spike_lif_loop,
    first_spike_lif_reference,
    first_spike_times,
    leaky_filter,
    leaky_filter_loop,
    multi_spike_lif_loop,
    plot_chunked_scan,
    plot_single_neuron,
    plot_speedups,
    sparse_linear,
)


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


def _grads(fn_a, fn_b, x, seed=2):
    """Spikes and input gradients of two implementations for one random loss direction."""
    xa, xb = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    sa, sb = fn_a(xa), fn_b(xb)
    direction = torch.randn(sa.shape, generator=torch.Generator().manual_seed(seed)).to(sa)
    (sa * direction).sum().backward()
    (sb * direction.to(sb)).sum().backward()
    return sa, sb, xa.grad, xb.grad


# ------------------------------------------------------------------ the filter
@pytest.mark.parametrize("steps", [1, 2, 33, 257])
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


@pytest.mark.parametrize("beta", [0.7, "per-neuron"])
def test_filter_gradients_match_recursion(beta):
    x = _currents(50)
    b1 = torch.tensor(0.7, dtype=torch.float64) if beta == 0.7 else _beta(beta)
    b1 = b1.clone().requires_grad_(True)
    b2 = b1.detach().clone().requires_grad_(True)
    _, _, g1, g2 = _grads(lambda z: leaky_filter(z, b1), lambda z: leaky_filter_loop(z, b2), x)
    torch.testing.assert_close(g1, g2)
    torch.testing.assert_close(b1.grad, b2.grad)


def test_chunk_length_is_a_fixed_rule():
    assert [chunk_length(t) for t in (1, 2, 25, 50, 100, 101, 400, 1024)] == [
        1, 2, 5, 10, 10, 11, 20, 32,
    ]  # fmt: skip
    for t in range(1, 300):
        c, root = chunk_length(t), math.isqrt(t - 1) + 1
        assert root <= c <= 2 * root and (t % c == 0 or c == root)


# ------------------------------------------------------------------ single-spike LIF
@pytest.mark.parametrize("steps", [1, 2, 33, 257])
@pytest.mark.parametrize("beta", BETAS)
@pytest.mark.parametrize("threshold", [0.5, 2.0])
def test_parallel_equals_loop_spikes_and_gradients(steps, beta, threshold):
    b = _beta(beta)
    fast, slow, g_fast, g_slow = _grads(
        lambda z: first_spike_lif(z, b, threshold),
        lambda z: first_spike_lif_loop(z, b, threshold),
        _currents(steps, scale=0.8),
    )
    assert torch.equal(fast, slow.to(fast))
    # snnTorch's surrogate returns float32 spikes, so its gradients carry float32 rounding
    torch.testing.assert_close(g_fast, g_slow, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("selection", ["detached", "straight_through"])
@pytest.mark.parametrize("steps", [1, 40, 257])
@pytest.mark.parametrize("beta", [0.0, 0.9, "per-neuron"])
def test_both_selections_equal_the_cumsum_reference(selection, steps, beta):
    b = _beta(beta)
    fast, ref, g_fast, g_ref = _grads(
        lambda z: first_spike_lif(z, b, selection=selection),
        lambda z: first_spike_lif_reference(z, b, selection=selection),
        _currents(steps, scale=0.8),
    )
    assert torch.equal(fast, ref.to(fast))
    # the reference sums float32 surrogate values: compare relative to the largest gradient
    scale = g_ref.abs().max().item()
    torch.testing.assert_close(g_fast, g_ref, rtol=0, atol=1e-6 * scale + 1e-12)


def test_straight_through_reaches_steps_after_the_first_spike():
    x = torch.full((30, 1, 1), 0.5, dtype=torch.float64)  # fires at t = 2, then stays above
    grads = {}
    for selection in ("detached", "straight_through"):
        xi = x.clone().requires_grad_(True)
        first_spike_lif(xi, 0.9, selection=selection).sum().backward()
        grads[selection] = xi.grad[:, 0, 0]
    assert torch.all(grads["detached"][3:] == 0)  # nothing after the spike
    assert torch.all(grads["straight_through"][3:] != 0)


@pytest.mark.parametrize("selection", ["detached", "straight_through"])
def test_learnable_beta_gradient_matches_reference(selection):
    x = _currents(60, scale=0.8)
    b1 = torch.full((6,), 0.8, dtype=torch.float64, requires_grad=True)
    b2 = b1.detach().clone().requires_grad_(True)
    w = torch.randn(60, 3, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    (first_spike_lif(x, b1, selection=selection) * w).sum().backward()
    (first_spike_lif_reference(x, b2, selection=selection) * w).sum().backward()
    assert b1.grad.abs().sum() > 0
    torch.testing.assert_close(b1.grad, b2.grad, rtol=1e-5, atol=1e-6)
    if selection == "detached":  # and the loop's
        b3 = b1.detach().clone().requires_grad_(True)
        (first_spike_lif_loop(x, b3) * w).sum().backward()
        torch.testing.assert_close(b1.grad, b3.grad, rtol=1e-5, atol=1e-6)


def test_at_most_one_spike_at_first_crossing():
    x = torch.rand(200, 16, 50, generator=torch.Generator().manual_seed(0)) * 0.4
    spikes = first_spike_lif(x, 0.9)
    assert set(spikes.unique().tolist()) <= {0.0, 1.0}
    assert spikes.sum(0).max() == 1
    membrane = leaky_filter(x, 0.9)
    crossed = membrane > 1.0
    expected = torch.where(crossed.any(0), crossed.int().argmax(0), 200)
    assert torch.equal(first_spike_times(spikes), expected)
    assert (membrane > 1.0).sum(0).max() > 1  # without the selection there would be more


@pytest.mark.parametrize("steps", [100, 300, 1024])
def test_float32_large_input_matches_loop(steps):
    x = 0.3 * torch.randn(steps, 8, 40, generator=torch.Generator().manual_seed(3))
    fast, slow, g_fast, g_slow = _grads(
        lambda z: first_spike_lif(z, 0.95), lambda z: first_spike_lif_loop(z, 0.95), x
    )
    assert torch.equal(fast, slow)
    torch.testing.assert_close(g_fast, g_slow, rtol=1e-4, atol=1e-5)


def test_backward_runs_once_per_forward():
    x = _currents(20).requires_grad_(True)
    out = first_spike_lif(x, 0.9).sum()
    out.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="once per forward"):
        out.backward()


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


# ------------------------------------------------------------------ the input product
def test_sparse_linear_equals_dense_product():
    torch.manual_seed(0)
    fc = torch.nn.Linear(784, 50)
    x = (torch.rand(25, 16, 784) < 0.02).float() * torch.rand(25, 16, 784)
    w = torch.randn(25, 16, 50)
    out = sparse_linear(x, fc.weight, fc.bias)
    torch.testing.assert_close(out, fc(x), rtol=1e-5, atol=1e-5)
    (out * w).sum().backward()
    g_w, g_b = fc.weight.grad.clone(), fc.bias.grad.clone()
    fc.zero_grad()
    (fc(x) * w).sum().backward()
    torch.testing.assert_close(g_w, fc.weight.grad, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(g_b, fc.bias.grad, rtol=1e-4, atol=1e-4)
    assert torch.equal(sparse_linear(torch.zeros(3, 784), fc.weight), torch.zeros(3, 50))


@pytest.mark.parametrize("steps", [2, 25, 100])
def test_sparse_latency_code_equals_dense(steps):
    images = torch.rand(7, 1, 6, 6)
    images[0] = 0.0  # a silent image
    sparse = LatencyEncoder(steps, sparse=True)(images)
    assert sparse.is_sparse and sparse.is_coalesced()
    assert torch.equal(sparse.to_dense(), LatencyEncoder(steps)(images))
    fc = torch.nn.Linear(36, 5)
    torch.testing.assert_close(sparse_linear(sparse, fc.weight, fc.bias), fc(sparse.to_dense()))


@pytest.mark.parametrize("layer", [SingleSpikeLinear, MultiSpikeLinear])
@pytest.mark.parametrize("encoding", ["dense", "sparse COO"])
def test_layers_same_with_sparse_or_dense_input_product(layer, encoding):
    torch.manual_seed(0)
    sparse, dense = layer(30, 10), layer(30, 10, sparse_input=False)
    dense.load_state_dict(sparse.state_dict())
    images = torch.rand(6, 30)
    x = LatencyEncoder(20, sparse=encoding == "sparse COO")(images)
    x_dense = LatencyEncoder(20)(images)
    w = torch.randn(20, 6, 10)
    (sparse(x) * w).sum().backward()
    (dense(x_dense) * w).sum().backward()
    assert torch.equal(sparse(x), dense(x_dense))
    torch.testing.assert_close(sparse.fc.weight.grad, dense.fc.weight.grad, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(sparse.fc.bias.grad, dense.fc.bias.grad, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------ the networks
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


def test_plots_return_figures():
    import matplotlib.pyplot as plt

    for fig in (
        plot_single_neuron(0.3, 0.9),
        plot_single_neuron(0.05, 0.5),  # never fires
        plot_chunked_scan(16, 4),
        plot_speedups([25, 100], {"a": [1.0, 2.0]}),
    ):
        assert fig.axes
        plt.close(fig)


# ------------------------------------------------------------------ any device
def _models():
    return {
        "parallel": SpikingClassifier(
            SingleSpikeLinear(16, 8), LeakyReadout(8, 3), encoder=LatencyEncoder(10)
        ),
        "straight-through, learned beta": SpikingClassifier(
            SingleSpikeLinear(16, 8, selection="straight_through", learn_beta=True),
            LeakyReadout(8, 3, reduce="max"),
            encoder=LatencyEncoder(10),
        ),
        "loop": SpikingClassifier(
            SingleSpikeLinear(16, 8, method="loop"), LeakyReadout(8, 3), encoder=LatencyEncoder(10)
        ),
        "multi-spike": SpikingClassifier(
            MultiSpikeLinear(16, 8), LeakyReadout(8, 3), encoder=LatencyEncoder(10)
        ),
        "no encoder": SpikingClassifier(SingleSpikeLinear(16, 8), LeakyReadout(8, 3)),
        "sparse encoder": SpikingClassifier(
            SingleSpikeLinear(16, 8), LeakyReadout(8, 3), encoder=LatencyEncoder(10, sparse=True)
        ),
    }


@pytest.mark.parametrize("name", list(_models()))
def test_runs_on_meta_device(name):
    meta = torch.device("meta")
    model = _models()[name].to(meta)  # snn.Leaky reads its buffers when built: build, then move
    x = torch.rand(4, 12, 16, device=meta) if name == "no encoder" else torch.rand(4, 16).to(meta)
    scores = model(x)
    assert scores.shape == (4, 3) and scores.device.type == "meta"
    scores.sum().backward()
    assert model.hidden.fc.weight.grad.device.type == "meta"


def test_functions_run_on_meta_device():
    x = torch.rand(30, 2, 5, device="meta", requires_grad=True)
    beta = torch.rand(5, device="meta")
    for out in (
        leaky_filter(x, 0.9),
        first_spike_lif(x, 0.9, selection="straight_through"),
        first_spike_lif(x, beta),
    ):
        out.sum().backward()
        assert x.grad.device.type == "meta"


# ------------------------------------------------------------------ bad input
_X = torch.zeros(5, 2, 3)
_NAN = torch.full((5, 2, 3), math.nan)

BAD_INPUTS = [
    # the filter and the neurons
    refuse(lambda: leaky_filter(_X.numpy(), 0.9), TypeError, "currents", id="filter-numpy"),
    refuse(lambda: leaky_filter(torch.zeros(5, 3), 0.9), ValueError, "currents", id="filter-2d"),
    refuse(lambda: leaky_filter(_X, 1.5), ValueError, "beta", id="filter-beta-high"),
    refuse(lambda: leaky_filter(_X, math.nan), ValueError, "beta", id="filter-beta-nan"),
    refuse(lambda: leaky_filter(_X, "0.9"), TypeError, "beta", id="filter-beta-str"),
    refuse(lambda: leaky_filter(_X, 0.9, chunk=0), ValueError, "chunk", id="filter-chunk-0"),
    refuse(lambda: leaky_filter(_X, 0.9, chunk=2.0), TypeError, "chunk", id="filter-chunk-float"),
    refuse(lambda: leaky_filter_loop(_X, -0.1), ValueError, "beta", id="filter-loop-beta"),
    refuse(
        lambda: leaky_filter_loop(torch.zeros(0, 2, 3), 0.9), ValueError, "empty", id="loop-empty"
    ),
    refuse(lambda: first_spike_lif(_X, 1.5), ValueError, "beta", id="fs-beta-high"),
    refuse(
        lambda: first_spike_lif(_X, torch.tensor([0.5, 1.2, 0.9])),
        ValueError,
        "beta",
        id="fs-beta-tensor-range",
    ),
    refuse(
        lambda: first_spike_lif(_X, torch.tensor([0.5, 0.9])),
        ValueError,
        "one per neuron",
        id="fs-beta-tensor-shape",
    ),
    refuse(
        lambda: first_spike_lif(_X, torch.tensor([0.5, math.nan, 0.9])),
        ValueError,
        "beta",
        id="fs-beta-tensor-nan",
    ),
    refuse(
        lambda: first_spike_lif(torch.zeros(5, 2, 3, dtype=torch.long), 0.9),
        TypeError,
        "currents",
        id="fs-long",
    ),
    refuse(lambda: first_spike_lif(torch.zeros(0, 2, 3), 0.9), ValueError, "empty", id="fs-empty"),
    refuse(lambda: first_spike_lif(torch.zeros(5), 0.9), ValueError, "currents", id="fs-1d"),
    refuse(lambda: first_spike_lif(_X, 0.9, threshold=0.0), ValueError, "threshold", id="fs-thr-0"),
    refuse(
        lambda: first_spike_lif(_X, 0.9, threshold=math.inf), ValueError, "threshold", id="fs-inf"
    ),
    refuse(lambda: first_spike_lif(_X, 0.9, slope=-1.0), ValueError, "slope", id="fs-slope"),
    refuse(lambda: first_spike_lif(_X, 0.9, chunk=-3), ValueError, "chunk", id="fs-chunk"),
    refuse(
        lambda: first_spike_lif(_X, 0.9, selection="fastsnn"), ValueError, "selection", id="fs-sel"
    ),
    refuse(lambda: first_spike_lif_loop(_X, 0.9, threshold=-1), ValueError, "threshold", id="lp"),
    refuse(lambda: first_spike_lif_loop(_X, 0.9, slope=0), ValueError, "slope", id="lp-slope"),
    refuse(
        lambda: first_spike_lif_reference(_X, 0.9, selection="x"), ValueError, "selection", id="rf"
    ),
    refuse(lambda: multi_spike_lif_loop(_X, 2.0), ValueError, "beta", id="multi-beta"),
    refuse(lambda: multi_spike_lif_loop(_X, 0.9, threshold=0), ValueError, "threshold", id="m-th"),
    refuse(lambda: chunk_length(0), ValueError, "steps", id="chunk-length-0"),
    refuse(lambda: chunk_length(2.5), TypeError, "steps", id="chunk-length-float"),
    refuse(lambda: first_spike_times(torch.zeros(())), ValueError, "spikes", id="times-scalar"),
    refuse(lambda: first_spike_times([0, 1]), TypeError, "spikes", id="times-list"),
    # the input product
    refuse(
        lambda: sparse_linear(torch.zeros(4, 5), torch.zeros(3, 6)), ValueError, "features", id="sl"
    ),
    refuse(
        lambda: sparse_linear(torch.zeros(4, 5, requires_grad=True), torch.zeros(3, 5)),
        ValueError,
        "gradient",
        id="sparse-grad",
    ),
    refuse(
        lambda: sparse_linear(torch.zeros(4, 5), torch.zeros(3, 5), torch.zeros(4)),
        ValueError,
        "bias",
        id="sparse-bias",
    ),
    refuse(
        lambda: sparse_linear(torch.zeros(4, 5, device="meta"), torch.zeros(3, 5)),
        ValueError,
        "CPU",
        id="sparse-meta",
    ),
    refuse(
        lambda: sparse_linear(torch.zeros(4, 5).to_sparse(), torch.zeros(3, 5)),
        ValueError,
        "sparse x",
        id="sparse-2d-coo",
    ),
    refuse(
        lambda: sparse_linear(torch.zeros(4, 5, dtype=torch.long), torch.zeros(3, 5)),
        TypeError,
        "x",
        id="sparse-long",
    ),
    # layers
    refuse(lambda: SingleSpikeLinear(0, 2), ValueError, "in_features", id="ssl-in"),
    refuse(lambda: SingleSpikeLinear(3, 2.5), TypeError, "out_features", id="ssl-out"),
    refuse(lambda: SingleSpikeLinear(3, 2, beta=2.0), ValueError, "beta", id="ssl-beta"),
    refuse(lambda: SingleSpikeLinear(3, 2, threshold=0), ValueError, "threshold", id="ssl-thr"),
    refuse(lambda: SingleSpikeLinear(3, 2, slope=math.nan), ValueError, "slope", id="ssl-slope"),
    refuse(lambda: SingleSpikeLinear(3, 2, method="fft"), ValueError, "method", id="ssl-method"),
    refuse(lambda: SingleSpikeLinear(3, 2, selection="x"), ValueError, "selection", id="ssl-sel"),
    refuse(
        lambda: SingleSpikeLinear(3, 2, method="loop", selection="straight_through"),
        ValueError,
        "straight_through",
        id="ssl-loop-st",
    ),
    refuse(lambda: SingleSpikeLinear(3, 2, learn_beta=1), TypeError, "learn_beta", id="ssl-lb"),
    refuse(lambda: SingleSpikeLinear(3, 2, bias="no"), TypeError, "bias", id="ssl-bias"),
    refuse(lambda: SingleSpikeLinear(3, 2, sparse_input=0), TypeError, "sparse_input", id="ssl-sp"),
    refuse(lambda: SingleSpikeLinear(3, 2)(torch.zeros(2, 3)), ValueError, "input", id="ssl-2d"),
    refuse(lambda: SingleSpikeLinear(3, 2)(torch.zeros(4, 2, 5)), ValueError, "3", id="ssl-feat"),
    refuse(
        lambda: SingleSpikeLinear(3, 2)(torch.zeros(4, 2, 3, dtype=torch.long)),
        TypeError,
        "input",
        id="ssl-long",
    ),
    refuse(lambda: MultiSpikeLinear(3, 0), ValueError, "out_features", id="msl-out"),
    refuse(lambda: MultiSpikeLinear(3, 2, beta=-0.5), ValueError, "beta", id="msl-beta"),
    refuse(lambda: MultiSpikeLinear(3, 2, slope=0), ValueError, "slope", id="msl-slope"),
    refuse(lambda: MultiSpikeLinear(3, 2)(torch.zeros(4, 2, 5)), ValueError, "input", id="msl-x"),
    refuse(lambda: LeakyReadout(5, 3, reduce="sum"), ValueError, "reduce", id="readout-reduce"),
    refuse(lambda: LeakyReadout(5, 3, beta=1.5), ValueError, "beta", id="readout-beta"),
    refuse(lambda: LeakyReadout(5, 3)(torch.zeros(4, 2, 6)), ValueError, "spikes", id="readout-x"),
    refuse(lambda: LatencyEncoder(1), ValueError, "num_steps", id="enc-steps"),
    refuse(lambda: LatencyEncoder(10.0), TypeError, "num_steps", id="enc-steps-float"),
    refuse(lambda: LatencyEncoder(10, threshold=2.0), ValueError, "threshold", id="enc-thr"),
    refuse(lambda: LatencyEncoder(10, sparse="yes"), TypeError, "sparse", id="enc-sparse"),
    refuse(lambda: LatencyEncoder(10)(torch.zeros(4)), ValueError, "images", id="enc-1d"),
    refuse(
        lambda: LatencyEncoder(10)(torch.zeros(4, 5, dtype=torch.uint8)),
        TypeError,
        "images",
        id="enc-uint8",
    ),
    refuse(
        lambda: SpikingClassifier("layer", LeakyReadout(3, 2)), TypeError, "hidden", id="clf-hidden"
    ),
    refuse(
        lambda: SpikingClassifier(SingleSpikeLinear(3, 2), LeakyReadout(2, 2), encoder=5),
        TypeError,
        "encoder",
        id="clf-encoder",
    ),
    refuse(
        lambda: SpikingClassifier(SingleSpikeLinear(3, 2), LeakyReadout(2, 2))(torch.zeros(4, 3)),
        ValueError,
        "x",
        id="clf-x",
    ),
    # plots
    refuse(lambda: plot_single_neuron(math.nan, 0.9), ValueError, "strength", id="plot-strength"),
    refuse(lambda: plot_single_neuron(0.3, 1.2), ValueError, "beta", id="plot-beta"),
    refuse(lambda: plot_single_neuron(0.3, 0.9, num_steps=1), ValueError, "num_steps", id="p-n"),
    refuse(lambda: plot_chunked_scan(16, 5), ValueError, "multiple", id="scan-diagram"),
    refuse(lambda: plot_chunked_scan(16, 1), ValueError, "chunk", id="scan-diagram-chunk"),
    refuse(lambda: plot_speedups([25, 100], {"a": [1.0]}), ValueError, "speedups", id="sp-len"),
    refuse(lambda: plot_speedups([0], {"a": [1.0]}), ValueError, "steps", id="sp-steps"),
]


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)


def test_plain_numbers_accepted():
    # a 0-d tensor or an int works where a float is expected; a checked call still runs
    x = _currents(10)
    torch.testing.assert_close(first_spike_lif(x, torch.tensor(0.9)), first_spike_lif(x, 0.9))
    assert first_spike_lif(x, 1, threshold=1).shape == x.shape


# ------------------------------------------------------------------ the timing task
def test_spike_timing_task_only_timing_differs():
    from snnbook.data import spike_timing_task

    x, y = spike_timing_task(64, n_inputs=10, n_classes=4, num_steps=30, jitter=0.0, seed=5)
    assert x.shape == (64, 30, 10) and y.shape == (64,)
    assert torch.equal(x.sum(1), torch.ones(64, 10))  # every input fires exactly once
    assert torch.bincount(y).tolist() == [16] * 4
    times = x.argmax(1)
    for k in range(4):  # without jitter every class has one pattern, all with the same times
        assert (times[y == k] == times[y == k][0]).all()
    assert torch.equal(times[y == 0][0].sort().values, times[y == 1][0].sort().values)
