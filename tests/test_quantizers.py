"""Tests of snnbook.quantizers against independent references (plain loops, snnTorch, formulas)."""

import math

import pytest
import snntorch as snn
import torch
from torch import nn

from snnbook.quantizers import (
    SpikingActivation,
    bits_per_activity,
    quantize,
    recorded_counts,
    set_dt,
    significant_bits_per_multiply,
    spike_counts,
    spikes_per_sample,
)


def loop_quantize(rates, dt, v0=None):
    """Reference: the step-by-step definition, in float64."""
    v = torch.zeros_like(rates[0], dtype=torch.float64) if v0 is None else v0.double().clone()
    out = []
    for r in rates.double():
        v = v + dt * r
        n = torch.floor(v)
        v = v - n
        out.append(n / dt)
    return torch.stack(out), v


@pytest.mark.parametrize("dt", [0.3, 1.0, 7.5])
def test_closed_form_matches_loop(dt):
    gen = torch.Generator().manual_seed(1)
    rates = torch.randn(200, 4, 5, generator=gen, dtype=torch.float64) * 2
    v0 = torch.rand(4, 5, generator=gen, dtype=torch.float64)
    out, v = quantize(rates, dt, v0=v0, return_state=True)
    ref, v_ref = loop_quantize(rates, dt, v0)
    assert torch.equal(out, ref)
    torch.testing.assert_close(v, v_ref, rtol=0, atol=1e-10)


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
    x = torch.randn(10, 6, generator=torch.Generator().manual_seed(9)) + 1
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
    v0 = a.initial_v((5, 9), x)
    assert torch.equal(a(x), quantize(x, 1.0, v0=v0))


def test_dt_schedule_between_steps():
    model = nn.Sequential(nn.Linear(3, 4), SpikingActivation(torch.relu, dt=8.0))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for dt in (8.0, 4.0, 1.0):
        assert set_dt(model, dt) == 1
        loss = model(torch.randn(5, 2, 3)).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert model[1].dt == 1.0


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


def test_bad_input_raises():
    rates = torch.rand(5, 3)
    with pytest.raises(ValueError, match="dt must be a finite number > 0"):
        quantize(rates, 0.0)
    with pytest.raises(ValueError, match="dt must be a finite number > 0"):
        quantize(rates, -1.0)
    with pytest.raises(ValueError, match="dt must be a finite number > 0"):
        SpikingActivation(torch.relu, dt=-0.1)
    with pytest.raises(ValueError, match="time-major"):
        quantize(torch.tensor(1.0), 1.0)
    with pytest.raises(ValueError, match="time-major"):
        SpikingActivation()(torch.tensor(1.0))
    with pytest.raises(ValueError, match="NaN or infinite"):
        quantize(torch.tensor([[1.0, math.nan]]), 1.0)
    with pytest.raises(ValueError, match="NaN or infinite"):
        SpikingActivation()(torch.tensor([[math.inf]]))
    with pytest.raises(ValueError, match="v0 must have shape"):
        quantize(rates, 1.0, v0=torch.zeros(4))
    with pytest.raises(ValueError, match=r"v0 must lie in \[0, 1\)"):
        quantize(rates, 1.0, v0=torch.ones(3))
    with pytest.raises(ValueError, match="initial_state"):
        SpikingActivation(initial_state="uniform")
    with pytest.raises(ValueError, match="must be integers"):
        bits_per_activity(torch.rand(2, 2, 2))
    with pytest.raises(ValueError, match="no neuron axis"):
        bits_per_activity(torch.ones(4, 3))
    with pytest.raises(ValueError, match="no SpikingActivation"):
        set_dt(nn.Linear(2, 2), 1.0)
    with pytest.raises(TypeError, match="floating-point"):
        quantize(torch.ones(3, 2, dtype=torch.long), 1.0)
