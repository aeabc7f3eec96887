"""Plots shared by the chapters, in one style.

Figures have an opaque white background so that they stay readable when the
book is switched to its dark theme. Spike rasters, membrane traces and
training curves are drawn the same way in every chapter.

Every helper takes tensors from any device, with or without gradients, in any
floating dtype (``bfloat16`` included), as well as NumPy arrays and lists: it
detaches them and copies them to the CPU itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from snnbook import checks

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


def _numpy(name: str, a: object) -> np.ndarray:
    """``a`` as a NumPy array of numbers: tensors are detached and copied to the CPU."""
    if isinstance(a, torch.Tensor):
        if a.device.type == "meta":
            raise ValueError(f"{name} is on the meta device, which holds no values to plot")
        a = a.detach().cpu()
        if a.is_floating_point() and a.dtype not in (torch.float32, torch.float64):
            a = a.float()  # bfloat16 and float16 have no (or no exact) NumPy twin
        return a.numpy()
    if isinstance(a, str | bytes) or a is None:
        raise TypeError(
            f"{name} must be a tensor, an array or a list of numbers, got {type(a).__name__}"
        )
    try:
        array = np.asarray(a)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be an array of numbers ({err})") from err
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got an array of dtype {array.dtype}")
    return array


def _axes(ax: object) -> Axes:
    if ax is None:
        return plt.subplots()[1]
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def _text(name: str, value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{name} must be a string or None, got {type(value).__name__}")
    return value


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
    s = _numpy("spikes", spikes)
    if s.ndim != 2 or s.size == 0:
        raise ValueError(
            f"spikes must be a non-empty (T, neurons) array, got shape {s.shape}; "
            "pick one sample first, e.g. spikes[:, 0]"
        )
    dt = checks.positive("dt", dt, hint="the duration of one time step")
    if not isinstance(color, str):
        raise TypeError(f"color must be a matplotlib colour name or code, got {color!r}")
    title = _text("title", title)
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
    u = _numpy("u", u)
    if u.ndim not in (1, 2) or u.size == 0:
        raise ValueError(f"u must be a non-empty (T,) or (T, k) array, got shape {u.shape}")
    if threshold is not None:
        threshold = checks.number("threshold", threshold, hint="or None for no line")
    s = None
    if spikes is not None:
        s = _numpy("spikes", spikes)
        if s.shape[:1] != u.shape[:1] or s.size != u.size:
            raise ValueError(
                f"spikes must have the shape of u {u.shape}, got {s.shape}: one entry per "
                "time step and neuron"
            )
        s = s.reshape(u.shape[0], -1)
    dt = checks.positive("dt", dt, hint="the duration of one time step")
    label, title = _text("label", label), _text("title", title)
    ax = _axes(ax)
    t = np.arange(u.shape[0]) * dt
    lines = ax.plot(t, u, lw=1.2, label=label)
    if threshold is not None:
        ax.axhline(threshold, color="0.4", ls="--", lw=1, label="threshold")
    if s is not None:
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
    if not isinstance(series, Mapping):
        raise TypeError(f"series must be a dict {{name: values}}, got {type(series).__name__}")
    if not series:
        raise ValueError("series is empty: pass at least one {name: values}")
    arrays = {}
    for name, values in series.items():
        v = _numpy(f"series[{name!r}]", values)
        if v.ndim != 1 or v.size == 0:
            raise ValueError(f"series[{name!r}] must be a non-empty 1-D list, got shape {v.shape}")
        arrays[str(name)] = v
    for name, text in (("xlabel", xlabel), ("ylabel", ylabel)):
        if not isinstance(text, str):
            raise TypeError(f"{name} must be a string, got {type(text).__name__}")
    title = _text("title", title)
    ax = _axes(ax)
    for name, v in arrays.items():
        ax.plot(np.arange(1, len(v) + 1), v, marker="o", ms=3, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="best")
    return ax


def new_figure(ncols: int = 1, nrows: int = 1, **kwargs: object) -> tuple[Figure, np.ndarray]:
    """``plt.subplots`` with the book's style and a constrained layout."""
    ncols = checks.positive_int("ncols", ncols)
    nrows = checks.positive_int("nrows", nrows)
    use_book_style()
    fig, axes = plt.subplots(nrows, ncols, layout="constrained", squeeze=False, **kwargs)
    return fig, axes
