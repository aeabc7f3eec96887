"""Plots shared by the chapters, in one style.

Figures have an opaque white background so that they stay readable when the
book is switched to its dark theme. Spike rasters, membrane traces and
training curves are drawn the same way in every chapter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["use_book_style", "new_figure", "raster", "membrane", "curves", "COLORS"]

#: The book's colour cycle (colour-blind safe, from Okabe & Ito).
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")

_STYLE = {
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.facecolor": "white",
    "figure.figsize": (7.0, 3.2),
    "figure.dpi": 90,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=COLORS),
    "font.size": 10,
    "legend.frameon": False,
}


def use_book_style() -> None:
    """Apply the book's matplotlib style (white background, colour-blind-safe cycle)."""
    mpl.rcParams.update(_STYLE)


def _numpy(a: torch.Tensor | np.ndarray | Sequence[float]) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        return a.detach().cpu().numpy()
    return np.asarray(a)


def _axes(ax: Axes | None) -> Axes:
    return ax if ax is not None else plt.subplots()[1]


def raster(
    spikes: torch.Tensor | np.ndarray,
    *,
    ax: Axes | None = None,
    dt: float = 1.0,
    color: str = COLORS[0],
    title: str | None = None,
) -> Axes:
    """Spike raster of a time-major ``(T, neurons)`` array: a dot per spike.

    Any nonzero entry counts as a spike. Neurons are on the vertical axis.
    """
    s = _numpy(spikes)
    if s.ndim != 2:
        raise ValueError(f"raster expects (T, neurons), got shape {s.shape}")
    ax = _axes(ax)
    t, n = np.nonzero(s)
    ax.scatter(t * dt, n, s=4, marker="|", color=color, linewidths=1.0)
    ax.set_xlim(-0.5 * dt, s.shape[0] * dt)
    ax.set_ylim(-0.5, s.shape[1] - 0.5)
    ax.set_xlabel("time step" if dt == 1.0 else "time")
    ax.set_ylabel("neuron")
    ax.grid(False)
    if title:
        ax.set_title(title)
    return ax


def membrane(
    u: torch.Tensor | np.ndarray,
    *,
    threshold: float | None = None,
    spikes: torch.Tensor | np.ndarray | None = None,
    ax: Axes | None = None,
    dt: float = 1.0,
    label: str | None = None,
    title: str | None = None,
) -> Axes:
    """Membrane potential over time, with the threshold and spike times marked.

    ``u`` is ``(T,)`` for one neuron or ``(T, k)`` for a few; ``spikes`` (same
    shape) adds a tick at the top of the plot for every spike.
    """
    u = _numpy(u)
    if u.ndim not in (1, 2):
        raise ValueError(f"membrane expects (T,) or (T, k), got shape {u.shape}")
    ax = _axes(ax)
    t = np.arange(u.shape[0]) * dt
    lines = ax.plot(t, u, lw=1.2, label=label)
    if threshold is not None:
        ax.axhline(threshold, color="0.4", ls="--", lw=1, label="threshold")
    if spikes is not None:
        s = _numpy(spikes).reshape(u.shape[0], -1)
        top = ax.get_ylim()[1]
        for k in range(s.shape[1]):
            ts = t[s[:, k] > 0]
            ax.plot(ts, np.full_like(ts, top), "|", ms=10, color=lines[k % len(lines)].get_color())
    ax.set_xlabel("time step" if dt == 1.0 else "time")
    ax.set_ylabel("membrane potential $U$")
    if title:
        ax.set_title(title)
    if label or threshold is not None:
        ax.legend(loc="best")
    return ax


def curves(
    series: Mapping[str, Sequence[float]],
    *,
    ax: Axes | None = None,
    xlabel: str = "epoch",
    ylabel: str = "test accuracy",
    title: str | None = None,
) -> Axes:
    """One line per named series (for example test accuracy per epoch of several runs)."""
    ax = _axes(ax)
    for name, values in series.items():
        v = _numpy(values)
        ax.plot(np.arange(1, len(v) + 1), v, marker="o", ms=3, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="best")
    return ax


def new_figure(ncols: int = 1, nrows: int = 1, **kwargs: object) -> tuple[Figure, np.ndarray]:
    """``plt.subplots`` with the book's style and a constrained layout."""
    use_book_style()
    fig, axes = plt.subplots(nrows, ncols, layout="constrained", squeeze=False, **kwargs)
    return fig, axes
