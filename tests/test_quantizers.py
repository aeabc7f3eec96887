"""Tests of snnbook.quantizers against independent references (closed forms, snnTorch, formulas)."""

import math

import matplotlib
import pytest
import snntorch as snn
import torch
from conftest import assert_refuses, refuse
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from snnbook.quantizers import (
    SpikingActivation,
    bits_per_activity,
    plot_initial_phase,
    plot_quantizer,
    quantize,
    recorded_counts,
    set_dt,
    significant_bits_per_multiply,
    spike_counts,
    spikes_per_sample,
)

matplotlib.use("Agg")


def closed_form(rates, dt, v0=None):
    """Reference: n_t = floor(S_t) - floor(S_{t-1}) with the running sum S_t = v0 + dt sum r, in float64."""
    rates = rates.double()
    v0 = torch.zeros_like(rates[0]) if v0 is None else v0.double()
    s = torch.cumsum(dt * rates, 0) + v0
    whole = torch.floor(s)
    counts = torch.diff(whole, dim=0, prepend=torch.floor(v0)[None].expand_as(whole[:1]))
    return counts / dt, s[-1] - whole[-1]


@pytest.mark.parametrize("dt", [0.3, 1.0, 7.5])
def test_step_loop_matches_closed_form(dt):
    gen = torch.Generator().manual_seed(1)
    rates = torch.randn(200, 4, 5, generator=gen, dtype=torch.float64) * 2
    v0 = torch.rand(4, 5, generator=gen, dtype=torch.float64)
    out, v = quantize(rates, dt, v0=v0, return_state=True)
    ref, v_ref = closed_form(rates, dt, v0)
    assert torch.equal(out, ref)
    torch.testing.assert_close(v, v_ref, rtol=0, atol=1e-10)


def test_float32_keeps_its_dtype_and_agrees_with_float64():
    gen = torch.Generator().manual_seed(11)
    rates = torch.rand(300, 64, generator=gen) * 3
    out32 = quantize(rates, 0.7)
    assert out32.dtype == torch.float32
    n32 = spike_counts(out32, 0.7).double()
    n64 = spike_counts(quantize(rates.double(), 0.7), 0.7)
    # float32 rounding may move a spike by a step, never the running count by more than one
    assert (torch.cumsum(n32, 0) - torch.cumsum(n64, 0)).abs().max() <= 1
    assert (n32 != n64).double().mean() < 0.01


def test_remainder_that_rounds_up_to_one_is_a_spike():
    # v = -1e-17 has floor -1 and v - floor(v) == 1.0 exactly in float64
    rates = torch.tensor([[-1e-17], [0.5], [0.5]], dtype=torch.float64)
    out, v = quantize(rates, 1.0, return_state=True)
    assert out.flatten().tolist() == [0.0, 0.0, 1.0]
    assert 0 <= v.item() < 1


def test_equals_snntorch_integrate_and_fire():
    """Binary regime: identical to Leaky(beta=1, threshold=1, subtract) fed dt*f(x).

    Inputs on a 1/1024 grid and v0 = 1/2048 make all arithmetic exact and avoid
    ties (snnTorch fires on mem > 1, the quantizer on v >= 1).
    """
    gen = torch.Generator().manual_seed(2)
    current = torch.randint(0, 1025, (300, 16), generator=gen).float() / 1024
    v0 = torch.full((16,), 1 / 2048)
    out = quantize(current, 1.0, v0=v0)
    lif = snn.Leaky(beta=1.0, threshold=1.0, reset_mechanism="subtract")
    mem, spikes = v0.clone(), []
    for c in current:
        spk, mem = lif(c, mem)
        spikes.append(spk)
    assert torch.equal(torch.stack(spikes), out)


def test_carried_error_in_unit_interval_and_bounded_cumulative_error():
    gen = torch.Generator().manual_seed(3)
    rates = torch.tanh(torch.randn(500, 64, generator=gen)) * 3
    for t_end in (1, 10, 500):
        out, v = quantize(rates[:t_end], 0.7, return_state=True)
        assert v.min() >= 0 and v.max() < 1
        err = (0.7 * (out - rates[:t_end])).sum(0)
        assert err.abs().max() < 1 + 1e-4


