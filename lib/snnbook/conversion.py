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
(``input_encoding="direct"``) or as Poisson spikes (``"rate"``): at every step
:math:`x^{\text{in}}_t = \mathrm{sign}(x)\,\mathbb 1[u_t \le |x|]` with
:math:`u_t` uniform in [0, 1], the code of the reference implementation
(``PoissonGenerator`` in ``self_models/vgg_spiking.py``); for pixels in
[0, 1] these are Bernoulli spikes of rate ``x``.

One deviation from the reference code: there a neuron compares the membrane
of the *previous* step with its threshold before adding this step's current,
so a spike reaches the next layer one step later per layer. Here a current
can cross all layers within one step, which matters at the few steps
(4 to 8) that the book trains at and not at the paper's 100 to 250.

**Threshold balancing** is done on the spiking network, layer by layer: with
the earlier layers already spiking at their balanced thresholds, run the
network on calibration images and set :math:`\theta_l` to the largest input
current layer ``l`` receives over steps, images and neurons (the paper), or
to a high percentile of it (the robust rule of Rueckauer et al. 2017, which
ignores rare outliers). For training at few time steps the paper then scales
all thresholds by 0.7.

Scales compose across layers. Balanced this way, layer ``l`` fires at about
:math:`a_l / \lambda_l`, where :math:`a_l` is the ANN's activation and
:math:`\lambda_l` its largest value (the thresholds' running product equals
:math:`\lambda_l`): each layer's rate is its activation normalised by the
layer's maximum. Multiplying *every* threshold by ``s`` multiplies the rate of
layer ``l`` by :math:`s^{-l}`, since each layer also receives the faster
spikes of the one below; the rate code's ceiling of one spike per step then
clips the deep layers first.

**STDB.** The spike function is a step, so its derivative is replaced by a
function of the time since the neuron last fired,

.. math::

    \frac{\partial o_t}{\partial v_t} = \alpha\, e^{-\beta\, \Delta t},
    \qquad v_t = U_t/\theta_l - 1,\qquad \Delta t = t - t_{\text{last}},

with :math:`\alpha = 0.3`, :math:`\beta = 0.01`. A neuron that never fired
has :math:`t_{\text{last}} = -1000` (as in the reference code), so its
gradient is about :math:`\alpha e^{-10} \approx 10^{-5}`. The alternative,
and the reference code's default (``--activation Linear`` in ``snn.py``), is
the piecewise-linear surrogate :math:`\partial o/\partial v = \alpha \max(0, 1 - |v|)`.

Every function runs on the device and dtype of its input (CPU, CUDA, MPS);
nothing in a forward pass reads values back to the host.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from snnbook import checks

__all__ = [
    "stdb_spike",
    "linear_spike",
    "poisson_spikes",
    "IFNeuron",
    "SpikingNetwork",
    "to_spiking",
    "balance_thresholds",
    "convert",
    "rescaled",
    "NEVER_FIRED",
    "plot_tradeoff",
]

#: Last-spike time of a neuron that has not fired yet (the reference code's -1000).
NEVER_FIRED = -1000.0

_SUPPORTED = (nn.Conv2d, nn.Linear, nn.ReLU, nn.AvgPool2d, nn.Flatten)
_WEIGHTED = (nn.Conv2d, nn.Linear)
_SURROGATES = ("stdb", "linear")
_ENCODINGS = ("direct", "rate")
_METHODS = ("max", "percentile")


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


def _alpha_beta(alpha: object, beta: object) -> tuple[float, float]:
    alpha = checks.positive("alpha", alpha, hint="the paper uses alpha = 0.3")
    beta = checks.number("beta", beta, low=0.0, hint="the paper uses beta = 0.01")
    return alpha, beta


def stdb_spike(
    v: torch.Tensor, dt: torch.Tensor, *, alpha: float = 0.3, beta: float = 0.01
) -> torch.Tensor:
    r"""Spike ``o = H(v)`` (1 where ``v >= 0``) with the STDB surrogate gradient.

    ``v = U / theta - 1`` is the normalised membrane potential and ``dt`` the
    number of steps since the neuron last fired (same shape as ``v``). The
    backward pass uses :math:`\partial o / \partial v = \alpha e^{-\beta\,dt}`
    (Rathi et al. 2020; defaults from the paper). No gradient flows to ``dt``.
    """
    checks.tensor("v", v, kind="float")
    checks.tensor("dt", dt, kind="real")
    if v.shape != dt.shape:
        raise ValueError(
            f"v and dt must have the same shape, got {tuple(v.shape)} and {tuple(dt.shape)}; "
            "pass one time-since-last-spike per neuron"
        )
    alpha, beta = _alpha_beta(alpha, beta)
    return _STDBSpike.apply(v, dt.to(v.dtype), alpha, beta)


