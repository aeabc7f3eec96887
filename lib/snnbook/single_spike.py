r"""Single-spike LIF layers, simulated without a loop over time.

After Taylor, King & Harper, "Robust and accelerated single-spike spiking neural
network training with applicability to challenging temporal tasks"
(arXiv 2205.15286) :cite:`taylor2022robust`. Their code (webstorms/FastSNN and
webstorms/Block, BSD-3-Clause) computes the same spikes with a length-``T``
convolution; this module derives them with a chunked scan of its own.

A leaky integrate-and-fire neuron with decay :math:`\beta \in [0, 1]` and
threshold :math:`\theta` follows (the convention of :class:`snntorch.Leaky`)

.. math::

    V[t] = \beta V[t-1] + I[t], \qquad S[t] = H(V[t] - \theta), \qquad V[-1] = 0,

with a reset after each spike. A neuron that may fire **at most once** never
needs its reset: after its only spike nothing it does matters. Its membrane up
to the first spike is therefore the *no-reset* membrane, a causal linear filter
of the input that can be computed for all steps at once,

.. math::

    \tilde V[t] = \sum_{k=0}^{t} \beta^{\,t-k} I[k],

and its output keeps only the first threshold crossing of
:math:`\tilde S[t] = H(\tilde V[t] - \theta)`. Counting earlier crossings with a
cumulative sum, :math:`c[t] = \sum_{k<t} \tilde S[k]`, gives

.. math::

    S[t] = \tilde S[t]\; \mathbb 1[c[t] = 0].

The mask :math:`\mathbb 1[c[t] = 0]` is treated as a constant in the backward
pass, so the gradient reaches the weights through the surrogate derivative of
:math:`\tilde S` at every step up to and including the first spike; this is
exactly the gradient of the step-by-step loop :func:`first_spike_lif_loop`
(whose "has fired" flag is likewise detached). The papers' codes choose a
different backward for the selection (see the chapter).

**How the filter is computed.** :func:`leaky_filter` cuts time into chunks of
``C`` steps. Inside a chunk the filter is a ``C x C`` lower-triangular matrix
:math:`L_{ij} = \beta^{i-j}` applied to all chunks in one matrix product; the
state carried from chunk to chunk is the same recursion with decay
:math:`\beta^C` over the ``T / C`` chunk ends, again one small triangular
product. The work grows as ``T * C`` (linear in ``T`` for a fixed chunk), not
``T**2`` like a full-length convolution, and there is no Python loop over time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from snntorch import surrogate
from torch import nn

from .lif import run_leaky

__all__ = [
    "DEFAULT_CHUNK",
    "leaky_filter",
    "leaky_filter_loop",
    "first_spike_lif",
    "first_spike_lif_loop",
    "first_spike_times",
    "SingleSpikeLinear",
    "multi_spike_lif_loop",
    "MultiSpikeLinear",
    "LeakyReadout",
    "LatencyEncoder",
    "SpikingClassifier",
    "time_forward_backward",
    "speed_sweep",
    "plot_single_neuron",
    "plot_speedups",
]

#: Chunk length of the scan in :func:`leaky_filter` (chosen by measurement on 2 CPU cores).
DEFAULT_CHUNK = 32


# ------------------------------------------------------------------ checks
def _check_currents(currents: torch.Tensor) -> None:
    if not isinstance(currents, torch.Tensor):
        raise TypeError(f"currents must be a torch.Tensor, got {type(currents).__name__}")
    if currents.dim() != 3:
        raise ValueError(
            "currents must be time-major with shape (T, batch, neurons), got shape "
            f"{tuple(currents.shape)}; add missing axes with currents[:, None] or reshape"
        )
    if not currents.is_floating_point():
        raise TypeError(f"currents must be a floating-point tensor, got dtype {currents.dtype}")
    if currents.shape[0] == 0:
        raise ValueError("currents has no time steps (T = 0); give at least one step")


def _as_beta(beta: float | torch.Tensor, currents: torch.Tensor) -> torch.Tensor:
    """``beta`` as a tensor of shape () or (neurons,), checked to lie in [0, 1]."""
    n = currents.shape[-1]
    if isinstance(beta, torch.Tensor):
        b = beta.to(currents.dtype)
        if b.dim() > 1 or (b.dim() == 1 and b.numel() != n):
            raise ValueError(
                f"beta must be a float or a tensor of shape ({n},) (one per neuron), "
                f"got shape {tuple(b.shape)}"
            )
    elif isinstance(beta, int | float):
        b = torch.tensor(float(beta), dtype=currents.dtype)
    else:
        raise TypeError(f"beta must be a float or a tensor, got {type(beta).__name__}")
    with torch.no_grad():
        if not bool(torch.isfinite(b).all()) or b.min() < 0 or b.max() > 1:
            raise ValueError(
                f"beta must lie in [0, 1] (beta = exp(-dt / tau)), got values in "
                f"[{b.min().item():.4g}, {b.max().item():.4g}]; clamp it first"
            )
    return b


def _check_threshold(threshold: float) -> None:
    if not isinstance(threshold, int | float) or not threshold > 0:
        raise ValueError(f"threshold must be a positive number, got {threshold!r}")


def _check_chunk(chunk: int) -> None:
    if not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be a positive int, got {chunk!r}")


# ------------------------------------------------------------------ the filter
def _decay_matrix(beta: torch.Tensor, size: int) -> torch.Tensor:
    """``L[..., i, j] = beta**(i - j)`` for ``i >= j`` and 0 above the diagonal."""
    steps = torch.arange(size, dtype=beta.dtype)
    lag = steps[:, None] - steps[None, :]
    powers = beta[..., None, None] ** lag.clamp(min=0)
    return powers * (lag >= 0)


def _chunk_size(steps: int, chunk: int) -> int:
    """A chunk length near ``chunk`` that divides ``steps`` (no padding), if there is one."""
    if steps <= chunk:
        return steps
    for delta in range(chunk // 2 + 1):
        for size in (chunk + delta, chunk - delta):
            if size > 1 and steps % size == 0:
                return size
    return chunk


def _scan(x: torch.Tensor, b: torch.Tensor, chunk: int, *, reverse: bool = False) -> torch.Tensor:
    """Chunked scan of ``V[t] = b V[t-1] + x[t]`` (``reverse``: ``V[t] = b V[t+1] + x[t]``).

    The reverse scan is the transpose of the forward one, which is what the
    backward pass of a causal filter needs. Under ``torch.no_grad`` the carry
    is added in place, so the result is the only full-size tensor allocated.
    """
    steps, batch, neurons = x.shape
    size = _chunk_size(steps, chunk)
    n_chunks = -(-steps // size)
    pad = n_chunks * size - steps
    if pad:  # zeros after the end change nothing before it, in either direction
        x = torch.cat([x, x.new_zeros(pad, batch, neurons)])
    x = x.reshape(n_chunks, size, batch, neurons)
    inner = _decay_matrix(b, size)  # (size, size) or (neurons, size, size)
    if reverse:
        inner = inner.transpose(-1, -2)
    if b.dim() == 0:
        v = torch.matmul(inner, x.reshape(n_chunks, size, batch * neurons))
        v = v.reshape(n_chunks, size, batch, neurons)
    else:
        v = torch.einsum("nij,kjbn->kibn", inner, x)
    if n_chunks > 1:
        # state at each chunk's boundary step, from that chunk's own input only
        ends = v[:, 0] if reverse else v[:, -1]
        outer = _decay_matrix(b**size, n_chunks)  # the same recursion over whole chunks
        if reverse:
            outer = outer.transpose(-1, -2)
        if b.dim() == 0:
            carried = torch.matmul(outer, ends.reshape(n_chunks, batch * neurons))
            carried = carried.reshape(n_chunks, batch, neurons)
        else:
            carried = torch.einsum("nkm,mbn->kbn", outer, ends)
        # a state entering a chunk decays as b**(1 + steps travelled inside it)
        growth = b[..., None] ** torch.arange(1, size + 1, dtype=b.dtype)  # (size,) / (N, size)
        if reverse:
            growth = growth.flip(-1)
        growth = (growth.T if b.dim() else growth).reshape(1, size, 1, -1)
        target, source = (v[:-1], carried[1:]) if reverse else (v[1:], carried[:-1])
        if torch.is_grad_enabled() and (v.requires_grad or growth.requires_grad):
            carry = growth * source[:, None]
            v = torch.cat([v[:-1] + carry, v[-1:]] if reverse else [v[:1], v[1:] + carry])
        else:
            target.addcmul_(growth, source[:, None])
    v = v.reshape(n_chunks * size, batch, neurons)
    return v[:steps] if pad else v


def leaky_filter(
    currents: torch.Tensor, beta: float | torch.Tensor, *, chunk: int = DEFAULT_CHUNK
) -> torch.Tensor:
    r"""No-reset membrane :math:`V[t] = \beta V[t-1] + I[t]` for all ``t`` at once.

    ``currents`` is time-major ``(T, batch, neurons)``; ``beta`` a float or a
    per-neuron tensor in [0, 1]. Computed as a chunked scan (module docstring):
    one batched ``chunk x chunk`` triangular product inside the chunks, one
    ``(T/chunk) x (T/chunk)`` product for the carried state. Differentiable in
    ``currents`` and ``beta`` (through autograd).
    """
    _check_currents(currents)
    b = _as_beta(beta, currents)
    _check_chunk(chunk)
    return _scan(currents, b, chunk)


def leaky_filter_loop(currents: torch.Tensor, beta: float | torch.Tensor) -> torch.Tensor:
    r"""Reference for :func:`leaky_filter`: :math:`V[t] = \beta V[t-1] + I[t]`, step by step."""
    _check_currents(currents)
    b = _as_beta(beta, currents)
    v = torch.zeros_like(currents[0])
    out = []
    for i_t in currents.unbind(0):
        v = b * v + i_t
        out.append(v)
    return torch.stack(out)


# ------------------------------------------------------------------ single-spike LIF
def _select_first(candidates: torch.Tensor, chunk: int = DEFAULT_CHUNK) -> torch.Tensor:
    """``1[no candidate before t]`` as 0/1 floats: ones up to and including the first crossing.

    The count of earlier crossings is a cumulative sum over time, i.e. the same
    scan with ``beta = 1`` (exact: small integers in floating point). On a CPU
    this matrix form is several times faster than ``torch.cumsum`` along the
    first axis, which walks memory with a large stride.
    """
    with torch.no_grad():
        one = torch.ones((), dtype=candidates.dtype)
        earlier = _scan(candidates, one, chunk).sub_(candidates)
        return earlier.eq_(0)


class _FirstSpike(torch.autograd.Function):
    """Fused forward/backward of the single-spike layer for a constant ``beta``.

    Forward: ``S = H(V - theta) * mask`` with ``V`` the no-reset membrane.
    Backward: ``dL/dI = scan_reverse(dL/dS * mask * sigma'(V - theta))`` with the
    fast-sigmoid derivative ``sigma'(x) = 1 / (slope |x| + 1)**2`` (as
    :func:`snntorch.surrogate.fast_sigmoid`); the transpose of the causal filter
    is the same filter run backwards in time. Only one tensor is kept for the
    backward pass, no autograd graph is built, and the work is done in place
    (on a CPU, allocating large fresh tensors costs as much as computing them).
    """

    @staticmethod
    def forward(ctx, currents, beta, threshold, slope, chunk):  # noqa: ANN001, ANN205
        x = _scan(currents, beta, chunk).sub_(threshold)
        spikes = torch.gt(x, 0, out=torch.empty_like(x))  # candidates H(V - theta)
        mask = _select_first(spikes, chunk)
        spikes.mul_(mask)
        # sigma'(x) where the gradient flows (t <= first spike), 0 after it
        x.abs_().mul_(slope).add_(1.0).square_()
        ctx.save_for_backward(mask.div_(x), beta)
        ctx.chunk = chunk
        return spikes

    @staticmethod
    def backward(ctx, grad_spikes):  # noqa: ANN001, ANN205
        surrogate_grad, beta = ctx.saved_tensors
        grad = _scan(grad_spikes * surrogate_grad, beta, ctx.chunk, reverse=True)
        return grad, None, None, None, None


def first_spike_lif(
    currents: torch.Tensor,
    beta: float | torch.Tensor,
    threshold: float = 1.0,
    *,
    slope: float = 10.0,
    chunk: int = DEFAULT_CHUNK,
) -> torch.Tensor:
    r"""Spikes of single-spike LIF neurons, computed without a loop over time.

    :math:`S[t] = \tilde S[t]\,\mathbb 1[\sum_{k<t}\tilde S[k] = 0]` with
    :math:`\tilde S = H(\tilde V - \theta)` and :math:`\tilde V` the no-reset
    membrane of :func:`leaky_filter` (Taylor et al., module docstring). The
    backward pass uses the fast-sigmoid surrogate
    :math:`1/(\text{slope}\,|\tilde V-\theta|+1)^2` up to the first spike.

    ``currents``: time-major ``(T, batch, neurons)``; ``beta``: float or
    per-neuron tensor in [0, 1] (a ``beta`` that requires grad is trained
    through plain autograd, slower). Returns spikes of the same shape, at most
    one per neuron and sample.
    """
    _check_currents(currents)
    _check_threshold(threshold)
    _check_chunk(chunk)
    if not slope > 0:
        raise ValueError(f"slope must be positive, got {slope!r}")
    b = _as_beta(beta, currents)
    if not b.requires_grad:
        return _FirstSpike.apply(currents, b, float(threshold), float(slope), chunk)
    # readable autograd version (also the one that gives beta a gradient)
    candidates = surrogate.fast_sigmoid(slope=slope)(_scan(currents, b, chunk) - threshold)
    with torch.no_grad():
        mask = _select_first(candidates)
    return candidates * mask


def first_spike_lif_loop(
    currents: torch.Tensor,
    beta: float | torch.Tensor,
    threshold: float = 1.0,
    *,
    slope: float = 10.0,
) -> torch.Tensor:
    """Reference for :func:`first_spike_lif`: the single-spike LIF, one step at a time.

    Each step integrates, fires if above threshold and not yet fired, then marks
    the neuron as spent (a detached flag). No reset is needed: a spent neuron's
    membrane never matters again.
    """
    _check_currents(currents)
    _check_threshold(threshold)
    b = _as_beta(beta, currents)
    spike_fn = surrogate.fast_sigmoid(slope=slope)
    v = torch.zeros_like(currents[0])
    ready = torch.ones_like(currents[0])
    out = []
    for i_t in currents.unbind(0):
        v = b * v + i_t
        s = spike_fn(v - threshold) * ready
        ready = ready * (1 - s.detach())
        out.append(s)
    return torch.stack(out)


def first_spike_times(spikes: torch.Tensor) -> torch.Tensor:
    """Index of each neuron's first spike along time (dim 0); ``T`` where it never fires."""
    if spikes.dim() < 1 or spikes.shape[0] == 0:
        raise ValueError(f"spikes must have a non-empty time axis first, got {tuple(spikes.shape)}")
    fired = spikes > 0
    idx = fired.to(torch.uint8).argmax(dim=0)
    return torch.where(fired.any(dim=0), idx, torch.full_like(idx, spikes.shape[0]))


