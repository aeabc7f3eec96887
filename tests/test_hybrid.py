"""Tests for snnbook.hybrid: the VGG-like ANN, the budgeted training loop, STDB's timing
factors, the experiment's arms, and a re-run of the committed run's first steps."""

import dataclasses
import functools
import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from conftest import assert_refuses, refuse
from torch import nn

from snnbook import conversion, hybrid, records, stats

TINY = hybrid.Setup(
    layers=(4, "A", 4), hidden=8, num_steps=3, n_train=96, n_test=48, batch_size=32,
    ann_epochs=1, finetune_epochs=1, calibration_images=32, calibration_steps=16,
    sweep_steps=4, sweep_images=32, tune_images=32, scales=(0.7, 0.4),
)  # fmt: skip


def _data(setup=TINY, seed=0):
    g = torch.Generator().manual_seed(seed)
    n = setup.n_train + setup.n_test
    y = torch.randint(0, 10, (n,), generator=g)
    x = torch.rand(n, 1, 28, 28, generator=g) * 0.3
    x[torch.arange(n), 0, 2 * y + 4, 4:24] = 1.0  # one bright row per class
    return {
        "x_train": x[: setup.n_train],
        "y_train": y[: setup.n_train],
        "x_test": x[setup.n_train :],
        "y_test": y[setup.n_train :],
    }


@functools.cache
def _tiny_record(k=3):
    data = _data()
    runs = []
    for seed in range(k):
        r = hybrid.run_seed(TINY, seed, data, log=lambda _: None)
        r.pop("networks")
        runs.append(r)
    return {"setup": hybrid.setup_dict(TINY), "runs": runs}


# ------------------------------------------------------------------------ model
def test_setup_from_inverts_setup_dict():
    setup = hybrid.Setup(layers=(8, "A", 16), num_steps=4, scales=(0.5, 0.3))
    assert hybrid.setup_from({"setup": hybrid.setup_dict(setup)}) == setup


