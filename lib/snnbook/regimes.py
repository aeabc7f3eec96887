"""One network trained across the spiking regime, with the controls that test each step.

Chapter 2 follows Voelker, Rasmussen and Eliasmith :cite:`voelker2020spike`:
train a network without spikes, switch its activations to error-diffusing
quantizers (:class:`snnbook.quantizers.SpikingActivation`) and fine-tune it
*with* spikes while the time step ``dt`` is lowered toward binary spikes. This
module holds the pieces of that experiment and of its controls:

* the models: :class:`QuantizedMLP` (784-256-256-10 with quantized hidden
  activations) and :class:`LIFMLP`, the same layout with snnTorch ``Leaky``
  neurons, a choice of input code (random rate-coded spikes or the image as a
  constant current) and of readout (output spike counts or a linear readout
  of the time-averaged hidden spikes, as in :class:`QuantizedMLP`);
* :class:`DtSchedule`, the geometric dt schedule of the fine-tuning
  (:math:`dt_k = dt_0 (dt_1 / dt_0)^{\\min(k / K, 1)}`, reaching the target
  ``dt_1`` after ``K`` optimizer steps and holding it after);
* the training arms, each one call: :func:`pretrain` (no spikes),
  :func:`fine_tune` (``"control"``: more training without spikes;
  ``"anneal"``: spiking, with the dt schedule; ``"target"``: spiking, directly
  at the target dt), :func:`from_scratch` (spiking at the target dt from a
  random start, for the budget of pretraining plus fine-tuning) and
  :func:`train_lif`;
* measurements (:func:`costs`, :func:`sweep`), a figure
  (:func:`plot_accuracy_vs_dt`), tables (:func:`costs_table`,
  :func:`seeds_table`) and readers of the committed runs
  (:func:`accuracies`, :func:`summary`, :func:`mean_curves`).

The multi-seed runs are driven by ``scripts/regime_seeds.py``; the chapter
runs one seed live with the same functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import snntorch as snn
import torch
from IPython.display import HTML
from matplotlib.figure import Figure
from torch import nn

from snnbook import checks, stats
from snnbook.quantizers import (
    SpikingActivation,
    bits_per_activity,
    recorded_counts,
    set_dt,
    significant_bits_per_multiply,
    spikes_per_sample,
)

__all__ = [
    "ARMS",
    "Data",
    "DtSchedule",
    "LIFMLP",
    "QuantizedMLP",
    "Setup",
    "accuracies",
    "capped_relu",
    "costs",
    "costs_table",
    "fine_tune",
    "from_scratch",
    "load_data",
    "mean_curves",
    "plot_accuracy_vs_dt",
    "plot_dt_knob",
    "pretrain",
    "seeds_table",
    "summary",
    "sweep",
    "train_lif",
]

#: The fine-tuning arms of :func:`fine_tune`.
ARMS = ("control", "anneal", "target")


@dataclass(frozen=True)
class Setup:
    """Every setting of the chapter's experiment (the script and the notebook share it)."""

    steps: int = 8  # time steps per image
    hidden: int = 256
    n_train: int = 15_000  # a fixed random subset of the 60 000 training images
    batch_size: int = 128
    pretrain_epochs: int = 10
    pretrain_lr: float = 1e-3
    fine_tune_epochs: int = 2
    fine_tune_lr: float = 3e-4
    dt_start: float = 16.0
    dt_end: float = 0.25
    anneal_fraction: float = 2 / 3  # share of the fine-tuning steps spent lowering dt
    lif_beta: float = 0.9
    dts: tuple[float, ...] = (64, 16, 4, 1, 0.5, 0.25, 0.125, 0.0625)
    n_stats: int = 1000  # test images on which spike counts are measured

    @property
    def total_epochs(self) -> int:
        """Epochs of pretraining plus fine-tuning: the budget of the from-scratch arms."""
        return self.pretrain_epochs + self.fine_tune_epochs

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Data(NamedTuple):
    """Training and test images and labels."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def load_data(setup: Setup = Setup()) -> Data:
    """Fashion-MNIST: ``setup.n_train`` training images (seed 0) and all 10 000 test images."""
    from snnbook.data import load_fashion_mnist

    _setup(setup)
    x_train, y_train = load_fashion_mnist("train", n=setup.n_train, seed=0)
    x_test, y_test = load_fashion_mnist("test")
    return Data(x_train, y_train, x_test, y_test)


def _setup(setup: object) -> Setup:
    if not isinstance(setup, Setup):
        raise TypeError(f"setup must be a regimes.Setup, got {type(setup).__name__}")
    return setup


def _data(data: object) -> Data:
    if not isinstance(data, Data):
        raise TypeError(
            f"data must be a regimes.Data (from regimes.load_data), got {type(data).__name__}"
        )
    for name, value in data._asdict().items():
        checks.tensor(f"data.{name}", value)
    checks.same_length(x_train=data.x_train, y_train=data.y_train)
    checks.same_length(x_test=data.x_test, y_test=data.y_test)
    return data


def capped_relu(x: torch.Tensor) -> torch.Tensor:
    """The base activation ``f(x) = min(max(x, 0), 1)``: at most one spike per unit time."""
    return x.clamp(0.0, 1.0)


def _images(images: object, expected: int = 784) -> torch.Tensor:
    images = checks.tensor("images", images, kind="float", hint="pass a batch of images (B, ...)")
    if images.ndim < 2 or images[0].numel() != expected:
        raise ValueError(
            f"images must be a batch of {expected}-pixel images, shape (B, 1, 28, 28) or "
            f"(B, {expected}); got {tuple(images.shape)}"
        )
    return images.flatten(1)


class QuantizedMLP(nn.Module):
    """784-256-256-10 MLP whose two hidden activations quantize over time.

    The image is a constant input current over ``steps`` time steps: the
    first layer computes :math:`W_1 x` once and repeats it. Each hidden layer
    is a :class:`~snnbook.quantizers.SpikingActivation` of :func:`capped_relu`;
    the second sees the spikes of the first. The class scores are a linear
    readout of the second layer's activity averaged over time,
    :math:`W_3 \\frac{1}{T} \\sum_t a^{(2)}_t`. With ``dt = inf`` the
    activations return ``f`` itself, so one step suffices: an ordinary MLP.
    """

    def __init__(
        self, steps: int = 8, hidden: int = 256, dt: float = math.inf, *, seed: int = 0
    ) -> None:
        super().__init__()
        self.steps = checks.positive_int("steps", steps)
        hidden = checks.positive_int("hidden", hidden)
        seed = checks.nonnegative_int("seed", seed)
        self.fc1 = nn.Linear(784, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, 10)
        # each layer gets its own random initial phases (one per neuron)
        self.act1 = SpikingActivation(capped_relu, dt, seed=2 * seed + 1, record=True)
        self.act2 = SpikingActivation(capped_relu, dt, seed=2 * seed + 2, record=True)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = _images(images)
        steps = 1 if math.isinf(self.act1.dt) else self.steps  # non-spiking: time is irrelevant
        current = self.fc1(x).expand(steps, -1, -1)  # (T, B, hidden), the same at every step
        spikes2 = self.act2(self.fc2(self.act1(current)))
        return self.fc3(spikes2.mean(0))  # readout of the time-averaged activity


class LIFMLP(nn.Module):
    """784-256-256-10 network of snnTorch ``Leaky`` neurons trained with a surrogate gradient.

    Hidden layers: :math:`U_t = \\beta U_{t-1} + I_t - S_{t-1}`, :math:`S_t =
    [U_t > 1]`, subtractive reset, snnTorch's default arctan surrogate
    :cite:`eshraghian2023training`.

    Parameters
    ----------
    input_code:
        ``"rate"``: the pixels as random spikes, :math:`S^{in}_t \\sim
        \\mathrm{Bernoulli}(x)` (:func:`snnbook.data.rate_encode`);
        ``"current"``: the image as a constant input current :math:`W_1 x` at
        every step, as in :class:`QuantizedMLP`.
    readout:
        ``"counts"``: a third ``Leaky`` layer whose output spikes, counted
        over the window, are the class scores; ``"linear"``: a linear readout
        of the second layer's spikes averaged over time, as in
        :class:`QuantizedMLP`.
    """

    def __init__(
        self,
        steps: int = 8,
        hidden: int = 256,
        beta: float = 0.9,
        *,
        input_code: str = "rate",
        readout: str = "counts",
    ) -> None:
        super().__init__()
        self.steps = checks.positive_int("steps", steps)
        hidden = checks.positive_int("hidden", hidden)
        beta = checks.unit_interval("beta", beta)
        self.input_code = checks.one_of("input_code", input_code, ("rate", "current"))
        self.readout = checks.one_of("readout", readout, ("counts", "linear"))
        self.fc1 = nn.Linear(784, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, 10)
        self.lif1, self.lif2 = snn.Leaky(beta=beta), snn.Leaky(beta=beta)
        self.lif3 = snn.Leaky(beta=beta) if self.readout == "counts" else None
        self.counts: list[torch.Tensor] | None = None

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        from snnbook.data import rate_encode

        x = _images(images)
        if self.input_code == "rate":
            currents = self.fc1(rate_encode(x, self.steps)).unbind(0)  # fresh spikes each call
        else:
            currents = (self.fc1(x),) * self.steps
        mem1 = torch.zeros_like(currents[0])
        mem2 = torch.zeros_like(currents[0])
        mem3 = currents[0].new_zeros(len(x), 10)
        hidden1, hidden2, scores = [], [], 0
        for current in currents:
            spk1, mem1 = self.lif1(current, mem1)
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            if self.lif3 is not None:
                spk3, mem3 = self.lif3(self.fc3(spk2), mem3)
                scores = scores + spk3
            hidden1.append(spk1.detach())
            hidden2.append(spk2)
        spikes2 = torch.stack(hidden2)
        self.counts = [torch.stack(hidden1), spikes2.detach()]
        if self.lif3 is not None:
            return scores  # output spike counts
        return self.fc3(spikes2.mean(0))


class DtSchedule:
    """Lower ``dt`` of every quantizer in ``model`` geometrically, after each optimizer step.

    .. math::  dt_k = dt_0 \\left(\\frac{dt_1}{dt_0}\\right)^{\\min(k / K,\\ 1)},
       \\qquad K = \\text{fraction} \\times \\text{total\\_steps},

    so ``dt`` falls by the same factor at every step and reaches the target
    :math:`dt_1` after ``K`` steps; the remaining steps train at the target.
    Pass the object as ``after_step`` to :func:`snnbook.training.fit`.
    """

    def __init__(
        self,
        model: nn.Module,
        start: float,
        end: float,
        total_steps: int,
        *,
        fraction: float = 2 / 3,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.model = model
        self.start = checks.positive("start", start)
        self.end = checks.positive("end", end)
        self.total_steps = checks.positive_int("total_steps", total_steps)
        self.fraction = checks.number("fraction", fraction, low=0.0, high=1.0, low_open=True)
        self.trace: list[float] = []
        set_dt(model, self.start)

    def dt_at(self, step: int) -> float:
        """``dt`` in force after ``step`` optimizer steps."""
        step = checks.nonnegative_int("step", step)
        progress = min(step / (self.fraction * self.total_steps), 1.0)
        return self.start * (self.end / self.start) ** progress

    def __call__(self, step: int) -> None:
        dt = self.dt_at(step)
        self.trace.append(dt)
        set_dt(self.model, dt)


def _fit(
    model: nn.Module,
    data: Data,
    setup: Setup,
    epochs: int,
    lr: float,
    seed: int,
    desc: str,
    **kw: Any,
) -> None:
    from snnbook.training import fit

    x, y, batch = data.x_train, data.y_train, setup.batch_size
    fit(model, x, y, epochs=epochs, batch_size=batch, lr=lr, seed=seed, desc=desc, **kw)


def pretrain(
    data: Data, seed: int, setup: Setup = Setup(), *, epochs: int | None = None
) -> QuantizedMLP:
    """A :class:`QuantizedMLP` trained without spikes (``dt = inf``) from the initialisation ``seed``."""
    data, setup = _data(data), _setup(setup)
    seed = checks.nonnegative_int("seed", seed)
    epochs = setup.pretrain_epochs if epochs is None else checks.positive_int("epochs", epochs)
    torch.default_generator.manual_seed(seed)
    model = QuantizedMLP(setup.steps, setup.hidden, seed=seed)
    _fit(model, data, setup, epochs, setup.pretrain_lr, seed, f"no spikes, seed {seed}")
    return model


def fine_tune(
    model: nn.Module,
    arm: str,
    data: Data,
    seed: int,
    setup: Setup = Setup(),
    *,
    epochs: int | None = None,
) -> nn.Module:
    """A fine-tuned copy of ``model`` (which is left unchanged); the arm says how.

    ``"control"``: the same epochs without spikes (``dt = inf``), to separate
    the effect of spikes from that of more training. ``"anneal"``: spiking-aware,
    ``dt`` lowered by :class:`DtSchedule` from ``setup.dt_start`` to
    ``setup.dt_end``. ``"target"``: spiking-aware, directly at ``setup.dt_end``
    from the first step. The copy is returned at its final ``dt``.
    """
    import copy

    if not isinstance(model, QuantizedMLP):
        raise TypeError(f"model must be a QuantizedMLP, got {type(model).__name__}")
    arm = checks.one_of("arm", arm, ARMS)
    data, setup = _data(data), _setup(setup)
    seed = checks.nonnegative_int("seed", seed)
    epochs = setup.fine_tune_epochs if epochs is None else checks.positive_int("epochs", epochs)
    tuned = copy.deepcopy(model)
    hook = None
    if arm == "control":
        set_dt(tuned, math.inf)
    elif arm == "target":
        set_dt(tuned, setup.dt_end)
    else:
        total = epochs * math.ceil(len(data.y_train) / setup.batch_size)
        hook = DtSchedule(
            tuned, setup.dt_start, setup.dt_end, total, fraction=setup.anneal_fraction
        )
    _fit(
        tuned, data, setup, epochs, setup.fine_tune_lr, seed, f"{arm}, seed {seed}", after_step=hook
    )
    return tuned


def from_scratch(
    data: Data, seed: int, setup: Setup = Setup(), *, epochs: int | None = None
) -> QuantizedMLP:
    """A :class:`QuantizedMLP` trained spiking-aware at ``setup.dt_end`` from a random start.

    The budget defaults to pretraining plus fine-tuning (``setup.total_epochs``),
    at the pretraining learning rate.
    """
    data, setup = _data(data), _setup(setup)
    seed = checks.nonnegative_int("seed", seed)
    epochs = setup.total_epochs if epochs is None else checks.positive_int("epochs", epochs)
    torch.default_generator.manual_seed(seed)
    model = QuantizedMLP(setup.steps, setup.hidden, setup.dt_end, seed=seed)
    _fit(
        model, data, setup, epochs, setup.pretrain_lr, seed, f"from scratch at dt_end, seed {seed}"
    )
    return model


def train_lif(
    data: Data,
    seed: int,
    setup: Setup = Setup(),
    *,
    input_code: str = "rate",
    readout: str = "counts",
    epochs: int | None = None,
) -> LIFMLP:
    """A :class:`LIFMLP` trained from ``seed`` for ``setup.total_epochs`` (the quantizer's budget)."""
    data, setup = _data(data), _setup(setup)
    seed = checks.nonnegative_int("seed", seed)
    epochs = setup.total_epochs if epochs is None else checks.positive_int("epochs", epochs)
    torch.default_generator.manual_seed(seed)  # initialisation, then the random input spikes
    model = LIFMLP(
        setup.steps, setup.hidden, setup.lif_beta, input_code=input_code, readout=readout
    )
    desc = f"LIF {input_code} input, {readout} readout, seed {seed}"
    _fit(model, data, setup, epochs, setup.pretrain_lr, seed, desc)
    return model


@torch.no_grad()
def costs(
    model: nn.Module,
    data: Data,
    dt: float | None = None,
    *,
    n_stats: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """Test accuracy and the spike costs of the hidden layers.

    For a :class:`QuantizedMLP`, ``dt`` sets the quantizers' step first
    (``None`` keeps it). Accuracy is measured on all test images, bits per
    activity, significant bits per multiply and spikes per sample (see
    :mod:`snnbook.quantizers`) on the first ``n_stats``. ``seed`` fixes the
    random input spikes of a rate-coded :class:`LIFMLP`.
    """
    from snnbook.training import evaluate

    data = _data(data)
    n_stats = checks.positive_int("n_stats", n_stats)
    seed = checks.nonnegative_int("seed", seed)
    if isinstance(model, QuantizedMLP):
        if dt is not None:
            set_dt(model, dt)
        if math.isinf(model.act1.dt):
            raise ValueError("costs measures spikes: set a finite dt (the model is non-spiking)")
    elif isinstance(model, LIFMLP):
        if dt is not None:
            raise ValueError("dt applies to a QuantizedMLP only; pass dt=None for a LIFMLP")
    else:
        raise TypeError(f"model must be a QuantizedMLP or LIFMLP, got {type(model).__name__}")
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)  # the CPU stream only
        accuracy = evaluate(model, data.x_test, data.y_test)
        model.eval()
        model(data.x_test[:n_stats])
    counts = model.counts if isinstance(model, LIFMLP) else recorded_counts(model)
    return {
        "accuracy": accuracy,
        "bits": bits_per_activity(counts),
        "significant": significant_bits_per_multiply(counts),
        "spikes": spikes_per_sample(counts),
        "max_count": max(float(c.max()) for c in counts),
    }


def sweep(
    model: QuantizedMLP, data: Data, dts: Sequence[float], *, n_stats: int = 1000
) -> dict[float, dict[str, float]]:
    """:func:`costs` at every ``dt`` of ``dts``; the model's own ``dt`` is restored after."""
    if not isinstance(model, QuantizedMLP):
        raise TypeError(f"model must be a QuantizedMLP, got {type(model).__name__}")
    if isinstance(dts, str) or not isinstance(dts, Sequence) or not dts:
        raise ValueError("dts must be a non-empty list of time steps, e.g. [16, 4, 1, 0.25]")
    dts = [checks.positive(f"dts[{i}]", d) for i, d in enumerate(dts)]
    own = model.act1.dt
    result = {dt: costs(model, data, dt, n_stats=n_stats) for dt in dts}
    set_dt(model, own)
    return result


def plot_accuracy_vs_dt(
    curves: Mapping[str, Mapping[float, Mapping[str, float]]],
    reference: float,
    *,
    reference_label: str = "non-spiking",
    spread: Mapping[str, Mapping[float, float]] | None = None,
    title: str | None = None,
) -> Figure:
    """Test accuracy (left) and bits per activity (right) against ``dt``, one line per curve.

    ``curves[name][dt]`` holds ``{"accuracy": ..., "bits": ...}`` (as :func:`sweep`
    returns); ``spread[name][dt]``, if given, draws an error bar (e.g. the
    standard deviation over seeds) on the accuracy.
    """
    from snnbook.plotting import COLORS, new_figure

    if not isinstance(curves, Mapping) or not curves:
        raise ValueError("curves must be a non-empty dict {name: {dt: costs}}")
    reference = checks.unit_interval("reference", reference)
    fig, axes = new_figure(2, figsize=(8.5, 3.4))
    for (name, by_dt), color in zip(curves.items(), COLORS, strict=False):
        dts = sorted(by_dt)
        acc = [by_dt[d]["accuracy"] for d in dts]
        err = [spread[name][d] for d in dts] if spread and name in spread else None
        axes[0, 0].errorbar(dts, acc, yerr=err, fmt="o-", ms=4, color=color, label=name)
        axes[0, 1].plot(dts, [by_dt[d]["bits"] for d in dts], "o-", ms=4, color=color)
    axes[0, 0].axhline(reference, color="k", ls=":", label=reference_label)
    for ax in axes[0]:
        ax.set_xscale("log", base=2)
        ax.axvline(1, color="0.5", ls="--", lw=1)
        ax.set_xlabel("dt  (binary spikes left of the dashed line)")
    axes[0, 0].set_ylabel("test accuracy")
    axes[0, 1].set_ylabel("bits per activity")
    axes[0, 0].legend(fontsize=8, loc="lower right")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def _hidden_response(
    model: QuantizedMLP, image: torch.Tensor, dt: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rates ``f(W_1 x)`` and spike counts ``(T, hidden)`` of the first hidden layer for one image.

    The model's own ``dt`` and training mode are restored afterwards.
    """
    own, training = model.act1.dt, model.training
    try:
        set_dt(model, dt)
        model.eval()
        with torch.no_grad():
            rates = capped_relu(model.fc1(image.reshape(1, -1)))[0]
            model(image.reshape(1, -1))
            counts = model.act1.counts[:, 0]
    finally:
        set_dt(model, own)
        model.train(training)
    return rates.detach().cpu(), counts.detach().cpu()


def plot_dt_knob(
    models: Mapping[str, QuantizedMLP],
    image: torch.Tensor,
    dt: float,
    curves: Mapping[str, Mapping[float, Mapping[str, float]]],
    *,
    network: str | None = None,
    view: str = "rates",
    neurons: int = 64,
) -> Figure:
    """One trained network at one ``dt``: what its first hidden layer sends, and what it costs.

    Left, for one ``image`` and the network ``models[network]`` (the first one by
    default): with ``view="rates"``, each hidden neuron's time-averaged activity
    :math:`\\bar a = \\frac{1}{T\\,dt}\\sum_t n_t` against its rate :math:`f(W_1 x)`
    (error diffusion keeps :math:`|\\bar a - f| < 1/(T\\,dt)`, so :math:`\\bar a`
    takes at most :math:`\\lceil T\\,dt \\rceil + 1` values); with ``view="raster"``,
    the spike counts :math:`n_t` of the first ``neurons`` neurons over the ``T``
    steps. Right: test accuracy against ``dt`` for every curve of ``curves``
    (as :func:`sweep` returns), the chosen ``dt`` marked.
    """
    from snnbook.plotting import COLORS, new_figure

    if not isinstance(models, Mapping) or not models:
        raise ValueError("models must be a non-empty dict {name: QuantizedMLP}")
    for name, model in models.items():
        if not isinstance(model, QuantizedMLP):
            raise TypeError(f"models[{name!r}] must be a QuantizedMLP, got {type(model).__name__}")
    network = next(iter(models)) if network is None else network
    if network not in models:
        raise ValueError(f"network must be one of {list(models)}, got {network!r}")
    image = _images(checks.tensor("image", image, kind="float").reshape(1, -1))[0]
    dt = checks.positive("dt", dt)
    view = checks.one_of("view", view, ("rates", "raster"))
    neurons = checks.positive_int("neurons", neurons)
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError("curves must be a non-empty dict {name: {dt: costs}} (see sweep)")
    model = models[network]
    rates, counts = _hidden_response(model, image, dt)
    steps = counts.shape[0]
    fig, axes = new_figure(2, figsize=(8.5, 3.4), width_ratios=[1, 1.15])
    ax = axes[0, 0]
    if view == "rates":
        average = counts.sum(0) / (steps * dt)
        ax.plot([0, 1], [0, 1], "k:", lw=1, label="$\\bar a = f$")
        ax.scatter(rates.numpy(), average.numpy(), s=10, color=COLORS[0], label="a neuron")
        ax.set(xlim=(-0.03, 1.03), ylim=(-0.05, max(1.15, float(average.max()) + 0.1)))
        ax.set(xlabel="rate $f(W_1 x)$", ylabel="time-averaged activity $\\bar a$")
        levels = math.ceil(steps * dt) + 1
        ax.set_title(f"{network}, dt = {dt:g}: at most {levels} levels", fontsize=9)
        ax.legend(fontsize=8, loc="upper left")
    else:
        shown = counts[:, :neurons].T.numpy()
        image_ = ax.imshow(shown, aspect="auto", cmap="Greys", vmin=0, interpolation="nearest")
        fig.colorbar(image_, ax=ax, label="spikes in the step")
        ax.set(xlabel="time step", ylabel="hidden neuron")
        ax.grid(False)
        per_image = float(counts.sum())
        ax.set_title(f"{network}, dt = {dt:g}: {per_image:.0f} spikes (layer 1)", fontsize=9)
    ax = axes[0, 1]
    for (name, by_dt), color in zip(curves.items(), COLORS, strict=False):
        dts = sorted(by_dt)
        ax.plot(dts, [by_dt[d]["accuracy"] for d in dts], "o-", ms=4, color=color, label=name)
        if dt in by_dt:
            ax.plot([dt], [by_dt[dt]["accuracy"]], "o", ms=10, mfc="none", color=color)
    ax.axvline(dt, color="0.3", lw=1)
    ax.set_xscale("log", base=2)
    ax.set(xlabel="dt", ylabel="test accuracy")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def costs_table(
    rows: Sequence[tuple[str, Mapping[str, Any]]], *, caption: str | None = None
) -> HTML:
    """A styled table of ``(name, costs)`` rows (accuracy and the three spike costs)."""
    from snnbook.tables import table

    def fmt(digits: str) -> Callable[[Any], str]:
        def cell(value: Any) -> str:
            if isinstance(value, str):
                return value
            if value is None or (isinstance(value, float) and math.isnan(value)):
                return "–"
            return format(value, digits)

        return cell

    body = [
        {
            "network": name,
            "accuracy": c["accuracy"],
            "bits": c.get("bits"),
            "significant": c.get("significant"),
            "spikes": c.get("spikes"),
        }
        for name, c in rows
    ]
    return table(
        body,
        columns={
            "network": "network",
            "accuracy": "test accuracy",
            "bits": "bits per activity",
            "significant": "significant bits per multiply",
            "spikes": "spikes per sample",
        },
        formats={
            "accuracy": "{:.1%}",
            "bits": fmt(".2f"),
            "significant": fmt(".2f"),
            "spikes": fmt(".0f"),
        },
        caption=caption,
    )


def seeds_table(
    summaries: Mapping[str, stats.Summary],
    *,
    reference: str | None = None,
    caption: str | None = None,
) -> HTML:
    """Mean ± spread over seeds and the test-set standard error of each named result.

    With ``reference`` (one of the names), a column gives each row's difference
    to it and whether :func:`snnbook.stats.compare` calls it a tie.
    """
    from snnbook.tables import table

    if not isinstance(summaries, Mapping) or not summaries:
        raise ValueError("summaries must be a non-empty dict {name: stats.Summary}")
    if reference is not None and reference not in summaries:
        raise ValueError(f"reference must be one of {list(summaries)}, got {reference!r}")
    rows = []
    for name, s in summaries.items():
        if not isinstance(s, stats.Summary):
            raise TypeError(f"summaries[{name!r}] must be a stats.Summary, got {type(s).__name__}")
        row = {
            "name": name,
            "mean": s.mean,
            "spread": s.std,
            "range": f"{s.low:.1%} to {s.high:.1%}",
            "test_se": s.test_se,
            "seeds": s.k,
        }
        if reference is not None:
            if name == reference:
                row["versus"] = "reference"
            else:
                c = stats.compare(s, summaries[reference])
                verdict = "tie" if c.tie else "resolved"
                row["versus"] = f"{c.difference * 100:+.1f} points ({verdict})"
        rows.append(row)
    columns = {
        "name": "network",
        "mean": "mean accuracy",
        "spread": "spread (std over seeds)",
        "range": "range",
        "test_se": "test-set SE",
        "seeds": "seeds",
    }
    if reference is not None:
        columns["versus"] = f"versus {reference}"
    return table(
        rows,
        columns=columns,
        formats={"mean": "{:.1%}", "spread": "{:.2%}", "test_se": "{:.2%}"},
        caption=caption,
    )


# --------------------------------------------------------------------------- committed runs


def _seeds(record: object) -> dict[str, Any]:
    if not isinstance(record, Mapping) or not isinstance(record.get("seeds"), Mapping):
        raise TypeError(
            "record must be a committed run loaded with snnbook.records.load, with a 'seeds' entry"
        )
    return record["seeds"]


def accuracies(record: Mapping[str, Any], arm: str, dt: float | None = None) -> list[float]:
    """Test accuracy of ``arm`` for every seed of a committed run.

    ``record`` is ``records.load("regime_seeds")`` (arms ``"pretrained"``,
    ``"control"``, ``"anneal"``, ``"target"``, ``"scratch"``; ``dt=None`` reads the
    non-spiking accuracy, a number reads the accuracy with spikes at that
    ``dt``) or ``records.load("lif_controls")`` (arms such as ``"rate/counts"``;
    ``dt`` must be ``None``).
    """
    seeds = _seeds(record)
    out = []
    for result in seeds.values():
        if arm not in result:
            raise ValueError(f"arm must be one of {sorted(result)}, got {arm!r}")
        entry = result[arm]
        if "by_dt" not in entry:  # a LIF variant: one accuracy
            if dt is not None:
                raise ValueError(f"{arm!r} has one accuracy per seed; pass dt=None")
            out.append(entry["accuracy"])
        elif dt is None:
            if "nonspiking" not in entry:
                raise ValueError(f"{arm!r} was only measured with spikes; pass a dt")
            out.append(entry["nonspiking"])
        else:
            dt = checks.positive("dt", dt)
            match = [e["accuracy"] for e in entry["by_dt"] if e["dt"] == dt]
            if not match:
                measured = [e["dt"] for e in entry["by_dt"]]
                raise ValueError(f"dt must be one of the measured {measured}, got {dt}")
            out.append(match[0])
    return out


def summary(record: Mapping[str, Any], arm: str, dt: float | None = None) -> stats.Summary:
    """:func:`snnbook.stats.summarize` of :func:`accuracies` (on the run's ``n_test`` images)."""
    return stats.summarize(accuracies(record, arm, dt), record["n_test"])


def mean_curves(
    record: Mapping[str, Any], arms: Mapping[str, str]
) -> tuple[dict[str, dict[float, dict[str, float]]], dict[str, dict[float, float]]]:
    """Accuracy and bits per activity against ``dt``, averaged over seeds, for :func:`plot_accuracy_vs_dt`.

    ``arms`` maps a label to an arm of ``records.load("regime_seeds")``.
    Returns ``(curves, spread)``: ``curves[label][dt]`` holds the mean accuracy
    and bits, ``spread[label][dt]`` the standard deviation of the accuracy over seeds.
    """
    seeds = _seeds(record)
    curves: dict[str, dict[float, dict[str, float]]] = {}
    spread: dict[str, dict[float, float]] = {}
    for label, arm in arms.items():
        first = next(iter(seeds.values()))[arm]["by_dt"]
        curves[label], spread[label] = {}, {}
        for entry in first:
            dt = entry["dt"]
            s = stats.summarize(accuracies(record, arm, dt), record["n_test"])
            bits = [e["bits"] for r in seeds.values() for e in r[arm]["by_dt"] if e["dt"] == dt]
            curves[label][dt] = {"accuracy": s.mean, "bits": sum(bits) / len(bits)}
            spread[label][dt] = s.std
    return curves, spread
