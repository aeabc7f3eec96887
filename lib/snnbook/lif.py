"""Leaky integrate-and-fire neurons in snnTorch, surrogate gradients, and the book's LIF baseline.

snnTorch's ``Leaky`` neuron :cite:`eshraghian2023training` steps its membrane
potential :math:`U` with input current :math:`I`, decay :math:`\\beta` and
threshold :math:`\\theta` as

.. math::

    R[t] = \\Theta(U[t-1] - \\theta), \\qquad
    U[t] = \\beta\\,U[t-1] + I[t] - R[t]\\,\\theta \\quad\\text{(subtract)}
    \\quad\\text{or}\\quad U[t] = \\beta\\,(1 - R[t])\\,U[t-1] + I[t] \\quad\\text{(zero)},

    S[t] = \\Theta(U[t] - \\theta),

so a spike :math:`S[t]` is reported at the step the threshold is crossed and the
reset :math:`R` acts one step later. Subtractive reset keeps the overshoot
:math:`U - \\theta` (the quantization error is carried forward, as in chapter 1);
reset to zero throws it away. The decay is the exact discretisation of the
membrane equation :math:`\\tau\\,\\dot U = -U + R_m I` over a step :math:`\\Delta t`:
:math:`\\beta = e^{-\\Delta t / \\tau}` (:func:`beta_from_tau`).

The Heaviside step :math:`\\Theta` has no useful derivative, so training
replaces :math:`\\partial S / \\partial U` by a *surrogate*; :func:`surrogate_derivative`
evaluates the one a ``snntorch.surrogate`` function uses.

:class:`RateLIFNet` is the multi-spike baseline of the book: a rate-coded
fully connected LIF network trained end to end with backpropagation through
time (BPTT). :func:`leaky_scan` runs a whole ``snn.Leaky`` layer over time in
one autograd node (same spikes, same gradients as stepping it, several times
faster); :func:`saved_bytes` measures the memory BPTT keeps for the backward
pass.
"""

from __future__ import annotations

import math
import statistics
import time
import weakref
from collections.abc import Callable, Mapping

import snntorch as snn
import torch
from matplotlib.figure import Figure
from snntorch import spikegen, surrogate
from torch import nn

from . import checks
from .plotting import membrane, new_figure

__all__ = [
    "run_leaky",
    "leaky_scan",
    "beta_from_tau",
    "lif_response",
    "surrogate_derivative",
    "triangle",
    "RateLIFNet",
    "time_loop_backward",
    "saved_bytes",
    "slope_trial",
    "count_loss_rows",
    "slope_rows",
    "plot_loop_times",
    "plot_resets",
    "plot_leak",
    "plot_surrogates",
    "plot_slope",
    "plot_codes",
]

_RESETS = ("subtract", "zero", "none")


def _check_leaky(lif: object) -> snn.Leaky:
    if not isinstance(lif, snn.Leaky):
        raise TypeError(
            f"lif must be an snntorch.Leaky layer, got {type(lif).__name__}; "
            "create one with snn.Leaky(beta=..., threshold=...)"
        )
    return lif


def _check_currents(currents: object, name: str = "currents") -> torch.Tensor:
    hint = "pass a time-major float tensor (T, ...), e.g. torch.zeros(T, n)"
    checks.tensor(name, currents, kind="float", hint=hint)
    if currents.ndim < 1:
        raise ValueError(f"{name} must have a time axis first, got a 0-d tensor; {hint}")
    return currents


def run_leaky(lif: snn.Leaky, currents: torch.Tensor) -> torch.Tensor:
    """Drive an snnTorch ``Leaky`` layer with time-major ``currents`` (T, ...); return its spikes.

    Starts from ``U = 0`` and stacks ``S[t]`` for every step. The input is split
    with ``unbind``, whose backward is O(T) (see :func:`time_loop_backward`).
    """
    _check_leaky(lif)
    _check_currents(currents)
    mem = lif.init_leaky()
    spikes = []
    for i_t in currents.unbind(0):
        spk, mem = lif(i_t, mem)
        spikes.append(spk)
    return torch.stack(spikes)