@pytest.mark.parametrize("dt", [0.01, 0.5, 1.0, 3.0, 100.0])
def test_outputs_are_integer_multiples_of_one_over_dt(dt):
    rates = torch.rand(50, 30, generator=torch.Generator().manual_seed(4), dtype=torch.float64) * 5
    for diffuse in (True, False):
        n = quantize(rates, dt, diffuse=diffuse) * dt
        torch.testing.assert_close(n, torch.round(n), rtol=0, atol=1e-9)


def test_time_average_converges_to_rate():
    rate = torch.rand(100, generator=torch.Generator().manual_seed(5), dtype=torch.float64) * 2
    errors = []
    for steps in (10, 100, 1000):
        out = quantize(rate.expand(steps, -1), 0.5)
        err = (out.mean(0) - rate).abs().max().item()
        assert err < 1 / (steps * 0.5)
        errors.append(err)
    assert errors[0] > errors[1] > errors[2]


def test_naive_rounding_is_per_step_and_biased():
    rates = torch.full((100, 1), 0.3)
    assert torch.equal(quantize(rates, 1.0, diffuse=False), torch.zeros(100, 1))
    assert quantize(rates, 1.0).sum().item() == pytest.approx(30, abs=1)
    x = torch.tensor([[0.49], [0.5], [1.7]])
    assert torch.equal(quantize(x, 1.0, diffuse=False), torch.tensor([[0.0], [1.0], [2.0]]))


def test_v0_broadcasts_over_the_batch():
    rates = torch.rand(20, 3, 5, generator=torch.Generator().manual_seed(12))
    v0 = torch.rand(5, generator=torch.Generator().manual_seed(13))
    assert torch.equal(quantize(rates, 1.0, v0=v0), quantize(rates, 1.0, v0=v0.expand(3, 5)))


@pytest.mark.parametrize("activation", [torch.relu, torch.tanh, lambda x: x.clamp(0, 1)])
def test_gradient_is_the_base_activations(activation):
    x = torch.randn(20, 3, 7, generator=torch.Generator().manual_seed(6), requires_grad=True)
    weights = torch.randn(20, 3, 7, generator=torch.Generator().manual_seed(7))
    (SpikingActivation(activation, dt=0.5)(x) * weights).sum().backward()
    x2 = x.detach().clone().requires_grad_(True)
    (activation(x2) * weights).sum().backward()
    assert torch.equal(x.grad, x2.grad)


def test_forward_is_the_quantizer_and_large_dt_limit():
    x = torch.randn(10, 4, 8, generator=torch.Generator().manual_seed(8))
    act = SpikingActivation(torch.relu, dt=2.0, initial_state="zeros")
    assert torch.equal(act(x), quantize(torch.relu(x), 2.0))
    for dt in (1e2, 1e4):
        act.dt = dt
        assert (act(x) - torch.relu(x)).abs().max() <= 1 / dt
    act.dt = math.inf
    assert torch.equal(act(x), torch.relu(x))


def test_not_spiking_aware_trains_on_rates_and_spikes_in_eval():
    x = torch.randn(10, 2, 6, generator=torch.Generator().manual_seed(9)) + 1
    act = SpikingActivation(torch.relu, dt=1.0, spiking_aware=False)
    assert torch.equal(act(x), torch.relu(x))
    act.eval()
    assert not torch.equal(act(x), torch.relu(x))


def test_seeded_determinism():
    x = torch.rand(30, 5, 9)
    a, b, c = (SpikingActivation(torch.relu, dt=1.0, seed=s) for s in (0, 0, 1))
    assert torch.equal(a(x), b(x))
    assert torch.equal(a(x), a(x))
    assert not torch.equal(a(x), c(x))
    v0 = a.initial_v((9,), x)
    assert torch.equal(a(x), quantize(x, 1.0, v0=v0))