def linear_spike(v: torch.Tensor, *, alpha: float = 0.3) -> torch.Tensor:
    r"""Spike ``o = H(v)`` with the piecewise-linear surrogate.

    Backward: :math:`\partial o / \partial v = \alpha \max(0, 1 - |v|)`, a
    triangle around the threshold (``v = 0``); ``alpha = 0.3`` as in the
    reference implementation of Rathi et al. (2020), where it is the default.
    """
    checks.tensor("v", v, kind="float")
    alpha = checks.positive("alpha", alpha, hint="the reference code uses alpha = 0.3")
    return _LinearSpike.apply(v, alpha)


def poisson_spikes(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""One step of the reference code's Poisson input: :math:`\mathrm{sign}(x)\,\mathbb 1[u \le |x|]`.

    ``u`` is uniform in [0, 1] (drawn with ``generator`` if given, on ``x``'s
    device), so a pixel of value ``x`` in [-1, 1] fires with probability
    ``|x|`` and sign ``sign(x)``; values beyond [-1, 1] fire at every step.
    """
    checks.tensor("x", x, kind="float")
    u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return (u <= x.abs()).to(x.dtype) * x.sign()


# ---------------------------------------------------------------------- neuron
def _surrogate(surrogate: object) -> str:
    return checks.one_of(
        "surrogate",
        surrogate,
        _SURROGATES,
        hint="'stdb' (Rathi et al.'s spike-time surrogate) or 'linear' (piecewise-linear)",
    )


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
        threshold = checks.positive("threshold", threshold)
        self.surrogate = _surrogate(surrogate)
        self.alpha, self.beta = _alpha_beta(alpha, beta)
        self.register_buffer("threshold", torch.tensor(threshold))

    def extra_repr(self) -> str:
        if self.threshold.device.type == "meta":
            return f"surrogate={self.surrogate!r}"
        return f"threshold={float(self.threshold):.4g}, surrogate={self.surrogate!r}"

    def forward(
        self,
        current: torch.Tensor,
        state: tuple[torch.Tensor, torch.Tensor | None] | None,
        t: int,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor | None]]:
        """Advance one step ``t``; ``state`` is ``(membrane, last_spike_time)`` or None at t = 0.

        Without autograd (``torch.no_grad``) the last spike times are not
        tracked (they only shape the STDB gradient) and stay None.
        """
        checks.tensor("current", current, kind="float")
        t = checks.nonnegative_int("t", t, hint="pass the index of the time step, 0, 1, 2, ...")
        if state is None:
            mem, last = torch.zeros_like(current), None
        elif isinstance(state, tuple) and len(state) == 2:
            mem, last = state
            checks.tensor("state[0] (membrane)", mem, shape=tuple(current.shape))
        else:
            raise TypeError(
                f"state must be None or the (membrane, last_spike_time) tuple this neuron "
                f"returned, got {type(state).__name__}"
            )
        threshold = self.threshold.to(current.dtype)
        mem = mem + current
        if not torch.is_grad_enabled():  # inference: no surrogate, no spike-time bookkeeping
            spikes = (mem >= threshold).to(mem.dtype)
            return spikes, (mem - threshold * spikes, last)
        if last is None:
            last = torch.full_like(current, NEVER_FIRED)
        v = mem / threshold - 1
        if self.surrogate == "stdb":
            spikes = stdb_spike(v, t - last, alpha=self.alpha, beta=self.beta)
        else:
            spikes = linear_spike(v, alpha=self.alpha)
        fired = spikes.detach()
        mem = mem - threshold * fired
        last = torch.where(fired > 0, float(t), last)
        return spikes, (mem, last)


# --------------------------------------------------------------------- network
class SpikingNetwork(nn.Module):
    """A converted (or from-scratch) network of IF neurons, run for ``num_steps``.

    ``forward(x)`` returns the output layer's accumulated current
    :math:`\\sum_t W^L o^{L-1}_t` of shape ``(batch, classes)``, and stores the
    mean number of spikes per image in ``spikes_per_image`` (a 0-d tensor on
    the input's device; read it with ``float(...)``). ``trace`` returns the
    same quantities after every step, for accuracy-versus-latency curves, and
    ``layer_rates`` the firing rate of each spiking layer. Build it with
    :func:`to_spiking` or :func:`convert`.
    """

    def __init__(self, layers: Sequence[nn.Module], *, num_steps: int, input_encoding: str) -> None:
        super().__init__()
        if isinstance(layers, nn.Module) or not isinstance(layers, Sequence | nn.ModuleList):
            raise TypeError(
                f"layers must be a list of modules, got {type(layers).__name__}; "
                "build the network with to_spiking(ann)"
            )
        for i, m in enumerate(layers):
            if not isinstance(m, nn.Module):
                raise TypeError(f"layers[{i}] must be an nn.Module, got {type(m).__name__}")
        self.layers = nn.ModuleList(layers)
        self.num_steps = checks.positive_int("num_steps", num_steps)
        self.input_encoding = checks.one_of(
            "input_encoding", input_encoding, _ENCODINGS, hint="'direct' (currents) or 'rate'"
        )
        self.spikes_per_image: torch.Tensor | None = None
        first = next((i for i, m in enumerate(self.layers) if isinstance(m, IFNeuron)), None)
        if first is None:
            raise ValueError(
                "layers must hold at least one IFNeuron layer (a SpikingNetwork needs "
                "spiking layers); build it with to_spiking"
            )
        self._first = first

    @property
    def neurons(self) -> list[IFNeuron]:
        """The spiking layers, input side first."""
        return [m for m in self.layers if isinstance(m, IFNeuron)]

    @property
    def thresholds(self) -> list[float]:
        """Current thresholds, one per spiking layer (read back to the host)."""
        return [float(n.threshold) for n in self.neurons]

    def set_surrogate(self, surrogate: str, *, alpha: float = 0.3, beta: float = 0.01) -> None:
        """Use ``surrogate`` (``"stdb"`` or ``"linear"``) in every spiking layer."""
        surrogate = _surrogate(surrogate)
        alpha, beta = _alpha_beta(alpha, beta)
        for n in self.neurons:
            n.surrogate, n.alpha, n.beta = surrogate, alpha, beta

    def _check_input(self, x: object) -> torch.Tensor:
        return checks.tensor(
            "x", x, ndim=(2, 3, 4, 5), kind="float", hint="pass a batch of images (batch, ...)"
        )

    def _steps(
        self, x: torch.Tensor, num_steps: int, stop: IFNeuron | None = None
    ) -> Iterator[tuple[torch.Tensor, list[torch.Tensor]]]:
        """Yield ``(current, spikes)`` per step.

        ``current`` is what reaches ``stop`` (the output layer when None);
        ``spikes`` lists the (detached) spikes of each spiking layer before it.
        """
        prefix = nn.Sequential(*self.layers[: self._first])
        static = prefix(x) if self.input_encoding == "direct" else None
        states: dict[int, tuple[torch.Tensor, torch.Tensor | None] | None] = {}
        for t in range(num_steps):
            h = static if static is not None else prefix(poisson_spikes(x))
            spikes = []
            for i in range(self._first, len(self.layers)):
                layer = self.layers[i]
                if isinstance(layer, IFNeuron):
                    if layer is stop:
                        break
                    h, states[i] = layer(h, states.get(i), t)
                    spikes.append(h.detach())
                else:
                    h = layer(h)
            yield h, spikes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Accumulated output current over ``num_steps`` steps, ``(batch, classes)``."""
        x = self._check_input(x)
        total, spikes = 0, 0
        for out, layer_spikes in self._steps(x, self.num_steps):
            total = total + out
            spikes = spikes + sum(s.flatten(1).sum(1) for s in layer_spikes)
        self.spikes_per_image = spikes.mean()
        return total

    def _check_values(self, x: torch.Tensor) -> None:
        if self.input_encoding == "rate":
            checks.finite_values(
                "x", x, low=-1.0, high=1.0, hint="the Poisson code takes pixels in [-1, 1]"
            )
        else:
            checks.finite_values("x", x)

    @torch.no_grad()
    def trace(self, x: torch.Tensor, num_steps: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Run without gradients; return accumulated outputs ``(T, batch, classes)`` after
        every step and the mean cumulative spikes per image ``(T,)``."""
        x = self._check_input(x)
        num_steps = checks.positive_int("num_steps", num_steps)
        self._check_values(x)
        outs, spikes = [], []
        total, count = 0, 0
        for out, layer_spikes in self._steps(x, num_steps):
            total = total + out
            count = count + sum(s.flatten(1).sum(1) for s in layer_spikes).mean()
            outs.append(total)
            spikes.append(count)
        return torch.stack(outs), torch.stack(spikes)

    @torch.no_grad()
    def layer_rates(self, x: torch.Tensor, num_steps: int | None = None) -> torch.Tensor:
        """Mean firing rate of each spiking layer (spikes per neuron per step), input side first.

        Runs ``num_steps`` steps (default: ``self.num_steps``) without
        gradients; a rate of 1 is the ceiling of one spike per step.
        """
        x = self._check_input(x)
        num_steps = self.num_steps if num_steps is None else num_steps
        num_steps = checks.positive_int("num_steps", num_steps)
        self._check_values(x)
        totals = 0
        for _, layer_spikes in self._steps(x, num_steps):
            totals = totals + torch.stack([s.mean() for s in layer_spikes])
        return totals / num_steps


def _check_ann(ann: object) -> list[nn.Module]:
    if not isinstance(ann, nn.Sequential):
        raise TypeError(
            f"ann must be an nn.Sequential of bias-free Conv2d/Linear, ReLU, AvgPool2d and "
            f"Flatten layers, got {type(ann).__name__}"
        )
    layers = list(ann)
    supported = ", ".join(c.__name__ for c in _SUPPORTED)
    for i, m in enumerate(layers):
        if not isinstance(m, _SUPPORTED):
            raise TypeError(
                f"ann layer {i} ({type(m).__name__}) cannot be converted; supported layers: "
                f"{supported}. Use average pooling instead of max pooling and no batch norm."
            )
        if isinstance(m, _WEIGHTED) and m.bias is not None:
            raise ValueError(
                f"ann layer {i} ({type(m).__name__}) has a bias; conversion needs bias=False "
                "(a bias is a constant current the rate code cannot balance). Retrain without it."
            )
    weighted = [i for i, m in enumerate(layers) if isinstance(m, _WEIGHTED)]
    relus = [i for i, m in enumerate(layers) if isinstance(m, nn.ReLU)]
    if not weighted or not relus:
        raise ValueError("the ann needs at least one Conv2d/Linear layer followed by a ReLU")
    if relus[-1] > weighted[-1]:
        raise ValueError(
            "the ann's last Conv2d/Linear layer is the output: it must not be followed by a ReLU"
        )
    if relus[0] < weighted[0]:
        raise ValueError("the ann has a ReLU before its first Conv2d/Linear layer; remove it")
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
    num_steps = checks.positive_int("num_steps", num_steps)
    threshold = checks.positive("threshold", threshold)
    surrogate = _surrogate(surrogate)
    alpha, beta = _alpha_beta(alpha, beta)
    out = [
        IFNeuron(threshold, surrogate=surrogate, alpha=alpha, beta=beta)
        if isinstance(m, nn.ReLU)
        else copy.deepcopy(m)
        for m in layers
    ]
    net = SpikingNetwork(out, num_steps=num_steps, input_encoding=input_encoding)
    weight = next(p for p in ann.parameters())
    return net.to(device=weight.device, dtype=weight.dtype)


def _as_batches(calibration: object) -> list[torch.Tensor]:
    hint = "pass a tensor of images or a list of such tensors (or (x, y) pairs)"
    if isinstance(calibration, torch.Tensor):
        batches = [calibration]
    elif isinstance(calibration, Iterable) and not isinstance(calibration, str | bytes):
        batches = [b[0] if isinstance(b, tuple | list) else b for b in calibration]
    else:
        raise TypeError(
            f"calibration_batches must be a tensor or an iterable of tensors, "
            f"got {type(calibration).__name__}; {hint}"
        )
    if not batches:
        raise ValueError(f"calibration_batches must be non-empty; {hint}")
    for i, b in enumerate(batches):
        checks.tensor(f"calibration_batches[{i}]", b, ndim=(2, 3, 4, 5), kind="float", hint=hint)
        checks.finite_values(f"calibration_batches[{i}]", b)
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
    percentile over steps, images and neurons (``method="percentile"``,
    Rueckauer et al. 2017).
    """
    if not isinstance(snn, SpikingNetwork):
        raise TypeError(f"snn must be a SpikingNetwork (from to_spiking), got {type(snn).__name__}")
    batches = _as_batches(calibration_batches)
    num_steps = checks.positive_int("num_steps", num_steps)
    method = checks.one_of("method", method, _METHODS)
    percentile = checks.number(
        "percentile", percentile, low=0.0, high=100.0, low_open=True, hint="99.9 is typical"
    )
    was_training = snn.training
    snn.eval()
    for neuron in snn.neurons:
        value = _collect(snn, neuron, batches, num_steps, method, percentile)
        if not value > 0:
            raise ValueError(
                "a layer received no positive current on the calibration data; "
                "check the ANN (dead ReLUs?) or use more calibration images"
            )
        neuron.threshold.fill_(value)
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
        best = None
        for xb in batches:
            for current, _ in snn._steps(xb, num_steps, stop=neuron):
                m = current.max()
                best = m if best is None else torch.maximum(best, m)
        return float(best)
    n_total, top, k = None, None, 1
    for xb in batches:
        for current, _ in snn._steps(xb, num_steps, stop=neuron):
            if n_total is None:  # same count every step and batch size
                per_image = current[0].numel()
                n_total = per_image * num_steps * sum(len(b) for b in batches)
                k = max(1, math.ceil((100 - percentile) * n_total / 100 - 1e-9))
            flat = current.flatten()
            flat = flat.topk(min(k, flat.numel())).values
            top = flat if top is None else torch.cat([top, flat])
            top = top.topk(min(k, top.numel())).values
    return float(top.min())


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
    few time steps; the factor compounds across layers, see the module
    docstring). The result runs for ``num_steps`` steps and returns
    accumulated output logits.
    """
    scale = checks.positive("scale", scale, hint="the paper uses 0.7 for short runs")
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


def rescaled(snn: SpikingNetwork, scale: float) -> SpikingNetwork:
    """A copy of ``snn`` with every threshold multiplied by ``scale`` (``snn`` is unchanged).

    ``rescaled(converted, 0.7)`` is the paper's starting point for training at
    few steps. Because each layer also receives the faster spikes of the layer
    below, layer ``l``'s rate grows by about ``scale ** -l`` until it reaches
    one spike per step.
    """
    if not isinstance(snn, SpikingNetwork):
        raise TypeError(f"snn must be a SpikingNetwork (from convert), got {type(snn).__name__}")
    scale = checks.positive("scale", scale, hint="the paper uses 0.7 for short runs")
    out = copy.deepcopy(snn)
    with torch.no_grad():
        for n in out.neurons:
            n.threshold.mul_(scale)
    return out


# -------------------------------------------------------------------- plotting
def _host(name: str, values: object) -> np.ndarray:
    """``values`` (tensor on any device, array or list) as a 1-D float NumPy array."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().float().numpy()
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be a list, array or tensor of numbers, got {type(values).__name__}"
        ) from None
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} holds NaN or infinite values; pass measured numbers")
    return array


