"""The hybrid-spiking LMU: a linear memory that stays exact, a hidden layer that spikes.

Voelker, Kajić and Eliasmith's LMU cell :cite:`voelker2019lmu`, as used for
psMNIST (memory driven by the input only, hidden state recurrent), with the
hidden nonlinearity replaced by the spiking quantizer with error diffusion of
Voelker, Rasmussen and Eliasmith :cite:`voelker2020spike`. At every step ``t``
of the sequence:

.. math::

    u_t &= e_x\\, x_t, \\qquad m_t = \\bar A\\, m_{t-1} + \\bar B\\, u_t,\\\\
    r_t &= \\max\\!\\big(0,\\; W_m m_t + W_x x_t + W_h a_{t-1} + b\\big),\\\\
    v_t &= v_{t-1} + dt\\, r_t - n_t, \\qquad n_t = \\lfloor v_{t-1} + dt\\, r_t \\rfloor,
    \\qquad a_t = n_t / dt,

and the class scores are ``W_o`` times the mean of ``a_t`` over the last
``window`` steps. ``n_t`` is the whole number of spikes neuron by neuron in
step ``t``; ``v`` keeps what could not be sent (error diffusion), starting from
a random phase ``v_{-1} ~ U[0, 1)``. With ``dt = inf`` the layer is the ordinary
(non-spiking) ReLU network, ``a_t = r_t``. In training, the backward pass treats
``a_t`` as ``r_t`` (straight-through), the paper's spiking-aware training.

The memory is linear and driven by the input alone, so it is computed for the
whole sequence at once (FFT, :func:`snnbook.lmu.memory`); the hidden layer is
recurrent and spiking, so it runs step by step. The spikes carry everything the
readout sees, through all steps of the sequence and through the recurrence.

With a ReLU, ``dt`` is a weight scale: multiplying ``W_m, W_x, b`` by ``c`` and
``W_o`` by ``1/c`` while dividing ``dt`` by ``c`` gives the same spikes and the
same scores. Settings are therefore compared at a matched number of spikes per
image (:func:`accuracy_at_budget`), not at a matched ``dt``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from snnbook import checks, lmu

__all__ = [
    "QuantizerState",
    "spike_step",
    "HybridLMU",
    "SpikeReport",
    "evaluate_spiking",
    "geometric_schedule",
    "accuracy_at_budget",
    "plot_budget_curves",
]


class QuantizerState(NamedTuple):
    """State carried by the quantizer from one step to the next."""

    v: torch.Tensor  #: the fraction of a spike not yet sent, in [0, 1)


def spike_step(
    rate: torch.Tensor, state: QuantizerState, dt: float
) -> tuple[torch.Tensor, torch.Tensor, QuantizerState]:
    """One step of the quantizer with error diffusion, straight-through in backward.

    ``v + dt * rate`` is split into ``n = floor(v + dt * rate)`` whole spikes and
    the remainder, which is kept. Returns ``(a, n, new_state)`` with
    ``a = n / dt`` in the forward pass and ``da/drate = 1`` in the backward pass.
    ``rate`` must be non-negative (a ReLU output); ``dt`` finite and > 0.
    """
    if not isinstance(state, QuantizerState):
        raise TypeError(f"state must be a QuantizerState, got {type(state).__name__}")
    dt = checks.positive("dt", dt, hint="spikes need a finite step length")
    total = state.v + dt * rate.detach()
    n = torch.floor(total)
    a = rate + (n / dt - rate).detach()
    return a, n, QuantizerState(total - n)


class HybridLMU(nn.Module):
    """LMU classifier with a recurrent hidden layer that spikes at every step (see module).

    Parameters
    ----------
    hidden_size, order, theta, classes:
        hidden neurons, memory order ``d``, window ``theta`` (steps), classes.
    permutation:
        fixed pixel order (``snnbook.lmu.fixed_permutation``) or ``None``.
    window:
        the readout averages ``a_t`` over this many final steps.
    dt:
        step length of the quantizer; ``math.inf`` = non-spiking. Change it
        between optimizer steps with ``model.dt = ...``.
    seed:
        seeds the random initial phases ``v_{-1}``, the same on every call.
    record:
        keep the spike counts of the last forward pass in ``self.counts``
        (``(T, batch, hidden)``, detached).

    Input: images ``(N, 1, H, W)`` or ``(N, H, W)``; output: scores ``(N, classes)``.
    """

    def __init__(
        self,
        hidden_size: int = 96,
        order: int = 64,
        theta: float = 196.0,
        classes: int = 10,
        *,
        permutation: torch.Tensor | None = None,
        window: int = 4,
        dt: float = math.inf,
        seed: int = 0,
        record: bool = False,
    ) -> None:
        super().__init__()
        self.hidden_size = checks.positive_int("hidden_size", hidden_size)
        self.order = checks.positive_int("order", order)
        self.theta = checks.positive("theta", theta)
        classes = checks.integer("classes", classes, low=2)
        self.window = checks.positive_int("window", window)
        self.seed = checks.nonnegative_int("seed", seed)
        self.record = checks.boolean("record", record)
        if permutation is not None:
            checks.tensor("permutation", permutation, ndim=1, kind="integer")
        self.dt = dt
        self.encoder = nn.Parameter(torch.ones(()))  # e_x
        self.memory_kernel = nn.Linear(self.order, self.hidden_size)  # W_m, b
        self.input_kernel = nn.Linear(1, self.hidden_size, bias=False)  # W_x
        self.recurrent_kernel = nn.Linear(self.hidden_size, self.hidden_size, bias=False)  # W_h
        self.readout = nn.Linear(self.hidden_size, classes)
        self.register_buffer("permutation", permutation, persistent=False)
        self.counts: torch.Tensor | None = None

    @property
    def dt(self) -> float:
        """Quantizer step length (``math.inf``: non-spiking)."""
        return self._dt

    @dt.setter
    def dt(self, value: float) -> None:
        if isinstance(value, float) and value == math.inf:
            self._dt = math.inf
        else:
            self._dt = checks.positive("dt", value, hint="or math.inf for the non-spiking network")

    @property
    def spiking(self) -> bool:
        return not math.isinf(self.dt)

    def initial_state(self, batch: int, like: torch.Tensor) -> QuantizerState:
        """Random phases ``U[0, 1)``, drawn on the host with ``seed`` (the same on any device)."""
        gen = torch.Generator().manual_seed(self.seed)
        v = torch.rand(batch, self.hidden_size, generator=gen)
        return QuantizerState(v.to(dtype=like.dtype, device=like.device))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        checks.tensor("images", images, ndim=(3, 4), kind="float")
        x = lmu.pixel_sequence(images, self.permutation)  # (T, B, 1)
        if x.shape[0] < self.window:
            raise ValueError(f"the sequence ({x.shape[0]} steps) is shorter than window")
        m = lmu.memory(x[..., 0] * self.encoder, self.order, self.theta)  # (T, B, d), parallel
        drive = (self.memory_kernel(m) + self.input_kernel(x)).unbind(0)  # one node, not T
        a = x.new_zeros(x.shape[1], self.hidden_size)
        state = self.initial_state(x.shape[1], x) if self.spiking else None
        outputs, counts = [], []
        for t, z in enumerate(drive):
            rate = torch.relu(z + self.recurrent_kernel(a))
            if state is None:
                a = rate
            else:
                a, n, state = spike_step(rate, state, self.dt)
                if self.record:
                    counts.append(n)
            if t >= len(drive) - self.window:
                outputs.append(a)
        self.counts = torch.stack(counts) if counts else None
        return self.readout(torch.stack(outputs).mean(0))

    def extra_repr(self) -> str:
        return f"order={self.order}, theta={self.theta:g}, window={self.window}, dt={self.dt:g}"


class SpikeReport(NamedTuple):
    """What :func:`evaluate_spiking` measured at one ``dt``."""

    dt: float
    accuracy: float
    spikes_per_image: float  #: hidden spikes over all steps of the sequence, per image
    bits_per_activity: float
    significant_bits: float
    max_count: int  #: the largest number of spikes one neuron sent in one step


@torch.no_grad()
def evaluate_spiking(
    model: HybridLMU,
    x: torch.Tensor,
    y: torch.Tensor,
    dt: float,
    *,
    batch_size: int = 500,
    bits_images: int = 1000,
) -> SpikeReport:
    """Accuracy and spike statistics of ``model`` run at ``dt`` on ``(x, y)``.

    Spikes per image count every hidden spike of every step. Bits per activity
    and significant bits per multiply (:mod:`snnbook.quantizers`) are measured on
    the first ``bits_images`` images. ``model.dt`` is restored afterwards.
    """
    from snnbook import quantizers

    if not isinstance(model, HybridLMU):
        raise TypeError(f"model must be a HybridLMU, got {type(model).__name__}")
    checks.tensor("x", x, ndim=(3, 4), kind="float")
    checks.labels("y", y)
    checks.same_length(x=x, y=y)
    batch_size = checks.positive_int("batch_size", batch_size)
    bits_images = checks.positive_int("bits_images", bits_images)
    dt = checks.positive("dt", dt, hint="a finite step length; use training.evaluate for dt = inf")
    old_dt, old_record, was_training = model.dt, model.record, model.training
    model.dt = dt
    model.eval()
    model.record = True
    correct, spikes, kept = 0, 0.0, []
    try:
        for start in range(0, len(y), batch_size):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            correct += int((model(xb).argmax(-1) == yb).sum())
            spikes += float(model.counts.sum())
            if start < bits_images:
                kept.append(model.counts[:, : bits_images - start])
    finally:
        model.dt, model.record = old_dt, old_record
        model.counts = None
        model.train(was_training)
    counts = torch.cat(kept, dim=1)
    return SpikeReport(
        dt=float(dt),
        accuracy=correct / len(y),
        spikes_per_image=spikes / len(y),
        bits_per_activity=quantizers.bits_per_activity(counts),
        significant_bits=quantizers.significant_bits_per_multiply(counts),
        max_count=int(counts.max()),
    )


def geometric_schedule(
    start: float, stop: float, steps: int, *, fraction: float = 0.7
) -> Callable[[int], float]:
    """``dt(step)`` falling geometrically from ``start`` to ``stop`` over the first
    ``fraction`` of ``steps`` optimizer steps, then constant (the interpolation from
    the non-spiking towards the spiking regime of :cite:`voelker2020spike`)."""
    start = checks.positive("start", start)
    stop = checks.positive("stop", stop)
    steps = checks.positive_int("steps", steps)
    fraction = checks.number("fraction", fraction, low=0.0, high=1.0, low_open=True)

    def dt(step: int) -> float:
        progress = min(step / (fraction * steps), 1.0)
        return start * (stop / start) ** progress

    return dt


def accuracy_at_budget(reports: Sequence[SpikeReport], budget: float) -> float:
    """Accuracy at ``budget`` spikes per image, interpolated linearly in log(spikes)
    between the two measured ``dt`` that bracket it; ``nan`` outside the measured range."""
    budget = checks.positive("budget", budget)
    if not reports or not all(isinstance(r, SpikeReport) for r in reports):
        raise TypeError("reports must be a non-empty list of SpikeReport (evaluate_spiking)")
    pts = sorted((r.spikes_per_image, r.accuracy) for r in reports if r.spikes_per_image > 0)
    if not pts or not pts[0][0] <= budget <= pts[-1][0]:
        return math.nan
    s = np.log([p[0] for p in pts])
    return float(np.interp(math.log(budget), s, [p[1] for p in pts]))


def plot_budget_curves(
    curves: dict[str, Sequence[Sequence[SpikeReport]]],
    *,
    reference: float | None = None,
    budgets: Sequence[float] = (),
    figsize: tuple[float, float] = (6.5, 3.2),
) -> Figure:
    """Accuracy against spikes per image, one colour per setting and one thin line per seed
    (``curves[name]`` is a list, over seeds, of reports at several ``dt``)."""
    from snnbook.plotting import COLORS, new_figure

    if not isinstance(curves, dict) or not curves:
        raise TypeError("curves must be a non-empty dict: setting -> list (seeds) of reports")
    fig, axes = new_figure(1, figsize=figsize)
    ax = axes[0, 0]
    for i, (name, seeds) in enumerate(curves.items()):
        for j, reports in enumerate(seeds):
            pts = sorted((r.spikes_per_image, r.accuracy) for r in reports)
            ax.plot(*zip(*pts, strict=True), "o-", ms=3, lw=1, color=COLORS[i % len(COLORS)],
                    alpha=0.8, label=name if j == 0 else None)  # fmt: skip
    if reference is not None:
        ax.axhline(reference, color="0.4", ls="--", lw=1, label="non-spiking")
    for b in budgets:
        ax.axvline(b, color="0.7", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel("hidden spikes per image (log scale)")
    ax.set_ylabel("test accuracy")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return fig