class _LeakyScan(torch.autograd.Function):
    """A whole ``snn.Leaky`` layer over time as one autograd node.

    Forward: the recurrence of the module docstring, without building a graph.
    Backward: with the reset detached (as snnTorch does), the gradient obeys
    ``g[t] = dL/dU[t] + sigma'(U[t] - theta) dL/dS[t] + a[t+1] g[t+1]``, with
    ``a = beta`` (``a = beta (1 - R)`` for reset to zero), and ``dL/dI[t] = g[t]``.
    """

    @staticmethod
    def forward(ctx, currents, beta, threshold, graded, spike_grad, reset):  # noqa: ANN001, ANN205
        u = torch.zeros_like(currents[0])
        mems = torch.empty_like(currents)
        keep = torch.empty_like(currents) if reset == "zero" else None
        for t in range(currents.shape[0]):
            r = (u > threshold).to(currents.dtype)
            if reset == "subtract":
                u = beta * u + currents[t] - r * threshold
            elif reset == "zero":
                keep[t] = 1.0 - r
                u = beta * keep[t] * u + currents[t]
            else:
                u = beta * u + currents[t]
            mems[t] = u
        spikes = (mems > threshold).to(currents.dtype) * graded
        ctx.save_for_backward(mems, beta, threshold, graded, *(() if keep is None else (keep,)))
        ctx.spike_grad = spike_grad
        return spikes, mems

    @staticmethod
    def backward(ctx, grad_spikes, grad_mems):  # noqa: ANN001, ANN205
        mems, beta, threshold, graded, *rest = ctx.saved_tensors
        with torch.enable_grad():
            shifted = (mems - threshold).detach().requires_grad_(True)
            (grad_u,) = torch.autograd.grad(ctx.spike_grad(shifted), shifted, grad_spikes * graded)
        grad_u = grad_u + grad_mems
        out = torch.empty_like(grad_u)
        g = torch.zeros_like(grad_u[0])
        steps = grad_u.shape[0]
        for t in range(steps - 1, -1, -1):
            if t < steps - 1:
                g = g * beta if not rest else g * (beta * rest[0][t + 1])
            g = grad_u[t] + g
            out[t] = g
        return out, None, None, None, None, None


