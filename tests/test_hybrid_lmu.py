"""Tests of snnbook.hybrid_lmu against independent references (closed-form quantizer, loops)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import assert_refuses, refuse

from snnbook import hybrid_lmu, lmu, quantizers, records

ROOT = Path(__file__).resolve().parents[1]


def small(**kw) -> hybrid_lmu.HybridLMU:
    torch.manual_seed(0)
    args = {"hidden_size": 6, "order": 5, "theta": 16.0, "classes": 3, "window": 3}
    return hybrid_lmu.HybridLMU(**(args | kw))


def test_spike_step_equals_the_closed_form_quantizer_and_passes_gradients_straight():
    rates = torch.rand(30, 4, 5, dtype=torch.float64) * 2
    v0 = torch.rand(4, 5, dtype=torch.float64)
    expected = quantizers.quantize(rates, 0.7, v0=v0)  # cumulative-sum form, no loop
    state = hybrid_lmu.QuantizerState(v0)
    out = []
    for r in rates.unbind(0):
        a, n, state = hybrid_lmu.spike_step(r, state, 0.7)
        torch.testing.assert_close(a * 0.7, n)
        out.append(a)
    torch.testing.assert_close(torch.stack(out), expected)
    assert bool((state.v >= 0).all() and (state.v < 1).all())
    rate = torch.rand(3, requires_grad=True)
    a, _, _ = hybrid_lmu.spike_step(rate, hybrid_lmu.QuantizerState(torch.zeros(3)), 0.3)
    (a * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    torch.testing.assert_close(rate.grad, torch.tensor([1.0, 2.0, 3.0]))


def reference_scores(model: hybrid_lmu.HybridLMU, images: torch.Tensor) -> torch.Tensor:
    """A plain float64 loop: memory by its recurrence, hidden layer step by step."""
    p = {k: v.detach().double() for k, v in model.named_parameters()}
    x = images.double().flatten(1)
    ad, bd = lmu.discretize(*lmu.legendre_delay(model.order, model.theta))
    ad, bd = torch.from_numpy(np.array(ad)), torch.from_numpy(np.array(bd[:, 0]))
    m = torch.zeros(len(x), model.order, dtype=torch.float64)
    a = torch.zeros(len(x), model.hidden_size, dtype=torch.float64)
    tail = []
    for t in range(x.shape[1]):
        m = m @ ad.T + (p["encoder"] * x[:, t])[:, None] * bd
        z = m @ p["memory_kernel.weight"].T + p["memory_kernel.bias"]
        z = z + x[:, t : t + 1] @ p["input_kernel.weight"].T + a @ p["recurrent_kernel.weight"].T
        a = torch.relu(z)
        if t >= x.shape[1] - model.window:
            tail.append(a)
    return torch.stack(tail).mean(0) @ p["readout.weight"].T + p["readout.bias"]


def test_non_spiking_model_equals_a_plain_loop():
    model = small()
    images = torch.rand(4, 1, 5, 5)
    torch.testing.assert_close(
        model(images).double(), reference_scores(model, images), atol=1e-4, rtol=1e-4
    )


def test_a_very_large_dt_is_the_non_spiking_limit():
    model = small()
    images = torch.rand(4, 1, 5, 5)
    rates = model(images)
    model.dt = 1e5
    torch.testing.assert_close(model(images), rates, atol=2e-3, rtol=1e-3)


def test_dt_is_a_weight_scale_for_a_relu():
    """(W_m, W_x, b, W_o, dt) and (2 W_m, 2 W_x, 2 b, W_o / 2, dt / 2) spike alike."""
    model = small(dt=0.5, record=True)
    scaled = small(dt=0.25, record=True)
    scaled.load_state_dict(model.state_dict())
    with torch.no_grad():
        for layer in (scaled.memory_kernel, scaled.input_kernel):
            for p in layer.parameters():
                p.mul_(2)
        scaled.readout.weight.div_(2)
    images = torch.rand(5, 1, 6, 6)
    scores, scores_scaled = model(images), scaled(images)
    assert model.counts.sum() > 0
    assert torch.equal(model.counts, scaled.counts)
    torch.testing.assert_close(scores, scores_scaled)


def test_evaluate_spiking_counts_every_spike_and_restores_dt():
    model = small(record=False)
    images, labels = torch.rand(7, 1, 4, 4), torch.randint(0, 3, (7,))
    report = hybrid_lmu.evaluate_spiking(model, images, labels, 0.5, batch_size=7, bits_images=4)
    model.dt, model.record = 0.5, True
    model.eval()
    scores = model(images)
    assert report.spikes_per_image == pytest.approx(float(model.counts.sum()) / 7)
    assert report.accuracy == pytest.approx(float((scores.argmax(1) == labels).float().mean()))
    assert report.bits_per_activity == pytest.approx(
        quantizers.bits_per_activity(model.counts[:, :4])
    )
    assert report.max_count == int(model.counts[:, :4].max())
    fresh = small(record=False)
    hybrid_lmu.evaluate_spiking(fresh, images, labels, 0.5)
    assert math.isinf(fresh.dt) and not fresh.record and fresh.training


def test_geometric_schedule_and_budget_interpolation():
    dt = hybrid_lmu.geometric_schedule(10.0, 0.1, 100, fraction=0.5)
    assert dt(0) == pytest.approx(10.0)
    assert dt(25) == pytest.approx(1.0)
    assert dt(50) == pytest.approx(0.1) and dt(99) == pytest.approx(0.1)
    reports = [
        hybrid_lmu.SpikeReport(1.0, 0.8, 100.0, 1.0, 1.0, 1),
        hybrid_lmu.SpikeReport(0.1, 0.6, 10.0, 1.0, 1.0, 1),
    ]
    assert hybrid_lmu.accuracy_at_budget(reports, math.sqrt(1000)) == pytest.approx(0.7)
    assert math.isnan(hybrid_lmu.accuracy_at_budget(reports, 1000.0))


def test_plot_budget_curves_draws_every_seed():
    r = hybrid_lmu.SpikeReport(1.0, 0.8, 100.0, 1.0, 1.0, 1)
    fig = hybrid_lmu.plot_budget_curves({"a": [[r], [r]], "b": [[r]]}, reference=0.9, budgets=[50])
    assert len(fig.axes[0].get_lines()) >= 3


def test_runs_on_meta_device():
    meta = torch.device("meta")
    for dt in (math.inf, 0.5):
        model = small(dt=dt).to(meta)
        out = model(torch.empty(3, 1, 4, 4, device=meta))
        assert out.shape == (3, 3) and out.device == meta
        out.sum().backward()
        assert model.recurrent_kernel.weight.grad.device == meta


BAD_INPUTS = [
    refuse(lambda: hybrid_lmu.HybridLMU(hidden_size=0), ValueError, "hidden_size", id="hidden"),
    refuse(lambda: hybrid_lmu.HybridLMU(order=2.5), TypeError, "order", id="order-float"),
    refuse(lambda: hybrid_lmu.HybridLMU(theta=-1.0), ValueError, "theta", id="theta-negative"),
    refuse(lambda: hybrid_lmu.HybridLMU(theta=math.nan), ValueError, "theta", id="theta-nan"),
    refuse(lambda: hybrid_lmu.HybridLMU(classes=1), ValueError, "classes", id="classes"),
    refuse(lambda: hybrid_lmu.HybridLMU(window=0), ValueError, "window", id="window"),
    refuse(lambda: hybrid_lmu.HybridLMU(dt=0.0), ValueError, "dt", id="dt-zero"),
    refuse(lambda: hybrid_lmu.HybridLMU(dt=-math.inf), ValueError, "dt", id="dt-minus-inf"),
    refuse(lambda: hybrid_lmu.HybridLMU(dt="1"), TypeError, "dt", id="dt-str"),
    refuse(lambda: hybrid_lmu.HybridLMU(seed=-2), ValueError, "seed", id="seed"),
    refuse(lambda: hybrid_lmu.HybridLMU(record=1), TypeError, "record", id="record-int"),
    refuse(
        lambda: hybrid_lmu.HybridLMU(permutation=torch.zeros(4)),
        TypeError,
        "permutation",
        id="perm",
    ),
    refuse(lambda: small()(torch.rand(3, 16)), ValueError, "images", id="images-2d"),
    refuse(lambda: small()(torch.zeros(3, 1, 4, 4).long()), TypeError, "images", id="images-long"),
    refuse(lambda: small(window=40)(torch.rand(3, 1, 4, 4)), ValueError, "window", id="short"),
    refuse(
        lambda: hybrid_lmu.spike_step(torch.ones(2), hybrid_lmu.QuantizerState(torch.zeros(2)), 0),
        ValueError,
        "dt",
        id="step-dt",
    ),
    refuse(
        lambda: hybrid_lmu.spike_step(torch.ones(2), torch.zeros(2), 1.0),
        TypeError,
        "state",
        id="step-state",
    ),
    refuse(
        lambda: hybrid_lmu.evaluate_spiking(
            torch.nn.Linear(2, 2), torch.rand(2, 1, 4, 4), torch.zeros(2).long(), 1.0
        ),
        TypeError,
        "model",
        id="eval-model",
    ),
    refuse(
        lambda: hybrid_lmu.evaluate_spiking(
            small(), torch.rand(2, 1, 4, 4), torch.zeros(3).long(), 1.0
        ),
        ValueError,
        "same length",
        id="eval-lengths",
    ),
    refuse(
        lambda: hybrid_lmu.evaluate_spiking(
            small(), torch.rand(2, 1, 4, 4), torch.zeros(2).long(), math.inf
        ),
        ValueError,
        "dt",
        id="eval-inf",
    ),
    refuse(
        lambda: hybrid_lmu.evaluate_spiking(
            small(), torch.rand(2, 1, 4, 4), torch.zeros(2).long(), 1.0, batch_size=0
        ),
        ValueError,
        "batch_size",
        id="eval-batch",
    ),
    refuse(
        lambda: hybrid_lmu.geometric_schedule(10.0, 0.0, 5), ValueError, "stop", id="sched-stop"
    ),
    refuse(
        lambda: hybrid_lmu.geometric_schedule(10.0, 1.0, 5, fraction=0.0),
        ValueError,
        "fraction",
        id="sched-fraction",
    ),
    refuse(lambda: hybrid_lmu.accuracy_at_budget([], 10.0), TypeError, "reports", id="budget-0"),
    refuse(
        lambda: hybrid_lmu.accuracy_at_budget(
            [hybrid_lmu.SpikeReport(1.0, 0.8, 100.0, 1.0, 1.0, 1)], -5.0
        ),
        ValueError,
        "budget",
        id="budget-negative",
    ),
    refuse(
        lambda: hybrid_lmu.accuracy_at_budget([], 10.0),
        TypeError,
        "reports",
        id="budget-no-reports",
    ),
    refuse(lambda: hybrid_lmu.plot_budget_curves({}), TypeError, "curves", id="plot-empty"),
]


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)


def test_committed_run_prefix_reproduces_the_recorded_losses():
    """Re-run the first optimizer steps of seed 0 of scripts/hybrid_lmu.py (both regimes)."""
    spec = importlib.util.spec_from_file_location("hybrid", ROOT / "scripts/hybrid_lmu.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    record = records.load("hybrid_lmu")
    seed = record["provenance"]["seeds"][0]
    losses = script.check_losses(script._baselines().load_data(), seed)
    for name, recorded in record["results"]["check_losses"].items():
        np.testing.assert_allclose(losses[name], recorded, rtol=1e-4)