def test_random_phase_is_per_neuron_so_evaluation_ignores_the_batch_size():
    gen = torch.Generator().manual_seed(14)
    x = torch.rand(8, 50, 4, 6, generator=gen) * 1.5
    act = SpikingActivation(torch.relu, dt=0.5, seed=3)
    whole = act(x)
    pieces = torch.cat([act(x[:, i : i + 7]) for i in range(0, 50, 7)], dim=1)
    alone = torch.cat([act(x[:, i : i + 1]) for i in range(50)], dim=1)
    assert torch.equal(whole, pieces)
    assert torch.equal(whole, alone)
    # one phase per neuron: the same input in every batch slot gives the same output
    same = act(x[:, :1].expand(-1, 50, -1, -1))
    assert torch.equal(same, same[:, :1].expand_as(same))
    # ... and different neurons get different phases, spread over [0, 1)
    v0 = act.initial_v((4000,), x)
    assert v0.min() >= 0 and v0.max() < 1
    assert abs(v0.mean().item() - 0.5) < 0.02 and v0.unique().numel() > 3900


def test_zero_phase_fires_in_lockstep_and_random_phase_spreads_spikes():
    rates = torch.full((40, 1, 30), 0.1)
    lockstep = SpikingActivation(lambda r: r, dt=1.0, initial_state="zeros")(rates)[:, 0]
    spread = SpikingActivation(lambda r: r, dt=1.0, seed=0)(rates)[:, 0]
    # v0 = 0: every neuron fires at steps 10, 20, 30, 40 together
    assert torch.equal(lockstep, lockstep[:, :1].expand_as(lockstep))
    assert lockstep.sum(1).max() == 30
    # random phases: same number of spikes per neuron (4 or 3), far fewer at once
    assert set(spread.sum(0).tolist()) <= {3.0, 4.0}
    assert spread.sum(1).max() < 10


def test_dt_schedule_between_steps():
    model = nn.Sequential(nn.Linear(3, 4), SpikingActivation(torch.relu, dt=8.0))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for dt in (8.0, 4.0, 1.0, math.inf):
        assert set_dt(model, dt) == 1
        loss = model(torch.randn(5, 2, 3)).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert model[1].dt == math.inf


def test_bits_per_activity_formula():
    # (T=2, B=1, 4 neurons): max counts 0, 1, 7 and a signed neuron in -2..1
    counts = torch.tensor([[[0.0, 1.0, 7.0, -2.0]], [[0.0, 0.0, 3.0, 1.0]]])
    expected = (0 + 1 + 3 + math.log2(4)) / 4
    assert bits_per_activity(counts) == pytest.approx(expected)
    assert bits_per_activity([counts, counts]) == pytest.approx(expected)
    assert bits_per_activity(counts[:, 0], sample_dims=1) == pytest.approx(expected)


def test_significant_bits_against_python_ints():
    values = torch.arange(-40, 41).double()
    expected = [len(bin(abs(v)).rstrip("0")) - 2 for v in range(-40, 41) if v != 0]
    assert significant_bits_per_multiply(values) == pytest.approx(sum(expected) / len(expected))
    assert significant_bits_per_multiply(torch.tensor([1.0, 0.0, 1.0, 4.0])) == 1.0
    assert math.isnan(significant_bits_per_multiply(torch.zeros(3)))


def test_recorded_counts_and_spikes_per_sample():
    act = SpikingActivation(torch.relu, dt=2.0, record=True)
    x = torch.rand(12, 3, 5) * 3
    out = act(x)
    (counts,) = recorded_counts(nn.Sequential(act))
    assert torch.equal(counts, spike_counts(out, 2.0))
    assert spikes_per_sample(counts) == pytest.approx(counts.sum().item() / 3)


def test_plots_draw_from_tensors_that_require_grad():
    import matplotlib.pyplot as plt

    rates = (torch.rand(40) * 2).requires_grad_(True)
    fig = plot_quantizer(rates, 1.0, v0=0.5)
    assert "bits per activity" in fig._suptitle.get_text()
    plt.close(fig)
    fig = plot_initial_phase(0.2, neurons=10, steps=20)
    assert len(fig.axes) == 3
    plt.close(fig)


