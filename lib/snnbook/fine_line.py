"""The fine line between dead neurons and sparsity: the experiments of chapter 4.

Eshraghian & Lu :cite:`eshraghian2022fine` argue that a spiking neuron behind
binarized weights needs a high threshold (to count many :math:`\\pm 1` inputs)
but dies if the threshold is too high for its input, and that annealing the
threshold upward during training walks this line. This module holds the
orchestration of the chapter's tests of that claim; the models are in
:mod:`snnbook.binary`, the schedule in :mod:`snnbook.annealing`, the probes in
:mod:`snnbook.activity`.

**Can a threshold be reached at all?** A neuron with decay :math:`\\beta`
driven by a constant current :math:`I` for :math:`T` steps, starting from rest
and not firing, reaches

.. math::

    U[T] = I \\sum_{k=0}^{T-1} \\beta^k = I\\,\\frac{1 - \\beta^T}{1 - \\beta}
    \\qquad (:func:`membrane_gain`),

so it can fire within the window only if :math:`I \\ge \\theta / \\sum_k \\beta^k`.
If the currents of a layer spread as :math:`\\mathcal N(0, \\sigma^2)`, the
threshold sits :math:`z = \\theta / (\\sigma \\sum_k \\beta^k)` standard
deviations out (:func:`sigmas_to_fire`), and only the tail beyond :math:`z`
fires (:func:`fraction_that_can_fire`).

**Batch normalisation makes a threshold a choice of units.** Behind
``BatchNorm`` with scale :math:`\\gamma` and shift :math:`b`, the current is
:math:`\\gamma \\hat x + b` and the LIF recurrence is linear in
:math:`(I, \\theta)`: multiplying :math:`\\theta`, :math:`\\gamma` and :math:`b`
by :math:`c > 0` multiplies every membrane by :math:`c` and leaves every spike
unchanged (:func:`rescale_bn_layer`). Only a threshold with no normalisation in
front of it (the output layer of :class:`~snnbook.binary.BinaryConvSNN`) is a
true property of a binarized integrator.
"""

from __future__ import annotations

import copy
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import torch
from matplotlib.figure import Figure
from snntorch import functional as SF

from . import checks
from .activity import ActivityProbe
from .annealing import ThresholdAnnealer
from .binary import BinaryConvSNN, TemporalCodingNet, latency_target, train_temporal
from .plotting import COLORS, new_figure
from .training import batches

__all__ = [
    "membrane_gain",
    "sigmas_to_fire",
    "fraction_that_can_fire",
    "rescale_bn_layer",
    "ToyArm",
    "TOY_ARMS",
    "toy_input",
    "run_toy_arm",
    "ConvArm",
    "train_conv",
    "conv_loss",
    "seed_summary",
    "seed_compare",
    "plot_count_curves",
    "plot_reach",
    "conv_rows",
    "plot_fine_line",
    "toy_rows",
    "LAYERS",
]

#: Names of the three spiking layers of :class:`~snnbook.binary.BinaryConvSNN`.
LAYERS = ("layer 1 (conv, BN)", "layer 2 (conv, BN)", "layer 3 (output)")


# ----------------------------------------------------------------- reachability
def membrane_gain(beta: float, num_steps: int) -> float:
    """``sum_{k < num_steps} beta ** k``: the membrane a constant unit current builds in the window."""
    beta = checks.unit_interval("beta", beta)
    num_steps = checks.positive_int("num_steps", num_steps)
    return float(num_steps) if beta == 1.0 else (1.0 - beta**num_steps) / (1.0 - beta)


def sigmas_to_fire(threshold: float, spread: float, beta: float, num_steps: int) -> float:
    """How many standard deviations ``spread`` a constant current needs to reach ``threshold``."""
    threshold = checks.positive("threshold", threshold)
    spread = checks.positive("spread", spread, hint="the standard deviation of the currents")
    return threshold / (spread * membrane_gain(beta, num_steps))


