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

from snnbook import checks

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
    "plot_initial_phase",
]

_TIME_MAJOR = "pass a time-major tensor, shape (T, ...), time first"
_MODULE_INPUT = (
    "pass a time-major tensor of shape (T, batch, neurons...) or (T, batch); "
    "for one sample use x[:, None]"
)


def _dt(value: object, *, allow_inf: bool = False) -> float:
    """``dt`` as a float > 0 (``math.inf`` too where the non-spiking limit is allowed)."""
    if allow_inf and isinstance(value, float) and value == math.inf:
        return math.inf
    hint = "math.inf means non-spiking" if allow_inf else ""
    return checks.positive("dt", value, hint=hint)


def _rates(
    name: str, x: object, *, min_ndim: int = 1, values: bool = True, hint: str = _TIME_MAJOR
) -> torch.Tensor:
    """A floating-point time-major tensor with at least ``min_ndim`` axes.

    ``values=False`` checks the shape and dtype only (no read-back to the host),
    as a module's ``forward`` must.
    """
    x = checks.tensor(name, x, kind="float", hint=hint)
    if x.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimension(s), got shape {tuple(x.shape)}; "
            + hint
        )
    if values:
        checks.finite_values(name, x, hint="the quantizer needs finite rates")
    return x


def _diffuse(rates: torch.Tensor, dt: float, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Error diffusion, step by step in the dtype and on the device of ``rates``.

    ``v`` (broadcastable to ``rates.shape[1:]``) is the carried error at the
    start. Returns the spike counts ``n_t`` (not yet divided by ``dt``) and
    the final carried error. No value is read back to the host.
    """
    v = v.to(rates.dtype) + torch.zeros_like(rates[0])  # a fresh tensor of the full shape
    counts = []
    for r in rates:
        v = v + dt * r
        n = torch.floor(v)
        v = v - n
        # v - floor(v) can round up to exactly 1.0 when v is a tiny negative number;
        # that is one more whole spike, so emit it and keep v in [0, 1).
        extra = (v >= 1).to(v.dtype)
        counts.append(n + extra)
        v = v - extra
    return torch.stack(counts), v


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
        ``(T, ...)`` floating-point tensor of rates ``f(x_t)`` (time first). Must be finite.
    dt:
        step length, > 0. A step emits ``n_t`` spikes and returns ``n_t / dt``.
    v0:
        initial carried error, each value in ``[0, 1)``, of shape
        ``rates.shape[1:]`` or broadcastable to it (one value per neuron, shared
        by the samples of a batch); zeros by default.
    diffuse:
        ``True``: error diffusion (integrate-and-fire with subtractive reset),
        ``v += dt r_t; n_t = floor(v); v -= n_t``, step by step in the dtype of
        ``rates``. ``False``: naive per-step rounding ``n_t = floor(dt r_t + 1/2)``
        with no memory, so the error of every step is lost.
    return_state:
        also return the final carried error ``v_T`` (zeros when ``diffuse=False``).

    Returns
    -------
    ``(T, ...)`` tensor ``a`` of the dtype and device of ``rates``, every entry an
    integer multiple of ``1 / dt``; with ``return_state`` the pair ``(a, v_T)``.

    Not differentiable (its derivative is zero almost everywhere); use
    :class:`SpikingActivation` to train through it.
    """
    rates = _rates("rates", rates).detach()
    dt = _dt(dt)
    diffuse = checks.boolean("diffuse", diffuse)
    return_state = checks.boolean("return_state", return_state)
    if v0 is None:
        v0 = torch.zeros_like(rates[0])
    else:
        v0 = checks.tensor("v0", v0, kind="float", nonempty=False)
        try:
            torch.broadcast_shapes(v0.shape, rates.shape[1:])
        except RuntimeError:
            raise ValueError(
                f"v0 must have shape rates.shape[1:] = {tuple(rates.shape[1:])} (or one "
                f"that broadcasts to it), got {tuple(v0.shape)}"
            ) from None
        checks.finite_values("v0", v0, low=0.0, hint="v0 is the fraction of a spike already stored")
        if v0.device.type != "meta" and v0.numel() and bool((v0 >= 1).any()):
            raise ValueError(
                f"v0 must lie in [0, 1), got a largest value of {float(v0.max()):g}; "
                "v0 is the fraction of a spike already stored"
            )
        v0 = v0.detach().to(device=rates.device)
    if not diffuse:
        out = torch.floor(dt * rates + 0.5) / dt
        return (out, torch.zeros_like(rates[0])) if return_state else out
    counts, v = _diffuse(rates, dt, v0)
    out = counts / dt
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

    Input ``x`` is time-major, ``(T, batch, *neurons)``; a ``(T, batch)``
    input is one neuron seen in ``batch`` samples. Forward: ``a =
    quantize(f(x), dt, v0=v0)`` (see :func:`quantize`). Backward: ``da/dx :=
    f'(x)``, the gradient of the base activation (straight-through), as in
    :cite:`voelker2020spike`.

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
        ``"random"``: each neuron starts with its own phase ``v0 ~ Uniform[0, 1)``,
        drawn from a generator seeded with ``seed``. The draw depends only on
        the neuron's index (the axes after the batch axis), never on the batch:
        a sample gets the same output whatever batch it is evaluated in, and
        two calls give the same output. (keras-spiking's ``SpikingActivationCell``
        draws one phase per batch slot and neuron instead.) ``"zeros"``: ``v0 = 0``, so neurons
        with equal rates fire in lockstep.
    seed:
        seed of the random initial phases.
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
        self.activation = checks.callable_(
            "activation", activation, hint="pass an elementwise function such as torch.relu"
        )
        self.dt = dt
        self.spiking_aware = checks.boolean("spiking_aware", spiking_aware)
        self.initial_state = checks.one_of("initial_state", initial_state, ("random", "zeros"))
        self.seed = checks.nonnegative_int("seed", seed)
        self.record = checks.boolean("record", record)
        self.counts: torch.Tensor | None = None

    @property
    def dt(self) -> float:
        """Step length; ``math.inf`` means non-spiking."""
        return self._dt

    @dt.setter
    def dt(self, value: float) -> None:
        self._dt = _dt(value, allow_inf=True)

    @property
    def spiking(self) -> bool:
        """Whether the forward pass currently emits spikes."""
        if math.isinf(self.dt):
            return False
        return self.spiking_aware or not self.training

    def initial_v(self, neurons: Sequence[int], like: torch.Tensor) -> torch.Tensor:
        """The initial carried error ``v0`` of neurons of shape ``neurons`` (see ``initial_state``).

        The phases are drawn on the CPU from a generator seeded with ``seed``
        and moved to the device and dtype of ``like``, so they are the same on
        every device.
        """
        neurons = tuple(checks.nonnegative_int("neurons", n) for n in neurons)
        checks.tensor("like", like, kind="float", nonempty=False)
        if self.initial_state == "zeros":
            return like.new_zeros(neurons)
        gen = torch.Generator().manual_seed(self.seed)
        return torch.rand(neurons, generator=gen).to(device=like.device, dtype=like.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _rates("input", x, min_ndim=2, values=False, hint=_MODULE_INPUT)
        rates = self.activation(x)
        if not self.spiking:
            self.counts = None
            return rates
        detached = rates.detach()
        counts, _ = _diffuse(detached, self.dt, self.initial_v(detached.shape[2:], detached))
        if self.record:
            self.counts = counts
        return _StraightThrough.apply(rates, counts / self.dt)

    def extra_repr(self) -> str:
        name = getattr(self.activation, "__name__", type(self.activation).__name__)
        return (
            f"activation={name}, dt={self.dt:g}, spiking_aware={self.spiking_aware}, "
            f"initial_state={self.initial_state!r}"
        )


def spike_counts(activities: torch.Tensor, dt: float) -> torch.Tensor:
    """Integer spike counts ``n_t = a_t dt`` of quantized activities (rounded to remove float error)."""
    activities = checks.tensor("activities", activities, kind="float", nonempty=False)
    dt = _dt(dt)
    return torch.round(activities.detach() * dt)


def _as_list(counts: torch.Tensor | Iterable[torch.Tensor]) -> list[torch.Tensor]:
    """Count tensors as a list of CPU tensors, each checked to hold finite integers."""
    if isinstance(counts, torch.Tensor):
        items = [counts]
    elif isinstance(counts, Iterable) and not isinstance(counts, str | bytes):
        items = list(counts)
    else:
        raise TypeError(
            f"counts must be a tensor or a list of tensors, got {type(counts).__name__}"
        )
    if not items:
        raise ValueError("counts is an empty list; pass at least one tensor of spike counts")
    out = []
    for i, c in enumerate(items):
        name = "counts" if len(items) == 1 else f"counts[{i}]"
        c = checks.tensor(name, c, kind="real").detach().cpu()
        checks.finite_values(name, c)
        if not torch.equal(c, torch.round(c)):
            raise ValueError(
                f"{name} must hold integer spike counts; convert activities with spike_counts"
            )
        out.append(c)
    return out


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
    sample_dims = checks.positive_int("sample_dims", sample_dims)
    items = _as_list(counts)
    total, neurons = 0.0, 0
    for c in items:
        if c.ndim <= sample_dims:
            raise ValueError(
                f"counts of shape {tuple(c.shape)} have no neuron axis after the "
                f"{sample_dims} sample axes (sample_dims); pass sample_dims=1 for (T, neurons)"
            )
        flat = c.reshape(-1, *c.shape[sample_dims:]).flatten(1).double()
        levels = flat.amax(0).clamp(min=0) - flat.amin(0).clamp(max=0) + 1
        total += float(torch.log2(levels).sum())
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
        m = c.abs().long().flatten()
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
    batch_dim = checks.nonnegative_int("batch_dim", batch_dim)
    items = _as_list(counts)
    for c in items:
        if batch_dim >= c.ndim:
            raise ValueError(
                f"batch_dim={batch_dim} is not an axis of counts of shape {tuple(c.shape)}; "
                "pass the axis that indexes samples"
            )
    batch = {c.shape[batch_dim] for c in items}
    if len(batch) != 1:
        raise ValueError(f"the count tensors disagree on the batch size: {sorted(batch)}")
    return sum(float(c.abs().sum()) for c in items) / batch.pop()


def _spiking_modules(module: object) -> list[SpikingActivation]:
    if not isinstance(module, nn.Module):
        raise TypeError(
            f"module must be a torch.nn.Module, got {type(module).__name__}; pass the network"
        )
    return [m for m in module.modules() if isinstance(m, SpikingActivation)]


def set_dt(module: nn.Module, dt: float) -> int:
    """Set ``dt`` of every :class:`SpikingActivation` inside ``module``; returns how many.

    ``dt = math.inf`` switches them all to the non-spiking limit.
    """
    dt = _dt(dt, allow_inf=True)
    found = _spiking_modules(module)
    if not found:
        raise ValueError("the module contains no SpikingActivation")
    for m in found:
        m.dt = dt
    return len(found)


def recorded_counts(module: nn.Module) -> list[torch.Tensor]:
    """Spike counts of the last forward pass of every recording :class:`SpikingActivation`."""
    counts = [m.counts for m in _spiking_modules(module) if m.record and m.counts is not None]
    if not counts:
        raise ValueError(
            "no spike counts recorded: set record=True on the SpikingActivation modules "
            "and run a forward pass with a finite dt"
        )
    return counts


def _figsize(figsize: object) -> tuple[float, float]:
    if not isinstance(figsize, tuple | list) or len(figsize) != 2:
        raise TypeError(f"figsize must be a pair (width, height) in inches, got {figsize!r}")
    return tuple(checks.positive(f"figsize[{i}]", v) for i, v in enumerate(figsize))


def _title(title: object) -> str | None:
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a string or None, got {type(title).__name__}")
    return title


def plot_quantizer(
    rates: torch.Tensor,
    dt: float,
    *,
    v0: float = 0.0,
    title: str | None = None,
    figsize: tuple[float, float] = (8.0, 3.6),
) -> Figure:
    """Error diffusion against per-step rounding for one neuron's rate signal ``(T,)``.

    Left, one panel each: the spikes per step ``n_t`` (bars) of the diffused
    and of the rounded output, over the input per step ``dt f(x_t)`` (line).
    Right: the running error of both, in spikes, with the band of one spike
    that bounds error diffusion. The title gives the bits per activity.
    """
    from snnbook.plotting import COLORS, use_book_style

    rates = _rates("rates", rates)
    if rates.ndim != 1:
        raise ValueError(f"rates must be a 1-D rate signal (T,), got shape {tuple(rates.shape)}")
    dt = _dt(dt)
    v0 = checks.number("v0", v0, low=0.0, high=1.0, high_open=True)
    title, figsize = _title(title), _figsize(figsize)
    rates = rates.detach().cpu().double()
    diffused = spike_counts(quantize(rates, dt, v0=torch.tensor(v0, dtype=rates.dtype)), dt)
    rounded = spike_counts(quantize(rates, dt, diffuse=False), dt)
    t, target = torch.arange(len(rates)).numpy(), (dt * rates).numpy()

    use_book_style()
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=figsize, layout="constrained")
    axes = fig.subplot_mosaic([["diffused", "error"], ["rounded", "error"]], sharex=True)
    top = max(float(diffused.max()), float(rounded.max()), float(target.max()), 1.0)
    for key, counts, color in (("diffused", diffused, COLORS[0]), ("rounded", rounded, COLORS[1])):
        ax = axes[key]
        ax.bar(t, counts.numpy(), width=0.7, color=color, alpha=0.75, linewidth=0)
        ax.plot(t, target, color="k", lw=1.2)
        ax.set_ylim(min(0.0, float(counts.min())) - 0.05 * top, 1.1 * top)
        label = "error diffusion" if key == "diffused" else "per-step rounding"
        ax.set_title(f"{label}: spikes $n_t$ (bars), input $dt\\,f(x_t)$ (line)", fontsize=9)
        ax.set_ylabel("spikes per step")
    axes["rounded"].set_xlabel("step $t$")
    ax = axes["error"]
    for counts, name, color in (
        (diffused, "diffusion", COLORS[0]),
        (rounded, "rounding", COLORS[1]),
    ):
        ax.plot(t, torch.cumsum(counts - dt * rates, 0).numpy(), color=color, lw=1.5, label=name)
    ax.axhspan(-1, 1, color="0.85", zorder=0, label="one spike")
    ax.set_xlabel("step $t$")
    ax.set_ylabel("running error (spikes)")
    ax.set_title("running error: spikes emitted minus input received", fontsize=9)
    ax.legend(loc="best", fontsize=8)
    bits = bits_per_activity(diffused.reshape(-1, 1), sample_dims=1)
    fig.suptitle(title or f"dt = {dt:g}: {bits:.2f} bits per activity (error diffusion)")
    return fig


def plot_initial_phase(
    rate: float,
    *,
    neurons: int = 40,
    steps: int = 60,
    dt: float = 1.0,
    seed: int = 0,
    figsize: tuple[float, float] = (8.0, 3.2),
) -> Figure:
    """``neurons`` neurons with the same constant ``rate``, started in phase and at random phases.

    Left and middle: spike rasters with ``v0 = 0`` and with the per-neuron
    random phases of :class:`SpikingActivation` (``seed``). Right: how many of
    the neurons spike in each step, the input that a downstream neuron sums.
    """
    from snnbook.plotting import COLORS, new_figure

    rate = checks.number("rate", rate, low=0.0, hint="a constant firing rate f(x) >= 0")
    neurons = checks.positive_int("neurons", neurons)
    steps = checks.positive_int("steps", steps)
    dt = _dt(dt)
    seed = checks.nonnegative_int("seed", seed)
    figsize = _figsize(figsize)
    rates = torch.full((steps, 1, neurons), rate)
    arms = {}
    for state in ("zeros", "random"):
        act = SpikingActivation(lambda x: x, dt, initial_state=state, seed=seed, record=True)
        act(rates)
        arms[state] = act.counts[:, 0].detach().cpu()
    fig, axes = new_figure(3, figsize=figsize, width_ratios=[1, 1, 1.3])
    names = {"zeros": "$v_0 = 0$: in lockstep", "random": "random $v_0$: spread out"}
    for ax, (state, counts), color in zip(axes[0], arms.items(), COLORS, strict=False):
        t, n = torch.nonzero(counts, as_tuple=True)
        ax.scatter(t.numpy(), n.numpy(), marker="|", s=30, linewidths=1.3, color=color)
        ax.set(xlim=(-1, steps), ylim=(-0.5, neurons - 0.5), title=names[state])
        ax.set(xlabel="time step", ylabel="neuron")
        ax.grid(False)
    ax = axes[0, 2]
    for (state, counts), color in zip(arms.items(), COLORS, strict=False):
        label = "$v_0 = 0$" if state == "zeros" else "random $v_0$"
        ax.step(range(steps), counts.sum(1).numpy(), where="mid", color=color, label=label)
    ax.axhline(dt * rate * neurons, color="k", ls=":", lw=1, label="mean")
    ax.set_ylim(-0.5, 1.6 * max(float(arms["zeros"].sum(1).max()), 1.0))
    ax.set_xlabel("time step")
    ax.set_ylabel("neurons spiking")
    ax.set_title("spikes per step, all neurons")
    ax.legend(fontsize=8, loc="upper left", ncols=2)
    return fig
