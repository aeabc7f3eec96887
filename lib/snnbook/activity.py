"""Activity probes: how often each spiking layer fires, and how many neurons never do.

For a layer's spikes :math:`S[t, b, i] \\in \\{0, 1\\}` over :math:`T` time steps,
:math:`B` samples and :math:`N` neurons (channels times positions for a
convolutional layer):

* the **firing rate** is the mean number of spikes per neuron per time step,
  :math:`r = \\frac{1}{TBN} \\sum_{t,b,i} S[t,b,i]`;
* a neuron is **silent** (never fires) if :math:`\\sum_{t,b} S[t,b,i] = 0`, and the
  **silent fraction** is the share of such neurons. A silent neuron sends nothing
  forward, and with a steep surrogate gradient it also learns nothing: these are
  the "dead neurons" of Eshraghian & Lu :cite:`eshraghian2022fine`.

Use the functions on a recorded time-major spike tensor, or attach an
:class:`ActivityProbe` to the spiking layers of a model to count spikes as the
model runs (one hook call per layer per time step), or hand it whole
time-major recordings with :meth:`ActivityProbe.observe`.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from matplotlib.figure import Figure
from torch import nn

from . import checks
from .plotting import new_figure

__all__ = [
    "spike_counts",
    "firing_rate",
    "silent_fraction",
    "ActivityProbe",
    "plot_activity",
    "RATE_FLOOR",
]

#: Rates below this are drawn at this value on the log axis of :func:`plot_activity`.
RATE_FLOOR = 1e-4


def _check_spikes(spikes: torch.Tensor, name: str = "spikes") -> torch.Tensor:
    checks.tensor(name, spikes, kind="real", hint="pass recorded spikes, a torch.Tensor")
    if spikes.ndim < 3:
        raise ValueError(
            f"{name} must be time-major (T, batch, neurons...), at least 3-D; got shape "
            f"{tuple(spikes.shape)} (add a batch axis with spikes.unsqueeze(1))"
        )
    return spikes.detach()


def spike_counts(spikes: torch.Tensor) -> torch.Tensor:
    """Spikes per neuron, summed over time and batch: shape ``spikes.shape[2:]``.

    Any nonzero entry counts as one spike (graded spikes included).
    """
    s = _check_spikes(spikes)
    return (s != 0).sum(dim=(0, 1))


def firing_rate(spikes: torch.Tensor) -> float:
    """Mean spikes per neuron per time step of a ``(T, batch, neurons...)`` tensor."""
    s = _check_spikes(spikes)
    return (s != 0).float().mean().item()


def silent_fraction(spikes: torch.Tensor) -> float:
    """Fraction of neurons that never spike, at any time step, for any sample."""
    counts = spike_counts(spikes)
    return (counts == 0).float().mean().item()


class ActivityProbe:
    """Count the spikes of named spiking layers while a model runs.

    ``probe = ActivityProbe({"layer 1": net.lif1, "layer 2": net.lif2})`` registers
    a forward hook on each layer. Each call of a layer is one time step; its
    output (``spk`` or ``(spk, mem)``, as snnTorch neurons return) is added to a
    per-neuron spike count. :meth:`rates` and :meth:`silent` summarise the counts
    since the last :meth:`reset`; :meth:`snapshot` appends both to
    :attr:`history` and resets, which gives curves through training. Call
    :meth:`remove` (or use the probe as a context manager) to detach the hooks.
    """

    def __init__(self, layers: Mapping[str, nn.Module | None]) -> None:
        if not isinstance(layers, Mapping) or not layers:
            raise ValueError(
                'layers must be a non-empty dict {name: module}, e.g. {"lif1": net.lif1}'
            )
        for name, layer in layers.items():
            if not isinstance(name, str):
                raise TypeError(f"layer names must be strings, got {name!r}")
            if layer is not None and not isinstance(layer, nn.Module):
                raise TypeError(
                    f"layers[{name!r}] must be an nn.Module (or None for a layer fed with "
                    f"observe), got {type(layer).__name__}"
                )
        self.names = list(layers)
        self._counts: dict[str, torch.Tensor | None] = {}
        self._samples: dict[str, int] = {}
        #: ``{"step": [...], name: {"rate": [...], "silent": [...]}}`` filled by :meth:`snapshot`
        self.history: dict = {"step": []} | {n: {"rate": [], "silent": []} for n in self.names}
        self.reset()
        self._handles = [
            layer.register_forward_hook(self._hook(name))
            for name, layer in layers.items()
            if layer is not None
        ]

    def _hook(self, name: str):  # noqa: ANN202
        def record(module: nn.Module, inputs: tuple, output: object) -> None:  # noqa: ARG001
            spk = output[0] if isinstance(output, tuple) else output
            self._add(name, (spk.detach() != 0).sum(dim=0), spk.shape[0])

        return record

    def _add(self, name: str, fired: torch.Tensor, samples: int) -> None:
        counts = self._counts[name]
        if counts is not None and counts.shape != fired.shape:
            raise ValueError(
                f"layer {name!r} changed shape from {tuple(counts.shape)} to "
                f"{tuple(fired.shape)}; call probe.reset() between different inputs"
            )
        self._counts[name] = fired if counts is None else counts + fired
        self._samples[name] += samples

    def observe(self, name: str, spikes: torch.Tensor) -> None:
        """Add a whole time-major recording ``(T, batch, neurons...)`` of layer ``name``.

        For models that run a layer over all time steps at once (such as
        :func:`snnbook.lif.leaky_scan`), where no per-step hook fires.
        """
        checks.one_of("name", name, self.names)
        s = _check_spikes(spikes)
        self._add(name, (s != 0).sum(dim=(0, 1)), s.shape[0] * s.shape[1])

    def reset(self) -> None:
        """Forget the counts so far (the history is kept)."""
        for name in self.names:
            self._counts[name] = None
            self._samples[name] = 0

    def _get(self, name: str) -> tuple[torch.Tensor, int]:
        counts = self._counts[name]
        if counts is None:
            raise RuntimeError(
                f"layer {name!r} has not run since the last reset: run the model first"
            )
        return counts, self._samples[name]

    def rates(self) -> dict[str, float]:
        """Mean spikes per neuron per time step, for each layer."""
        out = {}
        for name in self.names:
            counts, samples = self._get(name)
            out[name] = counts.sum().item() / (samples * counts.numel())
        return out

    def silent(self) -> dict[str, float]:
        """Fraction of neurons with no spike at all since the last reset, for each layer."""
        return {n: (self._get(n)[0] == 0).float().mean().item() for n in self.names}

    def snapshot(self, step: int) -> None:
        """Append the current rates and silent fractions to :attr:`history`, then reset."""
        rates, silent = self.rates(), self.silent()
        self.history["step"].append(step)
        for name in self.names:
            self.history[name]["rate"].append(rates[name])
            self.history[name]["silent"].append(silent[name])
        self.reset()

    def remove(self) -> None:
        """Detach the hooks from the layers."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self) -> ActivityProbe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def plot_activity(
    histories: Mapping[str, Mapping], layers: list[str] | None = None, *, floor: float = RATE_FLOOR
) -> Figure:
    """Firing rate (top, log scale) and silent fraction (bottom) of each layer, per run.

    ``histories`` maps a run's name to its :attr:`ActivityProbe.history`. A
    rate cannot be negative and a log axis cannot show zero, so rates below
    ``floor`` (including no spikes at all) are drawn at ``floor``, on the
    dotted line labelled "no spikes".
    """
    if not isinstance(histories, Mapping) or not histories:
        raise ValueError("give at least one run: {name: probe.history}")
    floor = checks.positive("floor", floor)
    first = next(iter(histories.values()))
    layers = layers or [k for k in first if k != "step"]
    for name, history in histories.items():
        missing = [k for k in ["step", *layers] if k not in history]
        if missing:
            raise ValueError(f"history of {name!r} lacks {missing}")
    fig, axes = new_figure(
        ncols=len(layers), nrows=2, figsize=(3.2 * len(layers), 5.0), sharex=True
    )
    for name, history in histories.items():
        for col, layer in enumerate(layers):
            rates = [max(float(r), floor) for r in history[layer]["rate"]]
            axes[0, col].plot(history["step"], rates, label=name)
            axes[1, col].plot(history["step"], history[layer]["silent"], label=name)
    for col, layer in enumerate(layers):
        axes[0, col].set_title(layer)
        axes[0, col].set_yscale("log")
        axes[0, col].set_ylim(floor / 2, 1.5)
        axes[0, col].axhline(floor, color="0.5", ls=":", lw=1)
        axes[0, col].text(
            0.02,
            floor * 1.3,
            "no spikes",
            fontsize=7,
            color="0.4",
            transform=axes[0, col].get_yaxis_transform(),
        )
        axes[1, col].set_ylim(-0.03, 1.03)
        axes[1, col].set_xlabel("optimizer step")
    axes[0, 0].set_ylabel("firing rate\n(spikes / neuron / step)")
    axes[1, 0].set_ylabel("fraction of neurons\nthat never fired")
    axes[0, -1].legend(fontsize=8)
    return fig
