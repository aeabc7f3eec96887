"""A task that needs a memory: recall a stream at several delays, at every step.

Reading only the final state of a memory after a fixed-length sequence tests
nothing a fixed linear projection of the whole sequence cannot do (chapter 5).
A memory is needed when the past must be available *at every step* of a stream
that is longer than the window: here, from a band-limited random signal
``u_t`` (:func:`band_limited`), output the delayed copies

.. math::  y_t = \\big(u_{t-k_1}, \\dots, u_{t-k_n}\\big)

for delays ``k_j`` up to the window ``theta`` (:func:`delayed`), the memory
capacity test of the LMU paper :cite:`voelker2019lmu`. Three kinds of model
keep a state of ``d`` numbers from step to step:

* a **fixed linear memory** ``m_t = A m_{t-1} + B u_t`` (:class:`LinearMemory`)
  with a linear readout fitted by least squares (:func:`fit_readout`). With the
  Legendre matrices of :mod:`snnbook.lmu` (:func:`legendre_memory`) this is the
  LMU's memory; with a random orthogonal ``A`` scaled to spectral radius
  ``rho`` and a random ``B`` (:func:`random_memory`) it is the streaming form
  of a *random projection*: a fixed random linear map of the past, computed
  online with ``d`` numbers (a linear echo-state network);
* a **trained recurrent network** (:class:`RecurrentDelay`, a GRU or LSTM read
  out at every step), trained by back-propagation through time.

The score is the normalised RMS error per delay (:func:`nrmse`): 0 is perfect
recall, 1 is no better than predicting zero.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from snnbook import checks, stats

__all__ = [
    "band_limited",
    "delayed",
    "LinearMemory",
    "legendre_memory",
    "random_memory",
    "fit_readout",
    "nrmse",
    "streams",
    "readout_errors",
    "RecurrentDelay",
    "train_recurrent",
    "plot_delay_errors",
    "compare_errors",
]


def band_limited(
    steps: int,
    cutoff: float,
    *,
    batch: int = 1,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """White noise with every frequency above ``cutoff`` (cycles per step) removed.

    Each of the ``batch`` columns is scaled to unit variance. Returns a
    time-major ``(steps, batch)`` tensor; the same ``seed`` gives the same signal
    (the noise is drawn with NumPy on the host, then moved to ``device``).
    """
    steps = checks.integer("steps", steps, low=2)
    cutoff = checks.number(
        "cutoff", cutoff, low=0.0, high=0.5, low_open=True, hint="a frequency in cycles per step"
    )
    batch = checks.positive_int("batch", batch)
    seed = checks.nonnegative_int("seed", seed)
    freqs = np.fft.rfftfreq(steps)
    if not (freqs[1:] <= cutoff).any():
        raise ValueError(
            f"cutoff={cutoff:g} keeps no frequency of a {steps}-step signal (the lowest is "
            f"{freqs[1]:g} cycles per step); use a longer signal or a higher cutoff"
        )
    rng = np.random.default_rng(seed)
    spectrum = rng.normal(size=(freqs.size, batch)) + 1j * rng.normal(size=(freqs.size, batch))
    spectrum[(freqs > cutoff) | (freqs == 0)] = 0
    x = np.fft.irfft(spectrum, n=steps, axis=0)
    x /= x.std(axis=0, keepdims=True)
    return torch.from_numpy(x).to(dtype=dtype, device=device)


def _delays(delays: object) -> list[int]:
    if isinstance(delays, int | np.integer) and not isinstance(delays, bool):
        delays = [delays]
    if not isinstance(delays, list | tuple) or not delays:
        raise TypeError(f"delays must be a non-empty list of step counts, got {delays!r}")
    return [checks.nonnegative_int(f"delays[{i}]", k) for i, k in enumerate(delays)]


def delayed(u: torch.Tensor, delays: list[int] | tuple[int, ...]) -> torch.Tensor:
    """Targets ``y[t, ..., j] = u[t - delays[j]]`` (zero before the stream starts).

    ``u`` is time-major ``(T, ...)``; the result has shape ``(T, ..., len(delays))``.
    """
    u = checks.tensor("u", u, kind="float", hint="a time-major stream (T, batch)")
    ks = _delays(delays)
    if max(ks) >= u.shape[0]:
        raise ValueError(
            f"delays must be shorter than the stream ({u.shape[0]} steps), got {max(ks)}"
        )
    pad = torch.zeros_like(u)
    return torch.stack([torch.cat([pad[:k], u[: len(u) - k]]) for k in ks], dim=-1)


class LinearMemory(nn.Module):
    """A fixed linear memory ``m_t = A m_{t-1} + B u_t`` from ``m_{-1} = 0`` (no parameters).

    ``A`` is ``(d, d)``, ``B`` is ``(d,)``. The matrices are buffers: they move
    with ``.to(device)`` and are cast to the input's dtype in :meth:`forward`.
    Input ``u``: time-major ``(T, batch)``; output ``(T, batch, d)``.
    """

    def __init__(self, a: np.ndarray | torch.Tensor, b: np.ndarray | torch.Tensor) -> None:
        super().__init__()
        a = torch.as_tensor(np.asarray(a, dtype=np.float32))
        b = torch.as_tensor(np.asarray(b, dtype=np.float32)).reshape(-1)
        checks.tensor("A", a, ndim=2, kind="float")
        if a.shape[0] != a.shape[1] or b.shape[0] != a.shape[0]:
            raise ValueError(
                f"A must be square and B must have as many entries as A has rows, got A "
                f"{tuple(a.shape)} and B {tuple(b.shape)}"
            )
        checks.finite_values("A", a)
        checks.finite_values("B", b)
        self.register_buffer("a_t", a.T.contiguous())
        self.register_buffer("b", b)

    @property
    def order(self) -> int:
        """The number ``d`` of state dimensions."""
        return self.b.shape[0]

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        checks.tensor("u", u, ndim=2, kind="float", hint="a time-major stream (T, batch)")
        a_t = self.a_t.to(u.dtype)
        b = self.b.to(u.dtype)
        m = u.new_zeros(u.shape[1], self.order)
        states = []
        for u_t in u.unbind(0):
            m = torch.addmm(u_t[:, None] * b, m, a_t)
            states.append(m)
        return torch.stack(states)

    def extra_repr(self) -> str:
        return f"order={self.order}"


def legendre_memory(order: int, theta: float) -> LinearMemory:
    """The LMU's memory (zero-order hold, step 1) as a :class:`LinearMemory`."""
    from snnbook import lmu

    ad, bd = lmu.discretize(*lmu.legendre_delay(order, theta))
    return LinearMemory(ad, bd[:, 0])


