"""Binarized layers: sign of the weights forward, straight-through gradient backward.

A binarized layer keeps real-valued *latent* weights :math:`w` for the optimizer
but computes with their signs,

.. math::

    w_b = \\operatorname{sign}(w) \\in \\{-1, +1\\}, \\qquad
    \\operatorname{sign}(0) = +1,

so each synapse costs one bit at inference. The sign has zero derivative almost
everywhere, so training uses the straight-through estimator (Bengio et al. 2013,
as in BinaryConnect): the backward pass treats the sign as the identity,

.. math::

    \\frac{\\partial L}{\\partial w} := \\frac{\\partial L}{\\partial w_b}.

This is how Eshraghian & Lu :cite:`eshraghian2022fine` binarize the weights of
their spiking networks. As they do (``bnn.py`` of their code), the latent
weights start Glorot-uniform, :math:`w \\sim U(-s, s)` with
:math:`s = \\sqrt{1.5 / (\\text{fan\\_in} + \\text{fan\\_out})}` (only the signs
matter in the forward pass, the scale sets how quickly the optimizer can flip
them), and a bias, where there is one, starts at zero and stays real-valued.

A binarized layer's output is a sum of :math:`\\pm 1` terms, so its size grows
like :math:`\\sqrt{\\text{fan\\_in}}`: the spiking neuron after it needs a much
higher threshold than after a full-precision layer (chapter 4).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import snntorch as snn
import torch
from matplotlib.figure import Figure
from snntorch import spikegen, surrogate
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from . import checks
from .lif import leaky_scan
from .plotting import COLORS, new_figure, raster

__all__ = [
    "SignSTE",
    "binarize",
    "BinaryLinear",
    "BinaryConv2d",
    "BinaryConvSNN",
    "TemporalCodingNet",
    "ramp_target",
    "latency_target",
    "train_temporal",
    "plot_temporal_runs",
    "plot_temporal_snapshots",
]


class SignSTE(torch.autograd.Function):
    """``sign`` forward (with sign(0) = +1), identity backward (straight-through)."""

    @staticmethod
    def forward(ctx: object, w: torch.Tensor) -> torch.Tensor:
        return torch.where(w >= 0, torch.ones_like(w), -torch.ones_like(w))

    @staticmethod
    def backward(ctx: object, grad_output: torch.Tensor) -> torch.Tensor:
        return grad_output


def binarize(w: torch.Tensor) -> torch.Tensor:
    """Signs of ``w`` as +-1 with a straight-through gradient (see :class:`SignSTE`)."""
    checks.tensor("w", w, kind="float", hint="binarize latent float weights")
    return SignSTE.apply(w)


def _glorot_uniform_(weight: torch.Tensor, fan_in: int, fan_out: int) -> None:
    bound = math.sqrt(1.5 / (fan_in + fan_out))
    with torch.no_grad():
        weight.uniform_(-bound, bound)


class BinaryLinear(nn.Linear):
    """``nn.Linear`` that computes with ``sign(weight)``; gradients pass straight through.

    ``y = x @ sign(W).T (+ b)``. The latent ``weight`` stays real-valued and is
    what the optimizer updates; :meth:`binary_weight` gives the +-1 matrix used.
    The optional bias is real-valued and starts at zero.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = False) -> None:
        in_features = checks.positive_int("in_features", in_features)
        out_features = checks.positive_int("out_features", out_features)
        bias = checks.boolean("bias", bias)
        super().__init__(in_features, out_features, bias=bias)
        _glorot_uniform_(self.weight, in_features, out_features)
        if self.bias is not None:
            with torch.no_grad():
                self.bias.zero_()

    def binary_weight(self) -> torch.Tensor:
        """The +-1 weights used in the forward pass."""
        return binarize(self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x @ sign(W).T + b``."""
        checks.tensor("x", x, kind="float")
        if x.shape[-1] != self.in_features:
            raise ValueError(
                f"x must end in {self.in_features} features, got shape {tuple(x.shape)}"
            )
        return F.linear(x, self.binary_weight(), self.bias)


class BinaryConv2d(nn.Conv2d):
    """``nn.Conv2d`` that convolves with ``sign(weight)``; gradients pass straight through."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int = 1,
        padding: int = 0,
        bias: bool = False,
    ) -> None:
        in_channels = checks.positive_int("in_channels", in_channels)
        out_channels = checks.positive_int("out_channels", out_channels)
        sizes = kernel_size if isinstance(kernel_size, tuple) else (kernel_size,)
        for k in sizes:
            checks.positive_int("kernel_size", k)
        stride = checks.positive_int("stride", stride)
        padding = checks.nonnegative_int("padding", padding)
        bias = checks.boolean("bias", bias)
        super().__init__(
            in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=bias
        )
        receptive = self.weight[0, 0].numel()
        _glorot_uniform_(self.weight, in_channels * receptive, out_channels * receptive)
        if self.bias is not None:
            with torch.no_grad():
                self.bias.zero_()

    def binary_weight(self) -> torch.Tensor:
        """The +-1 kernels used in the forward pass."""
        return binarize(self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Convolution of ``x`` with ``sign(W)`` (plus the bias, if any)."""
        checks.tensor("x", x, ndim=(3, 4), kind="float")
        return self._conv_forward(x, self.binary_weight(), self.bias)


def _leaky(beta: float, threshold: float, slope: float) -> snn.Leaky:
    return snn.Leaky(
        beta=beta, threshold=float(threshold), spike_grad=surrogate.fast_sigmoid(slope=slope)
    )


def _thresholds(name: str, values: object, count: int) -> tuple[float, ...]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a sequence of {count} numbers, got {values!r}")
    if len(values) != count:
        raise ValueError(f"{name}: give one threshold per LIF layer ({count}), got {len(values)}")
    return tuple(checks.positive(f"{name}[{i}]", v) for i, v in enumerate(values))


class BinaryConvSNN(nn.Module):
    """The convolutional SNN of Eshraghian & Lu, with binarized or full-precision weights.

    ``Conv(1->16, 5) -> AvgPool(2) -> BN -> LIF -> Conv(16->64, 5) -> AvgPool(2) -> BN -> LIF
    -> Linear(1024 -> 10) -> LIF``, as in ``fmnist/Net.py`` of the authors' code (without
    its dropout). The image is fed unchanged at each of ``num_steps`` steps
    (direct encoding); the score of a class is its output spike count. Because
    the network is feedforward, each layer is run for all time steps before the
    next one (:func:`snnbook.lif.leaky_scan`), and each convolution sees all
    time steps in one batched call (the same spikes as a step-by-step
    simulation; batch-norm statistics are pooled over time and batch). The LIF
    layers have decay ``beta`` and a fast-sigmoid surrogate of the given
    ``slope``. ``thresholds`` holds one initial threshold per LIF layer;
    :attr:`lifs` lists the layers (for :class:`snnbook.annealing.ThresholdAnnealer`
    and :class:`snnbook.activity.ActivityProbe`).

    Layers 1 and 2 sit behind batch normalisation with a learnable scale
    :math:`\\gamma` and shift :math:`b`: multiplying their threshold, :math:`\\gamma`
    and :math:`b` by the same factor leaves every spike unchanged, so their
    threshold only sets the units of :math:`\\gamma` and :math:`b`. The output layer
    has no normalisation: its threshold is measured against the raw sum of
    :math:`\\pm 1` inputs.
    """

    def __init__(
        self,
        *,
        binary: bool = True,
        thresholds: Sequence[float] = (1.0, 1.0, 1.0),
        num_steps: int = 10,
        beta: float = 0.9,
        slope: float = 1.0,
    ) -> None:
        super().__init__()
        binary = checks.boolean("binary", binary)
        thresholds = _thresholds("thresholds", thresholds, 3)
        self.num_steps = checks.positive_int("num_steps", num_steps)
        beta = checks.unit_interval("beta", beta, hint="the decay per step, e.g. 0.9")
        slope = checks.positive("slope", slope)
        conv = BinaryConv2d if binary else nn.Conv2d
        linear = BinaryLinear if binary else nn.Linear
        self.conv1 = conv(1, 16, 5, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.lif1 = _leaky(beta, thresholds[0], slope)
        self.conv2 = conv(16, 64, 5, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.lif2 = _leaky(beta, thresholds[1], slope)
        self.fc = linear(64 * 4 * 4, 10, bias=False)
        self.lif3 = _leaky(beta, thresholds[2], slope)

    @property
    def lifs(self) -> list[snn.Leaky]:
        """The three spiking layers, input to output."""
        return [self.lif1, self.lif2, self.lif3]

    def run(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Time-major spikes ``spk1`` (T, B, 16, 12, 12), ``spk2``, ``spk3`` and input currents.

        ``cur1`` is the (constant) normalised current of layer 1 (B, 16, 12, 12),
        ``cur2`` (T, B, 64, 4, 4) and ``cur3`` (T, B, 10) those of layers 2 and 3.
        """
        checks.tensor("x", x, shape=(None, 1, 28, 28), kind="float")
        steps, batch = self.num_steps, len(x)
        c1 = self.bn1(F.avg_pool2d(self.conv1(x), 2))  # the same current at every step
        spk1, _ = leaky_scan(self.lif1, c1.expand(steps, *c1.shape))
        c2 = self.bn2(F.avg_pool2d(self.conv2(spk1.flatten(0, 1)), 2))
        c2 = c2.unflatten(0, (steps, batch))
        spk2, _ = leaky_scan(self.lif2, c2)
        c3 = self.fc(spk2.flatten(2))
        spk3, _ = leaky_scan(self.lif3, c3)
        return {"spk1": spk1, "spk2": spk2, "spk3": spk3, "cur1": c1, "cur2": c2, "cur3": c3}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Output spike counts ``(batch, 10)``, used as class scores."""
        return self.run(x)["spk3"].sum(0)


class TemporalCodingNet(nn.Module):
    """The spike-timing toy of Eshraghian & Lu: ``n_in`` Poisson inputs -> ``hidden`` LIF -> 1 LIF.

    Fully connected, binarized (``binary=True``) or full precision, with one
    threshold per LIF layer (``thresholds``), decay ``beta`` and a fast-sigmoid
    surrogate of the given ``slope``. ``bias=True`` gives both linear layers a
    trainable real-valued bias, as in the authors' notebook
    (``temporal/bounded_homeostasis.ipynb``, where ``nn.Linear`` and their
    ``BinaryLinear`` keep PyTorch's default ``bias=True``). :meth:`run` takes
    time-major input spikes ``(T, batch, n_in)`` and returns the hidden spikes
    and the output neuron's membrane and spikes.
    """

    def __init__(
        self,
        *,
        binary: bool = True,
        thresholds: Sequence[float] = (1.0, 1.0),
        n_in: int = 100,
        hidden: int = 1000,
        beta: float = 0.15,
        slope: float = 5.0,
        bias: bool = False,
    ) -> None:
        super().__init__()
        binary = checks.boolean("binary", binary)
        thresholds = _thresholds("thresholds", thresholds, 2)
        n_in = checks.positive_int("n_in", n_in)
        hidden = checks.positive_int("hidden", hidden)
        beta = checks.unit_interval("beta", beta, hint="the decay per step, e.g. 0.15")
        slope = checks.positive("slope", slope)
        bias = checks.boolean("bias", bias)
        linear = BinaryLinear if binary else nn.Linear
        self.fc1 = linear(n_in, hidden, bias=bias)
        self.lif1 = _leaky(beta, thresholds[0], slope)
        self.fc2 = linear(hidden, 1, bias=bias)
        self.lif2 = _leaky(beta, thresholds[1], slope)

    @property
    def lifs(self) -> list[snn.Leaky]:
        """The two spiking layers, input to output."""
        return [self.lif1, self.lif2]

    def run(self, spikes_in: torch.Tensor) -> dict[str, torch.Tensor]:
        """``spk1`` (T, B, hidden), ``mem2`` and ``spk2`` (T, B) for input spikes (T, B, n_in)."""
        checks.tensor(
            "spikes_in",
            spikes_in,
            shape=(None, None, self.fc1.in_features),
            kind="float",
            hint="time-major input spikes (T, batch, n_in)",
        )
        spk1, _ = leaky_scan(self.lif1, self.fc1(spikes_in))
        spk2, mem2 = leaky_scan(self.lif2, self.fc2(spk1))
        return {"spk1": spk1, "mem2": mem2[..., 0], "spk2": spk2[..., 0]}


def ramp_target(
    num_steps: int = 100, spike_time: int = 75, *, ramp_to: float = 0.8, peak: float = 1.25
) -> torch.Tensor:
    """Membrane target in units of the threshold: ``(num_steps,)``.

    A linear ramp from 0 to ``ramp_to`` (< 1, below threshold) during steps
    ``0 .. spike_time - 1``, ``peak`` (> 1, a spike) at ``spike_time``, and 0
    afterwards. (The authors' target is :func:`latency_target`.)
    """
    num_steps = checks.integer("num_steps", num_steps, low=2)
    spike_time = checks.integer("spike_time", spike_time, low=1, high=num_steps - 1)
    ramp_to = checks.number("ramp_to", ramp_to, high=1.0, high_open=True)
    peak = checks.number("peak", peak, low=1.0, low_open=True)
    target = torch.zeros(num_steps)
    target[:spike_time] = torch.linspace(0.0, ramp_to, spike_time)
    target[spike_time] = peak
    return target


def latency_target(
    num_steps: int = 100, spike_time: int = 75, *, peak: float = 1.05
) -> torch.Tensor:
    """The authors' membrane target: a ramp from 0 that reaches ``peak`` at ``spike_time``, then 0.

    ``target[t] = peak * t / spike_time`` for ``t <= spike_time`` and 0 after,
    shape ``(num_steps,)``. This is ``snntorch.spikegen.targets_latency(...,
    first_spike_time=spike_time, on_target=peak, interpolate=True)``, which the
    authors' notebook uses with ``peak = 1.05`` for threshold 1 and
    ``peak = 1.1 * 50 = 55`` for a final threshold of 50. The target is in the
    membrane's own units (not divided by the threshold).
    """
    num_steps = checks.integer("num_steps", num_steps, low=2)
    spike_time = checks.integer("spike_time", spike_time, low=1, high=num_steps - 1)
    peak = checks.positive("peak", peak)
    target = spikegen.targets_latency(
        torch.zeros(1),
        num_classes=1,
        num_steps=num_steps,
        first_spike_time=spike_time,
        on_target=peak,
        interpolate=True,
    )
    return target[:, 0, 0].float()


def train_temporal(
    net: TemporalCodingNet,
    spikes_in: torch.Tensor,
    target: torch.Tensor,
    *,
    iterations: int,
    lr: float = 1e-3,
    momentum: float | None = 0.9,
    normalize: bool = False,
    after_step: Callable[[int], None] | None = None,
    on_forward: Callable[[int, dict[str, torch.Tensor]], None] | None = None,
    desc: str = "training",
) -> list[float]:
    """Fit the output membrane of ``net`` to ``target``; return the loss of every iteration.

    The loss is the mean squared error over the time steps,
    ``mean_t (U[t] - target[t])^2``, on the raw membrane as in the authors'
    notebook (``normalize=True`` divides ``U`` by the current output threshold
    instead, for a target in threshold units such as :func:`ramp_target`). The
    optimizer is SGD with the given ``momentum`` (the paper: learning rate
    1e-3, momentum 0.9), or Adam if ``momentum`` is None. ``on_forward(i, rec)``
    sees the forward pass of iteration ``i`` (0-based, before its update; ``rec``
    as from :meth:`TemporalCodingNet.run`); ``after_step(i + 1)`` runs after each
    optimizer step (threshold annealing).
    """
    if not isinstance(net, TemporalCodingNet):
        raise TypeError(f"net must be a TemporalCodingNet, got {type(net).__name__}")
    checks.tensor("spikes_in", spikes_in, ndim=3, kind="float")
    checks.tensor("target", target, ndim=1, kind="float")
    checks.finite_values("target", target)
    checks.same_length(spikes_in=spikes_in, target=target)
    iterations = checks.positive_int("iterations", iterations)
    lr = checks.positive("lr", lr)
    if momentum is not None:
        momentum = checks.number("momentum", momentum, low=0.0, high=1.0, high_open=True)
    normalize = checks.boolean("normalize", normalize)
    if after_step is not None:
        checks.callable_("after_step", after_step)
    if on_forward is not None:
        checks.callable_("on_forward", on_forward)
    if momentum is None:
        optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    else:
        optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    target = target.to(spikes_in.device)[:, None]
    losses = []
    for step in tqdm(range(iterations), desc=desc, mininterval=1.0):
        rec = net.run(spikes_in)
        mem = rec["mem2"] / net.lif2.threshold if normalize else rec["mem2"]
        loss = ((mem - target) ** 2).mean()
        if on_forward is not None:
            on_forward(step, {k: v.detach() for k, v in rec.items()})
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if after_step is not None:
            after_step(step + 1)
        losses.append(loss.detach())
    return torch.stack(losses).tolist()


def plot_temporal_runs(
    runs: Mapping[str, Mapping[str, torch.Tensor]], target: torch.Tensor, *, hidden_shown: int = 100
) -> Figure:
    """Output membrane (threshold units, with the target) above a hidden raster, per setting.

    ``runs`` maps a setting's name to the dict of :meth:`TemporalCodingNet.run`
    plus its output ``"threshold"``.
    """
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError("runs must be a non-empty dict {name: record}")
    checks.tensor("target", target, ndim=1, kind="real")
    hidden_shown = checks.positive_int("hidden_shown", hidden_shown)
    fig, axes = new_figure(ncols=len(runs), nrows=2, figsize=(2.6 * len(runs), 4.8), sharex=True)
    shown_target = target.detach().cpu()
    for col, (name, rec) in enumerate(runs.items()):
        ax = axes[0, col]
        u = rec["mem2"][:, 0].detach().cpu() / float(rec["threshold"])
        ax.plot(shown_target.numpy(), color="0.6", ls="--", lw=1, label="target")
        ax.plot(u.numpy(), lw=1.0, label=r"$U / \theta$")
        spikes = torch.nonzero(rec["spk2"][:, 0].detach().cpu()).flatten().numpy()
        ax.plot(spikes, [1.0] * len(spikes), "|", ms=12, color="k", label="spikes")
        ax.axhline(1.0, color="0.3", lw=0.6)
        ax.set_title(name, fontsize=9)
        lim = max(2.0, min(float(u.abs().max()) * 1.05, 50.0))
        ax.set_ylim(-lim, lim)
        if col == 0:
            ax.set_ylabel(r"output $U / \theta$")
            ax.legend(fontsize=7, loc="lower left")
        raster(rec["spk1"][:, 0, :hidden_shown].detach().cpu(), ax=axes[1, col])
        if col > 0:
            axes[1, col].set_ylabel("")
    return fig


def plot_temporal_snapshots(
    snapshots: Mapping[str, Mapping[int, Mapping[str, object]]],
    targets: Mapping[str, Sequence[float]],
) -> Figure:
    """The output membrane of each setting (rows) at several training iterations (columns).

    ``snapshots[setting][iteration]`` holds ``"mem"`` (the output membrane over
    time, raw units), ``"spikes"`` (output spike times) and ``"threshold"`` (the
    output threshold at that iteration); ``targets[setting]`` is the membrane
    target of that setting. Each panel shows the target (dashed), the membrane,
    the threshold (thin line) and a tick per output spike, as the paper's
    figure does.
    """
    if not isinstance(snapshots, Mapping) or not snapshots:
        raise ValueError("snapshots must be a non-empty dict {setting: {iteration: record}}")
    settings = list(snapshots)
    iterations = sorted(next(iter(snapshots.values())))
    fig, axes = new_figure(
        ncols=len(iterations),
        nrows=len(settings),
        figsize=(2.2 * len(iterations) + 0.6, 1.75 * len(settings) + 0.4),
        sharex=True,
    )
    for row, name in enumerate(settings):
        if name not in targets:
            raise ValueError(f"targets lacks the setting {name!r}")
        target = [float(v) for v in targets[name]]
        top = max(max(target), max(float(snapshots[name][i]["threshold"]) for i in iterations))
        for col, it in enumerate(iterations):
            ax = axes[row, col]
            snap = snapshots[name][it]
            ax.plot(target, color="0.55", ls="--", lw=1)
            ax.plot([float(v) for v in snap["mem"]], color=COLORS[0], lw=1.0)
            ax.axhline(float(snap["threshold"]), color="0.3", lw=0.6)
            spikes = [int(v) for v in snap["spikes"]]
            ax.plot(spikes, [1.1 * top] * len(spikes), "|", ms=8, color=COLORS[1])
            ax.set_ylim(-0.35 * top, 1.25 * top)
            ax.tick_params(labelsize=7)
            if row == 0:
                ax.set_title(f"iteration {it}", fontsize=9)
            if col == 0:
                ax.set_ylabel(name, fontsize=8)
            if row == len(settings) - 1:
                ax.set_xlabel("time step", fontsize=8)
    return fig
