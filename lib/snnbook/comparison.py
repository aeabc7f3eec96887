r"""Chapter 9's comparison: every method of the book measured with one stick.

Each trained network of the book is run once over the same test images with
:func:`snnbook.energy.count_operations` watching its weight layers; one pass
gives its accuracy, its operations per image (dense connections, accumulates,
multiply-accumulates) and the spikes its neurons emit. :func:`measure` does
that pass in batches (so a 100-step network on 10 000 images fits in memory),
with the random input spikes of a rate code drawn from a fixed seed.

Energies are arithmetic only, priced per operation at 45 nm after Horowitz
:cite:`horowitz2014energy`:

.. math::

    E = e_\text{AC}\,\text{ACs} + e_\text{MAC}\,\text{MACs},

with three price lists in :data:`PRICES`: 32-bit float (add 0.9 pJ, multiply
3.7 pJ, so an AC costs 0.9 pJ and a MAC 4.6 pJ), 32-bit integer (add 0.1 pJ,
multiply 3.1 pJ: AC 0.1 pJ, MAC 3.2 pJ) and 8-bit integer (add 0.03 pJ,
multiply 0.2 pJ: AC 0.03 pJ, MAC 0.23 pJ). The ratio :math:`e_\text{MAC} /
e_\text{AC}` is what decides whether trading multiplies for more additions
pays: about 5 in float32, 32 in int32, 8 in int8. Memory access is not
counted (see :mod:`snnbook.energy`).

The hybrid-spiking LMU's memory update is computed outside any ``nn.Linear``
(a parallel FFT in :func:`snnbook.lmu.memory`), so hooks never see it:
:func:`lmu_operations` counts that network by hand from its shapes and its
measured spikes, on chapter 6's task (:func:`lmu_task`: 14 x 14 images, 196
steps), and :func:`lmu_hooked` counts chapter 6's trained networks under the
hooks with the memory update added by hand.

Each spiking row is set against the ANN it replaces (:func:`reference_of`),
seed by seed (:func:`seed_ratios`, :func:`verdict`).

Readers of the committed run ``results/method_costs.json``
(``scripts/method_costs.py``): :func:`summaries`, :func:`cost_rows`,
:func:`cost_table`, :func:`plot_accuracy_energy`, :func:`plot_pricing` and
:func:`plot_sweep`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from IPython.display import HTML
from matplotlib.figure import Figure
from torch import nn

from snnbook import checks, stats
from snnbook.energy import count_operations

__all__ = [
    "PRICES",
    "Probe",
    "cost_rows",
    "cost_table",
    "energy_of",
    "LMU_POOL",
    "LMU_ROWS",
    "SPIKES_COUNTED",
    "lmu_hooked",
    "lmu_images",
    "lmu_operations",
    "lmu_rows",
    "lmu_task",
    "measure",
    "plot_accuracy_energy",
    "plot_pricing",
    "plot_sweep",
    "reference_of",
    "seed_ratios",
    "summaries",
    "verdict",
    "with_live_lmu",
]

#: Price lists (joules per accumulate, per multiply-accumulate), 45 nm, Horowitz (ISSCC 2014).
PRICES: dict[str, tuple[float, float]] = {
    "float32": (0.9e-12, 4.6e-12),
    "int32": (0.1e-12, 3.2e-12),
    "int8": (0.03e-12, 0.23e-12),
}

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "h", "<", ">", "*", "p", "d", "H", "8")

#: A row's run function: ``run(model, x) -> (scores (B, classes), spikes emitted in the batch)``.
RunFn = Callable[[nn.Module, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


class Probe(nn.Module):
    """Wrap ``model`` so that one call scores a labelled batch and tallies its spikes.

    ``run(model, x)`` returns the class scores and the number of spikes the
    network's neurons emitted in the batch (a 0-d tensor, or 0). The tallies
    (``correct``, ``spikes``, ``samples``) stay tensors on the input's device
    until :func:`measure` reads them once.
    """

    def __init__(self, model: nn.Module, run: RunFn) -> None:
        super().__init__()
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        checks.callable_("run", run, hint="pass run(model, x) -> (scores, spikes)")
        self.model = model
        self.run = run
        self.reset()

    def reset(self) -> None:
        self.correct: torch.Tensor | int = 0
        self.spikes: torch.Tensor | float = 0
        self.samples = 0

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        checks.tensor("x", x, kind="float")
        checks.tensor("y", y, ndim=1, kind="integer")
        if len(x) != len(y):
            raise ValueError(f"x holds {len(x)} samples but y {len(y)} labels")
        scores, spikes = self.run(self.model, x)
        self.correct = self.correct + (scores.argmax(-1) == y).sum()
        self.spikes = self.spikes + spikes
        self.samples += len(y)
        return scores


def measure(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    run: RunFn | None = None,
    batch_size: int = 500,
    seed: int = 0,
    spike_value: float = 1.0,
) -> dict[str, Any]:
    """Accuracy, operations and spikes per image of ``model`` on ``(x, y)``, in one pass.

    The pass runs in batches of ``batch_size`` under :func:`count_operations`
    (evaluation mode, no gradients); the global random state is saved, seeded
    with ``seed`` (so a rate code draws the same spikes every time) and
    restored. ``run`` defaults to ``(model(x), 0)``. Returns ``accuracy``,
    ``dense``, ``acs``, ``macs``, ``neuron_spikes`` (emitted by the network's
    neurons), ``input_spikes`` (0/1 events reaching the first weight layer, 0
    for a real-valued input) and per-layer counts, all per image.
    """
    checks.tensor("x", x, kind="float")
    checks.labels("y", y)
    checks.same_length(x=x, y=y)
    batch_size = checks.positive_int("batch_size", batch_size)
    seed = checks.nonnegative_int("seed", seed)
    probe = Probe(model, run or (lambda m, xb: (m(xb), 0)))
    totals = {"dense": 0.0, "acs": 0.0, "macs": 0.0}
    layers: dict[str, dict[str, float]] = {}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for start in range(0, len(y), batch_size):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            ops = count_operations(probe, xb, yb, spike_value=spike_value)
            for key in totals:
                totals[key] += getattr(ops, key)
            for layer in ops.layers:
                name = layer.name.removeprefix("model.")
                entry = layers.setdefault(
                    name, {"dense": 0.0, "acs": 0.0, "macs": 0.0, "spikes": 0.0, "calls": 0}
                )
                for key in ("dense", "acs", "macs", "spikes"):
                    entry[key] += getattr(layer, key)
                entry["calls"] += layer.calls
    n = probe.samples
    first = next(iter(layers.values()))
    return {
        "accuracy": float(probe.correct) / n,
        **{key: value / n for key, value in totals.items()},
        "neuron_spikes": float(probe.spikes) / n,
        "input_spikes": first["spikes"] / n,
        "layers": {
            name: {k: (v / n if k != "calls" else v) for k, v in entry.items()}
            for name, entry in layers.items()
        },
    }


#: Chapter 6's task reads each 28 x 28 image averaged over LMU_POOL x LMU_POOL blocks (14 x 14,
#: 196 steps; ``scripts/lmu_baselines.py``'s ``pooled``).
LMU_POOL = 2


def lmu_images(images: torch.Tensor) -> torch.Tensor:
    """Fashion-MNIST images ``(N, 1, 28, 28)`` as chapter 6 reads them: 2 x 2 block means, 14 x 14."""
    checks.tensor("images", images, ndim=4, kind="float",
                  hint="pass Fashion-MNIST images (N, 1, 28, 28), load_fashion_mnist('test')[0]")  # fmt: skip
    if images.shape[-1] % LMU_POOL or images.shape[-2] % LMU_POOL:
        raise ValueError(
            f"images must have sides divisible by {LMU_POOL}, got {tuple(images.shape[-2:])}"
        )
    return nn.functional.avg_pool2d(images, LMU_POOL)


def lmu_task(images: torch.Tensor) -> dict[str, float]:
    """Steps per sequence and mean nonzero pixels per image of chapter 6's task on ``images``.

    ``steps`` is the pixel count of one pooled image (196 for 28 x 28 images);
    ``nonzero_pixels`` the mean number of nonzero pooled pixels per image (the
    :math:`W_x x_t` calls that cost anything).
    """
    pooled = lmu_images(images)
    checks.finite_values("images", pooled)
    return {"steps": pooled[0].numel(),
            "nonzero_pixels": float((pooled.flatten(1) != 0).sum(1).float().mean())}  # fmt: skip


def lmu_operations(
    *,
    hidden: int,
    order: int,
    steps: int,
    classes: int,
    spikes_per_image: float | None,
    nonzero_pixels: float,
) -> dict[str, float]:
    r"""Operations per image of the (hybrid-spiking) LMU classifier, counted by hand.

    Per step :math:`t` of the ``steps``-long pixel sequence, with memory order
    :math:`d` and ``hidden`` units :math:`n`:

    * memory update as a recurrence, :math:`m_t = \bar A m_{t-1} + \bar B u_t`:
      :math:`d^2 + d` MACs (the library computes the same numbers with an FFT;
      a recurrent machine would do this);
    * :math:`W_m m_t`: :math:`d n` MACs (the memory is real-valued);
    * :math:`W_x x_t`: :math:`n` MACs when the pixel is nonzero
      (``nonzero_pixels`` per image);
    * :math:`W_h a_{t-1}`: with spikes, one AC per spike and target
      (``spikes_per_image`` :math:`\times n`); without (``spikes_per_image=None``),
      :math:`n^2` MACs (dense ReLU activity, zeros not skipped);
    * the readout: :math:`n \times` ``classes`` MACs once.

    ``dense`` is every connection of every step, the non-spiking network's work;
    ``memory`` the memory update's share of ``macs``.

    Convention (it differs from the hooks' and NeuroBench's, in the spiking
    network's favour on both counts): the non-spiking network's zero ReLU
    outputs are *not* skipped in :math:`W_h a_{t-1}`, and a burst of :math:`k`
    spikes that one neuron sends in one step (possible when :math:`dt < 1`) is
    :math:`k` ACs per target, where the hooks price the nonzero activity
    :math:`k/dt` as one MAC per target. Biases, the neurons' updates and the
    input encoder :math:`e_x u_t` are not counted. :func:`lmu_hooked` counts
    the same networks the hooks' way.
    """
    hidden = checks.positive_int("hidden", hidden)
    order = checks.positive_int("order", order)
    steps = checks.positive_int("steps", steps)
    classes = checks.positive_int("classes", classes)
    nonzero_pixels = checks.number("nonzero_pixels", nonzero_pixels, low=0.0, high=float(steps))
    memory = steps * (order * order + order)
    drive = steps * order * hidden + nonzero_pixels * hidden
    readout = hidden * classes
    dense = memory + steps * (order * hidden + hidden + hidden * hidden) + readout
    if spikes_per_image is None:
        return {"dense": dense, "acs": 0.0, "macs": memory + drive + steps * hidden**2 + readout,
                "memory": memory}  # fmt: skip
    spikes = checks.number("spikes_per_image", spikes_per_image, low=0.0)
    return {"dense": dense, "acs": spikes * hidden, "macs": memory + drive + readout,
            "memory": memory}  # fmt: skip


#: The LMU rows of chapter 6's committed run (``results/hybrid_lmu.json``): key ->
#: (arm, dt at which it is read, or None for the non-spiking network; table metadata).
LMU_ROWS: dict[str, tuple[str, str | None, dict[str, str]]] = {
    "lmu_ann": ("non-spiking", None, {"label": "LMU, non-spiking",
                "recipe": "chapter 6's committed run (not re-run)"}),
    "lmu_hybrid": ("interpolated dt", "dt_target", {"label": "hybrid LMU, interpolated to dt {dt:g}",
                   "recipe": "dt interpolated 10 -> 0.3 while fine-tuning (the paper's recipe)"}),
    "lmu_target": ("target dt", "dt_target", {"label": "hybrid LMU, tuned at dt {dt:g}",
                   "recipe": "fine-tuned at dt = 0.3 throughout (the control)"}),
    "lmu_dt3": ("interpolated dt 3", "dt_target_2", {"label": "hybrid LMU, interpolated to dt {dt:g}",
                "recipe": "dt interpolated 100 -> 3 (about 4 bits per activity)"}),
}  # fmt: skip


def _lmu_record(record: object) -> Mapping[str, Any]:
    from snnbook import records

    if record is None:
        record = records.load("hybrid_lmu")
    if not isinstance(record, Mapping) or "settings" not in record or "results" not in record:
        raise TypeError("record must be results/hybrid_lmu.json, records.load('hybrid_lmu')")
    return record


def lmu_rows(images: torch.Tensor, record: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The LMU rows of the comparison, read from chapter 6's committed run and counted by hand.

    ``images`` are the test images (``(N, 1, 28, 28)``, as loaded); the count
    uses chapter 6's task on them (:func:`lmu_task`: 196 steps of the 14 x 14
    pooled image, its mean nonzero pooled pixels). ``record`` is
    ``records.load("hybrid_lmu")`` (loaded when None); one row per entry of
    :data:`LMU_ROWS`, each with the per-seed accuracy, operations
    (:func:`lmu_operations`), spikes and training seconds (pre-training plus the
    arm's fine-tuning), in the format of ``results/method_costs.json``'s rows.
    """
    task = lmu_task(images)
    record = _lmu_record(record)
    settings, results = record["settings"], record["results"]
    shape = {"hidden": settings["hidden"], "order": settings["order"], "classes": 10, **task}
    rows: dict[str, dict] = {}
    for key, (arm, dt_key, meta) in LMU_ROWS.items():
        dt = None if dt_key is None else settings[dt_key]
        seeds: dict[str, dict] = {}
        for seed in map(str, record["provenance"]["seeds"]):
            res = results[seed]
            trained = sum(res["pretrain"]["seconds"]) + sum(res[arm]["seconds"])
            if dt is None:
                acc, spikes = res[arm]["test_accuracy_non_spiking"], None
            else:
                report = next(r for r in res[arm]["reports"] if r["dt"] == dt)
                acc, spikes = report["accuracy"], report["spikes_per_image"]
            seeds[seed] = {"accuracy": acc, **lmu_operations(**shape, spikes_per_image=spikes),
                           "neuron_spikes": spikes, "input_spikes": 0.0,
                           "train_seconds": trained}  # fmt: skip
        label = meta["label"].format(dt=dt)
        rows[key] = {**meta, "label": label, "chapter": 6, "steps": task["steps"],
                     "input": "pixel sequence", "task": "psFashion-MNIST", "n_test": len(images),
                     "dt": dt, "seeds": seeds}  # fmt: skip
    return {"rows": rows, "dt": settings["dt_target"], "dt_2": settings["dt_target_2"],
            "steps": task["steps"], "nonzero_pixels": task["nonzero_pixels"],
            "wall_seconds_ch6": record["provenance"]["wall_seconds"]}  # fmt: skip


def with_live_lmu(
    record: Mapping[str, Any], images: torch.Tensor, lmu_record: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``record`` (method_costs) with its LMU rows rebuilt from chapter 6's run as it is now.

    The LMU rows stored in ``results/method_costs.json`` are a copy taken when
    that run was recorded (and counted at 784 steps of the 28 x 28 image, not
    chapter 6's 196); chapter 6's run may have been re-recorded since, so the
    chapter shows the rows of :func:`lmu_rows` on the test ``images`` instead.
    The returned record is a new dict; ``record`` is not changed.
    """
    record = _record(record)
    live = lmu_rows(images, lmu_record)
    kept = {k: v for k, v in record["rows"].items() if not k.startswith("lmu")}
    return {**record, "rows": {**kept, **live["rows"]},
            "lmu": {k: v for k, v in live.items() if k != "rows"}}  # fmt: skip


def lmu_hooked(
    images: torch.Tensor,
    record: Mapping[str, Any] | None = None,
    weights: Mapping[str, Mapping[str, torch.Tensor]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Chapter 6's trained networks under the hooks, per image, one entry per :data:`LMU_ROWS` key.

    The networks of the run's first seed (``results/hybrid_lmu_weights.pt``
    when ``weights`` is None) read ``images`` (``(N, 1, 28, 28)``; pooled here)
    under :func:`snnbook.energy.count_operations`, the spiking ones at their
    row's ``dt`` with spike height :math:`1/dt`. This is NeuroBench's convention
    :cite:`yik2025neurobench`: every zero input is skipped (the non-spiking
    network's zero ReLU outputs too), and a step in which some neuron sends a
    burst of several spikes, an activity :math:`k/dt`, is priced as one MAC
    per nonzero activity and target rather than :math:`k` ACs. The memory
    update, computed by an FFT outside any ``nn.Linear``, is added by hand as
    in :func:`lmu_operations` (``memory``). Returns ``acs``, ``macs`` (memory
    included), ``memory`` and ``recurrent`` (the :math:`W_h` layer's counts).
    """
    import math

    from snnbook import hybrid_lmu, lmu, records
    from snnbook.energy import count_operations

    pooled = lmu_images(images)
    checks.finite_values("images", pooled)
    record = _lmu_record(record)
    if weights is None:
        weights = torch.load(records.RESULTS / "hybrid_lmu_weights.pt")
    if not isinstance(weights, Mapping):
        raise TypeError("weights must map each arm to a state dict (results/hybrid_lmu_weights.pt)")
    settings = record["settings"]
    steps = pooled[0].numel()
    memory = steps * (settings["order"] ** 2 + settings["order"])
    out: dict[str, dict[str, Any]] = {}
    for key, (arm, dt_key, _) in LMU_ROWS.items():
        if arm not in weights:
            raise ValueError(f"weights lack the arm {arm!r}: pass results/hybrid_lmu_weights.pt")
        dt = math.inf if dt_key is None else settings[dt_key]
        net = hybrid_lmu.HybridLMU(
            settings["hidden"], settings["order"], settings["theta"], window=settings["window"],
            seed=int(record["provenance"]["seeds"][0]),
            permutation=lmu.fixed_permutation(int(settings["theta"]), 0),
        )  # fmt: skip
        net.load_state_dict(weights[arm])
        net.dt = dt
        ops = count_operations(net, pooled, spike_value=1.0 if math.isinf(dt) else 1 / dt)
        ops = ops.per_sample(len(pooled))
        out[key] = {"acs": ops.acs, "macs": ops.macs + memory, "memory": memory,
                    "recurrent": next(x for x in ops.layers if x.name == "recurrent_kernel")}  # fmt: skip
    return out


# ------------------------------------------------------------------ reading the committed run
def _pricing(pricing: object) -> tuple[float, float]:
    name = checks.one_of("pricing", pricing, tuple(PRICES))
    return PRICES[name]


def energy_of(counts: Mapping[str, float], pricing: str = "float32") -> float:
    """Arithmetic energy in joules of one image's ``{"acs": ..., "macs": ...}`` under ``pricing``."""
    e_ac, e_mac = _pricing(pricing)
    if not isinstance(counts, Mapping) or "acs" not in counts or "macs" not in counts:
        raise TypeError("counts must be a dict with 'acs' and 'macs' (a row's operations)")
    return counts["acs"] * e_ac + counts["macs"] * e_mac


def _record(record: object) -> Mapping[str, Any]:
    if not isinstance(record, Mapping) or not isinstance(record.get("rows"), Mapping):
        raise TypeError(
            "record must be results/method_costs.json loaded with records.load('method_costs')"
        )
    return record


def summaries(record: Mapping[str, Any]) -> dict[str, stats.Summary]:
    """Accuracy over seeds of every row (:func:`snnbook.stats.summarize`)."""
    rows = _record(record)["rows"]
    return {
        key: stats.summarize([s["accuracy"] for s in row["seeds"].values()], row["n_test"])
        for key, row in rows.items()
    }


def _mean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def cost_rows(record: Mapping[str, Any], pricing: str = "float32") -> list[dict[str, Any]]:
    """One dict per row: accuracy summary, steps, spikes, operations, energy, training time.

    Counts, spikes and times are means over the row's seeds; ``energy`` is in
    joules per image under ``pricing``, ``dense_energy`` the dense network's
    (every connection a MAC at the same price list).
    """
    _, e_mac = _pricing(pricing)
    out = []
    for key, s in summaries(record).items():
        row = record["rows"][key]
        seeds = list(row["seeds"].values())
        mean = {k: _mean([r.get(k) for r in seeds]) for k in
                ("dense", "acs", "macs", "neuron_spikes", "input_spikes", "train_seconds")}  # fmt: skip
        out.append({
            "key": key, "method": row["label"], "chapter": row["chapter"], "task": row["task"],
            "accuracy": s, "steps": row["steps"], **mean,
            "energy": energy_of(mean, pricing), "dense_energy": mean["dense"] * e_mac,
        })  # fmt: skip
    return out


def _sig(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    for scale, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}{unit}"
    return f"{value:.3g} {unit}".rstrip() if unit else f"{value:.3g}"


#: What each row's ``neuron_spikes`` counts (the spikes column of :func:`cost_table`); the input
#: code's spikes are never included (they are ``input_spikes``).
SPIKES_COUNTED: dict[str, str] = {
    "ann_mlp": "no spikes",
    "quant_dt4": "both hidden quantizers, 8 steps (a step may carry several)",
    "quant_dt025": "both hidden quantizers, 8 steps (at most one per step)",
    "lif_rate": "hidden and output LIF layers, 25 steps",
    "binary": "all three LIF layers, 6 steps",
    "single_spike": "hidden layer only (at most one per neuron), 100 steps",
    "ann_conv": "no spikes",
    "converted": "every IF layer, 6 steps",
    "hybrid": "every IF layer, 6 steps",
    "lmu_ann": "no spikes",
    "lmu_hybrid": "hidden layer, 196 steps (every spike of a burst)",
    "lmu_target": "hidden layer, 196 steps (every spike of a burst)",
    "lmu_dt3": "hidden layer, 196 steps (every spike of a burst)",
}


def cost_table(
    record: Mapping[str, Any], pricing: str = "float32", *, caption: str | None = None
) -> HTML:
    """The chapter's table: one line per method (see :func:`cost_rows`).

    The spikes column counts different neurons in different rows; the column
    beside it says which (:data:`SPIKES_COUNTED`, "not stated" for a row it lacks).
    """
    from snnbook.tables import table

    body = []
    for r in cost_rows(record, pricing):
        s = r["accuracy"]
        body.append({
            "method": f"{r['method']} (ch. {r['chapter']})" + ("" if r["task"] == "Fashion-MNIST"
                                                              else f" [{r['task']}]"),
            "accuracy": f"{s.mean:.1%} ± {s.std:.1%} (SE {s.test_se:.1%})",
            "steps": r["steps"], "spikes": _sig(r["neuron_spikes"]) if r["neuron_spikes"] else "–",
            "counted": SPIKES_COUNTED.get(r["key"], "not stated"),
            "dense": _sig(r["dense"]), "acs": _sig(r["acs"]), "macs": _sig(r["macs"]),
            "energy": _sig(r["energy"] * 1e6 if r["energy"] else 0.0, "µJ") if r["energy"] < 1e-6
            else f"{r['energy'] * 1e6:.3g} µJ",
            "seconds": "–" if r["train_seconds"] is None else f"{r['train_seconds']:.0f}",
        })  # fmt: skip
    return table(
        body,
        columns={
            "method": "method",
            "accuracy": "accuracy (mean ± sd, test SE)",
            "steps": "time steps",
            "spikes": "spikes / image",
            "counted": "spikes counted",
            "dense": "dense ops",
            "acs": "ACs",
            "macs": "MACs",
            "energy": f"energy / image ({pricing})",
            "seconds": "training s (this CPU)",
        },  # fmt: skip
        caption=caption,
    )


def plot_accuracy_energy(
    record: Mapping[str, Any],
    pricing: str = "float32",
    *,
    reference: str = "ann_mlp",
    ax: Any = None,
) -> Figure:
    """Accuracy (mean ± sd over seeds) against arithmetic energy per image, log scale.

    The dotted line marks the energy of ``reference`` (a row key); rows on
    another task are drawn hollow.
    """
    from snnbook.plotting import COLORS, new_figure

    rows = cost_rows(record, pricing)
    keys = [r["key"] for r in rows]
    if reference not in keys:
        raise ValueError(f"reference must be one of {keys}, got {reference!r}")
    if ax is None:
        fig, axes = new_figure(1, figsize=(7.5, 4.2))
        ax = axes[0, 0]
    else:
        fig = ax.figure
    for k, r in enumerate(rows):
        color = COLORS[k % len(COLORS)]
        marker = _MARKERS[k % len(_MARKERS)]
        other = r["task"] != "Fashion-MNIST"
        ax.errorbar(r["energy"] * 1e6, r["accuracy"].mean, yerr=r["accuracy"].std, fmt=marker,
                    color=color, mfc="none" if other else color, ms=7,
                    label=r["method"] + (f" [{r['task']}]" if other else ""))  # fmt: skip
    ref = rows[keys.index(reference)]
    ax.axvline(ref["energy"] * 1e6, color="0.3", ls=":", lw=1)
    ax.set_xscale("log")
    ax.set(xlabel=f"arithmetic energy per image, µJ ({pricing}; memory not counted)",
           ylabel="test accuracy")  # fmt: skip
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


#: The ANN a row replaces when it is not the MLP (chapter 8's conversions: their convnet).
_REPLACES = {"converted": "ann_conv", "hybrid": "ann_conv"}


def reference_of(key: str) -> str | None:
    """The row key of the ANN that row ``key`` replaces, or None for an ANN row.

    Chapter 8's converted and hybrid networks replace the convnet (``ann_conv``),
    chapter 6's spiking LMUs the non-spiking LMU (``lmu_ann``), every other row
    (chapters 2 to 4 and 7, the binarized convnet included: its full-precision
    twin was not counted) the MLP (``ann_mlp``).
    """
    if not isinstance(key, str):
        raise TypeError(f"key must be a row key (str), got {type(key).__name__}")
    if key.startswith("ann") or key == "lmu_ann":
        return None
    if key.startswith("lmu"):
        return "lmu_ann"
    return _REPLACES.get(key, "ann_mlp")


def seed_ratios(record: Mapping[str, Any], key: str, pricing: str = "float32") -> list[float]:
    """Row ``key``'s energy over that of the ANN it replaces, seed by seed (same seed, images)."""
    rows = _record(record)["rows"]
    _pricing(pricing)
    if key not in rows:
        raise ValueError(f"key must be one of {list(rows)}, got {key!r}")
    ref = reference_of(key)
    if ref is None:
        raise ValueError(f"{key!r} is an ANN row: it replaces nothing; pass a spiking row")
    if ref not in rows:
        raise ValueError(f"the record lacks {ref!r}, the ANN that {key!r} replaces")
    base = rows[ref]["seeds"]
    missing = set(rows[key]["seeds"]) - set(base)
    if missing:
        raise ValueError(
            f"{ref!r} lacks seeds {sorted(missing)} of {key!r}: compare like with like"
        )
    return [energy_of(s, pricing) / energy_of(base[seed], pricing)
            for seed, s in rows[key]["seeds"].items()]  # fmt: skip


def verdict(record: Mapping[str, Any], key: str, pricing: str = "float32") -> str:
    """Whether a row is "dearer", "cheaper" or "level" (seeds straddle 1) against its ANN."""
    ratios = seed_ratios(record, key, pricing)
    return "dearer" if min(ratios) > 1 else "cheaper" if max(ratios) < 1 else "level"


def plot_pricing(record: Mapping[str, Any], pricing: str = "float32") -> Figure:
    """Energy of every spiking row relative to the ANN it replaces under ``pricing``.

    One bar per row (:func:`reference_of` names its ANN): the mean of the
    per-seed ratios (:func:`seed_ratios`), with a line from the lowest to the
    highest seed. Red: dearer on every seed; green: cheaper on every seed; grey:
    the seeds straddle 1 (:func:`verdict` "level"). A row whose verdict differs
    from its float32 verdict is labelled "flips".
    """
    from snnbook.plotting import COLORS, new_figure

    rows = cost_rows(record, pricing)
    names = {r["key"]: r["method"] for r in rows}
    keys = [k for k in names if reference_of(k) is not None]
    if not keys:
        raise ValueError("record has no spiking rows to set against an ANN")
    fig, axes = new_figure(1, figsize=(7.5, 4.0))
    ax = axes[0, 0]
    color = {"dearer": COLORS[1], "cheaper": COLORS[2], "level": "0.6"}
    y = np.arange(len(keys))[::-1]
    labels = []
    for k, yk in zip(keys, y, strict=True):
        ratios = seed_ratios(record, k, pricing)
        side = verdict(record, k, pricing)
        flips = side != verdict(record, k, "float32")
        ax.barh(yk, float(np.mean(ratios)), color=color[side])
        ax.plot([min(ratios), max(ratios)], [yk, yk], color="k", lw=1.2)
        labels.append(
            f"{names[k]} / {names[str(reference_of(k))]}" + ("  ← flips" if flips else "")
        )
    ax.set_yticks(y, labels, fontsize=7)
    ax.axvline(1, color="k", lw=1)
    ax.set_xscale("log")
    e_ac, e_mac = PRICES[pricing]
    ax.set(xlabel="energy / energy of the ANN it replaces (mean; line: lowest to highest seed)",
           title=f"{pricing}: AC {e_ac * 1e12:g} pJ, MAC {e_mac * 1e12:g} pJ "
                 f"(ratio {e_mac / e_ac:.0f})")  # fmt: skip
    ax.grid(axis="y", visible=False)
    return fig


def plot_sweep(record: Mapping[str, Any], method: str, position: int) -> Figure:
    """One method's accuracy against energy as its time knob moves (``record["sweeps"]``).

    ``method`` names a sweep (e.g. the rate-coded LIF over ``T``); the curve
    is the mean over seeds on the sweep's test images, the chosen ``position``
    circled; the trained setting is marked with a star.
    """
    from snnbook.plotting import COLORS, new_figure

    sweeps = _record(record).get("sweeps", {})
    if method not in sweeps:
        raise ValueError(f"method must be one of {list(sweeps)}, got {method!r}")
    sweep = sweeps[method]
    values = sweep["values"]
    position = checks.integer("position", position, low=0, high=len(values) - 1)
    seeds = list(sweep["seeds"].values())
    acc = np.mean([s["accuracy"] for s in seeds], axis=0)
    e_ac, e_mac = PRICES["float32"]
    energy = np.mean([[a * e_ac + m * e_mac for a, m in zip(s["acs"], s["macs"], strict=True)]
                      for s in seeds], axis=0) * 1e6  # fmt: skip
    fig, axes = new_figure(1, figsize=(6.5, 3.6))
    ax = axes[0, 0]
    ax.plot(energy, acc, "o-", color=COLORS[0], label=sweep["label"])
    trained = values.index(sweep["trained"])
    ax.plot(energy[trained], acc[trained], "*", ms=14, color=COLORS[4], label="trained setting")
    ax.plot(energy[position], acc[position], "o", ms=16, mfc="none", color=COLORS[1])
    for name, key in (("ANN (MLP)", "ann_mlp"), ("ANN (convnet)", "ann_conv")):
        if key in record["rows"]:
            r = next(r for r in cost_rows(record) if r["key"] == key)
            ax.axvline(r["energy"] * 1e6, color="0.4", ls=":", lw=1)
            ax.text(r["energy"] * 1e6, 0.12, f" {name}", fontsize=7, rotation=90, color="0.3")
    ax.set_xscale("log")
    ax.set_ylim(0.1, 0.95)
    ax.set(xlabel="arithmetic energy per image, µJ (float32)", ylabel="test accuracy",
           title=f"{sweep['label']}: {sweep['knob']} = {values[position]:g} "
                 f"({acc[position]:.1%}, {energy[position]:.2g} µJ)")  # fmt: skip
    ax.legend(fontsize=8, loc="lower right")
    return fig