def random_memory(order: int, radius: float, *, seed: int = 0) -> LinearMemory:
    """A random linear memory of the same size: ``A = radius * Q`` with ``Q`` a random
    orthogonal matrix (all eigenvalues on the circle of that radius, at random
    angles), ``B`` with independent standard normal entries over ``sqrt(order)``."""
    order = checks.positive_int("order", order)
    radius = checks.number("radius", radius, low=0.0, high=1.0, low_open=True, high_open=True)
    seed = checks.nonnegative_int("seed", seed)
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.normal(size=(order, order)))
    q = q * np.sign(np.diag(r))  # uniformly distributed over the orthogonal group
    return LinearMemory(radius * q, rng.normal(size=order) / math.sqrt(order))


def _pairs(states: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    states = checks.tensor("states", states, kind="float")
    targets = checks.tensor("targets", targets, kind="float")
    if states.shape[:-1] != targets.shape[:-1]:
        raise ValueError(
            "states (..., d) and targets (..., delays) must agree on every axis but the last, "
            f"got {tuple(states.shape)} and {tuple(targets.shape)}"
        )
    return states.reshape(-1, states.shape[-1]), targets.reshape(-1, targets.shape[-1])


def fit_readout(
    states: torch.Tensor, targets: torch.Tensor, *, ridge: float = 1e-9
) -> torch.Tensor:
    """Least-squares readout ``W`` (with a bias row) from memory states to targets.

    Minimises ``|[S, 1] W - Y|^2 + ridge * n * |W|^2`` in float64 on the host
    (an analysis, not a model path) and returns ``W`` of shape ``(d + 1, delays)``
    in the dtype and on the device of ``states``. Predict with
    ``states @ W[:-1] + W[-1]``.
    """
    s, y = _pairs(states, targets)
    ridge = checks.number("ridge", ridge, low=0.0)
    checks.finite_values("states", s)
    checks.finite_values("targets", y)
    s64 = torch.cat([s.detach().cpu().double(), s.new_ones(len(s), 1).cpu().double()], 1)
    y64 = y.detach().cpu().double()
    gram = s64.T @ s64 + ridge * len(s64) * torch.eye(s64.shape[1], dtype=torch.float64)
    w = torch.linalg.solve(gram, s64.T @ y64)
    return w.to(dtype=states.dtype, device=states.device)


def nrmse(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """RMS error over all axes but the last, divided by the RMS of the target: one value
    per delay (0 = perfect, 1 = as bad as predicting zero)."""
    p, y = _pairs(prediction, target)
    return ((p - y).square().mean(0) / y.square().mean(0)).sqrt()


def streams(
    seed: int, cutoff: float, *, train: int = 20_000, test: int = 10_000
) -> dict[str, torch.Tensor]:
    """The ``"train"``, ``"validation"`` and ``"test"`` streams of one seed, ``(steps, 1)`` each
    (validation and test have ``test`` steps; the three use disjoint noise seeds)."""
    seed = checks.nonnegative_int("seed", seed)
    lengths = {"train": train, "validation": test, "test": test}
    return {
        name: band_limited(n, cutoff, seed=10 * seed + i + 1)
        for i, (name, n) in enumerate(lengths.items())
    }


def readout_errors(
    memory: nn.Module,
    data: dict[str, torch.Tensor],
    delays: list[int] | tuple[int, ...],
    warmup: int,
    *,
    split: str = "test",
) -> torch.Tensor:
    """Fit a least-squares readout from ``memory``'s states on ``data["train"]`` and return
    its :func:`nrmse` per delay on ``data[split]``, both over the steps after ``warmup``."""
    if not isinstance(memory, nn.Module):
        raise TypeError(f"memory must be a module (LinearMemory), got {type(memory).__name__}")
    if not isinstance(data, dict) or "train" not in data or split not in data:
        raise ValueError(f"data must be a dict with 'train' and {split!r} streams (see streams)")
    warmup = checks.nonnegative_int("warmup", warmup)
    ks = _delays(delays)
    train, other = data["train"], data[split]
    w = fit_readout(memory(train)[warmup:], delayed(train, ks)[warmup:])
    states = memory(other)[warmup:]
    return nrmse(states @ w[:-1] + w[-1], delayed(other, ks)[warmup:])


class RecurrentDelay(nn.Module):
    """A GRU or LSTM (``kind``) with ``hidden_size`` units and a linear readout at every step.

    Input ``u``: time-major ``(T, batch)``; output ``(T, batch, outputs)``.
    """

    def __init__(self, kind: str, hidden_size: int, outputs: int) -> None:
        super().__init__()
        self.kind = checks.one_of("kind", kind, ("gru", "lstm"))
        hidden_size = checks.positive_int("hidden_size", hidden_size)
        outputs = checks.positive_int("outputs", outputs)
        self.rnn = (nn.GRU if kind == "gru" else nn.LSTM)(1, hidden_size)
        self.readout = nn.Linear(hidden_size, outputs)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        checks.tensor("u", u, ndim=2, kind="float", hint="a time-major stream (T, batch)")
        h, _ = self.rnn(u[..., None])
        return self.readout(h)


def train_recurrent(
    model: RecurrentDelay,
    delays: list[int] | tuple[int, ...],
    cutoff: float,
    *,
    steps: int,
    length: int = 400,
    warmup: int | None = None,
    batch: int = 32,
    lr: float = 3e-3,
    clip: float = 1.0,
    seed: int = 0,
    record_every: int = 0,
    stop_after: int | None = None,
) -> dict[str, list[float]]:
    """Train ``model`` by back-propagation through time on fresh random streams.

    Every optimizer step draws ``batch`` new band-limited streams of ``length``
    steps (seeds ``seed * 10**6 + step``, so training never sees the test
    streams); the loss is the mean squared error of all delays over the steps
    after ``warmup`` (default: the longest delay). Adam with learning rate
    ``lr`` and a cosine decay to zero, gradient norm clipped to ``clip``.
    Returns ``losses`` (the first three steps, for re-run checks) and, with
    ``record_every``, ``curve`` (the loss every that many steps). ``stop_after``
    ends training after that many steps, with the learning-rate schedule of the full
    ``steps`` (to re-run the start of a long run).
    """
    ks = _delays(delays)
    steps = checks.positive_int("steps", steps)
    length = checks.positive_int("length", length)
    warmup = max(ks) if warmup is None else checks.nonnegative_int("warmup", warmup)
    if warmup >= length:
        raise ValueError(f"warmup ({warmup}) must be shorter than length ({length})")
    batch = checks.positive_int("batch", batch)
    lr = checks.positive("lr", lr)
    clip = checks.positive("clip", clip)
    seed = checks.nonnegative_int("seed", seed)
    record_every = checks.nonnegative_int("record_every", record_every)
    if stop_after is not None:
        stop_after = checks.positive_int("stop_after", stop_after)
    device = next(model.parameters()).device
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    out: dict[str, list[float]] = {"losses": [], "curve": []}
    running = 0.0
    for step in range(steps):
        u = band_limited(length, cutoff, batch=batch, seed=seed * 10**6 + step, device=device)
        loss = (model(u) - delayed(u, ks))[warmup:].square().mean()
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        schedule.step()
        value = loss.item()
        running += value
        if step < 3:
            out["losses"].append(value)
        if record_every and (step + 1) % record_every == 0:
            out["curve"].append(running / record_every)
            running = 0.0
        if stop_after is not None and step + 1 >= stop_after:
            break
    return out


def plot_delay_errors(
    delays: list[int] | tuple[int, ...],
    errors: dict[str, torch.Tensor | np.ndarray | list[list[float]]],
    *,
    title: str = "",
    figsize: tuple[float, float] = (6.0, 3.0),
) -> Figure:
    """Normalised error against delay, one line per model (mean over seeds, a band for the
    range). ``errors[name]`` is ``(seeds, len(delays))``."""
    from snnbook.plotting import COLORS, new_figure

    ks = _delays(delays)
    if not isinstance(errors, dict) or not errors:
        raise TypeError("errors must be a non-empty dict: model name -> (seeds, delays) array")
    fig, axes = new_figure(1, figsize=figsize)
    ax = axes[0, 0]
    for i, (name, values) in enumerate(errors.items()):
        e = np.asarray(
            values.detach().cpu() if isinstance(values, torch.Tensor) else values, dtype=float
        )
        if e.ndim != 2 or e.shape[1] != len(ks):
            raise ValueError(f"errors[{name!r}] must have shape (seeds, {len(ks)}), got {e.shape}")
        color = COLORS[i % len(COLORS)]
        ax.plot(ks, e.mean(0), "o-", color=color, label=name)
        ax.fill_between(ks, e.min(0), e.max(0), color=color, alpha=0.2, lw=0)
    ax.set_xlabel("delay $k$ (steps)")
    ax.set_ylabel("normalised RMS error")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def compare_errors(a: object, b: object, *, z: float = 2.0) -> stats.Comparison:
    """Mean of ``a`` minus mean of ``b`` (errors, one per seed) with the noise of the seeds.

    Every seed draws its own training and test streams, so the spread over seeds already holds
    the test-set noise; the noise is ``sqrt(s_a^2 / k_a + s_b^2 / k_b)``. A difference within
    ``z`` times that noise is a tie (:class:`snnbook.stats.Comparison`); at least 2 seeds each.
    """
    z = checks.positive("z", z)
    values = []
    for name, v in (("a", a), ("b", b)):
        if isinstance(v, torch.Tensor):
            v = v.detach().cpu().tolist()
        if not isinstance(v, (list, tuple, np.ndarray)) or len(v) < 2:
            raise ValueError(f"{name} must hold one error per seed, at least 2 seeds; got {v!r}")
        arr = np.asarray(v, dtype=float)
        if arr.ndim != 1 or not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be a flat list of finite errors, got {v!r}")
        values.append(arr)
    x, y = values
    noise = math.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y))
    return stats.Comparison(float(x.mean() - y.mean()), noise, z)