def fraction_that_can_fire(threshold: float, spread: float, beta: float, num_steps: int) -> float:
    """Share of ``N(0, spread^2)`` constant currents that reach ``threshold`` within the window."""
    z = sigmas_to_fire(threshold, spread, beta, num_steps)
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def rescale_bn_layer(net: BinaryConvSNN, layer: int, factor: float) -> BinaryConvSNN:
    """A copy of ``net`` with the threshold, BN scale and BN shift of ``layer`` (1 or 2) times ``factor``.

    Its spikes equal those of ``net`` for every input: the membrane of that
    layer is ``factor`` times larger, and so is its threshold. (With a factor
    that is a power of two the floating-point products are exact, so the
    spikes agree bit for bit.)
    """
    if not isinstance(net, BinaryConvSNN):
        raise TypeError(f"net must be a BinaryConvSNN, got {type(net).__name__}")
    layer = checks.integer("layer", layer, low=1, high=2, hint="only layers 1 and 2 have BN")
    factor = checks.positive("factor", factor)
    out = copy.deepcopy(net)
    bn, lif = getattr(out, f"bn{layer}"), getattr(out, f"lif{layer}")
    with torch.no_grad():
        bn.weight.mul_(factor)
        bn.bias.mul_(factor)
        lif.threshold.mul_(factor)
    return out


# ------------------------------------------------------------ spike-timing toy
@dataclass(frozen=True)
class ToyArm:
    """One setting of the spike-timing toy (the authors' ``bounded_homeostasis.ipynb``)."""

    binary: bool
    beta: float
    thresholds: tuple[float, float]
    peak: float
    anneal_to: float | None = None
    alpha: float = 5e-3


#: The four settings of the authors' notebook: decay, thresholds and the target's peak
#: (1.05 for threshold 1, 1.1 x 50 = 55 for a final threshold of 50).
TOY_ARMS: dict[str, ToyArm] = {
    "full precision, θ = 1": ToyArm(binary=False, beta=0.6, thresholds=(1.0, 1.0), peak=1.05),
    "binarized, θ = 1": ToyArm(binary=True, beta=0.15, thresholds=(1.0, 1.0), peak=1.05),
    "binarized, θ = 50": ToyArm(binary=True, beta=0.15, thresholds=(50.0, 50.0), peak=55.0),
    "binarized, θ: 5 → 50": ToyArm(
        binary=True, beta=0.15, thresholds=(5.0, 5.0), peak=55.0, anneal_to=50.0
    ),
}
TOY_STEPS, TOY_SPIKE_TIME, TOY_INPUTS, TOY_HIDDEN = 100, 75, 100, 1000


def toy_input(seed: int, num_steps: int = TOY_STEPS, n_in: int = TOY_INPUTS) -> torch.Tensor:
    """The toy's fixed input spikes ``(num_steps, 1, n_in)``: per-step probabilities drawn uniformly.

    As in the authors' notebook, each input at each step fires with its own
    probability ``p ~ U(0, 1)`` (``spikegen.rate(torch.rand(...), time_var_input=True)``),
    drawn once; the same spikes are presented at every iteration.
    """
    seed = checks.nonnegative_int("seed", seed)
    num_steps = checks.positive_int("num_steps", num_steps)
    n_in = checks.positive_int("n_in", n_in)
    gen = torch.Generator().manual_seed(seed)
    prob = torch.rand(num_steps, 1, n_in, generator=gen)
    return torch.bernoulli(prob, generator=gen)


