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
of the input,

.. math::

    \tilde V[t] = \sum_{k=0}^{t} \beta^{\,t-k} I[k],

and its output keeps only the first threshold crossing of
:math:`\tilde S[t] = H(\tilde V[t] - \theta)`: with :math:`F[t] = \bigvee_{k \le t}
\tilde S[k]` (has it crossed yet?), :math:`S[t] = F[t] \wedge \neg F[t-1]`.

**Gradients.** The surrogate derivative of :math:`\tilde S` is the fast sigmoid
:math:`\sigma'(x) = 1/(\text{slope}\,|x| + 1)^2` (as
:func:`snntorch.surrogate.fast_sigmoid`). Two backward passes of the selection
are offered (``selection=``):

* ``"detached"``: :math:`S[t] = \tilde S[t]\,\mathbb 1[\neg F[t-1]]` with the
  mask held constant, so the gradient reaches :math:`\tilde V[t]` at every step up
  to and including the first spike. This is exactly the gradient of the
  step-by-step loop :func:`first_spike_lif_loop`, whose "has fired" flag is
  detached.
* ``"straight_through"``: Block's selection (``block/nn/methods.py``):
  :math:`z[t] = \sum_{s \le t} (t - s + 1)\,\tilde S[s]`, output
  :math:`z - \mathrm{stopgrad}(z\,\mathbb 1[z \ne 1])`. Same spikes; the gradient
  passes the selection as the identity to :math:`z`, so
  :math:`\partial L/\partial \tilde S[s] = \sum_{t \ge s} (t - s + 1)\,\partial L/\partial S[t]`,
  which also reaches steps after the first spike.

**How the filter is computed** (:func:`leaky_filter`, :func:`first_spike_lif`).
Time is cut into ``K`` chunks of ``C`` steps (``C`` about :math:`\sqrt T`). Three
phases, all in place on one buffer:

1. *inside the chunks*: ``C - 1`` steps of the recursion, each one operation on
   the same position of **all** chunks at once;
2. *across the chunks*: ``K - 1`` steps of the same recursion with decay
   :math:`\beta^C` over the chunks' last steps, which then hold the true state;
3. *fix-up*: one operation adds :math:`\beta^{c+1}` times the state that enters
   each chunk to its position ``c``.

That is about :math:`2\sqrt T` operations in sequence instead of ``T``, and about
three passes over memory, with no Python loop over time steps and no autograd
graph: the backward pass is written by hand (the transposed filter is the same
scan run backwards in time) and reuses the forward's buffer. The same scan with
maximum computes :math:`F`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from snntorch import surrogate
from torch import nn

from . import checks
from .lif import run_leaky

__all__ = [
    "SELECTIONS",
    "chunk_length",
    "leaky_filter",
    "leaky_filter_loop",
    "first_spike_lif",
    "first_spike_lif_loop",
    "first_spike_lif_reference",
    "first_spike_times",
    "sparse_linear",
    "SingleSpikeLinear",
    "multi_spike_lif_loop",
    "MultiSpikeLinear",
    "LeakyReadout",
    "LatencyEncoder",
    "SpikingClassifier",
    "plot_single_neuron",
    "plot_chunked_scan",
    "plot_speedups",
]

#: The two backward passes of the first-spike selection (module docstring).
SELECTIONS = ("detached", "straight_through")


# ------------------------------------------------------------------ checks
def _check_currents(currents: object, name: str = "currents") -> torch.Tensor:
    return checks.tensor(
        name,
        currents,
        ndim=3,
        kind="float",
        hint="pass time-major currents of shape (T, batch, neurons); add axes with x[:, None]",
    )


def _check_beta(beta: object, currents: torch.Tensor) -> float | torch.Tensor:
    """``beta`` as a float in [0, 1], or a tensor of shape () or (neurons,) with values in [0, 1]."""
    if isinstance(beta, torch.Tensor):
        n = currents.shape[-1]
        checks.tensor("beta", beta, ndim=(0, 1), kind="float", hint=f"one decay per neuron ({n},)")
        if beta.dim() == 1 and beta.numel() != n:
            raise ValueError(
                f"beta must be a float or a tensor of shape ({n},) (one per neuron), "
                f"got shape {tuple(beta.shape)}"
            )
        checks.finite_values("beta", beta, low=0.0, high=1.0, hint="clamp it to [0, 1]")
        return beta.to(device=currents.device, dtype=currents.dtype)
    return checks.unit_interval("beta", beta, hint="beta = exp(-dt / tau)")


def _check_chunk(chunk: object) -> int | None:
    return None if chunk is None else checks.positive_int("chunk", chunk)


def chunk_length(steps: int) -> int:
    r"""Chunk length of the scan for ``steps`` time steps: about :math:`\sqrt{T}`.

    The smallest divisor of ``T`` from :math:`c = \lceil\sqrt{T}\,\rceil` up to
    :math:`2c` (so that no padding is needed), else :math:`c` itself. It balances
    the two sequential phases (``C - 1`` steps inside the chunks, ``T / C - 1``
    across them). A fixed rule, not a timing: the same input always takes the same
    path.
    """
    steps = checks.positive_int("steps", steps)
    root = math.isqrt(steps - 1) + 1
    return next((c for c in range(root, 2 * root + 1) if steps % c == 0), root)


