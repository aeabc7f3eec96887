r"""ANN-to-SNN conversion, then spike-timing-dependent backpropagation (STDB).

Rathi, Srinivasan, Panda & Roy, "Enabling Deep Spiking Neural Networks with
Hybrid Conversion and Spike Timing Dependent Backpropagation", ICLR 2020.

**Conversion.** A ReLU network without biases and with average pooling is
turned into a network of integrate-and-fire (IF) neurons, one per ReLU unit,
with the same weights. Neuron ``i`` of spiking layer ``l`` receives the current
:math:`I_t = (W^l o^{l-1}_t)_i` and, with threshold :math:`\theta_l`,

.. math::

    U_t = U_{t-1} + I_t, \qquad
    o_t = H\!\left(U_t / \theta_l - 1\right), \qquad
    U_t \leftarrow U_t - \theta_l\, o_t .

The reset *subtracts* the threshold ("soft reset"), so no charge is lost:
after ``T`` steps :math:`\sum_t I_t = \theta_l \sum_t o_t + U_T`. The spike
rate therefore approximates :math:`\mathrm{ReLU}(I)/\theta_l` (up to
:math:`U_T / (\theta_l T)`), which is why the ANN's weights carry over. The
output layer does not spike: it accumulates :math:`\sum_t W^L o^{L-1}_t`,
which plays the role of the logits. Pixels enter as a constant current
(``input_encoding="direct"``) or as Bernoulli spikes of rate ``x``
(``"rate"``; the paper's Poisson code for inputs in [0, 1]).

**Threshold balancing** is done on the spiking network, layer by layer: with
the earlier layers already spiking at their balanced thresholds, run the
network on calibration images and set :math:`\theta_l` to the largest input
current layer ``l`` receives over steps, images and neurons (the paper), or
to a high percentile of it (a robust variant that ignores rare outliers).
For training at few time steps the paper then scales all thresholds by 0.7.

**STDB.** The spike function is a step, so its derivative is replaced by a
function of the time since the neuron last fired,

.. math::

    \frac{\partial o_t}{\partial v_t} = \alpha\, e^{-\beta\, \Delta t},
    \qquad v_t = U_t/\theta_l - 1,\qquad \Delta t = t - t_{\text{last}},

with :math:`\alpha = 0.3`, :math:`\beta = 0.01`. A neuron that never fired
has :math:`t_{\text{last}} = -1000` (as in the reference code), so its
gradient is about :math:`\alpha e^{-10} \approx 10^{-5}`. The alternative is
the piecewise-linear surrogate
:math:`\partial o/\partial v = \alpha \max(0, 1 - |v|)`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

__all__ = [
    "stdb_spike",
    "linear_spike",
    "IFNeuron",
    "SpikingNetwork",
    "to_spiking",
    "balance_thresholds",
    "convert",
    "NEVER_FIRED",
    "plot_tradeoff",
]

#: Last-spike time of a neuron that has not fired yet (the reference code's -1000).
NEVER_FIRED = -1000.0

_SUPPORTED = (nn.Conv2d, nn.Linear, nn.ReLU, nn.AvgPool2d, nn.Flatten)
_WEIGHTED = (nn.Conv2d, nn.Linear)
_SURROGATES = ("stdb", "linear")
_ENCODINGS = ("direct", "rate")


# ------------------------------------------------------------------ surrogates
class _STDBSpike(torch.autograd.Function):
    """Heaviside forward; backward ``alpha * exp(-beta * dt)``."""

    @staticmethod
    def forward(ctx, v, dt, alpha, beta):  # noqa: ANN001, ANN205
        ctx.save_for_backward(dt)
        ctx.alpha, ctx.beta = alpha, beta
        return (v >= 0).to(v.dtype)

    @staticmethod
    def backward(ctx, grad_output):  # noqa: ANN001, ANN205
        (dt,) = ctx.saved_tensors
        return grad_output * ctx.alpha * torch.exp(-ctx.beta * dt), None, None, None


class _LinearSpike(torch.autograd.Function):
    """Heaviside forward; backward ``alpha * max(0, 1 - |v|)``."""

    @staticmethod
    def forward(ctx, v, alpha):  # noqa: ANN001, ANN205
        ctx.save_for_backward(v)
        ctx.alpha = alpha
        return (v >= 0).to(v.dtype)

    @staticmethod
    def backward(ctx, grad_output):  # noqa: ANN001, ANN205
        (v,) = ctx.saved_tensors
        return grad_output * ctx.alpha * (1 - v.abs()).clamp(min=0), None


def _check_positive(name: str, value: float) -> None:
    if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def stdb_spike(
    v: torch.Tensor, dt: torch.Tensor, *, alpha: float = 0.3, beta: float = 0.01
) -> torch.Tensor:
    r"""Spike ``o = H(v)`` (1 where ``v >= 0``) with the STDB surrogate gradient.

    ``v = U / theta - 1`` is the normalised membrane potential and ``dt`` the
    number of steps since the neuron last fired (same shape as ``v``). The
    backward pass uses :math:`\partial o / \partial v = \alpha e^{-\beta\,dt}`
    (Rathi et al. 2020; defaults from the paper). No gradient flows to ``dt``.
    """
    if not isinstance(v, torch.Tensor) or not isinstance(dt, torch.Tensor):
        raise TypeError("stdb_spike expects tensors v and dt")
    if v.shape != dt.shape:
        raise ValueError(
            f"v and dt must have the same shape, got {tuple(v.shape)} and {tuple(dt.shape)}"
        )
    _check_positive("alpha", alpha)
    if not isinstance(beta, int | float) or beta < 0:
        raise ValueError(f"beta must be a non-negative number, got {beta!r}")
    return _STDBSpike.apply(v, dt.to(v.dtype), float(alpha), float(beta))


def linear_spike(v: torch.Tensor, *, alpha: float = 0.3) -> torch.Tensor:
    r"""Spike ``o = H(v)`` with the piecewise-linear surrogate.

    Backward: :math:`\partial o / \partial v = \alpha \max(0, 1 - |v|)`, a
    triangle around the threshold (``v = 0``); ``alpha = 0.3`` as in the
    reference implementation of Rathi et al. (2020).
    """
    if not isinstance(v, torch.Tensor):
        raise TypeError("linear_spike expects a tensor v")
    _check_positive("alpha", alpha)
    return _LinearSpike.apply(v, float(alpha))


# ---------------------------------------------------------------------- neuron
class IFNeuron(nn.Module):
    r"""Integrate-and-fire neuron with soft (subtractive) reset.

    One step: :math:`U \leftarrow U + I`, :math:`o = H(U/\theta - 1)`,
    :math:`U \leftarrow U - \theta o`. The threshold is a buffer (set by
    :func:`balance_thresholds`), not a trained parameter. The reset is
    detached from the graph, as in the reference code. ``surrogate`` chooses
    the backward pass: ``"stdb"`` (:func:`stdb_spike`) or ``"linear"``
    (:func:`linear_spike`).
    """

    def __init__(
        self,
        threshold: float = 1.0,
        *,
        surrogate: str = "stdb",
        alpha: float = 0.3,
        beta: float = 0.01,
    ) -> None:
        super().__init__()
        _check_positive("threshold", threshold)
        if surrogate not in _SURROGATES:
            raise ValueError(f"surrogate must be one of {_SURROGATES}, got {surrogate!r}")
        _check_positive("alpha", alpha)
        self.surrogate, self.alpha, self.beta = surrogate, alpha, beta
        self.register_buffer("threshold", torch.tensor(float(threshold)))

    def extra_repr(self) -> str:
        return f"threshold={self.threshold.item():.4g}, surrogate={self.surrogate!r}"

    def forward(
        self,
        current: torch.Tensor,
        state: tuple[torch.Tensor, torch.Tensor] | None,
        t: int,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Advance one step ``t``; ``state`` is ``(membrane, last_spike_time)`` or None at t = 0.

        Without autograd (``torch.no_grad``) the last spike times are not
        tracked (they only shape the STDB gradient) and stay None.
        """
        if state is None:
            mem, last = torch.zeros_like(current), None
        else:
            mem, last = state
        mem = mem + current
        if not torch.is_grad_enabled():  # inference: no surrogate, no spike-time bookkeeping
            spikes = (mem >= self.threshold).to(mem.dtype)
            return spikes, (mem - self.threshold * spikes, last)
        if last is None:
            last = torch.full_like(current, NEVER_FIRED)
        v = mem / self.threshold - 1
        if self.surrogate == "stdb":
            spikes = stdb_spike(v, t - last, alpha=self.alpha, beta=self.beta)
        else:
            spikes = linear_spike(v, alpha=self.alpha)
        fired = spikes.detach()
        mem = mem - self.threshold * fired
        last = torch.where(fired > 0, float(t), last)
        return spikes, (mem, last)


