r"""The hybrid recipe of Rathi et al. (2020) as a controlled experiment.

Rathi, Srinivasan, Panda & Roy (ICLR 2020) train an ANN, convert it to
integrate-and-fire neurons (:mod:`snnbook.conversion`) and fine-tune the
converted network at a small number of steps :math:`T` with a surrogate
gradient. Whether that recipe *helps* is a comparison, so this module runs
all of its arms for one seed, on the same training images and test images:

* **ANN**: a VGG-like bias-free ReLU convnet (:func:`vgg`), trained with Adam;
* **conversion alone** at the training :math:`T`: maximum thresholds, the
  same times the paper's 0.7, the 99.9th-percentile rule, and the maximum
  times the factor that scores best on held-out *training* images
  (:func:`tune_scale`), no training;
* **hybrid, STDB** and **hybrid, piecewise-linear**: that tuned conversion
  fine-tuned for a fixed number of epochs at :math:`T` with the reference
  code's learning rate (the paper's 0.7 leaves the deep layers silent at
  :math:`T = 6`, where STDB gets no gradient: :func:`gradient_norms`
  measures it), and the piecewise-linear hybrid once more with a five times
  larger learning rate, a control for the choice of learning rate;
* **from scratch**: the same architecture with random weights (thresholds
  balanced the same way and scaled by the same tuned factor), trained with the piecewise-linear surrogate for
  the *whole* wall-clock time the hybrids cost: ANN training, threshold
  balancing and fine-tuning. Its accuracy is also read when it has had only
  the fine-tuning time.

Input is Poisson-coded (:func:`snnbook.conversion.poisson_spikes`), as in the
paper. Evaluation draws its own Poisson spikes from a fixed seed, so two
arms are scored on the same spike trains and training's random stream is
left alone. The script ``scripts/conversion_hybrid.py`` runs several seeds
into ``results/conversion_hybrid.json``; chapter 8 runs one arm live.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from IPython.display import HTML
from matplotlib.figure import Figure
from torch import nn
from tqdm.auto import tqdm

from snnbook import checks, conversion, stats, tables
from snnbook.training import batches

__all__ = [
    "ARMS",
    "Setup",
    "TrainLog",
    "vgg",
    "train",
    "accuracy",
    "stdb_factors",
    "surrogate_disagreement",
    "tune_scale",
    "gradient_norms",
    "load_data",
    "make_ann",
    "convert_seeded",
    "run_seed",
    "run_long",
    "summaries",
    "results_table",
    "plot_budget",
    "plot_sweeps",
    "plot_layer_rates",
    "conversion_table",
    "long_table",
    "quotes",
    "setup_dict",
    "setup_from",
]

#: Arm name -> label used in tables and figures.
ARMS = {
    "ann": "ANN (not spiking)",
    "conv_max": "conversion alone, max thresholds",
    "conv_scaled": "conversion alone, max x 0.7",
    "conv_pct": "conversion alone, 99.9th percentile",
    "conv_tuned": "conversion alone, max x tuned factor",
    "stdb": "hybrid, STDB",
    "linear": "hybrid, piecewise-linear",
    "linear_fast": "hybrid, piecewise-linear, 5x learning rate",
    "scratch_short": "from scratch, fine-tuning time only",
    "scratch": "from scratch, whole budget",
}


@dataclass(frozen=True)
class Setup:
    """Everything one seed of the experiment needs, in one place (stored with the results).

    ``layers`` lists the convolutions' channel counts, ``"A"`` standing for a
    2 x 2 average pool, VGG-style; ``hidden`` is the width of the one hidden
    fully-connected layer. Images are first average-pooled to 14 x 14.
    """

    layers: tuple[int | str, ...] = (16, 16, "A", 32, 32, "A", 32)
    hidden: int = 64
    num_steps: int = 6
    n_train: int = 20_000
    n_test: int = 10_000
    batch_size: int = 64
    ann_epochs: int = 15
    ann_lr: float = 1e-3
    finetune_epochs: int = 2
    finetune_lr: float = 1e-4
    scratch_lr: float = 1e-3
    calibration_images: int = 512
    calibration_steps: int = 64
    scale: float = 0.7
    scales: tuple[float, ...] = (0.7, 0.6, 0.5, 0.4, 0.3)
    tune_images: int = 1_000
    percentile: float = 99.9
    sweep_steps: int = 64
    sweep_images: int = 2_000
    fast_lr: float = 5e-4
    arms: tuple[str, ...] = ("stdb", "linear", "linear_fast", "scratch")

    def __post_init__(self) -> None:
        if not isinstance(self.layers, tuple) or not self.layers:
            raise TypeError("layers must be a non-empty tuple of channel counts and 'A' (pool)")
        for i, c in enumerate(self.layers):
            if c != "A":
                checks.positive_int(f"layers[{i}]", c, hint="a channel count, or 'A' for a pool")
        if not any(c != "A" for c in self.layers):
            raise ValueError("layers must hold at least one convolution (a channel count)")
        for name in ("hidden", "num_steps", "n_train", "n_test", "batch_size", "ann_epochs"):
            checks.positive_int(name, getattr(self, name))
        for name in ("finetune_epochs", "calibration_images", "calibration_steps"):
            checks.positive_int(name, getattr(self, name))
        checks.positive_int("sweep_steps", self.sweep_steps)
        checks.positive_int("sweep_images", self.sweep_images)
        for name in ("ann_lr", "finetune_lr", "fast_lr", "scratch_lr", "scale"):
            checks.positive(name, getattr(self, name))
        if not isinstance(self.scales, tuple) or not self.scales:
            raise TypeError(
                "scales must be a non-empty tuple of threshold factors, e.g. (0.7, 0.5)"
            )
        for i, f in enumerate(self.scales):
            checks.positive(f"scales[{i}]", f)
        checks.positive_int("tune_images", self.tune_images)
        if self.tune_images > self.n_train:
            raise ValueError(f"tune_images ({self.tune_images}) must not exceed n_train")
        checks.number("percentile", self.percentile, low=0.0, high=100.0, low_open=True)
        if not isinstance(self.arms, tuple):
            raise TypeError(f"arms must be a tuple of names, got {type(self.arms).__name__}")
        for arm in self.arms:
            checks.one_of("arms", arm, ("stdb", "linear", "linear_fast", "scratch"))
        if "scratch" in self.arms and not {"stdb", "linear", "linear_fast"} & set(self.arms):
            raise ValueError(
                "arms: 'scratch' gets the hybrids' time, so run 'stdb' or 'linear' with it"
            )


def vgg(
    layers: Sequence[int | str] = Setup.layers, hidden: int = 64, classes: int = 10
) -> nn.Sequential:
    """A bias-free VGG-like ReLU convnet for 1 x 28 x 28 images, convertible by
    :func:`snnbook.conversion.convert`.

    The image is average-pooled to 14 x 14, then each entry of ``layers`` is a
    3 x 3 convolution with that many channels (padding 1) and a ReLU, or ``"A"``
    for a 2 x 2 average pool; then one hidden linear layer of ``hidden`` units
    and a linear output layer. Average pooling and no biases, as conversion
    needs (Rathi et al.'s VGG uses the same rules, plus dropout).
    """
    if isinstance(layers, str) or not isinstance(layers, Sequence) or not layers:
        raise TypeError("layers must be a non-empty list of channel counts and 'A' (pool)")
    hidden = checks.positive_int("hidden", hidden)
    classes = checks.integer("classes", classes, low=2)
    modules: list[nn.Module] = [nn.AvgPool2d(2)]
    channels, size = 1, 14
    for i, c in enumerate(layers):
        if c == "A":
            modules.append(nn.AvgPool2d(2))
            size //= 2
            continue
        c = checks.positive_int(f"layers[{i}]", c, hint="a channel count, or 'A' for a pool")
        modules += [nn.Conv2d(channels, c, 3, padding=1, bias=False), nn.ReLU()]
        channels = c
    if size < 1:
        raise ValueError("layers pool the 14 x 14 image below one pixel; use fewer 'A'")
    modules += [
        nn.Flatten(),
        nn.Linear(channels * size * size, hidden, bias=False),
        nn.ReLU(),
        nn.Linear(hidden, classes, bias=False),
    ]
    return nn.Sequential(*modules)


@dataclass
class TrainLog:
    """What :func:`train` measured. ``seconds`` counts optimizer steps only, not evaluation."""

    steps: int = 0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)
    checkpoints: list[dict[str, float]] = field(default_factory=list)


def _pair(x: object, y: object, name: str = "x") -> tuple[torch.Tensor, torch.Tensor]:
    x = checks.tensor(name, x, kind="float")
    y = checks.labels("y", y)
    checks.same_length(**{name: x, "y": y})
    return x, y


def accuracy(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, seed: int = 0, batch_size: int = 500
) -> float:
    """Test accuracy of ``model`` on ``(x, y)`` without gradients.

    A spiking model draws its Poisson input from a generator seeded with
    ``seed`` (the global random state is saved and restored), so the score is
    reproducible and two models can be scored on the same spike trains.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    x, y = _pair(x, y)
    seed = checks.nonnegative_int("seed", seed)
    batch_size = checks.positive_int("batch_size", batch_size)
    was_training = model.training
    model.eval()
    correct = x.new_zeros((), dtype=torch.long)
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for xb, yb in batches(x, y, batch_size):
            correct += (model(xb).argmax(-1) == yb).sum()
    model.train(was_training)
    return int(correct) / len(y)


def train(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    lr: float,
    batch_size: int = 64,
    epochs: int | None = None,
    seconds: float | None = None,
    seed: int = 0,
    checkpoints: Sequence[float] = (),
    test: tuple[torch.Tensor, torch.Tensor] | None = None,
    record_losses: int = 5,
    max_steps: int | None = None,
    desc: str = "training",
) -> TrainLog:
    """Train ``model`` with Adam and cross-entropy for ``epochs`` epochs or ``seconds`` of
    wall-clock time (exactly one of the two).

    The clock counts optimizer steps only. With ``test`` given, the test
    accuracy is measured (clock stopped) after every epoch when training by
    epochs, and whenever the clock passes one of ``checkpoints`` (seconds)
    and at the end when training by time; each is stored as
    ``{"seconds", "steps", "accuracy"}``. The first ``record_losses`` losses are
    kept, so a test can re-run a short prefix and compare. ``seed`` sets the
    batch order and the random stream (Poisson input) of the whole run; the
    global random state is restored afterwards. ``max_steps`` stops the run
    early (a test re-runs the first steps of a committed run this way).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    x, y = _pair(x, y)
    lr = checks.positive("lr", lr)
    batch_size = checks.positive_int("batch_size", batch_size)
    if (epochs is None) == (seconds is None):
        raise ValueError("pass exactly one of epochs (a count) and seconds (a time budget)")
    if epochs is not None:
        epochs = checks.positive_int("epochs", epochs)
    else:
        seconds = checks.positive("seconds", seconds)
    seed = checks.nonnegative_int("seed", seed)
    marks = sorted(checks.positive("checkpoints", c) for c in checkpoints)
    if test is not None:
        if not isinstance(test, tuple) or len(test) != 2:
            raise TypeError("test must be a pair (x_test, y_test)")
        _pair(*test, name="test[0]")
    record_losses = checks.nonnegative_int("record_losses", record_losses)
    if max_steps is not None:
        max_steps = checks.positive_int("max_steps", max_steps)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    log = TrainLog()
    per_epoch = math.ceil(len(y) / batch_size)
    bar = tqdm(
        total=epochs * per_epoch if epochs else None, desc=desc, unit="batch", mininterval=1.0
    )

    def score() -> None:
        if test is not None:
            acc = accuracy(model, *test, seed=seed)
            log.checkpoints.append({"seconds": log.seconds, "steps": log.steps, "accuracy": acc})

    def run() -> None:
        epoch = 0
        model.train()
        while True:
            for xb, yb in batches(x, y, batch_size, shuffle=True, generator=generator):
                start = time.perf_counter()
                loss = nn.functional.cross_entropy(model(xb), yb)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                log.seconds += time.perf_counter() - start
                log.steps += 1
                if len(log.losses) < record_losses:
                    log.losses.append(float(loss.detach()))
                bar.update()
                if max_steps is not None and log.steps >= max_steps:
                    return
                if seconds is not None:
                    while marks and log.seconds >= marks[0]:
                        marks.pop(0)
                        score()
                    if log.seconds >= seconds:
                        break
            else:
                epoch += 1
                if epochs is not None:
                    score()
                    if epoch == epochs:
                        break
                continue
            break

    # Poisson input spikes come from the global generator: seed it, and restore it afterwards
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        run()
    if seconds is not None:
        score()
    bar.close()
    return log


@torch.no_grad()
def stdb_factors(
    snn: conversion.SpikingNetwork, x: torch.Tensor, num_steps: int, *, beta: float = 0.01
) -> dict[str, float]:
    r"""How much STDB's timing dependence varies in a run of ``num_steps`` steps.

    Runs ``snn`` on ``x`` and, for every neuron and step :math:`t`, computes
    the factor :math:`e^{-\beta\,\Delta t}` that STDB multiplies the gradient
    by (:math:`\Delta t` = steps since the neuron's last spike). Returns the
    fraction of (neuron, step) pairs that have not fired yet (gradient about
    zero) and, among the others, the mean factor and its 10th percentile (the
    ``ceil(0.1 n)``-th smallest of the ``n`` factors). A 10th percentile near 1
    means STDB acts as a constant gate.
    """
    if not isinstance(snn, conversion.SpikingNetwork):
        raise TypeError(f"snn must be a SpikingNetwork, got {type(snn).__name__}")
    x = checks.tensor("x", x, ndim=(2, 3, 4, 5), kind="float")
    num_steps = checks.positive_int("num_steps", num_steps)
    beta = checks.number("beta", beta, low=0.0)
    last: list[torch.Tensor | None] = []
    silent, factors, total = 0, [], 0
    for t, (_, spikes) in enumerate(snn._steps(x, num_steps)):
        if not last:
            last = [None] * len(spikes)
        for k, s in enumerate(spikes):
            # the gradient at step t uses the last spike *before* this step's
            if last[k] is None:
                last[k] = torch.full_like(s, conversion.NEVER_FIRED)
            fired = last[k] > conversion.NEVER_FIRED
            silent += int((~fired).sum())
            total += s.numel()
            factors.append(torch.exp(-beta * (t - last[k][fired])).flatten())
            last[k] = torch.where(s > 0, float(t), last[k])
    f = torch.cat(factors) if factors else x.new_zeros(0)
    return {
        "silent_fraction": silent / total,
        "mean_factor": float(f.mean()) if f.numel() else float("nan"),
        "p10_factor": float(f.kthvalue(max(1, math.ceil(0.1 * f.numel()))).values)
        if f.numel()
        else float("nan"),
    }


@torch.no_grad()
def surrogate_disagreement(
    snn: conversion.SpikingNetwork, x: torch.Tensor, num_steps: int, *, seed: int = 0
) -> dict[str, float]:
    r"""Where STDB and the piecewise-linear surrogate disagree most, in a run of ``num_steps``.

    For every (neuron, step) pair of every spiking layer, with the normalised
    membrane :math:`v = U/\theta - 1` just before the spike decision: a pair
    whose neuron fired at an earlier step gets STDB's full
    :math:`\alpha e^{-\beta\Delta t} \approx \alpha` whatever ``v`` is, but
    the piecewise-linear :math:`\alpha\max(0, 1 - |v|)` is zero when
    :math:`|v| \ge 1`. Returns the fraction of all pairs that fired before and
    have ``v >= 1`` (``"above"``: the membrane is at least twice the threshold,
    the neuron is saturated at one spike per step) and ``v <= -1``
    (``"below"``: membrane at or below zero), and the fraction of all pairs whose
    neuron had fired before (``"fired"``, where STDB's gradient is not about zero).
    Poisson input is drawn from ``seed``.
    """
    if not isinstance(snn, conversion.SpikingNetwork):
        raise TypeError(f"snn must be a SpikingNetwork, got {type(snn).__name__}")
    x = checks.tensor("x", x, ndim=(2, 3, 4, 5), kind="float")
    num_steps = checks.positive_int("num_steps", num_steps)
    seed = checks.nonnegative_int("seed", seed)
    layers = snn.layers
    first = snn._first
    above = below = fired_before = total = 0
    states: dict[int, Any] = {}
    fired: dict[int, torch.Tensor] = {}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        prefix = nn.Sequential(*layers[:first])
        for t in range(num_steps):
            xin = x if snn.input_encoding == "direct" else conversion.poisson_spikes(x)
            h = prefix(xin)
            for i in range(first, len(layers)):
                layer = layers[i]
                if not isinstance(layer, conversion.IFNeuron):
                    h = layer(h)
                    continue
                mem = h if states.get(i) is None else states[i][0] + h
                v = mem / layer.threshold.to(mem.dtype) - 1
                before = fired.get(i, torch.zeros_like(v, dtype=torch.bool))
                above += int((before & (v >= 1)).sum())
                below += int((before & (v <= -1)).sum())
                fired_before += int(before.sum())
                total += v.numel()
                h, states[i] = layer(h, states.get(i), t)
                fired[i] = before | (h > 0)
    return {"above": above / total, "below": below / total, "fired": fired_before / total}


def tune_scale(
    snn: conversion.SpikingNetwork,
    x: torch.Tensor,
    y: torch.Tensor,
    scales: Sequence[float],
    *,
    seed: int = 0,
) -> tuple[float, dict[float, float]]:
    """The threshold factor from ``scales`` whose rescaled copy of ``snn`` scores best on
    ``(x, y)`` (use training images, never the test set); ties go to the larger factor.

    Returns the factor and the accuracy of every candidate. The paper's 0.7 is
    meant for about 100 steps; at a handful of steps the compounding across
    layers (see :mod:`snnbook.conversion`) may need a smaller one.
    """
    if not isinstance(snn, conversion.SpikingNetwork):
        raise TypeError(f"snn must be a SpikingNetwork, got {type(snn).__name__}")
    x, y = _pair(x, y)
    if isinstance(scales, str) or not isinstance(scales, Sequence) or not scales:
        raise TypeError("scales must be a non-empty list of positive factors, e.g. [0.7, 0.5]")
    factors = [checks.positive(f"scales[{i}]", f) for i, f in enumerate(scales)]
    scores = {f: accuracy(conversion.rescaled(snn, f), x, y, seed=seed) for f in factors}
    best = max(sorted(scores, reverse=True), key=lambda f: scores[f])
    return best, scores


def gradient_norms(
    snn: conversion.SpikingNetwork, x: torch.Tensor, y: torch.Tensor, *, seed: int = 0
) -> dict[str, float]:
    """The norm of the cross-entropy gradient over all weights of ``snn`` on one batch
    ``(x, y)``, once with each surrogate (``"stdb"``, ``"linear"``), on the same Poisson spikes.

    ``snn`` itself is not changed. A norm near zero means that surrogate cannot
    start training from this network.
    """
    if not isinstance(snn, conversion.SpikingNetwork):
        raise TypeError(f"snn must be a SpikingNetwork, got {type(snn).__name__}")
    x, y = _pair(x, y)
    seed = checks.nonnegative_int("seed", seed)
    norms = {}
    for surrogate in ("stdb", "linear"):
        net = copy.deepcopy(snn)
        net.set_surrogate(surrogate)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            loss = nn.functional.cross_entropy(net(x), y)
        grads = torch.autograd.grad(loss, list(net.parameters()), allow_unused=True)
        total = sum(float(g.pow(2).sum()) for g in grads if g is not None)
        norms[surrogate] = math.sqrt(total)
    return norms


def _sweep(
    snn: conversion.SpikingNetwork, x: torch.Tensor, y: torch.Tensor, num_steps: int, seed: int
) -> dict[str, list[float]]:
    """Accuracy and cumulative spikes per image after every step 1..num_steps."""
    outs, spikes = [], []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for xb, yb in batches(x, y, 500):
            o, s = snn.trace(xb, num_steps)
            outs.append((o.argmax(-1) == yb).sum(1))
            spikes.append(s * len(yb))
    acc = (torch.stack(outs).sum(0).float() / len(y)).tolist()
    spk = (torch.stack(spikes).sum(0) / len(y)).tolist()
    return {"accuracy": acc, "spikes": spk}


def _spikes(snn: conversion.SpikingNetwork, x: torch.Tensor, seed: int) -> float:
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        snn(x[:500])
    return float(snn.spikes_per_image)


def load_data(setup: Setup) -> dict[str, torch.Tensor]:
    """The training subset (``setup.n_train`` images, the same for every seed) and the
    first ``setup.n_test`` test images of Fashion-MNIST."""
    from snnbook.data import load_fashion_mnist

    if not isinstance(setup, Setup):
        raise TypeError(f"setup must be a Setup, got {type(setup).__name__}")
    x, y = load_fashion_mnist("train", n=setup.n_train, seed=0)
    xt, yt = load_fashion_mnist("test")
    return {"x_train": x, "y_train": y, "x_test": xt[: setup.n_test], "y_test": yt[: setup.n_test]}


def make_ann(setup: Setup, seed: int) -> nn.Sequential:
    """The untrained :func:`vgg` of ``setup``, its weights drawn with ``seed``.

    Same as ``torch.manual_seed(seed); vgg(setup.layers, setup.hidden)``, but
    the global random state is restored afterwards.
    """
    if not isinstance(setup, Setup):
        raise TypeError(f"setup must be a Setup, got {type(setup).__name__}")
    seed = checks.nonnegative_int("seed", seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return vgg(setup.layers, setup.hidden)


def convert_seeded(
    ann: nn.Sequential, calibration: torch.Tensor, setup: Setup, seed: int, **kwargs: Any
) -> tuple[conversion.SpikingNetwork, float]:
    """:func:`snnbook.conversion.convert` with the setup's steps and calibration length and
    Poisson input, its calibration spikes drawn as after ``torch.manual_seed(seed)``
    (the global random state is restored). Returns the network and the seconds it took."""
    if not isinstance(setup, Setup):
        raise TypeError(f"setup must be a Setup, got {type(setup).__name__}")
    seed = checks.nonnegative_int("seed", seed)
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        snn = conversion.convert(
            ann,
            calibration,
            num_steps=setup.num_steps,
            calibration_steps=setup.calibration_steps,
            input_encoding="rate",
            **kwargs,
        )
    return snn, time.perf_counter() - start


def _check_data(setup: Setup, data: object) -> tuple[torch.Tensor, ...]:
    if not isinstance(setup, Setup):
        raise TypeError(f"setup must be a Setup, got {type(setup).__name__}")
    if not isinstance(data, Mapping):
        raise TypeError(f"data must be a dict (see load_data), got {type(data).__name__}")
    missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in data]
    if missing:
        raise ValueError(f"data lacks {missing}; build it with load_data(setup)")
    x, y = _pair(data["x_train"], data["y_train"])
    xt, yt = _pair(data["x_test"], data["y_test"], name="x_test")
    if len(y) < setup.n_train or len(yt) < setup.n_test:
        raise ValueError(
            f"data holds {len(y)} training and {len(yt)} test images; setup needs "
            f"{setup.n_train} and {setup.n_test}"
        )
    return x[: setup.n_train], y[: setup.n_train], xt[: setup.n_test], yt[: setup.n_test]


def _finetune(
    start: conversion.SpikingNetwork,
    arm: str,
    setup: Setup,
    seed: int,
    x: torch.Tensor,
    y: torch.Tensor,
    test: tuple[torch.Tensor, torch.Tensor],
    before: float,
) -> tuple[conversion.SpikingNetwork, dict[str, Any]]:
    snn = copy.deepcopy(start)
    snn.set_surrogate("linear" if arm == "linear_fast" else arm)
    log = train(
        snn,
        x,
        y,
        lr=setup.fast_lr if arm == "linear_fast" else setup.finetune_lr,
        batch_size=setup.batch_size,
        epochs=setup.finetune_epochs,
        seed=seed,
        test=test,
        desc=ARMS[arm],
    )
    result = {
        "accuracy": log.checkpoints[-1]["accuracy"],
        "seconds": log.seconds,
        "steps": log.steps,
        "first_losses": log.losses,
        "curve": [{"seconds": 0.0, "steps": 0, "accuracy": before}, *log.checkpoints],
        "spikes_per_image": _spikes(snn, test[0], seed),
    }
    return snn, result


def run_seed(
    setup: Setup,
    seed: int,
    data: Mapping[str, torch.Tensor],
    *,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run every arm of the experiment for one ``seed``; return a JSON-ready dict.

    ``data`` comes from :func:`load_data`. The seed sets the ANN's and the
    from-scratch network's initial weights, the batch order and the Poisson
    spikes; the images are the same for every seed. The trained networks are
    returned under ``"networks"`` (drop that entry before storing).
    """
    x, y, xt, yt = _check_data(setup, data)
    seed = checks.nonnegative_int("seed", seed)
    test = (xt, yt)
    sweep_x, sweep_y = xt[: setup.sweep_images], yt[: setup.sweep_images]
    calibration = x[: setup.calibration_images]
    T = setup.num_steps
    out: dict[str, Any] = {"seed": seed, "networks": {}}

    ann = make_ann(setup, seed)
    ann_log = train(
        ann, x, y, lr=setup.ann_lr, batch_size=setup.batch_size, epochs=setup.ann_epochs,
        seed=seed, desc="ANN",
    )  # fmt: skip
    out["ann"] = {
        "accuracy": accuracy(ann, *test),
        "seconds": ann_log.seconds,
        "steps": ann_log.steps,
        "first_losses": ann_log.losses,
    }
    out["networks"]["ann"] = ann
    log(f"seed {seed}: ANN {out['ann']['accuracy']:.4f} in {ann_log.seconds:.1f} s")

    conv_max, conv_seconds = convert_seeded(ann, calibration, setup, seed)
    start = time.perf_counter()
    tune_x, tune_y = x[-setup.tune_images :], y[-setup.tune_images :]
    factor, tuning = tune_scale(conv_max, tune_x, tune_y, setup.scales, seed=seed)
    conv_seconds += time.perf_counter() - start  # the hybrids need the tuned factor too
    conv_pct, _ = convert_seeded(
        ann, calibration, setup, seed, method="percentile", percentile=setup.percentile
    )
    scaled = conversion.rescaled(conv_max, setup.scale)
    tuned = conversion.rescaled(conv_max, factor)
    out["conversion"] = {
        "seconds": conv_seconds,
        "thresholds": conv_max.thresholds,
        "factor": factor,
        "tuning": [[f, a] for f, a in tuning.items()],
        "gradients": {},
        "rates": {},
        "sweep": {},
    }
    nets = (("conv_max", conv_max), ("conv_scaled", scaled), ("conv_pct", conv_pct),
            ("conv_tuned", tuned))  # fmt: skip
    for key, snn in nets:
        out[key] = {"accuracy": accuracy(snn, *test, seed=seed)}
        out[key]["spikes_per_image"] = _spikes(snn, xt, seed)
        out["conversion"]["rates"][key] = snn.layer_rates(calibration[:128]).tolist()
        out["conversion"]["sweep"][key] = _sweep(snn, sweep_x, sweep_y, setup.sweep_steps, seed)
        out["networks"][key] = snn
    for key, snn in (("conv_scaled", scaled), ("conv_tuned", tuned)):
        out["conversion"]["gradients"][key] = gradient_norms(
            snn, x[: setup.batch_size], y[: setup.batch_size], seed=seed
        )
    out["conversion"]["stdb_factors"] = stdb_factors(tuned, calibration[:64], T)
    log(
        f"seed {seed}: conversion at T = {T}: max {out['conv_max']['accuracy']:.4f}, "
        f"x {setup.scale} {out['conv_scaled']['accuracy']:.4f}, "
        f"percentile {out['conv_pct']['accuracy']:.4f}, "
        f"x {factor} (tuned) {out['conv_tuned']['accuracy']:.4f}"
    )

    finetune_seconds = []
    for arm in ("stdb", "linear", "linear_fast"):
        if arm in setup.arms:
            snn, out[arm] = _finetune(
                tuned, arm, setup, seed, x, y, test, out["conv_tuned"]["accuracy"]
            )
            out[arm]["sweep"] = _sweep(snn, sweep_x, sweep_y, setup.sweep_steps, seed)
            out["networks"][arm] = snn
            finetune_seconds.append(out[arm]["seconds"])
            log(f"seed {seed}: {arm} {out[arm]['accuracy']:.4f} in {out[arm]['seconds']:.1f} s")

    if "scratch" in setup.arms:
        fine = max(finetune_seconds)
        budget = out["ann"]["seconds"] + conv_seconds + fine
        start = make_ann(setup, seed + 1000)  # not the ANN's initial weights
        # the hybrids' tuned threshold factor: with the paper's 0.7 a random network at a
        # handful of steps can stay silent (and get no gradient), failing by construction
        snn, init_seconds = convert_seeded(start, calibration, setup, seed, scale=factor)
        snn.set_surrogate("linear")
        tl = train(
            snn, x, y, lr=setup.scratch_lr, batch_size=setup.batch_size,
            seconds=budget - init_seconds, seed=seed, test=test,
            checkpoints=[max(fine - init_seconds, 1e-3)], desc="from scratch",
        )  # fmt: skip
        short, final = tl.checkpoints[0], tl.checkpoints[-1]
        out["scratch_short"] = {"accuracy": short["accuracy"], "seconds": short["seconds"]}
        out["scratch"] = {
            "accuracy": final["accuracy"],
            "seconds": tl.seconds + init_seconds,
            "budget": budget,
            "init_seconds": init_seconds,
            "scale": factor,
            "steps": tl.steps,
            "first_losses": tl.losses,
            "curve": tl.checkpoints,
            "spikes_per_image": _spikes(snn, xt, seed),
        }
        out["networks"]["scratch"] = snn
        log(
            f"seed {seed}: scratch {final['accuracy']:.4f} after {tl.steps} steps, "
            f"{short['accuracy']:.4f} at the fine-tuning time"
        )
    return out


def run_long(
    ann: nn.Sequential,
    setup: Setup,
    seed: int,
    data: Mapping[str, torch.Tensor],
    *,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    r"""STDB against the piecewise-linear surrogate at a long ``setup.num_steps`` (about 100),
    where STDB's factor :math:`e^{-\beta\Delta t}` varies, starting from a trained ``ann``.

    Conversion (max thresholds times ``setup.scale``), then each surrogate
    fine-tunes a copy for ``setup.finetune_epochs`` on ``setup.n_train``
    images. Also reports :func:`stdb_factors` of the starting network.
    """
    x, y, xt, yt = _check_data(setup, data)
    seed = checks.nonnegative_int("seed", seed)
    test = (xt, yt)
    calibration = x[: setup.calibration_images]
    conv_max, conv_seconds = convert_seeded(ann, calibration, setup, seed)
    scaled = conversion.rescaled(conv_max, setup.scale)
    out: dict[str, Any] = {"seed": seed, "conversion": {"seconds": conv_seconds}}
    out["conv_scaled"] = {"accuracy": accuracy(scaled, *test, seed=seed)}
    out["conversion"]["stdb_factors"] = stdb_factors(scaled, calibration[:16], setup.num_steps)
    out["conversion"]["gradients"] = gradient_norms(
        scaled, x[: setup.batch_size], y[: setup.batch_size], seed=seed
    )
    for arm in ("stdb", "linear"):
        if arm in setup.arms:
            _, out[arm] = _finetune(
                scaled, arm, setup, seed, x, y, test, out["conv_scaled"]["accuracy"]
            )
            log(f"seed {seed}, T = {setup.num_steps}: {arm} {out[arm]['accuracy']:.4f}")
    return out


# ----------------------------------------------------------------- reporting
def summaries(record: Mapping[str, Any]) -> dict[str, stats.Summary]:
    """Per arm, a :class:`snnbook.stats.Summary` of the test accuracy over the stored seeds."""
    runs = _runs(record)
    n_test = record["setup"]["n_test"]
    result = {}
    for arm in ARMS:
        values = [r[arm]["accuracy"] for r in runs if arm in r]
        if values:
            result[arm] = stats.summarize(values, n_test)
    return result


def _runs(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if not isinstance(record, Mapping) or "runs" not in record or "setup" not in record:
        raise ValueError("record must be a result of scripts/conversion_hybrid.py (records.load)")
    return record["runs"]


def results_table(
    record: Mapping[str, Any], *, against: str = "conv_tuned", caption: str | None = None
) -> HTML:
    """One row per arm: mean test accuracy over seeds, spread, test-set SE, spikes per image,
    wall time, and the difference to the ``against`` arm with its verdict (tie or resolved)."""
    sums = summaries(record)
    if against not in sums:
        raise ValueError(f"against must be one of {list(sums)}, got {against!r}")
    runs = _runs(record)
    rows = []
    for arm, s in sums.items():
        secs = [_seconds(r, arm) for r in runs if arm in r]
        spikes = [r[arm].get("spikes_per_image") for r in runs if arm in r]
        cmp = stats.compare(s, sums[against])
        rows.append(
            {
                "arm": ARMS[arm],
                "mean": s.mean,
                "spread": s.std,
                "test_se": s.test_se,
                "spikes": float(np.mean(spikes)) if None not in spikes else None,
                "seconds": float(np.mean(secs)) if None not in secs else None,
                "diff": None if arm == against else cmp.difference,
                "verdict": "" if arm == against else ("tie" if cmp.tie else "resolved"),
            }
        )
    k = len(runs)
    return tables.table(
        rows,
        columns={
            "arm": "network",
            "mean": f"test accuracy (mean of {k})",
            "spread": "spread (sd)",
            "test_se": "test-set SE",
            "spikes": "spikes / image",
            "seconds": "training s",
            "diff": f"vs {ARMS[against]}",
            "verdict": "verdict",
        },
        formats={
            "mean": "{:.1%}",
            "spread": "{:.1%}",
            "test_se": "{:.1%}",
            "spikes": "{:,.0f}",
            "seconds": "{:.0f}",
            "diff": "{:+.1%}",
        },
        caption=caption,
    )


def _seconds(run: Mapping[str, Any], arm: str) -> float | None:
    if arm == "ann":
        return run["ann"]["seconds"]
    if arm.startswith("conv_"):
        return run["ann"]["seconds"] + run["conversion"]["seconds"]
    if arm in ("stdb", "linear", "linear_fast"):
        return run["ann"]["seconds"] + run["conversion"]["seconds"] + run[arm]["seconds"]
    return run[arm].get("seconds")


def plot_budget(record: Mapping[str, Any]) -> Figure:
    """Test accuracy against wall-clock seconds for the hybrids (their clock starts after
    ANN training and conversion) and the from-scratch network, one faint line per seed
    and the mean over seeds in bold."""
    from snnbook.plotting import COLORS, new_figure

    runs = _runs(record)
    fig, axes = new_figure(figsize=(7.5, 3.6))
    ax = axes[0, 0]
    for k, arm in enumerate(("stdb", "linear", "linear_fast", "scratch")):
        color = COLORS[k + 1]
        for i, r in enumerate(runs):
            if arm not in r:
                continue
            offset = 0.0 if arm == "scratch" else r["ann"]["seconds"] + r["conversion"]["seconds"]
            curve = r[arm]["curve"]
            xs = [offset + c["seconds"] for c in curve]
            if arm == "scratch":
                xs = [r["scratch"]["init_seconds"] + c for c in xs]
            ax.plot(
                xs,
                [c["accuracy"] for c in curve],
                "o-",
                ms=3,
                color=color,
                alpha=0.8,
                label=ARMS[arm] if i == 0 else None,
            )
    for r in runs[:1]:
        ax.axvline(r["ann"]["seconds"] + r["conversion"]["seconds"], color="0.6", lw=1, ls=":")
    ax.set_xlabel("wall-clock seconds (hybrids: ANN training and conversion first)")
    ax.set_ylabel(f"test accuracy at T = {record['setup']['num_steps']}")
    ax.set_ylim(0, 1)
    ax.legend(loc="lower right", fontsize=9)
    return fig


def _mean_sweeps(
    runs: Sequence[Mapping[str, Any]], key: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    curves = []
    for r in runs:
        sweep = r["conversion"]["sweep"].get(key) if key.startswith("conv_") else r[key]["sweep"]
        curves.append(sweep["accuracy"])
    a = np.asarray(curves)
    return a.mean(0), a.min(0), a.max(0)


def plot_sweeps(
    record: Mapping[str, Any], arms: Sequence[str], *, marker: int | None = None
) -> Figure:
    """Test accuracy against the number of steps ``T`` each network is run for: the mean over
    seeds (line) and the range over seeds (band), one colour per arm. ``marker`` draws a
    vertical line at that ``T`` and writes each mean there (for :func:`snnbook.widgets.explore`)."""
    from snnbook.plotting import COLORS, new_figure

    runs = _runs(record)
    if isinstance(arms, str) or not arms:
        raise TypeError("arms must be a non-empty list of arm names, e.g. ['conv_max', 'stdb']")
    for arm in arms:
        checks.one_of("arms", arm, [a for a in ARMS if a in runs[0] and a != "ann"])
    if marker is not None:
        marker = checks.positive_int("marker", marker)
    fig, axes = new_figure(figsize=(7.5, 3.6))
    ax = axes[0, 0]
    for k, arm in enumerate(arms):
        mean, low, high = _mean_sweeps(runs, arm)
        steps = np.arange(1, len(mean) + 1)
        color = COLORS[k % len(COLORS)]
        ax.plot(steps, mean, color=color, label=ARMS[arm])
        ax.fill_between(steps, low, high, color=color, alpha=0.2, lw=0)
        if marker is not None and marker <= len(mean):
            ax.plot(marker, mean[marker - 1], "o", color=color)
            ax.annotate(
                f"{mean[marker - 1]:.1%}",
                (marker, mean[marker - 1]),
                xytext=(5, -4),
                textcoords="offset points",
                color=color,
                fontsize=9,
            )
    ann = np.mean([r["ann"]["accuracy"] for r in runs])
    ax.axhline(ann, color="0.3", ls="--", lw=1, label="ANN")
    ax.axvline(record["setup"]["num_steps"], color="0.6", lw=1, ls=":")
    if marker is not None:
        ax.axvline(marker, color="0.6", lw=1)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("time steps $T$ the network runs for (dotted: the training $T$)")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", fontsize=8)
    return fig


def plot_layer_rates(rates: Mapping[str, Sequence[float] | torch.Tensor]) -> Figure:
    """Mean firing rate (spikes per neuron per step) of each spiking layer, one group of bars
    per layer and one colour per network; ``rates[name]`` as from
    :meth:`snnbook.conversion.SpikingNetwork.layer_rates`."""
    from snnbook.plotting import COLORS, new_figure

    if not isinstance(rates, Mapping) or not rates:
        raise TypeError("rates must be a non-empty dict name -> per-layer rates")
    values = {k: conversion._host(f"rates[{k!r}]", v) for k, v in rates.items()}
    n = {len(v) for v in values.values()}
    if len(n) != 1:
        raise ValueError("every network in rates must have the same number of layers")
    layers = np.arange(1, n.pop() + 1)
    fig, axes = new_figure(figsize=(7.5, 3.2))
    ax = axes[0, 0]
    width = 0.8 / len(values)
    for k, (name, v) in enumerate(values.items()):
        ax.bar(
            layers + (k - (len(values) - 1) / 2) * width, v, width, color=COLORS[k % 8], label=name
        )
    ax.set_xticks(layers)
    ax.set_xlabel("spiking layer (1 = next to the input)")
    ax.set_ylabel("spikes per neuron per step")
    ax.legend(fontsize=8)
    return fig


def conversion_table(
    networks: Mapping[str, conversion.SpikingNetwork],
    accuracies: Mapping[str, float],
    ann_accuracy: float,
    num_steps: int,
) -> HTML:
    """One row per converted network: its thresholds (input side first), its test accuracy
    at ``num_steps`` steps and the gap to the ANN."""
    if not isinstance(networks, Mapping) or not networks:
        raise TypeError("networks must be a non-empty dict name -> SpikingNetwork")
    if not isinstance(accuracies, Mapping) or set(accuracies) != set(networks):
        raise ValueError("accuracies must be a dict with the same names as networks")
    ann_accuracy = checks.unit_interval("ann_accuracy", ann_accuracy)
    num_steps = checks.positive_int("num_steps", num_steps)
    rows = []
    for name, snn in networks.items():
        if not isinstance(snn, conversion.SpikingNetwork):
            raise TypeError(f"networks[{name!r}] must be a SpikingNetwork")
        acc = checks.unit_interval(f"accuracies[{name!r}]", accuracies[name])
        rows.append(
            {
                "name": name,
                "thresholds": ", ".join(f"{t:.2f}" for t in snn.thresholds),
                "accuracy": acc,
                "gap": acc - ann_accuracy,
            }
        )
    return tables.table(
        rows,
        columns={
            "name": "thresholds by",
            "thresholds": "thresholds, input side first",
            "accuracy": f"test accuracy at T = {num_steps}",
            "gap": "vs the ANN",
        },
        formats={"accuracy": "{:.1%}", "gap": "{:+.1%}"},
    )


def long_table(record: Mapping[str, Any], *, caption: str | None = None) -> HTML:
    """The ``T = 100`` check (``record["runs"][i]["long"]``): per arm the mean test accuracy
    over seeds, its spread and test-set SE, and the difference to the conversion it started
    from with its verdict."""
    runs = [r["long"] for r in _runs(record) if "long" in r]
    if not runs:
        raise ValueError("record holds no T = 100 runs ('long'); run the script without --no-long")
    n_test = record["long_setup"]["n_test"]
    sums = {
        arm: stats.summarize([r[arm]["accuracy"] for r in runs], n_test)
        for arm in ("conv_scaled", "stdb", "linear")
        if arm in runs[0]
    }
    rows = []
    for arm, s in sums.items():
        cmp = stats.compare(s, sums["conv_scaled"])
        rows.append(
            {
                "arm": ARMS[arm],
                "mean": s.mean,
                "spread": s.std,
                "test_se": s.test_se,
                "diff": None if arm == "conv_scaled" else cmp.difference,
                "verdict": "" if arm == "conv_scaled" else ("tie" if cmp.tie else "resolved"),
            }
        )
    return tables.table(
        rows,
        columns={
            "arm": "network",
            "mean": f"test accuracy (mean of {len(runs)})",
            "spread": "spread (sd)",
            "test_se": "test-set SE",
            "diff": "vs conversion alone",
            "verdict": "verdict",
        },
        formats={"mean": "{:.1%}", "spread": "{:.1%}", "test_se": "{:.1%}", "diff": "{:+.1%}"},
        caption=caption,
    )


def quotes(record: Mapping[str, Any]) -> dict[str, float | int | str]:
    """The numbers chapter 8's prose quotes from a committed run, by name (for ``glue``).

    Per arm: ``{arm}_mean``, ``{arm}_std``, ``{arm}_se``, ``{arm}_low``,
    ``{arm}_high``; comparisons ``{a}_vs_{b}`` (difference) and
    ``{a}_vs_{b}_verdict`` (``"a tie"`` or ``"resolved"``); mean seconds, steps
    and budgets; sweep means ``sweep_{arm}_{T}``; the STDB factors; the
    ``T = 100`` numbers prefixed ``long_``.
    """
    runs = _runs(record)
    sums = summaries(record)
    q: dict[str, float | int | str] = {"seeds": len(runs), "n_test": record["setup"]["n_test"]}
    for arm, s in sums.items():
        q.update(
            {
                f"{arm}_mean": s.mean,
                f"{arm}_std": s.std,
                f"{arm}_se": s.test_se,
                f"{arm}_low": s.low,
                f"{arm}_high": s.high,
            }
        )
    pairs = [
        ("stdb", "linear"),
        ("stdb", "conv_tuned"),
        ("linear", "conv_tuned"),
        ("linear_fast", "conv_tuned"),
        ("linear_fast", "linear"),
        ("linear", "scratch"),
        ("linear_fast", "scratch"),
        ("stdb", "scratch"),
        ("linear", "scratch_short"),
        ("linear_fast", "scratch_short"),
        ("conv_scaled", "conv_max"),
        ("conv_pct", "conv_max"),
        ("conv_tuned", "conv_scaled"),
        ("conv_tuned", "conv_pct"),
        ("linear", "ann"),
        ("linear_fast", "ann"),
        ("stdb", "ann"),
        ("scratch", "ann"),
    ]
    for a, b in pairs:
        if a in sums and b in sums:
            c = stats.compare(sums[a], sums[b])
            q[f"{a}_vs_{b}"] = c.difference
            q[f"{a}_vs_{b}_noise"] = c.noise
            q[f"{a}_vs_{b}_verdict"] = "a tie" if c.tie else "resolved"
    for arm in ("ann", "stdb", "linear", "linear_fast", "scratch"):
        if arm in sums:
            q[f"{arm}_seconds"] = float(np.mean([r[arm]["seconds"] for r in runs]))
            q[f"{arm}_steps"] = float(np.mean([r[arm]["steps"] for r in runs]))
    q["conversion_seconds"] = float(np.mean([r["conversion"]["seconds"] for r in runs]))
    q["scales"] = ", ".join(f"{f:g}" for f in record["setup"]["scales"])
    for arm in ("conv_tuned", "stdb", "linear", "linear_fast"):  # spikes per test image
        if arm in sums:
            q[f"spikes_{arm}"] = float(np.mean([r[arm]["spikes_per_image"] for r in runs]))
    if "stdb" in sums:  # how much each seed's STDB hybrid multiplied its start's spike count
        ratios = [r["stdb"]["spikes_per_image"] / r["conv_tuned"]["spikes_per_image"] for r in runs]
        q["spikes_stdb_ratio_low"], q["spikes_stdb_ratio_high"] = min(ratios), max(ratios)
    factors = [r["conversion"]["factor"] for r in runs]
    q["factors"] = ", ".join(f"{f:g}" for f in factors)
    q["factor_min"], q["factor_max"] = min(factors), max(factors)
    for key in ("conv_scaled", "conv_tuned"):
        for sur in ("stdb", "linear"):
            q[f"grad_{key}_{sur}"] = float(
                np.mean([r["conversion"]["gradients"][key][sur] for r in runs])
            )
    if "scratch" in sums:
        q["scratch_budget"] = float(np.mean([r["scratch"]["budget"] for r in runs]))
    for arm in ("conv_max", "conv_scaled", "conv_pct", "conv_tuned", "stdb", "linear",
                "linear_fast"):  # fmt: skip
        if arm in sums:
            mean = _mean_sweeps(runs, arm)[0]
            for T in (1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128, 256):
                if T <= len(mean):
                    q[f"sweep_{arm}_{T}"] = float(mean[T - 1])
    for key in ("silent_fraction", "mean_factor", "p10_factor"):
        q[f"factor_{key}"] = float(np.mean([r["conversion"]["stdb_factors"][key] for r in runs]))
    rates = {
        k: np.mean([r["conversion"]["rates"][k] for r in runs], 0)
        for k in ("conv_max", "conv_scaled", "conv_pct")
    }
    for k, v in rates.items():
        q[f"rate_{k}_first"], q[f"rate_{k}_last"] = float(v[0]), float(v[-1])
    long = [r["long"] for r in runs if "long" in r]
    if long:
        n = record["long_setup"]["n_test"]
        ls = {
            arm: stats.summarize([r[arm]["accuracy"] for r in long], n)
            for arm in ("conv_scaled", "stdb", "linear")
            if arm in long[0]
        }
        for arm, s in ls.items():
            q.update(
                {f"long_{arm}_mean": s.mean, f"long_{arm}_std": s.std, f"long_{arm}_se": s.test_se}
            )
        for a, b in (("stdb", "linear"), ("stdb", "conv_scaled"), ("linear", "conv_scaled")):
            if a in ls and b in ls:
                c = stats.compare(ls[a], ls[b])
                q[f"long_{a}_vs_{b}"] = c.difference
                q[f"long_{a}_vs_{b}_noise"] = c.noise
                q[f"long_{a}_vs_{b}_verdict"] = "a tie" if c.tie else "resolved"
        for key in ("silent_fraction", "mean_factor", "p10_factor"):
            q[f"long_factor_{key}"] = float(
                np.mean([r["conversion"]["stdb_factors"][key] for r in long])
            )
        q["long_seconds"] = float(np.mean([r["stdb"]["seconds"] for r in long]))
        q["long_steps"] = float(np.mean([r["stdb"]["steps"] for r in long]))
        for sur in ("stdb", "linear"):
            q[f"long_grad_{sur}"] = float(
                np.mean([r["conversion"]["gradients"][sur] for r in long])
            )
    return q


def setup_dict(setup: Setup) -> dict[str, Any]:
    """``setup`` as a JSON-ready dict (stored next to the results)."""
    if not isinstance(setup, Setup):
        raise TypeError(f"setup must be a Setup, got {type(setup).__name__}")
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(setup).items()}


def setup_from(record: Mapping[str, Any]) -> Setup:
    """The :class:`Setup` a committed run used, rebuilt from its stored ``record["setup"]``
    (the inverse of :func:`setup_dict`)."""
    if not isinstance(record, Mapping) or not isinstance(record.get("setup"), Mapping):
        raise ValueError(
            "record must be a result of scripts/conversion_hybrid.py (records.load), "
            "with its 'setup'"
        )
    return Setup(**{k: tuple(v) if isinstance(v, list) else v for k, v in record["setup"].items()})