def run_toy_arm(
    arm: ToyArm,
    seed: int,
    *,
    iterations: int = 1000,
    snapshots: Sequence[int] = (0, 100, 400, 999),
    lr: float = 1e-3,
    momentum: float = 0.9,
    desc: str | None = None,
) -> dict:
    """Train one setting of the toy from ``seed`` (input and initialisation); summarise it.

    Returns the ``losses``, the ``snapshots`` ``{iteration: {"mem", "spikes",
    "threshold"}}`` of the output neuron, the ``target``, and the final state:
    ``relative_loss`` (mean loss over the last 50 iterations divided by the mean
    squared target: 1 is no better than a membrane stuck at 0), the output
    spike times, the hidden firing rate and the share of hidden neurons that
    never fire, all measured on a forward pass after the last update.
    """
    if not isinstance(arm, ToyArm):
        raise TypeError(f"arm must be a ToyArm (see TOY_ARMS), got {type(arm).__name__}")
    seed = checks.nonnegative_int("seed", seed)
    iterations = checks.positive_int("iterations", iterations)
    wanted = {checks.integer("snapshot", s, low=0, high=iterations - 1) for s in snapshots}
    spikes_in = toy_input(seed)
    target = latency_target(TOY_STEPS, TOY_SPIKE_TIME, peak=arm.peak)
    torch.manual_seed(seed)
    net = TemporalCodingNet(
        binary=arm.binary, thresholds=arm.thresholds, beta=arm.beta, hidden=TOY_HIDDEN, bias=True
    )
    annealer = None
    if arm.anneal_to is not None:
        annealer = ThresholdAnnealer(net.lifs, [arm.anneal_to] * 2, [arm.alpha] * 2)
    shots: dict[int, dict] = {}

    def on_forward(i: int, rec: dict[str, torch.Tensor]) -> None:
        if i in wanted:
            shots[i] = _toy_state(rec, net)

    losses = train_temporal(
        net,
        spikes_in,
        target,
        iterations=iterations,
        lr=lr,
        momentum=momentum,
        after_step=(lambda step: annealer.step()) if annealer else None,
        on_forward=on_forward,
        desc=desc or "toy",
    )
    with torch.no_grad():
        final = _toy_state(net.run(spikes_in), net)
    tail = losses[-50:]
    return {
        "losses": losses,
        "snapshots": shots,
        "target": target.tolist(),
        "relative_loss": statistics.fmean(tail) / float((target**2).mean()),
        **{k: final[k] for k in ("spikes", "hidden_rate", "hidden_silent", "threshold")},
    }


def _toy_state(rec: Mapping[str, torch.Tensor], net: TemporalCodingNet) -> dict:
    hidden = rec["spk1"][:, 0].detach().cpu()
    return {
        "mem": rec["mem2"][:, 0].detach().cpu().tolist(),
        "spikes": torch.nonzero(rec["spk2"][:, 0].detach().cpu()).flatten().tolist(),
        "threshold": float(net.lif2.threshold),
        "hidden_rate": float(hidden.mean()),
        "hidden_silent": float((hidden.sum(0) == 0).float().mean()),
    }


# ---------------------------------------------------------- convolutional SNN
@dataclass(frozen=True)
class ConvArm:
    """One arm of the Fashion-MNIST experiment: weights, thresholds and (optional) annealing.

    ``thresholds`` are the initial thresholds of the three LIF layers;
    ``targets``/``alphas`` (one per layer, ``None`` for a layer kept fixed)
    anneal them with :class:`~snnbook.annealing.ThresholdAnnealer`.
    """

    binary: bool = True
    thresholds: tuple[float, float, float] = (1.0, 1.0, 1.0)
    targets: tuple[float | None, float | None, float | None] = (None, None, None)
    alphas: tuple[float | None, float | None, float | None] = (None, None, None)

    @property
    def annealed(self) -> list[int]:
        """Indices of the layers whose threshold is annealed."""
        return [i for i, t in enumerate(self.targets) if t is not None]


@dataclass
class ConvSetup:
    """The shared protocol of every arm (same data, budget and seeds)."""

    steps: int = 300
    batch_size: int = 64
    num_steps: int = 6
    beta: float = 0.9
    slope: float = 1.0
    lr: float = 3e-3
    loss: str = "ce_count"
    log_every: int = 10
    extra: dict = field(default_factory=dict)


def conv_loss(name: str):  # noqa: ANN201
    """The loss on time-major output spikes ``(T, B, 10)``: ``"ce_count"`` or ``"mse_count"``.

    ``"ce_count"`` is cross-entropy on the spike counts (``ce_count_loss``), the
    default here; ``"mse_count"`` is the authors' choice
    (``snntorch.functional.mse_count_loss`` with ``correct_rate=0.8,
    incorrect_rate=0.2``: the right class should fire on 80% of the steps, the
    others on 20%). With only ``T = 6`` steps its targets round to 4 and 1 spikes.
    """
    checks.one_of("loss", name, ("mse_count", "ce_count"))
    if name == "mse_count":
        return SF.mse_count_loss(correct_rate=0.8, incorrect_rate=0.2)
    return SF.ce_count_loss()