# ------------------------------------------------------------------ layers
class SingleSpikeLinear(nn.Module):
    """Linear synapses into single-spike LIF neurons: ``(T, batch, in) -> (T, batch, out)``.

    Currents ``I = W x + b`` for all steps in one matrix product, then
    :func:`first_spike_lif` (``method="parallel"``) or the reference loop
    (``method="loop"``); both use the fast-sigmoid surrogate with ``slope``. With ``learn_beta`` each neuron learns its own decay,
    clamped to [0, 1].
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        beta: float = 0.9,
        threshold: float = 1.0,
        learn_beta: bool = False,
        bias: bool = True,
        slope: float = 10.0,
        method: str = "parallel",
    ) -> None:
        super().__init__()
        if method not in ("parallel", "loop"):
            raise ValueError(f"method must be 'parallel' or 'loop', got {method!r}")
        if not 0 <= beta <= 1:
            raise ValueError(f"beta must lie in [0, 1], got {beta}")
        _check_threshold(threshold)
        self.fc = nn.Linear(in_features, out_features, bias=bias)
        init = torch.full((out_features,), float(beta))
        self.beta = nn.Parameter(init) if learn_beta else init[0].item()
        self.threshold = threshold
        self.slope = slope
        self.method = method

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Spikes ``(T, batch, out_features)`` for input spikes ``(T, batch, in_features)``."""
        if x.dim() != 3:
            raise ValueError(f"input must be (T, batch, features), got shape {tuple(x.shape)}")
        currents = self.fc(x)
        beta = self.beta.clamp(0, 1) if isinstance(self.beta, torch.Tensor) else self.beta
        if self.method == "loop":
            return first_spike_lif_loop(currents, beta, self.threshold, slope=self.slope)
        return first_spike_lif(currents, beta, self.threshold, slope=self.slope)