# ------------------------------------------------------------------ the scan, in place
def _step_(dst: torch.Tensor, src: torch.Tensor, factor: float | torch.Tensor) -> None:
    if isinstance(factor, torch.Tensor):
        dst.addcmul_(src, factor)
    else:
        dst.add_(src, alpha=factor)


def _scan_(
    buf: torch.Tensor,
    beta: float | torch.Tensor,
    size: int,
    *,
    reverse: bool = False,
    inner: bool = True,
) -> None:
    """In place over dim 0: ``buf[t] += beta * buf[t - 1]`` (``reverse``: ``buf[t + 1]``).

    ``buf`` has ``K * size`` rows (pad with zeros at the end: they change nothing
    before them, and a reverse scan of zeros stays zero). ``beta`` is a float or
    a tensor that broadcasts against one row (shape () or (neurons,)). With
    ``inner=False`` phase 1 is skipped (:func:`_scanned_copy` did it).
    """
    n_chunks = buf.shape[0] // size
    w = buf.view(n_chunks, size, *buf.shape[1:])
    last = size - 1
    # 1. inside every chunk at once (``inner=False``: already done by the caller)
    for c in (range(1, size) if not reverse else range(size - 2, -1, -1)) if inner else ():
        _step_(w[:, c], w[:, c - 1] if not reverse else w[:, c + 1], beta)
    if n_chunks == 1:
        return
    # 2. across the chunks: their boundary steps now hold the true state
    decay = beta**size
    edge = last if not reverse else 0
    for k in range(1, n_chunks) if not reverse else range(n_chunks - 2, -1, -1):
        _step_(w[k, edge], w[k - 1 if not reverse else k + 1, edge], decay)
    # 3. fix-up: position c of a chunk gets beta**(steps from the boundary) * entering state
    exps = torch.arange(1, size, device=buf.device, dtype=buf.dtype)
    growth = beta ** exps.view(-1, *([1] * (buf.dim() - 1)))  # (size - 1, 1, ..)
    if not reverse:
        w[1:, :last].addcmul_(growth, w[:-1, last].unsqueeze(1))
    else:
        w[:-1, 1:].addcmul_(growth.flip(0), w[1:, 0].unsqueeze(1))


def _running_max_(flags: torch.Tensor, size: int) -> None:
    """In place over dim 0: ``flags[t] = max(flags[t], flags[t - 1])`` (0/1 floats: a running OR).

    The same three phases as :func:`_scan_`, with ``max`` for ``+``.
    """
    n_chunks = flags.shape[0] // size
    w = flags.view(n_chunks, size, *flags.shape[1:])
    for c in range(1, size):
        torch.maximum(w[:, c], w[:, c - 1], out=w[:, c])
    for k in range(1, n_chunks):
        torch.maximum(w[k, size - 1], w[k - 1, size - 1], out=w[k, size - 1])
    if n_chunks > 1:
        torch.maximum(w[1:, : size - 1], w[:-1, size - 1].unsqueeze(1), out=w[1:, : size - 1])


