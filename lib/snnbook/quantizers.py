"""Activation functions as quantizers with temporally diffused error.

Voelker, Rasmussen and Eliasmith :cite:`voelker2020spike` read a spiking
neuron as a *quantizer*: it observes a rate ``r_t = f(x_t)`` (the output of an
ordinary activation function ``f``) during a time step of length ``dt``, emits
a whole number of spikes, and carries what it could not emit into the next
step. With state ``v`` (the "membrane"), for each step ``t``:

.. math::

    v \\leftarrow v + dt\\,f(x_t), \\qquad
    n_t = \\lfloor v \\rfloor, \\qquad
    v \\leftarrow v - n_t, \\qquad
    a_t = n_t / dt .

``n_t`` is the integer number of spikes in step ``t`` and ``a_t`` the output
activity (each spike has height ``1/dt``). The remainder ``v`` stays in
``[0, 1)``, so the time-integrated error is bounded by one spike for every
horizon ``T``:

.. math::

    \\sum_{t=1}^{T} dt\\,(a_t - f(x_t)) = v_0 - v_T \\in (-1, 1).

This is first-order sigma-delta modulation (error diffusion). ``dt`` is the
knob between regimes: ``dt f(x) >> 1`` gives many spikes per step (a
multi-bit copy of ``f(x)``, the non-spiking limit as ``dt -> inf``), while
``dt f(x) <= 1`` gives at most one spike per step: binary spikes. With binary
output the quantizer *is* an integrate-and-fire neuron with threshold 1 and
reset by subtraction, fed the current ``dt f(x)``.

For training, :class:`SpikingActivation` uses the quantizer in the forward
pass and the derivative of ``f`` in the backward pass (a straight-through
estimator), which is the paper's "spiking-aware training".

Two costs of an activity are measured here (definitions in the docstrings of
:func:`bits_per_activity` and :func:`significant_bits_per_multiply`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import torch
from matplotlib.figure import Figure
from torch import nn

__all__ = [
    "quantize",
    "SpikingActivation",
    "spike_counts",
    "bits_per_activity",
    "significant_bits_per_multiply",
    "spikes_per_sample",
    "set_dt",
    "recorded_counts",
    "plot_quantizer",
]


def _check_dt(dt: float) -> float:
    if isinstance(dt, bool) or not isinstance(dt, (int, float)):
        raise TypeError(f"dt must be a positive number, got {dt!r}")
    dt = float(dt)
    if not math.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt must be a finite number > 0, got {dt}")
    return dt


def _check_time_major(x: torch.Tensor, name: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim < 1 or x.shape[0] < 1:
        raise ValueError(
            f"{name} must be time-major with at least one step, shape (T, ...); got shape "
            f"{tuple(x.shape)}. For a single value use x.reshape(1, -1)."
        )
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if not torch.isfinite(x).all():
        raise ValueError(
            f"{name} contains NaN or infinite values; the quantizer needs finite rates"
        )


def quantize(
    rates: torch.Tensor,
    dt: float,
    *,
    v0: torch.Tensor | None = None,
    diffuse: bool = True,
    return_state: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Quantize time-major ``rates`` into integer spike counts per step, divided by ``dt``.

    Parameters
    ----------
    rates:
        ``(T, ...)`` tensor of rates ``f(x_t)`` (time first). Must be finite.
    dt:
        step length, > 0. A step emits ``n_t`` spikes and returns ``n_t / dt``.
    v0:
        initial carried error (shape ``rates.shape[1:]``), each value in ``[0, 1)``;
        zeros by default.
    diffuse:
        ``True``: error diffusion (integrate-and-fire with subtractive reset),
        ``v += dt r_t; n_t = floor(v); v -= n_t``, computed in closed form from
        the running sum (float64) rather than step by step. ``False``: naive per-step
        rounding ``n_t = floor(dt r_t + 1/2)`` with no memory, so the error of
        every step is lost.
    return_state:
        also return the final carried error ``v_T`` (zeros when ``diffuse=False``).

    Returns
    -------
    ``(T, ...)`` tensor ``a`` of the same dtype, every entry an integer multiple of
    ``1 / dt``; with ``return_state`` the pair ``(a, v_T)``.

    Not differentiable (its derivative is zero almost everywhere); use
    :class:`SpikingActivation` to train through it.
    """
    _check_time_major(rates, "rates")
    dt = _check_dt(dt)
    rates = rates.detach()
    if not diffuse:
        out = torch.floor(dt * rates + 0.5) / dt
        state = torch.zeros_like(rates[0])
        return (out, state) if return_state else out
    if v0 is None:
        v = torch.zeros_like(rates[0], dtype=torch.float64)
    else:
        if not isinstance(v0, torch.Tensor):
            raise TypeError(f"v0 must be a torch.Tensor or None, got {type(v0).__name__}")
        if v0.shape != rates.shape[1:]:
            raise ValueError(
                f"v0 must have shape rates.shape[1:] = {tuple(rates.shape[1:])}, "
                f"got {tuple(v0.shape)}"
            )
        if v0.numel() and (v0.min() < 0 or v0.max() >= 1):
            raise ValueError("v0 must lie in [0, 1): it is the fraction of a spike already stored")
        v = v0.detach().double()
    # The loop "v += dt r_t; n_t = floor(v); v -= n_t" in closed form: with the
    # running sum S_t = v0 + dt (r_1 + ... + r_t), v_t = S_t - floor(S_t) and
    # n_t = floor(S_t) - floor(S_{t-1}). One cumulative sum instead of a Python
    # loop over T; float64 keeps the fractional part exact to ~1e-16 * |S_T|.
    s = torch.cumsum(dt * rates.double(), 0) + v
    whole = torch.floor(s)
    counts = torch.diff(whole, dim=0, prepend=torch.zeros_like(whole[:1]))
    out = (counts / dt).to(rates.dtype)
    one = torch.ones((), dtype=rates.dtype)
    largest_below_one = torch.nextafter(one, torch.zeros_like(one))
    v = (s[-1] - whole[-1]).to(rates.dtype).clamp(max=largest_below_one)
    return (out, v) if return_state else out