def train_conv(
    arm: ConvArm,
    seed: int,
    train: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor] | None = None,
    *,
    setup: ConvSetup | None = None,
    record_losses: int = 3,
    desc: str = "training",
) -> dict:
    """Train one arm from ``seed`` for ``setup.steps`` Adam steps with a cosine learning rate.

    The learning rate falls from ``setup.lr`` to 0 along a cosine over the run,
    stepped per batch (``CosineAnnealingLR``, as in the authors' configurations);
    the annealer, if any, steps after every optimizer step. Every
    ``setup.log_every`` steps the firing rate and silent fraction of each layer
    over that window (:class:`~snnbook.activity.ActivityProbe`), the thresholds
    and the training accuracy are logged. Returns those logs, ``first_losses``,
    and, if ``test`` is given, ``test_acc`` and the test-set ``rates`` /
    ``silent`` fractions of each layer and the output current's spread
    ``cur3_std``.
    """
    from tqdm.auto import tqdm

    if not isinstance(arm, ConvArm):
        raise TypeError(f"arm must be a ConvArm, got {type(arm).__name__}")
    setup = setup or ConvSetup()
    seed = checks.nonnegative_int("seed", seed)
    x, y = train
    checks.tensor("train images", x, shape=(None, 1, 28, 28), kind="float")
    checks.labels("train labels", y, num_classes=10)
    steps = checks.positive_int("setup.steps", setup.steps)
    torch.manual_seed(seed)
    net = BinaryConvSNN(
        binary=arm.binary,
        thresholds=arm.thresholds,
        num_steps=setup.num_steps,
        beta=setup.beta,
        slope=setup.slope,
    )
    optimizer = torch.optim.Adam(net.parameters(), lr=setup.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    annealer = None
    if arm.annealed:
        layers = [net.lifs[i] for i in arm.annealed]
        annealer = ThresholdAnnealer(
            layers, [arm.targets[i] for i in arm.annealed], [arm.alphas[i] for i in arm.annealed]
        )
    loss_fn = conv_loss(setup.loss)
    probe = ActivityProbe(dict.fromkeys(LAYERS))
    log = {"step": [], "train_acc": [], "thresholds": []}
    window, first = [], []
    generator = torch.Generator().manual_seed(seed)
    step = 0
    bar = tqdm(total=steps, desc=desc, mininterval=1.0)
    while step < steps:
        for xb, yb in batches(x, y, setup.batch_size, shuffle=True, generator=generator):
            rec = net.run(xb)
            loss = loss_fn(rec["spk3"], yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            if annealer is not None:
                annealer.step()
            step += 1
            for name, key in zip(LAYERS, ("spk1", "spk2", "spk3"), strict=True):
                probe.observe(name, rec[key])
            window.append((rec["spk3"].sum(0).argmax(1) == yb).float().mean())
            if len(first) < record_losses:
                first.append(loss.item())
            if step % setup.log_every == 0:
                probe.snapshot(step)
                log["step"].append(step)
                log["train_acc"].append(float(torch.stack(window).mean()))
                log["thresholds"].append([float(lif.threshold) for lif in net.lifs])
                window.clear()
            bar.update()
            if step == steps:
                break
    bar.close()
    result = {
        "activity": probe.history,
        "log": log,
        "first_losses": first,
        "final_thresholds": [float(lif.threshold) for lif in net.lifs],
    }
    if test is not None:
        result |= conv_test(net, *test)
    result["net"] = net
    return result


@torch.no_grad()
def conv_test(net: BinaryConvSNN, x: torch.Tensor, y: torch.Tensor, batch_size: int = 500) -> dict:
    """Test accuracy, per-layer firing rate and silent fraction, and output-current spread.

    The prediction is the class with the most output spikes; on a tie the lowest
    class index wins (``argmax``, as ``snntorch.functional.accuracy_rate`` does).
    ``ties`` is the share of test images whose largest count is shared.
    """
    checks.labels("y", y, num_classes=10)
    was_training = net.training
    net.eval()
    probe = ActivityProbe(dict.fromkeys(LAYERS))
    correct, ties, cur3 = 0, 0, []
    for xb, yb in batches(x, y, batch_size):
        rec = net.run(xb)
        counts = rec["spk3"].sum(0)
        correct += int((counts.argmax(1) == yb).sum())
        ties += int(((counts == counts.max(1, keepdim=True).values).sum(1) > 1).sum())
        for name, key in zip(LAYERS, ("spk1", "spk2", "spk3"), strict=True):
            probe.observe(name, rec[key])
        cur3.append(rec["cur3"].flatten())
    net.train(was_training)
    currents = torch.cat(cur3)
    return {
        "test_acc": correct / len(y),
        "n_test": len(y),
        "ties": ties / len(y),
        "rates": probe.rates(),
        "silent": probe.silent(),
        "cur3_std": float(currents.std()),
    }


# --------------------------------------------------------------- figures, tables
def plot_count_curves(
    thresholds: Sequence[float], spread: float, *, beta: float = 0.9, num_steps: int = 6
) -> Figure:
    """Spike count in the window against a constant input current, one line per threshold.

    The current runs from -1 to 3 standard deviations ``spread``; each curve is
    simulated with :func:`snnbook.lif.lif_response`. A threshold far below
    ``spread`` gives a near step function (every positive-enough current fires
    on every step: a sign detector); one far above ``spread * membrane_gain``
    is reached only by currents in the far tail (dead for most inputs).
    """
    from .lif import lif_response

    spread = checks.positive("spread", spread)
    if isinstance(thresholds, str) or not isinstance(thresholds, Sequence) or not thresholds:
        raise ValueError("thresholds must be a non-empty list of numbers")
    thresholds = [checks.positive("threshold", t) for t in thresholds]
    num_steps = checks.positive_int("num_steps", num_steps)
    z = torch.linspace(-1.0, 3.0, 401)
    fig, axes = new_figure(figsize=(7, 3.3))
    ax = axes[0, 0]
    for theta in thresholds:
        _, spk = lif_response((z * spread).expand(num_steps, -1), beta=beta, threshold=theta)
        ax.plot(z.numpy(), spk.sum(0).numpy(), label=f"θ = {theta:g}")
    ax.axvline(1.0, color="0.5", ls=":", lw=1)
    ax.set(
        xlabel=f"constant input current (standard deviations, σ = {spread:.3g})",
        ylabel=f"spikes in {num_steps} steps",
    )
    ax.legend(fontsize=8, loc="upper left")
    return fig


def plot_reach(
    threshold: float, beta: float = 0.9, num_steps: int = 6, spread: float = 16.0
) -> Figure:
    """:func:`plot_count_curves` for one threshold, titled with how far out it sits.

    The title gives ``z = threshold / (spread * sum_k beta^k)``
    (:func:`sigmas_to_fire`) and the share of ``N(0, spread^2)`` constant
    currents that can fire at all (:func:`fraction_that_can_fire`). Made for
    :func:`snnbook.widgets.explore` sliders over ``threshold``, ``beta`` and
    ``num_steps``.
    """
    fig = plot_count_curves([threshold], spread, beta=beta, num_steps=num_steps)
    z = sigmas_to_fire(threshold, spread, beta, num_steps)
    share = fraction_that_can_fire(threshold, spread, beta, num_steps)
    fig.axes[0].set_title(
        f"Σβᵏ = {membrane_gain(beta, num_steps):.2f}: θ needs {z:.2f} σ; {share:.1%} of currents can fire",
        fontsize=10,
    )
    fig.axes[0].set_ylim(-0.3, num_steps + 0.3)
    return fig


def _summary(entry: Mapping, n_test: int):  # noqa: ANN202
    from .stats import summarize

    return summarize([r["test_acc"] for r in entry["seeds"].values()], n_test)


def conv_rows(record: Mapping) -> list[dict]:
    """One row per arm of a ``fine_line`` result: thresholds, accuracy over seeds, output activity."""
    if not isinstance(record, Mapping) or "arms" not in record:
        raise ValueError("record must be the loaded fine_line result (records.load)")
    rows = []
    out = LAYERS[2]
    for name, entry in record["arms"].items():
        seeds = list(entry["seeds"].values())
        start = entry["arm"]["thresholds"][2]
        end = statistics.fmean(r["final_thresholds"][2] for r in seeds)
        rows.append(
            {
                "arm": name,
                "output θ": f"{start:g}" if abs(end - start) < 1e-6 else f"{start:g} → {end:.1f}",
                "accuracy": _summary(entry, record["n_test"]),
                "output rate": statistics.fmean(r["rates"][out] for r in seeds),
                "ties": statistics.fmean(r["ties"] for r in seeds),
                "output silent": statistics.fmean(r["silent"][out] for r in seeds),
            }
        )
    return rows


def plot_fine_line(record: Mapping) -> Figure:
    """Test accuracy and silent output neurons against the fixed output threshold; annealed arms as bands.

    Points are means over seeds with their standard deviation as error bars;
    each annealed arm is a band (mean plus or minus its standard deviation)
    across the panel, labelled with its schedule.
    """
    if not isinstance(record, Mapping) or "arms" not in record:
        raise ValueError("record must be the loaded fine_line result (records.load)")
    fig, axes = new_figure(ncols=2, figsize=(9.5, 3.6))
    acc_ax, silent_ax = axes[0]
    fixed = {
        name: e
        for name, e in record["arms"].items()
        if e["arm"]["binary"] and all(t is None for t in e["arm"]["targets"])
    }
    thetas = [e["arm"]["thresholds"][2] for e in fixed.values()]
    acc = [_summary(e, record["n_test"]) for e in fixed.values()]
    silent = [[r["silent"][LAYERS[2]] for r in e["seeds"].values()] for e in fixed.values()]
    acc_ax.errorbar(
        thetas,
        [a.mean for a in acc],
        yerr=[a.std for a in acc],
        fmt="o-",
        capsize=3,
        color=COLORS[0],
        label="fixed output θ",
    )
    silent_ax.errorbar(
        thetas,
        [statistics.fmean(s) for s in silent],
        yerr=[statistics.stdev(s) if len(s) > 1 else 0 for s in silent],
        fmt="o-",
        capsize=3,
        color=COLORS[0],
        label="fixed output θ",
    )
    colors = iter(COLORS[1:])
    for name, e in record["arms"].items():
        if name in fixed:
            continue
        a = _summary(e, record["n_test"])
        color = next(colors)
        if not e["arm"]["binary"]:
            acc_ax.axhline(a.mean, color=color, ls="--", lw=1, label=name)
            continue
        acc_ax.axhspan(a.mean - a.std, a.mean + a.std, color=color, alpha=0.25, lw=0, label=name)
        s = [r["silent"][LAYERS[2]] for r in e["seeds"].values()]
        silent_ax.axhspan(min(s), max(s), color=color, alpha=0.25, lw=0, label=name)
    for ax in axes[0]:
        ax.set_xscale("log", base=2)
        ax.set_xlabel("output threshold θ (layers 1-2 at θ = 1)")
    acc_ax.set_ylabel(f"test accuracy ({record['n_test']:,} images)")
    silent_ax.set_ylabel("output neurons silent\non the whole test set")
    silent_ax.set_ylim(-0.05, 1.05)
    acc_ax.legend(fontsize=7, loc="lower left")
    return fig


def toy_rows(record: Mapping) -> list[dict]:
    """One row per setting of a ``spike_timing`` result: loss and activity over seeds."""
    if not isinstance(record, Mapping) or "settings" not in record:
        raise ValueError("record must be the loaded spike_timing result (records.load)")
    rows = []
    for name, entry in record["settings"].items():
        seeds = list(entry["seeds"].values())
        rows.append(
            {
                "setting": name,
                "relative loss": seed_summary([r["relative_loss"] for r in seeds]),
                "output spikes": [len(r["spikes"]) for r in seeds],
                "hidden silent": statistics.fmean(r["hidden_silent"] for r in seeds),
                "final θ": statistics.fmean(r["threshold"] for r in seeds),
            }
        )
    return rows


# ---------------------------------------------------------------- seed statistics
def seed_summary(values: Sequence[float]) -> dict[str, float]:
    """Mean, sample standard deviation and standard error over seeds of any metric."""
    values = [checks.number("value", v) for v in values]
    if not values:
        raise ValueError("values is empty: give one number per seed")
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return {
        "mean": statistics.fmean(values),
        "std": std,
        "sem": std / math.sqrt(len(values)),
        "k": len(values),
    }


def seed_compare(a: Sequence[float], b: Sequence[float], *, z: float = 2.0) -> dict:
    """``mean(a) - mean(b)`` and whether it is a tie (within ``z`` combined seed standard errors).

    For metrics with no test-set error (the toy's losses); accuracies use
    :func:`snnbook.stats.compare`, which adds the test-set error.
    """
    sa, sb = seed_summary(a), seed_summary(b)
    noise = math.sqrt(sa["sem"] ** 2 + sb["sem"] ** 2)
    diff = sa["mean"] - sb["mean"]
    return {"difference": diff, "noise": noise, "tie": abs(diff) <= z * noise}


def arm_record(arm: ConvArm) -> dict:
    """The arm's settings as plain data (for result files)."""
    return asdict(arm)
