"""Legendre Memory Units: a linear delay-line memory, its parallel forms, and the LMU layer.

Voelker, Kajić and Eliasmith :cite:`voelker2019lmu` derive a ``d``-dimensional
linear system whose state ``m(t)`` holds the Legendre coefficients of the
input's recent past, the window ``u(t - theta')`` for ``0 <= theta' <= theta``:

.. math::

    \\theta\\,\\dot m(t) = A\\,m(t) + B\\,u(t), \\qquad
    A_{ij} = (2i+1)\\begin{cases} -1 & i < j \\\\ (-1)^{i-j+1} & i \\ge j\\end{cases},
    \\qquad B_i = (2i+1)(-1)^i,

for ``i, j = 0 .. d-1`` (the Padé approximant of a pure delay, written in a
Legendre basis). :func:`legendre_delay` returns ``A / theta`` and ``B / theta``.
Sampling it with a zero-order hold (the input is constant during each step of
length ``dt``) gives the discrete recurrence

.. math::

    m_t = \\bar A\\,m_{t-1} + \\bar B\\,u_t, \\qquad
    \\bar A = e^{A\\,dt/\\theta},\\quad \\bar B = (A/\\theta)^{-1}(\\bar A - I)\\,B/\\theta,

computed by :func:`discretize` with :func:`scipy.signal.cont2discrete`. The
window is read back with shifted Legendre polynomials ``P~_i(r) = P_i(2r - 1)``:

.. math::  u(t - r\\theta) \\approx \\sum_{i<d} \\tilde P_i(r)\\, m_i(t), \\qquad 0 \\le r \\le 1

(:func:`decode`).

Because the memory is linear and time-invariant, Chilkuri and Eliasmith
:cite:`chilkuri2021parallel` train it in parallel: with the impulse response
``H[k] = Abar^k Bbar`` (:func:`impulse_response`),

.. math::  m_t = \\sum_{k=0}^{t} H[t-k]\\, u_k ,

a causal convolution (computed by FFT for every ``t``) or, for the final state
only, one matrix product ``m_{T-1} = \\sum_k H[T-1-k] u_k``. :func:`memory`
offers the recurrence and both parallel forms.

:class:`LMU` is the layer without hidden-state recurrence of
:cite:`chilkuri2021parallel`: ``u_t = e_x^T x_t``, the memory above, and
``h_t = f(W_m m_t + W_x x_t + b)``; ``f`` may be a spiking activation
(:class:`snnbook.quantizers.SpikingActivation`), which gives the hybrid-spiking
LMU of :cite:`voelker2020spike`: the memory stays linear and non-spiking.
"""

from __future__ import annotations

import json
import math
import time
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from scipy.signal import cont2discrete
from torch import nn

__all__ = [
    "legendre_delay",
    "discretize",
    "impulse_response",
    "memory",
    "memory_tail",
    "legendre_basis",
    "decode",
    "LMU",
    "LMUClassifier",
    "FeatureModel",
    "RNNClassifier",
    "fixed_permutation",
    "pixel_sequence",
    "count_parameters",
    "BASELINES_PATH",
    "load_baselines",
    "train_with_budget",
    "plot_reconstruction",
]


# --------------------------------------------------------------------------- checks


def _check_order(order: int) -> int:
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)):
        raise TypeError(f"order must be an int >= 1, got {order!r}")
    if order < 1:
        raise ValueError(f"order must be >= 1 (the number of memory dimensions), got {order}")
    return int(order)