def _padded_copy(x: torch.Tensor, size: int) -> torch.Tensor:
    """A fresh buffer with ``x`` in its first rows and zeros up to a multiple of ``size``."""
    steps = x.shape[0]
    rows = -(-steps // size) * size
    buf = x.new_empty((rows, *x.shape[1:]))
    buf[:steps].copy_(x)
    buf[steps:].zero_()
    return buf


def _scanned_copy(x: torch.Tensor, beta: float | torch.Tensor, size: int) -> torch.Tensor:
    """:func:`_scan_` of a padded copy of ``x``; the copy is fused into phase 1 when no pad is needed.

    Phase 1 then reads the input and writes the buffer in the same operation
    (``buf[:, c] = x[:, c] + beta * buf[:, c - 1]``), one pass over memory fewer.
    """
    steps = x.shape[0]
    if steps % size:
        buf = _padded_copy(x, size)
        _scan_(buf, beta, size)
        return buf
    buf = torch.empty_like(x, memory_format=torch.contiguous_format)
    n_chunks = steps // size
    w = buf.view(n_chunks, size, *x.shape[1:])
    src = x.reshape(n_chunks, size, *x.shape[1:])
    w[:, 0].copy_(src[:, 0])
    for c in range(1, size):
        if isinstance(beta, torch.Tensor):
            torch.addcmul(src[:, c], w[:, c - 1], beta, out=w[:, c])
        else:
            torch.add(src[:, c], w[:, c - 1], alpha=beta, out=w[:, c])
    _scan_(buf, beta, size, inner=False)
    return buf


def _beta_grad(lam: torch.Tensor, membrane: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    r""":math:`\partial L/\partial\beta = \sum_t \lambda[t]\,V[t-1]`, reduced to ``beta``'s shape."""
    total = (lam[1:] * membrane[:-1]).sum(dim=tuple(range(lam.dim() - 1)))
    return total.sum() if beta.dim() == 0 else total


class _LeakyFilter(torch.autograd.Function):
    """``V[t] = beta V[t-1] + I[t]`` by the chunked scan; backward by the reverse scan."""

    @staticmethod
    def forward(ctx, currents, beta, size):  # noqa: ANN001, ANN205
        steps = currents.shape[0]
        out = _scanned_copy(currents, beta, size)[:steps]
        ctx.size = size
        ctx.beta_is_tensor = isinstance(beta, torch.Tensor)
        ctx.save_for_backward(out, beta if ctx.beta_is_tensor else None)
        if not ctx.beta_is_tensor:
            ctx.beta = beta
        return out

    @staticmethod
    def backward(ctx, grad):  # noqa: ANN001, ANN205
        out, beta_t = ctx.saved_tensors
        beta = beta_t if ctx.beta_is_tensor else ctx.beta
        lam = _padded_copy(grad, ctx.size)
        _scan_(lam, beta, ctx.size, reverse=True)
        lam = lam[: grad.shape[0]]
        grad_beta = _beta_grad(lam, out, beta_t) if ctx.needs_input_grad[1] else None
        return lam, grad_beta, None


def leaky_filter(
    currents: torch.Tensor, beta: float | torch.Tensor, *, chunk: int | None = None
) -> torch.Tensor:
    r"""No-reset membrane :math:`V[t] = \beta V[t-1] + I[t]` for all ``t`` at once.

    ``currents`` is time-major ``(T, batch, neurons)``; ``beta`` a float or a
    per-neuron tensor in [0, 1]. Computed by the chunked scan of the module
    docstring (``chunk`` steps per chunk, :func:`chunk_length` by default).
    Differentiable in ``currents`` and ``beta``.
    """
    currents = _check_currents(currents)
    b = _check_beta(beta, currents)
    size = _check_chunk(chunk) or chunk_length(currents.shape[0])
    return _LeakyFilter.apply(currents, b, size)


def leaky_filter_loop(currents: torch.Tensor, beta: float | torch.Tensor) -> torch.Tensor:
    r"""Reference for :func:`leaky_filter`: :math:`V[t] = \beta V[t-1] + I[t]`, step by step."""
    currents = _check_currents(currents)
    b = _check_beta(beta, currents)
    v = torch.zeros_like(currents[0])
    out = []
    for i_t in currents.unbind(0):
        v = b * v + i_t
        out.append(v)
    return torch.stack(out)


# ------------------------------------------------------------------ single-spike LIF
def _surrogate_(x: torch.Tensor, threshold: float, slope: float) -> torch.Tensor:
    r"""In place: ``x`` becomes :math:`(\text{slope}\,|x - \theta| + 1)^2`, the fast sigmoid's 1/derivative."""
    return x.sub_(threshold).abs_().mul_(slope).add_(1.0).square_()


class _FirstSpike(torch.autograd.Function):
    """Forward and hand-written backward of the single-spike layer (module docstring).

    Forward: the no-reset membrane ``V`` by the chunked scan, the candidates
    ``V > theta`` and their running OR ``F`` by the same scan (as 0/1 floats, so
    that every later pass is a plain vectorised multiply or subtract), and the
    spikes ``F[t] - F[t-1]``. Saved for backward: the membrane buffer and ``F``.
    Backward, for the detached mask:
    ``dL/dI = scan_reverse(dL/dS * sigma'(V - theta) * (1 - F[t-1]))``; for the
    straight-through selection the incoming gradient is first summed twice
    backwards in time (the ``(t - s + 1)`` weights) and not masked. The work is
    done in place in the forward's buffers; the backward can therefore run only
    once per forward.
    """

    @staticmethod
    def forward(ctx, currents, beta, threshold, slope, size, selection):  # noqa: ANN001, ANN205
        steps = currents.shape[0]
        buf = _scanned_copy(currents, beta, size)
        flags = torch.gt(buf, threshold).to(buf.dtype)  # candidates, then "crossed yet?"
        _running_max_(flags, size)
        spikes = torch.empty_like(currents, memory_format=torch.contiguous_format)
        spikes[0].copy_(flags[0])
        torch.sub(flags[1:steps], flags[: steps - 1], out=spikes[1:])
        ctx.beta_is_tensor = isinstance(beta, torch.Tensor)
        ctx.save_for_backward(buf, flags, beta if ctx.beta_is_tensor else None)
        ctx.options = (beta, threshold, slope, size, selection, steps)
        ctx.used = False
        return spikes

    @staticmethod
    def backward(ctx, grad):  # noqa: ANN001, ANN205
        if ctx.used:
            raise RuntimeError(
                "first_spike_lif's backward reuses its buffers and runs once per forward; "
                "run the forward again instead of retain_graph=True"
            )
        ctx.used = True
        buf, flags, beta_t = ctx.saved_tensors
        beta, threshold, slope, size, selection, steps = ctx.options
        if ctx.beta_is_tensor:
            beta = beta_t
        need_beta = ctx.needs_input_grad[1]
        membrane = buf[:steps].clone() if need_beta else None
        if selection == "detached":
            lam = buf  # reuse the membrane's buffer
            h = _surrogate_(lam[:steps], threshold, slope)
            torch.div(grad, h, out=h)
            if steps > 1:  # zero after the first spike: multiply by 1 - F[t-1]
                h[1:].addcmul_(h[1:], flags[: steps - 1], value=-1.0)
            lam[steps:].zero_()
        else:  # straight through the selection: (t - s + 1)-weighted sums of later gradients
            lam = _padded_copy(grad, size)
            _scan_(lam, 1.0, size, reverse=True)
            _scan_(lam, 1.0, size, reverse=True)
            lam.div_(_surrogate_(buf, threshold, slope))
        _scan_(lam, beta, size, reverse=True)
        lam = lam[:steps]
        grad_beta = _beta_grad(lam, membrane, beta_t) if need_beta else None
        return lam, grad_beta, None, None, None, None


def _first_spike(
    currents: torch.Tensor,
    beta: float | torch.Tensor,
    threshold: float,
    slope: float,
    chunk: int | None,
    selection: str,
) -> torch.Tensor:
    """:func:`first_spike_lif` without the checks (for ``forward`` methods: no host reads)."""
    size = chunk or chunk_length(currents.shape[0])
    return _FirstSpike.apply(currents, beta, float(threshold), float(slope), size, selection)


def first_spike_lif(
    currents: torch.Tensor,
    beta: float | torch.Tensor,
    threshold: float = 1.0,
    *,
    slope: float = 10.0,
    chunk: int | None = None,
    selection: str = "detached",
) -> torch.Tensor:
    r"""Spikes of single-spike LIF neurons, computed without a loop over time.

    :math:`S[t] = F[t] \wedge \neg F[t-1]` with :math:`F` the running OR of
    :math:`H(\tilde V - \theta)` and :math:`\tilde V` the no-reset membrane of
    :func:`leaky_filter` (Taylor et al., module docstring). The backward pass uses
    the fast-sigmoid surrogate :math:`1/(\text{slope}\,|\tilde V-\theta|+1)^2` and
    the ``selection`` gradient ``"detached"`` (equal to the loop's) or
    ``"straight_through"`` (Block's).

    ``currents``: time-major ``(T, batch, neurons)``; ``beta``: float or
    per-neuron tensor in [0, 1] (trainable: it gets a gradient if it requires
    one). Returns spikes of the same shape, at most one per neuron and sample.
    """
    currents = _check_currents(currents)
    b = _check_beta(beta, currents)
    threshold = checks.positive("threshold", threshold)
    slope = checks.positive("slope", slope, hint="the surrogate's steepness, e.g. 10")
    chunk = _check_chunk(chunk)
    selection = checks.one_of("selection", selection, SELECTIONS)
    return _first_spike(currents, b, threshold, slope, chunk, selection)


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
    membrane never matters again. Uses snnTorch's own fast-sigmoid surrogate.
    """
    currents = _check_currents(currents)
    b = _check_beta(beta, currents)
    threshold = checks.positive("threshold", threshold)
    slope = checks.positive("slope", slope)
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


def first_spike_lif_reference(
    currents: torch.Tensor,
    beta: float | torch.Tensor,
    threshold: float = 1.0,
    *,
    slope: float = 10.0,
    selection: str = "detached",
) -> torch.Tensor:
    r"""Plain-autograd reference of both selections, written as the papers write them.

    The membrane by :func:`leaky_filter_loop`, candidates by snnTorch's fast
    sigmoid, then ``torch.cumsum``: ``"detached"`` multiplies by the constant mask
    :math:`\mathbb 1[\sum_{k<t}\tilde S[k] = 0]`; ``"straight_through"`` forms
    :math:`z` by two cumulative sums and returns
    :math:`z - \mathrm{stopgrad}(z\,\mathbb 1[z \ne 1])` (Block). Slow; for tests.
    """
    selection = checks.one_of("selection", selection, SELECTIONS)
    threshold = checks.positive("threshold", threshold)
    slope = checks.positive("slope", slope)
    membrane = leaky_filter_loop(currents, beta)
    candidates = surrogate.fast_sigmoid(slope=slope)(membrane - threshold)
    if selection == "detached":
        earlier = torch.cumsum(candidates.detach(), 0) - candidates.detach()
        return candidates * (earlier == 0)
    z = torch.cumsum(torch.cumsum(candidates, 0), 0)
    return z - (z * (z != 1)).detach()


def first_spike_times(spikes: torch.Tensor) -> torch.Tensor:
    """Index of each neuron's first spike along time (dim 0); ``T`` where it never fires."""
    spikes = checks.tensor(
        "spikes", spikes, ndim=(1, 2, 3, 4), hint="put the time axis first: (T, ...)"
    )
    fired = spikes > 0
    idx = fired.to(torch.uint8).argmax(dim=0)
    return torch.where(fired.any(dim=0), idx, torch.full_like(idx, spikes.shape[0]))


# ------------------------------------------------------------------ the input product
def _row_pointers(rows: torch.Tensor, n_rows: int) -> torch.Tensor:
    """CSR row pointers of sorted row indices: ``ptr[r]`` is where row ``r`` starts."""
    ptr = rows.new_zeros(n_rows + 1)
    torch.cumsum(torch.bincount(rows, minlength=n_rows), 0, out=ptr[1:])
    return ptr


def _csr(ptr: torch.Tensor, cols: torch.Tensor, values: torch.Tensor, shape: tuple[int, int]):
    """A CSR matrix, without PyTorch's one-time notice that sparse CSR support is in beta."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(ptr, cols, values, shape, check_invariants=False)


class _SparseProduct(torch.autograd.Function):
    """``bias + S W^T`` for a sparse ``S`` given by its nonzeros, rows sorted (CSR products).

    Backward: ``dL/dW = (S^T G)^T`` with ``S^T`` rebuilt in CSR form (entries
    sorted by column), ``dL/db = sum of G``; ``S`` itself gets no gradient.
    """

    @staticmethod
    def forward(ctx, rows, cols, values, n_rows, weight, bias):  # noqa: ANN001, ANN205
        n_in = weight.shape[1]
        s = _csr(_row_pointers(rows, n_rows), cols, values, (n_rows, n_in))
        wt = weight.t().contiguous()
        out = s @ wt if bias is None else torch.addmm(bias, s, wt)
        ctx.save_for_backward(rows, cols, values)
        ctx.sizes = (n_rows, n_in)
        return out

    @staticmethod
    def backward(ctx, grad):  # noqa: ANN001, ANN205
        rows, cols, values = ctx.saved_tensors
        n_rows, n_in = ctx.sizes
        grad_w = grad_b = None
        if ctx.needs_input_grad[4]:
            order = torch.argsort(cols, stable=True)
            st = _csr(_row_pointers(cols[order], n_in), rows[order], values[order], (n_in, n_rows))
            grad_w = (st @ grad.contiguous()).t()
        if ctx.needs_input_grad[5]:
            grad_b = grad.sum(0)
        return None, None, None, None, grad_w, grad_b


def _sparse_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None):
    """The product from the nonzeros of ``x``: a sparse COO tensor's own, or found by ``nonzero``."""
    *lead, n_in = x.shape
    n_rows = math.prod(lead)
    if x.is_sparse:  # coalesced COO (T, batch, features): rows sorted, as LatencyEncoder makes it
        x = x.coalesce()
        idx = x.indices()
        rows, cols, values = idx[0] * lead[1] + idx[1], idx[2], x.values()
    else:
        flat = x.reshape(n_rows, n_in)
        rows, cols = flat.nonzero(as_tuple=True)
        values = flat[rows, cols]
    out = _SparseProduct.apply(rows, cols, values, n_rows, weight, bias)
    return out.reshape(*lead, weight.shape[0])


def sparse_linear(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None
) -> torch.Tensor:
    r"""``F.linear(x, weight, bias)`` computed from the nonzero entries of ``x`` only.

    A spike raster is mostly zeros: a latency-coded image fires each pixel at
    most once in ``T`` steps. With ``x`` in compressed sparse row form, row ``r``
    of the result is :math:`b + \sum_{j:\,x_{rj} \ne 0} x_{rj} W_{:,j}`, a sparse
    times dense product whose work grows with the number of spikes, not with
    ``T``. ``x`` may be dense (its nonzeros are found first, one pass over it) or
    a sparse COO tensor ``(T, batch, features)`` such as
    ``LatencyEncoder(T, sparse=True)`` makes. Exact up to float rounding;
    differentiable in ``weight`` and ``bias``. ``x`` must not require a gradient
    (its zero entries would get none): use ``F.linear`` there. CPU only (on a GPU
    the dense product is the fast one).
    """
    x = checks.tensor("x", x, kind="float", hint="pass spikes (..., features) as floats")
    weight = checks.tensor("weight", weight, ndim=2, kind="float")
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"x has {x.shape[-1]} features but weight expects {weight.shape[1]}; "
            "pass weight of shape (out_features, in_features)"
        )
    if x.is_sparse and x.dim() != 3:
        raise ValueError(f"a sparse x must be (T, batch, features), got shape {tuple(x.shape)}")
    if bias is not None:
        checks.tensor("bias", bias, shape=(weight.shape[0],), kind="float")
    if x.requires_grad:
        raise ValueError(
            "x requires a gradient, which sparse_linear does not give; use F.linear for "
            "inputs that are trained through"
        )
    if x.device.type != "cpu" or weight.device.type != "cpu":
        raise ValueError(
            f"sparse_linear runs on the CPU, got x on {x.device} and weight on "
            f"{weight.device}; use F.linear on other devices"
        )
    return _sparse_linear(x, weight, bias)


def _input_product(fc: nn.Linear, x: torch.Tensor, sparse_input: bool) -> torch.Tensor:
    """``fc(x)``; from the nonzeros only (:func:`sparse_linear`) on a CPU when asked.

    On a GPU (or PyTorch's meta device) the dense product is the fast one, and
    finding the nonzeros would wait for the device, so the dense product is used
    there. A sparse ``x`` is always accepted.
    """
    on_cpu = x.device.type == "cpu" and fc.weight.device.type == "cpu"
    if (sparse_input or x.is_sparse) and on_cpu and not x.requires_grad:
        return _sparse_linear(x, fc.weight, fc.bias)
    return fc(x.to_dense() if x.is_sparse else x)


# ------------------------------------------------------------------ layers
def _check_layer_sizes(in_features: object, out_features: object) -> tuple[int, int]:
    return (
        checks.positive_int("in_features", in_features),
        checks.positive_int("out_features", out_features),
    )


def _check_input(x: object, features: int, name: str = "input") -> torch.Tensor:
    x = checks.tensor(
        name, x, ndim=3, kind="float", hint=f"pass spikes of shape (T, batch, {features})"
    )
    if x.shape[-1] != features:
        raise ValueError(f"{name} has {x.shape[-1]} features per step; this layer takes {features}")
    return x


class SingleSpikeLinear(nn.Module):
    """Linear synapses into single-spike LIF neurons: ``(T, batch, in) -> (T, batch, out)``.

    Currents ``I = W x + b`` for all steps in one product (from the spikes only,
    :func:`sparse_linear`, when ``sparse_input`` and on a CPU), then
    :func:`first_spike_lif` (``method="parallel"``, with the given ``selection``
    gradient) or the reference loop (``method="loop"``, detached selection only);
    both use the fast-sigmoid surrogate with ``slope``. With ``learn_beta`` each
    neuron learns its own decay, clamped to [0, 1].
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
        selection: str = "detached",
        sparse_input: bool = True,
    ) -> None:
        super().__init__()
        in_features, out_features = _check_layer_sizes(in_features, out_features)
        beta = checks.unit_interval("beta", beta, hint="beta = exp(-dt / tau)")
        self.threshold = checks.positive("threshold", threshold)
        self.slope = checks.positive("slope", slope)
        self.method = checks.one_of("method", method, ("parallel", "loop"))
        self.selection = checks.one_of("selection", selection, SELECTIONS)
        if self.method == "loop" and self.selection != "detached":
            raise ValueError("selection='straight_through' has no loop form; use method='parallel'")
        learn_beta = checks.boolean("learn_beta", learn_beta)
        self.sparse_input = checks.boolean("sparse_input", sparse_input)
        self.fc = nn.Linear(in_features, out_features, bias=checks.boolean("bias", bias))
        self.beta = nn.Parameter(torch.full((out_features,), beta)) if learn_beta else beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Spikes ``(T, batch, out_features)`` for input spikes ``(T, batch, in_features)``."""
        x = _check_input(x, self.fc.in_features)
        currents = _input_product(self.fc, x, self.sparse_input)
        beta = self.beta.clamp(0, 1) if isinstance(self.beta, torch.Tensor) else self.beta
        if self.method == "loop":
            return first_spike_lif_loop(currents, beta, self.threshold, slope=self.slope)
        return _first_spike(currents, beta, self.threshold, self.slope, None, self.selection)


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

    currents = _check_currents(currents)
    beta = checks.unit_interval("beta", beta)
    threshold = checks.positive("threshold", threshold)
    slope = checks.positive("slope", slope)
    lif = snn.Leaky(beta=beta, threshold=threshold, spike_grad=surrogate.fast_sigmoid(slope=slope))
    return run_leaky(lif, currents)


class MultiSpikeLinear(nn.Module):
    """The multi-spike baseline layer: linear synapses into :class:`snntorch.Leaky` neurons.

    Same shapes and input product as :class:`SingleSpikeLinear`; the neurons
    reset by subtraction and may fire at every step.
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
        sparse_input: bool = True,
    ) -> None:
        import snntorch as snn

        super().__init__()
        in_features, out_features = _check_layer_sizes(in_features, out_features)
        self.beta = checks.unit_interval("beta", beta)
        self.threshold = checks.positive("threshold", threshold)
        self.slope = checks.positive("slope", slope)
        self.sparse_input = checks.boolean("sparse_input", sparse_input)
        self.fc = nn.Linear(in_features, out_features, bias=checks.boolean("bias", bias))
        self.lif = snn.Leaky(
            beta=self.beta,
            threshold=self.threshold,
            spike_grad=surrogate.fast_sigmoid(slope=self.slope),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Spikes ``(T, batch, out_features)`` for input spikes ``(T, batch, in_features)``."""
        x = _check_input(x, self.fc.in_features)
        return run_leaky(self.lif, _input_product(self.fc, x, self.sparse_input))


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
        in_features, out_features = _check_layer_sizes(in_features, out_features)
        self.beta = checks.unit_interval("beta", beta)
        self.reduce = checks.one_of("reduce", reduce, ("max", "mean"))
        self.fc = nn.Linear(in_features, out_features)

    def forward(self, spikes: torch.Tensor) -> torch.Tensor:
        """Scores ``(batch, out_features)`` for spikes ``(T, batch, in_features)``."""
        spikes = _check_input(spikes, self.fc.in_features, "spikes")
        currents = self.fc(spikes)
        membrane = _LeakyFilter.apply(currents, self.beta, chunk_length(currents.shape[0]))
        return membrane.amax(dim=0) if self.reduce == "max" else membrane.mean(dim=0)


class LatencyEncoder(nn.Module):
    r"""Images ``(batch, ...)`` in [0, 1] to time-major latency spikes ``(T, batch, pixels)``.

    One spike per pixel at step :math:`\mathrm{round}((1 - x)(T - 1))`, bright
    pixels first; pixels below ``threshold`` stay silent. The same spikes as
    :func:`snnbook.data.latency_encode` (snnTorch's linear, normalised latency
    code; a test checks it), written as one ``scatter`` because the snnTorch
    encoder is slow on a CPU (about half a second for 128 images). With
    ``sparse=True`` (and on a CPU) the spikes come as a coalesced sparse COO
    tensor, which :class:`SingleSpikeLinear` and :class:`MultiSpikeLinear`
    multiply without ever writing the ``T x batch x pixels`` zeros; call
    ``.to_dense()`` to look at it. The range of the input is clamped, not checked
    (that would read the tensor back from the device on every call);
    :func:`snnbook.data.load_fashion_mnist` gives [0, 1].
    """

    def __init__(self, num_steps: int, *, threshold: float = 0.01, sparse: bool = False) -> None:
        super().__init__()
        self.num_steps = checks.integer(
            "num_steps", num_steps, low=2, hint="a latency code needs at least 2 steps"
        )
        self.threshold = checks.unit_interval("threshold", threshold)
        self.sparse = checks.boolean("sparse", sparse)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Spikes ``(num_steps, batch, pixels)``, dense or sparse COO."""
        images = checks.tensor(
            "images", images, ndim=(2, 3, 4), kind="float", hint="pass a batch (batch, ...)"
        )
        flat = images.reshape(len(images), -1)
        times = torch.round((1 - flat.clamp(0, 1)) * (self.num_steps - 1)).long()
        fires = flat >= self.threshold
        if self.sparse and flat.device.type == "cpu":
            batch, pixels = flat.shape
            sample, pixel = fires.nonzero(as_tuple=True)
            step = times[sample, pixel]
            order = torch.argsort(step * batch + sample, stable=True)  # (t, b, p) order
            indices = torch.stack([step[order], sample[order], pixel[order]])
            values = flat.new_ones(len(order))
            shape = (self.num_steps, batch, pixels)
            return torch.sparse_coo_tensor(
                indices, values, shape, is_coalesced=True, check_invariants=False
            )
        spikes = flat.new_zeros(self.num_steps, *flat.shape)
        return spikes.scatter_(0, times[None], fires[None].to(flat.dtype))


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
        for name, module in (("hidden", hidden), ("readout", readout)):
            if not isinstance(module, nn.Module):
                raise TypeError(f"{name} must be a torch.nn.Module, got {type(module).__name__}")
        if encoder is not None and not isinstance(encoder, nn.Module):
            raise TypeError(f"encoder must be a torch.nn.Module or None, got {type(encoder)}")
        self.encoder = encoder
        self.hidden = hidden
        self.readout = readout
        self.last_hidden_spikes: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores ``(batch, classes)``."""
        if self.encoder is not None:
            spikes_in = self.encoder(x)
        else:
            checks.tensor("x", x, ndim=3, kind="float", hint="pass (batch, T, features) spikes")
            spikes_in = x.transpose(0, 1)
        hidden = self.hidden(spikes_in)
        self.last_hidden_spikes = hidden.detach()
        return self.readout(hidden)


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

    strength = checks.number("strength", strength)
    beta = checks.unit_interval("beta", beta)
    num_steps = checks.integer("num_steps", num_steps, low=2)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7.5, 3.0), constrained_layout=True)
    currents = torch.full((num_steps, 1, 1), strength)
    v = leaky_filter(currents, beta)[:, 0, 0].detach().cpu()
    s = first_spike_lif(currents, beta)[:, 0, 0].detach().cpu()
    t = np.arange(num_steps)
    ax1.plot(t, v.numpy(), color=COLORS[0], label="membrane (no reset)")
    ax1.axhline(1.0, color="grey", ls="--", lw=1, label="threshold")
    t_first = int(s.argmax()) if s.any() else None
    if t_first is not None:
        ax1.axvline(t_first, color=COLORS[1], lw=2, label=f"first spike, t = {t_first}")
        ax1.axvspan(t_first, num_steps - 1, color="grey", alpha=0.12)
    ax1.set(xlabel="time step", ylabel="V", ylim=(0, 3), title=f"I = {strength:g}, beta = {beta:g}")
    ax1.legend(loc="upper left", fontsize=8)
    grid = torch.linspace(0.02, 1.6, 200)
    drive = grid.expand(num_steps, 1, 200).contiguous()
    times = first_spike_times(first_spike_lif(drive, beta))[0].detach().cpu().float().numpy()
    times[times >= num_steps] = np.nan
    ax2.plot(grid.numpy(), times, color=COLORS[2])
    ax2.plot([strength], [np.nan if t_first is None else t_first], "o", color=COLORS[1])
    ax2.set(xlabel="input strength I", ylabel="first-spike time", ylim=(-1, num_steps))
    ax2.set_title("silent for I <= 1 - beta", fontsize=9)
    return fig


