"""Threshold annealing: raise firing thresholds gradually during training.

Eshraghian & Lu :cite:`eshraghian2022fine` train spiking networks with binarized
weights. A binarized neuron needs a *high* threshold so that its membrane can
count many :math:`\\pm 1` inputs before it fires, but a high threshold from the
first step silences the deeper layers (no spikes in, no spikes out, no
gradient). Their fix is a warm-up of the thresholds: after **every optimizer
step**, each layer's threshold relaxes exponentially toward its target,

.. math::

    \\theta_l \\leftarrow \\theta_l + \\alpha_l\\,(\\theta_{l,\\mathrm{target}} - \\theta_l),

so that after :math:`n` steps

.. math::

    \\theta_l[n] = \\theta_{l,\\mathrm{target}}
        + (\\theta_{l,0} - \\theta_{l,\\mathrm{target}})\\,(1 - \\alpha_l)^n .

The targets given here are **absolute** thresholds. (The reference code stores
the final value as an *offset* from the initial one and adds the two in another
file; passing such an offset here would anneal toward the offset itself.)

The annealer works on any module with a ``threshold`` tensor, such as
``snntorch.Leaky``, where the threshold is a registered buffer (or a parameter
when ``learn_threshold=True``); it is updated in place, so it is saved in the
model's ``state_dict``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from . import checks
from .plotting import COLORS, new_figure

__all__ = ["ThresholdAnnealer", "annealed_threshold", "steps_to_fraction", "plot_schedule"]

_ALPHA_HINT = "the fraction of the gap closed per step, e.g. 0.01"


def _alpha(name: str, alpha: object) -> float:
    return checks.number(name, alpha, low=0.0, high=1.0, low_open=True, hint=_ALPHA_HINT)


def annealed_threshold(theta0: float, target: float, alpha: float, steps: int) -> float:
    """Closed form of the schedule: ``target + (theta0 - target) * (1 - alpha) ** steps``."""
    theta0 = checks.positive("theta0", theta0)
    target = checks.positive("target", target)
    alpha = _alpha("alpha", alpha)
    steps = checks.nonnegative_int("steps", steps)
    return target + (theta0 - target) * (1.0 - alpha) ** steps


def steps_to_fraction(alpha: float, fraction: float = 0.95) -> int:
    """Optimizer steps until the threshold has covered ``fraction`` of the way to its target.

    The smallest ``n`` with ``1 - (1 - alpha) ** n >= fraction``:
    ``ceil(ln(1 - fraction) / ln(1 - alpha))``, about ``3 / alpha`` for 95%.
    """
    alpha = _alpha("alpha", alpha)
    fraction = checks.number("fraction", fraction, low=0.0, high=1.0, low_open=True, high_open=True)
    if alpha == 1.0:
        return 1
    # a small tolerance keeps exact cases (alpha = 0.5, fraction = 0.75 -> 2) exact
    return math.ceil(math.log(1.0 - fraction) / math.log(1.0 - alpha) - 1e-9)


class ThresholdAnnealer:
    """Anneal the thresholds of spiking layers toward their targets, one step at a time.

    Parameters
    ----------
    neurons:
        the spiking layers, e.g. ``[net.lif1, net.lif2, net.lif3]``; each must have
        a floating-point ``threshold`` tensor (``snntorch.Leaky`` has one).
    targets:
        one absolute target threshold per layer (not an offset), each > 0.
    alphas:
        one rate per layer, each in (0, 1]; ``alpha = 1`` jumps to the target at
        the first step. A rate of about ``5 / total_steps`` gets within 1% of the
        target by the end of training.

    Call :meth:`step` once after every ``optimizer.step()`` (for example as the
    ``after_step`` hook of :func:`snnbook.training.fit`). The update runs on the
    thresholds' own device, with no read-back to the host.
    """

    def __init__(
        self,
        neurons: Sequence[nn.Module],
        targets: Sequence[float],
        alphas: Sequence[float],
    ) -> None:
        for name, value in (("neurons", neurons), ("targets", targets), ("alphas", alphas)):
            if isinstance(value, str | bytes | nn.Module) or not isinstance(value, Sequence):
                raise TypeError(
                    f"{name} must be a list with one entry per layer, got {type(value).__name__}"
                )
        neurons, targets, alphas = list(neurons), list(targets), list(alphas)
        if not neurons:
            raise ValueError("neurons is empty: give at least one spiking layer to anneal")
        if not (len(neurons) == len(targets) == len(alphas)):
            raise ValueError(
                "neurons, targets and alphas must have one entry per layer; got "
                f"{len(neurons)} neurons, {len(targets)} targets, {len(alphas)} alphas"
            )
        for i, neuron in enumerate(neurons):
            threshold = getattr(neuron, "threshold", None)
            if not isinstance(threshold, torch.Tensor):
                raise TypeError(
                    f"neurons[{i}] ({type(neuron).__name__}) has no `threshold` tensor; "
                    "pass spiking layers such as snntorch.Leaky"
                )
            if not threshold.is_floating_point():
                raise TypeError(
                    f"neurons[{i}] has an integer threshold ({threshold.dtype}), which cannot "
                    "hold annealed values; create it with a float, e.g. threshold=5.0"
                )
        self.neurons = neurons
        self.targets = [
            checks.positive(
                f"targets[{i}]", t, hint="an absolute threshold (add the offset if you have one)"
            )
            for i, t in enumerate(targets)
        ]
        self.alphas = [_alpha(f"alphas[{i}]", a) for i, a in enumerate(alphas)]
        #: number of calls to :meth:`step` so far
        self.steps = 0

    @torch.no_grad()
    def step(self) -> None:
        """Move every threshold a fraction ``alpha`` of the way to its target (in place)."""
        for neuron, target, alpha in zip(self.neurons, self.targets, self.alphas, strict=True):
            threshold = neuron.threshold
            threshold.add_(alpha * (target - threshold))
        self.steps += 1

    def thresholds(self) -> list[float]:
        """The current threshold of every layer (the mean, if a layer has one per neuron)."""
        return [float(n.threshold.float().mean()) for n in self.neurons]

    def __repr__(self) -> str:
        now = ", ".join(f"{t:.3g}" for t in self.thresholds())
        return f"ThresholdAnnealer(steps={self.steps}, thresholds=[{now}], targets={self.targets})"


def plot_schedule(theta0: float, target: float, alpha: float, *, steps: int = 600) -> Figure:
    """The threshold over ``steps`` optimizer steps, with the 95 % mark of the schedule."""
    theta0 = checks.positive("theta0", theta0)
    target = checks.positive("target", target)
    alpha = _alpha("alpha", alpha)
    steps = checks.positive_int("steps", steps)
    n = np.arange(steps + 1)
    theta = target + (theta0 - target) * (1.0 - alpha) ** n
    fig, axes = new_figure(figsize=(7, 3))
    ax = axes[0, 0]
    ax.plot(n, theta, lw=1.5, label=r"$\theta[n]$")
    ax.axhline(target, color="0.4", ls="--", lw=1, label="target")
    n95 = steps_to_fraction(alpha, 0.95)
    if n95 <= steps:
        ax.axvline(n95, color=COLORS[1], lw=1, ls=":", label=f"95% of the way: step {n95}")
    ax.set(xlabel="optimizer step $n$", ylabel="threshold", ylim=(0, 1.1 * max(theta0, target)))
    ax.set_title(rf"$\theta_0$ = {theta0:g}, target {target:g}, $\alpha$ = {alpha:g}")
    ax.legend(loc="lower right", fontsize=8)
    return fig
