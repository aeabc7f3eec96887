"""Chapter 7's experiments: the recipe, the timing helpers, and the committed runs.

Each committed run in results/ is checked against a short prefix of its script: the speed
benchmark runs on tiny sizes and must write the same structure (and the committed record must
hold the cases the chapter quotes); the Fashion-MNIST run's first optimizer steps of its first
seed are re-run for every arm and must give the recorded losses.
"""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import assert_refuses, refuse

from snnbook import records
from snnbook.single_spike_runs import (
    ARMS,
    FMNIST,
    TIMING,
    accuracy_table,
    arm_summary,
    dead_neurons,
    hidden_spikes_per_sample,
    late_change,
    layer_speed_table,
    make_network,
    plateau_table,
    plot_test_curves,
    step_speed_table,
    train_arm,
)
from snnbook.timing import best_ms, forward_backward_ms

ROOT = Path(__file__).resolve().parents[1]


def _script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _timing_data(n=96, seed=1):
    from snnbook.data import spike_timing_task

    x, y = spike_timing_task(n, seed=seed)
    return x, y


# ------------------------------------------------------------------ the recipe
def test_arms_share_initial_weights():
    nets = {arm: make_network(arm, 3) for arm in ARMS}
    w = [net.hidden.fc.weight for net in nets.values()]
    assert all(torch.equal(w[0], wi) for wi in w[1:])
    assert nets["multi-spike"].hidden.__class__.__name__ == "MultiSpikeLinear"
    assert nets["single-spike, straight-through"].hidden.selection == "straight_through"


def test_short_run_repeats_the_start_of_a_long_one():
    x, y = _timing_data()
    xt, yt = _timing_data(64, seed=2)
    recipe = dict(TIMING, epochs=3)
    long = train_arm("single-spike", 0, (x, y, xt, yt), recipe=recipe)
    short = train_arm("single-spike", 0, (x, y, xt, yt), recipe=recipe, epochs=1)
    assert short["test_curve"] == long["test_curve"][:1]
    assert short["first_losses"] == long["first_losses"][: len(short["first_losses"])]
    prefix = train_arm("single-spike", 0, (x, y, xt, yt), recipe=recipe, stop_after=2)
    assert prefix["first_losses"] == long["first_losses"][:2]
    assert 0 <= long["dead_neurons"] <= TIMING["hidden"]
    assert long["hidden_spikes_per_sample"] <= TIMING["hidden"]  # at most one spike each


def test_spike_counts_and_dead_neurons():
    torch.manual_seed(0)
    net = make_network("single-spike", 0, TIMING)
    x, _ = _timing_data(32)
    net(x)
    spikes = net.last_hidden_spikes
    assert hidden_spikes_per_sample(net, x) == pytest.approx(float(spikes.sum()) / 32)
    assert dead_neurons(net, x) == int((spikes.sum((0, 1)) == 0).sum())


def test_tables_render_records():
    runs = {"0": {"test_accuracy": 0.8, "hidden_spikes_per_sample": 50, "seconds_per_epoch": 3.0}}
    runs["1"] = dict(runs["0"], test_accuracy=0.82)
    html = accuracy_table({"a": runs}, 1000).data
    assert "81.0%" in html and "a" in html
    assert arm_summary(runs, 1000).k == 2
    layer = {"batch": 16, "neurons": 100, "T": 25, "parallel_ms": 1.0, "loop_ms": 2.0}
    layer |= {"leaky_ms": 3.0, "speedup_vs_loop": 2.0, "speedup_vs_leaky": 3.0}
    assert "16 x 100" in layer_speed_table([layer]).data
    step = {"T": 25}
    for kind in ("dense", "sparse"):
        step[f"product_{kind}_ms"] = 1.0
        step[f"share_product_parallel_{kind}"] = 0.5
        step[f"step_speedup_vs_loop_{kind}"] = 1.5
        step[f"step_speedup_vs_leaky_{kind}"] = 2.5
        for hidden in ("parallel", "loop", "leaky"):
            step[f"step_{hidden}_{kind}_ms"] = 2.0
    assert "50%" in step_speed_table([step]).data


def test_plateau_helpers_measure_the_late_change():
    runs = {"0": {"test_curve": [0.5, 0.8, 0.85, 0.86], "test_accuracy": 0.86}}
    runs["1"] = {"test_curve": [0.5, 0.7, 0.80, 0.84], "test_accuracy": 0.84}
    np.testing.assert_allclose(late_change(runs), [0.86 - 0.8, 0.84 - 0.7])
    np.testing.assert_allclose(late_change(runs, 1), [0.01, 0.04])
    html = plateau_table({"a": runs}, 10_000).data
    assert "+10.00%" in html and "85.0%" in html
    import matplotlib.pyplot as plt

    fig = plot_test_curves({"a": runs, "b": runs}, title="t")
    assert len(fig.axes[0].lines) == 4
    plt.close(fig)