def leaky_scan(lif: snn.Leaky, currents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``lif`` over time-major ``currents`` (T, ...) from rest; return ``(spikes, mems)``.

    The same numbers as stepping the layer (``spk, mem = lif(I[t], mem)``, see
    :func:`run_leaky`), and the same gradient with respect to the currents, but
    as one autograd node: the forward loop builds no graph and the backward
    pass is one short loop (see :class:`_LeakyScan`). ``tests/test_lif.py``
    checks both against snnTorch. It reads ``beta``, ``threshold``,
    ``spike_grad`` and ``reset_mechanism`` from ``lif`` (so an annealed
    threshold is seen at once) and scales the spikes by ``graded_spikes_factor``
    as snnTorch does; a learnable beta, threshold or spike height, state
    quantization and inhibition are refused (use :func:`run_leaky`). Only
    attributes are inspected, never tensor values, so the call does not wait
    for the device.
    """
    _check_leaky(lif)
    _check_currents(currents)
    beta, threshold = lif.beta, lif.threshold
    if beta.requires_grad or threshold.requires_grad:
        raise ValueError(
            "leaky_scan does not train beta or threshold (learn_beta / learn_threshold); "
            "use run_leaky for such layers"
        )
    if lif.state_quant or lif.inhibition or not lif.reset_delay:
        raise ValueError(
            "leaky_scan supports plain snn.Leaky layers only (no state_quant, no inhibition, "
            "reset_delay=True); use run_leaky"
        )
    graded = lif.graded_spikes_factor
    if graded.requires_grad:
        raise ValueError("leaky_scan does not train graded_spikes_factor; use run_leaky")
    reset = checks.one_of("lif.reset_mechanism", lif.reset_mechanism, _RESETS)
    beta = beta.to(currents.dtype).clamp(0.0, 1.0)
    dtype = currents.dtype
    return _LeakyScan.apply(
        currents, beta, threshold.to(dtype), graded.to(dtype), lif.spike_grad, reset
    )


def beta_from_tau(tau: float, dt: float = 1.0) -> float:
    """Decay per step of a membrane with time constant ``tau``: ``beta = exp(-dt / tau)``.

    Exact for ``tau dU/dt = -U`` held over one step of length ``dt`` (same units).
    """
    tau = checks.positive("tau", tau, hint="the membrane time constant, e.g. 10 (ms)")
    dt = checks.positive("dt", dt, hint="the simulation step, in the units of tau")
    return math.exp(-dt / tau)


def lif_response(
    current: torch.Tensor,
    *,
    beta: float,
    threshold: float = 1.0,
    reset_mechanism: str = "subtract",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run one ``snn.Leaky`` neuron (or a few in parallel) over a time-major input current.

    ``current`` is ``(T,)`` or ``(T, n)``; returns ``(mem, spk)`` of the same shape,
    on the current's device. ``reset_mechanism`` is ``"subtract"``, ``"zero"`` or
    ``"none"`` (snnTorch's names). ``beta`` must lie in [0, 1] (snnTorch would
    silently clamp a larger value) and ``threshold`` be positive.
    """
    checks.tensor(
        "current",
        current,
        ndim=(1, 2),
        kind="real",
        hint="pass a time-major tensor of shape (T,) or (T, n)",
    )
    checks.finite_values("current", current)
    beta = checks.unit_interval("beta", beta, hint="the decay per step, e.g. 0.9")
    threshold = checks.positive("threshold", threshold)
    checks.one_of("reset_mechanism", reset_mechanism, _RESETS)
    lif = snn.Leaky(beta=beta, threshold=threshold, reset_mechanism=reset_mechanism)
    lif = lif.to(current.device)
    mem = lif.init_leaky()
    mems, spks = [], []
    with torch.no_grad():
        for i_t in current.float().unbind(0):
            spk, mem = lif(i_t, mem)
            mems.append(mem)
            spks.append(spk)
    return torch.stack(mems), torch.stack(spks)


def surrogate_derivative(
    spike_grad: Callable[[torch.Tensor], torch.Tensor], u: torch.Tensor
) -> torch.Tensor:
    """The surrogate ``dS/dU`` that ``spike_grad`` (e.g. ``surrogate.atan()``) uses at ``U - theta = u``.

    Computed with autograd, so it is exactly what training sees.
    """
    checks.callable_("spike_grad", spike_grad, hint="pass e.g. snntorch.surrogate.atan()")
    checks.tensor("u", u, kind="real")
    checks.finite_values("u", u)
    x = u.detach().float().clone().requires_grad_(True)
    with torch.enable_grad():
        spike_grad(x).sum().backward()
    return x.grad.detach()


def triangle(width: float = 1.0) -> Callable[[torch.Tensor], torch.Tensor]:
    """A triangular surrogate: Heaviside forward, ``max(0, 1 - |u| / width)`` backward.

    (snnTorch's own ``surrogate.triangular`` is not a triangle: its backward
    returns ``+threshold`` below the threshold and ``-threshold`` above it.)
    """
    width = checks.positive("width", width, hint="the half-width of the triangle, e.g. 1.0")

    def grad(u: torch.Tensor, grad_input: torch.Tensor, spikes: torch.Tensor) -> torch.Tensor:  # noqa: ARG001
        return grad_input * (1.0 - u.abs() / width).clamp(min=0.0)

    return surrogate.custom_surrogate(grad)


class RateLIFNet(nn.Module):
    """Rate-coded fully connected LIF network: ``n_in -> hidden -> n_out``, trained with BPTT.

    Each image (pixel intensities in [0, 1]) is turned into ``num_steps``
    Bernoulli spike frames (``snntorch.spikegen.rate``); two ``snn.Leaky`` layers
    with decay ``beta`` and threshold 1 process them, and the score of a class is
    its output neuron's **spike count** over the ``num_steps`` steps (so
    cross-entropy on the output trains it). The first linear layer is applied to
    all time steps at once and its output split with ``unbind`` (see
    :func:`time_loop_backward` for why not to index it inside the loop).
    """

    def __init__(
        self,
        hidden: int = 256,
        *,
        num_steps: int = 25,
        beta: float = 0.9,
        spike_grad: Callable[[torch.Tensor], torch.Tensor] | None = None,
        n_in: int = 784,
        n_out: int = 10,
    ) -> None:
        super().__init__()
        hidden = checks.positive_int("hidden", hidden)
        self.num_steps = checks.positive_int("num_steps", num_steps)
        beta = checks.unit_interval("beta", beta, hint="the decay per step, e.g. 0.9")
        if spike_grad is not None:
            checks.callable_("spike_grad", spike_grad, hint="pass e.g. surrogate.atan() or None")
        self.n_in = checks.positive_int("n_in", n_in)
        n_out = checks.positive_int("n_out", n_out)
        self.fc1 = nn.Linear(self.n_in, hidden)
        self.lif1 = snn.Leaky(beta=beta, spike_grad=spike_grad)
        self.fc2 = nn.Linear(hidden, n_out)
        self.lif2 = snn.Leaky(beta=beta, spike_grad=spike_grad)

    def run(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Simulate and return time-major ``spk1`` (T, B, hidden), ``spk2`` and ``mem2`` (T, B, n_out).

        ``x`` holds intensities in [0, 1] (values outside are clipped by the
        encoder); only its shape is checked here, so the pass never waits for
        the device.
        """
        checks.tensor("x", x, kind="float", hint="pass images as a float tensor (B, ...)")
        x = x.reshape(len(x), -1)
        if x.shape[1] != self.n_in:
            raise ValueError(f"expected {self.n_in} input features per sample, got {x.shape[1]}")
        spikes_in = spikegen.rate(x, num_steps=self.num_steps)
        cur1 = self.fc1(spikes_in)  # all time steps in one matmul
        mem1, mem2 = self.lif1.init_leaky(), self.lif2.init_leaky()
        spk1_rec, spk2_rec, mem2_rec = [], [], []
        for c1 in cur1.unbind(0):
            spk1, mem1 = self.lif1(c1, mem1)
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            spk1_rec.append(spk1)
            spk2_rec.append(spk2)
            mem2_rec.append(mem2)
        return {
            "spk1": torch.stack(spk1_rec),
            "spk2": torch.stack(spk2_rec),
            "mem2": torch.stack(mem2_rec),
        }

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Output spike counts ``(batch, n_out)``, used as class scores."""
        return self.run(x)["spk2"].sum(0)


def time_loop_backward(
    num_steps: int,
    *,
    split: str,
    batch: int = 16,
    hidden: int = 64,
    beta: float = 0.9,
    seed: int = 0,
) -> float:
    """Seconds for one backward pass through a LIF time loop whose input is read per step.

    The input current ``x = fc(inputs)`` requires grad and has shape
    ``(num_steps, batch, hidden)``. With ``split="index"`` the loop reads
    ``x[t]``: every read is its own autograd node, and in backward each one
    scatters its gradient into a fresh zero tensor of the *full* size of ``x``,
    so backward costs O(T^2). With ``split="unbind"`` the loop iterates over
    ``x.unbind(0)``, a single node whose backward stacks the T gradients: O(T).
    """
    num_steps = checks.positive_int("num_steps", num_steps)
    checks.one_of("split", split, ("index", "unbind"))
    batch = checks.positive_int("batch", batch)
    hidden = checks.positive_int("hidden", hidden)
    beta = checks.unit_interval("beta", beta)
    seed = checks.nonnegative_int("seed", seed)
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.rand(num_steps, batch, hidden, generator=gen)
    fc = nn.Linear(hidden, hidden)
    lif = snn.Leaky(beta=beta)
    x = fc(inputs)
    steps = x.unbind(0) if split == "unbind" else (x[t] for t in range(num_steps))
    mem = lif.init_leaky()
    total = 0.0
    for x_t in steps:
        spk, mem = lif(x_t, mem)
        total = total + mem.sum()
    start = time.perf_counter()
    total.backward()
    return time.perf_counter() - start


def saved_bytes(forward: Callable[[], torch.Tensor]) -> int:
    """Bytes of the tensors autograd keeps for the backward pass of ``forward()``.

    Runs ``forward()`` (which must return a tensor that requires grad, such as
    a loss) while noting every tensor saved for backward, then counts those
    still held by the graph when ``forward()`` returns, once per storage. A
    tensor saved by a branch that the graph has already dropped (snnTorch's
    reset, for example, computes a spike and detaches it) is freed and not
    counted; counting it would also make the result depend on whether the
    allocator reused its memory. This is the memory BPTT needs beyond the
    forward pass itself: for a network unrolled over ``T`` steps it grows in
    proportion to ``T``.
    """
    checks.callable_("forward", forward, hint="pass a function of no arguments, e.g. a lambda")
    saved: list[weakref.ref[torch.Tensor]] = []

    def pack(t: torch.Tensor) -> torch.Tensor:
        saved.append(weakref.ref(t))
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = forward()
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        raise ValueError(
            "forward() must return a tensor that requires grad (a loss or an output); "
            f"got {type(out).__name__}"
        )
    storages: dict[tuple[str, int], int] = {}
    for ref in saved:
        t = ref()
        if t is not None:  # still held by the graph of ``out``
            storage = t.untyped_storage()
            storages[(str(t.device), storage.data_ptr())] = storage.nbytes()
    return sum(storages.values())


def slope_trial(
    slope: float,
    seed: int,
    train: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor],
    *,
    hidden: int = 128,
    num_steps: int = 25,
    epochs: int = 1,
    batch_size: int = 128,
    lr: float = 2e-3,
    probe_batch: int = 256,
    record_losses: int = 3,
) -> dict[str, float | list[float]]:
    """Train a :class:`RateLIFNet` whose surrogate is a fast sigmoid of ``slope``; test it.

    Returns ``grad_norm`` (norm of the first layer's gradient on the first
    ``probe_batch`` training images, at initialisation), ``test_acc``, and the
    losses of the first ``record_losses`` optimizer steps (``first_losses``, for
    checking a re-run). Everything depends on ``seed`` alone: initialisation,
    input spikes and batch order.
    """
    from .training import evaluate, fit

    slope = checks.positive("slope", slope)
    seed = checks.nonnegative_int("seed", seed)
    x_train, y_train = _pair("train", train)
    x_test, y_test = _pair("test", test)
    probe_batch = checks.positive_int("probe_batch", probe_batch)
    record_losses = checks.nonnegative_int("record_losses", record_losses)
    torch.manual_seed(seed)
    net = RateLIFNet(hidden, num_steps=num_steps, spike_grad=surrogate.fast_sigmoid(slope=slope))
    probe = nn.functional.cross_entropy(net(x_train[:probe_batch]), y_train[:probe_batch])
    probe.backward()
    grad_norm = net.fc1.weight.grad.norm().item()
    net.zero_grad()
    first: list[float] = []

    def loss_fn(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = nn.functional.cross_entropy(logits, y)
        if len(first) < record_losses:
            first.append(loss.item())
        return loss

    fit(
        net,
        x_train,
        y_train,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        loss_fn=loss_fn,
        seed=seed,
        desc=f"slope {slope:g}, seed {seed}",
    )
    return {
        "grad_norm": grad_norm,
        "test_acc": evaluate(net, x_test, y_test),
        "first_losses": first,
    }


def count_loss_rows(
    losses: Mapping[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]],
    spikes: torch.Tensor,
    labels: torch.Tensor,
    *,
    extra: int = 5,
) -> list[dict[str, object]]:
    """How each spike-count loss scores output ``spikes`` (T, B, classes) and what it asks for.

    For every named loss (e.g. ``snntorch.functional.ce_count_loss()``) one row:
    its value; its value when every output neuron fires ``extra`` more spikes
    (a loss on the *differences* of counts does not move); and the gradient with
    respect to the spike count of the true class and, averaged, of the others
    (the sign says which way training pushes each count).
    """
    if not isinstance(losses, Mapping) or not losses:
        raise ValueError('losses must be a non-empty dict {name: loss_fn}, e.g. {"ce": ...}')
    for name, fn in losses.items():
        checks.callable_(f"losses[{name!r}]", fn)
    checks.tensor("spikes", spikes, ndim=3, kind="float", hint="time-major (T, batch, classes)")
    checks.labels("labels", labels, num_classes=spikes.shape[2])
    checks.same_length(**{"spikes batch": spikes[0], "labels": labels})
    extra = checks.nonnegative_int("extra", extra)
    steps = spikes.shape[0]
    rows = []
    true = torch.nn.functional.one_hot(labels, spikes.shape[2]).bool()
    for name, fn in losses.items():
        s = spikes.detach().clone().requires_grad_(True)
        loss = fn(s, labels)
        (grad,) = torch.autograd.grad(loss, s)
        per_count = grad.sum(0) / steps  # the same at every step for a loss on counts
        shifted = fn(spikes.detach() + extra / steps, labels)
        rows.append(
            {
                "loss": name,
                "value": float(loss.detach()),
                f"value, {extra} more spikes per neuron": float(shifted),
                "dL/d(count), true class": float(per_count[true].mean()),
                "dL/d(count), other classes": float(per_count[~true].mean()),
            }
        )
    return rows


def slope_rows(record: Mapping, live: Mapping[float, Mapping] | None = None) -> list[dict]:
    """Rows of the slope table from a ``surrogate_slopes`` result (and, optionally, a live re-run).

    Per slope: the gradient norm at initialisation and the test accuracy as
    :class:`snnbook.stats.Summary` objects over the seeds, plus the live
    seed-0 accuracy if ``live`` maps slopes to :func:`slope_trial` results.
    """
    from .stats import summarize

    if not isinstance(record, Mapping) or "runs" not in record:
        raise ValueError("record must be the loaded surrogate_slopes result (records.load)")
    rows = []
    for slope in record["slopes"]:
        seeds = record["runs"][f"{slope:g}"]
        accs = [r["test_acc"] for r in seeds.values()]
        grads = [r["grad_norm"] for r in seeds.values()]
        row = {
            "slope": slope,
            "grad_norm": statistics.fmean(grads),
            "grad_norm_std": statistics.stdev(grads) if len(grads) > 1 else 0.0,
            "accuracy": summarize(accs, record["n_test"]),
        }
        if live is not None:
            row["live seed 0"] = live[slope]["test_acc"]
        rows.append(row)
    return rows


def plot_loop_times(lengths: list[int], seconds: Mapping[str, list[float]]) -> Figure:
    """Backward time against sequence length for the ``x[t]`` and ``unbind`` loops (log-log)."""
    if not isinstance(seconds, Mapping) or not seconds:
        raise ValueError('seconds must be a dict {"index": [...], "unbind": [...]}')
    fig, axes = new_figure(figsize=(6, 3.2))
    ax = axes[0, 0]
    names = {"index": "x[t]", "unbind": "x.unbind(0)"}
    for split, secs in seconds.items():
        checks.same_length(lengths=lengths, seconds=secs)
        ax.loglog(lengths, [s * 1e3 for s in secs], "o-", label=names.get(split, split))
    ax.set(xlabel="time steps T", ylabel="backward pass (ms)")
    ax.legend()
    return fig


def _pair(name: str, pair: object) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(pair, tuple | list) or len(pair) != 2:
        raise TypeError(f"{name} must be a pair (x, y) of tensors, got {type(pair).__name__}")
    x, y = pair
    checks.tensor(f"{name}[0] (images)", x, kind="float")
    checks.labels(f"{name}[1] (labels)", y)
    checks.same_length(**{f"{name}_images": x, f"{name}_labels": y})
    return x, y


def plot_resets(
    current: torch.Tensor, *, beta: float, threshold: float = 1.0
) -> tuple[Figure, dict[str, int]]:
    """Membrane traces of one neuron with subtractive and zero reset, side by side.

    Returns the figure and the spike count of each reset mechanism.
    """
    checks.tensor("current", current, ndim=1, kind="real", hint="pass one neuron's input, (T,)")
    fig, axes = new_figure(ncols=2, sharey=True, figsize=(9, 3.2))
    counts = {}
    shown = current.detach().cpu()
    for ax, reset in zip(axes[0], ("subtract", "zero"), strict=True):
        mem, spk = lif_response(shown, beta=beta, threshold=threshold, reset_mechanism=reset)
        counts[reset] = int(spk.sum())
        ax.plot(shown.numpy(), color="0.6", lw=1, label="input current")
        membrane(mem, threshold=threshold, spikes=spk, ax=ax)
        ax.set_title(f'reset_mechanism="{reset}": {counts[reset]} spikes')
    return fig, counts


def plot_leak(beta: float, level: float = 0.45, *, num_steps: int = 80) -> Figure:
    """One neuron (threshold 1) under a current ``level`` held from step 5 to step 60.

    Both reset mechanisms side by side (:func:`plot_resets`), with the level
    ``level / (1 - beta)`` that a non-firing membrane would settle at drawn as a
    dotted line: the neuron fires only if that level is above the threshold.
    Made for :func:`snnbook.widgets.explore` sliders over ``beta`` and ``level``.
    """
    beta = checks.unit_interval("beta", beta)
    level = checks.number("level", level, hint="a constant input current, e.g. 0.45")
    num_steps = checks.positive_int("num_steps", num_steps)
    if num_steps < 70:
        raise ValueError(
            f"num_steps must be at least 70 (the input runs to step 60), got {num_steps}"
        )
    current = torch.zeros(num_steps)
    current[5:60] = level
    fig, _ = plot_resets(current, beta=beta, threshold=1.0)
    settle = level / (1.0 - beta) if beta < 1.0 else float("inf")
    for ax in fig.axes:
        if settle < 5.0:
            ax.axhline(settle, color="0.4", ls=":", lw=1)
        ax.set_ylim(-0.2, 2.2)
    fig.suptitle(
        f"β = {beta:g}, input {level:g}: a silent membrane would settle at "
        + ("I/(1-β) = " + f"{settle:.2f}" if settle < float("inf") else "∞ (no leak)"),
        fontsize=10,
    )
    return fig


def plot_slope(slope: float, *, spread: float = 0.5) -> Figure:
    """The fast-sigmoid surrogate ``1 / (1 + k|u|)^2`` at slope ``k`` over membranes ``u = U - theta``.

    Shaded: the density of membranes spread as ``N(0, spread^2)`` around the
    threshold; the title gives the share of them that receive at least a
    quarter of the peak gradient (``|u| < 1/k``). Made for
    :func:`snnbook.widgets.explore` with a slider over ``slope``.
    """
    slope = checks.positive("slope", slope, hint="the fast sigmoid's slope k, e.g. 25")
    spread = checks.positive("spread", spread)
    u = torch.linspace(-2.0, 2.0, 801)
    grad = surrogate_derivative(surrogate.fast_sigmoid(slope=slope), u)
    density = torch.exp(-0.5 * (u / spread) ** 2)
    share = math.erf(1.0 / (slope * spread * math.sqrt(2.0)))
    fig, axes = new_figure(figsize=(7, 3.2))
    ax = axes[0, 0]
    ax.fill_between(u.numpy(), density.numpy(), color="0.85", label=f"membranes, N(0, {spread:g}²)")
    ax.plot(u.numpy(), grad.numpy(), lw=2, label=f"fast sigmoid, k = {slope:g}")
    ax.set(xlabel=r"$U - \theta$", ylabel=r"surrogate $\partial S / \partial U$", ylim=(0, 1.05))
    ax.set_title(f"{share:.1%} of the membranes get at least 1/4 of the peak gradient", fontsize=10)
    ax.legend(loc="upper right", fontsize=8)
    return fig


def plot_surrogates(named: Mapping[str, Callable], u: torch.Tensor) -> Figure:
    """The surrogate derivative ``dS/dU`` of each named ``spike_grad`` against ``u = U - theta``."""
    if not isinstance(named, Mapping) or not named:
        raise ValueError('named must be a non-empty dict {label: spike_grad}, e.g. {"atan": ...}')
    for label, fn in named.items():
        checks.callable_(f"named[{label!r}]", fn)
    checks.tensor("u", u, ndim=1, kind="real")
    fig, axes = new_figure(figsize=(7, 3.2))
    ax = axes[0, 0]
    shown = u.detach().cpu()
    for name, fn in named.items():
        ax.plot(shown.numpy(), surrogate_derivative(fn, shown).numpy(), label=name)
    ax.set_xlabel(r"$U - \theta$")
    ax.set_ylabel(r"surrogate $\partial S / \partial U$")
    ax.legend(loc="upper right", fontsize=8)
    return fig


def plot_codes(image: torch.Tensor, codes: Mapping[str, torch.Tensor]) -> Figure:
    """Spike rasters of one image under several input codes (pixels on the vertical axis).

    ``codes`` maps a name to the time-major spikes ``(T, 784)`` of the image.
    """
    from .plotting import raster

    checks.tensor("image", image, kind="real")
    if not isinstance(codes, Mapping) or not codes:
        raise ValueError("codes must be a non-empty dict {name: spikes (T, pixels)}")
    fig, axes = new_figure(ncols=len(codes) + 1, figsize=(3.1 * (len(codes) + 1), 3.0))
    axes[0, 0].imshow(image.detach().cpu().reshape(28, 28).numpy(), cmap="gray_r")
    axes[0, 0].set(xticks=[], yticks=[], title="image")
    axes[0, 0].grid(False)
    for ax, (name, spikes) in zip(axes[0, 1:], codes.items(), strict=True):
        checks.tensor(f"codes[{name!r}]", spikes, ndim=2)
        s = spikes.detach().cpu()
        raster(s, ax=ax)
        ax.set_title(f"{name}: {int(s.sum())} spikes", fontsize=10)
        ax.set_ylabel("pixel")
    return fig