def multi_spike_lif_loop(
    currents: torch.Tensor,
    beta: float,
    threshold: float = 1.0,
    *,
    slope: float = 10.0,
) -> torch.Tensor:
    """The multi-spike baseline neuron: :class:`snntorch.Leaky` (reset by subtraction) over time.

    Same signature and surrogate as :func:`first_spike_lif_loop`, but a neuron may
    fire at any step; this is the network of chapter 3.
    """
    import snntorch as snn

    _check_currents(currents)
    _check_threshold(threshold)
    _as_beta(beta, currents)
    lif = snn.Leaky(beta=beta, threshold=threshold, spike_grad=surrogate.fast_sigmoid(slope=slope))
    return run_leaky(lif, currents)


class MultiSpikeLinear(nn.Module):
    """The multi-spike baseline layer: linear synapses into :func:`multi_spike_lif_loop`.

    Same shapes and currents as :class:`SingleSpikeLinear`; the neurons reset by
    subtraction and may fire at every step.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        beta: float = 0.9,
        threshold: float = 1.0,
        bias: bool = True,
        slope: float = 10.0,
    ) -> None:
        super().__init__()
        if not 0 <= beta <= 1:
            raise ValueError(f"beta must lie in [0, 1], got {beta}")
        _check_threshold(threshold)
        self.fc = nn.Linear(in_features, out_features, bias=bias)
        self.beta, self.threshold, self.slope = beta, threshold, slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Spikes ``(T, batch, out_features)`` for input spikes ``(T, batch, in_features)``."""
        if x.dim() != 3:
            raise ValueError(f"input must be (T, batch, features), got shape {tuple(x.shape)}")
        return multi_spike_lif_loop(self.fc(x), self.beta, self.threshold, slope=self.slope)