# ------------------------------------------------------------------ timing
def test_forward_backward_ms_times_and_backpropagates():
    seen = []

    def fn(x):
        seen.append(x)
        return x * 2

    ms = forward_backward_ms(fn, torch.ones(3, 4), repeats=2, warmup=1)
    assert ms >= 0 and len(seen) == 3
    assert all(x.grad is not None and bool((x.grad > 0).all()) for x in seen)
    assert best_ms(lambda: None, repeats=2) >= 0


# ------------------------------------------------------------------ bad input
BAD_INPUTS = [
    refuse(lambda: make_network("rate", 0), ValueError, "arm", id="arm"),
    refuse(lambda: make_network("single-spike", -1), ValueError, "seed", id="seed"),
    refuse(
        lambda: train_arm("single-spike", 0, (torch.zeros(4, 40, 16), torch.zeros(3).long()) * 2),
        ValueError,
        "same length",
        id="train-lengths",
    ),
    refuse(
        lambda: train_arm("single-spike", 0, (*_timing_data(8), *_timing_data(8)), epochs=0),
        ValueError,
        "epochs",
        id="train-epochs",
    ),
    refuse(
        lambda: train_arm(
            "single-spike", 0, (*_timing_data(8), *_timing_data(8)), recipe=TIMING, epochs=99
        ),
        ValueError,
        "epochs",
        id="train-epochs-beyond-schedule",
    ),
    refuse(
        lambda: train_arm("single-spike", 0, (*_timing_data(8), *_timing_data(8)), stop_after=0),
        ValueError,
        "stop_after",
        id="train-stop",
    ),
    refuse(lambda: arm_summary({}, 100), ValueError, "runs", id="summary-empty"),
    refuse(lambda: accuracy_table({}, 100), ValueError, "arms", id="table-empty"),
    refuse(lambda: late_change({}), ValueError, "runs", id="late-empty"),
    refuse(
        lambda: late_change({"0": {"test_curve": [0.5, 0.6]}}),
        ValueError,
        "epochs",
        id="late-short",
    ),
    refuse(
        lambda: late_change({"0": {"test_curve": [0.5, 0.6, 0.7]}}, last=0),
        ValueError,
        "last",
        id="late-last",
    ),
    refuse(lambda: plateau_table({}, 100), ValueError, "arms", id="plateau-empty"),
    refuse(lambda: plot_test_curves([]), ValueError, "arms", id="curves-empty"),
    refuse(lambda: hidden_spikes_per_sample(None, [1.0]), TypeError, "x", id="spikes-x"),
    refuse(lambda: dead_neurons(None, "x"), TypeError, "x", id="dead-x"),
    refuse(lambda: best_ms(5), TypeError, "fn", id="best-fn"),
    refuse(lambda: best_ms(lambda: None, repeats=0), ValueError, "repeats", id="best-repeats"),
    refuse(lambda: best_ms(lambda: None, warmup=-1), ValueError, "warmup", id="best-warmup"),
    refuse(
        lambda: forward_backward_ms(lambda x: x, torch.zeros(3, dtype=torch.long)),
        TypeError,
        "inputs",
        id="fb-long",
    ),
    refuse(lambda: forward_backward_ms("f", torch.zeros(3)), TypeError, "fn", id="fb-fn"),
]


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)


def test_runs_on_meta_device():
    meta = torch.device("meta")
    for arm in ARMS:
        for recipe, x in ((FMNIST, torch.rand(2, 784)), (TIMING, torch.rand(2, 40, 16))):
            net = make_network(arm, 0, dict(recipe, hidden=8)).to(meta)
            scores = net(x.to(meta))
            assert scores.device.type == "meta" and scores.shape == (2, recipe["classes"])
            scores.sum().backward()