class _StraightThrough(torch.autograd.Function):
    """Forward: the quantized activity; backward: the gradient reaches ``f(x)`` unchanged."""

    @staticmethod
    def forward(ctx: object, rates: torch.Tensor, quantized: torch.Tensor) -> torch.Tensor:
        return quantized

    @staticmethod
    def backward(ctx: object, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad, None


class SpikingActivation(nn.Module):
    """An activation ``f`` whose output is quantized over time with error diffusion.

    Input ``x`` is time-major, ``(T, ...)``. Forward: ``a = quantize(f(x), dt,
    v0=v0)`` (see :func:`quantize`). Backward: ``da/dx := f'(x)``, the gradient
    of the base activation (straight-through), as in :cite:`voelker2020spike`.

    Parameters
    ----------
    activation:
        the base activation ``f`` (any differentiable elementwise callable).
    dt:
        step length, > 0. ``math.inf`` is the non-spiking limit: the module
        then returns ``f(x)`` itself. Change it between optimizer steps (a dt
        schedule) with ``module.dt = ...`` or :func:`set_dt`.
    spiking_aware:
        ``True``: spikes in the forward pass during training too. ``False``:
        train on ``f(x)`` and spike only in evaluation mode.
    initial_state:
        ``"random"``: ``v0 ~ Uniform[0, 1)`` drawn from a generator seeded with
        ``seed`` on every call, so the same input always gives the same output;
        ``"zeros"``: ``v0 = 0`` (every neuron starts in phase).
    record:
        keep the spike counts ``n_t`` of the last forward pass in ``self.counts``
        (detached), for :func:`bits_per_activity` and friends.
    """

    def __init__(
        self,
        activation: Callable[[torch.Tensor], torch.Tensor] = torch.relu,
        dt: float = 1.0,
        spiking_aware: bool = True,
        *,
        initial_state: str = "random",
        seed: int = 0,
        record: bool = False,
    ) -> None:
        super().__init__()
        if not callable(activation):
            raise TypeError(f"activation must be callable, got {activation!r}")
        if initial_state not in ("random", "zeros"):
            raise ValueError(f"initial_state must be 'random' or 'zeros', got {initial_state!r}")
        self.activation = activation
        self.dt = dt
        self.spiking_aware = bool(spiking_aware)
        self.initial_state = initial_state
        self.seed = int(seed)
        self.record = bool(record)
        self.counts: torch.Tensor | None = None

    @property
    def dt(self) -> float:
        """Step length; ``math.inf`` means non-spiking."""
        return self._dt

    @dt.setter
    def dt(self, value: float) -> None:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value == math.inf:
            self._dt = math.inf
        else:
            self._dt = _check_dt(value)

    @property
    def spiking(self) -> bool:
        """Whether the forward pass currently emits spikes."""
        if math.isinf(self.dt):
            return False
        return self.spiking_aware or not self.training

    def initial_v(self, shape: Sequence[int], like: torch.Tensor) -> torch.Tensor:
        """The initial carried error ``v0`` for one call (see ``initial_state``)."""
        if self.initial_state == "zeros":
            return torch.zeros(shape, dtype=like.dtype, device=like.device)
        gen = torch.Generator(device=like.device).manual_seed(self.seed)
        return torch.rand(shape, generator=gen, dtype=like.dtype, device=like.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_time_major(x, "input")
        rates = self.activation(x)
        if not self.spiking:
            self.counts = None
            return rates
        q = quantize(rates, self.dt, v0=self.initial_v(rates.shape[1:], rates))
        if self.record:
            self.counts = spike_counts(q, self.dt)
        return _StraightThrough.apply(rates, q)

    def extra_repr(self) -> str:
        name = getattr(self.activation, "__name__", type(self.activation).__name__)
        return (
            f"activation={name}, dt={self.dt:g}, spiking_aware={self.spiking_aware}, "
            f"initial_state={self.initial_state!r}"
        )


def spike_counts(activities: torch.Tensor, dt: float) -> torch.Tensor:
    """Integer spike counts ``n_t = a_t dt`` of quantized activities (rounded to remove float error)."""
    dt = _check_dt(dt)
    return torch.round(activities.detach() * dt)


def _as_list(counts: torch.Tensor | Iterable[torch.Tensor]) -> list[torch.Tensor]:
    items = [counts] if isinstance(counts, torch.Tensor) else list(counts)
    if not items:
        raise ValueError("no spike counts given")
    for c in items:
        if not isinstance(c, torch.Tensor):
            raise TypeError(f"spike counts must be tensors, got {type(c).__name__}")
        if not torch.equal(c, torch.round(c)):
            raise ValueError("spike counts must be integers; convert activities with spike_counts")
    return items


def bits_per_activity(
    counts: torch.Tensor | Iterable[torch.Tensor], *, sample_dims: int = 2
) -> float:
    """Mean number of bits a neuron needs to send one activity (one step's spike count).

    Definition: the first ``sample_dims`` axes of a count tensor are samples
    (by default time and batch, ``(T, B, ...)``) and every remaining index is a
    neuron ``i``. Neuron ``i`` uses the integer levels from ``min(0, min n_i)``
    to ``max(0, max n_i)`` over all its samples, ``L_i`` levels in all, and a
    fixed-length code for them needs

    .. math::  b_i = \\log_2 L_i = \\log_2\\big(\\max(0, \\max n_i) - \\min(0, \\min n_i) + 1\\big)

    bits per activity (not rounded up to whole bits). Binary spikes give
    ``b_i = 1``, a silent neuron ``0``, a non-negative neuron with at most 7
    spikes per step 3. The result is the mean of ``b_i`` over all neurons of all
    the tensors given (a list of layers counts every neuron once).
    """
    items = _as_list(counts)
    total, neurons = 0.0, 0
    for c in items:
        if c.ndim <= sample_dims:
            raise ValueError(
                f"counts of shape {tuple(c.shape)} have no neuron axis after the "
                f"{sample_dims} sample axes; pass sample_dims=1 for (T, neurons)"
            )
        flat = c.reshape(-1, *c.shape[sample_dims:]).flatten(1).double()
        levels = flat.amax(0).clamp(min=0) - flat.amin(0).clamp(max=0) + 1
        total += torch.log2(levels).sum().item()
        neurons += levels.numel()
    return total / neurons


def _significant_bits(m: torch.Tensor) -> torch.Tensor:
    """Bits from the leading to the trailing one of positive integers ``m`` (int64)."""
    odd = m // (m & -m)  # drop trailing zeros: m = odd * 2^k
    bits = torch.zeros_like(odd)
    while bool((odd > 0).any()):
        bits += (odd > 0).long()
        odd = odd >> 1
    return bits


def significant_bits_per_multiply(counts: torch.Tensor | Iterable[torch.Tensor]) -> float:
    """Mean number of significant bits in the spike counts that multiply a weight.

    Definition: a weight ``w`` is multiplied by the activity ``n_t / dt``; the
    ``1/dt`` can be folded into ``w``, so the multiplier is the integer ``n_t``.
    A zero count needs no multiply at all and is skipped. For ``|n| = m 2^k``
    with ``m`` odd, the significant bits of ``n`` are the bits of ``m``
    (``bit_length(m)``): the span from the leading to the trailing one, which is
    what a shift-and-add multiplier has to process (the shift by ``k`` and the
    sign are free). So 1, 2, 4, 8 have 1 significant bit (a shift), 3, 6 have
    2 and 5, 7 have 3. The result is the mean over all nonzero counts; binary
    spikes give exactly 1 (each spike adds the weight). ``nan`` if there are no
    spikes at all.
    """
    items = _as_list(counts)
    total, multiplies = 0, 0
    for c in items:
        m = c.detach().abs().long().flatten()
        m = m[m > 0]
        total += int(_significant_bits(m).sum())
        multiplies += m.numel()
    return total / multiplies if multiplies else math.nan


def spikes_per_sample(
    counts: torch.Tensor | Iterable[torch.Tensor], *, batch_dim: int = 1
) -> float:
    """Total number of spikes (sum of ``|n_t|`` over all steps and neurons) per sample.

    ``batch_dim`` is the axis of each tensor that indexes samples (``(T, B, ...)`` by default).
    """
    items = _as_list(counts)
    batch = {c.shape[batch_dim] for c in items}
    if len(batch) != 1:
        raise ValueError(f"the count tensors disagree on the batch size: {sorted(batch)}")
    return sum(c.abs().sum().item() for c in items) / batch.pop()


def set_dt(module: nn.Module, dt: float) -> int:
    """Set ``dt`` of every :class:`SpikingActivation` inside ``module``; returns how many."""
    found = [m for m in module.modules() if isinstance(m, SpikingActivation)]
    if not found:
        raise ValueError("the module contains no SpikingActivation")
    for m in found:
        m.dt = dt
    return len(found)


def recorded_counts(module: nn.Module) -> list[torch.Tensor]:
    """Spike counts of the last forward pass of every recording :class:`SpikingActivation`."""
    counts = [
        m.counts
        for m in module.modules()
        if isinstance(m, SpikingActivation) and m.record and m.counts is not None
    ]
    if not counts:
        raise ValueError(
            "no spike counts recorded: set record=True on the SpikingActivation modules "
            "and run a forward pass with a finite dt"
        )
    return counts


def plot_quantizer(
    rates: torch.Tensor,
    dt: float,
    *,
    v0: float = 0.0,
    title: str | None = None,
    figsize: tuple[float, float] = (7.0, 3.0),
) -> Figure:
    """Two panels for a 1-D rate signal: the quantized output against the rate, and the
    cumulative error of error diffusion against naive rounding (in spikes)."""
    from snnbook.plotting import COLORS, new_figure

    if rates.ndim != 1:
        raise ValueError(f"plot_quantizer expects a 1-D rate signal (T,), got {tuple(rates.shape)}")
    diffused = quantize(rates, dt, v0=torch.tensor(v0, dtype=rates.dtype))
    naive = quantize(rates, dt, diffuse=False)
    t = torch.arange(len(rates)).numpy()
    fig, axes = new_figure(2, figsize=figsize)
    ax = axes[0, 0]
    ax.step(t, diffused.numpy(), where="mid", color=COLORS[0], lw=0.8, alpha=0.8, label="diffused")
    ax.step(t, naive.numpy(), where="mid", color=COLORS[1], lw=1.5, ls="--", label="rounded")
    ax.plot(t, rates.numpy(), color="k", lw=1.5, label="$f(x_t)$")
    ax.set_xlabel("step $t$")
    ax.set_ylabel("activity")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1), ncols=3, fontsize=8)
    ax = axes[0, 1]
    for out, name, color in ((diffused, "diffused", COLORS[0]), (naive, "rounded", COLORS[1])):
        err = torch.cumsum(dt * (out - rates), 0).numpy()
        ax.plot(t, err, color=color, label=name)
    ax.axhspan(-1, 1, color="0.85", zorder=0, label="one spike")
    ax.set_xlabel("step $t$")
    ax.set_ylabel("cumulative error (spikes)")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1), ncols=3, fontsize=8)
    bits = bits_per_activity(spike_counts(diffused, dt).reshape(-1, 1), sample_dims=1)
    fig.suptitle(title or f"dt = {dt:g}: {bits:.2f} bits per activity", fontsize=10)
    return fig