def plot_tradeoff(
    steps: Sequence[int] | np.ndarray | torch.Tensor,
    accuracy: Mapping[str, Sequence[float]],
    spikes: Mapping[str, Sequence[float]],
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

    steps = _host("steps", steps)
    if np.any(steps <= 0):
        raise ValueError("steps must be positive numbers of time steps (the x axis is logarithmic)")
    for name, data in (("accuracy", accuracy), ("spikes", spikes)):
        if not isinstance(data, Mapping) or not data:
            raise TypeError(f"{name} must be a non-empty dict name -> values, one per network")
    if list(accuracy) != list(spikes):
        raise ValueError(
            f"accuracy and spikes must name the same networks, got {list(accuracy)} "
            f"and {list(spikes)}"
        )
    acc = {k: _host(f"accuracy[{k!r}]", v) for k, v in accuracy.items()}
    spk = {k: _host(f"spikes[{k!r}]", v) for k, v in spikes.items()}
    for k in acc:
        checks.same_length(steps=steps, **{"accuracy[name]": acc[k], "spikes[name]": spk[k]})
    if marker is not None:
        marker = checks.positive_int("marker", marker)
    if ann_accuracy is not None:
        ann_accuracy = checks.unit_interval("ann_accuracy", ann_accuracy)
    fig, axes = new_figure(ncols=2, figsize=(9, 3.4))
    ax_acc, ax_spk = axes[0]
    for k, name in enumerate(acc):
        color = COLORS[k % len(COLORS)]
        ax_acc.plot(steps, acc[name], color=color, label=name)
        ax_spk.plot(steps, spk[name], color=color, label=name)
        if marker is not None:
            i = int(np.argmin(np.abs(steps - marker)))
            ax_acc.plot(steps[i], acc[name][i], "o", color=color)
            ax_acc.annotate(
                f"{acc[name][i]:.1%}",
                (steps[i], acc[name][i]),
                xytext=(4, -10 - 11 * k),
                textcoords="offset points",
                color=color,
                fontsize=9,
            )
    if ann_accuracy is not None:
        ax_acc.axhline(ann_accuracy, color="0.4", ls="--", lw=1, label="ANN")
    for ax in (ax_acc, ax_spk):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("time steps $T$")
        if marker is not None:
            ax.axvline(marker, color="0.6", lw=1)
    ax_acc.set_ylabel("test accuracy")
    ax_acc.set_ylim(0, 1)
    ax_spk.set_ylabel("spikes per image")
    ax_acc.legend(loc="lower right", fontsize=8)
    return fig
