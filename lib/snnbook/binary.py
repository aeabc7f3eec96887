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
their spiking networks. As they do, the latent weights start Glorot-uniform,
:math:`w \\sim U(-s, s)` with :math:`s = \\sqrt{1.5 / (\\text{fan\\_in} + \\text{fan\\_out})}`
(only the signs matter in the forward pass, the scale sets how quickly the
optimizer can flip them), and the layers have no bias by default.

A binarized layer's output is a sum of :math:`\\pm 1` terms, so its size grows
like :math:`\\sqrt{\\text{fan\\_in}}`: the spiking neuron after it needs a much
higher threshold than after a full-precision layer (chapter 4).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import snntorch as snn
import torch
from matplotlib.figure import Figure
from snntorch import surrogate
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from .lif import run_leaky
from .plotting import new_figure, raster

__all__ = [
    "SignSTE",
    "binarize",
    "BinaryLinear",
    "BinaryConv2d",
    "BinaryConvSNN",
    "TemporalCodingNet",
    "ramp_target",
    "train_temporal",
    "plot_temporal_runs",
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
    if not isinstance(w, torch.Tensor):
        raise TypeError(f"binarize expects a torch.Tensor, got {type(w).__name__}")
    return SignSTE.apply(w)


def _glorot_uniform_(weight: torch.Tensor, fan_in: int, fan_out: int) -> None:
    bound = math.sqrt(1.5 / (fan_in + fan_out))
    with torch.no_grad():
        weight.uniform_(-bound, bound)


class BinaryLinear(nn.Linear):
    """``nn.Linear`` that computes with ``sign(weight)``; gradients pass straight through.

    ``y = x @ sign(W).T (+ b)``. The latent ``weight`` stays real-valued and is
    what the optimizer updates; :meth:`binary_weight` gives the +-1 matrix used.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = False) -> None:
        super().__init__(in_features, out_features, bias=bias)
        _glorot_uniform_(self.weight, in_features, out_features)

    def binary_weight(self) -> torch.Tensor:
        """The +-1 weights used in the forward pass."""
        return binarize(self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x @ sign(W).T + b``."""
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
        super().__init__(
            in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=bias
        )
        receptive = self.weight[0, 0].numel()
        _glorot_uniform_(self.weight, in_channels * receptive, out_channels * receptive)

    def binary_weight(self) -> torch.Tensor:
        """The +-1 kernels used in the forward pass."""
        return binarize(self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Convolution of ``x`` with ``sign(W)`` (plus the bias, if any)."""
        return self._conv_forward(x, self.binary_weight(), self.bias)


def _leaky(beta: float, threshold: float, slope: float) -> snn.Leaky:
    return snn.Leaky(
        beta=beta, threshold=float(threshold), spike_grad=surrogate.fast_sigmoid(slope=slope)
    )


class BinaryConvSNN(nn.Module):
    """The convolutional SNN of Eshraghian & Lu, with binarized or full-precision weights.

    ``Conv(1->16, 5) -> AvgPool(2) -> BN -> LIF -> Conv(16->64, 5) -> AvgPool(2) -> BN -> LIF
    -> Linear(1024 -> 10) -> LIF``. The image is fed unchanged at each of
    ``num_steps`` steps (direct encoding); the score of a class is its output
    spike count. Because the network is feedforward, each layer is run for all
    time steps before the next one, and each convolution sees all time steps in
    one batched call (the same spikes as a step-by-step simulation; batch-norm
    statistics are pooled over time and batch). The LIF layers have decay
    ``beta`` and a fast-sigmoid surrogate of the given ``slope`` (a wide one by
    default: membranes behind binarized layers move in large steps).
    ``thresholds`` holds one initial threshold per LIF layer; :attr:`lifs` lists the layers (for
    :class:`snnbook.annealing.ThresholdAnnealer` and
    :class:`snnbook.activity.ActivityProbe`).
    """

    def __init__(
        self,
        *,
        binary: bool = True,
        thresholds: tuple[float, float, float] = (1.0, 1.0, 1.0),
        num_steps: int = 10,
        beta: float = 0.9,
        slope: float = 1.0,
    ) -> None:
        super().__init__()
        if len(thresholds) != 3:
            raise ValueError(f"give one threshold per LIF layer (3), got {len(thresholds)}")
        if num_steps < 1:
            raise ValueError(f"num_steps must be >= 1, got {num_steps}")
        conv = BinaryConv2d if binary else nn.Conv2d
        linear = BinaryLinear if binary else nn.Linear
        self.num_steps = num_steps
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
        """Time-major spikes of every layer: ``spk1`` (T, B, 16, 12, 12), ``spk2``, ``spk3``."""
        if x.ndim != 4 or x.shape[1:] != (1, 28, 28):
            raise ValueError(f"expected images of shape (B, 1, 28, 28), got {tuple(x.shape)}")
        steps, batch = self.num_steps, len(x)
        c1 = self.bn1(F.avg_pool2d(self.conv1(x), 2))  # the same current at every step
        spk1 = run_leaky(self.lif1, c1.expand(steps, *c1.shape))
        c2 = self.bn2(F.avg_pool2d(self.conv2(spk1.flatten(0, 1)), 2))
        spk2 = run_leaky(self.lif2, c2.unflatten(0, (steps, batch)))
        c3 = self.fc(spk2.flatten(2))
        spk3 = run_leaky(self.lif3, c3)
        return {"spk1": spk1, "spk2": spk2, "spk3": spk3}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Output spike counts ``(batch, 10)``, used as class scores."""
        return self.run(x)["spk3"].sum(0)


class TemporalCodingNet(nn.Module):
    """The spike-timing toy of Eshraghian & Lu: ``n_in`` Poisson inputs -> ``hidden`` LIF -> 1 LIF.

    Fully connected, binarized (``binary=True``) or full precision, with one
    threshold per LIF layer (``thresholds``), decay ``beta`` and a fast-sigmoid
    surrogate of the given ``slope``. :meth:`run` takes time-major input spikes
    ``(T, batch, n_in)`` and returns the hidden spikes and the output neuron's
    membrane and spikes.
    """

    def __init__(
        self,
        *,
        binary: bool = True,
        thresholds: tuple[float, float] = (1.0, 1.0),
        n_in: int = 100,
        hidden: int = 1000,
        beta: float = 0.15,
        slope: float = 5.0,
    ) -> None:
        super().__init__()
        if len(thresholds) != 2:
            raise ValueError(f"give one threshold per LIF layer (2), got {len(thresholds)}")
        linear = BinaryLinear if binary else nn.Linear
        self.fc1 = linear(n_in, hidden, bias=False)
        self.lif1 = _leaky(beta, thresholds[0], slope)
        self.fc2 = linear(hidden, 1, bias=False)
        self.lif2 = _leaky(beta, thresholds[1], slope)

    @property
    def lifs(self) -> list[snn.Leaky]:
        """The two spiking layers, input to output."""
        return [self.lif1, self.lif2]

    def run(self, spikes_in: torch.Tensor) -> dict[str, torch.Tensor]:
        """``spk1`` (T, B, hidden), ``mem2`` and ``spk2`` (T, B) for input spikes (T, B, n_in)."""
        if spikes_in.ndim != 3 or spikes_in.shape[2] != self.fc1.in_features:
            raise ValueError(
                f"expected input spikes (T, batch, {self.fc1.in_features}), "
                f"got {tuple(spikes_in.shape)}"
            )
        spk1 = run_leaky(self.lif1, self.fc1(spikes_in))
        mem = self.lif2.init_leaky()
        mems, spks = [], []
        for c in self.fc2(spk1).unbind(0):
            spk, mem = self.lif2(c, mem)
            mems.append(mem)
            spks.append(spk)
        return {"spk1": spk1, "mem2": torch.stack(mems)[..., 0], "spk2": torch.stack(spks)[..., 0]}


def ramp_target(
    num_steps: int = 100, spike_time: int = 75, *, ramp_to: float = 0.8, peak: float = 1.25
) -> torch.Tensor:
    """Membrane target of the spike-timing toy, in units of the threshold: ``(num_steps,)``.

    The output neuron should charge up along a linear ramp from 0 to ``ramp_to``
    (< 1, below threshold) during steps ``0 .. spike_time - 1``, reach ``peak``
    (> 1, a spike) at ``spike_time``, and rest at 0 afterwards.
    """
    if not 0 < spike_time < num_steps:
        raise ValueError(f"spike_time must be in (0, num_steps={num_steps}), got {spike_time}")
    if not (ramp_to < 1.0 < peak):
        raise ValueError(f"need ramp_to < 1 < peak (threshold units), got {ramp_to} and {peak}")
    target = torch.zeros(num_steps)
    target[:spike_time] = torch.linspace(0.0, ramp_to, spike_time)
    target[spike_time] = peak
    return target


def train_temporal(
    net: TemporalCodingNet,
    spikes_in: torch.Tensor,
    target: torch.Tensor,
    *,
    iterations: int,
    lr: float = 5e-3,
    momentum: float | None = None,
    after_step: Callable[[int], None] | None = None,
    desc: str = "training",
) -> list[float]:
    """Fit the output membrane of ``net`` to ``target`` (in threshold units).

    The loss is the mean squared error ``mean_t (U[t] / theta_out - target[t])^2``
    over the time steps; dividing by the current output threshold keeps the loss
    comparable between thresholds, and while they are annealed. Returns the loss
    of every iteration; ``after_step(step)`` runs after each optimizer step. The
    optimizer is Adam, or SGD with the given ``momentum`` (as in the paper).
    """
    if spikes_in.ndim != 3 or spikes_in.shape[0] != len(target):
        raise ValueError("spikes_in must be (T, batch, n_in) with T == len(target)")
    if momentum is None:
        optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    else:
        optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    losses = []
    for step in tqdm(range(1, iterations + 1), desc=desc, mininterval=1.0):
        mem = net.run(spikes_in)["mem2"]
        loss = ((mem / net.lif2.threshold - target[:, None]) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if after_step is not None:
            after_step(step)
        losses.append(loss.item())
    return losses


def plot_temporal_runs(
    runs: dict[str, dict[str, torch.Tensor]], target: torch.Tensor, *, hidden_shown: int = 100
) -> Figure:
    """Output membrane (threshold units, with the target) above a hidden raster, per setting.

    ``runs`` maps a setting's name to the dict of :meth:`TemporalCodingNet.run`
    plus its output ``"threshold"``.
    """
    fig, axes = new_figure(ncols=len(runs), nrows=2, figsize=(2.6 * len(runs), 4.8), sharex=True)
    for col, (name, rec) in enumerate(runs.items()):
        ax = axes[0, col]
        u = rec["mem2"][:, 0] / float(rec["threshold"])
        ax.plot(target.numpy(), color="0.6", ls="--", lw=1, label="target")
        ax.plot(u.numpy(), lw=1.0, label=r"$U / \theta$")
        spikes = torch.nonzero(rec["spk2"][:, 0]).flatten().numpy()
        ax.plot(spikes, [1.0] * len(spikes), "|", ms=12, color="k", label="spikes")
        ax.axhline(1.0, color="0.3", lw=0.6)
        ax.set_title(name, fontsize=9)
        lim = max(2.0, min(float(u.abs().max()) * 1.05, 50.0))
        ax.set_ylim(-lim, lim)
        if col == 0:
            ax.set_ylabel(r"output $U / \theta$")
            ax.legend(fontsize=7, loc="lower left")
        raster(rec["spk1"][:, 0, :hidden_shown], ax=axes[1, col])
        if col > 0:
            axes[1, col].set_ylabel("")
    return fig
