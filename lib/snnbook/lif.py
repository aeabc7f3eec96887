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
reset to zero throws it away.

The Heaviside step :math:`\\Theta` has no useful derivative, so training
replaces :math:`\\partial S / \\partial U` by a *surrogate*; :func:`surrogate_derivative`
evaluates the one a ``snntorch.surrogate`` function uses.

:class:`RateLIFNet` is the multi-spike baseline of the book: a rate-coded
fully connected LIF network trained end to end with backpropagation through
time (BPTT).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import snntorch as snn
import torch
from matplotlib.figure import Figure
from snntorch import surrogate
from torch import nn

from .data import rate_encode
from .plotting import membrane, new_figure

__all__ = [
    "run_leaky",
    "lif_response",
    "surrogate_derivative",
    "triangle",
    "RateLIFNet",
    "time_loop_backward",
    "plot_resets",
    "plot_surrogates",
]


def run_leaky(lif: snn.Leaky, currents: torch.Tensor) -> torch.Tensor:
    """Drive an snnTorch ``Leaky`` layer with time-major ``currents`` (T, ...); return its spikes.

    Starts from ``U = 0`` and stacks ``S[t]`` for every step. The input is split
    with ``unbind``, whose backward is O(T) (see :func:`time_loop_backward`).
    """
    mem = lif.init_leaky()
    spikes = []
    for i_t in currents.unbind(0):
        spk, mem = lif(i_t, mem)
        spikes.append(spk)
    return torch.stack(spikes)


def lif_response(
    current: torch.Tensor,
    *,
    beta: float,
    threshold: float = 1.0,
    reset_mechanism: str = "subtract",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run one ``snn.Leaky`` neuron (or a few in parallel) over a time-major input current.

    ``current`` is ``(T,)`` or ``(T, n)``; returns ``(mem, spk)`` of the same shape.
    ``reset_mechanism`` is ``"subtract"``, ``"zero"`` or ``"none"`` (snnTorch's names).
    """
    if not isinstance(current, torch.Tensor) or current.ndim not in (1, 2):
        raise ValueError("current must be a time-major tensor of shape (T,) or (T, n)")
    if reset_mechanism not in ("subtract", "zero", "none"):
        raise ValueError(
            f"reset_mechanism must be 'subtract', 'zero' or 'none', got {reset_mechanism!r}"
        )
    lif = snn.Leaky(beta=beta, threshold=threshold, reset_mechanism=reset_mechanism)
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
    if not isinstance(u, torch.Tensor):
        raise TypeError(f"u must be a torch.Tensor, got {type(u).__name__}")
    x = u.detach().float().clone().requires_grad_(True)
    spike_grad(x).sum().backward()
    return x.grad.detach()


def triangle(width: float = 1.0) -> Callable[[torch.Tensor], torch.Tensor]:
    """A triangular surrogate: Heaviside forward, ``max(0, 1 - |u| / width)`` backward.

    (snnTorch's own ``surrogate.triangular`` is not a triangle: its backward
    returns ``+threshold`` below the threshold and ``-threshold`` above it.)
    """
    if width <= 0:
        raise ValueError(f"width must be > 0, got {width}")

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
        if num_steps < 1:
            raise ValueError(f"num_steps must be >= 1, got {num_steps}")
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"beta must be in [0, 1], got {beta}")
        self.num_steps = num_steps
        self.n_in = n_in
        self.fc1 = nn.Linear(n_in, hidden)
        self.lif1 = snn.Leaky(beta=beta, spike_grad=spike_grad)
        self.fc2 = nn.Linear(hidden, n_out)
        self.lif2 = snn.Leaky(beta=beta, spike_grad=spike_grad)

    def run(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Simulate and return time-major ``spk1`` (T, B, hidden), ``spk2`` and ``mem2`` (T, B, n_out)."""
        x = x.reshape(len(x), -1)
        if x.shape[1] != self.n_in:
            raise ValueError(f"expected {self.n_in} input features per sample, got {x.shape[1]}")
        spikes_in = rate_encode(x, self.num_steps)
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
    if split not in ("index", "unbind"):
        raise ValueError(f"split must be 'index' or 'unbind', got {split!r}")
    if num_steps < 1:
        raise ValueError(f"num_steps must be >= 1, got {num_steps}")
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


def plot_resets(
    current: torch.Tensor, *, beta: float, threshold: float = 1.0
) -> tuple[Figure, dict[str, int]]:
    """Membrane traces of one neuron with subtractive and zero reset, side by side.

    Returns the figure and the spike count of each reset mechanism.
    """
    fig, axes = new_figure(ncols=2, sharey=True, figsize=(9, 3.2))
    counts = {}
    for ax, reset in zip(axes[0], ("subtract", "zero"), strict=True):
        mem, spk = lif_response(current, beta=beta, threshold=threshold, reset_mechanism=reset)
        counts[reset] = int(spk.sum())
        ax.plot(current.numpy(), color="0.6", lw=1, label="input current")
        membrane(mem, threshold=threshold, spikes=spk, ax=ax, title=f'reset_mechanism="{reset}"')
        ax.set_title(f'reset_mechanism="{reset}": {counts[reset]} spikes')
    return fig, counts


def plot_surrogates(named: dict[str, Callable], u: torch.Tensor) -> Figure:
    """The surrogate derivative ``dS/dU`` of each named ``spike_grad`` against ``u = U - theta``."""
    fig, axes = new_figure(figsize=(7, 3.2))
    ax = axes[0, 0]
    for name, fn in named.items():
        ax.plot(u.numpy(), surrogate_derivative(fn, u).numpy(), label=name)
    ax.set_xlabel(r"$U - \theta$")
    ax.set_ylabel(r"surrogate $\partial S / \partial U$")
    ax.legend(loc="upper right", fontsize=8)
    return fig