class _DtypeLog(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.dtypes = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, tuple | list) else (out,):
            if isinstance(t, torch.Tensor):
                self.dtypes.add(t.dtype)
        return out


def test_float32_model_path_never_uses_float64():
    """Apple's MPS has no float64: a float32 network must not create float64 tensors."""
    x = torch.randn(6, 4, 5, requires_grad=True)
    act = SpikingActivation(torch.relu, dt=0.5, record=True)
    with _DtypeLog() as log:
        act(x).sum().backward()
    assert torch.float64 not in log.dtypes


def test_runs_on_meta_device():
    meta = torch.device("meta")
    model = nn.Sequential(
        nn.Linear(5, 7), SpikingActivation(torch.relu, dt=0.5, record=True), nn.Linear(7, 3)
    ).to(meta)
    x = torch.randn(4, 2, 5, device=meta)
    out = model(x)
    assert out.device == meta and out.shape == (4, 2, 3)
    out.sum().backward()
    assert model[0].weight.grad.device == meta
    assert model[1].counts.device == meta
    zeros = SpikingActivation(torch.relu, dt=2.0, initial_state="zeros").to(meta)
    assert zeros(x).device == meta
    assert quantize(torch.rand(4, 3, device=meta), 1.0).device == meta


def test_two_dimensional_input_is_one_neuron_per_sample() -> None:
    """(T, batch) is the same as (T, batch, 1): one neuron, one phase for every sample."""
    x = torch.rand(7, 4) * 2
    act = SpikingActivation(torch.relu, dt=0.5, seed=3)
    flat = act(x)
    assert flat.shape == x.shape
    torch.testing.assert_close(flat, act(x[:, :, None])[:, :, 0])


def _act(**kw):
    return SpikingActivation(torch.relu, **kw)


_RATES = torch.rand(5, 3)
_COUNTS = torch.ones(2, 2, 3)

