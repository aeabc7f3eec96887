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

:class:`LMU` is the layer **without hidden recurrence** of
:cite:`chilkuri2021parallel` (their feedforward form): ``u_t = e_x^T x_t``,
the memory above, and ``h_t = f(W_m m_t + W_x x_t + b)``. Voelker et al.'s
psMNIST LMU also has the hidden-to-hidden term ``W_h h_{t-1}`` (a 212 x 212
matrix, 44 944 more parameters); :mod:`snnbook.hybrid_lmu` has that form.

Devices: the matrices are computed in float64 with SciPy on the host, cached,
and delivered in the input's dtype on the input's device; nothing in a model's
forward pass reads values back to the host.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from matplotlib.figure import Figure
from scipy.signal import cont2discrete
from torch import nn

from snnbook import checks

__all__ = [
    "legendre_delay",
    "discretize",
    "impulse_response",
    "memory",
    "memory_tail",
    "legendre_basis",
    "decode",
    "reconstruction_error",
    "LMU",
    "LMUClassifier",
    "FeatureModel",
    "RNNClassifier",
    "fixed_permutation",
    "pixel_sequence",
    "count_parameters",
    "plot_reconstruction",
    "plot_impulse_response",
]

_ORDER_HINT = "the number of memory dimensions d, e.g. 256"
_THETA_HINT = "the window length in steps, e.g. 784"


def _order(order: object) -> int:
    return checks.positive_int("order", order, hint=_ORDER_HINT)


def _theta(theta: object) -> float:
    return checks.positive("theta", theta, hint=_THETA_HINT)


# --------------------------------------------------------------------------- the system