# --------------------------------------------------------------------- network
class SpikingNetwork(nn.Module):
    """A converted (or from-scratch) network of IF neurons, run for ``num_steps``.

    ``forward(x)`` returns the output layer's accumulated current
    :math:`\\sum_t W^L o^{L-1}_t` of shape ``(batch, classes)``, and stores the
    mean number of spikes per image in ``spikes_per_image``. ``trace`` returns
    the same quantities after every step, for accuracy-versus-latency curves.
    Build it with :func:`to_spiking` or :func:`convert`.
    """

    def __init__(self, layers: Sequence[nn.Module], *, num_steps: int, input_encoding: str) -> None:
        super().__init__()
        _check_steps(num_steps)
        if input_encoding not in _ENCODINGS:
            raise ValueError(f"input_encoding must be one of {_ENCODINGS}, got {input_encoding!r}")
        self.layers = nn.ModuleList(layers)
        self.num_steps = num_steps
        self.input_encoding = input_encoding
        self.spikes_per_image = float("nan")
        first = next((i for i, m in enumerate(self.layers) if isinstance(m, IFNeuron)), None)
        if first is None:
            raise ValueError(
                "a SpikingNetwork needs at least one IFNeuron layer; build it with to_spiking"
            )
        self._first = first

    @property
    def neurons(self) -> list[IFNeuron]:
        """The spiking layers, input side first."""
        return [m for m in self.layers if isinstance(m, IFNeuron)]

    @property
    def thresholds(self) -> list[float]:
        """Current thresholds, one per spiking layer."""
        return [n.threshold.item() for n in self.neurons]

    def set_surrogate(self, surrogate: str, *, alpha: float = 0.3, beta: float = 0.01) -> None:
        """Use ``surrogate`` (``"stdb"`` or ``"linear"``) in every spiking layer."""
        if surrogate not in _SURROGATES:
            raise ValueError(f"surrogate must be one of {_SURROGATES}, got {surrogate!r}")
        _check_positive("alpha", alpha)
        for n in self.neurons:
            n.surrogate, n.alpha, n.beta = surrogate, alpha, beta

    def _steps(
        self, x: torch.Tensor, num_steps: int, stop: IFNeuron | None = None
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield ``(current, spikes)`` per step.

        ``current`` is what reaches ``stop`` (the output layer when None);
        ``spikes`` is the per-image spike count of the layers before it.
        """
        if x.dim() < 2:
            raise ValueError(f"x must be a batch (batch, ...), got shape {tuple(x.shape)}")
        prefix = nn.Sequential(*self.layers[: self._first])
        static = prefix(x) if self.input_encoding == "direct" else None
        states: dict[int, tuple[torch.Tensor, torch.Tensor] | None] = {}
        for t in range(num_steps):
            h = static if static is not None else prefix(torch.bernoulli(x.clamp(0, 1)))
            count = torch.zeros(len(x))
            for i in range(self._first, len(self.layers)):
                layer = self.layers[i]
                if isinstance(layer, IFNeuron):
                    if layer is stop:
                        break
                    h, states[i] = layer(h, states.get(i), t)
                    count = count + h.detach().flatten(1).sum(1)
                else:
                    h = layer(h)
            yield h, count

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Accumulated output current over ``num_steps`` steps, ``(batch, classes)``."""
        total, spikes = 0, 0
        for out, count in self._steps(x, self.num_steps):
            total = total + out
            spikes = spikes + count
        self.spikes_per_image = float(spikes.mean())
        return total

    @torch.no_grad()
    def trace(self, x: torch.Tensor, num_steps: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Run without gradients; return accumulated outputs ``(T, batch, classes)`` after
        every step and the mean cumulative spikes per image ``(T,)``."""
        _check_steps(num_steps)
        outs, spikes = [], []
        total, count = 0, 0
        for out, c in self._steps(x, num_steps):
            total = total + out
            count = count + c.mean()
            outs.append(total)
            spikes.append(count)
        return torch.stack(outs), torch.stack(spikes)


def _check_steps(num_steps: int) -> None:
    if not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"num_steps must be a positive int, got {num_steps!r}")


def _check_ann(ann: nn.Module) -> list[nn.Module]:
    if not isinstance(ann, nn.Sequential):
        raise TypeError(f"convert expects an nn.Sequential ANN, got {type(ann).__name__}")
    layers = list(ann)
    supported = ", ".join(c.__name__ for c in _SUPPORTED)
    for i, m in enumerate(layers):
        if not isinstance(m, _SUPPORTED):
            raise TypeError(
                f"layer {i} ({type(m).__name__}) cannot be converted; supported layers: "
                f"{supported}. Use average pooling instead of max pooling and no batch norm."
            )
        if isinstance(m, _WEIGHTED) and m.bias is not None:
            raise ValueError(
                f"layer {i} ({type(m).__name__}) has a bias; conversion needs bias=False "
                "(a bias is a constant current the rate code cannot balance). Retrain without it."
            )
    weighted = [i for i, m in enumerate(layers) if isinstance(m, _WEIGHTED)]
    relus = [i for i, m in enumerate(layers) if isinstance(m, nn.ReLU)]
    if not weighted or not relus:
        raise ValueError("the ANN needs at least one Conv2d/Linear layer followed by a ReLU")
    if relus[-1] > weighted[-1]:
        raise ValueError(
            "the last Conv2d/Linear layer is the output: it must not be followed by a ReLU"
        )
    if relus[0] < weighted[0]:
        raise ValueError("a ReLU comes before the first Conv2d/Linear layer; remove it")
    return layers


def to_spiking(
    ann: nn.Sequential,
    *,
    num_steps: int = 32,
    threshold: float = 1.0,
    surrogate: str = "stdb",
    alpha: float = 0.3,
    beta: float = 0.01,
    input_encoding: str = "direct",
) -> SpikingNetwork:
    """Copy ``ann``'s weights into a :class:`SpikingNetwork`, each ReLU becoming an IF layer.

    All thresholds start at ``threshold``; :func:`convert` balances them. The
    ANN is refused (TypeError/ValueError) if it is not an ``nn.Sequential`` of
    bias-free Conv2d/Linear, ReLU, AvgPool2d and Flatten layers ending in a
    Conv2d/Linear output layer. ``ann`` itself is not modified.
    """
    layers = _check_ann(ann)
    out = [
        IFNeuron(threshold, surrogate=surrogate, alpha=alpha, beta=beta)
        if isinstance(m, nn.ReLU)
        else copy.deepcopy(m)
        for m in layers
    ]
    return SpikingNetwork(out, num_steps=num_steps, input_encoding=input_encoding)


def _as_batches(calibration: torch.Tensor | Iterable[torch.Tensor]) -> list[torch.Tensor]:
    if isinstance(calibration, torch.Tensor):
        batches = [calibration]
    else:
        batches = [b[0] if isinstance(b, tuple | list) else b for b in calibration]
    if not batches or any(not isinstance(b, torch.Tensor) or len(b) == 0 for b in batches):
        raise ValueError("calibration_batches must be a non-empty tensor or iterable of tensors")
    return batches


@torch.no_grad()
def balance_thresholds(
    snn: SpikingNetwork,
    calibration_batches: torch.Tensor | Iterable[torch.Tensor],
    *,
    num_steps: int = 128,
    method: str = "max",
    percentile: float = 99.9,
) -> list[float]:
    """Set each spiking layer's threshold from the currents it receives; return them.

    Layer by layer, input side first: run ``snn`` for ``num_steps`` on the
    calibration images (earlier layers already spiking at their new
    thresholds) and set the threshold to the largest input current seen
    (``method="max"``, Rathi et al. 2020) or to its ``percentile``-th
    percentile over steps, images and neurons (``method="percentile"``).
    """
    if method not in ("max", "percentile"):
        raise ValueError(f"method must be 'max' or 'percentile', got {method!r}")
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {percentile!r}")
    _check_steps(num_steps)
    batches = _as_batches(calibration_batches)
    was_training = snn.training
    snn.eval()
    for neuron in snn.neurons:
        values = _collect(snn, neuron, batches, num_steps, method, percentile)
        if not values > 0:
            raise ValueError(
                "a layer received no positive current on the calibration data; "
                "check the ANN (dead ReLUs?) or use more calibration images"
            )
        neuron.threshold.fill_(values)
    snn.train(was_training)
    return snn.thresholds


def _collect(
    snn: SpikingNetwork,
    neuron: IFNeuron,
    batches: list[torch.Tensor],
    num_steps: int,
    method: str,
    percentile: float,
) -> float:
    """Max, or exact percentile by a running top-k, of the currents reaching ``neuron``."""
    if method == "max":
        best = -math.inf
        for xb in batches:
            for current, _ in snn._steps(xb, num_steps, stop=neuron):
                best = max(best, current.max().item())
        return best
    n_total = None
    top = torch.empty(0)
    for xb in batches:
        for current, _ in snn._steps(xb, num_steps, stop=neuron):
            if n_total is None:  # same count every step and batch size
                per_image = current[0].numel()
                n_total = per_image * num_steps * sum(len(b) for b in batches)
                k = max(1, math.ceil((100 - percentile) * n_total / 100 - 1e-9))
            flat = current.flatten()
            top = torch.cat([top, flat.topk(min(k, flat.numel())).values])
            top = top.topk(min(k, top.numel())).values
    return top.min().item()


def convert(
    ann: nn.Sequential,
    calibration_batches: torch.Tensor | Iterable[torch.Tensor],
    *,
    num_steps: int = 32,
    calibration_steps: int = 128,
    method: str = "max",
    percentile: float = 99.9,
    scale: float = 1.0,
    surrogate: str = "stdb",
    alpha: float = 0.3,
    beta: float = 0.01,
    input_encoding: str = "direct",
) -> SpikingNetwork:
    """Convert a bias-free ReLU ``ann`` into a :class:`SpikingNetwork` with balanced thresholds.

    :func:`to_spiking`, then :func:`balance_thresholds` on
    ``calibration_batches`` for ``calibration_steps`` steps, then every
    threshold multiplied by ``scale`` (the paper uses 0.7 before training at
    few time steps). The result runs for ``num_steps`` steps and returns
    accumulated output logits.
    """
    _check_positive("scale", scale)
    snn = to_spiking(
        ann,
        num_steps=num_steps,
        surrogate=surrogate,
        alpha=alpha,
        beta=beta,
        input_encoding=input_encoding,
    )
    balance_thresholds(
        snn, calibration_batches, num_steps=calibration_steps, method=method, percentile=percentile
    )
    with torch.no_grad():
        for n in snn.neurons:
            n.threshold.mul_(scale)
    return snn


# -------------------------------------------------------------------- plotting
def plot_tradeoff(
    steps: Sequence[int] | np.ndarray,
    accuracy: dict[str, Sequence[float]],
    spikes: dict[str, Sequence[float]],
    *,
    marker: int | None = None,
    ann_accuracy: float | None = None,
) -> Figure:
    """Accuracy and spikes per image against the number of time steps, one line per network.

    ``accuracy[name][i]`` and ``spikes[name][i]`` are measured after
    ``steps[i]`` steps; ``marker`` draws a vertical line at that ``T`` and
    annotates each curve's accuracy there (for :func:`snnbook.widgets.explore`).
    """
    from snnbook.plotting import COLORS, new_figure

    steps = np.asarray(steps)
    fig, axes = new_figure(ncols=2, figsize=(8, 3.2))
    ax_acc, ax_spk = axes[0]
    for k, name in enumerate(accuracy):
        color = COLORS[k % len(COLORS)]
        acc = np.asarray(accuracy[name])
        ax_acc.plot(steps, acc, color=color, label=name)
        ax_spk.plot(steps, np.asarray(spikes[name]), color=color, label=name)
        if marker is not None:
            i = int(np.argmin(np.abs(steps - marker)))
            ax_acc.plot(steps[i], acc[i], "o", color=color)
            ax_acc.annotate(
                f"{acc[i]:.1%}",
                (steps[i], acc[i]),
                xytext=(4, -10 - 10 * k),
                textcoords="offset points",
                color=color,
                fontsize=8,
            )
    if ann_accuracy is not None:
        ax_acc.axhline(ann_accuracy, color="0.4", ls="--", lw=1, label="ANN")
    for ax in (ax_acc, ax_spk):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("time steps $T$")
        if marker is not None:
            ax.axvline(marker, color="0.6", lw=1)
    ax_acc.set_ylabel("test accuracy")
    ax_spk.set_ylabel("spikes per image")
    ax_acc.legend(loc="lower right", fontsize=8)
    return fig
