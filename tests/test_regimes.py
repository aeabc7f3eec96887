"""snnbook.regimes: chapter 2's models, dt schedule and arms, against hand-written references."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
import snntorch as snn
import torch
from conftest import assert_refuses, refuse
from torch import nn

from snnbook import records, regimes, stats
from snnbook.quantizers import SpikingActivation

ROOT = Path(__file__).resolve().parents[1]


def tiny_data(n_train=96, n_test=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x_train = torch.rand(n_train, 1, 28, 28, generator=g)
    x_test = torch.rand(n_test, 1, 28, 28, generator=g)
    y_train = torch.randint(0, 10, (n_train,), generator=g)
    y_test = torch.randint(0, 10, (n_test,), generator=g)
    return regimes.Data(x_train, y_train, x_test, y_test)


TINY = regimes.Setup(
    hidden=16, n_train=96, batch_size=32, pretrain_epochs=1, fine_tune_epochs=1,
    dts=(4, 1, 0.25), n_stats=32,
)  # fmt: skip


def test_nonspiking_quantized_mlp_is_a_plain_mlp():
    torch.manual_seed(0)
    model = regimes.QuantizedMLP(steps=8, hidden=16)
    x = torch.rand(5, 1, 28, 28)
    h = regimes.capped_relu(model.fc2(regimes.capped_relu(model.fc1(x.flatten(1)))))
    torch.testing.assert_close(model(x), model.fc3(h))


def test_quantized_mlp_with_spikes_is_the_quantizer_applied_twice():
    torch.manual_seed(1)
    model = regimes.QuantizedMLP(steps=6, hidden=16, dt=0.5, seed=3).eval()
    x = torch.rand(4, 784)
    current = model.fc1(x).expand(6, -1, -1)
    a1 = model.act1(current)
    expected = model.fc3(model.act2(model.fc2(a1)).mean(0))
    torch.testing.assert_close(model(x), expected)
    # the two layers have different random phases, derived from the seed
    assert not torch.equal(model.act1.initial_v((16,), x), model.act2.initial_v((16,), x))


def test_evaluation_does_not_depend_on_the_batch_size():
    torch.manual_seed(2)
    model = regimes.QuantizedMLP(steps=8, hidden=32, dt=0.25).eval()
    x = torch.rand(50, 784)
    with torch.no_grad():
        whole = model(x)
        pieces = torch.cat([model(x[i : i + 7]) for i in range(0, 50, 7)])
    assert torch.equal(whole, pieces)


def test_lif_hidden_layers_follow_the_leaky_recurrence():
    """Constant-current input: U_t = beta U_{t-1} + I - S_{t-1}, S_t = [U_t > 1], by hand."""
    torch.manual_seed(3)
    model = regimes.LIFMLP(steps=5, hidden=12, beta=0.8, input_code="current", readout="linear")
    x = torch.rand(3, 784)
    out = model(x)
    current = model.fc1(x)
    u1 = torch.zeros_like(current)
    s1 = torch.zeros_like(current)
    u2 = torch.zeros(3, 12)
    s2 = torch.zeros(3, 12)
    spikes2 = []
    for _ in range(5):
        u1 = 0.8 * u1 + current - s1
        s1 = (u1 > 1).float()
        u2 = 0.8 * u2 + model.fc2(s1) - s2
        s2 = (u2 > 1).float()
        spikes2.append(s2)
    torch.testing.assert_close(model.counts[1], torch.stack(spikes2))
    torch.testing.assert_close(out, model.fc3(torch.stack(spikes2).mean(0)))


def test_lif_count_readout_returns_output_spike_counts():
    torch.manual_seed(4)
    model = regimes.LIFMLP(steps=7, hidden=12, input_code="current", readout="counts")
    scores = model(torch.rand(6, 784) * 3)
    assert torch.equal(scores, scores.round()) and 0 <= scores.min() and scores.max() <= 7


def test_rate_code_draws_fresh_input_spikes():
    torch.manual_seed(5)
    model = regimes.LIFMLP(steps=4, hidden=12, input_code="rate", readout="counts")
    x = torch.rand(8, 784)
    model(x)
    first = model.counts[0].clone()
    model(x)
    assert not torch.equal(first, model.counts[0])


def test_dt_schedule_is_geometric_then_holds():
    model = nn.Sequential(SpikingActivation(dt=1.0))
    schedule = regimes.DtSchedule(model, 16.0, 0.25, 30, fraction=2 / 3)
    assert model[0].dt == 16.0
    dts = [schedule.dt_at(k) for k in range(31)]
    ratios = [b / a for a, b in zip(dts[:20], dts[1:21], strict=True)]
    assert ratios == pytest.approx([(0.25 / 16) ** (1 / 20)] * 20)
    assert dts[20:] == pytest.approx([0.25] * 11)
    for k in range(1, 31):
        schedule(k)
    assert model[0].dt == pytest.approx(0.25) and len(schedule.trace) == 30


@pytest.mark.parametrize("arm", regimes.ARMS)
def test_fine_tune_copies_and_ends_at_the_arms_dt(arm):
    data = tiny_data()
    pre = regimes.pretrain(data, 0, TINY)
    before = [p.clone() for p in pre.parameters()]
    tuned = regimes.fine_tune(pre, arm, data, 0, TINY)
    assert all(torch.equal(a, b) for a, b in zip(before, pre.parameters(), strict=True))
    assert math.isinf(pre.act1.dt)
    expected = math.inf if arm == "control" else TINY.dt_end
    assert tuned.act1.dt == pytest.approx(expected) and tuned.act2.dt == pytest.approx(expected)
    assert not all(torch.equal(a, b) for a, b in zip(before, tuned.parameters(), strict=True))


def test_arms_are_reproducible_for_a_seed():
    data = tiny_data()
    a = regimes.from_scratch(data, 1, TINY)
    b = regimes.from_scratch(data, 1, TINY)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert a.act1.dt == TINY.dt_end


def test_costs_and_sweep():
    data = tiny_data()
    model = regimes.pretrain(data, 0, TINY)
    result = regimes.sweep(model, data, TINY.dts, n_stats=TINY.n_stats)
    assert list(result) == list(TINY.dts) and math.isinf(model.act1.dt)
    for dt, c in result.items():
        assert 0 <= c["accuracy"] <= 1
        assert c["max_count"] <= math.ceil(dt)  # capped rate: at most ceil(dt) spikes a step
        if dt <= 1:
            assert c["significant"] in (1.0,) or math.isnan(c["significant"])
    lif = regimes.train_lif(data, 0, TINY, input_code="current")
    c = regimes.costs(lif, data, n_stats=TINY.n_stats)
    assert c["max_count"] <= 1 and 0 <= c["accuracy"] <= 1


def test_dt_knob_figure_obeys_the_bound_and_restores_the_model():
    """The time-averaged activity is within 1/(T dt) of the rate, as error diffusion promises."""
    model = regimes.QuantizedMLP(hidden=16, seed=3)
    image = torch.rand(1, 28, 28)
    for dt in (0.25, 1.0, 4.0):
        rates, counts = regimes._hidden_response(model, image, dt)
        average = counts.sum(0) / (model.steps * dt)
        assert counts.shape == (model.steps, 16)
        assert bool(((average - rates).abs() < 1 / (model.steps * dt) + 1e-6).all())
    curves = {"pre": {1.0: {"accuracy": 0.8}, 0.25: {"accuracy": 0.6}}}
    for view in ("rates", "raster"):
        fig = regimes.plot_dt_knob({"pre": model}, image, 0.25, curves, view=view)
        assert len(fig.axes) >= 2
        plt.close(fig)
    assert math.isinf(model.act1.dt) and model.training


def test_tables_render():
    html = regimes.costs_table([("a", {"accuracy": 0.5, "bits": "32", "spikes": math.nan})]).data
    assert "50.0%" in html and "–" in html
    summaries = {
        "x": stats.summarize([0.8, 0.81, 0.82], 10_000),
        "y": stats.summarize([0.7] * 3, 10_000),
    }
    html = regimes.seeds_table(summaries, reference="x").data
    assert "versus x" in html and "resolved" in html


def test_runs_on_meta_device():
    meta = torch.device("meta")
    x = torch.rand(4, 1, 28, 28, device=meta)
    models = [
        regimes.QuantizedMLP(hidden=16, dt=0.5),
        regimes.QuantizedMLP(hidden=16),
        regimes.LIFMLP(hidden=16, input_code="current", readout="counts"),
        regimes.LIFMLP(hidden=16, input_code="current", readout="linear"),
    ]
    for model in models:
        model.to(meta)
        out = model(x)
        assert out.device == meta and out.shape == (4, 10)
        out.sum().backward()
        assert model.fc1.weight.grad.device == meta


def _script():
    spec = importlib.util.spec_from_file_location("regime_seeds", ROOT / "scripts/regime_seeds.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("part, name", [("quantizer", "regime_seeds"), ("lif", "lif_controls")])
def test_committed_run_prefix_reproduces(part, name):
    """Re-run the first optimizer steps of seed 0 and compare with the stored numbers."""
    stored = records.load(name)
    setup = regimes.Setup(**{**stored["setup"], "dts": tuple(stored["setup"]["dts"])})
    assert setup == regimes.Setup(), "the committed run used other settings than the chapter"
    torch.set_num_threads(2)
    data = regimes.load_data(setup)
    again = _script().prefix(part, data, setup)
    assert again == pytest.approx(stored["prefix"], rel=1e-4)
    assert len(stored["provenance"]["seeds"]) >= 3


def _record():
    entry = {"nonspiking": 0.9, "by_dt": [{"dt": 1.0, "accuracy": 0.8, "bits": 1.0}]}
    second = {"nonspiking": 0.7, "by_dt": [{"dt": 1.0, "accuracy": 0.6, "bits": 0.5}]}
    return {
        "n_test": 1000,
        "seeds": {"0": {"anneal": entry}, "1": {"anneal": second}},
    }


def test_committed_run_readers():
    record = _record()
    assert regimes.accuracies(record, "anneal") == [0.9, 0.7]
    assert regimes.accuracies(record, "anneal", 1.0) == [0.8, 0.6]
    s = regimes.summary(record, "anneal", 1.0)
    assert s.mean == pytest.approx(0.7) and s.n_test == 1000
    curves, spread = regimes.mean_curves(record, {"label": "anneal"})
    assert curves["label"][1.0] == pytest.approx({"accuracy": 0.7, "bits": 0.75})
    assert spread["label"][1.0] == pytest.approx(s.std)
    lif = {"n_test": 10, "seeds": {"0": {"rate/counts": {"accuracy": 0.5}}}}
    assert regimes.accuracies(lif, "rate/counts") == [0.5]


READER_BAD_INPUTS = [
    refuse(lambda: regimes.accuracies({}, "anneal"), TypeError, "record", id="acc-record"),
    refuse(lambda: regimes.accuracies(_record(), "warm"), ValueError, "arm", id="acc-arm"),
    refuse(
        lambda: regimes.accuracies(_record(), "anneal", 0.5),
        ValueError,
        "dt",
        id="acc-dt-unmeasured",
    ),  # fmt: skip
    refuse(
        lambda: regimes.accuracies(_record(), "anneal", -1), ValueError, "dt", id="acc-dt-negative"
    ),  # fmt: skip
    refuse(
        lambda: regimes.accuracies({"seeds": {"0": {"a": {"accuracy": 1}}}}, "a", 1.0),
        ValueError,
        "dt=None",
        id="acc-lif-dt",
    ),  # fmt: skip
    refuse(lambda: regimes.mean_curves([], {"a": "anneal"}), TypeError, "record", id="curves"),
]


_DATA = tiny_data()
_PRE = regimes.QuantizedMLP(hidden=16)
_CURVES = {"a": {1.0: {"accuracy": 0.5}}}

BAD_INPUTS = [
    refuse(lambda: regimes.QuantizedMLP(steps=0), ValueError, "steps", id="qmlp-steps"),
    refuse(lambda: regimes.QuantizedMLP(hidden=2.5), TypeError, "hidden", id="qmlp-hidden"),
    refuse(lambda: regimes.QuantizedMLP(dt=-1), ValueError, "dt", id="qmlp-dt"),
    refuse(lambda: regimes.QuantizedMLP(seed=-1), ValueError, "seed", id="qmlp-seed"),
    refuse(lambda: _PRE(torch.rand(3, 10)), ValueError, "images", "784", id="qmlp-images-shape"),
    refuse(
        lambda: _PRE(torch.ones(3, 784, dtype=torch.long)),
        TypeError,
        "images",
        id="qmlp-images-dtype",
    ),  # fmt: skip
    refuse(lambda: regimes.LIFMLP(beta=1.5), ValueError, "beta", id="lif-beta"),
    refuse(lambda: regimes.LIFMLP(input_code="poisson"), ValueError, "input_code", id="lif-code"),
    refuse(lambda: regimes.LIFMLP(readout="membrane"), ValueError, "readout", id="lif-readout"),
    refuse(lambda: regimes.LIFMLP(steps=True), TypeError, "steps", id="lif-steps"),
    refuse(lambda: regimes.LIFMLP()(torch.rand(784)), ValueError, "images", id="lif-images"),
    refuse(lambda: regimes.DtSchedule("model", 16, 1, 10), TypeError, "model", id="sched-model"),
    refuse(
        lambda: regimes.DtSchedule(regimes.QuantizedMLP(hidden=4), 0, 1, 10),
        ValueError,
        "start",
        id="sched-start",
    ),
    refuse(
        lambda: regimes.DtSchedule(regimes.QuantizedMLP(hidden=4), 16, math.nan, 10),
        ValueError,
        "end",
        id="sched-end",
    ),
    refuse(
        lambda: regimes.DtSchedule(regimes.QuantizedMLP(hidden=4), 16, 1, 0),
        ValueError,
        "total_steps",
        id="sched-total",
    ),  # fmt: skip
    refuse(
        lambda: regimes.DtSchedule(regimes.QuantizedMLP(hidden=4), 16, 1, 10, fraction=0),
        ValueError,
        "fraction",
        id="sched-fraction",
    ),  # fmt: skip
    refuse(
        lambda: regimes.DtSchedule(regimes.QuantizedMLP(hidden=4), 16, 1, 10).dt_at(-1),
        ValueError,
        "step",
        id="sched-step",
    ),  # fmt: skip
    refuse(lambda: regimes.load_data("setup"), TypeError, "setup", id="load-setup"),
    refuse(lambda: regimes.pretrain((1, 2, 3, 4), 0), TypeError, "data", id="pretrain-data"),
    refuse(lambda: regimes.pretrain(_DATA, -1), ValueError, "seed", id="pretrain-seed"),
    refuse(
        lambda: regimes.pretrain(_DATA, 0, TINY, epochs=0),
        ValueError,
        "epochs",
        id="pretrain-epochs",
    ),  # fmt: skip
    refuse(
        lambda: regimes.pretrain(regimes.Data(*_DATA[:3], _DATA.y_test[:5]), 0),
        ValueError,
        "y_test",
        id="pretrain-lengths",
    ),  # fmt: skip
    refuse(
        lambda: regimes.fine_tune(_PRE, "schedule", _DATA, 0), ValueError, "arm", id="fine-tune-arm"
    ),  # fmt: skip
    refuse(
        lambda: regimes.fine_tune(nn.Linear(2, 2), "anneal", _DATA, 0),
        TypeError,
        "model",
        id="fine-tune-model",
    ),  # fmt: skip
    refuse(
        lambda: regimes.fine_tune(_PRE, "anneal", _DATA, 0.5),
        TypeError,
        "seed",
        id="fine-tune-seed",
    ),  # fmt: skip
    refuse(
        lambda: regimes.from_scratch(_DATA, 0, setup={}), TypeError, "setup", id="scratch-setup"
    ),  # fmt: skip
    refuse(
        lambda: regimes.train_lif(_DATA, 0, TINY, readout="x"),
        ValueError,
        "readout",
        id="train-lif-readout",
    ),  # fmt: skip
    refuse(lambda: regimes.costs(_PRE, _DATA), ValueError, "finite dt", id="costs-nonspiking"),
    refuse(lambda: regimes.costs(nn.Linear(2, 2), _DATA), TypeError, "model", id="costs-model"),
    refuse(
        lambda: regimes.costs(regimes.LIFMLP(hidden=8), _DATA, 1.0),
        ValueError,
        "dt",
        id="costs-lif-dt",
    ),  # fmt: skip
    refuse(
        lambda: regimes.costs(_PRE, _DATA, 1.0, n_stats=0),
        ValueError,
        "n_stats",
        id="costs-n-stats",
    ),  # fmt: skip
    refuse(lambda: regimes.sweep(_PRE, _DATA, []), ValueError, "dts", id="sweep-empty"),
    refuse(lambda: regimes.sweep(_PRE, _DATA, [1, -2]), ValueError, "dts[1]", id="sweep-negative"),
    refuse(
        lambda: regimes.sweep(nn.Linear(2, 2), _DATA, [1]), TypeError, "model", id="sweep-model"
    ),  # fmt: skip
    refuse(lambda: regimes.plot_accuracy_vs_dt({}, 0.8), ValueError, "curves", id="plot-empty"),
    refuse(
        lambda: regimes.plot_accuracy_vs_dt({"a": {1: {"accuracy": 0.5, "bits": 1}}}, 80),
        ValueError,
        "reference",
        id="plot-reference",
    ),  # fmt: skip
    refuse(
        lambda: regimes.plot_dt_knob({}, torch.rand(784), 1.0, _CURVES),
        ValueError,
        "models",
        id="knob-no-models",
    ),  # fmt: skip
    refuse(
        lambda: regimes.plot_dt_knob({"a": nn.Linear(2, 2)}, torch.rand(784), 1.0, _CURVES),
        TypeError,
        "models",
        id="knob-model-type",
    ),  # fmt: skip
    refuse(
        lambda: regimes.plot_dt_knob({"a": _PRE}, torch.rand(784), 1.0, _CURVES, network="b"),
        ValueError,
        "network",
        id="knob-network",
    ),  # fmt: skip
    refuse(
        lambda: regimes.plot_dt_knob({"a": _PRE}, torch.rand(10), 1.0, _CURVES),
        ValueError,
        "784",
        id="knob-image-shape",
    ),  # fmt: skip
    refuse(
        lambda: regimes.plot_dt_knob({"a": _PRE}, torch.rand(784), 0.0, _CURVES),
        ValueError,
        "dt",
        id="knob-dt",
    ),  # fmt: skip
    refuse(
        lambda: regimes.plot_dt_knob({"a": _PRE}, torch.rand(784), 1.0, _CURVES, view="x"),
        ValueError,
        "view",
        id="knob-view",
    ),  # fmt: skip
    refuse(
        lambda: regimes.plot_dt_knob({"a": _PRE}, torch.rand(784), 1.0, {}),
        ValueError,
        "curves",
        id="knob-curves",
    ),  # fmt: skip
    refuse(lambda: regimes.seeds_table({}), ValueError, "summaries", id="seeds-empty"),
    refuse(lambda: regimes.seeds_table({"a": [0.5]}), TypeError, "Summary", id="seeds-type"),
    refuse(
        lambda: regimes.seeds_table({"a": stats.summarize([0.5], 10)}, reference="b"),
        ValueError,
        "reference",
        id="seeds-reference",
    ),  # fmt: skip
]


BAD_INPUTS += READER_BAD_INPUTS


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)


def test_leaky_is_snntorchs():
    assert isinstance(regimes.LIFMLP().lif1, snn.Leaky)