def _check_positive(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a positive number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return value


# --------------------------------------------------------------------------- the system


def legendre_delay(order: int, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """Continuous-time Legendre delay system ``dm/dt = A m + B u`` of :cite:`voelker2019lmu`.

    ``A[i, j] = (2i+1)/theta * (-1 if i < j else (-1)**(i-j+1))`` and
    ``B[i] = (2i+1) (-1)**i / theta``. Returns float64 arrays of shapes
    ``(order, order)`` and ``(order, 1)``.
    """
    order = _check_order(order)
    theta = _check_positive(theta, "theta")
    q = np.arange(order)
    i, j = np.meshgrid(q, q, indexing="ij")
    rate = (2 * q + 1)[:, None] / theta
    a = np.where(i < j, -1.0, (-1.0) ** (i - j + 1)) * rate
    b = ((-1.0) ** q)[:, None] * rate
    return a, b


_DISCRETE_CACHE: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


def discretize(a: np.ndarray, b: np.ndarray, dt: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Zero-order-hold discretization ``(Abar, Bbar)`` of ``dm/dt = A m + B u`` with step ``dt``.

    ``Abar = exp(A dt)``, ``Bbar = A^{-1} (Abar - I) B`` (``scipy.signal.cont2discrete``,
    method ``"zoh"``). Results are cached (keyed by the matrices' bytes), because
    at order 256 one call costs tens of milliseconds. Returned arrays are read-only.
    """
    dt = _check_positive(dt, "dt")
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"A must be a square matrix, got shape {a.shape}")
    if b.ndim == 1:
        b = b[:, None]
    if b.ndim != 2 or b.shape[0] != a.shape[0]:
        raise ValueError(f"B must have shape ({a.shape[0]}, k) to match A, got shape {b.shape}")
    key = (a.shape, b.shape, dt, a.tobytes(), b.tobytes())
    if key not in _DISCRETE_CACHE:
        c = np.eye(a.shape[0])
        d = np.zeros((a.shape[0], b.shape[1]))
        ad, bd, *_ = cont2discrete((a, b, c, d), dt=dt, method="zoh")
        ad.setflags(write=False)
        bd.setflags(write=False)
        if len(_DISCRETE_CACHE) > 32:
            _DISCRETE_CACHE.clear()
        _DISCRETE_CACHE[key] = (ad, bd)
    return _DISCRETE_CACHE[key]


def _system(order: int, theta: float, dt: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    return discretize(*legendre_delay(order, theta), dt=dt)


@lru_cache(maxsize=16)
def _impulse_response(order: int, theta: float, steps: int) -> np.ndarray:
    ad, bd = _system(order, theta)
    h = np.empty((steps, order))
    x = bd[:, 0].copy()
    for k in range(steps):
        h[k] = x
        x = ad @ x
    h.setflags(write=False)
    return h


@lru_cache(maxsize=32)
def _impulse_tensor(
    order: int, theta: float, steps: int, dtype: torch.dtype, device: torch.device, flip: bool
) -> torch.Tensor:
    """``H`` (or ``H`` reversed in time) as a cached tensor; callers must not modify it."""
    h = torch.tensor(_impulse_response(order, theta, steps), dtype=dtype, device=device)
    return h.flip(0).contiguous() if flip else h


def impulse_response(order: int, theta: float, steps: int) -> np.ndarray:
    """``H[k] = Abar^k Bbar`` for ``k = 0 .. steps-1``, shape ``(steps, order)`` (float64, cached).

    The memory is the causal convolution ``m_t = sum_{k<=t} H[t-k] u_k``.
    """
    order = _check_order(order)
    theta = _check_positive(theta, "theta")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    return _impulse_response(order, theta, steps)


# --------------------------------------------------------------------------- the memory


def _as_sequence(u: torch.Tensor) -> torch.Tensor:
    """``(T, batch)`` or ``(T, batch, 1)`` -> ``(T, batch)``; clear errors otherwise."""
    if not isinstance(u, torch.Tensor):
        raise TypeError(f"u must be a torch.Tensor, got {type(u).__name__}")
    if not u.is_floating_point():
        raise TypeError(f"u must be a floating-point tensor, got dtype {u.dtype}")
    if u.ndim == 3 and u.shape[2] == 1:
        u = u[..., 0]
    if u.ndim != 2:
        raise ValueError(
            "u must be time-major with shape (T, batch) or (T, batch, 1), got shape "
            f"{tuple(u.shape)}; for one sequence use u.reshape(-1, 1), and project a "
            "multi-dimensional input to one channel first (the LMU's encoder e_x does that)"
        )
    if u.shape[0] < 1:
        raise ValueError("u has no time steps")
    return u


def _tensor(a: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    return torch.tensor(
        np.asarray(a), dtype=like.dtype, device=like.device
    )  # a copy: caches stay read-only


def _recurrence(u: torch.Tensor, order: int, theta: float, last_only: bool) -> torch.Tensor:
    ad, bd = _system(order, theta)
    ad_t = _tensor(ad.T, u)
    bd_row = _tensor(bd[:, 0], u)
    m = u.new_zeros(u.shape[1], order)
    states = []
    for u_t in u.unbind(0):  # unbind: one backward node, not one per step
        m = torch.addmm(u_t[:, None] * bd_row, m, ad_t)
        if not last_only:
            states.append(m)
    return m if last_only else torch.stack(states)


def memory(
    u: torch.Tensor,
    order: int,
    theta: float,
    *,
    parallel: bool = True,
    last_only: bool = False,
) -> torch.Tensor:
    """The Legendre memory of the input sequence ``u`` (zero initial state, step ``dt = 1``).

    Parameters
    ----------
    u:
        time-major input, ``(T, batch)`` or ``(T, batch, 1)``.
    order, theta:
        memory dimension ``d >= 1`` and window length ``theta > 0`` in steps.
    parallel:
        ``False``: the recurrence ``m_t = Abar m_{t-1} + Bbar u_t``, one step at a
        time. ``True``: the parallel forms of :cite:`chilkuri2021parallel`:
        for the whole sequence the causal convolution with ``H`` computed by FFT
        (zero-padded to ``2T``), and with ``last_only`` the single product
        ``m_{T-1} = sum_k H[T-1-k] u_k``.
    last_only:
        return only the final state, shape ``(batch, order)``.

    Speed: the final-state product is hundreds of times faster than the recurrence.
    For the whole sequence the FFT form is memory-bound on a CPU (its complex
    intermediate has ``(T + 1) * batch * order`` entries) and can be slower than the
    recurrence there; chapter 5 measures both.

    Returns
    -------
    ``(T, batch, order)``, or ``(batch, order)`` with ``last_only``; same dtype as ``u``.
    """
    u = _as_sequence(u)
    order = _check_order(order)
    theta = _check_positive(theta, "theta")
    steps = u.shape[0]
    if not parallel:
        return _recurrence(u, order, theta, last_only)
    impulse_response(order, theta, steps)  # validates the arguments
    if last_only:
        return u.T @ _impulse_tensor(order, theta, steps, u.dtype, u.device, True)
    h = _impulse_tensor(order, theta, steps, u.dtype, u.device, False)
    n = 2 * steps
    spectrum = torch.fft.rfft(u, n=n, dim=0)[:, :, None] * torch.fft.rfft(h, n=n, dim=0)[:, None]
    return torch.fft.irfft(spectrum, n=n, dim=0)[:steps]


def memory_tail(u: torch.Tensor, order: int, theta: float, steps: int) -> torch.Tensor:
    """The last ``steps`` memory states, shape ``(steps, batch, order)``.

    The state just before the tail comes from the final-state product (parallel);
    the remaining ``steps`` states follow by the recurrence. Cheap when ``steps`` is
    much smaller than ``T``: this is what a layer needs when only the end of the
    sequence is read out over a short window.
    """
    u = _as_sequence(u)
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= u.shape[0]:
        raise ValueError(f"steps must be an int in [1, T = {u.shape[0]}], got {steps!r}")
    order = _check_order(order)
    theta = _check_positive(theta, "theta")
    head = u.shape[0] - steps
    ad, bd = _system(order, theta)
    ad_t = _tensor(ad.T, u)
    bd_row = _tensor(bd[:, 0], u)
    m = memory(u[:head], order, theta, last_only=True) if head else u.new_zeros(u.shape[1], order)
    states = []
    for u_t in u[head:].unbind(0):
        m = torch.addmm(u_t[:, None] * bd_row, m, ad_t)
        states.append(m)
    return torch.stack(states)


def legendre_basis(order: int, r: torch.Tensor | np.ndarray | float) -> np.ndarray:
    """Shifted Legendre polynomials ``P~_i(r) = P_i(2r - 1)``, shape ``(len(r), order)``."""
    order = _check_order(order)
    r = np.atleast_1d(np.asarray(r, dtype=np.float64))
    if r.ndim != 1:
        raise ValueError(
            f"r must be a scalar or a 1-D array of relative delays, got shape {r.shape}"
        )
    if np.any(r < 0) or np.any(r > 1):
        raise ValueError("relative delays r must lie in [0, 1] (0: now, 1: theta steps ago)")
    return np.polynomial.legendre.legvander(2 * r - 1, order - 1)


def decode(m: torch.Tensor, r: torch.Tensor | np.ndarray | float) -> torch.Tensor:
    """Read the delayed input ``u(t - r theta)`` out of the memory ``m`` (last axis = order).

    ``decode(m, r) = m @ P~(r)^T`` with :func:`legendre_basis`. ``m`` of shape
    ``(..., order)`` gives ``(..., len(r))``.
    """
    if not isinstance(m, torch.Tensor):
        raise TypeError(f"m must be a torch.Tensor, got {type(m).__name__}")
    if m.ndim < 1:
        raise ValueError("m must have the memory order as its last axis")
    basis = legendre_basis(m.shape[-1], r)
    return m @ _tensor(basis.T, m)


# --------------------------------------------------------------------------- the layer


class LMU(nn.Module):
    """An LMU layer without hidden recurrence (the parallel-trainable model of
    :cite:`chilkuri2021parallel`), reading out the last ``window`` steps.

    .. math::

        u_t = e_x^\\top x_t, \\qquad m_t = \\bar A m_{t-1} + \\bar B u_t, \\qquad
        h_t = f(W_m m_t + W_x x_t + b).

    Input ``x``: time-major ``(T, batch, input_size)``. Output: ``h`` over the last
    ``window`` steps, ``(window, batch, hidden_size)``.

    Parameters
    ----------
    activation:
        ``f``, a module applied to the time-major pre-activations
        ``(window, batch, hidden)``; ``nn.ReLU()`` by default. A
        :class:`snnbook.quantizers.SpikingActivation` makes the layer hybrid-spiking.
    parallel:
        compute the memory with the parallel forms (``True``) or the recurrence.
        Both give the same numbers; only the speed differs.
    window:
        how many final steps to compute ``h`` for (``1``: the final state only).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        order: int,
        theta: float,
        *,
        activation: nn.Module | None = None,
        parallel: bool = True,
        window: int = 1,
    ) -> None:
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ValueError(f"window must be an int >= 1, got {window!r}")
        self.order = _check_order(order)
        self.theta = _check_positive(theta, "theta")
        self.parallel = bool(parallel)
        self.window = window
        self.encoder = nn.Parameter(torch.ones(input_size))  # e_x, ones as in the LMU papers
        self.memory_kernel = nn.Linear(self.order, hidden_size)  # W_m and b
        self.input_kernel = nn.Linear(input_size, hidden_size, bias=False)  # W_x
        self.activation = activation if activation is not None else nn.ReLU()

    def memory_states(self, x: torch.Tensor) -> torch.Tensor:
        """``m_t`` over the last ``window`` steps, ``(window, batch, order)``."""
        u = (x * self.encoder).sum(-1)  # e_x^T x_t; elementwise, as x is often a strided view
        if self.window == 1:
            return memory(u, self.order, self.theta, parallel=self.parallel, last_only=True)[None]
        if self.parallel:
            return memory_tail(u, self.order, self.theta, self.window)
        return memory(u, self.order, self.theta, parallel=False)[-self.window :]

    def hidden(self, m: torch.Tensor, x_tail: torch.Tensor) -> torch.Tensor:
        """``h_t = f(W_m m_t + W_x x_t + b)`` from memory states and inputs of the window."""
        return self.activation(self.memory_kernel(m) + self.input_kernel(x_tail))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.ndim != 3 or x.shape[2] != self.encoder.numel():
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(
                f"LMU expects time-major input (T, batch, {self.encoder.numel()}), got {shape}"
            )
        if x.shape[0] < self.window:
            raise ValueError(
                f"the sequence ({x.shape[0]} steps) is shorter than window={self.window}"
            )
        return self.hidden(self.memory_states(x), x[-self.window :])

    def extra_repr(self) -> str:
        return (
            f"order={self.order}, theta={self.theta:g}, parallel={self.parallel}, "
            f"window={self.window}"
        )


# --------------------------------------------------------------------------- the task


def fixed_permutation(n: int = 784, seed: int = 0) -> torch.Tensor:
    """The fixed pixel order of a permuted sequential task.

    ``numpy.random.RandomState(seed).permutation(n)``, as in the psMNIST benchmark.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    return torch.as_tensor(np.random.RandomState(seed).permutation(n), dtype=torch.long)


def pixel_sequence(images: torch.Tensor, permutation: torch.Tensor | None = None) -> torch.Tensor:
    """Images ``(N, 1, H, W)`` or ``(N, H, W)`` -> one pixel per step, ``(H*W, N, 1)`` time-major.

    With ``permutation`` the pixels are visited in that fixed order (psMNIST-style).
    """
    if not isinstance(images, torch.Tensor) or images.ndim not in (3, 4):
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be (N, 1, H, W) or (N, H, W), got {shape}")
    flat = images.flatten(1)
    if permutation is not None:
        if permutation.shape != (flat.shape[1],):
            raise ValueError(
                f"permutation must have shape ({flat.shape[1]},), got {tuple(permutation.shape)}"
            )
        flat = flat[:, permutation]
    return flat.T.unsqueeze(-1)


class LMUClassifier(nn.Module):
    """Pixel-sequence classifier: :class:`LMU` then a linear readout of the mean ``h`` over
    the window. Takes images, returns class scores (the book's model contract)."""

    def __init__(
        self,
        hidden_size: int = 212,
        order: int = 256,
        theta: float = 784.0,
        classes: int = 10,
        *,
        permutation: torch.Tensor | None = None,
        activation: nn.Module | None = None,
        parallel: bool = True,
        window: int = 1,
    ) -> None:
        super().__init__()
        self.lmu = LMU(
            1, hidden_size, order, theta, activation=activation, parallel=parallel, window=window
        )
        self.readout = nn.Linear(hidden_size, classes)
        self.register_buffer("permutation", permutation, persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        h = self.lmu(pixel_sequence(images, self.permutation))
        return self.readout(h.mean(0))

    @torch.no_grad()
    def features(self, images: torch.Tensor, *, chunk: int = 2000) -> torch.Tensor:
        """What the LMU's fixed part computes from ``images``: the memory states and the
        input over the window, sample-major ``(N, window, order + 1)``.

        The memory has no trainable parameter except the encoder ``e_x``; with ``e_x``
        frozen these features can be computed once per data set and the rest of the
        model trained on them (:meth:`from_features`), which gives the same scores as
        :meth:`forward`.
        """
        parts = []
        for start in range(0, len(images), chunk):
            x = pixel_sequence(images[start : start + chunk], self.permutation)
            m = self.lmu.memory_states(x)
            parts.append(torch.cat([m, x[-self.lmu.window :]], dim=-1).transpose(0, 1))
        return torch.cat(parts)

    def from_features(self, features: torch.Tensor) -> torch.Tensor:
        """Class scores from :meth:`features` (sample-major ``(N, window, order + 1)``)."""
        expected = (self.lmu.window, self.lmu.order + 1)
        if features.ndim != 3 or tuple(features.shape[1:]) != expected:
            raise ValueError(
                f"features must have shape (N, {expected[0]}, {expected[1]}) as made by "
                f"LMUClassifier.features, got {tuple(features.shape)}"
            )
        f = features.transpose(0, 1)
        h = self.lmu.hidden(f[..., :-1], f[..., -1:])
        return self.readout(h.mean(0))


class FeatureModel(nn.Module):
    """Adapter so that :func:`snnbook.training.fit` can train an :class:`LMUClassifier` on
    precomputed :meth:`LMUClassifier.features`: ``FeatureModel(clf)(features) = scores``.
    The encoder ``e_x`` is frozen (the features were computed with it)."""

    def __init__(self, classifier: LMUClassifier) -> None:
        super().__init__()
        self.classifier = classifier
        classifier.lmu.encoder.requires_grad_(False)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.classifier.from_features(features)


class RNNClassifier(nn.Module):
    """Pixel-sequence classifier with an LSTM or GRU (``kind``), read out at the last step."""

    def __init__(
        self,
        kind: str,
        hidden_size: int,
        classes: int = 10,
        *,
        permutation: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        cells = {"lstm": nn.LSTM, "gru": nn.GRU}
        if kind not in cells:
            raise ValueError(f"kind must be 'lstm' or 'gru', got {kind!r}")
        self.kind = kind
        self.rnn = cells[kind](1, hidden_size)
        self.readout = nn.Linear(hidden_size, classes)
        self.register_buffer("permutation", permutation, persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(pixel_sequence(images, self.permutation))
        return self.readout(out[-1])


#: Where ``scripts/lmu_baselines.py`` writes its results (read by chapters 5 and 6).
BASELINES_PATH = Path(__file__).resolve().parents[2] / "results" / "lmu_baselines.json"


def load_baselines(path: Path | str | None = None) -> dict:
    """The committed longer LMU / LSTM / GRU runs and their provenance (a dict from JSON)."""
    path = Path(path) if path is not None else BASELINES_PATH
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist: run `python scripts/lmu_baselines.py` from the repository root"
        )
    return json.loads(path.read_text())


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def train_with_budget(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    seconds: float,
    *,
    batch_size: int = 100,
    lr: float = 1e-3,
    seed: int = 0,
    desc: str = "training",
) -> dict[str, float]:
    """Adam on cross-entropy until ``seconds`` of wall-clock time are spent (a matched budget).

    Mini-batches are drawn in a seeded shuffled order (epoch after epoch). Training
    stops after the first optimizer step that ends past the budget, so every model
    gets at least one step. Returns ``steps``, ``samples``, ``epochs`` (samples
    divided by the training-set size), ``seconds``, ``seconds_per_step`` and
    ``first_losses`` (of the first three steps, to check a re-run); the cost of one
    full epoch is ``seconds_per_step * ceil(len(y) / batch_size)``.
    """
    from tqdm.auto import tqdm

    from snnbook.training import batches

    seconds = _check_positive(seconds, "seconds")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    steps, samples, first_losses = 0, 0, []
    bar = tqdm(total=round(seconds), desc=desc, unit="s", mininterval=1.0)
    start = time.perf_counter()
    elapsed = 0.0
    while elapsed < seconds:
        for xb, yb in batches(x, y, batch_size, shuffle=True, generator=generator):
            loss = nn.functional.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            steps, samples = steps + 1, samples + len(yb)
            if steps <= 3:
                first_losses.append(loss.item())
            now = time.perf_counter() - start
            bar.update(min(round(now), round(seconds)) - bar.n)
            bar.set_postfix(steps=steps, loss=f"{loss.item():.3f}", refresh=False)
            elapsed = now
            if elapsed >= seconds:
                break
    bar.close()
    return {
        "steps": steps,
        "samples": samples,
        "epochs": samples / len(y),
        "seconds": elapsed,
        "seconds_per_step": elapsed / steps,
        "first_losses": first_losses,
    }


# --------------------------------------------------------------------------- plotting


def plot_reconstruction(
    signal: np.ndarray,
    order: int,
    theta: float,
    *,
    delay: float = 1.0,
    figsize: tuple[float, float] = (7.0, 3.0),
) -> Figure:
    """Feed ``signal`` (1-D) through the memory and decode it ``delay * theta`` steps late.

    Left: the delayed signal and its reconstruction; right: the shifted Legendre
    basis functions that the window is written in (the first few).
    """
    from snnbook.plotting import COLORS, new_figure

    x = torch.as_tensor(np.asarray(signal, dtype=np.float64))
    if x.ndim != 1:
        raise ValueError(f"signal must be 1-D, got shape {tuple(x.shape)}")
    m = memory(x[:, None], order, theta)[:, 0]
    rec = decode(m, delay)[:, 0].numpy()
    t = np.arange(len(x))
    # u_k is held over the step (k-1, k]: time t - delay*theta falls mid-step at index +1/2
    shift = delay * theta - (0.5 if delay > 0 else 0.0)
    target = np.interp(t - shift, t, x.numpy(), left=np.nan)
    ok = t >= theta
    rmse = float(np.sqrt(np.nanmean((rec[ok] - target[ok]) ** 2)))
    fig, axes = new_figure(2, figsize=figsize, width_ratios=[2.2, 1])
    ax = axes[0, 0]
    ax.plot(t, target, color="k", lw=1.5, label=f"$u(t-{delay:g}\\theta)$")
    ax.plot(t, rec, color=COLORS[1], lw=1.2, ls="--", label="decoded from $m(t)$")
    ax.axvspan(0, theta, color="0.9", zorder=0)
    ax.set_xlabel("step $t$")
    ax.set_title(f"d = {order}, θ = {theta:g}: RMSE {rmse:.3f} (after t = θ)", fontsize=9)
    ax.legend(loc="upper right", fontsize=8)
    ax = axes[0, 1]
    r = np.linspace(0, 1, 200)
    basis = legendre_basis(min(order, 6), r)
    for i in range(basis.shape[1]):
        ax.plot(r, basis[:, i], lw=1, label=f"$\\tilde P_{i}$")
    ax.set_xlabel("relative delay $r = \\theta'/\\theta$")
    ax.set_title("basis of the window", fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    return fig