# ------------------------------------------------------------------ committed runs
def test_speed_script_short_prefix(tmp_path):
    script = _script("single_spike_speed")
    out = tmp_path / "speed.json"
    results = script.main(
        ["--layer-steps", "25", "40", "--widths", "4x10", "--step-steps", "8"]
        + ["--repeats", "1", "--max-load", "0", "--out", str(out)]
    )
    saved = records.load(out)
    assert [r["T"] for r in saved["layers"]] == [25, 40]
    assert saved["layers"] == results["layers"]
    assert all(r["parallel_ms"] > 0 and r["speedup_vs_loop"] > 0 for r in saved["layers"])
    assert saved["steps"][0]["T"] == 8 and 0 < saved["steps"][0]["share_product_parallel_dense"]
    committed = records.load("single_spike_speed")
    cases = {(r["batch"], r["neurons"], r["T"]) for r in committed["layers"]}
    assert {(128, 400, t) for t in (25, 100, 400, 1024)} <= cases
    assert {(16, 100, 1024)} <= cases
    assert {r["T"] for r in committed["steps"]} >= {25, 100}
    assert committed["provenance"]["threads"] == 2
    kept = {(r["batch"], r["neurons"], r["T"]) for r in committed["layers_heap_kept"]}
    assert {(128, 400, t) for t in (100, 200, 1024)} <= kept
    assert {r["T"] for r in committed["steps_heap_kept"]} >= {25, 100}
    assert saved["layers_heap_kept"] == saved["steps_heap_kept"] == []  # no 128 x 400 layer here


def test_fmnist_script_first_steps_match_the_record():
    from snnbook.data import load_fashion_mnist

    record = records.load("single_spike_fmnist")
    assert record["recipe"] == FMNIST
    assert set(record["arms"]) == set(ARMS)
    seed = record["provenance"]["seeds"][0]
    x, y = load_fashion_mnist("train", n=None if record["n_train"] == 60_000 else record["n_train"])
    x_test, y_test = load_fashion_mnist("test", n=16)
    for arm, runs in record["arms"].items():
        assert len(runs) >= 2, f"{arm}: a committed comparison needs at least two seeds"
        for run in runs.values():
            assert len(run["test_curve"]) == FMNIST["epochs"]
            assert math.isclose(run["test_accuracy"], run["test_curve"][-1])
        torch.manual_seed(seed)
        prefix = train_arm(arm, seed, (x, y, x_test, y_test), stop_after=3)
        np.testing.assert_allclose(
            prefix["first_losses"], runs[str(seed)]["first_losses"][:3], rtol=1e-4
        )


PLATEAU_RUNS = {
    "single_spike_plateau": {"single-spike", "multi-spike"},
    "single_spike_plateau_st": {"single-spike, straight-through"},  # the ablation, same schedule
}


@pytest.mark.parametrize("name, arms", PLATEAU_RUNS.items(), ids=list(PLATEAU_RUNS))
def test_plateau_run_first_steps_match_the_record(name, arms):
    """The runs to a plateau: their arms, >= 2 seeds, every epoch's accuracy, a reproducible start."""
    from snnbook.data import load_fashion_mnist

    record = records.load(name)
    recipe = record["recipe"]
    assert {k: v for k, v in recipe.items() if k != "epochs"} == {
        k: v for k, v in FMNIST.items() if k != "epochs"
    }
    assert recipe["epochs"] > FMNIST["epochs"]
    assert set(record["arms"]) == arms
    assert record["n_train"] == 60_000 and record["n_test"] == 10_000
    seed = record["provenance"]["seeds"][0]
    x, y = load_fashion_mnist("train")
    x_test, y_test = load_fashion_mnist("test", n=16)
    for arm, runs in record["arms"].items():
        assert len(runs) >= 2, f"{arm}: a committed comparison needs at least two seeds"
        for run in runs.values():
            assert len(run["test_curve"]) == recipe["epochs"]
            assert math.isclose(run["test_accuracy"], run["test_curve"][-1])
        torch.manual_seed(seed)
        prefix = train_arm(arm, seed, (x, y, x_test, y_test), recipe=recipe, stop_after=3)
        np.testing.assert_allclose(
            prefix["first_losses"], runs[str(seed)]["first_losses"][:3], rtol=1e-4
        )


def test_straight_through_plateau_shares_the_plateau_runs_settings():
    """The ablation compares like with like: same recipe, data sizes and seeds as the plateau run."""
    plateau, ablation = (
        records.load("single_spike_plateau"),
        records.load("single_spike_plateau_st"),
    )
    assert ablation["recipe"] == plateau["recipe"]
    assert (ablation["n_train"], ablation["n_test"]) == (plateau["n_train"], plateau["n_test"])
    assert ablation["provenance"]["seeds"] == plateau["provenance"]["seeds"]
    assert set(ablation["arms"]["single-spike, straight-through"]) == set(
        plateau["arms"]["single-spike"]
    )
    assert ablation["provenance"]["threads"] == plateau["provenance"]["threads"] == 2