class LeakyReadout(nn.Module):
    r"""Non-spiking leaky integrators that turn spikes into class scores.

    :math:`U[t] = \beta U[t-1] + W s[t] + b`; the score is :math:`\max_t U[t]`
    (``reduce="max"``, as in FastSNN) or the time average of :math:`U`
    (``reduce="mean"``, like Block's summed readout), which weighs early spikes
    more because they have longer to count.
    """

    def __init__(
        self, in_features: int, out_features: int, *, beta: float = 0.95, reduce: str = "mean"
    ) -> None:
        super().__init__()
        if not 0 <= beta <= 1:
            raise ValueError(f"beta must lie in [0, 1], got {beta}")
        if reduce not in ("max", "mean"):
            raise ValueError(f"reduce must be 'max' or 'mean', got {reduce!r}")
        self.fc = nn.Linear(in_features, out_features)
        self.beta = beta
        self.reduce = reduce

    def forward(self, spikes: torch.Tensor) -> torch.Tensor:
        """Scores ``(batch, out_features)`` for spikes ``(T, batch, in_features)``."""
        membrane = leaky_filter(self.fc(spikes), self.beta)
        return membrane.amax(dim=0) if self.reduce == "max" else membrane.mean(dim=0)


class LatencyEncoder(nn.Module):
    r"""Images ``(batch, ...)`` in [0, 1] to time-major latency spikes ``(T, batch, pixels)``.

    One spike per pixel at step :math:`\mathrm{round}((1 - x)(T - 1))`, bright
    pixels first; pixels below ``threshold`` stay silent. The same spikes as
    :func:`snnbook.data.latency_encode` (snnTorch's linear, normalised latency
    code; a test checks it), written as one ``scatter`` because the snnTorch
    encoder is slow on a CPU (about half a second for 128 images).
    """

    def __init__(self, num_steps: int, *, threshold: float = 0.01) -> None:
        super().__init__()
        if num_steps < 2:
            raise ValueError(f"num_steps must be >= 2, got {num_steps}")
        self.num_steps = num_steps
        self.threshold = threshold

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Spikes ``(num_steps, batch, pixels)``."""
        flat = images.reshape(len(images), -1)
        if flat.numel() and (flat.min() < 0 or flat.max() > 1):
            raise ValueError(
                "LatencyEncoder expects intensities in [0, 1]; rescale the input first"
            )
        times = torch.round((1 - flat) * (self.num_steps - 1)).long()
        fires = (flat >= self.threshold).to(flat.dtype)
        spikes = flat.new_zeros(self.num_steps, *flat.shape)
        return spikes.scatter_(0, times[None], fires[None])


class SpikingClassifier(nn.Module):
    """``encoder -> hidden spiking layer -> LeakyReadout``; returns class scores.

    ``encoder`` maps a batch to time-major spikes (``None``: the batch is already
    ``(batch, T, features)`` and is only transposed). ``last_hidden_spikes``
    keeps the hidden spikes of the latest call, for counting.
    """

    def __init__(
        self, hidden: nn.Module, readout: LeakyReadout, encoder: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.hidden = hidden
        self.readout = readout
        self.last_hidden_spikes: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores ``(batch, classes)``."""
        spikes_in = self.encoder(x) if self.encoder is not None else x.transpose(0, 1)
        hidden = self.hidden(spikes_in)
        self.last_hidden_spikes = hidden.detach()
        return self.readout(hidden)