def plot_chunked_scan(steps: int = 16, chunk: int = 4) -> Figure:
    """Diagram of the chunked scan of :func:`leaky_filter` for ``steps`` steps in chunks of ``chunk``.

    Three panels, one per phase: (1) the recursion inside every chunk, one step
    for all chunks at once; (2) the recursion across the chunks' last steps with
    decay ``beta**chunk``; (3) the fix-up that adds the entering state to every
    position of the next chunk. Arrows drawn in the same colour are one tensor
    operation.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, Rectangle

    from snnbook.plotting import COLORS

    steps = checks.integer("steps", steps, low=2, high=64)
    chunk = checks.integer("chunk", chunk, low=2, high=steps)
    if steps % chunk:
        raise ValueError(f"steps ({steps}) must be a multiple of chunk ({chunk}) for the diagram")
    n_chunks = steps // chunk
    fig, axes = plt.subplots(3, 1, figsize=(8.0, 4.8), constrained_layout=True)
    titles = (
        f"1. inside the chunks: {chunk - 1} operations in sequence; one colour = one operation "
        f"on the same position of all {n_chunks} chunks",
        f"2. across the chunks: {n_chunks - 1} operations in sequence on the chunks' last steps, "
        rf"decay $\beta^{{{chunk}}}$",
        r"3. fix-up: one operation adds $\beta^{c+1}\times$ the entering state to every "
        "position c of every chunk",
    )
    shades = [COLORS[i % len(COLORS)] for i in (0, 2, 4, 3, 5)]

    def arrow(ax, x0, x1, color, rad=-0.5):  # noqa: ANN001, ANN202
        ax.add_patch(
            FancyArrowPatch(
                (x0 + 0.5, 0.95),
                (x1 + 0.5, 0.95),
                connectionstyle=f"arc3,rad={rad}",
                arrowstyle="-|>",
                mutation_scale=9,
                color=color,
                lw=1.2,
            )
        )

    for ax, title in zip(axes, titles, strict=True):
        for t in range(steps):
            k = t // chunk
            ax.add_patch(
                Rectangle((t + 0.05, 0), 0.9, 0.9, color=shades[k % len(shades)], alpha=0.35)
            )
            ax.text(t + 0.5, 0.45, str(t), ha="center", va="center", fontsize=8)
        for k in range(1, n_chunks):
            ax.axvline(k * chunk, color="grey", lw=1, ls=":")
        ax.set(xlim=(0, steps), ylim=(-0.1, 2.0), xticks=[], yticks=[])
        ax.set_title(title, fontsize=9, loc="left")
        ax.grid(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
    op_colors = plt.get_cmap("viridis")(np.linspace(0.1, 0.85, chunk - 1))
    for c in range(1, chunk):  # phase 1: same colour = one operation over all chunks
        for k in range(n_chunks):
            arrow(axes[0], k * chunk + c - 1, k * chunk + c, op_colors[c - 1])
    for k in range(1, n_chunks):  # phase 2: sequential over the chunk ends
        arrow(axes[1], k * chunk - 1, (k + 1) * chunk - 1, COLORS[1], rad=-0.35)
    for k in range(1, n_chunks):  # phase 3: one operation for every position
        for c in range(chunk - 1):
            arrow(axes[2], k * chunk - 1, k * chunk + c, COLORS[1], rad=-0.4 - 0.1 * c)
    axes[2].set_xlabel(f"time step (T = {steps}, chunks of C = {chunk})")
    return fig


def plot_speedups(
    steps: Sequence[int], speedups: Mapping[str, Sequence[float]], *, title: str = ""
) -> Figure:
    """Speedup of the parallel layer over other methods against ``T`` (log-log), 1x dashed."""
    import matplotlib.pyplot as plt

    steps = [checks.positive_int("steps", s) for s in steps]
    for name, values in speedups.items():  # checked before a figure is opened
        if len(values) != len(steps):
            raise ValueError(f"speedups[{name!r}] has {len(values)} values for {len(steps)} steps")
    fig, ax = plt.subplots(figsize=(7.5, 3.4), constrained_layout=True)
    for name, values in speedups.items():
        ax.plot(steps, list(values), "o-", label=name)
    ax.axhline(1.0, color="grey", ls="--", lw=1)
    ax.set(xscale="log", yscale="log", xlabel="time steps T", ylabel="speedup (x)")
    ax.set_title(title, fontsize=10)
    ax.set_xticks(list(steps), [str(s) for s in steps])
    ax.legend(fontsize=8)
    return fig