def test_vgg_is_convertible_and_has_the_asked_layers():
    ann = hybrid.vgg((8, 8, "A", 16, "A", 16), hidden=32)
    convs = [m for m in ann if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [8, 8, 16, 16]
    assert all(m.bias is None for m in ann if isinstance(m, nn.Conv2d | nn.Linear))
    assert ann(torch.rand(5, 1, 28, 28)).shape == (5, 10)
    snn = conversion.to_spiking(ann, num_steps=2)
    assert len(snn.neurons) == 5  # four convolutions and the hidden layer


# --------------------------------------------------------------------- training
def test_train_by_epochs_takes_the_expected_steps_and_is_reproducible():
    data = _data()
    logs = []
    for _ in range(2):
        model = hybrid.make_ann(TINY, 3)
        logs.append(hybrid.train(model, data["x_train"], data["y_train"], lr=1e-3,
                                 batch_size=32, epochs=2, seed=1, record_losses=4))  # fmt: skip
    assert logs[0].steps == 2 * math.ceil(96 / 32)
    assert len(logs[0].losses) == 4 and logs[0].losses == logs[1].losses
    assert logs[0].seconds > 0


def test_train_restores_the_global_random_state():
    data = _data()
    torch.manual_seed(11)
    expected = torch.rand(3)
    torch.manual_seed(11)
    snn = conversion.to_spiking(hybrid.make_ann(TINY, 0), num_steps=2, input_encoding="rate")
    hybrid.train(snn, data["x_train"], data["y_train"], lr=1e-3, epochs=1, seed=4)
    hybrid.accuracy(snn, data["x_test"], data["y_test"], seed=2)
    assert torch.equal(torch.rand(3), expected)


def test_train_by_time_stops_at_the_budget_and_scores_checkpoints():
    data = _data()
    model = hybrid.make_ann(TINY, 0)
    test = (data["x_test"], data["y_test"])
    log = hybrid.train(model, data["x_train"], data["y_train"], lr=1e-3, seconds=0.3,
                       checkpoints=[0.05], test=test)  # fmt: skip
    assert 0.3 <= log.seconds < 0.3 + 1.0
    assert len(log.checkpoints) == 2
    assert log.checkpoints[0]["seconds"] >= 0.05
    assert log.checkpoints[-1]["steps"] == log.steps
    assert hybrid.accuracy(model, *test) == log.checkpoints[-1]["accuracy"]


def test_max_steps_is_a_prefix_of_the_full_run():
    data = _data()
    full = hybrid.train(hybrid.make_ann(TINY, 0), data["x_train"], data["y_train"], lr=1e-3,
                        epochs=1, record_losses=3)  # fmt: skip
    prefix = hybrid.train(hybrid.make_ann(TINY, 0), data["x_train"], data["y_train"], lr=1e-3,
                          seconds=100.0, max_steps=2, record_losses=3)  # fmt: skip
    assert prefix.steps == 2 and prefix.losses == full.losses[:2]


def test_accuracy_matches_a_plain_count():
    data = _data()
    model = hybrid.make_ann(TINY, 0)
    x, y = data["x_test"], data["y_test"]
    with torch.no_grad():
        expected = (model(x).argmax(1) == y).float().mean().item()
    assert hybrid.accuracy(model, x, y, batch_size=7) == pytest.approx(expected)


# ------------------------------------------------------------------ STDB factor
def test_stdb_factors_match_a_hand_count():
    # one neuron, constant current 0.5, threshold 1: it fires at t = 1, 3, 5, ...
    lin = nn.Linear(1, 1, bias=False)
    out = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        lin.weight.fill_(1.0)
        out.weight.fill_(1.0)
    snn = conversion.SpikingNetwork(
        [lin, conversion.IFNeuron(1.0), out], num_steps=8, input_encoding="direct"
    )
    T, beta = 8, 0.2
    got = hybrid.stdb_factors(snn, torch.full((1, 1), 0.5), T, beta=beta)
    # steps 0 and 1: no spike yet; then dt alternates 1, 2, 1, 2, ... (last spike before t)
    dts = [1, 2, 1, 2, 1, 2]
    assert got["silent_fraction"] == pytest.approx(2 / T)
    assert got["mean_factor"] == pytest.approx(np.mean(np.exp(-beta * np.array(dts))), rel=1e-6)
    expected_p10 = np.sort(np.exp(-beta * np.array(dts)))[math.ceil(0.1 * len(dts)) - 1]
    assert got["p10_factor"] == pytest.approx(expected_p10, rel=1e-5)


def test_surrogate_disagreement_matches_a_hand_count():
    # neuron 0: constant current 3 (threshold 1) fires at every step; after its first
    # spike the membrane before the decision is 2 + 3 = 5, 7, ... (v = 4, 6, ...: "above").
    # neuron 1: current 0.5 fires at t = 1, 3, ...; its v is -0.5 or 0 afterwards (neither).
    # neuron 2: current -1 never fires (not counted, although v <= -1).
    lin, out = nn.Linear(3, 3, bias=False), nn.Linear(3, 1, bias=False)
    with torch.no_grad():
        lin.weight.copy_(torch.eye(3))
        out.weight.fill_(1.0)
    snn = conversion.SpikingNetwork(
        [lin, conversion.IFNeuron(1.0), out], num_steps=5, input_encoding="direct"
    )
    got = hybrid.surrogate_disagreement(snn, torch.tensor([[3.0, 0.5, -1.0]]), 5)
    assert got == pytest.approx({"above": 4 / 15, "below": 0.0, "fired": 7 / 15})
    # "below": layer 1 = neurons A (current 1, fires every step) and B (0.5, fires at t = 1, 3);
    # layer 2 gets 2 A - 5 B: U = 2 (fires at t = 0), then -2, 0, -3, -1, i.e. v = -3, -1, -4, -2
    lin1, lin2 = nn.Linear(2, 2, bias=False), nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        lin1.weight.copy_(torch.eye(2))
        lin2.weight.copy_(torch.tensor([[2.0, -5.0]]))
    deep = conversion.SpikingNetwork(
        [
            lin1,
            conversion.IFNeuron(1.0),
            lin2,
            conversion.IFNeuron(1.0),
            nn.Linear(1, 1, bias=False),
        ],
        num_steps=5,
        input_encoding="direct",
    )
    got = hybrid.surrogate_disagreement(deep, torch.tensor([[1.0, 0.5]]), 5)
    assert got == pytest.approx({"above": 0.0, "below": 4 / 15, "fired": 11 / 15})


def test_stdb_factor_varies_only_at_long_T():
    snn = conversion.to_spiking(hybrid.make_ann(TINY, 0), num_steps=2, input_encoding="rate")
    conversion.balance_thresholds(snn, _data()["x_train"][:16], num_steps=4)
    x = _data()["x_train"][:8]
    short = hybrid.stdb_factors(snn, x, 6)
    long = hybrid.stdb_factors(snn, x, 100)
    assert short["p10_factor"] >= math.exp(-0.01 * 5) - 1e-6
    assert long["p10_factor"] < short["p10_factor"]


def _silent_net(T=3):
    """Linear(1, 1) -> IF(theta = 1) -> Linear(1, 2), direct input 0.3: the membrane reaches
    0.3, 0.6, 0.9 and never fires in three steps."""
    lin, out = nn.Linear(1, 1, bias=False), nn.Linear(1, 2, bias=False)
    with torch.no_grad():
        lin.weight.fill_(1.0)
        out.weight.copy_(torch.tensor([[1.0], [-1.0]]))
    net = conversion.SpikingNetwork(
        [lin, conversion.IFNeuron(1.0), out], num_steps=T, input_encoding="direct"
    )
    return net, torch.full((4, 1), 0.3), torch.zeros(4, dtype=torch.long)


def test_gradient_norms_show_that_stdb_cannot_start_from_silent_neurons():
    net, x, y = _silent_net()
    norms = hybrid.gradient_norms(net, x, y)
    assert norms["linear"] > 0.01
    assert norms["stdb"] < 1e-3 * norms["linear"]
    # against a hand computation of the piecewise-linear gradient: d loss / d w_in
    net.set_surrogate("linear")
    loss = nn.functional.cross_entropy(net(x), y)
    loss.backward()
    expected = math.sqrt(sum(float(p.grad.pow(2).sum()) for p in net.parameters()))
    assert norms["linear"] == pytest.approx(expected, rel=1e-6)


def test_tune_scale_picks_the_best_factor_on_the_given_images():
    record = _tiny_record()
    data = _data()
    snn, _ = hybrid.convert_seeded(hybrid.make_ann(TINY, 0), data["x_train"][:32], TINY, 0)
    best, scores = hybrid.tune_scale(snn, data["x_train"][:32], data["y_train"][:32],
                                     [0.9, 0.6, 0.3])  # fmt: skip
    assert set(scores) == {0.9, 0.6, 0.3}
    assert scores[best] == max(scores.values())
    assert best == max(f for f, a in scores.items() if a == scores[best])  # ties: larger
    for r in record["runs"]:
        assert r["conversion"]["factor"] in TINY.scales


# -------------------------------------------------------------------- the arms
def test_run_seed_gives_every_arm_and_the_scratch_budget_adds_up():
    record = _tiny_record()
    r = record["runs"][0]
    for arm in hybrid.ARMS:
        assert 0 <= r[arm]["accuracy"] <= 1, arm
    budget = (
        r["ann"]["seconds"]
        + r["conversion"]["seconds"]
        + max(r[arm]["seconds"] for arm in ("stdb", "linear", "linear_fast"))
    )
    assert r["scratch"]["budget"] == pytest.approx(budget)
    assert r["scratch"]["seconds"] >= budget
    assert r["scratch_short"]["seconds"] <= r["scratch"]["seconds"]
    assert r["stdb"]["curve"][0]["accuracy"] == r["conv_tuned"]["accuracy"]
    assert len(r["conversion"]["sweep"]["conv_max"]["accuracy"]) == TINY.sweep_steps
    rates = r["conversion"]["rates"]
    assert rates["conv_scaled"][-1] >= rates["conv_max"][-1]  # lower thresholds, more spikes


def test_hybrid_arms_start_from_the_scaled_conversion_and_the_seed_matters():
    data = _data()
    a = hybrid.run_seed(dataclasses.replace(TINY, arms=("linear",)), 0, data, log=print)
    b = hybrid.run_seed(dataclasses.replace(TINY, arms=("linear",)), 0, data, log=print)
    assert a["linear"]["first_losses"] == b["linear"]["first_losses"]
    assert a["conversion"]["thresholds"] == b["conversion"]["thresholds"]
    ann, start = a["networks"]["ann"], a["networks"]["conv_tuned"]
    factor = a["conversion"]["factor"]
    np.testing.assert_allclose(
        start.thresholds, [factor * t for t in a["conversion"]["thresholds"]], rtol=1e-6
    )
    assert torch.equal(start.layers[1].weight, ann[1].weight)
    c = hybrid.run_seed(dataclasses.replace(TINY, arms=("linear",)), 1, data, log=print)
    assert c["ann"]["first_losses"] != a["ann"]["first_losses"]


def test_run_long_compares_both_surrogates():
    data = _data()
    ann = hybrid.make_ann(TINY, 0)
    long = dataclasses.replace(TINY, num_steps=12, arms=("stdb", "linear"))
    r = hybrid.run_long(ann, long, 0, data, log=print)
    assert {"stdb", "linear", "conv_scaled"} <= set(r)
    assert 0 <= r["conversion"]["stdb_factors"]["silent_fraction"] <= 1


def test_summaries_and_table_rank_only_outside_the_noise():
    record = _tiny_record()
    sums = hybrid.summaries(record)
    assert set(sums) == set(hybrid.ARMS)
    values = [r["stdb"]["accuracy"] for r in record["runs"]]
    assert sums["stdb"].mean == pytest.approx(np.mean(values))
    html = hybrid.results_table(record).data
    assert html.count("<tr>") == len(hybrid.ARMS) + 1
    cmp = stats.compare(sums["stdb"], sums["conv_scaled"])
    assert ("tie" in html) or not cmp.tie
    fig = hybrid.plot_budget(record)
    assert fig.axes
    plt.close(fig)
    fig = hybrid.plot_sweeps(record, ["conv_max", "stdb"], marker=2)
    plt.close(fig)
    q = hybrid.quotes(record)
    assert q["stdb_mean"] == pytest.approx(sums["stdb"].mean)
    assert q["stdb_vs_linear_verdict"] in ("a tie", "resolved")
    assert q["sweep_conv_max_4"] == pytest.approx(
        np.mean([r["conversion"]["sweep"]["conv_max"]["accuracy"][3] for r in record["runs"]])
    )


def test_long_table_and_quotes_read_the_T100_runs():
    data = _data()
    long = dataclasses.replace(TINY, num_steps=12, arms=("stdb", "linear"))
    record = dict(_tiny_record())
    record["runs"] = [dict(r) for r in record["runs"]]
    for seed, r in enumerate(record["runs"]):
        r["long"] = hybrid.run_long(hybrid.make_ann(TINY, seed), long, seed, data, log=print)
    record["long_setup"] = hybrid.setup_dict(long)
    html = hybrid.long_table(record).data
    assert html.count("<tr>") == 4
    q = hybrid.quotes(record)
    assert "long_stdb_vs_linear_verdict" in q and q["long_grad_linear"] >= 0


def test_conversion_table_and_layer_rates_plot():
    snn = conversion.to_spiking(hybrid.make_ann(TINY, 0), num_steps=2)
    html = hybrid.conversion_table({"a": snn}, {"a": 0.5}, 0.8, 2).data
    assert "50.0%" in html and "-30.0%" in html
    fig = hybrid.plot_layer_rates({"a": torch.tensor([0.1, 0.2, 0.0]), "b": [0.3, 0.1, 0.05]})
    plt.close(fig)


# ---------------------------------------------------------------- committed run
def test_committed_run_prefix_reproduces():
    """Re-run the first optimizer steps of seed 0 of scripts/conversion_hybrid.py (ANN and
    from-scratch network) and compare with the losses stored in the result file."""
    record = records.load("conversion_hybrid")
    setup = hybrid.setup_from(record)
    run = record["runs"][0]
    seed = run["seed"]
    assert len(record["runs"]) >= 3 and record["provenance"]["seeds"][0] == seed
    data = hybrid.load_data(setup)
    x, y = data["x_train"], data["y_train"]
    ann = hybrid.make_ann(setup, seed)
    log = hybrid.train(ann, x, y, lr=setup.ann_lr, batch_size=setup.batch_size, epochs=1,
                       seed=seed, max_steps=len(run["ann"]["first_losses"]))  # fmt: skip
    np.testing.assert_allclose(log.losses, run["ann"]["first_losses"], rtol=1e-4)
    calibration = x[: setup.calibration_images]
    start = hybrid.make_ann(setup, seed + 1000)
    scale = run["scratch"].get("scale", setup.scale)  # runs before the tuned factor: 0.7
    snn, _ = hybrid.convert_seeded(start, calibration, setup, seed, scale=scale)
    snn.set_surrogate("linear")
    steps = len(run["scratch"]["first_losses"])
    log = hybrid.train(snn, x, y, lr=setup.scratch_lr, batch_size=setup.batch_size, epochs=1,
                       seed=seed, max_steps=steps)  # fmt: skip
    np.testing.assert_allclose(log.losses, run["scratch"]["first_losses"], rtol=1e-4)


# ------------------------------------------------------------------ bad input
_D = _data()
_ANN = hybrid.make_ann(TINY, 0)
_SNN = conversion.to_spiking(_ANN, num_steps=2)
_XT, _YT = _D["x_train"], _D["y_train"]

BAD_INPUTS = [
    refuse(lambda: hybrid.Setup(layers=[8, "A"]), TypeError, "layers", id="setup-layers-list"),
    refuse(lambda: hybrid.Setup(layers=("A",)), ValueError, "layers", id="setup-layers-pool"),
    refuse(lambda: hybrid.Setup(layers=(8, "B")), TypeError, "layers[1]", id="setup-layers-str"),
    refuse(lambda: hybrid.Setup(num_steps=0), ValueError, "num_steps", id="setup-steps"),
    refuse(lambda: hybrid.Setup(n_train=1.5), TypeError, "n_train", id="setup-n-train"),
    refuse(lambda: hybrid.Setup(finetune_lr=-1e-3), ValueError, "finetune_lr", id="setup-lr"),
    refuse(lambda: hybrid.Setup(scale=float("nan")), ValueError, "scale", id="setup-scale"),
    refuse(lambda: hybrid.Setup(percentile=0), ValueError, "percentile", id="setup-percentile"),
    refuse(lambda: hybrid.Setup(arms=["stdb"]), TypeError, "arms", id="setup-arms-list"),
    refuse(lambda: hybrid.Setup(arms=("bptt",)), ValueError, "arms", id="setup-arms-name"),
    refuse(lambda: hybrid.Setup(arms=("scratch",)), ValueError, "scratch",
           id="setup-scratch-alone"),
    refuse(lambda: hybrid.vgg("16A"), TypeError, "layers", id="vgg-layers-str"),
    refuse(lambda: hybrid.vgg((8, 0)), ValueError, "layers[1]", id="vgg-channels-0"),
    refuse(lambda: hybrid.vgg((8, "A", "A", "A", "A")), ValueError, "pool", id="vgg-too-deep"),
    refuse(lambda: hybrid.vgg(hidden=0), ValueError, "hidden", id="vgg-hidden"),
    refuse(lambda: hybrid.vgg(classes=1), ValueError, "classes", id="vgg-classes"),
    refuse(lambda: hybrid.train("net", _XT, _YT, lr=1e-3, epochs=1), TypeError, "model",
           id="train-model"),
    refuse(lambda: hybrid.train(_ANN, _XT, _YT[:-1], lr=1e-3, epochs=1), ValueError,
           "same length", id="train-lengths"),
    refuse(lambda: hybrid.train(_ANN, _XT, _YT.float(), lr=1e-3, epochs=1), TypeError, "y",
           id="train-y-float"),
    refuse(lambda: hybrid.train(_ANN, _XT.long(), _YT, lr=1e-3, epochs=1), TypeError, "x",
           id="train-x-int"),
    refuse(lambda: hybrid.train(_ANN, _XT, _YT, lr=0.0, epochs=1), ValueError, "lr",
           id="train-lr"),
    refuse(lambda: hybrid.train(_ANN, _XT, _YT, lr=1e-3), ValueError, "epochs",
           id="train-no-budget"),
    refuse(lambda: hybrid.train(_ANN, _XT, _YT, lr=1e-3, epochs=1, seconds=5.0), ValueError,
           "exactly one", id="train-two-budgets"),
    refuse(lambda: hybrid.train(_ANN, _XT, _YT, lr=1e-3, epochs=0), ValueError, "epochs",
           id="train-epochs-0"),
    refuse(lambda: hybrid.train(_ANN, _XT, _YT, lr=1e-3, seconds=float("inf")), ValueError,
           "seconds", id="train-seconds-inf"),
    refuse(lambda: hybrid.train(_ANN, _XT, _YT, lr=1e-3, epochs=1, batch_size=0), ValueError,
           "batch_size", id="train-batch-0"),
    refuse(lambda: hybrid.train(_ANN, _XT, _YT, lr=1e-3, epochs=1, seed=-1), ValueError,
           "seed", id="train-seed"),
    refuse(lambda: hybrid.train(_ANN, _XT, _YT, lr=1e-3, seconds=1.0, checkpoints=[-1.0]),
           ValueError, "checkpoints", id="train-checkpoint"),
    refuse(lambda: hybrid.train(_ANN, _XT, _YT, lr=1e-3, epochs=1, test=_XT), TypeError,
           "test", id="train-test-tensor"),
    refuse(lambda: hybrid.train(_ANN, _XT, _YT, lr=1e-3, epochs=1, max_steps=0), ValueError,
           "max_steps", id="train-max-steps"),
    refuse(lambda: hybrid.accuracy(_ANN, _XT, _YT[:, None]), ValueError, "y",
           id="accuracy-y-2d"),
    refuse(lambda: hybrid.accuracy(None, _XT, _YT), TypeError, "model", id="accuracy-model"),
    refuse(lambda: hybrid.accuracy(_ANN, _XT, _YT, batch_size=0), ValueError, "batch_size",
           id="accuracy-batch"),
    refuse(lambda: hybrid.stdb_factors(_ANN, _XT, 4), TypeError, "snn", id="factors-snn"),
    refuse(lambda: hybrid.stdb_factors(_SNN, _XT, 0), ValueError, "num_steps",
           id="factors-steps"),
    refuse(lambda: hybrid.stdb_factors(_SNN, _XT, 4, beta=-1), ValueError, "beta",
           id="factors-beta"),
    refuse(lambda: hybrid.surrogate_disagreement(_ANN, _XT, 4), TypeError, "snn",
           id="disagreement-snn"),
    refuse(lambda: hybrid.surrogate_disagreement(_SNN, _XT, 0), ValueError, "num_steps",
           id="disagreement-steps"),
    refuse(lambda: hybrid.surrogate_disagreement(_SNN, _XT[0, 0, 0], 4), ValueError, "x",
           id="disagreement-x-1d"),
    refuse(lambda: hybrid.load_data("setup"), TypeError, "setup", id="load-data-setup"),
    refuse(lambda: hybrid.make_ann(TINY, -1), ValueError, "seed", id="make-ann-seed"),
    refuse(lambda: hybrid.convert_seeded(_ANN, _XT, {}, 0), TypeError, "setup",
           id="convert-setup"),
    refuse(lambda: hybrid.run_seed(TINY, 0, {"x_train": _XT}), ValueError, "y_train",
           id="run-seed-data"),
    refuse(lambda: hybrid.run_seed(TINY, 0, [_XT]), TypeError, "data", id="run-seed-data-list"),
    refuse(lambda: hybrid.run_seed(dataclasses.replace(TINY, n_train=10_000), 0, _D),
           ValueError, "training", id="run-seed-too-few"),
    refuse(lambda: hybrid.run_seed(TINY, 1.0, _D), TypeError, "seed", id="run-seed-seed"),
    refuse(lambda: hybrid.run_long(_ANN, "setup", 0, _D), TypeError, "setup", id="run-long"),
    refuse(lambda: hybrid.summaries({"runs": []}), ValueError, "record", id="summaries"),
    refuse(lambda: hybrid.results_table(_tiny_record(), against="best"), ValueError, "against",
           id="table-against"),
    refuse(lambda: hybrid.plot_budget([]), ValueError, "record", id="plot-budget"),
    refuse(lambda: hybrid.setup_dict({}), TypeError, "setup", id="setup-dict"),
    refuse(lambda: hybrid.setup_from({"runs": []}), ValueError, "record", id="setup-from"),
    refuse(lambda: hybrid.Setup(scales=()), TypeError, "scales", id="setup-scales-empty"),
    refuse(lambda: hybrid.Setup(scales=(0.7, -0.5)), ValueError, "scales[1]",
           id="setup-scales-neg"),
    refuse(lambda: hybrid.Setup(tune_images=0), ValueError, "tune_images", id="setup-tune-0"),
    refuse(lambda: hybrid.Setup(n_train=500), ValueError, "tune_images",
           id="setup-tune-too-many"),
    refuse(lambda: hybrid.tune_scale(_ANN, _XT, _YT, [0.5]), TypeError, "snn",
           id="tune-snn"),
    refuse(lambda: hybrid.tune_scale(_SNN, _XT, _YT, []), TypeError, "scales",
           id="tune-empty"),
    refuse(lambda: hybrid.tune_scale(_SNN, _XT, _YT, [0.5, 0.0]), ValueError, "scales[1]",
           id="tune-zero"),
    refuse(lambda: hybrid.tune_scale(_SNN, _XT, _YT[:3], [0.5]), ValueError, "same length",
           id="tune-lengths"),
    refuse(lambda: hybrid.gradient_norms(_ANN, _XT, _YT), TypeError, "snn", id="grad-snn"),
    refuse(lambda: hybrid.gradient_norms(_SNN, _XT, _YT.float()), TypeError, "y",
           id="grad-y"),
    refuse(lambda: hybrid.conversion_table({}, {}, 0.8, 2), TypeError, "networks",
           id="conv-table-empty"),
    refuse(lambda: hybrid.conversion_table({"a": _SNN}, {"b": 0.5}, 0.8, 2), ValueError,
           "accuracies", id="conv-table-names"),
    refuse(lambda: hybrid.conversion_table({"a": _SNN}, {"a": 1.5}, 0.8, 2), ValueError,
           "accuracies['a']", id="conv-table-acc"),
    refuse(lambda: hybrid.conversion_table({"a": _ANN}, {"a": 0.5}, 0.8, 2), TypeError,
           "networks['a']", id="conv-table-ann"),
    refuse(lambda: hybrid.conversion_table({"a": _SNN}, {"a": 0.5}, 0.8, 0), ValueError,
           "num_steps", id="conv-table-steps"),
    refuse(lambda: hybrid.plot_sweeps(_tiny_record(), "stdb"), TypeError, "arms",
           id="sweeps-str"),
    refuse(lambda: hybrid.plot_sweeps(_tiny_record(), ["best"]), ValueError, "arms",
           id="sweeps-unknown"),
    refuse(lambda: hybrid.plot_sweeps(_tiny_record(), ["stdb"], marker=0), ValueError,
           "marker", id="sweeps-marker"),
    refuse(lambda: hybrid.plot_layer_rates([0.1, 0.2]), TypeError, "rates", id="rates-list"),
    refuse(lambda: hybrid.plot_layer_rates({"a": [0.1], "b": [0.1, 0.2]}), ValueError,
           "layers", id="rates-layers"),
    refuse(lambda: hybrid.plot_layer_rates({"a": [float("nan")]}), ValueError, "rates",
           id="rates-nan"),
    refuse(lambda: hybrid.long_table(_tiny_record()), ValueError, "T = 100", id="long-none"),
    refuse(lambda: hybrid.quotes(None), ValueError, "record", id="quotes-none"),
]  # fmt: skip


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)


def test_runs_on_meta_device():
    """The chapter's VGG-like network, converted, forward and backward on the meta device."""
    meta = torch.device("meta")
    with meta:
        ann = hybrid.vgg((4, "A", 8), hidden=8)
    assert ann(torch.rand(2, 1, 28, 28, device=meta)).device == meta
    for surrogate in ("stdb", "linear"):
        snn = conversion.to_spiking(ann, num_steps=2, surrogate=surrogate, input_encoding="rate")
        out = snn(torch.rand(2, 1, 28, 28, device=meta))
        out.sum().backward()
        assert all(p.grad is not None and p.grad.device == meta for p in snn.parameters())