# ------------------------------------------------------------------ timing
def time_forward_backward(
    fn: Callable[[torch.Tensor], torch.Tensor], currents: torch.Tensor, *, repeats: int = 3
) -> float:
    """Best wall time in seconds of ``fn(currents)`` plus a backward pass to ``currents``."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    best = float("inf")
    weights = torch.rand_like(currents)  # a fixed random loss direction
    for _ in range(repeats):
        x = currents.detach().clone().requires_grad_(True)
        start = time.perf_counter()
        (fn(x) * weights).sum().backward()
        best = min(best, time.perf_counter() - start)
    return best


def speed_sweep(
    steps: Sequence[int],
    widths: Sequence[tuple[int, int]],
    *,
    repeats: int = 3,
    beta: float = 0.9,
    seed: int = 0,
) -> list[dict[str, float]]:
    """Forward + backward time of one layer's neurons for every ``T`` and ``(batch, neurons)``.

    Compares :func:`first_spike_lif` (``parallel_ms``), :func:`first_spike_lif_loop`
    (``loop_ms``) and :func:`multi_spike_lif_loop` (``leaky_ms``) on the same random
    currents, after checking that the parallel and loop spikes are identical. Each
    time is the best of ``repeats``. Returns one dict per case, with speedups.
    """
    gen = torch.Generator().manual_seed(seed)
    rows = []
    for batch, neurons in widths:
        for t in steps:
            currents = 0.3 * torch.randn(t, batch, neurons, generator=gen)
            if not torch.equal(
                first_spike_lif(currents, beta), first_spike_lif_loop(currents, beta)
            ):
                raise AssertionError(f"parallel and loop spikes differ: T={t}, {batch}x{neurons}")
            row = {"batch": batch, "neurons": neurons, "T": t}
            for name, fn in (
                ("parallel_ms", first_spike_lif),
                ("loop_ms", first_spike_lif_loop),
                ("leaky_ms", multi_spike_lif_loop),
            ):
                seconds = time_forward_backward(
                    lambda x, fn=fn: fn(x, beta), currents, repeats=repeats
                )
                row[name] = 1e3 * seconds
            row["speedup_vs_loop"] = row["loop_ms"] / row["parallel_ms"]
            row["speedup_vs_leaky"] = row["leaky_ms"] / row["parallel_ms"]
            rows.append(row)
    return rows


# ------------------------------------------------------------------ plots
def plot_single_neuron(strength: float, beta: float, *, num_steps: int = 60) -> Figure:
    """One single-spike neuron driven by a constant current: membrane and first-spike time.

    Left: the no-reset membrane and the first threshold crossing (threshold 1).
    Right: first-spike time against input strength for this ``beta``; the
    closed form is :math:`V[t] = I(1-\\beta^{t+1})/(1-\\beta)`, so the neuron
    never fires when :math:`I \\le 1 - \\beta`.
    """
    import matplotlib.pyplot as plt

    from snnbook.plotting import COLORS

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7, 2.8), constrained_layout=True)
    currents = torch.full((num_steps, 1, 1), float(strength))
    v = leaky_filter(currents, beta)[:, 0, 0]
    s = first_spike_lif(currents, beta)[:, 0, 0]
    t = np.arange(num_steps)
    ax1.plot(t, v.numpy(), color=COLORS[0], label="membrane (no reset)")
    ax1.axhline(1.0, color="grey", ls="--", lw=1, label="threshold")
    if s.any():
        t_first = int(s.argmax())
        ax1.axvline(t_first, color=COLORS[1], lw=2, label=f"first spike, t = {t_first}")
        ax1.axvspan(t_first, num_steps - 1, color="grey", alpha=0.12)
    ax1.set(xlabel="time step", ylabel="V", ylim=(0, 3), title=f"I = {strength:g}, beta = {beta:g}")
    ax1.legend(loc="upper left", fontsize=8)
    grid = torch.linspace(0.02, 1.6, 200)
    times = first_spike_times(first_spike_lif(grid.expand(num_steps, 1, 200).contiguous(), beta))
    times = times[0].float().numpy()
    times[times >= num_steps] = np.nan
    ax2.plot(grid.numpy(), times, color=COLORS[2])
    ax2.plot([strength], [t_first if s.any() else np.nan], "o", color=COLORS[1])
    ax2.set(xlabel="input strength I", ylabel="first-spike time", ylim=(-1, num_steps))
    ax2.set_title("silent for I <= 1 - beta", fontsize=9)
    return fig


def plot_speedups(
    steps: Sequence[int], speedups: dict[str, Sequence[float]], *, title: str = ""
) -> Figure:
    """Speedup of the parallel layer over other methods against ``T`` (log-log)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.2), constrained_layout=True)
    for name, values in speedups.items():
        ax.plot(steps, values, "o-", label=name)
    ax.axhline(1.0, color="grey", ls="--", lw=1)
    ax.set(xscale="log", yscale="log", xlabel="time steps T", ylabel="speedup (x)", title=title)
    ax.set_xticks(list(steps), [str(s) for s in steps])
    ax.legend(fontsize=8)
    return fig
