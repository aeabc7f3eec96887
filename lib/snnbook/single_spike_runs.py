"""Chapter 7's experiments: its networks, their training recipe, and tables of the results.

The chapter compares a single-spike network (:class:`~snnbook.single_spike.SingleSpikeLinear`)
with a multi-spike one (:class:`~snnbook.single_spike.MultiSpikeLinear`, snnTorch's
``Leaky``) of the same size, and two selection gradients of the single-spike layer, on
Fashion-MNIST and on a task that only spike timing solves. The long runs are made by
``scripts/single_spike_fmnist.py`` and ``scripts/single_spike_speed.py``; the chapter runs one
seed live with the same functions and loads the rest with :func:`snnbook.records.load`. The
table helpers turn those records into :func:`snnbook.tables.table` tables, with the spread over
seeds and the test-set standard error of :mod:`snnbook.stats`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from IPython.display import HTML
from matplotlib.figure import Figure

from snnbook import checks, stats, tables, training
from snnbook.single_spike import (
    LatencyEncoder,
    LeakyReadout,
    MultiSpikeLinear,
    SingleSpikeLinear,
    SpikingClassifier,
)

__all__ = [
    "ARMS",
    "FMNIST",
    "TIMING",
    "make_network",
    "train_arm",
    "hidden_spikes_per_sample",
    "dead_neurons",
    "arm_summary",
    "accuracy_table",
    "late_change",
    "plateau_table",
    "plot_test_curves",
    "layer_speed_table",
    "step_speed_table",
    "SPEED_CASES",
    "plot_speed_record",
]

#: The three arms: hidden layer kind and selection gradient.
ARMS: dict[str, dict[str, str]] = {
    "single-spike": {"layer": "single", "selection": "detached"},
    "multi-spike": {"layer": "multi", "selection": "detached"},
    "single-spike, straight-through": {"layer": "single", "selection": "straight_through"},
}

#: The Fashion-MNIST recipe of the chapter and of ``scripts/single_spike_fmnist.py``.
FMNIST: dict[str, Any] = {
    "inputs": 784,
    "steps": 100,
    "hidden": 400,
    "classes": 10,
    "beta": 0.9,
    "readout_beta": 1.0,
    "lr": 2e-3,
    "batch": 128,
    "epochs": 2,
}

#: The spike-timing task's recipe (16 inputs, 8 classes, 40 steps; snnbook.data.spike_timing_task).
TIMING: dict[str, Any] = {
    "inputs": 16,
    "steps": 40,
    "hidden": 64,
    "classes": 8,
    "beta": 0.9,
    "readout_beta": 1.0,
    "lr": 5e-3,
    "batch": 64,
    "epochs": 8,
}


def make_network(arm: str, seed: int, recipe: Mapping[str, Any] = FMNIST) -> SpikingClassifier:
    """The network of ``arm`` for ``recipe``; the same initial weights for every arm of a seed.

    With ``recipe["inputs"] == 784`` the network latency-codes images itself
    (:class:`~snnbook.single_spike.LatencyEncoder`); otherwise it takes spikes
    ``(batch, T, inputs)`` as the timing task gives them.
    """
    kind = checks.one_of("arm", arm, ARMS)
    seed = checks.nonnegative_int("seed", seed)
    torch.manual_seed(seed)
    n_in, n_hidden = recipe["inputs"], recipe["hidden"]
    if ARMS[kind]["layer"] == "multi":
        hidden = MultiSpikeLinear(n_in, n_hidden, beta=recipe["beta"])
    else:
        hidden = SingleSpikeLinear(
            n_in, n_hidden, beta=recipe["beta"], selection=ARMS[kind]["selection"]
        )
    readout = LeakyReadout(n_hidden, recipe["classes"], beta=recipe["readout_beta"], reduce="mean")
    encoder = LatencyEncoder(recipe["steps"], sparse=True) if n_in == 784 else None
    return SpikingClassifier(hidden, readout, encoder)


@torch.no_grad()
def hidden_spikes_per_sample(model: SpikingClassifier, x: torch.Tensor) -> float:
    """Mean number of hidden spikes per sample over ``x`` (evaluation mode, batches of 1000)."""
    checks.tensor("x", x, kind="float")
    model.eval()
    total = 0.0
    for xb in x.split(1000):
        model(xb)
        total += float(model.last_hidden_spikes.sum())
    return total / len(x)


@torch.no_grad()
def dead_neurons(model: SpikingClassifier, x: torch.Tensor) -> int:
    """Number of hidden neurons that fire for no sample of ``x``."""
    checks.tensor("x", x, kind="float")
    model.eval()
    fired = None
    for xb in x.split(1000):
        model(xb)
        now = model.last_hidden_spikes.sum(dim=(0, 1)) > 0
        fired = now if fired is None else fired | now
    return int((~fired).sum())


def train_arm(
    arm: str,
    seed: int,
    data: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    *,
    recipe: Mapping[str, Any] = FMNIST,
    epochs: int | None = None,
    stop_after: int | None = None,
    record_losses: int = 5,
    desc: str | None = None,
) -> dict[str, Any]:
    """Train one arm with one seed by the recipe; returns its curve, accuracy, spikes and times.

    Adam with learning rate ``recipe["lr"]``, decayed to zero by a cosine over
    ``recipe["epochs"]`` epochs; batches of ``recipe["batch"]`` in an order seeded by
    ``seed``. ``epochs`` (default: the recipe's) stops earlier *without* changing the
    schedule, so a short run repeats the first epochs of a long one exactly;
    ``stop_after`` stops after that many optimizer steps (a unit test's prefix). The
    first ``record_losses`` training losses are returned as ``first_losses``.
    """
    x, y, x_test, y_test = data
    checks.same_length(x=x, y=y)
    checks.same_length(x_test=x_test, y_test=y_test)
    planned = checks.positive_int("recipe epochs", recipe["epochs"])
    epochs = planned if epochs is None else checks.integer("epochs", epochs, low=1, high=planned)
    if stop_after is not None:
        stop_after = checks.positive_int("stop_after", stop_after)
    record_losses = checks.nonnegative_int("record_losses", record_losses)
    model = make_network(arm, seed, recipe)
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe["lr"])
    total = planned * math.ceil(len(y) / recipe["batch"])
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda k: 0.5 * (1 + math.cos(math.pi * min(k, total) / total))
    )
    generator = torch.Generator().manual_seed(seed)
    result: dict[str, Any] = {"first_losses": [], "test_curve": [], "epoch_seconds": []}
    step = 0
    for epoch in range(epochs):
        model.train()
        start = time.perf_counter()
        for xb, yb in training.batches(x, y, recipe["batch"], shuffle=True, generator=generator):
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            if len(result["first_losses"]) < record_losses:
                result["first_losses"].append(loss.item())
            if stop_after is not None and step >= stop_after:
                return result
        result["epoch_seconds"].append(time.perf_counter() - start)
        result["test_curve"].append(training.evaluate(model, x_test, y_test, batch_size=1000))
        if desc:
            print(
                f"{desc}: epoch {epoch + 1}/{epochs}, test accuracy "
                f"{result['test_curve'][-1]:.3f} ({result['epoch_seconds'][-1]:.1f} s)",
                flush=True,
            )
    result["test_accuracy"] = result["test_curve"][-1]
    result["seconds_per_epoch"] = sum(result["epoch_seconds"]) / epochs
    result["hidden_spikes_per_sample"] = hidden_spikes_per_sample(model, x_test)
    result["dead_neurons"] = dead_neurons(model, x_test)
    result["model"] = model
    return result


# ------------------------------------------------------------------ summaries and tables
def arm_summary(runs: Mapping[str, Mapping[str, Any]], n_test: int) -> stats.Summary:
    """:func:`snnbook.stats.summarize` of the final test accuracies of one arm's seeds."""
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError("runs must be a non-empty dict: seed -> result of train_arm")
    return stats.summarize([r["test_accuracy"] for r in runs.values()], n_test)


def accuracy_table(
    arms: Mapping[str, Mapping[str, Mapping[str, Any]]], n_test: int, *, caption: str = ""
) -> HTML:
    """One row per arm: mean test accuracy ± spread over seeds, both standard errors, spikes, time."""
    if not isinstance(arms, Mapping) or not arms:
        raise ValueError("arms must be a non-empty dict: arm -> {seed: result}")
    rows = []
    for arm, runs in arms.items():
        s = arm_summary(runs, n_test)
        values = list(runs.values())
        rows.append(
            {
                "network": arm,
                "seeds": s.k,
                "test accuracy": s.mean,
                "spread (sd)": s.std,
                "range": f"{s.low:.1%} to {s.high:.1%}",
                "test-set SE": s.test_se,
                "hidden spikes / sample": _mean(v["hidden_spikes_per_sample"] for v in values),
                "s / epoch": _mean(v["seconds_per_epoch"] for v in values),
            }
        )
    pct = "{:.1%}".format
    return tables.table(
        rows,
        formats={
            "test accuracy": pct,
            "spread (sd)": "{:.2%}",
            "test-set SE": "{:.2%}",
            "hidden spikes / sample": "{:.0f}",
            "s / epoch": "{:.1f}",
        },
        caption=caption or None,
    )


def late_change(runs: Mapping[str, Mapping[str, Any]], last: int = 2) -> list[float]:
    """Per seed, the test accuracy after the final epoch minus that ``last`` epochs earlier.

    A run has reached a plateau of its schedule when these changes are about as small as the
    test-set standard error of one accuracy (compare with :attr:`stats.Summary.test_se`).
    """
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError("runs must be a non-empty dict: seed -> result of train_arm")
    last = checks.positive_int("last", last)
    out = []
    for seed, run in runs.items():
        curve = run["test_curve"]
        if len(curve) <= last:
            raise ValueError(
                f"seed {seed}: {len(curve)} epochs recorded, need more than last={last}; "
                "pass a smaller last or a longer run"
            )
        out.append(curve[-1] - curve[-1 - last])
    return out


def plateau_table(
    arms: Mapping[str, Mapping[str, Mapping[str, Any]]],
    n_test: int,
    *,
    last: int = 2,
    caption: str = "",
) -> HTML:
    """Per arm: final accuracy, the change over the last ``last`` epochs, and the test-set SE."""
    if not isinstance(arms, Mapping) or not arms:
        raise ValueError("arms must be a non-empty dict: arm -> {seed: result}")
    rows = []
    for arm, runs in arms.items():
        s = arm_summary(runs, n_test)
        change = late_change(runs, last)
        rows.append(
            {
                "network": arm,
                "epochs": len(next(iter(runs.values()))["test_curve"]),
                "final accuracy": s.mean,
                f"change over last {last} epochs (mean)": _mean(change),
                "(largest |change|)": max(abs(c) for c in change),
                "test-set SE": s.test_se,
            }
        )
    points = "{:+.2%}".format
    return tables.table(
        rows,
        formats={
            "final accuracy": "{:.1%}",
            f"change over last {last} epochs (mean)": points,
            "(largest |change|)": "{:.2%}",
            "test-set SE": "{:.2%}",
        },
        caption=caption or None,
    )


def plot_test_curves(
    arms: Mapping[str, Mapping[str, Mapping[str, Any]]], *, title: str = ""
) -> Figure:
    """Test accuracy after every epoch, one line per seed, one colour per arm."""
    import matplotlib.pyplot as plt

    from snnbook.plotting import COLORS

    if not isinstance(arms, Mapping) or not arms:
        raise ValueError("arms must be a non-empty dict: arm -> {seed: result}")
    fig, ax = plt.subplots(figsize=(6.0, 3.2), constrained_layout=True)
    for color, (arm, runs) in zip(COLORS, arms.items(), strict=False):
        for k, (seed, run) in enumerate(runs.items()):
            curve = run["test_curve"]
            epochs = range(1, len(curve) + 1)
            label = arm if k == 0 else None
            ax.plot(epochs, curve, "o-", ms=3, lw=1, color=color, label=label, alpha=0.8)
            ax.annotate(f"seed {seed}", (len(curve), curve[-1]), fontsize=7, color=color,
                        textcoords="offset points", xytext=(4, 0), va="center")  # fmt: skip
    ax.set(xlabel="epoch", ylabel="test accuracy (10 000 images)")
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    return fig


def _mean(values: Any) -> float:
    values = list(values)
    return sum(values) / len(values)


def layer_speed_table(rows: Sequence[Mapping[str, Any]], *, caption: str = "") -> HTML:
    """The neuron-dynamics benchmark of ``scripts/single_spike_speed.py`` as a table."""
    shown = [
        {
            "batch x neurons": f"{r['batch']} x {r['neurons']}",
            "T": r["T"],
            "parallel (ms)": r["parallel_ms"],
            "loop (ms)": r["loop_ms"],
            "snn.Leaky (ms)": r["leaky_ms"],
            "vs loop": r["speedup_vs_loop"],
            "vs snn.Leaky": r["speedup_vs_leaky"],
        }
        for r in rows
    ]
    ms, times = "{:.1f}", "{:.1f}x"
    return tables.table(
        shown,
        formats={
            "parallel (ms)": ms,
            "loop (ms)": ms,
            "snn.Leaky (ms)": ms,
            "vs loop": times,
            "vs snn.Leaky": times,
        },
        caption=caption or None,
    )


def step_speed_table(rows: Sequence[Mapping[str, Any]], *, caption: str = "") -> HTML:
    """Whole training steps of ``scripts/single_spike_speed.py``: time per hidden layer and product."""
    shown = []
    for r in rows:
        for kind in ("dense", "sparse"):
            shown.append(
                {
                    "T": r["T"],
                    "input product": kind,
                    "product (ms)": r[f"product_{kind}_ms"],
                    "parallel step (ms)": r[f"step_parallel_{kind}_ms"],
                    "loop step (ms)": r[f"step_loop_{kind}_ms"],
                    "snn.Leaky step (ms)": r[f"step_leaky_{kind}_ms"],
                    "product share (parallel)": r[f"share_product_parallel_{kind}"],
                    "vs loop": r[f"step_speedup_vs_loop_{kind}"],
                    "vs snn.Leaky": r[f"step_speedup_vs_leaky_{kind}"],
                }
            )
    ms, times = "{:.1f}", "{:.2f}x"
    return tables.table(
        shown,
        formats={
            "product (ms)": ms,
            "parallel step (ms)": ms,
            "loop step (ms)": ms,
            "snn.Leaky step (ms)": ms,
            "product share (parallel)": "{:.0%}",
            "vs loop": times,
            "vs snn.Leaky": times,
        },
        caption=caption or None,
    )


#: The cases of :func:`plot_speed_record`.
SPEED_CASES = (
    "dynamics, 16 x 100",
    "dynamics, 128 x 400",
    "training step, sparse product",
    "training step, dense product",
)


def plot_speed_record(record: Mapping[str, Any], case: str = SPEED_CASES[1]) -> Figure:
    """Times of ``scripts/single_spike_speed.py`` against ``T`` for one ``case`` (log-log).

    ``"dynamics, B x N"``: forward + backward of the neuron dynamics alone for batch
    ``B`` and ``N`` neurons; ``"training step, ..."``: a whole training step of the
    784-400-10 network, with the sparse or the dense input product, whose time alone
    is drawn dashed. The parallel layer's speed-up over the loop is written at each point.
    """
    import matplotlib.pyplot as plt

    from snnbook.plotting import COLORS

    case = checks.one_of("case", case, SPEED_CASES)
    fig, ax = plt.subplots(figsize=(7.0, 3.4), constrained_layout=True)
    names = {"parallel": "parallel single-spike", "loop": "single-spike loop",
             "leaky": "snn.Leaky loop"}  # fmt: skip
    if case.startswith("dynamics"):
        batch, neurons = (int(v) for v in case.split(", ")[1].split(" x "))
        rows = [r for r in record["layers"] if (r["batch"], r["neurons"]) == (batch, neurons)]
        key = "{}_ms"
        title = f"neuron dynamics alone, batch {batch} x {neurons} neurons (forward + backward)"
    else:
        kind = case.split(", ")[1].split()[0]
        rows = list(record["steps"])
        key = "step_{}_" + kind + "_ms"
        title = f"one training step of 784-400-10, batch 128, {kind} input product"
    steps = [r["T"] for r in rows]
    for color, (method, label) in zip(COLORS, names.items(), strict=False):
        ax.plot(steps, [r[key.format(method)] for r in rows], "o-", color=color, label=label)
    if not case.startswith("dynamics"):
        ax.plot(steps, [r[f"product_{kind}_ms"] for r in rows], "k--", lw=1,
                label="input product alone")  # fmt: skip
    for r in rows:
        ratio = r[key.format("loop")] / r[key.format("parallel")]
        ax.annotate(f"{ratio:.1f}x", (r["T"], r[key.format("parallel")]), fontsize=8,
                    textcoords="offset points", xytext=(0, -12), ha="center")  # fmt: skip
    ax.set(xscale="log", yscale="log", xlabel="time steps T", ylabel="ms (best of repeats)")
    ax.set_xticks(steps, [str(s) for s in steps])
    ax.minorticks_off()
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    return fig