def legendre_delay(order: int, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """Continuous-time Legendre delay system ``dm/dt = A m + B u`` of :cite:`voelker2019lmu`.

    ``A[i, j] = (2i+1)/theta * (-1 if i < j else (-1)**(i-j+1))`` and
    ``B[i] = (2i+1) (-1)**i / theta``. Returns float64 arrays of shapes
    ``(order, order)`` and ``(order, 1)``.
    """
    order, theta = _order(order), _theta(theta)
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
    dt = checks.positive("dt", dt, hint="the step length, 1.0 for one step per sample")
    for name, value in (("A", a), ("B", b)):
        if not isinstance(value, np.ndarray | list | tuple):
            raise TypeError(f"{name} must be a NumPy array, got {type(value).__name__}")
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise ValueError(f"A must be a non-empty square matrix, got shape {a.shape}")
    if b.ndim == 1:
        b = b[:, None]
    if b.ndim != 2 or b.shape[0] != a.shape[0]:
        raise ValueError(f"B must have shape ({a.shape[0]}, k) to match A, got shape {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("A and B must hold finite values (no NaN or infinity)")
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


def _on(array: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """A float64 host array as a new tensor in ``like``'s dtype, on ``like``'s device.

    The cast happens on the host, so no float64 tensor ever reaches the device
    (Apple's MPS has no float64).
    """
    host = torch.from_numpy(np.array(array, dtype=np.float64)).to(like.dtype)
    return host.to(like.device)


@lru_cache(maxsize=32)
def _impulse_tensor(
    order: int, theta: float, steps: int, dtype: torch.dtype, device: torch.device, flip: bool
) -> torch.Tensor:
    """``H`` (or ``H`` reversed in time) as a cached tensor; callers must not modify it."""
    h = _impulse_response(order, theta, steps)
    return _on(h[::-1] if flip else h, torch.empty(0, dtype=dtype, device=device))


def impulse_response(order: int, theta: float, steps: int) -> np.ndarray:
    """``H[k] = Abar^k Bbar`` for ``k = 0 .. steps-1``, shape ``(steps, order)`` (float64, cached).

    The memory is the causal convolution ``m_t = sum_{k<=t} H[t-k] u_k``.
    """
    order, theta = _order(order), _theta(theta)
    steps = checks.positive_int("steps", steps, hint="the number of time steps of the response")
    return _impulse_response(order, theta, steps)


# --------------------------------------------------------------------------- the memory


def _as_sequence(u: torch.Tensor) -> torch.Tensor:
    """``(T, batch)`` or ``(T, batch, 1)`` -> ``(T, batch)``; clear errors otherwise."""
    u = checks.tensor(
        "u",
        u,
        kind="float",
        hint="a time-major float tensor (T, batch); for one sequence use u.reshape(-1, 1)",
    )
    if u.ndim == 3 and u.shape[2] == 1:
        u = u[..., 0]
    if u.ndim != 2:
        raise ValueError(
            "u must be time-major with shape (T, batch) or (T, batch, 1), got shape "
            f"{tuple(u.shape)}; for one sequence use u.reshape(-1, 1), and project a "
            "multi-dimensional input to one channel first (the LMU's encoder e_x does that)"
        )
    return u


def _recurrence(u: torch.Tensor, order: int, theta: float, last_only: bool) -> torch.Tensor:
    ad, bd = _system(order, theta)
    ad_t = _on(ad.T, u)
    bd_row = _on(bd[:, 0], u)
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

    Cost: for the final state the recurrence does ``T`` products of a ``(batch, d)``
    by a ``(d, d)`` matrix, ``T * batch * d**2`` multiply-adds; the product does
    ``T * batch * d``, ``d`` times fewer. For the whole sequence the FFT form is
    memory-bound on a CPU (its complex intermediate has ``(T + 1) * batch * order``
    entries) and can be slower than the recurrence there; chapter 5 measures both.

    Returns
    -------
    ``(T, batch, order)``, or ``(batch, order)`` with ``last_only``; same dtype and
    device as ``u``.
    """
    u = _as_sequence(u)
    order, theta = _order(order), _theta(theta)
    parallel = checks.boolean("parallel", parallel)
    last_only = checks.boolean("last_only", last_only)
    steps = u.shape[0]
    if not parallel:
        return _recurrence(u, order, theta, last_only)
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
    order, theta = _order(order), _theta(theta)
    steps = checks.integer(
        "steps", steps, low=1, high=u.shape[0], hint="at most the length T of the sequence"
    )
    head = u.shape[0] - steps
    ad, bd = _system(order, theta)
    ad_t = _on(ad.T, u)
    bd_row = _on(bd[:, 0], u)
    m = memory(u[:head], order, theta, last_only=True) if head else u.new_zeros(u.shape[1], order)
    states = []
    for u_t in u[head:].unbind(0):
        m = torch.addmm(u_t[:, None] * bd_row, m, ad_t)
        states.append(m)
    return torch.stack(states)


def _delays(r: object) -> np.ndarray:
    if isinstance(r, torch.Tensor):
        r = r.detach().cpu().numpy()
    if isinstance(r, bool) or not isinstance(r, float | int | np.ndarray | list | tuple):
        raise TypeError(f"r must be a number or a 1-D array of relative delays, got {r!r}")
    try:
        r = np.atleast_1d(np.asarray(r, dtype=np.float64))
    except (TypeError, ValueError) as error:
        raise TypeError(f"r must hold numbers (relative delays in [0, 1]), got {r!r}") from error
    if r.ndim != 1 or r.size == 0:
        raise ValueError(
            f"r must be a scalar or a non-empty 1-D array of relative delays, got shape {r.shape}"
        )
    if not np.isfinite(r).all() or np.any(r < 0) or np.any(r > 1):
        raise ValueError(
            f"relative delays r must lie in [0, 1] (0: now, 1: theta steps ago), got {r}"
        )
    return r


def legendre_basis(order: int, r: torch.Tensor | np.ndarray | float) -> np.ndarray:
    """Shifted Legendre polynomials ``P~_i(r) = P_i(2r - 1)``, shape ``(len(r), order)``."""
    order = _order(order)
    return np.polynomial.legendre.legvander(2 * _delays(r) - 1, order - 1)


def decode(m: torch.Tensor, r: torch.Tensor | np.ndarray | float) -> torch.Tensor:
    """Read the delayed input ``u(t - r theta)`` out of the memory ``m`` (last axis = order).

    ``decode(m, r) = m @ P~(r)^T`` with :func:`legendre_basis`. ``m`` of shape
    ``(..., order)`` gives ``(..., len(r))``, in ``m``'s dtype and on its device.
    """
    m = checks.tensor("m", m, ndim=range(1, 9), kind="float", hint="memory states (..., order)")
    basis = legendre_basis(m.shape[-1], r)
    return m @ _on(basis.T, m)


def _signal(signal: object) -> np.ndarray:
    if isinstance(signal, torch.Tensor):
        signal = signal.detach().cpu().numpy()
    if not isinstance(signal, np.ndarray | list | tuple):
        raise TypeError(f"signal must be a 1-D array, got {type(signal).__name__}")
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"signal must be a 1-D array of at least 2 samples, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("signal holds NaN or infinite values; clean it first")
    return x


def reconstruction_error(
    signal: np.ndarray | torch.Tensor, order: int, theta: float, delay: float = 1.0
) -> tuple[float, np.ndarray, np.ndarray]:
    """Feed ``signal`` (1-D) through the memory and decode it ``delay * theta`` steps late.

    Returns ``(rmse, decoded, target)``: the RMS error over the steps after the
    first window (``t >= theta``), the decoded signal and the delayed signal (NaN
    before the signal starts). The input ``u_k`` is held over the step
    ``(k-1, k]``, so the delay ``r theta`` lands half a step later, at sample
    ``t - r theta + 1/2``, where the target is interpolated.
    """
    x = _signal(signal)
    order, theta = _order(order), _theta(theta)
    delay = checks.unit_interval("delay", delay, hint="a fraction r of the window theta")
    if theta >= len(x):
        raise ValueError(f"theta ({theta:g}) must be shorter than the signal ({len(x)} steps)")
    m = memory(torch.from_numpy(x)[:, None], order, theta)[:, 0]
    decoded = decode(m, delay)[:, 0].numpy()
    t = np.arange(len(x))
    shift = delay * theta - (0.5 if delay > 0 else 0.0)
    target = np.interp(t - shift, t, x, left=np.nan)
    ok = t >= theta
    return float(np.sqrt(np.mean((decoded[ok] - target[ok]) ** 2))), decoded, target


# --------------------------------------------------------------------------- the layer


class LMU(nn.Module):
    """An LMU layer without hidden recurrence (the parallel-trainable feedforward form of
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
        input_size = checks.positive_int("input_size", input_size)
        hidden_size = checks.positive_int("hidden_size", hidden_size)
        self.order, self.theta = _order(order), _theta(theta)
        self.parallel = checks.boolean("parallel", parallel)
        self.window = checks.positive_int("window", window)
        if activation is not None and not isinstance(activation, nn.Module):
            raise TypeError(
                f"activation must be an nn.Module such as nn.ReLU() (or None), got "
                f"{type(activation).__name__}"
            )
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
        checks.tensor(
            "x",
            x,
            shape=(None, None, self.encoder.numel()),
            kind="float",
            hint="the LMU expects time-major input (T, batch, input_size)",
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
    n = checks.positive_int("n", n, hint="the number of pixels, e.g. 784")
    seed = checks.nonnegative_int("seed", seed)
    return torch.as_tensor(np.random.RandomState(seed).permutation(n), dtype=torch.long)


def _permutation(permutation: object) -> torch.Tensor | None:
    if permutation is None:
        return None
    return checks.tensor(
        "permutation", permutation, ndim=1, kind="integer", hint="use fixed_permutation(n)"
    )


def pixel_sequence(images: torch.Tensor, permutation: torch.Tensor | None = None) -> torch.Tensor:
    """Images ``(N, 1, H, W)`` or ``(N, H, W)`` -> one pixel per step, ``(H*W, N, 1)`` time-major.

    With ``permutation`` the pixels are visited in that fixed order (psMNIST-style).
    """
    images = checks.tensor("images", images, ndim=(3, 4), kind="float", hint="(N, 1, H, W)")
    flat = images.flatten(1)
    permutation = _permutation(permutation)
    if permutation is not None:
        if permutation.shape != (flat.shape[1],):
            raise ValueError(
                f"permutation must have shape ({flat.shape[1]},), got {tuple(permutation.shape)}"
            )
        flat = flat[:, permutation]
    return flat.T.unsqueeze(-1)


class LMUClassifier(nn.Module):
    """Pixel-sequence classifier: :class:`LMU` then a linear readout of the mean ``h`` over
    the window. Takes images, returns class scores (the book's model contract).

    With the defaults (``order=256``, ``theta=784``, 212 hidden units) it is the
    feedforward LMU of :cite:`chilkuri2021parallel` at the sizes of Voelker et al.'s
    psMNIST model: 56 827 parameters, against 101 771 for Voelker's model, whose
    hidden layer also has the 212 x 212 recurrent matrix ``W_h``.
    """

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
        classes = checks.integer("classes", classes, low=2)
        self.lmu = LMU(
            1, hidden_size, order, theta, activation=activation, parallel=parallel, window=window
        )
        self.readout = nn.Linear(self.lmu.memory_kernel.out_features, classes)
        self.register_buffer("permutation", _permutation(permutation), persistent=False)

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
        checks.tensor("images", images, ndim=(3, 4), kind="float", hint="(N, 1, H, W)")
        chunk = checks.positive_int("chunk", chunk)
        parts = []
        for start in range(0, len(images), chunk):
            x = pixel_sequence(images[start : start + chunk], self.permutation)
            m = self.lmu.memory_states(x)
            parts.append(torch.cat([m, x[-self.lmu.window :]], dim=-1).transpose(0, 1))
        return torch.cat(parts)

    def from_features(self, features: torch.Tensor) -> torch.Tensor:
        """Class scores from :meth:`features` (sample-major ``(N, window, order + 1)``)."""
        checks.tensor(
            "features",
            features,
            shape=(None, self.lmu.window, self.lmu.order + 1),
            kind="float",
            hint="as made by LMUClassifier.features",
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
        if not isinstance(classifier, LMUClassifier):
            raise TypeError(f"classifier must be an LMUClassifier, got {type(classifier).__name__}")
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
        self.kind = checks.one_of("kind", kind, ("lstm", "gru"))
        hidden_size = checks.positive_int("hidden_size", hidden_size)
        classes = checks.integer("classes", classes, low=2)
        self.rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[kind](1, hidden_size)
        self.readout = nn.Linear(hidden_size, classes)
        self.register_buffer("permutation", _permutation(permutation), persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(pixel_sequence(images, self.permutation))
        return self.readout(out[-1])


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# --------------------------------------------------------------------------- plotting


def plot_reconstruction(
    signal: np.ndarray | torch.Tensor,
    order: int,
    theta: float,
    *,
    delay: float = 1.0,
    figsize: tuple[float, float] = (7.0, 3.0),
) -> Figure:
    """Feed ``signal`` (1-D) through the memory and decode it ``delay * theta`` steps late.

    Left: the delayed signal and its reconstruction (:func:`reconstruction_error`);
    right: the first shifted Legendre polynomials, the basis the window is written in.
    """
    from snnbook.plotting import COLORS, new_figure

    rmse, decoded, target = reconstruction_error(signal, order, theta, delay)
    t = np.arange(len(decoded))
    fig, axes = new_figure(2, figsize=figsize, width_ratios=[2.2, 1])
    ax = axes[0, 0]
    ax.plot(t, target, color="k", lw=1.5, label=f"$u(t-{delay:g}\\theta)$")
    ax.plot(t, decoded, color=COLORS[1], lw=1.2, ls="--", label="decoded from $m(t)$")
    ax.axvspan(0, theta, color="0.9", zorder=0)
    ax.set_xlabel("step $t$")
    ax.set_title(f"d = {order}, θ = {theta:g}, r = {delay:g}: RMSE {rmse:.3f}", fontsize=9)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.08), ncols=2, fontsize=8)
    ax = axes[0, 1]
    r = np.linspace(0, 1, 200)
    basis = legendre_basis(min(order, 4), r)
    for i in range(basis.shape[1]):
        ax.plot(r, basis[:, i], lw=1, label=f"$\\tilde P_{i}$")
    ax.axvline(delay, color="0.4", lw=0.8, ls=":")
    ax.set_xlabel("relative delay $r = \\theta'/\\theta$")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.02), ncols=2, fontsize=7)
    return fig


def plot_impulse_response(
    order: int,
    theta: float,
    steps: int,
    *,
    dims: int = 4,
    figsize: tuple[float, float] = (7.0, 2.8),
) -> Figure:
    """The kernels of the convolution ``m_t = sum_k H[k] u_{t-k}``.

    Left: ``theta / (2i + 1) * H[k]_i`` against the lag ``k`` for the first ``dims``
    memory dimensions (solid), with the shifted Legendre polynomials ``P~_i(k / theta)``
    over the window (dashed), which they approximate. Right: all of ``H`` as an image.
    """
    from snnbook.plotting import COLORS, new_figure

    h = impulse_response(order, theta, steps)
    dims = checks.integer("dims", dims, low=1, high=h.shape[1])
    lags = np.arange(steps)
    inside = lags <= theta
    basis = legendre_basis(dims, lags[inside] / theta)
    fig, axes = new_figure(2, figsize=figsize, width_ratios=[1.6, 1])
    ax = axes[0, 0]
    for i in range(dims):
        color = COLORS[i % len(COLORS)]
        ax.plot(lags, h[:, i] * theta / (2 * i + 1), color=color, lw=1.3, label=f"$i = {i}$")
        ax.plot(lags[inside], basis[:, i], color=color, lw=1, ls="--")
    ax.axvline(theta, color="0.4", lw=0.8, ls=":")
    ax.set_xlabel("lag $k$ (steps since the input)")
    ax.set_ylabel(r"$\theta\,H[k]_i / (2i+1)$")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.02), ncols=dims, fontsize=8)
    ax = axes[0, 1]
    scaled = h * theta / (2 * np.arange(h.shape[1]) + 1)
    ax.imshow(scaled.T, aspect="auto", cmap="RdBu_r", vmin=-1.2, vmax=1.2, interpolation="nearest")
    ax.axvline(theta, color="0.2", lw=0.8, ls=":")
    ax.set_xlabel("lag $k$")
    ax.set_ylabel("memory dimension $i$")
    ax.grid(False)
    return fig