BAD_INPUTS = [
    # quantize
    refuse(lambda: quantize([[0.5]], 1.0), TypeError, "rates", id="quantize-list"),
    refuse(
        lambda: quantize(torch.ones(3, 2, dtype=torch.long), 1.0),
        TypeError,
        "rates",
        "float",
        id="quantize-int-dtype",
    ),  # fmt: skip
    refuse(
        lambda: quantize(torch.tensor(1.0), 1.0),
        ValueError,
        "rates",
        "time-major",
        id="quantize-scalar",
    ),  # fmt: skip
    refuse(
        lambda: quantize(torch.empty(0, 3), 1.0), ValueError, "rates", "empty", id="quantize-empty"
    ),  # fmt: skip
    refuse(
        lambda: quantize(torch.tensor([[1.0, math.nan]]), 1.0),
        ValueError,
        "rates",
        "NaN",
        id="quantize-nan",
    ),  # fmt: skip
    refuse(
        lambda: quantize(torch.tensor([[math.inf]]), 1.0),
        ValueError,
        "rates",
        "infinite",
        id="quantize-inf",
    ),  # fmt: skip
    refuse(lambda: quantize(_RATES, 0.0), ValueError, "dt", "> 0", id="quantize-dt-zero"),
    refuse(lambda: quantize(_RATES, -1.0), ValueError, "dt", id="quantize-dt-negative"),
    refuse(lambda: quantize(_RATES, math.nan), ValueError, "dt", id="quantize-dt-nan"),
    refuse(lambda: quantize(_RATES, math.inf), ValueError, "dt", id="quantize-dt-inf"),
    refuse(lambda: quantize(_RATES, "1"), TypeError, "dt", id="quantize-dt-str"),
    refuse(lambda: quantize(_RATES, True), TypeError, "dt", id="quantize-dt-bool"),
    refuse(
        lambda: quantize(_RATES, 1.0, v0=torch.zeros(4)),
        ValueError,
        "v0",
        "shape",
        id="quantize-v0-shape",
    ),  # fmt: skip
    refuse(
        lambda: quantize(_RATES, 1.0, v0=torch.ones(3)),
        ValueError,
        "v0",
        "[0, 1)",
        id="quantize-v0-one",
    ),  # fmt: skip
    refuse(
        lambda: quantize(_RATES, 1.0, v0=-0.1 * torch.ones(3)),
        ValueError,
        "v0",
        id="quantize-v0-negative",
    ),  # fmt: skip
    refuse(
        lambda: quantize(_RATES, 1.0, v0=torch.full((3,), math.nan)),
        ValueError,
        "v0",
        "NaN",
        id="quantize-v0-nan",
    ),  # fmt: skip
    refuse(
        lambda: quantize(_RATES, 1.0, v0=0.5), TypeError, "v0", "Tensor", id="quantize-v0-float"
    ),  # fmt: skip
    refuse(lambda: quantize(_RATES, 1.0, diffuse=1), TypeError, "diffuse", id="quantize-diffuse"),
    refuse(
        lambda: quantize(_RATES, 1.0, return_state="yes"),
        TypeError,
        "return_state",
        id="quantize-return-state",
    ),  # fmt: skip
    # SpikingActivation
    refuse(lambda: SpikingActivation("relu"), TypeError, "activation", id="act-activation"),
    refuse(lambda: _act(dt=-0.1), ValueError, "dt", id="act-dt-negative"),
    refuse(lambda: _act(dt=math.nan), ValueError, "dt", id="act-dt-nan"),
    refuse(lambda: _act(dt=-math.inf), ValueError, "dt", id="act-dt-minus-inf"),
    refuse(lambda: _act(dt=None), TypeError, "dt", id="act-dt-none"),
    refuse(lambda: _act(spiking_aware=0), TypeError, "spiking_aware", id="act-aware"),
    refuse(lambda: _act(initial_state="uniform"), ValueError, "initial_state", id="act-state"),
    refuse(lambda: _act(seed=-1), ValueError, "seed", id="act-seed-negative"),
    refuse(lambda: _act(seed=1.5), TypeError, "seed", id="act-seed-float"),
    refuse(lambda: _act(record="no"), TypeError, "record", id="act-record"),
    refuse(lambda: setattr(_act(), "dt", 0), ValueError, "dt", id="act-set-dt"),
    refuse(lambda: _act()(torch.rand(5)), ValueError, "input", "(T, batch", id="act-1d"),
    refuse(
        lambda: _act()(torch.ones(5, 2, 3, dtype=torch.int64)),
        TypeError,
        "input",
        "float",
        id="act-int",
    ),  # fmt: skip
    refuse(lambda: _act()(torch.rand(5, 2, 3).numpy()), TypeError, "input", id="act-numpy"),
    refuse(lambda: _act().initial_v((-1,), _RATES), ValueError, "neurons", id="initial-v-shape"),
    refuse(lambda: _act().initial_v((3,), [0.0]), TypeError, "like", id="initial-v-like"),
    # spike_counts
    refuse(lambda: spike_counts([1.0], 1.0), TypeError, "activities", id="counts-list"),
    refuse(lambda: spike_counts(_RATES, 0), ValueError, "dt", id="counts-dt"),
    # bits_per_activity
    refuse(
        lambda: bits_per_activity(torch.rand(2, 2, 2)), ValueError, "integer", id="bits-not-integer"
    ),  # fmt: skip
    refuse(
        lambda: bits_per_activity(torch.ones(4, 3)),
        ValueError,
        "sample_dims",
        id="bits-no-neuron-axis",
    ),  # fmt: skip
    refuse(lambda: bits_per_activity([]), ValueError, "counts", "empty", id="bits-empty-list"),
    refuse(
        lambda: bits_per_activity(torch.empty(0, 2, 3)),
        ValueError,
        "counts",
        "empty",
        id="bits-empty-tensor",
    ),  # fmt: skip
    refuse(lambda: bits_per_activity(3), TypeError, "counts", id="bits-int"),
    refuse(lambda: bits_per_activity([_COUNTS, "x"]), TypeError, "counts[1]", id="bits-item"),
    refuse(
        lambda: bits_per_activity(torch.full((2, 2, 2), math.nan)), ValueError, "NaN", id="bits-nan"
    ),  # fmt: skip
    refuse(
        lambda: bits_per_activity(_COUNTS, sample_dims=0),
        ValueError,
        "sample_dims",
        id="bits-sample-dims",
    ),  # fmt: skip
    # significant_bits_per_multiply
    refuse(
        lambda: significant_bits_per_multiply(torch.tensor([0.5])),
        ValueError,
        "integer",
        id="sig-not-integer",
    ),  # fmt: skip
    refuse(lambda: significant_bits_per_multiply(None), TypeError, "counts", id="sig-none"),
    refuse(
        lambda: significant_bits_per_multiply(torch.tensor([math.inf])),
        ValueError,
        "NaN",
        id="sig-inf",
    ),  # fmt: skip
    # spikes_per_sample
    refuse(
        lambda: spikes_per_sample([_COUNTS, torch.ones(2, 3, 3)]),
        ValueError,
        "batch size",
        id="spikes-batch-disagree",
    ),  # fmt: skip
    refuse(
        lambda: spikes_per_sample(_COUNTS, batch_dim=3),
        ValueError,
        "batch_dim",
        id="spikes-batch-dim-range",
    ),  # fmt: skip
    refuse(
        lambda: spikes_per_sample(_COUNTS, batch_dim=-1),
        ValueError,
        "batch_dim",
        id="spikes-batch-dim-negative",
    ),  # fmt: skip
    refuse(
        lambda: spikes_per_sample(torch.rand(2, 2, 3)),
        ValueError,
        "integer",
        id="spikes-not-integer",
    ),  # fmt: skip
    # set_dt / recorded_counts
    refuse(
        lambda: set_dt(nn.Linear(2, 2), 1.0),
        ValueError,
        "SpikingActivation",
        id="set-dt-none-inside",
    ),  # fmt: skip
    refuse(lambda: set_dt("model", 1.0), TypeError, "module", id="set-dt-not-module"),
    refuse(lambda: set_dt(nn.Sequential(_act()), -2.0), ValueError, "dt", id="set-dt-negative"),
    refuse(
        lambda: recorded_counts(nn.Sequential(_act())),
        ValueError,
        "record=True",
        id="recorded-none",
    ),  # fmt: skip
    refuse(lambda: recorded_counts([_act()]), TypeError, "module", id="recorded-not-module"),
    # plots
    refuse(
        lambda: plot_quantizer(torch.rand(5, 2), 1.0), ValueError, "rates", "1-D", id="plot-2d"
    ),  # fmt: skip
    refuse(
        lambda: plot_quantizer(torch.rand(5), 1.0, v0=1.0), ValueError, "v0", id="plot-v0"
    ),  # fmt: skip
    refuse(lambda: plot_quantizer(torch.rand(5), 0.0), ValueError, "dt", id="plot-dt"),
    refuse(
        lambda: plot_quantizer(torch.rand(5), 1.0, title=3), TypeError, "title", id="plot-title"
    ),  # fmt: skip
    refuse(
        lambda: plot_quantizer(torch.rand(5), 1.0, figsize=(8, -1)),
        ValueError,
        "figsize",
        id="plot-figsize",
    ),  # fmt: skip
    refuse(
        lambda: plot_quantizer(torch.tensor([0.5, math.nan]), 1.0), ValueError, "NaN", id="plot-nan"
    ),  # fmt: skip
    refuse(lambda: plot_initial_phase(-0.1), ValueError, "rate", id="phase-rate"),
    refuse(lambda: plot_initial_phase(0.1, neurons=0), ValueError, "neurons", id="phase-neurons"),
    refuse(lambda: plot_initial_phase(0.1, steps=2.5), TypeError, "steps", id="phase-steps"),
    refuse(lambda: plot_initial_phase(0.1, seed=-3), ValueError, "seed", id="phase-seed"),
]


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)
