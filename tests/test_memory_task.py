"""Tests of snnbook.memory_task against independent references (NumPy FFT, loops, closed forms)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import assert_refuses, refuse

from snnbook import lmu, records
from snnbook import memory_task as mt

ROOT = Path(__file__).resolve().parents[1]


def test_band_limited_has_no_power_above_the_cutoff_and_unit_variance():
    u = mt.band_limited(1000, 0.05, batch=3, seed=4, dtype=torch.float64)
    assert u.shape == (1000, 3)
    spectrum = np.abs(np.fft.rfft(u.numpy(), axis=0))
    freqs = np.fft.rfftfreq(1000)
    assert spectrum[freqs > 0.05].max() < 1e-9 * spectrum.max()
    np.testing.assert_allclose(u.std(0, unbiased=False).numpy(), 1.0, rtol=1e-12)
    assert torch.equal(u, mt.band_limited(1000, 0.05, batch=3, seed=4, dtype=torch.float64))
    assert not torch.equal(u, mt.band_limited(1000, 0.05, batch=3, seed=5, dtype=torch.float64))


def test_delayed_is_a_shift_with_zeros_before_the_start():
    u = torch.arange(1.0, 7.0)[:, None]
    y = mt.delayed(u, [0, 2])
    assert y.shape == (6, 1, 2)
    assert y[:, 0, 0].tolist() == [1, 2, 3, 4, 5, 6]
    assert y[:, 0, 1].tolist() == [0, 0, 1, 2, 3, 4]


def test_legendre_memory_equals_the_lmu_memory():
    u = torch.randn(80, 2, dtype=torch.float64)
    mem = mt.legendre_memory(10, 30.0).double()
    reference = lmu.memory(u, 10, 30.0)  # FFT form: an independent route
    torch.testing.assert_close(mem(u), reference, atol=1e-5, rtol=0)


def test_random_memory_is_orthogonal_times_the_radius():
    mem = mt.random_memory(9, 0.9, seed=3)
    a = mem.a_t.T.double().numpy()
    np.testing.assert_allclose(a @ a.T, 0.81 * np.eye(9), atol=1e-6)
    np.testing.assert_allclose(np.abs(np.linalg.eigvals(a)), 0.9, atol=1e-6)
    assert not torch.equal(mem.a_t, mt.random_memory(9, 0.9, seed=4).a_t)


def test_fit_readout_recovers_a_linear_map_and_nrmse_is_normalised():
    g = torch.Generator().manual_seed(0)
    states = torch.randn(500, 4, 6, generator=g)
    w = torch.randn(6, 3, generator=g)
    targets = states @ w + 0.5
    fitted = mt.fit_readout(states, targets, ridge=0.0)
    torch.testing.assert_close(fitted[:-1], w, atol=1e-4, rtol=0)
    torch.testing.assert_close(fitted[-1], torch.full((3,), 0.5), atol=1e-4, rtol=0)
    assert mt.nrmse(targets, targets).abs().max() < 1e-6
    torch.testing.assert_close(mt.nrmse(torch.zeros_like(targets), targets), torch.ones(3))


def _score(memory, delays, theta, cutoff=1 / 25, dtype=torch.float32):
    train = mt.band_limited(6000, cutoff, seed=1, dtype=dtype)
    test = mt.band_limited(3000, cutoff, seed=2, dtype=dtype)
    w = mt.fit_readout(memory(train)[theta:], mt.delayed(train, delays)[theta:])
    return mt.nrmse(memory(test)[theta:] @ w[:-1] + w[-1], mt.delayed(test, delays)[theta:])


def test_the_lmu_memory_recalls_the_window_and_a_random_memory_does_not():
    delays, theta = [25, 50, 100], 100
    lmu_error = _score(mt.legendre_memory(12, theta), delays, theta)
    random_error = _score(mt.random_memory(12, 0.97, seed=0), delays, theta)
    assert lmu_error.max() < 0.15
    assert random_error[-1] > 0.5


def test_only_the_poles_matter_a_random_basis_with_the_lmu_poles_does_as_well():
    """Same eigenvalues, random eigenvectors and a random B: the same error (exercise of ch. 5).

    The states of the two systems are an invertible linear map of each other, so the
    least-squares readouts agree; float64, as the random basis is ill-conditioned."""
    delays, theta, d = [25, 50, 100], 100, 12
    ad, _ = lmu.discretize(*lmu.legendre_delay(d, theta))
    rng = np.random.default_rng(0)
    s = rng.normal(size=(d, d))
    similar = mt.LinearMemory(s @ ad @ np.linalg.inv(s), rng.normal(size=d)).double()
    reference = _score(mt.legendre_memory(d, theta).double(), delays, theta, dtype=torch.float64)
    error = _score(similar, delays, theta, dtype=torch.float64)
    assert (error - reference).abs().max() < 0.002


def test_recurrent_delay_shapes_and_training_lowers_the_loss():
    torch.manual_seed(0)
    model = mt.RecurrentDelay("gru", 8, 1)
    assert model(torch.zeros(5, 3)).shape == (5, 3, 1)
    out = mt.train_recurrent(
        model, [2], 0.2, steps=60, length=40, batch=8, lr=1e-2, record_every=15
    )
    assert len(out["losses"]) == 3 and len(out["curve"]) == 4
    assert out["curve"][-1] < 0.5 * out["curve"][0]


def test_plot_delay_errors_draws_one_line_per_model():
    fig = mt.plot_delay_errors([1, 2], {"a": [[0.1, 0.2]], "b": np.ones((2, 2))})
    assert len(fig.axes[0].get_lines()) == 2


def test_runs_on_meta_device():
    meta = torch.device("meta")
    u = torch.empty(7, 2, device=meta, requires_grad=True)
    for model in (mt.legendre_memory(4, 5.0).to(meta), mt.random_memory(4, 0.9).to(meta)):
        out = model(u)
        assert out.shape == (7, 2, 4) and out.device == meta
        out.sum().backward()
    model = mt.RecurrentDelay("lstm", 4, 2).to(meta)
    out = model(u)
    assert out.shape == (7, 2, 2) and out.device == meta
    out.sum().backward()


BAD_INPUTS = [
    refuse(lambda: mt.band_limited(1.5, 0.1), TypeError, "steps", id="steps-float"),
    refuse(lambda: mt.band_limited(1, 0.1), ValueError, "steps", id="steps-one"),
    refuse(lambda: mt.band_limited(100, 0.0), ValueError, "cutoff", id="cutoff-zero"),
    refuse(lambda: mt.band_limited(100, 0.7), ValueError, "cutoff", id="cutoff-nyquist"),
    refuse(lambda: mt.band_limited(100, math.nan), ValueError, "cutoff", id="cutoff-nan"),
    refuse(lambda: mt.band_limited(10, 0.05), ValueError, "cutoff", id="cutoff-keeps-nothing"),
    refuse(lambda: mt.band_limited(100, 0.1, batch=0), ValueError, "batch", id="batch-zero"),
    refuse(lambda: mt.band_limited(100, 0.1, seed=-1), ValueError, "seed", id="seed-negative"),
    refuse(lambda: mt.delayed([1.0, 2.0], [1]), TypeError, "u", id="delayed-list"),
    refuse(lambda: mt.delayed(torch.zeros(5, 1), [5]), ValueError, "delays", id="delay-long"),
    refuse(lambda: mt.delayed(torch.zeros(5, 1), [-1]), ValueError, "delays", id="delay-neg"),
    refuse(lambda: mt.delayed(torch.zeros(5, 1), []), TypeError, "delays", id="delays-empty"),
    refuse(lambda: mt.delayed(torch.zeros(0, 1), [0]), ValueError, "u", id="u-empty"),
    refuse(lambda: mt.LinearMemory(np.eye(3), np.ones(2)), ValueError, "B", id="B-size"),
    refuse(lambda: mt.LinearMemory(np.ones((2, 3)), np.ones(2)), ValueError, "square", id="A-rect"),
    refuse(
        lambda: mt.LinearMemory(np.full((2, 2), np.nan), np.ones(2)), ValueError, "A", id="A-nan"
    ),
    refuse(lambda: mt.legendre_memory(4, 5.0)(torch.zeros(5)), ValueError, "u", id="mem-1d"),
    refuse(
        lambda: mt.legendre_memory(4, 5.0)(torch.zeros(5, 2, dtype=torch.long)),
        TypeError,
        "u",
        id="mem-long",
    ),
    refuse(lambda: mt.legendre_memory(0, 5.0), ValueError, "order", id="lmu-order"),
    refuse(lambda: mt.random_memory(4, 1.0), ValueError, "radius", id="radius-one"),
    refuse(lambda: mt.random_memory(4, 0.0), ValueError, "radius", id="radius-zero"),
    refuse(lambda: mt.random_memory(4.0, 0.5), TypeError, "order", id="order-float"),
    refuse(lambda: mt.random_memory(4, 0.5, seed=1.5), TypeError, "seed", id="rm-seed"),
    refuse(
        lambda: mt.fit_readout(torch.zeros(5, 3), torch.zeros(4, 2)), ValueError, "states", id="fit"
    ),
    refuse(
        lambda: mt.fit_readout(torch.full((5, 3), math.nan), torch.zeros(5, 2)),
        ValueError,
        "states",
        id="fit-nan",
    ),
    refuse(
        lambda: mt.fit_readout(torch.zeros(5, 3), torch.zeros(5, 2), ridge=-1.0),
        ValueError,
        "ridge",
        id="fit-ridge",
    ),
    refuse(lambda: mt.nrmse(torch.zeros(5, 3), torch.zeros(5)), ValueError, "states", id="nrmse"),
    refuse(lambda: mt.nrmse(np.zeros((5, 2)), torch.zeros(5, 2)), TypeError, "states", id="np"),
    refuse(lambda: mt.RecurrentDelay("rnn", 4, 1), ValueError, "kind", id="kind"),
    refuse(lambda: mt.RecurrentDelay("gru", 0, 1), ValueError, "hidden_size", id="hidden"),
    refuse(lambda: mt.RecurrentDelay("gru", 4, True), TypeError, "outputs", id="outputs-bool"),
    refuse(lambda: mt.RecurrentDelay("gru", 4, 1)(torch.zeros(5)), ValueError, "u", id="rd-1d"),
    refuse(
        lambda: mt.train_recurrent(mt.RecurrentDelay("gru", 4, 1), [2], 0.2, steps=0),
        ValueError,
        "steps",
        id="train-steps",
    ),
    refuse(
        lambda: mt.train_recurrent(mt.RecurrentDelay("gru", 4, 1), [2], 0.2, steps=1, lr=0.0),
        ValueError,
        "lr",
        id="train-lr",
    ),
    refuse(
        lambda: mt.train_recurrent(mt.RecurrentDelay("gru", 4, 1), [50], 0.2, steps=1, length=40),
        ValueError,
        "warmup",
        id="train-warmup",
    ),
    refuse(lambda: mt.plot_delay_errors([1, 2], {}), TypeError, "errors", id="plot-empty"),
    refuse(
        lambda: mt.plot_delay_errors([1, 2], {"a": [0.1, 0.2]}), ValueError, "errors", id="plot-1d"
    ),
    refuse(lambda: mt.compare_errors([0.1], [0.2, 0.3]), ValueError, "a", id="compare-one-seed"),
    refuse(lambda: mt.compare_errors([0.1, 0.2], "x"), ValueError, "b", id="compare-string"),
    refuse(
        lambda: mt.compare_errors([0.1, math.nan], [0.2, 0.3]), ValueError, "finite", id="cmp-nan"
    ),
    refuse(lambda: mt.compare_errors([0.1, 0.2], [0.2, 0.3], z=0), ValueError, "z", id="cmp-z"),
]


def test_compare_errors_uses_the_standard_errors_of_the_seeds():
    a, b = [0.10, 0.12, 0.11], [0.20, 0.26]
    c = mt.compare_errors(a, b)
    se = math.sqrt(np.var(a, ddof=1) / 3 + np.var(b, ddof=1) / 2)
    assert c.difference == pytest.approx(np.mean(a) - np.mean(b))
    assert c.noise == pytest.approx(se)
    assert not c.tie
    assert mt.compare_errors([0.1, 0.3], [0.2, 0.25]).tie


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)


def _script():
    spec = importlib.util.spec_from_file_location("memory_task", ROOT / "scripts/memory_task.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_run_prefix_reproduces_the_recorded_losses():
    """Re-run the first optimizer steps of the first seed of scripts/memory_task.py."""
    script = _script()
    record = records.load("memory_task")
    seed = record["provenance"]["seeds"][0]
    for name, recorded in record["results"]["recurrent"].items():
        losses = script.train_model(name, seed, stop_after=3)["losses"]
        np.testing.assert_allclose(losses, recorded[str(seed)]["losses"], rtol=1e-4)
    # and the closed-form part, exactly as recorded
    fixed = script.fixed_memories(seed)
    for name, errors in fixed.items():
        np.testing.assert_allclose(errors, record["results"]["fixed"][name][str(seed)], atol=1e-5)
